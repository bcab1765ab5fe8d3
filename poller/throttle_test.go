package poller_test

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/heepr/heepr-go/client"
	"github.com/heepr/heepr-go/heeprtest"
	"github.com/heepr/heepr-go/poller"
)

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Identical failures are logged once a minute, not once a try.
func TestRepeatedErrorsLoggedOnceAMinute(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := heeprtest.NewServer()
		a := srv.AddAgent(heeprtest.Registered(), heeprtest.Cadence(1))
		var out syncBuffer
		logger := slog.New(slog.NewTextHandler(&out, &slog.HandlerOptions{Level: slog.LevelInfo}))
		c, err := client.New(client.WithHTTPClient(srv.HTTPClient()), client.WithAPIKey(a.APIKey),
			client.WithAgentID(a.ID), client.WithLogger(logger))
		require.NoError(t, err)
		p, err := poller.New(c, anyEvent, poller.WithoutSkillCheck(), poller.WithCadence(time.Minute))
		require.NoError(t, err)
		srv.Inject(heeprtest.Fault{Kind: heeprtest.FaultStatus, Status: 503, Path: "/events", Times: heeprtest.Forever})
		stop := started(t, p)
		time.Sleep(10 * time.Minute)
		srv.ClearFaults()
		time.Sleep(10 * time.Minute)
		require.NoError(t, stop())

		tries := p.Stats().PollErrors
		logged := strings.Count(out.String(), "poll failed")
		t.Logf("%d failed polls, %d log lines", tries, logged)
		assert.Greater(t, tries, int64(15), "it kept trying")
		assert.LessOrEqual(t, logged, 11, "at most one line a minute over ten minutes")
		assert.Contains(t, out.String(), "repeats_not_logged")
		assert.Contains(t, out.String(), "polling again")
	})
}
