package client_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	heepr "github.com/heepr/heepr-go"
	"github.com/heepr/heepr-go/client"
	herrors "github.com/heepr/heepr-go/errors"
	"github.com/heepr/heepr-go/heeprtest"
	"github.com/heepr/heepr-go/models"
)

func TestNewRefusesUnsafeConfig(t *testing.T) {
	tests := []struct {
		name    string
		opts    []client.Option
		wantErr string
	}{
		{"plain http off loopback", []client.Option{client.WithBaseURL("http://heepr.example/api")}, "clear text"},
		{"relative", []client.Option{client.WithBaseURL("/api")}, "absolute"},
		{"other scheme", []client.Option{client.WithBaseURL("ftp://heepr.ai/api")}, "absolute"},
		{"credentials in URL", []client.Option{client.WithBaseURL("https://u:p@heepr.ai/api")}, "credentials"},
		{"nil http client", []client.Option{client.WithHTTPClient(nil)}, "nil"},
		{"negative retries", []client.Option{client.WithRetry(client.RetryPolicy{MaxAttempts: -1})}, "MaxAttempts"},
		{"zero body cap", []client.Option{client.WithMaxResponseBytes(0)}, "positive"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := client.New(tt.opts...)
			assert.Nil(t, c)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.wantErr)
			assert.NotContains(t, err.Error(), "u:p", "no credentials in an error")
		})
	}

	for _, ok := range []string{"http://127.0.0.1:8080/api", "http://localhost/api", "http://[::1]:9/api", "https://heepr.ai/api/"} {
		c, err := client.New(client.WithBaseURL(ok))
		require.NoError(t, err, ok)
		assert.Equal(t, strings.TrimSuffix(ok, "/"), c.BaseURL())
	}
	c, err := client.New(client.WithBaseURL("http://10.0.0.2/api"), client.WithInsecureHTTP())
	require.NoError(t, err)
	assert.Equal(t, client.DefaultBaseURL, must(client.New()).BaseURL())
	_ = c
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// Every operation's happy path, asserting what the fake received.
func TestOperations(t *testing.T) {
	srv, a, c := registered(t, client.WithUserAgent("my-agent/1.0"))
	ctx := context.Background()

	reg := requestsTo(srv, "/api/agent/register")
	require.Len(t, reg, 1)
	assert.Equal(t, "Bootstrap "+a.BootstrapToken.Reveal(), reg[0].Header.Get("Authorization"))
	assert.Regexp(t, `^hk-[A-Za-z0-9]{20,}$`, reg[0].IdempotencyKey, "register sends a key: a lost answer would burn the token")
	assert.Equal(t, a.ID, c.AgentID())
	assert.Regexp(t, `^sk_live_`, c.APIKey().Reveal())

	t.Run("skill", func(t *testing.T) {
		s, err := c.Skill(ctx)
		require.NoError(t, err)
		st, _ := srv.Agent(a.ID)
		assert.Equal(t, st.ContentHash, s.ContentHash)
		r := lastRequest(t, srv)
		assert.Equal(t, "Bearer "+c.APIKey().Reveal(), r.Header.Get("Authorization"))
		assert.Equal(t, "heepr-go/"+heepr.Version+" my-agent/1.0", r.Header.Get("User-Agent"))
	})
	t.Run("skill file and manifest", func(t *testing.T) {
		b, err := c.SkillFile(ctx, models.SkillFileNameRulesMD)
		require.NoError(t, err)
		assert.Contains(t, string(b), "# RULES")
		assert.Equal(t, "/api/agents/"+a.ID+"/skill/RULES.md", lastRequest(t, srv).Path)
		m, err := c.SkillManifest(ctx)
		require.NoError(t, err)
		assert.Equal(t, client.DefaultPollIntervalMinutes, m.PollIntervalMinutes)
		sum := sha256.Sum256(b)
		assert.Equal(t, hex.EncodeToString(sum[:]), m.Files["RULES.md"])
	})
	t.Run("events", func(t *testing.T) {
		events, err := c.Events(ctx)
		require.NoError(t, err)
		assert.NotNil(t, events)
		assert.Empty(t, events, "idle: an empty slice, no error")
		ord := srv.PlaceOrder(a.ID, models.Order{Brief: "a haiku"})
		events, err = c.Events(ctx)
		require.NoError(t, err)
		require.Len(t, events, 1)
		h, err := events[0].Header()
		require.NoError(t, err)
		assert.Equal(t, ord, h.OrderID)
		st, _ := srv.Agent(a.ID)
		assert.True(t, st.Online)
	})
	t.Run("deliver", func(t *testing.T) {
		ord := srv.PlaceOrder(a.ID, models.Order{})
		r, err := c.Deliver(ctx, ord, client.Delivery{Message: "done", Text: "the sea", Links: []string{"https://example.com/a"}})
		require.NoError(t, err)
		assert.Equal(t, ord, r.OrderID)
		assert.Equal(t, models.DeliveryStatePendingReview, r.State)
		ds := srv.Deliveries(ord)
		require.Len(t, ds, 1)
		assert.Equal(t, models.DeliveryPayload{Message: "done", Text: "the sea", Links: []string{"https://example.com/a"}}, ds[0].Payload)
		assert.Regexp(t, `^hk-`, ds[0].IdempotencyKey)
		assert.Equal(t, "application/json", lastRequest(t, srv).Header.Get("Content-Type"))
	})
	noViolations(t, srv)
}

