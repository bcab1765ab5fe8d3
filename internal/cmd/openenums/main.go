// Command openenums writes the open sets of openapi.yaml as Go types.
//
// The spec writes an open set (event kinds, error codes, reasons, states) as
// `type: string` with its known values in `x-extensible-enum`, because a
// closed `enum` makes strict generators (ogen, and every validator) refuse a
// value the platform adds later. oapi-codegen reads such a schema as a plain
// string; this command gives each one a named Go type, a constant per known
// value and Valid. A constant is named as oapi-codegen names enum constants
// (so the names did not change when the sets were opened): the type's name and
// the value's (Identifier), unless the schema lists x-enum-varnames, the
// oapi-codegen extension that names each value's tail instead
// (SkillFileNameSkillMD rather than SkillFileNameSkillMD). The oapi-codegen configs
// exclude these schemas (exclude-schemas), so the two outputs never overlap.
//
//	go run ../internal/cmd/openenums -spec ../openapi.yaml -out enums.gen.go -package models
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"go/format"
	"go/token"
	"os"
	"slices"
	"strings"
	"unicode"

	"github.com/getkin/kin-openapi/openapi3"
)

func main() {
	spec := flag.String("spec", "openapi.yaml", "the OpenAPI document to read")
	out := flag.String("out", "enums.gen.go", "the Go file to write")
	pkg := flag.String("package", "models", "the Go package of the file")
	flag.Parse()
	if err := run(*spec, *out, *pkg); err != nil {
		fmt.Fprintln(os.Stderr, "openenums:", err)
		os.Exit(1)
	}
}

func run(specPath, out, pkg string) error {
	b, err := os.ReadFile(specPath)
	if err != nil {
		return err
	}
	sets, err := Sets(b)
	if err != nil {
		return fmt.Errorf("%s: %w", specPath, err)
	}
	src, err := Render(pkg, sets)
	if err != nil {
		return err
	}
	return os.WriteFile(out, src, 0o644)
}

// Set is one open set of the spec: a component schema of type string with an
// x-extensible-enum.
type Set struct {
	Name        string   // the schema's name, which is also the Go type's
	Description string   // the schema's description
	Values      []string // the known values, in the spec's order
	Names       []string // x-enum-varnames: the constants' tails, one per value; nil: Identifier's
}

// constant is the name of the constant of the i-th value.
func (s Set) constant(i int) string {
	if s.Names != nil {
		return s.Name + s.Names[i]
	}
	return s.Name + Identifier(s.Values[i])
}

// Sets reads every open set of an OpenAPI document, sorted by name. It refuses
// a closed `enum` on a component string schema, so that a set cannot be closed
// again by mistake, and an x-extensible-enum that is not a list of distinct
// non-empty strings.
func Sets(spec []byte) ([]Set, error) {
	doc, err := openapi3.NewLoader().LoadFromData(spec)
	if err != nil {
		return nil, err
	}
	if err := doc.Validate(context.Background()); err != nil {
		return nil, err
	}
	var sets []Set
	var errs []error
	for name, ref := range doc.Components.Schemas {
		s := ref.Value
		if s == nil || !s.Type.Is(openapi3.TypeString) {
			continue
		}
		if len(s.Enum) > 0 {
			errs = append(errs, fmt.Errorf("components/schemas/%s is a closed enum: write its values as x-extensible-enum (every set of the platform is open)", name))
			continue
		}
		raw, ok := s.Extensions["x-extensible-enum"]
		if !ok {
			continue
		}
		list, ok := raw.([]any)
		if !ok || len(list) == 0 {
			errs = append(errs, fmt.Errorf("components/schemas/%s: x-extensible-enum must be a non-empty list of strings", name))
			continue
		}
		set := Set{Name: name, Description: strings.TrimSpace(s.Description)}
		for i, v := range list {
			str, ok := v.(string)
			if !ok || str == "" || slices.Contains(set.Values, str) {
				errs = append(errs, fmt.Errorf("components/schemas/%s: x-extensible-enum[%d] = %v: want a distinct non-empty string", name, i, v))
				continue
			}
			set.Values = append(set.Values, str)
		}
		if raw, ok := s.Extensions["x-enum-varnames"]; ok {
			names, err := varnames(raw, len(set.Values))
			if err != nil {
				errs = append(errs, fmt.Errorf("components/schemas/%s: x-enum-varnames: %w", name, err))
				continue
			}
			set.Names = names
		}
		sets = append(sets, set)
	}
	slices.SortFunc(sets, func(a, b Set) int { return strings.Compare(a.Name, b.Name) })
	return sets, errors.Join(errs...)
}

