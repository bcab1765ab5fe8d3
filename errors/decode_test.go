package errors_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	herrors "github.com/heepr/heepr-go/errors"
	"github.com/heepr/heepr-go/models"
)

// allSentinels is every sentinel, for the errors.Is matrix: each case states
// which of them must match, and every other one must not.
var allSentinels = []struct {
	name string
	err  error
}{
	{"ErrBootstrapUnknown", herrors.ErrBootstrapUnknown},
	{"ErrBootstrapUsed", herrors.ErrBootstrapUsed},
	{"ErrBootstrapExpired", herrors.ErrBootstrapExpired},
	{"ErrActiveKeyExists", herrors.ErrActiveKeyExists},
	{"ErrKeyExpired", herrors.ErrKeyExpired},
	{"ErrKeyRevoked", herrors.ErrKeyRevoked},
	{"ErrUnauthorized", herrors.ErrUnauthorized},
	{"ErrForbidden", herrors.ErrForbidden},
	{"ErrNotFound", herrors.ErrNotFound},
	{"ErrInvalidRequest", herrors.ErrInvalidRequest},
	{"ErrConflict", herrors.ErrConflict},
	{"ErrRateLimited", herrors.ErrRateLimited},
	{"ErrInternal", herrors.ErrInternal},
	{"ErrUnavailable", herrors.ErrUnavailable},
}

// assertMatches checks errors.Is(err, s) for every sentinel: true exactly for
// those in want.
func assertMatches(t *testing.T, err error, want ...error) {
	t.Helper()
	for _, s := range allSentinels {
		wanted := false
		for _, w := range want {
			wanted = wanted || w == s.err
		}
		assert.Equal(t, wanted, errors.Is(err, s.err), "errors.Is(err, %s) for %v", s.name, err)
	}
}

// codeCases is, per code of the spec, the status the spec documents it under,
// its sentinel and its generic class.
var codeCases = map[models.ErrorCode]struct {
	status          int
	sentinel, class error
}{
	models.ErrorCodeBootstrapUnknown:     {401, herrors.ErrBootstrapUnknown, herrors.ErrUnauthorized},
	models.ErrorCodeBootstrapUsed:        {401, herrors.ErrBootstrapUsed, herrors.ErrUnauthorized},
	models.ErrorCodeBootstrapExpired:     {401, herrors.ErrBootstrapExpired, herrors.ErrUnauthorized},
	models.ErrorCodeActiveKeyExists:      {409, herrors.ErrActiveKeyExists, herrors.ErrConflict},
	models.ErrorCodeKeyExpired:           {401, herrors.ErrKeyExpired, herrors.ErrUnauthorized},
	models.ErrorCodeKeyRevoked:           {401, herrors.ErrKeyRevoked, herrors.ErrUnauthorized},
	models.ErrorCodeUnauthorized:         {401, herrors.ErrUnauthorized, herrors.ErrUnauthorized},
	models.ErrorCodeForbidden:            {403, herrors.ErrForbidden, herrors.ErrForbidden},
	models.ErrorCodeNotFound:             {404, herrors.ErrNotFound, herrors.ErrNotFound},
	models.ErrorCodeInvalidRequest:       {400, herrors.ErrInvalidRequest, herrors.ErrInvalidRequest},
	models.ErrorCodeConflict:             {409, herrors.ErrConflict, herrors.ErrConflict},
	models.ErrorCodeRateLimited:          {429, herrors.ErrRateLimited, herrors.ErrRateLimited},
	models.ErrorCodeInternalError:        {500, herrors.ErrInternal, herrors.ErrInternal},
	models.ErrorCodeUnavailable:          {503, herrors.ErrUnavailable, herrors.ErrUnavailable},
	models.ErrorCodeMethodNotAllowed:     {405, herrors.ErrMethodNotAllowed, herrors.ErrInvalidRequest},
	models.ErrorCodeIdempotencyKeyReused: {422, herrors.ErrIdempotencyKeyReused, herrors.ErrInvalidRequest},
}

// response is what one case's server answers.
type response struct {
	status int
	header map[string]string
	body   string
}

