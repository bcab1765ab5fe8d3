package poller

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/heepr/heepr-go/models"
)

type config struct {
	cadence         time.Duration // 0: follow skill.json
	jitter          float64
	journal         string
	store           Journal // WithEventJournal
	maxGap          time.Duration
	concurrency     int
	handlerAttempts int
	handlerBackoff  time.Duration
	shutdown        time.Duration
	grace           time.Duration
	dedup           int
	skillCheck      bool
	skillDir        string
	statusUpdates   bool
	onHandlerError  func(context.Context, EventInfo, error)
	onSkillChange   func(context.Context, SkillChange)
	onPoll          func(context.Context, PollResult)
	middleware      []func(HandlerFunc) HandlerFunc
	pollMiddleware  []func(PollFunc) PollFunc
}

// Option configures a Poller.
type Option func(*config) error

// WithCadence fixes the poll cadence, overriding the owner's preference in
// skill.json. It is clamped to 1 to 60 minutes, as the platform allows.
func WithCadence(d time.Duration) Option {
	return func(c *config) error {
		if d <= 0 {
			return errors.New("WithCadence: want a positive duration")
		}
		c.cadence = clampCadence(d)
		return nil
	}
}

// WithJitter sets the fraction of the cadence each interval varies by
// (default DefaultJitter, 0.1), from 0 to 0.5.
func WithJitter(fraction float64) Option {
	return func(c *config) error {
		if fraction < 0 || fraction > 0.5 {
			return fmt.Errorf("WithJitter: %v is outside 0 to 0.5", fraction)
		}
		c.jitter = fraction
		return nil
	}
}

// WithJournal keeps every polled event in dir until its handler is done with
// it, so that an event polled before a crash is handled after the restart, and
// remembers recently handled event ids there, so that an event the platform
// sends again is not handled twice. dir is created (mode 0700) if need be.
//
// One poller per directory, enforced: Run holds a lock on it (flock on Unix)
// for its whole life, and a second Run on the same directory, in this process
// or another, fails at once with an error wrapping ErrJournalLocked that names
// the directory. A crash releases the lock with the process.
func WithJournal(dir string) Option {
	return func(c *config) error {
		if dir == "" {
			return errors.New("WithJournal: empty directory")
		}
		c.journal = dir
		return nil
	}
}

// WithConcurrency sets how many handlers run at once (default 4). Events of
// the same order always run one at a time, in the order polled.
func WithConcurrency(n int) Option {
	return func(c *config) error {
		if n < 1 {
			return errors.New("WithConcurrency: want at least 1")
		}
		c.concurrency = n
		return nil
	}
}

// WithHandlerRetry sets how often a failing handler runs for one event
// (default 3 attempts) and the ceiling of the first backoff between runs
// (default 1s, doubling, full jitter, capped at one minute). A handler error
// that no retry can mend runs once: a refusal of the platform that
// herrors.IsRetryable rejects, or a call the client refused for its arguments
// ([client.ErrInvalidArgument]).
func WithHandlerRetry(attempts int, backoff time.Duration) Option {
	return func(c *config) error {
		if attempts < 1 || backoff < 0 {
			return errors.New("WithHandlerRetry: want at least one attempt and a non-negative backoff")
		}
		c.handlerAttempts, c.handlerBackoff = attempts, backoff
		return nil
	}
}

// WithShutdownTimeout sets how long Run waits, once its context is cancelled,
// for the handlers running and queued to finish before cancelling their
// context (default 30s).
func WithShutdownTimeout(d time.Duration) Option {
	return func(c *config) error {
		if d < 0 {
			return errors.New("WithShutdownTimeout: negative timeout")
		}
		c.shutdown = d
		return nil
	}
}

// WithShutdownGrace sets how long Run waits, once the shutdown timeout has
// cancelled the handlers' context, for handlers that ignore it (default
// DefaultShutdownGrace, 5s). Past it, Run returns an error wrapping
// ErrUnfinished that names the events still running, and abandons their
// goroutines: they run on until their handler returns, but record nothing,
// and their events stay in the journal for the next start.
func WithShutdownGrace(d time.Duration) Option {
	return func(c *config) error {
		if d < 0 {
			return errors.New("WithShutdownGrace: negative grace")
		}
		c.grace = d
		return nil
	}
}