// varnames checks x-enum-varnames: one exported identifier tail per value.
func varnames(raw any, n int) ([]string, error) {
	list, ok := raw.([]any)
	if !ok || len(list) != n {
		return nil, fmt.Errorf("want a list of %d names, one per value of x-extensible-enum", n)
	}
	names := make([]string, n)
	for i, v := range list {
		str, _ := v.(string)
		if !token.IsIdentifier(str) || !token.IsExported(str) || slices.Contains(names, str) {
			return nil, fmt.Errorf("[%d] = %v: want a distinct identifier that starts with a capital", i, v)
		}
		names[i] = str
	}
	return names, nil
}

// Render writes the Go source of the sets, gofmt'ed.
func Render(pkg string, sets []Set) ([]byte, error) {
	var b bytes.Buffer
	fmt.Fprintf(&b, "// Code generated by internal/cmd/openenums from openapi.yaml. DO NOT EDIT.\n\npackage %s\n", pkg)
	for _, set := range sets {
		fmt.Fprintf(&b, "\n%s\n//\n// The set is open: a value the SDK does not know decodes without error and\n// keeps its string; [%s.Valid] tells the values below from the others.\ntype %s string\n",
			comment(set.Name, set.Description), set.Name, set.Name)
		fmt.Fprintf(&b, "\n// The values of [%s] this version of the SDK knows.\nconst (\n", set.Name)
		names := map[string]string{}
		for i, v := range set.Values {
			c := set.constant(i)
			if prev, dup := names[c]; dup {
				return nil, fmt.Errorf("%s: values %q and %q both name the constant %s", set.Name, prev, v, c)
			}
			names[c] = v
			fmt.Fprintf(&b, "\t%s %s = %q\n", c, set.Name, v)
		}
		fmt.Fprintf(&b, ")\n\n// Valid reports whether e is one of the values of [%s] this version of the\n// SDK knows. False is not an error: the platform may send a value added later.\nfunc (e %s) Valid() bool {\n\tswitch e {\n\tcase ", set.Name, set.Name)
		for i := range set.Values {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(set.constant(i))
		}
		b.WriteString(":\n\t\treturn true\n\t}\n\treturn false\n}\n")
	}
	return format.Source(b.Bytes())
}

// comment turns a schema description into a Go doc comment starting with the
// type's name.
func comment(name, desc string) string {
	if desc == "" {
		return "// " + name + " is an open set of the heepr API."
	}
	lines := strings.Split(desc, "\n")
	lines[0] = name + ": " + lines[0]
	for i, l := range lines {
		lines[i] = strings.TrimRight("// "+l, " ")
	}
	return strings.Join(lines, "\n")
}

// initialisms are written in capitals inside an identifier, as oapi-codegen's
// ToCamelCaseWithInitialisms does (with the SHA256 the configs add).
var initialisms = map[string]string{
	"acl": "ACL", "api": "API", "ascii": "ASCII", "cpu": "CPU", "css": "CSS", "dns": "DNS",
	"eof": "EOF", "guid": "GUID", "html": "HTML", "http": "HTTP", "https": "HTTPS", "id": "ID",
	"ip": "IP", "json": "JSON", "lhs": "LHS", "qps": "QPS", "ram": "RAM", "rhs": "RHS",
	"rpc": "RPC", "sla": "SLA", "smtp": "SMTP", "sql": "SQL", "ssh": "SSH", "tcp": "TCP",
	"tls": "TLS", "ttl": "TTL", "udp": "UDP", "ui": "UI", "uid": "UID", "uuid": "UUID",
	"uri": "URI", "url": "URL", "utf8": "UTF8", "vm": "VM", "xml": "XML", "xmpp": "XMPP",
	"xsrf": "XSRF", "xss": "XSS", "sha256": "SHA256",
}

// Identifier turns a wire value into the tail of a Go constant name: words
// split at anything that is not a letter or a digit, each word capitalised,
// initialisms in capitals ("skill.json" → "SkillJSON", "out-of-scope" →
// "OutOfScope", "API.md" → "APIMd"); x-enum-varnames names a set better.
func Identifier(v string) string {
	var b strings.Builder
	for _, w := range strings.FieldsFunc(v, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
		if up, ok := initialisms[strings.ToLower(w)]; ok {
			b.WriteString(up)
			continue
		}
		r := []rune(w)
		r[0] = unicode.ToUpper(r[0])
		b.WriteString(string(r))
	}
	s := b.String()
	if s == "" || !unicode.IsLetter([]rune(s)[0]) {
		s = "V" + s
	}
	return s
}
