package main

import (
	"bytes"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/heepr/heepr-go/heeprtest"
	"github.com/heepr/heepr-go/models"
)

// exchange is one request to the composed handler and what it answered.
type exchange struct {
	status int
	header http.Header
	body   []byte
}

// call sends a request to h from a loopback client, with auth if given.
func call(t *testing.T, h http.Handler, method, path, auth, body string) exchange {
	t.Helper()
	return callFrom(t, h, "127.0.0.1:50000", method, path, auth, body)
}

func callFrom(t *testing.T, h http.Handler, remote, method, path, auth, body string) exchange {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.RemoteAddr = remote
	req.Host = "127.0.0.1:8080"
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	b, err := io.ReadAll(rec.Result().Body)
	require.NoError(t, err)
	return exchange{rec.Code, rec.Result().Header, b}
}

// object decodes a JSON object answer and checks its members are exactly keys.
func object(t *testing.T, ex exchange, keys ...string) map[string]any {
	t.Helper()
	assert.Equal(t, "application/json", ex.header.Get("Content-Type"))
	var m map[string]any
	require.NoError(t, json.Unmarshal(ex.body, &m), "%s", ex.body)
	var got []string
	for k := range m {
		got = append(got, k)
	}
	assert.ElementsMatch(t, keys, got, "the members of %s", ex.body)
	return m
}

// refusal checks an answer in the error envelope.
func refusal(t *testing.T, ex exchange, wantStatus int, wantCode models.ErrorCode, wantMsg string) {
	t.Helper()
	assert.Equal(t, wantStatus, ex.status, "%s", ex.body)
	var env models.ErrorEnvelope
	require.NoError(t, json.Unmarshal(ex.body, &env), "not the envelope: %s", ex.body)
	assert.Equal(t, wantCode, env.Error.Code, env.Error.Message)
	assert.Contains(t, env.Error.Message, wantMsg)
}

// register registers the agent through the fake's API.
func register(t *testing.T, h http.Handler, agentID, token string) exchange {
	t.Helper()
	return call(t, h, http.MethodPost, "/api/agent/register", "Bootstrap "+token, `{"agent_id":"`+agentID+`"}`)
}

