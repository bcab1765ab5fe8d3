package river

import (
	"context"
	"errors"
	"hash/fnv"
	"time"

	"github.com/jackc/pgx/v5"

	herrors "github.com/heepr/heepr-go/errors"
)

// lockKey turns a name into the int64 of a PostgreSQL advisory lock.
func lockKey(name string) int64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte(name))
	return int64(h.Sum64())
}

// leaderKey is the advisory lock of the agent's leadership: one per agent
// and queue, so two agents (or two queues) on one database elect apart.
func (a *Agent) leaderKey() int64 {
	return lockKey("heepr-go/river: leader: " + a.c.AgentID() + "/" + a.cfg.queue)
}

// campaign tries to become the leader every WithElection interval and,
// while it leads, runs the poller. It returns nil when ctx is cancelled, or
// the poller's fatal error (a refused key).
//
// Leadership is a session advisory lock held on a connection of its own,
// outside the pool: PostgreSQL releases it when that connection ends, so a
// leader that dies (or loses the database) lets go without a word. The
// connection asks the server for short TCP keepalives, so a leader whose
// machine vanished is dropped within about 25s rather than hours.
func (a *Agent) campaign(ctx context.Context) error {
	var conn *pgx.Conn
	defer func() {
		if conn != nil {
			_ = conn.Close(context.Background())
		}
	}()
	for {
		if conn == nil || conn.IsClosed() {
			conn = a.dial(ctx)
		}
		if conn != nil {
			var got bool
			if err := conn.QueryRow(ctx, "SELECT pg_try_advisory_lock($1)", a.leaderKey()).Scan(&got); err != nil {
				if ctx.Err() != nil {
					return nil
				}
				a.log.WarnContext(ctx, "heepr river: leader election: could not ask for the lock", "error", err)
				_ = conn.Close(context.Background())
				conn = nil
			} else if got {
				err := a.lead(ctx, conn)
				// The lock goes with the connection: never handed back to
				// a pool, never held by a replica that stopped leading.
				_ = conn.Close(context.Background())
				conn = nil
				if err != nil || ctx.Err() != nil {
					return err
				}
				continue // lost the connection: try again at once
			}
		}
		t := time.NewTimer(a.cfg.election)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
	}
}

// dial opens the lock's own connection, nil when the database is not there
// (said at warn level; the next try comes at the next interval).
func (a *Agent) dial(ctx context.Context) *pgx.Conn {
	cc := a.pool.Config().ConnConfig.Copy()
	cc.RuntimeParams["tcp_keepalives_idle"] = "10"
	cc.RuntimeParams["tcp_keepalives_interval"] = "5"
	cc.RuntimeParams["tcp_keepalives_count"] = "3"
	cc.RuntimeParams["application_name"] = "heepr-go/river leader"
	dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	conn, err := pgx.ConnectConfig(dctx, cc)
	if err != nil {
		if ctx.Err() == nil {
			a.log.WarnContext(ctx, "heepr river: leader election: cannot reach the database", "error", err)
		}
		return nil
	}
	return conn
}

// lead runs the poller while conn (holding the lock) answers. It returns
// when ctx ends (nil), when the poller stops with a fatal error (that
// error), or when conn stops answering (nil: campaign tries again).
func (a *Agent) lead(ctx context.Context, conn *pgx.Conn) error {
	p, err := a.newPoller()
	if err != nil {
		return err
	}
	a.stats.leaderships.Add(1)
	a.log.InfoContext(ctx, "heepr river: this replica is the leader; polling")
	a.mu.Lock()
	a.p = p
	a.mu.Unlock()
	if a.cfg.onLeader != nil {
		a.cfg.onLeader(true)
	}
	defer func() {
		a.mu.Lock()
		a.p = nil
		a.mu.Unlock()
		if a.cfg.onLeader != nil {
			a.cfg.onLeader(false)
		}
	}()

	pctx, stop := context.WithCancel(ctx)
	defer stop()
	done := make(chan error, 1)
	go func() { done <- p.Run(pctx) }()
	t := time.NewTicker(a.cfg.election)
	defer t.Stop()
	for {
		select {
		case err := <-done:
			if err != nil && herrors.IsFatalAuth(err) {
				return err
			}
			if err != nil {
				a.log.ErrorContext(ctx, "heepr river: the leader's poller stopped", "error", err)
			}
			return nil
		case <-t.C:
			hctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			err := conn.Ping(hctx)
			cancel()
			if err != nil && ctx.Err() == nil {
				a.log.WarnContext(ctx, "heepr river: the leader lost its lock's connection; stepping down", "error", err)
				stop()
				if perr := <-done; perr != nil && !errors.Is(perr, context.Canceled) {
					a.log.WarnContext(ctx, "heepr river: the poller stopped", "error", perr)
				}
				return nil
			}
		}
	}
}
