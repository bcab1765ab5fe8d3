package models

import (
	"encoding/json"
	"errors"
	"fmt"
)

var (
	errEmpty     = errors.New("no JSON (a zero Event)")
	errNotObject = errors.New("not a JSON object")
)

// scanKind returns the value of raw's first top-level "kind" member, "" when
// it has none (or null), without decoding anything else: Value learns the
// kind from it and then decodes raw once, straight into the kind's variant.
// raw is valid JSON (Event holds nothing else), but scanKind checks every
// index anyway: it fails, never panics, on a malformed input.
func scanKind(raw []byte) (EventKind, error) {
	if len(raw) == 0 {
		return "", errEmpty
	}
	i := skipSpace(raw, 0)
	if i >= len(raw) || raw[i] != '{' {
		return "", errNotObject
	}
	i = skipSpace(raw, i+1)
	for i < len(raw) && raw[i] != '}' {
		if raw[i] == ',' {
			i = skipSpace(raw, i+1)
		}
		if i >= len(raw) || raw[i] != '"' {
			break
		}
		keyEnd := stringEnd(raw, i)
		key := raw[i:keyEnd]
		i = skipSpace(raw, keyEnd)
		if i >= len(raw) || raw[i] != ':' {
			break
		}
		i = skipSpace(raw, i+1)
		end := valueEnd(raw, i)
		if isKindName(key) {
			return kindValue(raw[i:end])
		}
		i = skipSpace(raw, end)
	}
	if i >= len(raw) || raw[i] != '}' {
		return "", fmt.Errorf("malformed JSON object at byte %d", i)
	}
	return "", nil
}

// isKindName reports whether a member's name, quoted as it came, is "kind".
func isKindName(key []byte) bool {
	if string(key) == `"kind"` {
		return true
	}
	if len(key) < 6 || len(key) > 64 || !contains(key, '\\') {
		return false
	}
	var s string
	return json.Unmarshal(key, &s) == nil && s == "kind"
}

// kindValue reads the kind member's value: a string, or null for none.
func kindValue(v []byte) (EventKind, error) {
	if string(v) == "null" {
		return "", nil
	}
	if len(v) < 2 || v[0] != '"' {
		return "", fmt.Errorf("kind %s is not a string", truncateJSON(v))
	}
	s := v[1 : len(v)-1]
	if !contains(s, '\\') {
		// Known kinds without an allocation: the compiler does not copy a
		// []byte converted only to be compared.
		switch string(s) {
		case string(EventKindNewOrder):
			return EventKindNewOrder, nil
		case string(EventKindRevisionRequest):
			return EventKindRevisionRequest, nil
		case string(EventKindOwnerApprovedOrder):
			return EventKindOwnerApprovedOrder, nil
		case string(EventKindOwnerDeniedOrder):
			return EventKindOwnerDeniedOrder, nil
		case string(EventKindScopeChange):
			return EventKindScopeChange, nil
		}
		return EventKind(s), nil
	}
	var k EventKind
	if err := json.Unmarshal(v, &k); err != nil {
		return "", fmt.Errorf("kind %s: %w", truncateJSON(v), err)
	}
	return k, nil
}

func contains(b []byte, c byte) bool {
	for _, x := range b {
		if x == c {
			return true
		}
	}
	return false
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// stringEnd returns the index just after the string that starts at b[i].
func stringEnd(b []byte, i int) int {
	for i++; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return len(b)
}

// valueEnd returns the index just after the value that starts at b[i].
func valueEnd(b []byte, i int) int {
	if i >= len(b) {
		return i
	}
	switch b[i] {
	case '"':
		return stringEnd(b, i)
	case '{', '[':
		depth := 0
		for ; i < len(b); i++ {
			switch b[i] {
			case '"':
				i = stringEnd(b, i) - 1
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return i + 1
				}
			}
		}
		return len(b)
	}
	for ; i < len(b); i++ {
		switch b[i] {
		case ',', '}', ']', ' ', '\t', '\n', '\r':
			return i
		}
	}
	return len(b)
}

// maxDepth is encoding/json's nesting limit: it refuses deeper values.
const maxDepth = 10000

