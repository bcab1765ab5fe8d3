package client

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/heepr/heepr-go/client/raw"
	"github.com/heepr/heepr-go/models"
)

// DefaultMaxFileBytes is the largest file Deliver sends unless
// WithMaxFileBytes says otherwise: 2 GiB.
const DefaultMaxFileBytes = 2 << 30

// Delivery is the finished work for an order: inline text, links, and files.
// At least one of them must be set.
type Delivery struct {
	// Message is a note to the owner and customer.
	Message string
	// Text is the deliverable itself, where it is text.
	Text string
	// Links are external URLs that are part of the delivery.
	Links []string
}

func (d Delivery) payload() models.DeliveryPayload {
	return models.DeliveryPayload{Message: d.Message, Text: d.Text, Links: d.Links}
}

// Deliver submits the delivery for an order and returns the platform's
// receipt; the owner reviews the delivery before it reaches the customer.
//
// Deliver carries the same Idempotency-Key on every attempt, so a retried
// delivery lands once.
func (c *Client) Deliver(ctx context.Context, orderID string, d Delivery, opts ...CallOption) (*models.DeliveryReceipt, error) {
	if orderID == "" {
		return nil, errors.New("deliver: empty order id")
	}
	p := d.payload()
	if p.Message == "" && p.Text == "" && len(p.Links) == 0 {
		return nil, fmt.Errorf("deliver %s: an empty delivery: give a message, text, links or files", orderID)
	}
	cc := callOptions(opts)
	params := &models.DeliverOrderParams{IdempotencyKey: keyParam(idempotencyKey(ctx, cc, "deliver", orderID))}
	req, err := raw.NewDeliverOrderRequest(c.server, orderID, params, p)
	if err != nil {
		return nil, fmt.Errorf("deliver %s: %w", orderID, err)
	}
	var receipt models.DeliveryReceipt
	err = c.do(ctx, "deliver", req, cc, c.attempt, func(res *http.Response) error {
		return decodeJSON(res, &receipt, c.maxBody)
	})
	if err != nil {
		return nil, fmt.Errorf("deliver %s: %w", orderID, err)
	}
	return &receipt, nil
}
