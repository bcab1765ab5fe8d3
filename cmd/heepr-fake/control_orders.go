package main

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/heepr/heepr-go/models"
)

// maxOrderBody caps POST /_fake/orders, whose attachments travel inside it
// (base64 or multipart); maxAttachment caps each attachment read from a path.
const (
	maxOrderBody  = 64 << 20
	maxAttachment = 32 << 20
)

// orderRequest is the body of POST /_fake/orders, or its "order" part. Fields
// left out get the fake's defaults (heeprtest.Server.PlaceOrder).
type orderRequest struct {
	AgentID          string              `json:"agent_id"`
	Brief            string              `json:"brief"`
	Scope            string              `json:"scope"`
	Tier             string              `json:"tier"`
	Price            json.RawMessage     `json:"price"`
	Deadline         string              `json:"deadline"`
	RevisionsAllowed int                 `json:"revisions_allowed"`
	Attachments      []attachmentRequest `json:"attachments"`
}

// attachmentRequest is one attachment of an order: its bytes in base64, or
// the path of a file on the fake's machine (relative to its working directory).
type attachmentRequest struct {
	Name        string `json:"name"`
	ContentType string `json:"content_type"`
	DataBase64  string `json:"data_base64"`
	Path        string `json:"path"`
}

// upload is an attachment's bytes, however it arrived.
type upload struct {
	name, contentType string
	data              []byte
}

// attachmentAnswer is an attachment as POST /_fake/orders reports it.
type attachmentAnswer struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
	URL    string `json:"url"`
}

// placeOrder answers POST /_fake/orders: an order placed as a customer does,
// its attachments stored, its new_order queued for the agent's next poll.
// {"agent_id","brief"} answering 201 {"order_id"} is a contract that tests
// outside this repository use: fields are only ever added.
func (c *control) placeOrder(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxOrderBody)
	var req orderRequest
	var uploads []upload
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "multipart/form-data" {
		var ok bool
		if uploads, ok = readOrderParts(w, r, &req); !ok {
			return
		}
	} else if !decodeLimited(w, r, &req, maxOrderBody, false) {
		return
	}
	if req.AgentID == "" {
		writeError(w, http.StatusBadRequest, models.ErrorCodeInvalidRequest, `agent_id is required: {"agent_id": "agt_1", "brief": "…"}`)
		return
	}
	o := models.Order{Brief: req.Brief, Scope: req.Scope, Tier: req.Tier, RevisionsAllowed: req.RevisionsAllowed}
	var err error
	if o.Price, err = parsePrice(req.Price); err != nil {
		writeError(w, http.StatusBadRequest, models.ErrorCodeInvalidRequest, "price: %v", err)
		return
	}
	if o.Deadline, err = parseDeadline(req.Deadline); err != nil {
		writeError(w, http.StatusBadRequest, models.ErrorCodeInvalidRequest, "%v", err)
		return
	}
	if req.RevisionsAllowed < 0 {
		writeError(w, http.StatusBadRequest, models.ErrorCodeInvalidRequest, "revisions_allowed %d is below zero", req.RevisionsAllowed)
		return
	}
	for i, a := range req.Attachments {
		u, err := a.read(fromLoopback(r))
		if err != nil {
			writeError(w, http.StatusBadRequest, models.ErrorCodeInvalidRequest, "attachments[%d]: %v", i, err)
			return
		}
		uploads = append(uploads, u)
	}
	if _, ok := c.srv.Agent(req.AgentID); !ok {
		writeError(w, http.StatusNotFound, models.ErrorCodeNotFound, "no agent %q; the fake has %s", req.AgentID, strings.Join(c.srv.Agents(), ", "))
		return
	}
	answers := []attachmentAnswer{}
	for _, u := range uploads {
		att := c.srv.AddFile(u.name, u.contentType, u.data)
		o.Attachments = append(o.Attachments, att)
		answers = append(answers, attachmentAnswer{ID: att.ID, Name: att.Name, Size: int64(len(u.data)), SHA256: att.SHA256, URL: origin(r) + att.URL})
	}
	id := c.srv.PlaceOrder(req.AgentID, o)
	if id == "" {
		writeError(w, http.StatusInternalServerError, models.ErrorCodeInternalError, "the fake placed no order for %s", req.AgentID)
		return
	}
	var eventID string
	if evs := c.srv.OrderEvents(id); len(evs) > 0 {
		eventID = evs[0].ID
	}
	out := struct {
		OrderID     string             `json:"order_id"`
		EventID     string             `json:"event_id"`
		Attachments []attachmentAnswer `json:"attachments,omitempty"`
	}{id, eventID, answers}
	writeJSON(w, http.StatusCreated, out)
}

