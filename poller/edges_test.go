package poller_test

// The edges of the poller's promise that an event it polled is handled, never
// silently dropped: each test is a case found against v0.1.0 (issue 12).

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"testing/iotest"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/heepr/heepr-go/client"
	"github.com/heepr/heepr-go/heeprtest"
	"github.com/heepr/heepr-go/models"
	"github.com/heepr/heepr-go/poller"
)

// scripted answers the first polls with the bodies given, in order, then
// hands every request to the fake behind it.
type scripted struct {
	next   http.RoundTripper
	mu     sync.Mutex
	bodies []string
}

func (s *scripted) RoundTrip(req *http.Request) (*http.Response, error) {
	s.mu.Lock()
	if req.URL.Path != "/api/events" || len(s.bodies) == 0 {
		s.mu.Unlock()
		return s.next.RoundTrip(req)
	}
	body := s.bodies[0]
	s.bodies = s.bodies[1:]
	s.mu.Unlock()
	return &http.Response{StatusCode: http.StatusOK, Header: http.Header{"Content-Type": {"application/json"}},
		ContentLength: int64(len(body)), Body: io.NopCloser(strings.NewReader(body)), Request: req}, nil
}

// scriptedAgent is agent() with polls answered by bodies first.
func scriptedAgent(t testing.TB, bodies []string, opts ...client.Option) (*heeprtest.Server, heeprtest.Agent, *client.Client) {
	t.Helper()
	srv, a, _ := agent(t)
	hc := srv.HTTPClient()
	hc.Transport = &scripted{next: hc.Transport, bodies: bodies}
	c, err := client.New(append([]client.Option{client.WithHTTPClient(hc), client.WithAPIKey(a.APIKey), client.WithAgentID(a.ID)}, opts...)...)
	require.NoError(t, err)
	return srv, a, c
}

// event is one event's JSON, a scope_change unless extra says otherwise.
func event(id, extra string) string {
	return `{"id":` + jsonString(id) + `,"kind":"scope_change","created_at":"2026-11-28T09:00:00Z","order_id":"ord_` + id + `"` + extra + `}`
}

func jsonString(s string) string { b, _ := json.Marshal(s); return string(b) }

func answer(events ...string) string { return `{"events":[` + strings.Join(events, ",") + `]}` }

// records captures log records, for what a person would read.
type records struct {
	mu   sync.Mutex
	recs []slog.Record
}

func (r *records) Enabled(context.Context, slog.Level) bool { return true }
func (r *records) Handle(_ context.Context, rec slog.Record) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.recs = append(r.recs, rec.Clone())
	return nil
}
func (r *records) WithAttrs([]slog.Attr) slog.Handler { return r }
func (r *records) WithGroup(string) slog.Handler      { return r }

// lines returns "LEVEL message" of every record at or above min.
func (r *records) lines(min slog.Level) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, rec := range r.recs {
		if rec.Level >= min {
			out = append(out, rec.Level.String()+" "+rec.Message)
		}
	}
	return out
}

// attr returns the value of an attribute of the first record whose message
// contains msg.
func (r *records) attr(msg, key string) (slog.Value, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, rec := range r.recs {
		if !strings.Contains(rec.Message, msg) {
			continue
		}
		var v slog.Value
		found := false
		rec.Attrs(func(a slog.Attr) bool {
			if a.Key == key {
				v, found = a.Value, true
				return false
			}
			return true
		})
		return v, found
	}
	return slog.Value{}, false
}

// onDefault makes slog.Default() record into a records for the test.
func onDefault(t *testing.T) *records {
	rec := &records{}
	old := slog.Default()
	slog.SetDefault(slog.New(rec))
	t.Cleanup(func() { slog.SetDefault(old) })
	return rec
}

