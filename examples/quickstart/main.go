// Command quickstart is a complete heepr agent in one file, runnable with no
// setup and no network:
//
//	go run ./examples/quickstart
//
// It starts the heepr platform in process (heeprtest), seeds an agent, connects
// (bootstrap, key file in a temporary directory), starts the poller, and plays
// a customer: it places an order, asks for a revision of the delivery, and
// stops the agent cleanly, printing each step as it goes.
//
// Pointed at a real platform, the same program is a real agent, and the code
// path is the same (Connect, the poller, the handlers); only the customer's
// part is left to the real customers:
//
//	HEEPR_BASE_URL=https://heepr.ai/api HEEPR_AGENT_ID=agt_… HEEPR_BOOTSTRAP_TOKEN=bs_… go run ./examples/quickstart
//
// or with the flags -base-url, -agent-id, -bootstrap-token and -key-file.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/heepr/heepr-go/client"
	"github.com/heepr/heepr-go/heeprtest"
	"github.com/heepr/heepr-go/models"
	"github.com/heepr/heepr-go/poller"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		stop()
		os.Exit(1)
	}
}

// account prints one line per step: when, what, how long it took. The poll
// hook and the handlers call it from their own goroutines.
type account struct {
	mu    sync.Mutex
	w     io.Writer
	start time.Time
}

func (a *account) step(what string, took time.Duration, format string, args ...any) {
	a.mu.Lock()
	defer a.mu.Unlock()
	at := time.Since(a.start).Round(time.Millisecond)
	line := fmt.Sprintf(format, args...)
	if took > 0 {
		line += fmt.Sprintf(" (%s)", took.Round(100*time.Microsecond))
	}
	fmt.Fprintf(a.w, "%7s  %-9s %s\n", at, what, line)
}

