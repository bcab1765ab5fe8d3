package heeprotel

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/heepr/heepr-go/client"
	herrors "github.com/heepr/heepr-go/errors"
)

// ClientMiddleware is the client middleware ClientOption installs, for a
// program that orders its middleware itself (client.WithMiddleware): a span
// per call, a child of the span in ctx (a handler's, a poll's), and the call
// metrics.
func (m *Middleware) ClientMiddleware(next client.Invoker) client.Invoker {
	return func(ctx context.Context, call *client.Call) error {
		start := time.Now()
		// The attributes go on once, at the end: each SetAttributes costs.
		ctx, span := m.tracer.Start(ctx, call.Operation, clientSpan...)
		// One allocation for what the attempts tell, not one per variable
		// the hook would capture.
		st := &attempts{m: m, op: call.Operation, span: span}
		call.OnAttempt(st.observe)
		err := next(ctx, call)
		last, sent, received := st.last, st.sent, st.received

		// The last attempt's, not call.Response(): that one copies the header.
		status := last.StatusCode
		if status == 0 {
			if apiErr, ok := errors.AsType[*herrors.APIError](err); ok {
				status = apiErr.StatusCode
			}
		}
		class := ""
		if err != nil {
			class = errorType(err, status)
		}
		key := callKey{op: call.Operation, status: status, class: class}
		set := m.sets.call(key)
		m.inst.call.Record(ctx, time.Since(start).Seconds(), set.duration...)
		if sent > 0 {
			m.inst.io.Add(ctx, sent, set.sent...)
		}
		if received > 0 {
			m.inst.io.Add(ctx, received, set.received...)
		}

		if span.IsRecording() {
			attrs := make([]attribute.KeyValue, 0, 14)
			attrs = append(attrs, AttrOperation.String(call.Operation), AttrAttempts.Int(call.Attempts()))
			if call.OrderID != "" {
				attrs = append(attrs, AttrOrderID.String(call.OrderID))
			}
			if status != 0 {
				attrs = append(attrs, semconv.HTTPResponseStatusCode(status))
			}
			if class != "" {
				attrs = append(attrs, semconv.ErrorTypeKey.String(class))
			}
			if n := call.Attempts(); n > 1 {
				attrs = append(attrs, semconv.HTTPRequestResendCount(n-1))
			}
			if last.Method != "" {
				attrs = append(attrs, semconv.HTTPRequestMethodKey.String(last.Method))
			}
			if last.URL != "" {
				attrs = urlAttributes(attrs, last.URL)
			}
			if h := call.IdempotencyKeyHash(); h != "" {
				attrs = append(attrs, AttrIdempotencyKeyHash.String(h))
			}
			if last.RequestID != "" {
				attrs = append(attrs, AttrRequestID.String(last.RequestID))
			}
			span.SetAttributes(attrs...)
			if err != nil {
				span.SetStatus(codes.Error, class)
			}
		}
		span.End()
		return err
	}
}

// attempts gathers what a call's attempts tell its span and metrics: the
// last attempt, the body bytes of all of them, and an event and a count for
// each retry.
type attempts struct {
	m              *Middleware
	op             string
	span           trace.Span
	last           client.Attempt
	sent, received int64
}

func (st *attempts) observe(ctx context.Context, a client.Attempt) {
	st.last = a
	st.sent += a.BytesSent
	st.received += a.BytesReceived
	if !a.Retry {
		return
	}
	class := errorType(a.Err, a.StatusCode)
	st.m.inst.retries.Add(ctx, 1, metric.WithAttributes(AttrOperation.String(st.op), semconv.ErrorTypeKey.String(class)))
	if st.span.IsRecording() {
		attrs := []attribute.KeyValue{AttrAttempt.Int(a.Number), semconv.ErrorTypeKey.String(class),
			AttrRetryWait.Float64(a.Wait.Seconds())}
		if a.StatusCode != 0 {
			attrs = append(attrs, semconv.HTTPResponseStatusCode(a.StatusCode))
		}
		if a.RequestID != "" {
			attrs = append(attrs, AttrRequestID.String(a.RequestID))
		}
		st.span.AddEvent("heepr.retry", trace.WithAttributes(attrs...))
	}
}

// clientSpan and pollSpan are the spans' start options, made once: an option
// costs an allocation per call.
var (
	clientSpan = []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindClient)}
	pollSpan   = []trace.SpanStartOption{trace.WithNewRoot(), trace.WithSpanKind(trace.SpanKindInternal)}
)

// urlAttributes are url.full (the client gives it without query or user
// info), server.address and server.port, the port from the scheme when the
// URL names none.
//
// It reads the authority by hand: url.Parse would cost allocations on every
// poll, and the client hands over a URL it built itself.
func urlAttributes(attrs []attribute.KeyValue, raw string) []attribute.KeyValue {
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok {
		return attrs
	}
	authority := rest
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		authority = rest[:i]
	}
	host, port := authority, ""
	if i := strings.LastIndexByte(authority, ':'); i >= 0 && !strings.HasSuffix(authority, "]") {
		host, port = authority[:i], authority[i+1:]
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if port == "" {
		switch scheme {
		case "https":
			port = "443"
		case "http":
			port = "80"
		}
	}
	attrs = append(attrs, semconv.URLFull(raw), semconv.ServerAddress(host))
	if p, err := strconv.Atoi(port); err == nil {
		attrs = append(attrs, semconv.ServerPort(p))
	}
	return attrs
}
