package heeprtest

import (
	"slices"
	"time"

	"github.com/heepr/heepr-go/models"
)

// Delivery is a delivery as the fake received and accepted it.
type Delivery struct {
	ID      string
	OrderID string
	AgentID string
	// Payload is the JSON body, or the payload part of a multipart delivery.
	Payload models.DeliveryPayload
	// Files are the file parts of a multipart delivery, in the order sent.
	Files []File
	// Multipart reports whether the delivery came as multipart/form-data.
	Multipart bool
	// IdempotencyKey is the Idempotency-Key header of the request that made it.
	IdempotencyKey string
	At             time.Time
}

// File is one file part of a delivery: the name, type, size and SHA-256 the
// platform reports in its receipt, and the first bytes of the file (up to
// WithMaxFileBytes).
type File struct {
	models.DeliveredFile
	Data []byte
}

// Decline is a decline as the fake recorded it.
type Decline struct {
	models.DeclineRequest
	OrderID        string
	IdempotencyKey string
	At             time.Time
}

// Flag is a flag as the fake recorded it.
type Flag struct {
	models.FlagRequest
	OrderID        string
	IdempotencyKey string
	At             time.Time
}

// OrderEvent is one event the fake queued about an order: its id and kind, and
// when it was queued.
type OrderEvent struct {
	ID   string
	Kind models.EventKind
	At   time.Time
}

// StatusReport is one status change an agent posted.
type StatusReport struct {
	Status models.AgentStatus
	At     time.Time
}

// ProgressReport is one progress report on an order.
type ProgressReport struct {
	models.Progress
	At time.Time
}

// PlaceOrder places an order against the agent's gigs and queues its new_order
// event. Fields left zero get defaults: an id counting up from ord_1, a scope,
// tier standard, 100 points, a deadline 72 hours out and a brief.
// RevisionsAllowed is kept as given. The order starts in_progress, or
// pending_acceptance for an agent added with ManualAcceptance. PlaceOrder
// returns the order's id, or "" (recording a control Violation) when the agent
// is unknown or the id is taken.
func (s *Server) PlaceOrder(agentID string, o models.Order) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.state.agents[agentID]
	if a == nil {
		s.controlViolation("PlaceOrder: no agent %q", agentID)
		return ""
	}
	if o.ID == "" {
		o.ID = s.nextID("ord")
	} else if s.state.orders[o.ID] != nil {
		s.controlViolation("PlaceOrder: order %q exists", o.ID)
		return ""
	}
	if o.Scope == "" {
		o.Scope = "One short text, as described in the brief."
	}
	if o.Tier == "" {
		o.Tier = "standard"
	}
	if o.Price == (models.Price{}) {
		o.Price = models.Price{Amount: 100, Currency: "points"}
	}
	if o.Deadline.IsZero() {
		o.Deadline = time.Now().UTC().Add(72 * time.Hour)
	}
	if o.Brief == "" {
		o.Brief = "Write a haiku about the sea."
	}
	o.State = models.OrderStateInProgress
	if a.manual {
		o.State = models.OrderStatePendingAcceptance
	}
	o.Attachments = slices.Clone(o.Attachments)
	placed := &order{o: o, agentID: agentID}
	s.state.orders[o.ID] = placed
	s.state.orderIDs = append(s.state.orderIDs, o.ID)

	ev := models.NewOrderEvent{Order: o, Rules: s.opts.rules}
	ev.ID, ev.Kind, ev.CreatedAt, ev.OrderID = s.headerLocked(o.ID, models.EventKindNewOrder)
	s.queueLocked(placed, ev, ev.ID, ev.Kind, ev.CreatedAt)
	return o.ID
}

// RequestRevision queues a revision_request for the order, as when the customer
// asks for a revision (within the allowance, or approved by the owner), and
// moves the order to revision_requested. It returns the event's id, or "" for
// an unknown order or one that is over (declined, denied, flagged, cancelled,
// completed).
func (s *Server) RequestRevision(orderID, brief string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.liveOrderLocked("RequestRevision", orderID)
	if o == nil {
		return ""
	}
	o.revisions++
	o.o.State = models.OrderStateRevisionRequested
	ev := models.RevisionRequestEvent{Brief: brief, Revision: o.revisions, RevisionsAllowed: o.o.RevisionsAllowed, Rules: s.opts.rules}
	ev.ID, ev.Kind, ev.CreatedAt, ev.OrderID = s.headerLocked(o.o.ID, models.EventKindRevisionRequest)
	return s.queueLocked(o, ev, ev.ID, ev.Kind, ev.CreatedAt)
}

// ApproveOrder is the owner approving an order that awaits manual acceptance:
// the order moves to in_progress and an owner_approved_order event is queued.
// It returns the event's id, or "" when the order is not pending_acceptance.
func (s *Server) ApproveOrder(orderID, note string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.liveOrderLocked("ApproveOrder", orderID)
	if o == nil {
		return ""
	}
	if o.o.State != models.OrderStatePendingAcceptance {
		s.controlViolation("ApproveOrder: order %s is %s, not pending_acceptance", orderID, o.o.State)
		return ""
	}
	o.o.State = models.OrderStateInProgress
	ev := models.OwnerApprovedOrderEvent{Decision: models.OwnerDecisionApproved, Note: note, Rules: s.opts.rules}
	ev.ID, ev.Kind, ev.CreatedAt, ev.OrderID = s.headerLocked(o.o.ID, models.EventKindOwnerApprovedOrder)
	return s.queueLocked(o, ev, ev.ID, ev.Kind, ev.CreatedAt)
}

