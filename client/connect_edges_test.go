package client_test

// Connect and the key at the edges: each test is a case found against v0.1.0
// (issue 13).

import (
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
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

// Case 1: a key given with WithAPIKey is the first source Connect tries.
func TestConnectUsesWithAPIKey(t *testing.T) {
	cleanEnv(t)
	srv, a, c := registered(t)
	keyFile := filepath.Join(t.TempDir(), "key")
	got, err := client.Connect(context.Background(), client.ConnectConfig{KeyFile: keyFile, AgentID: a.ID},
		client.WithHTTPClient(srv.HTTPClient()), client.WithAPIKey(c.APIKey()))
	require.NoError(t, err)
	assert.Equal(t, c.APIKey(), got.APIKey())
	assert.Equal(t, 1, registers(srv), "no register")
	assert.NoFileExists(t, keyFile, "a key given by the program is not written to disk")
	noViolations(t, srv)
}

// Case 2: the token is never spent on a key that could not be kept: the store
// is proven writable first. When saving still fails, the client comes back
// with the error, and the key in it.
func TestConnectNeverSpendsTheTokenOnAKeyItCannotKeep(t *testing.T) {
	cleanEnv(t)
	srv := heeprtest.NewServer()
	a := srv.AddAgent()
	keyFile := filepath.Join(t.TempDir(), "no-such-dir", "key")
	c, err := connect(t, srv, client.ConnectConfig{KeyFile: keyFile, AgentID: a.ID, BootstrapToken: a.BootstrapToken})
	assert.Nil(t, c)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "the key file "+keyFile+" cannot be written")
	assert.Contains(t, err.Error(), "the bootstrap token is not spent")
	assert.Zero(t, registers(srv))

	// A store that passes its check and fails at the save all the same.
	c, err = connect(t, srv, client.ConnectConfig{KeyStore: lateFailingStore{}, AgentID: a.ID, BootstrapToken: a.BootstrapToken})
	require.NotNil(t, c)
	notSaved, ok := errors.AsType[*client.KeyNotSavedError](err)
	require.True(t, ok, "%v", err)
	assert.Equal(t, c.APIKey(), notSaved.Key)
	assert.Equal(t, a.ID, notSaved.AgentID)
	_, err = c.Events(context.Background())
	assert.NoError(t, err, "the client works: the agent keeps running")
}

// lateFailingStore says it can save, then cannot.
type lateFailingStore struct{}

func (lateFailingStore) Load(context.Context) (models.APIKey, error) { return "", client.ErrNoKey }
func (lateFailingStore) Save(context.Context, models.APIKey) error {
	return errors.New("the vault went read-only")
}
func (lateFailingStore) CheckSave(context.Context) error { return nil }

// Case 3: a key is never paired with another agent. A key file that says it
// is agt_2's is refused for agt_3 with both ids, locally; an old one-line key
// file that does not say is refused by the platform's agent-bound check. In
// both, nothing is drained, registered or overwritten.
func TestConnectRefusesAnotherAgentsKey(t *testing.T) {
	for _, format := range []string{"json", "one line"} {
		t.Run(format, func(t *testing.T) {
			cleanEnv(t)
			srv := heeprtest.NewServer()
			two := srv.AddAgent(heeprtest.Registered())
			three := srv.AddAgent()
			srv.PlaceOrder(two.ID, models.Order{})
			keyFile := filepath.Join(t.TempDir(), "key")
			content := two.APIKey.Reveal() + "\n"
			if format == "json" {
				content = `{"v":1,"agent_id":"` + two.ID + `","api_key":"` + two.APIKey.Reveal() + `"}` + "\n"
			}
			require.NoError(t, os.WriteFile(keyFile, []byte(content), 0o600))
			t.Setenv(client.EnvAgentID, three.ID)

			c, err := connect(t, srv, client.ConnectConfig{KeyFile: keyFile, BootstrapToken: three.BootstrapToken})
			assert.Nil(t, c)
			require.ErrorIs(t, err, client.ErrCrossedKey)
			assert.Contains(t, err.Error(), three.ID)
			if format == "json" {
				assert.Contains(t, err.Error(), "holds the key of agent "+two.ID+", not of "+three.ID)
			} else {
				assert.ErrorIs(t, err, herrors.ErrForbidden)
				assert.Contains(t, err.Error(), "is not agent "+three.ID+"'s")
			}
			assert.NotContains(t, err.Error(), two.APIKey.Reveal())
			assert.Equal(t, content, readFile(t, keyFile), "never overwritten")
			assert.Zero(t, registers(srv))
			assert.Empty(t, requestsTo(srv, "/api/events"))
			st, _ := srv.Agent(two.ID)
			assert.Equal(t, 1, st.Queued, "agt_2's queue untouched")
		})
	}
}

