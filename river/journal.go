package river

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	rq "github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/heepr/heepr-go/poller"
)

// eventKind is the River job kind of a polled event.
const eventKind = "heepr_event"

// eventArgs is one polled event as a River job. Key is what makes it unique:
// the event's id, or for an event without a usable id a random key (it
// cannot be deduplicated, and must not be taken for another).
type eventArgs struct {
	Key     string `json:"key" river:"unique"`
	OrderID string `json:"order_id,omitempty"`
	// Raw is the event as polled: bytes, not JSON, since an event over the
	// client's size cap is kept truncated.
	Raw []byte `json:"raw"`
	// Err is the text of why the event cannot be read as its kind.
	Err string `json:"err,omitempty"`
}

func (eventArgs) Kind() string { return eventKind }

// allStates makes an event unique for as long as River keeps its job: done
// (completed), failed for good (discarded) or cancelled included, as the
// file journal remembers failed events as handled too.
var allStates = []rivertype.JobState{
	rivertype.JobStateAvailable, rivertype.JobStateCancelled, rivertype.JobStateCompleted, rivertype.JobStateDiscarded,
	rivertype.JobStatePending, rivertype.JobStateRetryable, rivertype.JobStateRunning, rivertype.JobStateScheduled,
}

// journal is the poller.Journal of this package: Save inserts a poll's
// events as River jobs in one transaction; the workers of every replica
// handle them, so Save hands none back to the poller.
type journal struct {
	pool     *pgxpool.Pool
	rc       *rq.Client[pgx.Tx]
	log      *slog.Logger
	attempts int
	queue    string
	inserted func(n, skipped int) // for tests and stats; may be nil
}

func (j *journal) Open(context.Context) ([]poller.JournalEntry, error) { return nil, nil }
func (j *journal) Handled(string) bool                                 { return false }
func (j *journal) Done(poller.JournalEntry) error                      { return nil }
func (j *journal) Close() error                                        { return nil }

// Save inserts entries as jobs, one at a time in one transaction, so their
// job ids (which the workers order an order's events by) follow the poll's
// order. The poll's events were drained from the platform: a failing
// database is retried, with backoff, until ctx ends (the poller gives Save a
// context bounded on its own, not cancelled with Run's), rather than losing
// them.
func (j *journal) Save(ctx context.Context, entries []poller.JournalEntry) ([]poller.JournalEntry, error) {
	args := make([]eventArgs, len(entries))
	for i, e := range entries {
		args[i] = eventArgs{Key: e.ID, OrderID: e.OrderID, Raw: e.Raw}
		if e.ID == "" {
			args[i].Key = "no-id:" + randomKey()
		}
		if e.Err != nil {
			args[i].Err = e.Err.Error()
		}
	}
	opts := &rq.InsertOpts{Queue: j.queue, MaxAttempts: j.attempts, UniqueOpts: rq.UniqueOpts{ByArgs: true, ByState: allStates}}
	wait := 100 * time.Millisecond
	for {
		skipped := 0
		err := pgx.BeginFunc(ctx, j.pool, func(tx pgx.Tx) error {
			skipped = 0
			for _, a := range args {
				res, err := j.rc.InsertTx(ctx, tx, a, opts)
				if err != nil {
					return err
				}
				if res.UniqueSkippedAsDuplicate {
					skipped++
				}
			}
			return nil
		})
		if err == nil {
			if j.inserted != nil {
				j.inserted(len(args)-skipped, skipped)
			}
			return nil, nil
		}
		j.log.ErrorContext(ctx, "heepr river: could not insert a poll's events; retrying (no poll until they are in)", "events", len(args), "error", err, "retry_in", wait)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("heepr river: %d polled events not inserted, lost: %w", len(args), err)
		case <-t.C:
		}
		wait = min(2*wait, 5*time.Second)
	}
}

func randomKey() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
