package errors

import (
	"net/http"
	"slices"

	"github.com/heepr/heepr-go/models"
)

// StatusOf returns the HTTP status a response with code carries: 401 for
// key_revoked and the other credential codes, 405 for method_not_allowed,
// 409 for active_key_exists and conflict, 422 for idempotency_key_reused,
// 400 for invalid_request, 503 for unavailable, and so on, one per code of
// the spec's ErrorCode set. It is the SDK's one code-to-status table:
// [New] and [WriteEnvelope] answer with it, heeprtest serves it, and a test
// holds it to the spec's documented responses and to the README's Errors
// table.
//
// Where a code is documented under several statuses (invalid_request under
// 400, 413 and 422; unavailable under 502, 503 and 504), StatusOf gives the
// usual one; a service that means another sets APIError.StatusCode itself.
// A code this version of the SDK does not know gets 500, as an error the
// service cannot classify is its own failure.
func StatusOf(code models.ErrorCode) int {
	if s := lookup(code); s != nil {
		return s.statuses[0]
	}
	return http.StatusInternalServerError
}

// CodeForStatus returns the code a response of status carries when nothing
// more specific is known (a bare http.Error, an injected fault, a proxy's
// page): the generic code whose statuses include it (unauthorized for 401,
// invalid_request for 400, 413 and 422, unavailable for 502, 503 and 504…),
// else the one specific code documented under it (method_not_allowed for
// 405), else "" (a 2xx, 410, 418, 501…): the caller picks, internal_error
// for a 5xx say. It reads the same table as [StatusOf].
func CodeForStatus(status int) models.ErrorCode {
	if s := forStatus(status); s != nil {
		return s.code
	}
	return ""
}

// forStatus returns the sentinel of CodeForStatus(status), or nil.
func forStatus(status int) *sentinel {
	var specific *sentinel
	for _, e := range sentinels() {
		s, ok := e.(*sentinel)
		if !ok || !slices.Contains(s.statuses, status) {
			continue
		}
		if s.class == nil {
			return s
		}
		if specific == nil {
			specific = s
		}
	}
	return specific
}

// statusClass returns the generic sentinel for an HTTP status, used when the
// body carries no known code: a proxy's HTML page, an empty body, or a code
// newer than this SDK. It is the class of the code the status stands for in
// the table (so 405, method_not_allowed's status, is ErrInvalidRequest), and
// ErrInternal for any other 5xx; nil for statuses outside every class (2xx,
// 3xx, unusual 4xx such as 410 or 418).
func statusClass(status int) error {
	if s := forStatus(status); s != nil {
		return classOf(s)
	}
	if status >= 500 && status <= 599 {
		return ErrInternal
	}
	return nil
}
