package poller

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
)

// Journal is where a Poller keeps the events it polls until they are
// handled, so that neither a crash nor an event the platform sends again
// makes one lost or handled twice. WithJournal gives a Poller the file
// journal, a directory on this machine's disk; WithEventJournal gives it any
// other, such as the one of github.com/heepr/heepr-go/river, a job queue in
// PostgreSQL that every replica of an agent works from.
//
// Run calls Open once before its first poll and Close once at its end; Save
// once per poll that brought events, from the poll loop; Handled from the
// poll loop; Done from the handlers' goroutines, concurrently. A Journal is
// used by one Run at a time.
type Journal interface {
	// Open claims the journal for one Run and returns the events an earlier
	// Run left unfinished, oldest first: Run hands them to its handlers
	// before it polls. A journal that another Run holds returns an error
	// wrapping ErrJournalLocked.
	Open(ctx context.Context) ([]JournalEntry, error)
	// Save makes one poll's events durable, in one commit, before Run polls
	// again (and before any of them is handled). It returns the entries Run
	// is to hand to its own handlers: all of them for a journal whose events
	// this process handles, none for one whose own workers handle them. On
	// an error Run logs it and still handles what Save returned.
	Save(ctx context.Context, entries []JournalEntry) ([]JournalEntry, error)
	// Handled reports whether the event with this id was handled recently or
	// is held already: Run skips it as a repeat.
	Handled(id string) bool
	// Done records that Run's handler is finished with e (it succeeded, or
	// failed and was reported): e leaves the journal. e is an entry Open or
	// Save returned.
	Done(e JournalEntry) error
	// Close releases the journal. Handlers that finish after it record
	// nothing: their events stay for the next Open.
	Close() error
}

// JournalEntry is one polled event as a Journal keeps it.
type JournalEntry struct {
	// ID is the event's id, or "" when it has none that is usable (see
	// MaxEventIDBytes): such an event cannot be deduplicated.
	ID string
	// OrderID is the event's order, as far as it could be read.
	OrderID string
	// Raw is the event's JSON as polled (its first bytes only when it was
	// over the client's WithMaxEventBytes).
	Raw json.RawMessage
	// Err is why the event cannot be read as its kind, nil for most: it goes
	// to Handlers.Default with this error. A journal keeps its text.
	Err error

	e entry // the poller's own reading of it, and the file journal's place
}

// NewJournalEntry returns the entry of an event read back from a journal:
// raw as it was saved, and the text of its Err ("" when it had none).
func NewJournalEntry(raw json.RawMessage, errText string) JournalEntry {
	var readErr error
	if errText != "" {
		readErr = errors.New(errText)
	}
	return toJournal(classify(raw, readErr))
}

func toJournal(e entry) JournalEntry {
	return JournalEntry{ID: e.id(), OrderID: e.header.OrderID, Raw: e.raw, Err: e.bad, e: e}
}

// fromJournal is the entry to dispatch: the poller's own reading when the
// journal kept it, else the event read again.
func fromJournal(je JournalEntry) entry {
	if je.e.raw != nil || je.e.bad != nil || je.e.header.ID != "" {
		return je.e
	}
	return classify(je.Raw, je.Err)
}

// WithEventJournal keeps polled events in j, a Journal other than the file
// journal of WithJournal (which it replaces).
func WithEventJournal(j Journal) Option {
	return func(c *config) error {
		if j == nil {
			return errors.New("WithEventJournal: nil journal")
		}
		c.store, c.journal = j, ""
		return nil
	}
}

// fileJournal is the Journal of WithJournal: a directory on this machine.
type fileJournal struct {
	dir      string
	window   int
	maxEvent int64
	log      *slog.Logger
	j        *journal
}

func (f *fileJournal) Open(ctx context.Context) ([]JournalEntry, error) {
	j, left, err := openJournal(f.dir, f.window, f.maxEvent)
	if err != nil {
		return nil, err
	}
	f.j = j
	for _, w := range j.warnings {
		f.log.WarnContext(ctx, "heepr poller: journal entry skipped or set aside", "problem", w)
	}
	out := make([]JournalEntry, len(left))
	for i, e := range left {
		out[i] = toJournal(e)
	}
	return out, nil
}

// Save writes the poll's events as one segment: two fsyncs however many.
func (f *fileJournal) Save(_ context.Context, entries []JournalEntry) ([]JournalEntry, error) {
	b := f.j.begin()
	for i := range entries {
		if err := b.add(&entries[i].e); err != nil {
			b.abort()
			for i := range entries {
				entries[i].e.seg, entries[i].e.pos = 0, 0
			}
			return entries, err
		}
	}
	return entries, b.commit()
}

func (f *fileJournal) Handled(id string) bool    { return f.j.handled(id) }
func (f *fileJournal) Done(e JournalEntry) error { return f.j.done(e.e) }
func (f *fileJournal) Close() error              { return f.j.close() }
