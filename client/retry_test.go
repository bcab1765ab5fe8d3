package client_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/heepr/heepr-go/client"
	herrors "github.com/heepr/heepr-go/errors"
	"github.com/heepr/heepr-go/heeprtest"
	"github.com/heepr/heepr-go/models"
)

// call is one operation, its path on the fake, and how many effects the fake
// recorded for it.
type call struct {
	name    string
	method  string
	path    string
	do      func(ctx context.Context, c *client.Client, order string) error
	effects func(srv *heeprtest.Server, order string) int
}

func calls() []call {
	return []call{
		{
			name: "deliver", method: http.MethodPost, path: "/orders/{id}/deliver",
			do: func(ctx context.Context, c *client.Client, order string) error {
				_, err := c.Deliver(ctx, order, client.Delivery{Text: "the work"})
				return err
			},
			effects: func(srv *heeprtest.Server, order string) int { return len(srv.Deliveries(order)) },
		},
		{
			name: "decline", method: http.MethodPost, path: "/orders/{id}/decline",
			do: func(ctx context.Context, c *client.Client, order string) error {
				_, err := c.Decline(ctx, order, client.DeclineParams{Reason: models.DeclineReasonCapacity})
				return err
			},
			effects: func(srv *heeprtest.Server, order string) int { return len(srv.Declines(order)) },
		},
		{
			name: "progress", method: http.MethodPost, path: "/status",
			do: func(ctx context.Context, c *client.Client, order string) error {
				_, err := c.ReportProgress(ctx, order, client.ProgressParams{Percent: 50})
				return err
			},
			effects: func(srv *heeprtest.Server, order string) int { return len(srv.Progress(order)) },
		},
		{
			name: "skill", method: http.MethodGet, path: "/skill",
			do: func(ctx context.Context, c *client.Client, _ string) error {
				_, err := c.Skill(ctx)
				return err
			},
		},
	}
}

// Each fault a network or the platform throws, on each kind of call: the call
// succeeds after a retry, every attempt of a write carries the same
// Idempotency-Key, and the write lands exactly once.
func TestRetriesLandOnce(t *testing.T) {
	faults := []struct {
		name  string
		fault heeprtest.Fault
		// wantWait is the fake time the retry must take; 0 when jittered.
		wantWait time.Duration
	}{
		{"429 with Retry-After", heeprtest.Fault{Kind: heeprtest.FaultStatus, Status: 429, RetryAfter: 3 * time.Second}, 3 * time.Second},
		{"503 with Retry-After", heeprtest.Fault{Kind: heeprtest.FaultStatus, Status: 503, RetryAfter: 7 * time.Second}, 7 * time.Second},
		{"500", heeprtest.Fault{Kind: heeprtest.FaultStatus, Status: 500}, 0},
		{"502 from a proxy", heeprtest.Fault{Kind: heeprtest.FaultNonJSON}, 0},
		{"dropped before the body", heeprtest.Fault{Kind: heeprtest.FaultDropBeforeBody}, 0},
		{"dropped after the body", heeprtest.Fault{Kind: heeprtest.FaultDropAfterBody}, 0},
		{"truncated answer", heeprtest.Fault{Kind: heeprtest.FaultTruncate}, 0},
		{"latency past the attempt timeout", heeprtest.Fault{Kind: heeprtest.FaultLatency, Latency: time.Hour}, 0},
	}
	for _, call := range calls() {
		for _, f := range faults {
			t.Run(call.name+"/"+f.name, func(t *testing.T) {
				synctest.Test(t, func(t *testing.T) {
					srv, a, c := registered(t, client.WithAttemptTimeout(10*time.Second))
					order := srv.PlaceOrder(a.ID, models.Order{})
					fault := f.fault
					fault.Method, fault.Path = call.method, call.path
					srv.Inject(fault)

					start := time.Now()
					require.NoError(t, call.do(context.Background(), c, order))
					if f.wantWait > 0 {
						assert.Equal(t, f.wantWait, time.Since(start), "Retry-After honoured")
					}
					if f.fault.Kind == heeprtest.FaultLatency {
						assert.GreaterOrEqual(t, time.Since(start), 10*time.Second, "the attempt timed out")
						assert.Less(t, time.Since(start), time.Minute)
					}

					var attempts []heeprtest.Request
					for _, r := range srv.Requests() {
						if r.Method == call.method && r.Path != "/api/agent/register" {
							attempts = append(attempts, r)
						}
					}
					if f.fault.Kind != heeprtest.FaultLatency { // a cancelled attempt is logged when its handler ends
						require.Len(t, attempts, 2, "one fault, one retry")
					}
					if call.method == http.MethodPost {
						key := attempts[0].IdempotencyKey
						assert.NotEmpty(t, key)
						for _, r := range attempts {
							assert.Equal(t, key, r.IdempotencyKey, "the same key on every attempt")
						}
						assert.Equal(t, 1, call.effects(srv, order), "landed exactly once")
					}
					noViolations(t, srv)
				})
			})
		}
	}
}

