package multipart_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	stdmultipart "mime/multipart"
	"net/textproto"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/heepr/heepr-go/internal/multipart"
	"github.com/heepr/heepr-go/internal/stream"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func fromString(s string) func() (io.Reader, error) {
	return func() (io.Reader, error) { return strings.NewReader(s), nil }
}

func sampleParts() []multipart.Part {
	big := strings.Repeat("0123456789abcdef", 10_000) // spans several buffers
	return []multipart.Part{
		{Name: "payload", ContentType: "application/json", Size: 15, Open: fromString(`{"text":"hey"}` + "\n")},
		{Name: "files", FileName: `a "quoted" vidéo.mp4`, ContentType: "video/mp4", Size: int64(len(big)), Open: fromString(big)},
		{Name: "files", FileName: "empty.bin", ContentType: "application/octet-stream", Size: 0, Open: fromString("")},
	}
}

// mimeWriterBody is what mime/multipart's Writer makes of the same parts: the
// framing this package must match byte for byte.
func mimeWriterBody(t *testing.T, boundary string, parts []multipart.Part) []byte {
	var buf bytes.Buffer
	w := stdmultipart.NewWriter(&buf)
	require.NoError(t, w.SetBoundary(boundary))
	for _, p := range parts {
		h := textproto.MIMEHeader{}
		cd := `form-data; name="` + p.Name + `"`
		if p.FileName != "" {
			cd += `; filename="` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(p.FileName) + `"`
		}
		h.Set("Content-Disposition", cd)
		h.Set("Content-Type", p.ContentType)
		pw, err := w.CreatePart(h)
		require.NoError(t, err)
		r, _ := p.Open()
		_, err = io.Copy(pw, r)
		require.NoError(t, err)
	}
	require.NoError(t, w.Close())
	return buf.Bytes()
}

func readBody(t *testing.T, f *multipart.Form, progress func(sent, total int64)) []byte {
	t.Helper()
	b := f.Body(context.Background(), progress)
	got, err := io.ReadAll(b)
	require.NoError(t, err)
	require.NoError(t, b.Wait())
	return got
}

func TestFormBytes(t *testing.T) {
	parts := sampleParts()
	boundary := multipart.NewBoundary()
	f, err := multipart.NewForm(boundary, parts)
	require.NoError(t, err)
	assert.Equal(t, "multipart/form-data; boundary="+boundary, f.ContentType())

	var reports [][2]int64
	first := readBody(t, f, func(sent, total int64) { reports = append(reports, [2]int64{sent, total}) })
	assert.Equal(t, mimeWriterBody(t, boundary, parts), first, "the framing of mime/multipart, byte for byte")
	assert.EqualValues(t, len(first), f.Len(), "Len is the exact length, computed without writing")
	assert.Equal(t, [2]int64{f.Len(), f.Len()}, reports[len(reports)-1], "progress ends at the total")
	assert.Equal(t, first, readBody(t, f, nil), "every body is the same bytes")

	// And it parses back to the parts.
	mr := stdmultipart.NewReader(bytes.NewReader(first), boundary)
	for i, want := range parts {
		p, err := mr.NextPart()
		require.NoError(t, err, "part %d", i)
		assert.Equal(t, want.Name, p.FormName())
		assert.Equal(t, want.FileName, p.FileName())
		assert.Equal(t, want.ContentType, p.Header.Get("Content-Type"))
		got, _ := io.ReadAll(p)
		r, _ := want.Open()
		w, _ := io.ReadAll(r)
		assert.Equal(t, w, got)
	}
	_, err = mr.NextPart()
	assert.ErrorIs(t, err, io.EOF)
}

func TestFormUnknownSize(t *testing.T) {
	f, err := multipart.NewForm("b", []multipart.Part{
		{Name: "files", FileName: "x", Size: -1, Limit: 5, Open: fromString("12345")},
	})
	require.NoError(t, err)
	assert.EqualValues(t, -1, f.Len())
	assert.Contains(t, string(readBody(t, f, nil)), "\r\n\r\n12345\r\n--b--\r\n")
}

