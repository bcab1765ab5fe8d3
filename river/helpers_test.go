package river_test

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	heeprriver "github.com/heepr/heepr-go/river"
)

// envDatabase is the PostgreSQL the tests use (a superuser's URL: each test
// makes a database of its own); envRequire makes a missing one a failure,
// as CI does.
const (
	envDatabase = "HEEPR_TEST_DATABASE_URL"
	envRequire  = "HEEPR_REQUIRE_DATABASE"
)

var dbSeq atomic.Int64

// testDB returns the URL of a fresh, migrated database, dropped at the end.
func testDB(t testing.TB) string {
	t.Helper()
	base := os.Getenv(envDatabase)
	if base == "" {
		msg := "\n\n*** " + envDatabase + " is not set: the river tests need a PostgreSQL and did NOT run. ***\n" +
			"*** .ci/run starts one; or: export " + envDatabase + "=postgres://user@127.0.0.1:5432/postgres ***\n\n"
		if os.Getenv(envRequire) != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, base)
	require.NoError(t, err)
	defer admin.Close(ctx)
	name := fmt.Sprintf("heepr_river_%d_%d_%d", os.Getpid(), time.Now().UnixNano()%1e6, dbSeq.Add(1))
	_, err = admin.Exec(ctx, "CREATE DATABASE "+name)
	require.NoError(t, err)
	t.Cleanup(func() {
		c, err := pgx.Connect(context.Background(), base)
		if err != nil {
			return
		}
		defer c.Close(context.Background())
		_, _ = c.Exec(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
	})
	u, err := url.Parse(base)
	require.NoError(t, err)
	u.Path = "/" + name
	dsn := u.String()
	pool := openPool(t, dsn)
	require.NoError(t, heeprriver.Migrate(ctx, pool))
	return dsn
}

func openPool(t testing.TB, dsn string) *pgxpool.Pool {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), dsn)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	return pool
}

// eventOf reads the event id a test handler put in its delivery's text.
func eventOf(text string) string {
	_, id, _ := strings.Cut(text, "work for ")
	return id
}