// readOrderParts reads a multipart order: the "order" part is the JSON body,
// each "file" part an attachment.
func readOrderParts(w http.ResponseWriter, r *http.Request, req *orderRequest) ([]upload, bool) {
	mr, err := r.MultipartReader()
	if err != nil {
		writeError(w, http.StatusBadRequest, models.ErrorCodeInvalidRequest, "the multipart body: %v", err)
		return nil, false
	}
	var uploads []upload
	sawOrder := false
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			writeError(w, bodyErrorStatus(err), models.ErrorCodeInvalidRequest, "the multipart body: %v", err)
			return nil, false
		}
		switch part.FormName() {
		case "order":
			body, err := io.ReadAll(io.LimitReader(part, maxControlBody+1))
			if err != nil || len(body) > maxControlBody {
				writeError(w, http.StatusBadRequest, models.ErrorCodeInvalidRequest, "the order part is unreadable or over %d bytes", maxControlBody)
				return nil, false
			}
			if !decodeJSON(w, body, req) {
				return nil, false
			}
			sawOrder = true
		case "file":
			data, err := io.ReadAll(part)
			if err != nil {
				writeError(w, bodyErrorStatus(err), models.ErrorCodeInvalidRequest, "file part %q: %v", part.FileName(), err)
				return nil, false
			}
			name := filepath.Base(part.FileName())
			if part.FileName() == "" {
				writeError(w, http.StatusBadRequest, models.ErrorCodeInvalidRequest, "a file part has no filename")
				return nil, false
			}
			uploads = append(uploads, upload{name: name, contentType: contentType(name, part.Header.Get("Content-Type"), data), data: data})
		default:
			writeError(w, http.StatusBadRequest, models.ErrorCodeInvalidRequest, "part %q: an order takes an \"order\" part and \"file\" parts", part.FormName())
			return nil, false
		}
	}
	if !sawOrder {
		writeError(w, http.StatusBadRequest, models.ErrorCodeInvalidRequest, `the multipart body has no "order" part: {"agent_id": "agt_1", "brief": "…"}`)
		return nil, false
	}
	return uploads, true
}

// bodyErrorStatus is 413 for a body over MaxBytesReader's cap, else 400.
func bodyErrorStatus(err error) int {
	if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
		return http.StatusRequestEntityTooLarge
	}
	return http.StatusBadRequest
}

// read returns the attachment's bytes. A path is read from the fake's disk, so
// only for a client on the same machine, even with -control-remote.
func (a attachmentRequest) read(local bool) (upload, error) {
	switch {
	case a.Path != "" && a.DataBase64 != "":
		return upload{}, errors.New(`give "data_base64" or "path", not both`)
	case a.Path != "":
		if !local {
			return upload{}, errors.New(`"path" reads the fake's own disk: only for clients on its machine; upload the file instead`)
		}
		f, err := os.Open(a.Path)
		if err != nil {
			return upload{}, fmt.Errorf("path: %w", err)
		}
		defer f.Close()
		data, err := io.ReadAll(io.LimitReader(f, maxAttachment+1))
		if err != nil {
			return upload{}, fmt.Errorf("path: %w", err)
		}
		if len(data) > maxAttachment {
			return upload{}, fmt.Errorf("%s is over %d bytes", a.Path, maxAttachment)
		}
		name := a.Name
		if name == "" {
			name = filepath.Base(a.Path)
		}
		return upload{name: name, contentType: contentType(name, a.ContentType, data), data: data}, nil
	case a.Name == "":
		return upload{}, errors.New(`want {"name", "content_type"?, "data_base64"} or {"path"}`)
	default:
		data, err := base64.StdEncoding.DecodeString(a.DataBase64)
		if err != nil {
			return upload{}, fmt.Errorf("data_base64: %w", err)
		}
		return upload{name: a.Name, contentType: contentType(a.Name, a.ContentType, data), data: data}, nil
	}
}

// contentType is the given type, else the one the name's extension says, else
// the one the bytes look like.
func contentType(name, given string, data []byte) string {
	if given != "" && given != "application/octet-stream" {
		return given
	}
	if t := mime.TypeByExtension(filepath.Ext(name)); t != "" {
		return t
	}
	return http.DetectContentType(data)
}

// origin is the scheme and host the client reached the fake at, to make the
// fake's own URLs absolute.
func origin(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// parsePrice reads a price as a number of points or as the spec's Price; a
// missing one is the zero Price, which PlaceOrder fills in.
func parsePrice(raw json.RawMessage) (models.Price, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return models.Price{}, nil
	}
	var p models.Price
	var points int64
	switch {
	case json.Unmarshal(raw, &points) == nil:
		p = models.Price{Amount: points, Currency: "points"}
	case json.Unmarshal(raw, &p) == nil && p.Currency != "":
	default:
		return models.Price{}, fmt.Errorf(`%s: want a whole number of points or {"amount": 100, "currency": "points"}`, raw)
	}
	if p.Amount < 0 {
		return models.Price{}, fmt.Errorf("%d is below zero", p.Amount)
	}
	return p, nil
}

