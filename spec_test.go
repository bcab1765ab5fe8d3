package heepr_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers/legacy"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	heepr "github.com/heepr/heepr-go"
)

func loadSpec(t *testing.T) *openapi3.T {
	t.Helper()
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(heepr.OpenAPI())
	require.NoError(t, err, "load openapi.yaml")
	require.NoError(t, doc.Validate(context.Background()), "openapi.yaml is not a valid OpenAPI 3.0 document")
	return doc
}

func TestSpecIsValid(t *testing.T) {
	doc := loadSpec(t)
	assert.Equal(t, "3.0.3", doc.OpenAPI)
	require.Len(t, doc.Servers, 1)
	assert.Equal(t, "https://heepr.ai/api", doc.Servers[0].URL)
}

// TestSpecOperations pins the public surface: the eight operations of the
// platform's reference, each with its operationId, the right security scheme,
// the error responses every operation must document, and an Idempotency-Key on
// every POST. Nothing else: no /messages, no /gigs.
func TestSpecOperations(t *testing.T) {
	doc := loadSpec(t)
	want := map[string]string{
		"POST /agent/register":          "registerAgent",
		"GET /skill":                    "getSkill",
		"GET /agents/{id}/skill/{file}": "getSkillFile",
		"GET /events":                   "pollEvents",
		"POST /orders/{id}/deliver":     "deliverOrder",
		"POST /orders/{id}/decline":     "declineOrder",
		"POST /orders/{id}/flag":        "flagOrder",
		"POST /status":                  "updateStatus",
	}
	got := map[string]string{}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			got[method+" "+path] = op.OperationID
		}
	}
	assert.Equal(t, want, got)

	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			name := method + " " + path
			t.Run(name, func(t *testing.T) {
				security := doc.Security
				if op.Security != nil {
					security = *op.Security
				}
				require.Len(t, security, 1)
				scheme := "BearerAuth"
				if path == "/agent/register" {
					scheme = "BootstrapAuth"
				}
				assert.Contains(t, security[0], scheme)

				for _, status := range []string{"401", "429", "500", "503", "default"} {
					resp := op.Responses.Value(status)
					require.NotNil(t, resp, "no %s response", status)
					assertErrorEnvelope(t, resp.Value, status)
				}
				for _, status := range []string{"429", "503"} {
					assert.Contains(t, op.Responses.Value(status).Value.Headers, "Retry-After", status)
				}
				if path == "/agent/register" {
					require.NotNil(t, op.Responses.Value("409"))
					assertErrorEnvelope(t, op.Responses.Value("409").Value, "409")
				}

				var hasKey bool
				for _, p := range op.Parameters {
					if p.Value.In == "header" && p.Value.Name == "Idempotency-Key" {
						hasKey = true
						assert.False(t, p.Value.Required)
					}
				}
				assert.Equal(t, method == http.MethodPost, hasKey, "Idempotency-Key on every POST and only there")

				assert.True(t, hasRequestExample(op), "no request example")
				assert.True(t, hasResponseExample(op), "no 2xx response example")
			})
		}
	}
	for path := range doc.Paths.Map() {
		assert.NotContains(t, path, "/messages")
		assert.NotContains(t, path, "/gigs")
	}
}

func assertErrorEnvelope(t *testing.T, resp *openapi3.Response, status string) {
	t.Helper()
	mt := resp.Content.Get("application/json")
	require.NotNil(t, mt, "%s has no JSON body", status)
	assert.Equal(t, "#/components/schemas/ErrorEnvelope", mt.Schema.Ref, status)
}

func hasRequestExample(op *openapi3.Operation) bool {
	if op.RequestBody != nil {
		for _, mt := range op.RequestBody.Value.Content {
			if mt.Example == nil && len(mt.Examples) == 0 {
				return false
			}
		}
		return true
	}
	// A GET's request is its parameters: each must show an example, and an
	// operation without parameters is fully shown by its path.
	for _, p := range op.Parameters {
		if p.Value.Example == nil && len(p.Value.Examples) == 0 {
			return false
		}
	}
	return true
}

