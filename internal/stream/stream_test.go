package stream_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/heepr/heepr-go/internal/stream"
)

func TestCopyLengths(t *testing.T) {
	tests := []struct {
		name        string
		src         string
		want, limit int64
		wantN       int64
		wantErr     *stream.LengthError // nil: no error
	}{
		{"exact", "0123456789", 10, 0, 10, nil},
		{"exact, empty", "", 0, 0, 0, nil},
		{"short", "01234", 10, 0, 5, &stream.LengthError{Want: 10, Got: 5}},
		{"long", "0123456789A", 10, 0, 10, &stream.LengthError{Want: 10, Got: 11}},
		{"under the limit", "0123456789", -1, 10, 10, nil},
		{"over the limit", "0123456789A", -1, 10, 10, &stream.LengthError{Want: -1, Limit: 10, Got: 11}},
		{"no limit", strings.Repeat("x", 100), -1, 0, 100, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var dst bytes.Buffer
			// A 3-byte buffer: lengths are enforced across chunks, not within one.
			n, err := stream.Copy(context.Background(), &dst, strings.NewReader(tt.src), tt.want, tt.limit, make([]byte, 3), nil)
			assert.Equal(t, tt.wantN, n)
			assert.Equal(t, tt.src[:n], dst.String(), "never a byte past the length")
			if tt.wantErr == nil {
				require.NoError(t, err)
				return
			}
			le, ok := errors.AsType[*stream.LengthError](err)
			require.True(t, ok, "%v", err)
			assert.Equal(t, tt.wantErr, le)
			assert.NotEmpty(t, le.Error())
		})
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, io.ErrClosedPipe }

// stuck returns (0, nil) forever, which io.Reader discourages.
type stuck struct{}

func (stuck) Read([]byte) (int, error) { return 0, nil }

func TestCopyFailures(t *testing.T) {
	buf := make([]byte, 8)
	_, err := stream.Copy(context.Background(), failWriter{}, strings.NewReader("abc"), 3, 0, buf, nil)
	we, ok := errors.AsType[*stream.WriteError](err)
	require.True(t, ok, "a failure of the sink is a WriteError: %v", err)
	assert.ErrorIs(t, we, io.ErrClosedPipe)

	boom := errors.New("disk on fire")
	_, err = stream.Copy(context.Background(), io.Discard, iotest.ErrReader(boom), 3, 0, buf, nil)
	assert.Equal(t, boom, err, "a failure of the source comes back as it is")

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	n, err := stream.Copy(ctx, io.Discard, strings.NewReader("abc"), 3, 0, buf, nil)
	assert.Zero(t, n)
	assert.ErrorIs(t, err, context.Canceled)

	_, err = stream.Copy(context.Background(), io.Discard, io.MultiReader(strings.NewReader("abc"), stuck{}), 3, 0, buf, nil)
	assert.ErrorIs(t, err, io.ErrNoProgress)
}

// slowReader yields chunk bytes every delay of (fake) time.
type slowReader struct {
	left  int
	chunk int
	delay time.Duration
}

func (s *slowReader) Read(p []byte) (int, error) {
	if s.left == 0 {
		return 0, io.EOF
	}
	time.Sleep(s.delay)
	n := min(len(p), s.chunk, s.left)
	s.left -= n
	return n, nil
}

func TestMeterBoundedRate(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		type report struct {
			sent, total int64
			at          time.Duration
		}
		var reports []report
		start := time.Now()
		m := stream.NewMeter(func(sent, total int64) {
			reports = append(reports, report{sent, total, time.Since(start)})
		}, 1000)
		src := &slowReader{left: 1000, chunk: 10, delay: 10 * time.Millisecond} // 100 chunks in 1 s
		n, err := stream.Copy(context.Background(), io.Discard, src, 1000, 0, make([]byte, 64), m)
		require.NoError(t, err)
		require.EqualValues(t, 1000, n)
		m.Done()
		m.Done()

		require.NotEmpty(t, reports)
		assert.LessOrEqual(t, len(reports), 11, "at most every 100 ms, plus the end: not per chunk")
		assert.GreaterOrEqual(t, len(reports), 5, "reported while it ran, not only at the end")
		for i := 1; i < len(reports)-1; i++ {
			assert.GreaterOrEqual(t, reports[i].at-reports[i-1].at, stream.ReportEvery)
			assert.Greater(t, reports[i].sent, reports[i-1].sent)
		}
		assert.Equal(t, report{1000, 1000, time.Second}, reports[len(reports)-1], "once at the end, with the total")
	})

	var m *stream.Meter
	m.Add(5)
	m.Done()
	assert.Zero(t, m.Sent(), "a nil Meter reports nothing and does not panic")
	assert.Nil(t, stream.NewMeter(nil, 10))
}
