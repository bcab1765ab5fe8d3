package errors_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"unicode/utf8"

	herrors "github.com/heepr/heepr-go/errors"
)

// FuzzFromResponse feeds FromResponse any status, Retry-After, X-Request-Id,
// Content-Type and body. Seeds live in testdata/fuzz/FuzzFromResponse
// (envelope, flat, HTML, truncated, empty, larger than the cap, …). It checks
// the promises of the package rather than particular values: no panic, an
// *APIError for every non-2xx status, a body within the cap (also as counted
// at the reader), an error string that is one bounded line of valid UTF-8 and
// contains no unredacted secret, and classifications that agree.
func FuzzFromResponse(f *testing.F) {
	f.Add(401, "", "req_1", "application/json", []byte(`{"error":{"code":"key_revoked","message":"The owner revoked this key.","request_id":"req_8f2k1m"}}`))
	f.Add(429, "30", "", "text/plain", []byte(`{"error":"rate_limited","message":"Slow down."}`))
	f.Add(503, "Wed, 21 Oct 2015 07:28:00 GMT", "", "text/html", []byte("<html>503</html>"))
	f.Add(200, "", "", "", []byte(nil))
	f.Fuzz(func(t *testing.T, status int, retryAfter, requestID, contentType string, body []byte) {
		header := http.Header{}
		header["Retry-After"] = []string{retryAfter}
		header["X-Request-Id"] = []string{requestID}
		header["Content-Type"] = []string{contentType}
		counter := &countingReader{r: bytes.NewReader(body)}
		resp := &http.Response{StatusCode: status, Header: header, Body: io.NopCloser(counter)}

		err := herrors.FromResponse(resp)

		if status >= 200 && status <= 299 {
			if err != nil {
				t.Fatalf("FromResponse(%d) = %v, want nil for a 2xx status", status, err)
			}
			return
		}
		apiErr, ok := err.(*herrors.APIError)
		if !ok || apiErr == nil {
			t.Fatalf("FromResponse(%d) = %#v, want a non-nil *APIError", status, err)
		}
		if apiErr.StatusCode != status {
			t.Errorf("StatusCode = %d, want %d", apiErr.StatusCode, status)
		}
		if len(apiErr.Body) > herrors.MaxBodyBytes || counter.n > herrors.MaxBodyBytes {
			t.Errorf("read %d bytes, kept %d: over the cap of %d", counter.n, len(apiErr.Body), herrors.MaxBodyBytes)
		}
		if want := body[:min(len(body), herrors.MaxBodyBytes)]; !bytes.Equal(apiErr.Body, want) {
			t.Errorf("Body is not the body's first %d bytes", len(want))
		}
		if apiErr.RetryAfter < 0 {
			t.Errorf("RetryAfter = %v, negative", apiErr.RetryAfter)
		}
		if apiErr.Message == "" {
			t.Error("Message is empty; it should fall back on the status")
		}
		if leak := unredacted(apiErr.Message); leak != "" {
			t.Errorf("Message holds an unredacted secret %q", leak)
		}

		for _, s := range []string{apiErr.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err)} {
			if leak := unredacted(s); leak != "" {
				t.Errorf("error string %q holds an unredacted secret %q", s, leak)
			}
		}
		msg := apiErr.Error()
		if strings.ContainsAny(msg, "\n\r") || !utf8.ValidString(msg) || len(msg) > 1024 {
			t.Errorf("Error() = %q: not one bounded line of valid UTF-8", msg)
		}

		fatal, retryable := herrors.IsFatalAuth(err), herrors.IsRetryable(err)
		if fatal && retryable {
			t.Errorf("%v is both fatal and retryable", err)
		}
		if errors.Is(err, herrors.ErrUnauthorized) && !fatal {
			t.Errorf("%v is ErrUnauthorized but not IsFatalAuth", err)
		}
		if status == http.StatusUnauthorized && !fatal {
			t.Errorf("a 401 is not IsFatalAuth")
		}
		if herrors.Code(fmt.Errorf("op: %w", err)) != apiErr.Code {
			t.Errorf("Code through wrapping differs from the field")
		}
		specific := 0
		for _, s := range allSentinels[:6] {
			if errors.Is(err, s.err) {
				specific++
				if herrors.Sentinel(apiErr.Code) != s.err {
					t.Errorf("%v matches %s but its code is %q", err, s.name, apiErr.Code)
				}
			}
		}
		if specific > 1 {
			t.Errorf("%v matches %d specific sentinels", err, specific)
		}
	})
}

// unredacted returns the first secret-looking run in s that redaction should
// have replaced, or "": a secret prefix directly followed by a token character
// (bs_ only where it starts a word, as the package defines it).
func unredacted(s string) string {
	isToken := func(c byte) bool {
		return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-'
	}
	for i := range len(s) {
		for _, p := range []string{"sk_live_", "sk_test_", "bs_"} {
			if !strings.HasPrefix(s[i:], p) || i+len(p) >= len(s) || !isToken(s[i+len(p)]) {
				continue
			}
			if p == "bs_" && i > 0 && isToken(s[i-1]) {
				continue
			}
			return s[i:min(len(s), i+len(p)+8)]
		}
	}
	return ""
}