// DenyOrder is the owner denying an order (the customer is refunded): the order
// moves to denied and an owner_denied_order event is queued. It returns the
// event's id, or "" when the order is over.
func (s *Server) DenyOrder(orderID, note string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.liveOrderLocked("DenyOrder", orderID)
	if o == nil {
		return ""
	}
	o.o.State = models.OrderStateDenied
	ev := models.OwnerDeniedOrderEvent{Decision: models.OwnerDecisionDenied, Note: note}
	ev.ID, ev.Kind, ev.CreatedAt, ev.OrderID = s.headerLocked(o.o.ID, models.EventKindOwnerDeniedOrder)
	return s.queueLocked(o, ev, ev.ID, ev.Kind, ev.CreatedAt)
}

// ChangeScope is the owner adjusting an order mid-flight: the non-zero Scope,
// Brief and Deadline of change replace the order's, and a scope_change event
// carrying them is queued (its other fields are set by the fake). It returns the
// event's id, or "" when the order is over.
func (s *Server) ChangeScope(orderID string, change models.ScopeChangeEvent) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.liveOrderLocked("ChangeScope", orderID)
	if o == nil {
		return ""
	}
	if change.Scope != "" {
		o.o.Scope = change.Scope
	}
	if change.Brief != "" {
		o.o.Brief = change.Brief
	}
	if !change.Deadline.IsZero() {
		o.o.Deadline = change.Deadline
	}
	ev := models.ScopeChangeEvent{Scope: change.Scope, Brief: change.Brief, Deadline: change.Deadline, Rules: s.opts.rules}
	ev.ID, ev.Kind, ev.CreatedAt, ev.OrderID = s.headerLocked(o.o.ID, models.EventKindScopeChange)
	return s.queueLocked(o, ev, ev.ID, ev.Kind, ev.CreatedAt)
}

// headerLocked returns the common fields of a new event about the order.
func (s *Server) headerLocked(orderID string, kind models.EventKind) (string, models.EventKind, time.Time, string) {
	return s.nextID("evt"), kind, time.Now().UTC(), orderID
}

// queueLocked queues a typed event for the order's agent and returns its id.
func (s *Server) queueLocked(o *order, ev models.EventVariant, id string, kind models.EventKind, at time.Time) string {
	a := s.state.agents[o.agentID]
	a.queue = append(a.queue, ev)
	o.events = append(o.events, OrderEvent{ID: id, Kind: kind, At: at})
	return id
}

func (s *Server) liveOrderLocked(op, orderID string) *order {
	o := s.state.orders[orderID]
	if o == nil {
		s.controlViolation("%s: no order %q", op, orderID)
		return nil
	}
	if orderOver(o.o.State) {
		s.controlViolation("%s: order %s is %s", op, orderID, o.o.State)
		return nil
	}
	return o
}

func orderOver(st models.OrderState) bool {
	switch st {
	case models.OrderStateDeclined, models.OrderStateDenied, models.OrderStateFlagged,
		models.OrderStateCancelled, models.OrderStateCompleted:
		return true
	}
	return false
}

// Order returns the order as it stands, and false when there is no such order.
func (s *Server) Order(orderID string) (models.Order, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.state.orders[orderID]
	if o == nil {
		return models.Order{}, false
	}
	c := o.o
	c.Attachments = slices.Clone(c.Attachments)
	return c, true
}

// Orders returns the ids of every order, in the order they were placed.
func (s *Server) Orders() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.state.orderIDs)
}

// OrderEvents returns the events queued about the order, oldest first: its
// new_order first, then revision requests, owner decisions and scope changes.
func (s *Server) OrderEvents(orderID string) []OrderEvent {
	s.mu.Lock()
	defer s.mu.Unlock()
	if o := s.state.orders[orderID]; o != nil {
		return slices.Clone(o.events)
	}
	return nil
}

// Deliveries returns the deliveries accepted for the order, oldest first. A
// delivery retried with the same Idempotency-Key appears once.
func (s *Server) Deliveries(orderID string) []Delivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	if o := s.state.orders[orderID]; o != nil {
		return slices.Clone(o.deliveries)
	}
	return nil
}

// Declines returns the declines recorded for the order.
func (s *Server) Declines(orderID string) []Decline {
	s.mu.Lock()
	defer s.mu.Unlock()
	if o := s.state.orders[orderID]; o != nil {
		return slices.Clone(o.declines)
	}
	return nil
}

// Flags returns the flags recorded for the order.
func (s *Server) Flags(orderID string) []Flag {
	s.mu.Lock()
	defer s.mu.Unlock()
	if o := s.state.orders[orderID]; o != nil {
		return slices.Clone(o.flags)
	}
	return nil
}

// Progress returns the progress reports recorded for the order.
func (s *Server) Progress(orderID string) []ProgressReport {
	s.mu.Lock()
	defer s.mu.Unlock()
	if o := s.state.orders[orderID]; o != nil {
		return slices.Clone(o.progress)
	}
	return nil
}

// Statuses returns the status changes the agent posted, oldest first.
func (s *Server) Statuses(agentID string) []StatusReport {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a := s.state.agents[agentID]; a != nil {
		return slices.Clone(a.statuses)
	}
	return nil
}
