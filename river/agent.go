package river

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	rq "github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/heepr/heepr-go/client"
	"github.com/heepr/heepr-go/poller"
)

// takeover is what the leader leaves under poller.MaxGap for a standby to
// take over: PostgreSQL's ~25s to drop a dead leader's lock, a standby's
// next try (WithElection, at most 20s), and the poll itself.
const takeover = time.Minute

// Agent is one replica of an agent: a River client whose workers run the
// handlers, and a candidate for leadership, whose poller then polls for all
// replicas. Create it with New; call Run once.
type Agent struct {
	pool *pgxpool.Pool
	c    *client.Client
	h    poller.Handlers
	cfg  config
	log  *slog.Logger
	rc   *rq.Client[pgx.Tx]
	j    *journal
	w    *worker

	mu      sync.Mutex
	p       *poller.Poller // the leader's poller while this replica leads
	running atomic.Bool
	stats   stats
}

// Stats counts what an Agent did since New.
type Stats struct {
	// Leaderships counts the times this replica became the leader.
	Leaderships int64
	// Inserted counts the events this replica's polls inserted as jobs,
	// Duplicates those the database already held (the platform sent them
	// again).
	Inserted, Duplicates int64
	// Handled counts the handler runs on this replica that succeeded.
	Handled int64
}

type stats struct{ leaderships, inserted, duplicates, handled atomic.Int64 }

// Stats returns the counts so far. It is safe to call while Run runs.
func (a *Agent) Stats() Stats {
	return Stats{Leaderships: a.stats.leaderships.Load(), Inserted: a.stats.inserted.Load(),
		Duplicates: a.stats.duplicates.Load(), Handled: a.stats.handled.Load()}
}

// New returns a replica over pool (the database Migrate prepared) and c (the
// agent's client: every replica uses the same agent key) that runs h. It
// makes no request and checks the leader's poller options as poller.New
// does.
func New(pool *pgxpool.Pool, c *client.Client, h poller.Handlers, opts ...Option) (*Agent, error) {
	if pool == nil || c == nil {
		return nil, errors.New("heepr river: nil pool or client")
	}
	cfg := config{election: DefaultElection, workers: DefaultWorkers, jobTimeout: DefaultJobTimeout, attempts: 3,
		handlerBackoff: time.Second, shutdown: 30 * time.Second, queue: DefaultQueue, retention: 7 * 24 * time.Hour}
	for _, o := range opts {
		if o == nil {
			continue
		}
		if err := o(&cfg); err != nil {
			return nil, fmt.Errorf("heepr river: %w", err)
		}
	}
	if cfg.rescueAfter == 0 {
		cfg.rescueAfter = cfg.jobTimeout + time.Minute
	}
	a := &Agent{pool: pool, c: c, h: h, cfg: cfg, log: c.Logger()}
	a.w = &worker{pool: pool, h: h, log: a.log, cfg: &a.cfg, handled: func(eventArgs) { a.stats.handled.Add(1) }}
	workers := rq.NewWorkers()
	if err := rq.AddWorkerSafely(workers, a.w); err != nil {
		return nil, fmt.Errorf("heepr river: %w", err)
	}
	rc, err := rq.NewClient(riverpgxv5.New(pool), &rq.Config{
		Queues:                      map[string]rq.QueueConfig{cfg.queue: {MaxWorkers: cfg.workers}},
		Workers:                     workers,
		JobTimeout:                  cfg.jobTimeout,
		RescueStuckJobsAfter:        cfg.rescueAfter,
		MaxAttempts:                 cfg.attempts,
		CompletedJobRetentionPeriod: cfg.retention,
		CancelledJobRetentionPeriod: cfg.retention,
		DiscardedJobRetentionPeriod: cfg.retention,
		Logger:                      a.log,
	})
	if err != nil {
		return nil, fmt.Errorf("heepr river: %w", err)
	}
	a.rc = rc
	a.j = &journal{pool: pool, rc: rc, log: a.log, attempts: cfg.attempts, queue: cfg.queue,
		inserted: func(n, dup int) { a.stats.inserted.Add(int64(n)); a.stats.duplicates.Add(int64(dup)) }}
	// Checked now, so that a misconfigured replica fails at New, not when it
	// first becomes the leader.
	if _, err := a.newPoller(); err != nil {
		return nil, fmt.Errorf("heepr river: %w", err)
	}
	return a, nil
}

// newPoller is the leader's poller: the caller's options, then this
// package's journal and the gap that leaves room for a takeover.
func (a *Agent) newPoller() (*poller.Poller, error) {
	opts := append([]poller.Option(nil), a.cfg.pollerOpts...)
	opts = append(opts, poller.WithEventJournal(a.j), poller.WithMaxGap(poller.MaxGap-takeover))
	return poller.New(a.c, a.h, opts...)
}

// Wake asks the leader's poller, if this replica leads, for a poll now. It
// never blocks.
func (a *Agent) Wake() {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.p != nil {
		a.p.Wake()
	}
}

// Leading reports whether this replica is the leader now.
func (a *Agent) Leading() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.p != nil
}

// Run starts this replica's workers and its candidacy, and runs until ctx
// is cancelled or the platform refuses the key. Then it stops gracefully:
// the leader's poller stops polling (a poll on the wire completes and its
// events are inserted), its lock is released so that a standby takes over
// at its next try, and the running handlers get WithShutdownTimeout to
// finish; past it their context is cancelled and their jobs go back to
// River for another replica. Run returns nil after a clean stop; a refused
// key stops it with that error wrapped (herrors.IsFatalAuth), after the same
// stop.
func (a *Agent) Run(ctx context.Context) error {
	if !a.running.CompareAndSwap(false, true) {
		return errors.New("heepr river: already running")
	}
	defer a.running.Store(false)
	// Not ctx: its cancel would stop River hard; Stop below is the graceful one.
	if err := a.rc.Start(context.WithoutCancel(ctx)); err != nil {
		return fmt.Errorf("heepr river: start workers: %w", err)
	}
	err := a.campaign(ctx)
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), a.cfg.shutdown)
	defer cancel()
	if serr := a.rc.Stop(sctx); serr != nil {
		a.log.WarnContext(ctx, "heepr river: handlers still running at the shutdown timeout; cancelling them (their jobs go back to River)", "error", serr)
		hctx, hcancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer hcancel()
		if cerr := a.rc.StopAndCancel(hctx); cerr != nil {
			err = errors.Join(err, fmt.Errorf("heepr river: stop: %w", cerr))
		}
	}
	return err
}
