package river_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"os/signal"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/heepr/heepr-go/client"
	"github.com/heepr/heepr-go/heeprtest"
	"github.com/heepr/heepr-go/models"
	"github.com/heepr/heepr-go/poller"
	heeprriver "github.com/heepr/heepr-go/river"
)

const envReplicaDB = "HEEPR_RIVER_TEST_DB"

// proofLog is where the replicas' handlers say when they start and finish
// an event, numbered by one sequence: the order across machines.
const proofLog = `CREATE TABLE IF NOT EXISTS proof_log (
	seq bigserial PRIMARY KEY, what text NOT NULL, event_id text NOT NULL, order_id text NOT NULL, pid int NOT NULL)`

// runReplica is one replica process: it prints READY, LEAD <bool> as its
// leadership changes, polls when it gets SIGUSR1 (if it leads), and stops
// gracefully on SIGTERM. Its handlers take a fixed time, so kills land in
// them too.
func runReplica() error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	usr1 := make(chan os.Signal, 1)
	signal.Notify(usr1, syscall.SIGUSR1)
	var out sync.Mutex
	say := func(format string, args ...any) {
		out.Lock()
		defer out.Unlock()
		fmt.Printf(format+"\n", args...)
	}
	pool, err := pgxpool.New(ctx, os.Getenv(envReplicaDB))
	if err != nil {
		return err
	}
	defer pool.Close()
	pid := os.Getpid()
	// The pid in the User-Agent tells the test which replica a poll
	// answered, so a loss is laid only at the door of the replica killed.
	c, err := client.New(client.WithBaseURL(os.Getenv(client.EnvBaseURL)),
		client.WithAPIKey(models.APIKey(os.Getenv(client.EnvAPIKey))), client.WithAgentID(os.Getenv(client.EnvAgentID)),
		client.WithUserAgent(fmt.Sprintf("proof-replica pid=%d", pid)))
	if err != nil {
		return err
	}
	handle := func(ctx context.Context, id, order string) error {
		if _, err := pool.Exec(ctx, "INSERT INTO proof_log (what, event_id, order_id, pid) VALUES ('start', $1, $2, $3)", id, order, pid); err != nil {
			return err
		}
		time.Sleep(time.Duration(20+rand.IntN(60)) * time.Millisecond) // the work
		if _, err := c.Deliver(ctx, order, client.Delivery{Text: "work for " + id}); err != nil {
			return err
		}
		_, err := pool.Exec(ctx, "INSERT INTO proof_log (what, event_id, order_id, pid) VALUES ('done', $1, $2, $3)", id, order, pid)
		return err
	}
	a, err := heeprriver.New(pool, c, poller.Handlers{
		NewOrder: func(ctx context.Context, ev models.NewOrderEvent) error { return handle(ctx, ev.ID, ev.OrderID) },
		RevisionRequest: func(ctx context.Context, ev models.RevisionRequestEvent) error {
			return handle(ctx, ev.ID, ev.OrderID)
		},
	}, heeprriver.WithElection(300*time.Millisecond), heeprriver.WithWorkers(4),
		heeprriver.WithJobTimeout(2*time.Second, 3*time.Second), heeprriver.WithHandlerRetry(10, 200*time.Millisecond),
		heeprriver.WithShutdownTimeout(5*time.Second),
		heeprriver.WithOnLeader(func(leading bool) { say("LEAD %v", leading) }),
		// A cadence override: the test wakes the leader every few hundred
		// milliseconds rather than waiting a minute.
		heeprriver.WithPollerOptions(poller.WithCadence(time.Minute), poller.WithoutSkillCheck()))
	if err != nil {
		return err
	}
	go func() {
		for {
			select {
			case <-usr1:
				a.Wake()
			case <-ctx.Done():
				return
			}
		}
	}()
	say("READY")
	return a.Run(ctx)
}

// replica is one replica process seen from the test.
type replica struct {
	cmd     *exec.Cmd
	mu      sync.Mutex
	leading bool
	done    chan struct{}
}

func (r *replica) isLeading() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.leading
}

func startReplica(t *testing.T, env []string) *replica {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), append(env, envChild+"=replica")...)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	r := &replica{cmd: cmd, done: make(chan struct{})}
	ready := make(chan struct{})
	go func() {
		defer close(r.done)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "READY":
				close(ready)
			case strings.HasPrefix(line, "LEAD "):
				r.mu.Lock()
				r.leading = line == "LEAD true"
				r.mu.Unlock()
			}
		}
	}()
	select {
	case <-ready:
	case <-time.After(20 * time.Second):
		t.Fatal("replica not ready")
	}
	return r
}

