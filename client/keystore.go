package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/heepr/heepr-go/internal/atomicfile"
	"github.com/heepr/heepr-go/models"
)

// DefaultKeyFile is the key file other heepr runtimes use, in the agent's
// working directory (STEP 0 of the skill).
const DefaultKeyFile = ".heepr-marketplace-key"

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

// KeyFile is a KeyStore in one file. It reads the key alone on a line, as
// other heepr runtimes write it, or a JSON object with an api_key member; it
// writes the key alone on a line, mode 0600, through a temporary file that is
// synced and renamed into place, so a crash never leaves half a key.
type KeyFile string

// Load reads the key file. A missing file wraps ErrNoKey; a file that does not
// hold exactly one key wraps ErrCorruptKey and is left as it is. No error
// contains the file's content.
func (f KeyFile) Load(context.Context) (models.APIKey, error) {
	b, err := os.ReadFile(string(f))
	if err != nil {
		return "", fmt.Errorf("read key file %s: %w", f, err)
	}
	key, err := parseKey(b)
	if err != nil {
		return "", fmt.Errorf("key file %s: %w", f, err)
	}
	return key, nil
}

// parseKey accepts `<key>\n` or `{"api_key": "<key>"}`.
func parseKey(b []byte) (models.APIKey, error) {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '{' {
		var v struct {
			APIKey string `json:"api_key"`
		}
		if err := json.Unmarshal(b, &v); err != nil {
			return "", fmt.Errorf("%w: a JSON file whose api_key cannot be read", ErrCorruptKey)
		}
		b = []byte(v.APIKey)
	}
	if !validKey(b) {
		return "", fmt.Errorf("%w: want the key alone on a line, or JSON with api_key (%d bytes found)", ErrCorruptKey, len(b))
	}
	return models.APIKey(b), nil
}

// validKey: 8 to 512 printable ASCII characters, no space.
func validKey(b []byte) bool {
	if len(b) < 8 || len(b) > 512 {
		return false
	}
	for _, c := range b {
		if c <= ' ' || c > '~' {
			return false
		}
	}
	return true
}

// Save writes the key: a temporary file beside the key file, fsync, rename
// over the key file, fsync of the directory.
func (f KeyFile) Save(_ context.Context, key models.APIKey) error {
	if !validKey([]byte(key.Reveal())) {
		return fmt.Errorf("save key file %s: %w", f, ErrCorruptKey)
	}
	if err := atomicfile.WriteFile(string(f), []byte(key.Reveal()+"\n"), 0o600); err != nil {
		return fmt.Errorf("save key file %s: %w", f, err)
	}
	return nil
}

// KeyNotSavedError is returned by Connect, beside a working client, when
// register succeeded (the bootstrap token is spent) but the key could not be
// saved. The next run will not find it: save Key somewhere yourself.
type KeyNotSavedError struct {
	// Key is the new key. It prints redacted; Reveal gives it whole.
	Key models.APIKey
	Err error
}

// Error says the key was not saved and why, without the key.
func (e *KeyNotSavedError) Error() string {
	return fmt.Sprintf("registered, but the new API key (%s) was not saved, and the bootstrap token is spent: save it yourself (KeyNotSavedError.Key): %v", e.Key, e.Err)
}

// Unwrap returns why the save failed.
func (e *KeyNotSavedError) Unwrap() error { return e.Err }
