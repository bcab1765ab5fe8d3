package models

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"
)

// Header decodes the fields every event carries (id, kind, created_at,
// order_id), whatever its kind, including a kind this version of the SDK does
// not know. It fails when the event is not a JSON object, or when one of those
// fields has the wrong type (a created_at that is not RFC 3339); the error
// then names the field.
func (t Event) Header() (EventHeader, error) {
	var h EventHeader
	if err := json.Unmarshal(t.union, &h); err != nil {
		return EventHeader{}, fmt.Errorf("decode event header: %w", headerField(t.union, err))
	}
	return h, nil
}

// headerField finds which header field err is about: encoding/json does not
// say when the field's own decoder failed (time.Time's does, for created_at).
func headerField(raw []byte, err error) error {
	var fields map[string]json.RawMessage
	if json.Unmarshal(raw, &fields) != nil {
		return err
	}
	for name, v := range map[string]any{"id": new(string), "kind": new(EventKind), "created_at": new(time.Time), "order_id": new(string)} {
		if f, ok := fields[name]; ok {
			if ferr := json.Unmarshal(f, v); ferr != nil {
				return fmt.Errorf("%s %s: %w", name, truncateJSON(f), ferr)
			}
		}
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
func (t Event) Raw() json.RawMessage { return bytes.Clone(t.union) }
