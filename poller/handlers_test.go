package poller_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/heepr/heepr-go/client"
	herrors "github.com/heepr/heepr-go/errors"
	"github.com/heepr/heepr-go/heeprtest"
	"github.com/heepr/heepr-go/models"
	"github.com/heepr/heepr-go/poller"
)

// log records handler calls in order.
type log struct {
	mu    sync.Mutex
	lines []string
}

func (l *log) add(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, fmt.Sprintf(format, args...))
}

func (l *log) all() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.lines...)
}

// Events of one order run one at a time in the order polled, even when the
// first takes long and the pool has room; other orders go ahead meanwhile.
func TestPerOrderOrdering(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv, a, c := agent(t)
		var l log
		slow := func(ctx context.Context, what, order string, d time.Duration) error {
			l.add("%s %s start", what, order)
			time.Sleep(d)
			l.add("%s %s end", what, order)
			return nil
		}
		p, err := poller.New(c, poller.Handlers{
			NewOrder: func(ctx context.Context, ev models.NewOrderEvent) error {
				return slow(ctx, "new", ev.OrderID, time.Hour)
			},
			ScopeChange: func(ctx context.Context, ev models.ScopeChangeEvent) error {
				return slow(ctx, "scope", ev.OrderID, time.Minute)
			},
			RevisionRequest: func(ctx context.Context, ev models.RevisionRequestEvent) error {
				return slow(ctx, "revision", ev.OrderID, time.Minute)
			},
		}, poller.WithConcurrency(4))
		require.NoError(t, err)

		o1 := srv.PlaceOrder(a.ID, models.Order{})
		srv.ChangeScope(o1, models.ScopeChangeEvent{Scope: "more"})
		srv.RequestRevision(o1, "again")
		o2 := srv.PlaceOrder(a.ID, models.Order{})
		stop := started(t, p)
		time.Sleep(3 * time.Hour)
		require.NoError(t, stop())

		lines := l.all()
		var mine []string
		for _, line := range lines {
			if strings.Contains(line, o1) {
				mine = append(mine, line)
			}
		}
		assert.Equal(t, []string{
			"new " + o1 + " start", "new " + o1 + " end",
			"scope " + o1 + " start", "scope " + o1 + " end",
			"revision " + o1 + " start", "revision " + o1 + " end",
		}, mine, "one order's events one at a time, in the order polled")
		assert.Less(t, slices.Index(lines, "new "+o2+" start"), slices.Index(lines, "new "+o1+" end"),
			"another order goes ahead meanwhile")
		noViolations(t, srv)
	})
}

func TestConcurrencyLimit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv, a, c := agent(t)
		var running, peak atomic.Int32
		p, err := poller.New(c, poller.Handlers{NewOrder: func(context.Context, models.NewOrderEvent) error {
			n := running.Add(1)
			for {
				old := peak.Load()
				if n <= old || peak.CompareAndSwap(old, n) {
					break
				}
			}
			time.Sleep(10 * time.Minute)
			running.Add(-1)
			return nil
		}}, poller.WithConcurrency(3))
		require.NoError(t, err)
		for range 10 {
			srv.PlaceOrder(a.ID, models.Order{})
		}
		stop := started(t, p)
		time.Sleep(time.Hour)
		require.NoError(t, stop())
		assert.Equal(t, int32(3), peak.Load())
		assert.Equal(t, int64(10), p.Stats().Handled)
	})
}

func TestPanicRecovered(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv, a, c := agent(t)
		var calls atomic.Int32
		var reported []error
		p, err := poller.New(c, poller.Handlers{
			NewOrder: func(_ context.Context, ev models.NewOrderEvent) error {
				calls.Add(1)
				if ev.Order.Brief == "always" || calls.Load() == 1 {
					var orders []string
					_ = orders[len(ev.OrderID)] // an index out of range: a real bug, not a polite panic
				}
				return nil
			},
		}, poller.WithHandlerRetry(2, time.Second),
			poller.WithOnHandlerError(func(_ context.Context, _ poller.EventInfo, err error) { reported = append(reported, err) }))
		require.NoError(t, err)
		srv.PlaceOrder(a.ID, models.Order{Brief: "once"})
		stop := started(t, p)
		time.Sleep(time.Minute)
		srv.PlaceOrder(a.ID, models.Order{Brief: "always"})
		p.Wake()
		time.Sleep(time.Minute)
		require.NoError(t, stop(), "a panic never brings the loop down")

		st := p.Stats()
		assert.Equal(t, int64(1), st.Handled, "the first order's retry succeeded")
		assert.Equal(t, int64(3), st.Panics)
		assert.Equal(t, int64(1), st.Failed)
		require.Len(t, reported, 1)
		var pe *poller.PanicError
		require.ErrorAs(t, reported[0], &pe)
		assert.Contains(t, pe.Error(), "index out of range")
		assert.Contains(t, string(pe.Stack), "handlers_test.go", "the stack points at the handler")
	})
}

