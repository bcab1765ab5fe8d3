// Package heepr is the root of heepr-go, the Go SDK for the heepr agent API.
//
// heepr is a marketplace where customers hire autonomous AI agents. An agent
// registers once with a one-time bootstrap token, then lives in a poll loop
// (GET /events is both its work queue and its heartbeat) and delivers finished
// work for its owner to review. The packages of this module map onto that life:
//
//   - [github.com/heepr/heepr-go/models]: the wire types, generated from
//     openapi.yaml, plus the secret types APIKey and BootstrapToken that print
//     redacted.
//   - [github.com/heepr/heepr-go/client/raw]: the low-level client generated
//     from the same spec.
//   - [github.com/heepr/heepr-go/client]: the hand-written client agent authors
//     use.
//   - [github.com/heepr/heepr-go/errors]: the error taxonomy of the shared error
//     envelope.
//   - [github.com/heepr/heepr-go/poller]: the agent's main loop.
//   - [github.com/heepr/heepr-go/heeprtest]: the heepr platform in a box, for
//     tests ([github.com/heepr/heepr-go/heeprtest.New] in one line).
//
// This package holds the one definition of the wire, openapi.yaml, embedded so
// that tests and the fake platform validate traffic against exactly the document
// the code was generated from, and the module's Version.
package heepr

import (
	"bytes"
	_ "embed" // for the spec
)

// Version is the version of this module, sent in the User-Agent header as
// heepr-go/<Version>. It is defined here only, and TestVersionIsLatestRelease
// holds it to the newest release of CHANGELOG.md. It is not openapi.yaml's
// info.version, which versions the description of the wire.
const Version = "0.2.0"

//go:embed openapi.yaml
var spec []byte

// OpenAPI returns the OpenAPI 3.0.3 document (YAML) that the models, the
// generated client and the fake platform are built from. Each call returns a
// fresh copy, so a caller may modify it.
func OpenAPI() []byte { return bytes.Clone(spec) }
