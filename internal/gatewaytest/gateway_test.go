//go:build unix

package gatewaytest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"maps"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	heepr "github.com/heepr/heepr-go"
	"github.com/heepr/heepr-go/client"
	herrors "github.com/heepr/heepr-go/errors"
	"github.com/heepr/heepr-go/heeprtest"
	"github.com/heepr/heepr-go/models"
	"github.com/heepr/heepr-go/poller"
)

// testTimeout bounds the whole test; it takes a few seconds, two of them the
// Retry-After of the 429 and the 503.
const testTimeout = 45 * time.Second

// TestGateway runs an agent's life through `prism proxy --errors`: register
// and its refusals, a poll of every event kind, and of one the spec does not
// list, handled by the poller (writes of every kind in the handlers), 429 and
// 503 with Retry-After, a revoked and an expired key. It asserts what the SDK returned, what the fake received,
// and that nothing was lost or objected to on the way: every event the fake
// sent reached a handler, Prism reported no violation, heeprtest none either.
func TestGateway(t *testing.T) {
	exe := prismExecutable(t)
	ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
	defer cancel()

	// The fake on a loopback listener, as srv.URL() would start it, but with
	// drainLog in front: what the fake sent is read before the gateway.
	srv := heeprtest.NewServer()
	fake := &drainLog{next: srv.Handler()}
	upstream := httptest.NewServer(fake)
	t.Cleanup(upstream.Close)
	spec := specFile(t)
	strict, lenient := startPrisms(t, exe, spec, upstream.URL+heeprtest.BasePath)
	gw := newGateway(t, strict, lenient)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("%s:\n%s", strict, strict.Log())
			t.Logf("%s:\n%s", lenient, lenient.Log())
		}
	})
	c := newClient(t, gw, strict.URL)

	agent := srv.AddAgent(heeprtest.ManualAcceptance())
	spare := register(ctx, t, srv, c, agent)
	att := pollEveryKind(ctx, t, srv, fake, c, agent.ID)
	downloadOutsideGateway(ctx, t, upstream.URL, c, att)
	retries(ctx, t, srv, c)
	refusedKeys(ctx, t, srv, c, agent.ID, spare)

	assert.Empty(t, srv.Violations(), "heeprtest's own validation")
	gw.assertClean(t)
}

// register: the token buys a key; used again it is refused (bootstrap_used);
// a fresh token while the key is live is refused (active_key_exists) and not
// consumed. It returns that fresh token, for a register after the key is
// revoked.
func register(ctx context.Context, t *testing.T, srv *heeprtest.Server, c *client.Client, agent heeprtest.Agent) models.BootstrapToken {
	t.Helper()
	reg, err := c.Register(ctx, agent.BootstrapToken, agent.ID)
	require.NoError(t, err, "register through the gateway")
	assert.Equal(t, agent.ID, reg.AgentID)
	st, _ := srv.Agent(agent.ID)
	require.True(t, st.LiveKey, "the fake holds a live key after register")

	_, err = c.Register(ctx, agent.BootstrapToken, agent.ID)
	assert.ErrorIs(t, err, herrors.ErrBootstrapUsed, "the same token again")
	assert.Equal(t, 401, lastStatus(t, srv, "/api/agent/register"))

	spare := srv.IssueBootstrapToken(agent.ID)
	_, err = c.Register(ctx, spare, agent.ID)
	assert.ErrorIs(t, err, herrors.ErrActiveKeyExists, "a fresh token while a key is live")
	assert.Equal(t, 409, lastStatus(t, srv, "/api/agent/register"))
	assert.Equal(t, reg.APIKey.Reveal(), c.APIKey().Reveal(), "a refused register leaves the client's key alone")
	return spare
}

