package heeprtest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"slices"
	"strings"
	"time"

	"github.com/heepr/heepr-go/models"
	"github.com/heepr/heepr-go/server"
)

// api implements the eight operations over the fake's state. Every answer that
// is not an error is a typed response object of the generated server, so a
// change of the spec breaks this file's build.
type api struct{ s *Server }

var _ server.StrictServerInterface = (*api)(nil)

func (a *api) RegisterAgent(ctx context.Context, req server.RegisterAgentRequestObject) (server.RegisterAgentResponseObject, error) {
	s := a.s
	tok, _ := credentials(infoFrom(ctx).auth, schemeBootstrap)
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.state.tokens[tok]
	switch {
	case t == nil || t.agentID != req.Body.AgentID:
		return nil, apiError(models.ErrorCodeBootstrapUnknown, "the bootstrap token does not match any record for agent %s", req.Body.AgentID)
	case t.used:
		return nil, apiError(models.ErrorCodeBootstrapUsed, "the bootstrap token was already redeemed; the owner regenerates it from the dashboard")
	case time.Since(t.issued) >= BootstrapTTL:
		return nil, apiError(models.ErrorCodeBootstrapExpired, "the bootstrap token expired after 7 days unused; the owner re-issues the Skill Setup")
	}
	ag := s.state.agents[t.agentID]
	if ag.liveKey != "" {
		// The token is not consumed: the owner revokes the live key, then retries.
		return nil, apiError(models.ErrorCodeActiveKeyExists, "agent %s already has a live key; the owner revokes it before re-bootstrapping", ag.id)
	}
	key := s.secret("sk_live_")
	s.state.keys[key] = &apiKey{agentID: ag.id}
	ag.liveKey = key
	t.used = true
	infoFrom(ctx).agentID = ag.id
	return server.RegisterAgent200JSONResponse{AgentID: ag.id, APIKey: models.APIKey(key)}, nil
}

func (a *api) GetSkill(ctx context.Context, _ server.GetSkillRequestObject) (server.GetSkillResponseObject, error) {
	s := a.s
	s.mu.Lock()
	defer s.mu.Unlock()
	ag := s.state.agents[infoFrom(ctx).agentID]
	return server.GetSkill200JSONResponse{
		Body:        s.state.skillFiles[models.SkillFileNameSkillMD],
		ContentHash: s.contentHashLocked(ag),
	}, nil
}

func (a *api) GetSkillFile(ctx context.Context, req server.GetSkillFileRequestObject) (server.GetSkillFileResponseObject, error) {
	s := a.s
	s.mu.Lock()
	defer s.mu.Unlock()
	self := infoFrom(ctx).agentID
	if req.ID != self {
		if s.state.agents[req.ID] == nil {
			return nil, apiError(models.ErrorCodeNotFound, "no agent %s", req.ID)
		}
		return nil, apiError(models.ErrorCodeForbidden, "the skill package of %s belongs to another agent", req.ID)
	}
	ag := s.state.agents[self]
	if req.File == models.SkillFileNameSkillJSON {
		return server.GetSkillFile200JSONResponse(s.manifestLocked(ag)), nil
	}
	body, ok := s.skillFileLocked(ag, req.File)
	if !ok {
		names := make([]string, 0, len(skillOrder)+1)
		for _, n := range skillOrder {
			names = append(names, string(n))
		}
		names = append(names, string(models.SkillFileNameSkillJSON))
		return nil, apiError(models.ErrorCodeNotFound, "no file %q in the skill package; it has %s", req.File, strings.Join(names, ", "))
	}
	return server.GetSkillFile200TextMarkdownResponse{Body: strings.NewReader(body), ContentLength: int64(len(body))}, nil
}

func (a *api) PollEvents(ctx context.Context, _ server.PollEventsRequestObject) (server.PollEventsResponseObject, error) {
	s := a.s
	info := infoFrom(ctx)
	s.mu.Lock()
	defer s.mu.Unlock()
	ag := s.state.agents[info.agentID]
	ag.lastPoll = time.Now()
	// The reference: events drain on the next poll. What this poll returns is
	// gone from the queue; a client that loses the answer has lost them.
	queued := ag.queue
	ag.queue = nil
	var batch server.PollEvents200JSONResponse
	for _, typed := range queued {
		ev, err := toEvent(typed, info.origin)
		if err != nil {
			return nil, apiError(models.ErrorCodeInternalError, "encode event: %v", err)
		}
		batch.Events = append(batch.Events, ev)
	}
	info.previous = ag.lastAnswer
	if len(batch.Events) > 0 {
		ag.lastAnswer = nil
		for _, ev := range batch.Events {
			ag.lastAnswer = append(ag.lastAnswer, ev.Raw())
		}
	}
	return batch, nil
}

