package soak_test

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/heepr/heepr-go/client"
	"github.com/heepr/heepr-go/heeprtest"
	"github.com/heepr/heepr-go/models"
	"github.com/heepr/heepr-go/poller"
)

var (
	seedFlag  = flag.Uint64("soak.seed", 0, "seed of the soak's faults and traffic (0: from the clock)")
	hoursFlag = flag.Float64("soak.hours", 3, "hours of agent life the soak runs (fake time)")
	agentFlag = flag.Int("soak.agents", 200, "agents in the soak")
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// faults are what the platform throws at random during the soak. A poll's
// answer is never lost after the platform sent it (dropped or cut short): the
// platform drains what it answers, so such an event is gone for every client;
// everywhere else every fault can strike.
func faults() []heeprtest.Fault {
	return []heeprtest.Fault{
		{Kind: heeprtest.FaultStatus, Status: 429, RetryAfter: 7 * time.Second, Probability: 0.03},
		{Kind: heeprtest.FaultStatus, Status: 500, Probability: 0.02},
		{Kind: heeprtest.FaultStatus, Status: 503, RetryAfter: 3 * time.Second, Probability: 0.02},
		{Kind: heeprtest.FaultDropBeforeBody, Probability: 0.02},
		{Kind: heeprtest.FaultLatency, Latency: 45 * time.Second, Probability: 0.01}, // past the attempt timeout
		{Kind: heeprtest.FaultNonJSON, Probability: 0.01},
		{Kind: heeprtest.FaultDropAfterBody, Method: http.MethodPost, Probability: 0.03},
		{Kind: heeprtest.FaultTruncate, Method: http.MethodPost, Probability: 0.02},
		{Kind: heeprtest.FaultTruncate, Path: "/skill", Probability: 0.02},
		// The platform sending events again: the poller must not handle them twice.
		{Kind: heeprtest.FaultRepeatEvents, Probability: 0.05},
	}
}

// ledger is what the agents did, to check against what the platform kept.
type ledger struct {
	mu      sync.Mutex
	handled map[string]int // event id → successful handler runs
}

func (l *ledger) done(id string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.handled[id]++
}

// plan is what the soak's owners and customers decided for an order.
type plan struct {
	agent     string
	decline   bool // the agent declines it (capacity)
	manual    bool // it waits for the owner
	deny      bool // the owner denies it
	revisions int  // revisions the customer will ask for
}

func TestSoak(t *testing.T) {
	if testing.Short() {
		t.Skip("the soak runs hours of fake time")
	}
	seed := *seedFlag
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("soak seed %d (replay: go test ./soak -run TestSoak -soak.seed=%d)", seed, seed)
	heapBefore := heap()

	synctest.Test(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(seed, seed>>1|1))
		srv := heeprtest.NewServer(heeprtest.WithSeed(seed), heeprtest.WithoutRequestLog())
		for _, f := range faults() {
			f.Times = heeprtest.Forever
			srv.Inject(f)
		}

		n := *agentFlag
		var led = &ledger{handled: map[string]int{}}
		agents := make([]heeprtest.Agent, n)
		manual := make([]bool, n)
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		var reported sync.Map
		pollers := make([]*poller.Poller, 0, n)
		for i := range agents {
			opts := []heeprtest.AgentOption{heeprtest.Registered(), heeprtest.Cadence(1 + rng.IntN(5))}
			if manual[i] = rng.IntN(5) == 0; manual[i] {
				opts = append(opts, heeprtest.ManualAcceptance())
			}
			agents[i] = srv.AddAgent(opts...)
			a := agents[i]
			c, err := client.New(client.WithHTTPClient(srv.HTTPClient()), client.WithAPIKey(a.APIKey),
				client.WithAgentID(a.ID), client.WithRetry(client.RetryPolicy{MaxAttempts: 6}))
			require.NoError(t, err)
			p, err := poller.New(c, handlers(c, led), poller.WithJournal(t.TempDir()),
				poller.WithHandlerRetry(10, time.Second),
				poller.WithOnHandlerError(func(_ context.Context, ev poller.EventInfo, err error) {
					reported.Store(ev.ID, err.Error())
				}))
			require.NoError(t, err)
			pollers = append(pollers, p)
			wg.Go(func() { assert.NoError(t, p.Run(ctx)) })
		}

		// The marketplace: orders over the first part of the run; owners and
		// customers acting on them as they go.
		plans := map[string]*plan{}
		asked := map[string]int{}
		life := time.Duration(*hoursFlag * float64(time.Hour))
		busy := life * 2 / 3
		end := time.Now().Add(life)
		for time.Now().Before(end) {
			time.Sleep(time.Duration(1+rng.IntN(20)) * time.Second)
			if time.Until(end) > life-busy && rng.IntN(3) > 0 {
				i := rng.IntN(n)
				pl := &plan{agent: agents[i].ID, manual: manual[i], revisions: rng.IntN(3)}
				brief := "write a haiku"
				if rng.IntN(8) == 0 {
					pl.decline, brief = true, "DECLINE: too much"
				}
				if pl.manual && !pl.decline && rng.IntN(3) == 0 {
					pl.deny = true
				}
				id := srv.PlaceOrder(pl.agent, models.Order{Brief: brief, RevisionsAllowed: 2})
				plans[id] = pl
				if rng.IntN(4) == 0 {
					srv.ChangeScope(id, models.ScopeChangeEvent{Scope: "a longer haiku"})
				}
			}
			// Owners and customers react to what happened so far.
			for id, pl := range plans {
				o, _ := srv.Order(id)
				switch {
				case o.State == models.OrderStatePendingAcceptance && !pl.decline && rng.IntN(4) == 0:
					if pl.deny {
						srv.DenyOrder(id, "not for us")
					} else {
						srv.ApproveOrder(id, "go")
					}
				case o.State == models.OrderStateDelivered && asked[id] < pl.revisions && time.Until(end) > time.Hour/2:
					asked[id]++
					srv.RequestRevision(id, fmt.Sprintf("revision %d", asked[id]))
				}
			}
		}
		// Let the last events through, then stop every agent.
		srv.ClearFaults()
		time.Sleep(30 * time.Minute)
		cancel()
		wg.Wait()

		// What the platform kept against what was planned.
		var delivered, declined, denied, revisions int
		for id, pl := range plans {
			o, _ := srv.Order(id)
			ds, dcl := srv.Deliveries(id), srv.Declines(id)
			keys := map[string]bool{}
			for _, d := range ds {
				assert.False(t, keys[d.IdempotencyKey], "order %s: a write took effect twice", id)
				keys[d.IdempotencyKey] = true
			}
			switch {
			case pl.deny:
				denied++
				assert.Empty(t, ds, "order %s was denied: no work", id)
				assert.Empty(t, dcl, "order %s", id)
				assert.Equal(t, models.OrderStateDenied, o.State, "order %s", id)
			case pl.decline:
				declined++
				assert.Empty(t, ds, "order %s was declined", id)
				assert.Len(t, dcl, 1, "order %s: exactly one decline", id)
			case pl.manual && o.State == models.OrderStatePendingAcceptance:
				// The owner never got to it before the end: nothing to do yet.
				assert.Empty(t, ds, "order %s", id)
			default:
				delivered++
				revisions += asked[id]
				assert.Len(t, ds, 1+asked[id], "order %s: one delivery for the order and one per revision", id)
				assert.Empty(t, dcl, "order %s", id)
			}
		}
		led.mu.Lock()
		for id, runs := range led.handled {
			assert.Equal(t, 1, runs, "event %s handled %d times", id, runs)
		}
		led.mu.Unlock()
		reported.Range(func(id, err any) bool {
			t.Errorf("event %s failed for good: %v", id, err)
			return true
		})
		assert.Empty(t, srv.Violations())
		t.Logf("soak: %d agents, %v of fake time: %d orders (%d delivered with %d revisions, %d declined, %d denied), %d events handled",
			n, life, len(plans), delivered, revisions, declined, denied, len(led.handled))
		var total poller.Stats
		for _, p := range pollers {
			s := p.Stats()
			total.Polls += s.Polls
			total.PollErrors += s.PollErrors
			total.Duplicates += s.Duplicates
			total.Failed += s.Failed
		}
		t.Logf("soak: %d polls (%d failed), %d duplicates skipped, %d handler failures reported", total.Polls, total.PollErrors, total.Duplicates, total.Failed)
		hits := srv.FaultHits()
		var parts []string
		for _, k := range []heeprtest.FaultKind{heeprtest.FaultStatus, heeprtest.FaultDropBeforeBody, heeprtest.FaultDropAfterBody,
			heeprtest.FaultLatency, heeprtest.FaultTruncate, heeprtest.FaultNonJSON, heeprtest.FaultRepeatEvents} {
			parts = append(parts, fmt.Sprintf("%s %d", k, hits[k]))
		}
		t.Logf("soak: faults injected: %s", strings.Join(parts, ", "))
		require.Greater(t, delivered, 0)
	})

	heapAfter := heap()
	t.Logf("heap: %d KiB before, %d KiB after", heapBefore>>10, heapAfter>>10)
	assert.Less(t, int64(heapAfter)-int64(heapBefore), int64(8<<20), "the heap returns near its baseline")
}

