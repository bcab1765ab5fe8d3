package heeprtest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"syscall"
)

// memoryTransport serves requests by calling the fake's handler in memory, for
// any host. No socket is opened, so a goroutine waiting on it is durably
// blocked in the sense of testing/synctest and fake time can advance.
type memoryTransport struct{ s *Server }

// errConnReset is what a client on a real network sees when the server drops
// the connection before answering.
func errConnReset() error {
	return &net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", syscall.ECONNRESET)}
}

func (t *memoryTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	body := req.Body
	if body == nil {
		body = http.NoBody
	}
	// Like net/http's transport, close the request body once the exchange is
	// over, whether or not the handler read it: a streaming client's writer
	// must not wait forever.
	defer body.Close()

	if req.URL == nil || req.URL.Host == "" {
		return nil, errors.New("heeprtest: request URL has no host")
	}
	sr := req.Clone(req.Context())
	sr.Body = body
	// The client's GetBody would make kin-openapi produce the body a second time.
	sr.GetBody = nil
	sr.RequestURI = req.URL.RequestURI()
	sr.RemoteAddr = "192.0.2.1:1234"
	sr.Host = req.URL.Host
	sr.Proto, sr.ProtoMajor, sr.ProtoMinor = "HTTP/1.1", 1, 1
	if sr.ContentLength == 0 && body != http.NoBody {
		sr.ContentLength = -1
	}

	w := &memoryWriter{header: http.Header{}}
	done := make(chan struct{})
	go func() {
		defer close(done)
		t.s.handler.ServeHTTP(w, sr)
	}()
	select {
	case <-done:
	case <-req.Context().Done():
		// The handler sees the same context and returns soon (closing the body
		// ends a read of it); wait for it, so no goroutine outlives the exchange.
		body.Close()
		<-done
		return nil, req.Context().Err()
	}

	if w.dropped {
		if w.handled {
			return nil, io.ErrUnexpectedEOF
		}
		return nil, errConnReset()
	}
	if w.code == 0 {
		w.code = http.StatusOK
	}
	res := &http.Response{
		Status:     fmt.Sprintf("%d %s", w.code, http.StatusText(w.code)),
		StatusCode: w.code,
		Proto:      "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header:  w.header.Clone(),
		Request: req,
	}
	data := w.body.Bytes()
	res.ContentLength = int64(len(data))
	if cl, err := strconv.ParseInt(res.Header.Get("Content-Length"), 10, 64); err == nil {
		res.ContentLength = cl
	}
	var r io.Reader = bytes.NewReader(data)
	if w.truncated {
		r = io.MultiReader(r, errReader{io.ErrUnexpectedEOF})
	}
	if req.Method == http.MethodHead {
		r = bytes.NewReader(nil)
	}
	res.Body = io.NopCloser(r)
	return res, nil
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// memoryWriter is the http.ResponseWriter of an in-memory exchange.
type memoryWriter struct {
	header    http.Header
	code      int
	body      bytes.Buffer
	dropped   bool // the connection was dropped
	handled   bool // … after the request was handled
	truncated bool // the body ends early
}

func (w *memoryWriter) Header() http.Header { return w.header }

func (w *memoryWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
}

func (w *memoryWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return w.body.Write(b)
}

func (w *memoryWriter) Flush() {}

func (w *memoryWriter) drop(handled bool) { w.dropped, w.handled = true, handled }

func (w *memoryWriter) truncate() { w.truncated = true }
