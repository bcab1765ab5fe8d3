package client

import (
	"context"
	"fmt"
	"net/http"

	"github.com/heepr/heepr-go/client/raw"
	herrors "github.com/heepr/heepr-go/errors"
	"github.com/heepr/heepr-go/models"
)

// DeclineParams is what [Client.Decline] sends. A field the spec adds later (an
// optional one) is a new field here, not a new signature.
type DeclineParams struct {
	// Reason is why the agent declines (required): one of the
	// models.DeclineReason constants, or a value the platform added later.
	Reason models.DeclineReason
	// Message is a note for the owner and customer (optional).
	Message string
}

func (p DeclineParams) body() (models.DeclineRequest, error) {
	if p.Reason == "" {
		return models.DeclineRequest{}, paramError("DeclineParams.Reason", "is empty: give one of the models.DeclineReason values")
	}
	return models.DeclineRequest{Reason: p.Reason, Message: p.Message}, nil
}

// FlagParams is what [Client.Flag] sends. A field the spec adds later (an optional
// one) is a new field here, not a new signature.
type FlagParams struct {
	// Reason is why the agent flags the order (required): one of the
	// models.FlagReason constants, or a value the platform added later.
	Reason models.FlagReason
	// Message says what is wrong, for the owner's review (optional).
	Message string
}

func (p FlagParams) body() (models.FlagRequest, error) {
	if p.Reason == "" {
		return models.FlagRequest{}, paramError("FlagParams.Reason", "is empty: give one of the models.FlagReason values")
	}
	return models.FlagRequest{Reason: p.Reason, Message: p.Message}, nil
}

// Decline declines an order (POST /orders/{id}/decline) and returns the
// platform's acknowledgement: the order and its state after the decline. An
// order whose state does not allow it is refused with 409 conflict
// ([herrors.ErrConflict]).
//
// The order id and p are checked before any request: an empty reason is an
// error naming DeclineParams.Reason. An acknowledgement without its order id
// or state is an error wrapping [herrors.ErrInvalidResponse], not retried.
// Like every write, it carries one Idempotency-Key on every attempt (see
// [WithIdempotencyKey] and [NewIdempotencyScopeContext]).
func (c *Client) Decline(ctx context.Context, orderID string, p DeclineParams, opts ...CallOption) (*models.OrderAck, error) {
	if err := checkPathID("order id", orderID); err != nil {
		return nil, fmt.Errorf("decline: %w", err)
	}
	body, err := p.body()
	if err == nil {
		var ack *models.OrderAck
		ack, err = c.orderWrite(ctx, OperationDeclineOrder, "decline", orderID, opts, func(params *string) (*http.Request, error) {
			return raw.NewDeclineOrderRequest(c.server, orderID, &raw.DeclineOrderParams{IdempotencyKey: params}, body)
		})
		if err == nil {
			return ack, nil
		}
	}
	return nil, fmt.Errorf("decline %s: %w", orderID, err)
}

// Flag flags an order as illegal or policy-violating (POST
// /orders/{id}/flag); the order parks in flagged until the owner reviews it.
// It returns the platform's acknowledgement: the order and its state.
//
// The order id and p are checked before any request: an empty reason is an
// error naming FlagParams.Reason. An acknowledgement without its order id or
// state is an error wrapping [herrors.ErrInvalidResponse], not retried. Like
// every write, it carries one Idempotency-Key on every attempt.
func (c *Client) Flag(ctx context.Context, orderID string, p FlagParams, opts ...CallOption) (*models.OrderAck, error) {
	if err := checkPathID("order id", orderID); err != nil {
		return nil, fmt.Errorf("flag: %w", err)
	}
	body, err := p.body()
	if err == nil {
		var ack *models.OrderAck
		ack, err = c.orderWrite(ctx, OperationFlagOrder, "flag", orderID, opts, func(params *string) (*http.Request, error) {
			return raw.NewFlagOrderRequest(c.server, orderID, &raw.FlagOrderParams{IdempotencyKey: params}, body)
		})
		if err == nil {
			return ack, nil
		}
	}
	return nil, fmt.Errorf("flag %s: %w", orderID, err)
}

// orderWrite is a decline or a flag: one write under one idempotency key
// (derived as name's), its OrderAck checked.
func (c *Client) orderWrite(ctx context.Context, op, name, orderID string, opts []CallOption, build func(key *string) (*http.Request, error)) (*models.OrderAck, error) {
	ctx, cc, end, err := c.begin(ctx, opts)
	if err != nil {
		return nil, err
	}
	// One key per logical write, outside the middleware: a middleware that
	// calls next again repeats it.
	key := keyParam(idempotencyKey(ctx, cc, name, orderID))
	var ack models.OrderAck
	err = c.invoke(ctx, cc, op, orderID, func(ctx context.Context, cc callConfig) error {
		req, err := build(key)
		if err != nil {
			return err
		}
		return c.do(ctx, req, cc, c.attempt, func(res *http.Response) error {
			ack = models.OrderAck{} // a retried attempt starts afresh
			if err := decodeJSON(res, &ack, c.maxBody); err != nil {
				return err
			}
			if m := missing("order_id", ack.OrderID, "state", string(ack.State)); m != "" {
				return herrors.NewInvalidResponse(res, "the order's acknowledgement has no "+m)
			}
			return nil
		})
	})
	if err = end(err); err != nil {
		return nil, err
	}
	return &ack, nil
}
