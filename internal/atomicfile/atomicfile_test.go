package atomicfile_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/heepr/heepr-go/internal/atomicfile"
)

func TestWriteFileReplacesWhole(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f")
	require.NoError(t, atomicfile.WriteFile(path, []byte("old"), 0o600))
	require.NoError(t, atomicfile.WriteFile(path, []byte("new content"), 0o600))
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, "new content", string(b))
	info, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), info.Mode().Perm())
	left, _ := filepath.Glob(filepath.Join(dir, "*"+atomicfile.TempMark+"*"))
	assert.Empty(t, left, "no temporary file left")
}

func TestWriteFailsCleanly(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "a-dir")
	require.NoError(t, os.Mkdir(target, 0o700))
	require.NoError(t, os.WriteFile(filepath.Join(target, "x"), nil, 0o600))
	assert.Error(t, atomicfile.WriteFile(target, []byte("x"), 0o600), "cannot rename over a non-empty directory")
	left, _ := filepath.Glob(filepath.Join(dir, "*"+atomicfile.TempMark+"*"))
	assert.Empty(t, left, "the temporary file is removed on failure")
	assert.Error(t, atomicfile.WriteFile(filepath.Join(dir, "missing", "f"), nil, 0o600))
}
