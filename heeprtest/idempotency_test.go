package heeprtest_test

import (
	"bytes"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/heepr/heepr-go/heeprtest"
	"github.com/heepr/heepr-go/models"
)

// post sends a POST with an Idempotency-Key and returns what came back.
func post(t *testing.T, srv *heeprtest.Server, path, auth, key, contentType, body string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, base+path, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Authorization", auth)
	req.Header.Set("Content-Type", contentType)
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	res, err := srv.HTTPClient().Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	var b bytes.Buffer
	_, err = b.ReadFrom(res.Body)
	require.NoError(t, err)
	return res.StatusCode, b.Bytes()
}

// form is a multipart delivery with a fixed boundary, so that a test can
// send the same bytes twice, or the same parts under another boundary.
func form(t *testing.T, boundary, payload, fileData string) (string, string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	require.NoError(t, mw.SetBoundary(boundary))
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", `form-data; name="payload"`)
	h.Set("Content-Type", "application/json")
	w, err := mw.CreatePart(h)
	require.NoError(t, err)
	_, err = w.Write([]byte(payload))
	require.NoError(t, err)
	h = textproto.MIMEHeader{}
	h.Set("Content-Disposition", `form-data; name="files"; filename="work.txt"`)
	h.Set("Content-Type", "text/plain")
	w, err = mw.CreatePart(h)
	require.NoError(t, err)
	_, err = w.Write([]byte(fileData))
	require.NoError(t, err)
	require.NoError(t, mw.Close())
	return mw.FormDataContentType(), buf.String()
}

// An Idempotency-Key names one request. The same key with the same request
// replays the first answer; with another request (another operation, another
// order, other body bytes) it is a client's mistake, answered 422
// idempotency_key_reused with no effect, as Stripe and the IETF draft do.
func TestIdempotencyKeyReused(t *testing.T) {
	const jsonCT = "application/json"
	type call struct {
		path        string // {order} and {other} stand for the two orders' ids
		contentType string
		body        string
	}
	deliver := "/orders/{order}/deliver"
	tests := []struct {
		name        string
		first, then call
		wantStatus  int
		wantMsg     string // in the 422's message
	}{
		{
			name:       "same JSON request: replay",
			first:      call{deliver, jsonCT, `{"text":"the work"}`},
			then:       call{deliver, jsonCT, `{"text":"the work"}`},
			wantStatus: http.StatusAccepted,
		},
		{
			name:       "other text",
			first:      call{deliver, jsonCT, `{"text":"the work"}`},
			then:       call{deliver, jsonCT, `{"text":"other work"}`},
			wantStatus: http.StatusUnprocessableEntity, wantMsg: "body",
		},
		{
			name:       "same JSON value, other bytes",
			first:      call{deliver, jsonCT, `{"text":"the work"}`},
			then:       call{deliver, jsonCT, `{"text": "the work"}`},
			wantStatus: http.StatusUnprocessableEntity, wantMsg: "body",
		},
		{
			name:       "other order",
			first:      call{deliver, jsonCT, `{"text":"the work"}`},
			then:       call{"/orders/{other}/deliver", jsonCT, `{"text":"the work"}`},
			wantStatus: http.StatusUnprocessableEntity, wantMsg: "/orders/{other}/deliver",
		},
		{
			name:       "other operation",
			first:      call{deliver, jsonCT, `{"text":"the work"}`},
			then:       call{"/orders/{order}/decline", jsonCT, `{"reason":"capacity"}`},
			wantStatus: http.StatusUnprocessableEntity, wantMsg: "/orders/{order}/deliver",
		},
		{
			name:       "JSON, then multipart",
			first:      call{deliver, jsonCT, `{"text":"the work"}`},
			then:       call{deliver, "form:b1", `{"text":"the work"}|data`},
			wantStatus: http.StatusUnprocessableEntity, wantMsg: "body",
		},
		{
			name:       "same multipart bytes: replay",
			first:      call{deliver, "form:b1", `{"message":"m"}|data`},
			then:       call{deliver, "form:b1", `{"message":"m"}|data`},
			wantStatus: http.StatusAccepted,
		},
		{
			name:       "same multipart parts under another boundary: replay",
			first:      call{deliver, "form:b1", `{"message":"m"}|data`},
			then:       call{deliver, "form:b2", `{"message":"m"}|data`},
			wantStatus: http.StatusAccepted,
		},
		{
			name:       "multipart, other file bytes",
			first:      call{deliver, "form:b1", `{"message":"m"}|data`},
			then:       call{deliver, "form:b1", `{"message":"m"}|DATA`},
			wantStatus: http.StatusUnprocessableEntity, wantMsg: "body",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := heeprtest.NewServer()
			a := srv.AddAgent(heeprtest.Registered())
			order, other := srv.PlaceOrder(a.ID, models.Order{}), srv.PlaceOrder(a.ID, models.Order{})
			auth := "Bearer " + a.APIKey.Reveal()
			send := func(c call) (int, []byte) {
				path := strings.NewReplacer("{order}", order, "{other}", other).Replace(c.path)
				ct, body := c.contentType, c.body
				if b, ok := strings.CutPrefix(ct, "form:"); ok {
					payload, data, _ := strings.Cut(body, "|")
					ct, body = form(t, "boundary-"+b, payload, data)
				}
				return post(t, srv, path, auth, "the-key", ct, body)
			}

			status, first := send(tt.first)
			require.Equal(t, http.StatusAccepted, status, "%s", first)
			status, then := send(tt.then)
			if tt.wantStatus == http.StatusAccepted {
				assert.Equal(t, http.StatusAccepted, status, "%s", then)
				assert.JSONEq(t, string(first), string(then), "the first answer, replayed")
				reqs := srv.Requests()
				assert.True(t, reqs[len(reqs)-1].Replayed)
			} else {
				detail := envelope(t, status, then, tt.wantStatus, models.ErrorCodeIdempotencyKeyReused)
				assert.Contains(t, detail.Message, "the-key")
				assert.Contains(t, detail.Message, strings.NewReplacer("{order}", order, "{other}", other).Replace(tt.wantMsg))
				reqs := srv.Requests()
				assert.False(t, reqs[len(reqs)-1].Replayed)
			}
			assert.Len(t, srv.Deliveries(order), 1, "one effect")
			assert.Empty(t, srv.Deliveries(other))
			assert.Empty(t, srv.Declines(order))
			noViolations(t, srv)

			// The first request, sent again, still replays its answer.
			status, again := send(tt.first)
			assert.Equal(t, http.StatusAccepted, status)
			assert.JSONEq(t, string(first), string(again))
		})
	}
}

