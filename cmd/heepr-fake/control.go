package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/heepr/heepr-go/heeprtest"
	"github.com/heepr/heepr-go/models"
)

// controlPath is the prefix of the control API: routes for tests and scripts
// to play the owner and the customer, beside the agent API and outside it (not
// in openapi.yaml, not validated, not in the fake's request log).
const controlPath = "/_fake/"

// controlUsage lists the control API's routes, for -h; the README repeats it
// with a curl line each.
const controlUsage = `Control API (JSON; errors in the API's error envelope; loopback clients only
unless -control-remote):
  POST /_fake/agents/{id}/token     a fresh bootstrap token for the agent; the live key
                                    stays, so registering with it answers 409
                                    active_key_exists (201 {"agent_id","bootstrap_token"})
  POST /_fake/agents/{id}/revoke    revoke the agent's live key: key_revoked
                                    (200 {"agent_id","key_state"})
  POST /_fake/agents/{id}/expire    expire the agent's live key: key_expired
                                    (200 {"agent_id","key_state"})
  POST /_fake/orders                place an order and queue its new_order:
                                    {"agent_id","brief"} and optionally "scope", "tier",
                                    "price" (points, or {"amount","currency"}), "deadline"
                                    (RFC 3339) (201 {"order_id"})
  GET  /_fake/deliveries?order_id=  the deliveries received for the order
                                    (200 {"deliveries":[{"id","order_id","text","files"}]})
`

// maxControlBody caps a control request's body: they are a few fields.
const maxControlBody = 64 << 10

// control is the control API over one fake.
type control struct {
	srv *heeprtest.Server
	mux *http.ServeMux
}

// newControl returns the control API's handler. Each route is a resource
// under /_fake/ with a method, so that more (events, owner decisions, faults)
// are added as routes of their own, without changing these.
func newControl(srv *heeprtest.Server) http.Handler {
	c := &control{srv: srv, mux: http.NewServeMux()}
	c.mux.HandleFunc("POST /_fake/agents/{id}/token", c.issueToken)
	c.mux.HandleFunc("POST /_fake/agents/{id}/revoke", c.endKey("revoke", "revoked", srv.RevokeKey))
	c.mux.HandleFunc("POST /_fake/agents/{id}/expire", c.endKey("expire", "expired", srv.ExpireKey))
	c.mux.HandleFunc("POST /_fake/orders", c.placeOrder)
	c.mux.HandleFunc("GET /_fake/deliveries", c.deliveries)
	c.mux.HandleFunc(controlPath, c.notFound)
	return c.mux
}

// loopbackOnly refuses clients that are not on this machine: the control API
// mints tokens and revokes keys, and nothing authenticates it.
func loopbackOnly(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ap, err := netip.ParseAddrPort(r.RemoteAddr)
		if err != nil || !ap.Addr().Unmap().IsLoopback() {
			writeError(w, http.StatusForbidden, models.ErrorCodeForbidden,
				"the control API answers clients on this machine only (this one is %s); start heepr-fake with -control-remote to open it", r.RemoteAddr)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// agentOf returns the {id} of the path, answering 404 when there is no such agent.
func (c *control) agentOf(w http.ResponseWriter, r *http.Request) (string, bool) {
	id := r.PathValue("id")
	if _, ok := c.srv.Agent(id); !ok {
		writeError(w, http.StatusNotFound, models.ErrorCodeNotFound, "no agent %q; the fake has %s", id, strings.Join(c.srv.Agents(), ", "))
		return "", false
	}
	return id, true
}

// issueToken answers POST /_fake/agents/{id}/token: a fresh bootstrap token,
// as the owner regenerates one from the dashboard. It does not touch a live
// key, so registering with it while one lives answers active_key_exists.
func (c *control) issueToken(w http.ResponseWriter, r *http.Request) {
	id, ok := c.agentOf(w, r)
	if !ok {
		return
	}
	tok := c.srv.IssueBootstrapToken(id)
	writeJSON(w, http.StatusCreated, struct {
		AgentID        string `json:"agent_id"`
		BootstrapToken string `json:"bootstrap_token"`
	}{id, tok.Reveal()}) // the fake's secrets are for printing
}

// endKey answers POST /_fake/agents/{id}/revoke or …/expire: the agent's live
// key ends in state, and requests with it answer key_revoked or key_expired.
func (c *control) endKey(verb, state string, end func(agentID string) bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, ok := c.agentOf(w, r)
		if !ok {
			return
		}
		if !end(id) {
			writeError(w, http.StatusConflict, models.ErrorCodeConflict, "agent %s has no live key to %s: register it first", id, verb)
			return
		}
		writeJSON(w, http.StatusOK, struct {
			AgentID  string `json:"agent_id"`
			KeyState string `json:"key_state"`
		}{id, state})
	}
}

// orderRequest is the body of POST /_fake/orders. Fields left out get the
// fake's defaults (heeprtest.Server.PlaceOrder).
type orderRequest struct {
	AgentID  string          `json:"agent_id"`
	Brief    string          `json:"brief"`
	Scope    string          `json:"scope"`
	Tier     string          `json:"tier"`
	Price    json.RawMessage `json:"price"`
	Deadline string          `json:"deadline"`
}

// placeOrder answers POST /_fake/orders: an order placed as a customer does,
// its new_order queued for the agent's next poll.
func (c *control) placeOrder(w http.ResponseWriter, r *http.Request) {
	var req orderRequest
	if !decodeBody(w, r, &req) {
		return
	}
	if req.AgentID == "" {
		writeError(w, http.StatusBadRequest, models.ErrorCodeInvalidRequest, `agent_id is required: {"agent_id": "agt_1", "brief": "…"}`)
		return
	}
	o := models.Order{Brief: req.Brief, Scope: req.Scope, Tier: req.Tier}
	var err error
	if o.Price, err = parsePrice(req.Price); err != nil {
		writeError(w, http.StatusBadRequest, models.ErrorCodeInvalidRequest, "price: %v", err)
		return
	}
	if req.Deadline != "" {
		if o.Deadline, err = time.Parse(time.RFC3339, req.Deadline); err != nil {
			writeError(w, http.StatusBadRequest, models.ErrorCodeInvalidRequest, "deadline %q: want an RFC 3339 time such as 2026-12-01T09:00:00Z", req.Deadline)
			return
		}
	}
	if _, ok := c.srv.Agent(req.AgentID); !ok {
		writeError(w, http.StatusNotFound, models.ErrorCodeNotFound, "no agent %q; the fake has %s", req.AgentID, strings.Join(c.srv.Agents(), ", "))
		return
	}
	id := c.srv.PlaceOrder(req.AgentID, o)
	if id == "" {
		writeError(w, http.StatusInternalServerError, models.ErrorCodeInternalError, "the fake placed no order for %s", req.AgentID)
		return
	}
	writeJSON(w, http.StatusCreated, struct {
		OrderID string `json:"order_id"`
	}{id})
}

// parsePrice reads a price as a number of points or as the spec's Price; a
// missing one is the zero Price, which PlaceOrder fills in.
func parsePrice(raw json.RawMessage) (models.Price, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return models.Price{}, nil
	}
	var p models.Price
	var points int64
	switch {
	case json.Unmarshal(raw, &points) == nil:
		p = models.Price{Amount: points, Currency: "points"}
	case json.Unmarshal(raw, &p) == nil && p.Currency != "":
	default:
		return models.Price{}, fmt.Errorf(`%s: want a whole number of points or {"amount": 100, "currency": "points"}`, raw)
	}
	if p.Amount < 0 {
		return models.Price{}, fmt.Errorf("%d is below zero", p.Amount)
	}
	return p, nil
}

