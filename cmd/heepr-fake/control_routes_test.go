package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/heepr/heepr-go/heeprtest"
	"github.com/heepr/heepr-go/models"
)

// desk is a fake served on a real loopback socket, as heepr-fake serves it,
// with the fake itself at hand to assert what it holds afterwards.
type desk struct {
	t   *testing.T
	srv *heeprtest.Server
	url string
}

func newDesk(t *testing.T, opts ...heeprtest.Option) *desk {
	t.Helper()
	srv := heeprtest.NewServer(opts...)
	ts := httptest.NewServer(newHandler(srv, false))
	t.Cleanup(func() {
		ts.Close()
		srv.Close()
	})
	return &desk{t: t, srv: srv, url: ts.URL}
}

// do sends a request to the desk; a string or []byte body goes as is, with ct.
func (d *desk) do(method, path, auth, ct string, body io.Reader) exchange {
	d.t.Helper()
	req, err := http.NewRequest(method, d.url+path, body)
	require.NoError(d.t, err)
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	res, err := http.DefaultClient.Do(req)
	require.NoError(d.t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(d.t, err)
	return exchange{res.StatusCode, res.Header, b}
}

// json sends a JSON body ("" for none) to a control route.
func (d *desk) json(method, path, body string) exchange {
	d.t.Helper()
	if body == "" {
		return d.do(method, path, "", "", nil)
	}
	return d.do(method, path, "", "application/json", strings.NewReader(body))
}

// api calls the fake's API as the agent with key.
func (d *desk) api(method, path string, key models.APIKey, body string) exchange {
	d.t.Helper()
	var r io.Reader
	ct := ""
	if body != "" {
		r, ct = strings.NewReader(body), "application/json"
	}
	return d.do(method, "/api"+path, "Bearer "+key.Reveal(), ct, r)
}

// clean asserts the fake's own spec validation saw nothing wrong.
func (d *desk) clean() {
	d.t.Helper()
	assert.Empty(d.t, d.srv.Violations(), "the control API never records a violation, and the fake's answers keep to the spec")
}

func field[T any](t *testing.T, ex exchange, name string) T {
	t.Helper()
	var m map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(ex.body, &m), "%s", ex.body)
	var v T
	require.NoError(t, json.Unmarshal(m[name], &v), "%s in %s", name, ex.body)
	return v
}

func TestControlAddAgent(t *testing.T) {
	d := newDesk(t)
	ex := d.json(http.MethodPost, "/_fake/agents", "")
	require.Equal(t, http.StatusCreated, ex.status, "%s", ex.body)
	m := object(t, ex, "agent_id", "bootstrap_token")
	assert.Equal(t, "agt_1", m["agent_id"])
	token, _ := m["bootstrap_token"].(string)
	assert.Equal(t, http.StatusOK, d.do(http.MethodPost, "/api/agent/register", "Bootstrap "+token, "application/json", strings.NewReader(`{"agent_id":"agt_1"}`)).status, "the token registers")

	ex = d.json(http.MethodPost, "/_fake/agents", `{"agent_id":"agt_desk","cadence_minutes":5,"manual_acceptance":true}`)
	require.Equal(t, http.StatusCreated, ex.status, "%s", ex.body)
	st, ok := d.srv.Agent("agt_desk")
	require.True(t, ok)
	assert.Equal(t, 5, st.Cadence)
	assert.True(t, st.ManualAcceptance)

	for _, tt := range []struct {
		body   string
		status int
		msg    string
	}{
		{`{"agent_id":"agt_desk"}`, http.StatusConflict, "agt_desk exists"},
		{`{"agent_id":"agt/../x"}`, http.StatusBadRequest, "agent_id"},
		{`{"cadence_minutes":0}`, http.StatusBadRequest, "1 to 60"},
		{`{"cadence_minutes":61}`, http.StatusBadRequest, "1 to 60"},
		{`{"cadnce_minutes":5}`, http.StatusBadRequest, "cadnce_minutes"},
	} {
		ex := d.json(http.MethodPost, "/_fake/agents", tt.body)
		refusal(t, ex, tt.status, map[int]models.ErrorCode{http.StatusConflict: models.ErrorCodeConflict, http.StatusBadRequest: models.ErrorCodeInvalidRequest}[tt.status], tt.msg)
	}
	assert.Equal(t, []string{"agt_1", "agt_desk"}, d.srv.Agents())
	d.clean()
}

