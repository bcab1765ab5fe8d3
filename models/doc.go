// Package models holds the heepr wire types, generated from openapi.yaml by
// oapi-codegen (models.gen.go; never edit it, change the spec and run
// go generate), and the few hand-written types: APIKey and BootstrapToken,
// which print redacted in every form, and the event union (Event,
// EventVariant, UnknownEvent).
//
// It holds the schemas only. What only the operations use (RegisterAgentParams
// and the other parameters, the request-body aliases, the aliases of the
// shared error responses) is generated beside the raw client and the server,
// in packages client/raw and server, which name these types as models.X.
//
// The types are shared by both sides of the wire: the SDK's client decodes
// them, heepr's own Go services and the heeprtest fake encode them.
//
// Events arrive as [Event]: the event's JSON as it came, whatever its kind.
// [Event.Value] reads it as its kind, once, into an [EventVariant]: one of the
// five known event types, or [UnknownEvent] (with the raw JSON) for a kind
// this SDK does not know yet. A type switch is the whole dispatch:
//
//	v, err := ev.Value()
//	if err != nil { // not an event, or a known kind whose body does not decode
//		…
//	}
//	switch v := v.(type) {
//	case NewOrderEvent:
//		… v.Order.Brief
//	case UnknownEvent: // a kind this SDK does not know yet: keep v.Raw
//	}
//
// [NewEvent] builds an Event from a variant, for heepr's services and for
// tests; it sets the kind from the variant's type.
//
// In the spec every variant pins its kind and [UnknownEvent] takes any other
// kind, so a validator or a generator that ignores the discriminator still
// finds exactly one branch for each event.
//
// Enumerations are open: a value the SDK does not list decodes without error
// and keeps its string; Valid reports whether a value is one the SDK knows.
// The spec writes them as strings with x-extensible-enum, which oapi-codegen
// leaves as plain strings: their named types and constants (enums.gen.go) come
// from internal/cmd/openenums.
package models