// Case 4: a refused $HEEPR_API_KEY does not hide the working key in the key
// file: the next source is tried before any register.
func TestConnectRefusedEnvKeyFallsBackToKeyFile(t *testing.T) {
	cleanEnv(t)
	srv, _, _, cfg := firstRun(t)
	first, err := connect(t, srv, cfg)
	require.NoError(t, err)
	t.Setenv(client.EnvAPIKey, "sk_live_revokedlongago0000")

	second, err := connect(t, srv, cfg)
	require.NoError(t, err)
	assert.Equal(t, first.APIKey(), second.APIKey())
	assert.Equal(t, 1, registers(srv), "the spent token is left alone")
	noViolations(t, srv)
}

// Case 5, in one process: two Connects at once register once; the second
// waits for the key file's lock, then finds the key.
func TestConnectConcurrentRegistersOnce(t *testing.T) {
	cleanEnv(t)
	srv := heeprtest.NewServer()
	a := srv.AddAgent()
	srv.Inject(heeprtest.Fault{Kind: heeprtest.FaultLatency, Latency: 50 * time.Millisecond, Path: "/agent/register"})
	keyFile := filepath.Join(t.TempDir(), "key")
	cfg := client.ConnectConfig{KeyFile: keyFile, AgentID: a.ID, BootstrapToken: a.BootstrapToken}
	var wg sync.WaitGroup
	keys := make([]models.APIKey, 4)
	errs := make([]error, 4)
	for i := range keys {
		wg.Go(func() {
			c, err := connect(t, srv, cfg)
			errs[i] = err
			if c != nil {
				keys[i] = c.APIKey()
			}
		})
	}
	wg.Wait()
	for i := range keys {
		require.NoError(t, errs[i])
		assert.Equal(t, keys[0], keys[i])
	}
	assert.Equal(t, 1, registers(srv))
	noViolations(t, srv)
}

// raceStore is a KeyStore without a lock, shared by two processes: it is
// empty when Connect first reads it; the other process registers and saves
// meanwhile (before Connect's own register reaches the platform).
type raceStore struct {
	mu    sync.Mutex
	key   models.APIKey
	loads int
	other func() models.APIKey // the other process's register, run after the first load
}

func (s *raceStore) Load(context.Context) (models.APIKey, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.loads++
	if s.loads == 1 {
		defer func() { s.key = s.other() }() // while this process goes on to register
		return "", client.ErrNoKey
	}
	if s.key == "" {
		return "", client.ErrNoKey
	}
	return s.key, nil
}

func (s *raceStore) Save(context.Context, models.APIKey) error {
	return errors.New("raceStore: this process never saves in this test")
}

// Case 5, with a store that has no lock: the other process spent the token
// and saved the key; Connect's register gets bootstrap_used, reads the store
// again, finds the key and connects with it, rather than telling the owner to
// issue a new token.
func TestConnectBootstrapUsedReadsTheStoreAgain(t *testing.T) {
	cleanEnv(t)
	srv := heeprtest.NewServer()
	a := srv.AddAgent()
	other, err := client.New(client.WithHTTPClient(srv.HTTPClient()))
	require.NoError(t, err)
	store := &raceStore{other: func() models.APIKey {
		reg, err := other.Register(context.Background(), a.BootstrapToken, a.ID)
		require.NoError(t, err)
		return reg.APIKey
	}}
	c, err := connect(t, srv, client.ConnectConfig{KeyStore: store, AgentID: a.ID, BootstrapToken: a.BootstrapToken})
	require.NoError(t, err)
	assert.Equal(t, store.key, c.APIKey(), "the key the other process saved")
	assert.Equal(t, 2, registers(srv), "the other's register, and this one's, refused as bootstrap_used")
	assert.Equal(t, 2, store.loads, "read again after bootstrap_used")
	_, err = c.Skill(context.Background())
	assert.NoError(t, err, "the key works")
	noViolations(t, srv)
}

// Case 6: a refused stored key and a failed register after it: both reasons
// stay on the chain, each said once.
func TestConnectKeepsEveryReason(t *testing.T) {
	cleanEnv(t)
	srv, a, _, cfg := firstRun(t)
	_, err := connect(t, srv, cfg)
	require.NoError(t, err)
	srv.RevokeKey(a.ID)

	_, err = connect(t, srv, cfg) // the same, spent token
	require.Error(t, err)
	assert.ErrorIs(t, err, herrors.ErrKeyRevoked)
	assert.ErrorIs(t, err, herrors.ErrBootstrapUsed)
	assert.Equal(t, 1, strings.Count(err.Error(), "key_revoked"), err.Error())
	assert.Equal(t, 1, strings.Count(err.Error(), "bootstrap_used"), err.Error())
	assert.Equal(t, 2, registers(srv))
}

