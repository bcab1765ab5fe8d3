package poller

import "context"

// eventKey is the context key of the event a handler runs for.
type eventKey struct{}

// NewContext returns a copy of ctx that carries ev, which [FromContext] returns.
// The poller gives every handler, middleware and WithOnHandlerError hook such a
// context; NewContext is for tests and code that call a handler themselves.
func NewContext(ctx context.Context, ev EventInfo) context.Context {
	return context.WithValue(ctx, eventKey{}, ev)
}

// FromContext returns the event ctx carries: inside a handler, a middleware
// ([WithMiddleware]) or the [WithOnHandlerError] hook, the event they run for,
// its Attempt and Replayed included. It returns false for a context that
// carries none.
func FromContext(ctx context.Context) (EventInfo, bool) {
	ev, ok := ctx.Value(eventKey{}).(EventInfo)
	return ev, ok
}