// validJSON reports whether b is one valid JSON value, as [json.Valid] does
// (FuzzValidJSON holds the two to the same answer), in a fraction of its time:
// Event.UnmarshalJSON checks every event of every poll with it, and Value then
// decodes with encoding/json, which checks the syntax again on its own.
func validJSON(b []byte) bool {
	v := validator{b: b}
	v.i = skipSpace(b, 0)
	if !v.value(0) {
		return false
	}
	return skipSpace(b, v.i) == len(b)
}

type validator struct {
	b []byte
	i int
}

func (v *validator) value(depth int) bool {
	if v.i >= len(v.b) {
		return false
	}
	switch c := v.b[v.i]; {
	case c == '{':
		return v.object(depth + 1)
	case c == '[':
		return v.array(depth + 1)
	case c == '"':
		return v.str()
	case c == 't':
		return v.literal("true")
	case c == 'f':
		return v.literal("false")
	case c == 'n':
		return v.literal("null")
	case c == '-' || ('0' <= c && c <= '9'):
		return v.number()
	}
	return false
}

func (v *validator) object(depth int) bool {
	if depth > maxDepth {
		return false
	}
	v.i = skipSpace(v.b, v.i+1)
	if v.i < len(v.b) && v.b[v.i] == '}' {
		v.i++
		return true
	}
	for {
		if v.i >= len(v.b) || v.b[v.i] != '"' || !v.str() {
			return false
		}
		v.i = skipSpace(v.b, v.i)
		if v.i >= len(v.b) || v.b[v.i] != ':' {
			return false
		}
		v.i = skipSpace(v.b, v.i+1)
		if !v.value(depth) {
			return false
		}
		v.i = skipSpace(v.b, v.i)
		if v.i >= len(v.b) {
			return false
		}
		switch v.b[v.i] {
		case ',':
			v.i = skipSpace(v.b, v.i+1)
		case '}':
			v.i++
			return true
		default:
			return false
		}
	}
}

func (v *validator) array(depth int) bool {
	if depth > maxDepth {
		return false
	}
	v.i = skipSpace(v.b, v.i+1)
	if v.i < len(v.b) && v.b[v.i] == ']' {
		v.i++
		return true
	}
	for {
		if !v.value(depth) {
			return false
		}
		v.i = skipSpace(v.b, v.i)
		if v.i >= len(v.b) {
			return false
		}
		switch v.b[v.i] {
		case ',':
			v.i = skipSpace(v.b, v.i+1)
		case ']':
			v.i++
			return true
		default:
			return false
		}
	}
}

// str checks the string that starts at v.b[v.i]: no control characters,
// only JSON's escapes. Like encoding/json, it lets invalid UTF-8 through.
func (v *validator) str() bool {
	b := v.b
	for i := v.i + 1; i < len(b); i++ {
		switch c := b[i]; {
		case c == '"':
			v.i = i + 1
			return true
		case c < 0x20:
			return false
		case c == '\\':
			i++
			if i >= len(b) {
				return false
			}
			switch b[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if i+4 >= len(b) || !isHex(b[i+1]) || !isHex(b[i+2]) || !isHex(b[i+3]) || !isHex(b[i+4]) {
					return false
				}
				i += 4
			default:
				return false
			}
		}
	}
	return false
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func (v *validator) literal(word string) bool {
	if len(v.b)-v.i < len(word) || string(v.b[v.i:v.i+len(word)]) != word {
		return false
	}
	v.i += len(word)
	return true
}

// number checks -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (v *validator) number() bool {
	b, i := v.b, v.i
	if b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && '1' <= b[i] && b[i] <= '9':
		i = digits(b, i)
	default:
		return false
	}
	if i < len(b) && b[i] == '.' {
		if i++; i >= len(b) || !isDigit(b[i]) {
			return false
		}
		i = digits(b, i)
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		if i++; i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i >= len(b) || !isDigit(b[i]) {
			return false
		}
		i = digits(b, i)
	}
	v.i = i
	return true
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func digits(b []byte, i int) int {
	for i < len(b) && isDigit(b[i]) {
		i++
	}
	return i
}
