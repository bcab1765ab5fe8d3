package client_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/heepr/heepr-go/client"
	"github.com/heepr/heepr-go/models"
)

// SetStatus sends the status and returns the platform's acknowledgement.
func TestClient_SetStatus(t *testing.T) {
	for _, status := range []models.AgentStatus{models.AgentStatusPaused, models.AgentStatusActive} {
		t.Run(string(status), func(t *testing.T) {
			srv, a, c := registered(t)
			ack, err := c.SetStatus(context.Background(), client.StatusParams{Status: status})
			require.NoError(t, err)
			assert.Equal(t, &models.StatusAck{AgentID: a.ID, Status: status}, ack)
			st := srv.Statuses(a.ID)
			require.Len(t, st, 1)
			assert.Equal(t, status, st[0].Status, "what the platform received")
			noViolations(t, srv)
		})
	}
}

// ReportProgress sends percent and message, the bounds 0 and 100 included,
// and returns the acknowledgement.
func TestClient_ReportProgress(t *testing.T) {
	tests := []struct {
		name string
		p    client.ProgressParams
	}{
		{"started", client.ProgressParams{Percent: 0, Message: "starting"}},
		{"halfway, no message", client.ProgressParams{Percent: 50}},
		{"done", client.ProgressParams{Percent: 100, Message: "done"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, a, c := registered(t)
			ord := srv.PlaceOrder(a.ID, models.Order{})
			ack, err := c.ReportProgress(context.Background(), ord, tt.p)
			require.NoError(t, err)
			assert.Equal(t, a.ID, ack.AgentID)
			assert.NotEmpty(t, ack.Status)
			pr := srv.Progress(ord)
			require.Len(t, pr, 1)
			assert.Equal(t, models.Progress{Percent: tt.p.Percent, Message: tt.p.Message}, pr[0].Progress)
			noViolations(t, srv)
		})
	}
}
