package models

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

var jsonSeeds = []string{
	``, ` `, `{}`, `[]`, `""`, `0`, `-0`, `-`, `01`, `1.`, `1.5`, `1e`, `1e+`, `1E-7`, `-12.5e+3`, `.5`, `+1`,
	`true`, `tru`, `false`, `null`, `nul`, `nullx`, `"\u00e9"`, `"\u00g9"`, `"\x"`, `"\/\b\f\n\r\t\"\\"`,
	"\"a\x01\"", "\"\xff\xfe\"", `"unterminated`, `{"a":1,}`, `[1,]`, `[1 2]`, `{"a" 1}`, `{"a":}`, `{1:2}`,
	`{"a":[{"b":null}],"c":"}"}`, ` {"kind" : "new_order" } `, `{"a":1}}`, `[[[]]]`, `[`, `]`, `{"a":1 "b":2}`,
	"\t[\r\n1\n]\t", `{"events":[{"id":"evt_1","kind":"new_order","order":{"price":{"amount":50}}}]}`,
}

// deepSeeds sit at encoding/json's nesting limit and one past it.
var deepSeeds = []string{
	strings.Repeat("[", maxDepth) + strings.Repeat("]", maxDepth),
	strings.Repeat("[", maxDepth+1) + strings.Repeat("]", maxDepth+1),
	strings.Repeat(`{"a":`, maxDepth) + "1" + strings.Repeat("}", maxDepth),
	strings.Repeat(`{"a":`, maxDepth+1) + "1" + strings.Repeat("}", maxDepth+1),
}

func TestValidJSON(t *testing.T) {
	for _, s := range append(jsonSeeds, deepSeeds...) {
		assert.Equal(t, json.Valid([]byte(s)), validJSON([]byte(s)), "%.80q", s)
	}
}

// FuzzValidJSON holds validJSON to json.Valid's answer on any input.
func FuzzValidJSON(f *testing.F) {
	for _, s := range jsonSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if got, want := validJSON(b), json.Valid(b); got != want {
			t.Fatalf("validJSON(%q) = %v, json.Valid says %v", b, got, want)
		}
	})
}

// FuzzScanKind: on any valid JSON, scanKind never panics, and on an object
// whose kind decodes, it agrees with encoding/json (or Value reports two kinds).
func FuzzScanKind(f *testing.F) {
	for _, s := range jsonSeeds {
		f.Add([]byte(s))
	}
	f.Add([]byte(`{"kind":"a","kind":"b"}`))
	f.Add([]byte(`{"ki\u006ed":"x","Kind":"y"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		if !validJSON(b) {
			return
		}
		kind, err := scanKind(b)
		var h struct {
			Kind *EventKind `json:"kind"`
		}
		if json.Unmarshal(b, &h) != nil || err != nil || h.Kind == nil {
			return
		}
		if kind != *h.Kind {
			_, verr := Event{raw: b}.Value()
			if verr == nil || !strings.Contains(verr.Error(), "two kinds") {
				t.Fatalf("scanKind(%q) = %q, encoding/json reads %q, and Value says %v", b, kind, *h.Kind, verr)
			}
		}
	})
}
