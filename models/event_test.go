package models_test

import (
	"encoding/json"
	"go/ast"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/heepr/heepr-go/models"
)

var created = time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)

// knownEvents is one event of each known kind, built the way heepr's services
// build them (Kind left for NewEvent to set), with the JSON each one has.
func knownEvents() []struct {
	variant models.EventVariant
	json    string
} {
	no := models.NewOrderEvent{Order: models.Order{
		ID: "ord_1", Scope: "One illustration", Tier: "basic",
		Price:    models.Price{Amount: 50, Currency: "points"},
		Deadline: created.Add(72 * time.Hour), Brief: "A red bicycle", RevisionsAllowed: 2,
		Attachments: []models.Attachment{{ID: "att_1", Name: "ref.jpg", URL: "https://heepr.ai/api/attachments/att_1", Size: new(int64(2048))}},
	}, Rules: "rules", ID: "evt_1", CreatedAt: created, OrderID: "ord_1"}
	rr := models.RevisionRequestEvent{Brief: "Make it blue", Revision: 1, RevisionsAllowed: 2, ID: "evt_2", CreatedAt: created, OrderID: "ord_1"}
	oa := models.OwnerApprovedOrderEvent{Decision: models.OwnerDecisionApproved, Note: "go", ID: "evt_3", CreatedAt: created, OrderID: "ord_1"}
	od := models.OwnerDeniedOrderEvent{Decision: models.OwnerDecisionDenied, ID: "evt_4", CreatedAt: created, OrderID: "ord_1"}
	sc := models.ScopeChangeEvent{Scope: "Two illustrations", Deadline: created.Add(96 * time.Hour), ID: "evt_5", CreatedAt: created, OrderID: "ord_1"}
	const h = `"created_at":"2026-11-28T09:00:00Z","order_id":"ord_1"`
	return []struct {
		variant models.EventVariant
		json    string
	}{
		{no, `{"id":"evt_1","kind":"new_order",` + h + `,"sf":"rules","order":{"id":"ord_1","scope":"One illustration","tier":"basic",` +
			`"price":{"amount":50,"currency":"points"},"deadline":"2026-12-01T09:00:00Z","brief":"A red bicycle","revisions_allowed":2,` +
			`"attachments":[{"id":"att_1","name":"ref.jpg","url":"https://heepr.ai/api/attachments/att_1","size":2048}]}}`},
		{rr, `{"id":"evt_2","kind":"revision_request",` + h + `,"brief":"Make it blue","revision":1,"revisions_allowed":2}`},
		{oa, `{"id":"evt_3","kind":"owner_approved_order",` + h + `,"decision":"approved","note":"go"}`},
		{od, `{"id":"evt_4","kind":"owner_denied_order",` + h + `,"decision":"denied"}`},
		{sc, `{"id":"evt_5","kind":"scope_change",` + h + `,"scope":"Two illustrations","deadline":"2026-12-02T09:00:00Z"}`},
	}
}

// withKind returns v with its Kind field set, as Value returns it.
func withKind(v models.EventVariant) models.EventVariant {
	switch v := v.(type) {
	case models.NewOrderEvent:
		v.Kind = v.EventKind()
		return v
	case models.RevisionRequestEvent:
		v.Kind = v.EventKind()
		return v
	case models.OwnerApprovedOrderEvent:
		v.Kind = v.EventKind()
		return v
	case models.OwnerDeniedOrderEvent:
		v.Kind = v.EventKind()
		return v
	case models.ScopeChangeEvent:
		v.Kind = v.EventKind()
		return v
	}
	return v
}

func event(t *testing.T, raw string) models.Event {
	t.Helper()
	var ev models.Event
	require.NoError(t, json.Unmarshal([]byte(raw), &ev))
	return ev
}

