package client

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/heepr/heepr-go/internal/multipart"
	"github.com/heepr/heepr-go/internal/stream"
)

// ErrTooLarge is wrapped by the error of anything over one of the client's
// size limits: a delivery's file over WithMaxFileBytes, an attachment over
// WithMaxDownloadBytes, a poll's event over WithMaxEventBytes.
var ErrTooLarge = errors.New("heepr: over the size limit")

// maxNameBytes is the longest file name Deliver sends: the common file system
// limit, so a name that came from a file always fits.
const maxNameBytes = 255

// sniffLen is how much http.DetectContentType looks at.
const sniffLen = 512

type fileKind uint8

const (
	kindNone fileKind = iota // the zero File
	kindPath
	kindBytes
	kindReader
)

// File is one file of a Delivery: where its bytes come from, the name it is
// sent under and its media type. Make one with FileFromPath, FileFromReader or
// FileFromBytes; WithName and WithContentType return a changed copy.
//
// The zero File is invalid, and harmless: Deliver refuses it, before any
// request, with an error that names its place in Delivery.Files.
type File struct {
	kind        fileKind
	name        string
	path        string
	data        []byte
	r           io.Reader
	size        int64
	contentType string
}

// FileFromPath is the file at path, sent under its base name only:
// FileFromPath("/home/me/out/video.mp4") sends "video.mp4", and no part of the
// directory reaches the platform or an error.
//
// Deliver opens and stats the file before any request, refusing one that is
// missing, unreadable, not a regular file or over WithMaxFileBytes. It reopens
// the file for each attempt, so a delivery of paths is retried like any write,
// and sends exactly the size it found: a file whose size changes before or
// while it is sent fails the attempt, rather than send a body that is
// truncated or disagrees with its Content-Length.
func FileFromPath(path string) File {
	name := ""
	if path != "" {
		name = filepath.Base(path)
	}
	return File{kind: kindPath, name: name, path: path, size: -1}
}

// FileFromReader is the bytes r holds, sent under name. size is how many
// bytes r holds, or -1 when that is not known.
//
// r is read from its current position. When r is an io.Seeker (one whose Seek
// works, so not a pipe), Deliver seeks back to that position for each attempt,
// and learns an unknown size by seeking to the end; an io.ReaderAt that is not
// a Seeker is read from offset 0 on each attempt. Both are retried like any
// write. Any other reader is one-shot: it is read once, and a delivery holding
// one is sent once and never retried, whatever fails (its error says so).
//
// With a known size, the request carries an exact Content-Length, and a reader
// that holds fewer or more bytes fails the attempt. With an unknown size the
// body is sent chunked, and a reader that turns out larger than
// WithMaxFileBytes fails the attempt before a byte past the limit is sent.
//
// Deliver may read r's first 512 bytes before the request, to sniff its media
// type (see WithContentType); those bytes are still sent. It never closes r.
// Nothing else may read r until Deliver returns.
func FileFromReader(name string, r io.Reader, size int64) File {
	return File{kind: kindReader, name: name, r: r, size: size}
}

// FileFromBytes is b, sent under name. Deliver does not copy b: leave it
// unchanged until Deliver returns. A delivery of bytes is retried like any
// write.
func FileFromBytes(name string, b []byte) File {
	return File{kind: kindBytes, name: name, data: b, size: int64(len(b))}
}

// WithName returns f sent under name instead: for a path, a name other than
// its base name. A name must be a base name: not empty, not "." or "..",
// without a path separator (/ or \) or a control character, valid UTF-8, and
// at most 255 bytes. Deliver refuses any other before any I/O.
func (f File) WithName(name string) File {
	f.name = name
	return f
}

// WithContentType returns f sent with the media type ct, such as
// "video/mp4" or "text/csv; charset=utf-8", which must parse as one
// (mime.ParseMediaType). Without it, Deliver takes the type from the name's
// extension (mime.TypeByExtension), else sniffs it from the first 512 bytes
// (http.DetectContentType), else sends application/octet-stream; an empty ct
// restores that choice.
func (f File) WithContentType(ct string) File {
	f.contentType = ct
	return f
}

