package client_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"sync"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/heepr/heepr-go/client"
	herrors "github.com/heepr/heepr-go/errors"
	"github.com/heepr/heepr-go/heeprtest"
	"github.com/heepr/heepr-go/models"
)

// seen is what a recording middleware saw of one call.
type seen struct {
	Operation string
	OrderID   string
	Err       error
	Attempts  int
	Status    int
	Hooks     []client.Attempt
}

// callRecorder is a middleware that records every call it wraps.
type callRecorder struct {
	mu    sync.Mutex
	calls []seen
}

func (r *callRecorder) middleware(next client.Invoker) client.Invoker {
	return func(ctx context.Context, call *client.Call) error {
		var hooks []client.Attempt
		call.OnAttempt(func(_ context.Context, a client.Attempt) { hooks = append(hooks, a) })
		err := next(ctx, call)
		r.mu.Lock()
		defer r.mu.Unlock()
		r.calls = append(r.calls, seen{call.Operation, call.OrderID, err, call.Attempts(), call.Response().StatusCode, hooks})
		return err
	}
}

func (r *callRecorder) all() []seen {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]seen(nil), r.calls...)
}

// The middleware runs once per logical call, retries or not, and sees the
// spec's operationId, the order and the error.
func TestWithMiddleware_OncePerCall(t *testing.T) {
	type call func(ctx context.Context, c *client.Client, order string, att models.Attachment) error
	tests := []struct {
		name      string
		op        string
		withOrder bool
		path      string // for a 503 injected once, "" for none
		call      call
	}{
		{"events", client.OperationPollEvents, false, "/events", func(ctx context.Context, c *client.Client, _ string, _ models.Attachment) error {
			_, err := c.Events(ctx)
			return err
		}},
		{"stream events", client.OperationPollEvents, false, "", func(ctx context.Context, c *client.Client, _ string, _ models.Attachment) error {
			return c.StreamEvents(ctx, func(client.PolledEvent) error { return nil })
		}},
		{"skill", client.OperationGetSkill, false, "/skill", func(ctx context.Context, c *client.Client, _ string, _ models.Attachment) error {
			_, err := c.Skill(ctx)
			return err
		}},
		{"skill manifest", client.OperationGetSkillFile, false, "", func(ctx context.Context, c *client.Client, _ string, _ models.Attachment) error {
			_, err := c.SkillManifest(ctx)
			return err
		}},
		{"deliver", client.OperationDeliverOrder, true, "/orders/{id}/deliver", func(ctx context.Context, c *client.Client, o string, _ models.Attachment) error {
			_, err := c.Deliver(ctx, o, client.Delivery{Text: "x"})
			return err
		}},
		{"deliver files", client.OperationDeliverOrder, true, "/orders/{id}/deliver", func(ctx context.Context, c *client.Client, o string, _ models.Attachment) error {
			_, err := c.Deliver(ctx, o, client.Delivery{Files: []client.File{client.FileFromBytes("a.txt", []byte("a"))}})
			return err
		}},
		{"decline", client.OperationDeclineOrder, true, "/orders/{id}/decline", func(ctx context.Context, c *client.Client, o string, _ models.Attachment) error {
			_, err := c.Decline(ctx, o, client.DeclineParams{Reason: models.DeclineReasonCapacity})
			return err
		}},
		{"flag", client.OperationFlagOrder, true, "/orders/{id}/flag", func(ctx context.Context, c *client.Client, o string, _ models.Attachment) error {
			_, err := c.Flag(ctx, o, client.FlagParams{Reason: models.FlagReasonIllegal})
			return err
		}},
		{"progress", client.OperationUpdateStatus, true, "/status", func(ctx context.Context, c *client.Client, o string, _ models.Attachment) error {
			_, err := c.ReportProgress(ctx, o, client.ProgressParams{Percent: 10})
			return err
		}},
		{"status", client.OperationUpdateStatus, false, "/status", func(ctx context.Context, c *client.Client, _ string, _ models.Attachment) error {
			_, err := c.SetStatus(ctx, client.StatusParams{Status: models.AgentStatusPaused})
			return err
		}},
		{"download", client.OperationDownloadAttachment, false, "", func(ctx context.Context, c *client.Client, _ string, att models.Attachment) error {
			return c.DownloadAttachment(ctx, att, &bytes.Buffer{})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var rec callRecorder
				srv, a, c := registered(t, client.WithMiddleware(rec.middleware))
				c2 := newClient(t, srv, client.WithAPIKey(c.APIKey()), client.WithAgentID(a.ID), client.WithMiddleware(rec.middleware))
				att := srv.AddFile("a.txt", "text/plain", []byte("a"))
				order := srv.PlaceOrder(a.ID, models.Order{})
				wantAttempts := 1
				if tt.path != "" {
					srv.Inject(heeprtest.Fault{Kind: heeprtest.FaultStatus, Status: 503, Path: tt.path})
					wantAttempts = 2
				}
				before := len(rec.all())
				require.NoError(t, tt.call(context.Background(), c2, order, att))
				got := rec.all()[before:]
				require.Len(t, got, 1, "once per logical call, however many attempts")
				assert.Equal(t, tt.op, got[0].Operation)
				if tt.withOrder {
					assert.Equal(t, order, got[0].OrderID)
				} else {
					assert.Empty(t, got[0].OrderID)
				}
				assert.NoError(t, got[0].Err)
				assert.Equal(t, wantAttempts, got[0].Attempts)
				assert.Len(t, got[0].Hooks, wantAttempts, "a hook per attempt")
				assert.GreaterOrEqual(t, got[0].Status, 200)
			})
		})
	}
}

