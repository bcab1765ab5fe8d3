package errors

import (
	stderrors "errors"
	"fmt"
	"net/http"
	"strings"
)

// ErrInvalidResponse: the platform answered with a success status (2xx) and
// something that breaks the API contract: a required field missing, data
// after the JSON, the wrong content type, a file that does not match its
// SHA-256. The client does not retry it, and for a write it logs at error
// level, since the write may have happened: check the order's state before
// trying it again. An *InvalidResponseError says what was wrong.
var ErrInvalidResponse = stderrors.New("heepr: the platform's answer breaks the API contract")

// InvalidResponseError is the error of a 2xx answer that breaks the API
// contract. It matches ErrInvalidResponse under errors.Is.
type InvalidResponseError struct {
	// StatusCode is the answer's status.
	StatusCode int
	// RequestID is the X-Request-Id of the answer, at most 128 bytes of it.
	RequestID string
	// Reason says what broke the contract.
	Reason string
}

// NewInvalidResponse returns the error of res, which breaks the contract as
// reason says (res may be nil). Like every error of this package it holds no
// secret and no string of the server's longer than its caps.
func NewInvalidResponse(res *http.Response, reason string) *InvalidResponseError {
	e := &InvalidResponseError{Reason: reason}
	if res != nil {
		e.StatusCode = res.StatusCode
		e.RequestID = oneLine(redactSecrets(strings.TrimSpace(res.Header.Get("X-Request-Id"))), maxRequestIDLen)
	}
	return e
}

// Error says what was wrong, with the status and the request id, e.g.
//
//	heepr: the platform's 202 answer breaks the API contract: the receipt has no id (request req_8)
func (e *InvalidResponseError) Error() string {
	var b strings.Builder
	b.WriteString("heepr: the platform's ")
	if e.StatusCode != 0 {
		fmt.Fprintf(&b, "%d ", e.StatusCode)
	}
	b.WriteString("answer breaks the API contract")
	if r := oneLine(redactSecrets(e.Reason), maxMessageLen); r != "" {
		b.WriteString(": ")
		b.WriteString(r)
	}
	if id := oneLine(redactSecrets(e.RequestID), maxRequestIDLen); id != "" {
		fmt.Fprintf(&b, " (request %s)", id)
	}
	return b.String()
}

// Is reports whether target is ErrInvalidResponse.
func (e *InvalidResponseError) Is(target error) bool { return target == ErrInvalidResponse }

// Permanent reports that no retry can mend the answer: the client does not
// retry it.
func (e *InvalidResponseError) Permanent() bool { return true }
