package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/heepr/heepr-go/internal/eventstream"
	"github.com/heepr/heepr-go/models"
)

// DefaultMaxEventBytes caps each event of a poll's answer that Events and
// StreamEvents read: 1 MiB, far above any real event (a new_order with its
// platform rules is a few kilobytes).
const DefaultMaxEventBytes = 1 << 20

// Events polls GET /events, the agent's work queue and its heartbeat, and
// returns the events queued since the last poll, oldest first. An idle poll
// ({} or {"events": []}) gives an empty slice and a nil error, never an error.
//
// The events a poll returns are drained by it: the platform does not send them
// again. Hand them to durable storage or a handler before anything else can
// lose them (the poller does). Events of kinds this SDK does not know are
// returned like any other, their raw JSON intact.
//
// Events holds the whole answer: an answer over WithMaxResponseBytes, or one
// event over WithMaxEventBytes (wrapping ErrTooLarge), fails the call, and the
// events it drained are lost. StreamEvents reads an answer of any length one
// event at a time and hands over every event, the oversized ones too.
func (c *Client) Events(ctx context.Context, opts ...CallOption) ([]models.Event, error) {
	ctx, cc, end, err := c.begin(ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("events: %w", err)
	}
	var events []models.Event
	err = c.invoke(ctx, cc, OperationPollEvents, "", func(ctx context.Context, cc callConfig) error {
		return c.do(ctx, c.pollTemplate.Clone(ctx), cc, c.attempt, func(res *http.Response) error {
			events = events[:0]
			lr := &io.LimitedReader{R: res.Body, N: c.maxBody + 1}
			r := eventstream.New(lr, int(c.maxEvent))
			for {
				el, err := r.Next()
				if errors.Is(err, io.EOF) {
					return nil
				}
				if err != nil {
					if lr.N <= 0 {
						return fmt.Errorf("response body exceeds %d bytes (WithMaxResponseBytes)", c.maxBody)
					}
					return fmt.Errorf("decode %d response: %w", res.StatusCode, err)
				}
				if el.Truncated {
					return fmt.Errorf("event %d: %w", len(events), &tooLargeError{size: el.Size, limit: c.maxEvent, option: "WithMaxEventBytes"})
				}
				var ev models.Event
				if ev.UnmarshalJSON(el.Raw) != nil { // it checks the syntax
					return fmt.Errorf("decode %d response: event %d is not valid JSON", res.StatusCode, len(events))
				}
				events = append(events, ev)
			}
		})
	})
	if err = end(err); err != nil {
		return nil, fmt.Errorf("events: %w", err)
	}
	if events == nil {
		return []models.Event{}, nil
	}
	return events, nil
}

// PolledEvent is one element of a poll's answer as StreamEvents read it.
type PolledEvent struct {
	// Index is the element's place in the answer, from 0.
	Index int
	// Event is the element, when Err is nil. It is valid JSON, but may be of
	// any shape: Event.Value reads it as its kind, or says why it cannot.
	Event models.Event
	// Raw is the element's bytes as they came: all of them, or the first
	// WithMaxEventBytes of them when Err wraps ErrTooLarge (so not valid
	// JSON). It is the caller's to keep.
	Raw json.RawMessage
	// Err says why the element is not an Event: over WithMaxEventBytes
	// (errors.Is(err, ErrTooLarge)), or not valid JSON.
	Err error
}

// PartialPollError is StreamEvents' error when a poll's answer broke off, or
// stopped making sense, after its headers arrived. The platform drained the
// whole answer when it sent it, so the events past the break are lost for
// every client; those before it were handed to the callback.
type PartialPollError struct {
	// Events is how many elements were handed to the callback.
	Events int
	// Read is how many bytes of the body were read.
	Read int64
	// Unread is how many bytes the platform announced (Content-Length) and
	// did not deliver, or -1 when it announced none (a chunked answer).
	Unread int64
	// Err is the cause: a dropped connection (io.ErrUnexpectedEOF), a body
	// that is not an events answer.
	Err error
}

// Error says how much was read, what was lost, and why.
func (e *PartialPollError) Error() string {
	unread := "an unknown number of bytes"
	if e.Unread >= 0 {
		unread = fmt.Sprintf("%d bytes", e.Unread)
	}
	return fmt.Sprintf("the answer broke off after %d events (%d bytes read, %s not read; the platform drained them): %v",
		e.Events, e.Read, unread, e.Err)
}

// Unwrap returns the cause.
func (e *PartialPollError) Unwrap() error { return e.Err }

// StreamEvents polls GET /events once and hands each event of the answer to fn
// as soon as it is read, oldest first, holding no more than one event at a
// time: an answer of any length costs at most WithMaxEventBytes of memory for
// its events, plus whatever fn keeps. An idle poll calls fn for nothing and
// returns nil.
//
// fn sees every element of the answer, the ones that are not events too: an
// element over WithMaxEventBytes comes with its first bytes and an Err
// wrapping ErrTooLarge, and the stream goes on to the next. An error from fn
// stops the read and is returned as it is.
//
// The poll drains what it answers, so StreamEvents never retries once the
// answer's body has begun (a failure before it is retried as WithRetry says).
// When the body breaks off, or turns out not to be an events answer, the
// error is a *PartialPollError saying how many events fn got and how many
// bytes were not read. The poller uses StreamEvents; Events is the simpler
// call for everyone else.
func (c *Client) StreamEvents(ctx context.Context, fn func(PolledEvent) error, opts ...CallOption) error {
	if fn == nil {
		return errors.New("events: StreamEvents needs a function to hand the events to")
	}
	ctx, cc, end, err := c.begin(ctx, opts)
	if err != nil {
		return fmt.Errorf("events: %w", err)
	}
	err = c.invoke(ctx, cc, OperationPollEvents, "", func(ctx context.Context, cc callConfig) error {
		return c.do(ctx, c.pollTemplate.Clone(ctx), cc, c.attempt, func(res *http.Response) error {
			counted := &countingReader{r: res.Body}
			r := eventstream.New(counted, int(c.maxEvent))
			for i := 0; ; i++ {
				el, err := r.Next()
				if errors.Is(err, io.EOF) {
					return nil
				}
				if err != nil {
					unread := int64(-1)
					if res.ContentLength >= 0 {
						unread = max(res.ContentLength-counted.n, 0)
					}
					return final(&PartialPollError{Events: i, Read: counted.n, Unread: unread, Err: err})
				}
				pe := PolledEvent{Index: i, Raw: el.Raw}
				switch {
				case el.Truncated:
					pe.Err = &tooLargeError{size: el.Size, limit: c.maxEvent, option: "WithMaxEventBytes"}
				case pe.Event.UnmarshalJSON(el.Raw) != nil: // it checks the syntax
					pe.Err = errors.New("not valid JSON")
				}
				if err := fn(pe); err != nil {
					return final(err)
				}
			}
		})
	})
	if err = end(err); err != nil {
		return fmt.Errorf("events: %w", err)
	}
	return nil
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
