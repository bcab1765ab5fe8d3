// Package errors is the error taxonomy of the heepr agent API: every call of
// the SDK that fails because the platform said no comes back as an *APIError
// a program can branch on with the standard library's errors.Is and
// errors.As, whatever the response body looked like.
//
// Import it as herrors beside the standard library's errors:
//
//	import (
//		"errors"
//
//		herrors "github.com/heepr/heepr-go/errors"
//	)
//
// # How it fits
//
// The platform answers every refusal with the error envelope of openapi.yaml,
// {"error": {"code", "message", "request_id"}}. FromResponse turns any non-2xx
// response into an *APIError, from that envelope or from whatever else arrived
// (a proxy's HTML page, an empty or truncated body). The client calls it on
// every failed response and returns the result wrapped with the operation's
// name, e.g. fmt.Errorf("events: %w", apiErr), so errors.Is and errors.As see
// through to it. heepr's own Go services import this package too, so both
// sides of the wire share one list of codes.
//
// There is one sentinel per known code of the spec's open set ErrorCode: the six of the
// platform's reference (ErrBootstrapUnknown, ErrBootstrapUsed,
// ErrBootstrapExpired, ErrActiveKeyExists, ErrKeyExpired, ErrKeyRevoked) and
// the two the spec adds (ErrMethodNotAllowed, ErrIdempotencyKeyReused), each
// matching exactly its code, and the generic classes (ErrUnauthorized,
// ErrForbidden, ErrNotFound, ErrInvalidRequest, ErrConflict, ErrRateLimited,
// ErrInternal, ErrUnavailable), each matching its own code, the specific codes
// of its class and, for a code this SDK does not know or a body with no code,
// the HTTP status. Each sentinel's doc says what the agent or its owner should
// do. IsRetryable and IsFatalAuth are the two verdicts the client's retry loop
// and the poller act on.
//
// No error string of this package contains a whole heepr secret: APIError's
// Error and GoString redact anything that looks like an API key or bootstrap
// token, even one the server echoed in a message.
//
// # For heepr's services
//
// The server side of the same wire: [New] builds the refusal for a code,
// with the code's status from [StatusOf], the one code-to-status table (a
// test holds it to the spec's documented responses and to the README);
// [WriteEnvelope] writes any error as the envelope, with Retry-After when
// set and no secret, so that FromResponse on the client reads back the same
// APIError; [CodeForStatus] names the code of a bare status. heeprtest, the
// fake platform, answers through them.
//
// # First use
//
//	events, err := c.Events(ctx)
//	switch {
//	case errors.Is(err, herrors.ErrKeyRevoked):
//		// The owner revoked the key: stop, and re-bootstrap with a fresh token.
//	case herrors.IsFatalAuth(err):
//		// Some other credential failure: no retry can help.
//	case herrors.IsRetryable(err):
//		var apiErr *herrors.APIError
//		if errors.As(err, &apiErr) && apiErr.RetryAfter > 0 {
//			// Wait apiErr.RetryAfter before the next poll.
//		}
//	case err != nil:
//		log.Printf("poll failed: %v", err) // e.g. events: heepr: 403 forbidden: … (request req_…)
//	}
//	_ = events
package errors
