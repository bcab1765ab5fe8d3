package heepr_test

import (
	"go/ast"
	"go/doc"
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/heepr/heepr-go/client/raw"
	"github.com/heepr/heepr-go/server"
)

// parseDir parses the Go files of a package directory, its tests left out.
func parseDir(t *testing.T, dir string) (*token.FileSet, map[string]*ast.File) {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(dir, "*.go"))
	require.NoError(t, err)
	fset := token.NewFileSet()
	files := map[string]*ast.File{}
	for _, p := range paths {
		if strings.HasSuffix(p, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, p, nil, parser.ParseComments|parser.SkipObjectResolution)
		require.NoError(t, err)
		files[filepath.Base(p)] = f
	}
	require.NotEmpty(t, files, dir)
	return fset, files
}

// TestGeneratedImportModelsByName: the generated client and server name the
// schemas as models.X (internal/cmd/qualify), so a reader and an editor see
// where each type comes from; no generated file dot-imports anything.
func TestGeneratedImportModelsByName(t *testing.T) {
	for _, file := range []string{"client/raw/raw.gen.go", "server/server.gen.go"} {
		t.Run(file, func(t *testing.T) {
			f, err := parser.ParseFile(token.NewFileSet(), file, nil, parser.ImportsOnly)
			require.NoError(t, err)
			byName := false
			for _, im := range f.Imports {
				p, _ := strconv.Unquote(im.Path.Value)
				if im.Name != nil {
					assert.NotEqual(t, ".", im.Name.Name, "%s dot-imports %s", file, p)
				}
				if p == "github.com/heepr/heepr-go/models" {
					assert.Nil(t, im.Name, "models imported under its own name")
					byName = true
				}
			}
			assert.True(t, byName, "%s imports models", file)
		})
	}
}

// TestModelsHoldsNoOperationPlumbing: models holds the schemas an agent author
// reads; the operations' parameters, request bodies and the aliases of
// components/responses and components/parameters are generated beside the raw
// client and the server (models/oapi-codegen.overlay.yaml).
func TestModelsHoldsNoOperationPlumbing(t *testing.T) {
	spec := loadSpec(t)
	plumbing := map[string]bool{"DeliveryUpload": true}
	for name := range spec.Components.Responses {
		plumbing[name] = true
	}
	for name := range spec.Components.Parameters {
		plumbing[name] = true
	}
	_, files := parseDir(t, "models")
	var declared []string
	for name, f := range files {
		for _, im := range f.Imports {
			assert.NotEqual(t, `"github.com/oapi-codegen/runtime/types"`, im.Path.Value,
				"%s imports openapi_types: a multipart body is not a wire type", name)
		}
		for _, d := range f.Decls {
			if g, ok := d.(*ast.GenDecl); ok && g.Tok == token.TYPE {
				for _, s := range g.Specs {
					declared = append(declared, s.(*ast.TypeSpec).Name.Name)
				}
			}
		}
	}
	require.Contains(t, declared, "ErrorEnvelope")
	for _, name := range declared {
		assert.False(t, plumbing[name], "models declares %s, the operations' plumbing", name)
		for _, suffix := range []string{"Params", "RequestBody"} {
			assert.False(t, strings.HasSuffix(name, suffix), "models declares %s, the operations' plumbing", name)
		}
	}

	// Where they are instead: beside the client and the server.
	_ = raw.RegisterAgentParams{IdempotencyKey: new("k")}
	_ = server.RegisterAgentParams{IdempotencyKey: new("k")}
	var _ raw.UnauthorizedResponse = raw.ErrorResponse{}
	var _ raw.DeclineOrderJSONRequestBody = server.DeclineOrderJSONRequestBody{}
	_ = raw.DeliverOrderMultipartRequestBody{}.Files
}

// TestGeneratedPackageDocs: each generated package is documented by its
// hand-written doc.go alone; the generated file's "Code generated" line is no
// package comment (internal/oapitemplates/imports.tmpl), so it does not trail
// after the doc on pkg.go.dev and in go doc.
func TestGeneratedPackageDocs(t *testing.T) {
	for _, dir := range []string{"models", "client/raw", "server"} {
		t.Run(dir, func(t *testing.T) {
			fset, files := parseDir(t, dir)
			var documented []string
			for name, f := range files {
				if f.Doc != nil {
					documented = append(documented, name)
				}
			}
			assert.Equal(t, []string{"doc.go"}, documented, "the files with a package comment")

			var list []*ast.File
			for _, f := range files {
				list = append(list, f)
			}
			p, err := doc.NewFromFiles(fset, list, "github.com/heepr/heepr-go/"+dir)
			require.NoError(t, err)
			assert.NotContains(t, p.Doc, "provides primitives to interact with the openapi HTTP API")
			assert.NotContains(t, p.Doc, "Code generated")
			assert.True(t, strings.HasPrefix(p.Doc, "Package "+p.Name+" "), "the doc starts with its name: %.40q", p.Doc)
		})
	}
}

// TestEverySfReadsRules: models/oapi-codegen.overlay.yaml names the Go field of
// every `sf` property Rules, by a path that finds it inside a schema's allOf.
// A schema that carries sf elsewhere would keep Sf: this test names it.
func TestEverySfReadsRules(t *testing.T) {
	spec := loadSpec(t)
	var reached, all []string
	for name, ref := range spec.Components.Schemas {
		s := ref.Value
		if _, ok := s.Properties["sf"]; ok {
			all = append(all, name)
		}
		for _, part := range s.AllOf {
			if part.Value != nil && part.Ref == "" {
				if _, ok := part.Value.Properties["sf"]; ok {
					all = append(all, name)
					reached = append(reached, name)
				}
			}
		}
	}
	assert.ElementsMatch(t, all, reached, "an sf the overlay's target ($.components.schemas.*.allOf[*].properties.sf) misses")
	assert.ElementsMatch(t, []string{"NewOrderEvent", "RevisionRequestEvent", "OwnerApprovedOrderEvent", "ScopeChangeEvent"}, reached,
		"the schemas models.TestRulesField checks")
}