// serve starts a server answering each case under /<index> and returns a
// function that GETs a case with the default client and decodes it.
func serve(t *testing.T, responses []response) func(i int) (*http.Response, error) {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i, err := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/"))
		if err != nil || i < 0 || i >= len(responses) {
			http.Error(w, "no such case", http.StatusTeapot)
			return
		}
		c := responses[i]
		if _, ok := c.header["Content-Type"]; !ok {
			w.Header()["Content-Type"] = nil // no sniffing: the case says what is sent
		}
		for k, v := range c.header {
			w.Header().Set(k, v)
		}
		w.WriteHeader(c.status)
		_, _ = io.WriteString(w, c.body)
	}))
	t.Cleanup(srv.Close)
	return func(i int) (*http.Response, error) {
		resp, err := http.Get(srv.URL + "/" + strconv.Itoa(i))
		if err != nil {
			return nil, err
		}
		t.Cleanup(func() { _ = resp.Body.Close() })
		return resp, herrors.FromResponse(resp)
	}
}

func envelope(code, message, requestID string) string {
	return fmt.Sprintf(`{"error":{"code":%q,"message":%q,"request_id":%q}}`, code, message, requestID)
}

// TestFromResponseEveryCode serves the envelope of every code of the spec
// under the status the spec documents it with, and checks the decoded error
// against the whole errors.Is matrix: each specific sentinel matches exactly
// its code, each generic one its class.
func TestFromResponseEveryCode(t *testing.T) {
	codes := herrors.SpecErrorCodes(t)
	require.Len(t, codeCases, len(codes), "codeCases must cover exactly the spec's codes")
	var responses []response
	for _, code := range codes {
		c, ok := codeCases[code]
		require.True(t, ok, "no test case for the spec's code %q", code)
		responses = append(responses, response{
			status: c.status,
			header: map[string]string{"Content-Type": "application/json", "X-Request-Id": "req_header"},
			body:   envelope(string(code), "Message for "+string(code)+".", "req_"+string(code)),
		})
	}
	get := serve(t, responses)
	for i, code := range codes {
		t.Run(string(code), func(t *testing.T) {
			c := codeCases[code]
			resp, err := get(i)
			require.NotNil(t, resp)
			var apiErr *herrors.APIError
			require.ErrorAs(t, err, &apiErr)
			assert.Equal(t, c.status, apiErr.StatusCode)
			assert.Equal(t, code, apiErr.Code)
			assert.Equal(t, "Message for "+string(code)+".", apiErr.Message)
			assert.Equal(t, "req_"+string(code), apiErr.RequestID, "the envelope's request_id wins over the header")
			assert.Equal(t, code, herrors.Code(err))
			assert.Equal(t, responses[i].body, string(apiErr.Body))
			assert.Same(t, c.sentinel, herrors.Sentinel(code))
			assertMatches(t, err, c.sentinel, c.class)
			assert.Equal(t, fmt.Sprintf("heepr: %d %s: Message for %s (request req_%s)", c.status, code, code, code), err.Error())
		})
	}
}

