package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"

	"github.com/heepr/heepr-go/client/raw"
	herrors "github.com/heepr/heepr-go/errors"
	"github.com/heepr/heepr-go/internal/multipart"
	"github.com/heepr/heepr-go/models"
)

// DefaultMaxFileBytes is the largest file Deliver sends unless
// WithMaxFileBytes says otherwise: 2 GiB.
const DefaultMaxFileBytes = 2 << 30

// Delivery is the finished work for an order: inline text, links, and files.
// At least one of them must be set.
type Delivery struct {
	// Message is a note to the owner and customer.
	Message string
	// Text is the deliverable itself, where it is text.
	Text string
	// Links are external URLs that are part of the delivery.
	Links []string
	// Files are sent as the parts of a multipart/form-data request, in this
	// order; see File for where their bytes come from.
	Files []File
}

func (d Delivery) payload() models.DeliveryPayload {
	return models.DeliveryPayload{Message: d.Message, Text: d.Text, Links: d.Links}
}

// Deliver submits the delivery for an order and returns the platform's
// receipt; the owner reviews the delivery before it reaches the customer.
//
// Without files it sends JSON. With files it sends multipart/form-data: a
// "payload" part holding the same JSON, then one "files" part per file, each
// with its base name and media type. The files are streamed as the request is
// sent, through one buffer, so a file costs no memory in proportion to its
// size; when every file's size is known the request carries an exact
// Content-Length. Every file is checked before any request (its name, and its
// size and readability where it has them), and an error names the file and
// the reason. An upload is bounded by ctx alone, not by WithAttemptTimeout.
//
// Deliver sends each file once per attempt and carries the same
// Idempotency-Key on every attempt, so a retried delivery lands once; a
// retried attempt sends the same bytes as the first (the same multipart
// boundary, each file from its start). A delivery holding a one-shot reader
// (see FileFromReader) is sent once and never retried. A file that changes
// size between the check and the send fails the call, and is not retried.
// Deliver returns only when nothing it started still reads a file: no
// goroutine outlives it.
func (c *Client) Deliver(ctx context.Context, orderID string, d Delivery, opts ...CallOption) (*models.DeliveryReceipt, error) {
	if err := checkPathID("order id", orderID); err != nil {
		return nil, fmt.Errorf("deliver: %w", err)
	}
	p := d.payload()
	if p.Message == "" && p.Text == "" && len(p.Links) == 0 && len(d.Files) == 0 {
		return nil, fmt.Errorf("deliver %s: %w", orderID, argErrorf("an empty delivery: give a message, text, links or files"))
	}
	ctx, cc, end, err := c.begin(ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("deliver %s: %w", orderID, err)
	}
	// One key per logical delivery, outside the middleware: a middleware that
	// calls next again repeats it.
	key := keyParam(idempotencyKey(ctx, cc, "deliver", orderID))
	var receipt *models.DeliveryReceipt
	err = c.invoke(ctx, cc, OperationDeliverOrder, orderID, func(ctx context.Context, cc callConfig) error {
		var err error
		if len(d.Files) > 0 {
			receipt, err = c.deliverFiles(ctx, orderID, key, p, d.Files, cc)
			return err
		}
		receipt, err = c.deliverJSON(ctx, orderID, key, p, cc)
		return err
	})
	if err = end(err); err != nil {
		return nil, fmt.Errorf("deliver %s: %w", orderID, err)
	}
	return receipt, nil
}

// deliverJSON sends a delivery without files.
func (c *Client) deliverJSON(ctx context.Context, orderID string, key *string, p models.DeliveryPayload, cc callConfig) (*models.DeliveryReceipt, error) {
	req, err := raw.NewDeliverOrderRequest(c.server, orderID, &raw.DeliverOrderParams{IdempotencyKey: key}, p)
	if err != nil {
		return nil, err
	}
	var receipt models.DeliveryReceipt
	err = c.do(ctx, req, cc, c.attempt, func(res *http.Response) error {
		receipt = models.DeliveryReceipt{} // a retried attempt starts afresh
		return decodeReceipt(res, &receipt, c.maxBody)
	})
	if err != nil {
		return nil, err
	}
	return &receipt, nil
}

