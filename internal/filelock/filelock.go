// Package filelock takes exclusive locks on files, so that two processes (or
// two parts of one) never use one journal or one key file at once. A lock is
// released when its Lock is closed or its process dies, so a crash never
// leaves it taken: flock(2) on Unix, a file opened without sharing on
// Windows. On other platforms locking always succeeds.
//
// It is not public API: the poller's journal and the client's key file use it.
package filelock

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"
)

// ErrLocked is wrapped by the error of a lock someone else holds.
var ErrLocked = errors.New("locked by another")

// HeldError is the error of TryLock when another holds the lock. It wraps
// ErrLocked.
type HeldError struct {
	Path string
	// PID is the holder's process id as it wrote it, 0 when unknown.
	PID int
}

// Error names the holder.
func (e *HeldError) Error() string { return fmt.Sprintf("%s is locked by %s", e.Path, e.Holder()) }

// Holder describes the holder for a person: "process 1234", "this process".
func (e *HeldError) Holder() string {
	switch e.PID {
	case 0:
		return "another process"
	case os.Getpid():
		return "this process"
	}
	return fmt.Sprintf("process %d", e.PID)
}

// Unwrap returns ErrLocked.
func (e *HeldError) Unwrap() error { return ErrLocked }

// Lock is a lock held; Close releases it.
type Lock struct{ f *os.File }

// Close releases the lock.
func (l *Lock) Close() error {
	if l == nil || l.f == nil {
		return nil
	}
	return l.f.Close()
}

// Wait takes the lock on path, waiting while another holds it, until ctx is
// done (then it returns ctx's error, with the last *HeldError joined).
func Wait(ctx context.Context, path string) (*Lock, error) {
	delay := 10 * time.Millisecond
	for {
		l, err := TryLock(path)
		if !errors.Is(err, ErrLocked) {
			return l, err
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, errors.Join(ctx.Err(), err)
		case <-t.C:
		}
		delay = min(delay*2, 250*time.Millisecond)
	}
}
