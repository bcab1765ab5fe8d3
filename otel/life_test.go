package heeprotel_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/heepr/heepr-go/client"
	"github.com/heepr/heepr-go/heeprtest"
	"github.com/heepr/heepr-go/models"
	heeprotel "github.com/heepr/heepr-go/otel"
	"github.com/heepr/heepr-go/poller"
)

// life is one order's life, recorded: the spans, the metrics, and the
// secrets that must not be in them.
type life struct {
	spans   tracetest.SpanStubs
	metrics metricdata.ResourceMetrics
	order   string
	secrets map[string]string // what → value
}

// orderLife runs an agent through one order against heeprtest: a new order
// (progress, then a delivery whose first attempt meets a 503), a revision
// whose handler fails once, then a redelivery.
func orderLife(t *testing.T) life {
	var out life
	synctest.Test(t, func(t *testing.T) {
		rec := tracetest.NewSpanRecorder()
		tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
		reader := sdkmetric.NewManualReader()
		mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
		tel := heeprotel.New(heeprotel.WithTracerProvider(tp), heeprotel.WithMeterProvider(mp))

		srv := heeprtest.NewServer()
		a := srv.AddAgent()
		c, err := client.New(client.WithHTTPClient(srv.HTTPClient()), client.WithAgentID(a.ID), tel.ClientOption())
		require.NoError(t, err)
		_, err = c.Register(context.Background(), a.BootstrapToken, a.ID)
		require.NoError(t, err)

		var mu sync.Mutex
		revisionRuns := 0
		p, err := poller.New(c, poller.Handlers{
			NewOrder: func(ctx context.Context, ev models.NewOrderEvent) error {
				if _, err := c.ReportProgress(ctx, ev.OrderID, client.ProgressParams{Percent: 50}); err != nil {
					return err
				}
				_, err := c.Deliver(ctx, ev.OrderID, client.Delivery{Text: "the cut",
					Files: []client.File{client.FileFromBytes("cut.txt", []byte("frames"))}})
				return err
			},
			RevisionRequest: func(ctx context.Context, ev models.RevisionRequestEvent) error {
				mu.Lock()
				revisionRuns++
				first := revisionRuns == 1
				mu.Unlock()
				if first {
					// A careless handler puts a secret in its error: it must
					// not reach a span.
					return errors.New("model overloaded; key " + c.APIKey().Reveal())
				}
				_, err := c.Deliver(ctx, ev.OrderID, client.Delivery{Text: "the recut"})
				return err
			},
		}, append(tel.PollerOptions(), poller.WithCadence(poller.MinCadence), poller.WithoutSkillCheck(),
			poller.WithHandlerRetry(3, 1))...)
		require.NoError(t, err)

		out.order = srv.PlaceOrder(a.ID, models.Order{})
		srv.Inject(heeprtest.Fault{Kind: heeprtest.FaultStatus, Status: 503, Path: "/orders/{id}/deliver"})
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- p.Run(ctx) }()
		time.Sleep(10 * time.Second) // the delivery's backoff, on the bubble's clock
		synctest.Wait()
		require.Len(t, srv.Deliveries(out.order), 1, "delivered")
		srv.RequestRevision(out.order, "shorter, please")
		p.Wake()
		time.Sleep(10 * time.Second)
		synctest.Wait()
		require.Len(t, srv.Deliveries(out.order), 2, "redelivered")
		p.Wake() // an idle poll
		synctest.Wait()
		cancel()
		require.NoError(t, <-done)

		out.spans = tracetest.SpanStubsFromReadOnlySpans(rec.Ended())
		require.NoError(t, reader.Collect(context.Background(), &out.metrics))
		out.secrets = map[string]string{
			"api key":         c.APIKey().Reveal(),
			"bootstrap token": string(a.BootstrapToken),
		}
		for _, r := range srv.Requests() {
			if r.IdempotencyKey != "" {
				out.secrets["idempotency key of "+r.Method+" "+r.Path] = r.IdempotencyKey
			}
		}
	})
	return out
}

func attrs(kvs []attribute.KeyValue) map[attribute.Key]attribute.Value {
	m := make(map[attribute.Key]attribute.Value, len(kvs))
	for _, kv := range kvs {
		m[kv.Key] = kv.Value
	}
	return m
}

func named(spans tracetest.SpanStubs, name string) tracetest.SpanStubs {
	var out tracetest.SpanStubs
	for _, s := range spans {
		if s.Name == name {
			out = append(out, s)
		}
	}
	return out
}

