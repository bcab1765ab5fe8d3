package poller

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/heepr/heepr-go/models"
)

// MaxEventIDBytes is the longest event id the poller accepts. An event with a
// longer id (the platform's are a few bytes) is handed to Handlers.Default
// without an id, and never remembered as handled: an id goes into the journal's
// seen log and into idempotency keys, and one of megabytes must not.
const MaxEventIDBytes = 256

// entry is one polled event on its way to a handler.
type entry struct {
	event  models.Event       // valid when bad is nil
	header models.EventHeader // as far as it could be read when bad is set
	raw    []byte             // the event's bytes as polled (truncated when too large)
	// bad says why no typed handler can take the event: it goes to Default.
	bad      error
	replayed bool   // from the journal at start
	n        uint64 // the run's count of entries, unique: the dispatch key of an event without id or order
	// origin is the context of the poll that brought the event, as the
	// poll middleware handed it down (PollContext); nil without one.
	origin context.Context

	// Where it is in the journal: a poll's segment and its line there, or a
	// file of its own (the layout of v0.1.0). Zero without a journal.
	seg  uint64
	pos  int
	path string
}

// id is the event's id when it is usable for deduplication and the seen log,
// else "".
func (e *entry) id() string { return e.header.ID }

func (e *entry) info() EventInfo {
	return EventInfo{
		ID: e.header.ID, Kind: e.header.Kind, OrderID: e.header.OrderID, CreatedAt: e.header.CreatedAt,
		Raw: bytes.Clone(e.raw), Replayed: e.replayed, DecodeError: e.bad,
	}
}

// errNoID marks an event whose id is missing.
var errNoID = errors.New("event without an id")

// classify reads an element of a poll's answer (or of the journal) into an
// entry: an event with a usable header, or a bad one (readErr, when the
// element could not even be taken whole) with what could be read of it.
func classify(raw []byte, readErr error) entry {
	e := entry{raw: raw, bad: readErr}
	if e.bad == nil {
		if err := e.event.UnmarshalJSON(raw); err != nil {
			e.bad = err
		} else if e.header, err = e.event.Header(); err != nil {
			e.bad = err
		}
	}
	if e.bad != nil {
		e.header = partialHeader(raw)
	}
	switch {
	case len(e.header.ID) > MaxEventIDBytes:
		if e.bad == nil {
			e.bad = fmt.Errorf("event id of %d bytes, over the %d allowed", len(e.header.ID), MaxEventIDBytes)
		}
		e.header.ID = ""
	case e.header.ID == "" && e.bad == nil:
		e.bad = errNoID
	}
	return e
}

// partialHeader reads what it can of an event's header from bytes that may
// not be a whole event, or not valid JSON: the string members id, kind and
// order_id, and created_at if it is RFC 3339, of the top-level object, up to
// the first byte that does not parse.
func partialHeader(raw []byte) models.EventHeader {
	var h models.EventHeader
	dec := json.NewDecoder(bytes.NewReader(raw))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return h
	}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return h
		}
		name, _ := t.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return h
		}
		var s string
		if json.Unmarshal(v, &s) != nil {
			continue
		}
		switch name {
		case "id":
			h.ID = s
		case "kind":
			h.Kind = models.EventKind(s)
		case "order_id":
			h.OrderID = s
		case "created_at":
			h.CreatedAt, _ = time.Parse(time.RFC3339, s)
		}
	}
	return h
}