func TestEvent_Value(t *testing.T) {
	type test struct {
		name string
		raw  string
		want models.EventVariant
	}
	var tests []test
	for _, k := range knownEvents() {
		tests = append(tests, test{string(k.variant.EventKind()), k.json, withKind(k.variant)})
	}
	unknown := func(kind models.EventKind, raw string) models.UnknownEvent {
		return models.UnknownEvent{ID: "evt_9", Kind: kind, CreatedAt: created, OrderID: "ord_1", Raw: json.RawMessage(raw)}
	}
	const h = `"id":"evt_9","created_at":"2026-11-28T09:00:00Z","order_id":"ord_1"`
	for _, tt := range []struct{ name, raw string }{
		{"unknown kind", `{"kind":"order_cancelled",` + h + `,"refund":{"amount":50,"note":"kind: \"new_order\""}}`},
		{"unknown kind after a nested kind", `{"detail":{"kind":"new_order"},"list":[{"kind":"x"}],` + h + `,"kind":"order_rated"}`},
	} {
		var kind models.EventKind
		if strings.Contains(tt.raw, "order_cancelled") {
			kind = "order_cancelled"
		} else {
			kind = "order_rated"
		}
		tests = append(tests, test{tt.name, tt.raw, unknown(kind, tt.raw)})
	}
	tests = append(tests,
		test{"no kind", `{` + h + `}`, unknown("", `{`+h+`}`)},
		test{"null kind", `{"kind":null,` + h + `}`, unknown("", `{"kind":null,`+h+`}`)},
		test{"escaped kind member", `{"ki\u006ed":"order_rated",` + h + `}`, unknown("order_rated", `{"ki\u006ed":"order_rated",`+h+`}`)},
		test{"escaped known kind", `{"kind":"scope\u005fchange","id":"evt_5"}`, models.ScopeChangeEvent{ID: "evt_5", Kind: models.EventKindScopeChange}},
		test{"white space", " {\n \"kind\" : \"owner_denied_order\" , \"id\":\"evt_4\" }\n",
			models.OwnerDeniedOrderEvent{ID: "evt_4", Kind: models.EventKindOwnerDeniedOrder}},
		test{"unknown members and enum values of a known kind",
			`{"kind":"owner_denied_order","id":"evt_8","decision":"escalated","reviewer":"ops"}`,
			models.OwnerDeniedOrderEvent{ID: "evt_8", Kind: models.EventKindOwnerDeniedOrder, Decision: "escalated"}},
	)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := event(t, tt.raw)
			got, err := ev.Value()
			require.NoError(t, err)
			assert.IsType(t, tt.want, got)
			assert.Equal(t, tt.want, got)
			assert.Equal(t, tt.want.EventKind(), got.EventKind())
			if u, ok := got.(models.UnknownEvent); ok {
				assert.False(t, u.Kind.Valid())
				u.Raw[0] = 'X'
				assert.Equal(t, tt.raw, string(ev.Raw()), "Value's Raw is a copy")
			}
		})
	}
}

