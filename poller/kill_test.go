package poller_test

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"sync"
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

// runAgent is a long-lived agent process for the kill test: it prints a line
// at each point of its life the test may kill it at, polls when it gets
// SIGUSR1, and stops cleanly on SIGTERM.
func runAgent() error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	usr1 := make(chan os.Signal, 1)
	signal.Notify(usr1, syscall.SIGUSR1)
	defer signal.Stop(usr1)
	var out sync.Mutex
	say := func(format string, args ...any) {
		out.Lock()
		defer out.Unlock()
		fmt.Printf(format+"\n", args...)
	}
	c, err := client.New(client.WithBaseURL(os.Getenv(client.EnvBaseURL)),
		client.WithAPIKey(models.APIKey(os.Getenv(client.EnvAPIKey))), client.WithAgentID(os.Getenv(client.EnvAgentID)))
	if err != nil {
		return err
	}
	p, err := poller.New(c, poller.Handlers{NewOrder: func(ctx context.Context, ev models.NewOrderEvent) error {
		say("START %s", ev.OrderID)
		if _, err := c.Deliver(ctx, ev.OrderID, client.Delivery{Text: "the work for " + ev.OrderID}); err != nil {
			return err
		}
		say("DELIVERED %s", ev.OrderID)
		return nil
	}}, poller.WithJournal(os.Getenv(envJournal)), poller.WithCadence(time.Hour), poller.WithoutSkillCheck(),
		poller.WithOnPoll(func(_ context.Context, r poller.PollResult) { say("POLLED %d", r.Events) }))
	if err != nil {
		return err
	}
	go func() {
		for {
			select {
			case <-usr1:
				p.Wake()
			case <-ctx.Done():
				return
			}
		}
	}()
	say("READY")
	return p.Run(ctx)
}

// proc is one agent process and the lines it prints.
type proc struct {
	cmd   *exec.Cmd
	lines chan string
}

func spawn(t *testing.T, ctx context.Context, env []string) *proc {
	t.Helper()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), append(env, envChild+"=agent")...)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	p := &proc{cmd: cmd, lines: make(chan string, 64)}
	go func() {
		defer close(p.lines)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			p.lines <- sc.Text()
		}
	}()
	require.Equal(t, "READY", <-p.lines)
	return p
}

// until reads p's lines until one starts with prefix; false if p ended first.
func (p *proc) until(prefix string) bool {
	for line := range p.lines {
		if strings.HasPrefix(line, prefix) {
			return true
		}
	}
	return false
}

func (p *proc) kill() {
	_ = p.cmd.Process.Kill()
	for range p.lines { // drain, so the reader goroutine ends
	}
	_ = p.cmd.Wait()
}

// TestKillAgentsAtRandomPoints runs several agent processes against a loopback
// fake, kills them with SIGKILL at random points of their lives (idle between
// polls, as a handler starts, right after its delivery landed), restarts each
// on its journal, and checks that every order reaches exactly one delivery.
func TestKillAgentsAtRandomPoints(t *testing.T) {
	if testing.Short() {
		t.Skip("runs agent processes")
	}
	seed := uint64(time.Now().UnixNano())
	t.Logf("kill test seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 7))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	srv := heeprtest.NewServer()
	defer srv.Close()
	url := srv.URL()

	const agents, orders = 4, 24
	env := make([][]string, agents)
	procs := make([]*proc, agents)
	for i := range agents {
		a := srv.AddAgent(heeprtest.Registered())
		env[i] = []string{client.EnvBaseURL + "=" + url, client.EnvAPIKey + "=" + a.APIKey.Reveal(),
			client.EnvAgentID + "=" + a.ID, envJournal + "=" + t.TempDir()}
		procs[i] = spawn(t, ctx, env[i])
	}
	ids := srv.Agents()

	// Kill points: BEFORE the agent polls the order (idle between polls),
	// at the START of its handler (the event is in the journal, no work done),
	// right after it DELIVERED (the write landed, the handler has not
	// returned). Each order is waited for before the next, so no kill lands
	// mid-poll: a poll's answer lost after the platform sent it is the one
	// loss no client can prevent (the platform drains what it answers).
	points := []string{"", "BEFORE", "START", "DELIVERED"}
	kills := map[string]int{}
	var placed []string
	for range orders {
		i := rng.IntN(agents)
		point := points[rng.IntN(len(points))]
		if point == "BEFORE" {
			// Killed first, the order placed after: a poll the wake of an
			// earlier order left in flight must not be the one cut off.
			procs[i].kill()
		}
		ord := srv.PlaceOrder(ids[i], models.Order{})
		placed = append(placed, ord)
		if point != "BEFORE" {
			require.NoError(t, procs[i].cmd.Process.Signal(syscall.SIGUSR1))
			if point == "" {
				require.True(t, procs[i].until("DELIVERED "+ord), "order %s", ord)
				continue
			}
			require.True(t, procs[i].until(point+" "+ord), "order %s", ord)
			procs[i].kill()
		}
		kills[point]++
		procs[i] = spawn(t, ctx, env[i]) // on the same journal
		require.NoError(t, procs[i].cmd.Process.Signal(syscall.SIGUSR1))
		// The killed process may have finished with the event before the
		// signal landed (then its delivery is on the platform and the journal
		// says so); else the new process replays it from the journal.
		if len(srv.Deliveries(ord)) == 0 {
			require.True(t, procs[i].until("DELIVERED "+ord), "order %s after a kill at %s", ord, point)
		}
	}
	t.Logf("kills by point: %v", kills)

	for _, p := range procs {
		require.NoError(t, p.cmd.Process.Signal(syscall.SIGTERM))
		for range p.lines {
		}
		assert.NoError(t, p.cmd.Wait())
	}
	for _, ord := range placed {
		assert.Len(t, srv.Deliveries(ord), 1, "order %s: exactly one delivery", ord)
	}
	assert.Empty(t, srv.Violations())
}