// WithDedupWindow sets how many recently handled event ids are remembered
// (default DefaultDedupWindow).
func WithDedupWindow(n int) Option {
	return func(c *config) error {
		if n < 1 {
			return errors.New("WithDedupWindow: want at least 1")
		}
		c.dedup = n
		return nil
	}
}

// WithoutSkillCheck stops the poller reading GET /skill each tick. By default
// it does, as the platform's reference asks, to pick up a changed skill and
// cadence. Without the check the owner's cadence is never read, so New asks
// for WithCadence alongside it.
func WithoutSkillCheck() Option {
	return func(c *config) error { c.skillCheck = false; return nil }
}

// WithStatusUpdates makes Run post status active when it starts and paused when
// it stops after a clean drain.
func WithStatusUpdates() Option {
	return func(c *config) error { c.statusUpdates = true; return nil }
}

// WithOnHandlerError sets the hook that hears of an event whose handler failed
// for good (after its retries) or panicked on every attempt, and of an event
// that no handler took (the error wraps ErrUnhandled; see Handlers). The
// event is then done: removed from the journal, never handled again. The hook
// runs on the handler's goroutine, with the event in its context ([FromContext]).
func WithOnHandlerError(fn func(ctx context.Context, ev EventInfo, err error)) Option {
	return func(c *config) error { c.onHandlerError = fn; return nil }
}

// WithSkillDir keeps a verified copy of the agent's skill package (SKILL.md,
// RULES.md, HEARTBEAT_EVENTS.md, API.md, skill.json) in dir, for an agent that
// hands those files to its model: the poller calls [client.Client.SyncSkill]
// at its first skill check, so dir is filled at start, and again whenever the
// skill's content hash changes, before [WithOnSkillChange] hears of the change.
// A hook that reads dir therefore reads the new package whole, never half old
// and half new. See SyncSkill for what is written and how (dir mode 0700,
// files 0600, each replaced atomically, skill.json last).
//
// A sync that fails is logged at warn level (once a minute while it repeats
// identically) and the change is not taken as seen: the next tick syncs
// again, and the hook hears of the change only once dir holds it. The sync
// needs the skill check and the agent id, so [New] refuses WithSkillDir with
// [WithoutSkillCheck] or with a client that has no agent id.
func WithSkillDir(dir string) Option {
	return func(c *config) error {
		if dir == "" {
			return errors.New("WithSkillDir: empty directory")
		}
		c.skillDir = dir
		return nil
	}
}

// SkillChange is what WithOnSkillChange hears: the skill whose content hash
// changed, and skill.json as it now reads (nil if it could not be read).
type SkillChange struct {
	Skill    models.Skill
	Manifest *models.SkillManifest
	// Cadence is the cadence the poller follows from now on.
	Cadence time.Duration
	// Synced names the files [WithSkillDir]'s directory got for this change,
	// sorted (skill.json among them when it changed); nil without
	// WithSkillDir. The directory holds the new package when the hook runs.
	Synced []string
}

// WithOnSkillChange sets the hook called when the skill's content hash changes
// between two checks (not on the first check). The poller has already picked
// up the new cadence and, with WithSkillDir, written the new files. It runs on
// the poll loop: keep it quick.
func WithOnSkillChange(fn func(ctx context.Context, change SkillChange)) Option {
	return func(c *config) error { c.onSkillChange = fn; return nil }
}

// PollResult is what WithOnPoll hears after each poll.
type PollResult struct {
	At      time.Time
	Latency time.Duration
	// Events is how many events the poll returned.
	Events int
	// Err is the poll's error, nil on success.
	Err error
}

// WithOnPoll sets a hook called after every poll, for metrics, with Run's
// context (which may be cancelled already: the poll that was on the wire at a
// cancel is still reported). It runs on the poll loop: keep it quick.
func WithOnPoll(fn func(ctx context.Context, r PollResult)) Option {
	return func(c *config) error { c.onPoll = fn; return nil }
}

// WithMaxGap lowers the longest gap Run lets pass between the starts of two
// polls while the platform answers (default, and ceiling, MaxGap). A poller
// whose polls another process takes over when it dies (the river module's
// leader) leaves room under MaxGap for the takeover this way.
func WithMaxGap(d time.Duration) Option {
	return func(c *config) error {
		if d < time.Second || d > MaxGap {
			return fmt.Errorf("WithMaxGap: %v is outside 1s to MaxGap (%v)", d, MaxGap)
		}
		c.maxGap = d
		return nil
	}
}
