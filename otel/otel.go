package heeprotel

import (
	"sync"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	heepr "github.com/heepr/heepr-go"
	"github.com/heepr/heepr-go/client"
	"github.com/heepr/heepr-go/poller"
)

// ScopeName is the instrumentation scope of every span and instrument: the
// module's import path.
const ScopeName = "github.com/heepr/heepr-go/otel"

// Option configures New.
type Option func(*config)

type config struct {
	tp trace.TracerProvider
	mp metric.MeterProvider
}

// WithTracerProvider sets where spans go (default: otel.GetTracerProvider(),
// the global, read when New runs; it forwards to a provider set later).
// A nil provider is ignored.
func WithTracerProvider(tp trace.TracerProvider) Option {
	return func(c *config) {
		if tp != nil {
			c.tp = tp
		}
	}
}

// WithMeterProvider sets where metrics go (default: otel.GetMeterProvider(),
// the global, read when New runs). A nil provider is ignored.
func WithMeterProvider(mp metric.MeterProvider) Option {
	return func(c *config) {
		if mp != nil {
			c.mp = mp
		}
	}
}

// Middleware holds the tracer and the instruments, and hands out the hooks
// for a client and a poller. Create it with New, once per process; it is safe
// for concurrent use, and one Middleware may serve several clients and pollers.
type Middleware struct {
	tracer trace.Tracer
	sets   attrSets
	inst   instruments

	mu    sync.Mutex
	beats []*heartbeat
}

// New returns a Middleware recording to the providers opts name. It never
// fails: an instrument the meter refuses is reported to otel.Handle and
// replaced by a no-op, as OpenTelemetry's own instrumentation does.
func New(opts ...Option) *Middleware {
	cfg := config{}
	for _, o := range opts {
		if o != nil {
			o(&cfg)
		}
	}
	if cfg.tp == nil {
		cfg.tp = otel.GetTracerProvider()
	}
	if cfg.mp == nil {
		cfg.mp = otel.GetMeterProvider()
	}
	m := &Middleware{
		tracer: cfg.tp.Tracer(ScopeName, trace.WithInstrumentationVersion(heepr.Version)),
	}
	meter := cfg.mp.Meter(ScopeName, metric.WithInstrumentationVersion(heepr.Version))
	m.inst = newInstruments(meter, m.observeHeartbeat)
	return m
}

// ClientOption returns the option that instruments a client: a span and
// metrics for each of its calls. Give it to client.New or client.Connect.
func (m *Middleware) ClientOption() client.Option {
	return client.WithMiddleware(m.ClientMiddleware)
}

// PollerOptions returns the options that instrument a poller: a span and
// metrics for each poll and each handler run, and the heartbeat gauge.
// Give them to poller.New. Each call starts a heartbeat of its own: call it
// once per poller.
func (m *Middleware) PollerOptions() []poller.Option {
	hb := &heartbeat{}
	m.mu.Lock()
	m.beats = append(m.beats, hb)
	m.mu.Unlock()
	return []poller.Option{
		poller.WithPollMiddleware(m.pollMiddleware(hb)),
		poller.WithMiddleware(m.HandlerMiddleware),
	}
}

// heartbeat is one poller's last successful poll, for the gauge. Before the
// first success it counts from the first poll's start, so a poller that
// never reaches the platform still shows its age growing.
type heartbeat struct {
	mu    sync.Mutex
	first time.Time // the first poll's start
	last  time.Time // the last successful poll's start
}

func (h *heartbeat) polled(start time.Time, ok bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.first.IsZero() {
		h.first = start
	}
	if ok && start.After(h.last) {
		h.last = start
	}
}

// age is the time since the last successful poll, false before any poll.
func (h *heartbeat) age(now time.Time) (time.Duration, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	switch {
	case !h.last.IsZero():
		return now.Sub(h.last), true
	case !h.first.IsZero():
		return now.Sub(h.first), true
	}
	return 0, false
}

// stalest is the largest heartbeat age of the pollers this Middleware
// instruments: what an alert must watch.
func (m *Middleware) stalest(now time.Time) (time.Duration, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var most time.Duration
	any := false
	for _, hb := range m.beats {
		if a, ok := hb.age(now); ok && (!any || a > most) {
			most, any = a, true
		}
	}
	return most, any
}
