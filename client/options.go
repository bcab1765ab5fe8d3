package client

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/heepr/heepr-go/models"
)

type config struct {
	baseURL   string
	apiKey    models.APIKey
	agentID   string
	hc        *http.Client
	logger    *slog.Logger
	retry     RetryPolicy
	attempt   time.Duration
	userAgent string
	insecure  bool
	private   bool
	maxBody   int64
	maxEvent  int64
	maxFile   int64
	maxDown   int64

	middleware []Middleware
}

// Option configures a Client in New or Connect.
type Option func(*config) error

// WithBaseURL sets the API's base URL (default DefaultBaseURL). Paths of the
// spec are appended to it, so it keeps its /api. Plain http:// is accepted for
// a loopback host only, unless WithInsecureHTTP is given too.
func WithBaseURL(u string) Option {
	return func(c *config) error { c.baseURL = u; return nil }
}

// WithAPIKey sets the bearer key the client authenticates with, trimmed of
// surrounding white space (as keys from the environment and the key file
// are). A value that cannot be a key (a space or line break inside it, a
// bootstrap token) is refused with an error that says why. Connect tries it
// before $HEEPR_API_KEY and the key file.
//
// The key is a [models.APIKey], as [Client.APIKey] and [models.Registration]
// give it, so it prints redacted wherever it travels; a key read as a string
// (from a secret manager) needs the conversion models.APIKey(s), and an
// untyped constant needs none.
func WithAPIKey(key models.APIKey) Option {
	return func(c *config) error {
		key = models.APIKey(strings.TrimSpace(key.Reveal()))
		if key == "" {
			c.apiKey = ""
			return nil
		}
		if strings.HasPrefix(key.Reveal(), "bs_") {
			return errors.New("WithAPIKey: that is a bootstrap token (bs_…), not an API key: give it to Register, or to Connect as ConnectConfig.BootstrapToken")
		}
		if err := checkKey(key.Reveal()); err != nil {
			return fmt.Errorf("WithAPIKey: not an API key: %v", err)
		}
		c.apiKey = key
		return nil
	}
}

// WithAgentID sets the agent's id, which SkillFile and SkillManifest name in
// their paths. Register and Connect set it too. An id that cannot name one
// path segment (".", "..", a control character, over 256 bytes) is refused.
func WithAgentID(id string) Option {
	return func(c *config) error {
		if id != "" {
			if err := checkPathID("agent id", id); err != nil {
				return fmt.Errorf("WithAgentID: %w", err)
			}
		}
		c.agentID = id
		return nil
	}
}

// WithHTTPClient sets the *http.Client requests go through (default
// http.DefaultClient). Its own Timeout, if any, bounds each attempt too.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *config) error {
		if hc == nil {
			return errors.New("WithHTTPClient: nil *http.Client")
		}
		c.hc = hc
		return nil
	}
}

// WithLogger sets where the client, and the poller over it, log: each attempt
// and each retry at debug level, what needs a person's eye at warn and error,
// never a key or token. Without it, Warn and above go to slog.Default() (as it
// is when each line is logged) and the rest is dropped;
// WithLogger(slog.New(slog.DiscardHandler)) silences the client.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) error {
		if l != nil {
			c.logger = l
		}
		return nil
	}
}

// WithRetry sets the retry policy (default [DefaultRetryPolicy]).
// WithRetry(RetryPolicy{MaxAttempts: 1}) turns retries off for the whole
// client; [WithoutRetry] does for one call.
func WithRetry(p RetryPolicy) Option {
	return func(c *config) error {
		if p.MaxAttempts < 0 {
			return errors.New("WithRetry: MaxAttempts must not be negative")
		}
		c.retry = p
		return nil
	}
}

// WithAttemptTimeout bounds each attempt of a JSON call, apart from the
// caller's deadline (default DefaultAttemptTimeout; 0 for none). An attempt
// that times out is retried like a dropped connection. File uploads and
// downloads are bounded by the caller's context only, since their length
// depends on the file. To bound a whole call, retries included, give it
// [WithTimeout].
func WithAttemptTimeout(d time.Duration) Option {
	return func(c *config) error {
		if d < 0 {
			return errors.New("WithAttemptTimeout: negative timeout")
		}
		c.attempt = d
		return nil
	}
}

// WithUserAgent appends ua to the User-Agent, after heepr-go/<Version>.
func WithUserAgent(ua string) Option {
	return func(c *config) error { c.userAgent = ua; return nil }
}

// WithInsecureHTTP allows a plain http:// base URL to a host that is not
// loopback. The API key then crosses the network in clear text: use it only on
// a network you trust. Attachments may then be downloaded over plain http
// too, since the base URL is; under an https base URL they never are, with or
// without this option.
func WithInsecureHTTP() Option {
	return func(c *config) error { c.insecure = true; return nil }
}

// WithPrivateNetworkDownloads lets DownloadAttachment reach loopback,
// private, link-local and other non-public addresses, which it refuses by
// default when the base URL's host is public: without it, a redirect from a
// hostile or compromised platform could read a service on the agent's own
// machine or network (http://127.0.0.1:8080/admin, a cloud's metadata service
// at 169.254.169.254) as if it were an attachment. Give it for a self-hosted
// platform behind a public name whose files live on a private network. A base
// URL whose host is itself non-public (localhost, 10.0.0.5) needs no option.
func WithPrivateNetworkDownloads() Option {
	return func(c *config) error { c.private = true; return nil }
}

// WithMaxResponseBytes caps the JSON answers the client reads (default
// DefaultMaxResponseBytes); a larger answer is an error.
func WithMaxResponseBytes(n int64) Option {
	return func(c *config) error {
		if n <= 0 {
			return errors.New("WithMaxResponseBytes: want a positive size")
		}
		c.maxBody = n
		return nil
	}
}

// WithMaxEventBytes caps each event of a poll's answer (default
// DefaultMaxEventBytes). Events fails on a larger one; StreamEvents, and so the
// poller, hands it over as its first n bytes with an error wrapping
// ErrTooLarge, and goes on with the next.
func WithMaxEventBytes(n int64) Option {
	return func(c *config) error {
		if n <= 0 {
			return errors.New("WithMaxEventBytes: want a positive size")
		}
		c.maxEvent = n
		return nil
	}
}

// WithMaxFileBytes caps each file Deliver sends at n bytes (default
// DefaultMaxFileBytes, 2 GiB). A file whose size is known to be larger is
// refused before any request; a reader of unknown size that turns out larger
// fails the attempt before a byte past n is sent. Either error wraps
// ErrTooLarge.
func WithMaxFileBytes(n int64) Option {
	return func(c *config) error {
		if n <= 0 {
			return errors.New("WithMaxFileBytes: want a positive size")
		}
		c.maxFile = n
		return nil
	}
}

// WithMaxDownloadBytes caps each attachment DownloadAttachment reads at n
// bytes (default DefaultMaxDownloadBytes, 2 GiB). An attachment whose size or
// Content-Length is larger is refused before a byte is written; a body that
// turns out larger fails before a byte past n is written. Either error wraps
// ErrTooLarge.
func WithMaxDownloadBytes(n int64) Option {
	return func(c *config) error {
		if n <= 0 {
			return errors.New("WithMaxDownloadBytes: want a positive size")
		}
		c.maxDown = n
		return nil
	}
}
