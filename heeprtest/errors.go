package heeprtest

import (
	"fmt"
	"net/http"
	"slices"
	"strings"

	herrors "github.com/heepr/heepr-go/errors"
	"github.com/heepr/heepr-go/models"
)

// apiErr is an answer in the shared error envelope: the refusal, its status
// from herrors' one code-to-status table unless a fault says otherwise, and,
// for a 405, the methods the path takes. The API's handlers return it as
// their error; the strict server's error hook writes it.
type apiErr struct {
	*herrors.APIError
	allow []string // the methods the path takes, for the Allow header of a 405
}

func (e *apiErr) Error() string { return fmt.Sprintf("%d %s: %s", e.StatusCode, e.Code, e.Message) }

// apiError is the refusal with code, under the code's status (herrors.StatusOf).
func apiError(code models.ErrorCode, format string, args ...any) *apiErr {
	return &apiErr{APIError: herrors.New(code, fmt.Sprintf(format, args...))}
}

// methodNotAllowed is the 405 for a path that takes only the allow methods.
func methodNotAllowed(method, path string, allow []string) *apiErr {
	e := apiError(models.ErrorCodeMethodNotAllowed,
		"method not allowed: %s takes %s, not %s", path, strings.Join(allow, ", "), method)
	e.allow = allow
	return e
}

// codeInfo is what the fake answers one error code of the spec with.
type codeInfo struct {
	code models.ErrorCode
	// meaning is what the code tells an agent, and what to do, for API.md.
	meaning string
}

// errorCodes is what each error code means, in the spec's order, for API.md;
// a test holds it to the spec's ErrorCode set. The statuses are herrors'
// (statusesOf), not the fake's own.
func errorCodes() []codeInfo {
	return []codeInfo{
		{models.ErrorCodeBootstrapUnknown, "The bootstrap token matches no record for this agent. Copy it again from the Skill Setup; do not retry the same token."},
		{models.ErrorCodeBootstrapUsed, "The bootstrap token was already redeemed (single use). If you redeemed it, use the key you saved; otherwise the owner regenerates the token from the dashboard."},
		{models.ErrorCodeBootstrapExpired, "The bootstrap token went unused for 7 days. The owner re-issues the Skill Setup."},
		{models.ErrorCodeActiveKeyExists, "The agent already has a live key; the token was not consumed. Keep using the live key, or the owner revokes it and you register again with the same token."},
		{models.ErrorCodeKeyExpired, "The API key is past its expiry. Stop; the owner rotates it from settings and you register again with a fresh token."},
		{models.ErrorCodeKeyRevoked, "The owner revoked the API key. Stop polling; register again with a fresh bootstrap token."},
		{models.ErrorCodeUnauthorized, "The Authorization header is missing, in the wrong scheme, or holds an unknown key. No retry helps."},
		{models.ErrorCodeForbidden, "The key is valid, but the order or skill package belongs to another agent. Drop the work item."},
		{models.ErrorCodeNotFound, "No such order, agent, skill file or path. Do not retry."},
		{models.ErrorCodeMethodNotAllowed, "The path takes another method; the Allow header lists the ones it takes."},
		{models.ErrorCodeInvalidRequest, "The request broke the contract (a missing field, a value the platform does not know, a body too large); the message says how. Fix it before sending it again."},
		{models.ErrorCodeConflict, "The order's state does not allow this (declined, denied, flagged, already delivered…). Poll for its state; do not retry blindly."},
		{models.ErrorCodeIdempotencyKeyReused, "The Idempotency-Key was first sent with another request (another operation, order or body). A retry sends the same request; a new request takes a new key."},
		{models.ErrorCodeRateLimited, "Too many requests. Wait for Retry-After, then try again."},
		{models.ErrorCodeInternalError, "The platform failed. Retry with backoff, with the same Idempotency-Key."},
		{models.ErrorCodeUnavailable, "The platform is briefly unavailable. Wait for Retry-After (or back off), then try again."},
	}
}

// statusesOf lists the statuses a response with code comes with, for API.md:
// its usual one (herrors.StatusOf) and every other that stands for it
// (herrors.CodeForStatus), in order.
func statusesOf(code models.ErrorCode) []int {
	out := []int{herrors.StatusOf(code)}
	for st := 400; st <= 599; st++ {
		if st != out[0] && herrors.CodeForStatus(st) == code {
			out = append(out, st)
		}
	}
	slices.Sort(out)
	return out
}

// codeForStatus is the code the fake answers a bare status with (an injected
// FaultStatus without a Code): herrors.CodeForStatus, else internal_error.
func codeForStatus(status int) models.ErrorCode {
	if code := herrors.CodeForStatus(status); code != "" {
		return code
	}
	return models.ErrorCodeInternalError
}

// writeError writes e in the shared envelope (herrors.WriteEnvelope: the
// status, Retry-After when set, no secret) with the request's id, and Allow
// for a 405.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, e *apiErr) {
	if len(e.allow) > 0 {
		w.Header().Set("Allow", strings.Join(e.allow, ", "))
	}
	out := *e.APIError
	out.RequestID = infoFrom(r.Context()).id
	herrors.WriteEnvelope(w, &out)
}

// requestError answers a request the generated layer could not bind. Validation
// runs first, so reaching it means the spec and the generated code disagree.
func (s *Server) requestError(w http.ResponseWriter, r *http.Request, err error) {
	s.writeError(w, r, apiError(models.ErrorCodeInvalidRequest, "%v", err))
}

// responseError answers a handler's error: an *apiErr as itself, anything else
// (a body that could not be read, a client gone) as a 400 that is not recorded
// for idempotent replay.
func (s *Server) responseError(w http.ResponseWriter, r *http.Request, err error) {
	var e *apiErr
	if ae, ok := err.(*apiErr); ok {
		e = ae
	} else {
		e = apiError(models.ErrorCodeInvalidRequest, "%v", err)
	}
	s.writeError(w, r, e)
}
