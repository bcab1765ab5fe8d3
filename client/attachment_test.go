package client_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/heepr/heepr-go/client"
	herrors "github.com/heepr/heepr-go/errors"
	"github.com/heepr/heepr-go/heeprtest"
	"github.com/heepr/heepr-go/models"
)

// attachmentOf places an order with att and polls it back, so the test uses
// the absolute URL the platform hands out.
func attachmentOf(t *testing.T, srv *heeprtest.Server, a heeprtest.Agent, c *client.Client, att models.Attachment) models.Attachment {
	t.Helper()
	srv.PlaceOrder(a.ID, models.Order{Attachments: []models.Attachment{att}})
	events, err := c.Events(context.Background())
	require.NoError(t, err)
	require.Len(t, events, 1)
	ev := valueAs[models.NewOrderEvent](t, events[0])
	require.Len(t, ev.Order.Attachments, 1)
	return ev.Order.Attachments[0]
}

func TestDownloadAttachment(t *testing.T) {
	srv, a, c := registered(t)
	data := randomBytes(300<<10, 10) // several buffers
	att := attachmentOf(t, srv, a, c, srv.AddFile("reference.bin", "application/octet-stream", data))
	require.Equal(t, "https://heepr.ai/files/att_1", att.URL, "absolute, on the platform's host")

	var buf bytes.Buffer
	var last [2]int64
	require.NoError(t, c.DownloadAttachment(context.Background(), att, &buf,
		client.WithProgress(func(n, total int64) { last = [2]int64{n, total} })))
	assert.Equal(t, sha(data), sha(buf.Bytes()), "byte-exact")
	assert.Equal(t, [2]int64{int64(len(data)), int64(len(data))}, last, "progress ends at the total")
	r := lastRequest(t, srv)
	assert.Equal(t, "/files/att_1", r.Path)
	assert.Equal(t, "Bearer "+c.APIKey().Reveal(), r.Header.Get("Authorization"), "the platform's host takes the key")

	// A relative URL resolves against the base URL's origin.
	rel := srv.AddFile("notes.txt", "text/plain", []byte("hello"))
	require.Equal(t, "/files/att_2", rel.URL)
	buf.Reset()
	require.NoError(t, c.DownloadAttachment(context.Background(), rel, &buf))
	assert.Equal(t, "hello", buf.String())
	noViolations(t, srv)
}

// TestDownloadAttachment_Size: a known Size is exact, 0 (an empty file)
// included; an unknown one (nil) streams the body to its end, capped by
// WithMaxDownloadBytes alone.
func TestDownloadAttachment_Size(t *testing.T) {
	data := randomBytes(5000, 12)
	tests := []struct {
		name    string
		opts    []client.Option
		size    *int64
		wantErr string
		is      error
		written int
	}{
		{name: "known", size: new(int64(len(data))), written: len(data)},
		{name: "unknown", size: nil, written: len(data)},
		{name: "unknown, over the cap", opts: []client.Option{client.WithMaxDownloadBytes(4000)}, size: nil,
			wantErr: "over the 3.9 KiB limit", is: client.ErrTooLarge},
		{name: "zero is an empty file, not unknown", size: new(int64(0)),
			wantErr: "the response holds 5000 bytes; the attachment says 0", is: herrors.ErrInvalidResponse},
		{name: "negative", size: new(int64(-1)), wantErr: "size -1 is negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, _, c := registered(t, tt.opts...)
			att := srv.AddFile("a.bin", "application/octet-stream", data)
			att.Size = tt.size
			var buf bytes.Buffer
			err := c.DownloadAttachment(context.Background(), att, &buf)
			if tt.wantErr == "" {
				require.NoError(t, err)
			} else {
				assert.ErrorContains(t, err, tt.wantErr)
			}
			if tt.is != nil {
				assert.ErrorIs(t, err, tt.is)
			}
			assert.Equal(t, tt.written, buf.Len())
		})
	}

	t.Run("empty file", func(t *testing.T) {
		srv, _, c := registered(t)
		att := srv.AddFile("empty.txt", "text/plain", nil)
		require.NotNil(t, att.Size, "heeprtest gives every file its size")
		assert.Zero(t, *att.Size)
		var buf bytes.Buffer
		require.NoError(t, c.DownloadAttachment(context.Background(), att, &buf))
		assert.Zero(t, buf.Len())
	})
}