func TestControlCadence(t *testing.T) {
	d := newDesk(t)
	a := d.srv.AddAgent(heeprtest.Registered())
	ex := d.json(http.MethodPut, "/_fake/agents/"+a.ID+"/cadence", `{"minutes": 3}`)
	require.Equal(t, http.StatusOK, ex.status, "%s", ex.body)
	assert.Equal(t, map[string]any{"agent_id": a.ID, "cadence_minutes": 3.0}, object(t, ex, "agent_id", "cadence_minutes"))
	st, _ := d.srv.Agent(a.ID)
	assert.Equal(t, 3, st.Cadence)
	manifest := d.api(http.MethodGet, "/agents/"+a.ID+"/skill/skill.json", a.APIKey, "")
	assert.Contains(t, string(manifest.body), `"poll_interval_minutes":3`)

	refusal(t, d.json(http.MethodPut, "/_fake/agents/"+a.ID+"/cadence", `{"minutes": 0}`), http.StatusBadRequest, models.ErrorCodeInvalidRequest, "1 to 60")
	refusal(t, d.json(http.MethodPut, "/_fake/agents/"+a.ID+"/cadence", `{}`), http.StatusBadRequest, models.ErrorCodeInvalidRequest, "minutes is required")
	refusal(t, d.json(http.MethodPut, "/_fake/agents/agt_404/cadence", `{"minutes": 3}`), http.StatusNotFound, models.ErrorCodeNotFound, "agt_404")
	d.clean()
}

func TestControlSkill(t *testing.T) {
	d := newDesk(t)
	a := d.srv.AddAgent(heeprtest.Registered())
	before := field[string](t, d.api(http.MethodGet, "/skill", a.APIKey, ""), "content_hash")

	body := "# SKILL\n\nA new step.\n"
	ex := d.do(http.MethodPut, "/_fake/skill/SKILL.md", "", "text/markdown", strings.NewReader(body))
	require.Equal(t, http.StatusOK, ex.status, "%s", ex.body)
	assert.Equal(t, map[string]any{"file": "SKILL.md", "content_hash": sha256Hex([]byte(body))}, object(t, ex, "file", "content_hash"))

	skill := d.api(http.MethodGet, "/skill", a.APIKey, "")
	assert.Equal(t, body, field[string](t, skill, "body"))
	assert.NotEqual(t, before, field[string](t, skill, "content_hash"), "every agent's package hash changes")
	rules := d.do(http.MethodPut, "/_fake/skill/RULES.md", "", "", strings.NewReader("# RULES\n\nBe kind.\n"))
	assert.Equal(t, http.StatusOK, rules.status)
	assert.Equal(t, "# RULES\n\nBe kind.\n", string(d.api(http.MethodGet, "/agents/"+a.ID+"/skill/RULES.md", a.APIKey, "").body))

	refusal(t, d.do(http.MethodPut, "/_fake/skill/skill.json", "", "", strings.NewReader("{}")), http.StatusBadRequest, models.ErrorCodeInvalidRequest, "cadence")
	refusal(t, d.do(http.MethodPut, "/_fake/skill/NOTES.md", "", "", strings.NewReader("x")), http.StatusNotFound, models.ErrorCodeNotFound, "NOTES.md")
	d.clean()
}

