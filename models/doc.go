// Package models holds the heepr wire types, generated from openapi.yaml by
// oapi-codegen (models.gen.go; never edit it, change the spec and run
// go generate), and the few hand-written types the spec maps to: APIKey and
// BootstrapToken, which print redacted in every form.
//
// It holds the schemas only. What only the operations use (RegisterAgentParams
// and the other parameters, the request-body aliases, the aliases of the
// shared error responses) is generated beside the raw client and the server,
// in packages client/raw and server, which name these types as models.X.
//
// The types are shared by both sides of the wire: the SDK's client decodes
// them, heepr's own Go services and the heeprtest fake encode them.
//
// Events arrive as the union Event. Switch on its kind, never on which As…
// method succeeds: the generated As… methods decode any JSON object into any
// variant without checking the kind.
//
//	kind, err := ev.Discriminator()
//	switch EventKind(kind) {
//	case EventKindNewOrder:
//		order, err := ev.AsNewOrderEvent()
//		…
//	default: // a kind this SDK does not know yet: keep ev.Raw()
//	}
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
