package backoff

import (
	"math/rand/v2"
	"time"
)

// Policy is a capped exponential schedule.
type Policy struct {
	// Base is the ceiling of the first delay.
	Base time.Duration
	// Max caps every delay's ceiling.
	Max time.Duration
}

// Ceiling is the upper bound of the delay before retry n (n = 1 for the first
// retry): min(Max, Base·2^(n-1)). It never overflows.
func (p Policy) Ceiling(n int) time.Duration {
	if n < 1 {
		n = 1
	}
	c := p.Base
	for i := 1; i < n && c < p.Max; i++ {
		c *= 2
	}
	if p.Max > 0 && c > p.Max {
		c = p.Max
	}
	return c
}

// Delay is the full-jitter delay before retry n: uniform in [0, Ceiling(n)).
func (p Policy) Delay(n int) time.Duration {
	c := p.Ceiling(n)
	if c <= 0 {
		return 0
	}
	return rand.N(c)
}