func (r *replica) kill() {
	_ = r.cmd.Process.Kill()
	<-r.done
	_ = r.cmd.Wait()
}

// TestProof_ReplicasKilled is the proof of the package: three replica
// processes (this binary, re-executed) against one heeprtest fake over
// loopback and one PostgreSQL; 60 orders, each with one or two revisions;
// SIGKILL of random replicas, the leader among them, at random points, each
// restarted. Every event ends with exactly one delivery; an order's events
// are handled in order, one at a time; no event is handled to completion
// twice except where the replica that completed it was killed before River
// recorded it (then the platform, by its idempotency key, keeps one
// delivery); no gap between polls passes MaxGap (the test wakes the leader
// every 250ms, so the gaps it sees are failovers); no spec violations.
func TestProof_ReplicasKilled(t *testing.T) {
	if testing.Short() {
		t.Skip("runs replica processes")
	}
	dsn := testDB(t)
	pool := openPool(t, dsn)
	ctx := context.Background()
	_, err := pool.Exec(ctx, proofLog)
	require.NoError(t, err)
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("HEEPR_PROOF_SEED"); s != "" { // to replay a failure's kills
		_, err := fmt.Sscan(s, &seed)
		require.NoError(t, err, "HEEPR_PROOF_SEED")
	}
	t.Logf("proof seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 19))

	srv := heeprtest.NewServer()
	defer srv.Close()
	ag := srv.AddAgent(heeprtest.Registered())
	// The fake behind a recorder of which events each poll answered, and when:
	// the platform drains what it answers, so a leader killed between a poll's
	// answer and the commit of its jobs loses those events, as any client
	// killed before its journal's commit does (README: what no client can
	// prevent). The test tells those from a real loss below.
	answered := &answerLog{at: map[string]answer{}}
	fake := srv.Handler()
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet || !strings.HasSuffix(r.URL.Path, "/events") {
			fake.ServeHTTP(w, r)
			return
		}
		// The window opens when the poll arrives: the fake drains the
		// queue whether or not its poller lives to read the answer.
		arrived := time.Now()
		tee := &teeWriter{ResponseWriter: w}
		fake.ServeHTTP(tee, r)
		answered.record(arrived, r.UserAgent(), tee.buf.Bytes())
	}))
	defer front.Close()
	env := []string{client.EnvBaseURL + "=" + front.URL + heeprtest.BasePath, client.EnvAPIKey + "=" + ag.APIKey.Reveal(),
		client.EnvAgentID + "=" + ag.ID, envReplicaDB + "=" + dsn}

	const replicas, orders = 3, 60
	var mu sync.Mutex
	procs := make([]*replica, replicas)
	for i := range procs {
		procs[i] = startReplica(t, env)
	}
	defer func() {
		mu.Lock()
		defer mu.Unlock()
		for _, p := range procs {
			if p != nil {
				p.kill()
			}
		}
	}()
	stopWake := make(chan struct{})
	var wakes sync.WaitGroup
	wakes.Go(func() {
		t := time.NewTicker(250 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stopWake:
				return
			case <-t.C:
				mu.Lock()
				for _, p := range procs {
					if p != nil {
						_ = p.cmd.Process.Signal(syscall.SIGUSR1)
					}
				}
				mu.Unlock()
			}
		}
	})

	// The orders, placed over about 20 seconds, each with its revisions
	// placed at once or a little later; kills throughout.
	want := map[string][]string{} // order -> its events, in the order placed
	start := time.Now()
	kills, leaderKills := 0, 0
	var killTimes []time.Time
	killed := map[int]time.Time{} // pid -> when it was killed
	nextKill := time.Now().Add(time.Second)
	var lateRevisions []string
	for i := range orders {
		ord := srv.PlaceOrder(ag.ID, models.Order{RevisionsAllowed: 2})
		want[ord] = []string{srv.OrderEvents(ord)[0].ID}
		if rng.IntN(2) == 0 {
			want[ord] = append(want[ord], srv.RequestRevision(ord, "more"))
		} else {
			lateRevisions = append(lateRevisions, ord)
		}
		if i%3 == 2 && len(lateRevisions) > 0 {
			o := lateRevisions[0]
			lateRevisions = lateRevisions[1:]
			want[o] = append(want[o], srv.RequestRevision(o, "later"))
			if rng.IntN(3) == 0 {
				want[o] = append(want[o], srv.RequestRevision(o, "and later"))
			}
		}
		time.Sleep(time.Duration(200+rng.IntN(250)) * time.Millisecond)
		if time.Now().After(nextKill) {
			mu.Lock()
			victim := rng.IntN(replicas)
			if rng.IntN(2) == 0 { // the leader, when one is known
				for j, p := range procs {
					if p.isLeading() {
						victim = j
						leaderKills++
						break
					}
				}
			}
			pid := procs[victim].cmd.Process.Pid
			procs[victim].kill()
			killTimes = append(killTimes, time.Now())
			killed[pid] = time.Now()
			kills++
			mu.Unlock()
			time.Sleep(time.Duration(rng.IntN(800)) * time.Millisecond)
			p := startReplica(t, env)
			mu.Lock()
			procs[victim] = p
			mu.Unlock()
			nextKill = time.Now().Add(time.Duration(1500+rng.IntN(2000)) * time.Millisecond)
		}
	}
	for _, o := range lateRevisions {
		want[o] = append(want[o], srv.RequestRevision(o, "last"))
	}
	events := 0
	for _, ids := range want {
		events += len(ids)
	}
	placedIn := time.Since(start)

	// Every event delivered (rescued jobs of killed replicas included),
	// but those lost in the window no client can close: answered by a poll,
	// no job for them, and the replica that polled them killed within 3s of
	// that answer.
	lostInWindow := func() map[string]bool {
		jobs := map[string]bool{}
		rows, err := pool.Query(ctx, "SELECT args->>'key' FROM river_job")
		if err != nil {
			return nil
		}
		for rows.Next() {
			var k string
			if rows.Scan(&k) == nil {
				jobs[k] = true
			}
		}
		rows.Close()
		mu.Lock()
		defer mu.Unlock()
		lost := map[string]bool{}
		for _, ids := range want {
			for _, id := range ids {
				a, ok := answered.when(id)
				if jobs[id] || !ok {
					continue
				}
				if k, ok := killed[a.pid]; ok && !k.Before(a.at) && k.Sub(a.at) <= 3*time.Second {
					lost[id] = true
				}
			}
		}
		return lost
	}
	var lost map[string]bool
	settled := func() bool {
		lost = lostInWindow()
		for ord, ids := range want {
			n := 0
			for _, id := range ids {
				if !lost[id] {
					n++
				}
			}
			if len(srv.Deliveries(ord)) < n {
				return false
			}
		}
		return true
	}
	if !assert.Eventually(t, settled, 100*time.Second, 200*time.Millisecond, "deliveries") {
		// What is missing, and where River holds it, for the failure's reader.
		for ord, ids := range want {
			if got := len(srv.Deliveries(ord)); got < len(ids) {
				var seen []string
				for _, id := range ids {
					a, ok := answered.when(id)
					seen = append(seen, fmt.Sprintf("%s answered=%v to %d at %s lost=%v", id, ok, a.pid, a.at.Format("15:04:05.000"), lost[id]))
				}
				t.Logf("order %s: %d of %d delivered: %v", ord, got, len(ids), seen)
			}
		}
		mu.Lock()
		t.Logf("kills at %v", killTimes)
		mu.Unlock()
		rows, err := pool.Query(ctx, "SELECT id, state, attempt, args->>'key', coalesce(errors::text, '') FROM river_job WHERE state <> 'completed' ORDER BY id")
		if err == nil {
			for rows.Next() {
				var id int64
				var state, key, errs string
				var attempt int
				if rows.Scan(&id, &state, &attempt, &key, &errs) == nil {
					t.Logf("job %d: %s, attempt %d, event %s, errors %.300s", id, state, attempt, key, errs)
				}
			}
			rows.Close()
		}
		t.FailNow()
	}
	// The lost events leave the tally: the rest is held to exactly once.
	for ord, ids := range want {
		want[ord] = slices.DeleteFunc(ids, func(id string) bool { return lost[id] })
	}
	events -= len(lost)
	assert.LessOrEqual(t, len(lost), 10, "events lost in the answer-to-commit window: a handful at most")
	handledIn := time.Since(start)
	close(stopWake)
	wakes.Wait()
	mu.Lock()
	for i, p := range procs {
		require.NoError(t, p.cmd.Process.Signal(syscall.SIGTERM))
		<-p.done
		assert.NoError(t, p.cmd.Wait(), "replica %d stops cleanly", i)
		procs[i] = nil
	}
	mu.Unlock()

	// Exactly one delivery per event, an order's in the order placed.
	for ord, ids := range want {
		// Not nil: when every event of an order was lost in the window,
		// want holds an empty slice and none delivered must equal it.
		got := []string{}
		for _, d := range srv.Deliveries(ord) {
			got = append(got, eventOf(d.Payload.Text))
		}
		assert.Equal(t, ids, got, "order %s: one delivery per event, in order", ord)
	}
	// Per order, one event at a time in order: every start of an event comes
	// after the last done of the one before it, and no event starts again
	// once the next has started.
	rows, err := pool.Query(ctx, "SELECT what, event_id, order_id, pid FROM proof_log ORDER BY seq")
	require.NoError(t, err)
	type step struct {
		what, event string
		pid         int
	}
	log := map[string][]step{}
	doneBy := map[string][]int{}
	for rows.Next() {
		var s step
		var ord string
		require.NoError(t, rows.Scan(&s.what, &s.event, &ord, &s.pid))
		log[ord] = append(log[ord], s)
		if s.what == "done" {
			doneBy[s.event] = append(doneBy[s.event], s.pid)
		}
	}
	require.NoError(t, rows.Err())
	reruns := 0
	for ord, steps := range log {
		pos := map[string]int{}
		for i, id := range want[ord] {
			pos[id] = i
		}
		latest := 0 // the furthest event started
		running := map[string]bool{}
		for _, s := range steps {
			p, ok := pos[s.event]
			require.True(t, ok, "order %s: event %s not placed", ord, s.event)
			switch s.what {
			case "start":
				assert.GreaterOrEqual(t, p, latest, "order %s: %s started after a later event", ord, s.event)
				latest = max(latest, p)
				for other := range running {
					if other != s.event {
						assert.Fail(t, "two events of one order at once", "order %s: %s started while %s ran", ord, s.event, other)
					}
				}
				running[s.event] = true
			case "done":
				delete(running, s.event)
			}
		}
		for id := range running { // started by a replica that was killed
			_ = id
		}
	}
	for id, pids := range doneBy {
		if len(pids) > 1 {
			reruns++
			// Only a replica killed before River recorded the completion
			// lets an event run to completion again.
			for _, pid := range pids[:len(pids)-1] {
				assert.Contains(t, killed, pid, "event %s completed twice, first by replica %d which was not killed", id, pid)
			}
		}
	}
	for _, ids := range want {
		for _, id := range ids {
			assert.NotEmpty(t, doneBy[id], "event %s never completed", id)
		}
	}

	// The gaps between polls: the leader is woken every 250ms, so the long
	// ones are failovers.
	var polls []time.Time
	for _, r := range srv.Requests() {
		if r.Method == "GET" && strings.HasSuffix(r.Path, "/events") {
			polls = append(polls, r.At)
		}
	}
	slices.SortFunc(polls, func(a, b time.Time) int { return a.Compare(b) })
	var maxGap time.Duration
	for i := 1; i < len(polls); i++ {
		maxGap = max(maxGap, polls[i].Sub(polls[i-1]))
	}
	assert.Less(t, maxGap, poller.MaxGap)
	assert.Less(t, maxGap, 15*time.Second, "a standby takes over within a few election intervals")
	assert.Empty(t, srv.Violations())
	var jobs, completed int
	require.NoError(t, pool.QueryRow(ctx, "SELECT count(*), count(*) FILTER (WHERE state = 'completed') FROM river_job").Scan(&jobs, &completed))
	assert.Equal(t, events, jobs, "one job per event")
	t.Logf("proof: %d replicas, %d orders, %d events (%d jobs, %d completed); %d kills (%d of the leader); %d polls, longest gap %v; %d events ran to completion twice (their first replica killed before River recorded it); %d lost in the answer-to-commit window; placed in %v, all delivered at %v",
		replicas, orders, events, jobs, completed, kills, leaderKills, len(polls), maxGap.Round(time.Millisecond), reruns, len(lost), placedIn.Round(time.Second), handledIn.Round(time.Second))
}

