// Package redact is the SDK's one redactor: what a heepr secret looks like
// when printed, and how to take secrets out of any text before it reaches a
// log line or an error. models prints its secret types with Secret, errors
// cleans what a server sent with Patterns, and the client runs every log
// line and refusal through a Known that also knows its own key.
//
// It is not public API.
package redact

import (
	"net/url"
	"strings"
)

// prefixes are the heepr secret prefixes. A secret printed keeps its prefix,
// which says what it is without making it usable.
var prefixes = [...]string{"sk_live_", "sk_test_", "bs_"}

// knownPrefix is the heepr prefix s starts with, or "".
func knownPrefix(s string) string {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return p
		}
	}
	return ""
}

// tail is the last four characters of body when body is long enough (16 or
// more) that four give nothing away, and they cannot themselves look like a
// prefix ("bs_0"): so that redacting twice changes nothing.
func tail(body string) string {
	if len(body) >= 16 {
		if t := body[len(body)-4:]; !strings.ContainsAny(t, "_-") {
			return t
		}
	}
	return ""
}

// Secret is how a secret prints: its heepr prefix, if it has one, "…", and
// its last four characters where it is long enough. A secret of another
// shape keeps no prefix at all, so a short one prints as "…" alone.
func Secret(s string) string {
	if s == "" {
		return ""
	}
	p := knownPrefix(s)
	return p + "…" + tail(s[len(p):])
}

// isTokenByte reports whether c can be part of a secret's body.
func isTokenByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-'
}

// prefixAt reports the length of the heepr secret prefix that starts s at
// i, or 0. bs_ must start a word so that ordinary words ending in "bs_"
// (jobs_, labs_) are left alone; the sk_ prefixes are distinctive enough to be
// caught anywhere.
func prefixAt(s string, i int) int {
	rest := s[i:]
	switch {
	case strings.HasPrefix(rest, "sk_live_"), strings.HasPrefix(rest, "sk_test_"):
		return len("sk_live_")
	case strings.HasPrefix(rest, "bs_") && (i == 0 || !isTokenByte(s[i-1])):
		return len("bs_")
	}
	return 0
}

// Patterns replaces everything in s that looks like a heepr secret (a secret
// prefix followed by a run of token characters) with its printed form (see
// Secret). The run is taken whole, so no tail of a secret survives, and
// redacting twice changes nothing.
func Patterns(s string) string {
	if !strings.Contains(s, "sk_") && !strings.Contains(s, "bs_") {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		p := prefixAt(s, i)
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
		b.WriteString(tail(s[i+p : j]))
		i = j
	}
	return b.String()
}

// Known redacts secrets it was told of, in every form a server might echo
// them in (whole, without their prefix, URL-encoded), then Patterns. The zero
// Known redacts Patterns only. It is safe for concurrent use once made.
type Known struct {
	forms []form
}

type form struct{ text, printed string }

// minForm is the shortest form of a secret worth looking for: shorter ones
// would match ordinary text.
const minForm = 8

// NewKnown returns a Known of secrets (empty ones are skipped).
func NewKnown(secrets ...string) *Known {
	k := &Known{}
	for _, s := range secrets {
		if s == "" {
			continue
		}
		printed := Secret(s)
		add := func(text string) {
			if len(text) >= minForm {
				k.forms = append(k.forms, form{text: text, printed: printed})
			}
		}
		add(s)
		if esc := url.QueryEscape(s); esc != s {
			add(esc)
		}
		body := s[len(knownPrefix(s)):]
		if body != s {
			add(body)
		}
		if i := strings.LastIndexByte(s, '_'); i >= 0 && s[i+1:] != body {
			add(s[i+1:]) // the part after the last underscore, for a key of another shape
		}
	}
	return k
}

// String returns s with every known secret, and everything shaped like a
// heepr secret, redacted.
func (k *Known) String(s string) string {
	if k != nil {
		for _, f := range k.forms {
			if strings.Contains(s, f.text) {
				s = strings.ReplaceAll(s, f.text, f.printed)
			}
		}
	}
	return Patterns(s)
}
