package poller

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/heepr/heepr-go/internal/atomicfile"
	"github.com/heepr/heepr-go/models"
)

// DefaultDedupWindow is how many recently handled event ids the poller
// remembers to skip an event the platform sends again.
const DefaultDedupWindow = 4096

// recent is a bounded set of ids: the newest n, forgotten oldest first. It
// grows as ids arrive, so an idle poller pays nothing for a large window.
type recent struct {
	n    int
	ids  map[string]struct{}
	ring []string
	next int // where the next id goes once the ring is full
}

func newRecent(n int) *recent { return &recent{n: n, ids: map[string]struct{}{}} }

func (r *recent) has(id string) bool { _, ok := r.ids[id]; return ok }

func (r *recent) add(id string) {
	if r.has(id) || r.n == 0 {
		return
	}
	r.ids[id] = struct{}{}
	if len(r.ring) < r.n {
		r.ring = append(r.ring, id)
		return
	}
	delete(r.ids, r.ring[r.next])
	r.ring[r.next] = id
	r.next = (r.next + 1) % r.n
}

// inOrder lists the ids oldest first.
func (r *recent) inOrder() []string {
	if len(r.ring) < r.n {
		return append([]string(nil), r.ring...)
	}
	return append(append([]string(nil), r.ring[r.next:]...), r.ring[:r.next]...)
}

// entry is one polled event on its way to a handler.
type entry struct {
	seq    uint64
	event  models.Event
	header models.EventHeader
	path   string // its journal file, "" without a journal
}

// journal keeps every polled event on disk until its handler is done with it,
// and the ids of recently handled events, so that neither a crash nor the
// platform sending an event again makes an event lost or handled twice.
//
// Layout: dir/pending/<seq>.json, one event each, written through a
// temporary file that is synced and renamed, then the directory synced;
// dir/seen, the recently handled ids, one JSON string per line, appended and
// synced as handlers finish and compacted when it doubles.
type journal struct {
	dir, pending, seenPath string

	mu        sync.Mutex
	seq       uint64
	seen      *recent
	seenLines int
	seenFile  *os.File
	corrupt   []string // files set aside at open, for the caller to report
}

// journalFile is the content of a pending file.
type journalFile struct {
	V     int             `json:"v"`
	Event json.RawMessage `json:"event"`
}

// openJournal opens (creating) the journal in dir and returns the events left
// pending by an earlier run, oldest first, minus those already handled.
func openJournal(dir string, window int) (*journal, []entry, error) {
	j := &journal{dir: dir, pending: filepath.Join(dir, "pending"), seenPath: filepath.Join(dir, "seen"), seen: newRecent(window)}
	if err := os.MkdirAll(j.pending, 0o700); err != nil {
		return nil, nil, fmt.Errorf("journal %s: %w", dir, err)
	}
	// A compaction a crash cut short leaves its temporary file here.
	if olds, _ := filepath.Glob(filepath.Join(dir, atomicfile.TempPrefix+"*")); len(olds) > 0 {
		for _, o := range olds {
			_ = os.Remove(o)
		}
	}
	if err := j.loadSeen(); err != nil {
		return nil, nil, err
	}
	names, err := os.ReadDir(j.pending)
	if err != nil {
		return nil, nil, fmt.Errorf("journal %s: %w", dir, err)
	}
	var left []entry
	for _, de := range names {
		name := de.Name()
		path := filepath.Join(j.pending, name)
		if strings.HasPrefix(name, atomicfile.TempPrefix) {
			_ = os.Remove(path) // a write a crash cut short: its event was never acknowledged to anyone
			continue
		}
		seqStr, ok := strings.CutSuffix(name, ".json")
		seq, err := strconv.ParseUint(seqStr, 10, 64)
		if !ok || err != nil {
			continue // not ours (or already set aside)
		}
		j.seq = max(j.seq, seq)
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, nil, fmt.Errorf("journal %s: %w", dir, err)
		}
		e, err := decodeJournalFile(b)
		if err != nil {
			// Set it aside rather than fail every start or lose it silently.
			bad := path + ".corrupt"
			_ = os.Rename(path, bad)
			j.corrupt = append(j.corrupt, fmt.Sprintf("%s: %v", bad, err))
			continue
		}
		e.seq, e.path = seq, path
		if j.seen.has(e.header.ID) {
			_ = os.Remove(path) // handled; the crash came between noting it and removing the file
			continue
		}
		left = append(left, e)
	}
	slices.SortFunc(left, func(a, b entry) int { return int64cmp(a.seq, b.seq) })
	f, err := os.OpenFile(j.seenPath, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, nil, fmt.Errorf("journal %s: %w", dir, err)
	}
	j.seenFile = f
	return j, left, nil
}

