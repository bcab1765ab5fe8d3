package heeprtest

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"time"

	"github.com/heepr/heepr-go/models"
)

// FaultKind is what an injected fault does to a request.
type FaultKind int

const (
	// FaultStatus answers Status (default 503) in the error envelope, with Code
	// (default: the generic code of the status) and, where RetryAfter is set, a
	// Retry-After header. The request has no effect.
	FaultStatus FaultKind = iota + 1
	// FaultDropBeforeBody drops the connection before the request body is read:
	// the request has no effect. In memory the client sees a connection reset.
	FaultDropBeforeBody
	// FaultDropAfterBody handles the request in full (its effect is recorded)
	// and drops the connection before the response: the client cannot know the
	// write landed. In memory the client sees io.ErrUnexpectedEOF.
	FaultDropAfterBody
	// FaultLatency waits Latency (on the clock of time.Now, so fake time in a
	// synctest bubble), then handles the request normally. A client that gives
	// up first cancels it with no effect.
	FaultLatency
	// FaultTruncate handles the request in full and sends the status and
	// headers, but only the first half of the body before the connection drops.
	FaultTruncate
	// FaultNonJSON answers Status (default 502) with an HTML page, as a proxy
	// in front of the platform does. The request has no effect.
	FaultNonJSON
	// FaultUnknownEvent adds an event of a kind the spec does not know
	// (EventKind, default "order_cancelled") to the answer of GET /events,
	// outside validation, to test forward compatibility.
	FaultUnknownEvent
	// FaultRepeatEvents adds the events of the agent's last non-empty poll
	// answer to this answer of GET /events, as a platform that delivers at
	// least once would: a test of deduplication.
	FaultRepeatEvents
)

// String names the fault kind.
func (k FaultKind) String() string {
	switch k {
	case FaultStatus:
		return "status"
	case FaultDropBeforeBody:
		return "drop-before-body"
	case FaultDropAfterBody:
		return "drop-after-body"
	case FaultLatency:
		return "latency"
	case FaultTruncate:
		return "truncate"
	case FaultNonJSON:
		return "non-json"
	case FaultUnknownEvent:
		return "unknown-event"
	case FaultRepeatEvents:
		return "repeat-events"
	}
	return "fault(" + strconv.Itoa(int(k)) + ")"
}

// Forever, as Fault.Times, makes a fault hit every matching request.
const Forever = -1

// Fault scripts one kind of failure for the requests it matches. Faults are
// tried in the order injected; the first that matches a request and still has
// hits left applies. Responses shaped by a fault skip response validation on
// purpose.
type Fault struct {
	Kind FaultKind
	// Method matches the request's method; "" matches any.
	Method string
	// Path matches the request's path relative to BasePath, written as in the
	// spec: "/events", "/orders/{id}/deliver" ({…} matches one segment). Paths
	// outside the API, such as attachment downloads under /files/, are matched
	// whole. "" matches any.
	Path string
	// Times is how many matching requests the fault hits: 0 means once,
	// Forever means every one.
	Times int
	// Probability, when above 0, makes the fault hit a matching request with
	// that chance (drawn from the server's seeded generator).
	Probability float64

	Status     int              // FaultStatus, FaultNonJSON
	Code       models.ErrorCode // FaultStatus
	RetryAfter time.Duration    // FaultStatus
	Latency    time.Duration    // FaultLatency
	EventKind  string           // FaultUnknownEvent
}

type faultState struct {
	f    Fault
	left int // hits left; Forever for no limit
}

// Inject adds a fault; see Fault for how faults match.
func (s *Server) Inject(f Fault) {
	left := f.Times
	if left == 0 {
		left = 1
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &faultState{f: f, left: left})
}

// FaultHits counts, by kind, the requests an injected fault has struck so far.
func (s *Server) FaultHits() map[FaultKind]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[FaultKind]int, len(s.faultHits))
	for k, v := range s.faultHits {
		out[k] = v
	}
	return out
}

// ClearFaults removes every fault not yet used up.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = nil
}