// parseDeadline reads an RFC 3339 time; "" is the zero time.
func parseDeadline(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("deadline %q: want an RFC 3339 time such as 2026-12-01T09:00:00Z", s)
	}
	return t, nil
}

// liveOrder returns the {id} of the path, answering 404 for an unknown order
// and 409 for one that is over, before any heeprtest control is called: a
// refused control request is the caller's mistake, never a Violation.
func (c *control) liveOrder(w http.ResponseWriter, r *http.Request) (models.Order, bool) {
	id := r.PathValue("id")
	o, ok := c.srv.Order(id)
	if !ok {
		writeError(w, http.StatusNotFound, models.ErrorCodeNotFound, "no order %q", id)
		return o, false
	}
	switch o.State {
	case models.OrderStateDeclined, models.OrderStateDenied, models.OrderStateFlagged,
		models.OrderStateCancelled, models.OrderStateCompleted:
		writeError(w, http.StatusConflict, models.ErrorCodeConflict, "order %s is %s: it is over", id, o.State)
		return o, false
	}
	return o, true
}

// queued answers an owner or customer action with the event it queued.
func queued(w http.ResponseWriter, orderID, eventID string) {
	if eventID == "" {
		writeError(w, http.StatusConflict, models.ErrorCodeConflict, "order %s changed meanwhile: no event queued", orderID)
		return
	}
	writeJSON(w, http.StatusCreated, struct {
		OrderID string `json:"order_id"`
		EventID string `json:"event_id"`
	}{orderID, eventID})
}

// requestRevision answers POST /_fake/orders/{id}/revision: the customer asks
// for a revision, and a revision_request is queued.
func (c *control) requestRevision(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Brief string `json:"brief"`
	}
	if !decodeBody(w, r, &req) {
		return
	}
	if strings.TrimSpace(req.Brief) == "" {
		writeError(w, http.StatusBadRequest, models.ErrorCodeInvalidRequest, `brief is required: {"brief": "make the sea stormier"}`)
		return
	}
	o, ok := c.liveOrder(w, r)
	if !ok {
		return
	}
	queued(w, o.ID, c.srv.RequestRevision(o.ID, req.Brief))
}

// noteRequest is the body of approve and deny.
type noteRequest struct {
	Note string `json:"note"`
}

// approve answers POST /_fake/orders/{id}/approve: the owner approves an order
// that waits for manual acceptance, and an owner_approved_order is queued.
func (c *control) approve(w http.ResponseWriter, r *http.Request) {
	var req noteRequest
	if !decodeOptionalBody(w, r, &req) {
		return
	}
	o, ok := c.liveOrder(w, r)
	if !ok {
		return
	}
	if o.State != models.OrderStatePendingAcceptance {
		writeError(w, http.StatusConflict, models.ErrorCodeConflict, "order %s is %s: only a pending_acceptance order is approved (an agent added with \"manual_acceptance\": true gets them)", o.ID, o.State)
		return
	}
	queued(w, o.ID, c.srv.ApproveOrder(o.ID, req.Note))
}

// deny answers POST /_fake/orders/{id}/deny: the owner denies the order, and
// an owner_denied_order is queued.
func (c *control) deny(w http.ResponseWriter, r *http.Request) {
	var req noteRequest
	if !decodeOptionalBody(w, r, &req) {
		return
	}
	o, ok := c.liveOrder(w, r)
	if !ok {
		return
	}
	queued(w, o.ID, c.srv.DenyOrder(o.ID, req.Note))
}

// changeScope answers POST /_fake/orders/{id}/scope: the owner changes the
// order's scope, brief or deadline, and a scope_change is queued.
func (c *control) changeScope(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Scope    string `json:"scope"`
		Brief    string `json:"brief"`
		Deadline string `json:"deadline"`
	}
	if !decodeBody(w, r, &req) {
		return
	}
	deadline, err := parseDeadline(req.Deadline)
	if err != nil {
		writeError(w, http.StatusBadRequest, models.ErrorCodeInvalidRequest, "%v", err)
		return
	}
	if req.Scope == "" && req.Brief == "" && deadline.IsZero() {
		writeError(w, http.StatusBadRequest, models.ErrorCodeInvalidRequest, `give at least one of "scope", "brief" and "deadline"`)
		return
	}
	o, ok := c.liveOrder(w, r)
	if !ok {
		return
	}
	queued(w, o.ID, c.srv.ChangeScope(o.ID, models.ScopeChangeEvent{Scope: req.Scope, Brief: req.Brief, Deadline: deadline}))
}
