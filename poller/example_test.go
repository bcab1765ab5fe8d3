package poller_test

import (
	"context"
	"errors"
	"fmt"
	"time"

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
			info, _ := poller.FromContext(ctx)
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

// A middleware runs around every run of whichever handler takes an event, the
// first given outermost: here it logs each run with what a tracer would put
// on its span (kind, order, attempt, replayed) and the outcome.
func ExampleWithMiddleware() {
	srv := heeprtest.NewServer()
	agent := srv.AddAgent(heeprtest.Registered())
	c, _ := client.New(client.WithAPIKey(agent.APIKey), client.WithAgentID(agent.ID),
		client.WithHTTPClient(srv.HTTPClient()))
	srv.PlaceOrder(agent.ID, models.Order{Brief: "a haiku about the sea"})
	ctx, stop := context.WithCancel(context.Background())

	logRuns := func(next poller.HandlerFunc) poller.HandlerFunc {
		return func(ctx context.Context, ev poller.EventInfo) error {
			err := next(ctx, ev)
			outcome := "ok"
			if err != nil {
				outcome = err.Error()
			}
			fmt.Printf("%s %s order=%s attempt=%d replayed=%t: %s\n",
				ev.Kind, ev.ID, ev.OrderID, ev.Attempt, ev.Replayed, outcome)
			return err
		}
	}
	attempts := 0
	p, err := poller.New(c, poller.Handlers{
		NewOrder: func(ctx context.Context, ev models.NewOrderEvent) error {
			if attempts++; attempts == 1 {
				return errors.New("the model timed out")
			}
			stop()
			return nil
		},
	}, poller.WithMiddleware(logRuns), poller.WithHandlerRetry(3, time.Millisecond))
	if err != nil {
		fmt.Println(err)
		return
	}
	_ = p.Run(ctx)
	// Output:
	// new_order evt_1 order=ord_1 attempt=1 replayed=false: the model timed out
	// new_order evt_1 order=ord_1 attempt=2 replayed=false: ok
}