// TestFromResponseMalformed serves every shape of body a real deployment
// meets besides the envelope: each still yields an *APIError with the status,
// the code when one can be found, a useful message, and the right sentinels.
func TestFromResponseMalformed(t *testing.T) {
	huge := strings.Repeat("x", 3<<20)
	tests := []struct {
		name      string
		resp      response
		code      models.ErrorCode
		message   string
		requestID string
		matches   []error
	}{
		{
			name:      "flat variant",
			resp:      response{401, map[string]string{"Content-Type": "application/json"}, `{"error":"key_revoked","message":"The owner revoked this key.","request_id":"req_flat"}`},
			code:      models.ErrorCodeKeyRevoked,
			message:   "The owner revoked this key.",
			requestID: "req_flat",
			matches:   []error{herrors.ErrKeyRevoked, herrors.ErrUnauthorized},
		},
		{
			name:    "flat code member",
			resp:    response{409, nil, `{"code":"active_key_exists","message":"Revoke it first."}`},
			code:    models.ErrorCodeActiveKeyExists,
			message: "Revoke it first.",
			matches: []error{herrors.ErrActiveKeyExists, herrors.ErrConflict},
		},
		{
			name:    "empty body 503",
			resp:    response{503, nil, ""},
			message: "Service Unavailable",
			matches: []error{herrors.ErrUnavailable},
		},
		{
			name:    "empty body 500",
			resp:    response{500, nil, ""},
			message: "Internal Server Error",
			matches: []error{herrors.ErrInternal},
		},
		{
			name:    "empty JSON object",
			resp:    response{404, map[string]string{"Content-Type": "application/json"}, `{}`},
			message: "Not Found",
			matches: []error{herrors.ErrNotFound},
		},
		{
			name:    "HTML from a proxy",
			resp:    response{502, map[string]string{"Content-Type": "text/html"}, "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>\n"},
			message: "Bad Gateway",
			matches: []error{herrors.ErrUnavailable},
		},
		{
			name:    "HTML error page on a 401",
			resp:    response{401, map[string]string{"Content-Type": "text/html; charset=utf-8"}, "<!DOCTYPE html><p>Unauthorized</p>"},
			message: "Unauthorized",
			matches: []error{herrors.ErrUnauthorized},
		},
		{
			name:    "plain text from a proxy",
			resp:    response{504, map[string]string{"Content-Type": "text/plain"}, "upstream request timeout\nsecond line"},
			message: "upstream request timeout",
			matches: []error{herrors.ErrUnavailable},
		},
		{
			name:    "text labelled HTML is not a message",
			resp:    response{503, map[string]string{"Content-Type": "text/html"}, "maintenance"},
			message: "Service Unavailable",
			matches: []error{herrors.ErrUnavailable},
		},
		{
			name:      "truncated JSON keeps the code read before the cut",
			resp:      response{401, map[string]string{"Content-Type": "application/json"}, `{"error":{"code":"key_expired","request_id":"req_cut","message":"The key exp`},
			code:      models.ErrorCodeKeyExpired,
			requestID: "req_cut",
			message:   "Unauthorized",
			matches:   []error{herrors.ErrKeyExpired, herrors.ErrUnauthorized},
		},
		{
			name:    "truncated JSON before any code",
			resp:    response{500, map[string]string{"Content-Type": "application/json"}, `{"error":{"mess`},
			message: "Internal Server Error",
			matches: []error{herrors.ErrInternal},
		},
		{
			name:      "JSON under text/plain",
			resp:      response{409, map[string]string{"Content-Type": "text/plain"}, envelope("active_key_exists", "Revoke it.", "req_txt")},
			code:      models.ErrorCodeActiveKeyExists,
			message:   "Revoke it.",
			requestID: "req_txt",
			matches:   []error{herrors.ErrActiveKeyExists, herrors.ErrConflict},
		},
		{
			name:    "JSON under text/html with a BOM and whitespace",
			resp:    response{403, map[string]string{"Content-Type": "text/html"}, "\xef\xbb\xbf \n" + envelope("forbidden", "Not yours.", "")},
			code:    models.ErrorCodeForbidden,
			message: "Not yours.",
			matches: []error{herrors.ErrForbidden},
		},
		{
			name:      "JSON with no Content-Type",
			resp:      response{429, nil, envelope("rate_limited", "Slow down.", "req_nc")},
			code:      models.ErrorCodeRateLimited,
			message:   "Slow down.",
			requestID: "req_nc",
			matches:   []error{herrors.ErrRateLimited},
		},
		{
			name:    "unknown code falls back on the status",
			resp:    response{403, nil, envelope("agent_suspended", "The agent is suspended.", "")},
			code:    "agent_suspended",
			message: "The agent is suspended.",
			matches: []error{herrors.ErrForbidden},
		},
		{
			name:    "unknown code on a 401 is still unauthorized",
			resp:    response{401, nil, envelope("key_rotated", "Rotated.", "")},
			code:    "key_rotated",
			message: "Rotated.",
			matches: []error{herrors.ErrUnauthorized},
		},
		{
			name:    "unknown code on an unclassified status",
			resp:    response{418, nil, envelope("teapot", "Short and stout.", "")},
			code:    "teapot",
			message: "Short and stout.",
		},
		{
			name:    "missing code",
			resp:    response{404, nil, `{"error":{"message":"No order ord_9."}}`},
			message: "No order ord_9.",
			matches: []error{herrors.ErrNotFound},
		},
		{
			name:    "code of the wrong type",
			resp:    response{422, nil, `{"error":{"code":42,"message":"bad"}}`},
			message: "bad",
			matches: []error{herrors.ErrInvalidRequest},
		},
		{
			name:    "message of the wrong type",
			resp:    response{413, nil, `{"error":{"code":"invalid_request","message":{"nested":[1,2,{"x":null}]}}}`},
			code:    models.ErrorCodeInvalidRequest,
			message: "Request Entity Too Large",
			matches: []error{herrors.ErrInvalidRequest},
		},
		{
			name:    "error is an array",
			resp:    response{400, nil, `{"error":["a",{"b":1}],"message":"flat message"}`},
			message: "flat message",
			matches: []error{herrors.ErrInvalidRequest},
		},
		{
			name:    "envelope wins over flat members",
			resp:    response{401, nil, `{"code":"unauthorized","message":"flat","error":{"code":"key_revoked","message":"nested"}}`},
			code:    models.ErrorCodeKeyRevoked,
			message: "nested",
			matches: []error{herrors.ErrKeyRevoked, herrors.ErrUnauthorized},
		},
		{
			name:    "keys in another case",
			resp:    response{401, nil, `{"Error":{"Code":"bootstrap_used","Message":"Used."}}`},
			code:    models.ErrorCodeBootstrapUsed,
			message: "Used.",
			matches: []error{herrors.ErrBootstrapUsed, herrors.ErrUnauthorized},
		},
		{
			name:    "deep nesting before the envelope",
			resp:    response{409, nil, `{"x":` + strings.Repeat("[", 5000) + strings.Repeat("]", 5000) + `,"error":{"code":"conflict","message":"Flagged."}}`},
			code:    models.ErrorCodeConflict,
			message: "Flagged.",
			matches: []error{herrors.ErrConflict},
		},
		{
			name:    "JSON array",
			resp:    response{400, nil, `[{"error":"key_revoked"}]`},
			message: "Bad Request",
			matches: []error{herrors.ErrInvalidRequest},
		},
		{
			name:    "JSON null",
			resp:    response{500, nil, `null`},
			message: "null",
			matches: []error{herrors.ErrInternal},
		},
		{
			name:    "binary garbage",
			resp:    response{502, map[string]string{"Content-Type": "application/octet-stream"}, "\x00\x01\x02\xff\xfe"},
			message: "Bad Gateway",
			matches: []error{herrors.ErrUnavailable},
		},
		{
			name:      "request id from the header",
			resp:      response{404, map[string]string{"X-Request-Id": " req_hdr "}, envelope("not_found", "Gone.", "")},
			code:      models.ErrorCodeNotFound,
			message:   "Gone.",
			requestID: "req_hdr",
			matches:   []error{herrors.ErrNotFound},
		},
		{
			name:      "request id from the header on an HTML page",
			resp:      response{502, map[string]string{"Content-Type": "text/html", "X-Request-Id": "req_proxy"}, "<h1>Bad Gateway</h1>"},
			message:   "Bad Gateway",
			requestID: "req_proxy",
			matches:   []error{herrors.ErrUnavailable},
		},
		{
			name:    "bare 501",
			resp:    response{501, nil, ""},
			message: "Not Implemented",
			matches: []error{herrors.ErrInternal},
		},
		{
			name:    "bare 504",
			resp:    response{504, nil, ""},
			message: "Gateway Timeout",
			matches: []error{herrors.ErrUnavailable},
		},
		{
			name:    "bare 413",
			resp:    response{413, nil, ""},
			message: "Request Entity Too Large",
			matches: []error{herrors.ErrInvalidRequest},
		},
		{
			name:    "bare 422",
			resp:    response{422, nil, ""},
			message: "Unprocessable Entity",
			matches: []error{herrors.ErrInvalidRequest},
		},
		{
			name:    "bare 409",
			resp:    response{409, nil, ""},
			message: "Conflict",
			matches: []error{herrors.ErrConflict},
		},
		{
			name:    "not modified is not success",
			resp:    response{304, nil, ""},
			message: "Not Modified",
		},
		{
			name:    "status without a text",
			resp:    response{599, nil, ""},
			message: "unexpected HTTP status",
			matches: []error{herrors.ErrInternal},
		},
		{
			name:      "a huge envelope is cut at the cap but keeps its code",
			resp:      response{500, map[string]string{"Content-Type": "application/json"}, `{"error":{"code":"internal_error","request_id":"req_big","message":"` + huge + `"}}`},
			code:      models.ErrorCodeInternalError,
			requestID: "req_big",
			message:   "Internal Server Error",
			matches:   []error{herrors.ErrInternal},
		},
		{
			name:    "a huge HTML page",
			resp:    response{504, map[string]string{"Content-Type": "text/html"}, "<html>" + huge},
			message: "Gateway Timeout",
			matches: []error{herrors.ErrUnavailable},
		},
	}
	responses := make([]response, len(tests))
	for i, tt := range tests {
		responses[i] = tt.resp
	}
	get := serve(t, responses)
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := get(i)
			var apiErr *herrors.APIError
			require.ErrorAs(t, err, &apiErr)
			assert.Equal(t, tt.resp.status, apiErr.StatusCode)
			assert.Equal(t, tt.code, apiErr.Code)
			assert.Equal(t, tt.message, apiErr.Message)
			assert.Equal(t, tt.requestID, apiErr.RequestID)
			assert.LessOrEqual(t, len(apiErr.Body), herrors.MaxBodyBytes)
			want := tt.resp.body[:min(len(tt.resp.body), herrors.MaxBodyBytes)]
			assert.Equal(t, want, string(apiErr.Body), "Body is the raw body up to the cap")
			assertMatches(t, err, tt.matches...)
			assert.NotContains(t, err.Error(), "\n")
		})
	}
}