func TestDownloadAttachmentFailures(t *testing.T) {
	data := randomBytes(5000, 11)
	tests := []struct {
		name     string
		opts     []client.Option
		edit     func(att *models.Attachment)
		fault    *heeprtest.Fault
		wantErr  string
		is       error
		requests int // to /files/, 0 when refused before any
		written  int // bytes that reached w
	}{
		{name: "sha256 mismatch", edit: func(att *models.Attachment) { att.SHA256 = strings.Repeat("ab", 32) },
			wantErr: "does not match its sha256", is: client.ErrChecksumMismatch, requests: 1, written: len(data)},
		{name: "sha256 not hex", edit: func(att *models.Attachment) { att.SHA256 = "xyz" },
			wantErr: `sha256 "xyz" is not 64 hex digits`},
		{name: "size over the cap", opts: []client.Option{client.WithMaxDownloadBytes(4000)},
			wantErr: "4.8 KiB is over the 3.9 KiB limit (WithMaxDownloadBytes)", is: client.ErrTooLarge},
		{name: "Content-Length over the cap", opts: []client.Option{client.WithMaxDownloadBytes(4000)},
			edit:    func(att *models.Attachment) { att.Size = nil },
			wantErr: "over the 3.9 KiB limit", is: client.ErrTooLarge, requests: 1},
		{name: "size disagrees with Content-Length", edit: func(att *models.Attachment) { att.Size = new(int64(10)) },
			wantErr: "the response holds 5000 bytes; the attachment says 10", is: herrors.ErrInvalidResponse, requests: 1},
		{name: "not found", edit: func(att *models.Attachment) { att.URL = "/files/att_404" },
			wantErr: "404", is: herrors.ErrNotFound, requests: 1},
		{name: "plain http under an https base URL", edit: func(att *models.Attachment) { att.URL = "http://files.example.com/a.bin?sig=s3cr3t" },
			wantErr: "URL http://files.example.com/a.bin: plain http, but the base URL is https"},
		{name: "plain http with WithInsecureHTTP", opts: []client.Option{client.WithInsecureHTTP()},
			edit:    func(att *models.Attachment) { att.URL = "http://files.example.com/a.bin?sig=s3cr3t" },
			wantErr: "URL http://files.example.com/a.bin: plain http, but the base URL is https"},
		{name: "no URL", edit: func(att *models.Attachment) { att.URL = "" }, wantErr: "no URL"},
		{name: "relative without a slash", edit: func(att *models.Attachment) { att.URL = "files/att_1" }, wantErr: "relative URL"},
		{name: "other scheme", edit: func(att *models.Attachment) { att.URL = "ftp://heepr.ai/files/att_1" }, wantErr: "want http(s)"},
		{name: "credentials in URL", edit: func(att *models.Attachment) { att.URL = "https://u:p@heepr.ai/files/att_1" }, wantErr: "holds credentials"},
		{name: "truncated after bytes were written",
			fault:   &heeprtest.Fault{Kind: heeprtest.FaultTruncate, Path: "/files/att_1"},
			wantErr: "2500 bytes were already written to w: not retried", is: io.ErrUnexpectedEOF, requests: 1, written: 2500},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, _, c := registered(t, tt.opts...)
			att := srv.AddFile("a.bin", "application/octet-stream", data)
			if tt.edit != nil {
				tt.edit(&att)
			}
			if tt.fault != nil {
				srv.Inject(*tt.fault)
			}
			var buf bytes.Buffer
			err := c.DownloadAttachment(context.Background(), att, &buf)
			require.Error(t, err)
			assert.Contains(t, err.Error(), "download att_1: ")
			assert.Contains(t, err.Error(), tt.wantErr)
			assert.NotContains(t, err.Error(), "s3cr3t", "no query (a signature) in an error")
			if tt.is != nil {
				assert.ErrorIs(t, err, tt.is)
			}
			assert.Len(t, filesRequests(srv), tt.requests)
			assert.Equal(t, tt.written, buf.Len())
			noViolations(t, srv)
		})
	}

	t.Run("nil writer", func(t *testing.T) {
		srv, _, c := registered(t)
		err := c.DownloadAttachment(context.Background(), srv.AddFile("a", "", data), nil)
		assert.ErrorContains(t, err, "nil writer")
	})
	t.Run("no key for the platform's host", func(t *testing.T) {
		srv := heeprtest.NewServer()
		c := newClient(t, srv)
		err := c.DownloadAttachment(context.Background(), srv.AddFile("a", "", data), io.Discard)
		assert.ErrorIs(t, err, client.ErrNoAPIKey)
		assert.Empty(t, srv.Requests())
	})
	t.Run("a foreign host gets no key", func(t *testing.T) {
		// The fake answers any host; off the platform's, the client sends no
		// key, so the fake's file host refuses it.
		srv, _, c := registered(t)
		att := srv.AddFile("a.bin", "", data)
		att.URL = "https://files.example.com" + att.URL
		err := c.DownloadAttachment(context.Background(), att, io.Discard)
		assert.ErrorIs(t, err, herrors.ErrUnauthorized)
		assert.Empty(t, lastRequest(t, srv).Header.Get("Authorization"))
	})
	t.Run("zero cap", func(t *testing.T) {
		_, err := client.New(client.WithMaxDownloadBytes(0))
		assert.ErrorContains(t, err, "WithMaxDownloadBytes")
	})
}

