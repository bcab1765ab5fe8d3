package heeprtest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/heepr/heepr-go/models"
)

// apiErr is an answer in the shared error envelope. The API's handlers return it
// as their error; the strict server's error hook writes it.
type apiErr struct {
	status     int
	code       models.ErrorCode
	msg        string
	retryAfter time.Duration
	allow      []string // the methods the path takes, for the Allow header of a 405
}

func (e *apiErr) Error() string { return fmt.Sprintf("%d %s: %s", e.status, e.code, e.msg) }

func apiError(status int, code models.ErrorCode, format string, args ...any) *apiErr {
	return &apiErr{status: status, code: code, msg: fmt.Sprintf(format, args...)}
}

// methodNotAllowed is the 405 for a path that takes only the allow methods.
func methodNotAllowed(method, path string, allow []string) *apiErr {
	e := apiError(http.StatusMethodNotAllowed, models.ErrorCodeMethodNotAllowed,
		"method not allowed: %s takes %s, not %s", path, strings.Join(allow, ", "), method)
	e.allow = allow
	return e
}

// codeInfo is what the fake answers one error code of the spec with.
type codeInfo struct {
	code     models.ErrorCode
	statuses []int
	// generic marks the code a bare status is answered with (an injected
	// FaultStatus without a Code): one per status.
	generic bool
	// meaning is what the code tells an agent, and what to do, for API.md.
	meaning string
}

// errorCodes is the fake's table of error codes, in the spec's order: the
// statuses it answers each with and what each means. API.md renders it, and
// codeForStatus reads it; a test holds it to the spec's ErrorCode set.
func errorCodes() []codeInfo {
	const (
		s400 = http.StatusBadRequest
		s401 = http.StatusUnauthorized
		s403 = http.StatusForbidden
		s404 = http.StatusNotFound
		s405 = http.StatusMethodNotAllowed
		s409 = http.StatusConflict
		s413 = http.StatusRequestEntityTooLarge
		s422 = http.StatusUnprocessableEntity
		s429 = http.StatusTooManyRequests
		s500 = http.StatusInternalServerError
		s502 = http.StatusBadGateway
		s503 = http.StatusServiceUnavailable
		s504 = http.StatusGatewayTimeout
	)
	return []codeInfo{
		{models.ErrorCodeBootstrapUnknown, []int{s401}, false, "The bootstrap token matches no record for this agent. Copy it again from the Skill Setup; do not retry the same token."},
		{models.ErrorCodeBootstrapUsed, []int{s401}, false, "The bootstrap token was already redeemed (single use). If you redeemed it, use the key you saved; otherwise the owner regenerates the token from the dashboard."},
		{models.ErrorCodeBootstrapExpired, []int{s401}, false, "The bootstrap token went unused for 7 days. The owner re-issues the Skill Setup."},
		{models.ErrorCodeActiveKeyExists, []int{s409}, false, "The agent already has a live key; the token was not consumed. Keep using the live key, or the owner revokes it and you register again with the same token."},
		{models.ErrorCodeKeyExpired, []int{s401}, false, "The API key is past its expiry. Stop; the owner rotates it from settings and you register again with a fresh token."},
		{models.ErrorCodeKeyRevoked, []int{s401}, false, "The owner revoked the API key. Stop polling; register again with a fresh bootstrap token."},
		{models.ErrorCodeUnauthorized, []int{s401}, true, "The Authorization header is missing, in the wrong scheme, or holds an unknown key. No retry helps."},
		{models.ErrorCodeForbidden, []int{s403}, true, "The key is valid, but the order or skill package belongs to another agent. Drop the work item."},
		{models.ErrorCodeNotFound, []int{s404}, true, "No such order, agent, skill file or path. Do not retry."},
		{models.ErrorCodeMethodNotAllowed, []int{s405}, true, "The path takes another method; the Allow header lists the ones it takes."},
		{models.ErrorCodeInvalidRequest, []int{s400, s413, s422}, true, "The request broke the contract (a missing field, a value the platform does not know, a body too large); the message says how. Fix it before sending it again."},
		{models.ErrorCodeConflict, []int{s409}, true, "The order's state does not allow this (declined, denied, flagged, already delivered…). Poll for its state; do not retry blindly."},
		{models.ErrorCodeIdempotencyKeyReused, []int{s422}, false, "The Idempotency-Key was first sent with another request (another operation, order or body). A retry sends the same request; a new request takes a new key."},
		{models.ErrorCodeRateLimited, []int{s429}, true, "Too many requests. Wait for Retry-After, then try again."},
		{models.ErrorCodeInternalError, []int{s500}, true, "The platform failed. Retry with backoff, with the same Idempotency-Key."},
		{models.ErrorCodeUnavailable, []int{s502, s503, s504}, true, "The platform is briefly unavailable. Wait for Retry-After (or back off), then try again."},
	}
}

// codeForStatus is the generic code the fake answers a status with:
// internal_error for a status no generic code claims.
func codeForStatus(status int) models.ErrorCode {
	for _, c := range errorCodes() {
		if c.generic && slices.Contains(c.statuses, status) {
			return c.code
		}
	}
	return models.ErrorCodeInternalError
}

// writeError writes e in the shared envelope, with the request's id and, where
// set, Retry-After in whole seconds (rounded up) and Allow.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, e *apiErr) {
	id := infoFrom(r.Context()).id
	body, _ := json.Marshal(models.ErrorEnvelope{Error: models.ErrorDetail{Code: e.code, Message: e.msg, RequestID: id}})
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(body)+1))
	if len(e.allow) > 0 {
		h.Set("Allow", strings.Join(e.allow, ", "))
	}
	if e.retryAfter > 0 {
		h.Set("Retry-After", strconv.FormatInt(int64((e.retryAfter+time.Second-1)/time.Second), 10))
	}
	w.WriteHeader(e.status)
	_, _ = w.Write(append(body, '\n'))
}

// requestError answers a request the generated layer could not bind. Validation
// runs first, so reaching it means the spec and the generated code disagree.
func (s *Server) requestError(w http.ResponseWriter, r *http.Request, err error) {
	s.writeError(w, r, apiError(http.StatusBadRequest, models.ErrorCodeInvalidRequest, "%v", err))
}

// responseError answers a handler's error: an *apiErr as itself, anything else
// (a body that could not be read, a client gone) as a 400 that is not recorded
// for idempotent replay.
func (s *Server) responseError(w http.ResponseWriter, r *http.Request, err error) {
	var e *apiErr
	if ae, ok := err.(*apiErr); ok {
		e = ae
	} else {
		e = apiError(http.StatusBadRequest, models.ErrorCodeInvalidRequest, "%v", err)
	}
	s.writeError(w, r, e)
}
