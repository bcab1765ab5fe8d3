package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"regexp"
	"strconv"
	"strings"

	"github.com/heepr/heepr-go/heeprtest"
	"github.com/heepr/heepr-go/models"
)

// controlPath is the prefix of the control API: routes for tests and scripts
// to play the owner and the customer, beside the agent API and outside it (not
// in openapi.yaml, not validated, not in the fake's request log).
const controlPath = "/_fake/"

// controlUsage lists the control API's routes, for -h; the README repeats it
// with a curl line each.
const controlUsage = `Control API (JSON; errors in the API's error envelope; loopback clients and
Host names only unless -control-remote; never what a browser sends for another site):
  GET    /                              the dashboard (and GET /_fake/state, what it shows)
  POST   /_fake/agents                  add an agent: {"agent_id"?, "cadence_minutes"? 1-60,
                                        "manual_acceptance"?} (201 {"agent_id","bootstrap_token"})
  POST   /_fake/agents/{id}/token       a fresh bootstrap token; the live key stays, so
                                        registering with it answers 409 active_key_exists
                                        (201 {"agent_id","bootstrap_token"})
  POST   /_fake/agents/{id}/revoke      revoke the live key: key_revoked (200 {"agent_id","key_state"})
  POST   /_fake/agents/{id}/expire      expire the live key: key_expired (200 {"agent_id","key_state"})
  PUT    /_fake/agents/{id}/cadence     {"minutes": 1-60}, as skill.json advertises it
                                        (200 {"agent_id","cadence_minutes"})
  PUT    /_fake/skill/{file}            the body is the new SKILL.md, HEARTBEAT_EVENTS.md, RULES.md
                                        or API.md of every agent (200 {"file","content_hash"})
  POST   /_fake/orders                  place an order and queue its new_order: {"agent_id","brief"}
                                        and optionally "scope", "tier", "price" (points, or
                                        {"amount","currency"}), "deadline" (RFC 3339),
                                        "revisions_allowed", "attachments" ([{"name","content_type"?,
                                        "data_base64"} or {"path"}]); or multipart/form-data: an
                                        "order" part of that JSON and "file" parts
                                        (201 {"order_id","event_id","attachments"?})
  POST   /_fake/orders/{id}/revision    the customer asks for a revision: {"brief"}
  POST   /_fake/orders/{id}/approve     the owner approves a pending_acceptance order: {"note"?}
  POST   /_fake/orders/{id}/deny        the owner denies the order: {"note"?}
  POST   /_fake/orders/{id}/scope       the owner changes it: {"scope"?,"brief"?,"deadline"?}
                                        (each 201 {"order_id","event_id"})
  POST   /_fake/faults                  script a failure: {"op" (an operationId such as
                                        "pollEvents", or "*"), "kind"? (status, drop-before-body,
                                        drop-after-body, latency, truncate, non-json, unknown-event,
                                        repeat-events), "status"?, "code"?, "retry_after_seconds"?,
                                        "latency_ms"?, "times"? (-1: every request),
                                        "probability"?, "event_kind"?} (201 the fault as read)
  DELETE /_fake/faults                  clear the faults not yet used up (204)
  GET    /_fake/deliveries?order_id=    the deliveries received, of one order or all
                                        (200 {"deliveries":[{"id","order_id","text","files":[{"name",
                                        "size","sha256","url"}],…}]})
  GET    /_fake/deliveries/{id}/files/{name}   a delivered file's bytes
  GET    /_fake/declines?order_id=      (200 {"declines":[…]}), and so /_fake/flags?order_id=,
                                        /_fake/progress?order_id=, /_fake/statuses?agent_id=
  GET    /_fake/requests?since=N        the API's request log after seq N, no secrets
                                        (200 {"requests":[{"seq","time","method","path","status",
                                        "agent_id","request_id"}],"next"})
  GET    /_fake/violations              (200 {"violations":[…]})
  POST   /_fake/reset                   forget orders, deliveries, logs, violations and faults;
                                        agents and their keys stay (204)
`

// maxControlBody caps a control request's body: they are a few fields.
const maxControlBody = 64 << 10

// control is the control API over one fake.
type control struct {
	srv *heeprtest.Server
	mux *http.ServeMux
	ops map[string]operation // the API's operations by operationId, for faults
}

