package poller_test

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/heepr/heepr-go/heeprtest"
	"github.com/heepr/heepr-go/models"
	"github.com/heepr/heepr-go/poller"
)

// tracer is a middleware that records what it sees, as an otel one would:
// one record per handler run.
type tracer struct {
	mu   sync.Mutex
	runs []mwRun
}

type mwRun struct {
	ev       poller.EventInfo
	fromCtx  poller.EventInfo
	ctxHasEv bool
	err      error
}

func (tr *tracer) mw(next poller.HandlerFunc) poller.HandlerFunc {
	return func(ctx context.Context, ev poller.EventInfo) error {
		err := next(ctx, ev)
		fromCtx, ok := poller.FromContext(ctx)
		tr.mu.Lock()
		defer tr.mu.Unlock()
		tr.runs = append(tr.runs, mwRun{ev: ev, fromCtx: fromCtx, ctxHasEv: ok, err: err})
		return err
	}
}

func (tr *tracer) all() []mwRun {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return append([]mwRun(nil), tr.runs...)
}

// The first middleware given is the outermost, across one call and several.
func TestWithMiddleware_Order(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv, a, c := agent(t)
		var l log
		named := func(name string) func(poller.HandlerFunc) poller.HandlerFunc {
			return func(next poller.HandlerFunc) poller.HandlerFunc {
				return func(ctx context.Context, ev poller.EventInfo) error {
					l.add("%s>", name)
					err := next(ctx, ev)
					l.add("<%s", name)
					return err
				}
			}
		}
		p, err := poller.New(c, poller.Handlers{NewOrder: func(context.Context, models.NewOrderEvent) error {
			l.add("handler")
			return nil
		}}, poller.WithMiddleware(named("a"), named("b")), poller.WithMiddleware(named("c")))
		require.NoError(t, err)
		srv.PlaceOrder(a.ID, models.Order{})
		stop := started(t, p)
		synctest.Wait()
		require.NoError(t, stop())
		assert.Equal(t, []string{"a>", "b>", "c>", "handler", "<c", "<b", "<a"}, l.all())
	})
}

// The middleware runs around whichever handler takes the event, once per
// attempt, and sees the event (in its argument and its context) and the
// handler's error.
func TestWithMiddleware_AroundEveryHandler(t *testing.T) {
	boom := errors.New("the model is down")
	tests := []struct {
		name     string
		handlers func(took *string) poller.Handlers
		event    func(srv *heeprtest.Server, agentID string)
		wantKind models.EventKind
		wantTook string
		wantErr  error // errors.Is on what the middleware saw
	}{
		{
			name: "typed handler",
			handlers: func(took *string) poller.Handlers {
				return poller.Handlers{NewOrder: func(context.Context, models.NewOrderEvent) error { *took = "NewOrder"; return boom }}
			},
			event:    func(srv *heeprtest.Server, id string) { srv.PlaceOrder(id, models.Order{}) },
			wantKind: models.EventKindNewOrder, wantTook: "NewOrder", wantErr: boom,
		},
		{
			name: "Unknown",
			handlers: func(took *string) poller.Handlers {
				return poller.Handlers{Unknown: func(context.Context, models.EventKind, json.RawMessage) error { *took = "Unknown"; return boom }}
			},
			event: func(srv *heeprtest.Server, _ string) {
				srv.Inject(heeprtest.Fault{Kind: heeprtest.FaultUnknownEvent, EventKind: "order_cancelled"})
			},
			wantKind: "order_cancelled", wantTook: "Unknown", wantErr: boom,
		},
		{
			name: "Default for a known kind without its handler",
			handlers: func(took *string) poller.Handlers {
				return poller.Handlers{Default: func(context.Context, poller.EventInfo) error { *took = "Default"; return boom }}
			},
			event:    func(srv *heeprtest.Server, id string) { srv.PlaceOrder(id, models.Order{}) },
			wantKind: models.EventKindNewOrder, wantTook: "Default", wantErr: boom,
		},
		{
			name: "no handler takes it",
			handlers: func(*string) poller.Handlers {
				return poller.Handlers{ScopeChange: func(context.Context, models.ScopeChangeEvent) error { return nil }}
			},
			event:    func(srv *heeprtest.Server, id string) { srv.PlaceOrder(id, models.Order{}) },
			wantKind: models.EventKindNewOrder, wantErr: poller.ErrUnhandled,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				srv, a, c := agent(t)
				var tr tracer
				var took string
				p, err := poller.New(c, tt.handlers(&took), poller.WithMiddleware(tr.mw), poller.WithHandlerRetry(2, time.Second))
				require.NoError(t, err)
				tt.event(srv, a.ID)
				stop := started(t, p)
				synctest.Wait()
				require.NoError(t, stop())

				assert.Equal(t, tt.wantTook, took)
				runs := tr.all()
				wantRuns := 2 // the handler's error is retried once
				if errors.Is(tt.wantErr, poller.ErrUnhandled) {
					wantRuns = 1 // reported at once
				}
				require.Len(t, runs, wantRuns)
				for i, r := range runs {
					assert.ErrorIs(t, r.err, tt.wantErr, "run %d", i+1)
					assert.Equal(t, i+1, r.ev.Attempt, "the middleware runs once per attempt")
					assert.Equal(t, tt.wantKind, r.ev.Kind)
					assert.NotEmpty(t, r.ev.ID)
					assert.False(t, r.ev.Replayed)
					assert.True(t, r.ctxHasEv, "the middleware's context carries the event")
					assert.Equal(t, r.ev.ID, r.fromCtx.ID)
					assert.Equal(t, r.ev.Attempt, r.fromCtx.Attempt)
				}
			})
		})
	}
}