func TestPartFailures(t *testing.T) {
	boom := errors.New("unreadable")
	tests := []struct {
		name string
		part multipart.Part
		want func(t *testing.T, err error)
	}{
		{"open fails", multipart.Part{Name: "files", Size: 1, Open: func() (io.Reader, error) { return nil, boom }},
			func(t *testing.T, err error) { assert.ErrorIs(t, err, boom) }},
		{"shorter than its size", multipart.Part{Name: "files", Size: 10, Open: fromString("12345")},
			func(t *testing.T, err error) {
				le, ok := errors.AsType[*stream.LengthError](err)
				require.True(t, ok)
				assert.True(t, le.Short())
			}},
		{"longer than its size", multipart.Part{Name: "files", Size: 3, Open: fromString("12345")},
			func(t *testing.T, err error) { _, ok := errors.AsType[*stream.LengthError](err); assert.True(t, ok) }},
		{"over its limit", multipart.Part{Name: "files", Size: -1, Limit: 3, Open: fromString("12345")},
			func(t *testing.T, err error) { _, ok := errors.AsType[*stream.LengthError](err); assert.True(t, ok) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok := multipart.Part{Name: "payload", Size: 2, Open: fromString("{}")}
			f, err := multipart.NewForm("b", []multipart.Part{ok, tt.part})
			require.NoError(t, err)
			b := f.Body(context.Background(), nil)
			got, err := io.ReadAll(b)
			require.Error(t, err, "the reader sees the failure, not a clean EOF")
			assert.NotContains(t, string(got), "--b--", "the body never closes cleanly")
			werr := b.Wait()
			pe, isPart := errors.AsType[*multipart.PartError](werr)
			require.True(t, isPart, "%v", werr)
			assert.Equal(t, 1, pe.Index)
			assert.True(t, pe.Permanent())
			tt.want(t, pe)
		})
	}
}

// A body that is closed, never read, or cancelled ends its writer; Wait
// returns, and goleak (TestMain) finds no goroutine left.
func TestBodyEnds(t *testing.T) {
	big := strings.Repeat("x", 1<<20)
	f, err := multipart.NewForm("b", []multipart.Part{{Name: "files", Size: int64(len(big)), Open: fromString(big)}})
	require.NoError(t, err)

	t.Run("never read", func(t *testing.T) {
		b := f.Body(context.Background(), nil)
		assert.NoError(t, b.Wait())
		_, err := b.Read(make([]byte, 1))
		assert.Error(t, err)
	})
	t.Run("closed mid-way", func(t *testing.T) {
		b := f.Body(context.Background(), nil)
		_, err := io.ReadFull(b, make([]byte, 1000))
		require.NoError(t, err)
		assert.NoError(t, b.Close())
		assert.NoError(t, b.Wait(), "closing is not a failure of a part")
	})
	t.Run("context cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		b := f.Body(ctx, nil)
		_, err := io.ReadFull(b, make([]byte, 1000))
		require.NoError(t, err)
		cancel()
		_, err = io.ReadAll(b)
		assert.ErrorIs(t, err, context.Canceled)
		assert.NoError(t, b.Wait())
	})
}

func TestNewFormRefuses(t *testing.T) {
	open := fromString("")
	tests := []struct {
		name     string
		boundary string
		parts    []multipart.Part
		want     string
	}{
		{"empty boundary", "", []multipart.Part{{Name: "a", Open: open}}, "boundary"},
		{"long boundary", strings.Repeat("b", 71), []multipart.Part{{Name: "a", Open: open}}, "boundary"},
		{"boundary with CRLF", "a\r\nb", []multipart.Part{{Name: "a", Open: open}}, "boundary"},
		{"no parts", "b", nil, "no parts"},
		{"no name", "b", []multipart.Part{{Open: open}}, "no name"},
		{"no open", "b", []multipart.Part{{Name: "a"}}, "no Open"},
		{"bad size", "b", []multipart.Part{{Name: "a", Size: -2, Open: open}}, "size"},
		{"header injection", "b", []multipart.Part{{Name: "a", FileName: "x\r\nX-Evil: 1", Open: open}}, "control character"},
		{"content type injection", "b", []multipart.Part{{Name: "a", ContentType: "text/plain\r\nX-Evil: 1", Open: open}}, "control character"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := multipart.NewForm(tt.boundary, tt.parts)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
	assert.Len(t, multipart.NewBoundary(), 60)
	assert.NotEqual(t, multipart.NewBoundary(), multipart.NewBoundary())
}
