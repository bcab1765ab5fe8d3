package client

import (
	"context"
	"errors"
	"net/http"
	"time"
)

// The operations a [Call] names: the spec's operationIds, and one for
// attachment downloads, which the spec does not list (an attachment's URL may
// be anywhere).
const (
	OperationRegisterAgent      = "registerAgent"      // Register
	OperationGetSkill           = "getSkill"           // Skill
	OperationGetSkillFile       = "getSkillFile"       // SkillFile, SkillManifest, SyncSkill
	OperationPollEvents         = "pollEvents"         // Events, StreamEvents
	OperationDeliverOrder       = "deliverOrder"       // Deliver
	OperationDeclineOrder       = "declineOrder"       // Decline
	OperationFlagOrder          = "flagOrder"          // Flag
	OperationUpdateStatus       = "updateStatus"       // SetStatus, ReportProgress
	OperationDownloadAttachment = "downloadAttachment" // DownloadAttachment
)

// Invoker performs one logical call (see [Middleware]). The client's
// innermost Invoker makes the call's HTTP attempts with the context it is
// given, so a value a middleware puts in the context (a span, a deadline)
// reaches every attempt; it returns the call's error.
type Invoker func(ctx context.Context, call *Call) error

// Middleware wraps every logical call a Client makes, once per call (not once
// per attempt: see [Call.OnAttempt] for those), as net/http middleware wraps
// a handler. It may add to the context, watch the error, time the call or
// refuse it (return without calling next). It passes next the *Call it was
// given (or a copy of it). It may call next again, as a retrying middleware
// would: the call keeps its Idempotency-Key, so a write still lands once, and
// the Call then describes the last run.
//
// A method that performs several operations runs the middleware once for
// each: SkillFile for a Markdown file reads skill.json (getSkillFile), then
// the file (getSkillFile); SyncSkill once per file it fetches; Connect once
// per call it makes. A call refused before any request (a bad argument, a bad
// CallOption) does not reach the middleware.
type Middleware func(next Invoker) Invoker

// Call is one logical call, as a [Middleware] sees it. The client fills in
// its attempts and answer while it runs; read them once next has returned.
// A Call carries nothing secret: no key, no token, no request body.
type Call struct {
	// Operation is what the call does: the spec's operationId (one of the
	// Operation constants, such as [OperationDeliverOrder]).
	Operation string
	// OrderID is the order the call is about, "" when none (a poll, a status
	// switch, the skill).
	OrderID string

	run      func(context.Context, *Call) error
	hooks    []func(context.Context, Attempt)
	attempts int
	status   int         // the final attempt's answer's status; 0: none came
	header   http.Header // and its header (the response's own, not a copy)
	resErr   error       // the final attempt's error, for its request id
	redact   func(string) string
	keyHash  string // the hex SHA-256 of the Idempotency-Key, "" for none
}

// Attempt is one HTTP attempt of a call, as [Call.OnAttempt] hooks see it.
type Attempt struct {
	// Number counts the call's attempts from 1.
	Number int
	// StatusCode is the answer's status, 0 when none came.
	StatusCode int
	// RequestID is the platform's id of the request (X-Request-Id), "" when
	// it gave none.
	RequestID string
	// Err is the attempt's error, nil when it succeeded.
	Err error
	// Duration is how long the attempt took, its answer read.
	Duration time.Duration
	// Retry reports whether another attempt follows, after Wait.
	Retry bool
	// Wait is the backoff before the next attempt (Retry-After when the
	// platform set one); 0 when none follows.
	Wait time.Duration
	// Method is the request's HTTP method.
	Method string
	// URL is the request's URL without user info, query or fragment (an
	// attachment's signed URL keeps its signature in its query): safe to
	// record. A download's redirects are not in it.
	URL string
	// BytesSent counts the bytes of the request body the transport read for
	// this attempt (a delivery's files included); BytesReceived the bytes of
	// the answer's body the client read. Both are 0 for a call whose
	// middleware registered no OnAttempt hook: they are counted only when
	// someone listens.
	BytesSent, BytesReceived int64
}

// OnAttempt registers fn to be called after each HTTP attempt of the call,
// with the call's context, once the client has decided whether to retry (and
// before it waits): what an OpenTelemetry span records as events, or a
// metric counts as retries. Hooks run in the order they were registered, on
// the caller's goroutine; they should return quickly. Register them before
// calling next.
func (c *Call) OnAttempt(fn func(ctx context.Context, a Attempt)) {
	if fn != nil {
		c.hooks = append(c.hooks, fn)
	}
}