// The poller acts on what the middleware returns; panics in the handler reach
// the middleware as a *PanicError, and a middleware's own panic is recovered.
func TestWithMiddleware_Outcome(t *testing.T) {
	tests := []struct {
		name        string
		handler     func(context.Context, models.NewOrderEvent) error
		mw          func(next poller.HandlerFunc) poller.HandlerFunc
		wantHandled int64
		wantFailed  int64
		wantPanics  int64
		wantSeen    func(t *testing.T, err error)
	}{
		{
			name:    "a middleware that swallows the error makes the event handled",
			handler: func(context.Context, models.NewOrderEvent) error { return errors.New("boom") },
			mw: func(next poller.HandlerFunc) poller.HandlerFunc {
				return func(ctx context.Context, ev poller.EventInfo) error { _ = next(ctx, ev); return nil }
			},
			wantHandled: 1,
		},
		{
			name:    "a middleware that fails a good run makes it retried, then reported",
			handler: func(context.Context, models.NewOrderEvent) error { return nil },
			mw: func(next poller.HandlerFunc) poller.HandlerFunc {
				return func(ctx context.Context, ev poller.EventInfo) error {
					if err := next(ctx, ev); err != nil {
						return err
					}
					return errors.New("span exporter refused")
				}
			},
			wantFailed: 1,
		},
		{
			name:       "a handler's panic reaches the middleware as a *PanicError",
			handler:    func(context.Context, models.NewOrderEvent) error { panic("kaboom") },
			mw:         func(next poller.HandlerFunc) poller.HandlerFunc { return next },
			wantFailed: 1, wantPanics: 2,
			wantSeen: func(t *testing.T, err error) {
				var pe *poller.PanicError
				require.ErrorAs(t, err, &pe)
				assert.Equal(t, "kaboom", pe.Value)
			},
		},
		{
			name:    "a middleware's own panic is recovered",
			handler: func(context.Context, models.NewOrderEvent) error { return nil },
			mw: func(poller.HandlerFunc) poller.HandlerFunc {
				return func(context.Context, poller.EventInfo) error { panic("middleware bug") }
			},
			wantFailed: 1, wantPanics: 2,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				srv, a, c := agent(t)
				var tr tracer
				p, err := poller.New(c, poller.Handlers{NewOrder: tt.handler},
					poller.WithMiddleware(tr.mw, tt.mw), poller.WithHandlerRetry(2, time.Second))
				require.NoError(t, err)
				srv.PlaceOrder(a.ID, models.Order{})
				stop := started(t, p)
				synctest.Wait()
				require.NoError(t, stop())

				st := p.Stats()
				assert.Equal(t, tt.wantHandled, st.Handled)
				assert.Equal(t, tt.wantFailed, st.Failed)
				assert.Equal(t, tt.wantPanics, st.Panics)
				if tt.wantSeen != nil {
					runs := tr.all()
					require.NotEmpty(t, runs)
					tt.wantSeen(t, runs[0].err)
				}
			})
		})
	}
}

func TestWithMiddleware_Nil(t *testing.T) {
	_, _, c := agent(t)
	_, err := poller.New(c, anyEvent, poller.WithCadence(time.Minute), poller.WithMiddleware(nil))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "nil middleware")
}

// NewContext and FromContext round-trip, as a test that calls a handler
// itself needs.
func TestNewContext(t *testing.T) {
	ev := poller.EventInfo{ID: "evt_1", Kind: models.EventKindNewOrder, OrderID: "ord_1", Attempt: 2, Replayed: true}
	got, ok := poller.FromContext(poller.NewContext(context.Background(), ev))
	require.True(t, ok)
	assert.Equal(t, ev, got)
	_, ok = poller.FromContext(context.Background())
	assert.False(t, ok)
}

// Every hook gets a context: WithOnPoll's is Run's.
func TestWithOnPoll_Context(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		_, _, c := agent(t)
		type key struct{}
		var got []any
		p, err := poller.New(c, anyEvent, poller.WithOnPoll(func(ctx context.Context, r poller.PollResult) {
			got = append(got, ctx.Value(key{}))
		}))
		require.NoError(t, err)
		ctx, cancel := context.WithCancel(context.WithValue(context.Background(), key{}, "run's"))
		done := make(chan error, 1)
		go func() { done <- p.Run(ctx) }()
		synctest.Wait()
		cancel()
		require.NoError(t, <-done)
		require.NotEmpty(t, got)
		assert.Equal(t, "run's", got[0])
	})
}
