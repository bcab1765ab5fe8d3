package river

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"
)

// migrateLockKey is the advisory lock our migrations run under.
var migrateLockKey = lockKey("heepr-go/river: migrate")

// ours are this package's migrations, run after River's, each idempotent.
var ours = []string{
	// The workers' question "does an earlier event of this order still
	// wait?" runs before every job: an index makes it one probe.
	`CREATE INDEX IF NOT EXISTS heepr_river_event_order ON river_job ((args->>'order_id'), id) WHERE kind = '` + eventKind + `'`,
}

// Migrate brings the database up to what this package needs: River's schema
// (through River's migrator, to its newest version) and this package's own
// index. It is safe to run again (what is there is left as it is); run it
// once at deploy, from one process, before the replicas start. This
// package's own step takes an advisory lock, so replicas that each run it at
// start do not collide there.
func Migrate(ctx context.Context, pool *pgxpool.Pool) error {
	m, err := rivermigrate.New(riverpgxv5.New(pool), nil)
	if err != nil {
		return fmt.Errorf("heepr river: migrate: %w", err)
	}
	if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("heepr river: migrate river: %w", err)
	}
	// One replica at a time: two CREATE INDEX IF NOT EXISTS at once can
	// still collide in the catalogue.
	err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", migrateLockKey); err != nil {
			return err
		}
		for _, q := range ours {
			if _, err := tx.Exec(ctx, q); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("heepr river: migrate: %w", err)
	}
	return nil
}
