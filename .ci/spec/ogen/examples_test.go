package ogencheck

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"strings"
	"sync"
	"testing"

	"github.com/go-faster/jx"
	ht "github.com/ogen-go/ogen/http"

	"ogencheck/api"
)

// ogenType is what ogen generates for a schema with a JSON form.
type ogenType interface {
	Encode(e *jx.Encoder)
	Decode(d *jx.Decoder) error
}

// decodeAs decodes data as an ogen client decodes a body: the value, nothing
// after it, then the schema's constraints (Validate, where ogen generates one).
func decodeAs[T any, P interface {
	*T
	ogenType
}](data []byte) (ogenType, error) {
	p := P(new(T))
	d := jx.DecodeBytes(data)
	if err := p.Decode(d); err != nil {
		return nil, err
	}
	if err := d.Skip(); err != io.EOF {
		return nil, errors.New("unexpected trailing data")
	}
	if v, ok := any(p).(interface{ Validate() error }); ok {
		if err := v.Validate(); err != nil {
			return nil, fmt.Errorf("validate: %w", err)
		}
	}
	return p, nil
}

// schemaTypes holds, for each schema of components/schemas, the ogen type
// generated for it. A schema added to the spec must be added here or to
// noJSONType: TestSchemaExamples fails until it is.
var schemaTypes = map[string]func([]byte) (ogenType, error){
	"AgentStatus":             decodeAs[api.AgentStatus],
	"Attachment":              decodeAs[api.Attachment],
	"DeclineReason":           decodeAs[api.DeclineReason],
	"DeclineRequest":          decodeAs[api.DeclineRequest],
	"DeliveredFile":           decodeAs[api.DeliveredFile],
	"DeliveryPayload":         decodeAs[api.DeliveryPayload],
	"DeliveryReceipt":         decodeAs[api.DeliveryReceipt],
	"DeliveryState":           decodeAs[api.DeliveryState],
	"ErrorCode":               decodeAs[api.ErrorCode],
	"ErrorDetail":             decodeAs[api.ErrorDetail],
	"ErrorEnvelope":           decodeAs[api.ErrorEnvelope],
	"Event":                   decodeAs[api.Event],
	"EventBatch":              decodeAs[api.EventBatch],
	"FlagReason":              decodeAs[api.FlagReason],
	"FlagRequest":             decodeAs[api.FlagRequest],
	"NewOrderEvent":           decodeAs[api.NewOrderEvent],
	"Order":                   decodeAs[api.Order],
	"OrderAck":                decodeAs[api.OrderAck],
	"OrderState":              decodeAs[api.OrderState],
	"OwnerApprovedOrderEvent": decodeAs[api.OwnerApprovedOrderEvent],
	"OwnerDecision":           decodeAs[api.OwnerDecision],
	"OwnerDeniedOrderEvent":   decodeAs[api.OwnerDeniedOrderEvent],
	"PlatformRules":           decodeAs[api.PlatformRules],
	"Price":                   decodeAs[api.Price],
	"Progress":                decodeAs[api.Progress],
	"RegisterRequest":         decodeAs[api.RegisterRequest],
	"Registration":            decodeAs[api.Registration],
	"RevisionRequestEvent":    decodeAs[api.RevisionRequestEvent],
	"ScopeChangeEvent":        decodeAs[api.ScopeChangeEvent],
	"Skill":                   decodeAs[api.Skill],
	"SkillManifest":           decodeAs[api.SkillManifest],
	"StatusAck":               decodeAs[api.StatusAck],
	"StatusUpdate":            decodeAs[api.StatusUpdate],
	"UnknownEvent":            decodeAs[api.UnknownEvent],
	// ogen generates no type for the header alone (it merges the allOf into
	// each event); UnknownEvent is the header and nothing else.
	"EventHeader": decodeAs[api.UnknownEvent],
}

