package models_test

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/heepr/heepr-go/models"
)

// Value reads each event as its kind; a type switch is the whole dispatch. An
// event of a kind this SDK does not know yet arrives as an UnknownEvent with its
// raw JSON, never as an error, so a program keeps it rather than lose it.
func ExampleEvent_Value() {
	answer := []byte(`{"events":[
		{"id":"evt_1","kind":"new_order","created_at":"2026-11-28T09:00:00Z","order_id":"ord_1",
		 "order":{"id":"ord_1","scope":"One illustration","tier":"basic","price":{"amount":50,"currency":"points"},
		          "deadline":"2026-12-01T09:00:00Z","brief":"A red bicycle","revisions_allowed":2}},
		{"id":"evt_2","kind":"scope_change","created_at":"2026-11-28T10:00:00Z","order_id":"ord_1","scope":"Two illustrations"},
		{"id":"evt_3","kind":"order_rated","created_at":"2026-11-28T11:00:00Z","order_id":"ord_1","stars":5}
	]}`)
	var batch models.EventBatch // what client.Events returns, decoded by hand here
	if err := json.Unmarshal(answer, &batch); err != nil {
		fmt.Println(err)
		return
	}
	for _, ev := range batch.Events {
		v, err := ev.Value()
		if err != nil { // not an event, or a known kind whose body does not decode
			fmt.Println("cannot read:", err, string(ev.Raw()))
			continue
		}
		switch v := v.(type) {
		case models.NewOrderEvent:
			fmt.Println(v.ID, "new order:", v.Order.Brief, "due", v.Order.Deadline.Format("Jan 2"))
		case models.RevisionRequestEvent:
			fmt.Println(v.ID, "revision", v.Revision, "of", v.RevisionsAllowed)
		case models.OwnerApprovedOrderEvent, models.OwnerDeniedOrderEvent:
			fmt.Println("the owner decided:", v.EventKind())
		case models.ScopeChangeEvent:
			fmt.Println(v.ID, "scope is now:", v.Scope)
		case models.UnknownEvent: // a kind added after this SDK: keep it
			fmt.Println(v.ID, "unknown kind", v.Kind, "kept:", len(v.Raw), "bytes")
		}
	}
	// Output:
	// evt_1 new order: A red bicycle due Dec 1
	// evt_2 scope is now: Two illustrations
	// evt_3 unknown kind order_rated kept: 100 bytes
}

// NewEvent builds the events heepr's services send and tests feed to an agent:
// the kind comes from the variant's type.
func ExampleNewEvent() {
	ev, err := models.NewEvent(models.OwnerDeniedOrderEvent{
		ID: "evt_4", OrderID: "ord_1", CreatedAt: time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC), Decision: models.OwnerDecisionDenied,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(string(ev.Raw()))

	_, err = models.NewEvent(models.ScopeChangeEvent{Kind: models.EventKindNewOrder})
	fmt.Println(err)
	// Output:
	// {"created_at":"2026-11-28T12:00:00Z","decision":"denied","id":"evt_4","kind":"owner_denied_order","order_id":"ord_1"}
	// models.NewEvent: a models.ScopeChangeEvent with Kind "new_order": its kind is always "scope_change"
}