// Attachments arrive in base64, from a path on the fake's machine, or
// uploaded in a multipart order; the agent downloads each from the fake.
func TestControlOrderAttachments(t *testing.T) {
	d := newDesk(t)
	a := d.srv.AddAgent(heeprtest.Registered())
	dir := t.TempDir()
	onDisk := filepath.Join(dir, "brief.txt")
	require.NoError(t, os.WriteFile(onDisk, []byte("from disk"), 0o600))

	check := func(ex exchange, want map[string]string) string {
		t.Helper()
		require.Equal(t, http.StatusCreated, ex.status, "%s", ex.body)
		m := object(t, ex, "order_id", "event_id", "attachments")
		id, _ := m["order_id"].(string)
		o, ok := d.srv.Order(id)
		require.True(t, ok)
		require.Len(t, o.Attachments, len(want))
		atts := field[[]attachmentAnswer](t, ex, "attachments")
		for i, att := range o.Attachments {
			data, ok := want[att.Name]
			require.True(t, ok, att.Name)
			assert.Equal(t, sha256Hex([]byte(data)), att.SHA256)
			assert.Equal(t, att.ID, atts[i].ID)
			assert.Equal(t, int64(len(data)), atts[i].Size)
			got := d.do(http.MethodGet, strings.TrimPrefix(atts[i].URL, d.url), "Bearer "+a.APIKey.Reveal(), "", nil)
			assert.Equal(t, http.StatusOK, got.status)
			assert.Equal(t, data, string(got.body), "the agent downloads %s", att.Name)
		}
		return id
	}

	js := `{"agent_id":"` + a.ID + `","brief":"b","revisions_allowed":2,"attachments":[
		{"name":"notes.md","content_type":"text/markdown","data_base64":"` + base64.StdEncoding.EncodeToString([]byte("# notes")) + `"},
		{"path":"` + onDisk + `"}]}`
	id := check(d.json(http.MethodPost, "/_fake/orders", js), map[string]string{"notes.md": "# notes", "brief.txt": "from disk"})
	o, _ := d.srv.Order(id)
	assert.Equal(t, 2, o.RevisionsAllowed)

	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	require.NoError(t, mw.WriteField("order", `{"agent_id":"`+a.ID+`","brief":"see the picture"}`))
	w, err := mw.CreateFormFile("file", "sea.svg")
	require.NoError(t, err)
	_, _ = w.Write([]byte("<svg/>"))
	require.NoError(t, mw.Close())
	id = check(d.do(http.MethodPost, "/_fake/orders", "", mw.FormDataContentType(), &buf), map[string]string{"sea.svg": "<svg/>"})
	o, _ = d.srv.Order(id)
	assert.Equal(t, "see the picture", o.Brief)
	assert.Equal(t, "image/svg+xml", o.Attachments[0].ContentType)

	// The agent polls both orders' new_order events, attachments included,
	// and the spec's validation finds nothing wrong with them.
	poll := d.api(http.MethodGet, "/events", a.APIKey, "")
	require.Equal(t, http.StatusOK, poll.status)
	assert.Contains(t, string(poll.body), `"name":"sea.svg"`)

	for _, tt := range []struct{ name, body, msg string }{
		{"no such path", `{"agent_id":"` + a.ID + `","attachments":[{"path":"` + filepath.Join(dir, "nope") + `"}]}`, "nope"},
		{"both", `{"agent_id":"` + a.ID + `","attachments":[{"name":"x","data_base64":"eA==","path":"` + onDisk + `"}]}`, "not both"},
		{"bad base64", `{"agent_id":"` + a.ID + `","attachments":[{"name":"x","data_base64":"%%"}]}`, "data_base64"},
		{"no name", `{"agent_id":"` + a.ID + `","attachments":[{"data_base64":"eA=="}]}`, "name"},
		{"negative revisions", `{"agent_id":"` + a.ID + `","revisions_allowed":-1}`, "revisions_allowed"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			refusal(t, d.json(http.MethodPost, "/_fake/orders", tt.body), http.StatusBadRequest, models.ErrorCodeInvalidRequest, tt.msg)
		})
	}
	var empty bytes.Buffer
	mw = multipart.NewWriter(&empty)
	require.NoError(t, mw.Close())
	refusal(t, d.do(http.MethodPost, "/_fake/orders", "", mw.FormDataContentType(), &empty), http.StatusBadRequest, models.ErrorCodeInvalidRequest, `no "order" part`)

	// A client on another machine (with -control-remote) may upload, never
	// read the fake's disk.
	ex := callFrom(t, newHandler(d.srv, true), "203.0.113.7:4000", http.MethodPost, "/_fake/orders", "", `{"agent_id":"`+a.ID+`","attachments":[{"path":"`+onDisk+`"}]}`)
	refusal(t, ex, http.StatusBadRequest, models.ErrorCodeInvalidRequest, "fake's own disk")
	d.clean()
}