func TestOrderLife_Spans(t *testing.T) {
	l := orderLife(t)
	byID := map[trace.SpanID]tracetest.SpanStub{}
	for _, s := range l.spans {
		byID[s.SpanContext.SpanID()] = s
	}

	polls := named(l.spans, "heepr.poll")
	require.GreaterOrEqual(t, len(polls), 3)
	outcomes := map[string]int{}
	for _, p := range polls {
		assert.False(t, p.Parent.IsValid(), "a poll is a root")
		a := attrs(p.Attributes)
		outcomes[a["heepr.poll.outcome"].AsString()]++
		// Its request is its child.
		var kids []string
		for _, s := range l.spans {
			if s.Parent.SpanID() == p.SpanContext.SpanID() {
				kids = append(kids, s.Name)
			}
		}
		assert.Equal(t, []string{"pollEvents"}, kids)
	}
	assert.Equal(t, 2, outcomes["events"], "the new order, the revision")
	assert.GreaterOrEqual(t, outcomes["idle"], 1)

	handlers := append(named(l.spans, "heepr.handle new_order"), named(l.spans, "heepr.handle revision_request")...)
	require.Len(t, handlers, 3, "the new order once, the revision twice")
	for _, h := range handlers {
		assert.False(t, h.Parent.IsValid(), "a handler run is a root")
		assert.Equal(t, trace.SpanKindConsumer, h.SpanKind)
		require.Len(t, h.Links, 1, "linked to its poll")
		poll, ok := byID[h.Links[0].SpanContext.SpanID()]
		require.True(t, ok)
		assert.Equal(t, "heepr.poll", poll.Name)
		assert.Equal(t, "events", attrs(poll.Attributes)["heepr.poll.outcome"].AsString())
		a := attrs(h.Attributes)
		assert.Equal(t, l.order, a["heepr.order.id"].AsString())
		assert.NotEmpty(t, a["heepr.event.id"].AsString())
		assert.False(t, a["heepr.event.replayed"].AsBool())
	}
	rev := named(l.spans, "heepr.handle revision_request")
	require.Len(t, rev, 2)
	first, second := attrs(rev[0].Attributes), attrs(rev[1].Attributes)
	assert.Equal(t, int64(1), first["heepr.handler.attempt"].AsInt64())
	assert.Equal(t, "error", first["heepr.handler.outcome"].AsString())
	assert.Equal(t, codes.Error, rev[0].Status.Code)
	assert.Equal(t, "_OTHER", rev[0].Status.Description, "the class, not the text")
	assert.Equal(t, int64(2), second["heepr.handler.attempt"].AsInt64())
	assert.Equal(t, "success", second["heepr.handler.outcome"].AsString())
	assert.Equal(t, rev[0].Links[0].SpanContext, rev[1].Links[0].SpanContext, "both runs link to the one poll")

	// The handlers' calls are their children.
	childrenOf := func(h tracetest.SpanStub) []string {
		var kids []string
		for _, s := range l.spans {
			if s.Parent.SpanID() == h.SpanContext.SpanID() {
				kids = append(kids, s.Name)
			}
		}
		return kids
	}
	newOrder := named(l.spans, "heepr.handle new_order")[0]
	assert.Equal(t, []string{"updateStatus", "deliverOrder"}, childrenOf(newOrder))
	assert.Empty(t, childrenOf(rev[0]))
	assert.Equal(t, []string{"deliverOrder"}, childrenOf(rev[1]))

	// The delivery: HTTP client conventions, two attempts, a retry event.
	delivers := named(l.spans, "deliverOrder")
	require.Len(t, delivers, 2)
	d := delivers[0]
	assert.Equal(t, trace.SpanKindClient, d.SpanKind)
	a := attrs(d.Attributes)
	assert.Equal(t, "POST", a["http.request.method"].AsString())
	assert.Equal(t, int64(202), a["http.response.status_code"].AsInt64())
	assert.Equal(t, "deliverOrder", a["heepr.operation"].AsString())
	assert.Equal(t, l.order, a["heepr.order.id"].AsString())
	assert.Equal(t, int64(2), a["heepr.attempts"].AsInt64())
	assert.Equal(t, int64(1), a["http.request.resend_count"].AsInt64())
	assert.Len(t, a["heepr.idempotency_key.hash"].AsString(), 64)
	assert.True(t, strings.HasSuffix(a["url.full"].AsString(), "/orders/"+l.order+"/deliver"), a["url.full"].AsString())
	assert.NotEmpty(t, a["server.address"].AsString())
	assert.NotZero(t, a["server.port"].AsInt64())
	assert.Equal(t, codes.Unset, d.Status.Code)
	require.Len(t, d.Events, 1)
	assert.Equal(t, "heepr.retry", d.Events[0].Name)
	ea := attrs(d.Events[0].Attributes)
	assert.Equal(t, int64(1), ea["heepr.attempt"].AsInt64())
	assert.Equal(t, int64(503), ea["http.response.status_code"].AsInt64())
	assert.Equal(t, "503", ea["error.type"].AsString())
	assert.NotEqual(t, a["heepr.idempotency_key.hash"], attrs(delivers[1].Attributes)["heepr.idempotency_key.hash"],
		"two writes, two keys")
}

