package client_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	heepr "github.com/heepr/heepr-go"
	"github.com/heepr/heepr-go/client"
	"github.com/heepr/heepr-go/models"
)

// idleServer answers every poll as an idle platform does: exactly {}.
func idleServer(b *testing.B) *httptest.Server {
	b.Helper()
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/events" || r.Header.Get("Authorization") == "" {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, "{}\n")
	}))
	b.Cleanup(ts.Close)
	return ts
}

// BenchmarkEventsIdle compares the SDK's idle poll with the least a program
// written with plain net/http and encoding/json does for the same poll: the
// same headers, the same per-attempt timeout, the same decoding, against the
// same loopback server in the same run. Target: within 1.25x the baseline's
// ns/op and 10 allocations of it (BENCHMARKS.md).
func BenchmarkEventsIdle(b *testing.B) {
	ts := idleServer(b)
	const key = "sk_live_4f9c2a7e1b8d4c6a9e0f3b5d7a1c2e4f"
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
	b.Cleanup(hc.CloseIdleConnections)

	b.Run("sdk", func(b *testing.B) {
		c, err := client.New(client.WithBaseURL(ts.URL+"/api"), client.WithAPIKey(key), client.WithHTTPClient(hc))
		if err != nil {
			b.Fatal(err)
		}
		ctx := context.Background()
		b.ReportAllocs()
		for b.Loop() {
			events, err := c.Events(ctx)
			if err != nil || len(events) != 0 {
				b.Fatal(err, events)
			}
		}
	})

	b.Run("baseline", func(b *testing.B) {
		ctx := context.Background()
		url := ts.URL + "/api/events"
		ua := "heepr-go/" + heepr.Version
		b.ReportAllocs()
		for b.Loop() {
			events, err := baselinePoll(ctx, hc, url, key, ua)
			if err != nil || len(events) != 0 {
				b.Fatal(err, events)
			}
		}
	})
}

func baselinePoll(ctx context.Context, hc *http.Client, url, key, ua string) ([]models.Event, error) {
	ctx, cancel := context.WithTimeout(ctx, client.DefaultAttemptTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("User-Agent", ua)
	res, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("status %d", res.StatusCode)
	}
	var batch models.EventBatch
	if err := json.NewDecoder(res.Body).Decode(&batch); err != nil {
		return nil, err
	}
	return batch.Events, nil
}

// thousandEvents is a poll answer of 1,000 new_order events.
func thousandEvents(b *testing.B) []byte {
	b.Helper()
	var buf bytes.Buffer
	buf.WriteString(`{"events":[`)
	for i := range 1000 {
		if i > 0 {
			buf.WriteByte(',')
		}
		fmt.Fprintf(&buf, `{"id":"evt_%d","kind":"new_order","created_at":"2026-11-28T09:00:00Z","order_id":"ord_%d",`+
			`"order":{"id":"ord_%d","gig_id":"gig_1","scope":"One product illustration, 2048x2048 PNG.","tier":"standard",`+
			`"price":{"amount":120,"currency":"points"},"deadline":"2026-12-01T09:00:00Z",`+
			`"brief":"A red bicycle on a white background, flat style.","revisions_allowed":2,"state":"in_progress"},`+
			`"sf":"Do not produce illegal content. Flag policy violations."}`, i, i, i)
	}
	buf.WriteString(`]}`)
	return buf.Bytes()
}

// plainEvent is what a program without the SDK would decode a new_order into:
// the same fields, plain structs, no union.
type plainEvent struct {
	ID        string    `json:"id"`
	Kind      string    `json:"kind"`
	CreatedAt time.Time `json:"created_at"`
	OrderID   string    `json:"order_id"`
	Order     struct {
		ID    string `json:"id"`
		GigID string `json:"gig_id"`
		Scope string `json:"scope"`
		Tier  string `json:"tier"`
		Price struct {
			Amount   int64  `json:"amount"`
			Currency string `json:"currency"`
		} `json:"price"`
		Deadline         time.Time `json:"deadline"`
		Brief            string    `json:"brief"`
		RevisionsAllowed int       `json:"revisions_allowed"`
		State            string    `json:"state"`
	} `json:"order"`
	Sf string `json:"sf"`
}

// BenchmarkDecodeEvents compares decoding a 1,000-event poll answer: the SDK
// (Events alone; Events and then each event's Value, switched on its type)
// against plain encoding/json into equivalent structs, in the same run. The
// body comes from memory, so the network is not measured. Target (issue 16):
// sdk-events-value within 1.5x of baseline's ns/op (BENCHMARKS.md).
func BenchmarkDecodeEvents(b *testing.B) {
	body := thousandEvents(b)
	c, err := client.New(client.WithHTTPClient(&http.Client{Transport: bodyTransport{http.StatusOK, body}}),
		client.WithAPIKey("sk_live_benchbenchbench"))
	if err != nil {
		b.Fatal(err)
	}
	b.Run("sdk-events", func(b *testing.B) {
		ctx := context.Background()
		b.SetBytes(int64(len(body)))
		b.ReportAllocs()
		for b.Loop() {
			events, err := c.Events(ctx)
			if err != nil || len(events) != 1000 {
				b.Fatal(err, len(events))
			}
		}
	})
	b.Run("sdk-events-value", func(b *testing.B) {
		ctx := context.Background()
		b.SetBytes(int64(len(body)))
		b.ReportAllocs()
		for b.Loop() {
			events, err := c.Events(ctx)
			if err != nil || len(events) != 1000 {
				b.Fatal(err, len(events))
			}
			for _, ev := range events {
				v, err := ev.Value()
				if err != nil {
					b.Fatal(err)
				}
				if _, ok := v.(models.NewOrderEvent); !ok {
					b.Fatalf("%T", v)
				}
			}
		}
	})
	// Value alone, over events polled once before the timer: the decode that
	// sdk-events-value adds to Events, to set beside baseline's.
	b.Run("sdk-value-only", func(b *testing.B) {
		events, err := c.Events(context.Background())
		if err != nil || len(events) != 1000 {
			b.Fatal(err, len(events))
		}
		b.SetBytes(int64(len(body)))
		b.ReportAllocs()
		for b.Loop() {
			for _, ev := range events {
				if _, err := ev.Value(); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
	b.Run("baseline", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		b.ReportAllocs()
		for b.Loop() {
			var batch struct {
				Events []plainEvent `json:"events"`
			}
			if err := json.NewDecoder(bytes.NewReader(body)).Decode(&batch); err != nil || len(batch.Events) != 1000 {
				b.Fatal(err)
			}
		}
	})
}
