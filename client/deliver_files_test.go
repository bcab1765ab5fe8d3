package client_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/heepr/heepr-go/client"
	herrors "github.com/heepr/heepr-go/errors"
	"github.com/heepr/heepr-go/heeprtest"
	"github.com/heepr/heepr-go/models"
)

// randomBytes is n bytes that no sniffer takes for anything but binary.
func randomBytes(n int, seed uint64) []byte {
	r := rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8)})
	b := make([]byte, n)
	_, _ = r.Read(b)
	if n > 0 {
		b[0] = 0 // a NUL up front: binary to http.DetectContentType
	}
	return b
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func writeFile(t testing.TB, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
	require.NoError(t, os.WriteFile(p, data, 0o644))
	return p
}

// sent is one request as the client put it on the wire.
type sent struct {
	ContentLength int64
	Header        http.Header
	Body          []byte
	Err           error // the body's read error, if it failed
}

// tap reads each request body whole (test bodies are small) before the fake
// sees it, so a test can compare what every attempt sent byte for byte and
// against its Content-Length. onRead, when set, runs after each read of a
// body with the bytes read so far.
type tap struct {
	next   http.RoundTripper
	onRead func(n int)

	mu   sync.Mutex
	sent []sent
}

func newTap(srv *heeprtest.Server) *tap { return &tap{next: srv.HTTPClient().Transport} }

func (tp *tap) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body == nil || req.Body == http.NoBody {
		return tp.next.RoundTrip(req)
	}
	var body bytes.Buffer
	_, err := io.Copy(&body, &hookReader{r: req.Body, fn: tp.onRead})
	req.Body.Close()
	tp.mu.Lock()
	tp.sent = append(tp.sent, sent{ContentLength: req.ContentLength, Header: req.Header.Clone(), Body: body.Bytes(), Err: err})
	tp.mu.Unlock()
	if err != nil {
		return nil, err // as a transport does when the body fails
	}
	out := req.Clone(req.Context())
	out.Body = io.NopCloser(bytes.NewReader(body.Bytes()))
	return tp.next.RoundTrip(out)
}

func (tp *tap) requests() []sent {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	return append([]sent(nil), tp.sent...)
}

type hookReader struct {
	r  io.Reader
	n  int
	fn func(int)
}

func (h *hookReader) Read(p []byte) (int, error) {
	n, err := h.r.Read(p)
	h.n += n
	if h.fn != nil && n > 0 {
		h.fn(h.n)
	}
	return n, err
}

// tapped is registered with its transport wrapped in a tap.
func tapped(t testing.TB, opts ...client.Option) (*heeprtest.Server, heeprtest.Agent, *client.Client, *tap) {
	t.Helper()
	srv := heeprtest.NewServer()
	tp := newTap(srv)
	a := srv.AddAgent()
	c := newClient(t, srv, append([]client.Option{client.WithHTTPClient(&http.Client{Transport: tp})}, opts...)...)
	_, err := c.Register(context.Background(), a.BootstrapToken, a.ID)
	require.NoError(t, err)
	return srv, a, c, tp
}

// The sources a test can send, retryable or not.
type readerAtOnly struct{ b *bytes.Reader }

func (r readerAtOnly) Read(p []byte) (int, error)              { return r.b.Read(p) }
func (r readerAtOnly) ReadAt(p []byte, off int64) (int, error) { return r.b.ReadAt(p, off) }

type seekerOnly struct{ b *bytes.Reader }

func (r seekerOnly) Read(p []byte) (int, error)                { return r.b.Read(p) }
func (r seekerOnly) Seek(off int64, whence int) (int64, error) { return r.b.Seek(off, whence) }
func oneShot(b []byte) io.Reader                               { return struct{ io.Reader }{bytes.NewReader(b)} }
func deliverPath(order string) string                          { return "/api/orders/" + order + "/deliver" }
func fileSums(files []heeprtest.File) (out []string) {
	return mapSlice(files, func(f heeprtest.File) string { return f.SHA256 })
}
func mapSlice[T, U any](in []T, fn func(T) U) (out []U) {
	for _, v := range in {
		out = append(out, fn(v))
	}
	return out
}