// Case 1: an answer far over the client's 8 MiB JSON cap (1,500 new_order
// events of about 6 KB) is read one event at a time: every event handled
// exactly once, with the journal and without.
func TestEdgeHugeAnswerAllHandled(t *testing.T) {
	for _, journal := range []bool{true, false} {
		t.Run(fmt.Sprintf("journal=%v", journal), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				rules := strings.Repeat("Deliver only original work. ", 6<<10/28)
				srv := heeprtest.NewServer(heeprtest.WithRules(rules), heeprtest.WithoutRequestLog())
				a := srv.AddAgent(heeprtest.Registered())
				c, err := client.New(client.WithHTTPClient(srv.HTTPClient()), client.WithAPIKey(a.APIKey), client.WithAgentID(a.ID))
				require.NoError(t, err)
				const n = 1500
				for range n {
					srv.PlaceOrder(a.ID, models.Order{})
				}
				var mu sync.Mutex
				runs := map[string]int{}
				var polled []int
				opts := []poller.Option{poller.WithConcurrency(8), poller.WithOnPoll(func(_ context.Context, r poller.PollResult) {
					mu.Lock()
					polled = append(polled, r.Events)
					mu.Unlock()
				})}
				if journal {
					opts = append(opts, poller.WithJournal(t.TempDir()))
				}
				p, err := poller.New(c, poller.Handlers{NewOrder: func(_ context.Context, ev models.NewOrderEvent) error {
					require.Len(t, ev.Rules, len(rules))
					mu.Lock()
					runs[ev.OrderID]++
					mu.Unlock()
					return nil
				}}, opts...)
				require.NoError(t, err)
				stop := started(t, p)
				synctest.Wait()
				require.NoError(t, stop())

				require.NotEmpty(t, polled)
				assert.Equal(t, n, polled[0], "one answer of %d events, over %d bytes", n, n*len(rules))
				assert.Greater(t, n*len(rules), client.DefaultMaxResponseBytes)
				assert.Len(t, runs, n)
				for id, k := range runs {
					assert.Equal(t, 1, k, "order %s", id)
				}
				assert.Equal(t, int64(n), p.Stats().Handled)
				st, _ := srv.Agent(a.ID)
				assert.Zero(t, st.Queued)
				noViolations(t, srv)
			})
		})
	}
}

// cutTransport answers the first poll with whole's headers (its
// Content-Length) and only its first cut bytes, then a dropped connection.
type cutTransport struct {
	next       http.RoundTripper
	whole, cut string
	done       atomic.Bool
}

func (c *cutTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Path != "/api/events" || c.done.Swap(true) {
		return c.next.RoundTrip(req)
	}
	body := io.MultiReader(strings.NewReader(c.cut), iotest.ErrReader(io.ErrUnexpectedEOF))
	return &http.Response{StatusCode: http.StatusOK, Header: http.Header{"Content-Type": {"application/json"}},
		ContentLength: int64(len(c.whole)), Body: io.NopCloser(body), Request: req}, nil
}

// Case 1, the break: an answer cut off mid-event keeps every event before the
// break (on disk, then handled), and one ERROR line says what was lost.
func TestEdgeAnswerCutOffKeepsWhatWasRead(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		whole := answer(event("evt_1", ""), event("evt_2", ""), event("evt_3", ""))
		cut := whole[:strings.Index(whole, `"evt_3"`)]
		srv, a, _ := agent(t)
		hc := srv.HTTPClient()
		hc.Transport = &cutTransport{next: hc.Transport, whole: whole, cut: cut}
		rec := &records{}
		c, err := client.New(client.WithHTTPClient(hc), client.WithAPIKey(a.APIKey), client.WithAgentID(a.ID),
			client.WithLogger(slog.New(rec)))
		require.NoError(t, err)
		var got []string
		var mu sync.Mutex
		dir := t.TempDir()
		p, err := poller.New(c, poller.Handlers{ScopeChange: func(ctx context.Context, ev models.ScopeChangeEvent) error {
			info, _ := poller.FromContext(ctx)
			mu.Lock()
			got = append(got, info.ID)
			mu.Unlock()
			return nil
		}}, poller.WithJournal(dir))
		require.NoError(t, err)
		stop := started(t, p)
		synctest.Wait()
		require.NoError(t, stop())
		assert.ElementsMatch(t, []string{"evt_1", "evt_2"}, got)
		errs := rec.lines(slog.LevelError)
		require.Len(t, errs, 1, "one ERROR line: %q", rec.lines(slog.LevelInfo))
		assert.Contains(t, errs[0], "the platform drained the rest")
		v, ok := rec.attr("broke off", "bytes_not_read")
		require.True(t, ok)
		assert.Equal(t, int64(len(whole)-len(cut)), v.Int64())
		kept, _ := rec.attr("broke off", "events_kept")
		assert.Equal(t, int64(2), kept.Int64())
		assert.Empty(t, rec.lines(slog.LevelWarn)[1:], "no WARN \"poll failed\" besides the ERROR")
	})
}

