package river_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/heepr/heepr-go/client"
	"github.com/heepr/heepr-go/heeprtest"
	"github.com/heepr/heepr-go/models"
	"github.com/heepr/heepr-go/poller"
	heeprriver "github.com/heepr/heepr-go/river"
)

func TestMigrate_Twice(t *testing.T) {
	dsn := testDB(t) // migrated once
	pool := openPool(t, dsn)
	require.NoError(t, heeprriver.Migrate(context.Background(), pool))
	var n int
	require.NoError(t, pool.QueryRow(context.Background(), "SELECT count(*) FROM pg_indexes WHERE indexname = 'heepr_river_event_order'").Scan(&n))
	assert.Equal(t, 1, n)
}

func TestNew_Refuses(t *testing.T) {
	srv := heeprtest.NewServer()
	defer srv.Close()
	a := srv.AddAgent(heeprtest.Registered())
	c, err := client.New(client.WithBaseURL(srv.URL()), client.WithAPIKey(a.APIKey), client.WithAgentID(a.ID))
	require.NoError(t, err)
	_, err = heeprriver.New(nil, c, poller.Handlers{})
	assert.Error(t, err)
	dsn := testDB(t)
	pool := openPool(t, dsn)
	_, err = heeprriver.New(pool, c, poller.Handlers{})
	assert.ErrorContains(t, err, "no handler")
	_, err = heeprriver.New(pool, c, poller.Handlers{Default: func(context.Context, poller.EventInfo) error { return nil }}, heeprriver.WithElection(time.Hour))
	assert.ErrorContains(t, err, "WithElection")
	_, err = heeprriver.New(pool, c, poller.Handlers{Default: func(context.Context, poller.EventInfo) error { return nil }}, heeprriver.WithHandlerRetry(3, -time.Second))
	assert.ErrorContains(t, err, "non-negative backoff")
}

