package client_test

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/heepr/heepr-go/client"
	"github.com/heepr/heepr-go/heeprtest"
)

// envConnectChild makes this test binary, re-executed, a process that runs
// Connect once and prints a fingerprint of the key it ended with.
const envConnectChild = "HEEPR_CLIENT_CONNECT_CHILD"

// connectChild is the child's whole life; it reports whether this process is
// one.
func connectChild() bool {
	keyFile := os.Getenv(envConnectChild)
	if keyFile == "" {
		return false
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := client.Connect(ctx, client.ConnectConfig{KeyFile: keyFile})
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		os.Exit(1)
	}
	sum := sha256.Sum256([]byte(c.APIKey().Reveal()))
	fmt.Println("KEY", hex.EncodeToString(sum[:8]))
	os.Exit(0)
	return true
}

// Five processes Connect at once with one bootstrap token, against one fake
// over loopback: one register reaches the platform, and every process ends
// with the same, working key. The key file's lock makes the others wait, then
// find the key.
func TestConnectRaceAcrossProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("runs processes")
	}
	srv := heeprtest.NewServer()
	defer srv.Close()
	a := srv.AddAgent()
	keyFile := filepath.Join(t.TempDir(), client.DefaultKeyFile)
	env := append(os.Environ(), envConnectChild+"="+keyFile, client.EnvBaseURL+"="+srv.URL(),
		client.EnvAgentID+"="+a.ID, client.EnvBootstrapToken+"="+a.BootstrapToken.Reveal(), client.EnvAPIKey+"=")

	const n = 5
	var wg sync.WaitGroup
	outs := make([]string, n)
	errs := make([]error, n)
	start := make(chan struct{})
	for i := range n {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = env
		var stderr strings.Builder
		cmd.Stderr = &stderr
		wg.Go(func() {
			<-start
			out, err := cmd.Output()
			if err != nil {
				err = fmt.Errorf("%w: %s", err, stderr.String())
			}
			outs[i], errs[i] = strings.TrimSpace(string(out)), err
		})
	}
	close(start)
	wg.Wait()
	for i := range n {
		require.NoError(t, errs[i], "process %d", i)
		sc := bufio.NewScanner(strings.NewReader(outs[i]))
		require.True(t, sc.Scan())
		assert.Equal(t, outs[0], sc.Text(), "process %d ended with another key", i)
	}
	assert.Equal(t, 1, registers(srv), "one register reached the platform")

	c, err := client.Connect(context.Background(), client.ConnectConfig{KeyFile: keyFile, AgentID: a.ID}, client.WithHTTPClient(srv.HTTPClient()))
	require.NoError(t, err)
	sum := sha256.Sum256([]byte(c.APIKey().Reveal()))
	assert.Equal(t, "KEY "+fmt.Sprintf("%x", sum[:8]), outs[0], "the key on disk is the one they share")
	_, err = c.Events(context.Background())
	assert.NoError(t, err, "and it works")
	noViolations(t, srv)
}