// noJSONType lists the schemas ogen gives no JSON type, and where their
// examples are checked instead.
var noJSONType = map[string]string{
	"EventKind":      "used only by EventHeader, which ogen merges into each event; each event's kind is checked with its event",
	"SkillFileName":  "a path parameter: its example is sent as {file} in TestRequestExamples",
	"DeliveryUpload": "a multipart body: its example is sent as multipart/form-data in TestRequestExamples",
}

// TestSchemaExamples decodes the example of every schema with the type ogen
// generated for it, and encodes it back: what ogen reads of an example is the
// whole example. Each inline property example is checked the same way, put
// into its schema's example.
func TestSchemaExamples(t *testing.T) {
	s := loadSpec(t)
	schemas := s.doc["components"].(node)["schemas"].(node)
	for name := range schemaTypes {
		if _, ok := schemas[name]; !ok {
			t.Errorf("schemaTypes names %s, which openapi.yaml does not define", name)
		}
	}
	decoded := 0
	for _, name := range sortedKeys(schemas) {
		schema := schemas[name].(node)
		decode, ok := schemaTypes[name]
		if !ok {
			if _, ok := noJSONType[name]; !ok {
				t.Errorf("schema %s: add its ogen type to schemaTypes (or say in noJSONType why it has none)", name)
			}
			continue
		}
		where := "#/components/schemas/" + name
		parent, hasExample := schema["example"]
		if !hasExample {
			continue
		}
		checkDecode(t, where+"/example", decode, parent)
		decoded++
		obj, ok := parent.(node)
		if !ok {
			continue
		}
		for prop, ex := range propertyExamples(s, schema) {
			withProp := maps.Clone(obj)
			withProp[prop] = ex
			checkDecode(t, where+"/properties/"+prop+"/example", decode, withProp)
			decoded++
		}
	}
	t.Logf("decoded %d schema and property examples with ogen's types", decoded)
}

func checkDecode(t *testing.T, where string, decode func([]byte) (ogenType, error), value any) {
	t.Helper()
	data := mustJSON(t, value)
	v, err := decode(data)
	if err != nil {
		t.Errorf("%s does not decode: %v\n%s", where, err, data)
		return
	}
	e := &jx.Encoder{}
	v.Encode(e)
	if !sameJSON(t, data, e.Bytes()) {
		t.Errorf("%s: ogen's type lost part of it:\nexample: %s\nre-encoded: %s", where, data, e.Bytes())
	}
}

// propertyExamples returns the inline examples of a schema's own properties
// (those of its allOf parts included), each as the property's value: an items
// example becomes a one-item array.
func propertyExamples(s spec, schema node) map[string]any {
	out := map[string]any{}
	parts := []node{schema}
	if all, ok := schema["allOf"].([]any); ok {
		for _, p := range all {
			if _, isRef := p.(node)["$ref"]; !isRef {
				parts = append(parts, p.(node))
			}
		}
	}
	for _, part := range parts {
		props, _ := part["properties"].(node)
		for name, p := range props {
			prop := p.(node)
			if ex, ok := prop["example"]; ok {
				out[name] = ex
			} else if items, ok := prop["items"].(node); ok {
				if ex, ok := items["example"]; ok {
					out[name] = []any{ex}
				}
			}
		}
	}
	return out
}

// TestResponseExamples serves every response example of the spec, with the
// examples of its headers, to the ogen client, which must decode it: a 2xx or
// a listed error status into its response type, `default` into the error ogen
// returns for it.
func TestResponseExamples(t *testing.T) {
	s := loadSpec(t)
	srv := newCannedServer(t)
	c := newClient(t, srv.URL)
	checked := 0
	for _, op := range s.operations() {
		params := s.paramExamples(op)
		responses := op.node["responses"].(node)
		for _, status := range sortedKeys(responses) {
			resp := s.deref(responses[status].(node))
			headers := http.Header{}
			hs, _ := resp["headers"].(node)
			for _, name := range sortedKeys(hs) {
				exs := s.examples(s.deref(hs[name].(node)), "header "+name)
				if len(exs) == 0 {
					t.Errorf("%s %s: header %s has no example", op.id, status, name)
					continue
				}
				headers.Set(name, fmt.Sprint(exs[0].value))
			}
			content, _ := resp["content"].(node)
			for _, mt := range sortedKeys(content) {
				for _, ex := range s.examples(content[mt].(node), op.id+"/"+status+"/"+mt) {
					t.Run(ex.where, func(t *testing.T) {
						code := 418 // for `default`: a status no operation lists
						if status != "default" {
							fmt.Sscan(status, &code)
						}
						srv.set(code, mt, headers, body(t, mt, ex.value))
						res, err := calls[op.id](context.Background(), c, params)
						checkResponse(t, status, res, err)
					})
					checked++
				}
			}
		}
	}
	t.Logf("decoded %d response examples with ogen's client", checked)
}