func TestRetryGivesUpAndSaysHowOften(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv, _, c := registered(t)
		srv.Inject(heeprtest.Fault{Kind: heeprtest.FaultStatus, Status: 503, Times: heeprtest.Forever, Path: "/skill"})
		_, err := c.Skill(context.Background())
		require.Error(t, err)
		assert.ErrorIs(t, err, herrors.ErrUnavailable)
		var re *client.RetryError
		require.ErrorAs(t, err, &re)
		assert.Equal(t, 4, re.Attempts)
		assert.Contains(t, err.Error(), "skill: after 4 attempts: heepr: 503 unavailable")
		assert.Len(t, requestsTo(srv, "/api/skill"), 4)
	})
}

func TestNotRetried(t *testing.T) {
	tests := []struct {
		name  string
		fault heeprtest.Fault
		opts  []client.CallOption
		want  error
	}{
		{"revoked key", heeprtest.Fault{Kind: heeprtest.FaultStatus, Status: 401, Code: models.ErrorCodeKeyRevoked}, nil, herrors.ErrKeyRevoked},
		{"conflict", heeprtest.Fault{Kind: heeprtest.FaultStatus, Status: 409}, nil, herrors.ErrConflict},
		{"501", heeprtest.Fault{Kind: heeprtest.FaultStatus, Status: 501}, nil, herrors.ErrInternal},
		{"Retry-After past the ceiling", heeprtest.Fault{Kind: heeprtest.FaultStatus, Status: 429, RetryAfter: time.Hour}, nil, herrors.ErrRateLimited},
		{"write without a key, 503", heeprtest.Fault{Kind: heeprtest.FaultStatus, Status: 503}, []client.CallOption{client.WithIdempotencyKey("")}, herrors.ErrUnavailable},
		{"write without a key, dropped", heeprtest.Fault{Kind: heeprtest.FaultDropAfterBody}, []client.CallOption{client.WithIdempotencyKey("")}, io.ErrUnexpectedEOF},
		{"WithoutRetry", heeprtest.Fault{Kind: heeprtest.FaultStatus, Status: 503}, []client.CallOption{client.WithoutRetry()}, herrors.ErrUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				srv, a, c := registered(t)
				order := srv.PlaceOrder(a.ID, models.Order{})
				f := tt.fault
				f.Path = "/orders/{id}/deliver"
				srv.Inject(f)
				start := time.Now()
				_, err := c.Deliver(context.Background(), order, client.Delivery{Text: "x"}, tt.opts...)
				require.Error(t, err)
				assert.ErrorIs(t, err, tt.want)
				assert.Zero(t, time.Since(start), "no wait")
				assert.Len(t, requestsTo(srv, "/api/orders/"+order+"/deliver"), 1, "one attempt")
				var re *client.RetryError
				assert.False(t, errors.As(err, &re))
			})
		})
	}
}

// dialFails fails the first n requests as a refused connection: the request
// provably never left the machine.
type dialFails struct {
	n    int
	next http.RoundTripper
}

