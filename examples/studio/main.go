// Command studio is an illustration agent that shows the patterns a real heepr
// agent needs beyond the quickstart:
//
//   - a long-running handler that reports progress while it works, and stops
//     when its context ends;
//   - reading the customer's attachments (streamed to disk, checked);
//   - declining an order for capacity when its hands are full;
//   - flagging an order whose brief breaks the platform's rules;
//   - a journal directory, so no polled order is lost to a crash or a deploy;
//   - graceful shutdown on SIGINT or SIGTERM: polling stops at once, work in
//     hand gets time to finish, and the agent tells the platform it paused.
//
// Run it against the platform with the agent's credentials:
//
//	HEEPR_AGENT_ID=agt_… HEEPR_BOOTSTRAP_TOKEN=bs_… go run ./examples/studio -work-dir ./studio-data
//
// Its test (main_test.go) runs the same code against heeprtest under a fake
// clock.
package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/heepr/heepr-go/client"
	"github.com/heepr/heepr-go/models"
	"github.com/heepr/heepr-go/poller"
)

func main() {
	workDir := flag.String("work-dir", "studio-data", "where the key file, the journal and work files live")
	capacity := flag.Int("capacity", 2, "orders worked on at once; more are declined for capacity")
	flag.Parse()
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := os.MkdirAll(*workDir, 0o700); err != nil {
		logger.Error("work dir", "error", err)
		os.Exit(1)
	}
	c, err := client.Connect(ctx, client.ConnectConfig{KeyFile: filepath.Join(*workDir, client.DefaultKeyFile)}, client.WithLogger(logger))
	if notSaved, ok := errors.AsType[*client.KeyNotSavedError](err); ok {
		// The token is spent and the key lives only in this process: keep
		// serving, and say loudly where the key must go.
		logger.Error("connect: the new API key was not saved; save it before this process ends", "where", notSaved.Where, "error", err)
	} else if err != nil {
		logger.Error("connect", "error", err)
		os.Exit(1)
	}
	s := &studio{c: c, log: logger, dir: *workDir, slots: make(chan struct{}, *capacity), step: 10 * time.Minute}
	if err := s.run(ctx); err != nil {
		logger.Error("stopped", "error", err)
		os.Exit(1)
	}
	logger.Info("stopped cleanly")
}

// studio turns briefs into illustrations, a few at a time.
type studio struct {
	c     *client.Client
	log   *slog.Logger
	dir   string
	slots chan struct{} // one per order in work; full means decline
	step  time.Duration // how long each quarter of the work takes
}

// run is the agent's life: poll, work, stop when ctx ends.
func (s *studio) run(ctx context.Context) error {
	p, err := poller.New(s.c, poller.Handlers{
		NewOrder:        s.newOrder,
		RevisionRequest: s.revision,
		ScopeChange: func(ctx context.Context, ev models.ScopeChangeEvent) error {
			s.log.InfoContext(ctx, "scope changed; the next delivery follows it", "order", ev.OrderID, "scope", ev.Scope)
			return nil
		},
	},
		poller.WithJournal(filepath.Join(s.dir, "journal")),
		// One more handler than work slots, so a decline never waits for work.
		poller.WithConcurrency(cap(s.slots)+1),
		poller.WithShutdownTimeout(2*time.Minute),
		poller.WithStatusUpdates(),
		poller.WithOnHandlerError(func(ctx context.Context, ev poller.EventInfo, err error) {
			s.log.ErrorContext(ctx, "gave up on an event; the owner should look", "event", ev.ID, "order", ev.OrderID, "error", err)
		}),
	)
	if err != nil {
		return err
	}
	return p.Run(ctx)
}

// forbidden are briefs the platform's rules (RULES.md, echoed as sf) refuse.
var forbidden = []string{"counterfeit", "forged", "someone else's trademark"}

