package client

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	herrors "github.com/heepr/heepr-go/errors"
	"github.com/heepr/heepr-go/internal/atomicfile"
	"github.com/heepr/heepr-go/internal/regularfile"
	"github.com/heepr/heepr-go/models"
)

// skillFileMode is the mode of every file SyncSkill writes. The package is
// the agent's own (skill.json names it); nothing but the agent needs to read
// it, and its directory is made 0700 anyway.
const skillFileMode = 0o600

// maxSkillFileName is the longest file name SyncSkill writes, in bytes: the
// limit of the common file systems (ext4, APFS, NTFS in UTF-16 units).
const maxSkillFileName = 255

// SyncSkill keeps a verified copy of the agent's skill package in dir, so that
// an agent can hand SKILL.md and RULES.md to its model from disk and know they
// are the platform's, and current. It returns the names of the files it wrote,
// sorted; none when the copy was current. It needs the agent id
// ([ErrNoAgentID]).
//
// It reads skill.json once, then, for each file skill.json lists, compares
// the SHA-256 of the copy in dir with skill.json's and downloads only the
// files that differ (or are missing), each checked as [Client.SkillFile]
// checks it (media type, SHA-256) before it is written. skill.json itself is
// written last, and only when its bytes changed. What SyncSkill promises:
//
//   - dir is created, mode 0700, if it does not exist; every file is written
//     mode 0600, atomically (a synced temporary file renamed over the old
//     one), so a reader sees a file whole, old or new, never a mix. A symbolic
//     link in dir is replaced, never written through.
//   - The directory is synced before skill.json is renamed into place and
//     after, so a crash mid-sync leaves the old skill.json (with some files
//     already new), and the next SyncSkill fetches whatever still differs.
//   - Only names that are one plain file name are written: not empty, not "."
//     or "..", no slash or backslash, no control character, valid UTF-8, at
//     most 255 bytes (and on Windows no name the system reserves). A
//     skill.json that lists any other name is refused whole, before any other
//     file is fetched or anything written, with an error wrapping
//     [herrors.ErrInvalidResponse] that names it.
//   - When a file fails (its download, its check, its write), SyncSkill stops
//     and returns the error, naming the file, with the names already written;
//     skill.json is then not written.
//   - Files in dir that skill.json does not list are left alone.
//
// Every read is capped by [WithMaxResponseBytes], on the network and on
// disk. Two SyncSkill calls into the same dir at once each leave whole files,
// but may leave old and new ones side by side: keep one writer per directory
// (a poller with WithSkillDir is one).
func (c *Client) SyncSkill(ctx context.Context, dir string) (changed []string, err error) {
	if dir == "" {
		return nil, errors.New("sync skill: no directory given")
	}
	defer func() {
		slices.Sort(changed)
		if err != nil {
			err = fmt.Errorf("sync skill into %s: %w", dir, err)
		}
	}()
	m, manifest, err := c.manifest(ctx, callConfig{})
	if err != nil {
		return nil, fmt.Errorf("skill.json: %w", err)
	}
	names, err := skillFileNames(m)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	// dirty: renames since the directory was last synced. On the way out of
	// a failure it is synced anyway, best effort: the renames that did
	// happen are worth keeping.
	dirty := false
	defer func() {
		if dirty {
			_ = atomicfile.SyncDir(dir)
		}
	}()
	syncDir := func() error {
		if !dirty {
			return nil
		}
		if err := atomicfile.SyncDir(dir); err != nil {
			return fmt.Errorf("sync the directory: %w", err)
		}
		dirty = false
		return nil
	}

	for _, name := range names {
		want, err := wantSHA256(m, name)
		if err != nil {
			return changed, fmt.Errorf("%s: %w", name, err)
		}
		path := filepath.Join(dir, name)
		if hasSHA256(path, want, c.maxBody) {
			continue
		}
		b, err := c.fetchSkillFile(ctx, name, callConfig{}, hashCheck(name, want))
		if err != nil {
			return changed, fmt.Errorf("%s: %w", name, err)
		}
		if err := atomicfile.Write(path, b, skillFileMode); err != nil {
			return changed, writeError(name, err)
		}
		changed, dirty = append(changed, name), true
	}

	path := filepath.Join(dir, string(models.SkillFileNameSkillJSON))
	if !hasSHA256(path, sha256.Sum256(manifest), int64(len(manifest))) {
		// The files' renames are made durable before skill.json's, so that
		// a power cut cannot leave a new skill.json over old files.
		if err := syncDir(); err != nil {
			return changed, err
		}
		if err := atomicfile.Write(path, manifest, skillFileMode); err != nil {
			return changed, writeError(string(models.SkillFileNameSkillJSON), err)
		}
		changed, dirty = append(changed, string(models.SkillFileNameSkillJSON)), true
	}
	return changed, syncDir()
}

// writeError names the file a failed write was for, not the temporary file
// it went through: that one is gone, and its random name would make each
// failure look new to a log that throttles repeats (the poller's). The
// operation's error stays wrapped, for errors.Is.
func writeError(name string, err error) error {
	if le, ok := errors.AsType[*os.LinkError](err); ok {
		return fmt.Errorf("write %s: rename into place: %w", name, le.Err)
	}
	if pe, ok := errors.AsType[*fs.PathError](err); ok {
		return fmt.Errorf("write %s: %s: %w", name, pe.Op, pe.Err)
	}
	return fmt.Errorf("write %s: %w", name, err)
}

// skillFileNames is the files m lists but skill.json itself (which cannot
// hash itself), sorted, or an error naming every one that is not a plain file
// name.
func skillFileNames(m *models.SkillManifest) ([]string, error) {
	var names, bad []string
	for name := range m.Files {
		switch {
		case !plainFileName(name):
			bad = append(bad, name)
		case name != string(models.SkillFileNameSkillJSON):
			names = append(names, name)
		}
	}
	if len(bad) > 0 {
		slices.Sort(bad)
		quoted := make([]string, len(bad))
		for i, name := range bad {
			quoted[i] = fmt.Sprintf("%.64q", name)
		}
		return nil, herrors.NewInvalidResponse(nil, fmt.Sprintf(
			"skill.json lists files that cannot be written into a directory: %s (want one file name each: no path, no control characters, at most %d bytes); nothing was written",
			strings.Join(quoted, ", "), maxSkillFileName))
	}
	slices.Sort(names)
	return names, nil
}

// plainFileName reports whether name names a file directly inside a
// directory, and nothing else, on every platform.
func plainFileName(name string) bool {
	if name == "" || name == "." || name == ".." || len(name) > maxSkillFileName || !utf8.ValidString(name) {
		return false
	}
	for _, r := range name {
		if r == '/' || r == '\\' || unicode.IsControl(r) {
			return false
		}
	}
	return filepath.IsLocal(name) // on Windows, also no "C:" and no reserved name (NUL, CON…)
}

// hasSHA256 reports whether path is a regular file (not a link) of at most
// max bytes whose SHA-256 is want. Anything else, an unreadable file
// included, is a copy to replace.
func hasSHA256(path string, want [sha256.Size]byte, max int64) bool {
	f, err := regularfile.Open(path, false)
	if err != nil {
		return false
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, io.LimitReader(f, max+1))
	if err != nil || n > max {
		return false
	}
	return [sha256.Size]byte(h.Sum(nil)) == want
}
