package poller

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/heepr/heepr-go/internal/atomicfile"
	"github.com/heepr/heepr-go/internal/filelock"
	"github.com/heepr/heepr-go/internal/regularfile"
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

// journal keeps every polled event on disk until its handler is done with it,
// and the ids of recently handled events, so that neither a crash nor the
// platform sending an event again makes an event lost or handled twice.
//
// Layout of dir:
//
//	lock                   held (flock) by the one poller using the journal
//	pending/<seq>.jsonl    one poll's events, a line each, as they were read:
//	                       {"v":1,"event":{…}}, or for an element that is not
//	                       a readable event {"v":1,"raw":"<base64>","error":"…"}
//	pending/<seq>.jsonl.tmp-*  a segment being written; a crash leaves it
//	pending/<seq>.json     a single event, as v0.1.0 wrote them: still replayed
//	seen                   one line per event done: {"id":…,"seg":…,"pos":…}
//	                       (or a bare JSON string, an id, as v0.1.0 wrote and
//	                       compaction writes)
//
// A poll's events are written as they are read and committed once: the file
// synced, renamed into place, the directory synced. That is two fsyncs per
// poll, however many events it brought. As handlers finish, a line goes to
// seen (synced); a segment whose every line is done is removed. Only the
// journal's own names are touched: anything else in the directory is left
// alone, and entries that are not regular files, cannot be read or are over
// the cap are set aside as <name>.corrupt with a warning, never followed and
// never fatal.
type journal struct {
	dir, pending, seenPath string
	maxLine                int // the longest line read back (segment or seen); longer ones are set aside
	lock                   *filelock.Lock

	mu        sync.Mutex
	seq       uint64 // the highest segment number in use
	seen      *recent
	seenLines int
	seenFile  *os.File
	segs      map[uint64]*segment // committed segments with lines not yet done
	closed    bool

	// warnings are what open set aside or skipped, for the caller to log.
	warnings []string
	// syncs counts the fsyncs made, for the benchmark of group commit.
	syncs atomic.Int64
}

// segment is a committed poll whose events are not all done.
type segment struct {
	path string
	left int          // lines not yet done
	done map[int]bool // lines done, kept for compaction
}

const (
	journalVersion = 1
	segmentExt     = ".jsonl"
	legacyExt      = ".json"
	corruptExt     = ".corrupt"
	legacyTemp     = ".tmp-" // v0.1.0's temporary files, in pending/ and in dir
	// maxSeenLine bounds a line of the seen file: an id of MaxEventIDBytes,
	// JSON-escaped, and its position.
	maxSeenLine = 8*MaxEventIDBytes + 128
)

// journalLine is a line of a segment, or the whole of a v0.1.0 pending file.
type journalLine struct {
	V     int             `json:"v"`
	Event json.RawMessage `json:"event,omitempty"`
	Raw   []byte          `json:"raw,omitempty"`
	Error string          `json:"error,omitempty"`
}

// seenLine is a line of the seen file.
type seenLine struct {
	ID  string `json:"id,omitempty"`
	Seg uint64 `json:"seg,omitempty"`
	Pos int    `json:"pos"`
}

// openJournal opens (creating) the journal in dir, taking its lock, and
// returns the events left pending by an earlier run, oldest first, minus
// those already done. maxEvent is the client's cap on one event.
func openJournal(dir string, window int, maxEvent int64) (*journal, []entry, error) {
	j := &journal{
		dir: dir, pending: filepath.Join(dir, "pending"), seenPath: filepath.Join(dir, "seen"),
		maxLine: int(maxEvent)*4/3 + 4096, // a truncated event in base64, and the line around it
		seen:    newRecent(window), segs: map[uint64]*segment{},
	}
	if err := os.MkdirAll(j.pending, 0o700); err != nil {
		return nil, nil, fmt.Errorf("journal %s: %w", dir, err)
	}
	lock, err := filelock.TryLock(filepath.Join(dir, "lock"))
	if held, ok := errors.AsType[*filelock.HeldError](err); ok {
		return nil, nil, fmt.Errorf("journal %s: %w", dir, &lockedError{holder: held.Holder()})
	}
	if err != nil {
		return nil, nil, fmt.Errorf("journal %s: lock: %w", dir, err)
	}
	j.lock = lock
	left, err := j.load()
	if err != nil {
		_ = j.lock.Close()
		return nil, nil, fmt.Errorf("journal %s: %w", dir, err)
	}
	return j, left, nil
}

