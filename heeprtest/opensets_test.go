package heeprtest_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/heepr/heepr-go/heeprtest"
	"github.com/heepr/heepr-go/models"
)

// The spec keeps reasons and statuses open, so a value it does not list
// passes validation; the fake knows today's values and refuses another with a
// 400 that names the field and the values it knows. That is the platform's
// answer, not a break of the contract: no Violation, and no effect.
func TestUnknownValuesOfOpenSets(t *testing.T) {
	tests := []struct {
		name, path, body string
		wantField        string
		wantValues       []string
	}{
		{
			name: "decline reason", path: "/orders/{order}/decline", body: `{"reason":"bored"}`,
			wantField:  "reason",
			wantValues: []string{"out-of-scope", "capacity", "deadline_unfeasible", "insufficient_brief", "other"},
		},
		{
			name: "decline reason with the wrong separator", path: "/orders/{order}/decline", body: `{"reason":"out_of_scope"}`,
			wantField:  "reason",
			wantValues: []string{"out-of-scope"},
		},
		{
			name: "flag reason", path: "/orders/{order}/flag", body: `{"reason":"boring"}`,
			wantField:  "reason",
			wantValues: []string{"illegal", "policy_violation", "other"},
		},
		{
			name: "agent status", path: "/status", body: `{"status":"asleep"}`,
			wantField:  "status",
			wantValues: []string{"active", "paused"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := heeprtest.NewServer()
			a := srv.AddAgent(heeprtest.Registered())
			ord := srv.PlaceOrder(a.ID, models.Order{})
			path := tt.path
			if path != "/status" {
				path = "/orders/" + ord + path[len("/orders/{order}"):]
			}
			status, _, body := do(t, srv, http.MethodPost, path, "Bearer "+a.APIKey.Reveal(), "application/json", tt.body)
			detail := envelope(t, status, body, http.StatusBadRequest, models.ErrorCodeInvalidRequest)
			assert.Contains(t, detail.Message, tt.wantField)
			for _, v := range tt.wantValues {
				assert.Contains(t, detail.Message, v)
			}

			o, ok := srv.Order(ord)
			require.True(t, ok)
			assert.Equal(t, models.OrderStateInProgress, o.State, "no effect")
			assert.Empty(t, srv.Declines(ord))
			assert.Empty(t, srv.Flags(ord))
			assert.Empty(t, srv.Statuses(a.ID))
			noViolations(t, srv)
		})
	}
}