func (d *dialFails) RoundTrip(r *http.Request) (*http.Response, error) {
	if d.n > 0 {
		d.n--
		if r.Body != nil {
			r.Body.Close()
		}
		return nil, &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	}
	return d.next.RoundTrip(r)
}

func TestWriteWithoutKeyRetriedOnDialError(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := heeprtest.NewServer()
		a := srv.AddAgent()
		hc := &http.Client{Transport: &dialFails{next: srv.HTTPClient().Transport}}
		c, err := client.New(client.WithHTTPClient(hc))
		require.NoError(t, err)
		_, err = c.Register(context.Background(), a.BootstrapToken, a.ID)
		require.NoError(t, err)
		order := srv.PlaceOrder(a.ID, models.Order{})

		hc.Transport.(*dialFails).n = 2
		_, err = c.Deliver(context.Background(), order, client.Delivery{Text: "x"}, client.WithIdempotencyKey(""))
		require.NoError(t, err)
		assert.Len(t, srv.Deliveries(order), 1)
		assert.Empty(t, srv.Deliveries(order)[0].IdempotencyKey)
	})
}

func TestCancelMidBackoffReturnsAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv, a, c := registered(t)
		order := srv.PlaceOrder(a.ID, models.Order{})
		srv.Inject(heeprtest.Fault{Kind: heeprtest.FaultStatus, Status: 503, RetryAfter: 30 * time.Second, Path: "/orders/{id}/deliver"})
		ctx, cancel := context.WithCancel(context.Background())
		go func() {
			time.Sleep(time.Second)
			cancel()
		}()
		start := time.Now()
		_, err := c.Deliver(ctx, order, client.Delivery{Text: "x"})
		assert.Equal(t, time.Second, time.Since(start), "returned the moment it was cancelled")
		assert.ErrorIs(t, err, context.Canceled)
		assert.Empty(t, srv.Deliveries(order))
	})
}

func TestWaitPastDeadlineGivesUpAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv, _, c := registered(t)
		srv.Inject(heeprtest.Fault{Kind: heeprtest.FaultStatus, Status: 503, RetryAfter: 30 * time.Second, Path: "/skill"})
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		start := time.Now()
		_, err := c.Skill(ctx)
		assert.Zero(t, time.Since(start), "no point waiting past the deadline")
		assert.ErrorIs(t, err, herrors.ErrUnavailable)
		var apiErr *herrors.APIError
		require.ErrorAs(t, err, &apiErr)
		assert.Equal(t, 30*time.Second, apiErr.RetryAfter)
	})
}

func TestIdempotencyScope(t *testing.T) {
	srv, a, c := registered(t)
	o1, o2 := srv.PlaceOrder(a.ID, models.Order{}), srv.PlaceOrder(a.ID, models.Order{})
	run := func(scope string) []string {
		ctx := client.NewIdempotencyScopeContext(context.Background(), scope)
		_, err := c.ReportProgress(ctx, o1, client.ProgressParams{Percent: 10})
		require.NoError(t, err)
		_, err = c.ReportProgress(ctx, o1, client.ProgressParams{Percent: 20})
		require.NoError(t, err)
		_, err = c.Deliver(ctx, o2, client.Delivery{Text: "x"})
		require.NoError(t, err)
		reqs := srv.Requests()
		var keys []string
		for _, r := range reqs[len(reqs)-3:] {
			keys = append(keys, r.IdempotencyKey)
		}
		return keys
	}
	first := run("evt_1")
	assert.Len(t, first, 3)
	assert.NotEqual(t, first[0], first[1], "each write its own key")
	replay := run("evt_1")
	assert.Equal(t, first, replay, "the same writes in the same order: the same keys")
	assert.Len(t, srv.Progress(o1), 2, "the replay recorded nothing new")
	assert.Len(t, srv.Deliveries(o2), 1)
	other := run("evt_2")
	assert.NotEqual(t, first[0], other[0])
	noViolations(t, srv)
}