// decodeReceipt reads a delivery's receipt and holds it to the spec: a
// receipt without its id, order or state says nothing about the delivery.
func decodeReceipt(res *http.Response, r *models.DeliveryReceipt, max int64) error {
	if err := decodeJSON(res, r, max); err != nil {
		return err
	}
	if m := missing("id", r.ID, "order_id", r.OrderID, "state", string(r.State)); m != "" {
		return herrors.NewInvalidResponse(res, "the delivery receipt has no "+m)
	}
	for i, f := range r.Files {
		if m := missing("name", f.Name, "sha256", f.SHA256); m != "" {
			return herrors.NewInvalidResponse(res, fmt.Sprintf("file %d of the delivery receipt has no %s", i+1, m))
		}
	}
	return nil
}

// deliverFiles sends a multipart delivery.
func (c *Client) deliverFiles(ctx context.Context, orderID string, key *string, p models.DeliveryPayload, files []File, cc callConfig) (*models.DeliveryReceipt, error) {
	prepared, err := c.prepareFiles(files)
	if err != nil {
		return nil, err
	}
	payload, err := json.Marshal(p)
	if err != nil {
		return nil, fmt.Errorf("encode payload: %w", err)
	}
	parts := []multipart.Part{{
		Name: "payload", ContentType: "application/json", Size: int64(len(payload)),
		Open: func() (io.Reader, error) { return bytes.NewReader(payload), nil },
	}}
	var oneShot *preparedFile
	for i := range prepared {
		parts = append(parts, prepared[i].part)
		if prepared[i].oneShot && oneShot == nil {
			oneShot = &prepared[i]
		}
	}
	// One boundary per logical call, so every attempt's body is byte-identical.
	form, err := multipart.NewForm(multipart.NewBoundary(), parts)
	if err != nil {
		return nil, err
	}

	up := &upload{ctx: ctx, form: form, progress: cc.progress}
	first, _ := up.body()
	req, err := raw.NewDeliverOrderRequestWithBody(c.server, orderID, &raw.DeliverOrderParams{IdempotencyKey: key}, form.ContentType(), first)
	if err != nil {
		_ = up.close()
		return nil, err
	}
	req.ContentLength = form.Len() // -1 (chunked) when a reader's size is unknown
	if oneShot == nil {
		req.GetBody = up.body
	}
	var receipt models.DeliveryReceipt
	// No attempt timeout for the whole: an upload takes as long as its files
	// do. Once the body is sent, the answer gets the attempt timeout.
	cc.answerTimeout = c.attempt
	err = c.do(ctx, req, cc, 0, func(res *http.Response) error {
		receipt = models.DeliveryReceipt{} // a retried attempt starts afresh
		return decodeReceipt(res, &receipt, c.maxBody)
	})
	// The cause of a failed attempt may be a file: it says more than the
	// transport's report of a body cut short.
	if partErr := up.close(); partErr != nil {
		if pe, ok := errors.AsType[*multipart.PartError](partErr); ok && pe.Index >= 1 && pe.Index <= len(prepared) {
			f := &prepared[pe.Index-1]
			return nil, fmt.Errorf("%s: %w", f.label, f.explain(pe.Err))
		}
		return nil, partErr
	}
	if err != nil {
		retries := c.retry.MaxAttempts > 1 && !cc.noRetry
		if oneShot != nil && retries && ctx.Err() == nil && herrors.IsRetryable(err) && !isPermanent(err) {
			err = fmt.Errorf("%w (not retried: %s is a one-shot reader, which cannot be sent again; give a path, bytes, an io.Seeker or an io.ReaderAt to make it retryable)", err, oneShot.label)
		}
		return nil, err
	}
	return &receipt, nil
}

// upload hands out the bodies of one multipart delivery, one per attempt, and
// sees to it that no body's writer outlives the call or overlaps the next
// attempt's (a Seeker source is read by one at a time).
type upload struct {
	ctx      context.Context
	form     *multipart.Form
	progress func(sent, total int64)

	mu     sync.Mutex
	cur    *multipart.Body
	failed error // the first failure of a file, which no attempt can fix
}

// body ends the current body, if any, and returns a new one: the first
// attempt's, or GetBody's for a retry. Once a file has failed it returns that
// failure, so the retry loop stops.
func (u *upload) body() (io.ReadCloser, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.endLocked()
	if u.failed != nil {
		return nil, u.failed
	}
	u.cur = u.form.Body(u.ctx, u.progress)
	return u.cur, nil
}

// close ends the current body, waits for its writer, and returns the failure
// of a file, if one ended an attempt.
func (u *upload) close() error {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.endLocked()
	return u.failed
}

func (u *upload) endLocked() {
	if u.cur == nil {
		return
	}
	if err := u.cur.Wait(); err != nil && u.failed == nil {
		u.failed = err
	}
	u.cur = nil
}