// pollEveryKind queues events of every kind and runs the poller through the
// gateway until the fake's queue is drained and every polled event handled.
// The point of the test: the ids the fake sent equal the ids the handlers saw.
// It returns the attachment of ord_1 as its new_order event carried it.
func pollEveryKind(ctx context.Context, t *testing.T, srv *heeprtest.Server, fake *drainLog, c *client.Client, agentID string) models.Attachment {
	t.Helper()
	brief := []byte("A lighthouse at dusk, three lines.\n")
	att := srv.AddFile("brief.txt", "text/plain", brief)
	// The agent accepts manually, so the owner's decisions come as events.
	ord1 := srv.PlaceOrder(agentID, models.Order{Brief: "A haiku about a lighthouse", Attachments: []models.Attachment{att}, RevisionsAllowed: 2})
	ord2 := srv.PlaceOrder(agentID, models.Order{Brief: "Ten thousand words by tonight"})
	ord3 := srv.PlaceOrder(agentID, models.Order{Brief: "A limerick"})
	ord4 := srv.PlaceOrder(agentID, models.Order{Brief: "Someone else's essay, reworded"})
	controlled := []string{
		srv.ApproveOrder(ord1, "go ahead"),
		srv.RequestRevision(ord1, "warmer, please"),
		srv.DenyOrder(ord2, "not for this agent"),
		srv.ApproveOrder(ord3, ""),
		srv.ChangeScope(ord3, models.ScopeChangeEvent{Scope: "Two limericks", Deadline: time.Now().UTC().Add(24 * time.Hour).Truncate(time.Second)}),
		srv.ApproveOrder(ord4, ""),
	}
	st, _ := srv.Agent(agentID)
	require.Equal(t, 10, st.Queued, "queued: four new_order and six from the controls")
	// And one of a kind the spec does not list, added to the first poll's
	// answer: Prism must take it as an UnknownEvent, the poller hand it to
	// Handlers.Unknown.
	srv.Inject(heeprtest.Fault{Kind: heeprtest.FaultUnknownEvent, EventKind: "order_rated"})

	var (
		mu       sync.Mutex
		seen     = map[string]models.EventKind{}
		failures []string
		got      models.Attachment
	)
	done := make(chan string, 64) // one id per event handled, whatever the outcome
	saw := func(id string, kind models.EventKind) {
		mu.Lock()
		defer mu.Unlock()
		seen[id] = kind
	}
	files := []client.File{
		client.FileFromBytes("haiku.txt", []byte("Grey stone, gold lamp turning\nwarm over the harbour\nnight keeps its promise\n")),
		client.FileFromBytes("notes.md", []byte("# Revision\n\nWarmer words, as asked.\n")),
	}
	h := poller.Handlers{
		NewOrder: func(ctx context.Context, ev models.NewOrderEvent) error {
			defer func() { done <- ev.ID }()
			saw(ev.ID, ev.Kind)
			if ev.OrderID == ord1 && len(ev.Order.Attachments) == 1 {
				mu.Lock()
				got = ev.Order.Attachments[0]
				mu.Unlock()
			}
			return nil // the owner decides first
		},
		OwnerApprovedOrder: func(ctx context.Context, ev models.OwnerApprovedOrderEvent) error {
			defer func() { done <- ev.ID }()
			saw(ev.ID, ev.Kind)
			switch ev.OrderID {
			case ord1:
				if _, err := c.ReportProgress(ctx, ord1, client.ProgressParams{Percent: 50, Message: "drafting"}); err != nil {
					return err
				}
				_, err := c.Deliver(ctx, ord1, client.Delivery{
					Message: "First draft", Text: "Stone tower, lamp turning", Links: []string{"https://example.com/lighthouse"},
				})
				return err
			case ord4:
				_, err := c.Flag(ctx, ord4, client.FlagParams{Reason: models.FlagReasonPolicyViolation, Message: "asks to pass off another's work"})
				return err
			}
			return nil // ord3 waits for its scope change
		},
		OwnerDeniedOrder: func(ctx context.Context, ev models.OwnerDeniedOrderEvent) error {
			defer func() { done <- ev.ID }()
			saw(ev.ID, ev.Kind)
			return nil
		},
		RevisionRequest: func(ctx context.Context, ev models.RevisionRequestEvent) error {
			defer func() { done <- ev.ID }()
			saw(ev.ID, ev.Kind)
			_, err := c.Deliver(ctx, ev.OrderID, client.Delivery{Message: "Revised: " + ev.Brief, Files: files})
			return err
		},
		ScopeChange: func(ctx context.Context, ev models.ScopeChangeEvent) error {
			defer func() { done <- ev.ID }()
			saw(ev.ID, ev.Kind)
			_, err := c.Decline(ctx, ev.OrderID, client.DeclineParams{Reason: models.DeclineReasonOutOfScope, Message: "two are more than one"})
			return err
		},
		Unknown: func(ctx context.Context, kind models.EventKind, _ json.RawMessage) error {
			ev, _ := poller.FromContext(ctx)
			defer func() { done <- ev.ID }()
			saw(ev.ID, kind)
			return nil
		},
		Default: func(ctx context.Context, ev poller.EventInfo) error {
			defer func() { done <- ev.ID }()
			saw(ev.ID, ev.Kind)
			mu.Lock()
			defer mu.Unlock()
			failures = append(failures, "Default got "+ev.ID+" ("+string(ev.Kind)+"): "+errString(ev.DecodeError))
			return nil
		},
	}

	var p *poller.Poller
	drained := make(chan struct{}, 1)
	p, err := poller.New(c, h,
		poller.WithStatusUpdates(),
		poller.WithHandlerRetry(1, time.Millisecond), // one run per event: one outcome each
		poller.WithShutdownTimeout(5*time.Second), poller.WithShutdownGrace(time.Second),
		poller.WithOnHandlerError(func(_ context.Context, ev poller.EventInfo, err error) {
			mu.Lock()
			defer mu.Unlock()
			failures = append(failures, ev.ID+" ("+string(ev.Kind)+"): "+err.Error())
		}),
		poller.WithOnPoll(func(_ context.Context, r poller.PollResult) {
			if r.Err != nil {
				// The poller would back off for seconds; the test has no
				// time to lose, and what it asserts is what the failed poll
				// cost: ask for the next poll now.
				p.Wake()
				return
			}
			if st, _ := srv.Agent(agentID); st.Queued == 0 {
				select {
				case drained <- struct{}{}:
				default:
				}
			}
		}),
	)
	require.NoError(t, err)
	runCtx, stop := context.WithCancel(ctx)
	runErr := make(chan error, 1)
	go func() { runErr <- p.Run(runCtx) }()
	stopped := false
	stopRun := func() error {
		if stopped {
			return nil
		}
		stopped = true
		stop()
		return <-runErr
	}
	defer func() { _ = stopRun() }()

	select {
	case <-drained:
	case <-ctx.Done():
		t.Fatalf("the fake's queue was never drained by a successful poll: %v (poller %+v)", ctx.Err(), p.Stats())
	}
	// The poll that drained the queue has queued its events before WithOnPoll
	// heard of it: wait for each to be handled.
	for n := p.Stats().Events; n > 0; n-- {
		select {
		case <-done:
		case <-ctx.Done():
			t.Fatalf("%d events still unhandled: %v (poller %+v)", n, ctx.Err(), p.Stats())
		}
	}
	require.NoError(t, stopRun(), "Run returns nil after a clean drain")

	mu.Lock()
	defer mu.Unlock()
	sent := fake.ids()
	t.Logf("events: %d queued (and 1 of an unknown kind), %d sent by the fake through the gateway, %d seen by the handlers; poller %+v",
		st.Queued, len(sent), len(seen), p.Stats())
	assert.Equal(t, sorted(sent), sorted(slices.Collect(maps.Keys(seen))), "every event the fake sent reached a handler, none lost")
	assert.Len(t, sent, st.Queued+1, "the fake sent what it had queued, and the event of an unknown kind")
	assert.Subset(t, sent, controlled)
	assert.Empty(t, failures, "handler failures")
	kinds := map[models.EventKind]int{}
	for _, k := range seen {
		kinds[k]++
	}
	assert.Equal(t, map[models.EventKind]int{
		models.EventKindNewOrder: 4, models.EventKindOwnerApprovedOrder: 3, models.EventKindOwnerDeniedOrder: 1,
		models.EventKindRevisionRequest: 1, models.EventKindScopeChange: 1, "order_rated": 1,
	}, kinds)
	if t.Failed() {
		return got
	}

	// What the fake received from the handlers.
	d := srv.Deliveries(ord1)
	require.Len(t, d, 2, "ord_1: a JSON delivery, then a multipart one")
	assert.False(t, d[0].Multipart)
	assert.Equal(t, models.DeliveryPayload{Message: "First draft", Text: "Stone tower, lamp turning", Links: []string{"https://example.com/lighthouse"}}, d[0].Payload)
	assert.True(t, d[1].Multipart)
	assert.Equal(t, "Revised: warmer, please", d[1].Payload.Message)
	require.Len(t, d[1].Files, 2)
	for i, f := range d[1].Files {
		assert.Equal(t, files[i].Name(), f.Name)
		assert.Equal(t, sum(f.Data), f.SHA256, "%s arrived byte for byte", f.Name)
	}
	assert.Equal(t, []byte("Grey stone, gold lamp turning\nwarm over the harbour\nnight keeps its promise\n"), d[1].Files[0].Data)
	pr := srv.Progress(ord1)
	require.Len(t, pr, 1)
	assert.Equal(t, models.Progress{Percent: 50, Message: "drafting"}, pr[0].Progress)
	dec := srv.Declines(ord3)
	require.Len(t, dec, 1)
	assert.Equal(t, models.DeclineReasonOutOfScope, dec[0].Reason)
	fl := srv.Flags(ord4)
	require.Len(t, fl, 1)
	assert.Equal(t, models.FlagReasonPolicyViolation, fl[0].Reason)
	var statuses []models.AgentStatus
	for _, s := range srv.Statuses(agentID) {
		statuses = append(statuses, s.Status)
	}
	assert.Equal(t, []models.AgentStatus{models.AgentStatusActive, models.AgentStatusPaused}, statuses, "WithStatusUpdates: active at start, paused at a clean stop")
	for id, want := range map[string]models.OrderState{ord1: models.OrderStateDelivered, ord2: models.OrderStateDenied, ord3: models.OrderStateDeclined, ord4: models.OrderStateFlagged} {
		o, _ := srv.Order(id)
		assert.Equal(t, want, o.State, id)
	}
	assert.Equal(t, [4]any{att.ID, att.Name, att.Size, att.SHA256}, [4]any{got.ID, got.Name, got.Size, got.SHA256}, "the attachment as the event carried it")
	return got
}

