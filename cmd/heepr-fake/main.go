// Command heepr-fake serves the heeprtest fake platform on a loopback address,
// for trying the heepr agent API with curl or from another language, and for
// tests that run agents as separate processes.
//
//	go run ./cmd/heepr-fake -addr 127.0.0.1:8080 -agents 2 -cadence 1
//
// It prints the API's base URL and, for each seeded agent, its id and its
// one-time bootstrap token (in full: they are fake), then serves until SIGINT
// or SIGTERM. Every request is validated against openapi.yaml; violations are
// printed as they happen and counted on exit.
//
// Beside the API it serves the spec itself (GET /api/openapi.yaml) and a
// control API under /_fake/ that plays the owner and the customer: fresh
// bootstrap tokens, revoked and expired keys, orders, and the deliveries
// received (heepr-fake -h lists the routes). The control API answers clients
// on this machine only unless -control-remote is given.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	heepr "github.com/heepr/heepr-go"
	"github.com/heepr/heepr-go/heeprtest"
	"github.com/heepr/heepr-go/models"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return // -h printed the usage: not a failure
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "heepr-fake:", err)
		stop()
		os.Exit(1)
	}
}

// run serves until ctx ends.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("heepr-fake", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), usage)
		fs.PrintDefaults()
	}
	addr := fs.String("addr", "127.0.0.1:8080", "address to listen on (loopback only is wise: keys travel in clear text)")
	agents := fs.Int("agents", 1, "agents to seed")
	cadence := fs.Int("cadence", int(models.DefaultCadence/time.Minute), "poll cadence in minutes each agent's skill.json advertises")
	orders := fs.Int("orders", 1, "orders to place for each agent at start")
	seed := fs.Uint64("seed", 1, "seed for keys, tokens and random faults")
	verbose := fs.Bool("v", false, "log every request")
	controlRemote := fs.Bool("control-remote", false, "serve the /_fake/ control API to clients on other machines too (it mints tokens and revokes keys, unauthenticated)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *agents < 0 || *orders < 0 {
		return fmt.Errorf("-agents and -orders must not be negative")
	}

	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	srv := heeprtest.NewServer(heeprtest.WithSeed(*seed), heeprtest.WithLogger(logger))
	defer srv.Close()

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("cannot listen: %w", err)
	}
	hs := &http.Server{Handler: newHandler(srv, *controlRemote), ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
	defer func() {
		// Give in-flight requests a moment, then cut whatever is left.
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := hs.Shutdown(sctx); err != nil {
			_ = hs.Close()
		}
		<-served
	}()

	url := "http://" + ln.Addr().String() + heeprtest.BasePath
	fmt.Fprintf(stdout, "heepr-fake serving the heepr agent API at %s\n", url)
	for range *agents {
		a := srv.AddAgent(heeprtest.Cadence(*cadence))
		for range *orders {
			srv.PlaceOrder(a.ID, models.Order{})
		}
		fmt.Fprintf(stdout, "agent %s bootstrap token %s\n", a.ID, a.BootstrapToken.Reveal())
	}
	fmt.Fprintf(stdout, "try: curl -s -X POST %s/agent/register -H 'Authorization: Bootstrap <token>' -H 'Content-Type: application/json' -d '{\"agent_id\":\"agt_1\"}'\n", url)
	fmt.Fprintf(stdout, "spec at %s/openapi.yaml; control API at http://%s%s (heepr-fake -h lists its routes)\n", url, ln.Addr(), controlPath)

	select {
	case <-ctx.Done():
	case err := <-served:
		served <- err // for the deferred shutdown
		return fmt.Errorf("serve: %w", err)
	}
	if n := len(srv.Violations()); n > 0 {
		fmt.Fprintf(stdout, "%d spec violations:\n", n)
		for _, v := range srv.Violations() {
			fmt.Fprintln(stdout, " ", v)
		}
	}
	return nil
}

// usage heads -h's output.
const usage = `Usage: heepr-fake [flags]

heepr-fake serves the heepr agent API (the heeprtest fake platform) for curl,
other languages and agents run as separate processes. Every request to the API
is validated against openapi.yaml, which it serves at GET /api/openapi.yaml.

` + controlUsage + `
Flags:
`

// newHandler serves the fake's API under heeprtest.BasePath and, beside it and
// outside its validation and its request log, the spec and the control API
// (to loopback clients only, unless remoteControl).
func newHandler(srv *heeprtest.Server, remoteControl bool) http.Handler {
	control := newControl(srv)
	if !remoteControl {
		control = loopbackOnly(control)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+heeprtest.BasePath+"/openapi.yaml", serveSpec)
	mux.Handle(controlPath, control)
	registerDashboard(mux, srv, remoteControl)
	mux.Handle("/", srv.Handler())
	return mux
}

// serveSpec answers with the embedded openapi.yaml, the document the fake
// validates against, so that a client in any language can generate from or
// check against exactly it. It takes no auth, as a published spec does not.
func serveSpec(w http.ResponseWriter, r *http.Request) {
	spec := heepr.OpenAPI()
	w.Header().Set("Content-Type", "application/yaml")
	w.Header().Set("Content-Length", strconv.Itoa(len(spec)))
	if r.Method == http.MethodHead {
		return
	}
	_, _ = w.Write(spec)
}