func hasResponseExample(op *openapi3.Operation) bool {
	for status, resp := range op.Responses.Map() {
		if !strings.HasPrefix(status, "2") {
			continue
		}
		for _, mt := range resp.Value.Content {
			if mt.Example == nil && len(mt.Examples) == 0 {
				return false
			}
		}
		return true
	}
	return false
}

// TestSpecDescribed: every schema and property says what it is.
func TestSpecDescribed(t *testing.T) {
	doc := loadSpec(t)
	for name, ref := range doc.Components.Schemas {
		walkSchemas(name, ref, func(path string, s *openapi3.Schema) {
			assert.NotEmpty(t, s.Description, "%s has no description", path)
		})
	}
}

// walkSchemas visits a schema and every schema written inline under it; a $ref
// is visited where it is defined, not where it is used.
func walkSchemas(path string, ref *openapi3.SchemaRef, visit func(string, *openapi3.Schema)) {
	if ref == nil || ref.Value == nil {
		return
	}
	s := ref.Value
	// Parts of an allOf only add properties to their parent, which is described.
	if !strings.HasSuffix(path, "]") {
		visit(path, s)
	}
	for name, p := range s.Properties {
		if p.Ref == "" {
			walkSchemas(path+"."+name, p, visit)
		}
	}
	if s.Items != nil && s.Items.Ref == "" {
		walkSchemas(path+"[]", s.Items, visit)
	}
	if ap := s.AdditionalProperties.Schema; ap != nil && ap.Ref == "" {
		walkSchemas(path+"{}", ap, visit)
	}
	for i, part := range s.AllOf {
		if part.Ref == "" {
			walkSchemas(path+".allOf["+string(rune('0'+i))+"]", part, visit)
		}
	}
}

// TestSpecExamplesValidate checks every example in the document against the
// schema it illustrates: schema examples, property examples, parameters,
// headers, request and response bodies.
func TestSpecExamplesValidate(t *testing.T) {
	doc := loadSpec(t)
	n := 0
	check := func(where string, schema *openapi3.SchemaRef, example any) {
		t.Helper()
		if example == nil || schema == nil {
			return
		}
		n++
		assert.NoError(t, schema.Value.VisitJSON(example), "example of %s", where)
	}
	checkMedia := func(where string, content openapi3.Content) {
		for ct, mt := range content {
			check(where+" "+ct, mt.Schema, mt.Example)
			for name, ex := range mt.Examples {
				check(where+" "+ct+" example "+name, mt.Schema, ex.Value.Value)
			}
		}
	}
	for name, ref := range doc.Components.Schemas {
		var visit func(string, *openapi3.SchemaRef)
		visit = func(path string, r *openapi3.SchemaRef) {
			check(path, r, r.Value.Example)
			for pname, p := range r.Value.Properties {
				if p.Ref == "" {
					visit(path+"."+pname, p)
				}
			}
			if r.Value.Items != nil && r.Value.Items.Ref == "" {
				visit(path+"[]", r.Value.Items)
			}
			for _, part := range r.Value.AllOf {
				if part.Ref == "" {
					visit(path+".allOf", part)
				}
			}
		}
		visit(name, ref)
	}
	for name, p := range doc.Components.Parameters {
		check("parameter "+name, p.Value.Schema, p.Value.Example)
	}
	for name, h := range doc.Components.Headers {
		check("header "+name, h.Value.Schema, h.Value.Example)
	}
	for name, r := range doc.Components.Responses {
		checkMedia("response "+name, r.Value.Content)
	}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			where := method + " " + path
			for _, p := range op.Parameters {
				check(where+" parameter "+p.Value.Name, p.Value.Schema, p.Value.Example)
			}
			if op.RequestBody != nil {
				checkMedia(where+" request", op.RequestBody.Value.Content)
			}
			for status, r := range op.Responses.Map() {
				checkMedia(where+" "+status, r.Value.Content)
			}
		}
	}
	assert.Greater(t, n, 150, "too few examples checked: the walk is broken")
	t.Logf("%d examples validated", n)
}