// Case 7: messages that say what to do, once, with the absolute path and the
// variables to set; secrets trimmed; swapped secrets and a base URL without a
// scheme named as such.
func TestConnectMessages(t *testing.T) {
	t.Run("nothing set", func(t *testing.T) {
		cleanEnv(t)
		t.Chdir(t.TempDir())
		srv := heeprtest.NewServer()
		_, err := connect(t, srv, client.ConnectConfig{})
		require.Error(t, err)
		abs, _ := filepath.Abs(client.DefaultKeyFile)
		for _, want := range []string{client.EnvAgentID, client.EnvBootstrapToken, client.EnvAPIKey, abs} {
			assert.Contains(t, err.Error(), want)
		}
		assert.NotContains(t, err.Error(), "Connect)", "never tells a Connect user to call Connect")
		assert.NotContains(t, err.Error(), "key store")
	})
	t.Run("refused key, no token", func(t *testing.T) {
		cleanEnv(t)
		srv, a, c := registered(t)
		t.Chdir(t.TempDir())
		require.NoError(t, client.KeyFile("key").Save(context.Background(), c.APIKey()))
		srv.RevokeKey(a.ID)
		_, err := connect(t, srv, client.ConnectConfig{KeyFile: "key", AgentID: a.ID})
		require.ErrorIs(t, err, herrors.ErrKeyRevoked)
		abs, _ := filepath.Abs("key")
		assert.Contains(t, err.Error(), "the key from the key file "+abs+" was refused")
		assert.Equal(t, 1, strings.Count(err.Error(), "key_revoked"), "one clause each: %s", err)
		assert.Contains(t, err.Error(), client.EnvBootstrapToken)
	})
	t.Run("secrets with a line break", func(t *testing.T) {
		cleanEnv(t)
		srv := heeprtest.NewServer()
		a := srv.AddAgent()
		t.Setenv(client.EnvBootstrapToken, a.BootstrapToken.Reveal()+"\n")
		t.Setenv(client.EnvAgentID, " "+a.ID+"\n")
		c, err := connect(t, srv, client.ConnectConfig{KeyFile: filepath.Join(t.TempDir(), "key")})
		require.NoError(t, err)
		t.Setenv(client.EnvAPIKey, c.APIKey().Reveal()+"\r\n")
		t.Setenv(client.EnvBootstrapToken, "")
		_, err = connect(t, srv, client.ConnectConfig{KeyFile: filepath.Join(t.TempDir(), "key")})
		require.NoError(t, err)
		_, err = client.New(client.WithAPIKey(c.APIKey() + "\n"))
		assert.NoError(t, err)
		noViolations(t, srv)
	})
	t.Run("a token where the key goes", func(t *testing.T) {
		cleanEnv(t)
		t.Setenv(client.EnvAPIKey, "bs_abcdefghijkl")
		_, err := connect(t, heeprtest.NewServer(), client.ConnectConfig{KeyFile: filepath.Join(t.TempDir(), "key")})
		require.Error(t, err)
		assert.Contains(t, err.Error(), "$HEEPR_API_KEY holds a bootstrap token (bs_…), not an API key (sk_…): put the token in $HEEPR_BOOTSTRAP_TOKEN")
		assert.NotContains(t, err.Error(), "abcdefghijkl")
		_, err = client.New(client.WithAPIKey("bs_abcdefghijkl"))
		assert.ErrorContains(t, err, "that is a bootstrap token")
	})
	t.Run("a key where the token goes", func(t *testing.T) {
		cleanEnv(t)
		t.Setenv(client.EnvBootstrapToken, "sk_live_abcdefghijkl")
		_, err := connect(t, heeprtest.NewServer(), client.ConnectConfig{KeyFile: filepath.Join(t.TempDir(), "key"), AgentID: "agt_1"})
		require.Error(t, err)
		assert.Contains(t, err.Error(), "$HEEPR_BOOTSTRAP_TOKEN holds an API key (sk_…), not a bootstrap token (bs_…)")
		assert.NotContains(t, err.Error(), "abcdefghijkl")
	})
	t.Run("base URL without a scheme", func(t *testing.T) {
		cleanEnv(t)
		t.Setenv(client.EnvBaseURL, "localhost:8080/api")
		_, err := connect(t, heeprtest.NewServer(), client.ConnectConfig{})
		require.Error(t, err)
		assert.Contains(t, err.Error(), `base URL "localhost:8080/api" has no scheme: want an absolute http(s) URL, such as https://localhost:8080/api`)
	})
}