func TestEvent_Value_refuses(t *testing.T) {
	tests := []struct {
		name string
		raw  string
		want []string // in the error's message
	}{
		{"a string", `"just a string"`, []string{"decode event: not a JSON object"}},
		{"an array", `[{"kind":"new_order"}]`, []string{"not a JSON object"}},
		{"null", `null`, []string{"not a JSON object"}},
		{"kind not a string", `{"id":"evt_1","kind":7}`, []string{"kind 7 is not a string"}},
		{"deadline not a time", `{"id":"evt_1","kind":"new_order","order":{"id":"ord_1","deadline":"yesterday"}}`,
			[]string{"decode new_order event \"evt_1\"", `order.deadline "yesterday"`, "parsing time"}},
		{"amount not a number", `{"id":"evt_1","kind":"new_order","order":{"price":{"amount":"fifty"}}}`,
			[]string{"new_order event \"evt_1\"", `order.price.amount "fifty"`}},
		{"attachment size not a number", `{"id":"evt_1","kind":"new_order","order":{"attachments":[{"id":"a"},{"size":"big"}]}}`,
			[]string{`order.attachments[1].size "big"`}},
		{"revision not a number", `{"kind":"revision_request","id":"evt_2","revision":"first"}`,
			[]string{"revision_request event \"evt_2\"", `revision "first"`}},
		{"decision not a string", `{"kind":"owner_approved_order","id":"evt_3","decision":true}`,
			[]string{"owner_approved_order event \"evt_3\"", "decision true"}},
		{"order not an object", `{"kind":"new_order","order":[]}`,
			[]string{"new_order event (id unknown)", "order []"}},
		{"scope change deadline", `{"kind":"scope_change","id":"evt_5","deadline":5}`,
			[]string{"scope_change event \"evt_5\"", "deadline 5"}},
		{"an unknown kind with a bad header", `{"kind":"order_rated","id":"evt_9","created_at":"yesterday"}`,
			[]string{`"order_rated" event "evt_9"`, `created_at "yesterday"`}},
		{"two kinds", `{"id":"evt_1","kind":"scope_change","kind":"new_order"}`,
			[]string{`event "evt_1": it holds two kinds, "scope_change" and "new_order"`}},
		{"two kinds, differently cased", `{"kind":"new_order","KIND":"order_rated"}`,
			[]string{`two kinds, "new_order" and "order_rated"`}},
		{"a known kind cased differently", `{"id":"evt_1","Kind":"new_order"}`,
			[]string{`two kinds, "" and "new_order"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := event(t, tt.raw).Value()
			require.Error(t, err)
			assert.Nil(t, got)
			for _, w := range tt.want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}

	t.Run("the zero Event", func(t *testing.T) {
		_, err := models.Event{}.Value()
		assert.ErrorContains(t, err, "zero Event")
	})
	t.Run("the cause is wrapped", func(t *testing.T) {
		_, err := event(t, `{"kind":"new_order","order":{"price":{"amount":"fifty"}}}`).Value()
		var te *json.UnmarshalTypeError
		assert.ErrorAs(t, err, &te)
	})
}

func TestNewEvent(t *testing.T) {
	for _, k := range knownEvents() {
		t.Run(string(k.variant.EventKind()), func(t *testing.T) {
			for name, v := range map[string]models.EventVariant{"kind empty": k.variant, "kind set": withKind(k.variant)} {
				ev, err := models.NewEvent(v)
				require.NoError(t, err, name)
				assert.JSONEq(t, k.json, string(ev.Raw()), name)

				got, err := ev.Value()
				require.NoError(t, err, name)
				assert.Equal(t, withKind(k.variant), got, name)
			}
		})
	}

	t.Run("pointer", func(t *testing.T) {
		v := models.ScopeChangeEvent{ID: "evt_5", Scope: "more"}
		ev, err := models.NewEvent(&v)
		require.NoError(t, err)
		got, err := ev.Value()
		require.NoError(t, err)
		assert.Equal(t, withKind(v), got)
	})

	unknownRaw := `{"id":"evt_9","kind":"order_rated","created_at":"2026-11-28T09:00:00Z","order_id":"ord_1","stars":5}`
	unknownTests := []struct {
		name string
		in   models.UnknownEvent
		json string
	}{
		{"header only", models.UnknownEvent{ID: "evt_9", Kind: "order_rated", CreatedAt: created, OrderID: "ord_1"},
			`{"created_at":"2026-11-28T09:00:00Z","id":"evt_9","kind":"order_rated","order_id":"ord_1"}`},
		{"raw", models.UnknownEvent{Kind: "order_rated", Raw: json.RawMessage(unknownRaw)}, unknownRaw},
		{"raw and an agreeing header", models.UnknownEvent{ID: "evt_9", Kind: "order_rated", CreatedAt: created, OrderID: "ord_1", Raw: json.RawMessage(unknownRaw)}, unknownRaw},
	}
	for _, tt := range unknownTests {
		t.Run("unknown: "+tt.name, func(t *testing.T) {
			ev, err := models.NewEvent(tt.in)
			require.NoError(t, err)
			assert.Equal(t, tt.json, string(ev.Raw()), "byte for byte")
			got, err := ev.Value()
			require.NoError(t, err)
			u, ok := got.(models.UnknownEvent)
			require.True(t, ok, "%T", got)
			assert.Equal(t, tt.json, string(u.Raw))

			again, err := models.NewEvent(u)
			require.NoError(t, err, "Value's UnknownEvent goes back unchanged")
			assert.Equal(t, tt.json, string(again.Raw()))
		})
	}
}

// embedded is a type outside package models that satisfies EventVariant by
// embedding a variant: NewEvent refuses it.
type embedded struct{ models.NewOrderEvent }

func TestNewEvent_refuses(t *testing.T) {
	tests := []struct {
		name string
		in   models.EventVariant
		want string
	}{
		{"new_order with another kind", models.NewOrderEvent{Kind: models.EventKindScopeChange},
			`a models.NewOrderEvent with Kind "scope_change": its kind is always "new_order"`},
		{"revision_request with another kind", models.RevisionRequestEvent{Kind: "order_rated"}, `its kind is always "revision_request"`},
		{"owner_approved_order with another kind", models.OwnerApprovedOrderEvent{Kind: models.EventKindOwnerDeniedOrder}, `its kind is always "owner_approved_order"`},
		{"owner_denied_order with another kind", models.OwnerDeniedOrderEvent{Kind: models.EventKindOwnerApprovedOrder}, `its kind is always "owner_denied_order"`},
		{"scope_change with another kind", models.ScopeChangeEvent{Kind: models.EventKindNewOrder}, `its kind is always "scope_change"`},
		{"a pointer with another kind", &models.ScopeChangeEvent{Kind: models.EventKindNewOrder}, `its kind is always "scope_change"`},
		{"unknown with a known kind", models.UnknownEvent{Kind: models.EventKindNewOrder}, `known Kind "new_order": build that kind's own type`},
		{"unknown without kind", models.UnknownEvent{ID: "evt_9"}, "without Kind or Raw"},
		{"unknown whose raw has another kind", models.UnknownEvent{Kind: "order_rated", Raw: json.RawMessage(`{"kind":"order_paid"}`)},
			`Kind "order_rated" whose Raw has kind "order_paid"`},
		{"unknown whose raw is a known kind", models.UnknownEvent{Kind: "order_rated", Raw: json.RawMessage(`{"kind":"new_order"}`)},
			`Kind "order_rated" whose Raw has kind "new_order"`},
		{"unknown whose raw has another id", models.UnknownEvent{ID: "evt_1", Kind: "x", Raw: json.RawMessage(`{"kind":"x","id":"evt_2"}`)},
			`ID "evt_1" whose Raw has id "evt_2"`},
		{"unknown whose raw has another order", models.UnknownEvent{OrderID: "ord_1", Kind: "x", Raw: json.RawMessage(`{"kind":"x"}`)},
			`OrderID "ord_1" whose Raw has order_id ""`},
		{"unknown whose raw has another time", models.UnknownEvent{CreatedAt: created, Kind: "x", Raw: json.RawMessage(`{"kind":"x"}`)},
			"CreatedAt 2026-11-28T09:00:00Z whose Raw has created_at"},
		{"unknown whose raw is not JSON", models.UnknownEvent{Kind: "x", Raw: json.RawMessage(`{"kind":"x"`)}, "Raw is not valid JSON"},
		{"unknown whose raw is not an object", models.UnknownEvent{Kind: "x", Raw: json.RawMessage(`["x"]`)}, "Raw is not an event"},
		{"nil", nil, "a nil EventVariant"},
		{"nil pointer", (*models.NewOrderEvent)(nil), "a nil *models.NewOrderEvent"},
		{"a type from outside models", embedded{}, "models_test.embedded is not an event type of package models"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev, err := models.NewEvent(tt.in)
			require.Error(t, err)
			assert.ErrorContains(t, err, "models.NewEvent: ")
			assert.ErrorContains(t, err, tt.want)
			assert.Equal(t, models.Event{}, ev)
		})
	}
}

// TestEventVariantIsSealed type-checks a package outside models that tries to
// implement EventVariant: the compiler must refuse it, because the interface
// has an unexported method that only package models can declare.
func TestEventVariantIsSealed(t *testing.T) {
	if testing.Short() {
		t.Skip("type-checks models and its imports from source")
	}
	const src = `package outside

import "github.com/heepr/heepr-go/models"

type myEvent struct{}

func (myEvent) EventKind() models.EventKind { return "mine" }
func (myEvent) header() models.EventHeader  { return models.EventHeader{} }

var _ models.EventVariant = myEvent{}
`
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "outside.go", src, 0)
	require.NoError(t, err)
	var errs []string
	conf := types.Config{
		Importer: importer.ForCompiler(fset, "source", nil),
		Error:    func(err error) { errs = append(errs, err.Error()) },
	}
	_, _ = conf.Check("outside", fset, []*ast.File{f}, nil)
	require.Len(t, errs, 1, "exactly the assignment fails: %q", errs)
	assert.Contains(t, errs[0], "myEvent does not implement models.EventVariant")
	assert.Contains(t, errs[0], "unexported method header")
}

