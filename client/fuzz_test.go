package client_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/heepr/heepr-go/client"
	"github.com/heepr/heepr-go/models"
)

// bodyTransport answers every request with one status and body.
type bodyTransport struct {
	status int
	body   []byte
}

func (b bodyTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		r.Body.Close()
	}
	return &http.Response{StatusCode: b.status, Header: http.Header{"Content-Type": {"application/json"}},
		Body: io.NopCloser(bytes.NewReader(b.body)), Request: r}, nil
}

func fuzzClient(t *testing.T, status int, body []byte) *client.Client {
	c, err := client.New(client.WithHTTPClient(&http.Client{Transport: bodyTransport{status, body}}),
		client.WithAPIKey("sk_live_fuzzfuzzfuzz"), client.WithAgentID("agt_1"), client.WithRetry(client.RetryPolicy{MaxAttempts: 1}),
		client.WithMaxResponseBytes(1<<16))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// FuzzEvents feeds the poll's decoder whatever a network can bring: the
// events body of known and unknown kinds, {}, garbage. It must never panic;
// it returns events or an error, and every event it returns keeps its raw JSON.
func FuzzEvents(f *testing.F) {
	for _, s := range []string{
		`{}`, `{"events":[]}`, `{"events":null}`,
		`{"events":[{"id":"evt_1","kind":"new_order","created_at":"2026-11-28T09:00:00Z","order_id":"ord_1","order":{"id":"ord_1","scope":"s","tier":"t","price":{"amount":1,"currency":"points"},"deadline":"2026-12-01T00:00:00Z","brief":"b","revisions_allowed":1}}]}`,
		`{"events":[{"id":"evt_9","kind":"order_cancelled","created_at":"2026-11-28T09:00:00Z","order_id":"ord_1","x":{"y":[1,2]}}]}`,
		`{"events":[1,"a",null,{}]}`, `{"events":{}}`, `[]`, `null`, `{"events":[{"id":`, "<html>", "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		events, err := fuzzClient(t, http.StatusOK, []byte(body)).Events(context.Background())
		if err != nil {
			if events != nil {
				t.Fatalf("events and an error: %v", err)
			}
			return
		}
		for _, ev := range events {
			_ = ev.Raw()
			_, _ = ev.Header()
			_, _ = ev.Value()
		}
	})
}

// FuzzSkillManifest: skill.json from the network, typed.
func FuzzSkillManifest(f *testing.F) {
	for _, s := range []string{
		`{"files":{}}`, `{"poll_interval_minutes":15,"files":{"SKILL.md":"ab"}}`, `{"poll_interval_minutes":-3}`,
		`{"poll_interval_minutes":1e99}`, `{"files":[]}`, `[]`, `{`, "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		m, err := fuzzClient(t, http.StatusOK, []byte(body)).SkillManifest(context.Background())
		if err == nil && m.PollIntervalMinutes == 0 {
			t.Fatal("a manifest without a cadence must get the default")
		}
	})
}

// FuzzKeyFile: whatever is in the key file, Load returns a usable key or an
// error that does not contain the file's content, and a loaded key survives a
// save and a load unchanged.
func FuzzKeyFile(f *testing.F) {
	for _, s := range []string{
		"sk_live_4f9c2a7e1b8d4c6a9e0f3b5d7a1c2e4f\n", `{"api_key":"sk_live_abcdefgh"}`, "", "\n\n", "two words",
		`{"api_key": 5}`, "sk_live_\x00\x01", strings.Repeat("k", 600), "\xef\xbb\xbfsk_live_bomkey00",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, content string) {
		dir := t.TempDir()
		path := filepath.Join(dir, "key")
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		key, err := client.KeyFile(path).Load(context.Background())
		if err != nil {
			// A secret-sized content must not show; shorter strings match the
			// error's own words by chance.
			if c := strings.TrimSpace(content); len(c) >= 12 && strings.Contains(strings.ReplaceAll(err.Error(), path, ""), c) {
				t.Fatalf("the error shows the file's content: %v", err)
			}
			return
		}
		if key == "" || strings.ContainsAny(key.Reveal(), " \n\t") {
			t.Fatalf("loaded an unusable key %q", key.Reveal())
		}
		again := client.KeyFile(filepath.Join(dir, "again"))
		if err := again.Save(context.Background(), key); err != nil {
			t.Fatal(err)
		}
		back, err := again.Load(context.Background())
		if err != nil || back != key {
			t.Fatalf("round trip: %q, %v", back.Reveal(), err)
		}
		_ = models.APIKey(back).String()
	})
}
