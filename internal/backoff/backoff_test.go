package backoff_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/heepr/heepr-go/internal/backoff"
)

func TestCeiling(t *testing.T) {
	p := backoff.Policy{Base: 100 * time.Millisecond, Max: time.Second}
	tests := []struct {
		n    int
		want time.Duration
	}{
		{0, 100 * time.Millisecond},
		{1, 100 * time.Millisecond},
		{2, 200 * time.Millisecond},
		{4, 800 * time.Millisecond},
		{5, time.Second},
		{1000, time.Second},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, p.Ceiling(tt.n), "n=%d", tt.n)
	}
	assert.Equal(t, time.Duration(0), backoff.Policy{}.Delay(3))
}

func TestDelayIsFullJitter(t *testing.T) {
	p := backoff.Policy{Base: time.Second, Max: 8 * time.Second}
	var sum time.Duration
	const n = 20000
	for range n {
		d := p.Delay(4)
		assert.GreaterOrEqual(t, d, time.Duration(0))
		assert.Less(t, d, 8*time.Second)
		sum += d
	}
	mean := sum / n
	assert.InDelta(t, float64(4*time.Second), float64(mean), float64(200*time.Millisecond), "uniform over [0, 8s)")
}
