package heeprtest_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/heepr/heepr-go/heeprtest"
	"github.com/heepr/heepr-go/models"
)

func TestServer_OrderAgent(t *testing.T) {
	srv := heeprtest.NewServer()
	a := srv.AddAgent()
	b := srv.AddAgent()
	first := srv.PlaceOrder(b.ID, models.Order{})
	named := srv.PlaceOrder(a.ID, models.Order{ID: "ord_custom"})

	agent, ok := srv.OrderAgent(named)
	assert.True(t, ok)
	assert.Equal(t, a.ID, agent)
	agent, ok = srv.OrderAgent(first)
	assert.True(t, ok)
	assert.Equal(t, b.ID, agent)
	_, ok = srv.OrderAgent("ord_none")
	assert.False(t, ok)
}

// QueuedEvents holds what the next poll will answer; a poll drains it.
func TestServer_QueuedEvents(t *testing.T) {
	srv := heeprtest.NewServer()
	a, c := registered(t, srv, heeprtest.ManualAcceptance())
	other := srv.AddAgent()
	assert.Empty(t, srv.QueuedEvents(a.ID))
	id := srv.PlaceOrder(a.ID, models.Order{})
	srv.PlaceOrder(other.ID, models.Order{})
	placed := srv.OrderEvents(id)
	require.Len(t, placed, 1)
	assert.Equal(t, []string{placed[0].ID}, srv.QueuedEvents(a.ID), "another agent's events stay its own")

	res, err := c.PollEventsWithResponse(context.Background())
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, res.StatusCode())
	require.Len(t, res.JSON200.Events, 1)
	assert.Empty(t, srv.QueuedEvents(a.ID), "the poll took it")

	approved := srv.ApproveOrder(id, "go ahead")
	require.NotEmpty(t, approved)
	assert.Equal(t, []string{approved}, srv.QueuedEvents(a.ID))
	assert.Nil(t, srv.QueuedEvents("agt_none"))
}