func TestFromResponseSuccessIsNil(t *testing.T) {
	for _, status := range []int{200, 201, 202, 204, 299} {
		t.Run(strconv.Itoa(status), func(t *testing.T) {
			rec := httptest.NewRecorder()
			rec.WriteHeader(status)
			_, _ = rec.WriteString(envelope("key_revoked", "ignored on success", ""))
			assert.NoError(t, herrors.FromResponse(rec.Result()))
		})
	}
}

func TestFromResponseNil(t *testing.T) {
	t.Run("nil response", func(t *testing.T) {
		err := herrors.FromResponse(nil)
		var apiErr *herrors.APIError
		require.ErrorAs(t, err, &apiErr)
		assert.Zero(t, apiErr.StatusCode)
		assert.Equal(t, "heepr: no HTTP response", err.Error())
		assertMatches(t, err)
	})
	t.Run("nil body and header", func(t *testing.T) {
		err := herrors.FromResponse(&http.Response{StatusCode: 503})
		var apiErr *herrors.APIError
		require.ErrorAs(t, err, &apiErr)
		assert.Equal(t, "Service Unavailable", apiErr.Message)
		assert.Nil(t, apiErr.Body)
		assertMatches(t, err, herrors.ErrUnavailable)
	})
	t.Run("http.NoBody", func(t *testing.T) {
		err := herrors.FromResponse(&http.Response{StatusCode: 401, Body: http.NoBody})
		assertMatches(t, err, herrors.ErrUnauthorized)
	})
}

