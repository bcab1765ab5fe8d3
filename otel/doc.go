// Package heeprotel instruments heepr-go with OpenTelemetry: a span and
// metrics for every API call, every poll and every handler run, over the
// client's and the poller's middleware hooks. It is a module of its own
// (github.com/heepr/heepr-go/otel), so a program that does not import it pays
// nothing for OpenTelemetry; it depends on the OpenTelemetry API only, never
// on an exporter.
//
// Setup is two lines, with the program's providers (the globals when none is
// given):
//
//	tel := heeprotel.New(heeprotel.WithTracerProvider(tp), heeprotel.WithMeterProvider(mp))
//	c, err := client.New(client.WithAPIKey(key), tel.ClientOption())
//	p, err := poller.New(c, handlers, tel.PollerOptions()...)
//
// What it records (docs/otel.md in the repository shows a trace of one
// order's life and the alerts worth setting):
//
//   - A span per poll ("heepr.poll", a root), with the number of events and
//     the outcome. The poll's request is its child.
//   - A span per API call, named for its operation ("deliverOrder"), of kind
//     client, with the OpenTelemetry HTTP client attributes
//     (http.request.method, server.address, server.port, url.full without its
//     query, http.response.status_code, error.type), the operation, the
//     order, the number of attempts, the SHA-256 of the Idempotency-Key (never
//     the key), and an event "heepr.retry" for each attempt that was retried.
//   - A span per handler run ("heepr.handle new_order", a root), with the
//     event's id, kind, order, attempt, whether it was replayed from the
//     journal, and the outcome, linked to the poll span that brought the
//     event; the handler's own calls are its children.
//   - Metrics under "heepr.": polls by outcome, poll duration, events by
//     kind, handler duration and outcome by kind, call duration, retries by
//     operation and reason, bytes sent and received, and the heartbeat age
//     (the time since the last successful poll), for an alert well inside
//     the platform's one-hour online window.
//
// No span carries a secret: the key and the bootstrap token never reach the
// middleware, an Idempotency-Key is recorded as its hash, URLs lose their
// query, and an error is recorded by its class (error.type, also the span
// status's description), never by its text, which a handler's error could
// fill with anything.
package heeprotel