// TestSpecIdlePoll: the platform answers an idle poll with exactly {}, and the
// spec must accept it as a 200 of GET /events.
func TestSpecIdlePoll(t *testing.T) {
	doc := loadSpec(t)
	doc.Servers = openapi3.Servers{{URL: "http://127.0.0.1/api"}}
	router, err := legacy.NewRouter(doc)
	require.NoError(t, err)

	for _, body := range []string{`{}`, `{"events":[]}`} {
		req, err := http.NewRequest(http.MethodGet, "http://127.0.0.1/api/events", nil)
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer sk_live_test")
		route, params, err := router.FindRoute(req)
		require.NoError(t, err)
		in := &openapi3filter.RequestValidationInput{
			Request: req, PathParams: params, Route: route,
			Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc},
		}
		require.NoError(t, openapi3filter.ValidateRequest(context.Background(), in))
		out := &openapi3filter.ResponseValidationInput{
			RequestValidationInput: in,
			Status:                 http.StatusOK,
			Header:                 http.Header{"Content-Type": {"application/json"}},
			Body:                   io.NopCloser(bytes.NewBufferString(body)),
		}
		assert.NoError(t, openapi3filter.ValidateResponse(context.Background(), out), body)
	}
}

// openSet returns the known values of an open set of the spec (a string
// schema with x-extensible-enum), failing if the schema is a closed enum.
func openSet(t *testing.T, doc *openapi3.T, name string) []string {
	t.Helper()
	ref := doc.Components.Schemas[name]
	require.NotNil(t, ref, "no schema %s", name)
	require.Empty(t, ref.Value.Enum, "%s is a closed enum: write it as x-extensible-enum", name)
	list, ok := ref.Value.Extensions["x-extensible-enum"].([]any)
	require.True(t, ok, "%s has no x-extensible-enum", name)
	var out []string
	for _, v := range list {
		out = append(out, v.(string))
	}
	return out
}

// TestErrorCodes pins the error codes: the six of the platform's reference
// and the generic ones the SDK assumes.
func TestErrorCodes(t *testing.T) {
	got := openSet(t, loadSpec(t), "ErrorCode")
	sort.Strings(got)
	want := []string{
		"active_key_exists", "bootstrap_expired", "bootstrap_unknown", "bootstrap_used",
		"conflict", "forbidden", "idempotency_key_reused", "internal_error", "invalid_request",
		"key_expired", "key_revoked", "method_not_allowed", "not_found", "rate_limited",
		"unauthorized", "unavailable",
	}
	assert.Equal(t, want, got)
}

// TestOpenSetsAreOpen: no schema anywhere in the spec is a closed enum, except
// the one-value enums that pin each event variant's kind; every open set is a
// string with x-extensible-enum; and the oapi-codegen configs exclude exactly
// the open sets (internal/cmd/openenums writes them instead) and the event
// union that models/event.go writes by hand.
func TestOpenSetsAreOpen(t *testing.T) {
	doc := loadSpec(t)
	var open []string
	for name, ref := range doc.Components.Schemas {
		if _, ok := ref.Value.Extensions["x-extensible-enum"]; ok {
			open = append(open, name)
			assert.True(t, ref.Value.Type.Is(openapi3.TypeString), "%s: an open set is a string", name)
		}
	}
	sort.Strings(open)
	assert.Equal(t, []string{"AgentStatus", "DeclineReason", "DeliveryState", "ErrorCode", "EventKind",
		"FlagReason", "OrderState", "OwnerDecision", "SkillFileName"}, open)

	// Walk every schema reachable from the components and the operations.
	seen := map[*openapi3.Schema]bool{}
	var walk func(where string, ref *openapi3.SchemaRef)
	walk = func(where string, ref *openapi3.SchemaRef) {
		if ref == nil || ref.Value == nil || seen[ref.Value] {
			return
		}
		s := ref.Value
		seen[s] = true
		if len(s.Enum) > 0 {
			pin := strings.HasSuffix(where, ".kind") && len(s.Enum) == 1
			assert.True(t, pin, "%s is a closed enum %v: only an event variant's kind may be one", where, s.Enum)
		}
		for name, p := range s.Properties {
			walk(where+"."+name, p)
		}
		for i, sub := range append(append(append([]*openapi3.SchemaRef{}, s.AllOf...), s.OneOf...), s.AnyOf...) {
			walk(where+"/"+strconv.Itoa(i), sub)
		}
		walk(where+"[]", s.Items)
		if s.AdditionalProperties.Schema != nil {
			walk(where+"{}", s.AdditionalProperties.Schema)
		}
	}
	for name, ref := range doc.Components.Schemas {
		walk(name, ref)
	}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			for _, p := range op.Parameters {
				walk(method+" "+path+" "+p.Value.Name, p.Value.Schema)
			}
		}
	}

	config, err := os.ReadFile("models/oapi-codegen.yaml")
	require.NoError(t, err)
	var excluded []string
	for _, line := range strings.Split(string(config), "\n") {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "exclude-schemas:"); ok {
			for _, n := range strings.Split(strings.Trim(strings.TrimSpace(rest), "[]"), ",") {
				excluded = append(excluded, strings.TrimSpace(n))
			}
		}
	}
	// Besides the open sets, the event union is excluded: models/event.go
	// writes Event and UnknownEvent by hand (a sealed EventVariant, Value and
	// NewEvent), because the generated union decodes any variant from any
	// event without checking its kind.
	handWritten := []string{"Event", "UnknownEvent"}
	sort.Strings(excluded)
	want := append(slices.Clone(open), handWritten...)
	sort.Strings(want)
	assert.Equal(t, want, excluded, "models/oapi-codegen.yaml exclude-schemas must list exactly the open sets and the hand-written event union")
}