func filesRequests(srv *heeprtest.Server) []heeprtest.Request {
	var out []heeprtest.Request
	for _, r := range srv.Requests() {
		if strings.HasPrefix(r.Path, "/files/") {
			out = append(out, r)
		}
	}
	return out
}

// A retryable failure before the first byte is retried; the bytes land once.
func TestDownloadAttachmentRetried(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv, _, c := registered(t)
		data := randomBytes(100<<10, 12)
		att := srv.AddFile("a.bin", "", data)
		srv.Inject(heeprtest.Fault{Kind: heeprtest.FaultStatus, Status: 503, Path: "/files/att_1"})
		srv.Inject(heeprtest.Fault{Kind: heeprtest.FaultDropBeforeBody, Path: "/files/att_1"})
		var buf bytes.Buffer
		require.NoError(t, c.DownloadAttachment(context.Background(), att, &buf))
		assert.Equal(t, sha(data), sha(buf.Bytes()), "written once, byte-exact")
		assert.Len(t, filesRequests(srv), 3)
		noViolations(t, srv)
	})
}

// hosts is a "platform" host that serves /files/… and redirects, and a
// foreign host (another port of the loopback address: another origin, though
// net/http's own redirect rule would call it the same host) that serves
// signed URLs. Each records the Authorization header of every request.
type hosts struct {
	base, foreign *httptest.Server
	mu            sync.Mutex
	auth          map[string][]string // path → Authorization of each request
}

func newHosts(t *testing.T, data []byte) *hosts {
	h := &hosts{auth: map[string][]string{}}
	record := func(r *http.Request) {
		h.mu.Lock()
		defer h.mu.Unlock()
		h.auth[r.URL.Path] = append(h.auth[r.URL.Path], r.Header.Get("Authorization"))
	}
	serve := func(w http.ResponseWriter) {
		w.Header().Set("Content-Length", strconv.Itoa(len(data)))
		_, _ = w.Write(data)
	}
	h.foreign = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		record(r)
		switch r.URL.Path {
		case "/signed/a.bin":
			serve(w)
		case "/bounce": // back to the platform's host
			http.Redirect(w, r, h.base.URL+"/files/final", http.StatusFound)
		default:
			http.NotFound(w, r)
		}
	}))
	h.base = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		record(r)
		switch r.URL.Path {
		case "/files/to-foreign":
			http.Redirect(w, r, h.foreign.URL+"/signed/a.bin?sig=s3cr3t", http.StatusFound)
		case "/files/same":
			http.Redirect(w, r, "/files/final", http.StatusTemporaryRedirect)
		case "/files/bounce":
			http.Redirect(w, r, h.foreign.URL+"/bounce", http.StatusFound)
		case "/files/final":
			serve(w)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(h.foreign.Close)
	t.Cleanup(h.base.Close)
	return h
}