// Bad input is refused before any request, with an error that says what.
func TestInputRefusedBeforeAnyRequest(t *testing.T) {
	srv, a, c := registered(t)
	ctx := context.Background()
	before := len(srv.Requests())
	tests := []struct {
		name    string
		call    func() error
		wantErr string
	}{
		{"register without token", func() error { _, err := c.Register(ctx, "", a.ID); return err }, "empty bootstrap token"},
		{"register without agent", func() error { _, err := c.Register(ctx, "bs_x", ""); return err }, "empty agent id"},
		{"deliver nothing", func() error { _, err := c.Deliver(ctx, "ord_1", client.Delivery{}); return err }, "empty delivery"},
		{"deliver without order", func() error { _, err := c.Deliver(ctx, "", client.Delivery{Text: "x"}); return err }, "empty order id"},
		{"decline without reason", func() error { _, err := c.Decline(ctx, "ord_1", client.DeclineParams{}); return err }, "DeclineParams.Reason is empty"},
		{"flag without reason", func() error { _, err := c.Flag(ctx, "ord_1", client.FlagParams{}); return err }, "FlagParams.Reason is empty"},
		{"flag without order", func() error {
			_, err := c.Flag(ctx, "", client.FlagParams{Reason: models.FlagReasonOther})
			return err
		}, "order id"},
		{"progress over 100", func() error {
			_, err := c.ReportProgress(ctx, "ord_1", client.ProgressParams{Percent: 101})
			return err
		}, "ProgressParams.Percent 101 is outside 0 to 100"},
		{"progress under 0", func() error {
			_, err := c.ReportProgress(ctx, "ord_1", client.ProgressParams{Percent: -1})
			return err
		}, "ProgressParams.Percent -1 is outside 0 to 100"},
		{"empty status", func() error { _, err := c.SetStatus(ctx, client.StatusParams{}); return err }, "StatusParams.Status is empty"},
		{"owned header", func() error {
			_, err := c.SetStatus(ctx, client.StatusParams{Status: models.AgentStatusActive}, client.WithHeader("Authorization", "Bearer x"))
			return err
		}, "WithHeader: Authorization is the client's own header"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.wantErr)
			assert.ErrorIs(t, err, client.ErrInvalidArgument, "no retry can mend it")
		})
	}
	assert.Len(t, srv.Requests(), before, "no request made")

	anon := newClient(t, srv)
	_, err := anon.Events(ctx)
	assert.ErrorIs(t, err, client.ErrNoAPIKey)
	_, err = anon.SkillManifest(ctx)
	assert.ErrorIs(t, err, client.ErrNoAgentID)
	assert.Len(t, srv.Requests(), before)
}

