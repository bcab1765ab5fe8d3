package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/heepr/heepr-go/client"
	"github.com/heepr/heepr-go/heeprtest"
	"github.com/heepr/heepr-go/models"
)

// dashGet sends a GET to h from remote and returns the recorded answer.
func dashGet(t *testing.T, h http.Handler, remote, path string) *http.Response {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	req.RemoteAddr = remote
	req.Host = "127.0.0.1:8080"
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Result()
}

const loopback = "127.0.0.1:50000"

// An empty fake reads as empty lists, never null, so a script needs no cases.
func TestServeState_Empty(t *testing.T) {
	srv := heeprtest.NewServer()
	res := dashGet(t, newHandler(srv, false), loopback, statePath)
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Equal(t, "application/json", res.Header.Get("Content-Type"))
	var body map[string]any
	require.NoError(t, json.NewDecoder(res.Body).Decode(&body))
	assert.Equal(t, map[string]any{"agents": []any{}, "orders": []any{}, "violations": 0.0}, body)
}

// The read-out shows what the agent did through the API, as the dashboard
// renders it: polls, progress, a delivery with a file, a decline, a flag, and
// an event still queued.
func TestServeState(t *testing.T) {
	srv := heeprtest.NewServer()
	a := srv.AddAgent(heeprtest.Registered(), heeprtest.Cadence(5))
	idle := srv.AddAgent()
	delivered := srv.PlaceOrder(a.ID, models.Order{Brief: "A haiku about the sea.", Tier: "premium", Price: models.Price{Amount: 250, Currency: "points"}})
	declined := srv.PlaceOrder(a.ID, models.Order{})
	flagged := srv.PlaceOrder(a.ID, models.Order{})

	ctx := context.Background()
	c, err := client.New(client.WithAPIKey(a.APIKey), client.WithHTTPClient(srv.HTTPClient()))
	require.NoError(t, err)
	_, err = c.Events(ctx)
	require.NoError(t, err)
	_, err = c.ReportProgress(ctx, delivered, client.ProgressParams{Percent: 60, Message: "drafting"})
	require.NoError(t, err)
	png := []byte("\x89PNG\r\n\x1a\nnot really")
	receipt, err := c.Deliver(ctx, delivered, client.Delivery{
		Text: "Grey waves fold on sand", Message: "for review", Links: []string{"https://example.com/a"},
		Files: []client.File{client.FileFromBytes("sea view.png", png).WithContentType("image/png")},
	})
	require.NoError(t, err)
	_, err = c.Decline(ctx, declined, client.DeclineParams{Reason: models.DeclineReasonCapacity, Message: "booked up"})
	require.NoError(t, err)
	_, err = c.Flag(ctx, flagged, client.FlagParams{Reason: models.FlagReasonIllegal})
	require.NoError(t, err)
	revision := srv.RequestRevision(delivered, "Shorter.")
	require.NotEmpty(t, revision)

	res := dashGet(t, newHandler(srv, false), loopback, statePath)
	require.Equal(t, http.StatusOK, res.StatusCode)
	var st fakeState
	require.NoError(t, json.NewDecoder(res.Body).Decode(&st))

	require.Len(t, st.Agents, 2)
	got := st.Agents[0]
	require.NotNil(t, got.LastPoll)
	assert.WithinDuration(t, time.Now(), *got.LastPoll, time.Minute)
	got.LastPoll = nil
	assert.Equal(t, stateAgent{ID: a.ID, Online: true, KeyState: "live", CadenceMinutes: 5, Status: "active", Queued: 1}, got)
	assert.Equal(t, stateAgent{ID: idle.ID, KeyState: "none", CadenceMinutes: 20, Status: "active"}, st.Agents[1], "never polled: last_poll null")

	require.Len(t, st.Orders, 3)
	o := st.Orders[0]
	assert.Equal(t, delivered, o.ID)
	assert.Equal(t, a.ID, o.AgentID)
	assert.Equal(t, "revision_requested", o.State)
	assert.Equal(t, "A haiku about the sea.", o.Brief)
	assert.Equal(t, "premium", o.Tier)
	assert.Equal(t, models.Price{Amount: 250, Currency: "points"}, o.Price)
	assert.False(t, o.Deadline.IsZero())
	require.Len(t, o.Events, 2)
	assert.Equal(t, []string{"new_order", "revision_request"}, []string{o.Events[0].Kind, o.Events[1].Kind})
	assert.True(t, o.Events[0].Polled)
	assert.Equal(t, revision, o.Events[1].ID)
	assert.False(t, o.Events[1].Polled, "queued for the next poll")
	require.Len(t, o.Progress, 1)
	assert.Equal(t, 60, o.Progress[0].Percent)
	assert.Equal(t, "drafting", o.Progress[0].Message)

	require.Len(t, o.Deliveries, 1)
	d := o.Deliveries[0]
	assert.Equal(t, receipt.ID, d.ID)
	assert.Equal(t, "Grey waves fold on sand", d.Text)
	assert.Equal(t, "for review", d.Message)
	assert.Equal(t, []string{"https://example.com/a"}, d.Links)
	assert.Equal(t, "pending_review", d.State)
	sum := sha256.Sum256(png)
	assert.Equal(t, []stateFile{{
		Name: "sea view.png", Size: int64(len(png)), SHA256: hex.EncodeToString(sum[:]), ContentType: "image/png",
		URL: "/_fake/deliveries/" + receipt.ID + "/files/sea%20view.png",
	}}, d.Files, "the download link is escaped as a path")

	assert.Equal(t, "declined", st.Orders[1].State)
	require.Len(t, st.Orders[1].Declines, 1)
	assert.Equal(t, "capacity", st.Orders[1].Declines[0].Reason)
	assert.Equal(t, "booked up", st.Orders[1].Declines[0].Message)
	assert.Equal(t, "flagged", st.Orders[2].State)
	require.Len(t, st.Orders[2].Flags, 1)
	assert.Equal(t, "illegal", st.Orders[2].Flags[0].Reason)
	assert.Empty(t, st.Orders[2].Deliveries)
	assert.Equal(t, 0, st.Violations)
	assert.Empty(t, srv.Violations())
}

// Like the control API, the read-out and the page answer loopback clients only
// unless -control-remote.
func TestDashboard_LoopbackOnly(t *testing.T) {
	for _, path := range []string{"/", statePath, assetsPath + "app.js", "/favicon.ico"} {
		t.Run(path, func(t *testing.T) {
			srv := heeprtest.NewServer()
			res := dashGet(t, newHandler(srv, false), "192.0.2.7:4000", path)
			assert.Equal(t, http.StatusForbidden, res.StatusCode)
			res = dashGet(t, newHandler(srv, false), "[::1]:4000", path)
			assert.Equal(t, http.StatusOK, res.StatusCode)
			res = dashGet(t, newHandler(srv, true), "192.0.2.7:4000", path)
			assert.Equal(t, http.StatusOK, res.StatusCode)
			assert.Empty(t, srv.Violations(), "not the API: nothing recorded")
			assert.Empty(t, srv.Requests())
		})
	}
}