// Case 2: a known kind whose handler is nil reaches Default; without Default
// it is reported to WithOnHandlerError with ErrUnhandled, and a WARN line
// reaches slog.Default() with no logger configured.
func TestEdgeNilHandlerNeverSilent(t *testing.T) {
	kinds := func(srv *heeprtest.Server, a heeprtest.Agent) {
		ord := srv.PlaceOrder(a.ID, models.Order{})
		srv.ChangeScope(ord, models.ScopeChangeEvent{Scope: "more"})
		srv.RequestRevision(ord, "again")
		ord2 := srv.PlaceOrder(a.ID, models.Order{})
		srv.DenyOrder(ord2, "no")
	}
	newOrder := func(context.Context, models.NewOrderEvent) error { return nil }

	t.Run("Default", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			srv, a, c := agent(t)
			var got []models.EventKind
			p, err := poller.New(c, poller.Handlers{NewOrder: newOrder, Default: func(ctx context.Context, ev poller.EventInfo) error {
				assert.NoError(t, ev.DecodeError, "the kind has no handler; the event itself is fine")
				assert.NotEmpty(t, ev.ID)
				assert.NotEmpty(t, ev.Raw)
				got = append(got, ev.Kind)
				return nil
			}}, poller.WithConcurrency(1))
			require.NoError(t, err)
			kinds(srv, a)
			stop := started(t, p)
			synctest.Wait()
			require.NoError(t, stop())
			assert.ElementsMatch(t, []models.EventKind{models.EventKindScopeChange, models.EventKindRevisionRequest, models.EventKindOwnerDeniedOrder}, got)
			assert.Zero(t, p.Stats().Unhandled)
		})
	})
	t.Run("reported", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			logs := onDefault(t)
			srv, a, c := agent(t) // no WithLogger: the default
			var mu sync.Mutex
			var reported []models.EventKind
			p, err := poller.New(c, poller.Handlers{NewOrder: newOrder}, poller.WithOnHandlerError(func(_ context.Context, ev poller.EventInfo, err error) {
				assert.ErrorIs(t, err, poller.ErrUnhandled)
				mu.Lock() // the hook runs on the handlers' goroutines
				reported = append(reported, ev.Kind)
				mu.Unlock()
			}))
			require.NoError(t, err)
			kinds(srv, a)
			stop := started(t, p)
			synctest.Wait()
			require.NoError(t, stop())
			assert.ElementsMatch(t, []models.EventKind{models.EventKindScopeChange, models.EventKindRevisionRequest, models.EventKindOwnerDeniedOrder}, reported)
			assert.Equal(t, int64(3), p.Stats().Unhandled)
			warns := logs.lines(slog.LevelWarn)
			assert.Len(t, warns, 3)
			for _, w := range warns {
				assert.Contains(t, w, "WARN heepr poller: no handler took this event")
			}
			assert.Empty(t, logs.lines(slog.LevelDebug)[len(warns):], "nothing below Warn by default")
		})
	})
	t.Run("no handler at all", func(t *testing.T) {
		_, _, c := agent(t)
		_, err := poller.New(c, poller.Handlers{})
		require.Error(t, err)
		assert.Contains(t, err.Error(), "Default")
	})
}

