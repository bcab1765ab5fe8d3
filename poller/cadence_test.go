package poller_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	herrors "github.com/heepr/heepr-go/errors"
	"github.com/heepr/heepr-go/heeprtest"
	"github.com/heepr/heepr-go/models"
	"github.com/heepr/heepr-go/poller"
)

// Over a day of ticks: the cadence skill.json asks for, varied by the jitter,
// never a gap past the online window.
func TestCadenceAndJitter(t *testing.T) {
	tests := []struct {
		name    string
		cadence int // minutes in skill.json
		opts    []poller.Option
		want    time.Duration
		jitter  float64
	}{
		{"default 20 minutes", int(models.DefaultCadence / time.Minute), nil, 20 * time.Minute, 0.1},
		{"owner's 5 minutes", 5, nil, 5 * time.Minute, 0.1},
		{"one minute, 30% jitter", 1, []poller.Option{poller.WithJitter(0.3)}, time.Minute, 0.3},
		{"60 minutes stays inside the window", 60, nil, 60 * time.Minute, 0.1},
		{"out of range clamped to 60", 90, nil, 60 * time.Minute, 0.1},
		{"WithCadence overrides skill.json", 5, []poller.Option{poller.WithCadence(10 * time.Minute)}, 10 * time.Minute, 0.1},
		{"WithCadence clamped to 1 minute", 5, []poller.Option{poller.WithCadence(time.Second)}, time.Minute, 0.1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				srv, _, c := agent(t, heeprtest.Cadence(tt.cadence))
				var ps polls
				p, err := poller.New(c, anyEvent, append(tt.opts, poller.WithOnPoll(ps.hook))...)
				require.NoError(t, err)
				stop := started(t, p)
				time.Sleep(24 * time.Hour)
				require.NoError(t, stop())

				gaps := ps.gaps()
				require.Greater(t, len(gaps), 20)
				var sum time.Duration
				lo, hi := time.Duration(float64(tt.want)*(1-tt.jitter)), time.Duration(float64(tt.want)*(1+tt.jitter))
				for i, g := range gaps {
					assert.LessOrEqual(t, g, poller.MaxGap, "gap %d", i)
					assert.Less(t, g, time.Hour, "the agent must never show offline")
					if i > 0 { // the first interval spreads a fleet over a whole cadence
						assert.GreaterOrEqual(t, g, lo, "gap %d", i)
						assert.LessOrEqual(t, g, min(hi, poller.MaxGap), "gap %d", i)
						sum += g
					}
				}
				mean := sum / time.Duration(len(gaps)-1)
				wantMean := tt.want
				if hi > poller.MaxGap { // near the window the range narrows on top
					wantMean = (lo + poller.MaxGap) / 2
				}
				assert.InEpsilon(t, float64(wantMean), float64(mean), 0.05, "mean %v", mean)
				if tt.jitter > 0 {
					distinct := map[time.Duration]bool{}
					for _, g := range gaps[1:] {
						distinct[g] = true
					}
					assert.Greater(t, len(distinct), len(gaps)/2, "jittered, not fixed")
				}
				if tt.cadence > 60 {
					// The fake serves what the test asks, and records that the
					// platform broke its own spec; the poller clamped it.
					require.NotEmpty(t, srv.Violations())
					assert.Contains(t, srv.Violations()[0].Err, "poll_interval_minutes")
				} else {
					noViolations(t, srv)
				}
			})
		})
	}
}

