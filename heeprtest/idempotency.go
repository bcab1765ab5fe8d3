package heeprtest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"

	"github.com/heepr/heepr-go/server"
)

// idemEntry is the first result for an Idempotency-Key. done closes when the
// first request has an answer; stored says whether that answer is kept.
type idemEntry struct {
	done   chan struct{}
	stored bool
	resp   any
	err    error
}

// idempotency makes a repeated Idempotency-Key on a POST answer with the first
// result and record no second effect, as the SDK assumes the platform does.
// Keys are scoped to the caller (its agent, or its bootstrap token for
// register), the operation and the path. A concurrent repeat waits for the
// first. A first attempt that ended without an answer of the API (its body
// could not be read, its client went away) is forgotten, so a retry runs anew.
func (s *Server) idempotency(f server.StrictHandlerFunc, op string) server.StrictHandlerFunc {
	return func(ctx context.Context, w http.ResponseWriter, r *http.Request, req any) (any, error) {
		key := r.Header.Get("Idempotency-Key")
		if r.Method != http.MethodPost || key == "" {
			return f(ctx, w, r, req)
		}
		info := infoFrom(ctx)
		principal := info.agentID
		if principal == "" {
			tok, _ := credentials(info.auth, schemeBootstrap)
			sum := sha256.Sum256([]byte(tok))
			principal = "bootstrap:" + hex.EncodeToString(sum[:8])
		}
		k := principal + "\x00" + op + "\x00" + r.URL.Path + "\x00" + key
		for {
			s.mu.Lock()
			e, seen := s.idem[k]
			if !seen {
				e = &idemEntry{done: make(chan struct{})}
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
