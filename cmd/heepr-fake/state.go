package main

import (
	"net/http"
	"net/url"
	"time"

	"github.com/heepr/heepr-go/heeprtest"
	"github.com/heepr/heepr-go/models"
)

// statePath is the dashboard's read-out: the whole fake in one answer, so the
// page renders from one request a second and never from half an update.
const statePath = controlPath + "state"

// fakeState is the answer of GET /_fake/state. Lists are [] rather than null
// when empty, and times RFC 3339 in UTC, so a script reads it without cases.
type fakeState struct {
	Agents     []stateAgent `json:"agents"`
	Orders     []stateOrder `json:"orders"`
	Violations int          `json:"violations"`
}

type stateAgent struct {
	ID     string `json:"id"`
	Online bool   `json:"online"`
	// LastPoll is null for an agent that never polled.
	LastPoll *time.Time `json:"last_poll"`
	// KeyState is "live" or "none" (never registered, or its key revoked or
	// expired): heeprtest reports whether a live key exists, not how the last
	// one ended.
	KeyState       string `json:"key_state"`
	CadenceMinutes int    `json:"cadence_minutes"`
	Status         string `json:"status"`
	Queued         int    `json:"queued"`
}

type stateOrder struct {
	ID          string            `json:"id"`
	AgentID     string            `json:"agent_id"`
	State       string            `json:"state"`
	Brief       string            `json:"brief"`
	Scope       string            `json:"scope"`
	Tier        string            `json:"tier"`
	Price       models.Price      `json:"price"`
	Deadline    time.Time         `json:"deadline"`
	Attachments []stateAttachment `json:"attachments"`
	Events      []stateEvent      `json:"events"`
	Deliveries  []stateDelivery   `json:"deliveries"`
	Declines    []stateReason     `json:"declines"`
	Flags       []stateReason     `json:"flags"`
	Progress    []stateProgress   `json:"progress"`
}

type stateAttachment struct {
	Name        string `json:"name"`
	Size        int64  `json:"size"`
	ContentType string `json:"content_type"`
}

type stateEvent struct {
	ID        string    `json:"id"`
	Kind      string    `json:"kind"`
	CreatedAt time.Time `json:"created_at"`
	Polled    bool      `json:"polled"`
}

type stateDelivery struct {
	ID        string      `json:"id"`
	Text      string      `json:"text"`
	Message   string      `json:"message"`
	Links     []string    `json:"links"`
	State     string      `json:"state"`
	CreatedAt time.Time   `json:"created_at"`
	Files     []stateFile `json:"files"`
}

type stateFile struct {
	Name        string `json:"name"`
	Size        int64  `json:"size"`
	SHA256      string `json:"sha256"`
	ContentType string `json:"content_type"`
	// URL downloads the bytes the fake kept (GET /_fake/deliveries/{id}/files/{name}).
	URL string `json:"url"`
}

// stateReason is a decline or a flag.
type stateReason struct {
	Reason  string    `json:"reason"`
	Message string    `json:"message"`
	At      time.Time `json:"at"`
}

type stateProgress struct {
	Percent int       `json:"percent"`
	Message string    `json:"message"`
	At      time.Time `json:"at"`
}

// serveState answers GET /_fake/state from heeprtest's public read-outs. Each
// read-out takes the fake's lock on its own, so an agent acting between two of
// them shows up at the next read; the page polls, and catches up a second later.
func serveState(srv *heeprtest.Server) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, readState(srv))
	}
}

func readState(srv *heeprtest.Server) fakeState {
	st := fakeState{Agents: []stateAgent{}, Orders: []stateOrder{}, Violations: len(srv.Violations())}
	for _, id := range srv.Orders() {
		if o, ok := readOrder(srv, id); ok {
			st.Orders = append(st.Orders, o)
		}
	}
	// The queues are read after the orders' events, so an event queued in
	// between is not in any order yet, and one polled in between reads as
	// still queued: the read-out may lag, never claim a poll that did not
	// happen.
	queued := map[string]bool{}
	for _, id := range srv.Agents() {
		for _, ev := range srv.QueuedEvents(id) {
			queued[ev] = true
		}
		a, ok := srv.Agent(id)
		if !ok {
			continue // listed a moment ago; agents are never removed, but skip rather than trust it
		}
		sa := stateAgent{ID: a.ID, Online: a.Online, KeyState: "none", CadenceMinutes: a.Cadence, Status: string(a.Status), Queued: a.Queued}
		if !a.LastPoll.IsZero() {
			sa.LastPoll = new(a.LastPoll.UTC())
		}
		if a.LiveKey {
			sa.KeyState = "live"
		}
		st.Agents = append(st.Agents, sa)
	}
	for _, o := range st.Orders {
		for i, e := range o.Events {
			o.Events[i].Polled = !queued[e.ID] // o is a copy; its Events is st's own slice
		}
	}
	return st
}

func readOrder(srv *heeprtest.Server, id string) (stateOrder, bool) {
	o, ok := srv.Order(id)
	agentID, _ := srv.OrderAgent(id)
	if !ok {
		return stateOrder{}, false
	}
	so := stateOrder{
		ID: o.ID, AgentID: agentID, State: string(o.State), Brief: o.Brief, Scope: o.Scope, Tier: o.Tier,
		Price: o.Price, Deadline: o.Deadline.UTC(),
		Attachments: []stateAttachment{}, Events: []stateEvent{}, Deliveries: []stateDelivery{},
		Declines: []stateReason{}, Flags: []stateReason{}, Progress: []stateProgress{},
	}
	for _, a := range o.Attachments {
		sa := stateAttachment{Name: a.Name, ContentType: a.ContentType}
		if a.Size != nil {
			sa.Size = *a.Size
		}
		so.Attachments = append(so.Attachments, sa)
	}
	for _, e := range srv.OrderEvents(id) {
		so.Events = append(so.Events, stateEvent{ID: e.ID, Kind: string(e.Kind), CreatedAt: e.At.UTC()})
	}
	for _, d := range srv.Deliveries(id) {
		sd := stateDelivery{
			ID: d.ID, Text: d.Payload.Text, Message: d.Payload.Message, Links: d.Payload.Links,
			// The fake holds every delivery for the owner's review: it has no
			// control that releases one.
			State: string(models.DeliveryStatePendingReview), CreatedAt: d.At.UTC(), Files: []stateFile{},
		}
		if sd.Links == nil {
			sd.Links = []string{}
		}
		for _, f := range d.Files {
			sd.Files = append(sd.Files, stateFile{
				Name: f.Name, Size: f.Size, SHA256: f.SHA256, ContentType: f.ContentType,
				URL: controlPath + "deliveries/" + url.PathEscape(d.ID) + "/files/" + url.PathEscape(f.Name),
			})
		}
		so.Deliveries = append(so.Deliveries, sd)
	}
	for _, d := range srv.Declines(id) {
		so.Declines = append(so.Declines, stateReason{Reason: string(d.Reason), Message: d.Message, At: d.At.UTC()})
	}
	for _, f := range srv.Flags(id) {
		so.Flags = append(so.Flags, stateReason{Reason: string(f.Reason), Message: f.Message, At: f.At.UTC()})
	}
	for _, p := range srv.Progress(id) {
		so.Progress = append(so.Progress, stateProgress{Percent: p.Percent, Message: p.Message, At: p.At.UTC()})
	}
	return so, true
}
