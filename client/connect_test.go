package client_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/heepr/heepr-go/client"
	herrors "github.com/heepr/heepr-go/errors"
	"github.com/heepr/heepr-go/heeprtest"
	"github.com/heepr/heepr-go/models"
)

// cleanEnv unsets every variable Connect reads, for the test's duration.
func cleanEnv(t *testing.T) {
	for _, k := range []string{client.EnvAPIKey, client.EnvAgentID, client.EnvBootstrapToken, client.EnvBaseURL} {
		t.Setenv(k, "")
	}
}

func connect(t *testing.T, srv *heeprtest.Server, cfg client.ConnectConfig) (*client.Client, error) {
	t.Helper()
	return client.Connect(context.Background(), cfg, client.WithHTTPClient(srv.HTTPClient()))
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return string(b)
}

func registers(srv *heeprtest.Server) int { return len(requestsTo(srv, "/api/agent/register")) }

func TestConnectFresh(t *testing.T) {
	cleanEnv(t)
	srv := heeprtest.NewServer()
	a := srv.AddAgent()
	keyFile := filepath.Join(t.TempDir(), ".heepr-marketplace-key")

	c, err := connect(t, srv, client.ConnectConfig{KeyFile: keyFile, AgentID: a.ID, BootstrapToken: a.BootstrapToken})
	require.NoError(t, err)
	assert.Equal(t, 1, registers(srv))
	assert.JSONEq(t, `{"v":1,"agent_id":"`+a.ID+`","api_key":"`+c.APIKey().Reveal()+`"}`, readFile(t, keyFile), "the key, and whose it is")
	info, err := os.Stat(keyFile)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), info.Mode().Perm())
	leftovers, _ := filepath.Glob(filepath.Join(filepath.Dir(keyFile), ".*.tmp-*"))
	assert.Empty(t, leftovers, "no temporary file left")

	_, err = c.Events(context.Background())
	require.NoError(t, err)
	noViolations(t, srv)
}

func TestConnectReusesKeyFileWithoutTouchingToken(t *testing.T) {
	cleanEnv(t)
	srv, a, _, cfg := firstRun(t)
	first, err := connect(t, srv, cfg)
	require.NoError(t, err)
	srv.PlaceOrder(a.ID, models.Order{})

	second, err := connect(t, srv, cfg)
	require.NoError(t, err)
	assert.Equal(t, first.APIKey(), second.APIKey())
	assert.Equal(t, 1, registers(srv), "a re-run does not register again")
	assert.Empty(t, requestsTo(srv, "/api/events"), "validating the key must not drain the queue")
	assert.Len(t, requestsTo(srv, "/api/agents/"+a.ID+"/skill/skill.json"), 1, "validated read-only, bound to the agent")
	st, _ := srv.Agent(a.ID)
	assert.Equal(t, 1, st.Queued)
	noViolations(t, srv)
}

func TestConnectReadsJSONKeyFile(t *testing.T) {
	cleanEnv(t)
	srv, a, c := registered(t)
	keyFile := filepath.Join(t.TempDir(), "key.json")
	require.NoError(t, os.WriteFile(keyFile, []byte(`{"api_key": "`+c.APIKey().Reveal()+`", "agent_id": "`+a.ID+`"}`), 0o600))
	got, err := connect(t, srv, client.ConnectConfig{KeyFile: keyFile, AgentID: a.ID})
	require.NoError(t, err)
	assert.Equal(t, c.APIKey(), got.APIKey())
	assert.Equal(t, 1, registers(srv))
}

func TestConnectKeyFromEnvironment(t *testing.T) {
	cleanEnv(t)
	srv, a, c := registered(t)
	t.Setenv(client.EnvAPIKey, c.APIKey().Reveal())
	t.Setenv(client.EnvAgentID, a.ID)
	t.Setenv(client.EnvBaseURL, "https://staging.heepr.test/api")
	keyFile := filepath.Join(t.TempDir(), "key")
	require.NoError(t, os.WriteFile(keyFile, []byte("sk_live_someotherkey0000\n"), 0o600))

	got, err := connect(t, srv, client.ConnectConfig{KeyFile: keyFile})
	require.NoError(t, err)
	assert.Equal(t, c.APIKey(), got.APIKey(), "the environment wins over the file")
	assert.Equal(t, a.ID, got.AgentID())
	assert.Equal(t, "https://staging.heepr.test/api", got.BaseURL())
	assert.Equal(t, 1, registers(srv))
	assert.Equal(t, "sk_live_someotherkey0000\n", readFile(t, keyFile), "untouched")

	// An option given to Connect wins over the environment.
	got, err = client.Connect(context.Background(), client.ConnectConfig{KeyFile: keyFile},
		client.WithHTTPClient(srv.HTTPClient()), client.WithBaseURL("https://heepr.ai/api"))
	require.NoError(t, err)
	assert.Equal(t, "https://heepr.ai/api", got.BaseURL())
}

