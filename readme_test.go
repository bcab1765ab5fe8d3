package heepr_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	herrors "github.com/heepr/heepr-go/errors"
	"github.com/heepr/heepr-go/models"
)

// docPages are the Markdown pages whose Go code blocks must compile: the README
// and every page under docs/.
func docPages(t *testing.T) []string {
	pages, err := filepath.Glob(filepath.Join("docs", "*.md"))
	require.NoError(t, err)
	return append([]string{"README.md"}, pages...)
}

// section returns the part of a Markdown file under the heading, up to the next
// heading of the same level.
func section(t *testing.T, file, heading string) string {
	t.Helper()
	b, err := os.ReadFile(file)
	require.NoError(t, err)
	_, sec, ok := strings.Cut(string(b), "\n"+heading+"\n")
	require.True(t, ok, "%s has the section %q", file, heading)
	sec, _, _ = strings.Cut(sec, "\n"+heading[:strings.Index(heading, " ")+1])
	return sec
}

// TestReadmeCodeBuilds: every Go code block of README.md and of the pages under
// docs/ is the text of a file under examples/ (which CI builds and tests) or of
// an Example function (which CI runs and checks), so no snippet of the docs can
// rot.
func TestReadmeCodeBuilds(t *testing.T) {
	var blocks [][]string
	for _, page := range docPages(t) {
		text, err := os.ReadFile(page)
		require.NoError(t, err)
		found := regexp.MustCompile("(?s)```go\n(.*?)```").FindAllStringSubmatch(string(text), -1)
		if page == "README.md" {
			require.NotEmpty(t, found)
		}
		blocks = append(blocks, found...)
	}

	var sources []string // normalized text of every example file and Example function file
	require.NoError(t, filepath.WalkDir(".", func(path string, d os.DirEntry, err error) error {
		if skip := skipTree(path, d); skip != nil {
			return skip
		}
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if strings.HasPrefix(path, "examples"+string(filepath.Separator)) || strings.Contains(string(b), "\nfunc Example") {
			sources = append(sources, normalize(string(b)))
		}
		return nil
	}))
	for _, b := range blocks {
		block := normalize(b[1])
		found := false
		for _, src := range sources {
			if strings.Contains(src, block) {
				found = true
				break
			}
		}
		assert.True(t, found, "this README block is neither an examples/ file nor an Example function:\n%s", b[1])
	}
}

