package heeprotel_test

import (
	"context"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/heepr/heepr-go/client"
	"github.com/heepr/heepr-go/heeprtest"
	"github.com/heepr/heepr-go/models"
	heeprotel "github.com/heepr/heepr-go/otel"
	"github.com/heepr/heepr-go/poller"
)

// BenchmarkIdlePoll is one idle poll through a running poller, plain and
// instrumented (a sampled span per poll and its request, every metric, the
// SDK's providers with no exporter), in the same run. Each iteration wakes
// the poller and waits for WithOnPoll to hear the poll.
func BenchmarkIdlePoll(b *testing.B) {
	for _, tc := range []struct {
		name         string
		tel          bool
		client, poll bool
	}{{"plain", false, false, false}, {"otel", true, true, true}, {"clientonly", true, true, false}, {"pollonly", true, false, true}} {
		b.Run(tc.name, func(b *testing.B) {
			srv := heeprtest.NewServer()
			a := srv.AddAgent(heeprtest.Registered())
			polled := make(chan struct{}, 1)
			copts := []client.Option{client.WithHTTPClient(srv.HTTPClient()), client.WithAPIKey(a.APIKey), client.WithAgentID(a.ID)}
			popts := []poller.Option{poller.WithCadence(poller.MaxCadence), poller.WithoutSkillCheck(),
				poller.WithOnPoll(func(context.Context, poller.PollResult) { polled <- struct{}{} })}
			if tc.tel {
				tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.AlwaysSample()))
				mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
				tel := heeprotel.New(heeprotel.WithTracerProvider(tp), heeprotel.WithMeterProvider(mp))
				if tc.client {
					copts = append(copts, tel.ClientOption())
				}
				if tc.poll {
					popts = append(popts, tel.PollerOptions()...)
				}
			}
			c, err := client.New(copts...)
			require.NoError(b, err)
			p, err := poller.New(c, poller.Handlers{NewOrder: func(context.Context, models.NewOrderEvent) error { return nil }}, popts...)
			require.NoError(b, err)
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- p.Run(ctx) }()
			<-polled // the first poll, at start
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				p.Wake()
				<-polled
			}
			b.StopTimer()
			cancel()
			require.NoError(b, <-done)
		})
	}
}

// BenchmarkIdlePollLoopback is BenchmarkIdlePoll's plain and instrumented
// idle poll over a real loopback TCP connection (an httptest server over the
// fake's handler) instead of the in-memory transport: what a poll costs
// without the network's milliseconds, with the HTTP stack's own work in it.
func BenchmarkIdlePollLoopback(b *testing.B) {
	for _, tel := range []bool{false, true} {
		name := "plain"
		if tel {
			name = "otel"
		}
		b.Run(name, func(b *testing.B) {
			srv := heeprtest.NewServer()
			ts := httptest.NewServer(srv.Handler())
			defer ts.Close()
			a := srv.AddAgent(heeprtest.Registered())
			polled := make(chan struct{}, 1)
			copts := []client.Option{client.WithBaseURL(ts.URL + heeprtest.BasePath), client.WithAPIKey(a.APIKey), client.WithAgentID(a.ID)}
			popts := []poller.Option{poller.WithCadence(poller.MaxCadence), poller.WithoutSkillCheck(),
				poller.WithOnPoll(func(context.Context, poller.PollResult) { polled <- struct{}{} })}
			if tel {
				tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.AlwaysSample()))
				mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
				t := heeprotel.New(heeprotel.WithTracerProvider(tp), heeprotel.WithMeterProvider(mp))
				copts = append(copts, t.ClientOption())
				popts = append(popts, t.PollerOptions()...)
			}
			c, err := client.New(copts...)
			require.NoError(b, err)
			p, err := poller.New(c, poller.Handlers{NewOrder: func(context.Context, models.NewOrderEvent) error { return nil }}, popts...)
			require.NoError(b, err)
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- p.Run(ctx) }()
			<-polled
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				p.Wake()
				<-polled
			}
			b.StopTimer()
			cancel()
			require.NoError(b, <-done)
		})
	}
}
