package poller

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/heepr/heepr-go/models"
)

func testEntry(t *testing.T, id string) entry {
	t.Helper()
	var ev models.Event
	require.NoError(t, json.Unmarshal([]byte(fmt.Sprintf(`{"id":%q,"kind":"owner_denied_order","created_at":"2026-11-28T09:00:00Z","order_id":"ord_1","decision":"denied"}`, id)), &ev))
	h, err := ev.Header()
	require.NoError(t, err)
	return entry{event: ev, header: h}
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
// (a crash mid-append) is skipped.
func TestJournalSeenCompactionAndTornLine(t *testing.T) {
	dir := t.TempDir()
	j, left, err := openJournal(dir, 4)
	require.NoError(t, err)
	require.Empty(t, left)
	for i := range 20 {
		e := testEntry(t, fmt.Sprintf("evt_%d", i))
		es := []entry{e}
		require.NoError(t, j.add(es))
		require.NoError(t, j.done(es[0]))
	}
	require.NoError(t, j.close())
	b, err := os.ReadFile(filepath.Join(dir, "seen"))
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	assert.LessOrEqual(t, len(lines), 8, "compacted")
	assert.Equal(t, `"evt_19"`, lines[len(lines)-1])

	f, err := os.OpenFile(filepath.Join(dir, "seen"), os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = f.WriteString(`"evt_9`) // torn
	require.NoError(t, err)
	require.NoError(t, f.Close())

	j, _, err = openJournal(dir, 4)
	require.NoError(t, err)
	defer j.close()
	assert.True(t, j.handled("evt_19"))
	assert.False(t, j.handled("evt_9"))
	// Numbering goes on from the highest file still pending; none is, so
	// new files start again at 1 without clashing with anything.
	assert.Zero(t, j.seq)
}

func TestJournalDecodeRejects(t *testing.T) {
	for name, in := range map[string]string{
		"not JSON":      `{`,
		"wrong version": `{"v":2,"event":{"id":"evt_1","kind":"x"}}`,
		"no id":         `{"v":1,"event":{"kind":"new_order"}}`,
		"event not obj": `{"v":1,"event":"evt_1"}`,
	} {
		_, err := decodeJournalFile([]byte(in))
		assert.Error(t, err, name)
	}
	e, err := decodeJournalFile([]byte(`{"v":1,"event":{"id":"evt_1","kind":"gig_paused","extra":true}}`))
	require.NoError(t, err)
	assert.Equal(t, "evt_1", e.header.ID)
	assert.Contains(t, string(e.event.Raw()), `"extra":true`)
}
