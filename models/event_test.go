package models_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/heepr/heepr-go/models"
)

var created = time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)

func header(id string, kind models.EventKind) (string, models.EventKind, time.Time, string) {
	return id, kind, created, "ord_1"
}

// knownEvents is one event of each kind, built the way heepr's services build them.
func knownEvents(t *testing.T) map[models.EventKind]any {
	t.Helper()
	no := models.NewOrderEvent{Order: models.Order{
		ID: "ord_1", Scope: "One illustration", Tier: "basic",
		Price:    models.Price{Amount: 50, Currency: "points"},
		Deadline: created.Add(72 * time.Hour), Brief: "A red bicycle", RevisionsAllowed: 2,
		Attachments: []models.Attachment{{ID: "att_1", Name: "ref.jpg", URL: "https://heepr.ai/api/attachments/att_1"}},
	}, Rules: "rules"}
	no.ID, no.Kind, no.CreatedAt, no.OrderID = header("evt_1", models.EventKindNewOrder)
	rr := models.RevisionRequestEvent{Brief: "Make it blue", Revision: 1, RevisionsAllowed: 2}
	rr.ID, rr.Kind, rr.CreatedAt, rr.OrderID = header("evt_2", models.EventKindRevisionRequest)
	oa := models.OwnerApprovedOrderEvent{Decision: models.OwnerDecisionApproved, Note: "go"}
	oa.ID, oa.Kind, oa.CreatedAt, oa.OrderID = header("evt_3", models.EventKindOwnerApprovedOrder)
	od := models.OwnerDeniedOrderEvent{Decision: models.OwnerDecisionDenied}
	od.ID, od.Kind, od.CreatedAt, od.OrderID = header("evt_4", models.EventKindOwnerDeniedOrder)
	sc := models.ScopeChangeEvent{Scope: "Two illustrations", Deadline: created.Add(96 * time.Hour)}
	sc.ID, sc.Kind, sc.CreatedAt, sc.OrderID = header("evt_5", models.EventKindScopeChange)
	return map[models.EventKind]any{
		models.EventKindNewOrder:           no,
		models.EventKindRevisionRequest:    rr,
		models.EventKindOwnerApprovedOrder: oa,
		models.EventKindOwnerDeniedOrder:   od,
		models.EventKindScopeChange:        sc,
	}
}

func wrap(t *testing.T, v any) models.Event {
	t.Helper()
	var ev models.Event
	var err error
	switch v := v.(type) {
	case models.NewOrderEvent:
		err = ev.FromNewOrderEvent(v)
	case models.RevisionRequestEvent:
		err = ev.FromRevisionRequestEvent(v)
	case models.OwnerApprovedOrderEvent:
		err = ev.FromOwnerApprovedOrderEvent(v)
	case models.OwnerDeniedOrderEvent:
		err = ev.FromOwnerDeniedOrderEvent(v)
	case models.ScopeChangeEvent:
		err = ev.FromScopeChangeEvent(v)
	default:
		t.Fatalf("not an event: %T", v)
	}
	require.NoError(t, err)
	return ev
}

// dispatch picks the variant by the discriminator, the only safe way: the As…
// methods decode any object into any variant.
func dispatch(ev models.Event) (any, error) {
	kind, err := ev.Discriminator()
	if err != nil {
		return nil, err
	}
	switch models.EventKind(kind) {
	case models.EventKindNewOrder:
		return ev.AsNewOrderEvent()
	case models.EventKindRevisionRequest:
		return ev.AsRevisionRequestEvent()
	case models.EventKindOwnerApprovedOrder:
		return ev.AsOwnerApprovedOrderEvent()
	case models.EventKindOwnerDeniedOrder:
		return ev.AsOwnerDeniedOrderEvent()
	case models.EventKindScopeChange:
		return ev.AsScopeChangeEvent()
	}
	return nil, nil
}

func TestEventRoundTrip(t *testing.T) {
	for kind, want := range knownEvents(t) {
		t.Run(string(kind), func(t *testing.T) {
			b, err := json.Marshal(models.EventBatch{Events: []models.Event{wrap(t, want)}})
			require.NoError(t, err)

			var batch models.EventBatch
			require.NoError(t, json.Unmarshal(b, &batch))
			require.Len(t, batch.Events, 1)
			ev := batch.Events[0]

			h, err := ev.Header()
			require.NoError(t, err)
			assert.Equal(t, kind, h.Kind)
			assert.Equal(t, "ord_1", h.OrderID)
			assert.True(t, created.Equal(h.CreatedAt))

			got, err := dispatch(ev)
			require.NoError(t, err)
			assert.IsType(t, want, got, "dispatch picked the wrong variant")
			assert.Equal(t, want, got)

			byDisc, err := ev.ValueByDiscriminator()
			require.NoError(t, err)
			assert.Equal(t, want, byDisc)
		})
	}
}

