package filelock

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestTryLockExcludesAndReleases(t *testing.T) {
	path := filepath.Join(t.TempDir(), "lock")
	l, err := TryLock(path)
	require.NoError(t, err)

	_, err = TryLock(path)
	require.ErrorIs(t, err, ErrLocked)
	var held *HeldError
	require.ErrorAs(t, err, &held)
	assert.Equal(t, os.Getpid(), held.PID)
	assert.Equal(t, "this process", held.Holder())
	assert.Contains(t, err.Error(), path)

	require.NoError(t, l.Close())
	l, err = TryLock(path)
	require.NoError(t, err, "free again once closed")
	require.NoError(t, l.Close())
}

// Wait waits for the holder, and gives up with the context.
func TestWait(t *testing.T) {
	path := filepath.Join(t.TempDir(), "lock")
	l, err := TryLock(path)
	require.NoError(t, err)

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err = Wait(ctx, path)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.ErrorIs(t, err, ErrLocked)

	got := make(chan error, 1)
	go func() {
		l2, err := Wait(context.Background(), path)
		if err == nil {
			err = l2.Close()
		}
		got <- err
	}()
	time.Sleep(20 * time.Millisecond)
	require.NoError(t, l.Close())
	select {
	case err := <-got:
		assert.NoError(t, err)
	case <-time.After(5 * time.Second):
		t.Fatal("Wait did not take the lock once it was free")
	}
	assert.False(t, errors.Is(nil, ErrLocked))
}
