//go:build unix

package gatewaytest

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// prismStartTimeout bounds Prism's start: node, then the spec's parse. It
// takes about a second on a laptop.
const prismStartTimeout = 30 * time.Second

// prismExecutable is $HEEPR_PRISM. Without it the test skips, unless
// $HEEPR_REQUIRE_PRISM=1 says this run must not (CI sets both).
func prismExecutable(t *testing.T) string {
	t.Helper()
	p := os.Getenv("HEEPR_PRISM")
	switch {
	case p != "":
		return p
	case os.Getenv("HEEPR_REQUIRE_PRISM") == "1":
		t.Fatal("HEEPR_REQUIRE_PRISM=1 but HEEPR_PRISM is unset: set it to the prism executable (@stoplight/prism-cli 5.x, e.g. node_modules/.bin/prism)")
	default:
		t.Skip("HEEPR_PRISM is unset: this test runs the SDK through `prism proxy --errors`; set HEEPR_PRISM to the prism executable to run it")
	}
	return ""
}

// prism is one `prism proxy` process.
type prism struct {
	URL  string // http://127.0.0.1:port, the base URL for the SDK
	args []string
	cmd  *exec.Cmd
	out  *lockedBuffer
}

// startPrisms starts two `prism proxy spec upstream` on free loopback ports,
// at once, the first with --errors (strict) and the second without, and
// returns once both accept connections.
//
// Prism routes a request by its path alone (the spec's servers are matched
// only when a request names one with ?__server=), so the SDK's base URL is
// Prism's root and upstream carries the API's base path: GET <prism>/events
// is checked as the spec's /events and forwarded to <upstream>/events. Each
// process group is killed when the test ends.
func startPrisms(t *testing.T, exe, spec, upstream string) (strict, lenient *prism) {
	t.Helper()
	var wg sync.WaitGroup
	var errs [2]error
	wg.Go(func() { strict, errs[0] = startPrism(t, exe, spec, upstream, true) })
	wg.Go(func() { lenient, errs[1] = startPrism(t, exe, spec, upstream, false) })
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	return strict, lenient
}

// startPrism starts one proxy. A port picked here may be taken by the time
// Prism binds it: it tries again on EADDRINUSE, and on that alone.
func startPrism(t *testing.T, exe, spec, upstream string, strict bool) (*prism, error) {
	for try := 1; ; try++ {
		p, err := launchPrism(t, exe, spec, upstream, strict)
		if err == nil || try == 3 || !strings.Contains(err.Error(), "EADDRINUSE") {
			return p, err
		}
	}
}

func launchPrism(t *testing.T, exe, spec, upstream string, strict bool) (*prism, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	args := []string{"proxy", spec, upstream, "--port", strconv.Itoa(port), "--host", "127.0.0.1"}
	if strict {
		args = append(args, "--errors")
	}
	p := &prism{URL: "http://127.0.0.1:" + strconv.Itoa(port), args: args, out: &lockedBuffer{}}
	p.cmd = exec.Command(exe, args...)
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	p.cmd.Env = append(os.Environ(), "NO_COLOR=1", "FORCE_COLOR=0")
	// Its own process group, so the kill reaches whatever node starts.
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", p, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- p.cmd.Wait() }()
	stop := func() {
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-exited
	}

	ctx, cancel := context.WithTimeout(context.Background(), prismStartTimeout)
	defer cancel()
	if err := waitListening(ctx, p.URL, exited); err != nil {
		stop()
		return nil, fmt.Errorf("%s did not start: %w\n%s", p, err, p.out)
	}
	t.Cleanup(stop)
	return p, nil
}

// waitListening polls the address until it accepts a connection (Prism
// listens only once the spec is loaded), the process exits, or ctx ends.
func waitListening(ctx context.Context, base string, exited <-chan error) error {
	addr := strings.TrimPrefix(base, "http://")
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		var d net.Dialer
		dctx, cancel := context.WithTimeout(ctx, time.Second)
		conn, err := d.DialContext(dctx, "tcp", addr)
		cancel()
		if err == nil {
			return conn.Close()
		}
		select {
		case err := <-exited:
			return fmt.Errorf("exited: %v", err)
		case <-ctx.Done():
			return fmt.Errorf("not listening on %s after %v: %w", addr, prismStartTimeout, ctx.Err())
		case <-tick.C:
		}
	}
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

func (p *prism) String() string { return "prism " + strings.Join(p.args, " ") }

// Log is what Prism printed so far.
func (p *prism) Log() string { return p.out.String() }

// violationLines are the lines of Prism's log that report a violation of the
// spec or an error of its own: its validator logs each violation as
// "Violation: <location> <message>" (at error or warning level), and a
// request it refused as "Request terminated with error".
func (p *prism) violationLines() []string {
	var out []string
	for line := range strings.Lines(p.Log()) {
		if strings.Contains(line, "Violation:") || strings.Contains(line, "VALIDATOR") ||
			strings.Contains(line, "terminated with error") || strings.Contains(line, "✖") {
			out = append(out, strings.TrimSpace(line))
		}
	}
	return out
}

// lockedBuffer is an io.Writer for a process's output, readable while the
// process runs.
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
