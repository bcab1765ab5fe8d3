package heeprtest

import (
	"cmp"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

// agentPlaceholder stands for the agent's id in the rendered API.md until an
// agent is served it. It survives JSON encoding, and the spec does not write it.
const agentPlaceholder = "{{agent_id}}"

// apiDocFallback is API.md when the spec could not be loaded (every request
// then fails anyway, with the reason recorded as a Violation).
const apiDocFallback = "# API\n\nheeprtest could not load openapi.yaml; see its violations.\n"

// authScheme is how API.md writes a security scheme of the spec.
type authScheme struct {
	header string // the Authorization header, with the secret from the environment
	short  string // the scheme's name in the endpoint table
}

// authSchemes are the spec's two schemes, written as the platform's reference
// writes them.
func authSchemes() map[string]authScheme {
	return map[string]authScheme{
		"BearerAuth":    {header: "Authorization: " + schemeBearer + " $HEEPR_API_KEY", short: schemeBearer},
		"BootstrapAuth": {header: "Authorization: " + schemeBootstrap + " $HEEPR_BOOTSTRAP_TOKEN", short: schemeBootstrap},
	}
}

// renderAPIDoc writes API.md from the spec: every operation in the document's
// order with its method, path, auth, parameters, request body, answers and a
// curl line per example, then the error codes. The agent's id is left as
// agentPlaceholder, in per-agent paths and in examples' agent_id. Rendering at
// NewServer from the embedded spec means API.md never drifts from it.
func renderAPIDoc(doc *openapi3.T) string {
	if doc == nil || doc.Paths == nil {
		return apiDocFallback
	}
	base := "https://heepr.ai/api"
	if len(doc.Servers) > 0 {
		base = doc.Servers[0].URL
	}
	ops := operations(doc)

	var b strings.Builder
	title, version := "heepr agent API", ""
	if doc.Info != nil {
		title, version = doc.Info.Title, doc.Info.Version
	}
	fmt.Fprintf(&b, "# API.md: the %s for agent %s\n\n", title, agentPlaceholder)
	fmt.Fprintf(&b, "The REST reference for every endpoint this agent calls, written from the platform's OpenAPI\n")
	fmt.Fprintf(&b, "document (version %s). Paths are relative to the base URL, %s. The curl lines\n", version, base)
	b.WriteString("read the base URL and your secrets from the environment:\n\n")
	fmt.Fprintf(&b, "```sh\nexport HEEPR_BASE_URL=%s\nexport HEEPR_BOOTSTRAP_TOKEN=bs_...   # from the Skill Setup; POST /agent/register only\nexport HEEPR_API_KEY=sk_live_...      # what POST /agent/register answered; keep it secret\n```\n\n", base)

	b.WriteString("## Auth\n\n| Scheme | Header | Used by |\n|---|---|---|\n")
	for _, name := range sortedKeys(doc.Components.SecuritySchemes) {
		as, ok := authSchemes()[name]
		if !ok {
			as = authScheme{header: "see below", short: name}
		}
		var users []string
		for _, op := range ops {
			if slices.Contains(op.auth, name) {
				users = append(users, op.method+" "+op.path)
			}
		}
		fmt.Fprintf(&b, "| %s | `%s` | %s |\n", as.short, as.header, cell(strings.Join(users, ", ")))
	}
	b.WriteString("\n")
	for _, name := range sortedKeys(doc.Components.SecuritySchemes) {
		if ss := doc.Components.SecuritySchemes[name].Value; ss != nil && ss.Description != "" {
			fmt.Fprintf(&b, "- %s: %s\n", authSchemes()[name].short, oneLine(ss.Description))
		}
	}
	b.WriteString("\nEvery answer that is not a 2xx is the error envelope, " +
		"`{\"error\": {\"code\": \"…\", \"message\": \"…\", \"request_id\": \"…\"}}`; " +
		"the codes are listed at the end.\n\n")

	b.WriteString("## Endpoints\n\n| Method | Path | Auth | Purpose |\n|---|---|---|---|\n")
	for _, op := range ops {
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", op.method, op.path, op.authShort(), cell(op.op.Summary))
	}
	for _, op := range ops {
		b.WriteString("\n")
		op.render(&b)
	}

	b.WriteString("\n## Error codes\n\n| Code | Status | Meaning |\n|---|---|---|\n")
	for _, c := range specCodes(doc) {
		status, meaning := "—", "A code this version of the fake does not describe."
		if i := slices.IndexFunc(errorCodes(), func(ci codeInfo) bool { return string(ci.code) == c }); i >= 0 {
			ci := errorCodes()[i]
			var ss []string
			for _, s := range statusesOf(ci.code) {
				ss = append(ss, strconv.Itoa(s))
			}
			status, meaning = strings.Join(ss, ", "), ci.meaning
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s |\n", c, status, cell(meaning))
	}
	b.WriteString("\nA code not listed here may come later: read the status and the message.\n")
	return b.String()
}

// specCodes is the spec's ErrorCode set, in its order.
func specCodes(doc *openapi3.T) []string {
	ref := doc.Components.Schemas["ErrorCode"]
	if ref == nil || ref.Value == nil {
		return nil
	}
	return enumOf(ref.Value)
}

// enumOf returns a schema's known values: its x-extensible-enum or its enum.
func enumOf(s *openapi3.Schema) []string {
	var out []string
	list, _ := s.Extensions["x-extensible-enum"].([]any)
	if len(list) == 0 {
		list = s.Enum
	}
	for _, v := range list {
		out = append(out, fmt.Sprint(v))
	}
	return out
}

// apiOp is one operation, with its path as this agent writes it.
type apiOp struct {
	method, path string // path with the agent's id filled in
	op           *openapi3.Operation
	auth         []string // the names of its security schemes
	line         int      // where the spec writes its path, for the order
}

// operations lists the spec's operations in the document's order.
func operations(doc *openapi3.T) []apiOp {
	var ops []apiOp
	for path, item := range doc.Paths.Map() {
		line := 0
		if item.Origin != nil && item.Origin.Key != nil {
			line = item.Origin.Key.Line
		}
		for method, op := range item.Operations() {
			sec := doc.Security
			if op.Security != nil {
				sec = *op.Security
			}
			var auth []string
			for _, req := range sec {
				auth = append(auth, sortedKeys(req)...)
			}
			ops = append(ops, apiOp{method: method, path: fillAgent(path), op: op, auth: auth, line: line})
		}
	}
	slices.SortFunc(ops, func(a, b apiOp) int {
		return cmp.Or(cmp.Compare(a.line, b.line), cmp.Compare(a.path, b.path), cmp.Compare(methodRank(a.method), methodRank(b.method)))
	})
	return ops
}

func methodRank(m string) int {
	return slices.Index([]string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete}, m)
}

// fillAgent writes the agent's id for an {id} that follows /agents/.
func fillAgent(path string) string {
	segs := strings.Split(path, "/")
	for i := 1; i < len(segs); i++ {
		if segs[i-1] == "agents" && strings.HasPrefix(segs[i], "{") {
			segs[i] = agentPlaceholder
		}
	}
	return strings.Join(segs, "/")
}

func (o apiOp) authShort() string {
	var names []string
	for _, a := range o.auth {
		if as, ok := authSchemes()[a]; ok {
			names = append(names, as.short)
		} else {
			names = append(names, a)
		}
	}
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, " or ")
}

