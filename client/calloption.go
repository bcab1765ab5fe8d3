package client

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/textproto"
	"strings"
	"time"
)

// CallOption configures one call: give it after a method's other arguments,
// as [WithTimeout] or [WithResponseInto].
// A nil CallOption is ignored.
type CallOption func(*callConfig)

type callConfig struct {
	idemKey    string
	idemKeySet bool
	noRetry    bool
	progress   func(sent, total int64)
	// answerTimeout bounds the wait for an upload's answer once its body is
	// sent (set by Deliver with files, from WithAttemptTimeout).
	answerTimeout time.Duration

	timeout time.Duration // WithTimeout; 0: none
	header  http.Header   // WithHeader, canonical keys
	bad     error         // the first option refused, reported before any request
	info    *ResponseInfo // WithResponseInto

	// call is the logical call as the middleware saw it, set by the
	// innermost Invoker: the retry loop records its attempts there.
	call *Call
}

// WithIdempotencyKey sets the Idempotency-Key of one write, instead of the one
// the client makes up. Use a key that names the logical write (the same on
// every run that means the same write), such as one derived from an event id.
// An empty key sends none: the write is then retried only when it provably
// never left the machine.
func WithIdempotencyKey(key string) CallOption {
	return func(c *callConfig) { c.idemKey, c.idemKeySet = key, true }
}

// WithoutRetry makes one call a single attempt, for a caller that owns its own
// retry schedule (the poller does, for its polls). It is the one per-call
// spelling of "no retry"; for a whole client, give [WithRetry] a
// [RetryPolicy] with MaxAttempts 1.
func WithoutRetry() CallOption {
	return func(c *callConfig) { c.noRetry = true }
}

// WithProgress has a file transfer report its progress to fn: Deliver with
// files, the bytes of the request body sent, and DownloadAttachment, the bytes
// written to its writer. total is the whole body's length, or -1 when it is not
// known (a reader of unknown size, a download without Content-Length).
//
// fn is called from another goroutine than the caller's (never two calls at
// once), at most once per 100 ms while bytes flow, and once with the final
// count when the transfer completes. A retried attempt counts again from 0. fn
// should return quickly: the transfer waits for it. A call without a file
// transfer (a delivery without files) does not call it.
func WithProgress(fn func(sent, total int64)) CallOption {
	return func(c *callConfig) { c.progress = fn }
}

// WithTimeout bounds one whole logical call: every attempt, every backoff
// between them, every request of a method that makes several (SkillFile), and
// the client's [Middleware], from the moment the method is called. When it
// elapses the call returns an error wrapping [context.DeadlineExceeded] that
// names WithTimeout. A d of zero or less sets no bound.
//
// It works with [WithAttemptTimeout], not instead of it: that one bounds each
// attempt (default [DefaultAttemptTimeout]), so a hung connection is cut and
// tried again, while WithTimeout bounds what the caller waits in all. Each
// attempt ends at whichever comes first, and a backoff that would outlast
// WithTimeout is not waited out: the call returns the last attempt's error at
// once. Unlike WithAttemptTimeout, it also bounds file uploads and downloads.
// It is the same as a context.WithTimeout around the call, but for errors that
// name it.
func WithTimeout(d time.Duration) CallOption {
	return func(c *callConfig) { c.timeout = d }
}

// ownedHeader says whether WithHeader refuses a header (by its canonical
// name), and what to use instead: the client sets it itself, or net/http
// derives it from the request.
func ownedHeader(canon string) (instead string, owned bool) {
	switch canon {
	case "Authorization":
		return "the client's key: WithAPIKey", true
	case "Idempotency-Key":
		return "use WithIdempotencyKey", true
	case "Content-Type", "Content-Length", "Transfer-Encoding":
		return "it describes the body the client builds", true
	case "Host":
		return "the base URL's: WithBaseURL", true
	case "User-Agent":
		return "use WithUserAgent", true
	case "Accept", "Accept-Encoding":
		return "the client asks for what it checks the answer against", true
	case "Connection":
		return "net/http manages it", true
	}
	return "", false
}

