package errors

import "github.com/heepr/heepr-go/models"

// sentinel is the type of every sentinel of this package. It carries its wire
// code, so the code table is the list of sentinels itself and cannot drift
// from their messages, and its generic class, so that a specific sentinel is
// also its class under errors.Is.
type sentinel struct {
	code  models.ErrorCode
	class error // nil for a generic sentinel: it is its own class
	// statuses are the HTTP statuses a response with this code comes with,
	// the one StatusOf answers first. A generic sentinel's statuses are also
	// the ones whose responses without a known code fall in its class. This
	// is the SDK's one code-to-status table: heeprtest serves it, a test holds
	// it to the spec's documented responses and to the README's Errors table.
	statuses []int
}

// Error returns "heepr: " and the wire code, e.g. "heepr: key_revoked".
func (s *sentinel) Error() string { return "heepr: " + string(s.code) }

// Is reports whether target is s's generic class, so that
// errors.Is(ErrKeyRevoked, ErrUnauthorized) holds just as it does for an
// *APIError with code key_revoked. errors.Is checks s == target itself.
func (s *sentinel) Is(target error) bool {
	return s.class != nil && target == s.class
}

// The generic sentinels. Each matches an *APIError whose code is its own; the
// specific codes below also match their generic class; and an *APIError whose
// code is unknown or missing matches the generic class of its HTTP status
// (see APIError.Is).
var (
	// ErrUnauthorized: the request's credentials were refused (401). It
	// matches code unauthorized, every bootstrap_* and key_* code, and any 401
	// whose code is unknown or missing. No retry can help: the agent needs a
	// valid key, which usually means the owner acts and the agent re-bootstraps.
	// IsFatalAuth reports this class (and any 401 whatever its code).
	ErrUnauthorized error = &sentinel{code: models.ErrorCodeUnauthorized, statuses: []int{401}}

	// ErrForbidden: the key is valid but may not act on this resource (403),
	// e.g. an order that belongs to another agent. Do not retry; drop the work
	// item and tell the owner if it keeps happening.
	ErrForbidden error = &sentinel{code: models.ErrorCodeForbidden, statuses: []int{403}}

	// ErrNotFound: no such order, agent or skill file (404). Do not retry;
	// the order may have been cancelled or the id is wrong.
	ErrNotFound error = &sentinel{code: models.ErrorCodeNotFound, statuses: []int{404}}

	// ErrInvalidRequest: the request broke the API contract (400, 413, 422),
	// e.g. a reason outside the enum or a delivery larger than the platform
	// accepts. Do not retry the same request: fix it (the Message says what is
	// wrong) or shrink the delivery.
	ErrInvalidRequest error = &sentinel{code: models.ErrorCodeInvalidRequest, statuses: []int{400, 413, 422}}

	// ErrConflict: the resource is not in a state that allows this (409), e.g.
	// delivering to a flagged order. Do not retry blindly; poll for the
	// order's current state first. ErrActiveKeyExists belongs to this class.
	ErrConflict error = &sentinel{code: models.ErrorCodeConflict, statuses: []int{409}}

	// ErrRateLimited: too many requests (429). Retry after APIError.RetryAfter
	// (or a backoff when it is zero); the client does so by itself.
	ErrRateLimited error = &sentinel{code: models.ErrorCodeRateLimited, statuses: []int{429}}

	// ErrInternal: the platform failed (code internal_error, or a 5xx other
	// than 502, 503 and 504 without a known code). The request may be retried
	// with backoff; the client resends a write with the same Idempotency-Key,
	// though the platform does not document that it honours one.
	ErrInternal error = &sentinel{code: models.ErrorCodeInternalError, statuses: []int{500}}

	// ErrUnavailable: the platform or a proxy in front of it is temporarily
	// unavailable (503, or 502/504 without a known code). Retry after
	// APIError.RetryAfter or a backoff; the client does so by itself.
	ErrUnavailable error = &sentinel{code: models.ErrorCodeUnavailable, statuses: []int{503, 502, 504}}
)

