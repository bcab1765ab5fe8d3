package heeprtest_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/heepr/heepr-go/heeprtest"
	"github.com/heepr/heepr-go/models"
)

// deliver sends a JSON delivery with an http.Client of the caller's choosing
// and returns the status, body and error the client saw.
func deliverWith(hc *http.Client, url, bearer, order, idem string) (int, []byte, error) {
	req, err := http.NewRequest(http.MethodPost, url+"/orders/"+order+"/deliver", strings.NewReader(`{"text":"the work"}`))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", bearer)
	req.Header.Set("Content-Type", "application/json")
	if idem != "" {
		req.Header.Set("Idempotency-Key", idem)
	}
	res, err := hc.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return res.StatusCode, b, err
}

// setup registers an agent with an order and returns the bearer header.
func setup(t *testing.T, srv *heeprtest.Server) (order, bearer string) {
	t.Helper()
	a, c := registered(t, srv)
	poll(t, c)
	reqs := srv.Requests()
	return srv.PlaceOrder(a.ID, models.Order{}), reqs[len(reqs)-1].Header.Get("Authorization")
}

// Each fault, through both ways in: what the client sees and what took effect.
func TestFaults(t *testing.T) {
	tests := []struct {
		name  string
		fault heeprtest.Fault
		// check gets what the client saw; the delivery count says what took effect.
		check      func(t *testing.T, status int, body []byte, err error, memory bool)
		deliveries int
	}{
		{
			name:  "429 with Retry-After",
			fault: heeprtest.Fault{Kind: heeprtest.FaultStatus, Status: 429, RetryAfter: 1500 * time.Millisecond},
			check: func(t *testing.T, status int, body []byte, err error, _ bool) {
				require.NoError(t, err)
				envelope(t, status, body, http.StatusTooManyRequests, models.ErrorCodeRateLimited)
			},
		},
		{
			name:  "503 by default",
			fault: heeprtest.Fault{Kind: heeprtest.FaultStatus},
			check: func(t *testing.T, status int, body []byte, err error, _ bool) {
				require.NoError(t, err)
				envelope(t, status, body, http.StatusServiceUnavailable, models.ErrorCodeUnavailable)
			},
		},
		{
			name:  "500 with a code",
			fault: heeprtest.Fault{Kind: heeprtest.FaultStatus, Status: 500, Code: models.ErrorCodeInternalError},
			check: func(t *testing.T, status int, body []byte, err error, _ bool) {
				require.NoError(t, err)
				envelope(t, status, body, http.StatusInternalServerError, models.ErrorCodeInternalError)
			},
		},
		{
			name:  "drop before body",
			fault: heeprtest.Fault{Kind: heeprtest.FaultDropBeforeBody},
			check: func(t *testing.T, _ int, _ []byte, err error, memory bool) {
				require.Error(t, err)
				if memory {
					assert.ErrorIs(t, err, syscall.ECONNRESET)
				}
			},
		},
		{
			name:  "drop after body",
			fault: heeprtest.Fault{Kind: heeprtest.FaultDropAfterBody},
			check: func(t *testing.T, _ int, _ []byte, err error, memory bool) {
				require.Error(t, err)
				if memory {
					assert.ErrorIs(t, err, io.ErrUnexpectedEOF)
				}
			},
			deliveries: 1,
		},
		{
			name:  "truncated body",
			fault: heeprtest.Fault{Kind: heeprtest.FaultTruncate},
			check: func(t *testing.T, status int, body []byte, err error, _ bool) {
				assert.Equal(t, http.StatusAccepted, status)
				assert.ErrorIs(t, err, io.ErrUnexpectedEOF)
				assert.False(t, json.Valid(body), "%s", body)
			},
			deliveries: 1,
		},
		{
			name:  "non-JSON body",
			fault: heeprtest.Fault{Kind: heeprtest.FaultNonJSON},
			check: func(t *testing.T, status int, body []byte, err error, _ bool) {
				require.NoError(t, err)
				assert.Equal(t, http.StatusBadGateway, status)
				assert.Contains(t, string(body), "<html>")
			},
		},
		{
			name:  "latency",
			fault: heeprtest.Fault{Kind: heeprtest.FaultLatency, Latency: 20 * time.Millisecond},
			check: func(t *testing.T, status int, body []byte, err error, _ bool) {
				require.NoError(t, err)
				assert.Equal(t, http.StatusAccepted, status, "%s", body)
			},
			deliveries: 1,
		},
	}
	for _, way := range []string{"memory", "socket"} {
		for _, tt := range tests {
			t.Run(way+"/"+tt.name, func(t *testing.T) {
				srv := heeprtest.NewServer()
				defer srv.Close()
				order, bearer := setup(t, srv)
				hc, url := srv.HTTPClient(), base
				if way == "socket" {
					hc, url = &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}, srv.URL()
				}
				f := tt.fault
				f.Method, f.Path = http.MethodPost, "/orders/{id}/deliver"
				srv.Inject(f)

				status, body, err := deliverWith(hc, url, bearer, order, "")
				tt.check(t, status, body, err, way == "memory")
				assert.Len(t, srv.Deliveries(order), tt.deliveries)

				// Used up: the next request goes through.
				status, body, err = deliverWith(hc, url, bearer, order, "")
				require.NoError(t, err)
				assert.Equal(t, http.StatusAccepted, status, "%s", body)

				// Over a socket, the dropped request may be logged after the next
				// one: its handler logs once the connection is already closed.
				faulted := 0
				for _, r := range srv.Requests() {
					if r.Fault == f.Kind {
						faulted++
					}
				}
				assert.Equal(t, 1, faulted, "the fault struck one request")
				noViolations(t, srv)
			})
		}
	}
}