func TestDeliverFiles(t *testing.T) {
	srv, a, c, tp := tapped(t)
	dir := t.TempDir()
	png := append([]byte("\x89PNG\r\n\x1a\n"), randomBytes(200<<10, 1)...) // spans several buffers
	pdf := []byte("%PDF-1.7\n" + strings.Repeat("x", 3000))
	csv := []byte("a,b\n1,2\n")
	bin := randomBytes(70<<10, 2)
	pngPath := writeFile(t, dir, "out/frames/video.png", png)

	type want struct {
		name, contentType string
		data              []byte
	}
	files := []client.File{
		client.FileFromPath(pngPath),        // extension
		client.FileFromBytes("report", pdf), // sniffed
		client.FileFromReader("data.txt", oneShot(csv), int64(len(csv))).WithContentType("text/csv; charset=utf-8"), // explicit wins over the extension
		client.FileFromReader("blob.unknownext", readerAtOnly{bytes.NewReader(bin)}, -1),                            // sniffed binary
		client.FileFromBytes("empty", nil),                      // nothing to sniff
		client.FileFromBytes(`vidéo "final".bin`, []byte("zz")), // quoted and non-ASCII
	}
	wants := []want{
		{"video.png", "image/png", png},
		{"report", "application/pdf", pdf},
		{"data.txt", "text/csv; charset=utf-8", csv},
		{"blob.unknownext", "application/octet-stream", bin},
		{"empty", "application/octet-stream", nil},
		{`vidéo "final".bin`, "application/octet-stream", []byte("zz")},
	}

	order := srv.PlaceOrder(a.ID, models.Order{})
	before := len(srv.Requests())
	r, err := c.Deliver(context.Background(), order, client.Delivery{Message: "done", Links: []string{"https://example.com/x"}, Files: files})
	require.NoError(t, err)

	ds := srv.Deliveries(order)
	require.Len(t, ds, 1)
	d := ds[0]
	assert.True(t, d.Multipart)
	assert.Equal(t, models.DeliveryPayload{Message: "done", Links: []string{"https://example.com/x"}}, d.Payload, "the payload part is the JSON body")
	require.Len(t, d.Files, len(wants))
	for i, w := range wants {
		got := d.Files[i]
		assert.Equal(t, w.name, got.Name, "only the base name on the wire")
		assert.Equal(t, w.contentType, got.ContentType, w.name)
		assert.EqualValues(t, len(w.data), got.Size, w.name)
		assert.Equal(t, sha(w.data), got.SHA256, "%s arrived byte-exact", w.name)
	}
	assert.Equal(t, fileSums(d.Files), mapSlice(r.Files, func(f models.DeliveredFile) string { return f.SHA256 }), "the receipt lists them")

	reqs := srv.Requests()[before:]
	require.Len(t, reqs, 1, "one request")
	assert.Regexp(t, `^multipart/form-data; boundary=[0-9a-f]{60}$`, reqs[0].Header.Get("Content-Type"))
	assert.NotEmpty(t, reqs[0].IdempotencyKey)

	wire := tp.requests()[1:] // after register
	require.Len(t, wire, 1)
	assert.NoError(t, wire[0].Err)
	assert.EqualValues(t, -1, wire[0].ContentLength, "a reader of unknown size: chunked")
	assert.NotContains(t, string(wire[0].Body), dir, "no local directory on the wire")
	assert.NotContains(t, string(wire[0].Body), "frames")
	noViolations(t, srv)

	// With every size known, Content-Length is exact.
	order2 := srv.PlaceOrder(a.ID, models.Order{})
	files[3] = client.FileFromReader("blob.unknownext", readerAtOnly{bytes.NewReader(bin)}, int64(len(bin)))
	files[2] = client.FileFromReader("data.txt", oneShot(csv), int64(len(csv))).WithContentType("text/csv; charset=utf-8")
	_, err = c.Deliver(context.Background(), order2, client.Delivery{Files: files})
	require.NoError(t, err)
	wire = tp.requests()
	last := wire[len(wire)-1]
	assert.EqualValues(t, len(last.Body), last.ContentLength, "Content-Length is the bytes sent")
	require.Len(t, srv.Deliveries(order2), 1)
	assert.Equal(t, fileSums(d.Files), fileSums(srv.Deliveries(order2)[0].Files))
	noViolations(t, srv)
}

