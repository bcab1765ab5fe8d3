package errors_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	herrors "github.com/heepr/heepr-go/errors"
	"github.com/heepr/heepr-go/models"
)

// urlErr wraps err as net/http's client does.
func urlErr(err error) error {
	return &url.Error{Op: "Get", URL: "https://heepr.ai/api/events", Err: err}
}

// dialErr is a dial failure as the net package reports it.
func dialErr(errno syscall.Errno) error {
	return &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", errno)}
}

// timeoutErr is a net.Error that timed out, as a transport's own deadlines do.
type timeoutErr struct{ timeout bool }

func (e timeoutErr) Error() string   { return "i/o timeout" }
func (e timeoutErr) Timeout() bool   { return e.timeout }
func (e timeoutErr) Temporary() bool { return e.timeout }

func apiErr(status int, code models.ErrorCode) error {
	return &herrors.APIError{StatusCode: status, Code: code, Message: "m"}
}

func TestIsRetryable(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"plain error", errors.New("boom"), false},

		{"429", apiErr(429, "rate_limited"), true},
		{"429 without a code", apiErr(429, ""), true},
		{"500", apiErr(500, "internal_error"), true},
		{"500 without a code", apiErr(500, ""), true},
		{"502", apiErr(502, ""), true},
		{"503", apiErr(503, "unavailable"), true},
		{"504", apiErr(504, ""), true},
		{"599", apiErr(599, ""), true},
		{"501", apiErr(501, ""), false},
		{"501 whatever its code", apiErr(501, "internal_error"), false},
		{"400", apiErr(400, "invalid_request"), false},
		{"403", apiErr(403, "forbidden"), false},
		{"404", apiErr(404, "not_found"), false},
		{"409", apiErr(409, "conflict"), false},
		{"409 active_key_exists", apiErr(409, "active_key_exists"), false},
		{"413", apiErr(413, ""), false},
		{"401 key_revoked", apiErr(401, "key_revoked"), false},
		{"retryable code under a 4xx", apiErr(400, "unavailable"), true},
		{"rate_limited under a 403", apiErr(403, "rate_limited"), true},
		{"a refused credential wins over a retryable code", apiErr(401, "rate_limited"), false},
		{"unauthorized code under a 503", apiErr(503, "unauthorized"), false},
		{"no response", herrors.FromResponse(nil), false},
		{"typed nil APIError", (*herrors.APIError)(nil), false},
		{"wrapped 503", fmt.Errorf("events: %w", apiErr(503, "")), true},
		{"wrapped 404", fmt.Errorf("deliver ord_1: %w", apiErr(404, "not_found")), false},
		{"an APIError decides over what else is wrapped", errors.Join(apiErr(400, ""), io.ErrUnexpectedEOF), false},

		{"sentinel ErrRateLimited", fmt.Errorf("x: %w", herrors.ErrRateLimited), true},
		{"sentinel ErrUnavailable", herrors.ErrUnavailable, true},
		{"sentinel ErrInternal", herrors.ErrInternal, true},
		{"sentinel ErrKeyRevoked", herrors.ErrKeyRevoked, false},
		{"sentinel ErrNotFound", herrors.ErrNotFound, false},

		{"ECONNRESET in url.Error", urlErr(syscall.ECONNRESET), true},
		{"ECONNRESET read", urlErr(&net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", syscall.ECONNRESET)}), true},
		{"ECONNREFUSED dial", urlErr(dialErr(syscall.ECONNREFUSED)), true},
		{"ECONNABORTED", urlErr(syscall.ECONNABORTED), true},
		{"EPIPE", fmt.Errorf("deliver: %w", urlErr(&net.OpError{Op: "write", Err: os.NewSyscallError("write", syscall.EPIPE)})), true},
		{"ETIMEDOUT", urlErr(dialErr(syscall.ETIMEDOUT)), true},
		{"ENETUNREACH", urlErr(dialErr(syscall.ENETUNREACH)), true},
		{"EHOSTUNREACH", urlErr(dialErr(syscall.EHOSTUNREACH)), true},
		{"io.ErrUnexpectedEOF", urlErr(io.ErrUnexpectedEOF), true},
		{"io.ErrUnexpectedEOF bare", io.ErrUnexpectedEOF, true},
		{"io.EOF from the transport", urlErr(io.EOF), true},
		{"net.ErrClosed", urlErr(net.ErrClosed), true},
		{"any net.OpError", urlErr(&net.OpError{Op: "read", Err: errors.New("something odd")}), true},

		{"context.DeadlineExceeded", context.DeadlineExceeded, true},
		{"context.DeadlineExceeded in url.Error", urlErr(context.DeadlineExceeded), true},
		{"os.ErrDeadlineExceeded", urlErr(&net.OpError{Op: "read", Err: os.ErrDeadlineExceeded}), true},
		{"net.Error timeout", urlErr(timeoutErr{timeout: true}), true},
		{"net.Error not a timeout", timeoutErr{timeout: false}, false},

		{"context.Canceled", context.Canceled, false},
		{"context.Canceled in url.Error", urlErr(context.Canceled), false},
		{"context.Canceled wrapped twice", fmt.Errorf("poll: %w", urlErr(context.Canceled)), false},
		{"context.Canceled beside a reset", errors.Join(context.Canceled, syscall.ECONNRESET), false},
		{"context.Canceled beside a 503", errors.Join(context.Canceled, apiErr(503, "")), false},

		{"DNS name not found", urlErr(&net.OpError{Op: "dial", Err: &net.DNSError{Err: "no such host", Name: "heepr.invalid", IsNotFound: true}}), false},
		{"DNS timeout", urlErr(&net.OpError{Op: "dial", Err: &net.DNSError{Err: "timeout", Name: "heepr.ai", IsTimeout: true}}), true},
		{"DNS temporary", urlErr(&net.OpError{Op: "dial", Err: &net.DNSError{Err: "server misbehaving", Name: "heepr.ai", IsTemporary: true}}), true},
		{"certificate not trusted", urlErr(&tls.CertificateVerificationError{Err: x509.UnknownAuthorityError{}}), false},
		{"certificate for another host", urlErr(x509.HostnameError{Host: "heepr.ai"}), false},
		{"certificate expired", urlErr(&net.OpError{Op: "remote error", Err: x509.CertificateInvalidError{Reason: x509.Expired}}), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, herrors.IsRetryable(tt.err), "IsRetryable(%v)", tt.err)
		})
	}
}

