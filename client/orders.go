package client

import (
	"context"
	"fmt"
	"net/http"

	"github.com/heepr/heepr-go/client/raw"
	herrors "github.com/heepr/heepr-go/errors"
	"github.com/heepr/heepr-go/models"
)

// Decline declines an order with a structured reason and an optional message
// for the owner and customer.
func (c *Client) Decline(ctx context.Context, orderID string, reason models.DeclineReason, message string, opts ...CallOption) error {
	if err := checkPathID("order id", orderID); err != nil {
		return fmt.Errorf("decline: %w", err)
	}
	if reason == "" {
		return fmt.Errorf("decline %s: empty reason", orderID)
	}
	cc := callOptions(opts)
	params := &raw.DeclineOrderParams{IdempotencyKey: keyParam(idempotencyKey(ctx, cc, "decline", orderID))}
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
	if err := checkPathID("order id", orderID); err != nil {
		return fmt.Errorf("flag: %w", err)
	}
	if reason == "" {
		return fmt.Errorf("flag %s: empty reason", orderID)
	}
	cc := callOptions(opts)
	params := &raw.FlagOrderParams{IdempotencyKey: keyParam(idempotencyKey(ctx, cc, "flag", orderID))}
	req, err := raw.NewFlagOrderRequest(c.server, orderID, params, models.FlagRequest{Reason: reason, Message: message})
	if err == nil {
		err = c.do(ctx, "flag", req, cc, c.attempt, c.discardAck)
	}
	if err != nil {
		return fmt.Errorf("flag %s: %w", orderID, err)
	}
	return nil
}

// discardAck reads an OrderAck, holding it to the spec, and drops it.
func (c *Client) discardAck(res *http.Response) error {
	var ack models.OrderAck
	if err := decodeJSON(res, &ack, c.maxBody); err != nil {
		return err
	}
	if m := missing("order_id", ack.OrderID, "state", string(ack.State)); m != "" {
		return herrors.NewInvalidResponse(res, "the order's acknowledgement has no "+m)
	}
	return nil
}
