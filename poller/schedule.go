package poller

import (
	"math/rand/v2"
	"time"

	"github.com/heepr/heepr-go/internal/backoff"
	"github.com/heepr/heepr-go/models"
)

const (
	// MinCadence and MaxCadence bound the poll cadence, as the platform does:
	// anything from 1 to 60 minutes.
	MinCadence = time.Minute
	MaxCadence = 60 * time.Minute
	// DefaultCadence is the cadence when skill.json names none: 20 minutes.
	// It is [models.DefaultCadence], the one definition, which the client and
	// heeprtest read too.
	DefaultCadence = models.DefaultCadence
	// DefaultJitter is the fraction of the cadence each interval varies by.
	DefaultJitter = 0.1
	// OnlineWindow is how recently an agent must have polled to show online:
	// 1 hour. It is [models.OnlineWindow], the one definition.
	OnlineWindow = models.OnlineWindow
	// MaxGap is the longest the poller lets pass between the starts of two
	// polls while the platform answers, whatever the cadence and jitter: 58
	// minutes, a margin of two inside OnlineWindow for the poll's own latency
	// and clocks that disagree. A literal, so that its value shows in the
	// docs; a test holds it to OnlineWindow minus the margin.
	MaxGap = 58 * time.Minute
)

// clampCadence keeps a cadence within [MinCadence, MaxCadence].
func clampCadence(d time.Duration) time.Duration {
	return min(max(d, MinCadence), MaxCadence)
}

// schedule decides when the next poll happens.
type schedule struct {
	jitter float64
	// failure backs off a failing poll: full jitter, capped by the cadence.
	failure backoff.Policy
	// maxGap is WithMaxGap's bound; 0 means MaxGap.
	maxGap time.Duration
}

// gap is the longest wait allowed between the starts of two polls.
func (s schedule) gap() time.Duration {
	if s.maxGap > 0 {
		return min(s.maxGap, MaxGap)
	}
	return MaxGap
}

// interval is the wait after a successful poll: the cadence, varied by
// ±jitter·cadence so many agents spread apart, and never past MaxGap (near it,
// the range narrows on top rather than piling the waits up at the limit).
// first marks the interval after the very first poll, which lands uniformly
// within one cadence instead: a fleet started together (a deploy, a platform
// restart) spreads over the whole cadence at once rather than moving as a herd.
func (s schedule) interval(cadence time.Duration, first bool) time.Duration {
	lo, hi := time.Second, cadence
	if !first {
		spread := time.Duration(s.jitter * float64(cadence))
		lo, hi = cadence-spread, cadence+spread
	}
	hi = min(hi, s.gap())
	lo = min(max(lo, time.Second), hi)
	return lo + time.Duration(rand.Int64N(int64(hi-lo)+1))
}

// retryAfterFailure is the wait after the n-th failed poll in a row (n >= 1):
// a full-jitter backoff, or retryAfter when the platform gave one, never longer
// than the cadence, and never past the heartbeat deadline while it is ahead:
// better one poll too early than an agent that shows offline.
func (s schedule) retryAfterFailure(n int, retryAfter, cadence time.Duration, now, deadline time.Time) time.Duration {
	p := s.failure
	p.Max = min(p.Max, cadence)
	d := p.Delay(n)
	if retryAfter > 0 {
		d = retryAfter
	}
	d = min(d, cadence)
	if until := deadline.Sub(now); until > 0 && d > until {
		d = until
	}
	return max(d, 0)
}
