package river_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heepr/heepr-go/client"
	"github.com/heepr/heepr-go/heeprtest"
	"github.com/heepr/heepr-go/models"
	"github.com/heepr/heepr-go/poller"
	heeprriver "github.com/heepr/heepr-go/river"
)

// benchWork is the handler's fixed time: the LLM run of a real agent, short.
const benchWork = 50 * time.Millisecond

// BenchmarkReplicas measures events handled per second by 1 and by 3
// replicas (in one process, each with its own pool and 4 workers) on one
// PostgreSQL, with a handler that takes benchWork and then delivers. b.N
// orders are placed before the replicas start; the time is from their start
// to the last delivery.
//
//	HEEPR_TEST_DATABASE_URL=… go test -run '^$' -bench Replicas -benchtime 400x ./river
func BenchmarkReplicas(b *testing.B) {
	for _, n := range []int{1, 3} {
		b.Run(fmt.Sprintf("replicas=%d", n), func(b *testing.B) { benchReplicas(b, n) })
	}
}

func benchReplicas(b *testing.B, replicas int) {
	b.ReportAllocs()
	dsn := testDB(b)
	srv := heeprtest.NewServer(heeprtest.WithoutRequestLog())
	defer srv.Close()
	ag := srv.AddAgent(heeprtest.Registered())
	c, err := client.New(client.WithBaseURL(srv.URL()), client.WithAPIKey(ag.APIKey), client.WithAgentID(ag.ID))
	require.NoError(b, err)
	for range b.N {
		srv.PlaceOrder(ag.ID, models.Order{})
	}
	var handled atomic.Int64
	h := poller.Handlers{NewOrder: func(ctx context.Context, ev models.NewOrderEvent) error {
		time.Sleep(benchWork)
		if _, err := c.Deliver(ctx, ev.OrderID, client.Delivery{Text: "work for " + ev.ID}); err != nil {
			return err
		}
		handled.Add(1)
		return nil
	}}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var agents []*heeprriver.Agent
	for range replicas {
		a, err := heeprriver.New(openPool(b, dsn), c, h, heeprriver.WithElection(50*time.Millisecond), heeprriver.WithWorkers(4),
			heeprriver.WithPollerOptions(poller.WithCadence(time.Minute), poller.WithoutSkillCheck()))
		require.NoError(b, err)
		agents = append(agents, a)
	}
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for _, a := range agents {
		wg.Go(func() { _ = a.Run(ctx) })
	}
	for handled.Load() < int64(b.N) {
		time.Sleep(5 * time.Millisecond)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	cancel()
	wg.Wait()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "events/s")
}
