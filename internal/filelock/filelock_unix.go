//go:build unix

package filelock

import (
	"errors"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// TryLock takes an exclusive lock on path (created, mode 0600, if need be)
// without waiting. When another holds it, the error is a *HeldError. The
// holder's pid is written in the file, for the next one's error.
func TryLock(path string) (*Lock, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|syscall.O_NOFOLLOW, 0o600)
	if err != nil {
		return nil, err
	}
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if !errors.Is(err, syscall.EINTR) {
			break
		}
	}
	if errors.Is(err, syscall.EWOULDBLOCK) {
		held := &HeldError{Path: path}
		if b, rerr := os.ReadFile(path); rerr == nil {
			held.PID, _ = strconv.Atoi(strings.TrimSpace(string(b)))
		}
		_ = f.Close()
		return nil, held
	}
	if err != nil {
		_ = f.Close()
		return nil, err
	}
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return &Lock{f: f}, nil
}
