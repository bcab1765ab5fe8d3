package heeprtest_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/heepr/heepr-go/client/raw"
	"github.com/heepr/heepr-go/heeprtest"
	"github.com/heepr/heepr-go/models"
)

// base is the production base URL: the in-memory client reaches the fake
// whatever the host.
const base = "https://heepr.ai/api"

// rawClient is the generated client over the fake's in-memory transport,
// sending auth as given ("" sends none).
func rawClient(t testing.TB, srv *heeprtest.Server, auth string) *raw.ClientWithResponses {
	t.Helper()
	c, err := raw.NewClientWithResponses(base,
		raw.WithHTTPClient(srv.HTTPClient()),
		raw.WithRequestEditorFn(func(_ context.Context, req *http.Request) error {
			if auth != "" {
				req.Header.Set("Authorization", auth)
			}
			return nil
		}))
	require.NoError(t, err)
	return c
}

// registered adds an agent and registers it, returning the agent and a client
// that sends its bearer key.
func registered(t testing.TB, srv *heeprtest.Server, opts ...heeprtest.AgentOption) (heeprtest.Agent, *raw.ClientWithResponses) {
	t.Helper()
	a := srv.AddAgent(opts...)
	res, err := rawClient(t, srv, "Bootstrap "+a.BootstrapToken.Reveal()).
		RegisterAgentWithResponse(context.Background(), &raw.RegisterAgentParams{}, models.RegisterRequest{AgentID: a.ID})
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, res.StatusCode(), "%s", res.Body)
	return a, rawClient(t, srv, "Bearer "+res.JSON200.APIKey.Reveal())
}

// envelope decodes an error answer and checks its shape.
func envelope(t testing.TB, status int, body []byte, wantStatus int, wantCode models.ErrorCode) models.ErrorDetail {
	t.Helper()
	assert.Equal(t, wantStatus, status, "%s", body)
	var env models.ErrorEnvelope
	require.NoError(t, json.Unmarshal(body, &env), "not the envelope: %s", body)
	assert.Equal(t, wantCode, env.Error.Code, env.Error.Message)
	assert.NotEmpty(t, env.Error.Message)
	assert.True(t, strings.HasPrefix(env.Error.RequestID, "req_"), env.Error.RequestID)
	return env.Error
}

// poll polls and returns the decoded events and the raw body.
func poll(t testing.TB, c *raw.ClientWithResponses) ([]models.Event, string) {
	t.Helper()
	res, err := c.PollEventsWithResponse(context.Background())
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, res.StatusCode(), "%s", res.Body)
	return res.JSON200.Events, string(res.Body)
}

// do sends a request the generated client would not build, for tests of what
// the fake does with bad input.
func do(t testing.TB, srv *heeprtest.Server, method, path, auth, contentType, body string) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, base+path, strings.NewReader(body))
	require.NoError(t, err)
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	res, err := srv.HTTPClient().Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return res.StatusCode, res.Header, b
}

func noViolations(t testing.TB, srv *heeprtest.Server) {
	t.Helper()
	assert.Empty(t, srv.Violations())
}

// regexpKey finds an API key in a register answer.
var regexpKey = regexp.MustCompile(`sk_live_[0-9a-f]{32}`)

// valueAs reads ev as its kind and requires that kind to be T's.
func valueAs[T models.EventVariant](t testing.TB, ev models.Event) T {
	t.Helper()
	v, err := ev.Value()
	require.NoError(t, err)
	got, ok := v.(T)
	require.Truef(t, ok, "the event is a %T, not a %T", v, got)
	return got
}