// checkResponse asserts that the ogen client decoded a response: a listed
// status yields a response value and no error; `default` yields ogen's error
// type for it, which holds the decoded envelope.
func checkResponse(t *testing.T, status string, res any, err error) {
	t.Helper()
	if status == "default" {
		var e *api.ErrorResponseStatusCodeWithHeaders
		if !errors.As(err, &e) {
			t.Fatalf("default response: want *api.ErrorResponseStatusCodeWithHeaders, got %T %v", err, err)
		}
		return
	}
	if err != nil {
		t.Fatalf("the ogen client does not decode it: %v", err)
	}
	if res == nil {
		t.Fatal("no response value")
	}
}

func body(t *testing.T, mediaType string, v any) []byte {
	if strings.HasSuffix(mediaType, "json") {
		return mustJSON(t, v)
	}
	return []byte(v.(string))
}

// calls invokes each operation on the ogen client with the spec's parameter
// examples and a valid request body.
var calls = map[string]func(ctx context.Context, c *api.Client, p map[string]string) (any, error){
	"registerAgent": func(ctx context.Context, c *api.Client, p map[string]string) (any, error) {
		return c.RegisterAgent(ctx, &api.RegisterRequest{AgentID: "agt_7Hq2mX"}, api.RegisterAgentParams{IdempotencyKey: api.NewOptString(p["Idempotency-Key"])})
	},
	"getSkill": func(ctx context.Context, c *api.Client, p map[string]string) (any, error) {
		return c.GetSkill(ctx)
	},
	"getSkillFile": func(ctx context.Context, c *api.Client, p map[string]string) (any, error) {
		return c.GetSkillFile(ctx, api.GetSkillFileParams{ID: p["id"], File: api.SkillFileName(p["file"])})
	},
	"pollEvents": func(ctx context.Context, c *api.Client, p map[string]string) (any, error) {
		return c.PollEvents(ctx)
	},
	"deliverOrder": func(ctx context.Context, c *api.Client, p map[string]string) (any, error) {
		return c.DeliverOrder(ctx, &api.DeliveryPayload{Message: api.NewOptString("Done.")}, api.DeliverOrderParams{ID: p["id"], IdempotencyKey: api.NewOptString(p["Idempotency-Key"])})
	},
	"declineOrder": func(ctx context.Context, c *api.Client, p map[string]string) (any, error) {
		return c.DeclineOrder(ctx, &api.DeclineRequest{Reason: "capacity"}, api.DeclineOrderParams{ID: p["id"], IdempotencyKey: api.NewOptString(p["Idempotency-Key"])})
	},
	"flagOrder": func(ctx context.Context, c *api.Client, p map[string]string) (any, error) {
		return c.FlagOrder(ctx, &api.FlagRequest{Reason: "illegal"}, api.FlagOrderParams{ID: p["id"], IdempotencyKey: api.NewOptString(p["Idempotency-Key"])})
	},
	"updateStatus": func(ctx context.Context, c *api.Client, p map[string]string) (any, error) {
		return c.UpdateStatus(ctx, &api.StatusUpdate{Status: api.NewOptAgentStatus("paused")}, api.UpdateStatusParams{IdempotencyKey: api.NewOptString(p["Idempotency-Key"])})
	},
}

