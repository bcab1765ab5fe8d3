package poller

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime/debug"
	"time"

	"github.com/heepr/heepr-go/client"
	"github.com/heepr/heepr-go/models"
)

// Handlers are the agent's answers to events, one function per kind, and
// Default for every event that none of them takes. New refuses a Handlers
// with no function at all.
//
// Every event the poller reads reaches exactly one place: its typed handler;
// Unknown, for a kind this SDK does not know; or Default, for a known kind
// whose field is nil, an unknown kind when Unknown is nil, and an event that
// cannot be read as its kind (a payload that does not decode, an event over
// the client's WithMaxEventBytes, a header without a usable id: Default's
// EventInfo.DecodeError says which). An event that nothing takes is reported
// to WithOnHandlerError with an error wrapping ErrUnhandled, logged at warn
// level and counted (Stats.Unhandled): never a crash, never silently dropped.
//
// A handler runs with a context that carries the event ([FromContext]) and an
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
	Unknown func(ctx context.Context, kind models.EventKind, raw json.RawMessage) error
	// Default receives every event no other field takes (see above), with
	// what can be told of it: its id, kind and order as far as they could be
	// read, and its raw JSON. It is where an agent logs, parks or declines
	// what it was not written for.
	Default func(ctx context.Context, ev EventInfo) error
}

// any reports whether h has at least one handler.
func (h *Handlers) any() bool {
	return h.NewOrder != nil || h.RevisionRequest != nil || h.OwnerApprovedOrder != nil || h.OwnerDeniedOrder != nil ||
		h.ScopeChange != nil || h.Unknown != nil || h.Default != nil
}

// EventInfo is what a handler can learn about the event it runs for, whatever
// its kind.
type EventInfo struct {
	ID        string
	Kind      models.EventKind
	OrderID   string
	CreatedAt time.Time
	// Raw is the event's JSON exactly as polled, unknown fields included; for
	// an event over the client's WithMaxEventBytes, its first bytes only (so
	// not valid JSON).
	Raw json.RawMessage
	// DecodeError is nil for an event read as its kind. For an event that
	// reached Default because it could not be, it says why: over the size
	// cap (errors.Is(err, client.ErrTooLarge)), not JSON, a header that does
	// not decode, an id that is missing or longer than MaxEventIDBytes, a
	// payload that does not match its kind. ID, Kind and OrderID then hold
	// what could be read of them, ID only when it is usable.
	DecodeError error
	// Attempt counts the runs of the handler for this event in this process,
	// from 1.
	Attempt int
	// Replayed reports whether the event came from the journal at start: an
	// earlier process polled it and did not finish with it.
	Replayed bool
}

// PanicError is a handler's panic, recovered and treated as its error.
type PanicError struct {
	Value any
	Stack []byte
}

// Error says what the handler panicked with.
func (e *PanicError) Error() string { return fmt.Sprintf("handler panicked: %v", e.Value) }

// ErrUnhandled is wrapped by the error WithOnHandlerError hears for an event
// that no handler took: its kind's field and Default are nil (or Unknown and
// Default, for a kind the SDK does not know). When the event could not be
// read as its kind, the error wraps that cause too.
var ErrUnhandled = errors.New("poller: no handler took this event")

// call runs the handler that takes e, recovering a panic.
func (h *Handlers) call(ctx context.Context, e entry, info EventInfo) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = &PanicError{Value: v, Stack: debug.Stack()}
		}
	}()
	if e.bad != nil {
		return h.fallback(ctx, info, e.bad)
	}
	// Value reads the event as its kind, once; the type switch below is the
	// whole dispatch. An event that does not read as its kind goes to Default
	// with the reason, whether or not its kind has a handler.
	v, err := e.event.Value()
	if err != nil {
		return h.fallback(ctx, info, err)
	}
	switch v := v.(type) {
	case models.NewOrderEvent:
		if h.NewOrder != nil {
			return h.NewOrder(ctx, v)
		}
	case models.RevisionRequestEvent:
		if h.RevisionRequest != nil {
			return h.RevisionRequest(ctx, v)
		}
	case models.OwnerApprovedOrderEvent:
		if h.OwnerApprovedOrder != nil {
			return h.OwnerApprovedOrder(ctx, v)
		}
	case models.OwnerDeniedOrderEvent:
		if h.OwnerDeniedOrder != nil {
			return h.OwnerDeniedOrder(ctx, v)
		}
	case models.ScopeChangeEvent:
		if h.ScopeChange != nil {
			return h.ScopeChange(ctx, v)
		}
	case models.UnknownEvent:
		if h.Unknown != nil {
			return h.Unknown(ctx, v.Kind, v.Raw)
		}
	}
	return h.fallback(ctx, info, nil)
}

// fallback hands an event no typed handler takes to Default, with why
// (decodeErr, nil when the kind merely has no handler).
func (h *Handlers) fallback(ctx context.Context, info EventInfo, decodeErr error) error {
	if h.Default == nil {
		if decodeErr != nil {
			return fmt.Errorf("%w: %w", ErrUnhandled, decodeErr)
		}
		return ErrUnhandled
	}
	info.DecodeError = decodeErr
	return h.Default(NewContext(ctx, info), info)
}

// eventContext is the context every run of a handler gets: the event
// (FromContext), and the idempotency scope of its id, so a run again (a
// retry, a replay, another machine) repeats the keys of its writes.
func eventContext(ctx context.Context, info EventInfo) context.Context {
	ctx = NewContext(ctx, info)
	if info.ID != "" {
		ctx = client.NewIdempotencyScopeContext(ctx, "heepr-event:"+info.ID)
	}
	return ctx
}

// Handle runs the handler of h that takes the event e (as a Journal keeps
// it), exactly as a Poller's worker runs one attempt: inside mw (as
// [WithMiddleware] gives them, the first outermost), with a context that
// carries the event's EventInfo (with attempt and replayed) and the
// idempotency scope of its id, so the keys of its writes are the ones any
// other run of it makes, in this process or another; a panic, the handler's
// or a middleware's, comes back as a *PanicError; an event nothing takes as
// an error wrapping ErrUnhandled. It is for journals whose own workers handle
// the events (the river module's).
func (h Handlers) Handle(ctx context.Context, je JournalEntry, attempt int, replayed bool, mw ...func(next HandlerFunc) HandlerFunc) error {
	e := fromJournal(je)
	info := e.info()
	info.Attempt, info.Replayed = attempt, replayed
	for _, m := range mw {
		if m == nil {
			return errors.New("heepr poller: Handle: nil middleware")
		}
	}
	run := chain(func(ctx context.Context, ev EventInfo) error { return h.call(ctx, e, ev) }, mw)
	return recovered(eventContext(ctx, info), run, info)
}

// IsPermanent reports whether a handler's error is one that no retry can
// mend: no handler took the event (ErrUnhandled), the client refused the
// call for its arguments, or the platform refused it for good (a 4xx other
// than 429). A Poller reports such an event at once rather than retrying.
func IsPermanent(err error) bool {
	return errors.Is(err, ErrUnhandled) || !worthRetrying(err)
}
