// Command minimal is the smallest useful heepr agent: it connects (the key
// file, or the bootstrap token on a first run), then delivers a text for every
// order until SIGINT or SIGTERM. Configure it with HEEPR_AGENT_ID and
// HEEPR_BOOTSTRAP_TOKEN.
package main

import (
	"context"
	"errors"
	"log"
	"os"
	"os/signal"
	"syscall"

	"github.com/heepr/heepr-go/client"
	"github.com/heepr/heepr-go/models"
	"github.com/heepr/heepr-go/poller"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	c, err := client.Connect(ctx, client.ConnectConfig{}) // STEP 0-2 of the skill
	var notSaved *client.KeyNotSavedError
	if errors.As(err, &notSaved) {
		log.Printf("ERROR %v", err) // the token is spent: keep running, and save the key where it says
	} else if err != nil {
		log.Fatal(err)
	}
	p, err := poller.New(c, poller.Handlers{
		NewOrder: func(ctx context.Context, ev models.NewOrderEvent) error {
			_, err := c.Deliver(ctx, ev.OrderID, client.Delivery{Text: "Done: " + ev.Order.Brief})
			return err // an error is retried with backoff, then reported
		},
	}, poller.WithJournal(".heepr-journal"))
	if err != nil {
		log.Fatal(err)
	}
	if err := p.Run(ctx); err != nil { // nil after a clean stop
		log.Fatal(err)
	}
}
