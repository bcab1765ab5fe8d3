package heeprtest_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/heepr/heepr-go/heeprtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// recorder is a testing.TB that keeps what New's cleanup reports.
type recorder struct {
	testing.TB
	errs     []string
	cleanups []func()
}

func (r *recorder) Helper()                        {}
func (r *recorder) Cleanup(f func())               { r.cleanups = append(r.cleanups, f) }
func (r *recorder) Errorf(format string, a ...any) { r.errs = append(r.errs, format) }
func (r *recorder) runCleanups() {
	for i := len(r.cleanups) - 1; i >= 0; i-- {
		r.cleanups[i]()
	}
}

func TestNew_cleanupReportsViolationsAndCloses(t *testing.T) {
	r := &recorder{TB: t}
	srv := heeprtest.New(r)
	base := srv.URL()
	require.NotEmpty(t, base)
	// A body that is not JSON on a JSON operation is a request violation.
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, base+"/status", strings.NewReader("{not json"))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer sk_live_nobody0000000000")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.NotEmpty(t, srv.Violations(), "the fake records the bad request")

	r.runCleanups()
	assert.Len(t, r.errs, len(srv.Violations()), "one Errorf per violation")
	assert.Empty(t, srv.URL(), "the cleanup closed the server")
}

func TestNew_cleanTestReportsNothing(t *testing.T) {
	r := &recorder{TB: t}
	srv := heeprtest.New(r)
	agent := srv.AddAgent()
	require.NotEmpty(t, agent.ID)
	r.runCleanups()
	assert.Empty(t, r.errs)
}