// matchFault picks the fault for r, if any, and uses up one of its hits.
func (s *Server) matchFault(r *http.Request) *Fault {
	rel := strings.TrimPrefix(r.URL.Path, BasePath)
	if rel == r.URL.Path || rel == "" {
		rel = r.URL.Path
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, fs := range s.faults {
		f := &fs.f
		if f.Method != "" && !strings.EqualFold(f.Method, r.Method) {
			continue
		}
		if f.Path != "" && !pathMatches(f.Path, rel) {
			continue
		}
		if (f.Kind == FaultUnknownEvent || f.Kind == FaultRepeatEvents) && !(r.Method == http.MethodGet && rel == "/events") {
			continue
		}
		if f.Probability > 0 && s.rng.Float64() >= f.Probability {
			continue
		}
		if fs.left != Forever {
			fs.left--
			if fs.left == 0 {
				s.faults = append(s.faults[:i:i], s.faults[i+1:]...)
			}
		}
		s.faultHits[f.Kind]++
		hit := *f
		return &hit
	}
	return nil
}

func pathMatches(pattern, path string) bool {
	ps, xs := strings.Split(pattern, "/"), strings.Split(path, "/")
	if len(ps) != len(xs) {
		return false
	}
	for i := range ps {
		if strings.HasPrefix(ps[i], "{") && strings.HasSuffix(ps[i], "}") && xs[i] != "" {
			continue
		}
		if ps[i] != xs[i] {
			return false
		}
	}
	return true
}

// front is the outermost layer: it gives each request its id, applies the
// injected fault, and logs the request.
func (s *Server) front(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		info := &reqInfo{id: s.nextID("req"), origin: origin(r), start: time.Now()}
		s.mu.Unlock()
		r = r.WithContext(context.WithValue(r.Context(), infoKey{}, info))
		w.Header().Set("X-Request-Id", info.id)
		f := s.matchFault(r)

		// The request goes on the log before the client can see a byte of the
		// answer (or the connection cut), so a test that reads Requests()
		// after a call returns always finds it.
		var logged bool
		logOnce := func(status int) {
			if logged {
				return
			}
			logged = true
			rec := Request{
				ID: info.id, Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone(),
				AgentID: info.agentID, IdempotencyKey: r.Header.Get("Idempotency-Key"),
				Status: status, Replayed: info.replayed, At: info.start, Duration: time.Since(info.start),
			}
			if f != nil {
				rec.Fault = f.Kind
			}
			if !s.opts.noLog {
				s.mu.Lock()
				s.reqSeq++
				rec.Seq = s.reqSeq
				s.requests = append(s.requests, rec)
				s.mu.Unlock()
			}
			s.opts.logger.Debug("heeprtest: request", "id", info.id, "method", r.Method, "path", r.URL.Path,
				"status", status, "fault", rec.Fault, "replayed", info.replayed)
		}
		status, cut := s.serveWithFault(&statusWriter{ResponseWriter: w, onStatus: logOnce}, w, r, next, f)
		logOnce(status)
		if cut != nil {
			cut()
		}
	})
}

