package poller

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzJournal: whatever a crash or a disk leaves in the journal's files, opening
// it never panics and never fails: an entry that does not decode is set aside,
// a seen file's bad lines are skipped, and every event handed back for replay
// is either whole, with an id, or a bad one for Default, and none is one the
// seen file says is done.
func FuzzJournal(f *testing.F) {
	ev := `{"v":1,"event":{"id":"evt_1","kind":"new_order","created_at":"2026-11-28T09:00:00Z","order_id":"ord_1"}}`
	f.Add([]byte(ev), []byte(ev+"\n"+ev+"\n"), []byte("\"evt_2\"\n"))
	f.Add([]byte(`{"v":1,"event":{"id":"evt_1","kind":"x"}}`), []byte(ev+"\n"), []byte("\"evt_1\"\n{\"seg\":2,\"pos\":0}\n"))
	f.Add([]byte(`{"v":1,"event":{"kind":`), []byte(`{"v":1,"raw":"eyJpZCI6","error":"too large"}`+"\n"), []byte("\"evt_1"))
	f.Add([]byte(`{"v":2}`), []byte("\n\n{"), []byte("not json\n\n\"\"\n{\"seg\":-1}\n"))
	f.Add([]byte(``), []byte{}, []byte{0xff, 0xfe, '\n'})
	f.Fuzz(func(t *testing.T, legacyFile, segmentFile, seenFile []byte) {
		dir := t.TempDir()
		pending := filepath.Join(dir, "pending")
		if err := os.MkdirAll(pending, 0o700); err != nil {
			t.Fatal(err)
		}
		write := func(name string, b []byte) {
			if err := os.WriteFile(name, b, 0o600); err != nil {
				t.Fatal(err)
			}
		}
		write(filepath.Join(pending, "00000000000000000001.json"), legacyFile)
		write(filepath.Join(pending, "00000000000000000002.jsonl"), segmentFile)
		write(filepath.Join(dir, "seen"), seenFile)
		j, left, err := openJournal(dir, 16, 1<<10)
		if err != nil {
			t.Fatalf("a journal with bad files must still open: %v", err)
		}
		defer j.close()
		for _, e := range left {
			if e.bad == nil && e.id() == "" {
				t.Fatal("a whole event without an id came back for replay")
			}
			if id := e.id(); id != "" && j.handled(id) && e.seg == 1 {
				t.Fatal("an event already handled came back for replay")
			}
			if e.seg == 2 && j.segs[2] == nil {
				t.Fatal("a replayed line of a segment the journal does not track")
			}
		}
		if _, err := os.Stat(filepath.Join(pending, "00000000000000000001.json")); err == nil {
			replayed := false
			for _, e := range left {
				replayed = replayed || e.path != ""
			}
			if !replayed {
				t.Fatal("a pending file neither replayed nor set aside")
			}
		}
	})
}