// The agent routes make, at runtime, the states the SDK must handle: a
// second register answering active_key_exists, a redeemed token answering
// bootstrap_used, a revoked and an expired key.
func TestControlAgents(t *testing.T) {
	tests := []struct {
		name string
		run  func(t *testing.T, srv *heeprtest.Server, h http.Handler, a heeprtest.Agent)
	}{
		{"a fresh token while a key is live answers active_key_exists", func(t *testing.T, srv *heeprtest.Server, h http.Handler, a heeprtest.Agent) {
			ex := call(t, h, http.MethodPost, "/_fake/agents/"+a.ID+"/token", "", "")
			require.Equal(t, http.StatusCreated, ex.status, "%s", ex.body)
			m := object(t, ex, "agent_id", "bootstrap_token")
			assert.Equal(t, a.ID, m["agent_id"])
			token, _ := m["bootstrap_token"].(string)
			assert.Regexp(t, `^bs_[0-9a-f]{32}$`, token)

			refusal(t, register(t, h, a.ID, token), http.StatusConflict, models.ErrorCodeActiveKeyExists, a.ID)
			st, _ := srv.Agent(a.ID)
			assert.True(t, st.LiveKey, "the live key stays")
		}},
		{"a redeemed token answers bootstrap_used", func(t *testing.T, _ *heeprtest.Server, h http.Handler, a heeprtest.Agent) {
			refusal(t, register(t, h, a.ID, a.BootstrapToken.Reveal()), http.StatusUnauthorized, models.ErrorCodeBootstrapUsed, "redeemed")
		}},
		{"revoke", func(t *testing.T, srv *heeprtest.Server, h http.Handler, a heeprtest.Agent) {
			ex := call(t, h, http.MethodPost, "/_fake/agents/"+a.ID+"/revoke", "", "")
			require.Equal(t, http.StatusOK, ex.status, "%s", ex.body)
			assert.Equal(t, map[string]any{"agent_id": a.ID, "key_state": "revoked"}, object(t, ex, "agent_id", "key_state"))
			refusal(t, call(t, h, http.MethodGet, "/api/events", "Bearer "+a.APIKey.Reveal(), ""), http.StatusUnauthorized, models.ErrorCodeKeyRevoked, "revoked")

			refusal(t, call(t, h, http.MethodPost, "/_fake/agents/"+a.ID+"/revoke", "", ""), http.StatusConflict, models.ErrorCodeConflict, "no live key")

			// With the key gone, a fresh token registers.
			ex = call(t, h, http.MethodPost, "/_fake/agents/"+a.ID+"/token", "", "")
			require.Equal(t, http.StatusCreated, ex.status)
			token, _ := object(t, ex, "agent_id", "bootstrap_token")["bootstrap_token"].(string)
			assert.Equal(t, http.StatusOK, register(t, h, a.ID, token).status)
		}},
		{"expire", func(t *testing.T, srv *heeprtest.Server, h http.Handler, a heeprtest.Agent) {
			ex := call(t, h, http.MethodPost, "/_fake/agents/"+a.ID+"/expire", "", "")
			require.Equal(t, http.StatusOK, ex.status, "%s", ex.body)
			assert.Equal(t, map[string]any{"agent_id": a.ID, "key_state": "expired"}, object(t, ex, "agent_id", "key_state"))
			refusal(t, call(t, h, http.MethodGet, "/api/skill", "Bearer "+a.APIKey.Reveal(), ""), http.StatusUnauthorized, models.ErrorCodeKeyExpired, "expired")
			st, _ := srv.Agent(a.ID)
			assert.False(t, st.LiveKey)
		}},
		{"unknown agent", func(t *testing.T, _ *heeprtest.Server, h http.Handler, _ heeprtest.Agent) {
			for _, action := range []string{"token", "revoke", "expire"} {
				refusal(t, call(t, h, http.MethodPost, "/_fake/agents/agt_404/"+action, "", ""), http.StatusNotFound, models.ErrorCodeNotFound, "agt_404")
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := heeprtest.NewServer()
			h := newHandler(srv, false)
			a := srv.AddAgent(heeprtest.Registered())
			tt.run(t, srv, h, a)
			assert.Empty(t, srv.Violations(), "the control API is not validated against the spec")
			for _, r := range srv.Requests() {
				assert.True(t, strings.HasPrefix(r.Path, heeprtest.BasePath+"/"), "only the API's requests are logged: %s", r.Path)
			}
		})
	}
}

// POST /_fake/orders places an order and queues its new_order: the contract
// that tests outside this repository use.
func TestControlOrders(t *testing.T) {
	deadline := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		name string
		body string // {agent} stands for the agent's id
		want models.Order
	}{
		{
			name: "agent and brief",
			body: `{"agent_id":"{agent}","brief":"a haiku about tests"}`,
			want: models.Order{Brief: "a haiku about tests", Tier: "standard", Price: models.Price{Amount: 100, Currency: "points"}},
		},
		{
			name: "every optional field",
			body: `{"agent_id":"{agent}","brief":"b","scope":"two haiku","tier":"premium","price":250,"deadline":"2030-01-02T03:04:05Z"}`,
			want: models.Order{Brief: "b", Scope: "two haiku", Tier: "premium", Price: models.Price{Amount: 250, Currency: "points"}, Deadline: deadline},
		},
		{
			name: "price as the spec's object",
			body: `{"agent_id":"{agent}","brief":"b","price":{"amount":7,"currency":"EUR"}}`,
			want: models.Order{Brief: "b", Tier: "standard", Price: models.Price{Amount: 7, Currency: "EUR"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := heeprtest.NewServer()
			h := newHandler(srv, false)
			a := srv.AddAgent(heeprtest.Registered())
			ex := call(t, h, http.MethodPost, "/_fake/orders", "", strings.ReplaceAll(tt.body, "{agent}", a.ID))
			require.Equal(t, http.StatusCreated, ex.status, "%s", ex.body)
			placed := object(t, ex, "order_id", "event_id")
			id, _ := placed["order_id"].(string)
			require.NotEmpty(t, id)

			o, ok := srv.Order(id)
			require.True(t, ok)
			assert.Equal(t, tt.want.Brief, o.Brief)
			assert.Equal(t, tt.want.Tier, o.Tier)
			assert.Equal(t, tt.want.Price, o.Price)
			assert.NotEmpty(t, o.Scope)
			if tt.want.Scope != "" {
				assert.Equal(t, tt.want.Scope, o.Scope)
			}
			if !tt.want.Deadline.IsZero() {
				assert.True(t, tt.want.Deadline.Equal(o.Deadline), "deadline %s", o.Deadline)
			} else {
				assert.True(t, o.Deadline.After(time.Now()), "a deadline in the future")
			}

			poll := call(t, h, http.MethodGet, "/api/events", "Bearer "+a.APIKey.Reveal(), "")
			require.Equal(t, http.StatusOK, poll.status, "%s", poll.body)
			var batch models.EventBatch
			require.NoError(t, json.Unmarshal(poll.body, &batch))
			require.Len(t, batch.Events, 1)
			no := valueAs[models.NewOrderEvent](t, batch.Events[0])
			assert.Equal(t, models.EventKindNewOrder, no.Kind)
			assert.Equal(t, id, no.Order.ID)
			assert.Equal(t, tt.want.Brief, no.Order.Brief)
			assert.Equal(t, placed["event_id"], no.ID, "the answer names the event queued")
			assert.Empty(t, srv.Violations())
		})
	}
}

// What is wrong with a control request is said in the error envelope.
func TestControlRefusals(t *testing.T) {
	srv := heeprtest.NewServer()
	h := newHandler(srv, false)
	a := srv.AddAgent()
	tests := []struct {
		name, method, path, body string
		wantStatus               int
		wantCode                 models.ErrorCode
		wantMsg                  string
		wantAllow                string
	}{
		{"order without agent", http.MethodPost, "/_fake/orders", `{"brief":"b"}`, http.StatusBadRequest, models.ErrorCodeInvalidRequest, "agent_id", ""},
		{"order for an unknown agent", http.MethodPost, "/_fake/orders", `{"agent_id":"agt_404","brief":"b"}`, http.StatusNotFound, models.ErrorCodeNotFound, "agt_404", ""},
		{"order that is not JSON", http.MethodPost, "/_fake/orders", `agent_id=agt_1`, http.StatusBadRequest, models.ErrorCodeInvalidRequest, "JSON", ""},
		{"order with an unknown field", http.MethodPost, "/_fake/orders", `{"agent_id":"` + a.ID + `","brief":"b","breif":"b"}`, http.StatusBadRequest, models.ErrorCodeInvalidRequest, "breif", ""},
		{"order with a bad deadline", http.MethodPost, "/_fake/orders", `{"agent_id":"` + a.ID + `","deadline":"tomorrow"}`, http.StatusBadRequest, models.ErrorCodeInvalidRequest, "deadline", ""},
		{"order with a negative price", http.MethodPost, "/_fake/orders", `{"agent_id":"` + a.ID + `","price":-1}`, http.StatusBadRequest, models.ErrorCodeInvalidRequest, "price", ""},
		{"order with a price of another shape", http.MethodPost, "/_fake/orders", `{"agent_id":"` + a.ID + `","price":"ten"}`, http.StatusBadRequest, models.ErrorCodeInvalidRequest, "price", ""},
		{"deliveries of an unknown order", http.MethodGet, "/_fake/deliveries?order_id=ord_404", "", http.StatusNotFound, models.ErrorCodeNotFound, "ord_404", ""},
		{"orders read with GET", http.MethodGet, "/_fake/orders", "", http.StatusMethodNotAllowed, models.ErrorCodeMethodNotAllowed, "POST", "POST"},
		{"token read with GET", http.MethodGet, "/_fake/agents/" + a.ID + "/token", "", http.StatusMethodNotAllowed, models.ErrorCodeMethodNotAllowed, "POST", "POST"},
		{"deliveries posted", http.MethodPost, "/_fake/deliveries", "{}", http.StatusMethodNotAllowed, models.ErrorCodeMethodNotAllowed, "GET", "GET, HEAD"},
		{"reset read with GET", http.MethodGet, "/_fake/reset", "", http.StatusMethodNotAllowed, models.ErrorCodeMethodNotAllowed, "POST", "POST"},
		{"faults read with GET", http.MethodGet, "/_fake/faults", "", http.StatusMethodNotAllowed, models.ErrorCodeMethodNotAllowed, "POST, DELETE", "POST, DELETE"},
		{"cadence posted", http.MethodPost, "/_fake/agents/" + a.ID + "/cadence", "{}", http.StatusMethodNotAllowed, models.ErrorCodeMethodNotAllowed, "PUT", "PUT"},
		{"a skill file read", http.MethodGet, "/_fake/skill/SKILL.md", "", http.StatusMethodNotAllowed, models.ErrorCodeMethodNotAllowed, "PUT", "PUT"},
		{"a body over the cap", http.MethodPost, "/_fake/faults", `{"op":"` + strings.Repeat("x", maxControlBody) + `"}`, http.StatusRequestEntityTooLarge, models.ErrorCodeInvalidRequest, "over", ""},
		{"no such route", http.MethodGet, "/_fake/nope", "", http.StatusNotFound, models.ErrorCodeNotFound, "/_fake/nope", ""},
		{"no such agent action", http.MethodPost, "/_fake/agents/" + a.ID + "/delete", "", http.StatusNotFound, models.ErrorCodeNotFound, "/_fake/", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ex := call(t, h, tt.method, tt.path, "", tt.body)
			refusal(t, ex, tt.wantStatus, tt.wantCode, tt.wantMsg)
			assert.Equal(t, tt.wantAllow, ex.header.Get("Allow"))
		})
	}
	assert.Empty(t, srv.Violations(), "control refusals are not the API's violations")
	assert.Empty(t, srv.Requests())
}

