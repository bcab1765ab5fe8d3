package client_test

// The client when the server or the input is hostile: each test is a case
// found against v0.1.0 (issue 14).

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/heepr/heepr-go/client"
	herrors "github.com/heepr/heepr-go/errors"
	"github.com/heepr/heepr-go/heeprtest"
	"github.com/heepr/heepr-go/models"
)

// Case 3: once an upload's body is sent, the attempt timeout bounds the wait
// for its answer: a server that never answers cannot hold a handler until
// shutdown.
func TestUploadAnswerTimeout(t *testing.T) {
	var received atomic.Int64
	release := make(chan struct{})
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, _ := io.Copy(io.Discard, r.Body)
		received.Add(n)
		select { // never answers
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer ts.Close()
	defer close(release)
	c, err := client.New(client.WithBaseURL(ts.URL+"/api"), client.WithAPIKey("sk_live_uploaduploadupload"),
		client.WithAttemptTimeout(200*time.Millisecond), client.WithRetry(client.RetryPolicy{MaxAttempts: 1}))
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	data := bytes.Repeat([]byte("x"), 1<<20)
	_, err = c.Deliver(ctx, "ord_1", client.Delivery{Files: []client.File{client.FileFromBytes("big.bin", data)}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "no answer within 200ms of the request being sent whole (WithAttemptTimeout)")
	assert.True(t, herrors.IsRetryable(err), "a timeout: retried under the same Idempotency-Key when retries are on")
	assert.NoError(t, ctx.Err(), "ended by the attempt timeout, not the caller's context")
	assert.Greater(t, received.Load(), int64(len(data)), "the whole body reached the server first")
}

// Case 4: ids that would not name one path segment are refused before any
// request, and the error names the argument.
func TestPathIDsRefused(t *testing.T) {
	srv, a, c := registered(t)
	before := len(srv.Requests())
	ctx := context.Background()
	for _, id := range []string{"", ".", "..", strings.Repeat("o", 300), "ord\x00_1", "ord\n1"} {
		calls := map[string]error{}
		_, calls["deliver"] = c.Deliver(ctx, id, client.Delivery{Text: "x"})
		_, calls["decline"] = c.Decline(ctx, id, client.DeclineParams{Reason: models.DeclineReasonCapacity})
		_, calls["flag"] = c.Flag(ctx, id, client.FlagParams{Reason: models.FlagReasonOther})
		_, calls["progress"] = c.ReportProgress(ctx, id, client.ProgressParams{Percent: 50})
		for name, err := range calls {
			require.Error(t, err, "%s %q", name, id)
			assert.Contains(t, err.Error(), "order id", "%s %q: the error names the argument", name, id)
		}
	}
	_, err := client.New(client.WithAgentID(".."))
	assert.ErrorContains(t, err, `WithAgentID: agent id ".." is a dot segment, not an id`)
	_, err = c.Register(ctx, "bs_abcdefghijkl", "..")
	assert.ErrorContains(t, err, "agent id")
	_, err = c.SkillFile(ctx, "..")
	assert.ErrorContains(t, err, `skill file name ".." is a dot segment`)
	assert.Len(t, srv.Requests(), before, "nothing reached the platform")
	_ = a
}

// answering answers every POST with status and body, and counts them.
type answering struct {
	next   http.RoundTripper
	status int
	body   string
	posts  atomic.Int32
}

func (a *answering) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method != http.MethodPost {
		return a.next.RoundTrip(req)
	}
	a.posts.Add(1)
	if req.Body != nil {
		_, _ = io.Copy(io.Discard, req.Body)
		_ = req.Body.Close()
	}
	return &http.Response{StatusCode: a.status, Header: http.Header{"Content-Type": {"application/json"}, "X-Request-Id": {"req_77"}},
		Body: io.NopCloser(strings.NewReader(a.body)), Request: req}, nil
}

// Case 5: a 2xx answer that breaks the spec is an error of its own, not a
// success with an empty receipt; a write is not retried for it, and an ERROR
// line says the write may have happened.
func TestSpecBreakingAnswers(t *testing.T) {
	for _, body := range []string{`{}`, `{"id":"dlv_1","order_id":"ord_1","state":"pending_review"} {}`, `not json`} {
		t.Run(body, func(t *testing.T) {
			srv := heeprtest.NewServer()
			a := srv.AddAgent(heeprtest.Registered())
			hc := srv.HTTPClient()
			rt := &answering{next: hc.Transport, status: http.StatusAccepted, body: body}
			hc.Transport = rt
			var logs logLines
			c, err := client.New(client.WithHTTPClient(hc), client.WithAPIKey(a.APIKey), client.WithLogger(logs.logger()))
			require.NoError(t, err)
			ctx := context.Background()
			calls := map[string]error{}
			r, err := c.Deliver(ctx, "ord_1", client.Delivery{Text: "x"})
			assert.Nil(t, r)
			calls["deliver"] = err
			_, calls["deliver files"] = c.Deliver(ctx, "ord_1", client.Delivery{Files: []client.File{client.FileFromBytes("a.txt", []byte("a"))}})
			_, calls["decline"] = c.Decline(ctx, "ord_1", client.DeclineParams{Reason: models.DeclineReasonCapacity})
			_, calls["flag"] = c.Flag(ctx, "ord_1", client.FlagParams{Reason: models.FlagReasonOther})
			_, calls["status"] = c.SetStatus(ctx, client.StatusParams{Status: models.AgentStatusActive})
			_, calls["progress"] = c.ReportProgress(ctx, "ord_1", client.ProgressParams{Percent: 10})
			for name, err := range calls {
				require.ErrorIs(t, err, herrors.ErrInvalidResponse, name)
				assert.Contains(t, err.Error(), "(request req_77)", name)
			}
			assert.Equal(t, int32(len(calls)), rt.posts.Load(), "no write retried")
			assert.Equal(t, len(calls), strings.Count(logs.String(), "level=ERROR"), logs.String())
			assert.Contains(t, logs.String(), "the write may have happened")
		})
	}
}

// failingTransport fails every request as a reset connection would.
type failingTransport struct{ calls atomic.Int32 }

func (f *failingTransport) RoundTrip(*http.Request) (*http.Response, error) {
	f.calls.Add(1)
	return nil, syscall.ECONNRESET
}

// hugeRequestID answers 500 with a 5 MiB X-Request-Id.
type hugeRequestID struct{}

func (hugeRequestID) RoundTrip(req *http.Request) (*http.Response, error) {
	return &http.Response{StatusCode: 500, Header: http.Header{"X-Request-Id": {strings.Repeat("r", 5<<20)}, "Content-Type": {"application/json"}},
		Body: io.NopCloser(strings.NewReader(`{"error":{"code":"internal_error","message":"boom"}}`)), Request: req}, nil
}

// Case 6: no signed URL's query in a log line or an error, and no string the
// server sets kept or logged past 256 bytes.
func TestLogsAndErrorsContained(t *testing.T) {
	ctx := context.Background()
	t.Run("signed URL on the retry lines", func(t *testing.T) {
		var logs logLines
		ft := &failingTransport{}
		c, err := client.New(client.WithHTTPClient(&http.Client{Transport: ft}), client.WithAPIKey("sk_live_signedsignedsigned"),
			client.WithLogger(logs.logger()), client.WithRetry(client.RetryPolicy{MaxAttempts: 3, BaseDelay: time.Millisecond}))
		require.NoError(t, err)
		err = c.DownloadAttachment(ctx, models.Attachment{ID: "att_1", URL: "https://files.example.com/a.pdf?X-Amz-Signature=s3cr3tsig&X-Amz-Credential=cred"}, io.Discard)
		require.Error(t, err)
		require.Equal(t, int32(3), ft.calls.Load())
		assert.Contains(t, logs.String(), "files.example.com/a.pdf", "the retry lines are there")
		for _, secret := range []string{"s3cr3tsig", "X-Amz-Signature", "cred"} {
			assert.NotContains(t, logs.String(), secret)
			assert.NotContains(t, err.Error(), secret)
		}
	})
	t.Run("a 5 MiB request id", func(t *testing.T) {
		var logs logLines
		c, err := client.New(client.WithHTTPClient(&http.Client{Transport: hugeRequestID{}}), client.WithAPIKey("sk_live_hugehugehugehuge"),
			client.WithLogger(logs.logger()), client.WithRetry(client.RetryPolicy{MaxAttempts: 2, BaseDelay: time.Millisecond}))
		require.NoError(t, err)
		_, err = c.Skill(ctx)
		require.ErrorIs(t, err, herrors.ErrInternal)
		assert.Less(t, len(fmt.Sprintf("%#v", err)), 2048)
		assert.Less(t, len(fmt.Sprintf("%+v", err)), 1024)
		apiErr, ok := errors.AsType[*herrors.APIError](err)
		require.True(t, ok)
		assert.LessOrEqual(t, len(apiErr.RequestID), 260)
		assert.Less(t, len(logs.String()), 8192, "the debug lines stay small")
	})
}

// echoKey answers 401 with a message that echoes the request's key without
// its prefix.
type echoKey struct{}

func (echoKey) RoundTrip(req *http.Request) (*http.Response, error) {
	key := strings.TrimPrefix(req.Header.Get("Authorization"), "Bearer ")
	body := strings.TrimPrefix(key, "sk_live_")
	return &http.Response{StatusCode: 401, Header: http.Header{"Content-Type": {"application/json"}, "X-Request-Id": {"req_" + body}},
		Body: io.NopCloser(strings.NewReader(`{"error":{"code":"unauthorized","message":"unknown key ` + body + ` (` + key + `)"}}`)), Request: req}, nil
}

// Case 7: the client's own key is redacted in any form a server echoes it
// in, in errors and log lines; a short key of another shape prints nothing of
// itself.
func TestRedactsOwnKeyInAnyForm(t *testing.T) {
	const key = "sk_live_4f9c2a7e1b8d4c6a9e0f3b5d7a1c2e4f"
	const body = "4f9c2a7e1b8d4c6a9e0f3b5d7a1c2e4f"
	var logs logLines
	var attempts []client.Attempt
	seeAttempts := func(next client.Invoker) client.Invoker {
		return func(ctx context.Context, call *client.Call) error {
			call.OnAttempt(func(_ context.Context, a client.Attempt) { attempts = append(attempts, a) })
			return next(ctx, call)
		}
	}
	c, err := client.New(client.WithHTTPClient(&http.Client{Transport: echoKey{}}), client.WithAPIKey(key), client.WithLogger(logs.logger()),
		client.WithMiddleware(seeAttempts))
	require.NoError(t, err)
	var info client.ResponseInfo
	_, err = c.Skill(context.Background(), client.WithResponseInto(&info))
	require.ErrorIs(t, err, herrors.ErrUnauthorized)
	require.Len(t, attempts, 1)
	for _, s := range []string{err.Error(), fmt.Sprintf("%#v", err), logs.String(), fmt.Sprintf("%#v", info), fmt.Sprintf("%#v", attempts)} {
		assert.NotContains(t, s, body[:12], s)
	}
	assert.Equal(t, 401, info.StatusCode, "ResponseInfo and the attempt hook pass the redactor too")
	assert.Contains(t, err.Error(), "unknown key sk_live_…2e4f")
	c.Logger().Warn("a line with the key", "echo", "key="+body)
	assert.NotContains(t, logs.String(), body[:12])

	short := models.APIKey("abcd_efgh_ij")
	for _, s := range []string{short.String(), fmt.Sprintf("%v %+v %#v %q", short, short, short, short)} {
		assert.NotContains(t, s, "abcd")
		assert.NotContains(t, s, "efgh")
	}
}

// Case 8: data after the JSON of an answer is an error, not ignored.
func TestTrailingDataRefused(t *testing.T) {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"body":"# skill","content_hash":"h1"}{"body":"# other","content_hash":"h2"}`))
	}))
	defer ts.Close()
	c, err := client.New(client.WithBaseURL(ts.URL+"/api"), client.WithAPIKey("sk_live_trailingtrailing"))
	require.NoError(t, err)
	_, err = c.Skill(context.Background())
	require.ErrorIs(t, err, herrors.ErrInvalidResponse)
	assert.Contains(t, err.Error(), "data after the JSON answer")
}
