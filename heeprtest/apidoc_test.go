package heeprtest_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	heepr "github.com/heepr/heepr-go"
	"github.com/heepr/heepr-go/heeprtest"
	"github.com/heepr/heepr-go/models"
)

// getFile fetches one file of the agent's skill package.
func getFile(t *testing.T, srv *heeprtest.Server, a heeprtest.Agent, file models.SkillFileName) string {
	t.Helper()
	status, header, body := do(t, srv, http.MethodGet, "/agents/"+a.ID+"/skill/"+string(file), "Bearer "+a.APIKey.Reveal(), "", "")
	require.Equal(t, http.StatusOK, status, "%s", body)
	if file != models.SkillFileNameSkillJSON {
		assert.Equal(t, "text/markdown", header.Get("Content-Type"))
	}
	return string(body)
}

// API.md is the agent's REST reference, written from openapi.yaml: every
// operation with its method, path (the agent's own id filled in), auth,
// request body, answers and a curl line, and the table of error codes.
func TestAPIDocCoversTheSpec(t *testing.T) {
	doc, err := openapi3.NewLoader().LoadFromData(heepr.OpenAPI())
	require.NoError(t, err)
	srv := heeprtest.NewServer()
	a := srv.AddAgent(heeprtest.Registered())
	md := getFile(t, srv, a, models.SkillFileNameAPIMD)

	assert.Contains(t, md, a.ID, "written for this agent")
	assert.Contains(t, md, "https://heepr.ai/api", "the base URL")
	assert.NotContains(t, md, "\x00", "no placeholder left")
	assert.NotContains(t, md, `\u0000`, "no placeholder left, escaped or not")
	assert.NotContains(t, md, "agt_7Hq2mX", "the spec's example agent is this agent")
	assert.Contains(t, md, `-d '{"agent_id":"`+a.ID+`"}'`, "register's curl line names this agent")
	assert.Regexp(t, `(?s)-F 'payload=\{.*\};type=application/json' \\\n  -F 'files=@`, md, "multipart parts in the spec's order")
	assert.Contains(t, md, "Authorization: Bootstrap")
	assert.Contains(t, md, "Authorization: Bearer")

	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			t.Run(method+" "+path, func(t *testing.T) {
				mine := strings.ReplaceAll(path, "/agents/{id}/", "/agents/"+a.ID+"/")
				heading := "### " + method + " " + mine
				i := strings.Index(md, heading+"\n")
				require.GreaterOrEqual(t, i, 0, "a section for the operation, headed %q", heading)
				section := md[i+len(heading):]
				if j := strings.Index(section, "\n## "); j >= 0 {
					section = section[:j]
				}
				if j := strings.Index(section, "\n### "); j >= 0 {
					section = section[:j]
				}
				assert.Contains(t, section, op.Summary)
				if op.Security != nil && len(*op.Security) > 0 {
					assert.Contains(t, section, "Authorization: Bootstrap", "register takes the bootstrap token")
				} else {
					assert.Contains(t, section, "Authorization: Bearer")
				}
				for status := range op.Responses.Map() {
					if status != "default" {
						assert.Contains(t, section, "| "+status+" |", "the answer %s", status)
					}
				}
				if op.RequestBody != nil {
					for mt := range op.RequestBody.Value.Content {
						assert.Contains(t, section, "`"+mt+"`", "the request body as %s", mt)
					}
				}
				curl := "curl -sS"
				if method != http.MethodGet {
					curl += " -X " + method
				}
				curlPath := strings.NewReplacer("/orders/{id}/", "/orders/$ORDER_ID/", "{file}", "skill.json").Replace(mine)
				assert.Contains(t, section, curl+` "$HEEPR_BASE_URL`+curlPath+`"`, "a curl line")
			})
		}
	}

	codes, ok := doc.Components.Schemas["ErrorCode"].Value.Extensions["x-extensible-enum"].([]any)
	require.True(t, ok)
	i := strings.Index(md, "## Error codes")
	require.GreaterOrEqual(t, i, 0)
	table := md[i:]
	for _, c := range codes {
		assert.Regexp(t, "\n\\| `"+c.(string)+"` \\| [0-9]{3}", table, "a row for %s, with its status", c)
	}
	noViolations(t, srv)
}

// Each agent's API.md names its own id, and skill.json hashes the file that
// agent is served; PublishSkill replaces it for every agent, verbatim.
func TestAPIDocIsPerAgent(t *testing.T) {
	srv := heeprtest.NewServer()
	a, b := srv.AddAgent(heeprtest.Registered()), srv.AddAgent(heeprtest.Registered())
	check := func(agent heeprtest.Agent) string {
		md := getFile(t, srv, agent, models.SkillFileNameAPIMD)
		res, err := rawClient(t, srv, "Bearer "+agent.APIKey.Reveal()).GetSkillFileWithResponse(context.Background(), agent.ID, models.SkillFileNameSkillJSON)
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, res.StatusCode(), "%s", res.Body)
		sum := sha256.Sum256([]byte(md))
		assert.Equal(t, hex.EncodeToString(sum[:]), res.JSON200.Files["API.md"], "skill.json hashes what is served")
		return md
	}
	mdA, mdB := check(a), check(b)
	assert.Contains(t, mdA, "/agents/"+a.ID+"/skill/")
	assert.NotContains(t, mdA, b.ID)
	assert.Contains(t, mdB, "/agents/"+b.ID+"/skill/")
	stA, _ := srv.Agent(a.ID)
	stB, _ := srv.Agent(b.ID)
	assert.NotEqual(t, stA.ContentHash, stB.ContentHash, "two agents, two packages")

	require.True(t, srv.PublishSkill(models.SkillFileNameAPIMD, "# API\n\nSee the dashboard.\n"))
	assert.Equal(t, "# API\n\nSee the dashboard.\n", check(a))
	assert.Equal(t, "# API\n\nSee the dashboard.\n", check(b))
	noViolations(t, srv)
}

// The status table follows the spec's codes exactly: a code added to
// openapi.yaml without a row fails here, and so does a row for a code the
// spec dropped.
func TestAPIDocErrorCodesMatchTheSpec(t *testing.T) {
	doc, err := openapi3.NewLoader().LoadFromData(heepr.OpenAPI())
	require.NoError(t, err)
	var spec []string
	for _, c := range doc.Components.Schemas["ErrorCode"].Value.Extensions["x-extensible-enum"].([]any) {
		spec = append(spec, c.(string))
	}
	srv := heeprtest.NewServer()
	a := srv.AddAgent(heeprtest.Registered())
	md := getFile(t, srv, a, models.SkillFileNameAPIMD)
	var rows []string
	_, table, ok := strings.Cut(md, "## Error codes")
	require.True(t, ok)
	for _, line := range strings.Split(table, "\n") {
		if code, ok := strings.CutPrefix(line, "| `"); ok {
			code, _, _ = strings.Cut(code, "`")
			rows = append(rows, code)
		}
	}
	assert.Equal(t, spec, rows, "one row per code, in the spec's order")
	assert.False(t, strings.Contains(table, "| — |"), "every code has a status")
}
