package eventstream

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// all reads every element of body.
func all(body string, max int) ([]Element, error) {
	r := New(strings.NewReader(body), max)
	var out []Element
	for {
		e, err := r.Next()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, e)
	}
}

func raws(es []Element) []string {
	var out []string
	for _, e := range es {
		out = append(out, string(e.Raw))
	}
	return out
}

func TestReaderAnswers(t *testing.T) {
	tests := []struct {
		name string
		body string
		want []string
	}{
		{"idle", `{}`, nil},
		{"idle with spaces", " \n{ }\r\n", nil},
		{"null", `null`, nil},
		{"events null", `{"events":null}`, nil},
		{"empty array", `{"events":[]}`, nil},
		{"one", `{"events":[{"id":"evt_1"}]}`, []string{`{"id":"evt_1"}`}},
		{"several, spaced", "{ \"events\" : [ {\"a\":1} ,\n{\"b\":[1,{\"c\":\"}]\"}]} ] }", []string{`{"a":1}`, `{"b":[1,{"c":"}]"}]}`}},
		{"escaped quotes", `{"events":[{"s":"a\"b\\"},{"t":"\\\""}]}`, []string{`{"s":"a\"b\\"}`, `{"t":"\\\""}`}},
		{"scalars kept as elements", `{"events":[1,"x",null,true,-2.5e3]}`, []string{`1`, `"x"`, `null`, `true`, `-2.5e3`}},
		{"escaped name", `{"\u0065vents":[1]}`, []string{`1`}},
		{"other members skipped", `{"next":{"a":[1,2,"]"]},"events":[{"id":"e"}],"more":"x"}`, []string{`{"id":"e"}`}},
		{"a long member name is not events", `{"` + strings.Repeat("k", 1000) + `":1,"events":[2]}`, []string{`2`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := all(tt.body, 1<<20)
			require.NoError(t, err)
			assert.Equal(t, tt.want, raws(got))
		})
	}
}

func TestReaderRefuses(t *testing.T) {
	tests := []struct {
		name, body, want string
		eof              bool // the body ended early: io.ErrUnexpectedEOF
		kept             int  // elements read before the error
	}{
		{"empty", ``, "ended where an events answer was due", true, 0},
		{"array at top", `[]`, `want an object such as {"events": [...]}, found '['`, false, 0},
		{"html", `<html>`, `found '<'`, false, 0},
		{"events not an array", `{"events":{}}`, "want the events array", false, 0},
		{"cut in the second event", `{"events":[{"id":"1"},{"id":"`, "ended where the rest of a value was due", true, 1},
		{"cut after an element", `{"events":[{"id":"1"}`, `ended where an event or "]" was due`, true, 1},
		{"missing comma", `{"events":[1 2]}`, `want "," or "]", found '2'`, false, 1},
		{"trailing data", `{"events":[1]} {}`, `want the end of the answer, found '{'`, false, 1},
		{"bad literal", `nul`, "ended where null was due", true, 0},
		{"member without colon", `{"events" []}`, `want ":"`, false, 0},
		{"empty element", `{"events":[,]}`, `want a value, found ','`, false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := all(tt.body, 1<<20)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
			assert.Equal(t, tt.eof, errors.Is(err, io.ErrUnexpectedEOF), err.Error())
			assert.Len(t, got, tt.kept, "what came before the break is kept")
		})
	}
}

// An element over the cap comes back as its first max bytes, and the walk goes
// on to the next one, however the big one is shaped.
func TestReaderCapsEachElement(t *testing.T) {
	big := `{"id":"big","sf":"` + strings.Repeat("x", 5000) + `","n":[[[[]]]]}`
	body := `{"events":[{"id":"a"},` + big + `,{"id":"b"}]}`
	got, err := all(body, 100)
	require.NoError(t, err)
	require.Len(t, got, 3)
	assert.False(t, got[0].Truncated)
	assert.True(t, got[1].Truncated)
	assert.Equal(t, big[:100], string(got[1].Raw))
	assert.Equal(t, int64(len(big)), got[1].Size)
	assert.Equal(t, `{"id":"b"}`, string(got[2].Raw))
}