// TestAsDoesNotCheckKind documents why dispatch must switch on the kind: the
// generated As… methods happily decode a scope_change as a new order.
func TestAsDoesNotCheckKind(t *testing.T) {
	ev := wrap(t, knownEvents(t)[models.EventKindScopeChange])
	wrong, err := ev.AsNewOrderEvent()
	require.NoError(t, err, "As… does not check the kind: this is why the SDK dispatches on it")
	assert.Equal(t, models.EventKindScopeChange, wrong.Kind)

	got, err := dispatch(ev)
	require.NoError(t, err)
	assert.IsType(t, models.ScopeChangeEvent{}, got)
}

func TestEventForwardCompatible(t *testing.T) {
	tests := []struct {
		name, body string
		kind       models.EventKind
		known      bool
	}{
		{
			name:  "unknown kind",
			body:  `{"id":"evt_9","kind":"order_cancelled","created_at":"2026-11-28T09:00:00Z","order_id":"ord_1","refund":{"amount":50}}`,
			kind:  "order_cancelled",
			known: false,
		},
		{
			name:  "unknown fields on a known kind",
			body:  `{"id":"evt_8","kind":"owner_denied_order","created_at":"2026-11-28T09:00:00Z","order_id":"ord_1","decision":"escalated","reviewer":"ops"}`,
			kind:  models.EventKindOwnerDeniedOrder,
			known: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var batch models.EventBatch
			require.NoError(t, json.Unmarshal([]byte(`{"events":[`+tt.body+`]}`), &batch))
			require.Len(t, batch.Events, 1)
			ev := batch.Events[0]

			h, err := ev.Header()
			require.NoError(t, err)
			assert.Equal(t, tt.kind, h.Kind)
			assert.Equal(t, tt.known, h.Kind.Valid())
			assert.JSONEq(t, tt.body, string(ev.Raw()), "raw JSON must stay reachable")

			out, err := json.Marshal(ev)
			require.NoError(t, err)
			assert.JSONEq(t, tt.body, string(out), "re-encoding must not lose fields")

			got, err := dispatch(ev)
			require.NoError(t, err)
			if tt.known {
				denied, ok := got.(models.OwnerDeniedOrderEvent)
				require.True(t, ok)
				assert.Equal(t, models.OwnerDecision("escalated"), denied.Decision, "an unknown enum value is kept")
				assert.False(t, denied.Decision.Valid())
			} else {
				assert.Nil(t, got)
				_, err := ev.ValueByDiscriminator()
				assert.Error(t, err)
			}
		})
	}
}

func TestEventRawIsACopy(t *testing.T) {
	var ev models.Event
	require.NoError(t, json.Unmarshal([]byte(`{"id":"evt_1","kind":"x"}`), &ev))
	raw := ev.Raw()
	raw[2] = 'X'
	assert.JSONEq(t, `{"id":"evt_1","kind":"x"}`, string(ev.Raw()))
}

func TestIdlePoll(t *testing.T) {
	for _, body := range []string{`{}`, `{"events":[]}`, `{"events":null}`} {
		var batch models.EventBatch
		require.NoError(t, json.Unmarshal([]byte(body), &batch), body)
		assert.Empty(t, batch.Events, body)
	}
}

func TestEventHeaderRejectsNonObject(t *testing.T) {
	var ev models.Event
	require.NoError(t, json.Unmarshal([]byte(`"just a string"`), &ev))
	_, err := ev.Header()
	assert.ErrorContains(t, err, "decode event header")
}

// A header field of the wrong type is named in Header's error.
func TestEventHeaderNamesTheBadField(t *testing.T) {
	for field, raw := range map[string]string{
		"created_at": `{"id":"evt_1","kind":"new_order","created_at":"yesterday"}`,
		"id":         `{"id":7,"kind":"new_order","created_at":"2026-11-28T09:00:00Z"}`,
		"order_id":   `{"id":"evt_1","order_id":["x"]}`,
	} {
		var ev models.Event
		require.NoError(t, ev.UnmarshalJSON([]byte(raw)))
		_, err := ev.Header()
		require.Error(t, err, field)
		assert.Contains(t, err.Error(), "decode event header: "+field+" ", field)
	}
}
