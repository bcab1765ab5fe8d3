package heepr_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// runtimeModules are the only modules outside the standard library that the
// runtime packages may compile: oapi-codegen's runtime and its own dependencies.
var runtimeModules = []string{
	"github.com/heepr/heepr-go/",
	"github.com/oapi-codegen/runtime",
	"github.com/apapsch/go-jsonmerge/v2",
	"github.com/google/uuid",
}

// TestRuntimeDependencies keeps importers lean: the packages a program links
// when it imports the SDK pull in nothing but the standard library and
// oapi-codegen's runtime. kin-openapi, testify and the generator stay out.
func TestRuntimeDependencies(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go command")
	}
	pkgs := []string{"./models", "./client/raw"}
	for _, p := range []string{"./errors", "./client", "./poller"} {
		if files, _ := filepath.Glob(p + "/*.go"); len(files) > 0 {
			pkgs = append(pkgs, p)
		}
	}
	args := append([]string{"list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}"}, pkgs...)
	out, err := exec.Command("go", args...).CombinedOutput()
	require.NoError(t, err, "%s", out)
	for _, pkg := range strings.Fields(string(out)) {
		ok := false
		for _, m := range runtimeModules {
			if strings.HasPrefix(pkg+"/", m) || strings.HasPrefix(pkg, m) {
				ok = true
			}
		}
		assert.True(t, ok, "%v compile %s, which is neither the standard library nor oapi-codegen's runtime", pkgs, pkg)
	}
}

// TestGeneratorOnlyInToolsMod: the generator and linters are pinned in
// tools.mod, never in go.mod, so they never reach an importer's module graph.
func TestGeneratorOnlyInToolsMod(t *testing.T) {
	gomod, err := os.ReadFile("go.mod")
	require.NoError(t, err)
	tools, err := os.ReadFile("tools.mod")
	require.NoError(t, err)
	for _, m := range []string{"github.com/oapi-codegen/oapi-codegen/v2", "honnef.co/go/tools"} {
		assert.NotContains(t, string(gomod), m)
		assert.Contains(t, string(tools), m)
	}
}