// downloadOutsideGateway fetches the attachment ord_1's event carried. The
// fake makes an attachment's URL absolute on the host it was asked on, and
// Prism forwards with the upstream's Host, so the URL is the fake's own, not
// the gateway's: attachments are not part of the API the spec describes (Prism
// would answer 404 for /files/…), and the client sends its key to the base
// URL's origin only. So the download goes to the fake directly, with the same
// key: what it checks is that the attachment's URL, size and SHA-256 came
// through the gateway intact.
func downloadOutsideGateway(ctx context.Context, t *testing.T, fakeOrigin string, c *client.Client, att models.Attachment) {
	t.Helper()
	if t.Failed() {
		return
	}
	u, err := url.Parse(att.URL)
	require.NoError(t, err)
	require.Equal(t, fakeOrigin, u.Scheme+"://"+u.Host, "the attachment is on the fake's host, not the gateway's")
	direct, err := client.New(client.WithBaseURL(fakeOrigin+heeprtest.BasePath), client.WithAPIKey(c.APIKey()),
		client.WithLogger(testLogger(t)))
	require.NoError(t, err)
	var buf bytes.Buffer
	require.NoError(t, direct.DownloadAttachment(ctx, att, &buf), "the size and SHA-256 polled through the gateway match the file")
	assert.Equal(t, "A lighthouse at dusk, three lines.\n", buf.String())
}