func TestEvent_JSON(t *testing.T) {
	// Unknown members, white space and member order: Raw keeps the bytes,
	// json.Marshal their compact form (as it does for any Marshaler).
	const raw = "{ \"order_id\":\"ord_1\",  \"kind\":\"order_cancelled\",\n\"id\":\"evt_9\",\"refund\":{\"amount\":50} }"
	ev := event(t, raw)
	assert.Equal(t, raw, string(ev.Raw()))
	out, err := json.Marshal(ev)
	require.NoError(t, err)
	assert.Equal(t, `{"order_id":"ord_1","kind":"order_cancelled","id":"evt_9","refund":{"amount":50}}`, string(out))

	b, err := json.Marshal(models.EventBatch{Events: []models.Event{ev}})
	require.NoError(t, err)
	var batch models.EventBatch
	require.NoError(t, json.Unmarshal(b, &batch))
	require.Len(t, batch.Events, 1)
	assert.Equal(t, string(out), string(batch.Events[0].Raw()))

	zero, err := json.Marshal(models.Event{})
	require.NoError(t, err)
	assert.Equal(t, "null", string(zero))

	var bad models.Event
	assert.ErrorContains(t, bad.UnmarshalJSON([]byte(`{"kind":`)), "not valid JSON")
	assert.Equal(t, models.Event{}, bad)
}

