// Package eventstream reads the answer of GET /events, {"events": [...]}, one
// event at a time, with a cap on each event and none on how many there are.
//
// A poll's answer is drained on the platform as it is sent, so a reader that
// holds the whole answer before it looks at the first event loses them all when
// the answer turns out too large to hold. This one walks the array element by
// element and hands each one over as soon as it ends: an element over the cap
// comes back as its first max bytes, marked truncated, and the walk goes on to
// the next; memory stays within one element's cap plus a read buffer, however
// long the answer or any string in it.
//
// It checks the answer's structure (an object whose "events" member is an
// array, or null) and finds each element's end, but leaves the element's own
// syntax to whoever decodes it.
//
// It is not public API: client.StreamEvents and client.Events use it.
package eventstream

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// Element is one element of the events array.
type Element struct {
	// Raw is the element's bytes as they came, or its first max bytes when
	// Truncated.
	Raw []byte
	// Size is the element's whole length in bytes.
	Size int64
	// Truncated reports that the element was longer than the cap.
	Truncated bool
}

// maxKey caps the members' names Reader keeps; a longer one is not "events".
const maxKey = 256

// Reader walks an events answer. It is not safe for concurrent use.
type Reader struct {
	br  *bufio.Reader
	max int
	off int64 // bytes consumed, for error messages

	st    state
	first bool // no element (or member) read yet in the current array (object)
	buf   []byte
}

type state int

const (
	stStart  state = iota // before the top-level value
	stObject              // inside the top-level object, before a member or '}'
	stArray               // inside the events array, before an element or ']'
	stEnd                 // after the top-level value
	stDone                // io.EOF returned, or an error
)

// New returns a Reader of r that keeps at most max bytes of any one element.
func New(r io.Reader, max int) *Reader {
	return &Reader{br: bufio.NewReaderSize(r, 4<<10), max: max}
}

// Offset is how many bytes of the answer the Reader has consumed.
func (r *Reader) Offset() int64 { return r.off }

// Next returns the next element of the events array. It returns io.EOF once
// the answer ended well (an idle answer, {} or {"events": null}, has no
// element); any other error says that the answer broke off or is not an events
// answer, and where. After an error, Next returns the same error class again.
func (r *Reader) Next() (Element, error) {
	for {
		switch r.st {
		case stStart:
			c, err := r.nonSpace()
			if err != nil {
				return r.fail(r.eof(err, "an events answer"))
			}
			switch c {
			case '{':
				r.st, r.first = stObject, true
			case 'n':
				if err := r.literal("null"); err != nil {
					return r.fail(err)
				}
				r.st = stEnd
			default:
				return r.fail(r.unexpected(c, `an object such as {"events": [...]}`))
			}
		case stObject:
			c, err := r.nonSpace()
			if err != nil {
				return r.fail(r.eof(err, `a member or "}"`))
			}
			if c == '}' {
				r.st = stEnd
				continue
			}
			if !r.first {
				if c != ',' {
					return r.fail(r.unexpected(c, `"," or "}"`))
				}
				if c, err = r.nonSpace(); err != nil {
					return r.fail(r.eof(err, "a member name"))
				}
			}
			r.first = false
			if c != '"' {
				return r.fail(r.unexpected(c, "a member name"))
			}
			if err := r.br.UnreadByte(); err != nil {
				return r.fail(err)
			}
			r.off--
			name, _, truncated, err := r.value(maxKey)
			if err != nil {
				return r.fail(err)
			}
			if c, err = r.nonSpace(); err != nil {
				return r.fail(r.eof(err, `":"`))
			}
			if c != ':' {
				return r.fail(r.unexpected(c, `":"`))
			}
			if truncated || !isEvents(name) {
				if _, _, _, err := r.value(0); err != nil { // another member: skipped
					return r.fail(err)
				}
				continue
			}
			if c, err = r.nonSpace(); err != nil {
				return r.fail(r.eof(err, "the events array"))
			}
			switch c {
			case '[':
				r.st, r.first = stArray, true
			case 'n':
				if err := r.literal("null"); err != nil {
					return r.fail(err)
				}
			default:
				return r.fail(r.unexpected(c, "the events array"))
			}
		case stArray:
			c, err := r.nonSpace()
			if err != nil {
				return r.fail(r.eof(err, `an event or "]"`))
			}
			if c == ']' {
				r.st, r.first = stObject, false
				continue
			}
			if !r.first {
				if c != ',' {
					return r.fail(r.unexpected(c, `"," or "]"`))
				}
			} else if err := r.br.UnreadByte(); err != nil {
				return r.fail(err)
			} else {
				r.off--
			}
			r.first = false
			raw, size, truncated, err := r.value(r.max)
			if err != nil {
				return r.fail(err)
			}
			return Element{Raw: raw, Size: size, Truncated: truncated}, nil
		case stEnd:
			c, err := r.nonSpace()
			if errors.Is(err, io.EOF) {
				r.st = stDone
				return Element{}, io.EOF
			}
			if err != nil {
				return r.fail(err)
			}
			return r.fail(r.unexpected(c, "the end of the answer"))
		default:
			return Element{}, io.EOF
		}
	}
}

