package models

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"time"
)

// Event is one event of a poll's answer, kept as the JSON it arrived as,
// whatever its kind: an event of a kind or with members this SDK does not know
// is never lost. [Event.Value] reads it as its kind; [NewEvent] builds one.
//
// Event is written by hand rather than generated from the spec's oneOf: the
// generated union let any variant be decoded from any event without looking at
// its kind. It marshals exactly the JSON it holds, and unmarshals any valid
// JSON value (a value that is not an object fails in Value and Header, not
// here, so that the poll that brought it is not lost). The zero Event holds no
// JSON: it marshals as null, and Value and Header fail on it.
type Event struct {
	raw json.RawMessage
}

// EventVariant is an event read as its kind: a [NewOrderEvent],
// [RevisionRequestEvent], [OwnerApprovedOrderEvent], [OwnerDeniedOrderEvent],
// [ScopeChangeEvent], or an [UnknownEvent] for any other kind. [Event.Value]
// returns one, [NewEvent] takes one; switch on its type:
//
//	switch v := v.(type) {
//	case models.NewOrderEvent: …
//	case models.UnknownEvent: … // a kind added after this SDK: keep v.Raw
//	}
//
// The set is sealed: EventVariant has an unexported method, which no type
// outside package models can declare, so these six are the only
// implementations (a struct that embeds one of them acquires its methods, but
// Value never returns one and NewEvent refuses it). Value returns values,
// never pointers.
type EventVariant interface {
	// EventKind returns the kind the variant stands for: the fixed kind of
	// each known variant (whatever its Kind field holds), or an
	// UnknownEvent's Kind.
	EventKind() EventKind

	// header returns the fields every event carries, as the variant holds
	// them. Being unexported, it seals the interface.
	header() EventHeader
}

// UnknownEvent is an event of a kind this version of the SDK does not know:
// its header, and the whole event as JSON. A program keeps it (or logs it)
// rather than fail on it: the platform drains what a poll returned, and may
// add kinds at any time.
//
// For [NewEvent], Raw, when set, is the whole event (a JSON object), and the
// other fields, where set, must agree with it; without Raw the event is the
// header alone. encoding/json does not encode Raw: build the Event with
// NewEvent and marshal that.
type UnknownEvent struct {
	// ID is the event's id, unique per agent.
	ID string `json:"id"`
	// Kind is the kind as the platform sent it: never one of the kinds
	// [EventKind.Valid] knows. Empty when the event has no kind.
	Kind EventKind `json:"kind"`
	// CreatedAt is when the platform queued the event.
	CreatedAt time.Time `json:"created_at"`
	// OrderID is the order the event is about.
	OrderID string `json:"order_id"`
	// Raw is the whole event, exactly as it arrived, unknown members
	// included. Value gives each UnknownEvent a copy of its own.
	Raw json.RawMessage `json:"-"`
}

// EventKind returns [EventKindNewOrder].
func (NewOrderEvent) EventKind() EventKind { return EventKindNewOrder }

// EventKind returns [EventKindRevisionRequest].
func (RevisionRequestEvent) EventKind() EventKind { return EventKindRevisionRequest }

// EventKind returns [EventKindOwnerApprovedOrder].
func (OwnerApprovedOrderEvent) EventKind() EventKind { return EventKindOwnerApprovedOrder }

// EventKind returns [EventKindOwnerDeniedOrder].
func (OwnerDeniedOrderEvent) EventKind() EventKind { return EventKindOwnerDeniedOrder }

// EventKind returns [EventKindScopeChange].
func (ScopeChangeEvent) EventKind() EventKind { return EventKindScopeChange }

// EventKind returns the event's Kind field: the kind as the platform sent it.
func (e UnknownEvent) EventKind() EventKind { return e.Kind }

func (e NewOrderEvent) header() EventHeader {
	return EventHeader{ID: e.ID, Kind: e.Kind, CreatedAt: e.CreatedAt, OrderID: e.OrderID}
}

func (e RevisionRequestEvent) header() EventHeader {
	return EventHeader{ID: e.ID, Kind: e.Kind, CreatedAt: e.CreatedAt, OrderID: e.OrderID}
}