// newControl returns the control API's handler. Each route is a resource
// under /_fake/ with a method, so that more (events, owner decisions, faults)
// are added as routes of their own, without changing these.
func newControl(srv *heeprtest.Server) http.Handler {
	c := &control{srv: srv, mux: http.NewServeMux(), ops: operations()}
	c.mux.HandleFunc("POST /_fake/agents", c.addAgent)
	c.mux.HandleFunc("POST /_fake/agents/{id}/token", c.issueToken)
	c.mux.HandleFunc("POST /_fake/agents/{id}/revoke", c.endKey("revoke", "revoked", srv.RevokeKey))
	c.mux.HandleFunc("POST /_fake/agents/{id}/expire", c.endKey("expire", "expired", srv.ExpireKey))
	c.mux.HandleFunc("PUT /_fake/agents/{id}/cadence", c.setCadence)
	c.mux.HandleFunc("PUT /_fake/skill/{file}", c.publishSkill)

	c.mux.HandleFunc("POST /_fake/orders", c.placeOrder)
	c.mux.HandleFunc("POST /_fake/orders/{id}/revision", c.requestRevision)
	c.mux.HandleFunc("POST /_fake/orders/{id}/approve", c.approve)
	c.mux.HandleFunc("POST /_fake/orders/{id}/deny", c.deny)
	c.mux.HandleFunc("POST /_fake/orders/{id}/scope", c.changeScope)

	c.mux.HandleFunc("POST /_fake/faults", c.injectFault)
	c.mux.HandleFunc("DELETE /_fake/faults", c.clearFaults)

	c.mux.HandleFunc("GET /_fake/deliveries", c.deliveries)
	c.mux.HandleFunc("GET /_fake/deliveries/{id}/files/{name}", c.deliveryFile)
	c.mux.HandleFunc("GET /_fake/declines", c.declines)
	c.mux.HandleFunc("GET /_fake/flags", c.flags)
	c.mux.HandleFunc("GET /_fake/progress", c.progress)
	c.mux.HandleFunc("GET /_fake/statuses", c.statuses)
	c.mux.HandleFunc("GET /_fake/requests", c.requests)
	c.mux.HandleFunc("GET /_fake/violations", c.violations)
	c.mux.HandleFunc("POST /_fake/reset", c.reset)
	c.mux.HandleFunc(controlPath, c.notFound)
	return c.mux
}

// loopbackOnly refuses clients that are not on this machine: the control API
// mints tokens and revokes keys, and nothing authenticates it.
func loopbackOnly(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !fromLoopback(r) {
			writeError(w, http.StatusForbidden, models.ErrorCodeForbidden,
				"the control API answers clients on this machine only (this one is %s); start heepr-fake with -control-remote to open it", r.RemoteAddr)
			return
		}
		// A page of another site whose name was rebound to 127.0.0.1 is
		// same-origin to the browser: only its Host tells.
		if !loopbackHost(r.Host) {
			writeError(w, http.StatusForbidden, models.ErrorCodeForbidden,
				"the control API answers requests for this machine only, by loopback address or localhost, not for %q; start heepr-fake with -control-remote to open it", r.Host)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// sameSiteOnly refuses what a browser sends on behalf of another site's page:
// the control API is unauthenticated and the developer's browser runs on this
// machine, so the loopback rule alone would let any page they visit mint
// tokens and revoke keys. Browsers mark such requests (Sec-Fetch-Site,
// Origin); net/http's CrossOriginProtection reads the marks. curl, the
// commands and the dashboard itself send none or same-origin, and pass.
func sameSiteOnly(next http.Handler) http.Handler {
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusForbidden, models.ErrorCodeForbidden,
			"the control API refuses requests a browser sends for another site (Origin %q): use it from the dashboard, curl or heepr-fake's commands", r.Header.Get("Origin"))
	}))
	return cop.Handler(next)
}

// loopbackHost reports whether a Host header names this machine: localhost or
// a loopback address, with or without a port.
func loopbackHost(host string) bool {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.Unmap().IsLoopback()
}

// fromLoopback reports whether r comes from this machine.
func fromLoopback(r *http.Request) bool {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	return err == nil && ap.Addr().Unmap().IsLoopback()
}

// agentIDPattern is what an agent id added by POST /_fake/agents may be: it
// becomes a path segment of the API.
var agentIDPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// addAgentRequest is the body of POST /_fake/agents; every field may be left out.
type addAgentRequest struct {
	AgentID          string `json:"agent_id"`
	CadenceMinutes   *int   `json:"cadence_minutes"`
	ManualAcceptance bool   `json:"manual_acceptance"`
}

// addAgent answers POST /_fake/agents: a new agent with a bootstrap token, as
// an owner creates one from the dashboard.
func (c *control) addAgent(w http.ResponseWriter, r *http.Request) {
	var req addAgentRequest
	if !decodeOptionalBody(w, r, &req) {
		return
	}
	var opts []heeprtest.AgentOption
	if req.AgentID != "" {
		if !agentIDPattern.MatchString(req.AgentID) {
			writeError(w, http.StatusBadRequest, models.ErrorCodeInvalidRequest, "agent_id %q: want 1 to 64 letters, digits, _ or -, such as agt_desk", req.AgentID)
			return
		}
		if _, taken := c.srv.Agent(req.AgentID); taken {
			writeError(w, http.StatusConflict, models.ErrorCodeConflict, "agent %s exists; POST /_fake/agents/%s/token issues it a fresh token", req.AgentID, req.AgentID)
			return
		}
		opts = append(opts, heeprtest.AgentID(req.AgentID))
	}
	if req.CadenceMinutes != nil {
		if err := checkCadence(*req.CadenceMinutes); err != nil {
			writeError(w, http.StatusBadRequest, models.ErrorCodeInvalidRequest, "cadence_minutes: %v", err)
			return
		}
		opts = append(opts, heeprtest.Cadence(*req.CadenceMinutes))
	}
	if req.ManualAcceptance {
		opts = append(opts, heeprtest.ManualAcceptance())
	}
	a := c.srv.AddAgent(opts...)
	if a.ID == "" {
		writeError(w, http.StatusConflict, models.ErrorCodeConflict, "agent %s was added meanwhile", req.AgentID)
		return
	}
	writeJSON(w, http.StatusCreated, tokenAnswer{a.ID, a.BootstrapToken.Reveal()})
}

