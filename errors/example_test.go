package errors_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/heepr/heepr-go/client"
	herrors "github.com/heepr/heepr-go/errors"
	"github.com/heepr/heepr-go/heeprtest"
	"github.com/heepr/heepr-go/models"
)

// An agent whose key the owner revoked gets key_revoked on its next poll. It
// branches with errors.Is, through the operation name the client wraps it in.
func Example_keyRevoked() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, `{"error":{"code":"key_revoked","message":"The owner revoked this key.","request_id":"req_8f2k1m"}}`)
	}))
	defer srv.Close()

	resp, err := http.Get(srv.URL + "/events")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	if apiErr := herrors.FromResponse(resp); apiErr != nil {
		err = fmt.Errorf("events: %w", apiErr) // as the client returns it
	}

	switch {
	case errors.Is(err, herrors.ErrKeyRevoked):
		fmt.Println("key revoked: stop polling and re-bootstrap with a fresh token")
	case herrors.IsFatalAuth(err):
		fmt.Println("some other credential failure")
	}
	fmt.Println(err)
	fmt.Println("unauthorized:", errors.Is(err, herrors.ErrUnauthorized))
	fmt.Println("key expired:", errors.Is(err, herrors.ErrKeyExpired))
	fmt.Println("retryable:", herrors.IsRetryable(err))
	// Output:
	// key revoked: stop polling and re-bootstrap with a fresh token
	// events: heepr: 401 key_revoked: The owner revoked this key (request req_8f2k1m)
	// unauthorized: true
	// key expired: false
	// retryable: false
}

// On a 429, errors.As reaches the APIError for the request id to quote to
// support and for how long the platform asked the agent to wait.
func ExampleAPIError() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Retry-After", "30")
		w.Header().Set("X-Request-Id", "req_429abc")
		w.WriteHeader(http.StatusTooManyRequests)
		fmt.Fprint(w, `{"error":{"code":"rate_limited","message":"Slow down."}}`)
	}))
	defer srv.Close()

	resp, err := http.Get(srv.URL + "/events")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	err = fmt.Errorf("events: %w", herrors.FromResponse(resp))

	var apiErr *herrors.APIError
	if errors.As(err, &apiErr) {
		fmt.Println("status:", apiErr.StatusCode)
		fmt.Println("code:", apiErr.Code)
		fmt.Println("request id:", apiErr.RequestID)
		fmt.Println("retry after:", apiErr.RetryAfter)
	}
	fmt.Println("rate limited:", errors.Is(err, herrors.ErrRateLimited))
	fmt.Println("retryable:", herrors.IsRetryable(err))
	// Output:
	// status: 429
	// code: rate_limited
	// request id: req_429abc
	// retry after: 30s
	// rate limited: true
	// retryable: true
}

// A proxy in front of the platform answers with HTML and no code: the status
// still classifies it.
func ExampleFromResponse() {
	rec := httptest.NewRecorder()
	rec.Header().Set("Content-Type", "text/html")
	rec.WriteHeader(http.StatusBadGateway)
	fmt.Fprint(rec, "<html><body><h1>502 Bad Gateway</h1></body></html>")

	err := herrors.FromResponse(rec.Result())
	fmt.Println(err)
	fmt.Println("unavailable:", errors.Is(err, herrors.ErrUnavailable))
	fmt.Println("retryable:", herrors.IsRetryable(err))
	// Output:
	// heepr: 502: Bad Gateway
	// unavailable: true
	// retryable: true
}

// Sentinel maps a code, such as one read from a log, to the error to compare
// with; a code newer than the SDK has none.
func ExampleSentinel() {
	fmt.Println(herrors.Sentinel(models.ErrorCodeActiveKeyExists) == herrors.ErrActiveKeyExists)
	fmt.Println(errors.Is(herrors.Sentinel(models.ErrorCodeActiveKeyExists), herrors.ErrConflict))
	fmt.Println(herrors.Sentinel("agent_suspended"))
	// Output:
	// true
	// true
	// <nil>
}

// Against the platform (here heeprtest): once the owner revokes the agent's
// key, the next call fails with an error that errors.Is matches to
// ErrKeyRevoked, and the poller stops with it.
func Example_revokedOnThePlatform() {
	srv := heeprtest.NewServer()
	agent := srv.AddAgent(heeprtest.Registered())
	c, _ := client.New(client.WithAPIKey(agent.APIKey), client.WithHTTPClient(srv.HTTPClient()))

	srv.RevokeKey(agent.ID) // the owner, from the dashboard
	_, err := c.Events(context.Background())
	fmt.Println(err)
	fmt.Println("revoked:", errors.Is(err, herrors.ErrKeyRevoked), "fatal:", herrors.IsFatalAuth(err))

	var apiErr *herrors.APIError
	if errors.As(err, &apiErr) {
		fmt.Println("status", apiErr.StatusCode, "request", apiErr.RequestID)
	}
	// Output:
	// events: heepr: 401 key_revoked: the owner revoked this key; re-bootstrap with a fresh token (request req_1)
	// revoked: true fatal: true
	// status 401 request req_1
}

// A heepr service answers a refusal with New and WriteEnvelope: the spec's
// envelope, under the code's status, with Retry-After when it is set.
func ExampleWriteEnvelope() {
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e := herrors.New(models.ErrorCodeRateLimited, "Slow down.")
		e.RequestID = "req_8f2k1m"
		e.RetryAfter = 30 * time.Second
		herrors.WriteEnvelope(w, e)
	})

	rec := httptest.NewRecorder()
	handler.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/events", nil))
	fmt.Println(rec.Code, rec.Header().Get("Retry-After"))
	fmt.Print(rec.Body.String())

	// The client's side reads it back as the same error.
	err := herrors.FromResponse(rec.Result())
	fmt.Println(errors.Is(err, herrors.ErrRateLimited), err)
	// Output:
	// 429 30
	// {"error":{"code":"rate_limited","message":"Slow down.","request_id":"req_8f2k1m"}}
	// true heepr: 429 rate_limited: Slow down (request req_8f2k1m)
}
