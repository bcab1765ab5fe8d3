package dashboardtest

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
)

// chromiumPath finds the browser: $CHROMIUM, else chromium on $PATH. Without
// one the test skips, or fails when HEEPR_REQUIRE_CHROMIUM=1.
func chromiumPath(t *testing.T) string {
	t.Helper()
	msg := "no Chromium: install Debian's chromium package or set $CHROMIUM to the browser's path"
	path := os.Getenv("CHROMIUM")
	if path != "" {
		if _, err := os.Stat(path); err != nil {
			msg = "$CHROMIUM: " + err.Error()
			path = ""
		}
	} else {
		path, _ = exec.LookPath("chromium")
	}
	if path != "" {
		return path
	}
	msg += " (HEEPR_REQUIRE_CHROMIUM=1 makes this a failure)"
	if os.Getenv("HEEPR_REQUIRE_CHROMIUM") == "1" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// buildFake builds the root module's ./cmd/heepr-fake into a temporary
// directory, so the test runs the binary a user runs, its embedded page
// included.
func buildFake(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("..")
	require.NoError(t, err)
	mod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	require.NoError(t, err, "the test runs from dashboardtest/, inside the heepr-go repository")
	require.Contains(t, string(mod), "module github.com/heepr/heepr-go\n")
	bin := filepath.Join(t.TempDir(), "heepr-fake")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/heepr-fake")
	cmd.Dir = root
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "go build ./cmd/heepr-fake: %s", out)
	return bin
}

// fakeProcess is a running heepr-fake.
type fakeProcess struct {
	BaseURL string // the API's base URL, http://127.0.0.1:N/api
	Origin  string // where the dashboard is, http://127.0.0.1:N
	AgentID string // the first seeded agent
	Token   string // its bootstrap token

	cmd      *exec.Cmd
	stdout   *lockedBuffer // everything printed, for the exit summary
	stderr   *lockedBuffer
	done     chan error
	stopOnce sync.Once
}

var (
	baseURLLine = regexp.MustCompile(`http://127\.0\.0\.1:\d+/api\b`)
	agentLine   = regexp.MustCompile(`\b(agt_\w+)\b.*\b(bs_[0-9a-f]+)\b`)
)

// startFake runs the binary on a free loopback port with one agent and no
// orders, and reads its base URL and the agent's id and bootstrap token from
// what it prints.
func startFake(t *testing.T, bin string) *fakeProcess {
	t.Helper()
	f := &fakeProcess{stdout: &lockedBuffer{}, stderr: &lockedBuffer{}, done: make(chan error, 1)}
	f.cmd = exec.Command(bin, "-addr", "127.0.0.1:0", "-agents", "1", "-orders", "0")
	f.cmd.Stderr = f.stderr
	out, err := f.cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, f.cmd.Start())
	t.Cleanup(func() { f.stop(t) })

	// One reader: it keeps everything printed (the exit summary included)
	// and hands the first lines over, never blocking the fake on a full pipe.
	lines := make(chan string, 64)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			fmt.Fprintln(f.stdout, sc.Text())
			select {
			case lines <- sc.Text():
			default:
			}
		}
		_, _ = io.Copy(f.stdout, out) // past a line too long to scan
		close(lines)
		f.done <- f.cmd.Wait()
	}()
	deadline := time.After(20 * time.Second)
	for f.BaseURL == "" || f.AgentID == "" {
		select {
		case line, ok := <-lines:
			require.True(t, ok, "heepr-fake ended before printing its URL and agent:\n%s\n%s", f.stdout, f.stderr)
			if u := baseURLLine.FindString(line); u != "" && f.BaseURL == "" {
				f.BaseURL = u
			}
			if m := agentLine.FindStringSubmatch(line); m != nil && f.AgentID == "" {
				f.AgentID, f.Token = m[1], m[2]
			}
		case <-deadline:
			t.Fatalf("heepr-fake printed no URL and agent within 20s:\n%s\n%s", f.stdout, f.stderr)
		}
	}
	f.Origin = strings.TrimSuffix(f.BaseURL, "/api")
	return f
}

// stop ends the fake as a user does (SIGINT), so it prints its exit summary,
// and waits for it. Only the first call does anything.
func (f *fakeProcess) stop(t *testing.T) {
	f.stopOnce.Do(func() { f.interrupt(t) })
}

func (f *fakeProcess) interrupt(t *testing.T) {
	_ = f.cmd.Process.Signal(os.Interrupt)
	select {
	case err := <-f.done:
		if err != nil {
			t.Errorf("heepr-fake did not exit cleanly on SIGINT: %v\n%s", err, f.stderr)
		}
	case <-time.After(10 * time.Second):
		_ = f.cmd.Process.Kill()
		<-f.done
		t.Errorf("heepr-fake did not stop within 10s of SIGINT")
	}
}

// lockedBuffer is a bytes.Buffer safe for a writer and a reader at once.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// browser starts headless Chromium with a fresh profile and the flags that
// keep it off the network, and returns a tab's context. It ends with the test.
func browser(t *testing.T, execPath string) context.Context {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(execPath),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 1000),
		chromedp.NoSandbox, // CI runs as root, where Chromium's sandbox cannot start
		chromedp.DisableGPU,
		// Without these Chromium keeps calling home: slow, and noisy on a
		// machine without a network.
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
	}
	// The defaults: headless, no first run, no background networking, no sync…
	opts = append(chromedp.DefaultExecAllocatorOptions[:], opts...)
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(alloc)
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
	})
	return ctx
}
