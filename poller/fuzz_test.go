package poller

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzJournal: whatever a crash or a disk leaves in the journal's files, opening
// it never panics and never fails: a pending file that does not decode is set
// aside, a seen file's bad lines are skipped, and every event handed back for
// replay has an id.
func FuzzJournal(f *testing.F) {
	f.Add([]byte(`{"v":1,"event":{"id":"evt_1","kind":"new_order","created_at":"2026-11-28T09:00:00Z","order_id":"ord_1"}}`), []byte("\"evt_2\"\n"))
	f.Add([]byte(`{"v":1,"event":{"id":"evt_1","kind":"x"}}`), []byte("\"evt_1\"\n"))
	f.Add([]byte(`{"v":1,"event":{"kind":`), []byte("\"evt_1"))
	f.Add([]byte(`{"v":2}`), []byte("not json\n\n\"\"\n"))
	f.Add([]byte(``), []byte{0xff, 0xfe, '\n'})
	f.Fuzz(func(t *testing.T, pendingFile, seenFile []byte) {
		dir := t.TempDir()
		if err := os.MkdirAll(filepath.Join(dir, "pending"), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "pending", "00000000000000000001.json"), pendingFile, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "seen"), seenFile, 0o600); err != nil {
			t.Fatal(err)
		}
		j, left, err := openJournal(dir, 16)
		if err != nil {
			t.Fatalf("a journal with bad files must still open: %v", err)
		}
		defer j.close()
		for _, e := range left {
			if e.header.ID == "" {
				t.Fatal("an event without an id came back for replay")
			}
			if j.handled(e.header.ID) {
				t.Fatal("an event already handled came back for replay")
			}
		}
		if len(left) == 0 && len(j.corrupt) == 0 {
			if _, err := os.Stat(filepath.Join(dir, "pending", "00000000000000000001.json")); err == nil {
				t.Fatal("a pending file neither replayed nor set aside")
			}
		}
	})
}
