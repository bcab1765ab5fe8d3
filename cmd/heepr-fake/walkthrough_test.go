package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/heepr/heepr-go/client"
)

// lockedBuffer is a bytes.Buffer a child process writes to while the test reads it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// buildFake builds heepr-fake into a temporary directory, once per test.
func buildFake(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := filepath.Join(t.TempDir(), "heepr-fake")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	require.NoError(t, err, "%s", out)
	return bin
}

// cli runs a heepr-fake command to its end and returns its stdout, its
// stderr and its exit code.
func cli(t *testing.T, bin string, args ...string) (string, string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute) // deliveries -wait 90s fits
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if ee, ok := errors.AsType[*exec.ExitError](err); ok {
		code = ee.ExitCode()
	} else {
		require.NoError(t, err)
	}
	return stdout.String(), stderr.String(), code
}

// The README's "Run your agent locally", step by step against the binaries:
// start the fake, take the variables it prints, run examples/minimal built as
// a binary with them, place an order as the README's curl line does and one
// with an attachment with the order command, watch the deliveries arrive with
// the deliveries command and the control route, stop the agent and the fake,
// and read the fake's summary.
//
// The minimal agent cannot be woken: it polls at start, then within the
// one-minute cadence (the first wait is anything from a second to the
// cadence). The orders are placed once its first poll is seen, so its second
// poll takes both, up to a minute later.
func TestWalkthrough(t *testing.T) {
	bin := buildFake(t)
	agentBin := filepath.Join(t.TempDir(), "minimal")
	build := exec.Command("go", "build", "-o", agentBin, "./examples/minimal")
	build.Dir = filepath.Join("..", "..") // the README's commands run from the repository's root
	out, err := build.CombinedOutput()
	require.NoError(t, err, "%s", out)

	var stderr lockedBuffer
	fake := exec.Command(bin, "-addr", "127.0.0.1:0", "-orders", "0", "-cadence", "1")
	fake.Stderr = &stderr
	stdout, err := fake.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, fake.Start())
	exited := false
	t.Cleanup(func() {
		if !exited {
			_ = fake.Process.Kill()
			_ = fake.Wait()
		}
	})

	// 1. Start the fake and read what it prints, up to the dashboard's URL.
	lines := bufio.NewScanner(stdout)
	env := map[string]string{}
	var exports []string
	var root string
	for lines.Scan() {
		line := lines.Text()
		if k, v, ok := strings.Cut(strings.TrimPrefix(line, "export "), "="); ok && strings.HasPrefix(line, "export ") {
			env[k] = v
			exports = append(exports, k+"="+v)
			continue
		}
		require.True(t, strings.HasPrefix(line, "# "), "every other line is a shell comment: %q", line)
		if m := regexp.MustCompile(`^# dashboard at (http://127\.0\.0\.1:\d+)/$`).FindStringSubmatch(line); m != nil {
			root = m[1]
			break
		}
	}
	require.NotEmpty(t, root, "the dashboard line; stderr: %s", stderr.String())
	require.Equal(t, root+"/api", env[client.EnvBaseURL])
	require.Equal(t, "agt_1", env[client.EnvAgentID])
	require.Regexp(t, `^bs_[0-9a-f]{32}$`, env[client.EnvBootstrapToken])
	require.Len(t, exports, 3)
	rest := make(chan string, 1)
	go func() {
		b, _ := io.ReadAll(stdout)
		rest <- string(b)
	}()

	// 2. In "another shell", with the three export lines and no other HEEPR_
	//    variable, run examples/minimal: it keeps its key and journal in its
	//    working directory.
	dir := t.TempDir()
	var agentLog lockedBuffer
	agent := exec.Command(agentBin)
	agent.Dir = dir
	agent.Stdout, agent.Stderr = &agentLog, &agentLog
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "HEEPR_") {
			agent.Env = append(agent.Env, kv)
		}
	}
	agent.Env = append(agent.Env, exports...)
	require.NoError(t, agent.Start())
	agentDone := false
	t.Cleanup(func() {
		if !agentDone {
			_ = agent.Process.Kill()
			_ = agent.Wait()
		}
	})
	firstPoll(t, root, &agentLog)

	// 3. Place an order as the README's curl line does (curl -d sends it as a
	//    form; the route reads JSON whatever the type), and one with an
	//    attachment with the order command: its id alone on the last line.
	res, err := http.Post(root+"/_fake/orders", "application/x-www-form-urlencoded",
		strings.NewReader(`{"agent_id": "agt_1", "brief": "a haiku about the sea"}`))
	require.NoError(t, err)
	var placed struct {
		OrderID string `json:"order_id"`
		EventID string `json:"event_id"`
	}
	require.Equal(t, http.StatusCreated, res.StatusCode)
	require.NoError(t, json.NewDecoder(res.Body).Decode(&placed))
	require.NoError(t, res.Body.Close())
	curlOrder := placed.OrderID
	assert.Regexp(t, `^ord_[0-9a-z]{6}_1$`, curlOrder)
	assert.Regexp(t, `^evt_[0-9a-z]{6}_1$`, placed.EventID)

	att := filepath.Join(t.TempDir(), "sea.png")
	require.NoError(t, os.WriteFile(att, []byte("\x89PNG\r\n\x1a\n the sea"), 0o600))
	out2, errOut, code := cli(t, bin, "order", "-fake", root, "-agent", "agt_1", "-brief", "describe this picture", "-attach", att)
	require.Equal(t, 0, code, "%s", errOut)
	outLines := strings.Split(strings.TrimSpace(out2), "\n")
	order := outLines[len(outLines)-1]
	assert.Regexp(t, `^ord_[0-9a-z]{6}_2$`, order)
	assert.Contains(t, out2, "attachment att_1 sea.png 16 bytes")

	// 4. Watch the deliveries arrive on the agent's next poll, within the
	//    cadence: with the deliveries command, and with the control route.
	out3, errOut, code := cli(t, bin, "deliveries", "-fake", root, "-order", order, "-wait", "90s")
	require.Equal(t, 0, code, "%s\nthe agent's log:\n%s", errOut, agentLog.String())
	assert.Regexp(t, `^dlv_[0-9a-z]{6}_\d+ for `+order+` from agt_1 at `, out3)
	assert.Contains(t, out3, "text: Done: describe this picture")

	var got struct {
		Deliveries []struct {
			ID      string `json:"id"`
			OrderID string `json:"order_id"`
			Text    string `json:"text"`
		} `json:"deliveries"`
	}
	deadline := time.Now().Add(30 * time.Second) // the same poll took both orders
	for {
		status, body := send(t, "GET", root+"/_fake/deliveries?order_id="+curlOrder, "", "")
		require.Equal(t, http.StatusOK, status, "%s", body)
		require.NoError(t, json.Unmarshal(body, &got), "%s", body)
		if len(got.Deliveries) > 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	require.Len(t, got.Deliveries, 1, "the agent's log:\n%s", agentLog.String())
	assert.Regexp(t, `^dlv_[0-9a-z]{6}_\d+$`, got.Deliveries[0].ID)
	assert.Equal(t, curlOrder, got.Deliveries[0].OrderID)
	assert.Equal(t, "Done: a haiku about the sea", got.Deliveries[0].Text)

	// Stop the agent as Ctrl-C does: a clean stop, exit 0, its key and
	// journal where it ran.
	require.NoError(t, agent.Process.Signal(syscall.SIGINT))
	require.NoError(t, agent.Wait(), "the agent's log:\n%s", agentLog.String())
	agentDone = true
	for _, name := range []string{client.DefaultKeyFile, ".heepr-journal"} {
		_, err := os.Stat(filepath.Join(dir, name))
		assert.NoError(t, err, name)
	}

	// 5. Stop the fake: a summary, exit 0.
	require.NoError(t, fake.Process.Signal(syscall.SIGINT))
	require.NoError(t, fake.Wait())
	exited = true
	assert.Contains(t, <-rest, "# heepr-fake stopped: 1 agents, 2 orders, 2 deliveries, 0 declines, 0 flags, 0 violations")
}

