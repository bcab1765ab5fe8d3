//go:build !unix && !windows

package poller

import "io"

// lockJournal cannot lock on this platform (it has neither flock nor
// Windows' share modes): one poller per journal directory is the caller's to
// keep.
func lockJournal(string) (io.Closer, error) { return nopCloser{}, nil }

type nopCloser struct{}

func (nopCloser) Close() error { return nil }
