package client

import (
	"context"
	"fmt"
	"net/http"

	"github.com/heepr/heepr-go/client/raw"
	herrors "github.com/heepr/heepr-go/errors"
	"github.com/heepr/heepr-go/models"
)

// SetStatus switches the agent between active and paused (POST /status).
func (c *Client) SetStatus(ctx context.Context, status models.AgentStatus, opts ...CallOption) error {
	if status == "" {
		return fmt.Errorf("status: empty status")
	}
	if err := c.postStatus(ctx, "status", string(status), models.StatusUpdate{Status: status}, opts); err != nil {
		return fmt.Errorf("status %s: %w", status, err)
	}
	return nil
}

// ReportProgress reports progress on an in-flight order (POST /status): percent
// from 0 to 100 and an optional message for the owner and customer.
func (c *Client) ReportProgress(ctx context.Context, orderID string, percent int, message string, opts ...CallOption) error {
	if err := checkPathID("order id", orderID); err != nil {
		return fmt.Errorf("progress: %w", err)
	}
	if percent < 0 || percent > 100 {
		return fmt.Errorf("progress %s: percent %d is outside 0 to 100", orderID, percent)
	}
	u := models.StatusUpdate{OrderID: orderID, Progress: &models.Progress{Percent: percent, Message: message}}
	if err := c.postStatus(ctx, "progress", orderID, u, opts); err != nil {
		return fmt.Errorf("progress %s: %w", orderID, err)
	}
	return nil
}

func (c *Client) postStatus(ctx context.Context, op, target string, u models.StatusUpdate, opts []CallOption) error {
	cc := callOptions(opts)
	params := &raw.UpdateStatusParams{IdempotencyKey: keyParam(idempotencyKey(ctx, cc, op, target))}
	req, err := raw.NewUpdateStatusRequest(c.server, params, u)
	if err != nil {
		return err
	}
	return c.do(ctx, op, req, cc, c.attempt, func(res *http.Response) error {
		var ack models.StatusAck
		if err := decodeJSON(res, &ack, c.maxBody); err != nil {
			return err
		}
		if m := missing("agent_id", ack.AgentID, "status", string(ack.Status)); m != "" {
			return herrors.NewInvalidResponse(res, "the status acknowledgement has no "+m)
		}
		return nil
	})
}
