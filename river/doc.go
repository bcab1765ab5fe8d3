// Package river runs one heepr agent on many machines: every replica runs the
// same Agent against one PostgreSQL database, through River
// (github.com/riverqueue/river), a transactional job queue.
//
//   - One poller across the replicas. The replica holding a PostgreSQL
//     advisory lock (on a connection of its own, kept alive and watched) polls
//     GET /events on the owner's cadence, with the poller package's schedule,
//     skill check and backoff. The others try to take the lock every
//     WithElection interval (10s): when the leader dies, another replica polls
//     within a minute, and the leader polls at most every MaxGap minus one
//     minute, so no gap between two polls passes poller.MaxGap across a
//     failover.
//   - The journal is PostgreSQL: every polled event is inserted as a River
//     job, a poll's events in one transaction, unique by event id, before the
//     next poll; an event the platform sends again is not inserted again.
//   - Workers on every replica run the same poller.Handlers a single-machine
//     agent uses, with River's retries and backoff, under the same
//     idempotency scope (the event id and the write's place in the handler),
//     so a job retried on another machine repeats its keys and the platform
//     keeps one effect. Events of one order run one at a time, in the order
//     polled, across machines.
//
// A first use:
//
//	pool, err := pgxpool.New(ctx, os.Getenv("DATABASE_URL"))
//	if err != nil { … }
//	if err := heeprriver.Migrate(ctx, pool); err != nil { … } // once per deploy; idempotent
//	a, err := heeprriver.New(pool, c, poller.Handlers{NewOrder: …})
//	if err != nil { … }
//	err = a.Run(ctx) // until ctx is cancelled: then a graceful stop
package river
