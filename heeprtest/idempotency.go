package heeprtest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"hash"
	"io"
	"mime"
	"net/http"

	"github.com/heepr/heepr-go/models"
	"github.com/heepr/heepr-go/server"
)

// idemEntry is the first request sent with an Idempotency-Key and its result.
// done closes when the first request has an answer; stored says whether that
// answer is kept.
type idemEntry struct {
	op, path string // the operation and URL path it was first used for
	body     string // bodyDigest.sum of the first request's body
	done     chan struct{}
	stored   bool
	resp     any
	err      error
}

// idempotency makes a repeated Idempotency-Key on a POST answer with the first
// result and record no second effect, as the SDK assumes the platform does.
// Keys are scoped to the caller (its agent, or its bootstrap token for
// register). A key names one request: sent again with another operation, path
// or body it answers 422 idempotency_key_reused and has no effect. A
// concurrent repeat waits for the first. A first attempt that ended without an
// answer of the API (its body could not be read, its client went away) is
// forgotten, so a retry runs anew.
func (s *Server) idempotency(f server.StrictHandlerFunc, op string) server.StrictHandlerFunc {
	return func(ctx context.Context, w http.ResponseWriter, r *http.Request, req any) (any, error) {
		key := r.Header.Get("Idempotency-Key")
		if r.Method != http.MethodPost || key == "" {
			return f(ctx, w, r, req)
		}
		info := infoFrom(ctx)
		body, ok := info.body.sum()
		if !ok {
			// digestBody wraps every POST with a key, and validation reads the
			// body to its end before any handler runs.
			return nil, apiError(models.ErrorCodeInternalError,
				"heeprtest: the body was not read before the Idempotency-Key check")
		}
		principal := info.agentID
		if principal == "" {
			tok, _ := credentials(info.auth, schemeBootstrap)
			sum := sha256.Sum256([]byte(tok))
			principal = "bootstrap:" + hex.EncodeToString(sum[:8])
		}
		k := principal + "\x00" + key
		for {
			s.mu.Lock()
			e, seen := s.idem[k]
			if !seen {
				e = &idemEntry{op: op, path: r.URL.Path, body: body, done: make(chan struct{})}
				s.idem[k] = e
			}
			s.mu.Unlock()

			if !seen {
				resp, err := f(ctx, w, r, req)
				_, isAPIErr := err.(*apiErr)
				s.mu.Lock()
				if err == nil || isAPIErr {
					e.stored, e.resp, e.err = true, resp, err
				} else {
					delete(s.idem, k)
				}
				s.mu.Unlock()
				close(e.done)
				return resp, err
			}
			if aerr := e.reusedBy(key, op, r.URL.Path, body); aerr != nil {
				return nil, aerr
			}
			select {
			case <-e.done:
			case <-ctx.Done():
				return nil, ctx.Err()
			}
			if e.stored {
				info.replayed = true
				return e.resp, e.err
			}
			// The first attempt left no answer: try again as a first attempt.
		}
	}
}

// reusedBy answers 422 idempotency_key_reused when the request (op, path,
// body) is not the one the key was first sent with, saying what differs.
func (e *idemEntry) reusedBy(key, op, path, body string) *apiErr {
	switch {
	case op != e.op || path != e.path:
		return apiError(models.ErrorCodeIdempotencyKeyReused,
			"Idempotency-Key %q was first sent with POST %s, not POST %s: a key names one request; send a new key with a new request",
			key, e.path, path)
	case body != e.body:
		return apiError(models.ErrorCodeIdempotencyKeyReused,
			"Idempotency-Key %q was first sent with POST %s and another body: a retry sends the same bytes; send a new key with a new request",
			key, path)
	}
	return nil
}

// digestBody hashes the body of each POST that carries an Idempotency-Key as
// the next layers read it, so that the idempotency middleware can tell a retry
// from another request without keeping a second copy of the body.
func (s *Server) digestBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && r.Header.Get("Idempotency-Key") != "" {
			d := newBodyDigest(r.Body, r.Header.Get("Content-Type"))
			infoFrom(r.Context()).body = d
			r.Body = d
		}
		next.ServeHTTP(w, r)
	})
}

// bodyDigest is a request body that hashes what is read through it, with the
// media type. A multipart body's boundary is framing, not content, and a
// client picks a fresh one when it builds the request again (a handler
// replayed after a crash does): every delimiter is hashed as the same token,
// so the same parts under another boundary are the same request.
type bodyDigest struct {
	io.ReadCloser
	h   hash.Hash
	w   io.Writer // h, or a replacer of the boundary over it
	eof bool
}

func newBodyDigest(body io.ReadCloser, contentType string) *bodyDigest {
	if body == nil {
		body = http.NoBody
	}
	d := &bodyDigest{ReadCloser: body, h: sha256.New()}
	d.w = d.h
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		mt = contentType
	}
	d.h.Write([]byte(mt + "\x00"))
	if b := params["boundary"]; b != "" {
		d.w = &replacer{w: d.h, old: []byte("--" + b), new: []byte("--\x00boundary\x00")}
	}
	return d
}

func (d *bodyDigest) Read(p []byte) (int, error) {
	n, err := d.ReadCloser.Read(p)
	_, _ = d.w.Write(p[:n]) // a hash never fails
	if errors.Is(err, io.EOF) && !d.eof {
		d.eof = true
		if r, ok := d.w.(*replacer); ok {
			r.flush()
		}
	}
	return n, err
}

// sum returns the hex digest of the body, and false until the body was read
// to its end. A nil digest (no body wrapped) sums to "".
func (d *bodyDigest) sum() (string, bool) {
	if d == nil {
		return "", true
	}
	if !d.eof {
		return "", false
	}
	return hex.EncodeToString(d.h.Sum(nil)), true
}

// replacer writes to w what is written to it, with every occurrence of old
// replaced by new, holding back the few bytes that may begin an occurrence
// until the next write or flush.
type replacer struct {
	w        io.Writer
	old, new []byte
	held     []byte
}

func (r *replacer) Write(p []byte) (int, error) {
	r.held = append(r.held, p...)
	for {
		i := bytes.Index(r.held, r.old)
		if i < 0 {
			break
		}
		if _, err := r.w.Write(r.held[:i]); err != nil {
			return 0, err
		}
		if _, err := r.w.Write(r.new); err != nil {
			return 0, err
		}
		r.held = r.held[i+len(r.old):]
	}
	if keep := len(r.old) - 1; len(r.held) > keep {
		cut := len(r.held) - keep
		if _, err := r.w.Write(r.held[:cut]); err != nil {
			return 0, err
		}
		r.held = r.held[:copy(r.held, r.held[cut:])]
	}
	return len(p), nil
}

// flush writes what is held back: at the end, it cannot begin an occurrence.
func (r *replacer) flush() {
	_, _ = r.w.Write(r.held)
	r.held = r.held[:0]
}
