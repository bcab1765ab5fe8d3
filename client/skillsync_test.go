package client_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/heepr/heepr-go/client"
	herrors "github.com/heepr/heepr-go/errors"
	"github.com/heepr/heepr-go/heeprtest"
	"github.com/heepr/heepr-go/models"
)

var allSkillFiles = []string{"API.md", "HEARTBEAT_EVENTS.md", "RULES.md", "SKILL.md", "skill.json"}

// skillRequests counts the requests for each file of the package since
// request number from.
func skillRequests(srv *heeprtest.Server, a heeprtest.Agent, from int) map[string]int {
	n := map[string]int{}
	prefix := "/api/agents/" + a.ID + "/skill/"
	for _, r := range srv.Requests()[from:] {
		if name, ok := strings.CutPrefix(r.Path, prefix); ok {
			n[name]++
		}
	}
	return n
}

// assertPackage checks that dir holds the package as the fake serves it now,
// every file mode 0600, and nothing else (no temporary file left behind).
func assertPackage(t *testing.T, c *client.Client, dir string) {
	t.Helper()
	ctx := context.Background()
	m, err := c.SkillManifest(ctx)
	require.NoError(t, err)
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
		if runtime.GOOS != "windows" {
			fi, err := e.Info()
			require.NoError(t, err)
			assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), e.Name())
		}
	}
	assert.ElementsMatch(t, allSkillFiles, names)
	for name, sum := range m.Files {
		b, err := os.ReadFile(filepath.Join(dir, name))
		require.NoError(t, err)
		got := sha256.Sum256(b)
		assert.Equal(t, sum, hex.EncodeToString(got[:]), name)
	}
	want, err := c.SkillFile(ctx, models.SkillFileNameSkillJSON)
	require.NoError(t, err)
	got, err := os.ReadFile(filepath.Join(dir, "skill.json"))
	require.NoError(t, err)
	assert.Equal(t, string(want), string(got), "skill.json as served, byte for byte")
}

func TestClient_SyncSkill(t *testing.T) {
	srv, a, c := registered(t)
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "skill")

	// The first sync makes the directory and writes every file.
	from := len(srv.Requests())
	changed, err := c.SyncSkill(ctx, dir)
	require.NoError(t, err)
	assert.Equal(t, allSkillFiles, changed, "every file, sorted")
	assert.Equal(t, map[string]int{"API.md": 1, "HEARTBEAT_EVENTS.md": 1, "RULES.md": 1, "SKILL.md": 1, "skill.json": 1},
		skillRequests(srv, a, from), "skill.json once, each file once")
	if runtime.GOOS != "windows" {
		fi, err := os.Stat(dir)
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o700), fi.Mode().Perm())
	}
	assertPackage(t, c, dir)

	// Nothing changed: only skill.json is read, nothing is written.
	from = len(srv.Requests())
	changed, err = c.SyncSkill(ctx, dir)
	require.NoError(t, err)
	assert.Empty(t, changed)
	assert.Equal(t, map[string]int{"skill.json": 1}, skillRequests(srv, a, from))

	// A new RULES.md: it and skill.json, nothing else.
	require.True(t, srv.PublishSkill(models.SkillFileNameRulesMD, "new rules"))
	from = len(srv.Requests())
	changed, err = c.SyncSkill(ctx, dir)
	require.NoError(t, err)
	assert.Equal(t, []string{"RULES.md", "skill.json"}, changed)
	assert.Equal(t, map[string]int{"RULES.md": 1, "skill.json": 1}, skillRequests(srv, a, from))
	rules, err := os.ReadFile(filepath.Join(dir, "RULES.md"))
	require.NoError(t, err)
	assert.Equal(t, "new rules", string(rules))
	assertPackage(t, c, dir)

	// A local copy edited by hand is put back; skill.json is as served.
	require.NoError(t, os.WriteFile(filepath.Join(dir, "SKILL.md"), []byte("edited"), 0o600))
	changed, err = c.SyncSkill(ctx, dir)
	require.NoError(t, err)
	assert.Equal(t, []string{"SKILL.md"}, changed)
	assertPackage(t, c, dir)
	noViolations(t, srv)
}

// A symbolic link in the directory is replaced, never written through.
func TestClient_SyncSkill_Symlink(t *testing.T) {
	_, _, c := registered(t)
	dir, outside := t.TempDir(), filepath.Join(t.TempDir(), "target")
	require.NoError(t, os.WriteFile(outside, []byte("mine"), 0o600))
	if err := os.Symlink(outside, filepath.Join(dir, "RULES.md")); err != nil {
		t.Skipf("no symbolic links here: %v", err)
	}
	changed, err := c.SyncSkill(context.Background(), dir)
	require.NoError(t, err)
	assert.Equal(t, allSkillFiles, changed)
	b, err := os.ReadFile(outside)
	require.NoError(t, err)
	assert.Equal(t, "mine", string(b))
	assertPackage(t, c, dir)
}