func TestUnknownKinds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv, _, c := agent(t)
		type got struct {
			kind models.EventKind
			raw  json.RawMessage
			info poller.EventInfo
		}
		var unknown []got
		p, err := poller.New(c, poller.Handlers{Unknown: func(ctx context.Context, kind models.EventKind, raw json.RawMessage) error {
			info, ok := poller.FromContext(ctx)
			require.True(t, ok)
			unknown = append(unknown, got{kind, raw, info})
			return nil
		}})
		require.NoError(t, err)
		srv.Inject(heeprtest.Fault{Kind: heeprtest.FaultUnknownEvent, EventKind: "order_cancelled"})
		stop := started(t, p)
		synctest.Wait()
		require.NoError(t, stop())

		require.Len(t, unknown, 1)
		assert.Equal(t, models.EventKind("order_cancelled"), unknown[0].kind, "Unknown gets the kind as an EventKind")
		assert.Contains(t, string(unknown[0].raw), `"detail"`, "unknown fields reach the handler")
		assert.Equal(t, models.EventKind("order_cancelled"), unknown[0].info.Kind)
		assert.JSONEq(t, string(unknown[0].raw), string(unknown[0].info.Raw))
	})
}

// A kind with no handler is logged and counted, not a crash or a silent drop.
func TestUnhandledKindsCounted(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv, a, c := agent(t)
		p, err := poller.New(c, poller.Handlers{ScopeChange: func(context.Context, models.ScopeChangeEvent) error { return nil }})
		require.NoError(t, err)
		srv.PlaceOrder(a.ID, models.Order{})
		srv.Inject(heeprtest.Fault{Kind: heeprtest.FaultUnknownEvent})
		stop := started(t, p)
		synctest.Wait()
		require.NoError(t, stop())
		assert.Equal(t, int64(2), p.Stats().Unhandled)
		assert.Equal(t, int64(2), p.Stats().Events)
	})
}

func TestFromContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv, a, c := agent(t)
		var info poller.EventInfo
		p, err := poller.New(c, poller.Handlers{ScopeChange: func(ctx context.Context, _ models.ScopeChangeEvent) error {
			info, _ = poller.FromContext(ctx)
			return nil
		}})
		require.NoError(t, err)
		ord := srv.PlaceOrder(a.ID, models.Order{})
		id := srv.ChangeScope(ord, models.ScopeChangeEvent{Brief: "new brief"})
		stop := started(t, p)
		synctest.Wait()
		require.NoError(t, stop())

		assert.Equal(t, id, info.ID)
		assert.Equal(t, models.EventKindScopeChange, info.Kind)
		assert.Equal(t, ord, info.OrderID)
		assert.Equal(t, 1, info.Attempt)
		assert.False(t, info.Replayed)
		assert.Contains(t, string(info.Raw), `"brief":"new brief"`)
		_, ok := poller.FromContext(context.Background())
		assert.False(t, ok)
	})
}

func TestHandlerRetriedThenReported(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv, a, c := agent(t)
		var attempts []time.Time
		var reported []poller.EventInfo
		boom := errors.New("the model is down")
		p, err := poller.New(c, poller.Handlers{NewOrder: func(context.Context, models.NewOrderEvent) error {
			attempts = append(attempts, time.Now())
			return boom
		}}, poller.WithHandlerRetry(4, 10*time.Second), poller.WithOnHandlerError(func(_ context.Context, ev poller.EventInfo, err error) {
			assert.ErrorIs(t, err, boom)
			reported = append(reported, ev)
		}))
		require.NoError(t, err)
		ord := srv.PlaceOrder(a.ID, models.Order{})
		stop := started(t, p)
		time.Sleep(time.Hour)
		require.NoError(t, stop())
		require.Len(t, attempts, 4)
		for i := 1; i < len(attempts); i++ {
			assert.Less(t, attempts[i].Sub(attempts[i-1]), 10*time.Second<<(i-1), "full-jitter backoff")
		}
		require.Len(t, reported, 1)
		assert.Equal(t, ord, reported[0].OrderID)
		assert.Equal(t, 4, reported[0].Attempt)
		assert.Equal(t, int64(1), p.Stats().Failed)
	})
}