func (h *hosts) authOf(path string) []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.auth[path]
}

func TestDownloadNeverLeaksTheKey(t *testing.T) {
	data := randomBytes(10<<10, 13)
	h := newHosts(t, data)
	const key = "sk_live_0123456789abcdef0123456789abcdef"
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	c, err := client.New(client.WithBaseURL(h.base.URL+"/api"), client.WithAPIKey(key),
		client.WithHTTPClient(&http.Client{Transport: tr}), client.WithRetry(client.RetryPolicy{MaxAttempts: 1}))
	require.NoError(t, err)
	bearer := "Bearer " + key

	tests := []struct {
		name    string
		url     string
		want    map[string][]string // path → the Authorization each request carried
		wantErr string
	}{
		{"signed URL on a foreign host", h.foreign.URL + "/signed/a.bin?sig=s3cr3t",
			map[string][]string{"/signed/a.bin": {""}}, ""},
		{"redirect from the platform to a foreign host", "/files/to-foreign",
			map[string][]string{"/files/to-foreign": {bearer}, "/signed/a.bin": {""}}, ""},
		{"redirect within the platform's host", h.base.URL + "/files/same",
			map[string][]string{"/files/same": {bearer}, "/files/final": {bearer}}, ""},
		{"bounced back from a foreign host", "/files/bounce",
			map[string][]string{"/files/bounce": {bearer}, "/bounce": {""}, "/files/final": {""}}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h.mu.Lock()
			clear(h.auth)
			h.mu.Unlock()
			var buf bytes.Buffer
			err := c.DownloadAttachment(context.Background(), models.Attachment{ID: "att_1", URL: tt.url, Size: new(int64(len(data)))}, &buf)
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantErr)
				assert.Zero(t, buf.Len())
			} else {
				require.NoError(t, err)
				assert.Equal(t, data, buf.Bytes())
			}
			for path, want := range tt.want {
				assert.Equal(t, want, h.authOf(path), path)
			}
			h.mu.Lock()
			assert.Len(t, h.auth, len(tt.want), "no other request")
			h.mu.Unlock()
		})
	}

	t.Run("a dead signed URL's error keeps its query out", func(t *testing.T) {
		dead := httptest.NewServer(http.NotFoundHandler())
		url := dead.URL + "/x?sig=s3cr3t"
		dead.Close()
		err := c.DownloadAttachment(context.Background(), models.Attachment{ID: "att_9", URL: url}, io.Discard)
		require.Error(t, err)
		assert.NotContains(t, err.Error(), "s3cr3t")
		assert.Contains(t, err.Error(), dead.URL+"/x")
	})
	t.Run("an unparsable Location keeps its query out", func(t *testing.T) {
		for _, loc := range []string{"https://[::1/a.bin?sig=s3cr3t", "%s3cr3t", "https://cdn.example.com:port/?sig=s3cr3t"} {
			bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Location", loc)
				w.WriteHeader(http.StatusFound)
			}))
			err := c.DownloadAttachment(context.Background(), models.Attachment{ID: "att_9", URL: bad.URL + "/x"}, io.Discard)
			bad.Close()
			require.Error(t, err, loc)
			assert.NotContains(t, err.Error(), "s3cr3t", loc)
			assert.Contains(t, err.Error(), "Location", loc)
		}
	})
	t.Run("a body larger than the cap without Content-Length", func(t *testing.T) {
		chunked := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			for range 10 {
				_, _ = w.Write(make([]byte, 1000))
				w.(http.Flusher).Flush() // no Content-Length: the size shows only as it streams
			}
		}))
		t.Cleanup(chunked.Close)
		small, err := client.New(client.WithBaseURL(h.base.URL+"/api"), client.WithMaxDownloadBytes(4500),
			client.WithHTTPClient(&http.Client{Transport: tr}))
		require.NoError(t, err)
		var buf bytes.Buffer
		err = small.DownloadAttachment(context.Background(), models.Attachment{ID: "att_1", URL: chunked.URL + "/big"}, &buf)
		assert.ErrorIs(t, err, client.ErrTooLarge)
		assert.Equal(t, 4500, buf.Len(), "not a byte past the cap")
		assert.False(t, errors.Is(err, io.ErrUnexpectedEOF))
	})
}