// toEvent encodes a queued event, making attachment URLs absolute.
func toEvent(v models.EventVariant, origin string) (models.Event, error) {
	if no, ok := v.(models.NewOrderEvent); ok {
		no.Order.Attachments = slices.Clone(no.Order.Attachments)
		for i := range no.Order.Attachments {
			no.Order.Attachments[i].URL = absolute(origin, no.Order.Attachments[i].URL)
		}
		v = no
	}
	return models.NewEvent(v)
}

// orderFor returns the caller's order, or the envelope for an unknown order
// (404) or another agent's (403). The caller holds s.mu.
func (s *Server) orderFor(ctx context.Context, id string) (*order, *apiErr) {
	o := s.state.orders[id]
	if o == nil {
		return nil, apiError(models.ErrorCodeNotFound, "no order %s", id)
	}
	if o.agentID != infoFrom(ctx).agentID {
		return nil, apiError(models.ErrorCodeForbidden, "order %s belongs to another agent", id)
	}
	return o, nil
}

// deliverable is the states a delivery is accepted in.
func deliverable(st models.OrderState) bool {
	switch st {
	case models.OrderStateInProgress, models.OrderStateRevisionRequested, models.OrderStateDelivered:
		return true
	}
	return false
}

func (s *Server) checkDeliverable(ctx context.Context, id string) (*order, *apiErr) {
	o, err := s.orderFor(ctx, id)
	if err != nil {
		return nil, err
	}
	if !deliverable(o.o.State) {
		return nil, apiError(models.ErrorCodeConflict, "order %s is %s: it takes no delivery", id, o.o.State)
	}
	return o, nil
}

func (a *api) DeliverOrder(ctx context.Context, req server.DeliverOrderRequestObject) (server.DeliverOrderResponseObject, error) {
	s := a.s
	// Answer a hopeless delivery before reading its body.
	s.mu.Lock()
	_, aerr := s.checkDeliverable(ctx, req.ID)
	s.mu.Unlock()
	if aerr != nil {
		return nil, aerr
	}

	d := Delivery{OrderID: req.ID, IdempotencyKey: deref(req.Params.IdempotencyKey)}
	switch {
	case req.JSONBody != nil:
		d.Payload = *req.JSONBody
	case req.MultipartBody != nil:
		d.Multipart = true
		if err := s.readDeliveryParts(req.MultipartBody, &d); err != nil {
			return nil, err
		}
	default:
		return nil, apiError(models.ErrorCodeInvalidRequest, "a delivery is JSON or multipart/form-data")
	}
	if d.Payload.Message == "" && d.Payload.Text == "" && len(d.Payload.Links) == 0 && len(d.Files) == 0 {
		return nil, apiError(models.ErrorCodeInvalidRequest, "an empty delivery: give a message, text, links or files")
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	o, aerr := s.checkDeliverable(ctx, req.ID) // again: the state may have moved while the body was read
	if aerr != nil {
		return nil, aerr
	}
	d.ID, d.AgentID, d.At = s.nextID("dlv"), o.agentID, time.Now().UTC()
	o.deliveries = append(o.deliveries, d)
	o.o.State = models.OrderStateDelivered
	receipt := server.DeliverOrder202JSONResponse{ID: d.ID, OrderID: d.OrderID, State: models.DeliveryStatePendingReview, CreatedAt: d.At}
	for _, f := range d.Files {
		receipt.Files = append(receipt.Files, f.DeliveredFile)
	}
	return receipt, nil
}

// readDeliveryParts streams a multipart delivery: the payload part decoded, each
// files part hashed as it arrives, keeping at most maxFileBytes of it. An I/O
// error is returned as is (not an *apiErr), so the attempt is not kept for
// idempotent replay and a retry runs anew.
func (s *Server) readDeliveryParts(mr *multipart.Reader, d *Delivery) error {
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read multipart body: %w", err)
		}
		switch part.FormName() {
		case "payload":
			if err := json.NewDecoder(io.LimitReader(part, 1<<20)).Decode(&d.Payload); err != nil {
				return apiError(models.ErrorCodeInvalidRequest, "payload part: %v", err)
			}
		case "files":
			f, err := s.readFilePart(part)
			if err != nil {
				return err
			}
			d.Files = append(d.Files, f)
		default:
			if _, err := io.Copy(io.Discard, part); err != nil {
				return fmt.Errorf("read part %q: %w", part.FormName(), err)
			}
		}
	}
}