func TestFaultRetryAfterHeader(t *testing.T) {
	srv := heeprtest.NewServer()
	order, bearer := setup(t, srv)
	srv.Inject(heeprtest.Fault{Kind: heeprtest.FaultStatus, Status: 429, RetryAfter: 1500 * time.Millisecond})
	req, err := http.NewRequest(http.MethodPost, base+"/orders/"+order+"/deliver", strings.NewReader(`{"text":"x"}`))
	require.NoError(t, err)
	req.Header.Set("Authorization", bearer)
	req.Header.Set("Content-Type", "application/json")
	res, err := srv.HTTPClient().Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	assert.Equal(t, "2", res.Header.Get("Retry-After"), "seconds, rounded up")
	assert.NotEmpty(t, res.Header.Get("X-Request-Id"))
}

// A dropped response is the case idempotency keys exist for: the retry with
// the same key finds the first effect and records no second.
func TestDropAfterBodyThenRetryLandsOnce(t *testing.T) {
	srv := heeprtest.NewServer()
	order, bearer := setup(t, srv)
	srv.Inject(heeprtest.Fault{Kind: heeprtest.FaultDropAfterBody, Method: http.MethodPost})
	_, _, err := deliverWith(srv.HTTPClient(), base, bearer, order, "k")
	require.ErrorIs(t, err, io.ErrUnexpectedEOF)
	status, body, err := deliverWith(srv.HTTPClient(), base, bearer, order, "k")
	require.NoError(t, err)
	assert.Equal(t, http.StatusAccepted, status, "%s", body)
	assert.Len(t, srv.Deliveries(order), 1)
	noViolations(t, srv)
}

func TestFaultMatching(t *testing.T) {
	srv := heeprtest.NewServer()
	order, bearer := setup(t, srv)
	// Three hits on deliveries only; GETs pass.
	srv.Inject(heeprtest.Fault{Kind: heeprtest.FaultStatus, Method: http.MethodPost, Path: "/orders/{id}/deliver", Times: 3})
	status, _, _ := do(t, srv, http.MethodGet, "/skill", bearer, "", "")
	assert.Equal(t, http.StatusOK, status)
	for range 3 {
		status, _, err := deliverWith(srv.HTTPClient(), base, bearer, order, "")
		require.NoError(t, err)
		assert.Equal(t, http.StatusServiceUnavailable, status)
	}
	status, _, err := deliverWith(srv.HTTPClient(), base, bearer, order, "")
	require.NoError(t, err)
	assert.Equal(t, http.StatusAccepted, status)

	srv.Inject(heeprtest.Fault{Kind: heeprtest.FaultStatus, Times: heeprtest.Forever})
	for range 5 {
		status, _, _ := do(t, srv, http.MethodGet, "/skill", bearer, "", "")
		assert.Equal(t, http.StatusServiceUnavailable, status)
	}
	srv.ClearFaults()
	status, _, _ = do(t, srv, http.MethodGet, "/skill", bearer, "", "")
	assert.Equal(t, http.StatusOK, status)
	noViolations(t, srv)
}