// Over a real socket the platform receives the exact Content-Length the
// client computed, and net/http (which fails a body whose length disagrees)
// accepts it.
func TestDeliverContentLengthOnTheWire(t *testing.T) {
	srv := heeprtest.NewServer()
	t.Cleanup(srv.Close)
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	counter := &countingTransport{next: tr}
	c, err := client.New(client.WithBaseURL(srv.URL()), client.WithHTTPClient(&http.Client{Transport: counter}))
	require.NoError(t, err)
	a := srv.AddAgent()
	_, err = c.Register(context.Background(), a.BootstrapToken, a.ID)
	require.NoError(t, err)
	order := srv.PlaceOrder(a.ID, models.Order{})
	data := randomBytes(300<<10, 3)
	path := writeFile(t, t.TempDir(), "big.bin", data)

	_, err = c.Deliver(context.Background(), order, client.Delivery{Text: "x", Files: []client.File{
		client.FileFromPath(path), client.FileFromBytes("small.bin", data[:10]),
	}})
	require.NoError(t, err)
	got := lastRequest(t, srv)
	assert.Equal(t, deliverPath(order), got.Path)
	assert.Equal(t, strconv.FormatInt(counter.bodyBytes(), 10), got.Header.Get("Content-Length"), "Content-Length is the bytes read")
	require.Len(t, srv.Deliveries(order), 1)
	assert.Equal(t, []string{sha(data), sha(data[:10])}, fileSums(srv.Deliveries(order)[0].Files))
	noViolations(t, srv)
}

// countingTransport counts the bytes of the last request body read.
type countingTransport struct {
	next http.RoundTripper
	mu   sync.Mutex
	last *hookReader
}

func (ct *countingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil && req.Body != http.NoBody {
		h := &hookReader{r: req.Body}
		ct.mu.Lock()
		ct.last = h
		ct.mu.Unlock()
		req = req.Clone(req.Context())
		req.Body = struct {
			io.Reader
			io.Closer
		}{h, req.Body}
	}
	return ct.next.RoundTrip(req)
}

func (ct *countingTransport) bodyBytes() int64 {
	ct.mu.Lock()
	defer ct.mu.Unlock()
	return int64(ct.last.n)
}

// Each retryable source, after each fault that retries a write: one delivery,
// every file intact, the same key and the same bytes on both attempts.
func TestDeliverFilesRetried(t *testing.T) {
	data := randomBytes(150<<10, 4)
	sources := []struct {
		name string
		file func(t *testing.T) client.File
	}{
		{"path", func(t *testing.T) client.File { return client.FileFromPath(writeFile(t, t.TempDir(), "a.bin", data)) }},
		{"bytes", func(*testing.T) client.File { return client.FileFromBytes("a.bin", data) }},
		{"ReaderAt", func(*testing.T) client.File {
			return client.FileFromReader("a.bin", readerAtOnly{bytes.NewReader(data)}, int64(len(data)))
		}},
		{"ReaderAt of unknown size", func(*testing.T) client.File {
			return client.FileFromReader("a.bin", readerAtOnly{bytes.NewReader(data)}, -1)
		}},
		{"Seeker", func(*testing.T) client.File {
			r := bytes.NewReader(append([]byte("skipped"), data...))
			_, _ = r.Seek(7, io.SeekStart) // read from where it stands
			return client.FileFromReader("a.bin", seekerOnly{r}, -1)
		}},
	}
	faults := []heeprtest.Fault{
		{Kind: heeprtest.FaultStatus, Status: 503},
		{Kind: heeprtest.FaultDropAfterBody},
	}
	for _, src := range sources {
		for _, f := range faults {
			t.Run(src.name+"/"+f.Kind.String(), func(t *testing.T) {
				synctest.Test(t, func(t *testing.T) {
					srv, a, c, tp := tapped(t)
					order := srv.PlaceOrder(a.ID, models.Order{})
					f.Path = "/orders/{id}/deliver"
					srv.Inject(f)
					_, err := c.Deliver(context.Background(), order, client.Delivery{Text: "t", Files: []client.File{
						src.file(t), client.FileFromBytes("b.txt", []byte("second")),
					}})
					require.NoError(t, err)

					ds := srv.Deliveries(order)
					require.Len(t, ds, 1, "landed once")
					assert.Equal(t, []string{sha(data), sha([]byte("second"))}, fileSums(ds[0].Files), "every file intact")
					attempts := requestsTo(srv, deliverPath(order))
					require.Len(t, attempts, 2)
					assert.Equal(t, attempts[0].IdempotencyKey, attempts[1].IdempotencyKey)
					wire := tp.requests()[1:] // after register
					require.Len(t, wire, 2)
					assert.Equal(t, wire[0].Body, wire[1].Body, "the same bytes on both attempts")
					assert.Equal(t, wire[0].Header.Get("Content-Type"), wire[1].Header.Get("Content-Type"), "the same boundary")
					if wire[0].ContentLength >= 0 {
						assert.EqualValues(t, len(wire[0].Body), wire[0].ContentLength)
					}
					noViolations(t, srv)
				})
			})
		}
	}
}