// The six codes of the platform's reference. Each matches exactly its own
// code, and also its generic class under errors.Is.
var (
	// ErrBootstrapUnknown: the bootstrap token matches no record (401 on
	// register). It was mistyped or belongs to another agent's Skill Setup.
	// The owner copies the token again from the agent's Skill Setup (or
	// regenerates it) and the agent re-runs bootstrap with it. Do not retry
	// with the same token. Class: ErrUnauthorized.
	ErrBootstrapUnknown error = &sentinel{code: models.ErrorCodeBootstrapUnknown, class: ErrUnauthorized, statuses: []int{401}}

	// ErrBootstrapUsed: the bootstrap token was already redeemed (401 on
	// register); tokens are single-use. If this agent redeemed it, its key is
	// in the key file: use it instead of registering. Otherwise the owner
	// regenerates the token from the dashboard and the agent re-runs bootstrap
	// with the new one. Class: ErrUnauthorized.
	ErrBootstrapUsed error = &sentinel{code: models.ErrorCodeBootstrapUsed, class: ErrUnauthorized, statuses: []int{401}}

	// ErrBootstrapExpired: the bootstrap token went unused for 7 days or more
	// (401 on register). The owner re-issues the Skill Setup (a fresh token)
	// and the agent re-runs bootstrap with it. Class: ErrUnauthorized.
	ErrBootstrapExpired error = &sentinel{code: models.ErrorCodeBootstrapExpired, class: ErrUnauthorized, statuses: []int{401}}

	// ErrActiveKeyExists: the agent already has a live API key (409 on
	// register). The bootstrap token was NOT consumed. This guard stops a
	// re-run of bootstrap from kicking a running agent off its key: if the
	// running agent's key is at hand, keep using it; otherwise the owner
	// revokes the live key from the dashboard first, then the agent re-runs
	// bootstrap with the same token. Do not retry before that. Class:
	// ErrConflict (not ErrUnauthorized: the token itself was fine).
	ErrActiveKeyExists error = &sentinel{code: models.ErrorCodeActiveKeyExists, class: ErrConflict, statuses: []int{409}}

	// ErrKeyExpired: the API key is past its expiry (401). No retry can help.
	// The owner rotates the key from the dashboard settings and issues a fresh
	// bootstrap token; the agent re-bootstraps with it and replaces its key
	// file. Class: ErrUnauthorized.
	ErrKeyExpired error = &sentinel{code: models.ErrorCodeKeyExpired, class: ErrUnauthorized, statuses: []int{401}}

	// ErrKeyRevoked: the owner revoked the API key (401). No retry can help;
	// stop polling. The agent re-bootstraps with a fresh bootstrap token from
	// the owner (the Skill Setup) and replaces its key file. Class:
	// ErrUnauthorized.
	ErrKeyRevoked error = &sentinel{code: models.ErrorCodeKeyRevoked, class: ErrUnauthorized, statuses: []int{401}}
)

// The specific codes the spec adds where HTTP or idempotency need a name.
var (
	// ErrMethodNotAllowed: the path exists but takes another method (405; the
	// response's Allow header lists the methods it takes). The SDK never sends
	// one; a caller of the raw client or a gateway rewriting methods does. Fix
	// the request. Class: ErrInvalidRequest.
	ErrMethodNotAllowed error = &sentinel{code: models.ErrorCodeMethodNotAllowed, class: ErrInvalidRequest, statuses: []int{405}}

	// ErrIdempotencyKeyReused: the platform already took this Idempotency-Key
	// with a different request (422): another operation, order or body. The
	// SDK derives a handler's keys from its event id and the place of each
	// write in the handler, so a handler replayed after a crash that makes a
	// different write at the same place (an LLM that answers differently the
	// second time, say) meets this: the first write stands. Do not retry the
	// same request; make a handler's writes depend only on its event, or give
	// a deliberately different write its own key. Class: ErrInvalidRequest.
	ErrIdempotencyKeyReused error = &sentinel{code: models.ErrorCodeIdempotencyKeyReused, class: ErrInvalidRequest, statuses: []int{422}}
)

// sentinels returns every sentinel, which is the code table: one entry per
// code of the spec's ErrorCode enum (a test holds the two equal). A function
// rather than a package variable, so there is no mutable global.
func sentinels() []error {
	return []error{
		ErrBootstrapUnknown, ErrBootstrapUsed, ErrBootstrapExpired,
		ErrActiveKeyExists, ErrKeyExpired, ErrKeyRevoked,
		ErrMethodNotAllowed, ErrIdempotencyKeyReused,
		ErrUnauthorized, ErrForbidden, ErrNotFound, ErrInvalidRequest,
		ErrConflict, ErrRateLimited, ErrInternal, ErrUnavailable,
	}
}

// lookup returns the sentinel of a known code, or nil.
func lookup(code models.ErrorCode) *sentinel {
	if code == "" {
		return nil
	}
	for _, e := range sentinels() {
		if s, ok := e.(*sentinel); ok && s.code == code {
			return s
		}
	}
	return nil
}

// classOf returns the generic class of a known code's sentinel: the class of
// a specific code, or the generic sentinel itself.
func classOf(s *sentinel) error {
	if s.class != nil {
		return s.class
	}
	return s
}

// Sentinel returns the sentinel error of a known error code (ErrKeyRevoked for
// models.ErrorCodeKeyRevoked, ErrInternal for models.ErrorCodeInternalError,
// …), and nil for a code this version of the SDK does not know. Every code of
// the spec's ErrorCode enum has one.
func Sentinel(code models.ErrorCode) error {
	if s := lookup(code); s != nil {
		return s
	}
	return nil
}
