package errors

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/heepr/heepr-go/models"
)

// Limits on each part of APIError.Error, so that a server (or a proxy) that
// answers with a 64 KiB message cannot flood a log line.
const (
	maxCodeLen      = 64
	maxMessageLen   = 256
	maxRequestIDLen = 128
	// maxServerString caps every string the server sets that an APIError
	// keeps (request id, message), so that %#v of a hostile answer's error
	// stays small too.
	maxServerString = 256
)

// APIError is a refusal by the heepr platform (or by a proxy in front of it):
// a response with a non-2xx status, decoded from whatever its body looked
// like. FromResponse builds it; the client returns it wrapped with the name
// of the operation.
//
// Branch on it with errors.Is against the sentinels of this package (see Is)
// and read its fields with errors.As.
type APIError struct {
	// StatusCode is the HTTP status of the response; 0 only when there was no
	// response at all (FromResponse(nil)).
	StatusCode int

	// Code is the error envelope's code, kept verbatim even when this SDK does
	// not know it; empty when the body carried no code (an HTML page from a
	// proxy, an empty body, truncated JSON).
	Code models.ErrorCode

	// Message is the server's human-readable explanation, with anything that
	// looks like a heepr secret redacted. When the body had none it is
	// something useful instead, such as the status text ("Bad Gateway").
	Message string

	// RequestID is the platform's id for the request, for support: the
	// envelope's request_id, else the X-Request-Id response header; empty when
	// neither was present.
	RequestID string

	// RetryAfter is how long the server asked the caller to wait before the
	// next attempt, from the Retry-After header in either of its forms
	// (delta-seconds or an HTTP-date, measured from time.Now()). It is zero
	// when the header is absent, unparseable, negative, in the past, or too
	// large for a time.Duration: zero means "no hint", never "retry at once".
	RetryAfter time.Duration

	// Body is the raw response body, at most MaxBodyBytes of it, nil when the
	// body was empty or missing. It is verbatim and unredacted, for debugging;
	// do not log it where a secret must not appear.
	Body []byte
}

// Error reads well in a log line: status, code, message and request id, e.g.
//
//	heepr: 401 key_revoked: The owner revoked this key (request req_8f2k1m)
//
// Parts that are absent are left out (a zero APIError reads "heepr: API
// error"). It never includes a header's value other than the request id, nor
// the body.
//
// Anything that looks like a heepr secret (sk_live_…, sk_test_…, bs_…) is
// redacted to at most its prefix and last four characters, so no error string
// of this SDK contains a whole key or token, whatever the server sent. Control
// characters become spaces and each part is capped in length, so one error is
// one line of bounded size.
func (e *APIError) Error() string {
	if e == nil {
		return "heepr: <nil APIError>"
	}
	var b strings.Builder
	b.WriteString("heepr:")
	if e.StatusCode != 0 {
		b.WriteString(" ")
		b.WriteString(strconv.Itoa(e.StatusCode))
	}
	if c := oneLine(redactSecrets(string(e.Code)), maxCodeLen); c != "" {
		b.WriteString(" ")
		b.WriteString(c)
	}
	// Go error strings do not end in punctuation, and this one may be wrapped
	// ("events: heepr: …"), so the message's final period goes.
	msg := strings.TrimSuffix(oneLine(redactSecrets(e.Message), maxMessageLen), ".")
	if msg != "" {
		if b.Len() > len("heepr:") {
			b.WriteString(":")
		}
		b.WriteString(" ")
		b.WriteString(msg)
	}
	if b.Len() == len("heepr:") { // a zero APIError still says what it is
		b.WriteString(" API error")
	}
	if id := oneLine(redactSecrets(e.RequestID), maxRequestIDLen); id != "" {
		b.WriteString(" (request ")
		b.WriteString(id)
		b.WriteString(")")
	}
	return b.String()
}

// GoString makes %#v as safe as Error: it prints the fields with the message
// and request id redacted and the body reduced to its length, because %#v of
// a plain struct would print both verbatim.
func (e *APIError) GoString() string {
	if e == nil {
		return "(*errors.APIError)(nil)"
	}
	return fmt.Sprintf("&errors.APIError{StatusCode:%d, Code:%q, Message:%q, RequestID:%q, RetryAfter:%d, Body:[]byte{/* %d bytes */}}",
		e.StatusCode, redactSecrets(string(e.Code)), redactSecrets(e.Message),
		redactSecrets(e.RequestID), int64(e.RetryAfter), len(e.Body))
}

// Is makes errors.Is branch on an APIError by its code, falling back on its
// status:
//
//   - A specific sentinel (ErrKeyRevoked, ErrBootstrapUsed, …) matches exactly
//     its own code.
//   - A generic sentinel (ErrUnauthorized, ErrConflict, …) matches its own
//     code and the specific codes of its class: every bootstrap_* and key_*
//     code is ErrUnauthorized, active_key_exists is ErrConflict.
//   - When the code is unknown to this SDK or missing, the generic sentinel
//     of the HTTP status matches: 400, 405, 413, 422 ErrInvalidRequest; 401
//     ErrUnauthorized; 403 ErrForbidden; 404 ErrNotFound; 409 ErrConflict;
//     429 ErrRateLimited; 502, 503, 504 ErrUnavailable; any other 5xx
//     ErrInternal. A known code decides alone; the status is not consulted.
func (e *APIError) Is(target error) bool {
	if e == nil {
		return false
	}
	if _, ok := target.(*sentinel); !ok {
		return false // not ours: errors.Is has already compared identity
	}
	if s := lookup(e.Code); s != nil {
		return target == error(s) || target == classOf(s)
	}
	class := statusClass(e.StatusCode)
	return class != nil && target == class
}
