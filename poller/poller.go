package poller

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/heepr/heepr-go/client"
	herrors "github.com/heepr/heepr-go/errors"
	"github.com/heepr/heepr-go/internal/backoff"
	"github.com/heepr/heepr-go/models"
)

// pollTimeout bounds one poll, whatever the client's attempt timeout.
const pollTimeout = 2 * time.Minute

// ErrRunning is returned by Run while another Run of the same Poller is going.
var ErrRunning = errors.New("poller: already running")

// ErrUnfinished is wrapped by Run's error when the shutdown timeout ran out
// with handlers still running or queued: their context was cancelled, and their
// events stay in the journal for the next start (without a journal, they are
// lost).
var ErrUnfinished = errors.New("poller: handlers unfinished at shutdown")

// Poller is an agent's main loop: it polls GET /events on the owner's cadence
// (the poll is also the heartbeat), hands each event to its handler, and keeps
// both going through failures. Create it with New; call Run once.
type Poller struct {
	c   *client.Client
	h   Handlers
	cfg config
	log *slog.Logger

	wake    chan struct{}
	running atomic.Bool
	stats   stats
}

// Stats counts what a Poller did since New.
type Stats struct {
	Polls, PollErrors int64
	// Events is the number of events polled (or replayed from the journal)
	// and queued for a handler; Duplicates those skipped as already handled.
	Events, Duplicates int64
	// Handled succeeded; Failed were reported to WithOnHandlerError after
	// their retries; Unhandled had no handler for their kind; Panics counts
	// every recovered panic (each attempt).
	Handled, Failed, Unhandled, Panics int64
}

type stats struct {
	polls, pollErrors, events, duplicates, handled, failed, unhandled, panics atomic.Int64
}

// Stats returns the counts so far. It is safe to call while Run runs.
func (p *Poller) Stats() Stats {
	s := &p.stats
	return Stats{
		Polls: s.polls.Load(), PollErrors: s.pollErrors.Load(), Events: s.events.Load(), Duplicates: s.duplicates.Load(),
		Handled: s.handled.Load(), Failed: s.failed.Load(), Unhandled: s.unhandled.Load(), Panics: s.panics.Load(),
	}
}

// New returns a Poller over c that runs h. It makes no request.
func New(c *client.Client, h Handlers, opts ...Option) (*Poller, error) {
	if c == nil {
		return nil, errors.New("poller: nil client")
	}
	cfg := config{
		jitter: DefaultJitter, concurrency: 4, handlerAttempts: 3, handlerBackoff: time.Second,
		shutdown: 30 * time.Second, dedup: DefaultDedupWindow, skillCheck: true,
	}
	for _, o := range opts {
		if o == nil {
			continue
		}
		if err := o(&cfg); err != nil {
			return nil, fmt.Errorf("poller: %w", err)
		}
	}
	return &Poller{c: c, h: h, cfg: cfg, log: c.Logger(), wake: make(chan struct{}, 1)}, nil
}

// Wake asks for a poll now instead of at the next tick: after a delivery, or in
// tests and demos. It never blocks; wakes while a poll is going collapse into
// one more poll.
func (p *Poller) Wake() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// run is one Run's state, owned by the poll loop except where noted.
type run struct {
	p        *Poller
	j        *journal // nil without a journal
	seen     *recent  // without a journal; guarded by seenMu
	seenMu   sync.Mutex
	inflight sync.Map // event ids queued or running
	d        *dispatcher
	hctx     context.Context // the handlers' context, cancelled at the shutdown timeout
	sched    schedule
	cadence  time.Duration
	skill    string // the last content hash seen
	logs     *throttle
}

