package heeprtest_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/heepr/heepr-go/client/raw"
	"github.com/heepr/heepr-go/heeprtest"
	"github.com/heepr/heepr-go/models"
)

func register(t *testing.T, srv *heeprtest.Server, token models.BootstrapToken, agentID string) (int, []byte, *models.Registration) {
	t.Helper()
	res, err := rawClient(t, srv, "Bootstrap "+token.Reveal()).
		RegisterAgentWithResponse(context.Background(), &raw.RegisterAgentParams{}, models.RegisterRequest{AgentID: agentID})
	require.NoError(t, err)
	return res.StatusCode(), res.Body, res.JSON200
}

func TestRegister(t *testing.T) {
	tests := []struct {
		name string
		// setup returns the token and agent id to register with.
		setup      func(srv *heeprtest.Server) (models.BootstrapToken, string)
		wantStatus int
		wantCode   models.ErrorCode
	}{
		{
			name: "fresh token",
			setup: func(srv *heeprtest.Server) (models.BootstrapToken, string) {
				a := srv.AddAgent()
				return a.BootstrapToken, a.ID
			},
			wantStatus: http.StatusOK,
		},
		{
			name: "unknown token",
			setup: func(srv *heeprtest.Server) (models.BootstrapToken, string) {
				a := srv.AddAgent()
				return "bs_nope", a.ID
			},
			wantStatus: http.StatusUnauthorized, wantCode: models.ErrorCodeBootstrapUnknown,
		},
		{
			name: "token of another agent",
			setup: func(srv *heeprtest.Server) (models.BootstrapToken, string) {
				a, b := srv.AddAgent(), srv.AddAgent()
				return a.BootstrapToken, b.ID
			},
			wantStatus: http.StatusUnauthorized, wantCode: models.ErrorCodeBootstrapUnknown,
		},
		{
			name: "token reused",
			setup: func(srv *heeprtest.Server) (models.BootstrapToken, string) {
				a := srv.AddAgent()
				st, _, _ := register(t, srv, a.BootstrapToken, a.ID)
				require.Equal(t, http.StatusOK, st)
				srv.RevokeKey(a.ID) // even with no live key, a used token stays used
				return a.BootstrapToken, a.ID
			},
			wantStatus: http.StatusUnauthorized, wantCode: models.ErrorCodeBootstrapUsed,
		},
		{
			name: "active key exists",
			setup: func(srv *heeprtest.Server) (models.BootstrapToken, string) {
				a := srv.AddAgent()
				st, _, _ := register(t, srv, a.BootstrapToken, a.ID)
				require.Equal(t, http.StatusOK, st)
				return srv.IssueBootstrapToken(a.ID), a.ID
			},
			wantStatus: http.StatusConflict, wantCode: models.ErrorCodeActiveKeyExists,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := heeprtest.NewServer()
			token, id := tt.setup(srv)
			status, body, reg := register(t, srv, token, id)
			if tt.wantStatus == http.StatusOK {
				require.Equal(t, http.StatusOK, status, "%s", body)
				assert.Equal(t, id, reg.AgentID)
				assert.Regexp(t, `^sk_live_[0-9a-f]{32}$`, reg.APIKey.Reveal())
				st, ok := srv.Agent(id)
				require.True(t, ok)
				assert.True(t, st.LiveKey)
			} else {
				envelope(t, status, body, tt.wantStatus, tt.wantCode)
			}
			noViolations(t, srv)
		})
	}
}

// The 409 must not burn the token: once the owner revokes the live key, the
// same token registers.
func TestRegisterConflictLeavesTokenUnused(t *testing.T) {
	srv := heeprtest.NewServer()
	a := srv.AddAgent()
	status, _, first := register(t, srv, a.BootstrapToken, a.ID)
	require.Equal(t, http.StatusOK, status)

	spare := srv.IssueBootstrapToken(a.ID)
	status, body, _ := register(t, srv, spare, a.ID)
	envelope(t, status, body, http.StatusConflict, models.ErrorCodeActiveKeyExists)

	require.True(t, srv.RevokeKey(a.ID))
	status, body, second := register(t, srv, spare, a.ID)
	require.Equal(t, http.StatusOK, status, "%s", body)
	assert.NotEqual(t, first.APIKey, second.APIKey)

	// The old key is revoked, the new one works.
	res, err := rawClient(t, srv, "Bearer "+first.APIKey.Reveal()).GetSkillWithResponse(context.Background())
	require.NoError(t, err)
	envelope(t, res.StatusCode(), res.Body, http.StatusUnauthorized, models.ErrorCodeKeyRevoked)
	res, err = rawClient(t, srv, "Bearer "+second.APIKey.Reveal()).GetSkillWithResponse(context.Background())
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, res.StatusCode())
	noViolations(t, srv)
}

