package client

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	herrors "github.com/heepr/heepr-go/errors"
	"github.com/heepr/heepr-go/internal/backoff"
	"github.com/heepr/heepr-go/models"
)

// RetryPolicy says when and how often the client tries a call again. It
// retries what herrors.IsRetryable says may succeed later (429, 5xx but 501,
// timeouts, dropped connections), with capped exponential backoff and full
// jitter, honouring Retry-After. A GET is retried freely; a POST only when it
// carries an Idempotency-Key (the client always sends one unless told not to)
// or when it provably never left the machine.
type RetryPolicy struct {
	// MaxAttempts is the number of attempts in all, the first included; 1 turns
	// retries off (RetryPolicy{MaxAttempts: 1} is the client-wide "no retry";
	// WithoutRetry is the per-call one). Zero means the default, 4.
	MaxAttempts int
	// BaseDelay is the ceiling of the first backoff (default 250ms); each retry
	// doubles it, up to MaxDelay.
	BaseDelay time.Duration
	// MaxDelay caps one backoff (default 20s).
	MaxDelay time.Duration
	// MaxRetryAfter is the longest Retry-After the client waits out (default
	// 60s). When the platform asks for longer, the call returns its error at
	// once: the *herrors.APIError's RetryAfter tells the caller when to try.
	MaxRetryAfter time.Duration
}

// DefaultRetryPolicy is the policy a Client has unless WithRetry says
// otherwise: 4 attempts, backoff ceilings of 250ms, 500ms, 1s (capped at 20s),
// Retry-After honoured up to 60s.
func DefaultRetryPolicy() RetryPolicy {
	return RetryPolicy{MaxAttempts: 4, BaseDelay: 250 * time.Millisecond, MaxDelay: 20 * time.Second, MaxRetryAfter: time.Minute}
}

func (p RetryPolicy) withDefaults() RetryPolicy {
	d := DefaultRetryPolicy()
	if p.MaxAttempts == 0 {
		p.MaxAttempts = d.MaxAttempts
	}
	if p.BaseDelay <= 0 {
		p.BaseDelay = d.BaseDelay
	}
	if p.MaxDelay <= 0 {
		p.MaxDelay = d.MaxDelay
	}
	if p.MaxRetryAfter <= 0 {
		p.MaxRetryAfter = d.MaxRetryAfter
	}
	return p
}

// RetryError is the error of a call that was tried more than once: the last
// attempt's error and how many attempts were made. errors.Is and errors.As see
// through it to the *herrors.APIError or network error underneath.
type RetryError struct {
	Attempts int
	Err      error
}

// Error says how many attempts were made, then the last one's error.
func (e *RetryError) Error() string { return fmt.Sprintf("after %d attempts: %v", e.Attempts, e.Err) }

// Unwrap returns the last attempt's error.
func (e *RetryError) Unwrap() error { return e.Err }

// do sends req until it succeeds, fails for good or runs out of attempts, and
// hands each 2xx response to handle (which reads what it needs; do closes the
// body). An error of handle that IsRetryable, such as a body cut short, is
// retried like any other. timeout bounds each attempt (0: none). The error
// returned is a RetryError when more than one attempt was made.
func (c *Client) do(ctx context.Context, req *http.Request, cc callConfig, timeout time.Duration, handle func(*http.Response) error) error {
	c.authorize(req)
	if req.Header.Get("Authorization") == "" {
		return ErrNoAPIKey
	}
	return c.send(ctx, c.hc, req, cc, timeout, handle)
}

