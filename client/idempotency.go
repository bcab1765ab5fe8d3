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

// NewIdempotencyScopeContext returns a context that carries an idempotency
// scope: every write the client makes under it without WithIdempotencyKey
// takes a key derived from scope, the operation, its target and its place
// among the writes made under this context (the first, the second…). Code
// that runs the same writes again in the same order under the same scope,
// such as an event handler replayed after a crash, sends the same keys, and
// the platform keeps one effect.
//
// It follows the standard library's NewContext/FromContext pattern (see
// [IdempotencyScopeFromContext]); the name says which value, since package
// client may carry others. The poller puts each handler under the scope of
// its event's id; other code rarely needs to call it. Writes under one scope
// should be made one at a time: concurrent writes take their places in
// whatever order they start. A scope given again below a context that has
// one starts afresh.
func NewIdempotencyScopeContext(ctx context.Context, scope string) context.Context {
	return context.WithValue(ctx, scopeKey{}, &idempotencyScope{id: scope})
}

// IdempotencyScopeFromContext returns the idempotency scope ctx carries, and
// whether it carries one (see [NewIdempotencyScopeContext]).
func IdempotencyScopeFromContext(ctx context.Context) (scope string, ok bool) {
	s, ok := ctx.Value(scopeKey{}).(*idempotencyScope)
	if !ok {
		return "", false
	}
	return s.id, true
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