// handlers are an agent's answers: deliver, decline what it cannot do, wait
// for the owner where the order is pending, report progress on a scope change.
func handlers(c *client.Client, led *ledger) poller.Handlers {
	deliver := func(ctx context.Context, order, text string) error {
		_, err := c.Deliver(ctx, order, client.Delivery{Text: text})
		return err
	}
	record := func(ctx context.Context, err error) error {
		if err == nil {
			info, _ := poller.FromContext(ctx)
			led.done(info.ID)
		}
		return err
	}
	return poller.Handlers{
		NewOrder: func(ctx context.Context, ev models.NewOrderEvent) error {
			switch {
			case strings.HasPrefix(ev.Order.Brief, "DECLINE"):
				_, err := c.Decline(ctx, ev.OrderID, client.DeclineParams{Reason: models.DeclineReasonCapacity, Message: "fully booked"})
				return record(ctx, err)
			case ev.Order.State == models.OrderStatePendingAcceptance:
				return record(ctx, nil) // work waits for the owner
			}
			if _, err := c.ReportProgress(ctx, ev.OrderID, client.ProgressParams{Percent: 50, Message: "writing"}); err != nil {
				return err
			}
			return record(ctx, deliver(ctx, ev.OrderID, "a haiku for "+ev.OrderID))
		},
		OwnerApprovedOrder: func(ctx context.Context, ev models.OwnerApprovedOrderEvent) error {
			return record(ctx, deliver(ctx, ev.OrderID, "a haiku for "+ev.OrderID))
		},
		OwnerDeniedOrder: func(ctx context.Context, ev models.OwnerDeniedOrderEvent) error {
			return record(ctx, nil)
		},
		RevisionRequest: func(ctx context.Context, ev models.RevisionRequestEvent) error {
			return record(ctx, deliver(ctx, ev.OrderID, fmt.Sprintf("revision %d of %s", ev.Revision, ev.OrderID)))
		},
		ScopeChange: func(ctx context.Context, ev models.ScopeChangeEvent) error {
			return record(ctx, nil)
		},
	}
}

func heap() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}