// firstPoll waits for the agent's first poll in the fake's request log: a GET
// /api/events answered 200.
func firstPoll(t *testing.T, root string, agentLog *lockedBuffer) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		status, body := send(t, "GET", root+"/_fake/requests", "", "")
		require.Equal(t, http.StatusOK, status, "%s", body)
		var log struct {
			Requests []loggedRequest `json:"requests"`
		}
		require.NoError(t, json.Unmarshal(body, &log), "%s", body)
		for _, r := range log.Requests {
			if r.Method == http.MethodGet && r.Path == "/api/events" && r.Status == http.StatusOK {
				return
			}
		}
		require.True(t, time.Now().Before(deadline), "no poll from the agent within 30s; its log:\n%s", agentLog.String())
		time.Sleep(100 * time.Millisecond)
	}
}

// The command behaves: -h exits 0 everywhere, bad flags say what is wrong, a
// taken port says so, and every command reaches the fake.
func TestCommandLine(t *testing.T) {
	bin := buildFake(t)
	for _, args := range [][]string{
		{"-h"}, {"serve", "-h"}, {"order", "-h"}, {"deliveries", "-h"}, {"reset", "-h"}, {"skill", "-h"}, {"fault", "-h"},
		{"faults-clear", "-h"}, {"declines", "-h"}, {"flags", "-h"}, {"progress", "-h"}, {"statuses", "-h"}, {"requests", "-h"},
		{"violations", "-h"},
	} {
		_, errOut, code := cli(t, bin, args...)
		assert.Equal(t, 0, code, "%v: %s", args, errOut)
		assert.Contains(t, errOut, "Usage: heepr-fake")
		assert.NotContains(t, errOut, "help requested")
	}
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"-cadence", "500"}, "1 to 60"},
		{[]string{"-cadence", "0"}, "1 to 60"},
		{[]string{"-agents", "0"}, "at least one agent"},
		{[]string{"-run-id", "a_b"}, "letters and digits"},
		{[]string{"nope"}, `no command "nope"`},
		{[]string{"order", "-brief", "x"}, "-agent is required"},
		{[]string{"cadence", "-agent", "agt_1", "-minutes", "61"}, "1 to 60"},
		{[]string{"reset", "-fake", "http://127.0.0.1:1"}, "is heepr-fake running at http://127.0.0.1:1"},
		// Flags are refused before any request: no fake listens at port 1.
		{[]string{"fault", "-fake", "http://127.0.0.1:1", "-kind", "latency"}, "-latency 0: the latency kind waits 1 to 300000 ms"},
		{[]string{"fault", "-fake", "http://127.0.0.1:1", "-kind", "nope"}, `no fault kind "nope": -kind is one of `},
		{[]string{"fault", "-fake", "http://127.0.0.1:1", "-op", "pollEvents", "-path", "/events"}, `give "-op" or "-method" and "-path", not both`},
		{[]string{"fault", "-fake", "http://127.0.0.1:1", "-op", "nope"}, `no operation "nope": -op is "*" or one of `},
		{[]string{"fault", "-fake", "http://127.0.0.1:1", "-retry-after", "5", "-kind", "truncate"}, "-retry-after and -code are for the status kind, not truncate"},
		{[]string{"skill", "-fake", "http://127.0.0.1:1", "-text", "x"}, "-file is required"},
		{[]string{"skill", "-fake", "http://127.0.0.1:1", "-file", "skill.json", "-text", "x"}, "skill.json follows from them"},
		{[]string{"skill", "-fake", "http://127.0.0.1:1", "-file", "RULES.md"}, "give one of -from and -text"},
		{[]string{"skill", "-fake", "http://127.0.0.1:1", "-file", "RULES.md", "-from", "nope.md"}, "-from: open nope.md"},
		{[]string{"requests", "-fake", "http://127.0.0.1:1", "-since", "-1"}, "-since -1: want the seq"},
	} {
		out, errOut, code := cli(t, bin, tt.args...)
		assert.Equal(t, 1, code, "%v", tt.args)
		assert.Contains(t, errOut, tt.want, "%v", tt.args)
		assert.NotContains(t, out, "export", "%v: no hint for an agent that is not there", tt.args)
	}

	// A port in use, said plainly.
	var first bytes.Buffer
	fake := exec.Command(bin, "-addr", "127.0.0.1:0", "-agents", "2")
	stdout, err := fake.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, fake.Start())
	t.Cleanup(func() {
		_ = fake.Process.Signal(syscall.SIGINT)
		_ = fake.Wait()
	})
	lines := bufio.NewScanner(stdout)
	var root string
	for lines.Scan() {
		first.WriteString(lines.Text() + "\n")
		if m := regexp.MustCompile(`^# dashboard at (http://(127\.0\.0\.1:\d+))/$`).FindStringSubmatch(lines.Text()); m != nil {
			root = m[1]
			break
		}
	}
	require.NotEmpty(t, root, first.String())
	go func() { _, _ = io.Copy(io.Discard, stdout) }()
	_, errOut, code := cli(t, bin, "-addr", strings.TrimPrefix(root, "http://"))
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "is in use")
	assert.NotContains(t, errOut, "violation")

	// Each command against the running fake prints the ids it made.
	run := func(args ...string) string {
		t.Helper()
		out, errOut, code := cli(t, bin, append(args[:1:1], append([]string{"-fake", root}, args[1:]...)...)...)
		require.Equal(t, 0, code, "%v: %s", args, errOut)
		return out
	}
	tokenOf := regexp.MustCompile(`^export HEEPR_AGENT_ID=(\S+)\nexport HEEPR_BOOTSTRAP_TOKEN=(bs_[0-9a-f]{32})\n$`)
	register := func(out string) {
		t.Helper()
		m := tokenOf.FindStringSubmatch(out)
		require.NotNil(t, m, out)
		status, body := send(t, "POST", root+"/api/agent/register", "Bootstrap "+m[2], `{"agent_id":"`+m[1]+`"}`)
		require.Equal(t, 200, status, "%s", body)
	}
	register(run("agent", "-id", "agt_desk", "-cadence", "5", "-manual"))
	register(run("token", "-agent", "agt_2"))
	assert.Equal(t, "agt_2 key revoked\n", run("revoke", "-agent", "agt_2"))
	assert.Equal(t, "agt_desk key expired\n", run("expire", "-agent", "agt_desk"))
	assert.Equal(t, "agt_desk cadence 7 minutes\n", run("cadence", "-agent", "agt_desk", "-minutes", "7"))

	out := strings.Split(strings.TrimSpace(run("order", "-agent", "agt_desk", "-brief", "b", "-price", "250", "-tier", "premium", "-revisions", "1")), "\n")
	order := out[len(out)-1]
	eventLine := regexp.MustCompile(`(?m)^(evt_[0-9a-z]{6}_\d+)$`)
	for _, args := range [][]string{
		{"approve", "-order", order, "-note", "go"},
		{"revision", "-order", order, "-brief", "more"},
		{"scope", "-order", order, "-scope", "two haiku", "-deadline", "2030-01-02T03:04:05Z"},
		{"deny", "-order", order},
	} {
		assert.Regexp(t, eventLine, run(args...), "%v", args)
	}
	assert.Equal(t, "no deliveries yet\n", run("deliveries", "-order", order))
	assert.JSONEq(t, `{"deliveries":[]}`, run("deliveries", "-json"))

	_, errOut, code = cli(t, bin, "revoke", "-fake", root, "-agent", "agt_1")
	assert.Equal(t, 1, code, "no live key yet")
	assert.Contains(t, errOut, "409 conflict: agent agt_1 has no live key to revoke")
	_, errOut, code = cli(t, bin, "expire", "-fake", root, "-agent", "agt_404")
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, `no agent "agt_404"`)
	readouts(t, bin, root, run)

	assert.Contains(t, run("reset"), "reset")
	_, errOut, code = cli(t, bin, "deliveries", "-fake", root, "-order", order)
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "no order")
	assert.JSONEq(t, `{"declines":[]}`, run("declines", "-json"))
}

