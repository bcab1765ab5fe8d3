package main

import (
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/heepr/heepr-go/heeprtest"
	"github.com/heepr/heepr-go/models"
)

// ordersOf returns the order named by ?order_id=, or every order when it is
// absent, answering 404 for an unknown one.
func (c *control) ordersOf(w http.ResponseWriter, r *http.Request) ([]string, bool) {
	id := r.URL.Query().Get("order_id")
	if id == "" {
		return c.srv.Orders(), true
	}
	if _, ok := c.srv.Order(id); !ok {
		writeError(w, http.StatusNotFound, models.ErrorCodeNotFound, "no order %q", id)
		return nil, false
	}
	return []string{id}, true
}

// delivery is one delivery as GET /_fake/deliveries lists it. id, order_id,
// text and files (name, size, sha256) are a contract that tests outside this
// repository use: fields are only ever added.
type delivery struct {
	ID        string         `json:"id"`
	OrderID   string         `json:"order_id"`
	AgentID   string         `json:"agent_id"`
	Text      string         `json:"text"`
	Message   string         `json:"message,omitempty"`
	Links     []string       `json:"links,omitempty"`
	Files     []deliveryFile `json:"files"`
	Multipart bool           `json:"multipart"`
	CreatedAt time.Time      `json:"created_at"`
}

type deliveryFile struct {
	Name        string `json:"name"`
	Size        int64  `json:"size"`
	SHA256      string `json:"sha256"`
	ContentType string `json:"content_type,omitempty"`
	// URL downloads the file from the control API.
	URL string `json:"url"`
}

// deliveries answers GET /_fake/deliveries?order_id=…: what the fake accepted
// for the order (or for every order), oldest first; a retry with the same
// Idempotency-Key is one.
func (c *control) deliveries(w http.ResponseWriter, r *http.Request) {
	orders, ok := c.ordersOf(w, r)
	if !ok {
		return
	}
	out := []delivery{} // [] rather than null when there is none
	for _, id := range orders {
		for _, d := range c.srv.Deliveries(id) {
			files := []deliveryFile{}
			for _, f := range d.Files {
				files = append(files, deliveryFile{
					Name: f.Name, Size: f.Size, SHA256: f.SHA256, ContentType: f.ContentType,
					URL: origin(r) + controlPath + "deliveries/" + url.PathEscape(d.ID) + "/files/" + url.PathEscape(f.Name),
				})
			}
			out = append(out, delivery{
				ID: d.ID, OrderID: d.OrderID, AgentID: d.AgentID, Text: d.Payload.Text, Message: d.Payload.Message,
				Links: d.Payload.Links, Files: files, Multipart: d.Multipart, CreatedAt: d.At,
			})
		}
	}
	writeJSON(w, http.StatusOK, struct {
		Deliveries []delivery `json:"deliveries"`
	}{out})
}

// deliveryFile answers GET /_fake/deliveries/{id}/files/{name}: the file's
// bytes, as an attachment to save. The fake keeps the first -max-file-bytes of
// each file; a file cut there answers 409 rather than a part of it.
func (c *control) deliveryFile(w http.ResponseWriter, r *http.Request) {
	id, name := r.PathValue("id"), r.PathValue("name")
	for _, order := range c.srv.Orders() {
		for _, d := range c.srv.Deliveries(order) {
			if d.ID != id {
				continue
			}
			for _, f := range d.Files {
				if f.Name != name {
					continue
				}
				if int64(len(f.Data)) < f.Size {
					writeError(w, http.StatusConflict, models.ErrorCodeConflict,
						"the fake kept the first %d of the %d bytes of %s; start heepr-fake with a larger -max-file-bytes", len(f.Data), f.Size, name)
					return
				}
				ct := f.ContentType
				if ct == "" {
					ct = "application/octet-stream"
				}
				h := w.Header()
				h.Set("Content-Type", ct)
				h.Set("Content-Length", strconv.Itoa(len(f.Data)))
				h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name}))
				// What an agent delivered is not the fake's page: no script of
				// it may run at the control API's origin.
				h.Set("X-Content-Type-Options", "nosniff")
				h.Set("Content-Security-Policy", "sandbox; default-src 'none'; img-src data:; style-src 'unsafe-inline'")
				w.WriteHeader(http.StatusOK)
				if r.Method != http.MethodHead {
					_, _ = w.Write(f.Data)
				}
				return
			}
			writeError(w, http.StatusNotFound, models.ErrorCodeNotFound, "delivery %s has no file %q", id, name)
			return
		}
	}
	writeError(w, http.StatusNotFound, models.ErrorCodeNotFound, "no delivery %q", id)
}

