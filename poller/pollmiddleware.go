package poller

import (
	"context"
	"errors"
	"time"
)

// PollFunc is one poll, as a poll middleware sees it (WithPollMiddleware):
// it makes the request, writes the events to the journal, queues them for
// their handlers, and returns what happened.
type PollFunc func(ctx context.Context) PollResult

// WithPollMiddleware wraps every poll in mw: for a span per poll, a poll
// duration metric, a heartbeat gauge. A middleware calls next once with the
// poll's context (or a context derived from it, such as a span's) and returns
// next's PollResult. The context it hands next is the poll's: the poll's
// request runs under it (so the client's middleware sees it, and a span in it
// parents the request's span), and every event the poll brings carries it to
// its handler, where PollContext returns it (so a handler's span can link to
// the poll's).
//
// The poller acts on the poll as it happened (its events, its error, the
// heartbeat), whatever a middleware returns: observing a poll cannot change
// it. A middleware that does not call next skips that poll; the poller then
// takes it as an idle poll that succeeded, so do not. WithOnPoll hears the
// poll as it happened too.
//
// WithPollMiddleware may be given several middlewares, and more than once;
// they add up, the first given the outermost. A nil middleware is refused
// by New.
func WithPollMiddleware(mw ...func(next PollFunc) PollFunc) Option {
	return func(c *config) error {
		for _, m := range mw {
			if m == nil {
				return errors.New("WithPollMiddleware: nil middleware")
			}
		}
		c.pollMiddleware = append(c.pollMiddleware, mw...)
		return nil
	}
}

type pollCtxKey struct{}

// PollContext returns the context of the poll that brought the event ctx
// carries, as the innermost poll middleware handed it down: inside a handler
// or a handler middleware, the context in which a tracer finds the poll's
// span, to link the handler's span to it. It returns false for an event
// replayed from the journal (an earlier process polled it), for a poller
// without WithPollMiddleware, and for a context that carries no event.
//
// The poll is over by the time its events' handlers run: use the context for
// its values, not for its deadline or cancellation.
func PollContext(ctx context.Context) (context.Context, bool) {
	pctx, ok := ctx.Value(pollCtxKey{}).(context.Context)
	return pctx, ok
}

// pollThrough runs one poll inside the poll middleware. It returns the poll
// as it happened, whatever the middleware returned.
func (r *run) pollThrough(ctx context.Context) PollResult {
	var res PollResult
	inner := PollFunc(func(pctx context.Context) PollResult {
		start := time.Now()
		n, err := r.poll(pctx, pctx)
		res = PollResult{At: start, Latency: time.Since(start), Events: n, Err: err}
		return res
	})
	mw := r.p.cfg.pollMiddleware
	if len(mw) == 0 {
		start := time.Now()
		n, err := r.poll(ctx, nil)
		return PollResult{At: start, Latency: time.Since(start), Events: n, Err: err}
	}
	f := inner
	for i := len(mw) - 1; i >= 0; i-- {
		f = mw[i](f)
	}
	f(ctx)
	return res
}