// Case 3: a second poller on a journal directory in use is refused, with the
// directory named, and the first keeps every event.
func TestEdgeOnePollerPerJournal(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv, a, c := agent(t)
		dir := t.TempDir()
		release := make(chan struct{})
		var handled atomic.Int32
		h := poller.Handlers{NewOrder: func(context.Context, models.NewOrderEvent) error {
			<-release
			handled.Add(1)
			return nil
		}}
		first, err := poller.New(c, h, poller.WithJournal(dir))
		require.NoError(t, err)
		for range 6 {
			srv.PlaceOrder(a.ID, models.Order{})
		}
		stop := started(t, first)
		synctest.Wait()

		second, err := poller.New(c, h, poller.WithJournal(dir))
		require.NoError(t, err)
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		err = second.Run(ctx) // at once, not after the minute
		require.ErrorIs(t, err, poller.ErrJournalLocked)
		assert.Contains(t, err.Error(), dir)
		assert.Equal(t, "poller: journal "+dir+": in use by another poller (this process); one poller per journal directory: give each poller its own WithJournal", err.Error())

		close(release)
		synctest.Wait()
		require.NoError(t, stop())
		assert.Equal(t, int32(6), handled.Load())
		// Once the first has stopped, the directory is free again.
		stop = started(t, second)
		synctest.Wait()
		require.NoError(t, stop())
	})
}

// Case 4: the same event id three times in one answer runs once.
func TestEdgeDuplicateWithinOneAnswer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ev := event("evt_7", "")
		_, _, c := scriptedAgent(t, []string{answer(ev, ev, ev)})
		var calls atomic.Int32
		p, err := poller.New(c, poller.Handlers{ScopeChange: func(context.Context, models.ScopeChangeEvent) error {
			calls.Add(1)
			return nil
		}})
		require.NoError(t, err)
		stop := started(t, p)
		synctest.Wait()
		require.NoError(t, stop())
		assert.Equal(t, int32(1), calls.Load())
		assert.Equal(t, int64(2), p.Stats().Duplicates)
	})
}

// Case 5: a 2 MiB event id is reported (to Default, without the id), never
// written to the seen log, and the next start is clean; over the event cap and
// under it.
func TestEdgeHugeEventID(t *testing.T) {
	huge := strings.Repeat("x", 2<<20)
	for _, cap := range []int64{client.DefaultMaxEventBytes, 4 << 20} {
		t.Run(fmt.Sprintf("cap=%d", cap), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				dir := t.TempDir()
				_, _, c := scriptedAgent(t, []string{answer(event(huge, ""), event("evt_2", ""))}, client.WithMaxEventBytes(cap))
				var defaulted []poller.EventInfo
				var scoped atomic.Int32
				h := poller.Handlers{
					ScopeChange: func(context.Context, models.ScopeChangeEvent) error { scoped.Add(1); return nil },
					Default:     func(_ context.Context, ev poller.EventInfo) error { defaulted = append(defaulted, ev); return nil },
				}
				p, err := poller.New(c, h, poller.WithJournal(dir))
				require.NoError(t, err)
				stop := started(t, p)
				synctest.Wait()
				require.NoError(t, stop())
				require.Len(t, defaulted, 1)
				assert.Empty(t, defaulted[0].ID, "an id that long is not an id")
				require.Error(t, defaulted[0].DecodeError)
				assert.LessOrEqual(t, int64(len(defaulted[0].Raw)), cap)
				assert.Equal(t, int32(1), scoped.Load(), "the event after it is handled")
				seen, err := os.ReadFile(filepath.Join(dir, "seen"))
				require.NoError(t, err)
				assert.Less(t, len(seen), 1024, "the id never reaches the seen log")

				// The next start: clean, nothing replayed.
				p2, err := poller.New(c, h, poller.WithJournal(dir))
				require.NoError(t, err)
				stop = started(t, p2)
				synctest.Wait()
				require.NoError(t, stop())
				assert.Len(t, defaulted, 1)
				assert.Zero(t, p2.Stats().Events)
			})
		})
	}
}

