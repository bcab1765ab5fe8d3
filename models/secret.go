package models

import (
	"fmt"
	"log/slog"

	iredact "github.com/heepr/heepr-go/internal/redact"
)

// APIKey is an agent's long-lived API key (`sk_live_…`), sent as
// `Authorization: Bearer <key>`.
//
// Every printed form of an APIKey is redacted: String, GoString, every fmt verb
// (%v, %+v, %#v, %s, %q, %x …) and LogValue show at most the key's prefix and its
// last four characters, so a key inside any struct, error or log record cannot
// leak whole. JSON encoding is not redacted: the key must reach the wire. Use
// Reveal where the whole key is needed on purpose (an Authorization header, a
// key file).
type APIKey string

// BootstrapToken is the one-time token (`bs_…`) an agent exchanges for its API
// key, sent as `Authorization: Bootstrap <token>`. It prints redacted exactly as
// APIKey does.
type BootstrapToken string

// Reveal returns the whole key. Call it only where the key leaves the process on
// purpose: an Authorization header or a key file.
func (k APIKey) Reveal() string { return string(k) }

// String returns the redacted form, such as `sk_live_…2e4f`.
func (k APIKey) String() string { return redact(string(k)) }

// GoString returns the redacted form, quoted, for %#v.
func (k APIKey) GoString() string { return fmt.Sprintf("models.APIKey(%q)", redact(string(k))) }

// Format prints the redacted form for every verb, so no verb reveals the key.
func (k APIKey) Format(f fmt.State, verb rune) { formatSecret(f, verb, "models.APIKey", string(k)) }

// LogValue makes log/slog record the redacted form.
func (k APIKey) LogValue() slog.Value { return slog.StringValue(redact(string(k))) }

// Reveal returns the whole token. Call it only for the Authorization header of
// the register call.
func (t BootstrapToken) Reveal() string { return string(t) }

// String returns the redacted form, such as `bs_…9f3a`.
func (t BootstrapToken) String() string { return redact(string(t)) }

// GoString returns the redacted form, quoted, for %#v.
func (t BootstrapToken) GoString() string {
	return fmt.Sprintf("models.BootstrapToken(%q)", redact(string(t)))
}

// Format prints the redacted form for every verb, so no verb reveals the token.
func (t BootstrapToken) Format(f fmt.State, verb rune) {
	formatSecret(f, verb, "models.BootstrapToken", string(t))
}

// LogValue makes log/slog record the redacted form.
func (t BootstrapToken) LogValue() slog.Value { return slog.StringValue(redact(string(t))) }

// redact is how a secret prints: its heepr prefix (sk_live_, bs_), and its
// last four characters where it is long enough that four give nothing away;
// a secret of another shape keeps no prefix, so a short one prints as "…".
// The one redactor of the SDK is internal/redact, so this form and the one
// in errors and logs never disagree.
func redact(s string) string { return iredact.Secret(s) }

func formatSecret(f fmt.State, verb rune, typeName, s string) {
	r := redact(s)
	switch {
	case verb == 'v' && f.Flag('#'):
		fmt.Fprintf(f, "%s(%q)", typeName, r)
	case verb == 'q':
		fmt.Fprintf(f, "%q", r)
	default:
		fmt.Fprint(f, r)
	}
}
