// Command qualify makes a file oapi-codegen generated beside package models
// (the raw client, the server) name the schemas as models.X.
//
// oapi-codegen resolves every $ref of one spec file to the package it is
// generating: import-mapping only maps other files, and additional-imports
// with an alias other than "." does not build. So client/raw and server are
// generated with `generate: models: true` next to their client or server:
// they get the operation plumbing (…Params, …JSONRequestBody, the aliases of
// components/responses and components/parameters, the multipart body), and a
// second copy of every schema. This command then, on the generated file:
//
//  1. drops every declaration whose name package models declares (its types,
//     their methods, constants, functions): models holds the one copy;
//  2. writes every exported identifier the file uses but does not declare as
//     models.X (after step 1 those are exactly the schemas: the file imports
//     no other package by dot and Go's predeclared names are lower case);
//  3. imports models by name, and drops the imports nothing uses any more.
//
// It reads package models from its Go files, so models must be generated
// first: generate.go at the module root runs the whole pipeline in order. The
// output is gofmt'ed and the same for the same input; it refuses a file that
// declares an identifier named models, or uses an exported name that is
// neither its own nor models'.
//
//	go run ./internal/cmd/qualify -models models -file client/raw/raw.gen.go
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"go/ast"
	"go/format"
	"go/parser"
	"go/token"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// modelsPath is the import path the rewritten file imports models by.
const modelsPath = "github.com/heepr/heepr-go/models"

func main() {
	models := flag.String("models", "models", "the directory of package models")
	file := flag.String("file", "", "the generated Go file to rewrite in place")
	flag.Parse()
	if err := run(*models, *file); err != nil {
		fmt.Fprintln(os.Stderr, "qualify:", err)
		os.Exit(1)
	}
}

func run(modelsDir, file string) error {
	names, err := Exported(modelsDir)
	if err != nil {
		return err
	}
	src, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	out, err := Qualify(src, names)
	if err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	return os.WriteFile(file, out, 0o644)
}

// Exported returns the exported package-level names declared by the Go files
// of dir, its tests left out.
func Exported(dir string) (map[string]bool, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		return nil, err
	}
	fset := token.NewFileSet()
	names := map[string]bool{}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		af, err := parser.ParseFile(fset, f, nil, parser.SkipObjectResolution)
		if err != nil {
			return nil, err
		}
		for _, d := range af.Decls {
			for _, n := range declNames(d) {
				if ast.IsExported(n) {
					names[n] = true
				}
			}
		}
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("%s declares no exported name: generate models first", dir)
	}
	return names, nil
}

// declNames lists the package-level names a declaration binds; a method
// binds none.
func declNames(d ast.Decl) []string {
	var out []string
	switch d := d.(type) {
	case *ast.FuncDecl:
		if d.Recv == nil {
			out = append(out, d.Name.Name)
		}
	case *ast.GenDecl:
		for _, s := range d.Specs {
			switch s := s.(type) {
			case *ast.TypeSpec:
				out = append(out, s.Name.Name)
			case *ast.ValueSpec:
				for _, n := range s.Names {
					out = append(out, n.Name)
				}
			}
		}
	}
	return out
}

// Qualify rewrites src as the package comment describes, given the exported
// names of package models.
func Qualify(src []byte, models map[string]bool) ([]byte, error) {
	src, err := dropDeclared(src, models)
	if err != nil {
		return nil, err
	}
	src, err = qualifyUses(src, models)
	if err != nil {
		return nil, err
	}
	return dropUnusedImports(src)
}

// edit replaces src[from:to] with text.
type edit struct {
	from, to int
	text     string
}

func apply(src []byte, edits []edit) []byte {
	slices.SortFunc(edits, func(a, b edit) int { return a.from - b.from })
	var b bytes.Buffer
	at := 0
	for _, e := range edits {
		if e.from < at {
			continue // nested in a range already dropped
		}
		b.Write(src[at:e.from])
		b.WriteString(e.text)
		at = e.to
	}
	b.Write(src[at:])
	return b.Bytes()
}

// span is the byte range of a node with its doc comment.
func span(fset *token.FileSet, doc *ast.CommentGroup, n ast.Node) (int, int) {
	from := n.Pos()
	if doc != nil {
		from = doc.Pos()
	}
	return fset.Position(from).Offset, fset.Position(n.End()).Offset
}

// dropDeclared removes the declarations of names models declares, and the
// methods of those types.
func dropDeclared(src []byte, models map[string]bool) ([]byte, error) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "", src, parser.ParseComments|parser.SkipObjectResolution)
	if err != nil {
		return nil, err
	}
	var edits []edit
	for _, d := range f.Decls {
		switch d := d.(type) {
		case *ast.FuncDecl:
			if (d.Recv == nil && models[d.Name.Name]) || (d.Recv != nil && models[recvType(d)]) {
				from, to := span(fset, d.Doc, d)
				edits = append(edits, edit{from, to, ""})
			}
		case *ast.GenDecl:
			var drop []ast.Spec
			for _, s := range d.Specs {
				if slices.ContainsFunc(declNames(&ast.GenDecl{Specs: []ast.Spec{s}}), func(n string) bool { return models[n] }) {
					drop = append(drop, s)
				}
			}
			if len(drop) == 0 {
				continue
			}
			if len(drop) == len(d.Specs) {
				from, to := span(fset, d.Doc, d)
				edits = append(edits, edit{from, to, ""})
				continue
			}
			for _, s := range drop {
				var doc *ast.CommentGroup
				switch s := s.(type) {
				case *ast.TypeSpec:
					doc = s.Doc
				case *ast.ValueSpec:
					doc = s.Doc
				}
				from, to := span(fset, doc, s)
				edits = append(edits, edit{from, to, ""})
			}
		}
	}
	return apply(src, edits), nil
}