// recorder is a handler that remembers what reached it, so a test can assert
// that a refused download never did.
type recorder struct {
	mu    sync.Mutex
	paths []string
	enc   []string // Accept-Encoding of each request
	h     http.Handler
}

func (r *recorder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	r.mu.Lock()
	r.paths = append(r.paths, req.URL.Path)
	r.enc = append(r.enc, req.Header.Get("Accept-Encoding"))
	r.mu.Unlock()
	r.h.ServeHTTP(w, req)
}

func (r *recorder) seen() (paths, enc []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.paths), slices.Clone(r.enc)
}

func (r *recorder) reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.paths, r.enc = nil, nil
}

// privateHosts is a platform on TLS that redirects wherever a test asks
// (/files/to?u=…), serves /files/ok, and a plain-http "internal service" on
// the loopback address that no download may reach.
type privateHosts struct {
	platform, secret *httptest.Server
	prec, srec       *recorder
	data             []byte
}

func newPrivateHosts(t *testing.T) *privateHosts {
	t.Helper()
	p := &privateHosts{data: randomBytes(4096, 21)}
	p.srec = &recorder{h: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "TOP SECRET admin page")
	})}
	p.prec = &recorder{h: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/files/to":
			http.Redirect(w, r, r.URL.Query().Get("u"), http.StatusFound)
		case "/files/ok":
			w.Header().Set("Content-Length", strconv.Itoa(len(p.data)))
			_, _ = w.Write(p.data)
		default:
			http.NotFound(w, r)
		}
	})}
	p.secret = httptest.NewServer(p.srec)
	p.platform = httptest.NewTLSServer(p.prec)
	t.Cleanup(p.secret.Close)
	t.Cleanup(p.platform.Close)
	return p
}

// routed is an http.Client that reaches the TLS platform for example.com
// (its certificate's name) and at its own address, and dials nothing else.
// Its transport is not an *http.Transport, so the client can check only the
// hosts it is handed.
func (p *privateHosts) routed(t *testing.T) (*http.Client, func() []string) {
	t.Helper()
	var mu sync.Mutex
	var dials []string
	tr := p.platform.Client().Transport.(*http.Transport).Clone()
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		mu.Lock()
		dials = append(dials, addr)
		mu.Unlock()
		if addr != "example.com:443" && addr != p.platform.Listener.Addr().String() {
			return nil, fmt.Errorf("test transport: no route to %s", addr)
		}
		var d net.Dialer
		return d.DialContext(ctx, network, p.platform.Listener.Addr().String())
	}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: roundTripper{tr}}, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(dials)
	}
}

// roundTripper hides the *http.Transport inside it.
type roundTripper struct{ rt http.RoundTripper }

func (r roundTripper) RoundTrip(req *http.Request) (*http.Response, error) {
	return r.rt.RoundTrip(req)
}

