package heeprotel

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/heepr/heepr-go/client"
	"github.com/heepr/heepr-go/heeprtest"
	"github.com/heepr/heepr-go/poller"
)

// BenchmarkIdlePollDirect is the idle poll as the poller makes it (the
// client's StreamEvents, one attempt), called directly on the benchmark's
// goroutine, plain and inside the poll middleware with an instrumented client:
// the work the instrumentation adds, without the poll loop's goroutine
// hand-offs, whose scheduling noise is larger than that work.
func BenchmarkIdlePollDirect(b *testing.B) {
	for _, tel := range []bool{false, true} {
		name := map[bool]string{false: "plain", true: "otel"}[tel]
		b.Run(name, func(b *testing.B) {
			poll := idlePoll(b, tel, true)
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if r := poll(ctx); r.Err != nil || r.Events != 0 {
					b.Fatalf("not an idle poll: %+v", r)
				}
			}
		})
	}
}

// BenchmarkIdlePollPaired alternates the two polls of BenchmarkIdlePollDirect
// in one loop, timing each, so that whatever else the machine does weighs on
// both alike: it reports each one's ns/poll and their ratio (its ns/op and
// allocs are the two polls together; the Direct benchmark has each alone).
//
// "sampled" records both spans (AlwaysSample); "unsampled" samples none
// (NeverSample: the metrics, and span contexts that record nothing), as a
// program sampling its idle polls away pays.
func BenchmarkIdlePollPaired(b *testing.B) {
	for _, sampled := range []bool{true, false} {
		name := map[bool]string{true: "sampled", false: "unsampled"}[sampled]
		b.Run(name, func(b *testing.B) { pairedPolls(b, sampled) })
	}
}

func pairedPolls(b *testing.B, sampled bool) {
	plain, instrumented := idlePoll(b, false, true), idlePoll(b, true, sampled)
	ctx := context.Background()
	var tPlain, tOtel time.Duration
	b.ReportAllocs()
	timed := func(poll poller.PollFunc, total *time.Duration) {
		t := time.Now()
		r := poll(ctx)
		*total += time.Since(t)
		if r.Err != nil || r.Events != 0 {
			b.Fatalf("not an idle poll: %+v", r)
		}
	}
	odd := false
	for b.Loop() {
		// Each goes first every other time, so neither pays for the other's
		// garbage more than the other does.
		if odd = !odd; odd {
			timed(plain, &tPlain)
			timed(instrumented, &tOtel)
		} else {
			timed(instrumented, &tOtel)
			timed(plain, &tPlain)
		}
	}
	b.ReportMetric(float64(tPlain.Nanoseconds())/float64(b.N), "plain-ns/poll")
	b.ReportMetric(float64(tOtel.Nanoseconds())/float64(b.N), "otel-ns/poll")
	b.ReportMetric(float64(tOtel)/float64(tPlain), "otel/plain")
}

// idlePoll is an idle poll as the poller makes it, plain or instrumented
// (the SDK's providers, every span sampled or none, no exporter), on a
// platform of its own.
func idlePoll(b *testing.B, tel, sampled bool) poller.PollFunc {
	srv := heeprtest.NewServer()
	a := srv.AddAgent(heeprtest.Registered())
	opts := []client.Option{client.WithHTTPClient(srv.HTTPClient()), client.WithAPIKey(a.APIKey), client.WithAgentID(a.ID)}
	var m *Middleware
	if tel {
		sampler := sdktrace.AlwaysSample()
		if !sampled {
			sampler = sdktrace.NeverSample()
		}
		tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sampler))
		mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
		m = New(WithTracerProvider(tp), WithMeterProvider(mp))
		opts = append(opts, m.ClientOption())
	}
	c, err := client.New(opts...)
	require.NoError(b, err)
	poll := poller.PollFunc(func(ctx context.Context) poller.PollResult {
		n := 0
		err := c.StreamEvents(ctx, func(client.PolledEvent) error { n++; return nil }, client.WithoutRetry())
		return poller.PollResult{Events: n, Err: err}
	})
	if m != nil {
		poll = m.pollMiddleware(&heartbeat{})(poll)
	}
	return poll
}

// BenchmarkMiddlewareAlone is the instrumentation of one poll with nothing
// inside it: the poll middleware around the client middleware around a call
// that returns at once. Its ns/op is the floor the instrumentation adds to any
// poll (two spans, the poll's and its request's, and four metric records),
// however fast the poll itself is.
func BenchmarkMiddlewareAlone(b *testing.B) {
	for _, sampled := range []bool{true, false} {
		b.Run(map[bool]string{true: "sampled", false: "unsampled"}[sampled], func(b *testing.B) {
			sampler := sdktrace.AlwaysSample()
			if !sampled {
				sampler = sdktrace.NeverSample()
			}
			m := New(WithTracerProvider(sdktrace.NewTracerProvider(sdktrace.WithSampler(sampler))),
				WithMeterProvider(sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))))
			call := m.ClientMiddleware(func(context.Context, *client.Call) error { return nil })
			poll := m.pollMiddleware(&heartbeat{})(func(ctx context.Context) poller.PollResult {
				return poller.PollResult{Err: call(ctx, &client.Call{Operation: "pollEvents"})}
			})
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if r := poll(ctx); r.Err != nil {
					b.Fatal(r.Err)
				}
			}
		})
	}
}
