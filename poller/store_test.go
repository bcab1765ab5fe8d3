package poller_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/heepr/heepr-go/client"
	"github.com/heepr/heepr-go/models"
	"github.com/heepr/heepr-go/poller"
)

// handOff is a Journal whose own workers would handle the events, as the
// river module's does: Save keeps them and hands none back.
type handOff struct {
	mu     sync.Mutex
	opened int
	saved  [][]poller.JournalEntry
	closed bool
}

func (j *handOff) Open(context.Context) ([]poller.JournalEntry, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.opened++
	return nil, nil
}

func (j *handOff) Save(_ context.Context, es []poller.JournalEntry) ([]poller.JournalEntry, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.saved = append(j.saved, es)
	return nil, nil
}

func (j *handOff) Handled(string) bool            { return false }
func (j *handOff) Done(poller.JournalEntry) error { return nil }
func (j *handOff) Close() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.closed = true
	return nil
}

// A Journal that hands no event back gets each poll's events in one Save,
// in the order polled, and the poller's handlers run none of them.
func TestWithEventJournal_HandOff(t *testing.T) {
	srv, a, c := agent(t)
	defer srv.Close()
	o1 := srv.PlaceOrder(a.ID, models.Order{})
	rev := srv.RequestRevision(o1, "again")
	o2 := srv.PlaceOrder(a.ID, models.Order{})
	j := &handOff{}
	ran := false
	p, err := poller.New(c, poller.Handlers{Default: func(context.Context, poller.EventInfo) error { ran = true; return nil }},
		poller.WithEventJournal(j), poller.WithCadence(time.Hour), poller.WithoutSkillCheck())
	require.NoError(t, err)
	stop := started(t, p)
	require.Eventually(t, func() bool { j.mu.Lock(); defer j.mu.Unlock(); return len(j.saved) == 1 }, 5*time.Second, 10*time.Millisecond)
	require.NoError(t, stop())
	assert.False(t, ran, "the journal's workers handle the events, not the poller")
	assert.True(t, j.closed)
	assert.Equal(t, 1, j.opened)
	var ids, orders []string
	for _, e := range j.saved[0] {
		ids = append(ids, e.ID)
		orders = append(orders, e.OrderID)
		assert.NoError(t, e.Err)
	}
	assert.Equal(t, []string{srv.OrderEvents(o1)[0].ID, rev, srv.OrderEvents(o2)[0].ID}, ids)
	assert.Equal(t, []string{o1, o1, o2}, orders)
	assert.Equal(t, int64(3), p.Stats().Events)
}

// Handle runs what a worker of such a journal runs: the handler of the
// event's kind, with the event and its idempotency scope in the context.
func TestHandlers_Handle(t *testing.T) {
	var got poller.EventInfo
	h := poller.Handlers{NewOrder: func(ctx context.Context, ev models.NewOrderEvent) error {
		got, _ = poller.FromContext(ctx)
		return nil
	}}
	raw := []byte(`{"id":"evt_1","kind":"new_order","created_at":"2026-01-01T00:00:00Z","order_id":"ord_1","order":{"id":"ord_1"}}`)
	e := poller.NewJournalEntry(raw, "")
	require.Equal(t, "evt_1", e.ID)
	require.NoError(t, h.Handle(context.Background(), e, 2, true))
	assert.Equal(t, "evt_1", got.ID)
	assert.Equal(t, 2, got.Attempt)
	assert.True(t, got.Replayed)

	// Kept unreadable: Default hears why; nothing takes it: ErrUnhandled.
	bad := poller.NewJournalEntry(raw, "over the cap")
	err := h.Handle(context.Background(), bad, 1, false)
	assert.ErrorIs(t, err, poller.ErrUnhandled)
	assert.True(t, poller.IsPermanent(err))
}

// Handle runs the handler inside the middleware given, the first outermost,
// each seeing the event and its idempotency scope as a Poller's would; a
// middleware's panic comes back as a *PanicError; a nil one is refused.
func TestHandlers_HandleMiddleware(t *testing.T) {
	var trail []string
	h := poller.Handlers{NewOrder: func(ctx context.Context, ev models.NewOrderEvent) error {
		trail = append(trail, "handler")
		return errors.New("model down")
	}}
	mw := func(name string) func(poller.HandlerFunc) poller.HandlerFunc {
		return func(next poller.HandlerFunc) poller.HandlerFunc {
			return func(ctx context.Context, ev poller.EventInfo) error {
				in, ok := poller.FromContext(ctx)
				require.True(t, ok, "the event in the middleware's context")
				scope, _ := client.IdempotencyScopeFromContext(ctx)
				trail = append(trail, fmt.Sprintf("%s %s %s %d %s", name, ev.ID, ev.Kind, ev.Attempt, scope))
				assert.Equal(t, ev, in)
				err := next(ctx, ev)
				trail = append(trail, name+" saw "+err.Error())
				return err
			}
		}
	}
	raw := []byte(`{"id":"evt_1","kind":"new_order","created_at":"2026-01-01T00:00:00Z","order_id":"ord_1","order":{"id":"ord_1"}}`)
	err := h.Handle(context.Background(), poller.NewJournalEntry(raw, ""), 3, false, mw("outer"), mw("inner"))
	assert.EqualError(t, err, "model down")
	assert.Equal(t, []string{
		"outer evt_1 new_order 3 heepr-event:evt_1", "inner evt_1 new_order 3 heepr-event:evt_1",
		"handler", "inner saw model down", "outer saw model down",
	}, trail)

	boom := func(poller.HandlerFunc) poller.HandlerFunc {
		return func(context.Context, poller.EventInfo) error { panic("middleware bug") }
	}
	err = h.Handle(context.Background(), poller.NewJournalEntry(raw, ""), 1, false, boom)
	pe, ok := errors.AsType[*poller.PanicError](err)
	require.True(t, ok, "%v", err)
	assert.Equal(t, "middleware bug", pe.Value)

	assert.ErrorContains(t, h.Handle(context.Background(), poller.NewJournalEntry(raw, ""), 1, false, nil), "nil middleware")
}

func TestWithMaxGap_Refuses(t *testing.T) {
	_, _, c := agent(t)
	for _, d := range []time.Duration{0, poller.MaxGap + time.Second} {
		_, err := poller.New(c, anyEvent, poller.WithMaxGap(d), poller.WithCadence(time.Minute))
		assert.Error(t, err, "%v", d)
	}
	_, err := poller.New(c, anyEvent, poller.WithMaxGap(poller.MaxGap-time.Minute), poller.WithCadence(time.Minute))
	assert.NoError(t, err)
}