func TestIsFatalAuth(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"plain error", errors.New("boom"), false},
		{"key_revoked", apiErr(401, "key_revoked"), true},
		{"key_expired", apiErr(401, "key_expired"), true},
		{"unauthorized", apiErr(401, "unauthorized"), true},
		{"bootstrap_unknown", apiErr(401, "bootstrap_unknown"), true},
		{"bootstrap_used", apiErr(401, "bootstrap_used"), true},
		{"bootstrap_expired", apiErr(401, "bootstrap_expired"), true},
		{"401 with an unknown code", apiErr(401, "key_rotated"), true},
		{"401 without a code", apiErr(401, ""), true},
		{"401 whatever its code", apiErr(401, "invalid_request"), true},
		{"key_revoked under another status", apiErr(403, "key_revoked"), true},
		{"wrapped", fmt.Errorf("poll: %w", fmt.Errorf("events: %w", apiErr(401, "key_revoked"))), true},
		{"sentinel ErrKeyRevoked", fmt.Errorf("x: %w", herrors.ErrKeyRevoked), true},
		{"sentinel ErrBootstrapUsed", herrors.ErrBootstrapUsed, true},
		{"sentinel ErrUnauthorized", herrors.ErrUnauthorized, true},
		{"403 forbidden", apiErr(403, "forbidden"), false},
		{"403 without a code", apiErr(403, ""), false},
		{"409 active_key_exists", apiErr(409, "active_key_exists"), false},
		{"sentinel ErrActiveKeyExists", herrors.ErrActiveKeyExists, false},
		{"sentinel ErrForbidden", herrors.ErrForbidden, false},
		{"429", apiErr(429, "rate_limited"), false},
		{"500", apiErr(500, ""), false},
		{"404", apiErr(404, "not_found"), false},
		{"connection reset", urlErr(syscall.ECONNRESET), false},
		{"context.Canceled", urlErr(context.Canceled), false},
		{"typed nil APIError", (*herrors.APIError)(nil), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, herrors.IsFatalAuth(tt.err), "IsFatalAuth(%v)", tt.err)
			if tt.want {
				assert.False(t, herrors.IsRetryable(tt.err), "a fatal auth error is never retryable")
			}
		})
	}
}

// TestClassifyRealTransportFailures produces the failures with real sockets,
// as http.Get reports them, rather than by hand.
func TestClassifyRealTransportFailures(t *testing.T) {
	t.Run("connection refused", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		addr := ln.Addr().String()
		require.NoError(t, ln.Close())
		resp, err := http.Get("http://" + addr + "/events")
		if resp != nil {
			_ = resp.Body.Close()
		}
		require.Error(t, err)
		assert.ErrorIs(t, err, syscall.ECONNREFUSED)
		assert.True(t, herrors.IsRetryable(err), "%v", err)
		assert.False(t, herrors.IsFatalAuth(err))
	})
	t.Run("server closes the connection without answering", func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			conn, _, err := http.NewResponseController(w).Hijack()
			if err == nil {
				_ = conn.Close()
			}
		}))
		defer srv.Close()
		resp, err := http.Post(srv.URL+"/orders/ord_1/deliver", "application/json", nil)
		if resp != nil {
			_ = resp.Body.Close()
		}
		require.Error(t, err)
		assert.True(t, herrors.IsRetryable(err), "%v", err)
	})
	t.Run("the caller cancelled", func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
		defer srv.Close()
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
		require.NoError(t, err)
		resp, err := http.DefaultClient.Do(req)
		if resp != nil {
			_ = resp.Body.Close()
		}
		require.Error(t, err)
		assert.False(t, herrors.IsRetryable(err), "%v", err)
	})
}
