package client_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/heepr/heepr-go/client"
	"github.com/heepr/heepr-go/heeprtest"
	"github.com/heepr/heepr-go/models"
)

// cutBody answers with a Content-Length for want bytes but sends only body,
// then breaks, and counts the requests.
type cutBody struct {
	body  string
	want  int64
	calls atomic.Int32
}

func (c *cutBody) RoundTrip(req *http.Request) (*http.Response, error) {
	c.calls.Add(1)
	var body io.Reader = strings.NewReader(c.body)
	if c.want > int64(len(c.body)) {
		body = io.MultiReader(body, iotest.ErrReader(io.ErrUnexpectedEOF))
	}
	return &http.Response{StatusCode: http.StatusOK, Header: http.Header{"Content-Type": {"application/json"}},
		ContentLength: c.want, Body: io.NopCloser(body), Request: req}, nil
}

func streamClient(t *testing.T, rt http.RoundTripper, opts ...client.Option) *client.Client {
	t.Helper()
	c, err := client.New(append([]client.Option{client.WithHTTPClient(&http.Client{Transport: rt}),
		client.WithAPIKey("sk_live_streamstreamstream"), client.WithAgentID("agt_1")}, opts...)...)
	require.NoError(t, err)
	return c
}

func collect(t *testing.T, c *client.Client) ([]client.PolledEvent, error) {
	t.Helper()
	var got []client.PolledEvent
	err := c.StreamEvents(context.Background(), func(pe client.PolledEvent) error {
		got = append(got, pe)
		return nil
	})
	return got, err
}

// StreamEvents reads an answer of any length one event at a time: past the
// client's JSON cap, and past the event cap for one event, which comes with
// its first bytes and ErrTooLarge while the rest go on.
func TestStreamEventsOverTheCaps(t *testing.T) {
	srv := heeprtest.NewServer(heeprtest.WithRules(strings.Repeat("r", 4000)))
	a := srv.AddAgent(heeprtest.Registered())
	for range 50 {
		srv.PlaceOrder(a.ID, models.Order{})
	}
	c := newClient(t, srv, client.WithAPIKey(a.APIKey), client.WithMaxResponseBytes(64<<10), client.WithMaxEventBytes(5000))
	got, err := collect(t, c)
	require.NoError(t, err)
	require.Len(t, got, 50, "200 KB of events, over a 64 KiB response cap")
	for i, pe := range got {
		assert.Equal(t, i, pe.Index)
		require.NoError(t, pe.Err)
		h, err := pe.Event.Header()
		require.NoError(t, err)
		assert.Equal(t, models.EventKindNewOrder, h.Kind)
		assert.Equal(t, pe.Raw, pe.Event.Raw())
	}
	st, _ := srv.Agent(a.ID)
	assert.Zero(t, st.Queued, "drained")

	big := `{"id":"evt_big","kind":"scope_change","sf":"` + strings.Repeat("x", 6000) + `"}`
	c = streamClient(t, &cutBody{body: `{"events":[{"id":"evt_1"},` + big + `,"not an event",{"id":"evt_3"}]}`, want: -1},
		client.WithMaxEventBytes(5000))
	got, err = collect(t, c)
	require.NoError(t, err)
	require.Len(t, got, 4)
	assert.ErrorIs(t, got[1].Err, client.ErrTooLarge)
	assert.Contains(t, got[1].Err.Error(), "over the 4.8 KiB limit (WithMaxEventBytes)")
	assert.Equal(t, big[:5000], string(got[1].Raw))
	assert.NoError(t, got[2].Err, "valid JSON, if not an event: the caller's to judge")
	assert.Equal(t, `{"id":"evt_3"}`, string(got[3].Raw))
}

// A break mid-answer hands over what came before it, says how much was not
// read, and is never retried: the platform drained the answer already.
func TestStreamEventsBreak(t *testing.T) {
	whole := `{"events":[{"id":"evt_1"},{"id":"evt_2"},{"id":"evt_3"}]}`
	cut := whole[:strings.Index(whole, `{"id":"evt_3"`)+5]
	rt := &cutBody{body: cut, want: int64(len(whole))}
	got, err := collect(t, streamClient(t, rt))
	require.Len(t, got, 2)
	pe, ok := errors.AsType[*client.PartialPollError](err)
	require.True(t, ok, "%v", err)
	assert.Equal(t, 2, pe.Events)
	assert.Equal(t, int64(len(cut)), pe.Read)
	assert.Equal(t, int64(len(whole)-len(cut)), pe.Unread)
	assert.ErrorIs(t, err, io.ErrUnexpectedEOF)
	assert.Contains(t, err.Error(), "the platform drained them")
	assert.Equal(t, int32(1), rt.calls.Load(), "not retried")

	// Chunked: how much is lost is not known.
	rt = &cutBody{body: `{"events":[{"id":"evt_1"},`, want: -1}
	_, err = collect(t, streamClient(t, rt))
	pe, ok = errors.AsType[*client.PartialPollError](err)
	require.True(t, ok, "%v", err)
	assert.Equal(t, int64(-1), pe.Unread)
	assert.Contains(t, err.Error(), "an unknown number of bytes not read")

	// Not an events answer at all.
	_, err = collect(t, streamClient(t, &cutBody{body: `<html>`, want: 6}))
	assert.ErrorAs(t, err, &pe)
}

// An error of the callback stops the read and comes back wrapped.
func TestStreamEventsCallbackError(t *testing.T) {
	c := streamClient(t, &cutBody{body: `{"events":[{"id":"evt_1"},{"id":"evt_2"}]}`, want: -1})
	boom := errors.New("disk full")
	n := 0
	err := c.StreamEvents(context.Background(), func(client.PolledEvent) error { n++; return boom })
	assert.ErrorIs(t, err, boom)
	assert.Equal(t, 1, n)
	assert.Error(t, c.StreamEvents(context.Background(), nil))
}

// Events keeps its shape: the whole answer or an error, now with the same
// per-event cap.
func TestEventsPerEventCap(t *testing.T) {
	c := streamClient(t, &cutBody{body: `{"events":[{"id":"evt_1"},{"id":"evt_2","sf":"` + strings.Repeat("x", 200) + `"}]}`, want: -1},
		client.WithMaxEventBytes(100))
	events, err := c.Events(context.Background())
	assert.Nil(t, events)
	assert.ErrorIs(t, err, client.ErrTooLarge)
	assert.Contains(t, err.Error(), "event 1: ")

	c = streamClient(t, &cutBody{body: `{"events":[{"id":"evt_1"}]} trailing`, want: -1})
	_, err = c.Events(context.Background())
	assert.ErrorContains(t, err, "want the end of the answer")
}

// A client given no logger is heard: Warn and above reach slog.Default() as
// it is when the line is logged; Info and Debug do not.
func TestDefaultLoggerWarnsToSlogDefault(t *testing.T) {
	c, err := client.New(client.WithAPIKey("sk_live_loglogloglog"))
	require.NoError(t, err)
	var buf strings.Builder
	old := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})))
	defer slog.SetDefault(old)

	c.Logger().With("op", "events").WithGroup("g").Warn("heard", "k", "v")
	c.Logger().Info("not heard")
	c.Logger().Debug("not heard either")
	assert.Contains(t, buf.String(), `level=WARN msg=heard op=events g.k=v`)
	assert.NotContains(t, buf.String(), "not heard")

	quiet, err := client.New(client.WithLogger(slog.New(slog.DiscardHandler)))
	require.NoError(t, err)
	quiet.Logger().Error("silenced")
	assert.NotContains(t, buf.String(), "silenced")
}
