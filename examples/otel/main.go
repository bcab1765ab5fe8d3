// Command otel is a heepr agent with OpenTelemetry: every span printed to
// stdout, every metric served for Prometheus on /metrics. It runs with no
// setup and no network:
//
//	go run .            (in examples/otel, a module of its own)
//
// It starts the heepr platform in process (heeprtest), runs one order's life
// through the agent (a new order, progress, a delivery whose first attempt
// meets a 503, a revision whose handler fails once, a redelivery), prints the
// spans as JSON as they end, and serves the metrics on -metrics-addr until
// interrupted (or for -for, when given). Pointed at heepr-fake or the real
// platform, it is the same agent with the same telemetry:
//
//	go run ../../cmd/heepr-fake &      (prints its base URL and a bootstrap token)
//	HEEPR_BASE_URL=http://127.0.0.1:8080/api HEEPR_AGENT_ID=agt_… HEEPR_BOOTSTRAP_TOKEN=bs_… go run .
//
// The telemetry is the two lines marked "the instrumentation"; the rest is the
// exporters a program chooses, and the agent.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	promexporter "go.opentelemetry.io/otel/exporters/prometheus"
	"go.opentelemetry.io/otel/exporters/stdout/stdouttrace"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/heepr/heepr-go/client"
	"github.com/heepr/heepr-go/heeprtest"
	"github.com/heepr/heepr-go/models"
	heeprotel "github.com/heepr/heepr-go/otel"
	"github.com/heepr/heepr-go/poller"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, nil); err != nil {
		fmt.Fprintln(os.Stderr, "otel:", err)
		stop()
		os.Exit(1)
	}
}

// run is the program; ready, when not nil, hears the metrics' address once
// they are served and the demo's order is redelivered.
func run(ctx context.Context, args []string, stdout io.Writer, ready func(metricsURL string)) error {
	fs := flag.NewFlagSet("otel", flag.ContinueOnError)
	baseURL := fs.String("base-url", os.Getenv(client.EnvBaseURL), "the platform's base URL; empty runs the in-process platform")
	agentID := fs.String("agent-id", os.Getenv(client.EnvAgentID), "the agent's id (another platform)")
	token := fs.String("bootstrap-token", os.Getenv(client.EnvBootstrapToken), "the one-time bootstrap token (another platform)")
	metricsAddr := fs.String("metrics-addr", "127.0.0.1:9464", "where /metrics is served")
	runFor := fs.Duration("for", 0, "stop after this long (0: until interrupted)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *runFor > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *runFor)
		defer cancel()
	}

	// The exporters: the program's choice, not the SDK's.
	spans, err := stdouttrace.New(stdouttrace.WithWriter(stdout), stdouttrace.WithPrettyPrint())
	if err != nil {
		return err
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(spans))
	defer tp.Shutdown(context.WithoutCancel(ctx))
	reg := prometheus.NewRegistry()
	metrics, err := promexporter.New(promexporter.WithRegisterer(reg))
	if err != nil {
		return err
	}
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(metrics))
	defer mp.Shutdown(context.WithoutCancel(ctx))
	ln, err := net.Listen("tcp", *metricsAddr)
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go hs.Serve(ln) //nolint:errcheck // ends with Shutdown below
	defer hs.Shutdown(context.WithoutCancel(ctx))
	metricsURL := "http://" + ln.Addr().String() + "/metrics"
	fmt.Fprintln(os.Stderr, "metrics on", metricsURL)

	var opts []client.Option
	var srv *heeprtest.Server
	if *baseURL == "" {
		srv = heeprtest.NewServer()
		defer srv.Close()
		a := srv.AddAgent()
		*agentID, *token = a.ID, string(a.BootstrapToken)
		opts = append(opts, client.WithHTTPClient(srv.HTTPClient()))
	} else {
		opts = append(opts, client.WithBaseURL(*baseURL))
	}
	dir, err := os.MkdirTemp("", "heepr-otel-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	// The instrumentation: one Middleware, its option on the client, its
	// options on the poller.
	tel := heeprotel.New(heeprotel.WithTracerProvider(tp), heeprotel.WithMeterProvider(mp))
	c, err := client.Connect(ctx, client.ConnectConfig{
		KeyFile: filepath.Join(dir, client.DefaultKeyFile), AgentID: *agentID, BootstrapToken: models.BootstrapToken(*token),
	}, append(opts, tel.ClientOption())...)
	if notSaved, ok := errors.AsType[*client.KeyNotSavedError](err); ok {
		// The token is spent and c works: keep running, and say where
		// the key must go, rather than lose it by exiting.
		fmt.Fprintln(os.Stderr, "otel: ERROR", notSaved)
	} else if err != nil {
		return err
	}

	delivered := make(chan string, 4)
	failedOnce := false
	p, err := poller.New(c, poller.Handlers{
		NewOrder: func(ctx context.Context, ev models.NewOrderEvent) error {
			if _, err := c.ReportProgress(ctx, ev.OrderID, client.ProgressParams{Percent: 50, Message: "cutting"}); err != nil {
				return err
			}
			_, err := c.Deliver(ctx, ev.OrderID, client.Delivery{Message: "The cut.",
				Files: []client.File{client.FileFromBytes("cut.txt", []byte("frames 1-240"))}})
			if err == nil {
				delivered <- ev.OrderID
			}
			return err
		},
		RevisionRequest: func(ctx context.Context, ev models.RevisionRequestEvent) error {
			if !failedOnce { // one failed run, to show it in the trace
				failedOnce = true
				return errors.New("the model is overloaded")
			}
			_, err := c.Deliver(ctx, ev.OrderID, client.Delivery{Message: "Shorter.", Text: "frames 1-120"})
			if err == nil {
				delivered <- ev.OrderID
			}
			return err
		},
	}, append(tel.PollerOptions(), poller.WithCadence(poller.MinCadence), poller.WithHandlerRetry(3, 100*time.Millisecond))...)
	if err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()

	if srv != nil { // play the customer: an order, a 503 on its delivery, a revision
		order := srv.PlaceOrder(c.AgentID(), models.Order{})
		srv.Inject(heeprtest.Fault{Kind: heeprtest.FaultStatus, Status: 503, Path: "/orders/{id}/deliver"})
		p.Wake()
		if err := wait(ctx, delivered); err != nil {
			return errors.Join(err, <-done)
		}
		srv.RequestRevision(order, "Shorter, please.")
		p.Wake()
		if err := wait(ctx, delivered); err != nil {
			return errors.Join(err, <-done)
		}
		fmt.Fprintln(os.Stderr, "order", order, "delivered twice; serving metrics until interrupted")
	}
	if ready != nil {
		ready(metricsURL)
	}
	return <-done
}

func wait(ctx context.Context, delivered <-chan string) error {
	select {
	case <-delivered:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
