package client

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"net/url"
	"strings"

	herrors "github.com/heepr/heepr-go/errors"
	"github.com/heepr/heepr-go/internal/stream"
	"github.com/heepr/heepr-go/models"
)

// DefaultMaxDownloadBytes is the largest attachment DownloadAttachment reads
// unless WithMaxDownloadBytes says otherwise: 2 GiB.
const DefaultMaxDownloadBytes = 2 << 30

// ErrChecksumMismatch is wrapped by DownloadAttachment's error when the bytes
// it read do not match the attachment's SHA-256.
var ErrChecksumMismatch = errors.New("heepr: attachment does not match its sha256")

// maxRedirects is how many redirects a download follows, as net/http does.
const maxRedirects = 10

// DownloadAttachment streams the attachment at att.URL to w, through one
// buffer: an attachment costs no memory in proportion to its size. A URL that
// starts with "/" is on the platform's host (the scheme, host and port of the
// client's base URL).
//
// The bearer key goes only to the platform's own origin (the base URL's
// scheme, host and port); any other URL, a signed one, is fetched without an
// Authorization header. Redirects are followed (up to 10), but the key is
// dropped at the first hop that leaves that origin and never sent again in
// the chain, and no hop carries a Referer. Errors show a URL without its
// query, which may hold a signature.
//
// A download is never less contained than the platform it comes from:
//   - Plain http:// (the URL or any redirect) only when the base URL is plain
//     http itself (see New and WithInsecureHTTP).
//   - No loopback, private (RFC 1918, fc00::/7), link-local (169.254.0.0/16,
//     fe80::/10), unspecified or otherwise non-public address, unless the base
//     URL's host is one itself (a local or self-hosted platform) or the client
//     has WithPrivateNetworkDownloads. An IP literal, "localhost" or a
//     "*.localhost" name is refused before any request, in the URL and at
//     every redirect. When the client's *http.Client has an *http.Transport
//     (or none: http.DefaultTransport), downloads go through a clone of it
//     that also checks the address each connection is made to, so a public
//     name that resolves to 127.0.0.1 is refused too; through a proxy, the
//     proxy makes that connection and only the URL's host is checked. Any other
//     RoundTripper gets the checks of the URL's host only. The error wraps
//     ErrPrivateAddress.
//
// The bytes written are the bytes the server sent: the request asks for
// Accept-Encoding: identity, so no transport asks for gzip or undoes it, and a
// Content-Encoding the server sends anyway is written as it is. Nothing is read
// past WithMaxDownloadBytes: an attachment whose Size or Content-Length is
// larger is refused before a byte is written, and a body that turns out larger
// fails before a byte past the limit is written (both wrap ErrTooLarge). When
// att.Size is set (0 included: an empty file), exactly that many bytes are
// written or the call fails (wrapping herrors.ErrInvalidResponse): a
// Content-Length that disagrees with it is refused before a byte is written,
// and a body that runs past it fails before a byte past it is written. When it
// is nil (the platform did not say), the body is streamed to its end, capped by
// WithMaxDownloadBytes alone. When att.SHA256 is set, the bytes are
// hashed as they are written and a mismatch returns an error wrapping
// ErrChecksumMismatch. A failed download may have written some bytes to w, so
// download to a temporary file and keep it only when DownloadAttachment
// returns nil.
//
// A non-2xx answer returns an error wrapping the *herrors.APIError of
// herrors.FromResponse. A retryable failure is retried (see RetryPolicy) only
// while nothing has been written to w; after that the error says how many
// bytes were written and is returned as it is. The download is bounded by ctx
// alone, not by WithAttemptTimeout. WithProgress reports the bytes written to
// w.
func (c *Client) DownloadAttachment(ctx context.Context, att models.Attachment, w io.Writer, opts ...CallOption) error {
	what := att.ID
	if what == "" {
		what = "attachment"
	}
	ctx, cc, end, err := c.begin(ctx, opts)
	if err == nil {
		err = c.invoke(ctx, cc, OperationDownloadAttachment, "", func(ctx context.Context, cc callConfig) error {
			return c.download(ctx, att, w, cc)
		})
		err = end(err)
	}
	if err != nil {
		return fmt.Errorf("download %s: %w", what, err)
	}
	return nil
}

