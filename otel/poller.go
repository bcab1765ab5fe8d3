package heeprotel

import (
	"context"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/heepr/heepr-go/poller"
)

// pollMiddleware opens a root span per poll (a poll is nobody's child: it
// is the loop's own work) and records the poll metrics and the heartbeat.
// The poll's request and the spans that link to it find the span in the
// context it hands on.
func (m *Middleware) pollMiddleware(hb *heartbeat) func(poller.PollFunc) poller.PollFunc {
	return func(next poller.PollFunc) poller.PollFunc {
		return func(ctx context.Context) poller.PollResult {
			start := time.Now()
			ctx, span := m.tracer.Start(ctx, "heepr.poll", pollSpan...)
			r := next(ctx)
			hb.polled(start, r.Err == nil)
			outcome, set := "idle", pollIdle
			switch {
			case r.Err != nil:
				outcome, set = "error", pollError
			case r.Events > 0:
				outcome, set = "events", pollEvents
			}
			m.inst.pollDuration.Record(ctx, time.Since(start).Seconds(), set.record...)
			if r.Err == nil {
				m.inst.polls.Add(ctx, 1, set.add...)
			} else {
				class := errorType(r.Err, apiStatus(r.Err))
				m.inst.polls.Add(ctx, 1, metric.WithAttributes(AttrPollOutcome.String(outcome), semconv.ErrorTypeKey.String(class)))
			}
			if span.IsRecording() {
				if r.Err == nil {
					span.SetAttributes(AttrPollOutcome.String(outcome), AttrPollEvents.Int(r.Events))
				} else {
					class := errorType(r.Err, apiStatus(r.Err))
					span.SetAttributes(AttrPollOutcome.String(outcome), AttrPollEvents.Int(r.Events), semconv.ErrorTypeKey.String(class))
					span.SetStatus(codes.Error, class)
				}
			}
			span.End()
			return r
		}
	}
}

// HandlerMiddleware is the handler middleware PollerOptions installs, for a
// program that orders its middleware itself (poller.WithMiddleware): a root
// span per handler run, linked to the span of the poll that brought the event
// (poller.PollContext), and the handler metrics. The handler's calls are the
// span's children.
func (m *Middleware) HandlerMiddleware(next poller.HandlerFunc) poller.HandlerFunc {
	return func(ctx context.Context, ev poller.EventInfo) error {
		start := time.Now()
		kind := AttrEventKind.String(string(ev.Kind))
		if ev.Attempt <= 1 {
			m.inst.events.Add(ctx, 1, metric.WithAttributes(kind, AttrEventReplayed.Bool(ev.Replayed)))
		}
		opts := []trace.SpanStartOption{trace.WithNewRoot(), trace.WithSpanKind(trace.SpanKindConsumer),
			trace.WithAttributes(AttrEventID.String(ev.ID), kind, AttrHandlerAttempt.Int(ev.Attempt), AttrEventReplayed.Bool(ev.Replayed))}
		if pctx, ok := poller.PollContext(ctx); ok {
			if sc := trace.SpanContextFromContext(pctx); sc.IsValid() {
				opts = append(opts, trace.WithLinks(trace.Link{SpanContext: sc}))
			}
		}
		ctx, span := m.tracer.Start(ctx, "heepr.handle "+string(ev.Kind), opts...)
		if ev.OrderID != "" {
			span.SetAttributes(AttrOrderID.String(ev.OrderID))
		}
		if ev.DecodeError != nil {
			span.SetAttributes(AttrDecodeError.Bool(true))
		}
		err := next(ctx, ev)
		outcome, class := handlerOutcome(err)
		attrs := []attribute.KeyValue{kind, AttrHandlerOutcome.String(outcome)}
		if class != "" {
			attrs = append(attrs, semconv.ErrorTypeKey.String(class))
		}
		m.inst.handler.Record(ctx, time.Since(start).Seconds(), metric.WithAttributes(attrs...))
		if span.IsRecording() {
			span.SetAttributes(attrs[1:]...)
			if err != nil {
				span.SetStatus(codes.Error, class)
			}
		}
		span.End()
		return err
	}
}