func TestBootstrapExpiresUnderFakeTime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := heeprtest.NewServer()
		early, late := srv.AddAgent(), srv.AddAgent()

		time.Sleep(heeprtest.BootstrapTTL - time.Second)
		status, body, _ := register(t, srv, early.BootstrapToken, early.ID)
		assert.Equal(t, http.StatusOK, status, "%s", body)

		time.Sleep(time.Second)
		status, body, _ = register(t, srv, late.BootstrapToken, late.ID)
		envelope(t, status, body, http.StatusUnauthorized, models.ErrorCodeBootstrapExpired)
		noViolations(t, srv)
	})
}

func TestKeyStates(t *testing.T) {
	tests := []struct {
		name     string
		act      func(srv *heeprtest.Server, id string)
		auth     func(key string) string
		wantCode models.ErrorCode
	}{
		{"revoked", func(srv *heeprtest.Server, id string) { srv.RevokeKey(id) }, nil, models.ErrorCodeKeyRevoked},
		{"expired", func(srv *heeprtest.Server, id string) { srv.ExpireKey(id) }, nil, models.ErrorCodeKeyExpired},
		{"unknown", func(*heeprtest.Server, string) {}, func(string) string { return "Bearer sk_live_unknown" }, models.ErrorCodeUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := heeprtest.NewServer()
			a := srv.AddAgent()
			_, _, reg := register(t, srv, a.BootstrapToken, a.ID)
			tt.act(srv, a.ID)
			auth := "Bearer " + reg.APIKey.Reveal()
			if tt.auth != nil {
				auth = tt.auth(reg.APIKey.Reveal())
			}
			res, err := rawClient(t, srv, auth).PollEventsWithResponse(context.Background())
			require.NoError(t, err)
			envelope(t, res.StatusCode(), res.Body, http.StatusUnauthorized, tt.wantCode)
			noViolations(t, srv)
		})
	}
}

func TestIdlePollIsExactlyEmptyObject(t *testing.T) {
	srv := heeprtest.NewServer()
	_, c := registered(t, srv)
	events, body := poll(t, c)
	assert.Empty(t, events)
	assert.Equal(t, "{}\n", body)
	noViolations(t, srv)
}

func TestEventsDrainOnNextPoll(t *testing.T) {
	srv := heeprtest.NewServer()
	a, c := registered(t, srv)
	ord := srv.PlaceOrder(a.ID, models.Order{Brief: "a haiku"})
	require.Equal(t, "ord_1", ord)
	assert.Equal(t, "evt_2", srv.ChangeScope(ord, models.ScopeChangeEvent{Scope: "two haiku"}))

	events, _ := poll(t, c)
	require.Len(t, events, 2)
	h0, err := events[0].Header()
	require.NoError(t, err)
	h1, err := events[1].Header()
	require.NoError(t, err)
	assert.Equal(t, []string{"evt_1", "evt_2"}, []string{h0.ID, h1.ID}, "oldest first")
	assert.Equal(t, models.EventKindNewOrder, h0.Kind)
	no := valueAs[models.NewOrderEvent](t, events[0])
	assert.Equal(t, "a haiku", no.Order.Brief)
	assert.NotEmpty(t, no.Rules, "work-assignment events echo the rules")

	_, body := poll(t, c)
	assert.Equal(t, "{}\n", body, "the next poll drains what the last returned")
	noViolations(t, srv)
}

func TestOnlineWindow(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := heeprtest.NewServer()
		a, c := registered(t, srv)
		st, _ := srv.Agent(a.ID)
		assert.False(t, st.Online, "never polled")

		poll(t, c)
		st, _ = srv.Agent(a.ID)
		assert.True(t, st.Online)
		assert.Equal(t, time.Now(), st.LastPoll)

		time.Sleep(models.OnlineWindow - time.Second)
		st, _ = srv.Agent(a.ID)
		assert.True(t, st.Online, "polled 59m59s ago")

		time.Sleep(time.Second)
		st, _ = srv.Agent(a.ID)
		assert.False(t, st.Online, "polled an hour ago")

		// Another request is not a heartbeat: only GET /events is.
		_, err := c.GetSkillWithResponse(context.Background())
		require.NoError(t, err)
		st, _ = srv.Agent(a.ID)
		assert.False(t, st.Online)
		noViolations(t, srv)
	})
}

