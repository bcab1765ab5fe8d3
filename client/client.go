package client

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	heepr "github.com/heepr/heepr-go"
	"github.com/heepr/heepr-go/client/raw"
	"github.com/heepr/heepr-go/internal/redact"
	"github.com/heepr/heepr-go/models"
)

// DefaultBaseURL is the production API, under which every path of the spec lives.
const DefaultBaseURL = "https://heepr.ai/api"

// DefaultAttemptTimeout bounds one attempt of a call (the request and its
// JSON answer), apart from the caller's own deadline.
const DefaultAttemptTimeout = 30 * time.Second

// DefaultMaxResponseBytes caps the JSON answer the client reads: a body larger
// than this is an error, not an out-of-memory.
const DefaultMaxResponseBytes = 8 << 20

// ErrNoAgentID is returned by the calls that name the agent (SkillFile,
// SkillManifest) when the client does not know its agent id: give it with
// WithAgentID, or get it from Register or Connect.
var ErrNoAgentID = errors.New("heepr: the client has no agent id (use WithAgentID, Register or Connect)")

// ErrNoAPIKey is returned by a call that needs the bearer key when the client
// has none: give it with WithAPIKey, or get it from Register or Connect.
var ErrNoAPIKey = errors.New("heepr: the client has no API key (use WithAPIKey, Register or Connect)")

// Client calls the heepr agent API. Create it with New or Connect.
//
// A Client is safe for concurrent use by multiple goroutines. Every call takes
// a context first, and every wait inside it (a retry's backoff included)
// returns as soon as the context is done. Its key never appears in anything
// it prints, logs or returns.
type Client struct {
	base      *url.URL
	baseStr   string // without a trailing slash, for display
	server    string // with one, for the generated request builders
	hc        *http.Client
	log       *slog.Logger
	retry     RetryPolicy
	attempt   time.Duration
	userAgent string
	maxBody   int64
	maxEvent  int64
	maxFile   int64
	maxDown   int64
	mw        Invoker // the middleware around the innermost Invoker

	// plainDownloads allows http:// attachment URLs and redirects: only when
	// the base URL is plain http itself, so a download is never less secure
	// than the API calls.
	plainDownloads bool
	// privateDownloads allows non-public addresses in downloads: when the
	// base URL's host is one (a local or self-hosted platform) or the client
	// has WithPrivateNetworkDownloads.
	privateDownloads bool

	// dl is hc for downloads: its transport guarded against non-public
	// addresses, with a redirect policy that checks every hop and never
	// carries the key off the platform's host.
	dl *http.Client

	// pollTemplate is GET /events as the generated builder makes it, built
	// once: polling is the hot path, and building it anew costs a dozen
	// allocations per poll.
	pollTemplate *http.Request

	mu      sync.RWMutex
	key     models.APIKey
	bearer  string // "Bearer <key>", kept with the key so a request does not build it
	agentID string
	tokens  []string      // bootstrap tokens this client registered with
	known   *redact.Known // the redactor of key and tokens, rebuilt when they change
}

// New returns a Client configured by opts. It reads no environment (Connect
// does) and makes no request. It fails on an unusable option, such as a base
// URL that is not absolute, or plain http:// to a host that is not loopback
// without WithInsecureHTTP: a bearer key never crosses a network in clear text
// by accident.
func New(opts ...Option) (*Client, error) {
	cfg := config{
		baseURL:  DefaultBaseURL,
		retry:    DefaultRetryPolicy(),
		attempt:  DefaultAttemptTimeout,
		maxBody:  DefaultMaxResponseBytes,
		maxEvent: DefaultMaxEventBytes,
		maxFile:  DefaultMaxFileBytes,
		maxDown:  DefaultMaxDownloadBytes,
		hc:       http.DefaultClient,
		logger:   defaultLogger(),
	}
	for _, opt := range opts {
		if opt == nil {
			continue
		}
		if err := opt(&cfg); err != nil {
			return nil, fmt.Errorf("heepr: %w", err)
		}
	}
	base, err := parseBaseURL(cfg.baseURL, cfg.insecure)
	if err != nil {
		return nil, fmt.Errorf("heepr: %w", err)
	}
	ua := "heepr-go/" + heepr.Version
	if cfg.userAgent != "" {
		ua += " " + cfg.userAgent
	}
	c := &Client{
		base:      base,
		baseStr:   strings.TrimSuffix(base.String(), "/"),
		server:    strings.TrimSuffix(base.String(), "/") + "/",
		hc:        cfg.hc,
		retry:     cfg.retry.withDefaults(),
		attempt:   cfg.attempt,
		userAgent: ua,
		maxBody:   cfg.maxBody,
		maxEvent:  cfg.maxEvent,
		maxFile:   cfg.maxFile,
		maxDown:   cfg.maxDown,
		agentID:   cfg.agentID,

		plainDownloads:   base.Scheme == "http",
		privateDownloads: cfg.private || hostIsNonPublic(base.Hostname()),
	}
	// Every line the client (and the poller over it) logs passes the
	// client's redactor, which knows the client's own key.
	c.log = slog.New(&redactingHandler{next: cfg.logger.Handler(), c: c})
	c.dl = c.downloadClient()
	if c.mw, err = chain(cfg.middleware); err != nil {
		return nil, fmt.Errorf("heepr: %w", err)
	}
	c.setCredentials(cfg.apiKey, "")
	if c.pollTemplate, err = raw.NewPollEventsRequest(c.server); err != nil {
		return nil, fmt.Errorf("heepr: %w", err)
	}
	return c, nil
}