// render writes the operation's section.
func (o apiOp) render(b *strings.Builder) {
	op := o.op
	fmt.Fprintf(b, "### %s %s\n\n%s\n\n", o.method, o.path, op.Summary)
	if d := strings.TrimSpace(op.Description); d != "" {
		b.WriteString(d + "\n\n")
	}
	b.WriteString("Auth: ")
	if len(o.auth) == 0 {
		b.WriteString("none.\n\n")
	} else {
		var hs []string
		for _, a := range o.auth {
			hs = append(hs, "`"+authSchemes()[a].header+"`")
		}
		b.WriteString(strings.Join(hs, " or ") + ".\n\n")
	}

	var params []string
	for _, ref := range op.Parameters {
		p := ref.Value
		if p == nil || (p.In == openapi3.ParameterInPath && o.isAgentParam(p.Name)) {
			continue
		}
		req := "optional"
		if p.Required {
			req = "required"
		}
		desc := oneLine(p.Description)
		if p.Schema != nil && p.Schema.Value != nil {
			if vals := enumOf(p.Schema.Value); len(vals) > 0 {
				desc += " One of " + codeList(vals) + "."
			}
		}
		params = append(params, fmt.Sprintf("- `%s` (%s, %s): %s", p.Name, p.In, req, desc))
	}
	if len(params) > 0 {
		b.WriteString("Parameters:\n\n" + strings.Join(params, "\n") + "\n\n")
	}

	if rb := op.RequestBody; rb != nil && rb.Value != nil {
		for _, mt := range sortedKeys(rb.Value.Content) {
			media := rb.Value.Content[mt]
			fmt.Fprintf(b, "Request body, `%s`", mt)
			if media.Schema != nil && media.Schema.Ref != "" {
				fmt.Fprintf(b, " (%s)", refName(media.Schema.Ref))
			}
			b.WriteString(":\n\n| Field | Type | Required | Description |\n|---|---|---|---|\n")
			if media.Schema != nil {
				fieldRows(b, "", media.Schema, 0)
			}
			b.WriteString("\n")
		}
	}

	b.WriteString("Answers:\n\n| Status | Meaning | Body |\n|---|---|---|\n")
	codes := sortedKeys(op.Responses.Map())
	slices.SortFunc(codes, func(a, b string) int { return cmp.Compare(statusRank(a), statusRank(b)) })
	var examples []string
	for _, code := range codes {
		ref := op.Responses.Value(code)
		if ref == nil || ref.Value == nil {
			continue
		}
		desc := ""
		if ref.Value.Description != nil {
			desc = oneLine(*ref.Value.Description)
		}
		fmt.Fprintf(b, "| %s | %s | %s |\n", code, cell(desc), cell(bodyOf(ref.Value)))
		if strings.HasPrefix(code, "2") {
			for _, mt := range sortedKeys(ref.Value.Content) {
				for _, ex := range examplesOf(ref.Value.Content[mt]) {
					if j, err := marshal(personalize(ex.value), "  "); err == nil && mt == "application/json" {
						examples = append(examples, fmt.Sprintf("%s%s:\n\n```json\n%s\n```", code, ex.label(), j))
					}
				}
			}
		}
	}
	b.WriteString("\n")
	for _, ex := range examples {
		b.WriteString("Example answer " + ex + "\n\n")
	}

	b.WriteString("```sh\n")
	for i, c := range o.curls() {
		if i > 0 {
			b.WriteString("\n")
		}
		b.WriteString(c)
	}
	b.WriteString("```\n")
}