// IdempotencyKeyHash returns the hex SHA-256 of the Idempotency-Key the call
// sent ("" for a call that sent none, or before next has run): the same on
// every attempt, and on every run of a replayed handler, so a trace can tell
// which calls were one logical write without holding the key itself.
// A key in hand gives its hash with `printf %s "$key" | sha256sum`.
func (c *Call) IdempotencyKeyHash() string { return c.keyHash }

// observed reports whether anyone listens to the call's attempts.
func (c *Call) observed() bool { return len(c.hooks) > 0 }

// Attempts returns how many HTTP attempts the call made: 0 before next has
// run, or when a middleware did not let the call through.
func (c *Call) Attempts() int { return c.attempts }

// Response returns the final attempt's status, header and request id, and
// the number of attempts, as [WithResponseInto] gives them.
func (c *Call) Response() ResponseInfo {
	info := ResponseInfo{Attempts: c.attempts}
	redact := c.redact
	if redact == nil {
		redact = func(s string) string { return s }
	}
	if c.status != 0 {
		info.StatusCode = c.status
		info.Header = make(http.Header, len(c.header))
		for k, vs := range c.header {
			clean := make([]string, len(vs))
			for i, v := range vs {
				clean[i] = capServerString(redact(v))
			}
			info.Header[k] = clean
		}
		info.RequestID = capServerString(redact(c.header.Get("X-Request-Id")))
	}
	if info.RequestID == "" {
		info.RequestID = requestIDOf(c.resErr) // already redacted by the client
	}
	return info
}

// record keeps one attempt's outcome and tells the hooks.
func (c *Call) record(ctx context.Context, a Attempt, res *http.Response, err error) {
	c.attempts = a.Number
	c.status, c.header, c.resErr = 0, nil, err
	if res != nil {
		// Only these: the response keeps its request, which holds the key.
		c.status, c.header = res.StatusCode, res.Header
	}
	if len(c.hooks) == 0 {
		return
	}
	if res != nil {
		a.StatusCode = res.StatusCode
		a.RequestID = res.Header.Get("X-Request-Id")
		if c.redact != nil {
			a.RequestID = c.redact(a.RequestID)
		}
		a.RequestID = capServerString(a.RequestID)
	}
	if a.RequestID == "" {
		a.RequestID = requestIDOf(err)
	}
	for _, h := range c.hooks {
		h(ctx, a)
	}
}

// WithMiddleware adds middleware that wraps every logical call of the client
// (see [Middleware]). The first one given is the outermost: it sees the call
// first and its error last. WithMiddleware may be given more than once; the
// middleware adds up, in order. A nil Middleware is refused, as is one that
// returns a nil Invoker.
func WithMiddleware(mw ...Middleware) Option {
	return func(c *config) error {
		for _, m := range mw {
			if m == nil {
				return errors.New("WithMiddleware: nil Middleware")
			}
		}
		c.middleware = append(c.middleware, mw...)
		return nil
	}
}

// chain composes the middleware around the innermost Invoker, which runs the
// call the client put in the Call.
func chain(mw []Middleware) (Invoker, error) {
	inv := Invoker(func(ctx context.Context, call *Call) error {
		if call == nil || call.run == nil {
			return errors.New("heepr: a middleware called next with a Call the client did not make")
		}
		return call.run(ctx, call)
	})
	for i := len(mw) - 1; i >= 0; i-- {
		if inv = mw[i](inv); inv == nil {
			return nil, errors.New("WithMiddleware: a Middleware returned a nil Invoker")
		}
	}
	return inv, nil
}

// invoke runs one operation through the client's middleware. fn makes its
// requests with the context the middleware hands down, and a callConfig
// whose call is the one the middleware passed on.
func (c *Client) invoke(ctx context.Context, cc callConfig, op, orderID string, fn func(context.Context, callConfig) error) error {
	call := &Call{Operation: op, OrderID: orderID, redact: c.redact}
	last := call
	call.run = func(ctx context.Context, call *Call) error {
		last = call
		cc.call = call
		return fn(ctx, cc)
	}
	err := c.mw(ctx, call)
	if cc.info != nil {
		*cc.info = last.Response()
	}
	return err
}
