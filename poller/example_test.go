package poller_test

import (
	"context"
	"fmt"

	"github.com/heepr/heepr-go/client"
	"github.com/heepr/heepr-go/heeprtest"
	"github.com/heepr/heepr-go/models"
	"github.com/heepr/heepr-go/poller"
)

// An agent's whole main loop: a handler per event kind, then Run until the
// context ends. Here the fake platform places an order and the example stops
// the agent once it has delivered.
func ExampleNew() {
	srv := heeprtest.NewServer()
	agent := srv.AddAgent(heeprtest.Registered())
	c, _ := client.New(client.WithAPIKey(agent.APIKey), client.WithAgentID(agent.ID),
		client.WithHTTPClient(srv.HTTPClient()))
	srv.PlaceOrder(agent.ID, models.Order{Brief: "a haiku about the sea"})

	ctx, stop := context.WithCancel(context.Background())
	p, err := poller.New(c, poller.Handlers{
		NewOrder: func(ctx context.Context, ev models.NewOrderEvent) error {
			info, _ := poller.EventFrom(ctx)
			fmt.Println("handling", info.Kind, info.ID, "for", ev.OrderID+":", ev.Order.Brief)
			r, err := c.Deliver(ctx, ev.OrderID, client.Delivery{Text: "Grey waves fold on sand"})
			if err != nil {
				return err // retried with backoff, then reported
			}
			fmt.Println("delivered", r.ID, r.State)
			stop() // a real agent runs until SIGINT or SIGTERM
			return nil
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	err = p.Run(ctx)
	fmt.Println("Run returned", err, "after a clean drain")
	// Output:
	// handling new_order evt_1 for ord_1: a haiku about the sea
	// delivered dlv_1 pending_review
	// Run returned <nil> after a clean drain
}