// isAgentParam reports whether the path parameter is the agent's id, filled in.
func (o apiOp) isAgentParam(name string) bool {
	return strings.Contains(o.path, "/agents/"+agentPlaceholder) && name == "id"
}

// curls writes one curl line per example of the request body (one for an
// operation without a body).
func (o apiOp) curls() []string {
	url := o.path
	segs := strings.Split(url, "/")
	for i := range segs {
		name, ok := strings.CutPrefix(segs[i], "{")
		if !ok || segs[i] == agentPlaceholder {
			continue
		}
		name = strings.TrimSuffix(name, "}")
		segs[i] = o.paramValue(name, segs[i-1])
	}
	url = strings.Join(segs, "/")

	head := "curl -sS"
	if o.method != http.MethodGet {
		head += " -X " + o.method
	}
	head += ` "$HEEPR_BASE_URL` + url + `"`
	for _, a := range o.auth {
		if as, ok := authSchemes()[a]; ok {
			head += " \\\n  -H \"" + as.header + "\""
		}
	}
	rb := o.op.RequestBody
	if rb == nil || rb.Value == nil {
		return []string{head + "\n"}
	}
	var out []string
	for _, mt := range sortedKeys(rb.Value.Content) {
		media := rb.Value.Content[mt]
		for _, ex := range examplesOf(media) {
			var c strings.Builder
			if ex.summary != "" {
				c.WriteString("# " + ex.summary + "\n")
			}
			c.WriteString(head)
			switch mt {
			case "application/json":
				j, err := marshal(personalize(ex.value), "")
				if err != nil {
					continue
				}
				c.WriteString(" \\\n  -H \"Content-Type: application/json\" \\\n  -d " + shellQuote(string(j)))
			case "multipart/form-data":
				c.WriteString(formFields(media, ex.value))
			}
			out = append(out, c.String()+"\n")
		}
	}
	if len(out) == 0 {
		out = append(out, head+"\n")
	}
	return out
}