// parseBaseURL accepts an absolute http(s) URL; plain http only to a loopback
// host unless insecure is set.
func parseBaseURL(s string, insecure bool) (*url.URL, error) {
	if !strings.Contains(s, "://") {
		example := DefaultBaseURL
		if host := strings.TrimLeft(s, "/"); host != "" && !strings.HasPrefix(s, "/") {
			example = "https://" + host
		}
		return nil, fmt.Errorf("base URL %q has no scheme: want an absolute http(s) URL, such as %s", s, example)
	}
	u, err := url.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("base URL %q: %w", s, err)
	}
	if u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, fmt.Errorf("base URL %q: want an absolute http(s) URL such as %s", s, DefaultBaseURL)
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("base URL %q: want no credentials, query or fragment", u.Redacted())
	}
	if u.Scheme == "http" && !insecure && !isLoopback(u.Hostname()) {
		return nil, fmt.Errorf("base URL %q: plain http to a host that is not loopback would send the API key in clear text (use https, or WithInsecureHTTP for a trusted network)", s)
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	return u, nil
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Logger returns the client's logger: the one given with [WithLogger] (or
// the default), behind the client's redactor. It is there so that code built
// over the client, such as the poller, logs to the same place through the
// same redactor. It never returns nil. What the client logs through it (the
// messages, their levels and attributes) is not part of the API and may
// change in any release.
func (c *Client) Logger() *slog.Logger { return c.log }

// MaxEventBytes returns the cap on each event of a poll's answer
// (WithMaxEventBytes), so code built over the client, such as the poller's
// journal, bounds what it reads back by the same measure.
func (c *Client) MaxEventBytes() int64 { return c.maxEvent }

// BaseURL returns the base URL every call is relative to.
func (c *Client) BaseURL() string { return c.baseStr }

// AgentID returns the agent id the client knows ("" if none): from
// WithAgentID, Register or Connect.
func (c *Client) AgentID() string {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.agentID
}

// APIKey returns the key the client authenticates with ("" if none). It prints
// redacted; Reveal gives it whole, for a key store of the caller's own.
func (c *Client) APIKey() models.APIKey {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.key
}

func (c *Client) setCredentials(key models.APIKey, agentID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if key != c.key || c.known == nil {
		c.known = redact.NewKnown(append([]string{key.Reveal()}, c.tokens...)...)
	}
	c.key = key
	c.bearer = ""
	if key != "" {
		c.bearer = "Bearer " + key.Reveal()
	}
	if agentID != "" {
		c.agentID = agentID
	}
}

// rememberToken adds a bootstrap token to what the redactor looks for: a
// refusal of register may echo it in any form.
func (c *Client) rememberToken(token string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.tokens = append(c.tokens, token)
	c.known = redact.NewKnown(append([]string{c.key.Reveal()}, c.tokens...)...)
}

// redact is the client's one redactor: its own key and tokens in any form a
// server may echo them in, then anything shaped like a heepr secret.
func (c *Client) redact(s string) string {
	c.mu.RLock()
	k := c.known
	c.mu.RUnlock()
	return k.String(s)
}

// authorize sets the headers every request carries: the bearer key (unless the
// request already says how it authenticates) and the User-Agent.
func (c *Client) authorize(req *http.Request) {
	req.Header.Set("User-Agent", c.userAgent)
	if req.Header.Get("Authorization") != "" {
		return
	}
	c.mu.RLock()
	bearer := c.bearer
	c.mu.RUnlock()
	if bearer != "" {
		req.Header.Set("Authorization", bearer)
	}
}

// String describes the client without its key, for logs and %v.
func (c *Client) String() string {
	return fmt.Sprintf("heepr.Client{base: %s, agent: %q, key: %s}", c.baseStr, c.AgentID(), c.APIKey())
}

// GoString is String, so %#v does not print the struct's fields either.
func (c *Client) GoString() string { return c.String() }

// Format prints String for every verb, so no verb reveals the key.
func (c *Client) Format(f fmt.State, _ rune) { _, _ = fmt.Fprint(f, c.String()) }