// Every error code the platform can answer comes back as its sentinel and an
// *APIError wrapped with the operation's name.
func TestErrorCodesMapped(t *testing.T) {
	codes := []struct {
		code     models.ErrorCode
		status   int
		sentinel error
	}{
		{models.ErrorCodeBootstrapUnknown, 401, herrors.ErrBootstrapUnknown},
		{models.ErrorCodeBootstrapUsed, 401, herrors.ErrBootstrapUsed},
		{models.ErrorCodeBootstrapExpired, 401, herrors.ErrBootstrapExpired},
		{models.ErrorCodeActiveKeyExists, 409, herrors.ErrActiveKeyExists},
		{models.ErrorCodeKeyExpired, 401, herrors.ErrKeyExpired},
		{models.ErrorCodeKeyRevoked, 401, herrors.ErrKeyRevoked},
		{models.ErrorCodeUnauthorized, 401, herrors.ErrUnauthorized},
		{models.ErrorCodeForbidden, 403, herrors.ErrForbidden},
		{models.ErrorCodeNotFound, 404, herrors.ErrNotFound},
		{models.ErrorCodeInvalidRequest, 400, herrors.ErrInvalidRequest},
		{models.ErrorCodeConflict, 409, herrors.ErrConflict},
		{models.ErrorCodeRateLimited, 429, herrors.ErrRateLimited},
		{models.ErrorCodeInternalError, 500, herrors.ErrInternal},
		{models.ErrorCodeUnavailable, 503, herrors.ErrUnavailable},
	}
	srv, _, c := registered(t, client.WithRetry(client.RetryPolicy{MaxAttempts: 1}))
	for _, tt := range codes {
		t.Run(string(tt.code), func(t *testing.T) {
			srv.Inject(heeprtest.Fault{Kind: heeprtest.FaultStatus, Status: tt.status, Code: tt.code, Path: "/skill"})
			_, err := c.Skill(context.Background())
			require.Error(t, err)
			assert.ErrorIs(t, err, tt.sentinel)
			var apiErr *herrors.APIError
			require.ErrorAs(t, err, &apiErr)
			assert.Equal(t, tt.status, apiErr.StatusCode)
			assert.Equal(t, tt.code, apiErr.Code)
			assert.Equal(t, lastRequest(t, srv).ID, apiErr.RequestID)
			assert.True(t, strings.HasPrefix(err.Error(), "skill: "), err.Error())
		})
	}

	// And from the fake's real state, not a scripted fault.
	a := srv.AddAgent()
	_, err := c.Register(context.Background(), "bs_wrong", a.ID)
	assert.ErrorIs(t, err, herrors.ErrBootstrapUnknown)
	assert.NotContains(t, err.Error(), "bs_wrong", "no token in an error")
	_, err = c.Deliver(context.Background(), "ord_404", client.Delivery{Text: "x"})
	assert.ErrorIs(t, err, herrors.ErrNotFound)
	assert.Contains(t, err.Error(), "deliver ord_404: ")
	noViolations(t, srv)
}

func TestBoundedReads(t *testing.T) {
	srv, a, c := registered(t, client.WithMaxResponseBytes(200))
	for range 5 {
		srv.PlaceOrder(a.ID, models.Order{})
	}
	_, err := c.Events(context.Background())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "exceeds 200 bytes")
	_, err = c.SkillFile(context.Background(), models.SkillFileNameSkillMD)
	assert.Contains(t, err.Error(), "exceeds 200 bytes")
	noViolations(t, srv)
}

// A 2xx answer that is not JSON is an error, not a panic or a zero value.
func TestNonJSONSuccess(t *testing.T) {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		assert.Equal(t, "/api/events", r.URL.Path)
		w.Header().Set("Content-Type", "text/html")
		_, _ = w.Write([]byte("<html>hello</html>"))
	}))
	defer ts.Close()
	c, err := client.New(client.WithBaseURL(ts.URL+"/api"), client.WithAPIKey("sk_live_whatever0"))
	require.NoError(t, err)
	_, err = c.Events(context.Background())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "decode 200 response")
	assert.False(t, errors.Is(err, context.Canceled))
}
