//go:build !unix

package regularfile

import (
	"errors"
	"fmt"
	"os"
)

// open checks what path is before opening it, since the platform has no flag
// to refuse a link or to open a FIFO without blocking.
func open(path string, follow bool) (*os.File, error) {
	stat := os.Lstat
	if follow {
		stat = os.Stat
	}
	fi, err := stat(path)
	if err != nil {
		return nil, err
	}
	if fi.Mode()&os.ModeSymlink != 0 {
		return nil, errors.New("a symbolic link, not followed")
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s, not a regular file", Kind(fi.Mode()))
	}
	return os.Open(path)
}
