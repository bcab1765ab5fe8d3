package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/heepr/heepr-go/internal/atomicfile"
	"github.com/heepr/heepr-go/internal/filelock"
	"github.com/heepr/heepr-go/internal/regularfile"
	"github.com/heepr/heepr-go/models"
)

// DefaultKeyFile is the key file other heepr runtimes use, in the agent's
// working directory (STEP 0 of the skill).
const DefaultKeyFile = ".heepr-marketplace-key"

// maxKeyFileBytes caps what a key file is read for: a key and its agent id
// are well under it, and a file over it is not a key file.
const maxKeyFileBytes = 4 << 10

// ErrNoKey is what KeyStore.Load returns (or wraps) when no key is stored yet.
// It is fs.ErrNotExist, so a missing key file is ErrNoKey as it is.
var ErrNoKey = fs.ErrNotExist

// ErrCorruptKey is wrapped by the error of a key file whose content is not a
// key. Connect never overwrites such a file: a person looks at it first.
var ErrCorruptKey = errors.New("the key file does not hold an API key")

// KeyStore keeps the agent's API key between runs: a file by default, or a
// secret manager, or a read-only source that refuses Save.
type KeyStore interface {
	// Load returns the stored key, or an error wrapping ErrNoKey when there is
	// none yet. Any other error stops Connect, which then registers nothing.
	Load(ctx context.Context) (models.APIKey, error)
	// Save stores a key a register just returned. If it fails, Connect still
	// returns a working client, with a *KeyNotSavedError.
	Save(ctx context.Context, key models.APIKey) error
}

// KeyStoreLocker is a KeyStore that can hold other processes off while
// Connect reads it, registers and saves, so that agents started together
// spend the bootstrap token once: the others wait, then find the key. KeyFile
// implements it with an exclusive lock on <file>.lock.
type KeyStoreLocker interface {
	// LockKeyStore waits for the store's lock until ctx is done, and returns
	// the function that releases it.
	LockKeyStore(ctx context.Context) (unlock func(), err error)
}

// KeyStoreChecker is a KeyStore that can prove Save will work before Connect
// spends the bootstrap token on a key it could not keep. KeyFile implements it
// by writing, syncing and removing a temporary file beside the key file.
type KeyStoreChecker interface {
	CheckSave(ctx context.Context) error
}

// KeyFile is a KeyStore in one file, which also keeps the agent id beside the
// key: {"v":1,"agent_id":"agt_…","api_key":"sk_…"}, mode 0600, written
// through a temporary file (<file>.tmp-…) that is synced and renamed into
// place, so a crash never leaves half a key. It reads that, the key alone on
// a line (as other heepr runtimes write it), or a JSON object with an api_key
// member.
//
// It reads at most 4 KiB, a regular file only (a link to one is followed, as
// secret mounts use them), and honours the context. Connect warns when the
// file can be read by other users, and about a temporary file holding a key
// that a crash left behind.
type KeyFile string

// keyFileContent is the key file's JSON.
type keyFileContent struct {
	V       int    `json:"v,omitempty"`
	AgentID string `json:"agent_id,omitempty"`
	APIKey  string `json:"api_key"`
}

// storedKey is what a key file holds, and what a person should hear of it.
type storedKey struct {
	agentID  string
	key      models.APIKey
	warnings []string
}

// path is the file's absolute path, for messages: a relative one says
// nothing to a person who does not know the agent's working directory.
func (f KeyFile) path() string {
	if abs, err := filepath.Abs(string(f)); err == nil {
		return abs
	}
	return string(f)
}

// Load reads the key file. A missing file wraps ErrNoKey; a file that does not
// hold exactly one key wraps ErrCorruptKey and is left as it is. No error
// contains the file's content.
func (f KeyFile) Load(ctx context.Context) (models.APIKey, error) {
	s, err := f.load(ctx)
	return s.key, err
}

func (f KeyFile) load(ctx context.Context) (storedKey, error) {
	if err := ctx.Err(); err != nil {
		return storedKey{}, err
	}
	var s storedKey
	s.warnings = f.leftovers()
	r, err := regularfile.Open(string(f), true)
	if err != nil {
		return s, fmt.Errorf("key file %s: %w", f.path(), err)
	}
	defer r.Close()
	if fi, err := r.Stat(); err == nil && fi.Mode().Perm()&0o077 != 0 && runtime.GOOS != "windows" {
		s.warnings = append(s.warnings, fmt.Sprintf("the key file %s can be read by other users (mode %04o): chmod 600 %s", f.path(), fi.Mode().Perm(), f.path()))
	}
	b, err := io.ReadAll(io.LimitReader(r, maxKeyFileBytes+1))
	if err != nil {
		return s, fmt.Errorf("key file %s: %w", f.path(), err)
	}
	if len(b) > maxKeyFileBytes {
		return s, fmt.Errorf("key file %s: %w: it is over 4 KiB, which no key file is", f.path(), ErrCorruptKey)
	}
	c, err := parseKeyFile(b)
	if err != nil {
		return s, fmt.Errorf("key file %s: %w", f.path(), err)
	}
	s.agentID, s.key = c.AgentID, models.APIKey(c.APIKey)
	return s, nil
}

