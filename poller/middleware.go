package poller

import (
	"context"
	"errors"
	"runtime/debug"
)

// HandlerFunc is one run of the handler that takes an event, as a middleware
// sees it: whichever of Handlers' fields takes the event (typed, Unknown or
// Default) runs inside it, and its error (nil, the handler's error, a
// *PanicError, or one wrapping ErrUnhandled when no handler took the event)
// is what it returns.
type HandlerFunc func(ctx context.Context, ev EventInfo) error

// WithMiddleware wraps every run of a handler in mw: for tracing, metrics,
// per-handler logging. A middleware calls next to run the handler (or
// returns without calling it, to skip this attempt with its own error) and
// returns what next returned, or its own error: the poller acts on what the
// outermost middleware returns (retry, report, done) exactly as it would on
// the handler's.
//
// It runs once per attempt, not once per event: a handler retried after an
// error runs inside the middleware again, with ev.Attempt counting from 1, so
// a tracer opens one span per run and sees each run's outcome. ev carries the
// event's id, kind, order, Attempt and Replayed (from the journal at start),
// and ctx carries ev too ([FromContext]) along with the idempotency scope of
// the event's writes; a middleware that derives a context for next (a span's)
// keeps both. ev.DecodeError says what was known before the handler was
// chosen: an event whose payload turns out not to match its kind reaches
// Default with the cause in Default's EventInfo, and the middleware sees the
// error Default returns.
//
// WithMiddleware may be given several middlewares, and may be given more than
// once; they add up, in order: the first given is the outermost, the last
// given runs nearest the handler. A handler's panic is recovered before it
// reaches a middleware (as a *PanicError); a middleware's own panic is
// recovered around the whole chain and treated the same way. A nil
// middleware is refused by New.
func WithMiddleware(mw ...func(next HandlerFunc) HandlerFunc) Option {
	return func(c *config) error {
		for _, m := range mw {
			if m == nil {
				return errors.New("WithMiddleware: nil middleware")
			}
		}
		c.middleware = append(c.middleware, mw...)
		return nil
	}
}

// chain wraps h in mw, the first outermost.
func chain(h HandlerFunc, mw []func(HandlerFunc) HandlerFunc) HandlerFunc {
	for i := len(mw) - 1; i >= 0; i-- {
		h = mw[i](h)
	}
	return h
}

// recovered runs h, turning a panic into a *PanicError.
func recovered(ctx context.Context, h HandlerFunc, ev EventInfo) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = &PanicError{Value: v, Stack: debug.Stack()}
		}
	}()
	return h(ctx, ev)
}