// countingReader counts the bytes it gives out.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// endless gives out 'x' forever.
type endless struct{}

func (endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'x'
	}
	return len(p), nil
}

// TestFromResponseReadsAtMostTheCap: a body of many megabytes is read only up
// to MaxBodyBytes, counted at the reader, and the rest is left for the caller
// to drain or drop.
func TestFromResponseReadsAtMostTheCap(t *testing.T) {
	const size = 8 << 20
	t.Run("over the network", func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusBadGateway)
			_, _ = w.Write(bytes.Repeat([]byte("<p>"), size/3))
		}))
		defer srv.Close()
		resp, err := http.Get(srv.URL)
		require.NoError(t, err)
		defer resp.Body.Close()
		counter := &countingReader{r: resp.Body}
		resp.Body = io.NopCloser(counter)

		err = herrors.FromResponse(resp)
		var apiErr *herrors.APIError
		require.ErrorAs(t, err, &apiErr)
		assert.EqualValues(t, herrors.MaxBodyBytes, counter.n, "read exactly the cap")
		assert.Len(t, apiErr.Body, herrors.MaxBodyBytes)
		assertMatches(t, err, herrors.ErrUnavailable)

		rest, readErr := io.Copy(io.Discard, resp.Body)
		require.NoError(t, readErr, "FromResponse does not close the body")
		assert.EqualValues(t, size/3*3-herrors.MaxBodyBytes, rest, "the rest is left for the caller")
	})
	t.Run("an endless body", func(t *testing.T) {
		counter := &countingReader{r: endless{}}
		err := herrors.FromResponse(&http.Response{StatusCode: 500, Body: io.NopCloser(counter)})
		var apiErr *herrors.APIError
		require.ErrorAs(t, err, &apiErr)
		assert.EqualValues(t, herrors.MaxBodyBytes, counter.n)
		assert.Len(t, apiErr.Body, herrors.MaxBodyBytes)
	})
}