// send is do's retry loop over hc, for a request whose headers are already
// set: do authorizes every request with the key, while a download sends it
// only to the platform's own host. It records each attempt in cc.call.
func (c *Client) send(ctx context.Context, hc *http.Client, req *http.Request, cc callConfig, timeout time.Duration, handle func(*http.Response) error) error {
	for k, vs := range cc.header {
		req.Header[k] = vs // checked by WithHeader: never one the client sets
	}
	call := cc.call
	if call == nil {
		call = &Call{redact: c.redact} // not through invoke: nobody reads it
	}
	op := call.Operation
	idempotent := req.Method == http.MethodGet || req.Method == http.MethodHead || req.Header.Get("Idempotency-Key") != ""
	maxAttempts := c.retry.MaxAttempts
	if cc.noRetry {
		maxAttempts = 1
	}
	policy := backoff.Policy{Base: c.retry.BaseDelay, Max: c.retry.MaxDelay}
	hasBody := req.Body != nil && req.Body != http.NoBody
	if key := req.Header.Get("Idempotency-Key"); key != "" && call.keyHash == "" {
		sum := sha256.Sum256([]byte(key))
		call.keyHash = hex.EncodeToString(sum[:])
	}

	for attempt := 1; ; attempt++ {
		if attempt > 1 && hasBody {
			body, err := req.GetBody()
			if err != nil {
				return &RetryError{Attempts: attempt - 1, Err: fmt.Errorf("produce the body again: %w", err)}
			}
			req.Body = body
		}
		start := time.Now()
		var counts *byteCounts
		if call.observed() {
			counts = new(byteCounts) // only when a hook reads them: polls stay as cheap as they were
		}
		res, err := c.attempt1(ctx, hc, req, attemptSpec{op: op, n: attempt, total: timeout, afterBody: cc.answerTimeout, counts: counts}, handle)
		a := Attempt{Number: attempt, Err: err, Duration: time.Since(start), Method: req.Method}
		if counts != nil {
			a.URL = redactURL(req.URL)
			a.BytesSent, a.BytesReceived = counts.sent.Load(), counts.received.Load()
		}
		if err == nil {
			call.record(ctx, a, res, nil)
			return nil
		}
		if ctx.Err() != nil {
			// The caller's own cancellation or deadline: no retry, and say so.
			if cause := context.Cause(ctx); !errors.Is(err, ctx.Err()) {
				err = fmt.Errorf("%w (%v)", cause, err)
			}
			call.record(ctx, a, res, err)
			return wrapAttempts(attempt, err)
		}
		retry := herrors.IsRetryable(err) && (idempotent || neverSent(err)) && !isPermanent(err)
		if hasBody && req.GetBody == nil {
			retry = false // a one-shot body cannot be sent again
		}
		if !retry || attempt >= maxAttempts {
			if errors.Is(err, herrors.ErrInvalidResponse) && !idempotentMethod(req.Method) {
				// A success status with an answer that breaks the contract:
				// the write may well have happened, and nobody may know.
				c.log.ErrorContext(ctx, "heepr: the platform accepted a write but its answer breaks the API contract; the write may have happened: check before repeating it",
					"op", op, "error", err)
			}
			call.record(ctx, a, res, err)
			return wrapAttempts(attempt, err)
		}
		wait := policy.Delay(attempt)
		var apiErr *herrors.APIError
		if errors.As(err, &apiErr) && apiErr.RetryAfter > 0 {
			if apiErr.RetryAfter > c.retry.MaxRetryAfter {
				call.record(ctx, a, res, err)
				return wrapAttempts(attempt, err)
			}
			wait = apiErr.RetryAfter
		}
		if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < wait {
			call.record(ctx, a, res, err)
			return wrapAttempts(attempt, err) // the wait would outlast the caller's deadline (or WithTimeout)
		}
		a.Retry, a.Wait = true, wait
		call.record(ctx, a, res, err)
		c.log.DebugContext(ctx, "heepr: retrying", "op", op, "attempt", attempt, "wait", wait, "error", err)
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return wrapAttempts(attempt, fmt.Errorf("%w (waiting to retry after: %v)", context.Cause(ctx), err))
		}
	}
}

// attemptSpec is one attempt: its operation and number (for logs), and its
// bounds: total from its start (0: none), afterBody from the moment its
// request body has been sent whole to the end of the answer (0: none), so
// that an upload of any length still gets an answer in time.
type attemptSpec struct {
	op               string
	n                int
	total, afterBody time.Duration
	counts           *byteCounts // nil: nobody counts
}

