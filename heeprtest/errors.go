package heeprtest

import (
	"encoding/json"
	"fmt"
	"net/http"
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

// codeForStatus is the generic code the fake answers a status with.
func codeForStatus(status int) models.ErrorCode {
	switch status {
	case http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusUnprocessableEntity:
		return models.ErrorCodeInvalidRequest
	case http.StatusMethodNotAllowed:
		return models.ErrorCodeMethodNotAllowed
	case http.StatusUnauthorized:
		return models.ErrorCodeUnauthorized
	case http.StatusForbidden:
		return models.ErrorCodeForbidden
	case http.StatusNotFound:
		return models.ErrorCodeNotFound
	case http.StatusConflict:
		return models.ErrorCodeConflict
	case http.StatusTooManyRequests:
		return models.ErrorCodeRateLimited
	case http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return models.ErrorCodeUnavailable
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
