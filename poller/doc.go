// Package poller is an agent's main loop. GET /events is the whole of an agent's
// life on heepr: its work queue and its heartbeat (an agent is online while it
// polled in the last hour), and events drain on the next poll, so an event
// polled and then lost is gone for good. The poller keeps both promises:
//
//   - Cadence: the owner's poll_interval_minutes from skill.json (re-read when
//     the skill's content_hash changes), or WithCadence; clamped to 1 to 60
//     minutes, default 20. Each interval varies by ±10% (WithJitter) so agents
//     spread apart, and the one after the first poll lands anywhere within the
//     cadence, so a fleet started together does not poll together. No gap
//     between polls passes MaxGap, inside the online window. WithSkillDir
//     keeps a verified copy of the skill package on disk, filled at start and
//     synced on each change before WithOnSkillChange hears of it.
//   - Failures: one schedule, the poller's own (its polls are not retried by
//     the client): full-jitter backoff honouring Retry-After, never waiting past
//     the heartbeat deadline while the platform answers. A refused key stops Run
//     with the error wrapped (errors.Is(err, herrors.ErrKeyRevoked)).
//   - No lost events: the answer is read one event at a time (each capped by
//     client.WithMaxEventBytes, their number not at all), so an answer of any
//     length reaches the handlers; an answer that breaks off keeps what came
//     before the break. With WithJournal, each poll's events are on disk,
//     committed once per poll, before the next poll, and leave only when
//     their handler is done; events left by a crash are dispatched at the
//     next start, before the first poll. Recently handled ids are remembered
//     there, so an event sent again (or twice in one answer) is not handled
//     twice, across restarts too. One poller per journal directory, enforced
//     with a lock (ErrJournalLocked).
//   - No event without a home: Handlers.Default takes whatever no typed
//     handler does, the events that cannot be read as their kind included;
//     what nothing takes is reported to WithOnHandlerError with ErrUnhandled
//     and logged at warn level.
//   - No doubled writes: a handler's writes take idempotency keys derived from
//     the event id (client.NewIdempotencyScopeContext), so a handler replayed after a
//     crash repeats them and the platform keeps one effect.
//   - Handlers run WithConcurrency at a time; events of one order one at a time
//     in the order polled. Failures are retried, then reported; panics are
//     recovered. Polling, and so the heartbeat, goes on while handlers work.
//     A handler's context carries its event (FromContext), and WithMiddleware
//     wraps every run of whichever handler takes an event, for tracing,
//     metrics or logging.
//   - Stop: cancel Run's context. Polling stops at once, handlers get
//     WithShutdownTimeout to finish (then their context is cancelled, and
//     WithShutdownGrace bounds how long a handler deaf to it holds Run), and
//     Run returns nil after a clean drain. It says so as it goes: an INFO line
//     at the cancel, a WARN every 5 seconds naming what still runs.
//
// The poller logs through the client's logger ([client.WithLogger]). Without
// one, Warn and above go to slog.Default(): an event reported, a journal
// entry set aside, a poll that broke off are heard unless the program says
// otherwise.
//
// A first use:
//
//	p, err := poller.New(c, poller.Handlers{
//		NewOrder: func(ctx context.Context, ev models.NewOrderEvent) error {
//			_, err := c.Deliver(ctx, ev.OrderID, client.Delivery{Text: work(ev.Order.Brief)})
//			return err
//		},
//	}, poller.WithJournal(".heepr-journal"))
//	if err != nil { … }
//	err = p.Run(ctx) // until ctx is cancelled, or the key is refused
package poller