// retries: a 429 on a poll and a 503 on a write, each with Retry-After, come
// through the gateway; the client waits and tries again, and gets through.
func retries(ctx context.Context, t *testing.T, srv *heeprtest.Server, c *client.Client) {
	t.Helper()
	srv.Inject(heeprtest.Fault{Kind: heeprtest.FaultStatus, Method: http.MethodGet, Path: "/events", Status: http.StatusTooManyRequests, RetryAfter: time.Second})
	n := len(requestsTo(srv, "/api/events"))
	start := time.Now()
	events, err := c.Events(ctx)
	require.NoError(t, err, "the poll gets through after the 429")
	assert.Empty(t, events)
	assert.GreaterOrEqual(t, time.Since(start), time.Second, "Retry-After honoured")
	reqs := requestsTo(srv, "/api/events")[n:]
	if assert.Len(t, reqs, 2, "the fake saw the poll and its retry") {
		assert.Equal(t, [2]int{http.StatusTooManyRequests, http.StatusOK}, [2]int{reqs[0].Status, reqs[1].Status})
		assert.Equal(t, heeprtest.FaultStatus, reqs[0].Fault)
	}

	srv.Inject(heeprtest.Fault{Kind: heeprtest.FaultStatus, Method: http.MethodPost, Path: "/status", Status: http.StatusServiceUnavailable, RetryAfter: time.Second})
	n = len(requestsTo(srv, "/api/status"))
	agentID := c.AgentID()
	had := len(srv.Statuses(agentID))
	start = time.Now()
	_, err = c.SetStatus(ctx, client.StatusParams{Status: models.AgentStatusActive})
	require.NoError(t, err, "the write gets through after the 503")
	assert.GreaterOrEqual(t, time.Since(start), time.Second, "Retry-After honoured")
	reqs = requestsTo(srv, "/api/status")[n:]
	if assert.Len(t, reqs, 2, "the fake saw the write and its retry") {
		assert.Equal(t, [2]int{http.StatusServiceUnavailable, http.StatusOK}, [2]int{reqs[0].Status, reqs[1].Status})
		assert.NotEmpty(t, reqs[0].IdempotencyKey)
		assert.Equal(t, reqs[0].IdempotencyKey, reqs[1].IdempotencyKey, "the retry carries the same Idempotency-Key")
	}
	assert.Len(t, srv.Statuses(agentID), had+1, "one effect")
}

