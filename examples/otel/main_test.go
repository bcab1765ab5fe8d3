package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The example runs one order's life against the in-process platform, prints
// its spans, and serves its metrics, the ones docs/otel.md names included.
func TestExample(t *testing.T) {
	t.Setenv("HEEPR_BASE_URL", "")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out bytes.Buffer
	var page string
	err := run(ctx, []string{"-metrics-addr", "127.0.0.1:0"}, &out, func(metricsURL string) {
		defer cancel()
		res, err := http.Get(metricsURL)
		require.NoError(t, err)
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		require.NoError(t, err)
		page = string(b)
	})
	require.NoError(t, err)
	for _, m := range []string{
		"heepr_poller_polls_total", "heepr_poller_poll_duration_seconds_bucket", "heepr_poller_events_total",
		"heepr_poller_handler_duration_seconds_bucket", "heepr_poller_heartbeat_age_seconds", "heepr_client_retries_total",
		"heepr_client_call_duration_seconds_bucket", "heepr_client_io_bytes_total",
	} {
		assert.Contains(t, page, m)
	}
	spans := out.String()
	for _, name := range []string{`"Name": "heepr.poll"`, `"Name": "heepr.handle new_order"`, `"Name": "deliverOrder"`, `"Name": "heepr.retry"`} {
		assert.Contains(t, spans, name)
	}
	assert.NotContains(t, spans, "sk_live_", "no key in any span")
	assert.NotContains(t, spans, "bs_", "no bootstrap token in any span")
	t.Log(strings.Count(spans, `"SpanContext"`)/2, "spans printed") // each span prints its own and its parent's
}
