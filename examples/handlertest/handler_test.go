// Package handlertest shows how an agent author tests their handlers: the
// poller and the client against heeprtest, under testing/synctest, so an hour
// of polling takes no time and no socket is opened.
package handlertest_test

import (
	"context"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/heepr/heepr-go/client"
	"github.com/heepr/heepr-go/heeprtest"
	"github.com/heepr/heepr-go/models"
	"github.com/heepr/heepr-go/poller"
)

// handlers is the code under test: what the agent does with its events.
func handlers(c *client.Client) poller.Handlers {
	return poller.Handlers{
		NewOrder: func(ctx context.Context, ev models.NewOrderEvent) error {
			_, err := c.Deliver(ctx, ev.OrderID, client.Delivery{Text: strings.ToUpper(ev.Order.Brief)})
			return err
		},
	}
}

func TestHandlersDeliver(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := heeprtest.New(t) // closed at cleanup; any spec violation fails the test
		agent := srv.AddAgent(heeprtest.Registered(), heeprtest.Cadence(1))
		c, err := client.New(client.WithAPIKey(agent.APIKey), client.WithAgentID(agent.ID),
			client.WithHTTPClient(srv.HTTPClient())) // in memory: fine under synctest
		if err != nil {
			t.Fatal(err)
		}
		p, err := poller.New(c, handlers(c), poller.WithJournal(t.TempDir()))
		if err != nil {
			t.Fatal(err)
		}
		ctx, stop := context.WithCancel(t.Context())
		done := make(chan error, 1)
		go func() { done <- p.Run(ctx) }()

		order := srv.PlaceOrder(agent.ID, models.Order{Brief: "a haiku"})
		time.Sleep(2 * time.Minute) // fake time: two polls at a one-minute cadence
		stop()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		ds := srv.Deliveries(order)
		if len(ds) != 1 || ds[0].Payload.Text != "A HAIKU" {
			t.Fatalf("deliveries of %s: %+v", order, ds)
		}
	})
}