func TestEvent_Raw_isACopy(t *testing.T) {
	ev := event(t, `{"id":"evt_1","kind":"x"}`)
	raw := ev.Raw()
	raw[2] = 'X'
	assert.JSONEq(t, `{"id":"evt_1","kind":"x"}`, string(ev.Raw()))

	b, err := ev.MarshalJSON()
	require.NoError(t, err)
	b[2] = 'X'
	assert.JSONEq(t, `{"id":"evt_1","kind":"x"}`, string(ev.Raw()))
}

func TestIdlePoll(t *testing.T) {
	for _, body := range []string{`{}`, `{"events":[]}`, `{"events":null}`} {
		var batch models.EventBatch
		require.NoError(t, json.Unmarshal([]byte(body), &batch), body)
		assert.Empty(t, batch.Events, body)
	}
}

func TestEvent_Header(t *testing.T) {
	h, err := event(t, `{"id":"evt_9","kind":"order_rated","created_at":"2026-11-28T09:00:00Z","order_id":"ord_1","stars":5}`).Header()
	require.NoError(t, err)
	assert.Equal(t, models.EventHeader{ID: "evt_9", Kind: "order_rated", CreatedAt: created, OrderID: "ord_1"}, h)

	_, err = event(t, `"just a string"`).Header()
	assert.ErrorContains(t, err, "decode event header")
	_, err = models.Event{}.Header()
	assert.ErrorContains(t, err, "decode event header")
}

// A header field of the wrong type is named in Header's error.
func TestEvent_Header_namesTheBadField(t *testing.T) {
	for field, raw := range map[string]string{
		"created_at": `{"id":"evt_1","kind":"new_order","created_at":"yesterday"}`,
		"id":         `{"id":7,"kind":"new_order","created_at":"2026-11-28T09:00:00Z"}`,
		"order_id":   `{"id":"evt_1","order_id":["x"]}`,
	} {
		_, err := event(t, raw).Header()
		require.Error(t, err, field)
		assert.Contains(t, err.Error(), "decode event header: "+field+" ", field)
	}
}