func TestCadenceFollowsSkillJSON(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv, a, c := agent(t, heeprtest.Cadence(30))
		var ps polls
		var changes []poller.SkillChange
		p, err := poller.New(c, anyEvent, poller.WithOnPoll(ps.hook), poller.WithJitter(0),
			poller.WithOnSkillChange(func(_ context.Context, ch poller.SkillChange) { changes = append(changes, ch) }))
		require.NoError(t, err)
		stop := started(t, p)
		time.Sleep(2 * time.Hour)
		assert.Empty(t, changes, "the first check is not a change")

		srv.SetCadence(a.ID, 5)
		time.Sleep(2 * time.Hour)
		srv.PublishSkill(models.SkillFileNameSkillMD, "# a new skill\n")
		time.Sleep(time.Hour)
		require.NoError(t, stop())

		require.Len(t, changes, 2)
		assert.Equal(t, 5*time.Minute, changes[0].Cadence)
		require.NotNil(t, changes[0].Manifest)
		assert.Equal(t, 5, changes[0].Manifest.PollIntervalMinutes)
		assert.Equal(t, "# a new skill\n", changes[1].Skill.Body)
		st, _ := srv.Agent(a.ID)
		assert.Equal(t, st.ContentHash, changes[1].Skill.ContentHash)

		gaps := ps.gaps()
		assert.Equal(t, 30*time.Minute, gaps[1], "before: 30 minutes")
		assert.Equal(t, 5*time.Minute, gaps[len(gaps)-1], "after: 5 minutes")
		noViolations(t, srv)
	})
}

func TestWithoutSkillCheck(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv, _, c := agent(t)
		p, err := poller.New(c, anyEvent, poller.WithoutSkillCheck(), poller.WithCadence(poller.DefaultCadence))
		require.NoError(t, err)
		stop := started(t, p)
		time.Sleep(time.Hour)
		require.NoError(t, stop())
		for _, r := range srv.Requests() {
			assert.Equal(t, "/api/events", r.Path)
		}
	})
}

// A burst of 503s: the poller backs off on its own schedule, honours
// Retry-After, and picks the cadence up again when the platform is back.
func TestBackoffUnder503Burst(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv, _, c := agent(t)
		var ps polls
		p, err := poller.New(c, anyEvent, poller.WithOnPoll(ps.hook), poller.WithoutSkillCheck(), poller.WithCadence(poller.DefaultCadence), poller.WithJitter(0))
		require.NoError(t, err)
		stop := started(t, p)
		synctest.Wait()
		time.Sleep(5 * time.Minute) // past the spread first interval? not needed: inject now
		srv.Inject(heeprtest.Fault{Kind: heeprtest.FaultStatus, Status: 503, RetryAfter: 45 * time.Second, Path: "/events", Times: 5})
		time.Sleep(3 * time.Hour)
		require.NoError(t, stop())

		var failedAt []int
		for i, err := range ps.err {
			if err != nil {
				failedAt = append(failedAt, i)
				assert.ErrorIs(t, err, herrors.ErrUnavailable)
			}
		}
		require.Len(t, failedAt, 5)
		gaps := ps.gaps()
		for _, i := range failedAt {
			assert.Equal(t, 45*time.Second, gaps[i], "Retry-After honoured after failure %d", i)
		}
		last := failedAt[len(failedAt)-1]
		assert.Equal(t, 20*time.Minute, gaps[last+1], "back on the cadence")
		assert.Equal(t, int64(5), p.Stats().PollErrors)
	})
}

// Retry-After longer than the heartbeat allows: the poller polls again at the
// heartbeat deadline, so the agent stays online when the platform answers.
func TestRetryAfterNeverPassesHeartbeatDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv, _, c := agent(t, heeprtest.Cadence(60))
		var ps polls
		p, err := poller.New(c, anyEvent, poller.WithOnPoll(ps.hook), poller.WithoutSkillCheck(), poller.WithCadence(poller.DefaultCadence))
		require.NoError(t, err)
		stop := started(t, p)
		synctest.Wait() // the first poll succeeded
		srv.Inject(heeprtest.Fault{Kind: heeprtest.FaultStatus, Status: 429, RetryAfter: 2 * time.Hour, Path: "/events"})
		time.Sleep(6 * time.Hour)
		require.NoError(t, stop())

		at := ps.times()
		var lastOK time.Time
		for i, tm := range at {
			if ps.err[i] == nil {
				if !lastOK.IsZero() {
					assert.LessOrEqual(t, tm.Sub(lastOK), poller.MaxGap, "successful polls at %v and %v", lastOK, tm)
				}
				lastOK = tm
			}
		}
		assert.Equal(t, int64(1), p.Stats().PollErrors)
	})
}