func (e OwnerApprovedOrderEvent) header() EventHeader {
	return EventHeader{ID: e.ID, Kind: e.Kind, CreatedAt: e.CreatedAt, OrderID: e.OrderID}
}

func (e OwnerDeniedOrderEvent) header() EventHeader {
	return EventHeader{ID: e.ID, Kind: e.Kind, CreatedAt: e.CreatedAt, OrderID: e.OrderID}
}

func (e ScopeChangeEvent) header() EventHeader {
	return EventHeader{ID: e.ID, Kind: e.Kind, CreatedAt: e.CreatedAt, OrderID: e.OrderID}
}

func (e UnknownEvent) header() EventHeader {
	return EventHeader{ID: e.ID, Kind: e.Kind, CreatedAt: e.CreatedAt, OrderID: e.OrderID}
}

// Value reads the event as its kind: one of the five known variants, or an
// [UnknownEvent] (with the event's raw JSON) for any other kind, absent kind
// included. An unknown kind is never an error. Value reads the kind, then
// decodes the event once, straight into its variant; members the variant does
// not have are ignored, unknown values of open enumerations kept.
//
// It fails when the event is not a JSON object, when a known kind's event does
// not decode as that kind (the error names the event's id and kind, and the
// field: "order.deadline"), when an unknown kind's header does not decode, and
// when the event holds two different kinds (a repeated or differently cased
// "kind" member). Each call decodes afresh and returns values that share
// nothing with e or with other calls.
func (e Event) Value() (EventVariant, error) {
	kind, err := scanKind(e.raw)
	if err != nil {
		return nil, fmt.Errorf("decode event: %w", err)
	}
	switch kind {
	case EventKindNewOrder:
		return decodeVariant[NewOrderEvent](e.raw, kind)
	case EventKindRevisionRequest:
		return decodeVariant[RevisionRequestEvent](e.raw, kind)
	case EventKindOwnerApprovedOrder:
		return decodeVariant[OwnerApprovedOrderEvent](e.raw, kind)
	case EventKindOwnerDeniedOrder:
		return decodeVariant[OwnerDeniedOrderEvent](e.raw, kind)
	case EventKindScopeChange:
		return decodeVariant[ScopeChangeEvent](e.raw, kind)
	}
	h, err := e.Header()
	if err != nil {
		return nil, fmt.Errorf("%s event %s: %w", quoteKind(kind), eventID(e.raw), err)
	}
	if h.Kind != kind {
		return nil, conflictingKinds(e.raw, kind, h.Kind)
	}
	return UnknownEvent{ID: h.ID, Kind: kind, CreatedAt: h.CreatedAt, OrderID: h.OrderID, Raw: bytes.Clone(e.raw)}, nil
}

// decodeVariant decodes raw, an event of the given known kind, as T.
func decodeVariant[T EventVariant](raw []byte, kind EventKind) (EventVariant, error) {
	var v T
	if err := json.Unmarshal(raw, &v); err != nil {
		where := ""
		if path, val := locate(raw, reflect.TypeFor[T]()); path != "" {
			where = path + " " + truncateJSON(val) + ": "
		}
		return nil, fmt.Errorf("decode %s event %s: %s%w", kind, eventID(raw), where, err)
	}
	// The kind was read from the first "kind" member; encoding/json keeps the
	// last, and matches names without regard to case. Both must agree, or
	// the event is read as a kind it does not say it is.
	if got := v.header().Kind; got != kind {
		return nil, conflictingKinds(raw, kind, got)
	}
	return v, nil
}

func conflictingKinds(raw []byte, first, last EventKind) error {
	return fmt.Errorf("decode event %s: it holds two kinds, %q and %q", eventID(raw), first, last)
}

func quoteKind(k EventKind) string {
	if k == "" {
		return "kindless"
	}
	return fmt.Sprintf("%q", string(k))
}

// eventID is the event's id for an error message, as far as it can be read.
func eventID(raw []byte) string {
	var h struct {
		ID json.RawMessage `json:"id"`
	}
	if json.Unmarshal(raw, &h) != nil || len(h.ID) == 0 {
		return "(id unknown)"
	}
	return truncateJSON(h.ID)
}

