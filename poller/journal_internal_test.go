package poller

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func testEntry(t testing.TB, id string) entry {
	t.Helper()
	e := classify([]byte(fmt.Sprintf(`{"id":%q,"kind":"owner_denied_order","created_at":"2026-11-28T09:00:00Z","order_id":"ord_1","decision":"denied"}`, id)), nil)
	require.NoError(t, e.bad)
	return e
}

// commit writes es as one poll's batch.
func commit(t testing.TB, j *journal, es []entry) {
	t.Helper()
	b := j.begin()
	for i := range es {
		require.NoError(t, b.add(&es[i]))
	}
	require.NoError(t, b.commit())
}

func TestRecentForgetsOldestFirst(t *testing.T) {
	r := newRecent(3)
	for _, id := range []string{"a", "b", "c", "a", "d"} {
		r.add(id)
	}
	assert.False(t, r.has("a"))
	assert.Equal(t, []string{"b", "c", "d"}, r.inOrder())
}

// The seen file is compacted when it doubles the window, and a torn last line
// (a crash mid-append) is skipped, and mended so the next append is whole.
func TestJournalSeenCompactionAndTornLine(t *testing.T) {
	dir := t.TempDir()
	j, left, err := openJournal(dir, 4, 1<<20)
	require.NoError(t, err)
	require.Empty(t, left)
	for i := range 20 {
		es := []entry{testEntry(t, fmt.Sprintf("evt_%d", i))}
		commit(t, j, es)
		require.NoError(t, j.done(es[0]))
	}
	require.NoError(t, j.close())
	b, err := os.ReadFile(filepath.Join(dir, "seen"))
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	assert.LessOrEqual(t, len(lines), 8, "compacted")
	assert.Contains(t, lines[len(lines)-1], `"evt_19"`)

	f, err := os.OpenFile(filepath.Join(dir, "seen"), os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = f.WriteString(`"evt_9`) // torn
	require.NoError(t, err)
	require.NoError(t, f.Close())

	j, _, err = openJournal(dir, 4, 1<<20)
	require.NoError(t, err)
	assert.True(t, j.handled("evt_19"))
	assert.False(t, j.handled("evt_9"))
	es := []entry{testEntry(t, "evt_20")}
	commit(t, j, es)
	require.NoError(t, j.done(es[0]))
	require.NoError(t, j.close())
	j, _, err = openJournal(dir, 4, 1<<20)
	require.NoError(t, err)
	defer j.close()
	assert.True(t, j.handled("evt_20"), "the line after a torn one is whole")
	assert.Empty(t, j.warnings, "a torn last line is expected after a crash: no warning")
}

// A segment is removed when its last line is done; until then, a restart
// replays exactly the lines not done, even after compaction forgot their ids.
func TestJournalSegmentPositions(t *testing.T) {
	dir := t.TempDir()
	j, _, err := openJournal(dir, 2, 1<<20)
	require.NoError(t, err)
	es := make([]entry, 10)
	for i := range es {
		es[i] = testEntry(t, fmt.Sprintf("evt_%d", i))
	}
	commit(t, j, es)
	assert.Equal(t, int64(2), j.syncs.Load(), "one poll, two fsyncs: the file and the directory")
	for _, i := range []int{0, 2, 3, 5, 6, 7, 9} {
		require.NoError(t, j.done(es[i]))
	}
	require.NoError(t, j.close())

	j, left, err := openJournal(dir, 2, 1<<20)
	require.NoError(t, err)
	var ids []string
	for _, e := range left {
		ids = append(ids, e.id())
	}
	assert.Equal(t, []string{"evt_1", "evt_4", "evt_8"}, ids, "the window of 2 forgot most ids, the positions still say what is done")
	for _, e := range left {
		require.NoError(t, j.done(e))
	}
	names, _ := filepath.Glob(filepath.Join(dir, "pending", "*"))
	assert.Empty(t, names, "the segment goes with its last line")
	require.NoError(t, j.close())
}

// The temporary file of a poll a crash cut short holds events the platform
// drained and nobody handled: its whole lines are replayed, the torn one set
// aside.
func TestJournalRecoversACutPoll(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "pending"), 0o700))
	good := `{"v":1,"event":{"id":"evt_1","kind":"new_order","created_at":"2026-11-28T09:00:00Z","order_id":"ord_1"}}`
	tmp := filepath.Join(dir, "pending", "00000000000000000003.jsonl.tmp-42")
	require.NoError(t, os.WriteFile(tmp, []byte(good+"\n"+`{"v":1,"event":{"id":"ev`), 0o600))
	foreign := filepath.Join(dir, "pending", "notes.txt.tmp-1")
	require.NoError(t, os.WriteFile(foreign, nil, 0o600))

	j, left, err := openJournal(dir, 16, 1<<20)
	require.NoError(t, err)
	defer j.close()
	require.Len(t, left, 1)
	assert.Equal(t, "evt_1", left[0].id())
	assert.FileExists(t, filepath.Join(dir, "pending", "00000000000000000003.jsonl.corrupt"))
	assert.FileExists(t, foreign, "a file the journal did not write is left alone")
	assert.Equal(t, uint64(3), j.seq, "new polls number after it")
}

