package poller_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/heepr/heepr-go/client"
	"github.com/heepr/heepr-go/models"
	"github.com/heepr/heepr-go/poller"
)

func pending(t *testing.T, dir string) []string {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(dir, "pending", "*.jsonl"))
	require.NoError(t, err)
	return names
}

func TestJournalHoldsEventUntilHandled(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv, a, c := agent(t)
		dir := t.TempDir()
		release := make(chan struct{})
		p, err := poller.New(c, poller.Handlers{NewOrder: func(ctx context.Context, ev models.NewOrderEvent) error {
			<-release
			return nil
		}}, poller.WithJournal(dir))
		require.NoError(t, err)
		ord := srv.PlaceOrder(a.ID, models.Order{})
		stop := started(t, p)
		synctest.Wait()

		files := pending(t, dir)
		require.Len(t, files, 1, "on disk before the handler finished")
		b, err := os.ReadFile(files[0])
		require.NoError(t, err)
		assert.Contains(t, string(b), `"order_id":"`+ord+`"`)
		info, err := os.Stat(filepath.Join(dir, "pending"))
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o700), info.Mode().Perm())

		close(release)
		synctest.Wait()
		assert.Empty(t, pending(t, dir), "removed once handled")
		seen, err := os.ReadFile(filepath.Join(dir, "seen"))
		require.NoError(t, err)
		assert.JSONEq(t, `{"id":"evt_1","seg":1,"pos":0}`, string(seen), "the id, and its place in the poll it came with")
		require.NoError(t, stop())
	})
}

// What one run polled and did not finish, the next run handles first, before
// it polls; what it finished is never handled again, even when the platform
// sends it again.
func TestJournalAcrossRuns(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv, a, c := agent(t)
		dir := t.TempDir()
		o1 := srv.PlaceOrder(a.ID, models.Order{Brief: "first"})

		// Run 1: the handler never gets to finish.
		p1, err := poller.New(c, poller.Handlers{NewOrder: func(ctx context.Context, _ models.NewOrderEvent) error {
			<-ctx.Done()
			return ctx.Err()
		}}, poller.WithJournal(dir), poller.WithShutdownTimeout(time.Second))
		require.NoError(t, err)
		stop := started(t, p1)
		synctest.Wait()
		err = stop()
		require.ErrorIs(t, err, poller.ErrUnfinished)
		assert.Contains(t, err.Error(), "kept in the journal")
		require.Len(t, pending(t, dir), 1)

		// Run 2: replays it before the first poll, then handles the rest.
		var order []string
		var replayed []bool
		o2 := srv.PlaceOrder(a.ID, models.Order{Brief: "second"})
		p2, err := poller.New(c, poller.Handlers{NewOrder: func(ctx context.Context, ev models.NewOrderEvent) error {
			info, _ := poller.FromContext(ctx)
			order = append(order, ev.OrderID)
			replayed = append(replayed, info.Replayed)
			_, err := c.Deliver(ctx, ev.OrderID, client.Delivery{Text: ev.Order.Brief})
			return err
		}}, poller.WithJournal(dir), poller.WithConcurrency(1))
		require.NoError(t, err)
		stop = started(t, p2)
		synctest.Wait()
		require.NoError(t, stop())
		assert.Equal(t, []string{o1, o2}, order)
		assert.Equal(t, []bool{true, false}, replayed)
		assert.Empty(t, pending(t, dir))

		// Run 3: the platform sends the first event again; it is skipped.
		hc := srv.HTTPClient()
		rt := &repeatFirstBatch{next: hc.Transport}
		hc.Transport = rt
		c3, err := client.New(client.WithHTTPClient(hc), client.WithAPIKey(a.APIKey), client.WithAgentID(a.ID))
		require.NoError(t, err)
		var calls atomic.Int32
		p3, err := poller.New(c3, poller.Handlers{NewOrder: func(context.Context, models.NewOrderEvent) error {
			calls.Add(1)
			return nil
		}}, poller.WithJournal(dir))
		require.NoError(t, err)
		// Arm the transport with an answer holding the old event.
		rt.saved = []byte(`{"events":[{"id":"evt_1","kind":"new_order","created_at":"2026-11-28T09:00:00Z","order_id":"` + o1 +
			`","order":{"id":"` + o1 + `","scope":"s","tier":"t","price":{"amount":1,"currency":"points"},"deadline":"2026-12-01T00:00:00Z","brief":"first","revisions_allowed":0}}]}`)
		stop = started(t, p3)
		synctest.Wait()
		require.NoError(t, stop())
		assert.Zero(t, calls.Load())
		assert.Equal(t, int64(1), p3.Stats().Duplicates)
		assert.Len(t, srv.Deliveries(o1), 1)
		assert.Len(t, srv.Deliveries(o2), 1)
		noViolations(t, srv)
	})
}

func TestJournalSetsCorruptFilesAside(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		_, _, c := agent(t)
		dir := t.TempDir()
		require.NoError(t, os.MkdirAll(filepath.Join(dir, "pending"), 0o700))
		bad := filepath.Join(dir, "pending", "00000000000000000007.json")
		require.NoError(t, os.WriteFile(bad, []byte(`{"v":1,"event":{"kind":`), 0o600))
		tmp := filepath.Join(dir, "pending", ".tmp-123")
		require.NoError(t, os.WriteFile(tmp, []byte(`half a write`), 0o600))

		p, err := poller.New(c, anyEvent, poller.WithJournal(dir))
		require.NoError(t, err)
		stop := started(t, p)
		synctest.Wait()
		require.NoError(t, stop())
		_, err = os.Stat(bad + ".corrupt")
		assert.NoError(t, err, "set aside for a person to look at")
		_, err = os.Stat(tmp)
		assert.True(t, os.IsNotExist(err), "a torn temporary file is removed")
	})
}

func TestJournalDirectoryUnusable(t *testing.T) {
	_, _, c := agent(t)
	file := filepath.Join(t.TempDir(), "a-file")
	require.NoError(t, os.WriteFile(file, nil, 0o600))
	p, err := poller.New(c, anyEvent, poller.WithJournal(file))
	require.NoError(t, err)
	err = p.Run(context.Background())
	require.Error(t, err)
	assert.True(t, strings.Contains(err.Error(), "journal"), err.Error())
}