// locate finds the field of t whose member of raw does not decode, for an
// error message: its path ("order.attachments[0].size") and its JSON. It is
// only called once decoding has failed, so it may be slow.
func locate(raw []byte, t reflect.Type) (string, json.RawMessage) {
	switch {
	case t.Kind() == reflect.Struct && !reflect.PointerTo(t).Implements(reflect.TypeFor[json.Unmarshaler]()):
		var members map[string]json.RawMessage
		if json.Unmarshal(raw, &members) != nil {
			return "", nil
		}
		for i := range t.NumField() {
			f := t.Field(i)
			name, _, _ := bytes.Cut([]byte(f.Tag.Get("json")), []byte(","))
			m, ok := members[string(name)]
			if !ok || len(name) == 0 || json.Unmarshal(m, reflect.New(f.Type).Interface()) == nil {
				continue
			}
			path, val := locate(m, f.Type)
			if path != "" && path[0] != '[' {
				path = "." + path
			}
			if val == nil {
				val = m
			}
			return string(name) + path, val
		}
	case t.Kind() == reflect.Slice:
		var elems []json.RawMessage
		if json.Unmarshal(raw, &elems) != nil {
			return "", nil
		}
		for i, el := range elems {
			if json.Unmarshal(el, reflect.New(t.Elem()).Interface()) == nil {
				continue
			}
			path, val := locate(el, t.Elem())
			if path != "" && path[0] != '[' {
				path = "." + path
			}
			if val == nil {
				val = el
			}
			return fmt.Sprintf("[%d]%s", i, path), val
		}
	}
	return "", nil
}

// NewEvent builds the Event of a variant, for heepr's services and for tests:
// its JSON is the variant's, with the kind set from the variant's type. A
// known variant's Kind field may be left empty; NewEvent refuses one that
// holds another kind. An [UnknownEvent] needs a Kind that is not one of the
// known kinds (those have their own types), and its Raw, when set, must be a
// JSON object with the same kind, and the same header where the UnknownEvent
// sets one: the Event's JSON is then Raw itself, byte for byte.
//
// A pointer to a variant is read as the variant; a nil variant, a nil
// pointer, and a type from outside package models (one that embeds a variant)
// are refused. Value of the result reads back the variant NewEvent was given,
// with its Kind set (an UnknownEvent with its Raw, the event's JSON), and its
// times as their JSON reads them back (RFC 3339, no monotonic clock reading).
func NewEvent(v EventVariant) (Event, error) {
	if rv := reflect.ValueOf(v); rv.Kind() == reflect.Pointer {
		if rv.IsNil() {
			return Event{}, fmt.Errorf("models.NewEvent: a nil %T", v)
		}
		v, _ = rv.Elem().Interface().(EventVariant)
	}
	var (
		b   []byte
		err error
	)
	switch v := v.(type) {
	case NewOrderEvent:
		if v.Kind, err = pinKind(v, v.Kind); err == nil {
			b, err = json.Marshal(v)
		}
	case RevisionRequestEvent:
		if v.Kind, err = pinKind(v, v.Kind); err == nil {
			b, err = json.Marshal(v)
		}
	case OwnerApprovedOrderEvent:
		if v.Kind, err = pinKind(v, v.Kind); err == nil {
			b, err = json.Marshal(v)
		}
	case OwnerDeniedOrderEvent:
		if v.Kind, err = pinKind(v, v.Kind); err == nil {
			b, err = json.Marshal(v)
		}
	case ScopeChangeEvent:
		if v.Kind, err = pinKind(v, v.Kind); err == nil {
			b, err = json.Marshal(v)
		}
	case UnknownEvent:
		b, err = encodeUnknown(v)
	case nil:
		err = errors.New("a nil EventVariant")
	default:
		err = fmt.Errorf("%T is not an event type of package models", v)
	}
	if err != nil {
		return Event{}, fmt.Errorf("models.NewEvent: %w", err)
	}
	return Event{raw: b}, nil
}

// pinKind returns the kind v's Kind field must hold: its own, when the field
// is empty or already holds it.
func pinKind(v EventVariant, have EventKind) (EventKind, error) {
	want := v.EventKind()
	if have != "" && have != want {
		return "", fmt.Errorf("a %T with Kind %q: its kind is always %q", v, have, want)
	}
	return want, nil
}