func TestOrderLife_Metrics(t *testing.T) {
	l := orderLife(t)
	got := map[string]metricdata.Metrics{}
	for _, sm := range l.metrics.ScopeMetrics {
		assert.Equal(t, heeprotel.ScopeName, sm.Scope.Name)
		for _, m := range sm.Metrics {
			got[m.Name] = m
		}
	}
	sum := func(name string, match map[string]string) int64 {
		m, ok := got[name]
		require.True(t, ok, "no %s", name)
		var n int64
		for _, dp := range m.Data.(metricdata.Sum[int64]).DataPoints {
			if matches(dp.Attributes, match) {
				n += dp.Value
			}
		}
		return n
	}
	count := func(name string, match map[string]string) uint64 {
		m, ok := got[name]
		require.True(t, ok, "no %s", name)
		var n uint64
		for _, dp := range m.Data.(metricdata.Histogram[float64]).DataPoints {
			if matches(dp.Attributes, match) {
				n += dp.Count
			}
		}
		return n
	}
	assert.Equal(t, int64(2), sum(heeprotel.MetricPolls, map[string]string{"heepr.poll.outcome": "events"}))
	assert.GreaterOrEqual(t, sum(heeprotel.MetricPolls, map[string]string{"heepr.poll.outcome": "idle"}), int64(1))
	assert.Equal(t, uint64(2), count(heeprotel.MetricPollDuration, map[string]string{"heepr.poll.outcome": "events"}))
	assert.Equal(t, int64(1), sum(heeprotel.MetricEvents, map[string]string{"heepr.event.kind": "new_order"}))
	assert.Equal(t, int64(1), sum(heeprotel.MetricEvents, map[string]string{"heepr.event.kind": "revision_request"}), "once, though run twice")
	assert.Equal(t, uint64(1), count(heeprotel.MetricHandlerRuns, map[string]string{"heepr.event.kind": "revision_request", "heepr.handler.outcome": "error", "error.type": "_OTHER"}))
	assert.Equal(t, uint64(1), count(heeprotel.MetricHandlerRuns, map[string]string{"heepr.event.kind": "revision_request", "heepr.handler.outcome": "success"}))
	assert.Equal(t, uint64(1), count(heeprotel.MetricHandlerRuns, map[string]string{"heepr.event.kind": "new_order", "heepr.handler.outcome": "success"}))
	assert.Equal(t, int64(1), sum(heeprotel.MetricRetries, map[string]string{"heepr.operation": "deliverOrder", "error.type": "503"}))
	assert.Equal(t, uint64(2), count(heeprotel.MetricCallDuration, map[string]string{"heepr.operation": "deliverOrder", "http.response.status_code": "202"}))
	assert.Greater(t, sum(heeprotel.MetricTransferredIO, map[string]string{"heepr.operation": "deliverOrder", "network.io.direction": "transmit"}), int64(len("frames")))
	assert.Positive(t, sum(heeprotel.MetricTransferredIO, map[string]string{"heepr.operation": "pollEvents", "network.io.direction": "receive"}))

	hb, ok := got[heeprotel.MetricHeartbeatAge]
	require.True(t, ok)
	g := hb.Data.(metricdata.Gauge[float64])
	require.Len(t, g.DataPoints, 1)
	assert.GreaterOrEqual(t, g.DataPoints[0].Value, 0.0)
	assert.Less(t, g.DataPoints[0].Value, 60.0, "the last poll was just now")
	assert.Equal(t, "s", hb.Unit)
}

func matches(set attribute.Set, want map[string]string) bool {
	for k, v := range want {
		got, ok := set.Value(attribute.Key(k))
		if !ok || got.String() != v {
			return false
		}
	}
	return true
}

// No recorded span holds a secret: not in a name, an attribute, an event,
// a link, or a status.
func TestOrderLife_NoSecretInAnySpan(t *testing.T) {
	l := orderLife(t)
	require.NotEmpty(t, l.spans)
	require.Greater(t, len(l.secrets), 3, "the key, the token and idempotency keys")
	for _, s := range l.spans {
		var texts []string
		texts = append(texts, s.Name, s.Status.Description)
		for _, kv := range s.Attributes {
			texts = append(texts, string(kv.Key), kv.Value.String())
		}
		for _, e := range s.Events {
			texts = append(texts, e.Name)
			for _, kv := range e.Attributes {
				texts = append(texts, string(kv.Key), kv.Value.String())
			}
		}
		for _, lk := range s.Links {
			for _, kv := range lk.Attributes {
				texts = append(texts, string(kv.Key), kv.Value.String())
			}
		}
		for _, text := range texts {
			for what, secret := range l.secrets {
				require.NotEmpty(t, secret)
				assert.NotContains(t, text, secret, "span %s holds the %s", s.Name, what)
			}
		}
	}
}