// Name returns the name the file is sent under.
func (f File) Name() string { return f.name }

// preparedFile is a File checked and ready to send: its part of the form, and
// what its errors say.
type preparedFile struct {
	label   string // `file "video.mp4"`, or `file 2` when the name is unusable
	kind    fileKind
	oneShot bool
	size    int64
	part    multipart.Part
}

// prepareFiles checks every file without I/O first, so a bad name is refused
// before any file is touched, then opens or inspects each to learn its size and
// media type. Errors name the file (by its base name, never its directory) and
// the reason.
func (c *Client) prepareFiles(files []File) ([]preparedFile, error) {
	out := make([]preparedFile, len(files))
	for i, f := range files {
		label, err := f.check(i, c.maxFile)
		out[i].label = label
		if err != nil {
			return nil, fmt.Errorf("%s: %w", label, err)
		}
	}
	for i, f := range files {
		if err := f.prepare(&out[i], c.maxFile); err != nil {
			return nil, fmt.Errorf("%s: %w", out[i].label, err)
		}
	}
	return out, nil
}

// check validates f without any I/O and returns the label its errors go by.
func (f File) check(i int, max int64) (string, error) {
	if f.kind == kindNone {
		return fmt.Sprintf("file %d", i+1), errors.New("an empty File: make one with FileFromPath, FileFromReader or FileFromBytes")
	}
	if f.kind == kindPath && f.path == "" {
		return fmt.Sprintf("file %d", i+1), errors.New("empty path")
	}
	if err := checkName(f.name); err != nil {
		return fmt.Sprintf("file %d", i+1), err
	}
	label := fmt.Sprintf("file %q", f.name)
	if f.contentType != "" {
		if _, _, err := mime.ParseMediaType(f.contentType); err != nil {
			return label, fmt.Errorf("content type %q: %w", f.contentType, err)
		}
	}
	switch f.kind {
	case kindReader:
		if f.r == nil {
			return label, errors.New("nil reader")
		}
		if f.size < -1 {
			return label, fmt.Errorf("size %d: want -1 (unknown) or more", f.size)
		}
		if f.size > max {
			return label, &tooLargeError{size: f.size, limit: max, option: "WithMaxFileBytes"}
		}
	case kindBytes:
		if f.size > max {
			return label, &tooLargeError{size: f.size, limit: max, option: "WithMaxFileBytes"}
		}
	}
	return label, nil
}