func TestConnectRevokedKeyRegistersOnce(t *testing.T) {
	cleanEnv(t)
	srv := heeprtest.NewServer()
	a := srv.AddAgent()
	keyFile := filepath.Join(t.TempDir(), "key")
	old, err := connect(t, srv, client.ConnectConfig{KeyFile: keyFile, AgentID: a.ID, BootstrapToken: a.BootstrapToken})
	require.NoError(t, err)

	srv.RevokeKey(a.ID)
	fresh := srv.IssueBootstrapToken(a.ID)
	c, err := connect(t, srv, client.ConnectConfig{KeyFile: keyFile, AgentID: a.ID, BootstrapToken: fresh})
	require.NoError(t, err)
	assert.Equal(t, 2, registers(srv), "exactly one new register")
	assert.NotEqual(t, old.APIKey(), c.APIKey())
	assert.Contains(t, readFile(t, keyFile), `"api_key":"`+c.APIKey().Reveal()+`"`, "the new key replaced the revoked one")
	_, err = c.Events(context.Background())
	require.NoError(t, err)
	noViolations(t, srv)
}

func TestConnectRevokedKeyWithoutToken(t *testing.T) {
	cleanEnv(t)
	srv, a, c := registered(t)
	keyFile := filepath.Join(t.TempDir(), "key")
	require.NoError(t, client.KeyFile(keyFile).Save(context.Background(), c.APIKey()))
	srv.RevokeKey(a.ID)
	_, err := connect(t, srv, client.ConnectConfig{KeyFile: keyFile, AgentID: a.ID})
	require.Error(t, err)
	assert.ErrorIs(t, err, herrors.ErrKeyRevoked)
	assert.Contains(t, err.Error(), client.EnvBootstrapToken)
	assert.NotContains(t, err.Error(), c.APIKey().Reveal())
}

func TestConnectActiveKeyExists(t *testing.T) {
	cleanEnv(t)
	srv, a, _ := registered(t) // a live key this program has lost
	token := srv.IssueBootstrapToken(a.ID)
	keyFile := filepath.Join(t.TempDir(), "key")

	c, err := connect(t, srv, client.ConnectConfig{KeyFile: keyFile, AgentID: a.ID, BootstrapToken: token})
	assert.Nil(t, c)
	require.Error(t, err)
	assert.ErrorIs(t, err, herrors.ErrActiveKeyExists)
	assert.Contains(t, err.Error(), "bootstrap token was not consumed")
	assert.Contains(t, err.Error(), "revokes the live key")
	assert.NotContains(t, err.Error(), token.Reveal())
	_, statErr := os.Stat(keyFile)
	assert.ErrorIs(t, statErr, os.ErrNotExist, "nothing saved")

	// The owner revokes; the same token now works.
	srv.RevokeKey(a.ID)
	c, err = connect(t, srv, client.ConnectConfig{KeyFile: keyFile, AgentID: a.ID, BootstrapToken: token})
	require.NoError(t, err)
	assert.NotEmpty(t, c.APIKey())
	noViolations(t, srv)
}

func TestConnectBadKeyFileLeftUntouched(t *testing.T) {
	tests := []struct {
		name    string
		setup   func(t *testing.T, path string)
		wantErr error
	}{
		{"garbage", func(t *testing.T, path string) {
			require.NoError(t, os.WriteFile(path, []byte("this is not a key, it has spaces\n"), 0o600))
		}, client.ErrCorruptKey},
		{"empty", func(t *testing.T, path string) {
			require.NoError(t, os.WriteFile(path, nil, 0o600))
		}, client.ErrCorruptKey},
		{"two keys", func(t *testing.T, path string) {
			require.NoError(t, os.WriteFile(path, []byte("sk_live_aaaaaaaaaaaa\nsk_live_bbbbbbbbbbbb\n"), 0o600))
		}, client.ErrCorruptKey},
		{"broken JSON", func(t *testing.T, path string) {
			require.NoError(t, os.WriteFile(path, []byte(`{"api_key": `), 0o600))
		}, client.ErrCorruptKey},
		{"unreadable (a directory)", func(t *testing.T, path string) {
			require.NoError(t, os.Mkdir(path, 0o700))
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cleanEnv(t)
			srv := heeprtest.NewServer()
			a := srv.AddAgent()
			keyFile := filepath.Join(t.TempDir(), "key")
			tt.setup(t, keyFile)
			before, _ := os.ReadFile(keyFile)

			c, err := connect(t, srv, client.ConnectConfig{KeyFile: keyFile, AgentID: a.ID, BootstrapToken: a.BootstrapToken})
			assert.Nil(t, c)
			require.Error(t, err)
			if tt.wantErr != nil {
				assert.ErrorIs(t, err, tt.wantErr)
			}
			assert.Contains(t, err.Error(), keyFile, "the error names the file")
			after, _ := os.ReadFile(keyFile)
			assert.Equal(t, before, after, "never overwritten")
			assert.Zero(t, registers(srv), "the token is not spent")
		})
	}
}