// byteCounts are one attempt's body bytes, sent and read. The transport reads
// the request body on a goroutine of its own, hence atomics.
type byteCounts struct{ sent, received atomic.Int64 }

// countedBody counts what is read through it into n.
type countedBody struct {
	io.ReadCloser
	n *atomic.Int64
}

func (b *countedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n.Add(int64(n))
	return n, err
}

// attempt1 makes one attempt. It returns the answer when one came (its body
// closed: for its status and header), with the attempt's error.
func (c *Client) attempt1(ctx context.Context, hc *http.Client, req *http.Request, at attemptSpec, handle func(*http.Response) error) (*http.Response, error) {
	actx, cancel := ctx, context.CancelFunc(func() {})
	if at.total > 0 {
		actx, cancel = context.WithTimeout(ctx, at.total)
	}
	defer cancel()
	send := req.WithContext(actx)
	if at.counts != nil && send.Body != nil && send.Body != http.NoBody {
		send.Body = &countedBody{ReadCloser: send.Body, n: &at.counts.sent}
	}
	if at.afterBody > 0 && req.Body != nil && req.Body != http.NoBody {
		var stop func()
		send, stop = answerWithin(send, at.afterBody)
		defer stop()
	}
	start := time.Now()
	res, err := hc.Do(send)
	if err != nil {
		if cause := context.Cause(send.Context()); errors.As(cause, new(*answerTimeoutError)) && ctx.Err() == nil {
			err = cause // the transport says "canceled"; the cause says why
		}
		redactURLError(err)
	}
	// Guarded: building the attributes costs allocations on every poll even
	// when the logger discards them.
	debug := c.log.Enabled(ctx, slog.LevelDebug)
	if err != nil {
		if debug {
			c.log.DebugContext(ctx, "heepr: attempt failed", "op", at.op, "method", req.Method, "path", req.URL.Path,
				"attempt", at.n, "duration", time.Since(start), "error", err)
		}
		return nil, err
	}
	defer res.Body.Close()
	if at.counts != nil {
		res.Body = &countedBody{ReadCloser: res.Body, n: &at.counts.received}
	}
	if debug {
		c.log.DebugContext(ctx, "heepr: attempt", "op", at.op, "method", req.Method, "path", req.URL.Path,
			"attempt", at.n, "status", res.StatusCode, "request_id", capServerString(res.Header.Get("X-Request-Id")), "duration", time.Since(start))
	}
	if res.StatusCode < 200 || res.StatusCode > 299 {
		return res, c.redactError(herrors.FromResponse(res))
	}
	err = handle(res) // inside the attempt's timeout: reading the answer is part of it
	if cause := context.Cause(send.Context()); err != nil && errors.As(cause, new(*answerTimeoutError)) && ctx.Err() == nil {
		return res, cause
	}
	return res, c.redactError(err)
}

// requestIDOf is the request id an error of the platform carries, "" for
// none.
func requestIDOf(err error) string {
	if apiErr, ok := errors.AsType[*herrors.APIError](err); ok {
		return apiErr.RequestID
	}
	if ire, ok := errors.AsType[*herrors.InvalidResponseError](err); ok {
		return ire.RequestID
	}
	return ""
}

// redactError passes what the server wrote into an error through the
// client's redactor, which knows the client's own key: a server that echoes
// the key without its prefix is not matched by the errors package's patterns.
func (c *Client) redactError(err error) error {
	if apiErr, ok := errors.AsType[*herrors.APIError](err); ok {
		apiErr.Message = c.redact(apiErr.Message)
		apiErr.RequestID = c.redact(apiErr.RequestID)
		apiErr.Code = models.ErrorCode(c.redact(string(apiErr.Code)))
	}
	if ire, ok := errors.AsType[*herrors.InvalidResponseError](err); ok {
		ire.Reason = c.redact(ire.Reason)
		ire.RequestID = c.redact(ire.RequestID)
	}
	return err
}

