// Command heepr-fake serves the heeprtest fake platform on a loopback address,
// for trying an agent, in any language, before it meets real customers, and
// for tests that run agents as separate processes.
//
//	go run ./cmd/heepr-fake -addr 127.0.0.1:8080 -agents 2 -cadence 1
//
// It prints export lines an agent reads (HEEPR_BASE_URL, and HEEPR_AGENT_ID
// and HEEPR_BOOTSTRAP_TOKEN of the first agent; tokens in full, they are fake),
// each seeded agent's token and the dashboard's URL as shell comments, then
// serves until SIGINT or SIGTERM and prints a summary. Every request is
// validated against openapi.yaml; violations are logged as they happen and
// listed on exit. Order, event and delivery ids carry an id fresh at each
// start, so an agent's journal never mistakes a restarted fake's orders for
// ones it handled.
//
// Beside the API it serves the spec itself (GET /api/openapi.yaml) and a
// control API under /_fake/ that plays the owner and the customer: agents,
// tokens, keys, cadence, skill files, orders with attachments, revisions,
// owner decisions, faults, read-outs of what agents did, and reset
// (heepr-fake -h lists the routes). It answers clients on this machine only
// unless -control-remote is given. Commands drive a running fake from a shell:
//
//	heepr-fake order -agent agt_1 -brief "a haiku" -attach sea.png   # the order id alone on the last line
//	heepr-fake deliveries -order ord_x7k2qa_2 -wait 1m
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/signal"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	heepr "github.com/heepr/heepr-go"
	"github.com/heepr/heepr-go/client"
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

// run runs the subcommand args name, or serves when there is none.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		if args[0] == "serve" {
			return serve(ctx, args[1:], stdout, stderr)
		}
		return runCommand(ctx, args[0], args[1:], stdout, stderr)
	}
	return serve(ctx, args, stdout, stderr)
}

// serve serves the fake until ctx ends, then prints a summary.
func serve(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("heepr-fake", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), usage)
		fs.PrintDefaults()
	}
	addr := fs.String("addr", "127.0.0.1:8080", "address to listen on (loopback only is wise: keys travel in clear text)")
	agents := fs.Int("agents", 1, "agents to seed, at least 1")
	cadence := fs.Int("cadence", int(models.DefaultCadence/time.Minute), "poll cadence in minutes each agent's skill.json advertises, 1 to 60")
	orders := fs.Int("orders", 1, "orders to place for each agent at start")
	seed := fs.Uint64("seed", 1, "seed for keys, tokens and random faults")
	runID := fs.String("run-id", "", "letters and digits put into every order, event and delivery id (default: a fresh one each start, so an agent's journal never takes a new order for one it handled)")
	maxFile := fs.Int64("max-file-bytes", 32<<20, "bytes of each delivered file kept for download")
	verbose := fs.Bool("v", false, "log every request")
	controlRemote := fs.Bool("control-remote", false, "serve the /_fake/ control API to clients on other machines too (it mints tokens and revokes keys, unauthenticated)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	switch {
	case fs.NArg() > 0:
		return fmt.Errorf("unexpected argument %q: heepr-fake takes flags, or a command first (heepr-fake -h)", fs.Arg(0))
	case *agents < 1:
		return fmt.Errorf("-agents %d: seed at least one agent", *agents)
	case *orders < 0:
		return fmt.Errorf("-orders %d: must not be negative", *orders)
	case checkCadence(*cadence) != nil:
		return fmt.Errorf("-cadence: %w", checkCadence(*cadence))
	case *maxFile < 0:
		return fmt.Errorf("-max-file-bytes %d: must not be negative", *maxFile)
	}
	if *runID == "" {
		*runID = newRunID()
	} else if !runIDPattern.MatchString(*runID) {
		return fmt.Errorf("-run-id %q: letters and digits only", *runID)
	}

	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	srv := heeprtest.NewServer(heeprtest.WithSeed(*seed), heeprtest.WithLogger(logger),
		heeprtest.WithRunID(*runID), heeprtest.WithMaxFileBytes(*maxFile))
	defer srv.Close()

	ln, err := listen(*addr)
	if err != nil {
		return err
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

	// Every line but the exports is a shell comment, so the whole output can
	// be sourced: heepr-fake > fake.env & … . ./fake.env
	root := "http://" + ln.Addr().String()
	url := root + heeprtest.BasePath
	fmt.Fprintf(stdout, "# heepr-fake serving the heepr agent API at %s (run %s)\n", url, *runID)
	var first heeprtest.Agent
	for i := range *agents {
		a := srv.AddAgent(heeprtest.Cadence(*cadence))
		if i == 0 {
			first = a
		}
		for range *orders {
			srv.PlaceOrder(a.ID, models.Order{})
		}
		fmt.Fprintf(stdout, "# agent %s bootstrap token %s\n", a.ID, a.BootstrapToken.Reveal())
	}
	fmt.Fprintf(stdout, "export %s=%s\n", client.EnvBaseURL, url)
	fmt.Fprintf(stdout, "export %s=%s\n", client.EnvAgentID, first.ID)
	fmt.Fprintf(stdout, "export %s=%s\n", client.EnvBootstrapToken, first.BootstrapToken.Reveal()) // fake secrets print whole
	fmt.Fprintf(stdout, "# dashboard at %s/\n", root)
	fmt.Fprintf(stdout, "# place an order: heepr-fake order -fake %s -agent %s -brief 'a haiku about the sea'\n", root, first.ID)
	fmt.Fprintf(stdout, "# spec at %s/openapi.yaml; control API at %s%s (heepr-fake -h lists its routes)\n", url, root, controlPath)

	select {
	case <-ctx.Done():
	case err := <-served:
		served <- err // for the deferred shutdown
		return fmt.Errorf("serve: %w", err)
	}
	summarize(stdout, srv)
	return nil
}

