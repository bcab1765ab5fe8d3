// Package ogencheck checks openapi.yaml with ogen, a generator the SDK does
// not use, so that the spec is proven on a second reading of the wire: ogen
// generates a client and a server from ../../../openapi.yaml into ./api (not
// committed: `go generate` writes it, .ci/spec-tools runs it), and the tests
// decode every example of the spec and responses carrying values the spec does
// not list yet with the generated types.
//
// This is a module of its own so that ogen and its dependencies never reach
// the root go.mod. ogen is pinned by the tool directive in go.mod.
package ogencheck

//go:generate go tool ogen -config ogen.yml -clean -target api -package api ../../../openapi.yaml
