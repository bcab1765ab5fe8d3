package poller

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	herrors "github.com/heepr/heepr-go/errors"
)

// throttle logs a failure that repeats identically at most once per interval,
// with how many repeats it kept quiet: a platform down for an hour is a few
// log lines, not one per try.
type throttle struct {
	log   *slog.Logger
	every time.Duration

	mu         sync.Mutex
	last       string
	lastAt     time.Time
	suppressed int
}

func newThrottle(l *slog.Logger, every time.Duration) *throttle {
	return &throttle{log: l, every: every}
}

// signature is what makes two failures the same: for a refusal of the
// platform its status and code (its message and request id vary), for an
// answer that breaks the contract its status and reason (its request id
// varies), else the error's text.
func signature(msg string, err error) string {
	var apiErr *herrors.APIError
	if errors.As(err, &apiErr) {
		return fmt.Sprintf("%s|%d|%s", msg, apiErr.StatusCode, apiErr.Code)
	}
	var invalid *herrors.InvalidResponseError
	if errors.As(err, &invalid) {
		return fmt.Sprintf("%s|%d|invalid|%s", msg, invalid.StatusCode, invalid.Reason)
	}
	return msg + "|" + err.Error()
}

func (t *throttle) failed(ctx context.Context, msg string, err error, args ...any) {
	key := signature(msg, err)
	now := time.Now()
	t.mu.Lock()
	if key == t.last && now.Sub(t.lastAt) < t.every {
		t.suppressed++
		t.mu.Unlock()
		return
	}
	n := t.suppressed
	t.last, t.lastAt, t.suppressed = key, now, 0
	t.mu.Unlock()
	args = append(args, "error", err)
	if n > 0 {
		args = append(args, "repeats_not_logged", n)
	}
	t.log.WarnContext(ctx, msg, args...)
}

// recovered logs the end of a run of failures.
func (t *throttle) recovered(ctx context.Context, failures int) {
	t.mu.Lock()
	t.last, t.suppressed = "", 0
	t.mu.Unlock()
	t.log.InfoContext(ctx, "heepr poller: polling again", "after_failures", failures)
}
