package errors

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	stderrors "errors"
	"io"
	"net"
	"net/http"
	"os"
	"syscall"

	"github.com/heepr/heepr-go/models"
)

// IsRetryable reports whether the same request may succeed if sent again
// later: the verdict the client's retry loop and the poller's backoff act on.
//
// True for an *APIError with status 429 or a 5xx other than 501, or with code
// rate_limited, unavailable or internal_error; for timeouts (a net.Error whose
// Timeout() is true, os.ErrDeadlineExceeded, context.DeadlineExceeded); and for
// transport failures where the connection broke rather than the request being
// wrong: ECONNRESET, ECONNREFUSED, ECONNABORTED, EPIPE, ETIMEDOUT, ENETUNREACH,
// EHOSTUNREACH, io.ErrUnexpectedEOF, io.EOF (the server closed the
// connection), net.ErrClosed, *net.OpError, all seen through *url.Error and any
// other wrapping.
//
// False for nil; for context.Canceled anywhere in the chain (the caller's own
// cancellation, never a reason to try again); for an *APIError with any other
// status (4xx other than 429, 501 Not Implemented whatever its code) and for
// every error IsFatalAuth reports, since no retry can fix a refused
// credential; for a DNS name that does not exist and a TLS certificate that
// does not verify; and for anything else it does not recognise.
//
// An *APIError in the chain decides alone: what wraps it does not matter.
//
// context.DeadlineExceeded is retryable because a per-attempt timeout is a
// transient failure; whether the caller's own deadline has passed, which ends
// all retrying, is for the caller to check (ctx.Err()) before it retries. The
// client does so.
func IsRetryable(err error) bool {
	if err == nil || stderrors.Is(err, context.Canceled) {
		return false
	}
	if apiErr, ok := stderrors.AsType[*APIError](err); ok {
		return apiErr.retryable()
	}
	if IsFatalAuth(err) {
		return false // a sentinel wrapped without its APIError
	}
	if permanentTransport(err) {
		return false
	}
	if isTimeout(err) {
		return true
	}
	for _, target := range []error{
		syscall.ECONNRESET, syscall.ECONNREFUSED, syscall.ECONNABORTED, syscall.EPIPE,
		syscall.ETIMEDOUT, syscall.ENETUNREACH, syscall.EHOSTUNREACH,
		io.ErrUnexpectedEOF, io.EOF, net.ErrClosed,
		ErrRateLimited, ErrUnavailable, ErrInternal,
	} {
		if stderrors.Is(err, target) {
			return true
		}
	}
	_, isOpErr := stderrors.AsType[*net.OpError](err)
	return isOpErr
}

// retryable is IsRetryable's verdict on an APIError.
func (e *APIError) retryable() bool {
	if e == nil || e.StatusCode == http.StatusNotImplemented || e.fatalAuth() {
		return false
	}
	if e.StatusCode == http.StatusTooManyRequests || (e.StatusCode >= 500 && e.StatusCode <= 599) {
		return true
	}
	switch e.Code {
	case models.ErrorCodeRateLimited, models.ErrorCodeUnavailable, models.ErrorCodeInternalError:
		return true
	}
	return false
}

// isTimeout reports a timeout of an attempt, however it is wrapped.
func isTimeout(err error) bool {
	if stderrors.Is(err, context.DeadlineExceeded) || stderrors.Is(err, os.ErrDeadlineExceeded) {
		return true
	}
	netErr, ok := stderrors.AsType[net.Error](err)
	return ok && netErr.Timeout()
}

// permanentTransport reports transport failures that look like connection
// trouble (they arrive as *net.OpError) but that the same request will meet
// again: a host name that does not resolve, a certificate that does not
// verify. Retrying those only delays the report of a misconfiguration.
func permanentTransport(err error) bool {
	if dnsErr, ok := stderrors.AsType[*net.DNSError](err); ok {
		return !dnsErr.IsTimeout && !dnsErr.IsTemporary
	}
	if _, ok := stderrors.AsType[*tls.CertificateVerificationError](err); ok {
		return true
	}
	if _, ok := stderrors.AsType[x509.UnknownAuthorityError](err); ok {
		return true
	}
	if _, ok := stderrors.AsType[x509.HostnameError](err); ok {
		return true
	}
	_, ok := stderrors.AsType[x509.CertificateInvalidError](err)
	return ok
}

// IsFatalAuth reports whether err means the platform refused the agent's
// credentials in a way no retry can help: an *APIError with status 401
// (whatever its code), or with code unauthorized, key_revoked, key_expired,
// bootstrap_unknown, bootstrap_used or bootstrap_expired; or any of those
// sentinels wrapped on its own. The agent must stop and re-bootstrap, or its
// owner must act (see each sentinel's doc). The poller stops on it.
//
// False for 403 (the key is fine; this resource is not the agent's), for
// active_key_exists (a conflict the owner resolves, see ErrActiveKeyExists),
// for nil and for everything else.
func IsFatalAuth(err error) bool {
	if err == nil {
		return false
	}
	if apiErr, ok := stderrors.AsType[*APIError](err); ok {
		return apiErr.fatalAuth()
	}
	return stderrors.Is(err, ErrUnauthorized)
}

// fatalAuth is IsFatalAuth's verdict on an APIError.
func (e *APIError) fatalAuth() bool {
	return e != nil && (e.StatusCode == http.StatusUnauthorized || e.Is(ErrUnauthorized))
}

// Code returns the error code of the first *APIError in err's chain, and ""
// when there is none or it carried no code. Unknown codes are returned
// verbatim, so a caller can log or match a code newer than this SDK.
func Code(err error) models.ErrorCode {
	if apiErr, ok := stderrors.AsType[*APIError](err); ok && apiErr != nil {
		return apiErr.Code
	}
	return ""
}
