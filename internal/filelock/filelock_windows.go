//go:build windows

package filelock

import (
	"errors"
	"os"
	"syscall"
)

// errSharingViolation is ERROR_SHARING_VIOLATION, which package syscall does
// not name.
const errSharingViolation = syscall.Errno(32)

// TryLock takes an exclusive lock on path by opening it with no sharing, so
// that nobody else can open it until the handle is closed (or the process
// dies). When another holds it, the error is a *HeldError.
func TryLock(path string) (*Lock, error) {
	name, err := syscall.UTF16PtrFromString(path)
	if err != nil {
		return nil, err
	}
	h, err := syscall.CreateFile(name, syscall.GENERIC_READ|syscall.GENERIC_WRITE, 0, nil,
		syscall.OPEN_ALWAYS, syscall.FILE_ATTRIBUTE_NORMAL, 0)
	if errors.Is(err, errSharingViolation) {
		return nil, &HeldError{Path: path}
	}
	if err != nil {
		return nil, err
	}
	return &Lock{f: os.NewFile(uintptr(h), path)}, nil
}
