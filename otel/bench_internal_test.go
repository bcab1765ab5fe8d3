package heeprotel

import (
	"context"
	"testing"

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
	for _, tc := range []struct {
		name string
		tel  bool
	}{{"plain", false}, {"otel", true}} {
		b.Run(tc.name, func(b *testing.B) {
			srv := heeprtest.NewServer()
			a := srv.AddAgent(heeprtest.Registered())
			opts := []client.Option{client.WithHTTPClient(srv.HTTPClient()), client.WithAPIKey(a.APIKey), client.WithAgentID(a.ID)}
			var m *Middleware
			if tc.tel {
				tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.AlwaysSample()))
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
