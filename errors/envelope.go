package errors

import (
	"encoding/json"
	stderrors "errors"
	"net/http"
	"strconv"
	"time"

	"github.com/heepr/heepr-go/models"
)

// New returns the refusal a heepr service answers with: an *APIError with
// code, message (anything in it that looks like a heepr secret redacted) and
// the code's status, [StatusOf]. Set RequestID and RetryAfter on it as need
// be, and StatusCode for a code documented under several statuses; hand it
// to [WriteEnvelope] to answer.
//
// It matches its sentinels under errors.Is as a decoded one does, so a
// service can branch on what it returns the way its clients will.
func New(code models.ErrorCode, message string) *APIError {
	return &APIError{StatusCode: StatusOf(code), Code: code, Message: redactSecrets(message)}
}

// WriteEnvelope answers a request with err in the spec's error envelope,
// {"error": {"code", "message", "request_id"}}, as every non-2xx response of
// the API is written, so that [FromResponse] on the other side decodes it to
// the same APIError (Body aside, and RetryAfter in whole seconds).
//
//   - An *APIError in err's chain is written as it is: its StatusCode (or,
//     when that is not a 4xx or 5xx, [StatusOf] its code), its code, message
//     and request id, and a Retry-After header in whole seconds, rounded up,
//     when RetryAfter is set.
//   - Else a sentinel of this package in the chain (ErrNotFound, say,
//     wrapped as fmt.Errorf("order %s: %w", id, herrors.ErrNotFound)) is
//     written as its code, with its status and the status text as message.
//   - Anything else is a 500 internal_error whose message is the status
//     text: an error the service did not mean for its client, whose text may
//     hold its internals, never reaches the wire.
//
// No secret reaches the wire either: code, message and request id pass
// through the package's redactor, which [APIError.Error] uses, first. It sets
// Content-Type and Content-Length; headers the caller set before it (Allow
// for a 405, X-Request-Id) are kept. Like [http.Error], it writes the header,
// so call it before anything else is written to w.
func WriteEnvelope(w http.ResponseWriter, err error) {
	e := envelopeOf(err)
	status := e.StatusCode
	if status < 400 || status > 599 {
		status = StatusOf(e.Code)
	}
	body, merr := json.Marshal(models.ErrorEnvelope{Error: models.ErrorDetail{
		Code:      models.ErrorCode(redactSecrets(string(e.Code))),
		Message:   redactSecrets(e.Message),
		RequestID: redactSecrets(e.RequestID),
	}})
	if merr != nil { // strings only: cannot happen, but a service must still answer
		body = []byte(`{"error":{"code":"internal_error","message":"Internal Server Error"}}`)
		status = http.StatusInternalServerError
	}
	body = append(body, '\n')
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	if e.RetryAfter > 0 {
		h.Set("Retry-After", strconv.FormatInt(int64((e.RetryAfter+time.Second-1)/time.Second), 10))
	}
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// envelopeOf is what WriteEnvelope writes for err.
func envelopeOf(err error) *APIError {
	if e, ok := stderrors.AsType[*APIError](err); ok && e != nil {
		return e
	}
	// The specific sentinels come first in the table, so a wrapped
	// ErrKeyRevoked is written as key_revoked, not as its class.
	for _, e := range sentinels() {
		if s, ok := e.(*sentinel); ok && stderrors.Is(err, s) {
			return &APIError{StatusCode: s.statuses[0], Code: s.code, Message: http.StatusText(s.statuses[0])}
		}
	}
	return &APIError{StatusCode: http.StatusInternalServerError, Code: models.ErrorCodeInternalError,
		Message: http.StatusText(http.StatusInternalServerError)}
}
