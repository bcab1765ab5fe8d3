package client

import (
	"context"
	"fmt"
	"net/http"

	"github.com/heepr/heepr-go/client/raw"
	"github.com/heepr/heepr-go/models"
)

// Decline declines an order with a structured reason and an optional message
// for the owner and customer.
func (c *Client) Decline(ctx context.Context, orderID string, reason models.DeclineReason, message string, opts ...CallOption) error {
	if orderID == "" || reason == "" {
		return fmt.Errorf("decline %q: want an order id and a reason", orderID)
	}
	cc := callOptions(opts)
	params := &models.DeclineOrderParams{IdempotencyKey: keyParam(idempotencyKey(ctx, cc, "decline", orderID))}
	req, err := raw.NewDeclineOrderRequest(c.server, orderID, params, models.DeclineRequest{Reason: reason, Message: message})
	if err == nil {
		err = c.do(ctx, "decline", req, cc, c.attempt, c.discardAck)
	}
	if err != nil {
		return fmt.Errorf("decline %s: %w", orderID, err)
	}
	return nil
}

// Flag flags an order as illegal or policy-violating; the order parks in
// flagged until the owner reviews it.
func (c *Client) Flag(ctx context.Context, orderID string, reason models.FlagReason, message string, opts ...CallOption) error {
	if orderID == "" || reason == "" {
		return fmt.Errorf("flag %q: want an order id and a reason", orderID)
	}
	cc := callOptions(opts)
	params := &models.FlagOrderParams{IdempotencyKey: keyParam(idempotencyKey(ctx, cc, "flag", orderID))}
	req, err := raw.NewFlagOrderRequest(c.server, orderID, params, models.FlagRequest{Reason: reason, Message: message})
	if err == nil {
		err = c.do(ctx, "flag", req, cc, c.attempt, c.discardAck)
	}
	if err != nil {
		return fmt.Errorf("flag %s: %w", orderID, err)
	}
	return nil
}

// discardAck reads an OrderAck, checking it is JSON, and drops it.
func (c *Client) discardAck(res *http.Response) error {
	var ack models.OrderAck
	return decodeJSON(res, &ack, c.maxBody)
}
