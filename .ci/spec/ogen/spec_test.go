package ogencheck

import (
	"encoding/json"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/go-faster/yaml"
)

// specPath is the document ogen generated ./api from (see doc.go).
const specPath = "../../../openapi.yaml"

// node is a mapping of openapi.yaml, as YAML decodes it.
type node = map[string]any

// spec is openapi.yaml as plain values, for finding its examples.
type spec struct {
	t   *testing.T
	doc node
}

func loadSpec(t *testing.T) spec {
	t.Helper()
	b, err := os.ReadFile(specPath)
	if err != nil {
		t.Fatal(err)
	}
	var doc node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatalf("parse %s: %v", specPath, err)
	}
	return spec{t: t, doc: doc}
}

// get follows a local reference such as "#/components/schemas/Order".
func (s spec) get(ref string) node {
	s.t.Helper()
	if !strings.HasPrefix(ref, "#/") {
		s.t.Fatalf("%s: only local references are followed", ref)
	}
	var cur any = s.doc
	for _, tok := range strings.Split(ref[2:], "/") {
		tok = strings.NewReplacer("~1", "/", "~0", "~").Replace(tok)
		m, ok := cur.(node)
		if !ok {
			s.t.Fatalf("%s: %q is not in a mapping", ref, tok)
		}
		if cur, ok = m[tok]; !ok {
			s.t.Fatalf("%s: no %q", ref, tok)
		}
	}
	n, ok := cur.(node)
	if !ok {
		s.t.Fatalf("%s is not a mapping", ref)
	}
	return n
}

// deref returns the node a $ref names, or n itself.
func (s spec) deref(n node) node {
	s.t.Helper()
	for {
		ref, ok := n["$ref"].(string)
		if !ok {
			return n
		}
		n = s.get(ref)
	}
}

// example is one example value and where the spec holds it.
type example struct {
	where string
	value any
}

// examples returns the example and every examples/*/value of a media type,
// parameter or header object.
func (s spec) examples(n node, where string) []example {
	var out []example
	if v, ok := n["example"]; ok {
		out = append(out, example{where + "/example", v})
	}
	if exs, ok := n["examples"].(node); ok {
		for _, name := range sortedKeys(exs) {
			ex := s.deref(exs[name].(node))
			if v, ok := ex["value"]; ok {
				out = append(out, example{where + "/examples/" + name, v})
			}
		}
	}
	return out
}

// operation is one operation of the spec, its parameters resolved.
type operation struct {
	id, method, path string
	node             node
	params           []node
}

func (s spec) operations() []operation {
	var ops []operation
	paths := s.doc["paths"].(node)
	for _, path := range sortedKeys(paths) {
		item := paths[path].(node)
		for _, method := range []string{"get", "put", "post", "delete", "patch"} {
			op, ok := item[method].(node)
			if !ok {
				continue
			}
			o := operation{id: op["operationId"].(string), method: strings.ToUpper(method), path: path, node: op}
			for _, list := range []any{item["parameters"], op["parameters"]} {
				ps, _ := list.([]any)
				for _, p := range ps {
					o.params = append(o.params, s.deref(p.(node)))
				}
			}
			ops = append(ops, o)
		}
	}
	return ops
}

// paramExamples returns the first example of each parameter, by name.
func (s spec) paramExamples(op operation) map[string]string {
	s.t.Helper()
	out := map[string]string{}
	for _, p := range op.params {
		name := p["name"].(string)
		exs := s.examples(p, op.id+"/parameters/"+name)
		if len(exs) == 0 {
			s.t.Fatalf("%s: parameter %s has no example", op.id, name)
		}
		out[name] = exs[0].value.(string)
	}
	return out
}

func sortedKeys(m node) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// sameJSON reports whether two JSON texts hold the same value.
func sameJSON(t *testing.T, a, b []byte) bool {
	t.Helper()
	var va, vb any
	if err := json.Unmarshal(a, &va); err != nil {
		t.Fatalf("%s: %v", a, err)
	}
	if err := json.Unmarshal(b, &vb); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	return reflect.DeepEqual(va, vb)
}