// Register goes through the middleware too, and the key stays out of what it
// sees.
func TestWithMiddleware_Register(t *testing.T) {
	var rec callRecorder
	srv := heeprtest.NewServer()
	a := srv.AddAgent()
	c := newClient(t, srv, client.WithMiddleware(rec.middleware))
	_, err := c.Register(context.Background(), a.BootstrapToken, a.ID)
	require.NoError(t, err)
	got := rec.all()
	require.Len(t, got, 1)
	assert.Equal(t, client.OperationRegisterAgent, got[0].Operation)
	assert.Equal(t, 1, got[0].Attempts)
}

// The middleware sees the call's error, and every attempt through the
// per-attempt hook, retries marked.
func TestWithMiddleware_SeesErrorsAndAttempts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var rec callRecorder
		srv, a, c := registered(t, client.WithMiddleware(rec.middleware), client.WithRetry(client.RetryPolicy{MaxAttempts: 3}))
		order := srv.PlaceOrder(a.ID, models.Order{})
		srv.Inject(heeprtest.Fault{Kind: heeprtest.FaultStatus, Status: 503, Path: "/orders/{id}/decline", Times: heeprtest.Forever})
		_, err := c.Decline(context.Background(), order, client.DeclineParams{Reason: models.DeclineReasonCapacity})
		require.ErrorIs(t, err, herrors.ErrUnavailable)
		got := rec.all()
		require.Len(t, got, 2, "register, then the decline")
		d := got[1]
		assert.ErrorIs(t, d.Err, herrors.ErrUnavailable, "the middleware sees the error")
		assert.Equal(t, 3, d.Attempts)
		assert.Equal(t, http.StatusServiceUnavailable, d.Status)
		require.Len(t, d.Hooks, 3)
		for i, at := range d.Hooks {
			assert.Equal(t, i+1, at.Number)
			assert.Equal(t, http.StatusServiceUnavailable, at.StatusCode)
			assert.ErrorIs(t, at.Err, herrors.ErrUnavailable)
			assert.NotEmpty(t, at.RequestID)
			assert.Equal(t, i < 2, at.Retry, "attempt %d", at.Number)
		}
	})
}

type ctxKey struct{}

// seeCtx is a transport that records a context value of each request.
type seeCtx struct {
	next http.RoundTripper
	mu   sync.Mutex
	got  []any
}

func (s *seeCtx) RoundTrip(r *http.Request) (*http.Response, error) {
	s.mu.Lock()
	s.got = append(s.got, r.Context().Value(ctxKey{}))
	s.mu.Unlock()
	return s.next.RoundTrip(r)
}

// What a middleware adds to the context reaches every attempt's request;
// the first middleware given is the outermost.
func TestWithMiddleware_ContextAndOrder(t *testing.T) {
	srv := heeprtest.NewServer()
	a := srv.AddAgent(heeprtest.Registered())
	hc := srv.HTTPClient()
	tr := &seeCtx{next: hc.Transport}
	hc.Transport = tr
	var order []string
	mark := func(name string) client.Middleware {
		return func(next client.Invoker) client.Invoker {
			return func(ctx context.Context, call *client.Call) error {
				order = append(order, name+" in")
				err := next(context.WithValue(ctx, ctxKey{}, name), call)
				order = append(order, name+" out")
				return err
			}
		}
	}
	c, err := client.New(client.WithHTTPClient(hc), client.WithAPIKey(a.APIKey),
		client.WithMiddleware(mark("outer")), client.WithMiddleware(mark("inner")))
	require.NoError(t, err)
	srv.Inject(heeprtest.Fault{Kind: heeprtest.FaultStatus, Status: 503, Path: "/skill"})
	_, err = c.Skill(context.Background())
	require.NoError(t, err)
	assert.Equal(t, []string{"outer in", "inner in", "inner out", "outer out"}, order)
	assert.Equal(t, []any{"inner", "inner"}, tr.got, "both attempts carry the innermost context")
}

