package client

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"sync/atomic"
)

// idempotencyScope derives the keys of the writes made under one context, in
// the order they are made.
type idempotencyScope struct {
	id string
	n  atomic.Int64
}

type scopeKey struct{}

// WithIdempotencyScope returns a context under which every write the client
// makes without WithIdempotencyKey takes a key derived from scope, the
// operation, its target and its place among the writes made under this
// context (the first, the second…). Code that runs the same writes again in the
// same order under the same scope, such as an event handler replayed after a
// crash, sends the same keys, and the platform keeps one effect.
//
// The poller puts each handler under the scope of its event's id; other code
// rarely needs to call it. Writes under one scope should be made one at a time:
// concurrent writes take their places in whatever order they start.
func WithIdempotencyScope(ctx context.Context, scope string) context.Context {
	return context.WithValue(ctx, scopeKey{}, &idempotencyScope{id: scope})
}

// idempotencyKey returns the key for one logical write: the caller's own, else
// one derived from the context's scope, else 128 random bits. The same value
// goes on every attempt of the write.
func idempotencyKey(ctx context.Context, cc callConfig, op, target string) string {
	if cc.idemKeySet {
		return cc.idemKey
	}
	if s, ok := ctx.Value(scopeKey{}).(*idempotencyScope); ok {
		n := s.n.Add(1)
		sum := sha256.Sum256([]byte(s.id + "\x00" + op + "\x00" + target + "\x00" + strconv.FormatInt(n, 10)))
		return "hk-" + hex.EncodeToString(sum[:16])
	}
	return "hk-" + rand.Text()
}