// refusedKeys: a revoked key and an expired key are refused on the next call;
// the token that met active_key_exists was not consumed and registers again.
func refusedKeys(ctx context.Context, t *testing.T, srv *heeprtest.Server, c *client.Client, agentID string, spare models.BootstrapToken) {
	t.Helper()
	require.True(t, srv.RevokeKey(agentID))
	_, err := c.Events(ctx)
	assert.ErrorIs(t, err, herrors.ErrKeyRevoked)
	assert.Equal(t, 401, lastStatus(t, srv, "/api/events"))

	old := c.APIKey().Reveal()
	reg, err := c.Register(ctx, spare, agentID)
	require.NoError(t, err, "the token refused with active_key_exists was not consumed")
	assert.NotEqual(t, old, reg.APIKey.Reveal())

	require.True(t, srv.ExpireKey(agentID))
	_, err = c.SetStatus(ctx, client.StatusParams{Status: models.AgentStatusPaused})
	assert.ErrorIs(t, err, herrors.ErrKeyExpired)
	assert.Equal(t, 401, lastStatus(t, srv, "/api/status"))
}

// specFile is the spec Prism validates against: the one the SDK embeds, or
// the file $HEEPR_GATEWAY_SPEC names (to run the test against another
// version of it, such as v0.1.0's; see the package doc).
func specFile(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("HEEPR_GATEWAY_SPEC"); p != "" {
		abs, err := filepath.Abs(p)
		require.NoError(t, err)
		t.Logf("validating against %s ($HEEPR_GATEWAY_SPEC)", abs)
		return abs
	}
	p := filepath.Join(t.TempDir(), "openapi.yaml")
	require.NoError(t, os.WriteFile(p, heepr.OpenAPI(), 0o600))
	return p
}

