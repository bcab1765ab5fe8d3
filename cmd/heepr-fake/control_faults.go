package main

import (
	"fmt"
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

// fieldName names a faultRequest field in an error: the JSON member as the
// route reads it, or the flag as the fault command takes it.
type fieldName func(jsonName string) string

// jsonField names a field by its JSON member.
func jsonField(name string) string { return name }

// fault reads req as heeprtest.Inject takes it, defaults filled in, or says
// what is wrong, naming fields by name. The route and the fault command both
// read a fault here, so that the command refuses before any request what the
// route would.
func (req faultRequest) fault(ops map[string]operation, name fieldName) (heeprtest.Fault, error) {
	f := heeprtest.Fault{Method: strings.ToUpper(req.Method), Path: req.Path, Probability: req.Probability, EventKind: req.EventKind}
	switch {
	case req.Op == "" || req.Op == "*":
	case req.Method != "" || req.Path != "":
		return f, fmt.Errorf(`give %q or %q and %q, not both`, name("op"), name("method"), name("path"))
	default:
		op, ok := ops[req.Op]
		if !ok {
			names := make([]string, 0, len(ops))
			for n := range ops {
				names = append(names, n)
			}
			slices.Sort(names)
			return f, fmt.Errorf("no operation %q: %s is \"*\" or one of %s", req.Op, name("op"), strings.Join(names, ", "))
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
		return f, fmt.Errorf("no fault kind %q: %s is one of %s", req.Kind, name("kind"), strings.Join(names, ", "))
	}
	f.Kind = kind
	switch {
	case req.Times < heeprtest.Forever:
		return f, fmt.Errorf("%s %d: a count, 0 or 1 for once, -1 for every request", name("times"), req.Times)
	case req.Probability < 0 || req.Probability > 1:
		return f, fmt.Errorf("%s %v: between 0 and 1", name("probability"), req.Probability)
	case req.Status != 0 && (req.Status < 400 || req.Status > 599):
		return f, fmt.Errorf("%s %d: a fault answers 400 to 599", name("status"), req.Status)
	case req.Status != 0 && kind != heeprtest.FaultStatus && kind != heeprtest.FaultNonJSON:
		return f, fmt.Errorf("%s is for the status and non-json kinds, not %s", name("status"), kind)
	case (req.RetryAfterSeconds != 0 || req.Code != "") && kind != heeprtest.FaultStatus:
		return f, fmt.Errorf("%s and %s are for the status kind, not %s", name("retry_after_seconds"), name("code"), kind)
	case req.RetryAfterSeconds < 0:
		return f, fmt.Errorf("%s %d is below zero", name("retry_after_seconds"), req.RetryAfterSeconds)
	case kind == heeprtest.FaultLatency && (req.LatencyMS <= 0 || req.LatencyMS > 300_000):
		return f, fmt.Errorf("%s %d: the latency kind waits 1 to 300000 ms", name("latency_ms"), req.LatencyMS)
	case req.LatencyMS != 0 && kind != heeprtest.FaultLatency:
		return f, fmt.Errorf("%s is for the latency kind, not %s", name("latency_ms"), kind)
	case req.EventKind != "" && kind != heeprtest.FaultUnknownEvent:
		return f, fmt.Errorf("%s is for the unknown-event kind, not %s", name("event_kind"), kind)
	}
	f.Times, f.Status, f.Code = req.Times, req.Status, models.ErrorCode(req.Code)
	f.RetryAfter = time.Duration(req.RetryAfterSeconds) * time.Second
	f.Latency = time.Duration(req.LatencyMS) * time.Millisecond
	return f, nil
}

// faultAnswer is what POST /_fake/faults answers: the fault as it was read.
type faultAnswer struct {
	Op     string `json:"op"`
	Kind   string `json:"kind"`
	Method string `json:"method,omitempty"`
	Path   string `json:"path,omitempty"`
	Times  int    `json:"times"`
}

// injectFault answers POST /_fake/faults: a scripted failure for the requests
// it matches, as heeprtest.Server.Inject takes it. It answers the fault as it
// was read, defaults filled in.
func (c *control) injectFault(w http.ResponseWriter, r *http.Request) {
	var req faultRequest
	if !decodeBody(w, r, &req) {
		return
	}
	f, err := req.fault(c.ops, jsonField)
	if err != nil {
		writeError(w, http.StatusBadRequest, models.ErrorCodeInvalidRequest, "%v", err)
		return
	}
	c.srv.Inject(f)

	if req.Times == 0 {
		req.Times = 1
	}
	if req.Op == "" {
		req.Op = "*"
	}
	writeJSON(w, http.StatusCreated, faultAnswer{req.Op, f.Kind.String(), f.Method, f.Path, req.Times})
}

// clearFaults answers DELETE /_fake/faults: every fault not yet used up goes.
func (c *control) clearFaults(w http.ResponseWriter, _ *http.Request) {
	c.srv.ClearFaults()
	w.WriteHeader(http.StatusNoContent)
}
