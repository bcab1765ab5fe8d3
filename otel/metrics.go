package heeprotel

import (
	"context"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/metric/noop"
)

// The instruments' names, every one under "heepr.", with units in UCUM as
// OpenTelemetry's conventions ask: seconds for durations, bytes for sizes,
// {…} annotations for counts.
const (
	MetricPolls         = "heepr.poller.polls"            // {poll}: heepr.poll.outcome, error.type
	MetricPollDuration  = "heepr.poller.poll.duration"    // s: heepr.poll.outcome
	MetricEvents        = "heepr.poller.events"           // {event}: heepr.event.kind, heepr.event.replayed
	MetricHandlerRuns   = "heepr.poller.handler.duration" // s: heepr.event.kind, heepr.handler.outcome, error.type
	MetricHeartbeatAge  = "heepr.poller.heartbeat.age"    // s: the time since the last successful poll
	MetricCallDuration  = "heepr.client.call.duration"    // s: heepr.operation, http.response.status_code, error.type
	MetricRetries       = "heepr.client.retries"          // {retry}: heepr.operation, error.type
	MetricTransferredIO = "heepr.client.io"               // By: heepr.operation, network.io.direction
)

// Bucket boundaries in seconds: a call or a poll takes milliseconds to a
// minute; a handler (an LLM at work) seconds to half an hour.
var (
	callBuckets    = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120}
	handlerBuckets = []float64{0.01, 0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600}
)

type instruments struct {
	polls        metric.Int64Counter
	pollDuration metric.Float64Histogram
	events       metric.Int64Counter
	handler      metric.Float64Histogram
	call         metric.Float64Histogram
	retries      metric.Int64Counter
	io           metric.Int64Counter
}

// newInstruments makes every instrument on meter; one the meter refuses is
// reported to otel.Handle and replaced by a no-op.
func newInstruments(meter metric.Meter, heartbeat func(time.Time) (time.Duration, bool)) instruments {
	nop := noop.Meter{}
	check := func(err error) bool {
		if err != nil {
			otel.Handle(err)
			return false
		}
		return true
	}
	var in instruments
	var err error
	if in.polls, err = meter.Int64Counter(MetricPolls, metric.WithUnit("{poll}"),
		metric.WithDescription("Polls of GET /events (each one the agent's heartbeat), by outcome: events, idle or error.")); !check(err) {
		in.polls, _ = nop.Int64Counter(MetricPolls)
	}
	if in.pollDuration, err = meter.Float64Histogram(MetricPollDuration, metric.WithUnit("s"), metric.WithExplicitBucketBoundaries(callBuckets...),
		metric.WithDescription("How long a poll took, its events written to the journal and queued.")); !check(err) {
		in.pollDuration, _ = nop.Float64Histogram(MetricPollDuration)
	}
	if in.events, err = meter.Int64Counter(MetricEvents, metric.WithUnit("{event}"),
		metric.WithDescription("Events handed to a handler, by kind (replayed ones from the journal included).")); !check(err) {
		in.events, _ = nop.Int64Counter(MetricEvents)
	}
	if in.handler, err = meter.Float64Histogram(MetricHandlerRuns, metric.WithUnit("s"), metric.WithExplicitBucketBoundaries(handlerBuckets...),
		metric.WithDescription("How long a handler run took, by event kind and outcome: success, error, panic or unhandled.")); !check(err) {
		in.handler, _ = nop.Float64Histogram(MetricHandlerRuns)
	}
	if in.call, err = meter.Float64Histogram(MetricCallDuration, metric.WithUnit("s"), metric.WithExplicitBucketBoundaries(callBuckets...),
		metric.WithDescription("How long an API call took, all its attempts and backoffs included.")); !check(err) {
		in.call, _ = nop.Float64Histogram(MetricCallDuration)
	}
	if in.retries, err = meter.Int64Counter(MetricRetries, metric.WithUnit("{retry}"),
		metric.WithDescription("Attempts of an API call that the client retried, by operation and reason (error.type).")); !check(err) {
		in.retries, _ = nop.Int64Counter(MetricRetries)
	}
	if in.io, err = meter.Int64Counter(MetricTransferredIO, metric.WithUnit("By"),
		metric.WithDescription("Body bytes of API calls: sent (transmit; a delivery's files) and received (receive; an attachment's bytes).")); !check(err) {
		in.io, _ = nop.Int64Counter(MetricTransferredIO)
	}
	_, err = meter.Float64ObservableGauge(MetricHeartbeatAge, metric.WithUnit("s"),
		metric.WithDescription("Time since the last successful poll (since the first poll's start before any succeeded): the agent shows offline past one hour."),
		metric.WithFloat64Callback(func(_ context.Context, o metric.Float64Observer) error {
			if age, ok := heartbeat(time.Now()); ok {
				o.Observe(age.Seconds())
			}
			return nil
		}))
	check(err)
	return in
}

// observeHeartbeat is the gauge's reading.
func (m *Middleware) observeHeartbeat(now time.Time) (time.Duration, bool) { return m.stalest(now) }
