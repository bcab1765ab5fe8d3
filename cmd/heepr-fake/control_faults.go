package main

import (
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/getkin/kin-openapi/openapi3"

	heepr "github.com/heepr/heepr-go"
	"github.com/heepr/heepr-go/heeprtest"
	"github.com/heepr/heepr-go/models"
)

// operation is an operation of openapi.yaml: what a fault's "op" names.
type operation struct {
	method, path string // path relative to the base path, as the spec writes it
}

// operations reads the operations from openapi.yaml, so that a fault names an
// operation by the spec's own operationId and a new operation needs no table
// here. A spec that does not load leaves none: faults then take "path".
func operations() map[string]operation {
	doc, err := openapi3.NewLoader().LoadFromData(heepr.OpenAPI())
	ops := map[string]operation{}
	if err != nil || doc.Paths == nil {
		return ops
	}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			if op.OperationID != "" {
				ops[op.OperationID] = operation{method: method, path: path}
			}
		}
	}
	return ops
}

// faultKinds names heeprtest's fault kinds as FaultKind.String does.
func faultKinds() map[string]heeprtest.FaultKind {
	kinds := map[string]heeprtest.FaultKind{}
	for k := heeprtest.FaultStatus; ; k++ {
		name := k.String()
		if strings.HasPrefix(name, "fault(") {
			return kinds
		}
		kinds[name] = k
	}
}

// faultRequest is the body of POST /_fake/faults: heeprtest.Fault in JSON.
type faultRequest struct {
	Op                string  `json:"op"`
	Kind              string  `json:"kind"`
	Method            string  `json:"method"`
	Path              string  `json:"path"`
	Times             int     `json:"times"`
	Probability       float64 `json:"probability"`
	Status            int     `json:"status"`
	Code              string  `json:"code"`
	RetryAfterSeconds int     `json:"retry_after_seconds"`
	LatencyMS         int     `json:"latency_ms"`
	EventKind         string  `json:"event_kind"`
}

// injectFault answers POST /_fake/faults: a scripted failure for the requests
// it matches, as heeprtest.Server.Inject takes it. It answers the fault as it
// was read, defaults filled in.
func (c *control) injectFault(w http.ResponseWriter, r *http.Request) {
	var req faultRequest
	if !decodeBody(w, r, &req) {
		return
	}
	bad := func(format string, args ...any) {
		writeError(w, http.StatusBadRequest, models.ErrorCodeInvalidRequest, format, args...)
	}
	f := heeprtest.Fault{Method: strings.ToUpper(req.Method), Path: req.Path, Probability: req.Probability, EventKind: req.EventKind}
	switch {
	case req.Op == "" || req.Op == "*":
	case req.Method != "" || req.Path != "":
		bad(`give "op" or "method" and "path", not both`)
		return
	default:
		op, ok := c.ops[req.Op]
		if !ok {
			names := make([]string, 0, len(c.ops))
			for n := range c.ops {
				names = append(names, n)
			}
			slices.Sort(names)
			bad("no operation %q: op is \"*\" or one of %s", req.Op, strings.Join(names, ", "))
			return
		}
		f.Method, f.Path = op.method, op.path
	}
	kinds := faultKinds()
	if req.Kind == "" {
		req.Kind = heeprtest.FaultStatus.String()
	}
	kind, ok := kinds[req.Kind]
	if !ok {
		names := make([]string, 0, len(kinds))
		for n := range kinds {
			names = append(names, n)
		}
		slices.Sort(names)
		bad("no fault kind %q: kind is one of %s", req.Kind, strings.Join(names, ", "))
		return
	}
	f.Kind = kind
	switch {
	case req.Times < heeprtest.Forever:
		bad("times %d: a count, 0 or 1 for once, -1 for every request", req.Times)
		return
	case req.Probability < 0 || req.Probability > 1:
		bad("probability %v: between 0 and 1", req.Probability)
		return
	case req.Status != 0 && (req.Status < 400 || req.Status > 599):
		bad("status %d: a fault answers 400 to 599", req.Status)
		return
	case req.Status != 0 && kind != heeprtest.FaultStatus && kind != heeprtest.FaultNonJSON:
		bad("status is for the status and non-json kinds, not %s", kind)
		return
	case (req.RetryAfterSeconds != 0 || req.Code != "") && kind != heeprtest.FaultStatus:
		bad("retry_after_seconds and code are for the status kind, not %s", kind)
		return
	case req.RetryAfterSeconds < 0:
		bad("retry_after_seconds %d is below zero", req.RetryAfterSeconds)
		return
	case kind == heeprtest.FaultLatency && (req.LatencyMS <= 0 || req.LatencyMS > 300_000):
		bad("latency_ms %d: the latency kind waits 1 to 300000 ms", req.LatencyMS)
		return
	case req.LatencyMS != 0 && kind != heeprtest.FaultLatency:
		bad("latency_ms is for the latency kind, not %s", kind)
		return
	case req.EventKind != "" && kind != heeprtest.FaultUnknownEvent:
		bad("event_kind is for the unknown-event kind, not %s", kind)
		return
	}
	f.Times, f.Status, f.Code = req.Times, req.Status, models.ErrorCode(req.Code)
	f.RetryAfter = time.Duration(req.RetryAfterSeconds) * time.Second
	f.Latency = time.Duration(req.LatencyMS) * time.Millisecond
	c.srv.Inject(f)

	if req.Times == 0 {
		req.Times = 1
	}
	if req.Op == "" {
		req.Op = "*"
	}
	writeJSON(w, http.StatusCreated, struct {
		Op     string `json:"op"`
		Kind   string `json:"kind"`
		Method string `json:"method,omitempty"`
		Path   string `json:"path,omitempty"`
		Times  int    `json:"times"`
	}{req.Op, kind.String(), f.Method, f.Path, req.Times})
}

// clearFaults answers DELETE /_fake/faults: every fault not yet used up goes.
func (c *control) clearFaults(w http.ResponseWriter, _ *http.Request) {
	c.srv.ClearFaults()
	w.WriteHeader(http.StatusNoContent)
}
