package errors

import (
	"bytes"
	"cmp"
	"encoding/json"
	"io"
	"math"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/heepr/heepr-go/models"
)

// MaxBodyBytes is the most FromResponse reads of an error response's body
// (64 KiB), and so the longest APIError.Body can be. An error envelope is a few
// hundred bytes; the cap is there for the proxy that answers with megabytes.
const MaxBodyBytes = 64 << 10

// FromResponse turns a response the platform (or a proxy) refused into an
// *APIError. It returns nil for a 2xx status, and otherwise always an
// *APIError, never another error type, so a caller may write
//
//	if err := herrors.FromResponse(resp); err != nil { return fmt.Errorf("events: %w", err) }
//
// It decodes whatever the body holds: the error envelope
// {"error":{"code","message","request_id"}}, the flat variant
// {"error":"code","message":…,"request_id":…}, JSON under a Content-Type that
// is not JSON, truncated JSON (keeping what was read before the cut), an HTML
// page from a proxy, plain text, an empty or missing body. When the body gives
// no message, Message is the status text. It never panics, and a nil resp
// yields an *APIError with StatusCode 0.
//
// It reads at most MaxBodyBytes of the body, however long the body is, and
// does not close it: as always with net/http, the caller that got the response
// closes resp.Body (after draining what it wants of the rest, to reuse the
// connection). Read errors end the read; what was read is still decoded, since
// the status alone already says the call failed.
func FromResponse(resp *http.Response) error {
	if resp == nil {
		return &APIError{Message: "no HTTP response"}
	}
	if resp.StatusCode >= 200 && resp.StatusCode <= 299 {
		return nil
	}
	e := &APIError{StatusCode: resp.StatusCode}
	if resp.Body != nil {
		e.Body = readCapped(resp.Body, MaxBodyBytes)
	}
	code, message, requestID := decodeBody(e.Body, resp.Header.Get("Content-Type"))
	e.Code = models.ErrorCode(capString(code, maxCodeLen))
	e.Message = capString(redactSecrets(message), maxServerString)
	if e.Message == "" {
		e.Message = statusMessage(resp.StatusCode)
	}
	e.RequestID = requestID
	if e.RequestID == "" {
		e.RequestID = strings.TrimSpace(resp.Header.Get("X-Request-Id"))
	}
	e.RequestID = capString(e.RequestID, maxServerString)
	e.RetryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
	return e
}

// statusMessage is the message of a response whose body said nothing useful.
func statusMessage(status int) string {
	if t := http.StatusText(status); t != "" {
		return t
	}
	return "unexpected HTTP status"
}

// readCapped reads r until EOF, an error or limit bytes, whichever comes first.
// It never asks r for more than limit bytes in all, so a multi-megabyte body
// costs at most limit bytes of memory and reading, and it grows its buffer as
// the body arrives, so a short body costs a short buffer. It tolerates a
// Reader that misreports its count or makes no progress.
func readCapped(r io.Reader, limit int) []byte {
	buf := make([]byte, 0, min(512, limit))
	idle := 0
	for len(buf) < limit {
		if len(buf) == cap(buf) {
			grown := make([]byte, len(buf), min(2*cap(buf), limit))
			copy(grown, buf)
			buf = grown
		}
		p := buf[len(buf):cap(buf)]
		n, err := r.Read(p)
		n = max(0, min(n, len(p)))
		buf = buf[:len(buf)+n]
		if err != nil {
			break
		}
		if n == 0 {
			if idle++; idle >= 100 { // as bufio does: io.ErrNoProgress
				break
			}
		}
	}
	if len(buf) == 0 {
		return nil
	}
	return buf
}

// decodeBody finds the code, message and request id in an error body. JSON is
// recognised by its first byte, not by the Content-Type, because proxies and
// misconfigured servers label JSON text/html or text/plain. Plain text serves
// as the message; HTML does not (its first line is markup, never an
// explanation).
func decodeBody(body []byte, contentType string) (code, message, requestID string) {
	trimmed := bytes.TrimLeftFunc(bytes.TrimPrefix(body, []byte("\xef\xbb\xbf")), unicode.IsSpace)
	if len(trimmed) == 0 {
		return "", "", ""
	}
	switch trimmed[0] {
	case '{':
		return decodeJSON(trimmed)
	case '[', '<':
		return "", "", ""
	}
	if mt, _, err := mime.ParseMediaType(contentType); err == nil && strings.Contains(mt, "html") {
		return "", "", ""
	}
	return "", plainMessage(trimmed), ""
}