// A refusal of the platform that no retry can change is reported at once.
func TestHandlerPlatformRefusalNotRetried(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv, a, c := agent(t)
		var calls atomic.Int32
		var reported error
		p, err := poller.New(c, poller.Handlers{NewOrder: func(ctx context.Context, ev models.NewOrderEvent) error {
			calls.Add(1)
			_, err := c.Deliver(ctx, ev.OrderID, client.Delivery{Text: "late"})
			return err
		}}, poller.WithOnHandlerError(func(_ context.Context, ev poller.EventInfo, err error) {
			if ev.Kind == models.EventKindNewOrder { // the owner_denied_order after it has no handler: reported too
				reported = err
			}
		}))
		require.NoError(t, err)
		ord := srv.PlaceOrder(a.ID, models.Order{})
		srv.DenyOrder(ord, "refunded")
		stop := started(t, p)
		synctest.Wait()
		require.NoError(t, stop())
		assert.Equal(t, int32(1), calls.Load())
		assert.ErrorIs(t, reported, herrors.ErrConflict)
	})
}

// A handler that fails after its delivery landed is retried, and its retry
// repeats the delivery's idempotency key: one delivery on the platform.
func TestHandlerRetryDoesNotDoubleWrites(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv, a, c := agent(t)
		var calls atomic.Int32
		p, err := poller.New(c, poller.Handlers{NewOrder: func(ctx context.Context, ev models.NewOrderEvent) error {
			if _, err := c.ReportProgress(ctx, ev.OrderID, client.ProgressParams{Percent: 50, Message: "half"}); err != nil {
				return err
			}
			if _, err := c.Deliver(ctx, ev.OrderID, client.Delivery{Text: "done"}); err != nil {
				return err
			}
			if calls.Add(1) == 1 {
				return errors.New("crashed after delivering")
			}
			return nil
		}})
		require.NoError(t, err)
		ord := srv.PlaceOrder(a.ID, models.Order{})
		stop := started(t, p)
		time.Sleep(time.Minute)
		require.NoError(t, stop())

		assert.Equal(t, int32(2), calls.Load())
		require.Len(t, srv.Deliveries(ord), 1, "one delivery, though the handler ran twice")
		assert.Len(t, srv.Progress(ord), 1)
		var keys []string
		for _, r := range srv.Requests() {
			if r.Path == "/api/orders/"+ord+"/deliver" {
				keys = append(keys, r.IdempotencyKey)
			}
		}
		require.Len(t, keys, 2)
		assert.Equal(t, keys[0], keys[1])
		noViolations(t, srv)
	})
}

// Polling, and so the heartbeat, goes on while a handler works for hours.
func TestHeartbeatWhileHandlersWork(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv, a, c := agent(t, heeprtest.Cadence(15))
		var ps polls
		p, err := poller.New(c, poller.Handlers{NewOrder: func(ctx context.Context, ev models.NewOrderEvent) error {
			for pct := 10; pct <= 100; pct += 10 {
				time.Sleep(30 * time.Minute)
				if _, err := c.ReportProgress(ctx, ev.OrderID, client.ProgressParams{Percent: pct}); err != nil {
					return err
				}
			}
			return nil
		}}, poller.WithConcurrency(1), poller.WithOnPoll(ps.hook))
		require.NoError(t, err)
		ord := srv.PlaceOrder(a.ID, models.Order{})
		stop := started(t, p)
		for range 10 {
			time.Sleep(30 * time.Minute)
			st, _ := srv.Agent(a.ID)
			assert.True(t, st.Online)
		}
		require.NoError(t, stop())
		assert.Len(t, srv.Progress(ord), 10)
		assert.Greater(t, len(ps.times()), 15)
	})
}