// Case 1 of issue 14: a hostile platform (or a hostile attachment URL) must
// not turn a download into a request to the agent's own machine or network.
func TestDownloadAttachmentStaysOffPrivateNetworks(t *testing.T) {
	p := newPrivateHosts(t)
	secretURL := p.secret.URL + "/admin/secrets"
	loopTLS := p.platform.URL // https://127.0.0.1:port, another origin than example.com
	key := client.WithAPIKey("sk_live_0123456789abcdef0123456789abcdef")

	// The base URL is https on the loopback address: plain http is refused
	// wherever it shows up.
	tlsClient := p.platform.Client()
	onLoopback, err := client.New(client.WithBaseURL(p.platform.URL+"/api"), key,
		client.WithHTTPClient(tlsClient), client.WithRetry(client.RetryPolicy{MaxAttempts: 1}))
	require.NoError(t, err)
	// The base URL is https on a public name: private addresses are refused too.
	hc, dials := p.routed(t)
	public, err := client.New(client.WithBaseURL("https://example.com/api"), key,
		client.WithHTTPClient(hc), client.WithRetry(client.RetryPolicy{MaxAttempts: 1}))
	require.NoError(t, err)

	tests := []struct {
		name    string
		c       *client.Client
		url     string
		wantErr string
		paths   []string // what reached the platform
	}{
		{"redirect to plain http on loopback", onLoopback, "/files/to?u=" + url.QueryEscape(secretURL),
			"refused a redirect to " + secretURL + ": plain http, but the base URL is https", []string{"/files/to"}},
		{"plain http on loopback", onLoopback, secretURL,
			"URL " + secretURL + ": plain http, but the base URL is https", nil},
		{"redirect to plain http off loopback", onLoopback, "/files/to?u=" + url.QueryEscape("http://files.example.com/a.bin?sig=s3cr3t"),
			"refused a redirect to http://files.example.com/a.bin: plain http, but the base URL is https", []string{"/files/to"}},
		{"redirect to loopback", public, "/files/to?u=" + url.QueryEscape(loopTLS+"/files/ok?sig=s3cr3t"),
			"refused a redirect to " + loopTLS + "/files/ok: a non-public address", []string{"/files/to"}},
		{"redirect to the metadata service", public, "/files/to?u=" + url.QueryEscape("https://169.254.169.254/latest/meta-data"),
			"refused a redirect to https://169.254.169.254/latest/meta-data: a non-public address", []string{"/files/to"}},
	}
	for _, host := range []string{
		strings.TrimPrefix(loopTLS, "https://"), "[::1]:443", "10.1.2.3", "172.16.0.1", "192.168.1.1", "[fd00::1]",
		"169.254.169.254", "[fe80::1%25eth0]", "0.0.0.0", "[::]", "localhost", "LocalHost.", "api.localhost",
		"[::ffff:127.0.0.1]", "0x7f000001", "2130706433", "127.1", "100.64.0.1",
	} {
		u := "https://" + host + "/files/ok?sig=s3cr3t"
		pu, err := url.Parse(u)
		require.NoError(t, err)
		tests = append(tests, struct {
			name    string
			c       *client.Client
			url     string
			wantErr string
			paths   []string
		}{"direct " + host, public, u, "URL " + (&url.URL{Scheme: "https", Host: pu.Host, Path: "/files/ok"}).String() + ": a non-public address", nil})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p.prec.reset()
			p.srec.reset()
			before := len(dials())
			var buf bytes.Buffer
			err := tt.c.DownloadAttachment(context.Background(), models.Attachment{ID: "att_1", URL: tt.url}, &buf)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.wantErr)
			if strings.Contains(tt.wantErr, "non-public") {
				assert.Contains(t, err.Error(), "WithPrivateNetworkDownloads", "the error names the way out")
				assert.ErrorIs(t, err, client.ErrPrivateAddress)
			}
			assert.NotContains(t, err.Error(), "s3cr3t")
			assert.Zero(t, buf.Len(), "nothing written")
			paths, _ := p.prec.seen()
			assert.Equal(t, tt.paths, paths, "what reached the platform")
			paths, _ = p.srec.seen()
			assert.Empty(t, paths, "nothing reached the internal service")
			for _, d := range dials()[before:] {
				assert.Equal(t, "example.com:443", d, "dialled nothing but the platform")
			}
		})
	}
}

