package errors_test

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	herrors "github.com/heepr/heepr-go/errors"
)

func TestAPIErrorError(t *testing.T) {
	tests := []struct {
		name string
		err  *herrors.APIError
		want string
	}{
		{
			name: "everything",
			err:  &herrors.APIError{StatusCode: 401, Code: "key_revoked", Message: "The owner revoked this key.", RequestID: "req_8f2k1m"},
			want: "heepr: 401 key_revoked: The owner revoked this key (request req_8f2k1m)",
		},
		{
			name: "no code",
			err:  &herrors.APIError{StatusCode: 503, Message: "Service Unavailable"},
			want: "heepr: 503: Service Unavailable",
		},
		{
			name: "no message",
			err:  &herrors.APIError{StatusCode: 500, Code: "internal_error", RequestID: "req_1"},
			want: "heepr: 500 internal_error (request req_1)",
		},
		{
			name: "unknown code",
			err:  &herrors.APIError{StatusCode: 403, Code: "agent_suspended", Message: "Suspended"},
			want: "heepr: 403 agent_suspended: Suspended",
		},
		{
			name: "no status",
			err:  &herrors.APIError{Message: "no HTTP response"},
			want: "heepr: no HTTP response",
		},
		{
			name: "zero value",
			err:  &herrors.APIError{},
			want: "heepr: API error",
		},
		{
			name: "multi-line message becomes one line",
			err:  &herrors.APIError{StatusCode: 400, Code: "invalid_request", Message: "bad field\nlevel=ERROR msg=forged\r\n"},
			want: "heepr: 400 invalid_request: bad field level=ERROR msg=forged",
		},
		{
			name: "never the body nor the headers' other values",
			err: &herrors.APIError{StatusCode: 429, Code: "rate_limited", Message: "Slow down.",
				RetryAfter: 30 * time.Second, Body: []byte(`{"secret":"body"}`)},
			want: "heepr: 429 rate_limited: Slow down",
		},
		{
			name: "nil",
			err:  nil,
			want: "heepr: <nil APIError>",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, tt.err.Error())
		})
	}
}

func TestAPIErrorErrorIsBounded(t *testing.T) {
	err := &herrors.APIError{StatusCode: 500, Code: "internal_error",
		Message:   strings.Repeat("very long message ", 4000),
		RequestID: strings.Repeat("r", 1000)}
	s := err.Error()
	assert.Less(t, len(s), 1024, "a 72 KB message does not make a 72 KB log line")
	assert.Contains(t, s, "…")
	assert.True(t, strings.HasPrefix(s, "heepr: 500 internal_error: very long message"))
}

// TestAPIErrorRedactsSecrets: the SDK promises no error string contains a
// whole key or token, even when the server echoes one in its message.
func TestAPIErrorRedactsSecrets(t *testing.T) {
	const key = "sk_live_4f9c2a7e1b8d4c6a9e0f3b5d7a1c2e4f"
	const testKey = "sk_test_0123456789abcdef0123456789abcdef"
	const token = "bs_9f3a8c1d2e4b6a7f0c9f3a8c1d2e4b6a"
	secrets := []string{key, testKey, token}

	fromServer := func(t *testing.T) error {
		get := serve(t, []response{{401,
			map[string]string{"Content-Type": "application/json", "X-Request-Id": "req_" + key},
			envelope("key_revoked", "The key "+key+" was revoked; test key "+testKey+", token "+token+".", ""),
		}})
		_, err := get(0)
		return err
	}
	errs := map[string]func(t *testing.T) error{
		"decoded from a response": fromServer,
		"built by hand": func(*testing.T) error {
			return &herrors.APIError{StatusCode: 401, Code: "key_revoked",
				Message:   "Bearer " + key + " is revoked (" + testKey + ", " + token + ")",
				RequestID: key}
		},
		"a code that is a secret": func(*testing.T) error {
			return &herrors.APIError{StatusCode: 400, Code: key, Message: token}
		},
		"wrapped": func(t *testing.T) error { return fmt.Errorf("events: %w", fromServer(t)) },
	}
	for name, mk := range errs {
		t.Run(name, func(t *testing.T) {
			err := mk(t)
			var text bytes.Buffer
			slog.New(slog.NewTextHandler(&text, nil)).Error("poll failed", "err", err)
			var js bytes.Buffer
			slog.New(slog.NewJSONHandler(&js, nil)).Error("poll failed", "err", err)
			forms := map[string]string{
				"Error()":   err.Error(),
				"%v":        fmt.Sprintf("%v", err),
				"%+v":       fmt.Sprintf("%+v", err),
				"%s":        fmt.Sprintf("%s", err),
				"%q":        fmt.Sprintf("%q", err),
				"%#v":       fmt.Sprintf("%#v", err),
				"slog text": text.String(),
				"slog JSON": js.String(),
			}
			for form, s := range forms {
				for _, secret := range secrets {
					assert.NotContains(t, s, secret, "%s reveals a secret", form)
					// Not even the part after the prefix, minus the last four.
					assert.NotContains(t, s, secret[len(secret)-12:len(secret)-4], "%s reveals part of a secret", form)
				}
			}
			assert.Contains(t, err.Error(), "sk_live_…2e4f", "the redacted form keeps what identifies the key")
		})
	}
	t.Run("the Message field is redacted too", func(t *testing.T) {
		var apiErr *herrors.APIError
		require.ErrorAs(t, fromServer(t), &apiErr)
		assert.NotContains(t, apiErr.Message, key)
		assert.Contains(t, apiErr.Message, "sk_live_…2e4f")
		assert.Contains(t, string(apiErr.Body), key, "Body stays verbatim, as documented")
	})
}

