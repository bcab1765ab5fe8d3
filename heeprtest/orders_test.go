package heeprtest_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/heepr/heepr-go/client/raw"
	"github.com/heepr/heepr-go/heeprtest"
	"github.com/heepr/heepr-go/models"
)

func key(k string) *string { return &k }

type part struct {
	name, contentType string
	data              []byte
}

// multipartBody builds a delivery as the spec says: a JSON payload part and
// one files part per file.
func multipartBody(t testing.TB, payload *models.DeliveryPayload, files ...part) (string, []byte) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	if payload != nil {
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", `form-data; name="payload"`)
		h.Set("Content-Type", "application/json")
		w, err := mw.CreatePart(h)
		require.NoError(t, err)
		require.NoError(t, json.NewEncoder(w).Encode(payload))
	}
	for _, f := range files {
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="files"; filename=%q`, f.name))
		h.Set("Content-Type", f.contentType)
		w, err := mw.CreatePart(h)
		require.NoError(t, err)
		_, err = w.Write(f.data)
		require.NoError(t, err)
	}
	require.NoError(t, mw.Close())
	return mw.FormDataContentType(), buf.Bytes()
}

func deliverJSON(t testing.TB, c *raw.ClientWithResponses, order, idem string, p models.DeliveryPayload) *raw.DeliverOrderResult {
	t.Helper()
	params := &raw.DeliverOrderParams{}
	if idem != "" {
		params.IdempotencyKey = key(idem)
	}
	res, err := c.DeliverOrderWithResponse(context.Background(), order, params, p)
	require.NoError(t, err)
	return res
}

func TestDeliverJSON(t *testing.T) {
	srv := heeprtest.NewServer()
	a, c := registered(t, srv)
	ord := srv.PlaceOrder(a.ID, models.Order{})

	res := deliverJSON(t, c, ord, "", models.DeliveryPayload{Message: "done", Text: "The sea, the sea.", Links: []string{"https://example.com/x"}})
	require.Equal(t, http.StatusAccepted, res.StatusCode(), "%s", res.Body)
	assert.Equal(t, "dlv_1", res.JSON202.ID)
	assert.Equal(t, models.DeliveryStatePendingReview, res.JSON202.State)

	ds := srv.Deliveries(ord)
	require.Len(t, ds, 1)
	assert.Equal(t, "The sea, the sea.", ds[0].Payload.Text)
	assert.False(t, ds[0].Multipart)
	o, _ := srv.Order(ord)
	assert.Equal(t, models.OrderStateDelivered, o.State)
	noViolations(t, srv)
}

func TestDeliverMultipart(t *testing.T) {
	srv := heeprtest.NewServer(heeprtest.WithMaxFileBytes(8))
	a, c := registered(t, srv)
	ord := srv.PlaceOrder(a.ID, models.Order{})

	png := append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{7}, 1000)...)
	txt := []byte("hello, sea\n")
	ct, body := multipartBody(t, &models.DeliveryPayload{Message: "two files"},
		part{"poem.txt", "text/plain; charset=utf-8", txt},
		part{"sea.png", "image/png", png})
	res, err := c.DeliverOrderWithBodyWithResponse(context.Background(), ord, &raw.DeliverOrderParams{}, ct, bytes.NewReader(body))
	require.NoError(t, err)
	require.Equal(t, http.StatusAccepted, res.StatusCode(), "%s", res.Body)

	sum := func(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }
	want := []models.DeliveredFile{
		{Name: "poem.txt", ContentType: "text/plain; charset=utf-8", Size: int64(len(txt)), SHA256: sum(txt)},
		{Name: "sea.png", ContentType: "image/png", Size: int64(len(png)), SHA256: sum(png)},
	}
	assert.Equal(t, want, res.JSON202.Files)

	ds := srv.Deliveries(ord)
	require.Len(t, ds, 1)
	assert.True(t, ds[0].Multipart)
	assert.Equal(t, "two files", ds[0].Payload.Message)
	require.Len(t, ds[0].Files, 2)
	assert.Equal(t, want[1], ds[0].Files[1].DeliveredFile)
	assert.Equal(t, png[:8], ds[0].Files[1].Data, "keeps WithMaxFileBytes of each file")
	noViolations(t, srv)
}

func TestDeliverRefusals(t *testing.T) {
	srv := heeprtest.NewServer()
	a, c := registered(t, srv)
	other, _ := registered(t, srv)
	mine := srv.PlaceOrder(a.ID, models.Order{})
	theirs := srv.PlaceOrder(other.ID, models.Order{})

	tests := []struct {
		name       string
		order      string
		payload    models.DeliveryPayload
		wantStatus int
		wantCode   models.ErrorCode
	}{
		{"empty delivery", mine, models.DeliveryPayload{}, http.StatusBadRequest, models.ErrorCodeInvalidRequest},
		{"unknown order", "ord_404", models.DeliveryPayload{Text: "x"}, http.StatusNotFound, models.ErrorCodeNotFound},
		{"another agent's order", theirs, models.DeliveryPayload{Text: "x"}, http.StatusForbidden, models.ErrorCodeForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := deliverJSON(t, c, tt.order, "", tt.payload)
			envelope(t, res.StatusCode(), res.Body, tt.wantStatus, tt.wantCode)
		})
	}
	assert.Empty(t, srv.Deliveries(mine))
	assert.Empty(t, srv.Deliveries(theirs))
	noViolations(t, srv)
}

func TestFlagParksOrder(t *testing.T) {
	srv := heeprtest.NewServer()
	a, c := registered(t, srv)
	ord := srv.PlaceOrder(a.ID, models.Order{Brief: "copy a logo"})
	ctx := context.Background()

	res, err := c.FlagOrderWithResponse(ctx, ord, &raw.FlagOrderParams{}, models.FlagRequest{Reason: models.FlagReasonPolicyViolation, Message: "counterfeit"})
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, res.StatusCode(), "%s", res.Body)
	assert.Equal(t, models.OrderStateFlagged, res.JSON200.State)
	o, _ := srv.Order(ord)
	assert.Equal(t, models.OrderStateFlagged, o.State)
	flags := srv.Flags(ord)
	require.Len(t, flags, 1)
	assert.Equal(t, models.FlagReasonPolicyViolation, flags[0].Reason)

	// A parked order takes no delivery, decline or second flag.
	d := deliverJSON(t, c, ord, "", models.DeliveryPayload{Text: "x"})
	envelope(t, d.StatusCode(), d.Body, http.StatusConflict, models.ErrorCodeConflict)
	dec, err := c.DeclineOrderWithResponse(ctx, ord, &raw.DeclineOrderParams{}, models.DeclineRequest{Reason: models.DeclineReasonOther})
	require.NoError(t, err)
	envelope(t, dec.StatusCode(), dec.Body, http.StatusConflict, models.ErrorCodeConflict)
	again, err := c.FlagOrderWithResponse(ctx, ord, &raw.FlagOrderParams{}, models.FlagRequest{Reason: models.FlagReasonIllegal})
	require.NoError(t, err)
	envelope(t, again.StatusCode(), again.Body, http.StatusConflict, models.ErrorCodeConflict)
	assert.Empty(t, srv.Deliveries(ord))
	noViolations(t, srv)
}

func TestDecline(t *testing.T) {
	srv := heeprtest.NewServer()
	a, c := registered(t, srv)
	ord := srv.PlaceOrder(a.ID, models.Order{})
	res, err := c.DeclineOrderWithResponse(context.Background(), ord, &raw.DeclineOrderParams{IdempotencyKey: key("k1")},
		models.DeclineRequest{Reason: models.DeclineReasonCapacity, Message: "busy"})
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, res.StatusCode(), "%s", res.Body)
	assert.Equal(t, models.OrderStateDeclined, res.JSON200.State)
	ds := srv.Declines(ord)
	require.Len(t, ds, 1)
	assert.Equal(t, models.DeclineReasonCapacity, ds[0].Reason)
	assert.Equal(t, "k1", ds[0].IdempotencyKey)
	assert.Empty(t, srv.RequestRevision(ord, "more"), "a declined order is over")
	require.Len(t, srv.Violations(), 1)
}

func TestStatusAndProgress(t *testing.T) {
	srv := heeprtest.NewServer()
	a, c := registered(t, srv)
	ord := srv.PlaceOrder(a.ID, models.Order{})
	ctx := context.Background()
	update := func(u models.StatusUpdate) *raw.UpdateStatusResult {
		res, err := c.UpdateStatusWithResponse(ctx, &raw.UpdateStatusParams{}, u)
		require.NoError(t, err)
		return res
	}

	res := update(models.StatusUpdate{Status: models.AgentStatusPaused})
	require.Equal(t, http.StatusOK, res.StatusCode(), "%s", res.Body)
	assert.Equal(t, models.AgentStatusPaused, res.JSON200.Status)
	res = update(models.StatusUpdate{OrderID: ord, Progress: &models.Progress{Percent: 0}})
	require.Equal(t, http.StatusOK, res.StatusCode(), "%s", res.Body)
	res = update(models.StatusUpdate{OrderID: ord, Progress: &models.Progress{Percent: 60, Message: "half"}})
	require.Equal(t, http.StatusOK, res.StatusCode(), "%s", res.Body)

	st := srv.Statuses(a.ID)
	require.Len(t, st, 1)
	assert.Equal(t, models.AgentStatusPaused, st[0].Status)
	pr := srv.Progress(ord)
	require.Len(t, pr, 2)
	assert.Equal(t, 0, pr[0].Percent, "0% is a report, not an absent one")
	assert.Equal(t, models.Progress{Percent: 60, Message: "half"}, pr[1].Progress)

	res = update(models.StatusUpdate{Progress: &models.Progress{Percent: 5}})
	envelope(t, res.StatusCode(), res.Body, http.StatusBadRequest, models.ErrorCodeInvalidRequest)
	noViolations(t, srv)
}

func TestManualAcceptance(t *testing.T) {
	srv := heeprtest.NewServer()
	a, c := registered(t, srv, heeprtest.ManualAcceptance())
	ord := srv.PlaceOrder(a.ID, models.Order{})
	o, _ := srv.Order(ord)
	assert.Equal(t, models.OrderStatePendingAcceptance, o.State)

	res := deliverJSON(t, c, ord, "", models.DeliveryPayload{Text: "too early"})
	envelope(t, res.StatusCode(), res.Body, http.StatusConflict, models.ErrorCodeConflict)

	require.NotEmpty(t, srv.ApproveOrder(ord, "go"))
	events, _ := poll(t, c)
	require.Len(t, events, 2)
	valueAs[models.OwnerApprovedOrderEvent](t, events[1])
	res = deliverJSON(t, c, ord, "", models.DeliveryPayload{Text: "now"})
	assert.Equal(t, http.StatusAccepted, res.StatusCode(), "%s", res.Body)

	denied := srv.PlaceOrder(a.ID, models.Order{})
	require.NotEmpty(t, srv.DenyOrder(denied, "not ours"))
	o, _ = srv.Order(denied)
	assert.Equal(t, models.OrderStateDenied, o.State)
	noViolations(t, srv)
}

func TestRevisionRequest(t *testing.T) {
	srv := heeprtest.NewServer()
	a, c := registered(t, srv)
	ord := srv.PlaceOrder(a.ID, models.Order{RevisionsAllowed: 1})
	poll(t, c)
	deliverJSON(t, c, ord, "", models.DeliveryPayload{Text: "v1"})
	srv.RequestRevision(ord, "make it rhyme")
	events, _ := poll(t, c)
	require.Len(t, events, 1)
	rr := valueAs[models.RevisionRequestEvent](t, events[0])
	assert.Equal(t, "make it rhyme", rr.Brief)
	assert.Equal(t, 1, rr.Revision)
	assert.Equal(t, 1, rr.RevisionsAllowed)
	res := deliverJSON(t, c, ord, "", models.DeliveryPayload{Text: "v2"})
	assert.Equal(t, http.StatusAccepted, res.StatusCode())
	assert.Len(t, srv.Deliveries(ord), 2)
	noViolations(t, srv)
}

func TestIdempotentReplay(t *testing.T) {
	srv := heeprtest.NewServer()
	a, c := registered(t, srv)
	ord := srv.PlaceOrder(a.ID, models.Order{})

	first := deliverJSON(t, c, ord, "idem-1", models.DeliveryPayload{Text: "once"})
	require.Equal(t, http.StatusAccepted, first.StatusCode())
	again := deliverJSON(t, c, ord, "idem-1", models.DeliveryPayload{Text: "once"})
	require.Equal(t, http.StatusAccepted, again.StatusCode())
	assert.Equal(t, first.JSON202, again.JSON202, "the first result, replayed")
	assert.Len(t, srv.Deliveries(ord), 1, "one effect")

	reqs := srv.Requests()
	assert.False(t, reqs[len(reqs)-2].Replayed)
	assert.True(t, reqs[len(reqs)-1].Replayed)

	other := deliverJSON(t, c, ord, "idem-2", models.DeliveryPayload{Text: "twice"})
	require.Equal(t, http.StatusAccepted, other.StatusCode())
	assert.Len(t, srv.Deliveries(ord), 2, "a new key is a new write")

	noViolations(t, srv)
}

func TestIdempotentReplayConcurrent(t *testing.T) {
	srv := heeprtest.NewServer()
	a, c := registered(t, srv)
	ord := srv.PlaceOrder(a.ID, models.Order{})
	var wg sync.WaitGroup
	ids := make([]string, 20)
	for i := range ids {
		wg.Go(func() {
			res := deliverJSON(t, c, ord, "same", models.DeliveryPayload{Text: "once"})
			if assert.Equal(t, http.StatusAccepted, res.StatusCode()) {
				ids[i] = res.JSON202.ID
			}
		})
	}
	wg.Wait()
	for _, id := range ids {
		assert.Equal(t, "dlv_1", id)
	}
	assert.Len(t, srv.Deliveries(ord), 1)
	noViolations(t, srv)
}

func TestAttachments(t *testing.T) {
	srv := heeprtest.NewServer()
	a, c := registered(t, srv)
	data := []byte("reference image bytes")
	att := srv.AddFile("ref.jpg", "image/jpeg", data)
	ord := srv.PlaceOrder(a.ID, models.Order{Attachments: []models.Attachment{att}})

	events, _ := poll(t, c)
	require.Len(t, events, 1)
	no := valueAs[models.NewOrderEvent](t, events[0])
	require.Len(t, no.Order.Attachments, 1)
	got := no.Order.Attachments[0]
	assert.Equal(t, "https://heepr.ai/files/att_1", got.URL, "absolute, on the host the client polled")
	assert.Equal(t, att.SHA256, got.SHA256)
	assert.Equal(t, ord, no.OrderID)

	get := func(auth string) (*http.Response, []byte) {
		req, err := http.NewRequest(http.MethodGet, got.URL, nil)
		require.NoError(t, err)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		res, err := srv.HTTPClient().Do(req)
		require.NoError(t, err)
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		require.NoError(t, err)
		return res, b
	}
	res, body := get("")
	envelope(t, res.StatusCode, body, http.StatusUnauthorized, models.ErrorCodeUnauthorized)

	bearer := srv.Requests()[1].Header.Get("Authorization") // the poll's
	require.Contains(t, bearer, "Bearer sk_live_")
	res, b := get(bearer)
	assert.Equal(t, http.StatusOK, res.StatusCode)
	assert.Equal(t, "image/jpeg", res.Header.Get("Content-Type"))
	assert.Equal(t, data, b)
	noViolations(t, srv)
}

// Orders and OrderEvents list what was placed and queued, in order; Reset
// forgets orders, logs and faults, keeps agents and their keys, and ids go
// on counting.
func TestOrdersEventsAndReset(t *testing.T) {
	srv := heeprtest.NewServer()
	a := srv.AddAgent(heeprtest.Registered(), heeprtest.ManualAcceptance())
	b := srv.AddAgent(heeprtest.AgentID("agt_desk"))
	assert.Equal(t, "agt_desk", b.ID)
	assert.Equal(t, heeprtest.Agent{}, srv.AddAgent(heeprtest.AgentID("agt_desk")), "an id taken")
	require.Len(t, srv.Violations(), 1)
	assert.Equal(t, "agt_2", srv.AddAgent().ID)
	assert.Equal(t, []string{a.ID, "agt_desk", "agt_2"}, srv.Agents())

	o1 := srv.PlaceOrder(a.ID, models.Order{})
	o2 := srv.PlaceOrder(b.ID, models.Order{})
	srv.ApproveOrder(o1, "ok")
	srv.RequestRevision(o1, "more")
	assert.Equal(t, []string{o1, o2}, srv.Orders())
	var kinds []models.EventKind
	for _, e := range srv.OrderEvents(o1) {
		kinds = append(kinds, e.Kind)
	}
	assert.Equal(t, []models.EventKind{models.EventKindNewOrder, models.EventKindOwnerApprovedOrder, models.EventKindRevisionRequest}, kinds)
	assert.Equal(t, "evt_1", srv.OrderEvents(o1)[0].ID)

	srv.Inject(heeprtest.Fault{Kind: heeprtest.FaultStatus})
	srv.Reset()
	assert.Empty(t, srv.Orders())
	assert.Empty(t, srv.Violations())
	_, ok := srv.Order(o1)
	assert.False(t, ok)
	assert.Equal(t, []string{a.ID, "agt_desk", "agt_2"}, srv.Agents())
	st, _ := srv.Agent(a.ID)
	assert.True(t, st.LiveKey, "keys stay")
	assert.Zero(t, st.Queued)
	assert.Equal(t, "ord_3", srv.PlaceOrder(a.ID, models.Order{}), "ids go on counting")
	assert.Empty(t, srv.FaultHits())
}