// Case 1 of issue 14, by name: a public-looking host that resolves to the
// loopback address is refused where the connection is made.
func TestDownloadAttachmentChecksTheDialledAddress(t *testing.T) {
	p := newPrivateHosts(t)
	tr := p.platform.Client().Transport.(*http.Transport).Clone()
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		// DNS, as a hostile resolver (or a rebinding name) answers it.
		var d net.Dialer
		return d.DialContext(ctx, network, p.platform.Listener.Addr().String())
	}
	t.Cleanup(tr.CloseIdleConnections)
	c, err := client.New(client.WithHTTPClient(&http.Client{Transport: tr}), client.WithRetry(client.RetryPolicy{MaxAttempts: 1}))
	require.NoError(t, err)

	var buf bytes.Buffer
	err = c.DownloadAttachment(context.Background(), models.Attachment{ID: "att_1", URL: "https://files.example.com/files/ok?sig=s3cr3t"}, &buf)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "download att_1: ")
	assert.Contains(t, err.Error(), "files.example.com")
	assert.Contains(t, err.Error(), "files.example.com:443 resolved to 127.0.0.1: a non-public address")
	assert.ErrorIs(t, err, client.ErrPrivateAddress)
	assert.Contains(t, err.Error(), "WithPrivateNetworkDownloads")
	assert.NotContains(t, err.Error(), "s3cr3t")
	assert.Zero(t, buf.Len())
	paths, _ := p.prec.seen()
	assert.Empty(t, paths, "no request reached the loopback address")
}

// Case 2 of issue 14: the bytes written are exactly the attachment's, as the
// platform sent them, whatever the body claims or holds.
func TestDownloadAttachmentExactBytes(t *testing.T) {
	data := randomBytes(1000, 22)
	big := bytes.Repeat([]byte("A"), 1<<20)
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, _ = zw.Write(big)
	require.NoError(t, zw.Close())

	rec := &recorder{h: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		chunked := func(b []byte) {
			for len(b) > 0 {
				n := min(len(b), 64<<10)
				_, _ = w.Write(b[:n])
				w.(http.Flusher).Flush() // no Content-Length
				b = b[n:]
			}
		}
		switch r.URL.Path {
		case "/files/chunked-big":
			chunked(big)
		case "/files/chunked-short":
			chunked(data[:500])
		case "/files/chunked-exact":
			chunked(data)
		case "/files/gzip": // whatever the client asked for
			w.Header().Set("Content-Encoding", "gzip")
			w.Header().Set("Content-Length", strconv.Itoa(gz.Len()))
			_, _ = w.Write(gz.Bytes())
		case "/files/gzip-chunked":
			w.Header().Set("Content-Encoding", "gzip")
			chunked(gz.Bytes())
		default:
			http.NotFound(w, r)
		}
	})}
	srv := httptest.NewServer(rec)
	t.Cleanup(srv.Close)
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	c, err := client.New(client.WithBaseURL(srv.URL+"/api"), client.WithAPIKey("sk_live_0123456789abcdef0123456789abcdef"),
		client.WithHTTPClient(&http.Client{Transport: tr}), client.WithRetry(client.RetryPolicy{MaxAttempts: 1}))
	require.NoError(t, err)

	tests := []struct {
		name    string
		att     models.Attachment
		wantErr string
		written []byte
	}{
		{"chunked body past Size", models.Attachment{URL: "/files/chunked-big", Size: new(int64(100))},
			"the body holds more than the attachment's 100 bytes (100 bytes were written to w)", big[:100]},
		{"chunked body short of Size", models.Attachment{URL: "/files/chunked-short", Size: new(int64(len(data)))},
			"the body ended after 500 of the attachment's 1000 bytes (500 bytes were written to w)", data[:500]},
		{"chunked body of Size", models.Attachment{URL: "/files/chunked-exact", Size: new(int64(len(data))), SHA256: sha(data)},
			"", data},
		{"gzip with a Content-Length that is not Size", models.Attachment{URL: "/files/gzip", Size: new(int64(100))},
			"the response holds " + strconv.Itoa(gz.Len()) + " bytes; the attachment says 100", nil},
		{"gzip, chunked, past Size", models.Attachment{URL: "/files/gzip-chunked", Size: new(int64(100))},
			"the body holds more than the attachment's 100 bytes", gz.Bytes()[:100]},
		{"gzip is written as sent", models.Attachment{URL: "/files/gzip", Size: new(int64(gz.Len())), SHA256: sha(gz.Bytes())},
			"", gz.Bytes()},
		{"gzip without a Size is written as sent", models.Attachment{URL: "/files/gzip-chunked"},
			"", gz.Bytes()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec.reset()
			var buf bytes.Buffer
			tt.att.ID = "att_1"
			err := c.DownloadAttachment(context.Background(), tt.att, &buf)
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantErr)
				assert.ErrorIs(t, err, herrors.ErrInvalidResponse)
			} else {
				require.NoError(t, err)
			}
			if tt.att.Size != nil {
				assert.LessOrEqual(t, int64(buf.Len()), *tt.att.Size, "never a byte past Size")
			}
			assert.Equal(t, sha(tt.written), sha(buf.Bytes()), "the bytes written (%d of them)", buf.Len())
			paths, enc := rec.seen()
			assert.Equal(t, []string{tt.att.URL}, paths, "one request: a wrong length is not retried")
			assert.Equal(t, []string{"identity"}, enc, "the transport neither asks for gzip nor undoes it")
		})
	}
}

