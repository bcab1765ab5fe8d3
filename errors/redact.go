package errors

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/heepr/heepr-go/internal/redact"
)

// redactSecrets replaces everything in s that looks like a heepr secret with
// its printed form (sk_live_…2e4f): the SDK's one redactor, internal/redact.
func redactSecrets(s string) string { return redact.Patterns(s) }

// capString cuts s to at most max bytes on a rune boundary, ending in "…"
// when it was cut.
func capString(s string, max int) string {
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// oneLine makes s fit a log line: control characters (newlines included, which
// could forge a second log record) become spaces, runs of spaces collapse,
// invalid UTF-8 becomes U+FFFD, and a string longer than max bytes is cut on
// a rune boundary and ends in "…".
func oneLine(s string, maxLen int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	var b strings.Builder
	b.Grow(min(len(s), maxLen+len("…")))
	space := false
	for _, r := range s {
		if unicode.IsControl(r) || unicode.IsSpace(r) {
			space = true
			continue
		}
		sep := 0
		if space && b.Len() > 0 {
			sep = 1
		}
		space = false
		if b.Len()+sep+utf8.RuneLen(r) > maxLen {
			b.WriteString("…")
			break
		}
		if sep == 1 {
			b.WriteByte(' ')
		}
		b.WriteRune(r)
	}
	return b.String()
}
