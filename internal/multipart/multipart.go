package multipart

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/heepr/heepr-go/internal/stream"
)

// Part is one part of a form.
type Part struct {
	// Name is the form field, as in Content-Disposition's name.
	Name string
	// FileName, when set, is sent as Content-Disposition's filename.
	FileName string
	// ContentType, when set, is sent as the part's Content-Type.
	ContentType string
	// Size is the exact number of bytes Open's reader holds, or -1 when it is
	// not known. A reader that holds fewer or more fails the body.
	Size int64
	// Limit caps a part of unknown Size: a reader that holds more fails the
	// body before the excess is sent. 0 means no cap.
	Limit int64
	// Open returns the part's content from its start. It is called once per
	// body, as the body reaches the part; an io.Closer it returns is closed
	// when the part is written or the body fails.
	Open func() (io.Reader, error)
}

// PartError is the failure of a part's source while a body was written: it
// could not be opened or read, or it held a different number of bytes than
// its Size (a *stream.LengthError). The same source fails the same way when
// asked again, so a retrying caller should not retry it: Permanent says so.
type PartError struct {
	// Index is the part's place in the form, from 0.
	Index int
	Err   error
}

func (e *PartError) Error() string { return fmt.Sprintf("part %d: %v", e.Index, e.Err) }

// Unwrap returns the source's error.
func (e *PartError) Unwrap() error { return e.Err }

// Permanent reports true: a source that failed once is not retried.
func (e *PartError) Permanent() bool { return true }

// Form is a multipart/form-data body of fixed parts and boundary. It is safe
// for concurrent use; each Body it makes is one request's.
type Form struct {
	boundary string
	parts    []Part
	heads    [][]byte // each part's delimiter and header lines
	tail     []byte   // the close delimiter
	length   int64    // -1 when a part's size is unknown
}

// NewBoundary returns a random boundary of 60 hex digits: one that no file
// realistically contains, and that RFC 2046 allows.
func NewBoundary() string {
	var b [30]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return hex.EncodeToString(b[:])
}

// NewForm returns the form of parts, delimited by boundary. It fails on a
// boundary RFC 2046 does not allow, on no parts, and on a part without a name
// or an Open, with a size below -1, or with a header value holding a control
// character (which would let a value write headers of its own).
func NewForm(boundary string, parts []Part) (*Form, error) {
	if err := checkBoundary(boundary); err != nil {
		return nil, err
	}
	if len(parts) == 0 {
		return nil, errors.New("multipart: no parts")
	}
	f := &Form{boundary: boundary, parts: parts, tail: []byte("\r\n--" + boundary + "--\r\n")}
	f.length = int64(len(f.tail))
	for i, p := range parts {
		switch {
		case p.Name == "":
			return nil, fmt.Errorf("multipart: part %d has no name", i)
		case p.Open == nil:
			return nil, fmt.Errorf("multipart: part %d has no Open", i)
		case p.Size < -1:
			return nil, fmt.Errorf("multipart: part %d has size %d", i, p.Size)
		}
		for _, v := range []string{p.Name, p.FileName, p.ContentType} {
			if strings.ContainsFunc(v, isControl) {
				return nil, fmt.Errorf("multipart: part %d: header value %q holds a control character", i, v)
			}
		}
		var h bytes.Buffer
		if i > 0 {
			h.WriteString("\r\n")
		}
		h.WriteString("--" + boundary + "\r\n")
		h.WriteString(`Content-Disposition: form-data; name="` + escapeQuotes(p.Name) + `"`)
		if p.FileName != "" {
			h.WriteString(`; filename="` + escapeQuotes(p.FileName) + `"`)
		}
		h.WriteString("\r\n")
		if p.ContentType != "" {
			h.WriteString("Content-Type: " + p.ContentType + "\r\n")
		}
		h.WriteString("\r\n")
		f.heads = append(f.heads, h.Bytes())
		if f.length >= 0 {
			f.length += int64(h.Len())
			if p.Size < 0 {
				f.length = -1
			} else {
				f.length += p.Size
			}
		}
	}
	return f, nil
}

func checkBoundary(b string) error {
	if len(b) < 1 || len(b) > 70 {
		return fmt.Errorf("multipart: boundary of %d characters: want 1 to 70", len(b))
	}
	for i, c := range b {
		switch {
		case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9':
		case strings.ContainsRune("'()+_,-./:=?", c):
		case c == ' ' && i != len(b)-1:
		default:
			return fmt.Errorf("multipart: boundary holds %q, which RFC 2046 does not allow", c)
		}
	}
	return nil
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

// escapeQuotes escapes a quoted header parameter as mime/multipart does.
func escapeQuotes(s string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s)
}