func TestFaultProbabilityIsSeeded(t *testing.T) {
	hits := func() []int {
		srv := heeprtest.NewServer(heeprtest.WithSeed(42))
		_, bearer := setup(t, srv)
		srv.Inject(heeprtest.Fault{Kind: heeprtest.FaultStatus, Times: heeprtest.Forever, Probability: 0.3})
		var out []int
		for i := range 50 {
			if status, _, _ := do(t, srv, http.MethodGet, "/skill", bearer, "", ""); status != http.StatusOK {
				out = append(out, i)
			}
		}
		return out
	}
	first := hits()
	assert.Equal(t, first, hits(), "the same seed injects at the same requests")
	assert.InDelta(t, 15, len(first), 10)
}

func TestLatencyUnderFakeTime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := heeprtest.NewServer()
		order, bearer := setup(t, srv)
		srv.Inject(heeprtest.Fault{Kind: heeprtest.FaultLatency, Latency: time.Hour})
		start := time.Now()
		status, _, err := deliverWith(srv.HTTPClient(), base, bearer, order, "")
		require.NoError(t, err)
		assert.Equal(t, http.StatusAccepted, status)
		assert.Equal(t, time.Hour, time.Since(start), "an hour of fake time, no real wait")

		// A client that gives up first cancels the request: no effect.
		srv.Inject(heeprtest.Fault{Kind: heeprtest.FaultLatency, Latency: time.Hour})
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/orders/"+order+"/deliver", strings.NewReader(`{"text":"late"}`))
		require.NoError(t, err)
		req.Header.Set("Authorization", bearer)
		req.Header.Set("Content-Type", "application/json")
		_, err = srv.HTTPClient().Do(req)
		assert.True(t, errors.Is(err, context.DeadlineExceeded), "%v", err)
		assert.Len(t, srv.Deliveries(order), 1)
		noViolations(t, srv)
	})
}

func TestUnknownEventFault(t *testing.T) {
	srv := heeprtest.NewServer()
	a, c := registered(t, srv)
	srv.PlaceOrder(a.ID, models.Order{})
	srv.Inject(heeprtest.Fault{Kind: heeprtest.FaultUnknownEvent})
	events, _ := poll(t, c)
	require.Len(t, events, 2)
	h, err := events[1].Header()
	require.NoError(t, err)
	assert.Equal(t, models.EventKind("order_cancelled"), h.Kind)
	assert.False(t, h.Kind.Valid())
	assert.Contains(t, string(events[1].Raw()), "injected by heeprtest")

	// Also on an idle poll, and with a kind of the test's choosing.
	srv.Inject(heeprtest.Fault{Kind: heeprtest.FaultUnknownEvent, EventKind: "gig_paused"})
	events, _ = poll(t, c)
	require.Len(t, events, 1)
	assert.Equal(t, models.EventKind("gig_paused"), valueAs[models.UnknownEvent](t, events[0]).Kind)
	noViolations(t, srv)
}

func TestRepeatEventsFault(t *testing.T) {
	srv := heeprtest.NewServer()
	a, c := registered(t, srv)
	srv.PlaceOrder(a.ID, models.Order{})
	first, _ := poll(t, c)
	require.Len(t, first, 1)
	srv.Inject(heeprtest.Fault{Kind: heeprtest.FaultRepeatEvents})
	srv.PlaceOrder(a.ID, models.Order{})
	again, _ := poll(t, c)
	require.Len(t, again, 2, "the new event and the last answer's again")
	h, err := again[1].Header()
	require.NoError(t, err)
	assert.Equal(t, "evt_1", h.ID)
	assert.Equal(t, 1, srv.FaultHits()[heeprtest.FaultRepeatEvents])
	noViolations(t, srv)
}
