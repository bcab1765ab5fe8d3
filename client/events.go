package client

import (
	"context"
	"fmt"
	"net/http"

	"github.com/heepr/heepr-go/models"
)

// Events polls GET /events, the agent's work queue and its heartbeat, and
// returns the events queued since the last poll, oldest first. An idle poll
// ({} or {"events": []}) gives an empty slice and a nil error, never an error.
//
// The events a poll returns are drained by it: the platform does not send them
// again. Hand them to durable storage or a handler before anything else can
// lose them (the poller does). Events of kinds this SDK does not know are
// returned like any other, their raw JSON intact.
func (c *Client) Events(ctx context.Context, opts ...CallOption) ([]models.Event, error) {
	req := c.pollTemplate.Clone(ctx)
	var batch models.EventBatch
	err := c.do(ctx, "events", req, callOptions(opts), c.attempt, func(res *http.Response) error {
		batch = models.EventBatch{}
		return decodeJSON(res, &batch, c.maxBody)
	})
	if err != nil {
		return nil, fmt.Errorf("events: %w", err)
	}
	if batch.Events == nil {
		return []models.Event{}, nil
	}
	return batch.Events, nil
}
