package client_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
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

// A per-call header arrives on every attempt of the call, and only on that
// call.
func TestWithHeader(t *testing.T) {
	srv, a, c := registered(t)
	ctx := context.Background()
	ord := srv.PlaceOrder(a.ID, models.Order{})
	srv.Inject(heeprtest.Fault{Kind: heeprtest.FaultStatus, Status: 503, Path: "/orders/{id}/deliver"})
	_, err := c.Deliver(ctx, ord, client.Delivery{Text: "x"},
		client.WithHeader("X-Tenant", "first"), client.WithHeader("x-tenant", "acme"), client.WithHeader("Traceparent", "00-abc-def-01"))
	require.NoError(t, err)
	reqs := requestsTo(srv, "/api/orders/"+ord+"/deliver")
	require.Len(t, reqs, 2, "the 503, then the retry")
	for _, r := range reqs {
		assert.Equal(t, []string{"acme"}, r.Header.Values("X-Tenant"), "the later WithHeader wins, on every attempt")
		assert.Equal(t, "00-abc-def-01", r.Header.Get("Traceparent"))
		assert.Regexp(t, `^Bearer sk_`, r.Header.Get("Authorization"), "the client's own headers stay")
	}
	_, err = c.Events(ctx)
	require.NoError(t, err)
	assert.Empty(t, lastRequest(t, srv).Header.Get("X-Tenant"), "one call's header is not the next one's")
	noViolations(t, srv)
}

// A header the client owns, or one that is not a header, is refused before
// any request, naming it.
func TestWithHeader_Refused(t *testing.T) {
	srv, _, c := registered(t)
	before := len(srv.Requests())
	tests := []struct {
		key, value, want string
	}{
		{"Authorization", "Bearer sk_live_other", "Authorization is the client's own header"},
		{"authorization", "x", "Authorization is the client's own header"},
		{"Idempotency-Key", "k", "Idempotency-Key is the client's own header (use WithIdempotencyKey)"},
		{"Content-Type", "text/plain", "Content-Type is the client's own header"},
		{"content-length", "3", "Content-Length is the client's own header"},
		{"Host", "evil.example", "Host is the client's own header"},
		{"User-Agent", "x", "User-Agent is the client's own header (use WithUserAgent)"},
		{"Accept", "*/*", "Accept is the client's own header"},
		{"Transfer-Encoding", "chunked", "Transfer-Encoding is the client's own header"},
		{"X Bad", "v", `"X Bad" is not a valid header name`},
		{"", "v", `"" is not a valid header name`},
		{"X-Split", "a\r\nAuthorization: x", "the value of X-Split holds a line break or NUL"},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			_, err := c.SetStatus(context.Background(), client.StatusParams{Status: models.AgentStatusActive}, client.WithHeader(tt.key, tt.value))
			require.Error(t, err)
			assert.Contains(t, err.Error(), "WithHeader: "+tt.want)
			err = c.DownloadAttachment(context.Background(), models.Attachment{URL: "/files/x"}, &discard{}, client.WithHeader(tt.key, tt.value))
			assert.ErrorContains(t, err, "WithHeader: ")
		})
	}
	assert.Len(t, srv.Requests(), before, "no request made")
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// WithTimeout bounds the whole call, retries and backoff included: the call
// returns by its deadline, without waiting out a backoff that would pass it.
func TestWithTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv, _, c := registered(t, client.WithRetry(client.RetryPolicy{MaxAttempts: 10, BaseDelay: time.Second, MaxDelay: time.Second}))
		srv.Inject(heeprtest.Fault{Kind: heeprtest.FaultStatus, Status: 503, RetryAfter: 2 * time.Second, Path: "/skill", Times: heeprtest.Forever})
		start := time.Now()
		var info client.ResponseInfo
		_, err := c.Skill(context.Background(), client.WithTimeout(5*time.Second), client.WithResponseInto(&info))
		require.Error(t, err)
		assert.ErrorIs(t, err, herrors.ErrUnavailable, "the last attempt's error")
		assert.Equal(t, 4*time.Second, time.Since(start), "the wait to 6s would pass the bound: not waited out")
		assert.Len(t, requestsTo(srv, "/api/skill"), 3, "attempts at 0s, 2s, 4s; the next would be at 6s")
		assert.Equal(t, 3, info.Attempts)
		assert.Equal(t, http.StatusServiceUnavailable, info.StatusCode)
	})
}

// WithTimeout bounds a hung attempt too, below WithAttemptTimeout, and the
// caller's own deadline still wins when it is the shorter.
func TestWithTimeout_Attempt(t *testing.T) {
	tests := []struct {
		name        string
		timeout     time.Duration
		callerLimit time.Duration
		wantElapsed time.Duration
		wantNamed   bool
	}{
		{"WithTimeout first", 2 * time.Second, time.Minute, 2 * time.Second, true},
		{"caller first", time.Minute, time.Second, time.Second, false},
		{"zero is no bound", 0, 3 * time.Second, 3 * time.Second, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				srv, _, c := registered(t, client.WithAttemptTimeout(10*time.Second))
				srv.Inject(heeprtest.Fault{Kind: heeprtest.FaultLatency, Latency: time.Hour, Path: "/skill"})
				ctx, cancel := context.WithTimeout(context.Background(), tt.callerLimit)
				defer cancel()
				start := time.Now()
				_, err := c.Skill(ctx, client.WithTimeout(tt.timeout))
				assert.ErrorIs(t, err, context.DeadlineExceeded)
				assert.Equal(t, tt.wantElapsed, time.Since(start))
				assert.Equal(t, tt.wantNamed, errors.Is(err, context.DeadlineExceeded) && strings.Contains(err.Error(), "WithTimeout("), err.Error())
				srv.ClearFaults()
			})
		})
	}
}