func newClient(t *testing.T, gw *gateway, base string) *client.Client {
	t.Helper()
	c, err := client.New(
		client.WithBaseURL(base),
		client.WithHTTPClient(&http.Client{Transport: gw}),
		client.WithRetry(client.RetryPolicy{MaxAttempts: 3, BaseDelay: 20 * time.Millisecond, MaxDelay: 200 * time.Millisecond, MaxRetryAfter: 5 * time.Second}),
		client.WithLogger(testLogger(t)),
	)
	require.NoError(t, err)
	return c
}

// testLogger sends the SDK's log lines to the test's log.
func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}

func requestsTo(srv *heeprtest.Server, path string) []heeprtest.Request {
	var out []heeprtest.Request
	for _, r := range srv.Requests() {
		if r.Path == path {
			out = append(out, r)
		}
	}
	return out
}

func lastStatus(t *testing.T, srv *heeprtest.Server, path string) int {
	t.Helper()
	reqs := requestsTo(srv, path)
	require.NotEmpty(t, reqs, "the fake saw no request to %s", path)
	return reqs[len(reqs)-1].Status
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

func sum(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

func errString(err error) string {
	if err == nil {
		return "no decode error"
	}
	return err.Error()
}

// drainLog wraps the fake and keeps the ids of the events in every 200
// answer to GET /events: what the platform drained from the agent's queue,
// seen before the gateway.
type drainLog struct {
	next http.Handler
	mu   sync.Mutex
	sent []string
	errs []error
}

func (d *drainLog) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet || r.URL.Path != heeprtest.BasePath+"/events" {
		d.next.ServeHTTP(w, r)
		return
	}
	cw := &captureWriter{ResponseWriter: w}
	d.next.ServeHTTP(cw, r)
	if cw.status != http.StatusOK && cw.status != 0 {
		return
	}
	var batch struct {
		Events []struct {
			ID string `json:"id"`
		} `json:"events"`
	}
	err := json.Unmarshal(cw.body.Bytes(), &batch)
	d.mu.Lock()
	defer d.mu.Unlock()
	if err != nil {
		d.errs = append(d.errs, err)
		return
	}
	for _, ev := range batch.Events {
		d.sent = append(d.sent, ev.ID)
	}
}

func (d *drainLog) ids() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.sent)
}

type captureWriter struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (w *captureWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *captureWriter) Write(b []byte) (int, error) {
	w.body.Write(b)
	return w.ResponseWriter.Write(b)
}