// encodeUnknown is NewEvent for an UnknownEvent.
func encodeUnknown(u UnknownEvent) ([]byte, error) {
	if u.Kind.Valid() {
		return nil, fmt.Errorf("an UnknownEvent with the known Kind %q: build that kind's own type", u.Kind)
	}
	if u.Raw == nil {
		if u.Kind == "" {
			return nil, errors.New("an UnknownEvent without Kind or Raw")
		}
		return json.Marshal(EventHeader{ID: u.ID, Kind: u.Kind, CreatedAt: u.CreatedAt, OrderID: u.OrderID})
	}
	if !validJSON(u.Raw) {
		return nil, errors.New("an UnknownEvent whose Raw is not valid JSON")
	}
	got, err := Event{raw: u.Raw}.Value()
	if err != nil {
		return nil, fmt.Errorf("an UnknownEvent whose Raw is not an event: %w", err)
	}
	r, ok := got.(UnknownEvent)
	if !ok || r.Kind != u.Kind {
		return nil, fmt.Errorf("an UnknownEvent with Kind %q whose Raw has kind %q", u.Kind, got.EventKind())
	}
	switch {
	case u.ID != "" && u.ID != r.ID:
		return nil, fmt.Errorf("an UnknownEvent with ID %q whose Raw has id %q", u.ID, r.ID)
	case u.OrderID != "" && u.OrderID != r.OrderID:
		return nil, fmt.Errorf("an UnknownEvent with OrderID %q whose Raw has order_id %q", u.OrderID, r.OrderID)
	case !u.CreatedAt.IsZero() && !u.CreatedAt.Equal(r.CreatedAt):
		return nil, fmt.Errorf("an UnknownEvent with CreatedAt %s whose Raw has created_at %s",
			u.CreatedAt.Format(time.RFC3339Nano), r.CreatedAt.Format(time.RFC3339Nano))
	}
	return bytes.Clone(u.Raw), nil
}

// Header decodes the fields every event carries (id, kind, created_at,
// order_id), whatever its kind, including a kind this version of the SDK does
// not know. It fails when the event is not a JSON object, or when one of those
// fields has the wrong type (a created_at that is not RFC 3339); the error
// then names the field.
func (e Event) Header() (EventHeader, error) {
	if len(e.raw) == 0 {
		return EventHeader{}, errors.New("decode event header: " + errEmpty.Error())
	}
	var h EventHeader
	if err := json.Unmarshal(e.raw, &h); err != nil {
		return EventHeader{}, fmt.Errorf("decode event header: %w", headerField(e.raw, err))
	}
	return h, nil
}

// headerField finds which header field err is about: encoding/json does not
// say when the field's own decoder failed (time.Time's does, for created_at).
func headerField(raw []byte, err error) error {
	if path, val := locate(raw, reflect.TypeFor[EventHeader]()); path != "" {
		return fmt.Errorf("%s %s: %w", path, truncateJSON(val), err)
	}
	return err
}

// truncateJSON shows a field's value in an error, at most 64 bytes of it.
func truncateJSON(v json.RawMessage) string {
	if len(v) > 64 {
		return string(v[:64]) + "…"
	}
	return string(v)
}

// Raw returns the event's JSON exactly as it arrived, unknown fields included.
// The slice is a copy; modifying it does not change the event.
func (e Event) Raw() json.RawMessage { return bytes.Clone(e.raw) }

// MarshalJSON returns the JSON the event holds (a copy), or null for the zero
// Event.
func (e Event) MarshalJSON() ([]byte, error) {
	if e.raw == nil {
		return []byte("null"), nil
	}
	return bytes.Clone(e.raw), nil
}

// UnmarshalJSON keeps a copy of b, any valid JSON value, as the event. It
// fails only when b is not valid JSON; whether b is an event is for Value and
// Header to say.
func (e *Event) UnmarshalJSON(b []byte) error {
	if !validJSON(b) {
		return errors.New("models.Event: not valid JSON")
	}
	e.raw = bytes.Clone(b)
	return nil
}
