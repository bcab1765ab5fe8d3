package poller

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
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
// lost). When handlers still ran after the grace (WithShutdownGrace), the
// error names their events.
var ErrUnfinished = errors.New("poller: handlers unfinished at shutdown")

// ErrJournalLocked is wrapped by Run's error when another poller holds the
// journal directory (WithJournal): two pollers on one journal would replay and
// remove each other's events.
var ErrJournalLocked = errors.New("poller: journal in use by another poller")

// DefaultShutdownGrace is how long Run waits, after the shutdown timeout has
// cancelled the handlers' context, for handlers that ignore it.
const DefaultShutdownGrace = 5 * time.Second

// shutdownNag is how often Run says what it still waits for while it stops.
const shutdownNag = 5 * time.Second

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
	// their retries; Unhandled were taken by no handler (and reported with
	// ErrUnhandled); Panics counts every recovered panic (each attempt).
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
//
// It refuses a Handlers without any handler, and a poller that could not
// follow the owner's cadence: the cadence is in skill.json, read by the
// agent's id, so a client without an agent id (or WithoutSkillCheck) needs
// WithCadence.
func New(c *client.Client, h Handlers, opts ...Option) (*Poller, error) {
	if c == nil {
		return nil, errors.New("poller: nil client")
	}
	if !h.any() {
		return nil, errors.New("poller: Handlers has no handler at all: set one per kind the agent serves (NewOrder at least), and Default to hear of every other event")
	}
	cfg := config{
		jitter: DefaultJitter, concurrency: 4, handlerAttempts: 3, handlerBackoff: time.Second,
		shutdown: 30 * time.Second, grace: DefaultShutdownGrace, dedup: DefaultDedupWindow, skillCheck: true,
	}
	for _, o := range opts {
		if o == nil {
			continue
		}
		if err := o(&cfg); err != nil {
			return nil, fmt.Errorf("poller: %w", err)
		}
	}
	if cfg.skillDir != "" {
		switch {
		case !cfg.skillCheck:
			return nil, errors.New("poller: WithSkillDir syncs the skill package when the skill check sees it change, and WithoutSkillCheck turns the check off: drop one of the two")
		case c.AgentID() == "":
			return nil, errors.New("poller: WithSkillDir: the client has no agent id, so the skill package cannot be read: give the client its id (client.WithAgentID, or use client.Connect)")
		}
	}
	if cfg.cadence == 0 {
		switch {
		case !cfg.skillCheck:
			return nil, errors.New("poller: WithoutSkillCheck stops the poller reading the owner's cadence from skill.json: give the cadence with WithCadence")
		case c.AgentID() == "":
			return nil, errors.New("poller: the client has no agent id, so the owner's cadence in skill.json cannot be read: give the client its id (client.WithAgentID, or use client.Connect), or fix the cadence with poller.WithCadence")
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
	p         *Poller
	j         Journal // nil without a journal
	seen      *recent // without a journal; guarded by seenMu
	seenMu    sync.Mutex
	inflight  sync.Map // event ids queued or running
	n         uint64   // entries so far (entry.n)
	d         *dispatcher
	hctx      context.Context // the handlers' context, cancelled at the shutdown timeout
	abandoned atomic.Bool     // Run returned with handlers still running: they record nothing
	sched     schedule
	cadence   time.Duration
	skill     string // the last content hash seen
	logs      *throttle
}

// Run polls until ctx is done or the platform refuses the key, running
// handlers as events arrive. It polls once at start (after dispatching what the
// journal kept from an earlier run), then on the cadence.
//
// When ctx is cancelled Run stops polling at once (a poll already on the wire
// completes, so the events it drains are not lost), waits for running and
// queued handlers up to the shutdown timeout (then cancels their context, and
// waits up to the shutdown grace for handlers deaf to it), and returns nil
// after a clean drain, or an error wrapping ErrUnfinished. It says what it
// waits for: an INFO line at the cancel, a WARN every 5 seconds.
//
// With WithJournal, Run holds the journal directory's lock for its whole
// life: a second Run on the same directory returns an error wrapping
// ErrJournalLocked at once.
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

	hctx, cancelHandlers := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelHandlers()
	r, replay, err := p.newRun(hctx)
	if err != nil {
		return err
	}
	if r.j != nil {
		defer r.j.Close()
	}
	for _, je := range replay {
		e := fromJournal(je)
		e.replayed = true
		if id := e.id(); id != "" {
			r.inflight.Store(id, true)
		}
		r.queue(e)
	}
	// Said at the moment of the cancel, not after the poll on the wire ends.
	noticed := make(chan struct{})
	stopNotice := context.AfterFunc(ctx, func() { defer close(noticed); r.stopping(ctx) })
	defer func() {
		if !stopNotice() {
			<-noticed // no goroutine outlives Run
		}
	}()

	if p.cfg.statusUpdates {
		if _, err := p.c.SetStatus(ctx, client.StatusParams{Status: models.AgentStatusActive}); err != nil {
			if herrors.IsFatalAuth(err) {
				return r.drain(ctx, cancelHandlers, fmt.Errorf("poller: %w", err))
			}
			p.log.WarnContext(ctx, "heepr poller: could not post status active", "error", err)
		}
	}

	err = r.loop(ctx)
	return r.drain(ctx, cancelHandlers, err)
}

// newRun prepares a Run: its dispatcher, and its journal (opened and locked)
// with the events an earlier run left in it. hctx is the handlers' context.
func (p *Poller) newRun(hctx context.Context) (*run, []JournalEntry, error) {
	r := &run{
		p:       p,
		hctx:    hctx,
		sched:   schedule{jitter: p.cfg.jitter, failure: backoff.Policy{Base: 2 * time.Second, Max: 5 * time.Minute}},
		cadence: p.cfg.cadence,
		logs:    newThrottle(p.log, time.Minute),
	}
	if r.cadence == 0 {
		r.cadence = DefaultCadence
	}
	r.d = newDispatcher(p.cfg.concurrency, r.handle)
	r.sched.maxGap = p.cfg.maxGap
	j := p.cfg.store
	if p.cfg.journal != "" {
		j = &fileJournal{dir: p.cfg.journal, window: p.cfg.dedup, maxEvent: p.c.MaxEventBytes(), log: p.log}
	}
	if j == nil {
		r.seen = newRecent(p.cfg.dedup)
		return r, nil, nil
	}
	left, err := j.Open(hctx)
	if err != nil {
		return nil, nil, fmt.Errorf("poller: %w", err)
	}
	r.j = j
	return r, left, nil
}

// stopping says, at the cancel, what Run waits for and for how long.
func (r *run) stopping(ctx context.Context) {
	running, queued := r.d.load()
	r.p.log.InfoContext(ctx, "heepr poller: stopping: no new polls; waiting for the handlers",
		"running", running, "queued", queued, "up_to", r.p.cfg.shutdown, "then_grace", r.p.cfg.grace)
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
		res := r.pollThrough(ctx)
		start, err := res.At, res.Err
		if p.cfg.onPoll != nil {
			p.cfg.onPoll(ctx, res)
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
			wait = r.sched.retryAfterFailure(failures, retryAfter, r.cadence, time.Now(), lastSuccess.Add(r.sched.gap()))
			if !errors.As(err, new(*client.PartialPollError)) { // poll said so already, at error level
				r.logs.failed(ctx, "heepr poller: poll failed", err, "failures", failures, "retry_in", wait)
			}
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
//
// The answer is read one event at a time, and what was read committed to the
// journal once, at the end (or at a break): durable before the next poll can
// drain anything (for the file journal, written as read, two fsyncs however
// many events there were). Then the events are queued: for a journal other
// than the file one, those its Save hands back.
//
// origin, when not nil, is the poll's context as the poll middleware handed
// it down: every event of this poll carries it to its handler (PollContext).
func (r *run) poll(ctx, origin context.Context) (int, error) {
	p := r.p
	p.stats.polls.Add(1)
	// Bounded on its own, so a dead connection cannot hold Run past a cancel
	// even when the client has no attempt timeout.
	pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), pollTimeout)
	defer cancel()
	// The file journal writes each event as it is read, overlapping the
	// disk with the network, and commits once (issue 12's group commit);
	// any other journal gets the poll's events in one Save at the end.
	var b *batch
	fj, streaming := r.j.(*fileJournal)
	if streaming {
		b = fj.j.begin()
	}
	var fresh []entry
	read := 0
	err := p.c.StreamEvents(pctx, func(pe client.PolledEvent) error {
		read++
		e := classify(pe.Raw, pe.Err)
		e.origin = origin
		if id := e.id(); id != "" {
			if r.isDuplicate(id) {
				p.stats.duplicates.Add(1)
				p.log.DebugContext(ctx, "heepr poller: duplicate event skipped", "event", id, "kind", e.header.Kind)
				return nil
			}
			r.inflight.Store(id, false) // a repeat later in this answer is a duplicate
		}
		if b != nil {
			if err := b.add(&e); err != nil {
				r.journalFailed(ctx, err)
				b.abort()
				b = nil
			}
		}
		fresh = append(fresh, e)
		return nil
	}, client.WithoutRetry())
	switch {
	case b != nil:
		if cerr := b.commit(); cerr != nil {
			r.journalFailed(ctx, cerr)
		}
	case r.j != nil && !streaming && len(fresh) > 0:
		fresh = r.save(pctx, fresh)
	}
	for _, e := range fresh {
		r.queue(e)
	}
	if err != nil {
		p.stats.pollErrors.Add(1)
		if pe, ok := errors.AsType[*client.PartialPollError](err); ok {
			unread := any("unknown")
			if pe.Unread >= 0 {
				unread = pe.Unread
			}
			p.log.ErrorContext(ctx, "heepr poller: the poll's answer broke off; the platform drained the rest with it, so those events are lost",
				"events_kept", len(fresh), "bytes_read", pe.Read, "bytes_not_read", unread, "error", pe.Err)
		}
		return read, err
	}
	return read, nil
}

// save hands one poll's events to the journal and returns those this
// process handles. Those the journal's own workers take are no longer in
// flight here.
func (r *run) save(ctx context.Context, fresh []entry) []entry {
	in := make([]JournalEntry, len(fresh))
	for i, e := range fresh {
		in[i] = toJournal(e)
	}
	out, err := r.j.Save(ctx, in)
	if err != nil {
		r.journalFailed(ctx, err)
	}
	mine := make(map[string]bool, len(out))
	local := make([]entry, len(out))
	for i, je := range out {
		local[i] = fromJournal(je)
		local[i].origin = fresh[0].origin // one poll: one origin for all
		mine[je.ID] = true
	}
	for _, e := range fresh {
		if id := e.id(); id != "" && !mine[id] {
			r.inflight.Delete(id)
		}
	}
	r.p.stats.events.Add(int64(len(fresh) - len(out)))
	return local
}

// journalFailed says the events in hand are handled without the journal.
func (r *run) journalFailed(ctx context.Context, err error) {
	r.p.log.ErrorContext(ctx, "heepr poller: journal write failed; this poll's events are handled without it (a crash now would lose them)", "error", err)
}

func (r *run) isDuplicate(id string) bool {
	if _, busy := r.inflight.Load(id); busy {
		return true
	}
	if r.j != nil {
		return r.j.Handled(id)
	}
	r.seenMu.Lock()
	defer r.seenMu.Unlock()
	return r.seen.has(id)
}

// queue hands e to the dispatcher. It runs on the poll loop (and before it,
// for the replay), so r.n needs no lock.
func (r *run) queue(e entry) {
	r.n++
	e.n = r.n
	r.p.stats.events.Add(1)
	r.d.enqueue(e)
}

// checkSkill reads GET /skill; when the content hash changed, it re-reads
// skill.json for the cadence, syncs WithSkillDir's directory, and calls the
// hook. Only a refused key is an error: anything else leaves the cadence and
// the directory as they were until the next tick, the hash not taken as seen.
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
	var synced []string
	if dir := p.cfg.skillDir; dir != "" {
		// Before the hook: what it reads in dir is the new package whole.
		synced, err = p.c.SyncSkill(ctx, dir)
		if err != nil {
			if herrors.IsFatalAuth(err) {
				return fmt.Errorf("poller: %w", err)
			}
			r.logs.failed(ctx, "heepr poller: skill sync failed", err, "dir", dir, "written", synced)
			return nil // try again next tick: the hash is not taken as seen
		}
		if len(synced) > 0 {
			p.log.InfoContext(ctx, "heepr poller: skill package written", "dir", dir, "files", synced)
		}
	}
	r.skill = s.ContentHash
	if changed {
		p.log.InfoContext(ctx, "heepr poller: skill changed", "content_hash", s.ContentHash, "cadence", r.cadence)
		if p.cfg.onSkillChange != nil {
			p.cfg.onSkillChange(ctx, SkillChange{Skill: *s, Manifest: m, Cadence: r.cadence, Synced: synced})
		}
	}
	return nil
}