func (w *captureWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// gateway is the SDK's transport. Every request goes to the strict proxy
// (--errors), but for the one exception below, and every answer is recorded
// for assertClean.
//
// The exception, Prism's known limitation on multipart bodies: a multipart
// delivery goes to the lenient proxy (no --errors). Through the strict one it
// is refused with a 422 of Prism's own, whatever the parts hold, because
// Prism's request validator (@stoplight/prism-http 5.x,
// dist/validator/validators/body.js, parseMultipartFormDataParams) flattens
// the parts into a map of name to text:
//
//	result[pair['name']] = pair['data'].toString();
//
// so the JSON `payload` part stays a string (the encoding's contentType:
// application/json is never applied; only `style` is), and the repeated
// `files` parts collapse into the last one's text instead of an array
// (https://github.com/stoplightio/prism/pull/2654, open: "repeated keys will
// be treated as overriding previous values, thus failing the validation").
// Prism then reports exactly "payload must be object" and "files must be
// array" at request.body.payload and request.body.files for every multipart
// body this spec allows. Those two, at those places, are all the lenient
// proxy may report (allowedMultipart); the fake's answer to the delivery is
// held to the spec like any other, and every other request goes through the
// strict proxy.
//
// The delivered files are text on purpose: Prism's proxy reads any body that
// is not JSON as UTF-8 text and forwards the re-encoded text, so bytes that
// are not UTF-8 would reach the fake changed (256 random bytes arrive as 457;
// https://github.com/stoplightio/prism/issues/2376). The fake's SHA-256 of each
// file, asserted equal to the SDK's, shows the bytes came through unchanged.
type gateway struct {
	strict, lenient *prism
	next            http.RoundTripper

	mu      sync.Mutex
	answers []answer
}

// answer is one response as the SDK received it.
type answer struct {
	via                     *prism
	method, path            string
	status                  int
	contentType, violations string
	requestID               string
	multipart               bool
}

func newGateway(t *testing.T, strict, lenient *prism) *gateway {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	t.Cleanup(tr.CloseIdleConnections)
	return &gateway{strict: strict, lenient: lenient, next: tr}
}

func (g *gateway) RoundTrip(req *http.Request) (*http.Response, error) {
	via := g.strict
	mt, _, _ := mime.ParseMediaType(req.Header.Get("Content-Type"))
	multipart := req.Method == http.MethodPost && mt == "multipart/form-data" && strings.HasSuffix(req.URL.Path, "/deliver")
	if multipart {
		via = g.lenient
		u, err := url.Parse(g.lenient.URL)
		if err != nil {
			return nil, err
		}
		req = req.Clone(req.Context())
		req.URL.Host, req.Host = u.Host, ""
	}
	res, err := g.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.answers = append(g.answers, answer{
		via: via, method: req.Method, path: req.URL.Path, status: res.StatusCode,
		contentType: res.Header.Get("Content-Type"), violations: res.Header.Get("sl-violations"),
		requestID: res.Header.Get("X-Request-Id"), multipart: multipart,
	})
	return res, nil
}

// prismViolation is one entry of Prism's sl-violations header.
type prismViolation struct {
	Location []string `json:"location"`
	Severity string   `json:"severity"`
	Code     any      `json:"code"`
	Message  string   `json:"message"`
}

// allowedMultipart reports whether v is one of the two violations Prism
// reports for every multipart delivery (see gateway).
func allowedMultipart(v prismViolation) bool {
	loc := strings.Join(v.Location, ".")
	return (loc == "request.body.payload" && v.Message == "Request body property payload must be object") ||
		(loc == "request.body.files" && v.Message == "Request body property files must be array")
}

// assertClean fails the test for anything Prism objected to: a violation in
// an answer's sl-violations header or in Prism's log, or an answer Prism made
// itself (application/problem+json, without the fake's X-Request-Id); the
// multipart exception is held to exactly its two violations.
func (g *gateway) assertClean(t *testing.T) {
	t.Helper()
	g.mu.Lock()
	defer g.mu.Unlock()
	var lenient int
	for _, a := range g.answers {
		var wrong []string
		if a.contentType == "application/problem+json" || a.requestID == "" {
			wrong = append(wrong, "answered by Prism itself, not the fake")
		}
		if a.multipart {
			lenient++
			wrong = append(wrong, a.multipartViolations()...)
		} else if a.violations != "" {
			wrong = append(wrong, "sl-violations: "+a.violations)
		}
		if len(wrong) > 0 {
			t.Errorf("%s %s via %s: %d: %s", a.method, a.path, a.via.URL, a.status, strings.Join(wrong, "; "))
		}
	}
	assert.Equal(t, 1, lenient, "exactly one request, the multipart delivery, went through the lenient proxy")
	assert.Empty(t, g.strict.violationLines(), "violations in the log of %s", g.strict)
	for _, line := range g.lenient.violationLines() {
		if !strings.Contains(line, "Violation: request.body.payload Request body property payload must be object") &&
			!strings.Contains(line, "Violation: request.body.files Request body property files must be array") {
			t.Errorf("%s logged: %s", g.lenient, line)
		}
	}
}

// multipartViolations is what is wrong with the sl-violations of a multipart
// delivery's answer: a violation other than the two of Prism's limitation, or
// none at all (Prism fixed: drop the exception).
func (a answer) multipartViolations() []string {
	if a.violations == "" {
		return []string{"Prism no longer reports its multipart limitation: send multipart deliveries through the strict proxy and drop the exception"}
	}
	var vs []prismViolation
	if err := json.Unmarshal([]byte(a.violations), &vs); err != nil {
		return []string{"sl-violations does not parse (" + err.Error() + "): " + a.violations}
	}
	var out []string
	for _, v := range vs {
		if !allowedMultipart(v) {
			out = append(out, "beyond Prism's multipart limitation: "+strings.Join(v.Location, ".")+" "+v.Message)
		}
	}
	return out
}