// TestAgent_TwoReplicas runs two replicas in one process: one of them
// leads; every event is handled once, with its delivery, an order's events
// in order, and the handler's context carries the event's idempotency scope.
func TestAgent_TwoReplicas(t *testing.T) {
	dsn := testDB(t)
	srv := heeprtest.NewServer()
	defer srv.Close()
	ag := srv.AddAgent(heeprtest.Registered())
	c, err := client.New(client.WithBaseURL(srv.URL()), client.WithAPIKey(ag.APIKey), client.WithAgentID(ag.ID))
	require.NoError(t, err)

	var mu sync.Mutex
	seen := map[string][]string{} // order -> event ids, in the order handled
	scopes := map[string]string{}
	handle := func(ctx context.Context, id, order string) error {
		ev, ok := poller.FromContext(ctx)
		require.True(t, ok)
		scope, _ := client.IdempotencyScopeFromContext(ctx)
		mu.Lock()
		seen[order] = append(seen[order], id)
		scopes[id] = scope
		mu.Unlock()
		assert.Equal(t, id, ev.ID)
		_, err := c.Deliver(ctx, order, client.Delivery{Text: "work for " + id})
		return err
	}
	h := poller.Handlers{
		NewOrder: func(ctx context.Context, ev models.NewOrderEvent) error { return handle(ctx, ev.ID, ev.OrderID) },
		RevisionRequest: func(ctx context.Context, ev models.RevisionRequestEvent) error {
			return handle(ctx, ev.ID, ev.OrderID)
		},
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var agents []*heeprriver.Agent
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	for range 2 {
		a, err := heeprriver.New(openPool(t, dsn), c, h, heeprriver.WithElection(50*time.Millisecond),
			heeprriver.WithPollerOptions(poller.WithCadence(time.Minute), poller.WithoutSkillCheck()))
		require.NoError(t, err)
		agents = append(agents, a)
		wg.Go(func() { errs <- a.Run(ctx) })
	}
	want := map[string][]string{}
	for range 8 {
		ord := srv.PlaceOrder(ag.ID, models.Order{})
		want[ord] = []string{srv.OrderEvents(ord)[0].ID, srv.RequestRevision(ord, "again"), srv.RequestRevision(ord, "and again")}
	}
	require.Eventually(t, func() bool {
		for _, a := range agents {
			a.Wake()
		}
		mu.Lock()
		defer mu.Unlock()
		n := 0
		for _, ids := range seen {
			n += len(ids)
		}
		return n >= 24
	}, 30*time.Second, 100*time.Millisecond)
	cancel()
	wg.Wait()
	close(errs)
	for err := range errs {
		assert.NoError(t, err)
	}
	leaders := 0
	for _, a := range agents {
		leaders += int(a.Stats().Leaderships)
	}
	assert.Equal(t, 1, leaders, "one replica led")
	assert.Equal(t, want, seen)
	for ord, ids := range want {
		ds := srv.Deliveries(ord)
		require.Len(t, ds, 3)
		for i, d := range ds {
			assert.Equal(t, ids[i], eventOf(d.Payload.Text))
		}
		for _, id := range ids {
			assert.Equal(t, "heepr-event:"+id, scopes[id])
		}
	}
	assert.Empty(t, srv.Violations())
}

// An event the platform sends again, after it was handled, is a duplicate
// in the database: not inserted, not handled again.
func TestAgent_RepeatedEventsOnce(t *testing.T) {
	dsn := testDB(t)
	srv := heeprtest.NewServer()
	defer srv.Close()
	ag := srv.AddAgent(heeprtest.Registered())
	c, err := client.New(client.WithBaseURL(srv.URL()), client.WithAPIKey(ag.APIKey), client.WithAgentID(ag.ID))
	require.NoError(t, err)
	var mu sync.Mutex
	runs := map[string]int{}
	a, err := heeprriver.New(openPool(t, dsn), c, poller.Handlers{NewOrder: func(ctx context.Context, ev models.NewOrderEvent) error {
		mu.Lock()
		runs[ev.ID]++
		mu.Unlock()
		_, err := c.Deliver(ctx, ev.OrderID, client.Delivery{Text: "work for " + ev.ID})
		return err
	}}, heeprriver.WithElection(50*time.Millisecond),
		heeprriver.WithPollerOptions(poller.WithCadence(time.Minute), poller.WithoutSkillCheck()))
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	ord := srv.PlaceOrder(ag.ID, models.Order{})
	require.Eventually(t, func() bool { a.Wake(); return len(srv.Deliveries(ord)) == 1 }, 10*time.Second, 50*time.Millisecond)
	srv.Inject(heeprtest.Fault{Kind: heeprtest.FaultRepeatEvents, Times: 3})
	require.Eventually(t, func() bool { a.Wake(); return a.Stats().Duplicates >= 3 }, 10*time.Second, 50*time.Millisecond)
	cancel()
	require.NoError(t, <-done)
	assert.Len(t, srv.Deliveries(ord), 1)
	assert.Equal(t, map[string]int{srv.OrderEvents(ord)[0].ID: 1}, runs)
	assert.Equal(t, int64(1), a.Stats().Inserted)
	assert.Empty(t, srv.Violations())
}

// A failing handler on River: an error is retried on WithHandlerRetry's
// backoff, each attempt repeating the idempotency key of each write, so the
// platform keeps one delivery; an error no retry mends cancels the job at
// once; one that outlasts the attempts discards it. Each of the last two is
// reported to WithOnHandlerError once, with its event.
func TestAgent_HandlerFailures(t *testing.T) {
	dsn := testDB(t)
	pool := openPool(t, dsn)
	srv := heeprtest.NewServer()
	defer srv.Close()
	ag := srv.AddAgent(heeprtest.Registered())
	c, err := client.New(client.WithBaseURL(srv.URL()), client.WithAPIKey(ag.APIKey), client.WithAgentID(ag.ID))
	require.NoError(t, err)

	var mu sync.Mutex
	runs := map[string]int{} // brief -> attempts run
	type report struct {
		event   string
		attempt int
		err     error
	}
	var reports []report
	var ran []string // each run as the middleware saw it
	a, err := heeprriver.New(pool, c, poller.Handlers{NewOrder: func(ctx context.Context, ev models.NewOrderEvent) error {
		mu.Lock()
		runs[ev.Order.Brief]++
		n := runs[ev.Order.Brief]
		mu.Unlock()
		switch ev.Order.Brief {
		case "flaky": // delivers on every attempt, fails the first two after it
			if _, err := c.Deliver(ctx, ev.OrderID, client.Delivery{Text: "work for " + ev.ID}); err != nil {
				return err
			}
			if n < 3 {
				return errors.New("the model timed out after the upload")
			}
			return nil
		case "refused":
			return fmt.Errorf("brief names no file: %w", client.ErrInvalidArgument)
		default: // "broken"
			return errors.New("the renderer is down")
		}
	}}, heeprriver.WithElection(50*time.Millisecond), heeprriver.WithHandlerRetry(3, 0), // 0: at once, as the poller allows
		heeprriver.WithMiddleware(func(next poller.HandlerFunc) poller.HandlerFunc {
			return func(ctx context.Context, ev poller.EventInfo) error {
				in, ok := poller.FromContext(ctx)
				assert.True(t, ok, "the event in the middleware's context")
				assert.Equal(t, ev.ID, in.ID)
				err := next(ctx, ev)
				mu.Lock()
				ran = append(ran, fmt.Sprintf("%s %s attempt %d: %v", ev.OrderID, ev.Kind, ev.Attempt, err))
				mu.Unlock()
				return err
			}
		}),
		heeprriver.WithOnHandlerError(func(ctx context.Context, ev poller.EventInfo, err error) {
			got, ok := poller.FromContext(ctx)
			assert.True(t, ok, "the event in the context")
			assert.Equal(t, ev.ID, got.ID)
			mu.Lock()
			reports = append(reports, report{ev.ID, ev.Attempt, err})
			mu.Unlock()
		}),
		heeprriver.WithPollerOptions(poller.WithCadence(time.Minute), poller.WithoutSkillCheck()))
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()

	flaky := srv.PlaceOrder(ag.ID, models.Order{Brief: "flaky"})
	refused := srv.PlaceOrder(ag.ID, models.Order{Brief: "refused"})
	broken := srv.PlaceOrder(ag.ID, models.Order{Brief: "broken"})
	stateOf := func(order string) (state string, attempt int) {
		err := pool.QueryRow(context.Background(), "SELECT state, attempt FROM river_job WHERE args->>'order_id' = $1", order).Scan(&state, &attempt)
		if err != nil {
			return "", 0
		}
		return state, attempt
	}
	require.Eventually(t, func() bool {
		a.Wake()
		s1, _ := stateOf(flaky)
		s2, _ := stateOf(refused)
		s3, _ := stateOf(broken)
		return s1 == "completed" && s2 == "cancelled" && s3 == "discarded"
	}, 60*time.Second, 50*time.Millisecond, "the three jobs settle")
	cancel()
	require.NoError(t, <-done)

	_, attempts := stateOf(flaky)
	assert.Equal(t, 3, attempts, "retried by River until it succeeded")
	var keys []string
	for _, r := range srv.Requests() {
		if r.Method == "POST" && strings.HasSuffix(r.Path, "/orders/"+flaky+"/deliver") {
			keys = append(keys, r.Header.Get("Idempotency-Key"))
		}
	}
	require.Len(t, keys, 3, "a delivery on each attempt")
	assert.Equal(t, keys[0], keys[1], "the same key on every attempt")
	assert.Equal(t, keys[0], keys[2], "the same key on every attempt")
	assert.Len(t, srv.Deliveries(flaky), 1, "the platform kept one")

	_, attempts = stateOf(refused)
	assert.Equal(t, 1, attempts, "no retry mends a refused argument")
	_, attempts = stateOf(broken)
	assert.Equal(t, 3, attempts, "WithHandlerRetry's attempts")
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, map[string]int{"flaky": 3, "refused": 1, "broken": 3}, runs)
	assert.ElementsMatch(t, []string{
		broken + " new_order attempt 1: the renderer is down", broken + " new_order attempt 2: the renderer is down",
		broken + " new_order attempt 3: the renderer is down",
		flaky + " new_order attempt 1: the model timed out after the upload", flaky + " new_order attempt 2: the model timed out after the upload",
		flaky + " new_order attempt 3: <nil>",
		refused + " new_order attempt 1: brief names no file: heepr: invalid argument",
	}, ran, "WithMiddleware around every run, with River's attempt")
	require.Len(t, reports, 2, "reported once each, the flaky one never")
	byEvent := map[string]report{}
	for _, r := range reports {
		byEvent[r.event] = r
	}
	r := byEvent[srv.OrderEvents(refused)[0].ID]
	assert.Equal(t, 1, r.attempt)
	assert.ErrorIs(t, r.err, client.ErrInvalidArgument)
	r = byEvent[srv.OrderEvents(broken)[0].ID]
	assert.Equal(t, 3, r.attempt)
	assert.ErrorContains(t, r.err, "the renderer is down")
	assert.Empty(t, srv.Violations())
}