// Where the platform itself is on a private network, or the client says so,
// its attachments may be too.
func TestDownloadAttachmentPrivateNetworkAllowed(t *testing.T) {
	p := newPrivateHosts(t)
	loopTLS := p.platform.URL
	key := client.WithAPIKey("sk_live_0123456789abcdef0123456789abcdef")
	hc, _ := p.routed(t)
	dialled := p.platform.Client().Transport.(*http.Transport).Clone()
	dialled.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, p.platform.Listener.Addr().String())
	}
	t.Cleanup(dialled.CloseIdleConnections)

	tests := []struct {
		name  string
		opts  []client.Option
		url   string
		paths []string // what reached the platform
	}{
		{"public base with the option: a loopback URL",
			[]client.Option{client.WithBaseURL("https://example.com/api"), client.WithHTTPClient(hc), client.WithPrivateNetworkDownloads()},
			loopTLS + "/files/ok", []string{"/files/ok"}},
		{"public base with the option: a redirect to loopback",
			[]client.Option{client.WithBaseURL("https://example.com/api"), client.WithHTTPClient(hc), client.WithPrivateNetworkDownloads()},
			"/files/to?u=" + url.QueryEscape(loopTLS+"/files/ok"), []string{"/files/to", "/files/ok"}},
		{"public base with the option: a name that resolves to loopback",
			[]client.Option{client.WithHTTPClient(&http.Client{Transport: dialled}), client.WithPrivateNetworkDownloads()},
			"https://files.example.com/files/ok", []string{"/files/ok"}},
		{"base on loopback: another loopback URL",
			[]client.Option{client.WithBaseURL("https://localhost:1/api"), client.WithHTTPClient(p.platform.Client())},
			loopTLS + "/files/ok", []string{"/files/ok"}},
		{"base on loopback: a name that resolves to loopback",
			[]client.Option{client.WithBaseURL("https://127.0.0.1:1/api"), client.WithHTTPClient(&http.Client{Transport: dialled})},
			"https://files.example.com/files/ok", []string{"/files/ok"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p.prec.reset()
			c, err := client.New(append([]client.Option{key, client.WithRetry(client.RetryPolicy{MaxAttempts: 1})}, tt.opts...)...)
			require.NoError(t, err)
			var buf bytes.Buffer
			require.NoError(t, c.DownloadAttachment(context.Background(),
				models.Attachment{ID: "att_1", URL: tt.url, Size: new(int64(len(p.data))), SHA256: sha(p.data)}, &buf))
			assert.Equal(t, p.data, buf.Bytes())
			paths, enc := p.prec.seen()
			assert.Equal(t, tt.paths, paths)
			for _, e := range enc {
				assert.Equal(t, "identity", e)
			}
		})
	}
}
