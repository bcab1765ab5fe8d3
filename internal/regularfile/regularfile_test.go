package regularfile

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestOpen(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	require.NoError(t, os.WriteFile(file, []byte("x"), 0o600))
	link := filepath.Join(dir, "link")
	require.NoError(t, os.Symlink(file, link))
	fifo := filepath.Join(dir, "fifo")
	require.NoError(t, syscall.Mkfifo(fifo, 0o600))

	tests := []struct {
		name, path string
		follow     bool
		err        string
	}{
		{"file", file, false, ""},
		{"link followed", link, true, ""},
		{"link refused", link, false, "a symbolic link, not followed"},
		{"directory", dir, true, "a directory, not a regular file"},
		{"fifo, without blocking", fifo, true, "a named pipe (FIFO), not a regular file"},
		{"missing", filepath.Join(dir, "none"), true, "no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := Open(tt.path, tt.follow)
			if tt.err == "" {
				require.NoError(t, err)
				require.NoError(t, f.Close())
				return
			}
			assert.ErrorContains(t, err, tt.err)
		})
	}
}