// A middleware that calls next twice repeats the call's Idempotency-Key, so
// the platform keeps one effect; a call refused before any request does not
// reach the middleware.
func TestWithMiddleware_Edges(t *testing.T) {
	twice := func(next client.Invoker) client.Invoker {
		return func(ctx context.Context, call *client.Call) error {
			if err := next(ctx, call); err != nil {
				return err
			}
			return next(ctx, call)
		}
	}
	var rec callRecorder
	srv, a, c := registered(t, client.WithMiddleware(rec.middleware, twice))
	order := srv.PlaceOrder(a.ID, models.Order{})
	_, err := c.Deliver(context.Background(), order, client.Delivery{Text: "x"})
	require.NoError(t, err)
	reqs := requestsTo(srv, "/api/orders/"+order+"/deliver")
	require.Len(t, reqs, 2)
	assert.Equal(t, reqs[0].IdempotencyKey, reqs[1].IdempotencyKey)
	assert.Len(t, srv.Deliveries(order), 1, "one effect")

	before := len(rec.all())
	_, err = c.ReportProgress(context.Background(), order, client.ProgressParams{Percent: 101})
	require.Error(t, err)
	assert.Len(t, rec.all(), before, "refused before the middleware")

	_, err = client.New(client.WithMiddleware(nil))
	assert.ErrorContains(t, err, "WithMiddleware: nil Middleware")
	_, err = client.New(client.WithMiddleware(func(client.Invoker) client.Invoker { return nil }))
	assert.ErrorContains(t, err, "returned a nil Invoker")

	stranger := func(next client.Invoker) client.Invoker {
		return func(ctx context.Context, _ *client.Call) error { return next(ctx, &client.Call{Operation: "x"}) }
	}
	c2 := newClient(t, srv, client.WithAPIKey(c.APIKey()), client.WithMiddleware(stranger))
	_, err = c2.Skill(context.Background())
	assert.ErrorContains(t, err, "a Call the client did not make")
	assert.False(t, errors.Is(err, herrors.ErrInvalidResponse))
}

// A method that performs several operations runs the middleware once for
// each: SkillFile for a Markdown file reads skill.json, then the file; and
// WithResponseInto reports the last.
func TestWithMiddleware_SeveralOperations(t *testing.T) {
	var rec callRecorder
	srv, a, c := registered(t)
	c2 := newClient(t, srv, client.WithAPIKey(c.APIKey()), client.WithAgentID(a.ID), client.WithMiddleware(rec.middleware))
	var info client.ResponseInfo
	_, err := c2.SkillFile(context.Background(), models.SkillFileNameRulesMD, client.WithResponseInto(&info))
	require.NoError(t, err)
	got := rec.all()
	require.Len(t, got, 2)
	assert.Equal(t, client.OperationGetSkillFile, got[0].Operation)
	assert.Equal(t, client.OperationGetSkillFile, got[1].Operation)
	last := lastRequest(t, srv)
	assert.Equal(t, "/api/agents/"+a.ID+"/skill/RULES.md", last.Path)
	assert.Equal(t, last.ID, info.RequestID, "the last request's")
}

// An attempt tells its method, its URL without the query, and the bytes it
// sent and read; the call the hash of its Idempotency-Key, never the key, the
// same on every attempt.
func TestCall_AttemptFactsAndKeyHash(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var rec callRecorder
		var hashes []string
		hashOf := func(next client.Invoker) client.Invoker {
			return func(ctx context.Context, call *client.Call) error {
				err := next(ctx, call)
				hashes = append(hashes, call.IdempotencyKeyHash())
				return err
			}
		}
		srv, a, c := registered(t, client.WithMiddleware(rec.middleware, hashOf))
		order := srv.PlaceOrder(a.ID, models.Order{})
		srv.Inject(heeprtest.Fault{Kind: heeprtest.FaultStatus, Status: 503, Path: "/orders/{id}/deliver"})
		const key = "my-key-1"
		_, err := c.Deliver(context.Background(), order, client.Delivery{Files: []client.File{client.FileFromBytes("a.txt", []byte("hello"))}},
			client.WithIdempotencyKey(key))
		require.NoError(t, err)
		got := rec.all()
		d := got[len(got)-1]
		require.Len(t, d.Hooks, 2)
		sum := sha256.Sum256([]byte(key))
		assert.Equal(t, hex.EncodeToString(sum[:]), hashes[len(hashes)-1])
		for _, at := range d.Hooks {
			assert.Equal(t, http.MethodPost, at.Method)
			assert.Equal(t, c.BaseURL()+"/orders/"+order+"/deliver", at.URL)
			assert.Positive(t, at.BytesReceived, "the 503's envelope, then the receipt")
		}
		// The 503 may come before the transport sent the body; the retry's is read whole.
		assert.Greater(t, d.Hooks[1].BytesSent, int64(len("hello")), "the multipart body, the file in it")

		_, err = c.Events(context.Background())
		require.NoError(t, err)
		got = rec.all()
		poll := got[len(got)-1]
		assert.Empty(t, hashes[len(hashes)-1], "a GET sends no key")
		require.Len(t, poll.Hooks, 1)
		assert.Equal(t, http.MethodGet, poll.Hooks[0].Method)
		assert.Zero(t, poll.Hooks[0].BytesSent)
		assert.Positive(t, poll.Hooks[0].BytesReceived, "{} at least")
	})
}