func TestDeliverOneShotReaderNotRetried(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv, a, c := registered(t)
		order := srv.PlaceOrder(a.ID, models.Order{})
		srv.Inject(heeprtest.Fault{Kind: heeprtest.FaultStatus, Status: 503, Path: "/orders/{id}/deliver"})
		data := randomBytes(1000, 5)
		_, err := c.Deliver(context.Background(), order, client.Delivery{Files: []client.File{
			client.FileFromBytes("fine.bin", data),
			client.FileFromReader("stream.bin", oneShot(data), -1),
		}})
		require.Error(t, err)
		assert.ErrorIs(t, err, herrors.ErrUnavailable)
		assert.Contains(t, err.Error(), `not retried: file "stream.bin" is a one-shot reader`)
		assert.Len(t, requestsTo(srv, deliverPath(order)), 1, "sent once")
		assert.Empty(t, srv.Deliveries(order))
		noViolations(t, srv)
	})
}

// Every refusal happens before any request, and names the file and the reason.
func TestDeliverFilesRefused(t *testing.T) {
	srv, a, c := registered(t, client.WithMaxFileBytes(10))
	dir := t.TempDir()
	secretDir := filepath.Join(dir, "private-project")
	eleven := writeFile(t, secretDir, "eleven.bin", make([]byte, 11))
	ok := client.FileFromBytes("ok.txt", []byte("fine"))
	unreadable := writeFile(t, secretDir, "locked.bin", []byte("x"))
	require.NoError(t, os.Chmod(unreadable, 0))

	tests := []struct {
		name    string
		file    client.File
		wantErr string
		is      error
	}{
		{"zero File", client.File{}, "file 2: an empty File", nil},
		{"empty path", client.FileFromPath(""), "file 2: empty path", nil},
		{"missing file", client.FileFromPath(filepath.Join(secretDir, "gone.mp4")), `file "gone.mp4": open: no such file or directory`, fs.ErrNotExist},
		{"directory", client.FileFromPath(secretDir), `file "private-project": not a regular file`, nil},
		{"path over the limit", client.FileFromPath(eleven), `file "eleven.bin": 11 bytes is over the 10 bytes limit (WithMaxFileBytes)`, client.ErrTooLarge},
		{"bytes over the limit", client.FileFromBytes("b.bin", make([]byte, 11)), `file "b.bin": 11 bytes is over`, client.ErrTooLarge},
		{"reader over the limit", client.FileFromReader("r.bin", oneShot(nil), 11), `file "r.bin": 11 bytes is over`, client.ErrTooLarge},
		{"Seeker over the limit", client.FileFromReader("s.bin", bytes.NewReader(make([]byte, 11)), -1), `file "s.bin": 11 bytes is over`, client.ErrTooLarge},
		{"slash in name", client.FileFromBytes("a/b.txt", nil), `file 2: name "a/b.txt" holds a path separator`, nil},
		{"backslash in name", client.FileFromBytes(`..\b.txt`, nil), `file 2: name "..\\b.txt" holds a path separator`, nil},
		{"dot", client.FileFromBytes(".", nil), `file 2: name "." is not a file name`, nil},
		{"dot dot", client.FileFromBytes("..", nil), `file 2: name ".." is not a file name`, nil},
		{"empty name", client.FileFromBytes("", nil), "file 2: empty name", nil},
		{"NUL in name", client.FileFromBytes("a\x00b", nil), `file 2: name "a\x00b" holds a control character`, nil},
		{"newline in name", client.FileFromBytes("a\r\nX-Evil: 1", nil), `file 2: name "a\r\nX-Evil: 1" holds a control character`, nil},
		{"not UTF-8", client.FileFromBytes("a\xffb", nil), `file 2: name "a\xffb" is not valid UTF-8`, nil},
		{"long name", client.FileFromBytes(strings.Repeat("n", 256), nil), "file 2: name of 256 bytes: the most is 255", nil},
		{"renamed path", client.FileFromPath(eleven).WithName("../x"), `file 2: name "../x" holds a path separator`, nil},
		{"bad content type", client.FileFromBytes("a.txt", nil).WithContentType("text/plain\r\nX-Evil: 1"), `file "a.txt": content type`, nil},
		{"nil reader", client.FileFromReader("r.bin", nil, 1), `file "r.bin": nil reader`, nil},
		{"bad size", client.FileFromReader("r.bin", oneShot(nil), -2), `file "r.bin": size -2`, nil},
	}
	if os.Geteuid() != 0 { // root reads anything
		tests = append(tests, struct {
			name    string
			file    client.File
			wantErr string
			is      error
		}{"unreadable", client.FileFromPath(unreadable), `file "locked.bin": open: permission denied`, fs.ErrPermission})
	}
	order := srv.PlaceOrder(a.ID, models.Order{})
	before := len(srv.Requests())
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.Deliver(context.Background(), order, client.Delivery{Text: "x", Files: []client.File{ok, tt.file}})
			require.Error(t, err)
			assert.Contains(t, err.Error(), "deliver "+order+": "+tt.wantErr)
			assert.NotContains(t, err.Error(), secretDir, "no directory in an error")
			if tt.is != nil {
				assert.ErrorIs(t, err, tt.is)
			}
		})
	}
	assert.Len(t, srv.Requests(), before, "no request made")
	assert.Empty(t, srv.Deliveries(order))

	// The brief's own example, on a sparse file that costs no disk.
	f, err := os.Create(filepath.Join(secretDir, "video.mp4"))
	require.NoError(t, err)
	require.NoError(t, f.Truncate(315*(1<<30)/100))
	require.NoError(t, f.Close())
	big, err := client.New(client.WithHTTPClient(srv.HTTPClient()), client.WithAPIKey(c.APIKey()))
	require.NoError(t, err)
	_, err = big.Deliver(context.Background(), "ord_1", client.Delivery{Files: []client.File{client.FileFromPath(f.Name())}})
	assert.EqualError(t, err, `deliver ord_1: file "video.mp4": 3.1 GiB is over the 2 GiB limit (WithMaxFileBytes)`)
	assert.Len(t, srv.Requests(), before)

	_, err = client.New(client.WithMaxFileBytes(0))
	assert.ErrorContains(t, err, "WithMaxFileBytes")
}