// plainMessage returns the first line of a text body, or "" when the body is
// not text (invalid UTF-8 or binary control characters).
func plainMessage(body []byte) string {
	if !utf8.Valid(body) {
		return ""
	}
	line, _, _ := bytes.Cut(body, []byte("\n"))
	line = bytes.TrimSpace(line)
	for _, r := range string(line) {
		if unicode.IsControl(r) && r != '\t' {
			return ""
		}
	}
	return oneLine(string(line), maxMessageLen)
}

// fields collects what one JSON object says about the error.
type fields struct{ code, message, requestID string }

// decodeJSON walks a JSON object token by token rather than unmarshalling it,
// so that a field of an unexpected type (a numeric code, a message that is an
// object) costs only that field, and a body cut off at MaxBodyBytes or by a
// dropped connection keeps every field read before the cut. The envelope's
// nested fields win over flat top-level ones. Keys match case-insensitively,
// as encoding/json would.
func decodeJSON(body []byte) (code, message, requestID string) {
	var nested, flat fields
	walkTop(json.NewDecoder(bytes.NewReader(body)), &nested, &flat)
	return cmp.Or(nested.code, flat.code),
		cmp.Or(nested.message, flat.message),
		cmp.Or(nested.requestID, flat.requestID)
}

// walkTop reads the top-level object: the envelope's "error" into nested (or,
// when it is a string, into flat.code as the flat variant has it) and the other
// members into flat. It stops at the first syntax error or the end of input,
// keeping what it has read.
func walkTop(dec *json.Decoder, nested, flat *fields) {
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return
	}
	for dec.More() {
		key, err := dec.Token()
		if err != nil {
			return
		}
		k, _ := key.(string)
		if !strings.EqualFold(k, "error") {
			if setField(dec, k, flat) != nil {
				return
			}
			continue
		}
		tok, err := dec.Token()
		if err != nil {
			return
		}
		switch v := tok.(type) {
		case string: // the flat variant: "error": "key_revoked"
			flat.code = v
		case json.Delim:
			if v == '{' {
				err = walkObject(dec, nested)
			} else {
				err = skipRest(dec, v)
			}
			if err != nil {
				return
			}
		}
	}
}

// walkObject reads the members of an object whose '{' was just read, up to and
// including its '}', into f.
func walkObject(dec *json.Decoder, f *fields) error {
	for dec.More() {
		key, err := dec.Token()
		if err != nil {
			return err
		}
		k, _ := key.(string)
		if err := setField(dec, k, f); err != nil {
			return err
		}
	}
	_, err := dec.Token() // the closing '}'
	return err
}

// setField reads the value of member k and keeps it in f when k names one of
// the error's fields and the value is a string; any other value is skipped.
func setField(dec *json.Decoder, k string, f *fields) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if d, ok := tok.(json.Delim); ok {
		return skipRest(dec, d)
	}
	s, ok := tok.(string)
	if !ok {
		return nil
	}
	switch {
	case strings.EqualFold(k, "code"):
		f.code = s
	case strings.EqualFold(k, "message"):
		f.message = s
	case strings.EqualFold(k, "request_id"):
		f.requestID = s
	}
	return nil
}

// skipRest consumes the rest of an object or array whose opening delimiter was
// just read. It counts depth instead of recursing, so deep nesting cannot
// exhaust the stack.
func skipRest(dec *json.Decoder, open json.Delim) error {
	if open != '{' && open != '[' {
		return nil // a closing delimiter: nothing was opened
	}
	for depth := 1; depth > 0; {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		switch tok {
		case json.Delim('{'), json.Delim('['):
			depth++
		case json.Delim('}'), json.Delim(']'):
			depth--
		}
	}
	return nil
}

// parseRetryAfter reads a Retry-After value, delta-seconds ("30") or an
// HTTP-date ("Wed, 21 Oct 2026 07:28:00 GMT", or the two obsolete forms
// net/http accepts), as a wait from now. It returns zero for an absent,
// malformed, negative or past value, and for a value too large for a
// time.Duration (nearly 300 years), which no server means.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if strings.Trim(v, "0123456789") == "" {
		secs, err := strconv.ParseInt(v, 10, 64)
		if err != nil || secs > int64(math.MaxInt64/time.Second) {
			return 0
		}
		return time.Duration(secs) * time.Second
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0
	}
	d := t.Sub(now)
	if d <= 0 || d == time.Duration(math.MaxInt64) {
		return 0
	}
	return d
}
