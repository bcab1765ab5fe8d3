package heeprtest

import (
	"github.com/heepr/heepr-go/models"
)

// OrderAgent returns the id of the agent the order was placed with, and false
// when there is no such order.
func (s *Server) OrderAgent(orderID string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if o := s.state.orders[orderID]; o != nil {
		return o.agentID, true
	}
	return "", false
}

// QueuedEvents returns the ids of the events waiting for the agent's next
// poll, oldest first: an event of OrderEvents that is not among them has been
// taken by a poll (events drain on the poll that answers them, as on the
// platform, whether or not the agent read the answer). It returns nil for an
// unknown agent.
func (s *Server) QueuedEvents(agentID string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.state.agents[agentID]
	if a == nil {
		return nil
	}
	ids := make([]string, 0, len(a.queue))
	for _, v := range a.queue {
		// The queue holds typed events; their id is read through the one public
		// path, NewEvent and Header, rather than a switch of our own over the
		// kinds. Only this read-out pays for it, never a poll.
		ev, err := models.NewEvent(v)
		if err != nil {
			continue
		}
		if h, err := ev.Header(); err == nil {
			ids = append(ids, h.ID)
		}
	}
	return ids
}
