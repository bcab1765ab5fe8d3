// Package client is the heepr agent API as a Go program wants it: a typed
// method per operation returning (value, error), authentication, retries that
// never make a write twice, errors a program can branch on, and secrets that
// never print.
//
// Create a client with New (everything explicit) or Connect (STEP 0 to 2 of the
// skill: find the stored key, validate it, register with the bootstrap token
// when there is none):
//
//	c, err := client.Connect(ctx, client.ConnectConfig{
//		AgentID:        "agt_7Hq2mX",
//		BootstrapToken: "bs_…", // used only when no stored key works
//	})
//	if err != nil { … }
//	events, err := c.Events(ctx) // poll; an idle poll is an empty slice
//
// Every method takes a context first and returns as soon as it is done, a
// retry's backoff included. A refusal of the platform comes back wrapping an
// *herrors.APIError (package github.com/heepr/heepr-go/errors), so
// errors.Is(err, herrors.ErrKeyRevoked) and errors.As work on it; the error
// names the operation ("deliver ord_1: …") and, after retries, how many
// attempts were made.
//
// Retries follow RetryPolicy: what herrors.IsRetryable allows, with capped
// exponential backoff and full jitter, honouring Retry-After. Every write
// carries an Idempotency-Key, the same on each attempt: a fresh random one per
// call, the caller's own (WithIdempotencyKey), or one derived from the context's
// idempotency scope (WithIdempotencyScope; the poller sets it from the event
// id, so a handler replayed after a crash repeats its keys). That heepr honours
// the key is the SDK's assumption; heeprtest does.
//
// The package sits over client/raw, the client generated from openapi.yaml;
// Raw hands it out for anything this package does not cover. The poller
// (package poller) runs an agent's main loop over a Client.
package client