// liar is a Reader that breaks the io.Reader contract in every way it can.
type liar struct{ calls int }

func (l *liar) Read(p []byte) (int, error) {
	l.calls++
	switch l.calls % 3 {
	case 0:
		return -5, nil
	case 1:
		return len(p) + 100, nil
	default:
		return 0, nil
	}
}

// failing gives out some bytes, then fails as a dropped connection does.
type failing struct{ data []byte }

func (f *failing) Read(p []byte) (int, error) {
	if len(f.data) == 0 {
		return 0, io.ErrUnexpectedEOF
	}
	n := copy(p, f.data)
	f.data = f.data[n:]
	return n, nil
}

func TestFromResponseHostileReaders(t *testing.T) {
	t.Run("a reader that lies about counts", func(t *testing.T) {
		l := &liar{}
		var err error
		require.NotPanics(t, func() { err = herrors.FromResponse(&http.Response{StatusCode: 503, Body: io.NopCloser(l)}) })
		var apiErr *herrors.APIError
		require.ErrorAs(t, err, &apiErr)
		assert.LessOrEqual(t, len(apiErr.Body), herrors.MaxBodyBytes)
	})
	t.Run("a read error mid-body keeps what was read", func(t *testing.T) {
		body := &failing{data: []byte(`{"error":{"code":"key_revoked","message":"Revoked."}}`)}
		err := herrors.FromResponse(&http.Response{StatusCode: 401, Body: io.NopCloser(body)})
		assert.Equal(t, models.ErrorCodeKeyRevoked, herrors.Code(err))
		assertMatches(t, err, herrors.ErrKeyRevoked, herrors.ErrUnauthorized)
	})
}

// TestRetryAfterSeconds serves the delta-seconds form over a real server.
func TestRetryAfterSeconds(t *testing.T) {
	tests := []struct {
		header string
		want   time.Duration
	}{
		{"30", 30 * time.Second},
		{" 120 ", 2 * time.Minute},
		{"0", 0},
		{"-5", 0},
		{"+5", 0},
		{"1.5", 0},
		{"30s", 0},
		{"soon", 0},
		{"", 0},
		{"9223372036", 9223372036 * time.Second},
		{"9223372037", 0},              // past time.Duration's range
		{"99999999999999999999999", 0}, // past int64's range
	}
	responses := make([]response, len(tests))
	for i, tt := range tests {
		responses[i] = response{429, map[string]string{"Retry-After": tt.header}, envelope("rate_limited", "Slow down.", "")}
	}
	get := serve(t, responses)
	for i, tt := range tests {
		t.Run(strconv.Quote(tt.header), func(t *testing.T) {
			_, err := get(i)
			var apiErr *herrors.APIError
			require.ErrorAs(t, err, &apiErr)
			assert.Equal(t, tt.want, apiErr.RetryAfter)
		})
	}
}