// A long outage without Retry-After: full-jitter backoff, each wait at most the
// cadence, and none sleeping across the heartbeat deadline.
func TestBackoffDuringOutage(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv, _, c := agent(t, heeprtest.Cadence(10))
		var ps polls
		p, err := poller.New(c, anyEvent, poller.WithOnPoll(ps.hook), poller.WithoutSkillCheck(), poller.WithCadence(poller.DefaultCadence))
		require.NoError(t, err)
		stop := started(t, p)
		synctest.Wait()
		srv.Inject(heeprtest.Fault{Kind: heeprtest.FaultStatus, Status: 500, Path: "/events", Times: 40})
		time.Sleep(12 * time.Hour)
		require.NoError(t, stop())

		at, gaps := ps.times(), ps.gaps()
		var lastOK time.Time
		failures := 0
		for i := range gaps {
			if ps.err[i] == nil {
				lastOK = at[i]
				continue
			}
			failures++
			assert.LessOrEqual(t, gaps[i], 10*time.Minute, "never longer than the cadence")
			deadline := lastOK.Add(poller.MaxGap)
			if at[i].Before(deadline) {
				assert.False(t, at[i+1].After(deadline), "slept across the heartbeat deadline")
			}
		}
		assert.Equal(t, 40, failures)
		// Backoff, not a hot loop: the early retries are seconds apart, the
		// later ones minutes.
		assert.Less(t, gaps[1], 10*time.Second)
		assert.Equal(t, int64(40), p.Stats().PollErrors)
	})
}

func TestStopsOnRefusedKey(t *testing.T) {
	tests := []struct {
		name     string
		act      func(srv *heeprtest.Server, id string)
		sentinel error
	}{
		{"revoked", func(srv *heeprtest.Server, id string) { srv.RevokeKey(id) }, herrors.ErrKeyRevoked},
		{"expired", func(srv *heeprtest.Server, id string) { srv.ExpireKey(id) }, herrors.ErrKeyExpired},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				srv, a, c := agent(t)
				p, err := poller.New(c, anyEvent)
				require.NoError(t, err)
				done := make(chan error, 1)
				go func() { done <- p.Run(context.Background()) }()
				time.Sleep(time.Hour)
				tt.act(srv, a.ID)
				err = <-done
				require.Error(t, err)
				assert.ErrorIs(t, err, tt.sentinel)
				assert.True(t, herrors.IsFatalAuth(err))
			})
		})
	}
}

func TestWake(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv, a, c := agent(t, heeprtest.Cadence(60))
		var handled atomic.Int32
		p, err := poller.New(c, poller.Handlers{NewOrder: func(context.Context, models.NewOrderEvent) error {
			handled.Add(1)
			return nil
		}})
		require.NoError(t, err)
		stop := started(t, p)
		synctest.Wait()
		srv.PlaceOrder(a.ID, models.Order{})
		start := time.Now()
		p.Wake()
		synctest.Wait()
		assert.Equal(t, int32(1), handled.Load())
		assert.Equal(t, start, time.Now(), "no wait for the tick")
		require.NoError(t, stop())
	})
}

func TestRunTwiceAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		_, _, c := agent(t)
		p, err := poller.New(c, anyEvent)
		require.NoError(t, err)
		stop := started(t, p)
		synctest.Wait()
		assert.True(t, errors.Is(p.Run(context.Background()), poller.ErrRunning))
		require.NoError(t, stop())
	})
}

func TestNewRefusesBadOptions(t *testing.T) {
	_, _, c := agent(t)
	for _, o := range []poller.Option{
		poller.WithCadence(0), poller.WithJitter(0.9), poller.WithJournal(""), poller.WithConcurrency(0),
		poller.WithHandlerRetry(0, 0), poller.WithShutdownTimeout(-1), poller.WithDedupWindow(0),
	} {
		_, err := poller.New(c, anyEvent, o)
		assert.Error(t, err)
	}
	_, err := poller.New(nil, anyEvent)
	assert.Error(t, err)
}