// Revision, approve, deny and scope queue their events, and refuse what the
// platform would not do, with no violation recorded.
func TestControlOwnerActions(t *testing.T) {
	d := newDesk(t)
	a := d.srv.AddAgent(heeprtest.Registered(), heeprtest.ManualAcceptance())
	order := d.srv.PlaceOrder(a.ID, models.Order{})
	other := d.srv.PlaceOrder(a.ID, models.Order{})
	base := "/_fake/orders/" + order

	steps := []struct {
		path, body string
		kind       models.EventKind
	}{
		{base + "/approve", `{"note":"go"}`, models.EventKindOwnerApprovedOrder},
		{base + "/approve", ``, ""}, // no longer pending
		{base + "/revision", `{"brief":"stormier"}`, models.EventKindRevisionRequest},
		{base + "/scope", `{"scope":"two haiku","deadline":"2030-01-02T03:04:05Z"}`, models.EventKindScopeChange},
		{base + "/deny", `{"note":"no"}`, models.EventKindOwnerDeniedOrder},
		{base + "/revision", `{"brief":"again"}`, ""}, // denied: over
	}
	for _, s := range steps {
		ex := d.json(http.MethodPost, s.path, s.body)
		if s.kind == "" {
			refusal(t, ex, http.StatusConflict, models.ErrorCodeConflict, order)
			continue
		}
		require.Equal(t, http.StatusCreated, ex.status, "%s %s", s.path, ex.body)
		m := object(t, ex, "order_id", "event_id")
		evs := d.srv.OrderEvents(order)
		last := evs[len(evs)-1]
		assert.Equal(t, s.kind, last.Kind, s.path)
		assert.Equal(t, last.ID, m["event_id"])
	}
	o, _ := d.srv.Order(order)
	assert.Equal(t, models.OrderStateDenied, o.State)
	assert.Equal(t, "two haiku", o.Scope)

	poll := d.api(http.MethodGet, "/events", a.APIKey, "")
	require.Equal(t, http.StatusOK, poll.status, "%s", poll.body)
	for _, kind := range []string{"owner_approved_order", "revision_request", "scope_change", "owner_denied_order"} {
		assert.Contains(t, string(poll.body), `"kind":"`+kind+`"`)
	}

	other = "/_fake/orders/" + other
	refusal(t, d.json(http.MethodPost, other+"/revision", `{}`), http.StatusBadRequest, models.ErrorCodeInvalidRequest, "brief is required")
	refusal(t, d.json(http.MethodPost, other+"/scope", `{}`), http.StatusBadRequest, models.ErrorCodeInvalidRequest, "at least one")
	refusal(t, d.json(http.MethodPost, other+"/scope", `{"deadline":"soon"}`), http.StatusBadRequest, models.ErrorCodeInvalidRequest, "RFC 3339")
	refusal(t, d.json(http.MethodPost, "/_fake/orders/ord_404/deny", ``), http.StatusNotFound, models.ErrorCodeNotFound, "ord_404")
	d.clean()
}