// Reading one byte at a time finds the same elements: chunk edges never split
// an escape or a bracket wrongly.
func TestReaderOneByteAtATime(t *testing.T) {
	body := `{"x":"\\\"","events":[{"a":"\\"},{"b":"\"]"},"\\\\",[1,[2]],7]}`
	want, err := all(body, 64)
	require.NoError(t, err)
	r := New(iotest.OneByteReader(strings.NewReader(body)), 64)
	var got []Element
	for {
		e, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		got = append(got, e)
	}
	assert.Equal(t, raws(want), raws(got))
	assert.Equal(t, []string{`{"a":"\\"}`, `{"b":"\"]"}`, `"\\\\"`, `[1,[2]]`, `7`}, raws(got))
	assert.Equal(t, int64(len(body)), r.Offset())
}

// A network error mid-answer comes back wrapped, after the elements before it.
func TestReaderNetworkError(t *testing.T) {
	boom := errors.New("connection reset")
	r := New(io.MultiReader(strings.NewReader(`{"events":[1,2,`), iotest.ErrReader(boom)), 64)
	for range 2 {
		_, err := r.Next()
		require.NoError(t, err)
	}
	_, err := r.Next()
	assert.ErrorIs(t, err, boom)
	_, err = r.Next()
	assert.ErrorIs(t, err, io.EOF, "the reader is done after an error")
}

// FuzzReader: whatever the body, the reader never panics or hangs; where
// encoding/json reads the body as an events answer, the reader finds the same
// elements; no element it returns holds more than the cap.
func FuzzReader(f *testing.F) {
	for _, s := range []string{
		`{}`, `null`, `{"events":null}`, `{"events":[]}`, `{"events":[{"id":"evt_1","kind":"new_order"}]}`,
		`{"events":[1,"a",null,{}]}`, `{"a":{"b":"\"}"},"events":[[1],{"x":"\\"}]}`, `{"events":{}}`, `[]`,
		`{"events":[{"id":`, "<html>", "", `{"events":[1]}x`, `{"events":[tru]}`, `{"events":[ ]}`,
	} {
		f.Add(s, 8)
	}
	f.Fuzz(func(t *testing.T, body string, max int) {
		max = 1 + abs(max)%64
		got, err := all(body, max)
		for _, e := range got {
			if len(e.Raw) > max {
				t.Fatalf("element of %d bytes over the cap %d", len(e.Raw), max)
			}
			if e.Truncated != (e.Size > int64(max)) {
				t.Fatalf("truncated %v for size %d and cap %d", e.Truncated, e.Size, max)
			}
		}
		var batch struct {
			Events []json.RawMessage `json:"events"`
		}
		if json.Unmarshal([]byte(body), &batch) != nil || !json.Valid([]byte(body)) {
			return
		}
		if lower := strings.ToLower(body); strings.Count(lower, "events") != 1 {
			return // encoding/json takes the last of repeated names and matches them in any case; the stream takes the spec's name only
		}
		if trimmed := bytes.TrimSpace([]byte(body)); len(trimmed) > 0 && trimmed[0] != '{' && string(trimmed) != "null" {
			return // valid JSON of another shape, which encoding/json reads into a zero batch
		}
		if err != nil {
			t.Fatalf("encoding/json reads %q, the stream fails: %v", body, err)
		}
		if len(got) != len(batch.Events) {
			t.Fatalf("encoding/json finds %d events, the stream %d", len(batch.Events), len(got))
		}
		for i, e := range got {
			if e.Truncated {
				continue
			}
			var a, b bytes.Buffer
			_ = json.Compact(&a, e.Raw)
			_ = json.Compact(&b, batch.Events[i])
			if a.String() != b.String() {
				t.Fatalf("event %d: stream %q, encoding/json %q", i, e.Raw, batch.Events[i])
			}
		}
	})
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}