// delivery is one delivery as GET /_fake/deliveries lists it.
type delivery struct {
	ID      string         `json:"id"`
	OrderID string         `json:"order_id"`
	Text    string         `json:"text"`
	Files   []deliveryFile `json:"files"`
}

type deliveryFile struct {
	Name   string `json:"name"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// deliveries answers GET /_fake/deliveries?order_id=…: what the fake accepted
// for the order, oldest first; a retry with the same Idempotency-Key is one.
func (c *control) deliveries(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get("order_id")
	if id == "" {
		writeError(w, http.StatusBadRequest, models.ErrorCodeInvalidRequest, "order_id is required: GET /_fake/deliveries?order_id=ord_1")
		return
	}
	if _, ok := c.srv.Order(id); !ok {
		writeError(w, http.StatusNotFound, models.ErrorCodeNotFound, "no order %q", id)
		return
	}
	out := []delivery{} // [] rather than null when there is none
	for _, d := range c.srv.Deliveries(id) {
		files := []deliveryFile{}
		for _, f := range d.Files {
			files = append(files, deliveryFile{Name: f.Name, Size: f.Size, SHA256: f.SHA256})
		}
		out = append(out, delivery{ID: d.ID, OrderID: d.OrderID, Text: d.Payload.Text, Files: files})
	}
	writeJSON(w, http.StatusOK, struct {
		Deliveries []delivery `json:"deliveries"`
	}{out})
}

// notFound answers a request no route took: 405 with Allow when the path is
// a route's under another method, else 404.
func (c *control) notFound(w http.ResponseWriter, r *http.Request) {
	var allow []string
	for _, m := range []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, pattern := c.mux.Handler(probe); pattern != controlPath {
			allow = append(allow, m)
		}
	}
	if len(allow) > 0 {
		w.Header().Set("Allow", strings.Join(allow, ", "))
		writeError(w, http.StatusMethodNotAllowed, models.ErrorCodeMethodNotAllowed, "%s takes %s, not %s", r.URL.Path, strings.Join(allow, ", "), r.Method)
		return
	}
	writeError(w, http.StatusNotFound, models.ErrorCodeNotFound, "no control route %s %s; heepr-fake -h lists them", r.Method, r.URL.Path)
}

// decodeBody reads a JSON object into v, refusing unknown members (a typo
// would otherwise pass as a default) and trailing data.
func decodeBody(w http.ResponseWriter, r *http.Request, v any) bool {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxControlBody+1))
	if err != nil {
		writeError(w, http.StatusBadRequest, models.ErrorCodeInvalidRequest, "read the body: %v", err)
		return false
	}
	if len(body) > maxControlBody {
		writeError(w, http.StatusRequestEntityTooLarge, models.ErrorCodeInvalidRequest, "the body is over %d bytes", maxControlBody)
		return false
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		writeError(w, http.StatusBadRequest, models.ErrorCodeInvalidRequest, "the body is not the JSON object this route takes: %v", err)
		return false
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		writeError(w, http.StatusBadRequest, models.ErrorCodeInvalidRequest, "the body holds more than one JSON value")
		return false
	}
	return true
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		writeError(w, http.StatusInternalServerError, models.ErrorCodeInternalError, "encode the answer: %v", err)
		return
	}
	body = append(body, '\n')
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// writeError answers in the API's error envelope.
func writeError(w http.ResponseWriter, status int, code models.ErrorCode, format string, args ...any) {
	body, _ := json.Marshal(models.ErrorEnvelope{Error: models.ErrorDetail{Code: code, Message: fmt.Sprintf(format, args...)}})
	body = append(body, '\n')
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
