package stream

import (
	"context"
	"fmt"
	"io"
	"math"
	"time"
)

// BufferSize is the size of the buffer a transfer copies through: large
// enough that a pipe hand-off or a syscall per chunk costs little beside the
// bytes, small enough to be nothing beside the file.
const BufferSize = 64 << 10

// ReportEvery is the least time between two progress reports of a Meter.
const ReportEvery = 100 * time.Millisecond

// LengthError is a source that did not hold the number of bytes it was said
// to: fewer or more than Want, or more than Limit.
type LengthError struct {
	// Want is the exact length expected, or -1 when only Limit applied.
	Want int64
	// Limit is the most bytes allowed when Want is -1.
	Limit int64
	// Got is the number of bytes read: fewer than Want when the source ended
	// early, Want+1 or Limit+1 when it held more (the extra byte is never
	// written).
	Got int64
}

// Short reports whether the source ended before Want bytes.
func (e *LengthError) Short() bool { return e.Want >= 0 && e.Got < e.Want }

func (e *LengthError) Error() string {
	switch {
	case e.Short():
		return fmt.Sprintf("ended after %d of %d bytes", e.Got, e.Want)
	case e.Want >= 0:
		return fmt.Sprintf("holds more than %d bytes", e.Want)
	default:
		return fmt.Sprintf("holds more than the %d-byte limit", e.Limit)
	}
}

// WriteError is a failure of the sink, as opposed to the source: the caller
// can tell "the file could not be read" from "the other side went away".
type WriteError struct{ Err error }

func (e *WriteError) Error() string { return "write: " + e.Err.Error() }

// Unwrap returns the sink's error.
func (e *WriteError) Unwrap() error { return e.Err }

// Copy copies src to dst through buf, which must not be empty. When want >= 0
// it copies exactly want bytes and fails with a *LengthError if src holds
// fewer or more; otherwise it copies until EOF and fails with a *LengthError
// when src holds more than limit bytes (limit <= 0: no limit). It never writes
// a byte past want or limit: it learns that src is longer by reading one byte
// more, which it drops.
//
// It checks ctx before each chunk and returns ctx.Err() once ctx is done, and
// reports every chunk written to m (which may be nil). A failure of dst comes
// back as a *WriteError; a failure of src as src returned it.
func Copy(ctx context.Context, dst io.Writer, src io.Reader, want, limit int64, buf []byte, m *Meter) (int64, error) {
	most := want
	if want < 0 {
		most = limit
		if limit <= 0 {
			most = math.MaxInt64
		}
	}
	var n int64
	for n < most {
		if err := ctx.Err(); err != nil {
			return n, err
		}
		chunk := buf
		if rest := most - n; rest < int64(len(chunk)) {
			chunk = chunk[:rest]
		}
		k, rerr := src.Read(chunk)
		if k > 0 {
			w, werr := dst.Write(chunk[:k])
			n += int64(w)
			m.Add(int64(w))
			if werr == nil && w < k {
				werr = io.ErrShortWrite
			}
			if werr != nil {
				return n, &WriteError{Err: werr}
			}
		}
		if rerr == io.EOF {
			if want >= 0 && n < want {
				return n, &LengthError{Want: want, Got: n}
			}
			return n, nil
		}
		if rerr != nil {
			return n, rerr
		}
	}
	if most == math.MaxInt64 {
		return n, nil
	}
	// As many bytes as allowed: the source must be at its end.
	more, err := probe(src, buf[:1])
	if err != nil {
		return n, err
	}
	if more {
		return n, &LengthError{Want: want, Limit: limit, Got: n + 1}
	}
	return n, nil
}

// probe reports whether r has another byte, reading it into one.
func probe(r io.Reader, one []byte) (bool, error) {
	// A Reader may return 0, nil; give it a few chances, as bufio does.
	for range 100 {
		k, err := r.Read(one)
		if k > 0 {
			return true, nil
		}
		if err == io.EOF {
			return false, nil
		}
		if err != nil {
			return false, err
		}
	}
	return false, io.ErrNoProgress
}

// Meter reports the bytes of a transfer to a callback: at most once per
// ReportEvery while bytes flow, then once at the end (Done). A nil *Meter
// reports nothing, so callers need not check for one. A Meter is used by one
// goroutine at a time.
type Meter struct {
	fn    func(sent, total int64)
	total int64
	sent  int64
	last  time.Time
	done  bool
}

// NewMeter returns a Meter for a transfer of total bytes (-1 when unknown)
// that calls fn, or nil when fn is nil.
func NewMeter(fn func(sent, total int64), total int64) *Meter {
	if fn == nil {
		return nil
	}
	return &Meter{fn: fn, total: total, last: time.Now()}
}

// Add counts n more bytes and reports them if ReportEvery has passed since
// the last report.
func (m *Meter) Add(n int64) {
	if m == nil || n <= 0 {
		return
	}
	m.sent += n
	if t := time.Now(); t.Sub(m.last) >= ReportEvery {
		m.last = t
		m.fn(m.sent, m.total)
	}
}

// Done reports the final count, once however often it is called.
func (m *Meter) Done() {
	if m == nil || m.done {
		return
	}
	m.done = true
	m.fn(m.sent, m.total)
}

// Sent is the number of bytes counted so far.
func (m *Meter) Sent() int64 {
	if m == nil {
		return 0
	}
	return m.sent
}