// GET /_fake/deliveries lists what the fake received for an order, in the
// contract's shape: an empty list (not null) when none, and each file's name,
// size and SHA-256.
func TestControlDeliveries(t *testing.T) {
	srv := heeprtest.NewServer()
	h := newHandler(srv, false)
	a := srv.AddAgent(heeprtest.Registered())
	order := srv.PlaceOrder(a.ID, models.Order{})

	ex := call(t, h, http.MethodGet, "/_fake/deliveries?order_id="+order, "", "")
	require.Equal(t, http.StatusOK, ex.status, "%s", ex.body)
	assert.JSONEq(t, `{"deliveries":[]}`, string(ex.body))

	d := call(t, h, http.MethodPost, "/api/orders/"+order+"/deliver", "Bearer "+a.APIKey.Reveal(), `{"text":"the work"}`)
	require.Equal(t, http.StatusAccepted, d.status, "%s", d.body)
	data := []byte("file bytes")
	c := srv.HTTPClient()
	body, ct := multipartDelivery(t, "notes.txt", data)
	req, err := http.NewRequest(http.MethodPost, "http://fake/api/orders/"+order+"/deliver", body)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+a.APIKey.Reveal())
	req.Header.Set("Content-Type", ct)
	res, err := c.Do(req)
	require.NoError(t, err)
	res.Body.Close()
	require.Equal(t, http.StatusAccepted, res.StatusCode)

	ex = call(t, h, http.MethodGet, "/_fake/deliveries?order_id="+order, "", "")
	require.Equal(t, http.StatusOK, ex.status, "%s", ex.body)
	// The contract's fields, as tests outside this repository read them.
	var got struct {
		Deliveries []struct {
			ID      string `json:"id"`
			OrderID string `json:"order_id"`
			Text    string `json:"text"`
			Files   []struct {
				Name, SHA256, URL string
				Size              int64
			} `json:"files"`
		} `json:"deliveries"`
	}
	require.NoError(t, json.Unmarshal(ex.body, &got))
	require.Len(t, got.Deliveries, 2)
	assert.Equal(t, "dlv_1", got.Deliveries[0].ID)
	assert.Equal(t, order, got.Deliveries[0].OrderID)
	assert.Equal(t, "the work", got.Deliveries[0].Text)
	assert.NotNil(t, got.Deliveries[0].Files, "[] rather than null")
	assert.Empty(t, got.Deliveries[0].Files)
	require.Len(t, got.Deliveries[1].Files, 1)
	f := got.Deliveries[1].Files[0]
	assert.Equal(t, "notes.txt", f.Name)
	assert.Equal(t, int64(10), f.Size)
	assert.Equal(t, sha256Hex(data), f.SHA256)
	assert.Equal(t, "http://127.0.0.1:8080/_fake/deliveries/dlv_2/files/notes.txt", f.URL)
	assert.Contains(t, string(ex.body), `"files":[]`)
	assert.Empty(t, srv.Violations())
}

