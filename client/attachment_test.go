package client_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
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
	ev, err := events[0].AsNewOrderEvent()
	require.NoError(t, err)
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
			edit:    func(att *models.Attachment) { att.Size = 0 },
			wantErr: "over the 3.9 KiB limit", is: client.ErrTooLarge, requests: 1},
		{name: "size disagrees with Content-Length", edit: func(att *models.Attachment) { att.Size = 10 },
			wantErr: "the response holds 5000 bytes; the attachment says 10", requests: 1},
		{name: "not found", edit: func(att *models.Attachment) { att.URL = "/files/att_404" },
			wantErr: "404", is: herrors.ErrNotFound, requests: 1},
		{name: "plain http off loopback", edit: func(att *models.Attachment) { att.URL = "http://files.example.com/a.bin?sig=s3cr3t" },
			wantErr: "URL http://files.example.com/a.bin: plain http to a host that is not loopback"},
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
		srv, _, c := registered(t, client.WithInsecureHTTP())
		att := srv.AddFile("a.bin", "", data)
		att.URL = "http://files.example.com" + att.URL
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
		case "/files/to-http":
			http.Redirect(w, r, "http://files.example.com/a.bin", http.StatusFound)
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
		client.WithHTTPClient(&http.Client{Transport: tr}), client.WithRetry(client.NoRetry()))
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
		{"redirect to plain http off loopback", "/files/to-http",
			map[string][]string{"/files/to-http": {bearer}}, "refused a redirect to plain http http://files.example.com/a.bin"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h.mu.Lock()
			clear(h.auth)
			h.mu.Unlock()
			var buf bytes.Buffer
			err := c.DownloadAttachment(context.Background(), models.Attachment{ID: "att_1", URL: tt.url, Size: int64(len(data))}, &buf)
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