// Keys belong to their caller: two agents may use the same key for their own
// requests, and register is scoped by its bootstrap token.
func TestIdempotencyKeyIsPerCaller(t *testing.T) {
	srv := heeprtest.NewServer()
	a, b := srv.AddAgent(heeprtest.Registered()), srv.AddAgent(heeprtest.Registered())
	oa, ob := srv.PlaceOrder(a.ID, models.Order{}), srv.PlaceOrder(b.ID, models.Order{})
	status, body := post(t, srv, "/orders/"+oa+"/deliver", "Bearer "+a.APIKey.Reveal(), "k", "application/json", `{"text":"a"}`)
	require.Equal(t, http.StatusAccepted, status, "%s", body)
	status, body = post(t, srv, "/orders/"+ob+"/deliver", "Bearer "+b.APIKey.Reveal(), "k", "application/json", `{"text":"b"}`)
	assert.Equal(t, http.StatusAccepted, status, "%s", body)

	c := srv.AddAgent()
	reg := `{"agent_id":"` + c.ID + `"}`
	status, first := post(t, srv, "/agent/register", "Bootstrap "+c.BootstrapToken.Reveal(), "k", "application/json", reg)
	require.Equal(t, http.StatusOK, status, "%s", first)
	status, again := post(t, srv, "/agent/register", "bootstrap "+c.BootstrapToken.Reveal(), "k", "application/json", reg)
	assert.Equal(t, http.StatusOK, status, "the same token in another case is the same caller: a replay, %s", again)
	assert.JSONEq(t, string(first), string(again))
	noViolations(t, srv)
}
