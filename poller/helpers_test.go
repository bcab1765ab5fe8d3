package poller_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/heepr/heepr-go/client"
	"github.com/heepr/heepr-go/heeprtest"
	"github.com/heepr/heepr-go/poller"
)

func TestMain(m *testing.M) {
	if child() { // the crash test re-executes this binary as an agent process
		return
	}
	goleak.VerifyTestMain(m)
}

// anyEvent takes every event and does nothing with it: for tests of the loop,
// not of the handlers.
var anyEvent = poller.Handlers{Default: func(context.Context, poller.EventInfo) error { return nil }}

// agent is a fake with one registered agent and a client of it over the
// in-memory transport.
func agent(t testing.TB, opts ...heeprtest.AgentOption) (*heeprtest.Server, heeprtest.Agent, *client.Client) {
	t.Helper()
	srv := heeprtest.NewServer()
	a := srv.AddAgent(append([]heeprtest.AgentOption{heeprtest.Registered()}, opts...)...)
	c, err := client.New(client.WithHTTPClient(srv.HTTPClient()), client.WithAPIKey(a.APIKey), client.WithAgentID(a.ID))
	require.NoError(t, err)
	return srv, a, c
}

// started runs p until the returned stop is called; stop returns Run's error.
func started(t testing.TB, p *poller.Poller) (stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	var once sync.Once
	var err error
	return func() error {
		once.Do(func() {
			cancel()
			err = <-done
		})
		return err
	}
}

// polls records the start of every poll.
type polls struct {
	mu  sync.Mutex
	at  []time.Time
	err []error
}

func (p *polls) hook(_ context.Context, r poller.PollResult) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.at = append(p.at, r.At)
	p.err = append(p.err, r.Err)
}

func (p *polls) times() []time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]time.Time(nil), p.at...)
}

func (p *polls) gaps() []time.Duration {
	at := p.times()
	var out []time.Duration
	for i := 1; i < len(at); i++ {
		out = append(out, at[i].Sub(at[i-1]))
	}
	return out
}

func noViolations(t testing.TB, srv *heeprtest.Server) {
	t.Helper()
	assert.Empty(t, srv.Violations())
}

// repeatFirstBatch answers the poll after the first one that returned events
// with that same answer again, as a platform that redelivers would.
type repeatFirstBatch struct {
	next  http.RoundTripper
	mu    sync.Mutex
	saved []byte
	done  bool
}

func (r *repeatFirstBatch) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Path != "/api/events" {
		return r.next.RoundTrip(req)
	}
	r.mu.Lock()
	if r.saved != nil && !r.done {
		r.done = true
		body := r.saved
		r.mu.Unlock()
		return &http.Response{StatusCode: http.StatusOK, Header: http.Header{"Content-Type": {"application/json"}},
			Body: io.NopCloser(bytes.NewReader(body)), Request: req}, nil
	}
	r.mu.Unlock()
	res, err := r.next.RoundTrip(req)
	if err != nil || res.StatusCode != http.StatusOK {
		return res, err
	}
	b, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	if r.saved == nil && len(b) > 3 {
		r.saved = b
	}
	r.mu.Unlock()
	res.Body = io.NopCloser(bytes.NewReader(b))
	return res, nil
}
