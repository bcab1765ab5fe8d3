package errors

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestRedactSecrets(t *testing.T) {
	const key = "sk_live_4f9c2a7e1b8d4c6a9e0f3b5d7a1c2e4f"
	tests := []struct {
		name, in, want string
	}{
		{"live key", "key " + key + " revoked", "key sk_live_…2e4f revoked"},
		{"test key", "sk_test_0123456789abcdefXYZ9", "sk_test_…XYZ9"},
		{"bootstrap token", "token bs_9f3a8c1d2e4b6a7f0c9f3a", "token bs_…9f3a"},
		{"short run keeps no tail", "bs_abc and sk_live_12345", "bs_… and sk_live_…"},
		{"after Bearer", "Authorization: Bearer " + key, "Authorization: Bearer sk_live_…2e4f"},
		{"in JSON", `{"api_key":"` + key + `"}`, `{"api_key":"sk_live_…2e4f"}`},
		{"glued to a word", "mykey" + key, "mykeysk_live_…2e4f"},
		{"dashes and underscores are part of the run", "sk_live_ab-cd_ef-gh_ij-kl_mn", "sk_live_…"},
		{"a tail that looks like a token is dropped", "sk_live_000000000000bs_0 ", "sk_live_… "},
		{"a tail with a dash is dropped", "bs_0123456789abcdef-xyz", "bs_…"},
		{"two secrets", key + "," + key, "sk_live_…2e4f,sk_live_…2e4f"},
		{"bare prefix hides nothing", "keys start with sk_live_ or bs_", "keys start with sk_live_ or bs_"},
		{"words ending in bs_ are not tokens", "jobs_queue labs_x", "jobs_queue labs_x"},
		{"bs_ after punctuation", "(bs_0123456789abcdefgh)", "(bs_…efgh)"},
		{"sk_ without live or test", "sk_other_123456789012345678", "sk_other_123456789012345678"},
		{"no secret", "The owner revoked this key.", "The owner revoked this key."},
		{"empty", "", ""},
		{"multibyte around", "é" + key + "é", "ésk_live_…2e4fé"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := redactSecrets(tt.in)
			assert.Equal(t, tt.want, got)
			assert.Equal(t, got, redactSecrets(got), "redaction is idempotent")
			if strings.Contains(tt.in, key) {
				assert.NotContains(t, got, key)
			}
		})
	}
}

func TestOneLine(t *testing.T) {
	tests := []struct {
		name, in string
		max      int
		want     string
	}{
		{"plain", "The owner revoked this key.", 100, "The owner revoked this key."},
		{"newlines become spaces", "line one\nline two\r\n\tthree", 100, "line one line two three"},
		{"forged log line", "ok\nlevel=ERROR msg=forged", 100, "ok level=ERROR msg=forged"},
		{"trimmed", "  \n spaced \n ", 100, "spaced"},
		{"control characters", "a\x00b\x1bc", 100, "a b c"},
		{"invalid UTF-8", "a\xffb", 100, "a\uFFFDb"},
		{"cut on a rune", "ééééé", 5, "éé…"},
		{"cut before a separator", "abcd efgh", 4, "abcd…"},
		{"exact fit", "abcd", 4, "abcd"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, oneLine(tt.in, tt.max))
		})
	}
}
