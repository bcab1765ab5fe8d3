package client_test

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/heepr/heepr-go/client"
	"github.com/heepr/heepr-go/heeprtest"
)

// troubles are the README's troubleshooting rows for Connect: what a person
// sees, as the README quotes it (<key file>, <agent> and <other agent> stand
// for the values; … for the platform's own words), and how to make it happen.
var troubles = []struct {
	code, quote string
	happen      func(t *testing.T, srv *heeprtest.Server, keyFile string) (agent, other string, err error)
}{
	{"bootstrap_used", "the bootstrap token from $HEEPR_BOOTSTRAP_TOKEN was already used (401 bootstrap_used: …), and the key file <key file> holds no key that works: the owner revokes the agent's key if it has one, and issues a new token from the Skill Setup",
		func(t *testing.T, srv *heeprtest.Server, keyFile string) (string, string, error) {
			a := srv.AddAgent()
			c, err := client.New(client.WithHTTPClient(srv.HTTPClient()))
			require.NoError(t, err)
			_, err = c.Register(context.Background(), a.BootstrapToken, a.ID) // the key went elsewhere
			require.NoError(t, err)
			srv.RevokeKey(a.ID)
			t.Setenv(client.EnvBootstrapToken, a.BootstrapToken.Reveal())
			_, err = connect(t, srv, client.ConnectConfig{KeyFile: keyFile, AgentID: a.ID})
			return a.ID, "", err
		}},
	{"bootstrap_expired", "the bootstrap token from $HEEPR_BOOTSTRAP_TOKEN expired (401 bootstrap_expired: …): the owner issues a new one from the Skill Setup",
		func(t *testing.T, srv *heeprtest.Server, keyFile string) (string, string, error) {
			a := srv.AddAgent()
			time.Sleep(heeprtest.BootstrapTTL + time.Hour) // fake time
			t.Setenv(client.EnvBootstrapToken, a.BootstrapToken.Reveal())
			_, err := connect(t, srv, client.ConnectConfig{KeyFile: keyFile, AgentID: a.ID})
			return a.ID, "", err
		}},
	{"active_key_exists", "agent <agent> already has a live API key that this program does not hold (409 active_key_exists: …). The bootstrap token was not consumed: the owner revokes the live key from the dashboard, then run this again",
		func(t *testing.T, srv *heeprtest.Server, keyFile string) (string, string, error) {
			a := srv.AddAgent(heeprtest.Registered())
			t.Setenv(client.EnvBootstrapToken, srv.IssueBootstrapToken(a.ID).Reveal())
			_, err := connect(t, srv, client.ConnectConfig{KeyFile: keyFile, AgentID: a.ID})
			return a.ID, "", err
		}},
	{"key_revoked", "the key from the key file <key file> was refused (401 key_revoked: …), and no bootstrap token: the owner revoked or rotated it, or it is not this agent's: set $HEEPR_BOOTSTRAP_TOKEN (or ConnectConfig.BootstrapToken) to the token from the owner's Skill Setup to register again",
		func(t *testing.T, srv *heeprtest.Server, keyFile string) (string, string, error) {
			a := srv.AddAgent(heeprtest.Registered())
			require.NoError(t, client.KeyFile(keyFile).Save(context.Background(), a.APIKey))
			srv.RevokeKey(a.ID)
			_, err := connect(t, srv, client.ConnectConfig{KeyFile: keyFile, AgentID: a.ID})
			return a.ID, "", err
		}},
	{"another agent's key", "the key file <key file> holds the key of agent <other agent>, not of <agent>: give each agent its own key file (ConnectConfig.KeyFile), or set $HEEPR_AGENT_ID=<other agent>",
		func(t *testing.T, srv *heeprtest.Server, keyFile string) (string, string, error) {
			other := srv.AddAgent(heeprtest.Registered())
			a := srv.AddAgent()
			require.NoError(t, os.WriteFile(keyFile, []byte(`{"v":1,"agent_id":"`+other.ID+`","api_key":"`+other.APIKey.Reveal()+`"}`), 0o600))
			t.Setenv(client.EnvAgentID, a.ID)
			_, err := connect(t, srv, client.ConnectConfig{KeyFile: keyFile})
			return a.ID, other.ID, err
		}},
}

// TestReadmeTroubleshootingQuotesTheSDK: each troubleshooting row of the
// README quotes what Connect really prints, so the two cannot drift.
func TestReadmeTroubleshootingQuotesTheSDK(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "README.md"))
	require.NoError(t, err)
	for _, tr := range troubles {
		t.Run(tr.code, func(t *testing.T) {
			assert.Contains(t, string(readme), "`"+tr.quote+"`", "the README quotes it")
			synctest.Test(t, func(t *testing.T) {
				cleanEnv(t)
				srv := heeprtest.NewServer()
				keyFile := filepath.Join(t.TempDir(), "key")
				agent, other, err := tr.happen(t, srv, keyFile)
				require.Error(t, err)
				pattern := regexp.QuoteMeta(tr.quote)
				pattern = strings.NewReplacer(
					regexp.QuoteMeta("<key file>"), regexp.QuoteMeta(keyFile),
					regexp.QuoteMeta("<other agent>"), regexp.QuoteMeta(other),
					regexp.QuoteMeta("<agent>"), regexp.QuoteMeta(agent),
					"…", ".*?",
				).Replace(pattern)
				assert.Regexp(t, pattern, err.Error())
			})
		})
	}
}
