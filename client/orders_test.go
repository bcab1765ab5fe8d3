package client_test

import (
	"context"
	"reflect"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/heepr/heepr-go/client"
	herrors "github.com/heepr/heepr-go/errors"
	"github.com/heepr/heepr-go/models"
)

// Decline sends its params as the body, under one Idempotency-Key, and
// returns the platform's acknowledgement.
func TestClient_Decline(t *testing.T) {
	tests := []struct {
		name string
		p    client.DeclineParams
		opts []client.CallOption
		want models.DeclineRequest
	}{
		{"reason only", client.DeclineParams{Reason: models.DeclineReasonCapacity},
			nil, models.DeclineRequest{Reason: models.DeclineReasonCapacity}},
		{"with message", client.DeclineParams{Reason: models.DeclineReasonOutOfScope, Message: "not a painter"},
			nil, models.DeclineRequest{Reason: models.DeclineReasonOutOfScope, Message: "not a painter"}},
		{"own key", client.DeclineParams{Reason: models.DeclineReasonOther, Message: "busy"},
			[]client.CallOption{client.WithIdempotencyKey("mine")}, models.DeclineRequest{Reason: models.DeclineReasonOther, Message: "busy"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, a, c := registered(t)
			ord := srv.PlaceOrder(a.ID, models.Order{})
			ack, err := c.Decline(context.Background(), ord, tt.p, tt.opts...)
			require.NoError(t, err)
			assert.Equal(t, &models.OrderAck{OrderID: ord, State: models.OrderStateDeclined}, ack)
			ds := srv.Declines(ord)
			require.Len(t, ds, 1)
			assert.Equal(t, tt.want, ds[0].DeclineRequest, "the body the platform received")
			if len(tt.opts) > 0 {
				assert.Equal(t, "mine", ds[0].IdempotencyKey)
			} else {
				assert.Regexp(t, `^hk-`, ds[0].IdempotencyKey)
			}
			noViolations(t, srv)
		})
	}
}

// Flag sends its params as the body and returns the acknowledgement: the
// order parked in flagged.
func TestClient_Flag(t *testing.T) {
	tests := []struct {
		name string
		p    client.FlagParams
		want models.FlagRequest
	}{
		{"reason only", client.FlagParams{Reason: models.FlagReasonIllegal}, models.FlagRequest{Reason: models.FlagReasonIllegal}},
		{"with message", client.FlagParams{Reason: models.FlagReasonPolicyViolation, Message: "counterfeit"},
			models.FlagRequest{Reason: models.FlagReasonPolicyViolation, Message: "counterfeit"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, a, c := registered(t)
			ord := srv.PlaceOrder(a.ID, models.Order{})
			ack, err := c.Flag(context.Background(), ord, tt.p)
			require.NoError(t, err)
			assert.Equal(t, &models.OrderAck{OrderID: ord, State: models.OrderStateFlagged}, ack)
			fs := srv.Flags(ord)
			require.Len(t, fs, 1)
			assert.Equal(t, tt.want, fs[0].FlagRequest)
			o, _ := srv.Order(ord)
			assert.Equal(t, models.OrderStateFlagged, o.State)
			noViolations(t, srv)
		})
	}
}

// A refusal comes back as the platform's error, and no ack.
func TestClient_Decline_Refused(t *testing.T) {
	srv, a, c := registered(t)
	ord := srv.PlaceOrder(a.ID, models.Order{})
	_, err := c.Flag(context.Background(), ord, client.FlagParams{Reason: models.FlagReasonIllegal})
	require.NoError(t, err)
	ack, err := c.Decline(context.Background(), ord, client.DeclineParams{Reason: models.DeclineReasonCapacity})
	assert.Nil(t, ack)
	assert.ErrorIs(t, err, herrors.ErrConflict, "a flagged order cannot be declined")
	assert.ErrorContains(t, err, "decline "+ord+": ")
}

// Every field of a write's body has its field in the params, so a field the
// spec adds is not silently unreachable: a new optional field in openapi.yaml
// fails this test until the params carry it.
func TestParamsCoverTheirBodies(t *testing.T) {
	tests := []struct {
		params, body any
		skip         []string // body fields the method fills itself
	}{
		{client.DeclineParams{}, models.DeclineRequest{}, nil},
		{client.FlagParams{}, models.FlagRequest{}, nil},
		{client.StatusParams{}, models.StatusUpdate{}, []string{"OrderID", "Progress"}},
		{client.ProgressParams{}, models.Progress{}, nil},
	}
	for _, tt := range tests {
		pt, bt := reflect.TypeOf(tt.params), reflect.TypeOf(tt.body)
		t.Run(pt.Name(), func(t *testing.T) {
			for f := range bt.Fields() {
				if !f.IsExported() || contains(tt.skip, f.Name) {
					continue
				}
				pf, ok := pt.FieldByName(f.Name)
				if assert.True(t, ok, "%s has no field for %s.%s", pt.Name(), bt.Name(), f.Name) {
					assert.Equal(t, f.Type, pf.Type, "%s.%s", pt.Name(), f.Name)
				}
			}
		})
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