// Run polls until ctx is done or the platform refuses the key, running
// handlers as events arrive. It polls once at start (after dispatching what the
// journal kept from an earlier run), then on the cadence.
//
// When ctx is cancelled Run stops polling at once (a poll already on the wire
// completes, so the events it drains are not lost), waits for running and
// queued handlers up to the shutdown timeout (then cancels their context), and
// returns nil after a clean drain, or an error wrapping ErrUnfinished.
//
// A key the platform refuses for good (herrors.ErrKeyRevoked, ErrKeyExpired,
// ErrUnauthorized: herrors.IsFatalAuth) stops Run with that error wrapped, after
// the same drain, so the caller can re-bootstrap. Every other failure is
// retried on the poller's own schedule: full-jitter backoff, honouring
// Retry-After, never letting the heartbeat lapse while the platform answers.
func (p *Poller) Run(ctx context.Context) error {
	if !p.running.CompareAndSwap(false, true) {
		return ErrRunning
	}
	defer p.running.Store(false)

	r := &run{
		p:       p,
		sched:   schedule{jitter: p.cfg.jitter, failure: backoff.Policy{Base: 2 * time.Second, Max: 5 * time.Minute}},
		cadence: p.cfg.cadence,
		logs:    newThrottle(p.log, time.Minute),
	}
	if r.cadence == 0 {
		r.cadence = DefaultCadence
	}
	hctx, cancelHandlers := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelHandlers()
	r.hctx = hctx
	r.d = newDispatcher(p.cfg.concurrency, r.handle)

	var replay []entry
	if p.cfg.journal != "" {
		j, left, err := openJournal(p.cfg.journal, p.cfg.dedup)
		if err != nil {
			return fmt.Errorf("poller: %w", err)
		}
		defer j.close()
		r.j = j
		for _, bad := range j.corrupt {
			p.log.WarnContext(ctx, "heepr poller: journal file set aside", "file", bad)
		}
		replay = left
	} else {
		r.seen = newRecent(p.cfg.dedup)
	}
	for _, e := range replay {
		r.queue(e, true)
	}

	if p.cfg.statusUpdates {
		if err := p.c.SetStatus(ctx, models.AgentStatusActive); err != nil {
			if herrors.IsFatalAuth(err) {
				return r.drain(ctx, cancelHandlers, fmt.Errorf("poller: %w", err))
			}
			p.log.WarnContext(ctx, "heepr poller: could not post status active", "error", err)
		}
	}

	err := r.loop(ctx)
	return r.drain(ctx, cancelHandlers, err)
}

// loop polls until ctx ends (nil) or a fatal error (returned).
func (r *run) loop(ctx context.Context) error {
	p := r.p
	var (
		lastSuccess = time.Now()
		failures    int
		first       = true
	)
	for {
		start := time.Now()
		n, err := r.poll(ctx)
		if p.cfg.onPoll != nil {
			p.cfg.onPoll(PollResult{At: start, Latency: time.Since(start), Events: n, Err: err})
		}
		var wait time.Duration
		switch {
		case err == nil:
			if failures > 0 {
				r.logs.recovered(ctx, failures)
			}
			lastSuccess, failures = start, 0
			if p.cfg.skillCheck {
				if err := r.checkSkill(ctx); err != nil {
					return err
				}
			}
			wait = r.sched.interval(r.cadence, first)
			first = false
		case ctx.Err() != nil:
			return nil
		case herrors.IsFatalAuth(err):
			p.log.ErrorContext(ctx, "heepr poller: the platform refused the key; stopping", "error", err)
			return fmt.Errorf("poller: %w", err)
		default:
			failures++
			var apiErr *herrors.APIError
			var retryAfter time.Duration
			if errors.As(err, &apiErr) {
				retryAfter = apiErr.RetryAfter
			}
			wait = r.sched.retryAfterFailure(failures, retryAfter, r.cadence, time.Now(), lastSuccess.Add(MaxGap))
			r.logs.failed(ctx, "heepr poller: poll failed", err, "failures", failures, "retry_in", wait)
		}
		if ctx.Err() != nil {
			return nil
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-p.wake:
			t.Stop()
		case <-t.C:
		}
	}
}