// normalize drops indentation and blank lines, so a README block matches an
// Example function's body whatever its indentation.
func normalize(s string) string {
	var out []string
	for _, line := range strings.Split(s, "\n") {
		if line = strings.TrimSpace(line); line != "" {
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n") + "\n"
}

// TestReadmeRefusalsAreTested: every test the "What the client refuses" table
// (docs/client.md) and the README's Security table name exists, so a row
// cannot outlive its proof.
func TestReadmeRefusalsAreTested(t *testing.T) {
	// The full table in docs/client.md, and the README's short one.
	var names [][]string
	for _, sec := range [][2]string{{"docs/client.md", "## What the client refuses"}, {"README.md", "## Security"}} {
		found := regexp.MustCompile("`(Test[A-Za-z0-9_]+)`").FindAllStringSubmatch(section(t, sec[0], sec[1]), -1)
		require.NotEmpty(t, found, "%s, %s names the tests that hold its rows", sec[0], sec[1])
		names = append(names, found...)
	}
	var tests strings.Builder
	require.NoError(t, filepath.WalkDir(".", func(path string, d os.DirEntry, err error) error {
		if skip := skipTree(path, d); skip != nil {
			return skip
		}
		if err != nil || d.IsDir() || !strings.HasSuffix(path, "_test.go") {
			return err
		}
		b, err := os.ReadFile(path)
		tests.Write(b)
		return err
	}))
	for _, n := range names {
		// Not assert.Contains: its failure would print every test file.
		assert.True(t, strings.Contains(tests.String(), "func "+n[1]+"(t *testing.T)"), "the table names %s, and no test has that name", n[1])
	}
}

// TestReadmeErrorTableMatchesSpec: the Errors table (docs/errors.md, linked from
// the README) has one row per
// known code of the spec's open set ErrorCode, each naming the sentinel that
// matches the code, so a code cannot be added to the wire without its advice.
func TestReadmeErrorTableMatchesSpec(t *testing.T) {
	errs := section(t, "docs/errors.md", "## Errors")
	rows := regexp.MustCompile("(?m)^\\| `([a-z_]+)` \\| [^|]+ \\| `(Err[A-Za-z]+)` \\|").FindAllStringSubmatch(errs, -1)
	table := map[string]string{}
	for _, r := range rows {
		table[r[1]] = r[2]
	}
	codes := openSet(t, loadSpec(t), "ErrorCode")
	assert.Len(t, table, len(codes), "one row per code of the spec")
	for _, code := range codes {
		name, ok := table[code]
		if !assert.True(t, ok, "the README's Errors table has no row for %s", code) {
			continue
		}
		named, ok := readmeSentinels[name]
		require.True(t, ok, "the row of %s names %s, which is not a sentinel of package errors", code, name)
		assert.Equal(t, herrors.Sentinel(models.ErrorCode(code)), named, "the row of %s names %s", code, name)
	}
}

// TestReadmeErrorTableStatuses: the status column of the Errors
// table is herrors' one code-to-status table: each row lists StatusOf its
// code, and every other status it lists stands for that code (CodeForStatus).
func TestReadmeErrorTableStatuses(t *testing.T) {
	errs := section(t, "docs/errors.md", "## Errors")
	rows := regexp.MustCompile("(?m)^\\| `([a-z_]+)` \\| ([0-9, ]+) \\| `Err").FindAllStringSubmatch(errs, -1)
	require.Len(t, rows, len(openSet(t, loadSpec(t), "ErrorCode")), "one row per code, each with its statuses")
	for _, r := range rows {
		code := models.ErrorCode(r[1])
		var listed []int
		for _, f := range strings.Split(r[2], ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			require.NoError(t, err, "the row of %s", code)
			listed = append(listed, n)
		}
		assert.Contains(t, listed, herrors.StatusOf(code), "the row of %s lacks StatusOf its code", code)
		for _, st := range listed {
			if st != herrors.StatusOf(code) {
				assert.Equal(t, code, herrors.CodeForStatus(st), "the row of %s lists %d, which stands for another code", code, st)
			}
		}
	}
}

// readmeSentinels are the sentinels of package errors by name.
var readmeSentinels = map[string]error{
	"ErrBootstrapUnknown": herrors.ErrBootstrapUnknown, "ErrBootstrapUsed": herrors.ErrBootstrapUsed,
	"ErrBootstrapExpired": herrors.ErrBootstrapExpired, "ErrActiveKeyExists": herrors.ErrActiveKeyExists,
	"ErrKeyExpired": herrors.ErrKeyExpired, "ErrKeyRevoked": herrors.ErrKeyRevoked,
	"ErrMethodNotAllowed": herrors.ErrMethodNotAllowed, "ErrIdempotencyKeyReused": herrors.ErrIdempotencyKeyReused,
	"ErrUnauthorized": herrors.ErrUnauthorized, "ErrForbidden": herrors.ErrForbidden,
	"ErrNotFound": herrors.ErrNotFound, "ErrInvalidRequest": herrors.ErrInvalidRequest,
	"ErrConflict": herrors.ErrConflict, "ErrRateLimited": herrors.ErrRateLimited,
	"ErrInternal": herrors.ErrInternal, "ErrUnavailable": herrors.ErrUnavailable,
}

// skipTree keeps the tests' walks of the repository to the module's own
// packages: not into hidden directories (.git, .ci with its npm tools and the
// ogen module) nor any node_modules.
func skipTree(path string, d os.DirEntry) error {
	if d != nil && d.IsDir() && path != "." && (strings.HasPrefix(d.Name(), ".") || d.Name() == "node_modules") {
		return filepath.SkipDir
	}
	return nil
}

// TestReadmeMinimalAgentLineCount: the heading "An agent in N lines" counts
// the lines of examples/minimal/main.go, all of them, as the README shows it.
func TestReadmeMinimalAgentLineCount(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	require.NoError(t, err)
	m := regexp.MustCompile(`(?m)^## An agent in (\d+) lines$`).FindSubmatch(readme)
	require.NotNil(t, m, "the README has the heading")
	src, err := os.ReadFile(filepath.Join("examples", "minimal", "main.go"))
	require.NoError(t, err)
	assert.Equal(t, strconv.Itoa(strings.Count(string(src), "\n")), string(m[1]))
}

// TestWireAppendix: docs/wire.md, the page for agents not written in Go, has a
// commented curl line for every operation of openapi.yaml ("# METHOD /path"
// followed by curl), the multipart part names, and every known reason and
// status spelled as the wire spells it.
func TestWireAppendix(t *testing.T) {
	page, err := os.ReadFile(filepath.Join("docs", "wire.md"))
	require.NoError(t, err)
	text := string(page)
	doc := loadSpec(t)
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			line := "# " + method + " " + path
			i := strings.Index(text, line)
			if assert.GreaterOrEqual(t, i, 0, "docs/wire.md has no %q", line) {
				assert.Contains(t, text[i:], "\ncurl ", "a curl line follows %q", line)
			}
		}
	}
	for _, part := range []string{`"payload" part`, `"files" part`} {
		assert.Contains(t, text, part)
	}
	for _, set := range []string{"DeclineReason", "FlagReason", "AgentStatus"} {
		for _, v := range openSet(t, doc, set) {
			assert.Contains(t, text, "`"+v+"`", "docs/wire.md spells the %s %q", set, v)
		}
	}
}

// TestExamplesKeepAKeyNotSaved: every program under examples/ that calls
// client.Connect handles *client.KeyNotSavedError apart from other errors.
// Connect returns a working client with it after the token was spent; a
// program that exits on any error loses the key for good (issue 13).
func TestExamplesKeepAKeyNotSaved(t *testing.T) {
	mains, err := filepath.Glob(filepath.Join("examples", "*", "main.go"))
	require.NoError(t, err)
	require.NotEmpty(t, mains)
	for _, file := range mains {
		src, err := os.ReadFile(file)
		require.NoError(t, err)
		if !strings.Contains(string(src), "client.Connect(") {
			continue
		}
		assert.Contains(t, string(src), "KeyNotSavedError", "%s calls client.Connect: it must keep running on a *client.KeyNotSavedError", file)
	}
}
