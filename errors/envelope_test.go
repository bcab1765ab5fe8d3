package errors_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	herrors "github.com/heepr/heepr-go/errors"
	"github.com/heepr/heepr-go/models"
)

const secret = "sk_live_4f9c2a7e1b8d4c6a9e0f3b5d7a1c2e4f"

// written answers a request with WriteEnvelope and decodes the answer with
// FromResponse, as a client of the service would.
func written(t *testing.T, err error, prepare ...func(http.Header)) (*httptest.ResponseRecorder, *herrors.APIError) {
	t.Helper()
	rec := httptest.NewRecorder()
	for _, p := range prepare {
		p(rec.Header())
	}
	herrors.WriteEnvelope(rec, err)
	got, ok := errors.AsType[*herrors.APIError](herrors.FromResponse(rec.Result()))
	require.True(t, ok, "FromResponse returns an *APIError")
	require.NotNil(t, got.Body)
	got.Body = nil
	return rec, got
}

// Every code of the spec round-trips: New, WriteEnvelope and FromResponse
// give back the same APIError, with the code's status.
func TestWriteEnvelope_RoundTrip(t *testing.T) {
	for _, code := range herrors.SpecErrorCodes(t) {
		t.Run(string(code), func(t *testing.T) {
			want := herrors.New(code, "what went wrong")
			want.RequestID = "req_8f2k1m"
			rec, got := written(t, want)
			assert.Equal(t, herrors.StatusOf(code), rec.Code)
			assert.Equal(t, "application/json", rec.Header().Get("Content-Type"))
			assert.Equal(t, want, got)
			assert.ErrorIs(t, got, herrors.Sentinel(code))
		})
	}
}

func TestWriteEnvelope(t *testing.T) {
	tests := []struct {
		name       string
		err        error
		prepare    func(http.Header)
		want       *herrors.APIError
		wantHeader map[string]string
	}{
		{
			name: "Retry-After in whole seconds, rounded up",
			err: func() error {
				e := herrors.New(models.ErrorCodeRateLimited, "Slow down.")
				e.RetryAfter = 2500 * time.Millisecond
				return e
			}(),
			want:       &herrors.APIError{StatusCode: 429, Code: "rate_limited", Message: "Slow down.", RetryAfter: 3 * time.Second},
			wantHeader: map[string]string{"Retry-After": "3"},
		},
		{
			name:       "a wrapped APIError, its own status kept",
			err:        fmt.Errorf("deliver: %w", &herrors.APIError{StatusCode: 413, Code: "invalid_request", Message: "too large"}),
			want:       &herrors.APIError{StatusCode: 413, Code: "invalid_request", Message: "too large"},
			wantHeader: map[string]string{"Retry-After": ""},
		},
		{
			name: "an APIError without a status gets its code's",
			err:  &herrors.APIError{Code: "method_not_allowed", Message: "GET only"},
			prepare: func(h http.Header) {
				h.Set("Allow", "GET, HEAD")
			},
			want:       &herrors.APIError{StatusCode: 405, Code: "method_not_allowed", Message: "GET only"},
			wantHeader: map[string]string{"Allow": "GET, HEAD"},
		},
		{
			name: "an unknown code is kept, under 500",
			err:  herrors.New("agent_suspended", "suspended"),
			want: &herrors.APIError{StatusCode: 500, Code: "agent_suspended", Message: "suspended"},
		},
		{
			name: "a wrapped specific sentinel is its code",
			err:  fmt.Errorf("auth: %w", herrors.ErrKeyRevoked),
			want: &herrors.APIError{StatusCode: 401, Code: "key_revoked", Message: "Unauthorized"},
		},
		{
			name: "a wrapped generic sentinel",
			err:  fmt.Errorf("order ord_1: %w", herrors.ErrNotFound),
			want: &herrors.APIError{StatusCode: 404, Code: "not_found", Message: "Not Found"},
		},
		{
			name: "any other error is a 500 that does not tell its text",
			err:  errors.New("pq: connection refused at 10.0.0.7"),
			want: &herrors.APIError{StatusCode: 500, Code: "internal_error", Message: "Internal Server Error"},
		},
		{
			name: "nil is a 500 too",
			err:  nil,
			want: &herrors.APIError{StatusCode: 500, Code: "internal_error", Message: "Internal Server Error"},
		},
		{
			name: "no secret reaches the wire",
			err:  &herrors.APIError{StatusCode: 401, Code: "unauthorized", Message: "unknown key " + secret, RequestID: "req_" + secret},
			want: &herrors.APIError{StatusCode: 401, Code: "unauthorized", Message: "unknown key sk_live_…2e4f", RequestID: "req_sk_live_…2e4f"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var prepare []func(http.Header)
			if tt.prepare != nil {
				prepare = append(prepare, tt.prepare)
			}
			rec, got := written(t, tt.err, prepare...)
			assert.Equal(t, tt.want.StatusCode, rec.Code)
			assert.Equal(t, tt.want, got)
			assert.NotContains(t, rec.Body.String(), secret)
			assert.Equal(t, fmt.Sprint(rec.Body.Len()), rec.Header().Get("Content-Length"))
			assert.True(t, strings.HasSuffix(rec.Body.String(), "}\n"))
			for k, v := range tt.wantHeader {
				assert.Equal(t, v, rec.Header().Get(k), k)
			}
		})
	}
}

func TestNew(t *testing.T) {
	e := herrors.New(models.ErrorCodeIdempotencyKeyReused, "key reused by "+secret)
	assert.Equal(t, http.StatusUnprocessableEntity, e.StatusCode)
	assert.Equal(t, models.ErrorCodeIdempotencyKeyReused, e.Code)
	assert.NotContains(t, e.Message, secret, "New redacts the message")
	assert.ErrorIs(t, e, herrors.ErrIdempotencyKeyReused)
	assert.ErrorIs(t, e, herrors.ErrInvalidRequest)
}
