package redact

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestSecret(t *testing.T) {
	tests := []struct{ in, want string }{
		{"sk_live_4f9c2a7e1b8d4c6a9e0f3b5d7a1c2e4f", "sk_live_…2e4f"},
		{"bs_9f3a8c1d2e4b6a7f0c9d0c", "bs_…9d0c"},
		{"sk_live_abc", "sk_live_…"},
		{"abcd_efgh_ij", "…"}, // a short key of another shape shows nothing of itself
		{"abcdefghijklmnopqrstuvwxyz", "…wxyz"},
		{"sk_live_000000000000bs_0", "sk_live_…"},
		{"", ""},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, Secret(tt.in), tt.in)
		assert.Equal(t, Secret(tt.in), Patterns(Secret(tt.in)), "stable under Patterns")
	}
}

// A server that echoes the key without its prefix, or URL-encoded, is
// redacted all the same.
func TestKnownEveryForm(t *testing.T) {
	const key = "sk_live_4f9c2a7e1b8d4c6a9e0f3b5d7a1c2e4f"
	const token = "bs_0a1b2c3d4e5f60718293a4b5c6d7e8f9"
	k := NewKnown(key, "abcd_efgh_ij", token)
	tests := []struct{ in, want string }{
		{"token " + token + " used", "token bs_…e8f9 used"},
		{"token 0a1b2c3d4e5f60718293a4b5c6d7e8f9 used", "token bs_…e8f9 used"},
		{"your key " + key + " is revoked", "your key sk_live_…2e4f is revoked"},
		{"key 4f9c2a7e1b8d4c6a9e0f3b5d7a1c2e4f unknown", "key sk_live_…2e4f unknown"},
		{"GET /x?key=sk_live_4f9c2a7e1b8d4c6a9e0f3b5d7a1c2e4f", "GET /x?key=sk_live_…2e4f"},
		{"short abcd_efgh_ij here", "short … here"},
		{"other sk_test_0123456789abcdefXYZ9", "other sk_test_…XYZ9"},
		{"nothing", "nothing"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, k.String(tt.in), tt.in)
	}
	var zero *Known
	assert.Equal(t, "x sk_live_…2e4f", zero.String("x "+key))
}