func TestSkillPackage(t *testing.T) {
	srv := heeprtest.NewServer()
	a, c := registered(t, srv)
	ctx := context.Background()

	hash := func() string {
		res, err := c.GetSkillWithResponse(ctx)
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, res.StatusCode())
		assert.Contains(t, res.JSON200.Body, "heepr agent skill")
		return res.JSON200.ContentHash
	}
	manifest := func() models.SkillManifest {
		res, err := c.GetSkillFileWithResponse(ctx, a.ID, models.SkillFileNameSkillJSON)
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, res.StatusCode(), "%s", res.Body)
		return *res.JSON200
	}

	h0 := hash()
	assert.Equal(t, h0, hash(), "stable while nothing changes")
	m := manifest()
	assert.Equal(t, models.DefaultCadence, time.Duration(m.PollIntervalMinutes)*time.Minute)
	assert.Len(t, m.Files, 4)

	require.True(t, srv.SetCadence(a.ID, 5))
	h1 := hash()
	assert.NotEqual(t, h0, h1, "skill.json is part of the package")
	assert.Equal(t, 5, manifest().PollIntervalMinutes)

	require.True(t, srv.PublishSkill(models.SkillFileNameRulesMD, "# RULES\n\nBe kind.\n"))
	h2 := hash()
	assert.NotEqual(t, h1, h2)
	rulesHash := manifest().Files["RULES.md"]

	res, err := c.GetSkillFileWithResponse(ctx, a.ID, models.SkillFileNameRulesMD)
	require.NoError(t, err)
	assert.Equal(t, "text/markdown", res.HTTPResponse.Header.Get("Content-Type"))
	assert.Equal(t, "# RULES\n\nBe kind.\n", string(res.Body))
	sum := sha256.Sum256(res.Body)
	assert.Equal(t, hex.EncodeToString(sum[:]), rulesHash, "skill.json carries each file's SHA-256")

	assert.False(t, srv.PublishSkill(models.SkillFileNameSkillJSON, "{}"), "skill.json is written by the fake")
	require.Len(t, srv.Violations(), 1)
	assert.Equal(t, heeprtest.ViolationControl, srv.Violations()[0].Kind)
}

func TestSkillFileOfAnotherAgent(t *testing.T) {
	srv := heeprtest.NewServer()
	_, c := registered(t, srv)
	other := srv.AddAgent()
	res, err := c.GetSkillFileWithResponse(context.Background(), other.ID, models.SkillFileNameAPIMD)
	require.NoError(t, err)
	envelope(t, res.StatusCode(), res.Body, http.StatusForbidden, models.ErrorCodeForbidden)
	res, err = c.GetSkillFileWithResponse(context.Background(), "agt_404", models.SkillFileNameAPIMD)
	require.NoError(t, err)
	envelope(t, res.StatusCode(), res.Body, http.StatusNotFound, models.ErrorCodeNotFound)
	noViolations(t, srv)
}

