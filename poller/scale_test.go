package poller_test

import (
	"context"
	"runtime"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/heepr/heepr-go/client"
	"github.com/heepr/heepr-go/heeprtest"
	"github.com/heepr/heepr-go/poller"
)

// TestScale runs 10,000 pollers (100 under -short) in one process against one
// fake, jitter on, cadence one minute, and measures what BENCHMARKS.md
// reports: the heap each idle poller costs, and how the polls spread over the
// seconds of each minute (the busiest second against the mean).
func TestScale(t *testing.T) {
	n := 10000
	if testing.Short() {
		n = 100
	}
	synctest.Test(t, func(t *testing.T) {
		srv := heeprtest.NewServer(heeprtest.WithoutRequestLog())
		agents := make([]heeprtest.Agent, n)
		for i := range agents {
			agents[i] = srv.AddAgent(heeprtest.Registered(), heeprtest.Cadence(1))
		}
		hc := srv.HTTPClient()

		var mu sync.Mutex
		var pollTimes []time.Time
		onPoll := func(_ context.Context, r poller.PollResult) {
			mu.Lock()
			pollTimes = append(pollTimes, r.At)
			mu.Unlock()
		}

		heapBefore := heapInUse()
		start := time.Now()
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		for _, a := range agents {
			c, err := client.New(client.WithHTTPClient(hc), client.WithAPIKey(a.APIKey), client.WithAgentID(a.ID))
			require.NoError(t, err)
			p, err := poller.New(c, anyEvent, poller.WithOnPoll(onPoll))
			require.NoError(t, err)
			wg.Go(func() { assert.NoError(t, p.Run(ctx)) })
		}
		// Steady state: three more minutes after the first.
		time.Sleep(4 * time.Minute)
		synctest.Wait()
		heapIdle := heapInUse()
		cancel()
		wg.Wait()

		perPoller := float64(heapIdle-heapBefore) / float64(n)
		perSecond := map[int64]int{}
		var steady int
		from, to := start.Add(time.Minute), start.Add(4*time.Minute)
		for _, at := range pollTimes {
			if !at.Before(from) && at.Before(to) {
				perSecond[int64(at.Sub(start)/time.Second)]++
				steady++
			}
		}
		busiest := 0
		for _, c := range perSecond {
			busiest = max(busiest, c)
		}
		mean := float64(steady) / (to.Sub(from).Seconds())
		ratio := float64(busiest) / mean
		t.Logf("%d pollers: %.0f B heap per idle poller; steady polls %d over %v: mean %.1f/s, busiest second %d (%.2fx the mean)",
			n, perPoller, steady, to.Sub(from), mean, busiest, ratio)

		assert.InDelta(t, 3*n, steady, float64(n)/5, "about one poll a minute each")
		if n >= 1000 { // with few pollers a second's count is too small for a ratio to mean much
			assert.Less(t, ratio, 2.0, "jitter must keep the busiest second under twice the mean")
		}
		assert.Empty(t, srv.Violations())
	})
}

func heapInUse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}