func TestJournalDecodeRejects(t *testing.T) {
	for name, in := range map[string]string{
		"not JSON":      `{`,
		"wrong version": `{"v":2,"event":{"id":"evt_1","kind":"x"}}`,
		"no id":         `{"v":1,"event":{"kind":"new_order"}}`,
		"no event":      `{"v":1}`,
	} {
		_, err := decodeJournalLine([]byte(in))
		assert.Error(t, err, name)
	}
	e, err := decodeJournalLine([]byte(`{"v":1,"event":{"id":"evt_1","kind":"gig_paused","extra":true}}`))
	require.NoError(t, err)
	assert.Equal(t, "evt_1", e.id())
	assert.Contains(t, string(e.raw), `"extra":true`)

	// An element that was not a readable event comes back as it was kept.
	line, err := json.Marshal(journalLine{V: 1, Raw: []byte(`{"id":"evt_2","sf":"xx`), Error: "too large"})
	require.NoError(t, err)
	e, err = decodeJournalLine(line)
	require.NoError(t, err)
	assert.Equal(t, "evt_2", e.id())
	assert.EqualError(t, e.bad, "too large")
	assert.Equal(t, `{"id":"evt_2","sf":"xx`, string(e.raw))
}

func TestClassify(t *testing.T) {
	long := strings.Repeat("x", MaxEventIDBytes+1)
	tests := []struct {
		name, raw  string
		readErr    error
		id, kind   string
		order, bad string
	}{
		{"whole", `{"id":"evt_1","kind":"new_order","created_at":"2026-11-28T09:00:00Z","order_id":"ord_1"}`, nil, "evt_1", "new_order", "ord_1", ""},
		{"bad time", `{"id":"evt_1","kind":"new_order","created_at":"yesterday","order_id":"ord_1"}`, nil, "evt_1", "new_order", "ord_1", "decode event header"},
		{"no id", `{"kind":"new_order","created_at":"2026-11-28T09:00:00Z"}`, nil, "", "new_order", "", "event without an id"},
		{"id too long", `{"id":"` + long + `","kind":"new_order","created_at":"2026-11-28T09:00:00Z"}`, nil, "", "new_order", "", "over the 256 allowed"},
		{"not an object", `5`, nil, "", "", "", "decode event header"},
		{"cut short", `{"id":"evt_7","kind":"scope_change","order_id":"ord_3","sf":"xxxx`, errors.New("too large"), "evt_7", "scope_change", "ord_3", "too large"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := classify([]byte(tt.raw), tt.readErr)
			assert.Equal(t, tt.id, e.id())
			assert.Equal(t, tt.kind, string(e.header.Kind))
			assert.Equal(t, tt.order, e.header.OrderID)
			if tt.bad == "" {
				assert.NoError(t, e.bad)
			} else {
				assert.ErrorContains(t, e.bad, tt.bad)
			}
		})
	}
}

// A poll never takes the number of one the seen file still speaks of, though
// that poll's segment is gone: its lines would read as done already.
func TestJournalNeverReusesASegmentNumber(t *testing.T) {
	dir := t.TempDir()
	j, _, err := openJournal(dir, 16, 1<<20)
	require.NoError(t, err)
	es := []entry{testEntry(t, "evt_1")}
	commit(t, j, es)
	require.NoError(t, j.done(es[0]))
	require.NoError(t, j.close())

	j, left, err := openJournal(dir, 16, 1<<20)
	require.NoError(t, err)
	require.Empty(t, left)
	es = []entry{testEntry(t, "evt_2")}
	commit(t, j, es)
	assert.Equal(t, uint64(2), es[0].seg)
	require.NoError(t, j.close())

	j, left, err = openJournal(dir, 16, 1<<20)
	require.NoError(t, err)
	defer j.close()
	require.Len(t, left, 1, "the second poll's event is pending, not taken for the first's")
	assert.Equal(t, "evt_2", left[0].id())
}

// A seen-file line too long or garbled (a 2 MiB id written by v0.1.0, a
// disk's garbage) is skipped with one warning, never fatal: the lines around
// it still count, and the file is compacted so the next start is clean.
func TestJournalSeenBadLinesSkipped(t *testing.T) {
	dir := t.TempDir()
	seen := `"evt_1"` + "\n" +
		`"` + strings.Repeat("x", 2<<20) + `"` + "\n" + // too long
		`{"id":` + "\n" + // garbled
		"\x00\x01\x02 not json\n" +
		`"evt_2"` + "\n"
	require.NoError(t, os.WriteFile(filepath.Join(dir, "seen"), []byte(seen), 0o600))

	j, left, err := openJournal(dir, 16, 1<<20)
	require.NoError(t, err, "never fatal")
	require.Empty(t, left)
	assert.True(t, j.handled("evt_1"))
	assert.True(t, j.handled("evt_2"), "the lines after the bad ones still count")
	require.Len(t, j.warnings, 1, "one warning for the file")
	assert.Contains(t, j.warnings[0], "3 lines too long or garbled, skipped")
	require.NoError(t, j.close())

	j, _, err = openJournal(dir, 16, 1<<20)
	require.NoError(t, err)
	defer j.close()
	assert.Empty(t, j.warnings, "compacted: the next start is clean")
	assert.True(t, j.handled("evt_1"))
	assert.True(t, j.handled("evt_2"))
}