// paramValue is what a curl line puts for a path parameter: the agent's id,
// a shell variable for another resource's id ($ORDER_ID after /orders/), or
// the parameter's example.
func (o apiOp) paramValue(name, prev string) string {
	if name == "id" {
		return "$" + strings.ToUpper(strings.TrimSuffix(prev, "s")) + "_ID"
	}
	for _, ref := range o.op.Parameters {
		if p := ref.Value; p != nil && p.Name == name && p.Example != nil {
			return fmt.Sprint(p.Example)
		}
	}
	return "$" + strings.ToUpper(name)
}

// formFields writes the -F options of a multipart example: a part with an
// encoding's content type as JSON of that type, a binary part as a file.
func formFields(media *openapi3.MediaType, example any) string {
	var b strings.Builder
	ex, _ := example.(map[string]any)
	var props openapi3.Schemas
	if media.Schema != nil && media.Schema.Value != nil {
		props = media.Schema.Value.Properties
	}
	for _, name := range inDocumentOrder(props) {
		s := props[name].Value
		if s == nil {
			continue
		}
		if s.Type.Is("array") && s.Items != nil && s.Items.Value != nil && s.Items.Value.Format == "binary" || s.Format == "binary" {
			fmt.Fprintf(&b, " \\\n  -F %s", shellQuote(name+"=@./deliverable.pdf"))
			continue
		}
		v, ok := ex[name]
		if !ok {
			continue
		}
		j, err := marshal(v, "")
		if err != nil {
			continue
		}
		part := name + "=" + j
		if enc := media.Encoding[name]; enc != nil && enc.ContentType != "" {
			part += ";type=" + enc.ContentType
		}
		fmt.Fprintf(&b, " \\\n  -F %s", shellQuote(part))
	}
	return b.String()
}

// example is one example of a media type.
type example struct {
	summary string
	value   any
}

func (e example) label() string {
	if e.summary == "" {
		return ""
	}
	return " (" + strings.TrimSuffix(e.summary, ".") + ")"
}

// examplesOf returns a media type's examples: its example, else its named
// examples by name, else its schema's example.
func examplesOf(m *openapi3.MediaType) []example {
	if m == nil {
		return nil
	}
	if m.Example != nil {
		return []example{{value: m.Example}}
	}
	var out []example
	for _, name := range sortedKeys(m.Examples) {
		if ex := m.Examples[name].Value; ex != nil {
			out = append(out, example{summary: ex.Summary, value: ex.Value})
		}
	}
	if len(out) == 0 && m.Schema != nil && m.Schema.Value != nil && m.Schema.Value.Example != nil {
		out = append(out, example{value: m.Schema.Value.Example})
	}
	return out
}

// personalize returns a copy of an example with every agent_id set to the
// agent's.
func personalize(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, x := range v {
			if k == "agent_id" {
				if _, ok := x.(string); ok {
					out[k] = agentPlaceholder
					continue
				}
			}
			out[k] = personalize(x)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = personalize(x)
		}
		return out
	}
	return v
}

