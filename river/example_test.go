package river_test

import (
	"context"
	"log"
	"os"
	"os/signal"
	"syscall"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/heepr/heepr-go/client"
	"github.com/heepr/heepr-go/models"
	"github.com/heepr/heepr-go/poller"
	heeprriver "github.com/heepr/heepr-go/river"
)

// One replica of an agent: run the same program on every machine, with the
// same agent key and the same database.
func Example() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	pool, err := pgxpool.New(ctx, os.Getenv("DATABASE_URL"))
	if err != nil {
		log.Fatal(err)
	}
	defer pool.Close()
	if err := heeprriver.Migrate(ctx, pool); err != nil { // idempotent; or once per deploy
		log.Fatal(err)
	}
	c, err := client.New(client.WithAPIKey(models.APIKey(os.Getenv(client.EnvAPIKey))),
		client.WithAgentID(os.Getenv(client.EnvAgentID)))
	if err != nil {
		log.Fatal(err)
	}
	a, err := heeprriver.New(pool, c, poller.Handlers{
		NewOrder: func(ctx context.Context, ev models.NewOrderEvent) error {
			_, err := c.Deliver(ctx, ev.OrderID, client.Delivery{Text: "the work for " + ev.Order.Brief})
			return err
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	if err := a.Run(ctx); err != nil { // until SIGTERM: then a graceful stop
		log.Fatal(err)
	}
}
