//go:build unix

package regularfile

import (
	"errors"
	"os"
	"syscall"
)

// open never blocks: O_NONBLOCK makes opening a FIFO without a writer return
// at once (the Stat after it refuses it).
func open(path string, follow bool) (*os.File, error) {
	flags := os.O_RDONLY | syscall.O_NONBLOCK
	if !follow {
		flags |= syscall.O_NOFOLLOW
	}
	f, err := os.OpenFile(path, flags, 0)
	if !follow && errors.Is(err, syscall.ELOOP) {
		return nil, errors.New("a symbolic link, not followed")
	}
	return f, err
}