// handle runs one event's handler to the end: success, failure reported, or
// cancellation by the shutdown timeout (the event then stays in the journal).
func (r *run) handle(e entry) {
	p := r.p
	info := e.info()
	policy := backoff.Policy{Base: p.cfg.handlerBackoff, Max: time.Minute}
	run := chain(func(ctx context.Context, ev EventInfo) error { return p.h.call(ctx, e, ev) }, p.cfg.middleware)
	for attempt := 1; ; attempt++ {
		if r.hctx.Err() != nil {
			r.unfinished(e)
			return // left in the journal for the next start
		}
		info.Attempt = attempt
		ctx := eventContext(r.hctx, info)
		if e.origin != nil {
			ctx = context.WithValue(ctx, pollCtxKey{}, e.origin)
		}
		err := recovered(ctx, run, info)
		if r.abandoned.Load() {
			return // Run has returned: nothing is recorded, the journal keeps the event
		}
		if err == nil {
			p.stats.handled.Add(1)
			break
		}
		if pe, ok := errors.AsType[*PanicError](err); ok {
			p.stats.panics.Add(1)
			p.log.ErrorContext(ctx, "heepr poller: handler panicked", "event", info.ID, "kind", info.Kind,
				"attempt", attempt, "panic", fmt.Sprint(pe.Value), "stack", string(pe.Stack))
		}
		if errors.Is(err, ErrUnhandled) {
			p.stats.unhandled.Add(1)
			p.log.WarnContext(ctx, "heepr poller: no handler took this event (set its kind's handler, or Handlers.Default); reported and skipped",
				"event", info.ID, "kind", info.Kind, "order", info.OrderID, "error", err)
			r.report(ctx, info, err)
			break
		}
		if r.hctx.Err() != nil {
			r.unfinished(e)
			return
		}
		if attempt >= p.cfg.handlerAttempts || !worthRetrying(err) {
			p.stats.failed.Add(1)
			p.log.ErrorContext(ctx, "heepr poller: handler failed for good", "event", info.ID, "kind", info.Kind, "order", info.OrderID, "error", err)
			r.report(ctx, info, err)
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

// unfinished lets go of an event the shutdown cut short: it stays in the
// journal, and no longer counts as in flight.
func (r *run) unfinished(e entry) {
	if id := e.id(); id != "" {
		r.inflight.Delete(id)
	}
}

// worthRetrying: not a refusal of the platform that a retry cannot change,
// nor a call the client refused for its own arguments.
func worthRetrying(err error) bool {
	if errors.Is(err, client.ErrInvalidArgument) {
		return false
	}
	var apiErr *herrors.APIError
	if errors.As(err, &apiErr) {
		return herrors.IsRetryable(err)
	}
	return true
}

// report hands an event that is done without success to WithOnHandlerError.
func (r *run) report(ctx context.Context, info EventInfo, err error) {
	if fn := r.p.cfg.onHandlerError; fn != nil {
		fn(ctx, info, err)
	}
}

// finish marks the event done: in the journal (or the in-memory set) first,
// then no longer in flight, so a poll in between still sees it as a duplicate.
func (r *run) finish(e entry) {
	id := e.id()
	if r.j != nil {
		if err := r.j.Done(toJournal(e)); err != nil {
			r.p.log.Error("heepr poller: journal update failed; the event may be handled again after a restart", "event", id, "error", err)
		}
	} else if id != "" {
		r.seenMu.Lock()
		r.seen.add(id)
		r.seenMu.Unlock()
	}
	if id != "" {
		r.inflight.Delete(id)
	}
}

// drain stops the handlers: waits up to the shutdown timeout for the queue to
// empty (saying every few seconds what it waits for), then cancels their
// context and waits up to the grace for them to return. Handlers still running
// after that are abandoned, and named in the error.
func (r *run) drain(ctx context.Context, cancelHandlers context.CancelFunc, err error) error {
	p := r.p
	clean := r.waitIdle(ctx, p.cfg.shutdown)
	running, queued := r.d.load()
	cancelHandlers()
	stuck := r.d.stopWithin(p.cfg.grace)
	if len(stuck) > 0 {
		r.abandoned.Store(true)
	}
	if !clean {
		where := "kept in the journal for the next start"
		if r.j == nil {
			where = "lost: no journal"
		}
		uerr := fmt.Errorf("%w: %d events (%s)", ErrUnfinished, running+queued, where)
		if len(stuck) > 0 {
			uerr = fmt.Errorf("%w: %d events (%s); still running %s after their context was cancelled, abandoned: %s",
				ErrUnfinished, running+queued, where, p.cfg.grace, describe(stuck))
			p.log.ErrorContext(ctx, "heepr poller: handlers ignored their cancelled context; abandoned", "events", describe(stuck))
		}
		if err == nil {
			return uerr
		}
		return errors.Join(err, uerr)
	}
	if err == nil && p.cfg.statusUpdates {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if _, serr := p.c.SetStatus(sctx, client.StatusParams{Status: models.AgentStatusPaused}); serr != nil {
			p.log.WarnContext(ctx, "heepr poller: could not post status paused", "error", serr)
		}
	}
	return err
}

// waitIdle waits up to timeout for every handler to finish, with a warning
// every shutdownNag that names what still runs. It reports whether they did.
func (r *run) waitIdle(ctx context.Context, timeout time.Duration) bool {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	nag := time.NewTicker(shutdownNag)
	defer nag.Stop()
	idle := r.d.idleCh()
	start := time.Now()
	for {
		select {
		case <-idle:
			return true
		case <-deadline.C:
			return false
		case <-nag.C:
			_, queued := r.d.load()
			r.p.log.WarnContext(ctx, "heepr poller: stopping: still waiting for handlers",
				"running", describe(r.d.inFlight()), "queued", queued, "waited", time.Since(start).Round(time.Second),
				"cancel_in", (timeout - time.Since(start)).Round(time.Second))
		}
	}
}

// describe names events for a person: "evt_1 (new_order, order ord_1)".
func describe(es []entry) string {
	const most = 10
	var b strings.Builder
	for i, e := range es {
		if i == most {
			fmt.Fprintf(&b, " and %d more", len(es)-most)
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		id := e.id()
		if id == "" {
			id = "an event without a usable id"
		}
		fmt.Fprintf(&b, "%s (%s", id, e.header.Kind)
		if e.header.OrderID != "" {
			fmt.Fprintf(&b, ", order %s", e.header.OrderID)
		}
		b.WriteString(")")
	}
	return b.String()
}
