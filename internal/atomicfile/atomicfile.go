// Package atomicfile replaces files so that a crash leaves either the old
// content or the new, never a mix: the data goes to a temporary file beside
// the target, is synced, and is renamed over it; the directory is synced so the
// rename itself survives a power cut.
//
// It is not public API: the client's key file and the poller's journal use it.
package atomicfile

import (
	"os"
	"path/filepath"
)

// TempMark follows the target's name in the name of every temporary file Write
// makes (<target>.tmp-<random>), so that the owner of a directory can tell its
// own leftovers from a crash, and whose they were, from anybody else's files.
const TempMark = ".tmp-"

// Write replaces path with data, mode perm, through a synced temporary file
// and a rename. It does not sync the directory: a caller writing several files
// syncs it once after them (SyncDir).
func Write(path string, data []byte, perm os.FileMode) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+TempMark+"*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = os.Remove(tmp.Name())
		}
	}()
	if err = tmp.Chmod(perm); err == nil {
		if _, err = tmp.Write(data); err == nil {
			err = tmp.Sync()
		}
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// WriteFile is Write followed by SyncDir of path's directory.
func WriteFile(path string, data []byte, perm os.FileMode) error {
	if err := Write(path, data, perm); err != nil {
		return err
	}
	return SyncDir(filepath.Dir(path))
}

// SyncDir syncs a directory, making the renames and removals in it durable.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