// A manifest that names a file outside the directory, or no file at all, is
// refused whole: nothing is fetched or written.
func TestClient_SyncSkill_UnsafeName(t *testing.T) {
	for _, name := range []string{"../evil", "..", ".", "", "a/b", `a\b`, "/etc/passwd", "a\x00b", "bell\a.md", "\u0085.md",
		strings.Repeat("a", 256)} {
		t.Run(name, func(t *testing.T) {
			alter := &alterSkillFile{file: "skill.json", body: func(b []byte) []byte {
				return editManifest(t, b, func(m *models.SkillManifest) {
					m.Files[name] = strings.Repeat("0", 64)
				})
			}}
			srv, a, c := altered(t, alter)
			parent := t.TempDir()
			dir := filepath.Join(parent, "skill")
			from := len(srv.Requests())
			changed, err := c.SyncSkill(context.Background(), dir)
			require.Error(t, err)
			assert.Empty(t, changed)
			assert.ErrorIs(t, err, herrors.ErrInvalidResponse)
			assert.Contains(t, err.Error(), "cannot be written")
			assert.Equal(t, map[string]int{"skill.json": 1}, skillRequests(srv, a, from), "refused before any file is fetched")
			entries, err := os.ReadDir(parent)
			require.NoError(t, err)
			assert.Empty(t, entries, "nothing written, not even the directory")
		})
	}
	// The error names the file, quoted.
	alter := &alterSkillFile{file: "skill.json", body: func(b []byte) []byte {
		return editManifest(t, b, func(m *models.SkillManifest) { m.Files["../evil"] = strings.Repeat("0", 64) })
	}}
	_, _, c := altered(t, alter)
	_, err := c.SyncSkill(context.Background(), t.TempDir())
	require.Error(t, err)
	assert.Contains(t, err.Error(), `"../evil"`)
}

// A file that fails its check stops the sync with what was written so far,
// and leaves the old skill.json: the next sync does the rest.
func TestClient_SyncSkill_Interrupted(t *testing.T) {
	srv, a, honest := registered(t)
	ctx := context.Background()
	dir := t.TempDir()
	_, err := honest.SyncSkill(ctx, dir)
	require.NoError(t, err)
	oldManifest, err := os.ReadFile(filepath.Join(dir, "skill.json"))
	require.NoError(t, err)

	require.True(t, srv.PublishSkill(models.SkillFileNameRulesMD, "new rules"))
	require.True(t, srv.PublishSkill(models.SkillFileNameSkillMD, "# new skill\n"))
	// SKILL.md comes after RULES.md, and arrives corrupted.
	alter := &alterSkillFile{next: srv.HTTPClient().Transport, file: "SKILL.md", body: func(b []byte) []byte { return append(b, '!') }}
	broken, err := client.New(client.WithHTTPClient(&http.Client{Transport: alter}),
		client.WithAPIKey(honest.APIKey()), client.WithAgentID(a.ID))
	require.NoError(t, err)
	changed, err := broken.SyncSkill(ctx, dir)
	require.Error(t, err)
	assert.ErrorIs(t, err, herrors.ErrInvalidResponse)
	assert.Contains(t, err.Error(), "SKILL.md does not match its SHA-256")
	assert.Equal(t, []string{"RULES.md"}, changed, "what was written before the failure")
	b, err := os.ReadFile(filepath.Join(dir, "SKILL.md"))
	require.NoError(t, err)
	assert.NotEqual(t, "# new skill\n!", string(b), "an unverified file is never written")
	b, err = os.ReadFile(filepath.Join(dir, "skill.json"))
	require.NoError(t, err)
	assert.Equal(t, string(oldManifest), string(b), "the old skill.json stays")

	changed, err = honest.SyncSkill(ctx, dir)
	require.NoError(t, err)
	assert.Equal(t, []string{"SKILL.md", "skill.json"}, changed)
	assertPackage(t, honest, dir)
}

func TestClient_SyncSkill_Errors(t *testing.T) {
	srv, a, c := registered(t)
	ctx := context.Background()

	_, err := c.SyncSkill(ctx, "")
	assert.ErrorContains(t, err, "no directory")

	file := filepath.Join(t.TempDir(), "file")
	require.NoError(t, os.WriteFile(file, nil, 0o600))
	_, err = c.SyncSkill(ctx, file)
	require.Error(t, err)
	assert.Contains(t, err.Error(), file)

	anon := newClient(t, srv, client.WithAPIKey(c.APIKey()))
	_, err = anon.SyncSkill(ctx, t.TempDir())
	assert.ErrorIs(t, err, client.ErrNoAgentID)

	small := newClient(t, srv, client.WithAPIKey(c.APIKey()), client.WithAgentID(a.ID), client.WithMaxResponseBytes(100))
	_, err = small.SyncSkill(ctx, t.TempDir())
	assert.ErrorContains(t, err, "exceeds 100 bytes")
}
