package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	heepr "github.com/heepr/heepr-go"
	"github.com/heepr/heepr-go/models"
)

// fake runs heepr-fake on a free loopback port until the test ends, and
// returns its API's base URL and each seeded agent's bootstrap token.
func fake(t *testing.T, agents int, args ...string) (string, map[string]string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out, w := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := run(ctx, append([]string{"-addr", "127.0.0.1:0", "-agents", strconv.Itoa(agents)}, args...), w, io.Discard)
		w.Close()
		done <- err
	}()
	t.Cleanup(func() {
		cancel()
		assert.NoError(t, <-done)
	})

	lines := bufio.NewScanner(out)
	require.True(t, lines.Scan())
	url := regexp.MustCompile(`http://127\.0\.0\.1:\d+/api`).FindString(lines.Text())
	require.NotEmpty(t, url, lines.Text())
	tokens := map[string]string{}
	for range agents {
		require.True(t, lines.Scan())
		f := strings.Fields(lines.Text()) // # agent <id> bootstrap token <token>
		require.Len(t, f, 6, lines.Text())
		tokens[f[2]] = f[5]
	}
	go func() { _, _ = io.Copy(io.Discard, out) }()
	return url, tokens
}

// send makes one request over the socket and returns status and body.
func send(t *testing.T, method, url, auth, body string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	require.NoError(t, err)
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return res.StatusCode, b
}

func code(t *testing.T, body []byte) models.ErrorCode {
	t.Helper()
	var env models.ErrorEnvelope
	require.NoError(t, json.Unmarshal(body, &env), "%s", body)
	return env.Error.Code
}

func TestServesSeededAgents(t *testing.T) {
	url, tokens := fake(t, 2, "-cadence", "5")
	status, body := send(t, http.MethodPost, url+"/agent/register", "Bootstrap "+tokens["agt_2"], `{"agent_id":"agt_2"}`)
	assert.Equal(t, http.StatusOK, status, "%s", body)
	assert.Contains(t, string(body), `"api_key":"sk_live_`)

	status, body = send(t, http.MethodGet, url+"/openapi.yaml", "", "")
	assert.Equal(t, http.StatusOK, status)
	assert.Equal(t, heepr.OpenAPI(), body)
}

// Over a real socket, the control API makes each state an agent must handle,
// at runtime: active_key_exists, bootstrap_used, key_revoked, key_expired.
func TestRuntimeStates(t *testing.T) {
	url, tokens := fake(t, 2)
	origin := strings.TrimSuffix(url, "/api")
	key := func(agent string) string {
		status, body := send(t, http.MethodPost, url+"/agent/register", "Bootstrap "+tokens[agent], `{"agent_id":"`+agent+`"}`)
		require.Equal(t, http.StatusOK, status, "%s", body)
		var reg models.Registration
		require.NoError(t, json.Unmarshal(body, &reg))
		return reg.APIKey.Reveal()
	}
	k1, k2 := key("agt_1"), key("agt_2")

	status, body := send(t, http.MethodPost, url+"/agent/register", "Bootstrap "+tokens["agt_1"], `{"agent_id":"agt_1"}`)
	assert.Equal(t, http.StatusUnauthorized, status)
	assert.Equal(t, models.ErrorCodeBootstrapUsed, code(t, body), "a redeemed token")

	status, body = send(t, http.MethodPost, origin+"/_fake/agents/agt_1/token", "", "")
	require.Equal(t, http.StatusCreated, status, "%s", body)
	var fresh struct {
		BootstrapToken string `json:"bootstrap_token"`
	}
	require.NoError(t, json.Unmarshal(body, &fresh))
	status, body = send(t, http.MethodPost, url+"/agent/register", "Bootstrap "+fresh.BootstrapToken, `{"agent_id":"agt_1"}`)
	assert.Equal(t, http.StatusConflict, status)
	assert.Equal(t, models.ErrorCodeActiveKeyExists, code(t, body), "a fresh token while the key lives")

	status, _ = send(t, http.MethodPost, origin+"/_fake/agents/agt_1/revoke", "", "")
	require.Equal(t, http.StatusOK, status)
	status, body = send(t, http.MethodGet, url+"/events", "Bearer "+k1, "")
	assert.Equal(t, http.StatusUnauthorized, status)
	assert.Equal(t, models.ErrorCodeKeyRevoked, code(t, body))
	status, body = send(t, http.MethodPost, url+"/agent/register", "Bootstrap "+fresh.BootstrapToken, `{"agent_id":"agt_1"}`)
	assert.Equal(t, http.StatusOK, status, "the token the 409 left unspent registers now: %s", body)

	status, _ = send(t, http.MethodPost, origin+"/_fake/agents/agt_2/expire", "", "")
	require.Equal(t, http.StatusOK, status)
	status, body = send(t, http.MethodGet, url+"/skill", "Bearer "+k2, "")
	assert.Equal(t, http.StatusUnauthorized, status)
	assert.Equal(t, models.ErrorCodeKeyExpired, code(t, body))
}

