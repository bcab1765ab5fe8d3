package poller

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/heepr/heepr-go/client"
)

// bigAnswer is a poll's answer of n new_order events, each with about 1 KB of
// platform rules in sf, as the platform echoes them.
func bigAnswer(n int) []byte {
	sf := strings.Repeat("Deliver only original work. ", 1024/28)
	var b bytes.Buffer
	b.WriteString(`{"events":[`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"id":"evt_%d","kind":"new_order","created_at":"2026-11-28T09:00:00Z","order_id":"ord_%d",`+
			`"order":{"id":"ord_%d","scope":"One illustration","tier":"standard","price":{"amount":100,"currency":"points"},`+
			`"deadline":"2026-12-01T09:00:00Z","brief":"A red bicycle","revisions_allowed":2},"sf":%q}`, i, i, i, sf)
	}
	b.WriteString(`]}`)
	return b.Bytes()
}

// oneBody answers every request with body.
type oneBody []byte

func (b oneBody) RoundTrip(req *http.Request) (*http.Response, error) {
	return &http.Response{StatusCode: http.StatusOK, Header: http.Header{"Content-Type": {"application/json"}},
		ContentLength: int64(len(b)), Body: io.NopCloser(bytes.NewReader(b)), Request: req}, nil
}

// pollRun is a run over a client that answers body, whose dispatcher queues
// the events and runs nothing: what is measured is the poll, up to the last
// event on disk (with dir) or in memory (without).
func pollRun(t testing.TB, body []byte, dir string) *run {
	c, err := client.New(client.WithHTTPClient(&http.Client{Transport: oneBody(body)}), client.WithAPIKey("sk_live_benchbenchbench"),
		client.WithAgentID("agt_1"))
	require.NoError(t, err)
	opts := []Option{}
	if dir != "" {
		opts = append(opts, WithJournal(dir))
	}
	p, err := New(c, Handlers{Default: func(context.Context, EventInfo) error { return nil }}, opts...)
	require.NoError(t, err)
	r, _, err := p.newRun(context.Background())
	require.NoError(t, err)
	r.d = newDispatcher(0, func(entry) {}) // queues, never starts a worker
	return r
}

// Group commit: a poll of 3,000 events costs the journal two fsyncs (the
// batch's file and the directory), not one per event, and every event is on
// disk when the poll returns.
func TestPollCommitsOnce(t *testing.T) {
	dir := t.TempDir()
	r := pollRun(t, bigAnswer(3000), dir)
	defer r.j.Close()
	n, err := r.poll(context.Background(), nil)
	require.NoError(t, err)
	assert.Equal(t, 3000, n)
	assert.Equal(t, int64(2), r.j.(*fileJournal).j.syncs.Load(), "fsyncs for one poll")
	files, err := filepath.Glob(filepath.Join(dir, "pending", "*.jsonl"))
	require.NoError(t, err)
	require.Len(t, files, 1)
	b, err := os.ReadFile(files[0])
	require.NoError(t, err)
	assert.Equal(t, 3000, bytes.Count(b, []byte("\n")))
	_, queued := r.d.load()
	assert.Equal(t, 3000, queued)
}

// BenchmarkPoll10k reads a 10,000-event answer (about 13 MB) from its first
// byte to its last event on disk (journal) or queued in memory (memory): the
// journal's cost over the bare poll. fsyncs/poll counts the journal's syncs.
func BenchmarkPoll10k(b *testing.B) {
	body := bigAnswer(10000)
	for _, mode := range []string{"memory", "journal"} {
		b.Run(mode, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(body)))
			var syncs int64
			for b.Loop() {
				b.StopTimer()
				dir := ""
				if mode == "journal" {
					dir = b.TempDir()
				}
				r := pollRun(b, body, dir)
				b.StartTimer()
				n, err := r.poll(context.Background(), nil)
				b.StopTimer()
				if err != nil || n != 10000 {
					b.Fatalf("poll: %d events, %v", n, err)
				}
				if r.j != nil {
					syncs += r.j.(*fileJournal).j.syncs.Load()
					_ = r.j.Close()
				}
				b.StartTimer()
			}
			b.ReportMetric(float64(syncs)/float64(b.N), "fsyncs/poll")
		})
	}
}