func (s *Server) readFilePart(part *multipart.Part) (File, error) {
	h := sha256.New()
	var kept bytes.Buffer
	keep := s.opts.maxFileBytes
	if keep < 0 {
		keep = 0
	}
	n, err := io.Copy(io.MultiWriter(h, &limitWriter{w: &kept, n: keep}), part)
	if err != nil {
		return File{}, fmt.Errorf("read file part %q: %w", part.FileName(), err)
	}
	name := part.FileName()
	if name == "" {
		return File{}, apiError(models.ErrorCodeInvalidRequest, "a files part has no filename")
	}
	return File{
		DeliveredFile: models.DeliveredFile{
			Name: name, ContentType: part.Header.Get("Content-Type"), Size: n, SHA256: hex.EncodeToString(h.Sum(nil)),
		},
		Data: kept.Bytes(),
	}, nil
}

// limitWriter keeps the first n bytes written and drops the rest, never failing.
type limitWriter struct {
	w io.Writer
	n int64
}

func (l *limitWriter) Write(p []byte) (int, error) {
	if l.n > 0 {
		k := min(int64(len(p)), l.n)
		_, _ = l.w.Write(p[:k])
		l.n -= k
	}
	return len(p), nil
}

func (a *api) DeclineOrder(ctx context.Context, req server.DeclineOrderRequestObject) (server.DeclineOrderResponseObject, error) {
	s := a.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if aerr := s.sets.check("DeclineReason", "reason", string(req.Body.Reason)); aerr != nil {
		return nil, aerr
	}
	o, aerr := s.orderFor(ctx, req.ID)
	if aerr != nil {
		return nil, aerr
	}
	switch o.o.State {
	case models.OrderStatePendingAcceptance, models.OrderStateInProgress, models.OrderStateRevisionRequested:
	default:
		return nil, apiError(models.ErrorCodeConflict, "order %s is %s: it cannot be declined", req.ID, o.o.State)
	}
	o.o.State = models.OrderStateDeclined
	o.declines = append(o.declines, Decline{DeclineRequest: *req.Body, OrderID: req.ID, IdempotencyKey: deref(req.Params.IdempotencyKey), At: time.Now().UTC()})
	return server.DeclineOrder200JSONResponse{OrderID: req.ID, State: o.o.State}, nil
}

func (a *api) FlagOrder(ctx context.Context, req server.FlagOrderRequestObject) (server.FlagOrderResponseObject, error) {
	s := a.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if aerr := s.sets.check("FlagReason", "reason", string(req.Body.Reason)); aerr != nil {
		return nil, aerr
	}
	o, aerr := s.orderFor(ctx, req.ID)
	if aerr != nil {
		return nil, aerr
	}
	if orderOver(o.o.State) {
		return nil, apiError(models.ErrorCodeConflict, "order %s is %s: it cannot be flagged", req.ID, o.o.State)
	}
	o.o.State = models.OrderStateFlagged
	o.flags = append(o.flags, Flag{FlagRequest: *req.Body, OrderID: req.ID, IdempotencyKey: deref(req.Params.IdempotencyKey), At: time.Now().UTC()})
	return server.FlagOrder200JSONResponse{OrderID: req.ID, State: o.o.State}, nil
}

func (a *api) UpdateStatus(ctx context.Context, req server.UpdateStatusRequestObject) (server.UpdateStatusResponseObject, error) {
	s := a.s
	body := req.Body
	s.mu.Lock()
	defer s.mu.Unlock()
	ag := s.state.agents[infoFrom(ctx).agentID]
	if body.Status != "" {
		if aerr := s.sets.check("AgentStatus", "status", string(body.Status)); aerr != nil {
			return nil, aerr
		}
	}
	if body.Progress != nil {
		if body.OrderID == "" {
			return nil, apiError(models.ErrorCodeInvalidRequest, "progress needs order_id")
		}
		o, aerr := s.orderFor(ctx, body.OrderID)
		if aerr != nil {
			return nil, aerr
		}
		switch o.o.State {
		case models.OrderStateInProgress, models.OrderStateRevisionRequested:
		default:
			return nil, apiError(models.ErrorCodeConflict, "order %s is %s: it takes no progress report", body.OrderID, o.o.State)
		}
		o.progress = append(o.progress, ProgressReport{Progress: *body.Progress, At: time.Now().UTC()})
	} else if body.OrderID != "" {
		return nil, apiError(models.ErrorCodeInvalidRequest, "order_id without progress")
	}
	if body.Status != "" {
		ag.status = body.Status
		ag.statuses = append(ag.statuses, StatusReport{Status: body.Status, At: time.Now().UTC()})
	}
	return server.UpdateStatus200JSONResponse{AgentID: ag.id, Status: ag.status}, nil
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}
