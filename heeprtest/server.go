package heeprtest

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/heepr/heepr-go/models"
	"github.com/heepr/heepr-go/server"
)

// BasePath is the path under which the fake serves the API, as production does
// under https://heepr.ai/api.
const BasePath = "/api"

// DefaultMaxFileBytes is how many bytes of each delivered file the fake keeps
// for File.Data when WithMaxFileBytes is not given. Size and SHA256 always cover
// the whole file.
const DefaultMaxFileBytes = 1 << 20

// Server is an in-process heepr platform: stateful, validated against
// openapi.yaml, usable under testing/synctest. Create it with NewServer; its
// methods are safe for concurrent use. Close releases the listener, if URL
// started one.
type Server struct {
	opts    options
	handler http.Handler
	val     *validator
	sets    openSets // read-only after NewServer

	mu    sync.Mutex
	rng   *rand.Rand
	seq   map[string]int
	state platform

	violations []Violation
	requests   []Request
	reqSeq     int // Request.Seq of the last request logged
	faults     []*faultState
	faultHits  map[FaultKind]int
	idem       map[string]*idemEntry

	lnMu    sync.Mutex
	ln      net.Listener
	httpSrv *http.Server
	url     string
	closed  bool
}

type options struct {
	seed         uint64
	addr         string
	maxFileBytes int64
	noLog        bool
	rules        string
	logger       *slog.Logger
}

// Option configures a Server.
type Option func(*options)

// WithSeed seeds what the fake derives at random: API keys, bootstrap tokens and
// the faults given a Probability. The same seed gives the same secrets in the
// same order, so Example output is stable; the default seed is 1.
func WithSeed(seed uint64) Option { return func(o *options) { o.seed = seed } }

// WithAddr sets the address URL listens on (default 127.0.0.1:0, a free
// loopback port).
func WithAddr(addr string) Option { return func(o *options) { o.addr = addr } }

// WithMaxFileBytes sets how many bytes of each delivered file the fake keeps in
// File.Data (default DefaultMaxFileBytes). A negative value keeps none.
func WithMaxFileBytes(n int64) Option { return func(o *options) { o.maxFileBytes = n } }

// WithoutRequestLog stops the fake from keeping every request for Requests,
// for load tests whose millions of requests would otherwise fill the heap.
func WithoutRequestLog() Option { return func(o *options) { o.noLog = true } }

// WithRules sets the platform rules echoed as `sf` on work-assignment events and
// served as RULES.md.
func WithRules(rules string) Option { return func(o *options) { o.rules = rules } }

// WithLogger makes the fake log each request at debug level and each
// violation at warn level. It logs nothing by default.
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// NewServer returns a fake platform with no agents. It opens no socket: URL
// starts a listener on its first call, and HTTPClient serves requests in memory.
func NewServer(opts ...Option) *Server {
	o := options{seed: 1, addr: "127.0.0.1:0", maxFileBytes: DefaultMaxFileBytes, rules: defaultRules}
	for _, opt := range opts {
		opt(&o)
	}
	if o.logger == nil {
		o.logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{
		opts:      o,
		rng:       rand.New(rand.NewPCG(o.seed, o.seed^0x9e3779b97f4a7c15)),
		seq:       map[string]int{},
		idem:      map[string]*idemEntry{},
		faultHits: map[FaultKind]int{},
	}
	// The spec is read in this order: newValidator repoints its servers.
	doc, err := loadSpec()
	s.sets = newOpenSets(doc)
	s.state = newPlatform(o.rules, renderAPIDoc(doc))
	s.val = newValidator(doc, err)
	api := server.HandlerWithOptions(
		server.NewStrictHandlerWithOptions(&api{s: s}, []server.StrictMiddlewareFunc{s.idempotency}, server.StrictHTTPServerOptions{
			RequestErrorHandlerFunc:  s.requestError,
			ResponseErrorHandlerFunc: s.responseError,
		}),
		server.StdHTTPServerOptions{BaseURL: BasePath, ErrorHandlerFunc: s.requestError},
	)
	mux := http.NewServeMux()
	mux.Handle(BasePath+"/", s.digestBody(s.validate(s.authenticate(api))))
	mux.Handle(filesPath, http.HandlerFunc(s.serveFile))
	mux.Handle("/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.violation(r, "request", fmt.Errorf("no such path: the API is served under %s", BasePath))
		s.writeError(w, r, apiError(models.ErrorCodeNotFound, "no such path: the API is served under "+BasePath))
	}))
	s.handler = s.front(mux)
	return s
}

// Handler returns the fake as an http.Handler, serving the API under BasePath,
// for mounting on a server of the caller's own.
func (s *Server) Handler() http.Handler { return s.handler }

// URL starts a loopback listener on the first call and returns the API's base
// URL, such as http://127.0.0.1:41234/api. It returns "" when the listener
// cannot start (the reason is recorded as a Violation) or after Close.
func (s *Server) URL() string {
	s.lnMu.Lock()
	defer s.lnMu.Unlock()
	if s.url != "" || s.closed {
		return s.url
	}
	ln, err := net.Listen("tcp", s.opts.addr)
	if err != nil {
		s.recordViolation(Violation{Kind: ViolationControl, Err: fmt.Sprintf("listen on %s: %v", s.opts.addr, err), At: time.Now()})
		return ""
	}
	s.ln = ln
	s.httpSrv = &http.Server{Handler: s.handler, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = s.httpSrv.Serve(ln) }()
	s.url = "http://" + ln.Addr().String() + BasePath
	return s.url
}

// HTTPClient returns an *http.Client whose transport calls the fake in memory,
// whatever the request's host: point a client at any base URL (the production
// default included) and it reaches this server. No socket is involved, so it
// works inside a testing/synctest bubble. Injected faults come back as the
// errors a network gives: a reset connection, io.ErrUnexpectedEOF.
func (s *Server) HTTPClient() *http.Client {
	return &http.Client{Transport: &memoryTransport{s: s}}
}

// Close stops the listener that URL started, if any, and waits for its
// connections to end. It is safe to call more than once.
func (s *Server) Close() {
	s.lnMu.Lock()
	srv := s.httpSrv
	s.closed = true
	s.httpSrv = nil
	s.lnMu.Unlock()
	if srv == nil {
		return
	}
	// Give in-flight requests a moment, then cut whatever is left.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		_ = srv.Close()
	}
}

// nextID returns prefix_N, N counting from 1 per prefix, so ids are stable
// across runs (agt_1, ord_1, evt_1…). The caller holds s.mu.
func (s *Server) nextID(prefix string) string {
	s.seq[prefix]++
	return fmt.Sprintf("%s_%d", prefix, s.seq[prefix])
}

// secret returns prefix + 32 hex characters from the seeded generator. The
// caller holds s.mu.
func (s *Server) secret(prefix string) string {
	return fmt.Sprintf("%s%016x%016x", prefix, s.rng.Uint64(), s.rng.Uint64())
}