func TestAPIErrorGoString(t *testing.T) {
	err := &herrors.APIError{StatusCode: 429, Code: "rate_limited", Message: "Slow down.",
		RequestID: "req_1", RetryAfter: 30 * time.Second, Body: []byte("0123456789")}
	assert.Equal(t,
		`&errors.APIError{StatusCode:429, Code:"rate_limited", Message:"Slow down.", RequestID:"req_1", RetryAfter:30000000000, Body:[]byte{/* 10 bytes */}}`,
		fmt.Sprintf("%#v", err))
	assert.Equal(t, "(*errors.APIError)(nil)", (*herrors.APIError)(nil).GoString())
}

// TestAPIErrorIs covers the errors.Is rules on errors built by hand,
// including combinations FromResponse's table does not reach.
func TestAPIErrorIs(t *testing.T) {
	tests := []struct {
		name    string
		err     *herrors.APIError
		matches []error
	}{
		{"specific code", &herrors.APIError{StatusCode: 401, Code: "key_revoked"}, []error{herrors.ErrKeyRevoked, herrors.ErrUnauthorized}},
		{"a known code decides, not the status", &herrors.APIError{StatusCode: 500, Code: "not_found"}, []error{herrors.ErrNotFound}},
		{"specific code under an odd status", &herrors.APIError{StatusCode: 403, Code: "key_expired"}, []error{herrors.ErrKeyExpired, herrors.ErrUnauthorized}},
		{"active_key_exists is a conflict", &herrors.APIError{StatusCode: 409, Code: "active_key_exists"}, []error{herrors.ErrActiveKeyExists, herrors.ErrConflict}},
		{"internal_error", &herrors.APIError{StatusCode: 500, Code: "internal_error"}, []error{herrors.ErrInternal}},
		{"unknown code, 401", &herrors.APIError{StatusCode: 401, Code: "new_code"}, []error{herrors.ErrUnauthorized}},
		{"unknown code, 413", &herrors.APIError{StatusCode: 413, Code: "too_big"}, []error{herrors.ErrInvalidRequest}},
		{"missing code, 503", &herrors.APIError{StatusCode: 503}, []error{herrors.ErrUnavailable}},
		{"missing code, 500", &herrors.APIError{StatusCode: 500}, []error{herrors.ErrInternal}},
		{"missing code, 502", &herrors.APIError{StatusCode: 502}, []error{herrors.ErrUnavailable}},
		{"missing code, 507", &herrors.APIError{StatusCode: 507}, []error{herrors.ErrInternal}},
		{"missing code, 429", &herrors.APIError{StatusCode: 429}, []error{herrors.ErrRateLimited}},
		{"missing code, 405: method_not_allowed's class", &herrors.APIError{StatusCode: 405}, []error{herrors.ErrInvalidRequest}},
		{"missing code, 410", &herrors.APIError{StatusCode: 410}, nil},
		{"missing code, no status", &herrors.APIError{}, nil},
		{"code in another case is unknown", &herrors.APIError{StatusCode: 401, Code: "KEY_REVOKED"}, []error{herrors.ErrUnauthorized}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assertMatches(t, tt.err, tt.matches...)
			assertMatches(t, fmt.Errorf("op: %w", tt.err), tt.matches...)
		})
	}
	t.Run("not a sentinel", func(t *testing.T) {
		err := &herrors.APIError{StatusCode: 401, Code: "key_revoked"}
		assert.False(t, errors.Is(err, errors.New("heepr: key_revoked")))
		assert.False(t, errors.Is(err, http.ErrBodyNotAllowed))
		assert.True(t, errors.Is(err, err))
		assert.False(t, (*herrors.APIError)(nil).Is(herrors.ErrUnauthorized))
	})
}