// Case 6: an odd entry in the journal (a directory, an unreadable file, a
// FIFO, a symbolic link) is set aside with a warning; the start is clean and
// nothing is followed.
func TestEdgeOddJournalEntries(t *testing.T) {
	legacy := func(id string) []byte {
		return []byte(`{"v":1,"event":` + event(id, "") + `}`)
	}
	outside := filepath.Join(t.TempDir(), "elsewhere.json")
	require.NoError(t, os.WriteFile(outside, legacy("evt_outside"), 0o600))
	root := os.Geteuid() == 0
	tests := []struct {
		name    string
		make    func(pending string) string // returns the entry's path
		setAway bool
	}{
		{"directory", func(p string) string {
			path := filepath.Join(p, "00000000000000000007.json")
			require.NoError(t, os.Mkdir(path, 0o700))
			return path
		}, true},
		{"directory as a poll", func(p string) string {
			path := filepath.Join(p, "00000000000000000008.jsonl")
			require.NoError(t, os.Mkdir(path, 0o700))
			return path
		}, true},
		{"mode 0000", func(p string) string {
			path := filepath.Join(p, "00000000000000000003.json")
			require.NoError(t, os.WriteFile(path, legacy("evt_locked"), 0o000))
			return path
		}, !root}, // root reads it anyway: then it is replayed, which is as good
		{"FIFO", func(p string) string {
			path := filepath.Join(p, "00000000000000000004.jsonl")
			require.NoError(t, syscall.Mkfifo(path, 0o600))
			return path
		}, true},
		{"symlink", func(p string) string {
			path := filepath.Join(p, "00000000000000000005.json")
			require.NoError(t, os.Symlink(outside, path))
			return path
		}, true},
		{"symlinked seen file", func(p string) string {
			path := filepath.Join(filepath.Dir(p), "seen")
			require.NoError(t, os.Symlink(outside, path))
			return path
		}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, a, _ := agent(t)
			dir := t.TempDir()
			pending := filepath.Join(dir, "pending")
			require.NoError(t, os.MkdirAll(pending, 0o700))
			path := tt.make(pending)
			rec := &records{}
			c2, err := client.New(client.WithHTTPClient(srv.HTTPClient()), client.WithAPIKey(a.APIKey),
				client.WithAgentID(a.ID), client.WithLogger(slog.New(rec)))
			require.NoError(t, err)
			var handled []string
			var mu sync.Mutex
			polled := make(chan struct{}, 1)
			p, err := poller.New(c2, poller.Handlers{ScopeChange: func(ctx context.Context, _ models.ScopeChangeEvent) error {
				info, _ := poller.FromContext(ctx)
				mu.Lock()
				handled = append(handled, info.ID)
				mu.Unlock()
				return nil
			}}, poller.WithJournal(dir), poller.WithOnPoll(func(context.Context, poller.PollResult) {
				select {
				case polled <- struct{}{}:
				default:
				}
			}))
			require.NoError(t, err)
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- p.Run(ctx) }()
			select {
			case <-polled: // the start went through to the first poll
			case err := <-done:
				t.Fatalf("Run stopped at the start: %v", err)
			case <-time.After(10 * time.Second):
				t.Fatal("the start hangs on the entry")
			}
			cancel()
			require.NoError(t, <-done)
			mu.Lock()
			defer mu.Unlock()
			assert.NotContains(t, handled, "evt_outside", "a link is never followed")
			if tt.setAway {
				_, err := os.Lstat(path + ".corrupt")
				assert.NoError(t, err, "set aside for a person to look at")
				problem, ok := rec.attr("journal entry", "problem")
				require.True(t, ok, "a warning: %q", rec.lines(slog.LevelWarn))
				t.Logf("the warning: %s", problem)
				assert.Contains(t, problem.String(), filepath.Base(path))
				assert.Contains(t, problem.String(), "set aside")
			}
		})
	}
}

