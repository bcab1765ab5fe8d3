package heeprotel

import (
	"sync"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
)

// attrSets keeps the attribute sets of the call metrics, one per operation,
// status and error class: building a set sorts and allocates, and a poll
// every few minutes for months repeats the same few sets.
type attrSets struct {
	mu    sync.RWMutex
	calls map[callKey]*callSets
}

type callKey struct {
	op     string
	status int
	class  string
}

// callSets are the options of one call's measurements, as slices handed on
// with ...: a single option passed alone would cost the variadic slice an
// allocation on every measurement.
type callSets struct {
	duration       []metric.RecordOption
	sent, received []metric.AddOption
}

// most bounds the cache: the operations, statuses and classes are few, but
// a platform answering odd statuses must not grow it without end.
const most = 512

func (s *attrSets) call(k callKey) *callSets {
	s.mu.RLock()
	cs, ok := s.calls[k]
	s.mu.RUnlock()
	if ok {
		return cs
	}
	op := AttrOperation.String(k.op)
	attrs := []attribute.KeyValue{op}
	if k.status != 0 {
		attrs = append(attrs, semconv.HTTPResponseStatusCode(k.status))
	}
	if k.class != "" {
		attrs = append(attrs, semconv.ErrorTypeKey.String(k.class))
	}
	cs = &callSets{
		duration: []metric.RecordOption{metric.WithAttributeSet(attribute.NewSet(attrs...))},
		sent:     []metric.AddOption{metric.WithAttributeSet(attribute.NewSet(op, semconv.NetworkIODirectionTransmit))},
		received: []metric.AddOption{metric.WithAttributeSet(attribute.NewSet(op, semconv.NetworkIODirectionReceive))},
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.calls == nil {
		s.calls = make(map[callKey]*callSets)
	}
	if len(s.calls) < most {
		s.calls[k] = cs
	}
	return cs
}

// pollSet is a poll outcome's attributes as the measurement options of the
// poll metrics, built once: a poll every few minutes for months repeats them
// (slices, as in callSets).
type pollSet struct {
	record []metric.RecordOption
	add    []metric.AddOption
}

func newPollSet(outcome string) pollSet {
	o := metric.WithAttributeSet(attribute.NewSet(AttrPollOutcome.String(outcome)))
	return pollSet{record: []metric.RecordOption{o}, add: []metric.AddOption{o}}
}

var (
	pollIdle   = newPollSet("idle")
	pollEvents = newPollSet("events")
	pollError  = newPollSet("error")
)