// poll makes one poll and queues its events. The poll itself is not cancelled
// with ctx: once on the wire it may drain events on the platform, and they must
// reach the journal and the handlers rather than be lost with the answer.
func (r *run) poll(ctx context.Context) (int, error) {
	p := r.p
	p.stats.polls.Add(1)
	// Bounded on its own, so a dead connection cannot hold Run past a cancel
	// even when the client has no attempt timeout.
	pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), pollTimeout)
	defer cancel()
	events, err := p.c.Events(pctx, client.WithoutRetry())
	if err != nil {
		p.stats.pollErrors.Add(1)
		return 0, err
	}
	fresh := make([]entry, 0, len(events))
	for _, ev := range events {
		h, herr := ev.Header()
		if herr != nil || h.ID == "" {
			// Without an id it cannot be journaled or deduplicated; hand it to
			// the error hook rather than drop it silently.
			p.stats.failed.Add(1)
			r.reportFailure(ctx, EventInfo{Raw: ev.Raw(), Kind: h.Kind, OrderID: h.OrderID}, fmt.Errorf("event without an id: %v", herr))
			continue
		}
		if r.isDuplicate(h.ID) {
			p.stats.duplicates.Add(1)
			p.log.DebugContext(ctx, "heepr poller: duplicate event skipped", "event", h.ID, "kind", h.Kind)
			continue
		}
		fresh = append(fresh, entry{event: ev, header: h})
	}
	if r.j != nil && len(fresh) > 0 {
		// Durable before the next poll can drain anything else.
		if err := r.j.add(fresh); err != nil {
			// The events are in hand: run them anyway, and say the journal failed.
			p.log.ErrorContext(ctx, "heepr poller: journal write failed; events handled without it", "error", err)
		}
	}
	for _, e := range fresh {
		r.queue(e, false)
	}
	return len(events), nil
}

func (r *run) isDuplicate(id string) bool {
	if _, busy := r.inflight.Load(id); busy {
		return true
	}
	if r.j != nil {
		return r.j.handled(id)
	}
	r.seenMu.Lock()
	defer r.seenMu.Unlock()
	return r.seen.has(id)
}

func (r *run) queue(e entry, replayed bool) {
	r.p.stats.events.Add(1)
	r.inflight.Store(e.header.ID, replayed)
	r.d.enqueue(e)
}

// checkSkill reads GET /skill; when the content hash changed, it re-reads
// skill.json for the cadence and calls the hook. Only a refused key is an
// error: anything else leaves the cadence as it was until the next tick.
func (r *run) checkSkill(ctx context.Context) error {
	p := r.p
	s, err := p.c.Skill(ctx, client.WithoutRetry())
	if err != nil {
		if herrors.IsFatalAuth(err) {
			return fmt.Errorf("poller: %w", err)
		}
		r.logs.failed(ctx, "heepr poller: skill check failed", err)
		return nil
	}
	if s.ContentHash == r.skill {
		return nil
	}
	changed := r.skill != ""
	var m *models.SkillManifest
	if p.c.AgentID() != "" {
		m, err = p.c.SkillManifest(ctx, client.WithoutRetry())
		if err != nil {
			if herrors.IsFatalAuth(err) {
				return fmt.Errorf("poller: %w", err)
			}
			r.logs.failed(ctx, "heepr poller: skill.json unreadable", err)
			return nil // try again next tick: the hash is not taken as seen
		}
		if p.cfg.cadence == 0 {
			r.cadence = clampCadence(time.Duration(m.PollIntervalMinutes) * time.Minute)
		}
	}
	r.skill = s.ContentHash
	if changed {
		p.log.InfoContext(ctx, "heepr poller: skill changed", "content_hash", s.ContentHash, "cadence", r.cadence)
		if p.cfg.onSkillChange != nil {
			p.cfg.onSkillChange(ctx, SkillChange{Skill: *s, Manifest: m, Cadence: r.cadence})
		}
	}
	return nil
}

