package river

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	rq "github.com/riverqueue/river"

	"github.com/heepr/heepr-go/poller"
)

// waitTurn is how long a job whose order has an earlier event not yet done
// steps back before it asks again. River makes a job snoozed for less than
// its scheduler's interval available again at once, so this costs a fetch,
// not the scheduler's five seconds.
const waitTurn = 200 * time.Millisecond

// worker runs one event's handler on whichever replica fetched its job.
type worker struct {
	rq.WorkerDefaults[eventArgs]
	pool    *pgxpool.Pool
	h       poller.Handlers
	log     *slog.Logger
	cfg     *config
	handled func(eventArgs) // for tests and stats; may be nil
}

// earlier asks whether an event of the same order polled before this one is
// still to be finished (available, scheduled, retryable or running).
const earlier = `SELECT EXISTS (SELECT 1 FROM river_job WHERE kind = $1 AND args->>'order_id' = $2 AND id < $3
	AND state NOT IN ('completed', 'discarded', 'cancelled'))`

// Work runs the handler for one attempt. An event whose order has an earlier
// event not done yet steps back (a snooze, which costs no attempt): events of
// one order run one at a time, in the order polled, whichever replica fetched
// them. A handler error no retry can mend cancels the job (reported to
// WithOnHandlerError at once); any other is retried by River on WithHandlerRetry's
// backoff, and reported when the last attempt fails.
func (w *worker) Work(ctx context.Context, job *rq.Job[eventArgs]) error {
	a := job.Args
	if a.OrderID != "" {
		var wait bool
		if err := w.pool.QueryRow(ctx, earlier, eventKind, a.OrderID, job.ID).Scan(&wait); err != nil {
			return err // a retry, on River's backoff: the database is what failed
		}
		if wait {
			return rq.JobSnooze(waitTurn/2 + rand.N(waitTurn))
		}
	}
	e := poller.NewJournalEntry(a.Raw, a.Err)
	err := w.h.Handle(ctx, e, job.Attempt, job.Attempt > 1, w.cfg.middleware...)
	if err == nil {
		if w.handled != nil {
			w.handled(a)
		}
		return nil
	}
	info := poller.EventInfo{ID: e.ID, OrderID: e.OrderID, Raw: e.Raw, Attempt: job.Attempt, DecodeError: e.Err}
	if pe, ok := errors.AsType[*poller.PanicError](err); ok {
		w.log.ErrorContext(ctx, "heepr river: handler panicked", "event", e.ID, "attempt", job.Attempt, "panic", pe.Value, "stack", string(pe.Stack))
	}
	if poller.IsPermanent(err) {
		w.log.WarnContext(ctx, "heepr river: handler failed in a way no retry mends; reported and cancelled", "event", e.ID, "order", e.OrderID, "error", err)
		w.report(ctx, info, err)
		return rq.JobCancel(err)
	}
	if job.Attempt >= job.MaxAttempts {
		w.log.ErrorContext(ctx, "heepr river: handler failed for good", "event", e.ID, "order", e.OrderID, "error", err)
		w.report(ctx, info, err)
	}
	return err
}

func (w *worker) report(ctx context.Context, info poller.EventInfo, err error) {
	if fn := w.cfg.onHandlerError; fn != nil {
		fn(poller.NewContext(ctx, info), info, err)
	}
}

// NextRetry is the poller's backoff: WithHandlerRetry's base, doubling, full
// jitter, capped at a minute.
func (w *worker) NextRetry(job *rq.Job[eventArgs]) time.Time {
	d := w.cfg.handlerBackoff << min(max(job.Attempt-1, 0), 20)
	d = min(d, time.Minute)
	return time.Now().Add(rand.N(d + 1))
}

// Timeout is WithJobTimeout's.
func (w *worker) Timeout(*rq.Job[eventArgs]) time.Duration { return w.cfg.jobTimeout }