// A source that does not hold what it promised fails the attempt with a clear
// error, is not retried, and never sends a body that disagrees with its
// Content-Length.
func TestDeliverSourceChanges(t *testing.T) {
	data := randomBytes(1<<20, 6) // several buffers: the change lands mid-file
	tests := []struct {
		name    string
		file    func(path string) client.File
		mutate  func(t *testing.T, path string) // run after the first bytes of the body are read
		limit   int64
		wantErr string
		is      error
	}{
		{
			name: "path shrinks while sent", file: client.FileFromPath,
			mutate:  func(t *testing.T, p string) { require.NoError(t, os.Truncate(p, 1000)) },
			wantErr: `file "f.bin": changed while it was sent: it ended after`,
		},
		{
			name: "path grows while sent", file: client.FileFromPath,
			mutate: func(t *testing.T, p string) {
				f, err := os.OpenFile(p, os.O_APPEND|os.O_WRONLY, 0)
				require.NoError(t, err)
				_, _ = f.Write([]byte("more"))
				require.NoError(t, f.Close())
			},
			wantErr: `file "f.bin": changed while it was sent: it grew past the 1048576 bytes it had`,
		},
		{
			name: "reader shorter than its size",
			file: func(string) client.File {
				return client.FileFromReader("f.bin", oneShot(data[:5000]), int64(len(data)))
			},
			wantErr: `file "f.bin": the reader ended after 5000 of the 1048576 bytes its size says`,
		},
		{
			name: "reader longer than its size",
			file: func(string) client.File {
				return client.FileFromReader("f.bin", oneShot(data), 5000)
			},
			wantErr: `file "f.bin": the reader holds more than the 5000 bytes its size says`,
		},
		{
			name: "reader of unknown size over the limit", limit: 5000,
			file: func(string) client.File {
				return client.FileFromReader("f.bin", oneShot(data), -1)
			},
			wantErr: `file "f.bin": more than the 4.8 KiB limit (WithMaxFileBytes)`, is: client.ErrTooLarge,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var opts []client.Option
			if tt.limit > 0 {
				opts = append(opts, client.WithMaxFileBytes(tt.limit))
			}
			srv, a, c, tp := tapped(t, opts...)
			path := writeFile(t, t.TempDir(), "f.bin", data)
			var once sync.Once
			if tt.mutate != nil {
				tp.onRead = func(n int) {
					if n > 100<<10 { // well into the file
						once.Do(func() { tt.mutate(t, path) })
					}
				}
			}
			order := srv.PlaceOrder(a.ID, models.Order{})
			_, err := c.Deliver(context.Background(), order, client.Delivery{Files: []client.File{
				client.FileFromBytes("first.txt", []byte("ok")), tt.file(path),
			}})
			require.Error(t, err)
			assert.Contains(t, err.Error(), "deliver "+order+": "+tt.wantErr)
			if tt.is != nil {
				assert.ErrorIs(t, err, tt.is)
			}
			wire := tp.requests()[1:]
			require.Len(t, wire, 1, "one attempt: a file that failed is not retried")
			assert.Error(t, wire[0].Err, "the body failed rather than end cleanly")
			assert.NotContains(t, string(wire[0].Body), "--\r\n", "the body was never closed off")
			if tt.limit > 0 {
				assert.LessOrEqual(t, len(wire[0].Body)-bytes.Index(wire[0].Body, data[:64]), int(tt.limit), "not a byte past the limit")
			}
			assert.Empty(t, srv.Deliveries(order))
		})
	}

	t.Run("path changes between the check and the send", func(t *testing.T) {
		srv, a, c, tp := tapped(t)
		path := writeFile(t, t.TempDir(), "f.bin", data)
		order := srv.PlaceOrder(a.ID, models.Order{})
		// The check happens in Deliver; the tap's first read comes after it.
		var once sync.Once
		tp.onRead = func(int) { once.Do(func() { require.NoError(t, os.Truncate(path, 10)) }) }
		_, err := c.Deliver(context.Background(), order, client.Delivery{Files: []client.File{
			client.FileFromBytes("first.txt", bytes.Repeat([]byte("x"), 200<<10)), client.FileFromPath(path),
		}})
		require.Error(t, err)
		assert.Contains(t, err.Error(), `file "f.bin": changed size since Deliver checked it: 1048576 bytes then, 10 now`)
		assert.Empty(t, srv.Deliveries(order))
	})
}