// TestRetryAfterDate serves the HTTP-date form inside a synctest bubble, so
// time.Now() is the bubble's fake clock and the wait is exact. The response
// comes from an httptest.ResponseRecorder: a socket is not durably blocking,
// so the bubble cannot use one.
func TestRetryAfterDate(t *testing.T) {
	respond := func(retryAfter string) *http.Response {
		rec := httptest.NewRecorder()
		rec.Header().Set("Retry-After", retryAfter)
		rec.Header().Set("Content-Type", "application/json")
		rec.WriteHeader(http.StatusServiceUnavailable)
		_, _ = rec.WriteString(envelope("unavailable", "Down for maintenance.", "req_503"))
		return rec.Result()
	}
	retryAfter := func(t *testing.T, resp *http.Response) time.Duration {
		t.Helper()
		var apiErr *herrors.APIError
		require.ErrorAs(t, herrors.FromResponse(resp), &apiErr)
		return apiErr.RetryAfter
	}
	tests := []struct {
		name   string
		header func(now time.Time) string
		want   time.Duration
	}{
		{"IMF-fixdate", func(now time.Time) string { return now.Add(90 * time.Second).UTC().Format(http.TimeFormat) }, 90 * time.Second},
		{"RFC 850", func(now time.Time) string { return now.Add(time.Hour).UTC().Format(time.RFC850) }, time.Hour},
		{"ANSI C asctime", func(now time.Time) string { return now.Add(5 * time.Minute).UTC().Format(time.ANSIC) }, 5 * time.Minute},
		{"now", func(now time.Time) string { return now.UTC().Format(http.TimeFormat) }, 0},
		{"in the past", func(now time.Time) string { return now.Add(-time.Minute).UTC().Format(http.TimeFormat) }, 0},
		{"not a date", func(time.Time) string { return "Tomorrow, after lunch" }, 0},
		{"far future", func(time.Time) string { return "Fri, 31 Dec 9999 23:59:59 GMT" }, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				assert.Equal(t, tt.want, retryAfter(t, respond(tt.header(time.Now()))))
			})
		})
	}

	t.Run("measured from when the response is decoded", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			header := time.Now().Add(90 * time.Second).UTC().Format(http.TimeFormat)
			time.Sleep(30 * time.Second) // the bubble's clock: no real time passes
			assert.Equal(t, time.Minute, retryAfter(t, respond(header)))
			time.Sleep(2 * time.Minute)
			assert.Zero(t, retryAfter(t, respond(header)))
		})
	})
}

// TestErrorsAsThroughWrapping: the client wraps with the operation's name, and
// callers reach the fields and sentinels through any depth of wrapping.
func TestErrorsAsThroughWrapping(t *testing.T) {
	get := serve(t, []response{{429,
		map[string]string{"Retry-After": "7", "X-Request-Id": "req_hdr", "Content-Type": "application/json"},
		envelope("rate_limited", "Slow down.", "req_429"),
	}})
	_, apiErr := get(0)
	wrapped := map[string]error{
		"once":   fmt.Errorf("events: %w", apiErr),
		"twice":  fmt.Errorf("poll: %w", fmt.Errorf("events: %w", apiErr)),
		"joined": errors.Join(errors.New("journal: flush failed"), fmt.Errorf("events: %w", apiErr)),
		"multi":  fmt.Errorf("deliver ord_1: %w (after %w)", apiErr, io.ErrUnexpectedEOF),
	}
	for name, err := range wrapped {
		t.Run(name, func(t *testing.T) {
			var got *herrors.APIError
			require.ErrorAs(t, err, &got)
			assert.Equal(t, 429, got.StatusCode)
			assert.Equal(t, "req_429", got.RequestID)
			assert.Equal(t, 7*time.Second, got.RetryAfter)
			assert.Equal(t, models.ErrorCodeRateLimited, herrors.Code(err))
			assertMatches(t, err, herrors.ErrRateLimited)
			assert.True(t, herrors.IsRetryable(err))
			assert.False(t, herrors.IsFatalAuth(err))
		})
	}
	assert.Contains(t, wrapped["once"].Error(), "events: heepr: 429 rate_limited: Slow down (request req_429)")
}

func TestCode(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want models.ErrorCode
	}{
		{"nil", nil, ""},
		{"plain error", errors.New("boom"), ""},
		{"sentinel alone", herrors.ErrKeyRevoked, ""},
		{"no code", &herrors.APIError{StatusCode: 503}, ""},
		{"known", fmt.Errorf("x: %w", &herrors.APIError{StatusCode: 401, Code: "key_revoked"}), models.ErrorCodeKeyRevoked},
		{"unknown kept verbatim", &herrors.APIError{StatusCode: 403, Code: "agent_suspended"}, "agent_suspended"},
		{"typed nil", (*herrors.APIError)(nil), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, herrors.Code(tt.err))
		})
	}
}

// TestBodyIsACopy: the body is the caller's to keep; it does not alias a
// buffer FromResponse reuses.
func TestBodyIsACopy(t *testing.T) {
	src := []byte(envelope("conflict", "Flagged.", ""))
	err := herrors.FromResponse(&http.Response{StatusCode: 409, Body: io.NopCloser(bytes.NewReader(src))})
	var apiErr *herrors.APIError
	require.ErrorAs(t, err, &apiErr)
	src[0] = 'X'
	assert.Equal(t, byte('{'), apiErr.Body[0])
}