// The control API can mint tokens and revoke keys, so it answers loopback
// clients only, unless heepr-fake was started with -control-remote.
func TestControlIsLoopbackOnly(t *testing.T) {
	tests := []struct {
		name       string
		remote     string
		open       bool
		wantStatus int
	}{
		{"IPv4 loopback", "127.0.0.1:40000", false, http.StatusCreated},
		{"IPv6 loopback", "[::1]:40000", false, http.StatusCreated},
		{"another host", "203.0.113.7:40000", false, http.StatusForbidden},
		{"another host, opened by the flag", "203.0.113.7:40000", true, http.StatusCreated},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := heeprtest.NewServer()
			a := srv.AddAgent()
			ex := callFrom(t, newHandler(srv, tt.open), tt.remote, http.MethodPost, "/_fake/agents/"+a.ID+"/token", "", "")
			assert.Equal(t, tt.wantStatus, ex.status, "%s", ex.body)
			if tt.wantStatus == http.StatusForbidden {
				refusal(t, ex, http.StatusForbidden, models.ErrorCodeForbidden, "-control-remote")
			}
			// The API itself answers any client.
			spec := callFrom(t, newHandler(srv, tt.open), tt.remote, http.MethodGet, "/api/openapi.yaml", "", "")
			assert.Equal(t, http.StatusOK, spec.status)
		})
	}
}

