package poller_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/heepr/heepr-go/client"
	"github.com/heepr/heepr-go/heeprtest"
	"github.com/heepr/heepr-go/models"
	"github.com/heepr/heepr-go/poller"
)

type pollKey struct{}

// A poll middleware sees every poll and its result; its context reaches the
// poll's request and, through PollContext, the handlers of the poll's events.
// What it returns does not change what the poller does.
func TestWithPollMiddleware(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var (
			mu       sync.Mutex
			results  []poller.PollResult
			n        int
			reqPolls []any
			origins  []any
		)
		see := func(next client.Invoker) client.Invoker {
			return func(ctx context.Context, call *client.Call) error {
				if call.Operation == client.OperationPollEvents {
					mu.Lock()
					reqPolls = append(reqPolls, ctx.Value(pollKey{}))
					mu.Unlock()
				}
				return next(ctx, call)
			}
		}
		srv := heeprtest.NewServer()
		a := srv.AddAgent(heeprtest.Registered())
		c, err := client.New(client.WithHTTPClient(srv.HTTPClient()), client.WithAPIKey(a.APIKey), client.WithAgentID(a.ID), client.WithMiddleware(see))
		require.NoError(t, err)
		mw := func(next poller.PollFunc) poller.PollFunc {
			return func(ctx context.Context) poller.PollResult {
				mu.Lock()
				n++
				id := n
				mu.Unlock()
				r := next(context.WithValue(ctx, pollKey{}, id))
				mu.Lock()
				results = append(results, r)
				mu.Unlock()
				return poller.PollResult{Err: errors.New("a middleware's result changes nothing")}
			}
		}
		p, err := poller.New(c, poller.Handlers{NewOrder: func(ctx context.Context, _ models.NewOrderEvent) error {
			pctx, ok := poller.PollContext(ctx)
			mu.Lock()
			defer mu.Unlock()
			if ok {
				origins = append(origins, pctx.Value(pollKey{}))
			} else {
				origins = append(origins, "none")
			}
			return nil
		}}, poller.WithPollMiddleware(mw))
		require.NoError(t, err)
		srv.PlaceOrder(a.ID, models.Order{})
		stop := started(t, p)
		synctest.Wait()
		srv.Inject(heeprtest.Fault{Kind: heeprtest.FaultStatus, Status: 503, Path: "/events"})
		p.Wake()
		synctest.Wait()
		srv.PlaceOrder(a.ID, models.Order{})
		p.Wake()
		synctest.Wait()
		require.NoError(t, stop())

		mu.Lock()
		defer mu.Unlock()
		require.Len(t, results, 3)
		assert.Equal(t, 1, results[0].Events)
		assert.NoError(t, results[0].Err)
		assert.Error(t, results[1].Err, "the 503")
		assert.Equal(t, 1, results[2].Events)
		assert.Equal(t, []any{1, 2, 3}, reqPolls, "each poll's request runs under the middleware's context")
		assert.Equal(t, []any{1, 3}, origins, "each handler finds the poll that brought its event")
		st := p.Stats()
		assert.Equal(t, int64(1), st.PollErrors, "the middleware's error is not the poller's")
	})
}

// Without a poll middleware, or outside a handler, there is no poll context.
func TestPollContext_None(t *testing.T) {
	_, ok := poller.PollContext(context.Background())
	assert.False(t, ok)
	_, err := poller.New(nil, poller.Handlers{}, poller.WithPollMiddleware(nil))
	assert.Error(t, err)
}