// Case 7: an event whose id decodes but whose header does not (created_at is
// not RFC 3339) reaches Default with its id and raw JSON.
func TestEdgeBadHeaderToDefault(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		bad := `{"id":"evt_9","kind":"new_order","created_at":"yesterday","order_id":"ord_9"}`
		_, _, c := scriptedAgent(t, []string{answer(bad)})
		var got []poller.EventInfo
		p, err := poller.New(c, poller.Handlers{
			NewOrder: func(context.Context, models.NewOrderEvent) error {
				t.Error("a bad header is not a new order")
				return nil
			},
			Default: func(_ context.Context, ev poller.EventInfo) error { got = append(got, ev); return nil },
		})
		require.NoError(t, err)
		stop := started(t, p)
		synctest.Wait()
		require.NoError(t, stop())
		require.Len(t, got, 1)
		assert.Equal(t, "evt_9", got[0].ID)
		assert.Equal(t, models.EventKindNewOrder, got[0].Kind)
		assert.Equal(t, "ord_9", got[0].OrderID)
		assert.JSONEq(t, bad, string(got[0].Raw))
		assert.ErrorContains(t, got[0].DecodeError, "created_at")
	})
}

// Case 8: a handler that ignores its cancelled context holds Run no longer
// than the shutdown timeout plus the grace; the error names its event.
func TestEdgeStuckHandler(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv, a, c := agent(t)
		release := make(chan struct{})
		p, err := poller.New(c, poller.Handlers{NewOrder: func(context.Context, models.NewOrderEvent) error {
			<-release // deaf to its context
			return nil
		}}, poller.WithShutdownTimeout(200*time.Millisecond), poller.WithShutdownGrace(time.Second), poller.WithJournal(t.TempDir()))
		require.NoError(t, err)
		ord := srv.PlaceOrder(a.ID, models.Order{})
		stop := started(t, p)
		synctest.Wait()
		start := time.Now()
		err = stop()
		assert.Equal(t, 1200*time.Millisecond, time.Since(start), "timeout, then grace")
		require.ErrorIs(t, err, poller.ErrUnfinished)
		assert.Contains(t, err.Error(), "evt_1 (new_order, order "+ord+")")
		assert.Contains(t, err.Error(), "abandoned")
		close(release) // the abandoned goroutine ends, recording nothing
		synctest.Wait()
		assert.Zero(t, p.Stats().Handled)
	})
}

// Case 9: a client without an agent id cannot read the owner's cadence: New
// says so, and both ways to fix it.
func TestEdgeCadenceNeedsAgentID(t *testing.T) {
	c, err := client.New(client.WithAPIKey("sk_live_abcdefghijkl"))
	require.NoError(t, err)
	h := poller.Handlers{Default: func(context.Context, poller.EventInfo) error { return nil }}
	_, err = poller.New(c, h)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "client.WithAgentID")
	assert.Contains(t, err.Error(), "poller.WithCadence")
	_, err = poller.New(c, h, poller.WithCadence(5*time.Minute))
	assert.NoError(t, err, "a cadence given is a cadence kept")

	c, err = client.New(client.WithAPIKey("sk_live_abcdefghijkl"), client.WithAgentID("agt_1"))
	require.NoError(t, err)
	_, err = poller.New(c, h, poller.WithoutSkillCheck())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "WithCadence")
}

// Case 11: the cancel is answered at once with an INFO line saying what Run
// waits for and how long, then a WARN every 5s while handlers still run.
func TestEdgeShutdownIsVisible(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv, a, _ := agent(t)
		rec := &records{}
		c, err := client.New(client.WithHTTPClient(srv.HTTPClient()), client.WithAPIKey(a.APIKey), client.WithAgentID(a.ID),
			client.WithLogger(slog.New(rec)))
		require.NoError(t, err)
		p, err := poller.New(c, poller.Handlers{NewOrder: func(context.Context, models.NewOrderEvent) error {
			time.Sleep(12 * time.Second)
			return nil
		}})
		require.NoError(t, err)
		srv.PlaceOrder(a.ID, models.Order{})
		stop := started(t, p)
		synctest.Wait()
		require.NoError(t, stop())
		lines := rec.lines(slog.LevelInfo)
		require.GreaterOrEqual(t, len(lines), 3, "%q", lines)
		assert.Equal(t, "INFO heepr poller: stopping: no new polls; waiting for the handlers", lines[0])
		upTo, ok := rec.attr("stopping: no new polls", "up_to")
		require.True(t, ok)
		assert.Equal(t, 30*time.Second, upTo.Duration())
		assert.Equal(t, []string{
			"WARN heepr poller: stopping: still waiting for handlers",
			"WARN heepr poller: stopping: still waiting for handlers",
		}, lines[1:3], "at 5s and 10s; the handler ends at 12s")
		running, _ := rec.attr("still waiting", "running")
		assert.Contains(t, running.String(), "evt_1 (new_order")
	})
}

