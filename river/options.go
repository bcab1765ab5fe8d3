package river

import (
	"context"
	"errors"
	"time"

	"github.com/heepr/heepr-go/poller"
)

// Defaults of the options.
const (
	// DefaultElection is how often a replica that is not the leader tries to
	// become it, and how often the leader checks its lock's connection.
	DefaultElection = 10 * time.Second
	// DefaultWorkers is how many handlers run at once on each replica.
	DefaultWorkers = 4
	// DefaultJobTimeout bounds one run of a handler: past it, its context is
	// cancelled. River rescues a job whose replica died after
	// DefaultJobTimeout plus a minute, and runs it again elsewhere.
	DefaultJobTimeout = 10 * time.Minute
	// DefaultQueue is the River queue the events go through.
	DefaultQueue = "heepr_events"
)

type config struct {
	election       time.Duration
	workers        int
	jobTimeout     time.Duration
	rescueAfter    time.Duration
	attempts       int
	handlerBackoff time.Duration
	shutdown       time.Duration
	queue          string
	retention      time.Duration
	pollerOpts     []poller.Option
	onHandlerError func(context.Context, poller.EventInfo, error)
	onLeader       func(leading bool)
	middleware     []func(poller.HandlerFunc) poller.HandlerFunc
}

// Option configures an Agent.
type Option func(*config) error

// WithElection sets how often a standby replica tries to become the leader,
// and how often the leader checks its lock (default DefaultElection). It is
// at most 20s, so that a standby polls within a minute of the leader's death
// (PostgreSQL drops a dead leader's lock within about 25s: the lock's
// connection keeps TCP keepalives of 10s, probing every 5s, 3 times).
func WithElection(d time.Duration) Option {
	return func(c *config) error {
		if d < 10*time.Millisecond || d > 20*time.Second {
			return errors.New("WithElection: want 10ms to 20s")
		}
		c.election = d
		return nil
	}
}

// WithWorkers sets how many handlers run at once on this replica (default
// DefaultWorkers). Events of one order still run one at a time.
func WithWorkers(n int) Option {
	return func(c *config) error {
		if n < 1 {
			return errors.New("WithWorkers: want at least 1")
		}
		c.workers = n
		return nil
	}
}

// WithJobTimeout bounds one run of a handler (default DefaultJobTimeout);
// rescueAfter (0: the timeout plus a minute, at least the timeout) is how long a
// job may show running before River takes it for one whose replica died, and
// runs it again. A handler still running then may run twice at once: keep
// rescueAfter above the longest handler.
func WithJobTimeout(timeout, rescueAfter time.Duration) Option {
	return func(c *config) error {
		if timeout <= 0 || rescueAfter < 0 || (rescueAfter > 0 && rescueAfter <= timeout) {
			return errors.New("WithJobTimeout: want a positive timeout, and rescueAfter 0 or above it")
		}
		c.jobTimeout, c.rescueAfter = timeout, rescueAfter
		return nil
	}
}

// WithHandlerRetry sets how often a failing handler runs for one event
// (default 3) and the first backoff's ceiling (default 1s, doubling, full
// jitter, capped at a minute), as poller.WithHandlerRetry does; a backoff of
// 0 retries at once.
func WithHandlerRetry(attempts int, backoff time.Duration) Option {
	return func(c *config) error {
		if attempts < 1 || backoff < 0 {
			return errors.New("WithHandlerRetry: want at least one attempt and a non-negative backoff")
		}
		c.attempts, c.handlerBackoff = attempts, backoff
		return nil
	}
}

// WithShutdownTimeout sets how long Run waits, once its context is
// cancelled, for this replica's running handlers (default 30s); then their
// context is cancelled, and their jobs go back to River for another replica.
func WithShutdownTimeout(d time.Duration) Option {
	return func(c *config) error {
		if d < 0 {
			return errors.New("WithShutdownTimeout: negative timeout")
		}
		c.shutdown = d
		return nil
	}
}

// WithQueue names the River queue the events go through (default
// DefaultQueue): two agents on one database need two queues.
func WithQueue(name string) Option {
	return func(c *config) error {
		if name == "" {
			return errors.New("WithQueue: empty name")
		}
		c.queue = name
		return nil
	}
}

// WithRetention sets how long a handled event's job is kept (default 7
// days): for that long, the platform sending the event again is a duplicate.
func WithRetention(d time.Duration) Option {
	return func(c *config) error {
		if d < time.Minute {
			return errors.New("WithRetention: want at least a minute")
		}
		c.retention = d
		return nil
	}
}

// WithPollerOptions passes options to the leader's poller: its cadence,
// skill directory and hooks (WithCadence, WithSkillDir, WithOnPoll,
// WithPollMiddleware…). Its journal, concurrency, handler retry, handler
// middleware and handler error hook are this package's (WithWorkers,
// WithHandlerRetry, WithMiddleware, WithOnHandlerError): the poller's have no
// effect on the workers. Leave out
// poller.WithStatusUpdates: a leader that steps down would post paused for
// an agent whose other replicas go on.
func WithPollerOptions(opts ...poller.Option) Option {
	return func(c *config) error { c.pollerOpts = append(c.pollerOpts, opts...); return nil }
}

// WithOnHandlerError sets the hook that hears of an event whose handler
// failed for good (after its attempts), or at once when no retry can mend it
// (poller.IsPermanent). It runs on the replica that ran the last attempt.
func WithOnHandlerError(fn func(ctx context.Context, ev poller.EventInfo, err error)) Option {
	return func(c *config) error { c.onHandlerError = fn; return nil }
}

// WithMiddleware wraps every run of a handler on this replica's workers in
// mw, as poller.WithMiddleware does on one machine (the first given is the
// outermost; each run is one attempt, ev.Attempt counting River's attempts;
// ctx carries the event and its idempotency scope). For tracing, give the
// otel module's handler middleware here: poller.WithMiddleware given through
// WithPollerOptions wraps nothing, since the leader's poller hands its events
// to River. A run on another machine than the poll's has no poll context
// (poller.PollContext), so its span is not linked to the poll's.
func WithMiddleware(mw ...func(next poller.HandlerFunc) poller.HandlerFunc) Option {
	return func(c *config) error {
		for _, m := range mw {
			if m == nil {
				return errors.New("WithMiddleware: nil middleware")
			}
		}
		c.middleware = append(c.middleware, mw...)
		return nil
	}
}

// WithOnLeader sets a hook called when this replica becomes the leader
// (true) and when it stops being it (false), for logs and metrics.
func WithOnLeader(fn func(leading bool)) Option {
	return func(c *config) error { c.onLeader = fn; return nil }
}
