package client_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/heepr/heepr-go/client"
	"github.com/heepr/heepr-go/models"
)

// hostileTransport answers every download request with what the fuzzer
// chose, as a network would deliver it, and records what it was asked.
type hostileTransport struct {
	status                int
	contentLength, coding string
	location              string
	body                  []byte

	mu   sync.Mutex
	reqs []*http.Request
}

func (h *hostileTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		r.Body.Close()
	}
	h.mu.Lock()
	first := len(h.reqs) == 0
	h.reqs = append(h.reqs, r)
	h.mu.Unlock()

	hdr := http.Header{}
	if h.status >= 400 {
		hdr.Set("Content-Type", "application/json")
	}
	if h.coding != "" {
		hdr.Set("Content-Encoding", h.coding)
	}
	// Only the first answer redirects, so a chain ends in the body.
	status := h.status
	if first && h.location != "" {
		hdr.Set("Location", h.location)
	} else if status >= 300 && status < 400 {
		status = http.StatusOK
	}
	// As net/http's transport reads a body: a Content-Length ends it there,
	// and a body shorter than that ends in io.ErrUnexpectedEOF.
	cl := int64(-1)
	var body io.Reader = bytes.NewReader(h.body)
	if n, err := strconv.ParseInt(h.contentLength, 10, 64); err == nil && n >= 0 {
		hdr.Set("Content-Length", h.contentLength)
		cl = n
		if n <= int64(len(h.body)) {
			body = bytes.NewReader(h.body[:n])
		} else {
			body = io.MultiReader(body, iotestErr{io.ErrUnexpectedEOF})
		}
	}
	return &http.Response{StatusCode: status, Header: hdr, ContentLength: cl, Body: io.NopCloser(body), Request: r}, nil
}

// leaks reports whether err shows the key, or the "s3cr3t" of a Location's
// query (or of a Location that is no URL at all), when neither the body (an
// error envelope's message is the server's to write) nor the part of the
// Location an error may show holds it.
func leaks(err error, body []byte, location string) bool {
	msg := strings.ToLower(err.Error())
	if strings.Contains(msg, "fuzzfuzzfuzz") {
		return true
	}
	const secret = "s3cr3t"
	if !strings.Contains(msg, secret) || bytes.Contains(bytes.ToLower(body), []byte(secret)) {
		return false
	}
	if u, perr := url.Parse(location); perr == nil {
		shown := strings.ToLower(u.Scheme + " " + u.Host + " " + u.Path + " " + u.EscapedPath() + " " + u.Opaque)
		if strings.Contains(shown, secret) {
			return false
		}
	}
	return true
}

type iotestErr struct{ err error }

func (e iotestErr) Read([]byte) (int, error) { return 0, e.err }

