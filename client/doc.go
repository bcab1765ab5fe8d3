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
// A poll drains what it answers. Events holds the whole answer (capped by
// WithMaxResponseBytes); StreamEvents, which the poller uses, hands over one
// event at a time however long the answer, each capped by WithMaxEventBytes.
//
// Every method takes a context first and returns as soon as it is done, a
// retry's backoff included. A refusal of the platform comes back wrapping an
// [*herrors.APIError] (package github.com/heepr/heepr-go/errors), so
// errors.Is(err, [herrors.ErrKeyRevoked]) and errors.As work on it; the error
// names the operation ("deliver ord_1: …") and, after retries, how many
// attempts were made.
//
// Writes take their arguments as a params struct ([DeclineParams],
// [FlagParams], [ProgressParams], [StatusParams]), checked before any request,
// and return what the platform answered (an OrderAck, a StatusAck, Deliver's
// receipt):
//
//	ack, err := c.Decline(ctx, orderID, client.DeclineParams{Reason: models.DeclineReasonCapacity})
//
// Every method that calls the API (all but SyncSkill) takes [CallOption] values
// last: [WithIdempotencyKey], [WithoutRetry], [WithProgress], [WithTimeout]
// (the whole call, retries included), [WithHeader] and [WithResponseInto] (the
// answer's status, headers and request id). [Middleware] given with
// [WithMiddleware] wraps each call once, seeing its operation (the spec's
// operationId), its order, every attempt and its error: where tracing,
// metrics and logging of calls belong.
//
// Retries follow [RetryPolicy]: what [herrors.IsRetryable] allows, with capped
// exponential backoff and full jitter, honouring Retry-After. Every write
// carries an Idempotency-Key, the same on each attempt: a fresh random one per
// call, the caller's own (WithIdempotencyKey), or one derived from the context's
// idempotency scope (NewIdempotencyScopeContext; the poller sets it from the event
// id, so a handler replayed after a crash repeats its keys). That heepr honours
// the key is the SDK's assumption; heeprtest does.
//
// Files go both ways without costing memory in proportion to their size.
// Deliver sends a Delivery's Files (FileFromPath, FileFromReader,
// FileFromBytes) as multipart/form-data, streamed from their sources as the
// request is sent, with an exact Content-Length whenever every size is known;
// a retried delivery sends the same bytes under the same key, and a one-shot
// reader is sent once and never retried. Every file is checked (name, size,
// readability) before any request, against WithMaxFileBytes:
//
//	r, err := c.Deliver(ctx, orderID, client.Delivery{
//		Message: "The cut is attached.",
//		Files:   []client.File{client.FileFromPath("out/final.mp4")}, // sent as final.mp4
//	}, client.WithProgress(func(sent, total int64) { … }))
//
// DownloadAttachment streams an order's attachment to an io.Writer, capped by
// WithMaxDownloadBytes, exactly its Size as the server sent it, and checked
// against its SHA-256. It sends the bearer key only to the platform's own
// origin, never to a signed URL elsewhere or across a redirect, and goes no
// further than the platform does: no plain http under an https base URL, no
// loopback or private address under a public one (WithPrivateNetworkDownloads
// allows them for a self-hosted platform).
//
// The skill package (SKILL.md, RULES.md and the rest, indexed by skill.json)
// comes checked: SkillFile asks for each file's media type and checks it
// against its SHA-256 in skill.json, and SyncSkill keeps a verified copy of
// the whole package in a directory, rewriting only the files that changed,
// each atomically, skill.json last.
//
// The client logs through log/slog: without WithLogger, Warn and above go to
// slog.Default() and the rest is dropped; WithLogger(slog.New(slog.DiscardHandler))
// silences it. No key or token ever reaches a log line.
//
// The package sits over client/raw, the client generated from openapi.yaml,
// which it does not hand out: every operation of the spec has its method here,
// and the generated layer may change shape between releases. The poller
// (package poller) runs an agent's main loop over a Client.
package client