// failingStore is a read-only key store: it has no key and cannot save one.
type failingStore struct{}

func (failingStore) Load(context.Context) (models.APIKey, error) { return "", client.ErrNoKey }
func (failingStore) Save(context.Context, models.APIKey) error {
	return errors.New("read-only file system")
}

func TestConnectSaveFailureStillReturnsClient(t *testing.T) {
	cleanEnv(t)
	srv := heeprtest.NewServer()
	a := srv.AddAgent()
	c, err := connect(t, srv, client.ConnectConfig{KeyStore: failingStore{}, AgentID: a.ID, BootstrapToken: a.BootstrapToken})
	require.NotNil(t, c, "the token is spent: the working client must not be lost")
	var notSaved *client.KeyNotSavedError
	require.ErrorAs(t, err, &notSaved)
	assert.Equal(t, c.APIKey(), notSaved.Key, "the caller can save it")
	assert.Contains(t, err.Error(), "read-only file system")
	assert.Contains(t, err.Error(), "not saved")
	assert.NotContains(t, err.Error(), c.APIKey().Reveal())
	_, err = c.Events(context.Background())
	assert.NoError(t, err)
}

// A platform that is down while the key is checked must not make Connect spend
// the token.
func TestConnectTransientFailureDoesNotRegister(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cleanEnv(t)
		srv, a, c := registered(t)
		keyFile := filepath.Join(t.TempDir(), "key")
		require.NoError(t, client.KeyFile(keyFile).Save(context.Background(), c.APIKey()))
		srv.Inject(heeprtest.Fault{Kind: heeprtest.FaultStatus, Status: 503, Times: heeprtest.Forever, Path: "/agents/{id}/skill/{file}"})
		_, err := connect(t, srv, client.ConnectConfig{KeyFile: keyFile, AgentID: a.ID, BootstrapToken: srv.IssueBootstrapToken(a.ID)})
		require.Error(t, err)
		assert.ErrorIs(t, err, herrors.ErrUnavailable)
		assert.Contains(t, err.Error(), "not registering")
		assert.Equal(t, 1, registers(srv))
	})
}

func TestConnectNothingToGoOn(t *testing.T) {
	cleanEnv(t)
	srv := heeprtest.NewServer()
	a := srv.AddAgent()
	_, err := connect(t, srv, client.ConnectConfig{KeyFile: filepath.Join(t.TempDir(), "key"), AgentID: a.ID})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "no stored API key")
	assert.Contains(t, err.Error(), client.EnvBootstrapToken)

	_, err = connect(t, srv, client.ConnectConfig{KeyFile: filepath.Join(t.TempDir(), "key"), BootstrapToken: a.BootstrapToken})
	assert.ErrorIs(t, err, client.ErrNoAgentID)

	t.Setenv(client.EnvAgentID, a.ID)
	t.Setenv(client.EnvBootstrapToken, a.BootstrapToken.Reveal())
	c, err := connect(t, srv, client.ConnectConfig{KeyFile: filepath.Join(t.TempDir(), "key")})
	require.NoError(t, err, "the environment fills the gaps")
	assert.Equal(t, a.ID, c.AgentID())
}

// firstRun is a fake with one agent that has not registered yet, and the
// ConnectConfig of its first run: a fresh key file and its bootstrap token.
func firstRun(t *testing.T) (*heeprtest.Server, heeprtest.Agent, string, client.ConnectConfig) {
	t.Helper()
	srv := heeprtest.NewServer()
	a := srv.AddAgent()
	keyFile := filepath.Join(t.TempDir(), "key")
	return srv, a, keyFile, client.ConnectConfig{KeyFile: keyFile, AgentID: a.ID, BootstrapToken: a.BootstrapToken}
}