// WithResponseInto reports the final attempt's status, header, request id
// and the attempts, on success and on failure.
func TestWithResponseInto(t *testing.T) {
	tests := []struct {
		name         string
		fault        *heeprtest.Fault
		order        string // "" for a real order
		wantStatus   int
		wantAttempts int
		wantErr      error
	}{
		{"success", nil, "", http.StatusAccepted, 1, nil},
		{"success after a retry", &heeprtest.Fault{Kind: heeprtest.FaultStatus, Status: 503}, "", http.StatusAccepted, 2, nil},
		{"refused", nil, "ord_404", http.StatusNotFound, 1, herrors.ErrNotFound},
		{"refused after retries", &heeprtest.Fault{Kind: heeprtest.FaultStatus, Status: 503, Times: heeprtest.Forever}, "", http.StatusServiceUnavailable, 4, herrors.ErrUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				srv, a, c := registered(t)
				ord := tt.order
				if ord == "" {
					ord = srv.PlaceOrder(a.ID, models.Order{})
				}
				if tt.fault != nil {
					f := *tt.fault
					f.Path = "/orders/{id}/deliver"
					srv.Inject(f)
				}
				info := client.ResponseInfo{StatusCode: 999, RequestID: "stale"}
				_, err := c.Deliver(context.Background(), ord, client.Delivery{Text: "x"}, client.WithResponseInto(&info))
				if tt.wantErr != nil {
					assert.ErrorIs(t, err, tt.wantErr)
				} else {
					require.NoError(t, err)
				}
				last := lastRequest(t, srv)
				assert.Equal(t, tt.wantStatus, info.StatusCode)
				assert.Equal(t, last.ID, info.RequestID, "the final attempt's X-Request-Id")
				assert.Equal(t, last.ID, info.Header.Get("X-Request-Id"))
				assert.Equal(t, tt.wantAttempts, info.Attempts)
			})
		})
	}
}

// A call that got no answer reports status 0, and its attempts.
func TestWithResponseInto_NoAnswer(t *testing.T) {
	c, err := client.New(client.WithAPIKey("sk_live_noanswernoanswer"), client.WithHTTPClient(&http.Client{Transport: resetting{}}),
		client.WithRetry(client.RetryPolicy{MaxAttempts: 1}))
	require.NoError(t, err)
	info := client.ResponseInfo{StatusCode: 999}
	_, err = c.Skill(context.Background(), client.WithResponseInto(&info))
	require.Error(t, err)
	assert.Equal(t, client.ResponseInfo{Attempts: 1}, info)
}

type resetting struct{}

func (resetting) RoundTrip(*http.Request) (*http.Response, error) { return nil, syscall.ECONNRESET }

// The context helpers: a scope given is a scope found.
func TestIdempotencyScopeContext(t *testing.T) {
	_, ok := client.IdempotencyScopeFromContext(context.Background())
	assert.False(t, ok)
	ctx := client.NewIdempotencyScopeContext(context.Background(), "heepr-event:evt_1")
	scope, ok := client.IdempotencyScopeFromContext(ctx)
	assert.True(t, ok)
	assert.Equal(t, "heepr-event:evt_1", scope)
	inner, _ := client.IdempotencyScopeFromContext(client.NewIdempotencyScopeContext(ctx, "other"))
	assert.Equal(t, "other", inner)
}

// Secrets go in typed: a models.APIKey to WithAPIKey, a models.BootstrapToken
// to Register and ConnectConfig; untyped constants still compile.
func TestTypedSecretsIn(t *testing.T) {
	srv := heeprtest.NewServer()
	a := srv.AddAgent()
	c := newClient(t, srv)
	var token models.BootstrapToken = a.BootstrapToken
	reg, err := c.Register(context.Background(), token, a.ID)
	require.NoError(t, err)
	var key models.APIKey = reg.APIKey
	c2 := newClient(t, srv, client.WithAPIKey(key), client.WithAgentID(a.ID))
	assert.Equal(t, key, c2.APIKey())
	_, err = c2.Events(context.Background())
	require.NoError(t, err)

	_, err = client.New(client.WithAPIKey("sk_live_constantconstant")) // an untyped constant
	require.NoError(t, err)
	_, err = client.New(client.WithAPIKey("bs_notakeynotakey"))
	assert.ErrorContains(t, err, "that is a bootstrap token")
	_, err = c.Register(context.Background(), "", a.ID)
	assert.ErrorContains(t, err, "empty bootstrap token")
}