// answerTimeoutError is an attempt whose body was sent whole and whose answer
// did not come within the attempt timeout. It is a timeout: the write is
// retried under the same Idempotency-Key, and the platform keeps one effect.
type answerTimeoutError struct{ after time.Duration }

func (e *answerTimeoutError) Error() string {
	return fmt.Sprintf("no answer within %s of the request being sent whole (WithAttemptTimeout)", e.after)
}

// Unwrap returns context.DeadlineExceeded: the attempt's own deadline, which
// herrors.IsRetryable counts as a timeout.
func (e *answerTimeoutError) Unwrap() error { return context.DeadlineExceeded }

// answerWithin returns req with a body that, once read to its end, starts a
// timer of d that cancels req's context with an *answerTimeoutError; stop
// ends the timer and the context.
func answerWithin(req *http.Request, d time.Duration) (*http.Request, func()) {
	ctx, cancel := context.WithCancelCause(req.Context())
	w := &sentWatcher{r: req.Body, d: d, fire: func() { cancel(&answerTimeoutError{after: d}) }}
	out := req.WithContext(ctx)
	out.Body = w
	return out, func() {
		w.stop()
		cancel(nil)
	}
}

// sentWatcher is a request body that starts a timer once the transport has
// read it to its end. The transport reads it on its own goroutine, so the
// timer is guarded.
type sentWatcher struct {
	r    io.ReadCloser
	d    time.Duration
	fire func()

	mu      sync.Mutex
	timer   *time.Timer
	stopped bool
}

func (w *sentWatcher) Read(p []byte) (int, error) {
	n, err := w.r.Read(p)
	if errors.Is(err, io.EOF) {
		w.mu.Lock()
		if w.timer == nil && !w.stopped {
			w.timer = time.AfterFunc(w.d, w.fire)
		}
		w.mu.Unlock()
	}
	return n, err
}

func (w *sentWatcher) Close() error { return w.r.Close() }

func (w *sentWatcher) stop() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.stopped = true
	if w.timer != nil {
		w.timer.Stop()
	}
}

// redactURLError takes the query off the URL a *url.Error names: it may be a
// signature, and the error travels to logs.
func redactURLError(err error) {
	if ue, ok := errors.AsType[*url.Error](err); ok {
		if pu, perr := url.Parse(ue.URL); perr == nil {
			ue.URL = redactURL(pu)
		} else {
			ue.URL = "(unparsable URL)"
		}
	}
}

// capServerString cuts a string the server set (a request id, a header) to
// 256 bytes, so a hostile answer cannot blow a log line up.
func capServerString(s string) string {
	if len(s) > 256 {
		return s[:256] + "…"
	}
	return s
}

func idempotentMethod(m string) bool { return m == http.MethodGet || m == http.MethodHead }

func wrapAttempts(attempts int, err error) error {
	if attempts <= 1 {
		return err
	}
	return &RetryError{Attempts: attempts, Err: err}
}

// neverSent reports whether err proves the request never reached the server:
// the connection was never made.
func neverSent(err error) bool {
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return true
	}
	var dns *net.DNSError
	return errors.As(err, &dns)
}

// permanent is an error that says no retry can fix it, whatever the network
// error around it looks like: a file that changed size while it was sent
// reaches the loop inside the transport's *net.OpError, which IsRetryable
// would otherwise call a dropped connection.
type permanent interface{ Permanent() bool }

func isPermanent(err error) bool {
	var p permanent
	return errors.As(err, &p) && p.Permanent()
}

// finalError marks an error the retry loop must not retry, such as a download
// that failed after part of it was written to the caller's writer.
type finalError struct{ err error }

func (e *finalError) Error() string   { return e.err.Error() }
func (e *finalError) Unwrap() error   { return e.err }
func (e *finalError) Permanent() bool { return true }

func final(err error) error { return &finalError{err: err} }