// runIDPattern is what -run-id may be: heeprtest.WithRunID's alphabet.
var runIDPattern = regexp.MustCompile(`^[A-Za-z0-9]{1,32}$`)

// newRunID returns six random base-36 characters: a fresh id per start, so
// that a restarted fake never makes an event id a journal has seen.
func newRunID() string {
	const digits = "0123456789abcdefghijklmnopqrstuvwxyz"
	b := make([]byte, 6)
	for i := range b {
		b[i] = digits[rand.IntN(len(digits))]
	}
	return string(b)
}

// listen listens on addr, saying plainly when the port is taken.
func listen(addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if errors.Is(err, syscall.EADDRINUSE) {
		return nil, fmt.Errorf("%s is in use, by another heepr-fake or another server: stop it, or pick another address with -addr 127.0.0.1:0 (any free port)", addr)
	}
	if err != nil {
		return nil, fmt.Errorf("cannot listen on %s: %w", addr, err)
	}
	return ln, nil
}

// summarize prints what the fake saw, as shell comments, and each violation.
func summarize(w io.Writer, srv *heeprtest.Server) {
	orders := srv.Orders()
	var deliveries, declines, flags int
	for _, id := range orders {
		deliveries += len(srv.Deliveries(id))
		declines += len(srv.Declines(id))
		flags += len(srv.Flags(id))
	}
	vs := srv.Violations()
	fmt.Fprintf(w, "# heepr-fake stopped: %d agents, %d orders, %d deliveries, %d declines, %d flags, %d violations\n",
		len(srv.Agents()), len(orders), deliveries, declines, flags, len(vs))
	for _, v := range vs {
		fmt.Fprintln(w, "#  ", v)
	}
}

// usage heads -h's output.
const usage = `Usage: heepr-fake [serve] [flags]
       heepr-fake <command> [-fake URL] [flags]   (heepr-fake <command> -h)

heepr-fake serves the heepr agent API (the heeprtest fake platform) for curl,
other languages and agents run as separate processes. Every request to the API
is validated against openapi.yaml, which it serves at GET /api/openapi.yaml.
It prints export lines for the first agent (HEEPR_BASE_URL, HEEPR_AGENT_ID,
HEEPR_BOOTSTRAP_TOKEN) and the dashboard's URL; every other line is a shell
comment. On SIGINT or SIGTERM it prints a summary and exits.

Commands, each talking to a running fake's control API (-fake, default
` + defaultFake + `, or $` + envFake + `):
` + commandsUsage + `
` + controlUsage + `
Flags:
`

// newHandler serves the fake's API under heeprtest.BasePath and, beside it and
// outside its validation and its request log, the spec and the control API
// (to loopback clients only, unless remoteControl).
func newHandler(srv *heeprtest.Server, remoteControl bool) http.Handler {
	control := sameSiteOnly(newControl(srv))
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
