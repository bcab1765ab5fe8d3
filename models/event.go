package models

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// Header decodes the fields every event carries (id, kind, created_at,
// order_id), whatever its kind, including a kind this version of the SDK does
// not know. It fails only when the event is not a JSON object.
func (t Event) Header() (EventHeader, error) {
	var h EventHeader
	if err := json.Unmarshal(t.union, &h); err != nil {
		return EventHeader{}, fmt.Errorf("decode event header: %w", err)
	}
	return h, nil
}

// Raw returns the event's JSON exactly as it arrived, unknown fields included.
// The slice is a copy; modifying it does not change the event.
func (t Event) Raw() json.RawMessage { return bytes.Clone(t.union) }
