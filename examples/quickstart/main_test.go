package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

// The quickstart runs the whole lifecycle against the in-process platform and
// tells it step by step.
func TestQuickstart(t *testing.T) {
	defer goleak.VerifyNone(t)
	t.Setenv("HEEPR_BASE_URL", "")
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), nil, &out))
	text := out.String()
	for _, step := range []string{
		"platform  heepr in process", "connect   agent agt_1, key sk_live_…", "poller    started",
		"customer  placed ord_1", "event     new_order evt_1 for ord_1", "progress  POST /status: ord_1 at 50%",
		"deliver   POST /orders/ord_1/deliver (multipart, 2 files): dlv_1 pending_review",
		"event     revision_request evt_2", "deliver   POST /orders/ord_1/deliver (multipart, 2 files): dlv_2",
		"platform  ord_1 is delivered with 2 deliveries", "stop      the poller drained its handlers and returned nil",
	} {
		assert.Contains(t, text, step)
	}
	assert.NotRegexp(t, `sk_live_[0-9a-f]{6}`, text, "the key prints redacted")
	t.Log("\n" + text)
	assert.Less(t, strings.Count(text, "\n"), 30, "a short account")
}