// Each fault kind heeprtest has, scripted over the control API, strikes the
// API's next matching request.
func TestControlFaults(t *testing.T) {
	tests := []struct {
		name, body string
		check      func(t *testing.T, d *desk, a heeprtest.Agent)
	}{
		{"status with Retry-After", `{"op":"pollEvents","status":503,"retry_after_seconds":7}`, func(t *testing.T, d *desk, a heeprtest.Agent) {
			ex := d.api(http.MethodGet, "/events", a.APIKey, "")
			refusal(t, ex, http.StatusServiceUnavailable, models.ErrorCodeUnavailable, "injected")
			assert.Equal(t, "7", ex.header.Get("Retry-After"))
			assert.Equal(t, http.StatusOK, d.api(http.MethodGet, "/events", a.APIKey, "").status, "once")
		}},
		{"status on another operation", `{"op":"getSkill","status":429,"code":"rate_limited"}`, func(t *testing.T, d *desk, a heeprtest.Agent) {
			assert.Equal(t, http.StatusOK, d.api(http.MethodGet, "/events", a.APIKey, "").status)
			refusal(t, d.api(http.MethodGet, "/skill", a.APIKey, ""), http.StatusTooManyRequests, models.ErrorCodeRateLimited, "")
		}},
		{"drop before the body", `{"op":"*","kind":"drop-before-body","times":-1}`, func(t *testing.T, d *desk, a heeprtest.Agent) {
			// Every request: net/http retries a GET whose reused connection drops.
			req, _ := http.NewRequest(http.MethodGet, d.url+"/api/skill", nil)
			req.Header.Set("Authorization", "Bearer "+a.APIKey.Reveal())
			_, err := http.DefaultClient.Do(req)
			assert.Error(t, err)
			assert.Equal(t, http.StatusNoContent, d.json(http.MethodDelete, "/_fake/faults", "").status)
		}},
		{"latency", `{"op":"pollEvents","kind":"latency","latency_ms":150}`, func(t *testing.T, d *desk, a heeprtest.Agent) {
			start := time.Now()
			assert.Equal(t, http.StatusOK, d.api(http.MethodGet, "/events", a.APIKey, "").status)
			assert.GreaterOrEqual(t, time.Since(start), 150*time.Millisecond)
		}},
		{"truncate", `{"op":"getSkill","kind":"truncate"}`, func(t *testing.T, d *desk, a heeprtest.Agent) {
			req, _ := http.NewRequest(http.MethodGet, d.url+"/api/skill", nil)
			req.Header.Set("Authorization", "Bearer "+a.APIKey.Reveal())
			res, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			defer res.Body.Close()
			_, err = io.ReadAll(res.Body)
			assert.ErrorIs(t, err, io.ErrUnexpectedEOF)
		}},
		{"non-JSON", `{"op":"pollEvents","kind":"non-json"}`, func(t *testing.T, d *desk, a heeprtest.Agent) {
			ex := d.api(http.MethodGet, "/events", a.APIKey, "")
			assert.Equal(t, http.StatusBadGateway, ex.status)
			assert.Contains(t, ex.header.Get("Content-Type"), "text/html")
		}},
		{"unknown event", `{"op":"pollEvents","kind":"unknown-event","event_kind":"order_cancelled"}`, func(t *testing.T, d *desk, a heeprtest.Agent) {
			assert.Contains(t, string(d.api(http.MethodGet, "/events", a.APIKey, "").body), `"kind":"order_cancelled"`)
		}},
		{"repeat events, every time, until cleared", `{"op":"pollEvents","kind":"repeat-events","times":-1}`, func(t *testing.T, d *desk, a heeprtest.Agent) {
			d.srv.PlaceOrder(a.ID, models.Order{})
			first := d.api(http.MethodGet, "/events", a.APIKey, "")
			assert.Contains(t, string(first.body), "new_order")
			assert.Contains(t, string(d.api(http.MethodGet, "/events", a.APIKey, "").body), "new_order", "repeated")
			assert.Contains(t, string(d.api(http.MethodGet, "/events", a.APIKey, "").body), "new_order", "and again")
			ex := d.json(http.MethodDelete, "/_fake/faults", "")
			assert.Equal(t, http.StatusNoContent, ex.status)
			assert.Equal(t, "{}", strings.TrimSpace(string(d.api(http.MethodGet, "/events", a.APIKey, "").body)), "cleared")
		}},
		{"drop after the body, by method and path", `{"method":"post","path":"/orders/{id}/deliver","kind":"drop-after-body"}`, func(t *testing.T, d *desk, a heeprtest.Agent) {
			order := d.srv.PlaceOrder(a.ID, models.Order{})
			req, _ := http.NewRequest(http.MethodPost, d.url+"/api/orders/"+order+"/deliver", strings.NewReader(`{"text":"t"}`))
			req.Header.Set("Authorization", "Bearer "+a.APIKey.Reveal())
			req.Header.Set("Content-Type", "application/json")
			_, err := http.DefaultClient.Do(req)
			assert.Error(t, err)
			assert.Len(t, d.srv.Deliveries(order), 1, "the write landed")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := newDesk(t)
			a := d.srv.AddAgent(heeprtest.Registered())
			ex := d.json(http.MethodPost, "/_fake/faults", tt.body)
			require.Equal(t, http.StatusCreated, ex.status, "%s", ex.body)
			tt.check(t, d, a)
			d.clean()
		})
	}

	d := newDesk(t)
	for _, tt := range []struct{ body, msg string }{
		{`{"op":"pollEvent"}`, "pollEvents"},
		{`{"op":"*","kind":"explode"}`, "drop-before-body"},
		{`{"op":"*","status":200}`, "400 to 599"},
		{`{"op":"*","kind":"latency"}`, "latency_ms"},
		{`{"op":"*","kind":"latency","latency_ms":5,"status":503}`, "status"},
		{`{"op":"*","times":-2}`, "times"},
		{`{"op":"*","probability":2}`, "probability"},
		{`{"op":"getSkill","path":"/skill"}`, "not both"},
		{`{"op":"*","kind":"truncate","retry_after_seconds":3}`, "retry_after_seconds"},
	} {
		refusal(t, d.json(http.MethodPost, "/_fake/faults", tt.body), http.StatusBadRequest, models.ErrorCodeInvalidRequest, tt.msg)
	}
	assert.Empty(t, d.srv.FaultHits())
	d.clean()
}