func (r *Reader) fail(err error) (Element, error) {
	r.st = stDone
	return Element{}, err
}

func (r *Reader) unexpected(c byte, want string) error {
	return fmt.Errorf("events answer: at byte %d: want %s, found %q", r.off-1, want, c)
}

// eof turns the end of the body where more was due into io.ErrUnexpectedEOF.
func (r *Reader) eof(err error, want string) error {
	if errors.Is(err, io.EOF) {
		return fmt.Errorf("events answer: at byte %d: ended where %s was due: %w", r.off, want, io.ErrUnexpectedEOF)
	}
	return fmt.Errorf("events answer: at byte %d: %w", r.off, err)
}

func (r *Reader) nonSpace() (byte, error) {
	for {
		c, err := r.br.ReadByte()
		if err != nil {
			return 0, err
		}
		r.off++
		if !isSpace(c) {
			return c, nil
		}
	}
}

// literal reads the rest of word, whose first byte was just read.
func (r *Reader) literal(word string) error {
	for i := 1; i < len(word); i++ {
		c, err := r.br.ReadByte()
		if err != nil {
			return r.eof(err, word)
		}
		r.off++
		if c != word[i] {
			return r.unexpected(c, word)
		}
	}
	return nil
}

// isEvents reports whether a member's name, as it came, is "events", escaped
// or not. Only the exact name counts: the spec has no other spelling.
func isEvents(name []byte) bool {
	if !bytes.ContainsRune(name, '\\') {
		return string(name) == `"events"`
	}
	var s string
	return json.Unmarshal(name, &s) == nil && s == "events"
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// value reads one JSON value, after any white space, keeping at most keep of
// its bytes (0: none, for a value skipped). It finds the value's end by its
// strings and brackets without checking the rest of its syntax, so it never
// holds more than keep bytes, however the value is shaped.
func (r *Reader) value(keep int) (raw []byte, size int64, truncated bool, err error) {
	c, err := r.nonSpace()
	if err != nil {
		return nil, 0, false, r.eof(err, "a value")
	}
	if err := r.br.UnreadByte(); err != nil {
		return nil, 0, false, err
	}
	r.off--
	r.buf = r.buf[:0]
	var (
		depth   int
		inStr   bool
		escaped bool
		scalar  = c != '{' && c != '[' && c != '"'
		begun   bool
	)
	for {
		if _, perr := r.br.Peek(1); perr != nil {
			if scalar && begun && errors.Is(perr, io.EOF) {
				break // a scalar ends where the body does; the caller sees what follows
			}
			return nil, 0, false, r.eof(perr, "the rest of a value")
		}
		chunk, _ := r.br.Peek(r.br.Buffered())
		n, end := 0, false
		for n < len(chunk) && !end {
			b := chunk[n]
			switch {
			case scalar:
				if isSpace(b) || b == ',' || b == ']' || b == '}' || b == ':' {
					end = true
					continue // not part of the value: left for the caller
				}
			case inStr:
				if escaped {
					escaped = false
					break
				}
				// Strings are most of an event's bytes: jump to the next
				// quote or backslash (IndexByte is vectorized) instead of
				// looking at every byte.
				rest := chunk[n:]
				q := bytes.IndexByte(rest, '"')
				seg := rest
				if q >= 0 {
					seg = rest[:q]
				}
				switch bs := bytes.IndexByte(seg, '\\'); {
				case bs >= 0:
					n += bs
					escaped = true
				case q >= 0:
					n += q
					inStr = false
					end = depth == 0
				default:
					n = len(chunk) - 1 // the string goes on past this chunk
				}
			case b == '"':
				inStr = true
			case b == '{' || b == '[':
				depth++
			case b == '}' || b == ']':
				depth--
				end = depth <= 0
			}
			n++
			begun = true
		}
		if room := keep - len(r.buf); room > 0 {
			r.buf = append(r.buf, chunk[:min(n, room)]...)
		}
		size += int64(n)
		if _, err := r.br.Discard(n); err != nil {
			return nil, 0, false, err
		}
		r.off += int64(n)
		if end {
			break
		}
	}
	if size == 0 {
		return nil, 0, false, fmt.Errorf("events answer: at byte %d: want a value, found %q", r.off, c)
	}
	truncated = size > int64(keep)
	return append([]byte(nil), r.buf...), size, truncated, nil
}