// TestEventUnion: the union Event matches exactly one branch for every event,
// known kind or not, when the discriminator is ignored (as spectral, Prism and
// libopenapi-validator do), and its known kinds agree everywhere they are
// written: EventKind, the variants' pins, the discriminator mapping and
// UnknownEvent's exclusions.
func TestEventUnion(t *testing.T) {
	doc := loadSpec(t)
	union := doc.Components.Schemas["Event"].Value
	kinds := openSet(t, doc, "EventKind")

	variantKind := map[string]string{}
	var unknownNot []string
	for _, branch := range union.OneOf {
		name := strings.TrimPrefix(branch.Ref, "#/components/schemas/")
		var pin, not []any
		for _, part := range branch.Value.AllOf {
			if k := part.Value.Properties["kind"]; k != nil {
				pin = k.Value.Enum
				if k.Value.Not != nil {
					not = k.Value.Not.Value.Enum
				}
			}
		}
		if name == "UnknownEvent" {
			require.Empty(t, pin)
			for _, v := range not {
				unknownNot = append(unknownNot, v.(string))
			}
			continue
		}
		require.Len(t, pin, 1, "%s must pin its kind to one value", name)
		variantKind[name] = pin[0].(string)
	}
	var pinned, mapped []string
	for name, k := range variantKind {
		pinned = append(pinned, k)
		assert.Equal(t, "#/components/schemas/"+name, union.Discriminator.Mapping[k].Ref, "the discriminator maps %s to %s", k, name)
	}
	for k := range union.Discriminator.Mapping {
		mapped = append(mapped, k)
	}
	for _, l := range [][]string{kinds, pinned, mapped, unknownNot} {
		sort.Strings(l)
	}
	assert.Equal(t, kinds, pinned, "EventKind and the variants' pinned kinds")
	assert.Equal(t, kinds, mapped, "EventKind and the discriminator mapping")
	assert.Equal(t, kinds, unknownNot, "EventKind and the kinds UnknownEvent excludes")

	header := `"id":"evt_1","created_at":"2026-11-28T09:00:00Z","order_id":"ord_1"`
	order := `"order":{"id":"ord_1","scope":"s","tier":"basic","price":{"amount":1,"currency":"points"},"deadline":"2026-12-01T09:00:00Z","brief":"b","revisions_allowed":0}`
	events := map[string]string{
		"NewOrderEvent":           `{"kind":"new_order",` + header + `,` + order + `}`,
		"RevisionRequestEvent":    `{"kind":"revision_request",` + header + `,"brief":"b","revision":1,"revisions_allowed":1}`,
		"OwnerApprovedOrderEvent": `{"kind":"owner_approved_order",` + header + `,"decision":"approved"}`,
		"OwnerDeniedOrderEvent":   `{"kind":"owner_denied_order",` + header + `,"decision":"denied"}`,
		"ScopeChangeEvent":        `{"kind":"scope_change",` + header + `}`,
		"UnknownEvent":            `{"kind":"order_rated",` + header + `,"stars":5}`,
	}
	// The spec's own examples of each variant and of the union.
	for _, branch := range append(union.OneOf, doc.Components.Schemas["Event"]) {
		if ex, err := json.Marshal(branch.Value.Example); err == nil && branch.Value.Example != nil {
			events[branch.Ref+" example"] = string(ex)
		}
	}
	for name, body := range events {
		t.Run(name, func(t *testing.T) {
			var v any
			require.NoError(t, json.Unmarshal([]byte(body), &v))
			var matched []string
			for _, branch := range union.OneOf {
				if branch.Value.VisitJSON(v) == nil {
					matched = append(matched, strings.TrimPrefix(branch.Ref, "#/components/schemas/"))
				}
			}
			require.Len(t, matched, 1, "%s matches %v", body, matched)
			if !strings.Contains(name, "example") {
				assert.Equal(t, name, matched[0])
			}
		})
	}
}