// The read-outs list what agents did, of one order (or agent) or all.
func TestControlReadouts(t *testing.T) {
	d := newDesk(t, heeprtest.WithMaxFileBytes(8))
	a := d.srv.AddAgent(heeprtest.Registered())
	o1 := d.srv.PlaceOrder(a.ID, models.Order{})
	o2 := d.srv.PlaceOrder(a.ID, models.Order{})
	o3 := d.srv.PlaceOrder(a.ID, models.Order{})
	require.Equal(t, http.StatusOK, d.api(http.MethodPost, "/status", a.APIKey, `{"order_id":"`+o1+`","progress":{"percent":40,"message":"drafting"}}`).status)
	require.Equal(t, http.StatusOK, d.api(http.MethodPost, "/status", a.APIKey, `{"status":"paused"}`).status)
	require.Equal(t, http.StatusOK, d.api(http.MethodPost, "/orders/"+o2+"/decline", a.APIKey, `{"reason":"capacity","message":"busy"}`).status)
	require.Equal(t, http.StatusOK, d.api(http.MethodPost, "/orders/"+o3+"/flag", a.APIKey, `{"reason":"illegal"}`).status)

	body, ct := multipartDelivery(t, "small.txt", []byte("tiny"))
	require.Equal(t, http.StatusAccepted, d.do(http.MethodPost, "/api/orders/"+o1+"/deliver", "Bearer "+a.APIKey.Reveal(), ct, body).status)
	body, ct = multipartDelivery(t, "big.txt", []byte("more than eight bytes"))
	require.Equal(t, http.StatusAccepted, d.do(http.MethodPost, "/api/orders/"+o1+"/deliver", "Bearer "+a.APIKey.Reveal(), ct, body).status)

	for _, tt := range []struct{ path, key, want string }{
		{"/_fake/progress?order_id=" + o1, "progress", `[{"order_id":"` + o1 + `","percent":40,"message":"drafting"}]`},
		{"/_fake/progress?order_id=" + o2, "progress", `[]`},
		{"/_fake/declines", "declines", `[{"order_id":"` + o2 + `","reason":"capacity","message":"busy"}]`},
		{"/_fake/declines?order_id=" + o1, "declines", `[]`},
		{"/_fake/flags", "flags", `[{"order_id":"` + o3 + `","reason":"illegal"}]`},
		{"/_fake/statuses?agent_id=" + a.ID, "statuses", `[{"agent_id":"` + a.ID + `","status":"paused"}]`},
		{"/_fake/statuses", "statuses", `[{"agent_id":"` + a.ID + `","status":"paused"}]`},
	} {
		t.Run(tt.path, func(t *testing.T) {
			ex := d.json(http.MethodGet, tt.path, "")
			require.Equal(t, http.StatusOK, ex.status, "%s", ex.body)
			got := field[[]map[string]any](t, ex, tt.key)
			for _, g := range got {
				_, err := time.Parse(time.RFC3339, g["created_at"].(string))
				assert.NoError(t, err)
				delete(g, "created_at")
			}
			js, _ := json.Marshal(got)
			assert.JSONEq(t, tt.want, string(js))
		})
	}
	refusal(t, d.json(http.MethodGet, "/_fake/flags?order_id=ord_404", ""), http.StatusNotFound, models.ErrorCodeNotFound, "ord_404")
	refusal(t, d.json(http.MethodGet, "/_fake/statuses?agent_id=agt_404", ""), http.StatusNotFound, models.ErrorCodeNotFound, "agt_404")

	// Deliveries of every order, and their files downloadable.
	all := field[[]delivery](t, d.json(http.MethodGet, "/_fake/deliveries", ""), "deliveries")
	require.Len(t, all, 2)
	file := all[0].Files[0]
	ex := d.do(http.MethodGet, strings.TrimPrefix(file.URL, d.url), "", "", nil)
	require.Equal(t, http.StatusOK, ex.status, "%s", ex.body)
	assert.Equal(t, "tiny", string(ex.body))
	assert.Equal(t, "text/plain", ex.header.Get("Content-Type"))
	assert.Equal(t, `attachment; filename=small.txt`, ex.header.Get("Content-Disposition"))
	assert.Contains(t, ex.header.Get("Content-Security-Policy"), "sandbox")
	refusal(t, d.json(http.MethodGet, strings.TrimPrefix(all[1].Files[0].URL, d.url), ""), http.StatusConflict, models.ErrorCodeConflict, "-max-file-bytes")
	refusal(t, d.json(http.MethodGet, "/_fake/deliveries/"+all[0].ID+"/files/nope.txt", ""), http.StatusNotFound, models.ErrorCodeNotFound, "nope.txt")
	refusal(t, d.json(http.MethodGet, "/_fake/deliveries/dlv_404/files/x", ""), http.StatusNotFound, models.ErrorCodeNotFound, "dlv_404")

	// The request log, read on from where the last read ended, with no secret.
	ex = d.json(http.MethodGet, "/_fake/requests", "")
	require.Equal(t, http.StatusOK, ex.status)
	reqs := field[[]loggedRequest](t, ex, "requests")
	require.Len(t, reqs, 6)
	assert.Equal(t, loggedRequest{Seq: 1, Method: http.MethodPost, Path: "/api/status", Status: http.StatusOK, AgentID: a.ID, RequestID: "req_1"},
		loggedRequest{Seq: reqs[0].Seq, Method: reqs[0].Method, Path: reqs[0].Path, Status: reqs[0].Status, AgentID: reqs[0].AgentID, RequestID: reqs[0].RequestID})
	next := field[int](t, ex, "next")
	assert.Equal(t, 6, next)
	assert.NotContains(t, string(ex.body), a.APIKey.Reveal())
	assert.NotContains(t, strings.ToLower(string(ex.body)), "bearer")
	d.api(http.MethodGet, "/events", a.APIKey, "")
	ex = d.json(http.MethodGet, "/_fake/requests?since=6", "")
	reqs = field[[]loggedRequest](t, ex, "requests")
	require.Len(t, reqs, 1)
	assert.Equal(t, "/api/events", reqs[0].Path)
	assert.Equal(t, 7, field[int](t, ex, "next"))
	assert.Equal(t, 7, field[int](t, d.json(http.MethodGet, "/_fake/requests?since=7", ""), "next"), "nothing new: next stays")
	refusal(t, d.json(http.MethodGet, "/_fake/requests?since=-1", ""), http.StatusBadRequest, models.ErrorCodeInvalidRequest, "since")

	ex = d.json(http.MethodGet, "/_fake/violations", "")
	require.Equal(t, http.StatusOK, ex.status)
	assert.JSONEq(t, `{"violations":[]}`, string(ex.body))
	d.clean()

	// A request that breaks the spec is listed.
	d.api(http.MethodPost, "/status", a.APIKey, `{"status":42}`)
	vs := field[[]map[string]any](t, d.json(http.MethodGet, "/_fake/violations", ""), "violations")
	require.Len(t, vs, 1)
	assert.Equal(t, "request", vs[0]["kind"])
	assert.Equal(t, "/api/status", vs[0]["path"])
}

