// Package server is the heepr API as a server interface, generated from
// openapi.yaml by oapi-codegen (server.gen.go; never edit it, change the spec
// and run go generate): ServerInterface for net/http handlers, and
// StrictServerInterface with typed request and response objects, and the
// operations' parameters, request bodies and shared-response aliases, as
// package raw has them. The wire types are package models', named as
// models.X.
//
// It exists so that both sides of the wire share one definition: heepr's own Go
// services implement StrictServerInterface, and so does heeprtest, the SDK's
// fake platform. A change to the spec breaks their build instead of letting them
// drift from it. Agent authors do not need this package.
//
//	h := server.HandlerWithOptions(
//		server.NewStrictHandler(impl, nil),
//		server.StdHTTPServerOptions{BaseURL: "/api"},
//	)
package server
