//go:build windows

package poller

import (
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"
)

// errSharingViolation is ERROR_SHARING_VIOLATION, which package syscall does
// not name.
const errSharingViolation = syscall.Errno(32)

// lockJournal takes the journal's lock: path opened with no sharing, so that
// nobody else can open it until the handle is closed (or the process dies, so
// a crash never leaves it taken).
func lockJournal(path string) (io.Closer, error) {
	name, err := syscall.UTF16PtrFromString(path)
	if err != nil {
		return nil, fmt.Errorf("lock: %w", err)
	}
	h, err := syscall.CreateFile(name, syscall.GENERIC_READ|syscall.GENERIC_WRITE, 0, nil,
		syscall.OPEN_ALWAYS, syscall.FILE_ATTRIBUTE_NORMAL, 0)
	if errors.Is(err, errSharingViolation) {
		return nil, &lockedError{holder: "another poller"}
	}
	if err != nil {
		return nil, fmt.Errorf("lock: %w", err)
	}
	return os.NewFile(uintptr(h), path), nil
}