// handle runs one event's handler to the end: success, failure reported, or
// cancellation by the shutdown timeout (the event then stays in the journal).
func (r *run) handle(e entry) {
	p := r.p
	replayed, _ := r.inflight.Load(e.header.ID)
	info := EventInfo{
		ID: e.header.ID, Kind: e.header.Kind, OrderID: e.header.OrderID, CreatedAt: e.header.CreatedAt,
		Raw: e.event.Raw(), Replayed: isTrue(replayed),
	}
	policy := backoff.Policy{Base: p.cfg.handlerBackoff, Max: time.Minute}
	var err error
	for attempt := 1; ; attempt++ {
		if r.hctx.Err() != nil {
			r.inflight.Delete(e.header.ID)
			return // unfinished: left in the journal for the next start
		}
		info.Attempt = attempt
		ctx := context.WithValue(r.hctx, eventKey{}, info)
		ctx = client.WithIdempotencyScope(ctx, "heepr-event:"+e.header.ID)
		err = p.h.call(ctx, e)
		if err == nil {
			p.stats.handled.Add(1)
			break
		}
		var pe *PanicError
		if errors.As(err, &pe) {
			p.stats.panics.Add(1)
			p.log.ErrorContext(ctx, "heepr poller: handler panicked", "event", info.ID, "kind", info.Kind,
				"attempt", attempt, "panic", fmt.Sprint(pe.Value), "stack", string(pe.Stack))
		}
		if errors.Is(err, errUnhandled) {
			p.stats.unhandled.Add(1)
			p.log.WarnContext(ctx, "heepr poller: no handler for this kind; event skipped", "event", info.ID, "kind", info.Kind, "order", info.OrderID)
			break
		}
		if r.hctx.Err() != nil {
			r.inflight.Delete(e.header.ID)
			return
		}
		if attempt >= p.cfg.handlerAttempts || !worthRetrying(err) {
			p.stats.failed.Add(1)
			r.reportFailure(ctx, info, err)
			break
		}
		wait := policy.Delay(attempt)
		p.log.DebugContext(ctx, "heepr poller: handler failed; retrying", "event", info.ID, "attempt", attempt, "wait", wait, "error", err)
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-r.hctx.Done():
			t.Stop()
		}
	}
	r.finish(e)
}

// worthRetrying: not a payload that cannot decode, not a refusal of the
// platform that a retry cannot change.
func worthRetrying(err error) bool {
	var de *errDecode
	if errors.As(err, &de) {
		return false
	}
	var apiErr *herrors.APIError
	if errors.As(err, &apiErr) {
		return herrors.IsRetryable(err)
	}
	return true
}

func (r *run) reportFailure(ctx context.Context, info EventInfo, err error) {
	p := r.p
	p.log.ErrorContext(ctx, "heepr poller: handler failed for good", "event", info.ID, "kind", info.Kind, "order", info.OrderID, "error", err)
	if p.cfg.onHandlerError != nil {
		p.cfg.onHandlerError(ctx, info, err)
	}
}

// finish marks the event done: in the journal (or the in-memory set) first,
// then no longer in flight, so a poll in between still sees it as a duplicate.
func (r *run) finish(e entry) {
	if r.j != nil {
		if err := r.j.done(e); err != nil {
			r.p.log.Error("heepr poller: journal update failed; the event may be handled again after a restart", "event", e.header.ID, "error", err)
		}
	} else {
		r.seenMu.Lock()
		r.seen.add(e.header.ID)
		r.seenMu.Unlock()
	}
	r.inflight.Delete(e.header.ID)
}

// drain stops the handlers: waits up to the shutdown timeout for the queue to
// empty, then cancels them and waits for every worker to return.
func (r *run) drain(ctx context.Context, cancelHandlers context.CancelFunc, err error) error {
	p := r.p
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), p.cfg.shutdown)
	clean := r.d.wait(wctx)
	cancel()
	left := r.d.load()
	cancelHandlers()
	r.d.stop()
	if !clean {
		where := "kept in the journal for the next start"
		if r.j == nil {
			where = "lost: no journal"
		}
		uerr := fmt.Errorf("%w: %d events (%s)", ErrUnfinished, left, where)
		if err == nil {
			return uerr
		}
		return errors.Join(err, uerr)
	}
	if err == nil && p.cfg.statusUpdates {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if serr := p.c.SetStatus(sctx, models.AgentStatusPaused); serr != nil {
			p.log.WarnContext(ctx, "heepr poller: could not post status paused", "error", serr)
		}
	}
	return err
}

func isTrue(v any) bool { b, _ := v.(bool); return b }