// load reads the seen file and the pending entries.
func (j *journal) load() ([]entry, error) {
	// A compaction a crash cut short leaves its temporary file.
	j.removeTemps(j.dir, func(target string) bool { return target == "seen" || target == "" })
	j.removeTemps(j.pending, func(target string) bool { return target == "" })
	done, rewrite := j.loadSeen()

	des, err := os.ReadDir(j.pending)
	if err != nil {
		return nil, err
	}
	var left []entry
	for _, de := range des {
		name := de.Name()
		path := filepath.Join(j.pending, name)
		if target, ok := tempTarget(name); ok && target != "" {
			// A poll a crash cut short while it was written: its events were
			// drained and never dispatched, so what can be read of them is
			// replayed rather than lost.
			if _, ok := segmentSeq(target); !ok || !de.Type().IsRegular() {
				continue
			}
			if err := os.Rename(path, filepath.Join(j.pending, target)); err != nil {
				j.warn("%s: could not recover a poll cut short: %v", path, err)
				continue
			}
			j.warn("%s: recovered the events of a poll a crash cut short", path)
			name, path = target, filepath.Join(j.pending, target)
		}
		seq, isSeg := segmentSeq(name)
		legacySeq, isLegacy := legacySeq(name)
		if !isSeg && !isLegacy {
			continue // not the journal's
		}
		j.seq = max(j.seq, seq, legacySeq)
		if !de.Type().IsRegular() {
			j.setAside(path, fmt.Errorf("%s, not a regular file", regularfile.Kind(de.Type())))
			continue
		}
		if isLegacy {
			e, err := j.readLegacy(path)
			if err != nil {
				j.setAside(path, err)
				continue
			}
			if id := e.id(); id != "" && j.seen.has(id) {
				_ = os.Remove(path) // done; the crash came between noting it and removing the file
				continue
			}
			e.seq0(legacySeq)
			left = append(left, e)
			continue
		}
		es, err := j.readSegment(seq, path, done[seq])
		if err != nil {
			j.setAside(path, err)
			continue
		}
		left = append(left, es...)
	}
	slices.SortStableFunc(left, func(a, b entry) int {
		if c := cmpUint(a.seg, b.seg); c != 0 {
			return c
		}
		return a.pos - b.pos
	})
	if rewrite {
		if err := j.compactLocked(); err != nil {
			return nil, err
		}
	}
	if j.seenFile == nil {
		f, err := os.OpenFile(j.seenPath, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
		if err != nil {
			return nil, err
		}
		j.seenFile = f
	}
	return left, nil
}

// seq0 places a v0.1.0 entry among the segments: before every segment of a
// higher number, as its number says it came.
func (e *entry) seq0(seq uint64) { e.seg, e.pos = seq, -1 }

func cmpUint(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// segmentSeq parses "<seq>.jsonl".
func segmentSeq(name string) (uint64, bool) {
	s, ok := strings.CutSuffix(name, segmentExt)
	if !ok {
		return 0, false
	}
	return parseSeq(s)
}

// legacySeq parses "<seq>.json", v0.1.0's one event per file.
func legacySeq(name string) (uint64, bool) {
	s, ok := strings.CutSuffix(name, legacyExt)
	if !ok {
		return 0, false
	}
	return parseSeq(s)
}

func parseSeq(s string) (uint64, bool) {
	if s == "" || strings.TrimLeft(s, "0123456789") != "" {
		return 0, false
	}
	n, err := strconv.ParseUint(s, 10, 64)
	return n, err == nil && n > 0
}

// tempTarget parses "<target>.tmp-<random>", the temporary name the journal
// gives a file it is writing. v0.1.0 named them ".tmp-<random>", target
// unknown: "" for those.
func tempTarget(name string) (string, bool) {
	if strings.HasPrefix(name, legacyTemp) {
		return "", true
	}
	i := strings.LastIndex(name, atomicfile.TempMark)
	if i <= 0 {
		return "", false
	}
	return name[:i], true
}

// removeTemps removes the journal's own temporary files in dir, those named
// after a target ours accepts.
func (j *journal) removeTemps(dir string, ours func(target string) bool) {
	des, _ := os.ReadDir(dir)
	for _, de := range des {
		if target, ok := tempTarget(de.Name()); ok && ours(target) && de.Type().IsRegular() {
			_ = os.Remove(filepath.Join(dir, de.Name()))
		}
	}
}

func (j *journal) warn(format string, args ...any) {
	j.warnings = append(j.warnings, fmt.Sprintf(format, args...))
}

// setAside renames an entry the journal cannot use to <name>.corrupt, for a
// person to look at, so that it stops neither this start nor the next.
func (j *journal) setAside(path string, why error) {
	bad := path + corruptExt
	if err := os.Rename(path, bad); err != nil {
		j.warn("%s: %v; could not set it aside (%v): it is skipped", path, why, err)
		return
	}
	j.warn("%s: %v; set aside as %s (the journal goes on without it: look at it, then remove it)", path, why, filepath.Base(bad))
}

// loadSeen reads the seen file: the ids into the window, the positions done
// per segment. A line too long or garbled is skipped with a warning; rewrite
// reports that the file should be compacted (a bad line, or a torn last one
// that the next append would garble).
func (j *journal) loadSeen() (done map[uint64]map[int]bool, rewrite bool) {
	done = map[uint64]map[int]bool{}
	f, err := openRegular(j.seenPath)
	if errors.Is(err, fs.ErrNotExist) {
		return done, false
	}
	if err != nil {
		j.setAside(j.seenPath, err)
		return done, false
	}
	defer f.Close()
	br := bufio.NewReader(f)
	bad := 0
	for {
		line, tooLong, err := readLine(br, maxSeenLine)
		if err != nil && len(line) > 0 {
			rewrite = true // torn at the end: the next append would join it
		}
		if tooLong {
			bad++
		} else if len(line) > 0 {
			if l, ok := parseSeenLine(line); ok {
				if l.ID != "" {
					j.seen.add(l.ID)
				}
				if l.Seg != 0 {
					// Never number a new poll like one the seen file still
					// speaks of: its lines would read as done already.
					j.seq = max(j.seq, l.Seg)
					if done[l.Seg] == nil {
						done[l.Seg] = map[int]bool{}
					}
					done[l.Seg][l.Pos] = true
				}
				j.seenLines++
			} else if err == nil {
				bad++ // a torn last line is expected after a crash: not worth a warning
			}
		}
		if err != nil {
			if !errors.Is(err, io.EOF) {
				j.warn("%s: read: %v; the rest is skipped", j.seenPath, err)
			}
			break
		}
	}
	if bad > 0 {
		j.warn("%s: %d lines too long or garbled, skipped", j.seenPath, bad)
		rewrite = true
	}
	return done, rewrite
}

// parseSeenLine reads a line of the seen file: an id as a JSON string, or a
// seenLine object.
func parseSeenLine(line []byte) (seenLine, bool) {
	var l seenLine
	if line[0] == '"' {
		err := json.Unmarshal(line, &l.ID)
		return l, err == nil && l.ID != "" && len(l.ID) <= MaxEventIDBytes
	}
	if json.Unmarshal(line, &l) != nil || len(l.ID) > MaxEventIDBytes || l.Pos < 0 {
		return seenLine{}, false
	}
	return l, l.ID != "" || l.Seg != 0
}

// readLine reads the next line, without its newline. A line over max bytes
// comes back as tooLong, its bytes skipped to its end. At the end of the file
// err is io.EOF, with the last line when it had no newline (a torn write).
func readLine(br *bufio.Reader, max int) (line []byte, tooLong bool, err error) {
	var buf []byte
	for {
		chunk, err := br.ReadSlice('\n')
		if !tooLong {
			if len(buf)+len(chunk) > max+1 {
				tooLong, buf = true, nil
			} else {
				buf = append(buf, chunk...)
			}
		}
		switch {
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case err != nil:
			return buf, tooLong, err
		case tooLong:
			return nil, true, nil
		default:
			return buf[:len(buf)-1], false, nil
		}
	}
}

// readLegacy reads a v0.1.0 pending file: one event, within the cap.
func (j *journal) readLegacy(path string) (entry, error) {
	f, err := openRegular(path)
	if err != nil {
		return entry{}, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, int64(j.maxLine)+1))
	if err != nil {
		return entry{}, err
	}
	if len(b) > j.maxLine {
		return entry{}, fmt.Errorf("over the %d-byte cap", j.maxLine)
	}
	e, err := decodeJournalLine(b)
	if err != nil {
		return entry{}, err
	}
	e.path = path
	return e, nil
}

// readSegment reads a committed segment, returning its lines not yet done.
// Lines that do not decode are copied to <path>.corrupt with a warning.
func (j *journal) readSegment(seq uint64, path string, done map[int]bool) ([]entry, error) {
	f, err := openRegular(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	br := bufio.NewReader(f)
	seg := &segment{path: path, done: done}
	if seg.done == nil {
		seg.done = map[int]bool{}
	}
	var left []entry
	var corrupt [][]byte
	for pos := 0; ; pos++ {
		line, tooLong, err := readLine(br, j.maxLine)
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, err
		}
		if err != nil && len(line) == 0 && !tooLong {
			break
		}
		if !seg.done[pos] {
			var e entry
			derr := fmt.Errorf("line over the %d-byte cap", j.maxLine)
			if !tooLong {
				e, derr = decodeJournalLine(line)
			}
			switch {
			case derr != nil:
				corrupt = append(corrupt, fmt.Appendf(nil, "line %d: %v: %s", pos+1, derr, truncate(line, 256)))
			case e.id() != "" && j.seen.has(e.id()):
				// done under its id alone (a compaction kept the id, not the place)
			default:
				e.seg, e.pos = seq, pos
				left = append(left, e)
				seg.left++
			}
		}
		if err != nil {
			break
		}
	}
	if len(corrupt) > 0 {
		bad := path + corruptExt
		if werr := atomicfile.WriteFile(bad, append(bytes.Join(corrupt, []byte("\n")), '\n'), 0o600); werr != nil {
			j.warn("%s: %d lines do not decode and could not be set aside (%v): skipped", path, len(corrupt), werr)
		} else {
			j.warn("%s: %d lines do not decode: set aside in %s", path, len(corrupt), filepath.Base(bad))
		}
	}
	if seg.left == 0 {
		_ = os.Remove(path) // every line done; the crash came before its removal
		return nil, nil
	}
	j.segs[seq] = seg
	return left, nil
}

// lockedError is the error of a journal another poller holds.
type lockedError struct{ holder string }

func (e *lockedError) Error() string {
	return "in use by another poller (" + e.holder + "); one poller per journal directory: give each poller its own WithJournal"
}

func (e *lockedError) Is(target error) bool { return target == ErrJournalLocked }

// openRegular opens a journal file: a regular file, never through a link,
// never blocking on a FIFO.
func openRegular(path string) (*os.File, error) { return regularfile.Open(path, false) }

func truncate(b []byte, n int) []byte {
	if len(b) > n {
		return b[:n]
	}
	return b
}

// decodeJournalLine reads a segment's line, or a v0.1.0 pending file.
func decodeJournalLine(b []byte) (entry, error) {
	var l journalLine
	if err := json.Unmarshal(b, &l); err != nil {
		return entry{}, fmt.Errorf("not a journal entry: %w", err)
	}
	if l.V != journalVersion {
		return entry{}, fmt.Errorf("journal entry version %d, want %d", l.V, journalVersion)
	}
	if l.Event == nil {
		if l.Error == "" {
			return entry{}, errors.New("journal entry without an event")
		}
		return classify(l.Raw, errors.New(l.Error)), nil
	}
	e := classify(l.Event, nil)
	if errors.Is(e.bad, errNoID) {
		return entry{}, errors.New("journal entry: event without an id")
	}
	return e, nil
}

// batch is one poll's events on their way into the journal: written as they
// are read, committed once. The file is created with the first event.
type batch struct {
	j    *journal
	seq  uint64
	f    *os.File
	w    *bufio.Writer
	n    int
	line bytes.Buffer
}

func (j *journal) begin() *batch { return &batch{j: j} }

// add writes e as the batch's next line and records its place in e.
func (b *batch) add(e *entry) error {
	if b.f == nil {
		b.j.mu.Lock()
		b.j.seq++
		b.seq = b.j.seq
		b.j.mu.Unlock()
		f, err := os.CreateTemp(b.j.pending, fmt.Sprintf("%020d%s%s*", b.seq, segmentExt, atomicfile.TempMark))
		if err != nil {
			return fmt.Errorf("journal %s: %w", b.j.dir, err)
		}
		b.f, b.w = f, bufio.NewWriterSize(f, 64<<10)
	}
	b.line.Reset()
	if e.bad == nil {
		b.line.WriteString(`{"v":1,"event":`)
		if bytes.ContainsAny(e.raw, "\r\n") { // one line, whatever the platform's layout
			if err := json.Compact(&b.line, e.raw); err != nil {
				return fmt.Errorf("journal %s: %w", b.j.dir, err)
			}
		} else {
			b.line.Write(e.raw)
		}
		b.line.WriteString("}\n")
	} else {
		line, err := json.Marshal(journalLine{V: journalVersion, Raw: e.raw, Error: e.bad.Error()})
		if err != nil {
			return fmt.Errorf("journal %s: %w", b.j.dir, err)
		}
		b.line.Write(line)
		b.line.WriteByte('\n')
	}
	if _, err := b.w.Write(b.line.Bytes()); err != nil {
		return fmt.Errorf("journal %s: %w", b.j.dir, err)
	}
	e.seg, e.pos = b.seq, b.n
	b.n++
	return nil
}

// commit makes the batch durable: flushed, synced, renamed into place, the
// directory synced. A batch without events writes nothing.
func (b *batch) commit() error {
	if b.f == nil {
		return nil
	}
	j := b.j
	err := b.w.Flush()
	if err == nil {
		err = b.f.Sync()
		j.syncs.Add(1)
	}
	if cerr := b.f.Close(); err == nil {
		err = cerr
	}
	path := filepath.Join(j.pending, fmt.Sprintf("%020d%s", b.seq, segmentExt))
	if err == nil {
		err = os.Rename(b.f.Name(), path)
	}
	if err == nil {
		err = atomicfile.SyncDir(j.pending)
		j.syncs.Add(1)
	}
	if err != nil {
		_ = os.Remove(b.f.Name())
		return fmt.Errorf("journal %s: %w", j.dir, err)
	}
	j.mu.Lock()
	j.segs[b.seq] = &segment{path: path, left: b.n, done: map[int]bool{}}
	j.mu.Unlock()
	return nil
}

// abort drops a batch that failed: its events are handled without the journal.
func (b *batch) abort() {
	if b.f != nil {
		_ = b.f.Close()
		_ = os.Remove(b.f.Name())
	}
}

// handled reports whether id was handled recently.
func (j *journal) handled(id string) bool {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.seen.has(id)
}

// done records that e's handler is finished with it (succeeded, or failed and
// was reported): first a line in the seen file, synced, then, when it was the
// last of its segment, the removal of the segment. A crash between the two
// leaves a segment whose lines are all done: removed at the next open.
func (j *journal) done(e entry) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.closed {
		return nil // Run has returned: the event stays for the next start
	}
	l := seenLine{ID: e.id()}
	seg := j.segs[e.seg]
	if e.path == "" && seg != nil {
		l.Seg, l.Pos = e.seg, e.pos
	}
	if l.ID == "" && l.Seg == 0 {
		return nil // not in the journal (its write failed) and nothing to remember
	}
	line, _ := json.Marshal(l)
	if _, err := j.seenFile.Write(append(line, '\n')); err != nil {
		return fmt.Errorf("journal %s: %w", j.dir, err)
	}
	if err := j.seenFile.Sync(); err != nil {
		return fmt.Errorf("journal %s: %w", j.dir, err)
	}
	if l.ID != "" {
		j.seen.add(l.ID)
	}
	j.seenLines++
	switch {
	case e.path != "":
		if err := os.Remove(e.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("journal %s: %w", j.dir, err)
		}
	case seg != nil:
		seg.done[e.pos] = true
		if seg.left--; seg.left == 0 {
			delete(j.segs, e.seg)
			if err := os.Remove(seg.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("journal %s: %w", j.dir, err)
			}
		}
	}
	if j.seenLines > 2*(j.seen.n+j.livePositions()) {
		return j.compactLocked()
	}
	return nil
}

