package client_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

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