// Bad JSON in the middle of an answer: the events around it are handled, the
// element itself reaches Default with its bytes.
func TestEdgeElementNotAnEvent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		_, _, c := scriptedAgent(t, []string{answer(event("evt_1", ""), `[1,2]`, `"text"`, event("evt_2", ""))})
		var ids []string
		var bad [][]byte
		p, err := poller.New(c, poller.Handlers{
			ScopeChange: func(ctx context.Context, _ models.ScopeChangeEvent) error {
				info, _ := poller.FromContext(ctx)
				ids = append(ids, info.ID)
				return nil
			},
			Default: func(_ context.Context, ev poller.EventInfo) error {
				assert.Error(t, ev.DecodeError)
				bad = append(bad, ev.Raw)
				return nil
			},
		}, poller.WithConcurrency(1))
		require.NoError(t, err)
		stop := started(t, p)
		synctest.Wait()
		require.NoError(t, stop())
		assert.Equal(t, []string{"evt_1", "evt_2"}, ids)
		assert.ElementsMatch(t, [][]byte{[]byte(`[1,2]`), []byte(`"text"`)}, bad)
	})
}

// An event of a known kind whose body does not read as that kind reaches
// Default, with Value's error naming the event and the field, whether or not
// its kind has a handler; the events around it reach theirs.
func TestEdgeBodyNotItsKind(t *testing.T) {
	for _, withHandler := range []bool{true, false} {
		t.Run(fmt.Sprintf("handler=%v", withHandler), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				_, _, c := scriptedAgent(t, []string{answer(event("evt_1", ""), event("evt_2", `,"deadline":"tomorrow"`),
					`{"id":"evt_3","kind":"order_rated","created_at":"2026-11-28T09:00:00Z","order_id":"ord_3","stars":5}`)})
				var scoped, unknown []string
				var defaulted []poller.EventInfo
				h := poller.Handlers{
					Unknown: func(_ context.Context, kind models.EventKind, raw json.RawMessage) error {
						unknown = append(unknown, string(kind)+" "+string(raw))
						return nil
					},
					Default: func(_ context.Context, ev poller.EventInfo) error { defaulted = append(defaulted, ev); return nil },
				}
				if withHandler {
					h.ScopeChange = func(_ context.Context, ev models.ScopeChangeEvent) error { scoped = append(scoped, ev.ID); return nil }
				}
				p, err := poller.New(c, h, poller.WithConcurrency(1))
				require.NoError(t, err)
				stop := started(t, p)
				synctest.Wait()
				require.NoError(t, stop())

				if withHandler {
					assert.Equal(t, []string{"evt_1"}, scoped)
					require.Len(t, defaulted, 1)
				} else {
					require.Len(t, defaulted, 2, "evt_1 has no handler, evt_2 does not decode")
					assert.NoError(t, defaulted[0].DecodeError)
					defaulted = defaulted[1:]
				}
				assert.Equal(t, "evt_2", defaulted[0].ID)
				assert.ErrorContains(t, defaulted[0].DecodeError, `decode scope_change event "evt_2": deadline "tomorrow"`)
				assert.Equal(t, []string{`order_rated {"id":"evt_3","kind":"order_rated","created_at":"2026-11-28T09:00:00Z","order_id":"ord_3","stars":5}`}, unknown)
			})
		})
	}
}