func (j *journal) livePositions() int {
	n := 0
	for _, s := range j.segs {
		n += len(s.done)
	}
	return n
}

// compactLocked rewrites the seen file with what it must still say: the ids
// still remembered, and the lines done of segments still pending.
func (j *journal) compactLocked() error {
	var buf bytes.Buffer
	ids := j.seen.inOrder()
	for _, id := range ids {
		line, _ := json.Marshal(id)
		buf.Write(line)
		buf.WriteByte('\n')
	}
	n := len(ids)
	for seq, s := range j.segs {
		for pos := range s.done {
			line, _ := json.Marshal(seenLine{Seg: seq, Pos: pos})
			buf.Write(line)
			buf.WriteByte('\n')
			n++
		}
	}
	if err := atomicfile.Write(j.seenPath, buf.Bytes(), 0o600); err != nil {
		return fmt.Errorf("journal %s: compact: %w", j.dir, err)
	}
	if err := atomicfile.SyncDir(j.dir); err != nil {
		return err
	}
	if j.seenFile != nil {
		_ = j.seenFile.Close()
	}
	f, err := os.OpenFile(j.seenPath, os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("journal %s: %w", j.dir, err)
	}
	j.seenFile, j.seenLines = f, n
	return nil
}

// close releases the journal and its lock. Handlers still running when it
// closes record nothing: their events stay for the next start.
func (j *journal) close() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.closed {
		return nil
	}
	j.closed = true
	err := j.seenFile.Close()
	if lerr := j.lock.Close(); err == nil {
		err = lerr
	}
	return err
}