// recvType is the name of a method's receiver type.
func recvType(d *ast.FuncDecl) string {
	t := d.Recv.List[0].Type
	if s, ok := t.(*ast.StarExpr); ok {
		t = s.X
	}
	switch t := t.(type) {
	case *ast.Ident:
		return t.Name
	case *ast.IndexExpr:
		if id, ok := t.X.(*ast.Ident); ok {
			return id.Name
		}
	}
	return ""
}

// qualifyUses writes models.X for every exported identifier the file uses but
// does not declare, and imports models by name in place of any dot import.
func qualifyUses(src []byte, models map[string]bool) ([]byte, error) {
	fset := token.NewFileSet()
	// Object resolution on: an identifier the file does not declare is left in
	// f.Unresolved; field names, selectors and composite-literal keys are not.
	f, err := parser.ParseFile(fset, "", src, parser.ParseComments)
	if err != nil {
		return nil, err
	}
	var errs []error
	ast.Inspect(f, func(n ast.Node) bool {
		if id, ok := n.(*ast.Ident); ok && id.Name == "models" && id.Obj != nil {
			errs = append(errs, fmt.Errorf("%s: declares %q, which would hide the import of package models", fset.Position(id.Pos()), id.Name))
		}
		return true
	})
	var edits []edit
	for _, id := range f.Unresolved {
		if !ast.IsExported(id.Name) {
			continue
		}
		if !models[id.Name] {
			errs = append(errs, fmt.Errorf("%s: %s is declared neither here nor in package models", fset.Position(id.Pos()), id.Name))
			continue
		}
		off := fset.Position(id.Pos()).Offset
		edits = append(edits, edit{off, off, "models."})
	}
	imported := false
	for _, im := range f.Imports {
		p, _ := strconv.Unquote(im.Path.Value)
		if p != modelsPath {
			continue
		}
		if im.Name != nil {
			from, to := span(fset, nil, im)
			edits = append(edits, edit{from, to, strconv.Quote(modelsPath)})
		}
		imported = true
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if !imported && len(f.Unresolved) > 0 && len(edits) > 0 {
		if len(f.Imports) == 0 {
			return nil, errors.New("the file imports nothing: there is no import block to add models to")
		}
		// Into the first group of non-standard imports, where gofmt sorts it.
		at := f.Imports[len(f.Imports)-1]
		text := "\n" + strconv.Quote(modelsPath)
		for _, im := range f.Imports {
			if p, _ := strconv.Unquote(im.Path.Value); strings.Contains(strings.Split(p, "/")[0], ".") {
				at, text = im, strconv.Quote(modelsPath)+"\n"
				break
			}
		}
		off := fset.Position(at.Pos()).Offset
		if text[0] == '\n' {
			off = fset.Position(at.End()).Offset
		}
		edits = append(edits, edit{off, off, text})
	}
	return apply(src, edits), nil
}

// dropUnusedImports removes the imports no selector uses any more (dropping
// the schemas takes away, say, the last use of time), then gofmts.
func dropUnusedImports(src []byte) ([]byte, error) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "", src, parser.ParseComments|parser.SkipObjectResolution)
	if err != nil {
		return nil, err
	}
	used := map[string]bool{}
	ast.Inspect(f, func(n ast.Node) bool {
		if s, ok := n.(*ast.SelectorExpr); ok {
			if id, ok := s.X.(*ast.Ident); ok {
				used[id.Name] = true
			}
		}
		return true
	})
	var edits []edit
	for _, im := range f.Imports {
		p, _ := strconv.Unquote(im.Path.Value)
		name := importName(p)
		if im.Name != nil {
			name = im.Name.Name
		}
		if name == "_" || name == "." || used[name] {
			continue
		}
		from, to := span(fset, im.Doc, im)
		if to < len(src) && src[to] == '\n' {
			to++ // the line too, or gofmt keeps it as a blank one inside the group
		}
		edits = append(edits, edit{from, to, ""})
	}
	out, err := format.Source(apply(src, edits))
	if err != nil {
		return nil, fmt.Errorf("the rewritten file does not parse: %w", err)
	}
	return out, nil
}

// importName is the package name an import path gets by default: its last
// element, or the one before a major-version suffix (yaml/v3 → yaml).
func importName(p string) string {
	base := path.Base(p)
	if len(base) > 1 && base[0] == 'v' && strings.Trim(base[1:], "0123456789") == "" {
		base = path.Base(path.Dir(p))
	}
	return strings.ReplaceAll(base, "-", "_")
}