// The two routes tests outside this repository use, over a real socket:
// place an order, see it polled, deliver, read the delivery back.
func TestContractRoutes(t *testing.T) {
	url, tokens := fake(t, 1, "-orders", "0")
	origin := strings.TrimSuffix(url, "/api")
	status, body := send(t, http.MethodPost, url+"/agent/register", "Bootstrap "+tokens["agt_1"], `{"agent_id":"agt_1"}`)
	require.Equal(t, http.StatusOK, status, "%s", body)
	var reg models.Registration
	require.NoError(t, json.Unmarshal(body, &reg))
	bearer := "Bearer " + reg.APIKey.Reveal()

	status, body = send(t, http.MethodPost, origin+"/_fake/orders", "", `{"agent_id": "agt_1", "brief": "a haiku about the sea"}`)
	require.Equal(t, http.StatusCreated, status, "%s", body)
	var placed struct {
		OrderID string `json:"order_id"`
	}
	require.NoError(t, json.Unmarshal(body, &placed))
	require.NotEmpty(t, placed.OrderID)

	status, body = send(t, http.MethodGet, origin+"/_fake/deliveries?order_id="+placed.OrderID, "", "")
	require.Equal(t, http.StatusOK, status, "%s", body)
	assert.JSONEq(t, `{"deliveries": []}`, string(body))

	status, body = send(t, http.MethodGet, url+"/events", bearer, "")
	require.Equal(t, http.StatusOK, status, "%s", body)
	assert.Contains(t, string(body), `"kind":"new_order"`)
	assert.Contains(t, string(body), `"brief":"a haiku about the sea"`)

	status, body = send(t, http.MethodPost, url+"/orders/"+placed.OrderID+"/deliver", bearer, `{"text":"Grey waves fold on sand"}`)
	require.Equal(t, http.StatusAccepted, status, "%s", body)
	status, body = send(t, http.MethodGet, origin+"/_fake/deliveries?order_id="+placed.OrderID, "", "")
	require.Equal(t, http.StatusOK, status, "%s", body)
	var got struct {
		Deliveries []map[string]any `json:"deliveries"`
	}
	require.NoError(t, json.Unmarshal(body, &got), "%s", body)
	require.Len(t, got.Deliveries, 1)
	d := got.Deliveries[0]
	assert.Regexp(t, `^dlv_[0-9a-z]+_1$`, d["id"], "a delivery id of this run")
	assert.Equal(t, placed.OrderID, d["order_id"])
	assert.Equal(t, "Grey waves fold on sand", d["text"])
	assert.Equal(t, []any{}, d["files"])
}

// -h says what heepr-fake serves beside the API, the control routes included.
func TestUsage(t *testing.T) {
	var stderr bytes.Buffer
	err := run(context.Background(), []string{"-h"}, io.Discard, &stderr)
	require.True(t, errors.Is(err, flag.ErrHelp), "%v", err)
	for _, want := range []string{
		"GET /api/openapi.yaml",
		"POST   /_fake/agents ", "POST   /_fake/agents/{id}/token", "POST   /_fake/agents/{id}/revoke",
		"POST   /_fake/agents/{id}/expire", "PUT    /_fake/agents/{id}/cadence", "PUT    /_fake/skill/{file}",
		"POST   /_fake/orders ", "POST   /_fake/orders/{id}/revision", "POST   /_fake/orders/{id}/approve",
		"POST   /_fake/orders/{id}/deny", "POST   /_fake/orders/{id}/scope", "POST   /_fake/faults",
		"DELETE /_fake/faults", "GET    /_fake/deliveries?order_id=", "GET    /_fake/deliveries/{id}/files/{name}",
		"/_fake/declines?order_id=", "/_fake/flags?order_id=", "/_fake/progress?order_id=", "/_fake/statuses?agent_id=",
		"GET    /_fake/requests?since=N", "GET    /_fake/violations", "POST   /_fake/reset",
		"order      -agent ID -brief TEXT", "deliveries [-order ID]",
		"-control-remote", "loopback",
	} {
		assert.Contains(t, stderr.String(), want)
	}
}

func TestRefusesBadFlags(t *testing.T) {
	assert.Error(t, run(context.Background(), []string{"-agents", "-1"}, io.Discard, io.Discard))
	assert.Error(t, run(context.Background(), []string{"-nope"}, io.Discard, io.Discard))
}

// docs/fake.md shows each command beside its route, and names no command
// heepr-fake does not have; -h lists each.
func TestDocsNameEveryCommand(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "fake.md"))
	require.NoError(t, err)
	_, routes, ok := strings.Cut(string(doc), "### heepr-fake: the control API")
	require.True(t, ok)
	_, routes, ok = strings.Cut(routes, "```sh\n")
	require.True(t, ok)
	routes, _, _ = strings.Cut(routes, "```")
	named := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)heepr-fake ([a-z][a-z|-]*)(?: |$)`).FindAllStringSubmatch(routes, -1) {
		for _, name := range strings.Split(m[1], "|") {
			named[name] = true
		}
	}
	for name := range commands {
		assert.True(t, named[name], "docs/fake.md shows no heepr-fake %s", name)
		assert.Regexp(t, `(?m)^  `+regexp.QuoteMeta(name)+` `, commandsUsage, "-h lists %s", name)
	}
	for name := range named {
		_, ok := commands[name]
		assert.True(t, ok, "docs/fake.md names heepr-fake %s, which is no command", name)
	}
}