// checkName accepts a base name that means the same on every system and
// carries nothing but itself into a header.
func checkName(name string) error {
	switch {
	case name == "":
		return errors.New("empty name")
	case name == "." || name == "..":
		return fmt.Errorf("name %q is not a file name", name)
	case strings.ContainsAny(name, `/\`):
		return fmt.Errorf("name %q holds a path separator (/ or \\): give a base name", name)
	case !utf8.ValidString(name):
		return fmt.Errorf("name %q is not valid UTF-8", name)
	case strings.ContainsFunc(name, unicode.IsControl):
		return fmt.Errorf("name %q holds a control character", name)
	case len(name) > maxNameBytes:
		return fmt.Errorf("name of %d bytes: the most is %d", len(name), maxNameBytes)
	}
	return nil
}

// prepare does the I/O Deliver does before any request: it opens or inspects
// f's source for its size and, when neither WithContentType nor the extension
// gives a media type, its first bytes.
func (f File) prepare(p *preparedFile, max int64) error {
	p.kind = f.kind
	ct := f.contentType
	if ct != "" {
		mt, params, _ := mime.ParseMediaType(ct)
		ct = mime.FormatMediaType(mt, params) // normalized: nothing but the type reaches the header
	} else {
		ct = mime.TypeByExtension(filepath.Ext(f.name))
	}
	var head []byte // the first bytes, when ct is still unknown
	sniff := func(read func([]byte) (int, error)) error {
		if ct != "" {
			return nil
		}
		buf := make([]byte, sniffLen)
		n, err := read(buf)
		if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
			return fmt.Errorf("read: %w", stripPath(err))
		}
		head = buf[:n]
		return nil
	}

	switch f.kind {
	case kindPath:
		fh, err := os.Open(f.path)
		if err != nil {
			return fmt.Errorf("open: %w", stripPath(err))
		}
		defer fh.Close()
		fi, err := fh.Stat()
		if err != nil {
			return fmt.Errorf("stat: %w", stripPath(err))
		}
		if !fi.Mode().IsRegular() {
			return fmt.Errorf("not a regular file (%s)", fi.Mode().Type())
		}
		if fi.Size() > max {
			return &tooLargeError{size: fi.Size(), limit: max, option: "WithMaxFileBytes"}
		}
		p.size = fi.Size()
		if err := sniff(func(b []byte) (int, error) { return io.ReadFull(fh, b) }); err != nil {
			return err
		}
		p.part.Open = openPath(f.path, p.size)

	case kindBytes:
		p.size = f.size
		_ = sniff(func(b []byte) (int, error) { return copy(b, f.data), nil })
		data := f.data
		p.part.Open = func() (io.Reader, error) { return bytes.NewReader(data), nil }

	case kindReader:
		if err := f.prepareReader(p, sniff, max); err != nil {
			return err
		}
	}

	if ct == "" {
		ct = "application/octet-stream"
		if len(head) > 0 {
			ct = http.DetectContentType(head)
		}
	}
	p.part.Name, p.part.FileName, p.part.ContentType = "files", f.name, ct
	p.part.Size = p.size
	if p.size < 0 {
		p.part.Limit = max
	}
	if f.kind == kindReader && p.oneShot && len(head) > 0 {
		// The sniffed bytes were consumed: replay them before the rest.
		open, peeked := p.part.Open, head
		p.part.Open = func() (io.Reader, error) {
			r, err := open()
			if err != nil {
				return nil, err
			}
			return io.MultiReader(bytes.NewReader(peeked), r), nil
		}
	}
	return nil
}

// prepareReader sets how an attempt gets a reader source from its start: by
// seeking back, by reading at offsets, or (for any other reader) once.
func (f File) prepareReader(p *preparedFile, sniff func(func([]byte) (int, error)) error, max int64) error {
	// The caller's reader is handed on without its Close, if it has one: it
	// is the caller's to close.
	r := struct{ io.Reader }{f.r}
	p.size = f.size
	if s, ok := f.r.(io.Seeker); ok {
		if start, err := s.Seek(0, io.SeekCurrent); err == nil {
			if p.size < 0 {
				end, err := s.Seek(0, io.SeekEnd)
				if err != nil {
					return fmt.Errorf("seek: %w", err)
				}
				p.size = end - start
				if _, err := s.Seek(start, io.SeekStart); err != nil {
					return fmt.Errorf("seek: %w", err)
				}
			}
			if p.size > max {
				return &tooLargeError{size: p.size, limit: max, option: "WithMaxFileBytes"}
			}
			if err := sniff(func(b []byte) (int, error) { return io.ReadFull(f.r, b) }); err != nil {
				return err
			}
			p.part.Open = func() (io.Reader, error) {
				if _, err := s.Seek(start, io.SeekStart); err != nil {
					return nil, fmt.Errorf("seek: %w", err)
				}
				return r, nil
			}
			// The sniff moved the reader: the first attempt seeks back too.
			return nil
		}
		// A Seeker whose Seek fails (a pipe, a terminal) is read once, like any
		// reader; its ReadAt, if any, fails the same way.
	} else if ra, ok := f.r.(io.ReaderAt); ok {
		if sz, ok := f.r.(interface{ Size() int64 }); ok && p.size < 0 {
			p.size = sz.Size()
		}
		if p.size > max {
			return &tooLargeError{size: p.size, limit: max, option: "WithMaxFileBytes"}
		}
		if err := sniff(func(b []byte) (int, error) { return ra.ReadAt(b, 0) }); err != nil {
			return err
		}
		p.part.Open = func() (io.Reader, error) { return io.NewSectionReader(ra, 0, math.MaxInt64), nil }
		return nil
	}
	p.oneShot = true
	if err := sniff(func(b []byte) (int, error) { return io.ReadFull(f.r, b) }); err != nil {
		return err
	}
	read := false
	p.part.Open = func() (io.Reader, error) {
		if read {
			return nil, errors.New("a one-shot reader cannot be read again")
		}
		read = true
		return r, nil
	}
	return nil
}

// openPath reopens a path for an attempt, refusing a file whose size is no
// longer the one Deliver found: the request's Content-Length was computed
// from it.
func openPath(path string, size int64) func() (io.Reader, error) {
	return func() (io.Reader, error) {
		fh, err := os.Open(path)
		if err != nil {
			return nil, fmt.Errorf("open: %w", stripPath(err))
		}
		fi, err := fh.Stat()
		if err != nil {
			fh.Close()
			return nil, fmt.Errorf("stat: %w", stripPath(err))
		}
		if fi.Size() != size {
			fh.Close()
			return nil, fmt.Errorf("changed size since Deliver checked it: %d bytes then, %d now", size, fi.Size())
		}
		return fh, nil
	}
}

// explain turns the failure of this file's source during an attempt into
// what happened to the file.
func (p *preparedFile) explain(err error) error {
	le, ok := errors.AsType[*stream.LengthError](err)
	if !ok {
		return err
	}
	switch {
	case le.Want < 0:
		return &tooLargeError{size: -1, limit: le.Limit, option: "WithMaxFileBytes"}
	case p.kind == kindPath && le.Short():
		return fmt.Errorf("changed while it was sent: it ended after %d of its %d bytes", le.Got, le.Want)
	case p.kind == kindPath:
		return fmt.Errorf("changed while it was sent: it grew past the %d bytes it had", le.Want)
	case le.Short():
		return fmt.Errorf("the reader ended after %d of the %d bytes its size says", le.Got, le.Want)
	default:
		return fmt.Errorf("the reader holds more than the %d bytes its size says", le.Want)
	}
}

// stripPath drops the path from an *fs.PathError, keeping the operation's
// error (and so errors.Is(err, fs.ErrNotExist)): the caller knows the path,
// and an error travels further than the caller.
func stripPath(err error) error {
	if pe, ok := errors.AsType[*fs.PathError](err); ok {
		return pe.Err
	}
	return err
}

// tooLargeError is a file over a size limit; it wraps ErrTooLarge.
type tooLargeError struct {
	size   int64 // -1: more than limit, exactly how much unknown
	limit  int64
	option string
}

func (e *tooLargeError) Error() string {
	if e.size < 0 {
		return fmt.Sprintf("more than the %s limit (%s)", humanBytes(e.limit), e.option)
	}
	s, l := humanBytes(e.size), humanBytes(e.limit)
	if s == l {
		s, l = strconv.FormatInt(e.size, 10)+" bytes", strconv.FormatInt(e.limit, 10)+"-byte"
	}
	return fmt.Sprintf("%s is over the %s limit (%s)", s, l, e.option)
}

func (e *tooLargeError) Unwrap() error { return ErrTooLarge }

// humanBytes writes n in binary units, rounded down to a tenth: 3.1 GiB.
func humanBytes(n int64) string {
	if n < 1024 {
		if n == 1 {
			return "1 byte"
		}
		return strconv.FormatInt(n, 10) + " bytes"
	}
	v, unit := float64(n), -1
	for v >= 1024 && unit < len("KMGTPE")-1 {
		v /= 1024
		unit++
	}
	s := strconv.FormatFloat(math.Floor(v*10)/10, 'f', 1, 64)
	return strings.TrimSuffix(s, ".0") + " " + "KMGTPE"[unit:unit+1] + "iB"
}