// Progress is reported at a bounded rate while the body is sent, and once at
// the end with the exact total.
func TestDeliverProgress(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv, a, c, tp := tapped(t)
		order := srv.PlaceOrder(a.ID, models.Order{})
		data := randomBytes(200<<10, 7)
		type report struct {
			sent, total int64
			at          time.Time
		}
		var reports []report
		slow := &slowReader{r: bytes.NewReader(data), delay: 20 * time.Millisecond, chunk: 4 << 10} // 50 chunks: 1 s
		_, err := c.Deliver(context.Background(), order, client.Delivery{Files: []client.File{
			client.FileFromReader("slow.bin", slow, int64(len(data))),
		}}, client.WithProgress(func(s, total int64) { reports = append(reports, report{s, total, time.Now()}) }))
		require.NoError(t, err)

		wire := tp.requests()
		total := wire[len(wire)-1].ContentLength
		require.NotEmpty(t, reports)
		assert.Equal(t, total, reports[len(reports)-1].sent, "ends with every byte of the body")
		assert.Greater(t, len(reports), 3, "reported while it ran")
		assert.LessOrEqual(t, len(reports), 12, "at most every 100 ms, not per chunk")
		for i, r := range reports {
			assert.Equal(t, total, r.total)
			if i > 0 && i < len(reports)-1 {
				assert.GreaterOrEqual(t, r.at.Sub(reports[i-1].at), 100*time.Millisecond)
			}
		}
		require.Len(t, srv.Deliveries(order), 1)
	})
}

