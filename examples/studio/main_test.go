package main

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/heepr/heepr-go/client"
	"github.com/heepr/heepr-go/heeprtest"
	"github.com/heepr/heepr-go/models"
	"github.com/heepr/heepr-go/poller"
)

// The studio against heeprtest under a fake clock: an order with a reference
// file worked on for forty minutes with progress, one declined for capacity,
// one flagged, a revision, and a clean stop on the signal.
func TestStudio(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := heeprtest.NewServer()
		a := srv.AddAgent(heeprtest.Cadence(1))
		dir := t.TempDir()
		c, err := client.Connect(context.Background(), client.ConnectConfig{
			KeyFile: filepath.Join(dir, client.DefaultKeyFile), AgentID: a.ID, BootstrapToken: a.BootstrapToken,
		}, client.WithHTTPClient(srv.HTTPClient()))
		require.NoError(t, err)
		s := &studio{c: c, log: slog.New(slog.NewTextHandler(io.Discard, nil)), dir: dir, slots: make(chan struct{}, 1), step: 10 * time.Minute}

		ref := srv.AddFile("mood.png", "image/png", []byte("\x89PNG\r\n\x1a\nreference pixels"))
		work := srv.PlaceOrder(a.ID, models.Order{Brief: "A lighthouse at dusk", Attachments: []models.Attachment{ref}})

		ctx, stop := context.WithCancel(context.Background()) // stands in for SIGINT
		done := make(chan error, 1)
		go func() { done <- s.run(ctx) }()
		time.Sleep(time.Minute) // the lighthouse is in work
		busy := srv.PlaceOrder(a.ID, models.Order{Brief: "A second lighthouse"})
		bad := srv.PlaceOrder(a.ID, models.Order{Brief: "A counterfeit sneaker logo"})
		time.Sleep(time.Hour)

		o, _ := srv.Order(busy)
		assert.Equal(t, models.OrderStateDeclined, o.State)
		require.Len(t, srv.Declines(busy), 1)
		assert.Equal(t, models.DeclineReasonCapacity, srv.Declines(busy)[0].Reason)
		o, _ = srv.Order(bad)
		assert.Equal(t, models.OrderStateFlagged, o.State)
		assert.Equal(t, models.FlagReasonPolicyViolation, srv.Flags(bad)[0].Reason)

		pr := srv.Progress(work)
		require.Len(t, pr, 4, "progress after each quarter of the work")
		assert.Equal(t, 100, pr[3].Percent)
		ds := srv.Deliveries(work)
		require.Len(t, ds, 1)
		require.Len(t, ds[0].Files, 1)
		assert.Equal(t, work+"-r0.svg", ds[0].Files[0].Name)
		assert.Equal(t, "image/svg+xml", ds[0].Files[0].ContentType)
		assert.Contains(t, ds[0].Payload.Message, "1 reference file")
		kept, err := os.ReadFile(filepath.Join(dir, "refs", work+"-mood.png"))
		require.NoError(t, err)
		assert.Contains(t, string(kept), "reference pixels", "the attachment arrived whole")

		// A revision comes in and is worked on like an order.
		srv.RequestRevision(work, "Warmer light")
		time.Sleep(50 * time.Minute)
		assert.Len(t, srv.Deliveries(work), 2)

		// SIGINT in the middle of an order: the work cannot finish within the
		// shutdown timeout, so its context is cancelled and the order stays
		// in the journal; the next start finishes it.
		late := srv.PlaceOrder(a.ID, models.Order{Brief: "A harbour at night"})
		time.Sleep(5 * time.Minute)
		stop()
		err = <-done
		require.ErrorIs(t, err, poller.ErrUnfinished)
		left, _ := filepath.Glob(filepath.Join(dir, "journal", "pending", "*.jsonl"))
		require.Len(t, left, 1, "kept for the next start")
		assert.Empty(t, srv.Deliveries(late))

		ctx, stop = context.WithCancel(context.Background())
		go func() { done <- s.run(ctx) }()
		time.Sleep(time.Hour)
		stop()
		require.NoError(t, <-done, "a clean stop")
		assert.Len(t, srv.Deliveries(late), 1, "finished after the restart, once")
		st := srv.Statuses(a.ID)
		require.NotEmpty(t, st)
		assert.Equal(t, models.AgentStatusPaused, st[len(st)-1].Status, "told the platform it paused")
		left, _ = filepath.Glob(filepath.Join(dir, "journal", "pending", "*.jsonl"))
		assert.Empty(t, left)
		for _, v := range srv.Violations() {
			assert.Fail(t, v.String())
		}
	})
}