// answerLog records when a poll first answered each event.
type answerLog struct {
	mu sync.Mutex
	at map[string]answer
}

// answer is when the poll that first answered an event arrived, and from
// which replica.
type answer struct {
	at  time.Time
	pid int
}

// record notes the events of one poll's answer to a poll that arrived at
// arrived; userAgent names the replica that polled.
func (l *answerLog) record(arrived time.Time, userAgent string, body []byte) {
	pid := -1
	if _, after, ok := strings.Cut(userAgent, "pid="); ok {
		_, _ = fmt.Sscan(after, &pid)
	}
	var batch struct {
		Events []struct {
			ID string `json:"id"`
		} `json:"events"`
	}
	if json.Unmarshal(body, &batch) != nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, e := range batch.Events {
		if _, ok := l.at[e.ID]; !ok {
			l.at[e.ID] = answer{at: arrived, pid: pid}
		}
	}
}

func (l *answerLog) when(id string) (answer, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	a, ok := l.at[id]
	return a, ok
}

// teeWriter keeps a copy of what it writes.
type teeWriter struct {
	http.ResponseWriter
	buf bytes.Buffer
}

func (w *teeWriter) Write(p []byte) (int, error) {
	w.buf.Write(p)
	return w.ResponseWriter.Write(p)
}
