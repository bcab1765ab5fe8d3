package poller

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime/debug"
	"time"

	"github.com/heepr/heepr-go/models"
)

// Handlers are the agent's answers to events, one function per kind. A nil
// function leaves its kind unhandled: such an event is logged at warn level and
// counted (Stats.Unhandled), never a crash, never silently dropped.
//
// A handler runs with a context that carries the event (EventFrom) and an
// idempotency scope derived from the event's id: every write it makes through
// the client takes a key from the event id, the operation and its place among
// the handler's writes, so a handler run again (a retry, or a replay after a
// crash) repeats the same keys and the platform keeps one effect. Make the
// writes of one handler one at a time, in the same order on every run.
//
// A handler returns nil when it is done with the event. An error makes the
// poller try it again, with backoff, up to WithHandlerRetry's attempts, then
// report it to WithOnHandlerError; a refusal of the platform that no retry can
// change (a 4xx other than 429) is reported at once. A panic is recovered and
// treated as an error (a *PanicError, with the stack). The context is
// cancelled when Run's shutdown timeout runs out: return soon after.
type Handlers struct {
	NewOrder           func(ctx context.Context, ev models.NewOrderEvent) error
	RevisionRequest    func(ctx context.Context, ev models.RevisionRequestEvent) error
	OwnerApprovedOrder func(ctx context.Context, ev models.OwnerApprovedOrderEvent) error
	OwnerDeniedOrder   func(ctx context.Context, ev models.OwnerDeniedOrderEvent) error
	ScopeChange        func(ctx context.Context, ev models.ScopeChangeEvent) error
	// Unknown receives events of kinds this version of the SDK does not know,
	// with their raw JSON, so an agent keeps working when the platform grows.
	Unknown func(ctx context.Context, kind string, raw json.RawMessage) error
}

// EventInfo is what a handler can learn about the event it runs for, whatever
// its kind.
type EventInfo struct {
	ID        string
	Kind      models.EventKind
	OrderID   string
	CreatedAt time.Time
	// Raw is the event's JSON exactly as polled, unknown fields included.
	Raw json.RawMessage
	// Attempt counts the runs of the handler for this event in this process,
	// from 1.
	Attempt int
	// Replayed reports whether the event came from the journal at start: an
	// earlier process polled it and did not finish with it.
	Replayed bool
}

type eventKey struct{}

// EventFrom returns the event the handler runs for, and false outside a
// handler.
func EventFrom(ctx context.Context) (EventInfo, bool) {
	e, ok := ctx.Value(eventKey{}).(EventInfo)
	return e, ok
}

// PanicError is a handler's panic, recovered and treated as its error.
type PanicError struct {
	Value any
	Stack []byte
}

// Error says what the handler panicked with.
func (e *PanicError) Error() string { return fmt.Sprintf("handler panicked: %v", e.Value) }

// errUnhandled marks an event whose kind has no handler.
var errUnhandled = errors.New("no handler for this kind")

// call runs the handler for e's kind, recovering a panic.
func (h *Handlers) call(ctx context.Context, e entry) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = &PanicError{Value: v, Stack: debug.Stack()}
		}
	}()
	ev := e.event
	switch e.header.Kind {
	case models.EventKindNewOrder:
		if h.NewOrder != nil {
			return decodeThen(ev.AsNewOrderEvent, func(v models.NewOrderEvent) error { return h.NewOrder(ctx, v) })
		}
	case models.EventKindRevisionRequest:
		if h.RevisionRequest != nil {
			return decodeThen(ev.AsRevisionRequestEvent, func(v models.RevisionRequestEvent) error { return h.RevisionRequest(ctx, v) })
		}
	case models.EventKindOwnerApprovedOrder:
		if h.OwnerApprovedOrder != nil {
			return decodeThen(ev.AsOwnerApprovedOrderEvent, func(v models.OwnerApprovedOrderEvent) error { return h.OwnerApprovedOrder(ctx, v) })
		}
	case models.EventKindOwnerDeniedOrder:
		if h.OwnerDeniedOrder != nil {
			return decodeThen(ev.AsOwnerDeniedOrderEvent, func(v models.OwnerDeniedOrderEvent) error { return h.OwnerDeniedOrder(ctx, v) })
		}
	case models.EventKindScopeChange:
		if h.ScopeChange != nil {
			return decodeThen(ev.AsScopeChangeEvent, func(v models.ScopeChangeEvent) error { return h.ScopeChange(ctx, v) })
		}
	default:
		if h.Unknown != nil {
			return h.Unknown(ctx, string(e.header.Kind), ev.Raw())
		}
	}
	return errUnhandled
}

// errDecode marks an event of a known kind whose payload does not decode: no
// retry can fix it.
type errDecode struct{ err error }

func (e *errDecode) Error() string { return "decode event: " + e.err.Error() }
func (e *errDecode) Unwrap() error { return e.err }

// decodeThen dispatches on the kind already switched on: the generated As…
// methods do not check it themselves.
func decodeThen[T any](as func() (T, error), then func(T) error) error {
	v, err := as()
	if err != nil {
		return &errDecode{err: err}
	}
	return then(v)
}