type slowReader struct {
	r     io.Reader
	delay time.Duration
	chunk int
}

func (s *slowReader) Read(p []byte) (int, error) {
	time.Sleep(s.delay)
	return s.r.Read(p[:min(len(p), s.chunk)])
}

// Cancelling the context mid-upload returns at once with context.Canceled;
// the writer goroutine ends with the call (goleak checks in TestMain).
func TestDeliverCancelledMidUpload(t *testing.T) {
	srv, a, c, tp := tapped(t)
	order := srv.PlaceOrder(a.ID, models.Order{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	tp.onRead = func(n int) {
		if n > 100<<10 {
			cancel()
		}
	}
	_, err := c.Deliver(ctx, order, client.Delivery{Files: []client.File{
		client.FileFromReader("zeros.bin", readerAtOnly{bytes.NewReader(make([]byte, 4<<20))}, 4<<20),
	}})
	assert.ErrorIs(t, err, context.Canceled)
	assert.Empty(t, srv.Deliveries(order))
}

func TestFileAccessors(t *testing.T) {
	assert.Equal(t, "video.mp4", client.FileFromPath("/home/me/out/video.mp4").Name())
	assert.Equal(t, "x.bin", client.FileFromPath("/a/b").WithName("x.bin").Name())
	assert.Equal(t, "", client.File{}.Name())
	f := client.FileFromBytes("a", nil)
	_ = f.WithContentType("text/plain")
	assert.Equal(t, "a", f.Name(), "With… return a copy")
	assert.False(t, errors.Is(client.ErrTooLarge, herrors.ErrInvalidRequest))
}

// Over a real socket net/http reports a failed body inside a *net.OpError,
// which looks like a dropped connection; the file's failure still wins, and
// the delivery is not retried, though its source could be read again.
func TestDeliverFailedFileNotRetriedOverTheWire(t *testing.T) {
	srv := heeprtest.NewServer()
	t.Cleanup(srv.Close)
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	c, err := client.New(client.WithBaseURL(srv.URL()), client.WithHTTPClient(&http.Client{Transport: tr}))
	require.NoError(t, err)
	a := srv.AddAgent()
	_, err = c.Register(context.Background(), a.BootstrapToken, a.ID)
	require.NoError(t, err)
	order := srv.PlaceOrder(a.ID, models.Order{})
	data := randomBytes(200<<10, 8)

	// A retryable source that holds fewer bytes than it claims.
	_, err = c.Deliver(context.Background(), order, client.Delivery{Files: []client.File{
		client.FileFromReader("short.bin", readerAtOnly{bytes.NewReader(data)}, int64(len(data))+10),
	}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), `deliver `+order+`: file "short.bin": the reader ended after 204800 of the 204810 bytes its size says`)
	assert.LessOrEqual(t, len(requestsTo(srv, deliverPath(order))), 1, "not retried")
	assert.Empty(t, srv.Deliveries(order))
}