// WithHeader sets a header on every attempt of one call (Set semantics: a
// later WithHeader of the same key wins), such as a tracing or tenant header
// a gateway in front of the platform needs. A download sends it to the
// attachment's URL, wherever it is.
//
// Headers the client owns are refused, not overridden: the call returns an
// error naming the header before any request. They are Authorization (the
// key; see [WithAPIKey]), Idempotency-Key ([WithIdempotencyKey]),
// Content-Type, Content-Length and Transfer-Encoding (the client's body),
// Host ([WithBaseURL]), User-Agent ([WithUserAgent]), Accept and
// Accept-Encoding (what the client checks the answer against) and
// Connection. A key that is not a valid header name, or a value holding a
// line break or NUL, is refused the same way.
func WithHeader(key, value string) CallOption {
	return func(c *callConfig) {
		if c.bad != nil {
			return
		}
		if err := checkHeader(key, value); err != nil {
			c.bad = err
			return
		}
		if c.header == nil {
			c.header = http.Header{}
		}
		c.header.Set(key, value)
	}
}

func checkHeader(key, value string) error {
	if key == "" || strings.IndexFunc(key, func(r rune) bool { return !isTokenChar(r) }) >= 0 {
		return argErrorf("WithHeader: %q is not a valid header name", key)
	}
	canon := textproto.CanonicalMIMEHeaderKey(key)
	if instead, ok := ownedHeader(canon); ok {
		return argErrorf("WithHeader: %s is the client's own header (%s)", canon, instead)
	}
	if strings.ContainsAny(value, "\r\n\x00") {
		return argErrorf("WithHeader: the value of %s holds a line break or NUL", canon)
	}
	return nil
}

// isTokenChar reports whether r may appear in a header name (RFC 9110 token).
func isTokenChar(r rune) bool {
	switch {
	case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		return true
	}
	return r < 0x80 && strings.ContainsRune("!#$%&'*+-.^_`|~", r)
}

// ResponseInfo is what the platform's answer to a call said beside its body:
// see [WithResponseInto].
type ResponseInfo struct {
	// StatusCode is the final attempt's HTTP status, 0 when it got no answer
	// (a dropped connection, a timeout).
	StatusCode int
	// Header is the final attempt's response header (nil when it got no
	// answer), its values passed through the client's redactor.
	Header http.Header
	// RequestID is the platform's id of the final attempt's request, from its
	// X-Request-Id header, else from the error envelope's request_id: what
	// heepr's support asks for. "" when the platform gave none.
	RequestID string
	// Attempts is how many attempts the call made: 0 when it made none (a
	// middleware did not let it through).
	Attempts int
}

// WithResponseInto has one call fill *info with its final attempt's status,
// header and request id, and its number of attempts: on success, on a
// refusal of the platform (an error wrapping [*herrors.APIError]), and on any
// other error once the call was under way (StatusCode is then 0 when no
// answer came). A call refused before any request, for a bad argument or
// option, leaves *info as it was. A method that makes several requests
// ([Client.SkillFile] for a Markdown file reads skill.json first) fills it
// from the last. *info is written before the method returns; a nil info is
// ignored.
func WithResponseInto(info *ResponseInfo) CallOption {
	return func(c *callConfig) { c.info = info }
}

func callOptions(opts []CallOption) callConfig {
	var cc callConfig
	for _, o := range opts {
		if o != nil {
			o(&cc)
		}
	}
	return cc
}

// callTimeoutError is the cause of a call's context when WithTimeout elapsed.
type callTimeoutError struct{ d time.Duration }

func (e *callTimeoutError) Error() string {
	return fmt.Sprintf("the call's WithTimeout(%s) elapsed", e.d)
}

// Unwrap returns context.DeadlineExceeded, so errors.Is finds it as for any
// deadline.
func (e *callTimeoutError) Unwrap() error { return context.DeadlineExceeded }

// begin reads a call's options, refusing a bad one before any request, and
// bounds ctx by WithTimeout. end must be called with the call's error when it
// is done: it releases the timer and says when WithTimeout ended the call.
func (c *Client) begin(ctx context.Context, opts []CallOption) (context.Context, callConfig, func(error) error, error) {
	cc := callOptions(opts)
	if cc.bad != nil {
		return ctx, cc, nil, cc.bad
	}
	if cc.timeout <= 0 {
		return ctx, cc, func(err error) error { return err }, nil
	}
	tctx, cancel := context.WithTimeoutCause(ctx, cc.timeout, &callTimeoutError{d: cc.timeout})
	end := func(err error) error {
		cause := context.Cause(tctx)
		cancel()
		if _, ok := errors.AsType[*callTimeoutError](cause); ok && err != nil && ctx.Err() == nil {
			if _, named := errors.AsType[*callTimeoutError](err); !named {
				err = fmt.Errorf("%w (%v)", err, cause)
			}
		}
		return err
	}
	return tctx, cc, end, nil
}
