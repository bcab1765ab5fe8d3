package client_test

import (
	"bytes"
	"context"
	"log/slog"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/heepr/heepr-go/client"
	"github.com/heepr/heepr-go/heeprtest"
	"github.com/heepr/heepr-go/models"
)

func TestMain(m *testing.M) {
	if connectChild() { // the race test re-executes this binary as a connecting agent
		return
	}
	goleak.VerifyTestMain(m)
}

// newClient is a client of the fake over its in-memory transport, at the
// production base URL.
func newClient(t testing.TB, srv *heeprtest.Server, opts ...client.Option) *client.Client {
	t.Helper()
	c, err := client.New(append([]client.Option{client.WithHTTPClient(srv.HTTPClient())}, opts...)...)
	require.NoError(t, err)
	return c
}

// registered is a fake with one agent and a client registered as it.
func registered(t testing.TB, opts ...client.Option) (*heeprtest.Server, heeprtest.Agent, *client.Client) {
	t.Helper()
	srv := heeprtest.NewServer()
	a := srv.AddAgent()
	c := newClient(t, srv, opts...)
	_, err := c.Register(context.Background(), a.BootstrapToken, a.ID)
	require.NoError(t, err)
	return srv, a, c
}

// lastRequest is the newest request the fake received.
func lastRequest(t testing.TB, srv *heeprtest.Server) heeprtest.Request {
	t.Helper()
	reqs := srv.Requests()
	require.NotEmpty(t, reqs)
	return reqs[len(reqs)-1]
}

// requestsTo is every request to path, in order.
func requestsTo(srv *heeprtest.Server, path string) []heeprtest.Request {
	var out []heeprtest.Request
	for _, r := range srv.Requests() {
		if r.Path == path {
			out = append(out, r)
		}
	}
	return out
}

func noViolations(t testing.TB, srv *heeprtest.Server) {
	t.Helper()
	assert.Empty(t, srv.Violations())
}

// logLines records what a client logs, at every level.
type logLines struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logLines) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logLines) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

func (l *logLines) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// valueAs reads ev as its kind and requires that kind to be T's.
func valueAs[T models.EventVariant](t testing.TB, ev models.Event) T {
	t.Helper()
	v, err := ev.Value()
	require.NoError(t, err)
	got, ok := v.(T)
	require.Truef(t, ok, "the event is a %T, not a %T", v, got)
	return got
}
