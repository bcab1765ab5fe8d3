package poller

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// WithMaxGap's bound holds for every interval, first or not, and MaxGap is
// the bound without it.
func TestSchedule_MaxGap(t *testing.T) {
	for _, s := range []schedule{{jitter: 0.5}, {jitter: 0.5, maxGap: 57 * time.Minute}, {jitter: 0.5, maxGap: 90 * time.Minute}} {
		want := min(MaxGap, max(s.maxGap, 0))
		if s.maxGap == 0 {
			want = MaxGap
		}
		assert.Equal(t, want, s.gap())
		for range 1000 {
			assert.LessOrEqual(t, s.interval(MaxCadence, false), want)
			assert.LessOrEqual(t, s.interval(MaxCadence, true), want)
		}
	}
}