func (c *Client) download(ctx context.Context, att models.Attachment, w io.Writer, cc callConfig) error {
	if w == nil {
		return errors.New("nil writer")
	}
	u, err := c.attachmentURL(att.URL)
	if err != nil {
		return err
	}
	if size := attachmentSize(att); size > c.maxDown {
		return &tooLargeError{size: size, limit: c.maxDown, option: "WithMaxDownloadBytes"}
	} else if att.Size != nil && size < 0 {
		return fmt.Errorf("size %d is negative", size)
	}
	want := strings.ToLower(att.SHA256)
	if want != "" && !isSHA256(want) {
		return fmt.Errorf("sha256 %q is not 64 hex digits", att.SHA256)
	}
	// The guarded transport learns from ctx which connections go to a proxy.
	ctx = withProxyNote(ctx)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return fmt.Errorf("GET %s: %w", redactURL(u), err)
	}
	req.Header.Set("User-Agent", c.userAgent)
	// Set by hand, this also stops net/http's transport from asking for gzip
	// and inflating the answer itself: 300 KB of gzip would write 300 MB to
	// w, past Size and the hash, with no Content-Length to check.
	req.Header.Set("Accept-Encoding", "identity")
	if sameOrigin(u, c.base) {
		c.mu.RLock()
		bearer := c.bearer
		c.mu.RUnlock()
		if bearer == "" {
			return ErrNoAPIKey
		}
		req.Header.Set("Authorization", bearer)
	}
	err = c.send(ctx, c.dl, req, cc, 0, func(res *http.Response) error {
		return c.receive(ctx, res, att, want, w, cc.progress)
	})
	return err // a *url.Error in it names the URL without its query (attempt1 sees to it)
}

// attachmentSize is att.Size, or -1 when the platform did not give it: unknown
// is not 0, which is an empty file.
func attachmentSize(att models.Attachment) int64 {
	if att.Size == nil {
		return -1
	}
	return *att.Size
}

// receive writes one 2xx answer's body to w. An error after the first byte
// was written is final: w cannot take the same bytes twice.
func (c *Client) receive(ctx context.Context, res *http.Response, att models.Attachment, want string, w io.Writer, progress func(sent, total int64)) error {
	cl := res.ContentLength
	size := attachmentSize(att) // -1: unknown
	if cl > c.maxDown {
		return final(&tooLargeError{size: cl, limit: c.maxDown, option: "WithMaxDownloadBytes"})
	}
	if size >= 0 && cl >= 0 && cl != size {
		return final(herrors.NewInvalidResponse(res, fmt.Sprintf("the response holds %d bytes; the attachment says %d", cl, size)))
	}
	total := cl
	if total < 0 {
		total = size
	}
	dst := &hashWriter{w: w}
	if want != "" {
		dst.h = sha256.New()
	}
	m := stream.NewMeter(progress, total)
	// size < 0 (unknown): up to the limit.
	n, err := stream.Copy(ctx, dst, res.Body, size, c.maxDown, make([]byte, stream.BufferSize), m)
	if err != nil {
		if le, ok := errors.AsType[*stream.LengthError](err); ok {
			if le.Want < 0 {
				return final(&tooLargeError{size: -1, limit: c.maxDown, option: "WithMaxDownloadBytes"})
			}
			reason := fmt.Sprintf("the body holds more than the attachment's %d bytes", size)
			if le.Short() {
				reason = fmt.Sprintf("the body ended after %d of the attachment's %d bytes", n, size)
			}
			return final(fmt.Errorf("%w (%d bytes were written to w)", herrors.NewInvalidResponse(res, reason), n))
		}
		if _, ok := errors.AsType[*stream.WriteError](err); ok {
			return final(err) // the caller's writer failed: not the network's doing
		}
		if n > 0 {
			return final(fmt.Errorf("%w (%d bytes were already written to w: not retried)", err, n))
		}
		return err
	}
	m.Done()
	if dst.h != nil {
		if got := hex.EncodeToString(dst.h.Sum(nil)); got != want {
			return final(fmt.Errorf("%w: got %s, want %s (all %d bytes were written to w)", ErrChecksumMismatch, got, want, n))
		}
	}
	return nil
}

// hashWriter writes to w and hashes what w took.
type hashWriter struct {
	w io.Writer
	h hash.Hash // nil: no hashing
}

func (h *hashWriter) Write(p []byte) (int, error) {
	n, err := h.w.Write(p)
	if h.h != nil && n > 0 {
		h.h.Write(p[:n])
	}
	return n, err
}

