// Command compattool writes the exported API of a module's packages as one
// line per declaration, sorted, so that a diff of two snapshots is a list of
// added and removed declarations. It reads syntax only (no type checking), so
// it needs nothing but the standard library and never the network.
//
// Usage:
//
//	go run . snapshot <module dir>    print one module's API
//	go run . check <repo> [-update|-release]    the gates; see gate.go
//
// Each line is "<dir>: <declaration>", where dir is the package's directory
// relative to the repository ("." for the root module's root package).
// Skipped: test files, internal/ and testdata/ trees, main packages, nested
// modules, and directories whose name starts with "." or "_" (as ./... skips
// them). Doc comments are not part of the API, so editing one never touches a
// snapshot.
package main

import (
	"bytes"
	"fmt"
	"go/ast"
	"go/build"
	"go/parser"
	"go/printer"
	"go/token"
	"io/fs"
	"os"
	pathpkg "path"
	"path/filepath"
	"sort"
	"strings"
)

func main() {
	args := os.Args[1:]
	switch {
	case len(args) == 2 && args[0] == "snapshot":
		lines, err := snapshot(args[1], ".")
		if err != nil {
			fmt.Fprintln(os.Stderr, "compattool:", err)
			os.Exit(1)
		}
		for _, l := range lines {
			fmt.Println(l)
		}
	case len(args) >= 2 && args[0] == "check":
		mode := ""
		if len(args) == 3 {
			mode = args[2]
		}
		os.Exit(check(args[1], mode))
	default:
		fmt.Fprintln(os.Stderr, "usage: compattool snapshot <module dir> | check <repo> [-update|-release]")
		os.Exit(2)
	}
}

// snapshot lists the API of the module in root; each line starts with the
// package's directory, relative to the repository: prefix (the module's own
// directory in it) joined with the package's place in the module.
func snapshot(root, prefix string) ([]string, error) {
	var out []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			return nil
		}
		name := d.Name()
		if path != root {
			if strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") || name == "testdata" || name == "internal" {
				return filepath.SkipDir
			}
			if _, err := os.Stat(filepath.Join(path, "go.mod")); err == nil {
				return filepath.SkipDir // a module of its own, with its own snapshot
			}
		}
		rel, _ := filepath.Rel(root, path)
		lines, err := pkgAPI(path, pathpkg.Join(prefix, filepath.ToSlash(rel)))
		if err != nil {
			return err
		}
		out = append(out, lines...)
		return nil
	})
	sort.Strings(out)
	return out, err
}

func pkgAPI(dir, rel string) ([]string, error) {
	bp, err := build.ImportDir(dir, 0)
	if err != nil {
		if _, ok := err.(*build.NoGoError); ok {
			return nil, nil
		}
		return nil, err
	}
	if bp.Name == "main" {
		return nil, nil
	}
	fset := token.NewFileSet()
	var lines []string
	add := func(s string) { lines = append(lines, rel+": "+s) }
	for _, f := range bp.GoFiles {
		file, err := parser.ParseFile(fset, filepath.Join(dir, f), nil, parser.SkipObjectResolution)
		if err != nil {
			return nil, err
		}
		for _, decl := range file.Decls {
			switch d := decl.(type) {
			case *ast.FuncDecl:
				if !d.Name.IsExported() {
					continue
				}
				if d.Recv != nil {
					if !ast.IsExported(recvName(d.Recv.List[0].Type)) {
						continue
					}
				}
				d.Body, d.Doc = nil, nil
				add(oneLine(fset, d))
			case *ast.GenDecl:
				for _, spec := range d.Specs {
					switch s := spec.(type) {
					case *ast.TypeSpec:
						if !s.Name.IsExported() {
							continue
						}
						prune(s.Type)
						s.Doc, s.Comment = nil, nil
						add("type " + oneLine(fset, s))
					case *ast.ValueSpec:
						for i, n := range s.Names {
							if !n.IsExported() {
								continue
							}
							line := d.Tok.String() + " " + n.Name
							if s.Type != nil {
								line += " " + oneLine(fset, s.Type)
							} else if d.Tok == token.CONST && i < len(s.Values) {
								// An untyped constant's value is what a caller compiles in.
								line += " = " + oneLine(fset, s.Values[i])
							}
							add(line)
						}
					}
				}
			}
		}
	}
	return lines, nil
}

// prune drops unexported struct fields and interface methods, which are not API
// (an interface with an unexported method still cannot be implemented outside,
// so that fact is kept as one marker).
func prune(e ast.Expr) {
	switch t := e.(type) {
	case *ast.StructType:
		t.Fields.List = keep(t.Fields.List, false)
	case *ast.InterfaceType:
		t.Methods.List = keep(t.Methods.List, true)
	}
}

func keep(fields []*ast.Field, iface bool) []*ast.Field {
	var kept []*ast.Field
	sealed := false
	for _, f := range fields {
		f.Doc, f.Comment = nil, nil
		if len(f.Names) == 0 { // embedded: exported if its type name is
			if ast.IsExported(recvName(f.Type)) {
				kept = append(kept, f)
			} else if iface {
				kept = append(kept, f) // a constraint or embedded interface
			}
			continue
		}
		var names []*ast.Ident
		for _, n := range f.Names {
			if n.IsExported() {
				names = append(names, n)
			} else if iface {
				sealed = true
			}
		}
		if len(names) > 0 {
			f.Names = names
			prune(f.Type)
			kept = append(kept, f)
		}
	}
	if sealed {
		kept = append(kept, &ast.Field{Names: []*ast.Ident{ast.NewIdent("unexported")}, Type: &ast.FuncType{Params: &ast.FieldList{}}})
	}
	return kept
}

func recvName(e ast.Expr) string {
	switch t := e.(type) {
	case *ast.StarExpr:
		return recvName(t.X)
	case *ast.IndexExpr:
		return recvName(t.X)
	case *ast.IndexListExpr:
		return recvName(t.X)
	case *ast.SelectorExpr:
		return t.Sel.Name
	case *ast.Ident:
		return t.Name
	}
	return ""
}

// oneLine prints a node and folds it onto one line, with single spaces.
func oneLine(fset *token.FileSet, n any) string {
	var b bytes.Buffer
	cfg := printer.Config{Mode: printer.RawFormat}
	if err := cfg.Fprint(&b, fset, n); err != nil {
		panic(err)
	}
	var parts []string
	for _, l := range strings.Split(b.String(), "\n") {
		if l = strings.Join(strings.Fields(l), " "); l != "" {
			parts = append(parts, l)
		}
	}
	s := strings.Join(parts, "; ")
	s = strings.ReplaceAll(s, "{; ", "{")
	s = strings.ReplaceAll(s, "; }", "}")
	s = strings.ReplaceAll(s, "(; ", "(")
	s = strings.ReplaceAll(s, ",; ", ", ")
	s = strings.ReplaceAll(s, "; )", ")")
	return s
}