// TestControlRefusesOtherSites: the control API is unauthenticated, so a web
// page the developer has open must not drive it. A browser marks a request
// from another site (Sec-Fetch-Site, Origin), which is refused; a DNS name
// rebound to 127.0.0.1 shows in Host, which a loopback-only fake refuses.
// curl and the commands send none of these and pass.
func TestControlRefusesOtherSites(t *testing.T) {
	tests := []struct {
		name       string
		host       string
		header     map[string]string
		open       bool
		wantStatus int
		wantMsg    string
	}{
		{"curl", "127.0.0.1:8080", nil, false, http.StatusCreated, ""},
		{"curl by name", "localhost:8080", nil, false, http.StatusCreated, ""},
		{"the dashboard", "127.0.0.1:8080", map[string]string{"Sec-Fetch-Site": "same-origin", "Origin": "http://127.0.0.1:8080"}, false, http.StatusCreated, ""},
		{"another site's page", "127.0.0.1:8080", map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"}, false, http.StatusForbidden, "another site"},
		{"another origin, older browser", "127.0.0.1:8080", map[string]string{"Origin": "https://evil.example"}, false, http.StatusForbidden, "another site"},
		{"a name rebound to 127.0.0.1", "evil.example:8080", map[string]string{"Sec-Fetch-Site": "same-origin", "Origin": "http://evil.example:8080"}, false, http.StatusForbidden, "evil.example"},
		{"a name, opened by the flag", "fake.lan:8080", nil, true, http.StatusCreated, ""},
		{"another site's page, opened by the flag", "fake.lan:8080", map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"}, true, http.StatusForbidden, "another site"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := heeprtest.NewServer()
			a := srv.AddAgent()
			req := httptest.NewRequest(http.MethodPost, "/_fake/agents/"+a.ID+"/token", nil)
			req.RemoteAddr = "127.0.0.1:40000"
			req.Host = tt.host
			for k, v := range tt.header {
				req.Header.Set(k, v)
			}
			rec := httptest.NewRecorder()
			newHandler(srv, tt.open).ServeHTTP(rec, req)
			ex := exchange{rec.Code, rec.Result().Header, rec.Body.Bytes()}
			assert.Equal(t, tt.wantStatus, ex.status, "%s", ex.body)
			if tt.wantStatus == http.StatusForbidden {
				refusal(t, ex, http.StatusForbidden, models.ErrorCodeForbidden, tt.wantMsg)
			}
		})
	}
}

// multipartDelivery is a multipart delivery of one file.
func multipartDelivery(t *testing.T, name string, data []byte) (io.Reader, string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", `form-data; name="files"; filename="`+name+`"`)
	h.Set("Content-Type", "text/plain")
	w, err := mw.CreatePart(h)
	require.NoError(t, err)
	_, err = w.Write(data)
	require.NoError(t, err)
	require.NoError(t, mw.Close())
	return &buf, mw.FormDataContentType()
}

// valueAs reads ev as its kind and requires that kind to be T's.
func valueAs[T models.EventVariant](t testing.TB, ev models.Event) T {
	t.Helper()
	v, err := ev.Value()
	require.NoError(t, err)
	got, ok := v.(T)
	require.Truef(t, ok, "the event is a %T, not a %T", v, got)
	return got
}