func shaHex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// FuzzDownload feeds DownloadAttachment whatever a hostile platform or file
// host can answer: any status, Content-Length, Content-Encoding, Location and
// body, against any stated size and hash. It must never panic or hang; never
// write more than the attachment's size, nor anything but a prefix of the body
// sent; return nil only with exactly Size bytes whose hash is SHA256; and
// never send a request that leaves the platform's public https world.
func FuzzDownload(f *testing.F) {
	hello := []byte("hello world")
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, _ = zw.Write(bytes.Repeat([]byte("A"), 100<<10))
	_ = zw.Close()
	envelope := []byte(`{"error":{"code":"internal_error","message":"boom","request_id":"req_1"}}`)

	// status, Content-Length, Content-Encoding, Location, body, Size, SHA256
	f.Add(200, "11", "", "", hello, int64(11), shaHex(hello))                                     // success
	f.Add(200, "", "", "", hello, int64(11), shaHex(hello))                                       // success, no Content-Length
	f.Add(200, "11", "", "", hello, int64(20), "")                                                // wrong size: Content-Length
	f.Add(200, "", "", "", hello, int64(5), "")                                                   // wrong size: a longer body
	f.Add(200, "", "", "", hello, int64(20), "")                                                  // wrong size: a shorter body
	f.Add(200, "20", "", "", hello, int64(20), "")                                                // cut short
	f.Add(200, strconv.Itoa(gz.Len()), "gzip", "", gz.Bytes(), int64(100<<10), "")                // gzip: inflated size stated
	f.Add(200, "", "gzip", "", gz.Bytes(), int64(0), shaHex(gz.Bytes()))                          // gzip, written as sent
	f.Add(302, "", "", "http://127.0.0.1:8080/admin/secrets", []byte("TOP SECRET"), int64(0), "") // redirect to loopback
	f.Add(302, "", "", "https://127.0.0.1/admin", []byte("TOP SECRET"), int64(0), "")
	f.Add(307, "", "", "https://169.254.169.254/latest/meta-data", []byte("creds"), int64(0), "")
	f.Add(301, "", "", "https://[::ffff:10.0.0.1]/x", []byte("x"), int64(0), "")
	f.Add(302, "", "", "https://cdn.example.com/a?sig=s3cr3t", hello, int64(11), shaHex(hello)) // signed redirect
	f.Add(302, "", "", "/files/other", hello, int64(11), "")
	f.Add(500, "", "", "", envelope, int64(0), "") // 500 error envelope
	f.Add(404, strconv.Itoa(len(envelope)), "", "", envelope, int64(11), shaHex(hello))
	f.Add(200, "11", "", "", hello, int64(11), shaHex([]byte("hello there"))) // hash mismatch
	f.Add(200, "11", "", "", hello, int64(11), strings.ToUpper(shaHex(hello)))
	f.Add(200, "-1", "br", "", []byte{}, int64(-1), "nothex")

	f.Fuzz(func(t *testing.T, status int, contentLength, coding, location string, body []byte, size int64, sum string) {
		// Any status a server can send: 200 to 599.
		if status < 200 || status > 599 {
			if status < 0 {
				status = -(status + 1)
			}
			status = 200 + status%400
		}
		tr := &hostileTransport{status: status, contentLength: contentLength, coding: coding, location: location, body: body}
		c, err := client.New(client.WithHTTPClient(&http.Client{Transport: tr}),
			client.WithAPIKey("sk_live_fuzzfuzzfuzz"), client.WithMaxDownloadBytes(1<<20),
			client.WithRetry(client.RetryPolicy{MaxAttempts: 2, BaseDelay: time.Microsecond, MaxDelay: time.Microsecond}))
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		var w bytes.Buffer
		att := models.Attachment{ID: "att_1", URL: "https://heepr.ai/files/att_1", SHA256: sum}
		if size >= 0 { // negative: the platform did not say (nil); 0 is an empty file
			att.Size = &size
		}
		err = c.DownloadAttachment(ctx, att, &w)
		if errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("hung: %v", err)
		}

		got := w.Bytes()
		if size >= 0 && int64(len(got)) > size {
			t.Fatalf("wrote %d bytes; the attachment has %d", len(got), size)
		}
		if !bytes.HasPrefix(body, got) {
			t.Fatalf("wrote %d bytes that are not a prefix of the %d bytes sent", len(got), len(body))
		}
		if err == nil {
			if size >= 0 && int64(len(got)) != size {
				t.Fatalf("nil error with %d bytes; the attachment has %d", len(got), size)
			}
			if sum != "" && !strings.EqualFold(shaHex(got), sum) {
				t.Fatalf("nil error with bytes whose sha256 is %s, not %s", shaHex(got), sum)
			}
		} else if leaks(err, body, location) {
			t.Fatalf("the error shows a signature or the key: %v", err)
		}

		tr.mu.Lock()
		defer tr.mu.Unlock()
		for _, r := range tr.reqs {
			if r.URL.Scheme != "https" {
				t.Fatalf("requested %s under an https base URL", r.URL.Redacted())
			}
			host := strings.TrimSuffix(strings.ToLower(r.URL.Hostname()), ".")
			if ip, err := netip.ParseAddr(host); (err == nil && !ip.Unmap().IsGlobalUnicast()) || ip.Unmap().IsPrivate() ||
				host == "localhost" || strings.HasSuffix(host, ".localhost") {
				t.Fatalf("requested %s: a non-public host", r.URL.Redacted())
			}
			if r.Header.Get("Accept-Encoding") != "identity" {
				t.Fatalf("Accept-Encoding %q", r.Header.Get("Accept-Encoding"))
			}
			if r.Header.Get("Authorization") != "" && host != "heepr.ai" {
				t.Fatalf("the key went to %s", r.URL.Redacted())
			}
		}
	})
}