func TestURLStartsListenerOnFirstCall(t *testing.T) {
	srv := heeprtest.NewServer()
	defer srv.Close()
	a := srv.AddAgent()

	u := srv.URL()
	require.Regexp(t, `^http://127\.0\.0\.1:\d+/api$`, u)
	assert.Equal(t, u, srv.URL(), "one listener")

	req, err := http.NewRequest(http.MethodPost, u+"/agent/register", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bootstrap "+a.BootstrapToken.Reveal())
	req.Header.Set("Content-Type", "application/json")
	req.Body = io.NopCloser(strings.NewReader(`{"agent_id":"` + a.ID + `"}`))
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	assert.Equal(t, http.StatusOK, res.StatusCode)
	assert.NotEmpty(t, res.Header.Get("X-Request-Id"))
	noViolations(t, srv)

	srv.Close()
	srv.Close() // twice is fine
}

func TestRequestLog(t *testing.T) {
	srv := heeprtest.NewServer()
	a, c := registered(t, srv)
	poll(t, c)
	reqs := srv.Requests()
	require.Len(t, reqs, 2)
	assert.Equal(t, "req_1", reqs[0].ID)
	assert.Equal(t, "/api/agent/register", reqs[0].Path)
	assert.Equal(t, a.ID, reqs[0].AgentID)
	assert.Equal(t, http.MethodGet, reqs[1].Method)
	assert.Equal(t, "/api/events", reqs[1].Path)
	assert.Equal(t, http.StatusOK, reqs[1].Status)
	assert.Contains(t, reqs[1].Header.Get("Authorization"), "Bearer sk_live_")
}

func TestRegisteredAgent(t *testing.T) {
	srv := heeprtest.NewServer()
	a := srv.AddAgent(heeprtest.Registered())
	require.NotEmpty(t, a.APIKey)
	_, body := poll(t, rawClient(t, srv, "Bearer "+a.APIKey.Reveal()))
	assert.Equal(t, "{}\n", body)
	status, body2, _ := register(t, srv, a.BootstrapToken, a.ID)
	envelope(t, status, body2, http.StatusUnauthorized, models.ErrorCodeBootstrapUsed)
	noViolations(t, srv)
}

// SkillFileName is an open set: a name the package lacks passes the spec and
// is the handler's 404, not a violation.
func TestUnknownSkillFile(t *testing.T) {
	srv := heeprtest.NewServer()
	a := srv.AddAgent(heeprtest.Registered())
	bearer := "Bearer " + a.APIKey.Reveal()
	for _, file := range []string{"secrets.txt", "skill.JSON", "rules.md", "..%2Fskill.json"} {
		t.Run(file, func(t *testing.T) {
			status, _, body := do(t, srv, http.MethodGet, "/agents/"+a.ID+"/skill/"+file, bearer, "", "")
			detail := envelope(t, status, body, http.StatusNotFound, models.ErrorCodeNotFound)
			assert.Contains(t, detail.Message, "SKILL.md", "the answer names the files there are")
		})
	}
	noViolations(t, srv)
}

// content_hash is written as the spec writes every hash: the bare hex SHA-256,
// 64 lowercase hex digits, like skill.json's per-file hashes (no "sha256:").
func TestContentHashIsBareHex(t *testing.T) {
	tests := []struct {
		name   string
		change func(srv *heeprtest.Server, id string)
	}{
		{"as added", func(*heeprtest.Server, string) {}},
		{"after a cadence change", func(srv *heeprtest.Server, id string) { srv.SetCadence(id, 7) }},
		{"after a new SKILL.md", func(srv *heeprtest.Server, _ string) { srv.PublishSkill(models.SkillFileNameSkillMD, "# new\n") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := heeprtest.NewServer()
			a := srv.AddAgent(heeprtest.Registered())
			tt.change(srv, a.ID)
			res, err := rawClient(t, srv, "Bearer "+a.APIKey.Reveal()).GetSkillWithResponse(context.Background())
			require.NoError(t, err)
			require.Equal(t, http.StatusOK, res.StatusCode(), "%s", res.Body)
			assert.Regexp(t, `^[0-9a-f]{64}$`, res.JSON200.ContentHash)
			st, ok := srv.Agent(a.ID)
			require.True(t, ok)
			assert.Equal(t, res.JSON200.ContentHash, st.ContentHash, "the snapshot shows what GET /skill answers")
			noViolations(t, srv)
		})
	}
}

// Close right after URL, many times over: the goroutine URL starts must not
// read the server's fields that Close clears (it once dereferenced a nil
// *http.Server), and Close must wait for it. Run it under -race:
//
//	go test -race -run TestURLThenCloseInALoop ./heeprtest
func TestURLThenCloseInALoop(t *testing.T) {
	for range 50 {
		srv := heeprtest.NewServer()
		require.NotEmpty(t, srv.URL())
		srv.Close()
		assert.Empty(t, srv.URL(), "no listener after Close")
	}
	// Close from another goroutine while URL is starting one.
	for range 20 {
		srv := heeprtest.NewServer()
		done := make(chan struct{})
		go func() {
			defer close(done)
			srv.URL()
		}()
		srv.Close()
		<-done
		srv.Close()
	}
}

// WithRunID puts the run's id into order, event and delivery ids, never into
// agent ids; without it ids are the same on every run.
func TestWithRunID(t *testing.T) {
	tests := []struct {
		name, runID                 string
		wantOrder, wantEvent, wantD string
		wantViolations              int
	}{
		{"none", "", "ord_1", "evt_1", "dlv_1", 0},
		{"given", "r7x", "ord_r7x_1", "evt_r7x_1", "dlv_r7x_1", 0},
		{"not letters and digits: dropped", "a_b", "ord_1", "evt_1", "dlv_1", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := heeprtest.NewServer(heeprtest.WithRunID(tt.runID))
			a := srv.AddAgent(heeprtest.Registered())
			assert.Equal(t, "agt_1", a.ID)
			order := srv.PlaceOrder(a.ID, models.Order{})
			assert.Equal(t, tt.wantOrder, order)
			c := srv.HTTPClient()
			req, err := http.NewRequest(http.MethodGet, "http://fake/api/events", nil)
			require.NoError(t, err)
			req.Header.Set("Authorization", "Bearer "+a.APIKey.Reveal())
			res, err := c.Do(req)
			require.NoError(t, err)
			body, err := io.ReadAll(res.Body)
			res.Body.Close()
			require.NoError(t, err)
			assert.Contains(t, string(body), `"id":"`+tt.wantEvent+`"`)
			req, err = http.NewRequest(http.MethodPost, "http://fake/api/orders/"+order+"/deliver", strings.NewReader(`{"text":"t"}`))
			require.NoError(t, err)
			req.Header.Set("Authorization", "Bearer "+a.APIKey.Reveal())
			req.Header.Set("Content-Type", "application/json")
			res, err = c.Do(req)
			require.NoError(t, err)
			res.Body.Close()
			require.Len(t, srv.Deliveries(order), 1)
			assert.Equal(t, tt.wantD, srv.Deliveries(order)[0].ID)
			assert.Len(t, srv.Violations(), tt.wantViolations)
		})
	}
}