// fieldRows writes a table row per property of an object schema, and the
// rows of an object property's own properties under its dotted name, two
// levels deep.
func fieldRows(b *strings.Builder, prefix string, ref *openapi3.SchemaRef, depth int) {
	s := resolve(ref)
	if s == nil || depth > 2 {
		return
	}
	for _, name := range inDocumentOrder(s.Properties) {
		p := s.Properties[name]
		ps := resolve(p)
		if ps == nil {
			continue
		}
		req := "no"
		if slices.Contains(s.Required, name) {
			req = "yes"
		}
		desc := oneLine(cmp.Or(p.Value.Description, ps.Description))
		if vals := enumOf(ps); len(vals) > 0 {
			desc += " One of " + codeList(vals) + "."
		}
		fmt.Fprintf(b, "| `%s%s` | %s | %s | %s |\n", prefix, name, cell(typeOf(p)), req, cell(desc))
		if ps.Type.Is("object") && len(ps.Properties) > 0 {
			fieldRows(b, prefix+name+".", p, depth+1)
		}
	}
}

// resolve returns the schema a reference stands for, through a lone allOf.
func resolve(ref *openapi3.SchemaRef) *openapi3.Schema {
	if ref == nil || ref.Value == nil {
		return nil
	}
	s := ref.Value
	if len(s.AllOf) == 1 && len(s.Properties) == 0 && s.AllOf[0].Value != nil {
		return s.AllOf[0].Value
	}
	return s
}

// typeOf names a property's type: a component's name, or the JSON type.
func typeOf(ref *openapi3.SchemaRef) string {
	if ref.Ref != "" {
		return refName(ref.Ref)
	}
	s := ref.Value
	if len(s.AllOf) == 1 && s.AllOf[0].Ref != "" {
		return refName(s.AllOf[0].Ref)
	}
	t := strings.Join(s.Type.Slice(), " or ")
	switch {
	case s.Type.Is("array") && s.Items != nil:
		return "array of " + typeOf(s.Items)
	case s.Format != "":
		return t + " (" + s.Format + ")"
	}
	return t
}

// bodyOf names what an answer's body is.
func bodyOf(r *openapi3.Response) string {
	var out []string
	for _, mt := range sortedKeys(r.Content) {
		m := r.Content[mt]
		name := mt
		switch {
		case m.Schema != nil && m.Schema.Ref == "#/components/schemas/ErrorEnvelope":
			name = "the error envelope"
		case m.Schema != nil && m.Schema.Ref != "":
			name = refName(m.Schema.Ref) + " (`" + mt + "`)"
		default:
			name = "`" + mt + "`"
		}
		out = append(out, name)
	}
	if len(out) == 0 {
		return "none"
	}
	return strings.Join(out, " or ")
}

func refName(ref string) string { return ref[strings.LastIndex(ref, "/")+1:] }

// inDocumentOrder returns the names of properties in the order the spec
// writes them (by name where it cannot tell).
func inDocumentOrder(props openapi3.Schemas) []string {
	names := sortedKeys(props)
	slices.SortStableFunc(names, func(a, c string) int {
		return cmp.Compare(originLine(props[a]), originLine(props[c]))
	})
	return names
}

// marshal writes v as JSON, indented by indent when it is not "", leaving
// <, > and & as they are: the reader is a person or a shell, not a browser.
func marshal(v any, indent string) (string, error) {
	var buf strings.Builder
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if indent != "" {
		enc.SetIndent("", indent)
	}
	if err := enc.Encode(v); err != nil {
		return "", err
	}
	return strings.TrimSuffix(buf.String(), "\n"), nil
}

func originLine(ref *openapi3.SchemaRef) int {
	if ref != nil && ref.Value != nil && ref.Value.Origin != nil && ref.Value.Origin.Key != nil {
		return ref.Value.Origin.Key.Line
	}
	return 0
}

// statusRank orders answers: 2xx first, by number, default last.
func statusRank(code string) int {
	n, err := strconv.Atoi(code)
	if err != nil {
		return 1000
	}
	return n
}

func codeList(vals []string) string {
	q := make([]string, len(vals))
	for i, v := range vals {
		q[i] = "`" + v + "`"
	}
	return strings.Join(q, ", ")
}

// oneLine joins a description's lines, for a table cell or a list item.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// cell makes text safe in a Markdown table cell.
func cell(s string) string { return strings.ReplaceAll(oneLine(s), "|", `\|`) }

// shellQuote single-quotes s for a POSIX shell.
func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

func sortedKeys[M ~map[string]V, V any](m M) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