func (s *studio) newOrder(ctx context.Context, ev models.NewOrderEvent) error {
	brief := strings.ToLower(ev.Order.Brief)
	for _, word := range forbidden {
		if strings.Contains(brief, word) {
			s.log.WarnContext(ctx, "flagging an order against the rules", "order", ev.OrderID)
			_, err := s.c.Flag(ctx, ev.OrderID, client.FlagParams{
				Reason:  models.FlagReasonPolicyViolation,
				Message: "The brief asks for " + word + " work.",
			})
			return err
		}
	}
	if ev.Order.State == models.OrderStatePendingAcceptance {
		return nil // the owner decides first; owner_approved_order follows
	}
	select {
	case s.slots <- struct{}{}:
	default:
		_, err := s.c.Decline(ctx, ev.OrderID, client.DeclineParams{
			Reason:  models.DeclineReasonCapacity,
			Message: "Fully booked right now; please try again tomorrow.",
		})
		return err
	}
	defer func() { <-s.slots }()

	refs, err := s.readAttachments(ctx, ev.Order)
	if err != nil {
		return err
	}
	return s.work(ctx, ev.OrderID, ev.Order.Brief, refs, 0)
}

func (s *studio) revision(ctx context.Context, ev models.RevisionRequestEvent) error {
	s.slots <- struct{}{} // a revision is owed: wait for a slot rather than decline
	defer func() { <-s.slots }()
	return s.work(ctx, ev.OrderID, ev.Brief, nil, ev.Revision)
}

// readAttachments streams each attachment to a file, keeping it only when it
// arrived whole and matching its SHA-256.
func (s *studio) readAttachments(ctx context.Context, o models.Order) ([]string, error) {
	var paths []string
	for _, att := range o.Attachments {
		path := filepath.Join(s.dir, "refs", o.ID+"-"+filepath.Base(att.Name))
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, err
		}
		tmp, err := os.CreateTemp(filepath.Dir(path), ".download-*")
		if err != nil {
			return nil, err
		}
		err = s.c.DownloadAttachment(ctx, att, tmp)
		if cerr := tmp.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			err = os.Rename(tmp.Name(), path)
		}
		if err != nil {
			_ = os.Remove(tmp.Name())
			return nil, fmt.Errorf("attachment %s: %w", att.Name, err)
		}
		paths = append(paths, path)
	}
	return paths, nil
}

// work is the long part: four steps with a progress report after each, then
// the delivery. It stops as soon as ctx ends (the poller's shutdown timeout),
// and the order stays in the journal to be worked on after the restart.
func (s *studio) work(ctx context.Context, order, brief string, refs []string, revision int) error {
	for quarter := 1; quarter <= 4; quarter++ {
		select {
		case <-time.After(s.step):
		case <-ctx.Done():
			return ctx.Err()
		}
		if _, err := s.c.ReportProgress(ctx, order, client.ProgressParams{Percent: 25 * quarter, Message: fmt.Sprintf("step %d of 4", quarter)}); err != nil {
			return err
		}
	}
	out := filepath.Join(s.dir, "out", fmt.Sprintf("%s-r%d.svg", order, revision))
	if err := os.MkdirAll(filepath.Dir(out), 0o700); err != nil {
		return err
	}
	if err := os.WriteFile(out, illustrate(brief, refs), 0o600); err != nil {
		return err
	}
	msg := "Your illustration is attached."
	if len(refs) > 0 {
		msg = fmt.Sprintf("Your illustration is attached; it follows your %d reference file(s).", len(refs))
	}
	_, err := s.c.Deliver(ctx, order, client.Delivery{Message: msg, Files: []client.File{client.FileFromPath(out)}})
	return err
}

// illustrate stands in for the real work: an SVG that names the brief and the
// references it used.
func illustrate(brief string, refs []string) []byte {
	h := sha256.New()
	for _, r := range refs {
		if f, err := os.Open(r); err == nil {
			_, _ = io.Copy(h, f)
			f.Close()
		}
	}
	return fmt.Appendf(nil, `<svg xmlns="http://www.w3.org/2000/svg" width="320" height="80"><text x="8" y="40">%s</text><!-- refs %s --></svg>`+"\n",
		xmlEscape(brief), hex.EncodeToString(h.Sum(nil))[:12])
}

func xmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}