// readouts drives the skill, fault and read-out commands against a running
// fake whose agt_1 has no live key yet: agt_1 registers and acts through the
// API, and each command prints what came of it.
func readouts(t *testing.T, bin, root string, run func(args ...string) string) {
	t.Helper()
	lastLine := func(out string) string {
		lines := strings.Split(strings.TrimSpace(out), "\n")
		return lines[len(lines)-1]
	}
	at := `\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)`

	// A skill file, from text and from a file: the hash alone on the last line.
	assert.Equal(t, "RULES.md published for every agent; its content_hash:\n"+sha256Hex([]byte("be kind"))+"\n",
		run("skill", "-file", "RULES.md", "-text", "be kind"))
	skill := filepath.Join(t.TempDir(), "SKILL.md")
	require.NoError(t, os.WriteFile(skill, []byte("# Skill\n\nDeliver haiku.\n"), 0o600))
	assert.Equal(t, sha256Hex([]byte("# Skill\n\nDeliver haiku.\n")), lastLine(run("skill", "-file", "SKILL.md", "-from", skill)))
	_, errOut, code := cli(t, bin, "skill", "-fake", root, "-file", "nope.md", "-text", "x")
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, `-file "nope.md"`)

	// agt_1 registers, and reports progress, pauses, declines and flags.
	m := regexp.MustCompile(`(?m)^export HEEPR_BOOTSTRAP_TOKEN=(bs_[0-9a-f]{32})$`).FindStringSubmatch(run("token", "-agent", "agt_1"))
	require.NotNil(t, m)
	status, body := send(t, "POST", root+"/api/agent/register", "Bootstrap "+m[1], `{"agent_id":"agt_1"}`)
	require.Equal(t, 200, status, "%s", body)
	var reg struct {
		APIKey string `json:"api_key"`
	}
	require.NoError(t, json.Unmarshal(body, &reg))
	key := "Bearer " + reg.APIKey
	o1 := lastLine(run("order", "-agent", "agt_1", "-brief", "one"))
	o2 := lastLine(run("order", "-agent", "agt_1", "-brief", "two"))
	o3 := lastLine(run("order", "-agent", "agt_1", "-brief", "three"))
	for _, call := range []struct{ path, body string }{
		{"/api/status", `{"order_id":"` + o1 + `","progress":{"percent":40,"message":"drafting"}}`},
		{"/api/status", `{"status":"paused"}`},
		{"/api/orders/" + o2 + "/decline", `{"reason":"capacity","message":"busy"}`},
		{"/api/orders/" + o3 + "/flag", `{"reason":"illegal"}`},
	} {
		status, body := send(t, "POST", root+call.path, key, call.body)
		require.Equal(t, 200, status, "%s: %s", call.path, body)
	}
	status, _ = send(t, "POST", root+"/api/status", key, `{"status":42}`)
	require.Equal(t, 400, status, "a request that breaks the spec")

	assert.Regexp(t, `^`+o2+` declined: capacity at `+at+`\n  message: busy\n$`, run("declines"))
	assert.Equal(t, "no declines yet\n", run("declines", "-order", o1))
	assert.Regexp(t, `^`+o3+` flagged: illegal at `+at+`\n$`, run("flags", "-order", o3))
	assert.Regexp(t, `^`+o1+` 40% at `+at+`\n  message: drafting\n$`, run("progress", "-order", o1))
	assert.Equal(t, "no progress yet\n", run("progress", "-order", o2))
	assert.Regexp(t, `^agt_1 paused at `+at+`\n$`, run("statuses", "-agent", "agt_1"))
	assert.Regexp(t, `^request violation POST /api/status \(req_\w+\) at `+at+`\n  error: \S`, run("violations"))
	_, errOut, code = cli(t, bin, "statuses", "-fake", root, "-agent", "agt_404")
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, `no agent "agt_404"`)

	// -json prints the route's answer as it is.
	for _, tt := range []struct {
		args []string
		key  string
		want map[string]any
	}{
		{[]string{"declines", "-json", "-order", o2}, "declines", map[string]any{"order_id": o2, "reason": "capacity", "message": "busy"}},
		{[]string{"flags", "-json"}, "flags", map[string]any{"order_id": o3, "reason": "illegal"}},
		{[]string{"progress", "-json", "-order", o1}, "progress", map[string]any{"order_id": o1, "percent": 40.0, "message": "drafting"}},
		{[]string{"statuses", "-json"}, "statuses", map[string]any{"agent_id": "agt_1", "status": "paused"}},
		{[]string{"violations", "-json"}, "violations", map[string]any{"kind": "request", "method": "POST", "path": "/api/status"}},
	} {
		var got map[string][]map[string]any
		require.NoError(t, json.Unmarshal([]byte(run(tt.args...)), &got), "%v", tt.args)
		require.Len(t, got[tt.key], 1, "%v", tt.args)
		for k, v := range tt.want {
			assert.Equal(t, v, got[tt.key][0][k], "%v: %s", tt.args, k)
		}
		assert.Contains(t, got[tt.key][0], "created_at", "%v", tt.args)
	}

	// A fault, seen in the request log (it answers before the key is read, so no
	// agent shows); others cleared before they fail anything.
	assert.Equal(t, "fault status on GET /events (pollEvents), once\n", run("fault", "-op", "pollEvents", "-status", "503", "-retry-after", "30"))
	status, _ = send(t, "GET", root+"/api/events", key, "")
	assert.Equal(t, 503, status)
	out := run("requests")
	assert.Regexp(t, `(?m)^\d+ `+at+` GET /api/events 503 - req_\w+ [\d.]+ms fault:status$`, out)
	next := regexp.MustCompile(`\Anext (\d+)\z`).FindStringSubmatch(lastLine(out))
	require.NotNil(t, next, out)
	assert.Equal(t, "no requests after seq "+next[1]+"\nnext "+next[1]+"\n", run("requests", "-since", next[1]))
	var log struct {
		Requests []loggedRequest `json:"requests"`
		Next     int             `json:"next"`
	}
	require.NoError(t, json.Unmarshal([]byte(run("requests", "-json")), &log))
	assert.Equal(t, next[1], strconv.Itoa(log.Next))
	assert.Equal(t, "fault latency on POST /orders/{id}/deliver, every time\n",
		run("fault", "-kind", "latency", "-latency", "5", "-method", "post", "-path", "/orders/{id}/deliver", "-times", "-1"))
	assert.Equal(t, "fault non-json on every request, 2 times\n", run("fault", "-kind", "non-json", "-times", "2"))
	assert.Equal(t, "faults cleared: those not yet used up are gone\n", run("faults-clear"))
	status, body = send(t, "GET", root+"/api/events", key, "")
	assert.Equal(t, 200, status, "%s", body)
}