// leftovers reports temporary files beside the key file that hold a key: a
// save a crash cut short between writing and renaming.
func (f KeyFile) leftovers() []string {
	names, _ := filepath.Glob(string(f) + atomicfile.TempMark + "*")
	var out []string
	for _, name := range names {
		r, err := regularfile.Open(name, false)
		if err != nil {
			continue
		}
		b, _ := io.ReadAll(io.LimitReader(r, maxKeyFileBytes+1))
		_ = r.Close()
		if _, err := parseKeyFile(b); err == nil {
			abs, _ := filepath.Abs(name)
			out = append(out, fmt.Sprintf("%s holds an API key that a crash left before it was renamed into place: if %s holds no working key, rename it to that name", abs, f.path()))
		}
	}
	return out
}

// parseKeyFile accepts the JSON of keyFileContent (with or without its
// version) or `<key>\n`.
func parseKeyFile(b []byte) (keyFileContent, error) {
	b = bytes.TrimSpace(b)
	var c keyFileContent
	if len(b) > 0 && b[0] == '{' {
		if err := json.Unmarshal(b, &c); err != nil {
			return c, fmt.Errorf("%w: a JSON file whose api_key cannot be read", ErrCorruptKey)
		}
		if c.V > 1 {
			return c, fmt.Errorf("%w: format version %d, newer than this SDK reads (1): upgrade heepr-go", ErrCorruptKey, c.V)
		}
		c.APIKey, c.AgentID = strings.TrimSpace(c.APIKey), strings.TrimSpace(c.AgentID)
	} else {
		c.APIKey = string(b)
	}
	if err := checkKey(c.APIKey); err != nil {
		return c, fmt.Errorf("%w: want the key alone on a line, or JSON with api_key: %v", ErrCorruptKey, err)
	}
	return c, nil
}

// checkKey is the one rule for what a key looks like, wherever it comes from
// (an option, the environment, a key file, the platform's answer): 8 to 512
// printable ASCII characters without spaces. It says what is wrong without
// printing the key.
func checkKey(k string) error {
	switch {
	case len(k) == 0:
		return errors.New("it is empty")
	case len(k) < 8:
		return fmt.Errorf("%d characters is too short for a key", len(k))
	case len(k) > 512:
		return fmt.Errorf("%d characters is too long for a key", len(k))
	}
	for _, c := range []byte(k) {
		if c <= ' ' || c > '~' {
			return errors.New("it holds a space, a line break or a character that is not printable ASCII")
		}
	}
	return nil
}

// Save writes the key (without an agent id): a temporary file beside the key
// file, fsync, rename over the key file, fsync of the directory.
func (f KeyFile) Save(ctx context.Context, key models.APIKey) error { return f.save(ctx, "", key) }

func (f KeyFile) save(ctx context.Context, agentID string, key models.APIKey) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := checkKey(key.Reveal()); err != nil {
		return fmt.Errorf("save key file %s: %w: %v", f.path(), ErrCorruptKey, err)
	}
	b, err := json.Marshal(keyFileContent{V: 1, AgentID: agentID, APIKey: key.Reveal()})
	if err != nil {
		return err
	}
	if err := atomicfile.WriteFile(string(f), append(b, '\n'), 0o600); err != nil {
		return fmt.Errorf("save key file %s: %w", f.path(), err)
	}
	return nil
}

// LockKeyStore takes the exclusive lock on <file>.lock, waiting for another
// process that holds it until ctx is done.
func (f KeyFile) LockKeyStore(ctx context.Context) (func(), error) {
	l, err := filelock.Wait(ctx, string(f)+".lock")
	if err != nil {
		return nil, fmt.Errorf("lock the key file %s: %w", f.path(), err)
	}
	return func() { _ = l.Close() }, nil
}

// CheckSave proves the key file can be written: a temporary file beside it is
// created, written, synced and removed.
func (f KeyFile) CheckSave(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(string(f)), filepath.Base(string(f))+atomicfile.TempMark+"*")
	if err != nil {
		return fmt.Errorf("the key file %s cannot be written: %w", f.path(), err)
	}
	_, err = tmp.Write([]byte("check\n"))
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if rerr := os.Remove(tmp.Name()); err == nil {
		err = rerr
	}
	if err != nil {
		return fmt.Errorf("the key file %s cannot be written: %w", f.path(), err)
	}
	return nil
}

// KeyNotSavedError is returned by Connect, beside a working client, when
// register succeeded (the bootstrap token is spent) but the key could not be
// saved. The next run will not find it: save Key somewhere yourself, and keep
// the agent running meanwhile.
type KeyNotSavedError struct {
	// Key is the new key. It prints redacted; Reveal gives it whole.
	Key models.APIKey
	// AgentID is the agent the key belongs to.
	AgentID string
	// Where is where Connect tried to save it: the key file's absolute path,
	// or "the key store".
	Where string
	Err   error
}

// Error says the key was not saved, where it should have gone and why,
// without the key.
func (e *KeyNotSavedError) Error() string {
	where := e.Where
	if where == "" {
		where = "the key store"
	}
	return fmt.Sprintf("registered, but the new API key (%s) was not saved to %s, and the bootstrap token is spent: "+
		"save KeyNotSavedError.Key there yourself before this process ends: %v", e.Key, where, e.Err)
}

// Unwrap returns why the save failed.
func (e *KeyNotSavedError) Unwrap() error { return e.Err }