// reasoned is a decline or a flag as the read-outs list it.
type reasoned struct {
	OrderID   string    `json:"order_id"`
	Reason    string    `json:"reason"`
	Message   string    `json:"message,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

// declines answers GET /_fake/declines?order_id=….
func (c *control) declines(w http.ResponseWriter, r *http.Request) {
	orders, ok := c.ordersOf(w, r)
	if !ok {
		return
	}
	out := []reasoned{}
	for _, id := range orders {
		for _, d := range c.srv.Declines(id) {
			out = append(out, reasoned{d.OrderID, string(d.Reason), d.Message, d.At})
		}
	}
	writeJSON(w, http.StatusOK, struct {
		Declines []reasoned `json:"declines"`
	}{out})
}

// flags answers GET /_fake/flags?order_id=….
func (c *control) flags(w http.ResponseWriter, r *http.Request) {
	orders, ok := c.ordersOf(w, r)
	if !ok {
		return
	}
	out := []reasoned{}
	for _, id := range orders {
		for _, f := range c.srv.Flags(id) {
			out = append(out, reasoned{f.OrderID, string(f.Reason), f.Message, f.At})
		}
	}
	writeJSON(w, http.StatusOK, struct {
		Flags []reasoned `json:"flags"`
	}{out})
}

// progress answers GET /_fake/progress?order_id=….
func (c *control) progress(w http.ResponseWriter, r *http.Request) {
	orders, ok := c.ordersOf(w, r)
	if !ok {
		return
	}
	type report struct {
		OrderID   string    `json:"order_id"`
		Percent   int       `json:"percent"`
		Message   string    `json:"message,omitempty"`
		CreatedAt time.Time `json:"created_at"`
	}
	out := []report{}
	for _, id := range orders {
		for _, p := range c.srv.Progress(id) {
			out = append(out, report{id, p.Percent, p.Message, p.At})
		}
	}
	writeJSON(w, http.StatusOK, struct {
		Progress []report `json:"progress"`
	}{out})
}

// statuses answers GET /_fake/statuses?agent_id=…: the status changes agents
// posted, of one agent or all.
func (c *control) statuses(w http.ResponseWriter, r *http.Request) {
	agents := c.srv.Agents()
	if id := r.URL.Query().Get("agent_id"); id != "" {
		if _, ok := c.srv.Agent(id); !ok {
			writeError(w, http.StatusNotFound, models.ErrorCodeNotFound, "no agent %q; the fake has %s", id, strings.Join(agents, ", "))
			return
		}
		agents = []string{id}
	}
	type report struct {
		AgentID   string    `json:"agent_id"`
		Status    string    `json:"status"`
		CreatedAt time.Time `json:"created_at"`
	}
	out := []report{}
	for _, id := range agents {
		for _, s := range c.srv.Statuses(id) {
			out = append(out, report{id, string(s.Status), s.At})
		}
	}
	writeJSON(w, http.StatusOK, struct {
		Statuses []report `json:"statuses"`
	}{out})
}

// loggedRequest is one request of the API's log, without its headers: no
// Authorization value ever leaves the fake through the control API.
type loggedRequest struct {
	Seq            int       `json:"seq"`
	Time           time.Time `json:"time"`
	Method         string    `json:"method"`
	Path           string    `json:"path"`
	Status         int       `json:"status"`
	AgentID        string    `json:"agent_id"`
	RequestID      string    `json:"request_id"`
	DurationMS     float64   `json:"duration_ms"`
	Fault          string    `json:"fault,omitempty"`
	IdempotencyKey string    `json:"idempotency_key,omitempty"`
	Replayed       bool      `json:"replayed,omitempty"`
}

// requests answers GET /_fake/requests?since=N: the API's requests logged
// after seq N, oldest first, and "next", the since of the next call.
func (c *control) requests(w http.ResponseWriter, r *http.Request) {
	since := 0
	if s := r.URL.Query().Get("since"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			writeError(w, http.StatusBadRequest, models.ErrorCodeInvalidRequest, "since %q: want the seq of the last request seen, 0 or more", s)
			return
		}
		since = n
	}
	out := []loggedRequest{}
	next := since
	for _, q := range c.srv.Requests() {
		if q.Seq <= since {
			continue
		}
		lr := loggedRequest{
			Seq: q.Seq, Time: q.At, Method: q.Method, Path: q.Path, Status: q.Status, AgentID: q.AgentID,
			RequestID: q.ID, DurationMS: float64(q.Duration.Microseconds()) / 1000,
			IdempotencyKey: q.IdempotencyKey, Replayed: q.Replayed,
		}
		if q.Fault != 0 {
			lr.Fault = q.Fault.String()
		}
		out = append(out, lr)
		next = max(next, q.Seq)
	}
	writeJSON(w, http.StatusOK, struct {
		Requests []loggedRequest `json:"requests"`
		Next     int             `json:"next"`
	}{out, next})
}

// violations answers GET /_fake/violations: every break of openapi.yaml (and
// every misused control) the fake recorded, oldest first.
func (c *control) violations(w http.ResponseWriter, _ *http.Request) {
	type violation struct {
		Kind      heeprtest.ViolationKind `json:"kind"`
		Method    string                  `json:"method,omitempty"`
		Path      string                  `json:"path,omitempty"`
		RequestID string                  `json:"request_id,omitempty"`
		Error     string                  `json:"error"`
		CreatedAt time.Time               `json:"created_at"`
	}
	out := []violation{}
	for _, v := range c.srv.Violations() {
		out = append(out, violation{v.Kind, v.Method, v.Path, v.RequestID, v.Err, v.At})
	}
	writeJSON(w, http.StatusOK, struct {
		Violations []violation `json:"violations"`
	}{out})
}

// reset answers POST /_fake/reset: heeprtest.Server.Reset, for the next
// scenario on a running fake.
func (c *control) reset(w http.ResponseWriter, _ *http.Request) {
	c.srv.Reset()
	w.WriteHeader(http.StatusNoContent)
}
