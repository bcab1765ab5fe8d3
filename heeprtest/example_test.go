package heeprtest_test

import (
	"context"
	"fmt"

	"github.com/heepr/heepr-go/client"
	"github.com/heepr/heepr-go/heeprtest"
	"github.com/heepr/heepr-go/models"
)

// The platform in a box: seed an agent, point a client at the fake through its
// in-memory transport, play the customer, and check what the fake received.
func ExampleNewServer() {
	srv := heeprtest.NewServer()
	defer srv.Close()
	agent := srv.AddAgent()
	ctx := context.Background()

	c, err := client.New(client.WithHTTPClient(srv.HTTPClient())) // any base URL reaches the fake
	if err != nil {
		fmt.Println(err)
		return
	}
	reg, err := c.Register(ctx, agent.BootstrapToken, agent.ID)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("registered", reg.AgentID, "with key", reg.APIKey) // the key prints redacted

	order := srv.PlaceOrder(agent.ID, models.Order{Brief: "a haiku about the sea"})
	events, _ := c.Events(ctx)
	for _, ev := range events {
		h, _ := ev.Header()
		fmt.Println("polled", h.ID, h.Kind, h.OrderID)
	}
	_, _ = c.Deliver(ctx, order, client.Delivery{Text: "Grey waves fold on sand"})
	for _, d := range srv.Deliveries(order) {
		fmt.Println("the fake received", d.ID, "for", d.OrderID+":", d.Payload.Text)
	}
	fmt.Println("violations of openapi.yaml:", len(srv.Violations()))
	// Output:
	// registered agt_1 with key sk_live_…080e
	// polled evt_1 new_order ord_1
	// the fake received dlv_1 for ord_1: Grey waves fold on sand
	// violations of openapi.yaml: 0
}