// tokenAnswer is an agent's id and a bootstrap token, in full: the fake's
// secrets are for printing.
type tokenAnswer struct {
	AgentID        string `json:"agent_id"`
	BootstrapToken string `json:"bootstrap_token"`
}

// checkCadence holds a cadence to the spec's poll_interval_minutes, 1 to 60.
func checkCadence(minutes int) error {
	if minutes < 1 || minutes > 60 {
		return fmt.Errorf("%d minutes: the platform's cadence is 1 to 60 minutes", minutes)
	}
	return nil
}

// setCadence answers PUT /_fake/agents/{id}/cadence: the poll cadence the
// agent's skill.json advertises, and so its skill content_hash.
func (c *control) setCadence(w http.ResponseWriter, r *http.Request) {
	id, ok := c.agentOf(w, r)
	if !ok {
		return
	}
	var req struct {
		Minutes *int `json:"minutes"`
	}
	if !decodeBody(w, r, &req) {
		return
	}
	if req.Minutes == nil {
		writeError(w, http.StatusBadRequest, models.ErrorCodeInvalidRequest, `minutes is required: {"minutes": 5}`)
		return
	}
	if err := checkCadence(*req.Minutes); err != nil {
		writeError(w, http.StatusBadRequest, models.ErrorCodeInvalidRequest, "minutes: %v", err)
		return
	}
	c.srv.SetCadence(id, *req.Minutes)
	writeJSON(w, http.StatusOK, struct {
		AgentID        string `json:"agent_id"`
		CadenceMinutes int    `json:"cadence_minutes"`
	}{id, *req.Minutes})
}

// maxSkillFile caps a published skill file.
const maxSkillFile = 1 << 20

// publishSkill answers PUT /_fake/skill/{file}: the raw body is the file's new
// content for every agent, as when the platform ships a new SKILL.md.
func (c *control) publishSkill(w http.ResponseWriter, r *http.Request) {
	name := models.SkillFileName(r.PathValue("file"))
	switch name {
	case models.SkillFileNameSkillMD, models.SkillFileNameHeartbeatEventsMD, models.SkillFileNameRulesMD, models.SkillFileNameAPIMD:
	case models.SkillFileNameSkillJSON:
		writeError(w, http.StatusBadRequest, models.ErrorCodeInvalidRequest, "skill.json is written by the fake from the other files and the cadence: PUT /_fake/agents/{id}/cadence changes it")
		return
	default:
		writeError(w, http.StatusNotFound, models.ErrorCodeNotFound, "no skill file %q: publish SKILL.md, HEARTBEAT_EVENTS.md, RULES.md or API.md", name)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxSkillFile+1))
	if err != nil {
		writeError(w, http.StatusBadRequest, models.ErrorCodeInvalidRequest, "read the body: %v", err)
		return
	}
	if len(body) > maxSkillFile {
		writeError(w, http.StatusRequestEntityTooLarge, models.ErrorCodeInvalidRequest, "%s is over %d bytes", name, maxSkillFile)
		return
	}
	c.srv.PublishSkill(name, string(body))
	writeJSON(w, http.StatusOK, struct {
		File        string `json:"file"`
		ContentHash string `json:"content_hash"`
	}{string(name), sha256Hex(body)})
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
	writeJSON(w, http.StatusCreated, tokenAnswer{id, tok.Reveal()})
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
	return decodeLimited(w, r, v, maxControlBody, false)
}

// decodeOptionalBody is decodeBody for a route whose fields are all optional:
// an empty body is the empty object.
func decodeOptionalBody(w http.ResponseWriter, r *http.Request, v any) bool {
	return decodeLimited(w, r, v, maxControlBody, true)
}

func decodeLimited(w http.ResponseWriter, r *http.Request, v any, limit int64, emptyOK bool) bool {
	body, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		writeError(w, bodyErrorStatus(err), models.ErrorCodeInvalidRequest, "read the body: %v", err)
		return false
	}
	if int64(len(body)) > limit {
		writeError(w, http.StatusRequestEntityTooLarge, models.ErrorCodeInvalidRequest, "the body is over %d bytes", limit)
		return false
	}
	if emptyOK && len(bytes.TrimSpace(body)) == 0 {
		return true
	}
	return decodeJSON(w, body, v)
}

// decodeJSON decodes body into v as decodeBody does.
func decodeJSON(w http.ResponseWriter, body []byte, v any) bool {
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

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
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
