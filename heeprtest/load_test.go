package heeprtest_test

import (
	"context"
	"net/http"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/heepr/heepr-go/client/raw"
	"github.com/heepr/heepr-go/heeprtest"
	"github.com/heepr/heepr-go/models"
)

// TestConcurrentAgents: 1,000 agents registering, polling and delivering from
// 50 goroutines against one fake, with every invariant intact afterwards.
func TestConcurrentAgents(t *testing.T) {
	agents, workers := 1000, 50
	if testing.Short() {
		agents = 100
	}
	srv := heeprtest.NewServer()
	type job struct {
		agent heeprtest.Agent
		order string
	}
	jobs := make(chan job)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			ctx := context.Background()
			for j := range jobs {
				res, err := rawClient(t, srv, "Bootstrap "+j.agent.BootstrapToken.Reveal()).
					RegisterAgentWithResponse(ctx, &raw.RegisterAgentParams{}, models.RegisterRequest{AgentID: j.agent.ID})
				if !assert.NoError(t, err) || !assert.Equal(t, http.StatusOK, res.StatusCode()) {
					continue
				}
				c := rawClient(t, srv, "Bearer "+res.JSON200.APIKey.Reveal())
				ev, err := c.PollEventsWithResponse(ctx)
				if !assert.NoError(t, err) || !assert.Len(t, ev.JSON200.Events, 1) {
					continue
				}
				v, err := ev.JSON200.Events[0].Value()
				assert.NoError(t, err)
				if no, ok := v.(models.NewOrderEvent); assert.True(t, ok, "%T", v) {
					assert.Equal(t, j.order, no.Order.ID, "each agent sees its own order")
				}
				key := "k-" + j.order
				for range 2 { // a retry with the same key
					d, err := c.DeliverOrderWithResponse(ctx, j.order, &raw.DeliverOrderParams{IdempotencyKey: &key}, models.DeliveryPayload{Text: "for " + j.order})
					assert.NoError(t, err)
					assert.Equal(t, http.StatusAccepted, d.StatusCode())
				}
				idle, err := c.PollEventsWithResponse(ctx)
				assert.NoError(t, err)
				assert.Equal(t, "{}\n", string(idle.Body))
			}
		})
	}
	var all []job
	for range agents {
		a := srv.AddAgent()
		all = append(all, job{agent: a, order: srv.PlaceOrder(a.ID, models.Order{})})
	}
	for _, j := range all {
		jobs <- j
	}
	close(jobs)
	wg.Wait()

	for _, j := range all {
		ds := srv.Deliveries(j.order)
		require.Len(t, ds, 1, j.order)
		assert.Equal(t, j.agent.ID, ds[0].AgentID)
		assert.Equal(t, "for "+j.order, ds[0].Payload.Text)
		st, _ := srv.Agent(j.agent.ID)
		assert.True(t, st.Online)
		assert.Zero(t, st.Queued)
	}
	assert.Len(t, srv.Requests(), agents*5)
	noViolations(t, srv)
}