// TestGeneratorConfigsAgree keeps the type-shaping options identical in every
// oapi-codegen.yaml: two packages generated with different options would give
// the same schema two different Go shapes.
func TestGeneratorConfigsAgree(t *testing.T) {
	// Options that name or select what is generated, not how a type is shaped:
	// the overlay takes operations out of models, and names Go fields
	// (x-go-name), which only the package that generates the schemas reads.
	perPackage := map[string]bool{"response-type-suffix": true, "client-type-name": true, "overlay": true}
	var configs []string
	require.NoError(t, filepath.WalkDir(".", func(path string, d os.DirEntry, err error) error {
		if skip := skipTree(path, d); skip != nil {
			return skip
		}
		if err == nil && d.Name() == "oapi-codegen.yaml" {
			configs = append(configs, path)
		}
		return err
	}))
	require.GreaterOrEqual(t, len(configs), 2)

	shaping := func(path string) []string {
		b, err := os.ReadFile(path)
		require.NoError(t, err)
		var lines []string
		section := ""
		for _, line := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(strings.TrimSpace(line), "#") || strings.TrimSpace(line) == "" {
				continue
			}
			if !strings.HasPrefix(line, " ") {
				section = strings.TrimSuffix(strings.Fields(line)[0], ":")
				if strings.Contains(line, "embedded-spec") {
					t.Errorf("%s sets embedded-spec: models would import kin-openapi", path)
				}
				continue
			}
			key := strings.TrimSuffix(strings.Fields(line)[0], ":")
			if key == "embedded-spec" {
				t.Errorf("%s sets embedded-spec: models would import kin-openapi", path)
			}
			if (section == "compatibility" || section == "output-options") && !perPackage[key] {
				lines = append(lines, section+"."+strings.TrimSpace(line))
			}
		}
		return lines
	}
	want := shaping(configs[0])
	assert.Contains(t, want, "compatibility.always-prefix-enum-values: true")
	for _, c := range configs[1:] {
		assert.Equal(t, want, shaping(c), "%s and %s shape types differently", configs[0], c)
	}
}

// TestReferenceSpellings: every value the platform's reference spells is in
// its open set as the reference spells it (the decline reason is
// `out-of-scope`, with hyphens, not `out_of_scope`).
func TestReferenceSpellings(t *testing.T) {
	doc := loadSpec(t)
	spelled := map[string][]string{
		"DeclineReason": {"out-of-scope", "capacity"},
		"FlagReason":    {"illegal"},
		"AgentStatus":   {"active", "paused"},
		"OrderState":    {"flagged"},
		"EventKind":     {"new_order", "revision_request", "owner_approved_order", "owner_denied_order", "scope_change"},
		"ErrorCode":     {"bootstrap_unknown", "bootstrap_used", "bootstrap_expired", "active_key_exists", "key_expired", "key_revoked"},
		"SkillFileName": {"SKILL.md", "HEARTBEAT_EVENTS.md", "RULES.md", "API.md", "skill.json"},
	}
	for set, values := range spelled {
		known := openSet(t, doc, set)
		for _, v := range values {
			assert.Contains(t, known, v, "%s must spell %q as the reference does", set, v)
		}
	}
	assert.NotContains(t, openSet(t, doc, "DeclineReason"), "out_of_scope")
}