// cannedServer answers every request with the response last set.
type cannedServer struct {
	*httptest.Server
	mu      sync.Mutex
	code    int
	ctype   string
	headers http.Header
	body    []byte
}

func newCannedServer(t *testing.T) *cannedServer {
	s := &cannedServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		maps.Copy(w.Header(), s.headers)
		w.Header().Set("Content-Type", s.ctype)
		w.WriteHeader(s.code)
		w.Write(s.body)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *cannedServer) set(code int, ctype string, headers http.Header, body []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.code, s.ctype, s.headers, s.body = code, ctype, headers, body
}

// keys hands the ogen client a credential for each scheme.
type keys struct{}

func (keys) BearerAuth(context.Context, api.OperationName) (api.BearerAuth, error) {
	return api.BearerAuth{Token: "sk_live_test"}, nil
}

func (keys) BootstrapAuth(context.Context, api.OperationName) (api.BootstrapAuth, error) {
	return api.BootstrapAuth{APIKey: "Bootstrap bs_test"}, nil
}

func newClient(t *testing.T, url string) *api.Client {
	c, err := api.NewClient(url, keys{})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestRequestExamples sends every request example of the spec, with the
// examples of the operation's parameters, to the ogen server, which must
// decode and validate it and hand it to the handler. Operations without a
// body are sent once, for their parameter examples.
func TestRequestExamples(t *testing.T) {
	s := loadSpec(t)
	rec := &recorder{}
	srv := newOgenServer(t, rec)
	checked := 0
	for _, op := range s.operations() {
		params := s.paramExamples(op)
		var content node
		if rb, ok := op.node["requestBody"].(node); ok {
			content = s.deref(rb)["content"].(node)
		}
		type sent struct {
			where, ctype string
			body         []byte
			value        any
		}
		var reqs []sent
		for _, mt := range sortedKeys(content) {
			for _, ex := range s.examples(content[mt].(node), op.id+"/requestBody/"+mt) {
				ctype, b := requestBody(t, s, content[mt].(node), mt, ex.value)
				reqs = append(reqs, sent{ex.where, ctype, b, ex.value})
			}
		}
		if len(reqs) == 0 {
			reqs = append(reqs, sent{where: op.id + "/parameters"})
		}
		for _, r := range reqs {
			t.Run(r.where, func(t *testing.T) {
				got := send(t, srv.URL, rec, op, params, r.ctype, r.body)
				if got == nil {
					return
				}
				if enc, ok := got.(ogenType); ok && r.ctype == "application/json" {
					e := &jx.Encoder{}
					enc.Encode(e)
					if !sameJSON(t, r.body, e.Bytes()) {
						t.Errorf("ogen's request type lost part of it:\nexample: %s\nre-encoded: %s", r.body, e.Bytes())
					}
				}
			})
			checked++
		}
	}
	t.Logf("sent %d request examples to ogen's server", checked)
}

// send makes one request to the ogen server and returns the request body as
// the handler received it (nil for an operation without one).
func send(t *testing.T, url string, rec *recorder, op operation, params map[string]string, ctype string, body []byte) any {
	t.Helper()
	path := op.path
	hdr := http.Header{}
	for _, p := range op.params {
		name := p["name"].(string)
		switch p["in"] {
		case "path":
			path = strings.ReplaceAll(path, "{"+name+"}", params[name])
		case "header":
			hdr.Set(name, params[name])
		}
	}
	req, err := http.NewRequest(op.method, url+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header = hdr
	req.Header.Set("Authorization", "Bearer sk_live_test")
	if op.id == "registerAgent" {
		req.Header.Set("Authorization", "Bootstrap bs_test")
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	rec.reset()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(resp.Body)
	called, got := rec.last()
	if called != op.id {
		t.Fatalf("the ogen server did not reach the %s handler: %s %s", op.id, resp.Status, answer)
	}
	return got
}

// requestBody writes an example in its media type: JSON as is; a multipart
// example as one part per member, following the media type's encoding, with
// one file part per item of a binary array.
func requestBody(t *testing.T, s spec, mediaType node, mt string, v any) (string, []byte) {
	t.Helper()
	if mt == "application/json" {
		return mt, mustJSON(t, v)
	}
	if mt != "multipart/form-data" {
		t.Fatalf("no writer for a %s request example", mt)
	}
	props := s.deref(mediaType["schema"].(node))["properties"].(node)
	encoding, _ := mediaType["encoding"].(node)
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	obj := v.(node)
	for _, name := range sortedKeys(obj) {
		prop := s.deref(props[name].(node))
		if items, ok := prop["items"].(node); ok && items["format"] == "binary" {
			for i, file := range obj[name].([]any) {
				part, err := w.CreateFormFile(name, fmt.Sprintf("file%d.bin", i))
				if err != nil {
					t.Fatal(err)
				}
				part.Write([]byte(file.(string)))
			}
			continue
		}
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", fmt.Sprintf(`form-data; name=%q`, name))
		if enc, ok := encoding[name].(node); ok {
			h.Set("Content-Type", enc["contentType"].(string))
		}
		part, err := w.CreatePart(h)
		if err != nil {
			t.Fatal(err)
		}
		part.Write(mustJSON(t, obj[name]))
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return w.FormDataContentType(), buf.Bytes()
}

// recorder is an ogen handler that keeps the last request it was handed and
// answers 501: only what it received matters.
type recorder struct {
	api.UnimplementedHandler
	mu     sync.Mutex
	called string
	req    any
}

func (r *recorder) keep(op string, req any) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.called, r.req = op, req
	return ht.ErrNotImplemented
}

func (r *recorder) reset() { r.keep("", nil) }

func (r *recorder) last() (string, any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.called, r.req
}

func (r *recorder) RegisterAgent(_ context.Context, req *api.RegisterRequest, _ api.RegisterAgentParams) (api.RegisterAgentRes, error) {
	return nil, r.keep("registerAgent", req)
}

func (r *recorder) GetSkill(context.Context) (api.GetSkillRes, error) {
	return nil, r.keep("getSkill", nil)
}

func (r *recorder) GetSkillFile(_ context.Context, p api.GetSkillFileParams) (api.GetSkillFileRes, error) {
	return nil, r.keep("getSkillFile", p)
}

func (r *recorder) PollEvents(context.Context) (api.PollEventsRes, error) {
	return nil, r.keep("pollEvents", nil)
}

func (r *recorder) DeliverOrder(_ context.Context, req api.DeliverOrderReq, _ api.DeliverOrderParams) (api.DeliverOrderRes, error) {
	return nil, r.keep("deliverOrder", req)
}

func (r *recorder) DeclineOrder(_ context.Context, req *api.DeclineRequest, _ api.DeclineOrderParams) (api.DeclineOrderRes, error) {
	return nil, r.keep("declineOrder", req)
}

func (r *recorder) FlagOrder(_ context.Context, req *api.FlagRequest, _ api.FlagOrderParams) (api.FlagOrderRes, error) {
	return nil, r.keep("flagOrder", req)
}

func (r *recorder) UpdateStatus(_ context.Context, req *api.StatusUpdate, _ api.UpdateStatusParams) (api.UpdateStatusRes, error) {
	return nil, r.keep("updateStatus", req)
}

// allow accepts any credential: the check is about bodies and parameters.
type allow struct{}

func (allow) HandleBearerAuth(ctx context.Context, _ api.OperationName, _ api.BearerAuth) (context.Context, error) {
	return ctx, nil
}

func (allow) HandleBootstrapAuth(ctx context.Context, _ api.OperationName, _ api.BootstrapAuth) (context.Context, error) {
	return ctx, nil
}

func newOgenServer(t *testing.T, h api.Handler) *httptest.Server {
	s, err := api.NewServer(h, allow{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return srv
}