// attachmentURL resolves an attachment's URL and refuses what must not be
// fetched: no URL, a scheme other than http(s), credentials in the URL, and
// what checkTarget refuses.
func (c *Client) attachmentURL(s string) (*url.URL, error) {
	if s == "" {
		return nil, errors.New("the attachment has no URL")
	}
	u, err := url.Parse(s)
	if err != nil {
		return nil, errors.New("unparsable URL") // url's error repeats the URL, query and all
	}
	if !u.IsAbs() {
		if !strings.HasPrefix(s, "/") || strings.HasPrefix(s, "//") {
			return nil, fmt.Errorf("relative URL %s: want an absolute URL or a path on the platform's host", redactURL(u))
		}
		u = (&url.URL{Scheme: c.base.Scheme, Host: c.base.Host}).ResolveReference(u)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("URL %s: want http(s)", redactURL(u))
	}
	if u.User != nil {
		return nil, fmt.Errorf("URL %s holds credentials", redactURL(u))
	}
	if err := c.checkTarget(u, "URL "+redactURL(u)); err != nil {
		return nil, err
	}
	return u, nil
}

// checkTarget refuses a URL (the attachment's, or a redirect's) that would
// take a download somewhere the platform is not: plain http when the base
// URL is https, a non-public host when the base URL's host is public. what
// names the URL in the error.
func (c *Client) checkTarget(u *url.URL, what string) error {
	if !strings.EqualFold(u.Scheme, "https") && !c.plainDownloads {
		return fmt.Errorf("%s: plain http, but the base URL is https (a download is never less secure than the platform's API)", what)
	}
	if !c.privateDownloads && hostIsNonPublic(u.Hostname()) {
		return &privateAddrError{what: what}
	}
	return nil
}

// downloadClient is c.hc for downloads: the transport guarded against
// non-public addresses (unless they are allowed), and a redirect policy that
// checks every hop and never carries the key off the platform's origin.
// net/http drops Authorization on a redirect to another domain, but keeps it
// for a subdomain or another port of the same host; the SDK's promise is
// narrower, so it says so itself.
func (c *Client) downloadClient() *http.Client {
	dl := *c.hc
	rt := c.hc.Transport
	if !c.privateDownloads {
		rt = guardTransport(rt)
	}
	dl.Transport = locationCheck{rt: rt}
	next := c.hc.CheckRedirect
	dl.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if len(via) >= maxRedirects {
			return fmt.Errorf("stopped after %d redirects", maxRedirects)
		}
		// As for the attachment's own URL: a host, and no credentials (net/http
		// would send a URL's user info as Basic authorization).
		if req.URL.User != nil || req.URL.Hostname() == "" {
			return fmt.Errorf("refused a redirect to %s: want a host and no credentials", redactURL(req.URL))
		}
		if err := c.checkTarget(req.URL, "refused a redirect to "+redactURL(req.URL)); err != nil {
			return err
		}
		keep := sameOrigin(req.URL, c.base)
		for _, v := range via {
			keep = keep && sameOrigin(v.URL, c.base)
		}
		if !keep {
			req.Header.Del("Authorization")
		}
		// The previous URL may be a signed one.
		req.Header.Del("Referer")
		if next != nil {
			return next(req, via)
		}
		return nil
	}
	return &dl
}

// locationCheck refuses a redirect whose Location is not a URL. net/http
// would refuse it too, but its error quotes the header whole, and a
// Location's query may be a signature.
type locationCheck struct{ rt http.RoundTripper } // nil: http.DefaultTransport

func (l locationCheck) RoundTrip(req *http.Request) (*http.Response, error) {
	rt := l.rt
	if rt == nil {
		rt = http.DefaultTransport
	}
	res, err := rt.RoundTrip(req)
	if err != nil {
		return res, err
	}
	switch res.StatusCode {
	case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther,
		http.StatusTemporaryRedirect, http.StatusPermanentRedirect: // the ones http.Client follows
	default:
		return res, nil
	}
	if loc := res.Header.Get("Location"); loc != "" {
		if _, perr := req.URL.Parse(loc); perr != nil {
			res.Body.Close()
			return nil, final(fmt.Errorf("the answer (%d) redirects to a Location header that is not a URL: not followed", res.StatusCode))
		}
	}
	return res, nil
}

// sameOrigin reports whether a and b have the same scheme, host and port, a
// missing port being the scheme's default.
func sameOrigin(a, b *url.URL) bool {
	return strings.EqualFold(a.Scheme, b.Scheme) &&
		strings.EqualFold(a.Hostname(), b.Hostname()) &&
		port(a) == port(b)
}

func port(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	if strings.EqualFold(u.Scheme, "https") {
		return "443"
	}
	return "80"
}

// redactURL is u without credentials, query or fragment, for errors.
func redactURL(u *url.URL) string {
	v := *u
	v.User, v.RawQuery, v.ForceQuery, v.Fragment, v.RawFragment = nil, "", false, "", ""
	return v.String()
}

func isSHA256(s string) bool {
	if len(s) != 2*sha256.Size {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}