// Reset forgets orders, logs and faults; the agent and its key stay, and
// ids go on counting.
func TestControlReset(t *testing.T) {
	d := newDesk(t)
	a := d.srv.AddAgent(heeprtest.Registered())
	order := d.srv.PlaceOrder(a.ID, models.Order{})
	d.api(http.MethodGet, "/events", a.APIKey, "")
	require.Equal(t, http.StatusCreated, d.json(http.MethodPost, "/_fake/faults", `{"op":"pollEvents"}`).status)

	ex := d.json(http.MethodPost, "/_fake/reset", "")
	assert.Equal(t, http.StatusNoContent, ex.status)
	assert.Empty(t, ex.body)
	_, ok := d.srv.Order(order)
	assert.False(t, ok)
	assert.Empty(t, d.srv.Requests())
	assert.Equal(t, http.StatusOK, d.api(http.MethodGet, "/events", a.APIKey, "").status, "the key works, the fault is gone")
	assert.Equal(t, 2, field[int](t, d.json(http.MethodGet, "/_fake/requests?since=1", ""), "next"), "seq goes on")
	ex = d.json(http.MethodPost, "/_fake/orders", `{"agent_id":"`+a.ID+`","brief":"b"}`)
	assert.Equal(t, "ord_2", field[string](t, ex, "order_id"))
	d.clean()
}
