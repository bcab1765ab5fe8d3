package errors

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// secretPrefix reports the length of the heepr secret prefix that starts s at
// i, or 0. bs_ must start a word so that ordinary words ending in "bs_"
// (jobs_, labs_) are left alone; the sk_ prefixes are distinctive enough to be
// caught anywhere.
func secretPrefix(s string, i int) int {
	rest := s[i:]
	switch {
	case strings.HasPrefix(rest, "sk_live_"), strings.HasPrefix(rest, "sk_test_"):
		return len("sk_live_")
	case strings.HasPrefix(rest, "bs_") && (i == 0 || !isTokenByte(s[i-1])):
		return len("bs_")
	}
	return 0
}

// isTokenByte reports whether c can be part of a secret's body.
func isTokenByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-'
}

// redactSecrets replaces everything in s that looks like a heepr secret (a
// secret prefix followed by a run of token characters) with the prefix and,
// when the run is long enough that four characters give nothing away and
// they are alphanumeric, its last four characters: the form models.APIKey
// prints, e.g. sk_live_…2e4f. The
// run is taken whole, so no tail of a secret survives. A redacted form holds
// no token character after its prefix, so redacting twice changes nothing.
func redactSecrets(s string) string {
	if !strings.Contains(s, "sk_") && !strings.Contains(s, "bs_") {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		p := secretPrefix(s, i)
		if p == 0 {
			b.WriteByte(s[i])
			i++
			continue
		}
		j := i + p
		for j < len(s) && isTokenByte(s[j]) {
			j++
		}
		if j == i+p { // a bare prefix ("keys start with sk_live_") hides nothing
			b.WriteString(s[i:j])
			i = j
			continue
		}
		b.WriteString(s[i : i+p])
		b.WriteString("…")
		// The tail is kept only when it is plain alphanumerics: a tail such
		// as "bs_0" would itself look like a secret, and redacting again
		// would change it.
		if run := s[i+p : j]; len(run) >= 16 && !strings.ContainsAny(run[len(run)-4:], "_-") {
			b.WriteString(run[len(run)-4:])
		}
		i = j
	}
	return b.String()
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