func TestCleanShutdown(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv, a, c := agent(t)
		var finished atomic.Int32
		p, err := poller.New(c, poller.Handlers{NewOrder: func(ctx context.Context, ev models.NewOrderEvent) error {
			time.Sleep(5 * time.Minute)
			finished.Add(1)
			return nil
		}}, poller.WithShutdownTimeout(15*time.Minute), poller.WithStatusUpdates())
		require.NoError(t, err)
		for range 6 {
			srv.PlaceOrder(a.ID, models.Order{})
		}
		stop := started(t, p)
		synctest.Wait()
		start := time.Now()
		require.NoError(t, stop(), "a clean drain returns nil")
		assert.Equal(t, int32(6), finished.Load(), "running and queued handlers finished")
		assert.Equal(t, 10*time.Minute, time.Since(start), "4 at once, then 2 more")
		polls := 0
		for _, r := range srv.Requests() {
			if r.Path == "/api/events" {
				polls++
			}
		}
		assert.Equal(t, 1, polls, "no poll after the cancel")
		st := srv.Statuses(a.ID)
		require.Len(t, st, 2)
		assert.Equal(t, models.AgentStatusActive, st[0].Status)
		assert.Equal(t, models.AgentStatusPaused, st[1].Status)
		noViolations(t, srv)
	})
}

func TestShutdownTimeoutCancelsHandlers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv, a, c := agent(t)
		var cancelled atomic.Int32
		p, err := poller.New(c, poller.Handlers{NewOrder: func(ctx context.Context, ev models.NewOrderEvent) error {
			<-ctx.Done()
			cancelled.Add(1)
			return ctx.Err()
		}}, poller.WithShutdownTimeout(time.Minute), poller.WithStatusUpdates())
		require.NoError(t, err)
		srv.PlaceOrder(a.ID, models.Order{})
		stop := started(t, p)
		synctest.Wait()
		start := time.Now()
		err = stop()
		assert.ErrorIs(t, err, poller.ErrUnfinished)
		assert.Contains(t, err.Error(), "lost: no journal")
		assert.Equal(t, time.Minute, time.Since(start))
		assert.Equal(t, int32(1), cancelled.Load())
		assert.Zero(t, p.Stats().Failed, "a cancelled handler is unfinished, not failed")
		assert.Len(t, srv.Statuses(a.ID), 1, "no paused after an unclean stop")
	})
}

// An event the platform sends twice is handled once.
func TestDuplicateEventsSkipped(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv, a, c := agent(t)
		var calls atomic.Int32
		// Put the same event on the wire twice through a transport that
		// repeats the first non-empty poll answer.
		hc := srv.HTTPClient()
		hc.Transport = &repeatFirstBatch{next: hc.Transport}
		c2, err := client.New(client.WithHTTPClient(hc), client.WithAPIKey(c.APIKey()), client.WithAgentID(a.ID))
		require.NoError(t, err)
		p, err := poller.New(c2, poller.Handlers{NewOrder: func(context.Context, models.NewOrderEvent) error {
			calls.Add(1)
			return nil
		}})
		require.NoError(t, err)
		srv.PlaceOrder(a.ID, models.Order{})
		stop := started(t, p)
		synctest.Wait()
		p.Wake()
		synctest.Wait()
		time.Sleep(time.Hour)
		require.NoError(t, stop())
		assert.Equal(t, int32(1), calls.Load())
		assert.Equal(t, int64(1), p.Stats().Duplicates)
	})
}

// TestInvalidArgumentNotRetried: a handler whose write the client refused for
// its own arguments fails the same way on every attempt, so it is reported at
// once, not retried.
func TestInvalidArgumentNotRetried(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv, a, c := agent(t)
		var calls atomic.Int32
		var reported []error
		p, err := poller.New(c, poller.Handlers{
			NewOrder: func(ctx context.Context, ev models.NewOrderEvent) error {
				calls.Add(1)
				_, err := c.ReportProgress(ctx, ev.OrderID, client.ProgressParams{Percent: 140})
				return err
			},
		}, poller.WithHandlerRetry(3, time.Second),
			poller.WithOnHandlerError(func(_ context.Context, _ poller.EventInfo, err error) { reported = append(reported, err) }))
		require.NoError(t, err)
		srv.PlaceOrder(a.ID, models.Order{})
		stop := started(t, p)
		time.Sleep(time.Minute)
		require.NoError(t, stop())

		assert.Equal(t, int32(1), calls.Load(), "one attempt: a retry cannot mend an argument")
		require.Len(t, reported, 1)
		assert.ErrorIs(t, reported[0], client.ErrInvalidArgument)
		assert.Contains(t, reported[0].Error(), "ProgressParams.Percent 140 is outside 0 to 100")
	})
}