// serveWithFault serves r through next, shaped by f, and returns the status the
// client saw (0 when the connection was dropped before a status) and, for the
// faults that cut the connection, the cut, for the caller to make. w writes
// the answer; conn is the connection underneath, for the cut.
func (s *Server) serveWithFault(w *statusWriter, conn http.ResponseWriter, r *http.Request, next http.Handler, f *Fault) (int, func()) {
	if f == nil {
		next.ServeHTTP(w, r)
		return w.status(), nil
	}
	switch f.Kind {
	case FaultDropBeforeBody:
		return 0, func() { dropConnection(conn, false) }
	case FaultStatus:
		st := f.Status
		if st == 0 {
			st = http.StatusServiceUnavailable
		}
		code := f.Code
		if code == "" {
			code = codeForStatus(st)
		}
		e := apiError(code, "injected fault: %d %s", st, http.StatusText(st))
		e.StatusCode, e.RetryAfter = st, f.RetryAfter
		s.writeError(w, r, e)
		return st, nil
	case FaultNonJSON:
		st := f.Status
		if st == 0 {
			st = http.StatusBadGateway
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(st)
		_, _ = w.Write([]byte("<html><head><title>" + strconv.Itoa(st) + " " + http.StatusText(st) +
			"</title></head><body><h1>" + http.StatusText(st) + "</h1><p>upstream proxy</p></body></html>\n"))
		return st, nil
	case FaultLatency:
		t := time.NewTimer(f.Latency)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return 0, nil
		}
		next.ServeHTTP(w, r)
		return w.status(), nil
	}

	// The remaining faults act on a response handled in full.
	rec := httptest.NewRecorder()
	next.ServeHTTP(rec, r)
	res := rec.Result()
	body := rec.Body.Bytes()
	switch f.Kind {
	case FaultDropAfterBody:
		return 0, func() { dropConnection(conn, true) }
	case FaultUnknownEvent:
		if res.StatusCode == http.StatusOK {
			body = s.withEvents(body, s.unknownEvent(f.EventKind, infoFrom(r.Context()).agentID))
			res.Header.Set("Content-Length", strconv.Itoa(len(body)))
		}
	case FaultRepeatEvents:
		if res.StatusCode == http.StatusOK {
			body = s.withEvents(body, infoFrom(r.Context()).previous...)
			res.Header.Set("Content-Length", strconv.Itoa(len(body)))
		}
	}
	for k, v := range res.Header {
		w.Header()[k] = v
	}
	if f.Kind == FaultTruncate {
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(res.StatusCode)
		_, _ = w.Write(body[:len(body)/2])
		return res.StatusCode, func() { truncateConnection(conn) }
	}
	w.WriteHeader(res.StatusCode)
	_, _ = w.Write(body)
	return res.StatusCode, nil
}

// unknownEvent is an event of a kind the spec does not know.
func (s *Server) unknownEvent(kind, agentID string) json.RawMessage {
	if kind == "" {
		kind = "order_cancelled"
	}
	s.mu.Lock()
	id := s.nextID("evt")
	s.mu.Unlock()
	ev, _ := json.Marshal(map[string]any{
		"id": id, "kind": kind, "created_at": time.Now().UTC(), "order_id": "ord_0",
		"agent_id": agentID, "detail": map[string]any{"reason": "injected by heeprtest"},
	})
	return ev
}

// withEvents appends events to a GET /events answer.
func (s *Server) withEvents(body []byte, extra ...json.RawMessage) []byte {
	if len(extra) == 0 {
		return body
	}
	var batch map[string]json.RawMessage
	if err := json.Unmarshal(body, &batch); err != nil || batch == nil {
		return body
	}
	var events []json.RawMessage
	if raw, ok := batch["events"]; ok {
		if err := json.Unmarshal(raw, &events); err != nil {
			return body
		}
	}
	events = append(events, extra...)
	batch["events"], _ = json.Marshal(events)
	out, _ := json.Marshal(batch)
	return append(out, '\n')
}

// statusWriter remembers the status written through it, and tells onStatus
// before the status goes out.
type statusWriter struct {
	http.ResponseWriter
	code     int
	onStatus func(int)
}

func (w *statusWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
		if w.onStatus != nil {
			w.onStatus(code)
		}
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) status() int { return w.code }

// Unwrap lets http.ResponseController reach the connection underneath.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// dropper is implemented by the in-memory transport's writer, which turns a
// drop into the error a client on a real network would see.
type dropper interface {
	drop(handled bool)
	truncate()
}

// dropConnection closes the client's connection without an answer; handled
// says whether the request was handled first.
func dropConnection(w http.ResponseWriter, handled bool) {
	if d, ok := w.(dropper); ok {
		d.drop(handled)
		return
	}
	hijackClose(w)
}

// truncateConnection closes the connection after what was written so far.
func truncateConnection(w http.ResponseWriter) {
	if d, ok := w.(dropper); ok {
		d.truncate()
		return
	}
	_ = http.NewResponseController(w).Flush()
	hijackClose(w)
}

func hijackClose(w http.ResponseWriter) {
	conn, buf, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return
	}
	if buf != nil {
		_ = buf.Flush()
	}
	_ = conn.Close()
}

func origin(r *http.Request) string {
	scheme := "http"
	switch {
	case r.TLS != nil:
		scheme = "https"
	case r.URL.Scheme != "":
		scheme = r.URL.Scheme
	}
	return scheme + "://" + r.Host
}
