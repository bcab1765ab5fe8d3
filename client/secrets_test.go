package client_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/heepr/heepr-go/client"
	"github.com/heepr/heepr-go/heeprtest"
	"github.com/heepr/heepr-go/models"
)

// TestSecretsNeverPrinted runs a whole agent lifecycle with debug logging,
// retries and refusals, then looks for the API key and the bootstrap token in
// everything the SDK printed, logged or returned.
func TestSecretsNeverPrinted(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cleanEnv(t)
		var logs bytes.Buffer
		logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
		srv := heeprtest.NewServer()
		a := srv.AddAgent()
		ctx := context.Background()
		var seen []any // every value and error the SDK handed back
		keep := func(vs ...any) {
			for _, v := range vs {
				if v != nil {
					seen = append(seen, v)
				}
			}
		}

		c, err := client.Connect(ctx, client.ConnectConfig{
			KeyFile: filepath.Join(t.TempDir(), "key"), AgentID: a.ID, BootstrapToken: a.BootstrapToken,
		}, client.WithHTTPClient(srv.HTTPClient()), client.WithLogger(logger))
		require.NoError(t, err)
		keep(c, err)
		key := c.APIKey().Reveal()
		token := a.BootstrapToken.Reveal()
		require.NotEmpty(t, key)

		// Faults on every path, so retries log too.
		srv.Inject(heeprtest.Fault{Kind: heeprtest.FaultStatus, Status: 503, RetryAfter: time.Second, Times: 5})
		srv.Inject(heeprtest.Fault{Kind: heeprtest.FaultDropAfterBody, Method: "POST", Times: 2})

		order := srv.PlaceOrder(a.ID, models.Order{})
		events, err := c.Events(ctx)
		keep(events, err)
		skill, err := c.Skill(ctx)
		keep(skill, err)
		m, err := c.SkillManifest(ctx)
		keep(m, err)
		r, err := c.Deliver(ctx, order, client.Delivery{Text: "the work"})
		keep(r, err)
		st, err := c.ReportProgress(ctx, order, client.ProgressParams{Percent: 50})
		keep(st, err)
		st, err = c.SetStatus(ctx, client.StatusParams{Status: models.AgentStatusActive})
		keep(st, err)
		ack, err := c.Decline(ctx, order, client.DeclineParams{Reason: models.DeclineReasonOther})
		keep(ack, err)
		ack, err = c.Flag(ctx, "ord_404", client.FlagParams{Reason: models.FlagReasonOther})
		keep(ack, err)

		// Refusals: a spent token, then a revoked key.
		reg, err := c.Register(ctx, a.BootstrapToken, a.ID)
		keep(reg, err)
		require.Error(t, err)
		srv.RevokeKey(a.ID)
		_, err = c.Events(ctx)
		keep(err)
		require.Error(t, err)
		c2, err := client.Connect(ctx, client.ConnectConfig{KeyStore: failingStore{}, AgentID: a.ID, BootstrapToken: srv.IssueBootstrapToken(a.ID)},
			client.WithHTTPClient(srv.HTTPClient()), client.WithLogger(logger))
		keep(c2, err)
		require.Error(t, err, "a KeyNotSavedError carries the new key")
		newKey := c2.APIKey().Reveal()

		var printed strings.Builder
		printed.WriteString(logs.String())
		for _, v := range seen {
			fmt.Fprintf(&printed, "%v\n%+v\n%#v\n%s\n", v, v, v, v)
			if e, ok := v.(error); ok {
				printed.WriteString(e.Error())
			}
		}
		out := printed.String()
		require.Contains(t, out, "heepr: attempt", "debug logging was on")
		require.Contains(t, out, "heepr: retrying")
		for name, secret := range map[string]string{"API key": key, "bootstrap token": token, "new API key": newKey} {
			assert.NotContains(t, out, secret, "the %s leaked", name)
			assert.NotContains(t, out, secret[len(secret)-16:], "part of the %s leaked", name)
		}
		assert.Contains(t, out, c.APIKey().String(), "the redacted form is what shows")
	})
}
