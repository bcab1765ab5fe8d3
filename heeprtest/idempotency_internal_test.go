package heeprtest

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
)

// The replacer writes what bytes.ReplaceAll would, however the input is split
// across writes, occurrences straddling a split included.
func TestReplacer(t *testing.T) {
	tests := []struct {
		name, in, old, new string
	}{
		{"none", "no delimiter here", "--b", "--X"},
		{"one", "a--bc", "--b", "--X"},
		{"at both ends", "--bmiddle--b", "--b", "[]"},
		{"adjacent", "--b--b--b", "--b", "#"},
		{"overlapping prefix", "---b--", "--b", "#"},
		{"longer new", "x--by", "--b", "--\x00boundary\x00"},
		{"partial at the end", "abc--", "--b", "#"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := bytes.ReplaceAll([]byte(tt.in), []byte(tt.old), []byte(tt.new))
			for split := 1; split <= len(tt.in); split++ {
				var out bytes.Buffer
				r := &replacer{w: &out, old: []byte(tt.old), new: []byte(tt.new)}
				for i := 0; i < len(tt.in); i += split {
					n, err := r.Write([]byte(tt.in[i:min(i+split, len(tt.in))]))
					assert.NoError(t, err)
					assert.Equal(t, min(split, len(tt.in)-i), n)
				}
				r.flush()
				assert.Equal(t, string(want), out.String(), "written %d bytes at a time", split)
			}
		})
	}
}