// Case 8: the key file is read as a secret is: a regular file, 4 KiB at most,
// the context honoured; a file others can read is used with a warning; a
// key a crash left in a temporary file is reported.
func TestKeyFileReading(t *testing.T) {
	ctx := context.Background()
	t.Run("huge", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "key")
		f, err := os.Create(path)
		require.NoError(t, err)
		require.NoError(t, f.Truncate(200<<20))
		require.NoError(t, f.Close())
		_, err = client.KeyFile(path).Load(ctx)
		require.ErrorIs(t, err, client.ErrCorruptKey)
		assert.Contains(t, err.Error(), "over 4 KiB")
	})
	t.Run("FIFO", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "key")
		require.NoError(t, syscall.Mkfifo(path, 0o600))
		done := make(chan error, 1)
		go func() { _, err := client.KeyFile(path).Load(ctx); done <- err }()
		select {
		case err := <-done:
			assert.ErrorContains(t, err, "a named pipe (FIFO), not a regular file")
		case <-time.After(10 * time.Second):
			t.Fatal("Load blocks on a FIFO")
		}
	})
	t.Run("context", func(t *testing.T) {
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		_, err := client.KeyFile(filepath.Join(t.TempDir(), "key")).Load(cctx)
		assert.ErrorIs(t, err, context.Canceled)
	})
	t.Run("readable by others, and a leftover", func(t *testing.T) {
		cleanEnv(t)
		srv, a, c := registered(t)
		dir := t.TempDir()
		keyFile := filepath.Join(dir, "key")
		require.NoError(t, os.WriteFile(keyFile, []byte(c.APIKey().Reveal()+"\n"), 0o644))
		require.NoError(t, os.Chmod(keyFile, 0o644))
		leftover := keyFile + ".tmp-123456"
		require.NoError(t, os.WriteFile(leftover, []byte(`{"v":1,"api_key":"sk_live_leftoverleftover"}`), 0o600))
		var logs logLines
		got, err := client.Connect(ctx, client.ConnectConfig{KeyFile: keyFile, AgentID: a.ID},
			client.WithHTTPClient(srv.HTTPClient()), client.WithLogger(logs.logger()))
		require.NoError(t, err)
		assert.Equal(t, c.APIKey(), got.APIKey(), "used all the same")
		assert.Contains(t, logs.String(), "level=WARN")
		assert.Contains(t, logs.String(), "chmod 600 "+keyFile)
		assert.Contains(t, logs.String(), leftover+" holds an API key that a crash left")
		assert.NotContains(t, logs.String(), "leftoverleftover")
	})
}

// registerAnswer answers POST /agent/register with body, as a broken or
// hostile platform would, and passes everything else on.
type registerAnswer struct {
	next http.RoundTripper
	body string
}

func (r registerAnswer) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Path != "/api/agent/register" {
		return r.next.RoundTrip(req)
	}
	if req.Body != nil {
		_ = req.Body.Close()
	}
	return &http.Response{StatusCode: http.StatusOK, Header: http.Header{"Content-Type": {"application/json"}},
		Body: io.NopCloser(strings.NewReader(r.body)), Request: req}, nil
}

// Case 9: Register installs nothing it should not: a key that is not a key, a
// registration for another agent.
func TestRegisterChecksTheAnswer(t *testing.T) {
	tests := []struct{ name, body, want string }{
		{"key with a line break", `{"agent_id":"agt_1","api_key":"sk_live_abc\r\nX-Evil: 1"}`, "holds no usable api_key"},
		{"no key", `{"agent_id":"agt_1"}`, "holds no usable api_key (it is empty)"},
		{"another agent", `{"agent_id":"agt_9","api_key":"sk_live_abcdefghijkl"}`, `answered for agent "agt_9", not the one asked`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := heeprtest.NewServer()
			a := srv.AddAgent()
			hc := srv.HTTPClient()
			hc.Transport = registerAnswer{next: hc.Transport, body: tt.body}
			c, err := client.New(client.WithHTTPClient(hc))
			require.NoError(t, err)
			_, err = c.Register(context.Background(), a.BootstrapToken, a.ID)
			require.ErrorContains(t, err, tt.want)
			assert.Contains(t, err.Error(), "nothing installed")
			assert.Empty(t, c.APIKey(), "nothing installed")
			assert.Empty(t, c.AgentID())
		})
	}
}