func int64cmp(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// decodeJournalFile reads a pending file: an event that must have an id.
func decodeJournalFile(b []byte) (entry, error) {
	var f journalFile
	if err := json.Unmarshal(b, &f); err != nil {
		return entry{}, fmt.Errorf("not a journal file: %w", err)
	}
	if f.V != 1 {
		return entry{}, fmt.Errorf("journal file version %d, want 1", f.V)
	}
	var ev models.Event
	if err := ev.UnmarshalJSON(f.Event); err != nil {
		return entry{}, err
	}
	h, err := ev.Header()
	if err != nil {
		return entry{}, err
	}
	if h.ID == "" {
		return entry{}, errors.New("journal file: event without an id")
	}
	return entry{event: ev, header: h}, nil
}

// loadSeen reads the seen file; a line that does not decode (a torn last
// write) is skipped.
func (j *journal) loadSeen() error {
	f, err := os.Open(j.seenPath)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("journal %s: %w", j.dir, err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for sc.Scan() {
		var id string
		if json.Unmarshal(sc.Bytes(), &id) == nil && id != "" {
			j.seen.add(id)
			j.seenLines++
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("journal %s: seen: %w", j.dir, err)
	}
	return nil
}

// add writes events durably, one file each, before the caller polls again.
func (j *journal) add(evs []entry) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	for i := range evs {
		raw, err := evs[i].event.MarshalJSON()
		if err != nil {
			return err
		}
		b, err := json.Marshal(journalFile{V: 1, Event: raw})
		if err != nil {
			return err
		}
		j.seq++
		path := filepath.Join(j.pending, fmt.Sprintf("%020d.json", j.seq))
		if err := atomicfile.Write(path, b, 0o600); err != nil {
			return fmt.Errorf("journal %s: %w", j.dir, err)
		}
		evs[i].seq, evs[i].path = j.seq, path
	}
	return atomicfile.SyncDir(j.pending)
}

// handled reports whether id was handled recently.
func (j *journal) handled(id string) bool {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.seen.has(id)
}

// done records that e's handler is finished with it (succeeded, or failed and
// was reported): first its id in the seen file, synced, then the removal of its
// file. A crash between the two leaves a file whose id is seen: skipped.
func (j *journal) done(e entry) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	line, _ := json.Marshal(e.header.ID)
	if _, err := j.seenFile.Write(append(line, '\n')); err != nil {
		return fmt.Errorf("journal %s: %w", j.dir, err)
	}
	if err := j.seenFile.Sync(); err != nil {
		return fmt.Errorf("journal %s: %w", j.dir, err)
	}
	j.seen.add(e.header.ID)
	j.seenLines++
	if e.path != "" {
		if err := os.Remove(e.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("journal %s: %w", j.dir, err)
		}
	}
	if j.seenLines > 2*j.seen.n {
		return j.compactLocked()
	}
	return nil
}

// compactLocked rewrites the seen file with the ids still remembered.
func (j *journal) compactLocked() error {
	var buf bytes.Buffer
	ids := j.seen.inOrder()
	for _, id := range ids {
		line, _ := json.Marshal(id)
		buf.Write(line)
		buf.WriteByte('\n')
	}
	if err := atomicfile.Write(j.seenPath, buf.Bytes(), 0o600); err != nil {
		return fmt.Errorf("journal %s: compact: %w", j.dir, err)
	}
	if err := atomicfile.SyncDir(j.dir); err != nil {
		return err
	}
	_ = j.seenFile.Close()
	f, err := os.OpenFile(j.seenPath, os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("journal %s: %w", j.dir, err)
	}
	j.seenFile, j.seenLines = f, len(ids)
	return nil
}

func (j *journal) close() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.seenFile.Close()
}
