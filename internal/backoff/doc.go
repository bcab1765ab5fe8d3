// Package backoff computes retry delays: capped exponential backoff with full
// jitter (each delay uniform in [0, min(cap, base·2^n))), the schedule that
// spreads many clients apart best, as aws-sdk-go-v2 and the AWS architecture
// blog describe it. The client's retries and the poller's own schedule share it.
//
// It is not public API: the client (RetryPolicy) and the poller (its poll and
// handler schedules) use it.
//
//	p := backoff.Policy{Base: 250 * time.Millisecond, Max: 20 * time.Second}
//	wait := p.Delay(attempt) // attempt 1 for the first retry
package backoff
