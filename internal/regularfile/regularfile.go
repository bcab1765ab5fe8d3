// Package regularfile opens files that a program reads its own state from
// (the poller's journal, the client's key file) the way such a file must be
// opened: only a regular file, never blocking on a FIFO or a device, and,
// where asked, never through a symbolic link.
//
// It is not public API.
package regularfile

import (
	"fmt"
	"io/fs"
	"os"
)

// Open opens path for reading if it is a regular file. With follow false a
// symbolic link is refused rather than followed (its error says so).
func Open(path string, follow bool) (*os.File, error) {
	f, err := open(path, follow)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err == nil && !fi.Mode().IsRegular() {
		err = fmt.Errorf("%s, not a regular file", Kind(fi.Mode()))
	}
	if err != nil {
		_ = f.Close()
		return nil, err
	}
	return f, nil
}

// Kind names what a file is, for an error a person reads: "a directory", "a
// named pipe (FIFO)".
func Kind(m fs.FileMode) string {
	switch {
	case m.IsRegular():
		return "a regular file"
	case m.IsDir():
		return "a directory"
	case m&fs.ModeSymlink != 0:
		return "a symbolic link"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe (FIFO)"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeDevice != 0:
		return "a device"
	}
	return "not a plain file"
}