// ContentType is the Content-Type of the form's body, with its boundary.
func (f *Form) ContentType() string { return "multipart/form-data; boundary=" + f.boundary }

// Len is the exact length of the body in bytes, or -1 when a part's size is
// unknown.
func (f *Form) Len() int64 { return f.length }

// write writes the whole body to w. A failure of a part's source is a
// *PartError; a failure of w a *stream.WriteError; ctx's end ctx.Err().
func (f *Form) write(ctx context.Context, w io.Writer, buf []byte, m *stream.Meter) error {
	for i := range f.parts {
		if err := writeFrame(w, f.heads[i], m); err != nil {
			return err
		}
		if err := f.writePart(ctx, w, i, buf, m); err != nil {
			return err
		}
	}
	return writeFrame(w, f.tail, m)
}

func writeFrame(w io.Writer, b []byte, m *stream.Meter) error {
	n, err := w.Write(b)
	m.Add(int64(n))
	if err != nil {
		return &stream.WriteError{Err: err}
	}
	return nil
}

func (f *Form) writePart(ctx context.Context, w io.Writer, i int, buf []byte, m *stream.Meter) error {
	p := f.parts[i]
	r, err := p.Open()
	if err != nil {
		return &PartError{Index: i, Err: err}
	}
	if c, ok := r.(io.Closer); ok {
		defer c.Close()
	}
	_, err = stream.Copy(ctx, w, r, p.Size, p.Limit, buf, m)
	if err == nil {
		return nil
	}
	if _, ok := errors.AsType[*stream.WriteError](err); ok {
		return err
	}
	if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
		return err
	}
	return &PartError{Index: i, Err: err}
}

// Body is one request's copy of a form's body: an io.ReadCloser whose bytes a
// goroutine writes through a pipe as they are read. The goroutine starts on
// the first Read (a body that is never read costs nothing) and ends when the
// body is written in full, when Close is called, when a part fails or when
// the context is done. Wait waits for it.
type Body struct {
	form     *Form
	ctx      context.Context
	progress func(sent, total int64)
	pr       *io.PipeReader
	pw       *io.PipeWriter
	done     chan struct{}

	mu      sync.Mutex
	started bool
	closed  bool
	err     error // the part's failure, if any; written before done closes
}

// Body returns a new body of the form. Its bytes are the same on every call.
// progress, when not nil, is called from the writing goroutine with the bytes
// of this body read so far and the form's Len: at most once per
// stream.ReportEvery, and once when the body is written in full.
func (f *Form) Body(ctx context.Context, progress func(sent, total int64)) *Body {
	pr, pw := io.Pipe()
	return &Body{form: f, ctx: ctx, progress: progress, pr: pr, pw: pw, done: make(chan struct{})}
}

// Read reads the body, starting its writer on the first call.
func (b *Body) Read(p []byte) (int, error) {
	b.mu.Lock()
	if !b.started && !b.closed {
		b.started = true
		go b.write()
	}
	b.mu.Unlock()
	return b.pr.Read(p)
}

func (b *Body) write() {
	defer close(b.done)
	m := stream.NewMeter(b.progress, b.form.length)
	// One buffer per body: the file passes through it, never more of it.
	buf := make([]byte, stream.BufferSize)
	err := b.form.write(b.ctx, b.pw, buf, m)
	if err == nil {
		m.Done()
	}
	if pe, ok := errors.AsType[*PartError](err); ok {
		b.err = pe
	}
	// nil closes the pipe cleanly: the reader sees io.EOF. Otherwise the reader
	// (the HTTP transport) sees the error and aborts the request.
	_ = b.pw.CloseWithError(err)
}

// Close ends the body: a Read after it fails, and the writer stops at its next
// write. It does not wait for the writer; Wait does.
func (b *Body) Close() error {
	b.mu.Lock()
	b.closed = true
	b.mu.Unlock()
	return b.pr.Close()
}

// Wait closes the body, waits for its writer to end, and returns the
// *PartError that ended it, if a part's source failed. It returns nil for a
// body written in full, closed early, or never read.
func (b *Body) Wait() error {
	_ = b.Close()
	b.mu.Lock()
	started := b.started
	b.mu.Unlock()
	if started {
		<-b.done
	}
	return b.err
}
