package client_test

import (
	"context"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/heepr/heepr-go/client"
	"github.com/heepr/heepr-go/heeprtest"
	"github.com/heepr/heepr-go/models"
)

// One Client, many goroutines, under -race: polls, writes and a credential
// change at once, every write landing once.
func TestConcurrentUse(t *testing.T) {
	srv := heeprtest.NewServer()
	a := srv.AddAgent()
	c := newClient(t, srv)
	ctx := context.Background()
	orders := make([]string, 40)
	for i := range orders {
		orders[i] = srv.PlaceOrder(a.ID, models.Order{})
	}
	_, err := c.Register(ctx, a.BootstrapToken, a.ID)
	require.NoError(t, err)

	var wg sync.WaitGroup
	for i, ord := range orders {
		wg.Go(func() {
			_, err := c.Deliver(ctx, ord, client.Delivery{Text: ord})
			assert.NoError(t, err)
		})
		wg.Go(func() {
			_, err := c.Events(ctx)
			assert.NoError(t, err)
			_ = c.String()
			_ = c.AgentID()
		})
		if i%10 == 0 {
			wg.Go(func() {
				_, err := c.SkillManifest(ctx)
				assert.NoError(t, err)
			})
		}
	}
	wg.Wait()
	for _, ord := range orders {
		assert.Len(t, srv.Deliveries(ord), 1)
	}
	noViolations(t, srv)
}
