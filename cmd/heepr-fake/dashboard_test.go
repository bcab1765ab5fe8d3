package main

import (
	"io"
	"io/fs"
	"net/http"
	"path"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	heepr "github.com/heepr/heepr-go"
	"github.com/heepr/heepr-go/heeprtest"
)

func TestDashboard_Page(t *testing.T) {
	h := newHandler(heeprtest.NewServer(), false)
	res := dashGet(t, h, loopback, "/")
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Equal(t, "text/html; charset=utf-8", res.Header.Get("Content-Type"))
	assert.Equal(t, dashboardCSP, res.Header.Get("Content-Security-Policy"), "the browser itself refuses anything not from the fake")
	assert.Equal(t, "nosniff", res.Header.Get("X-Content-Type-Options"))
	body, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	want, err := dashboardFiles.ReadFile("dashboard/index.html")
	require.NoError(t, err)
	assert.Equal(t, want, body)

	res = dashGet(t, h, loopback, "/api/")
	assert.Equal(t, http.StatusNotFound, res.StatusCode, "only / itself is the page; the API's paths stay the API's")
}

// The page loads only what the binary embeds: every src and href is a path on
// the fake (never another host), each asset it loads is served with its type,
// and no script or style names another origin.
func TestDashboard_EmbeddedAssetsOnly(t *testing.T) {
	h := newHandler(heeprtest.NewServer(), false)
	page, err := dashboardFiles.ReadFile("dashboard/index.html")
	require.NoError(t, err)
	refs := regexp.MustCompile(`\b(?:src|href)="([^"]*)"`).FindAllStringSubmatch(string(page), -1)
	require.NotEmpty(t, refs)
	// Links the page offers to follow (not load) go to the fake's own routes.
	links := []string{"/api/openapi.yaml", controlPath + "violations"}
	types := map[string]string{".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8", ".svg": "image/svg+xml"}
	var loaded []string
	for _, m := range refs {
		ref := m[1]
		require.True(t, strings.HasPrefix(ref, "/") && !strings.HasPrefix(ref, "//"), "%q is not a path on the fake", ref)
		if slices.Contains(links, ref) {
			continue
		}
		require.True(t, strings.HasPrefix(ref, assetsPath), "%q is neither an embedded asset nor a route of the fake", ref)
		name := strings.TrimPrefix(ref, assetsPath)
		_, err := fs.Stat(dashboardFiles, "dashboard/"+name)
		require.NoError(t, err, "%q is not embedded", ref)
		res := dashGet(t, h, loopback, ref)
		require.Equal(t, http.StatusOK, res.StatusCode, ref)
		assert.Equal(t, types[path.Ext(name)], res.Header.Get("Content-Type"), ref)
		loaded = append(loaded, name)
	}
	assert.ElementsMatch(t, []string{"app.js", "style.css", "favicon.svg"}, loaded)

	for _, name := range []string{"index.html", "app.js", "style.css"} {
		b, err := dashboardFiles.ReadFile("dashboard/" + name)
		require.NoError(t, err)
		assert.NotContains(t, string(b), "://", "%s names another origin", name)
		assert.NotRegexp(t, `@import|\burl\(`, string(b), "%s loads something more", name)
	}
	script, err := dashboardFiles.ReadFile("dashboard/app.js")
	require.NoError(t, err)
	calls := regexp.MustCompile(`(?:\bcall\("[A-Z]+", |\bfetch\()"([^"]*)"`).FindAllStringSubmatch(string(script), -1)
	require.NotEmpty(t, calls)
	for _, m := range calls {
		assert.True(t, strings.HasPrefix(m[1], controlPath), "the script calls %q, outside the control API", m[1])
	}
}

// The fault form offers the spec's operations, and "*" for all of them: a list
// copied into the page is checked against openapi.yaml, so it cannot drift.
func TestDashboard_OperationsMatchSpec(t *testing.T) {
	page, err := dashboardFiles.ReadFile("dashboard/index.html")
	require.NoError(t, err)
	list := regexp.MustCompile(`(?s)<datalist id="operations">(.*?)</datalist>`).FindSubmatch(page)
	require.NotNil(t, list)
	var offered []string
	for _, m := range regexp.MustCompile(`value="([^"]+)"`).FindAllSubmatch(list[1], -1) {
		offered = append(offered, string(m[1]))
	}
	var spec []string
	for _, m := range regexp.MustCompile(`(?m)^\s+operationId: (\w+)$`).FindAllSubmatch(heepr.OpenAPI(), -1) {
		spec = append(spec, string(m[1]))
	}
	require.NotEmpty(t, spec)
	assert.ElementsMatch(t, append(spec, "*"), offered)
}
