package heepr_test

import (
	"go/ast"
	"go/doc"
	"go/doc/comment"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// maybeLink is what a doc link looks like in text that go doc left plain:
// [Name], [Name.Method], [pkg.Name] or [pkg.Name.Method].
var maybeLink = regexp.MustCompile(`\[\*?[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*){0,2}\]`)

// TestDocLinksResolve: every doc link in every package of every module of the
// repository ([Name], [client.WithLogger], [herrors.APIError.Code]) names
// something go doc and pkg.go.dev can link to. go/doc's parser turns a link
// it can resolve (a name of the package, or of a package the file imports)
// into a DocLink; one it cannot stays text in brackets, which the reader sees
// as a broken promise of a link. Code blocks and link definitions are left
// alone.
func TestDocLinksResolve(t *testing.T) {
	var dirs []string
	seen := map[string]bool{}
	require.NoError(t, filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if skip := skipTree(path, d); skip != nil {
			return skip
		}
		if d.IsDir() && d.Name() == "testdata" {
			return filepath.SkipDir
		}
		if dir := filepath.Dir(path); !d.IsDir() && strings.HasSuffix(path, ".go") && !seen[dir] {
			seen[dir] = true
			dirs = append(dirs, dir)
		}
		return nil
	}))
	require.NotEmpty(t, dirs)

	links := 0
	for _, dir := range dirs {
		fset := token.NewFileSet()
		names, err := filepath.Glob(filepath.Join(dir, "*.go"))
		require.NoError(t, err)
		pkgs := map[string][]*ast.File{} // package name -> its files, tests left out
		for _, name := range names {
			if strings.HasSuffix(name, "_test.go") {
				continue
			}
			f, err := parser.ParseFile(fset, name, nil, parser.ParseComments)
			require.NoError(t, err, name)
			pkgs[f.Name.Name] = append(pkgs[f.Name.Name], f)
		}
		for _, files := range pkgs {
			dp, err := doc.NewFromFiles(fset, files, "example.com/"+filepath.ToSlash(dir))
			require.NoError(t, err, dir)
			check := func(where, text string) {
				for _, bad := range unresolved(dp.Parser().Parse(text), &links) {
					assert.Fail(t, "a doc link go doc cannot resolve",
						"%s: %s, in %s: name something the package declares or its file imports, or write it without brackets", dir, bad, where)
				}
			}
			check("the package doc", dp.Doc)
			for _, c := range dp.Consts {
				check("const "+strings.Join(c.Names, ", "), c.Doc)
			}
			for _, v := range dp.Vars {
				check("var "+strings.Join(v.Names, ", "), v.Doc)
			}
			for _, f := range dp.Funcs {
				check("func "+f.Name, f.Doc)
			}
			for _, ty := range dp.Types {
				check("type "+ty.Name, ty.Doc)
				for _, c := range ty.Consts {
					check("const "+strings.Join(c.Names, ", "), c.Doc)
				}
				for _, v := range ty.Vars {
					check("var "+strings.Join(v.Names, ", "), v.Doc)
				}
				for _, f := range ty.Funcs {
					check("func "+f.Name, f.Doc)
				}
				for _, m := range ty.Methods {
					check(ty.Name+"."+m.Name, m.Doc)
				}
			}
		}
	}
	assert.Greater(t, links, 50, "the walk found the doc links (a sanity check of the test)")
	t.Logf("%d doc links resolve, in %d directories", links, len(dirs))
}

// unresolved returns the bracketed names left as plain text in d, and counts
// the links that resolved into n.
func unresolved(d *comment.Doc, n *int) []string {
	var out []string
	var texts func([]comment.Text)
	texts = func(ts []comment.Text) {
		for _, t := range ts {
			switch t := t.(type) {
			case comment.Plain:
				out = append(out, maybeLink.FindAllString(string(t), -1)...)
			case comment.Italic:
				out = append(out, maybeLink.FindAllString(string(t), -1)...)
			case *comment.DocLink:
				*n++
			case *comment.Link:
				texts(t.Text)
			}
		}
	}
	var blocks func([]comment.Block)
	blocks = func(bs []comment.Block) {
		for _, b := range bs {
			switch b := b.(type) {
			case *comment.Paragraph:
				texts(b.Text)
			case *comment.Heading:
				texts(b.Text)
			case *comment.List:
				for _, it := range b.Items {
					blocks(it.Content)
				}
			}
		}
	}
	blocks(d.Content)
	return out
}
