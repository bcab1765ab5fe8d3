package heeprtest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"time"
)

// ViolationKind says who broke the contract.
type ViolationKind string

const (
	// ViolationRequest: a request broke openapi.yaml (the client's fault).
	ViolationRequest ViolationKind = "request"
	// ViolationResponse: a response of the fake broke openapi.yaml (a bug of the
	// fake). Injected faults are not validated, so they never record one.
	ViolationResponse ViolationKind = "response"
	// ViolationControl: a test control was misused, such as PlaceOrder for an
	// unknown agent.
	ViolationControl ViolationKind = "control"
)

// Violation is one break of the contract, recorded so that a test can end with
// assert.Empty(t, srv.Violations()).
type Violation struct {
	Kind      ViolationKind
	Method    string
	Path      string
	RequestID string
	Err       string
	At        time.Time
}

// String renders the violation for a test's failure message.
func (v Violation) String() string {
	if v.Method == "" {
		return fmt.Sprintf("%s violation: %s", v.Kind, v.Err)
	}
	return fmt.Sprintf("%s violation on %s %s (%s): %s", v.Kind, v.Method, v.Path, v.RequestID, v.Err)
}

// Request is one request as the fake saw it, for tests that assert what the
// server received.
type Request struct {
	// Seq numbers the requests in the order logged, from 1, and keeps counting
	// across Reset: a reader that remembers the last Seq it saw reads on from
	// there.
	Seq int
	// ID is the request's id, also sent as X-Request-Id (req_1, req_2…).
	ID     string
	Method string
	// Path is the URL path, BasePath included.
	Path string
	// Header is the request's header, as sent (Authorization included: the fake
	// is for tests).
	Header http.Header
	// AgentID is the agent the bearer key belongs to, if any.
	AgentID string
	// IdempotencyKey is the Idempotency-Key header, if any.
	IdempotencyKey string
	// Status is the status answered, 0 when the connection was dropped first.
	Status int
	// Fault is the fault injected into this request, 0 for none.
	Fault FaultKind
	// Replayed reports whether the answer was a replay for a repeated
	// Idempotency-Key (no effect recorded).
	Replayed bool
	At       time.Time
	Duration time.Duration
}

// Violations returns every contract break recorded so far, oldest first.
func (s *Server) Violations() []Violation {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.violations)
}

// Requests returns every request the fake received, oldest first.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := slices.Clone(s.requests)
	for i := range out {
		out[i].Header = out[i].Header.Clone()
	}
	return out
}

// reqInfo travels in a request's context from the front middleware down to the
// handlers, which fill in who the caller is and what happened.
type reqInfo struct {
	id       string
	origin   string // scheme://host the client used, to make file URLs absolute
	agentID  string
	auth     string      // the Authorization header, for register
	body     *bodyDigest // the body's digest, for a POST with an Idempotency-Key
	replayed bool
	start    time.Time
	previous []json.RawMessage // the agent's poll answer before this one, for FaultRepeatEvents
}

type infoKey struct{}

func infoFrom(ctx context.Context) *reqInfo {
	if i, ok := ctx.Value(infoKey{}).(*reqInfo); ok {
		return i
	}
	return &reqInfo{}
}

func (s *Server) recordViolation(v Violation) {
	s.mu.Lock()
	s.violations = append(s.violations, v)
	s.mu.Unlock()
	s.opts.logger.Warn("heeprtest: violation", "violation", v.String())
}

// violation records a break of the contract by the request r or its response.
func (s *Server) violation(r *http.Request, kind ViolationKind, err error) {
	s.recordViolation(Violation{
		Kind: kind, Method: r.Method, Path: r.URL.Path,
		RequestID: infoFrom(r.Context()).id, Err: err.Error(), At: time.Now(),
	})
}

// controlViolation records a misused control. The caller holds s.mu.
func (s *Server) controlViolation(format string, args ...any) {
	s.violations = append(s.violations, Violation{Kind: ViolationControl, Err: fmt.Sprintf(format, args...), At: time.Now()})
}