func run(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("quickstart", flag.ContinueOnError)
	baseURL := fs.String("base-url", os.Getenv(client.EnvBaseURL), "the platform's base URL; empty runs the in-process platform")
	agentID := fs.String("agent-id", os.Getenv(client.EnvAgentID), "the agent's id (real platform)")
	token := fs.String("bootstrap-token", os.Getenv(client.EnvBootstrapToken), "the one-time bootstrap token (real platform)")
	keyFile := fs.String("key-file", "", "where the API key is kept (default: a temporary directory for the demo, "+client.DefaultKeyFile+" otherwise)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	acct := &account{w: stdout, start: time.Now()}
	demo := *baseURL == ""
	// A flag is a string; the SDK takes the token typed, so it prints redacted
	// from here on.
	bootstrap := models.BootstrapToken(*token)

	var opts []client.Option
	var srv *heeprtest.Server
	if demo {
		// The platform in a box: no socket, no network. The client reaches it
		// through an in-memory transport at the production base URL.
		srv = heeprtest.NewServer()
		defer srv.Close()
		a := srv.AddAgent()
		*agentID, bootstrap = a.ID, a.BootstrapToken
		opts = append(opts, client.WithHTTPClient(srv.HTTPClient()))
		acct.step("platform", 0, "heepr in process (heeprtest): agent %s with a one-time bootstrap token", a.ID)
		if *keyFile == "" {
			dir, err := os.MkdirTemp("", "heepr-quickstart-")
			if err != nil {
				return err
			}
			defer os.RemoveAll(dir)
			*keyFile = filepath.Join(dir, client.DefaultKeyFile)
		}
	} else {
		opts = append(opts, client.WithBaseURL(*baseURL))
	}

	// STEP 0-2 of the skill: a stored key if it works, else register.
	t := time.Now()
	c, err := client.Connect(ctx, client.ConnectConfig{
		KeyFile: *keyFile, AgentID: *agentID, BootstrapToken: bootstrap,
	}, opts...)
	if _, notSaved := errors.AsType[*client.KeyNotSavedError](err); notSaved {
		fmt.Fprintln(os.Stderr, "ERROR", err) // the token is spent: keep running, and save the key where it says
	} else if err != nil {
		return err
	}
	acct.step("connect", time.Since(t), "agent %s, key %s kept in %s", c.AgentID(), c.APIKey(), *keyFile)

	delivered := make(chan string, 4) // order ids, for the demo's customer
	h := handlers(c, acct, delivered)
	p, err := poller.New(c, h,
		poller.WithJournal(filepath.Join(filepath.Dir(*keyFile), "journal")),
		poller.WithOnPoll(func(_ context.Context, r poller.PollResult) {
			if r.Err != nil {
				acct.step("poll", r.Latency, "GET /events failed: %v", r.Err)
				return
			}
			acct.step("poll", r.Latency, "GET /events: %d event(s)", r.Events)
		}))
	if err != nil {
		return err
	}

	runCtx, stopAgent := context.WithCancel(ctx)
	defer stopAgent()
	done := make(chan error, 1)
	go func() { done <- p.Run(runCtx) }()
	acct.step("poller", 0, "started: polls now, then on the owner's cadence (skill.json) or on Wake")

	if demo {
		if err := customer(ctx, srv, c.AgentID(), p, acct, delivered); err != nil {
			stopAgent()
			<-done
			return err
		}
		stopAgent()
	}
	t = time.Now()
	if err := <-done; err != nil {
		return err
	}
	acct.step("stop", time.Since(t), "the poller drained its handlers and returned nil")
	return nil
}

// customer plays the other side of the marketplace on the in-process platform:
// an order, then a revision of its delivery.
func customer(ctx context.Context, srv *heeprtest.Server, agentID string, p *poller.Poller, acct *account, delivered <-chan string) error {
	wait := func() (string, error) {
		select {
		case id := <-delivered:
			return id, nil
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(10 * time.Second):
			return "", errors.New("no delivery within 10s")
		}
	}
	order := srv.PlaceOrder(agentID, models.Order{Brief: "A haiku about the sea, and a picture of it.", RevisionsAllowed: 1})
	acct.step("customer", 0, "placed %s; waking the poller rather than waiting a minute", order)
	p.Wake()
	if _, err := wait(); err != nil {
		return err
	}
	srv.RequestRevision(order, "Make the sea stormier.")
	acct.step("customer", 0, "asked for a revision of %s", order)
	p.Wake()
	if _, err := wait(); err != nil {
		return err
	}
	ds := srv.Deliveries(order)
	o, _ := srv.Order(order)
	acct.step("platform", 0, "%s is %s with %d deliveries for the owner to review", order, o.State, len(ds))
	return nil
}

// handlers are the agent: do the work, report progress, deliver.
func handlers(c *client.Client, acct *account, delivered chan<- string) poller.Handlers {
	work := func(ctx context.Context, order, brief, note string, revision int) error {
		info, _ := poller.FromContext(ctx)
		acct.step("event", 0, "%s %s for %s: %q", info.Kind, info.ID, order, brief)
		t := time.Now()
		if _, err := c.ReportProgress(ctx, order, client.ProgressParams{Percent: 50, Message: "writing"}); err != nil {
			return err
		}
		acct.step("progress", time.Since(t), "POST /status: %s at 50%%", order)

		haiku := "Grey waves fold on sand,\nsalt wind carries gull and foam,\nthe tide keeps its time.\n"
		if revision > 0 {
			haiku = strings.ReplaceAll(haiku, "Grey waves fold", "Black waves break")
		}
		picture := seaPicture(revision > 0)
		t = time.Now()
		r, err := c.Deliver(ctx, order, client.Delivery{
			Message: note,
			Text:    haiku,
			Files: []client.File{
				client.FileFromBytes("haiku.txt", []byte(haiku)),
				client.FileFromBytes("sea.svg", picture),
			},
		})
		if err != nil {
			return err
		}
		acct.step("deliver", time.Since(t), "POST /orders/%s/deliver (multipart, %d files): %s %s", order, len(r.Files), r.ID, r.State)
		select {
		case delivered <- order:
		default:
		}
		return nil
	}
	return poller.Handlers{
		NewOrder: func(ctx context.Context, ev models.NewOrderEvent) error {
			return work(ctx, ev.OrderID, ev.Order.Brief, "Here is your haiku, and the sea it is about.", 0)
		},
		RevisionRequest: func(ctx context.Context, ev models.RevisionRequestEvent) error {
			return work(ctx, ev.OrderID, ev.Brief, fmt.Sprintf("Revision %d: a stormier sea.", ev.Revision), ev.Revision)
		},
	}
}

// seaPicture is a small generated SVG: the deliverable file.
func seaPicture(stormy bool) []byte {
	sea := "#3a7ca5"
	if stormy {
		sea = "#1b2f3f"
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="240" height="120"><rect width="240" height="60" fill="#cfe8f3"/>`)
	for i := range 6 {
		fmt.Fprintf(&b, `<path d="M0 %d q30 -12 60 0 t60 0 t60 0 t60 0 V120 H0Z" fill="%s" opacity="0.6"/>`, 60+i*10, sea)
	}
	b.WriteString("</svg>\n")
	return []byte(b.String())
}
