package client

import (
	"context"
	"fmt"
	"net/http"

	"github.com/heepr/heepr-go/client/raw"
	herrors "github.com/heepr/heepr-go/errors"
	"github.com/heepr/heepr-go/models"
)

// StatusParams is what [Client.SetStatus] sends. A field the spec adds later (an
// optional one) is a new field here, not a new signature.
type StatusParams struct {
	// Status is whether the agent takes new orders (required):
	// models.AgentStatusActive or models.AgentStatusPaused, or a value the
	// platform added later.
	Status models.AgentStatus
}

// ProgressParams is what [Client.ReportProgress] sends. A field the spec adds later
// (an optional one) is a new field here, not a new signature.
type ProgressParams struct {
	// Percent is how far along the work is, 0 to 100 (required; 0 is a
	// report of its own, "started").
	Percent int
	// Message says what is happening, for the owner and customer (optional).
	Message string
}

// SetStatus switches the agent between active and paused (POST /status) and
// returns the platform's acknowledgement: the agent and its status.
//
// p is checked before any request: an empty status is an error naming
// StatusParams.Status. An acknowledgement without its agent id or status is
// an error wrapping [herrors.ErrInvalidResponse], not retried. Like every
// write, it carries one Idempotency-Key on every attempt.
func (c *Client) SetStatus(ctx context.Context, p StatusParams, opts ...CallOption) (*models.StatusAck, error) {
	if p.Status == "" {
		return nil, fmt.Errorf("status: %w", paramError("StatusParams.Status", "is empty: give models.AgentStatusActive or models.AgentStatusPaused"))
	}
	ack, err := c.postStatus(ctx, "status", string(p.Status), "", models.StatusUpdate{Status: p.Status}, opts)
	if err != nil {
		return nil, fmt.Errorf("status %s: %w", p.Status, err)
	}
	return ack, nil
}

// ReportProgress reports progress on an in-flight order (POST /status) and
// returns the platform's acknowledgement: the agent and its status.
//
// The order id and p are checked before any request: a percent outside 0 to
// 100 is an error naming ProgressParams.Percent. An acknowledgement without
// its agent id or status is an error wrapping [herrors.ErrInvalidResponse],
// not retried. Like every write, it carries one Idempotency-Key on every
// attempt.
func (c *Client) ReportProgress(ctx context.Context, orderID string, p ProgressParams, opts ...CallOption) (*models.StatusAck, error) {
	if err := checkPathID("order id", orderID); err != nil {
		return nil, fmt.Errorf("progress: %w", err)
	}
	if p.Percent < 0 || p.Percent > 100 {
		return nil, fmt.Errorf("progress %s: %w", orderID, paramError("ProgressParams.Percent", fmt.Sprintf("%d is outside 0 to 100", p.Percent)))
	}
	u := models.StatusUpdate{OrderID: orderID, Progress: &models.Progress{Percent: p.Percent, Message: p.Message}}
	ack, err := c.postStatus(ctx, "progress", orderID, orderID, u, opts)
	if err != nil {
		return nil, fmt.Errorf("progress %s: %w", orderID, err)
	}
	return ack, nil
}

// postStatus is one POST /status; name and target derive its idempotency
// key, orderID is the order a middleware sees ("" for none).
func (c *Client) postStatus(ctx context.Context, name, target, orderID string, u models.StatusUpdate, opts []CallOption) (*models.StatusAck, error) {
	ctx, cc, end, err := c.begin(ctx, opts)
	if err != nil {
		return nil, err
	}
	params := &raw.UpdateStatusParams{IdempotencyKey: keyParam(idempotencyKey(ctx, cc, name, target))}
	var ack models.StatusAck
	err = c.invoke(ctx, cc, OperationUpdateStatus, orderID, func(ctx context.Context, cc callConfig) error {
		req, err := raw.NewUpdateStatusRequest(c.server, params, u)
		if err != nil {
			return err
		}
		return c.do(ctx, req, cc, c.attempt, func(res *http.Response) error {
			ack = models.StatusAck{} // a retried attempt starts afresh
			if err := decodeJSON(res, &ack, c.maxBody); err != nil {
				return err
			}
			if m := missing("agent_id", ack.AgentID, "status", string(ack.Status)); m != "" {
				return herrors.NewInvalidResponse(res, "the status acknowledgement has no "+m)
			}
			return nil
		})
	})
	if err = end(err); err != nil {
		return nil, err
	}
	return &ack, nil
}
