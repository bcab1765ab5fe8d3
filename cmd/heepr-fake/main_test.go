package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestServesSeededAgents(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out, w := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := run(ctx, []string{"-addr", "127.0.0.1:0", "-agents", "2", "-cadence", "5"}, w, io.Discard)
		w.Close()
		done <- err
	}()

	lines := bufio.NewScanner(out)
	require.True(t, lines.Scan())
	url := regexp.MustCompile(`http://127\.0\.0\.1:\d+/api`).FindString(lines.Text())
	require.NotEmpty(t, url, lines.Text())
	tokens := map[string]string{}
	for range 2 {
		require.True(t, lines.Scan())
		f := strings.Fields(lines.Text()) // agent <id> bootstrap token <token>
		require.Len(t, f, 5, lines.Text())
		tokens[f[1]] = f[4]
	}
	go func() { _, _ = io.Copy(io.Discard, out) }()

	req, err := http.NewRequest(http.MethodPost, url+"/agent/register", strings.NewReader(`{"agent_id":"agt_2"}`))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bootstrap "+tokens["agt_2"])
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	assert.Equal(t, http.StatusOK, res.StatusCode, "%s", body)
	assert.Contains(t, string(body), `"api_key":"sk_live_`)

	cancel()
	assert.NoError(t, <-done)
}

func TestRefusesBadFlags(t *testing.T) {
	assert.Error(t, run(context.Background(), []string{"-agents", "-1"}, io.Discard, io.Discard))
	assert.Error(t, run(context.Background(), []string{"-nope"}, io.Discard, io.Discard))
}
