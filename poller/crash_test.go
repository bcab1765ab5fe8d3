package poller_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/heepr/heepr-go/client"
	"github.com/heepr/heepr-go/heeprtest"
	"github.com/heepr/heepr-go/models"
	"github.com/heepr/heepr-go/poller"
)

// The crash test runs agents as separate processes: this test binary,
// re-executed with these variables set, is an agent instead of a test run.
const (
	envChild   = "HEEPR_POLLER_CRASH_CHILD" // "hang" or "finish": what the handler does after delivering
	envJournal = "HEEPR_POLLER_CRASH_JOURNAL"
)

func child() bool {
	mode := os.Getenv(envChild)
	if mode == "" {
		return false
	}
	run := func() error { return runChild(mode) }
	if mode == "agent" {
		run = runAgent
	}
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		os.Exit(1)
	}
	os.Exit(0)
	return true
}

// runChild is an agent: it delivers each new order, says so on stdout, then
// either hangs (to be killed mid-handler) or finishes and serves until SIGTERM.
func runChild(mode string) error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	c, err := client.New(client.WithBaseURL(os.Getenv(client.EnvBaseURL)),
		client.WithAPIKey(models.APIKey(os.Getenv(client.EnvAPIKey))), client.WithAgentID(os.Getenv(client.EnvAgentID)))
	if err != nil {
		return err
	}
	p, err := poller.New(c, poller.Handlers{NewOrder: func(ctx context.Context, ev models.NewOrderEvent) error {
		if _, err := c.Deliver(ctx, ev.OrderID, client.Delivery{Text: "the work for " + ev.OrderID}); err != nil {
			return err
		}
		fmt.Printf("DELIVERED %s\n", ev.OrderID)
		if mode == "hang" {
			select {} // killed here, before the handler returns
		}
		fmt.Printf("HANDLED %s\n", ev.OrderID)
		return nil
	}}, poller.WithJournal(os.Getenv(envJournal)), poller.WithCadence(time.Hour))
	if err != nil {
		return err
	}
	return p.Run(ctx)
}

// startChild runs an agent process and returns it with its stdout lines.
func startChild(t *testing.T, ctx context.Context, mode string, env []string) (*exec.Cmd, *bufio.Scanner) {
	t.Helper()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), append(env, envChild+"="+mode)...)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	return cmd, bufio.NewScanner(out)
}

func waitLine(t *testing.T, lines *bufio.Scanner, prefix string) string {
	t.Helper()
	for lines.Scan() {
		if strings.HasPrefix(lines.Text(), prefix) {
			return lines.Text()
		}
	}
	t.Fatalf("the child ended before printing %q: %v", prefix, lines.Err())
	return ""
}

// TestCrashReplaysWithoutDoubledWrites: an agent process polls a new_order
// into its journal, delivers, and is killed with SIGKILL before its handler
// returns. A second process on the same journal handles the order again; its
// delivery carries the first attempt's idempotency key, so the platform keeps
// one delivery. Nothing lost, nothing doubled.
func TestCrashReplaysWithoutDoubledWrites(t *testing.T) {
	if testing.Short() {
		t.Skip("runs agent processes")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	srv := heeprtest.NewServer()
	defer srv.Close()
	a := srv.AddAgent(heeprtest.Registered())
	order := srv.PlaceOrder(a.ID, models.Order{})
	journal := t.TempDir()
	env := []string{
		client.EnvBaseURL + "=" + srv.URL(), client.EnvAPIKey + "=" + a.APIKey.Reveal(),
		client.EnvAgentID + "=" + a.ID, envJournal + "=" + journal,
	}

	first, lines := startChild(t, ctx, "hang", env)
	assert.Equal(t, "DELIVERED "+order, waitLine(t, lines, "DELIVERED"))
	require.NoError(t, first.Process.Kill()) // SIGKILL: no defer, no cleanup, no goodbye
	_ = first.Wait()
	require.Len(t, srv.Deliveries(order), 1, "the first attempt landed")
	left, _ := filepath.Glob(filepath.Join(journal, "pending", "*.jsonl"))
	require.Len(t, left, 1, "the event survived the kill in the journal")

	second, lines := startChild(t, ctx, "finish", env)
	assert.Equal(t, "HANDLED "+order, waitLine(t, lines, "HANDLED"))
	require.NoError(t, second.Process.Signal(syscall.SIGTERM))
	require.NoError(t, second.Wait(), "a clean stop")

	ds := srv.Deliveries(order)
	require.Len(t, ds, 1, "nothing doubled")
	var attempts []heeprtest.Request
	for _, r := range srv.Requests() {
		if r.Path == "/api/orders/"+order+"/deliver" {
			attempts = append(attempts, r)
		}
	}
	require.Len(t, attempts, 2, "one delivery per process")
	assert.Equal(t, attempts[0].IdempotencyKey, attempts[1].IdempotencyKey, "the replay repeats the key")
	assert.False(t, attempts[0].Replayed)
	assert.True(t, attempts[1].Replayed, "the platform answered the second from the first")
	left, _ = filepath.Glob(filepath.Join(journal, "pending", "*.jsonl"))
	assert.Empty(t, left, "done with it")
	polls := 0
	for _, r := range srv.Requests() {
		if r.Path == "/api/events" {
			polls++
		}
	}
	assert.Equal(t, 2, polls, "each process polled once; the second found nothing new")
	assert.Empty(t, srv.Violations())
}
