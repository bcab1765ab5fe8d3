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
