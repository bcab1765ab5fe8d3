package client_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/heepr/heepr-go/client"
	herrors "github.com/heepr/heepr-go/errors"
	"github.com/heepr/heepr-go/heeprtest"
	"github.com/heepr/heepr-go/models"
)

// alterSkillFile passes every request to next and rewrites the answer for
// one skill file: its Content-Type and its body, as a broken proxy or a
// platform bug would.
type alterSkillFile struct {
	next http.RoundTripper
	file string
	// header, when set, replaces the answer's Content-Type ("-" removes it).
	header string
	// body, when set, rewrites the body.
	body func([]byte) []byte

	mu    sync.Mutex
	times int // answers altered
}

func (a *alterSkillFile) RoundTrip(req *http.Request) (*http.Response, error) {
	res, err := a.next.RoundTrip(req)
	if err != nil || res.StatusCode != http.StatusOK || !strings.HasSuffix(req.URL.Path, "/skill/"+a.file) {
		return res, err
	}
	a.mu.Lock()
	a.times++
	a.mu.Unlock()
	switch a.header {
	case "":
	case "-":
		res.Header.Del("Content-Type")
	default:
		res.Header.Set("Content-Type", a.header)
	}
	if a.body != nil {
		b, err := io.ReadAll(res.Body)
		res.Body.Close()
		if err != nil {
			return nil, err
		}
		b = a.body(b)
		res.Body = io.NopCloser(bytes.NewReader(b))
		res.ContentLength = int64(len(b))
		res.Header.Del("Content-Length")
	}
	return res, nil
}

// altered is a client registered with the fake whose answers for file pass
// through alter.
func altered(t *testing.T, alter *alterSkillFile) (*heeprtest.Server, heeprtest.Agent, *client.Client) {
	t.Helper()
	srv := heeprtest.NewServer()
	a := srv.AddAgent(heeprtest.Registered())
	alter.next = srv.HTTPClient().Transport
	c, err := client.New(client.WithHTTPClient(&http.Client{Transport: alter}),
		client.WithAPIKey(a.APIKey), client.WithAgentID(a.ID))
	require.NoError(t, err)
	return srv, a, c
}

// SkillFile asks for the file's media type, and takes nothing else.
func TestClient_SkillFile_ContentType(t *testing.T) {
	tests := []struct {
		name        string
		file        models.SkillFileName
		contentType string // what the answer is made to say ("" as served, "-" none)
		wantAccept  string
		wantErr     string // "" for success
	}{
		{"markdown as served", models.SkillFileNameSkillMD, "", "text/markdown", ""},
		{"rules as served", models.SkillFileNameRulesMD, "", "text/markdown", ""},
		{"skill.json as served", models.SkillFileNameSkillJSON, "", "application/json", ""},
		{"markdown with a charset", models.SkillFileNameAPIMD, "text/markdown; charset=utf-8", "text/markdown", ""},
		{"markdown as plain text", models.SkillFileNameHeartbeatEventsMD, "Text/Plain; charset=UTF-8", "text/markdown", ""},
		{"skill.json with a charset", models.SkillFileNameSkillJSON, "application/json; charset=utf-8", "application/json", ""},
		{"SKILL.md as JSON", models.SkillFileNameSkillMD, "application/json", "text/markdown", "application/json"},
		{"RULES.md as an HTML page", models.SkillFileNameRulesMD, "text/html; charset=utf-8", "text/markdown", "text/html"},
		{"markdown without a Content-Type", models.SkillFileNameSkillMD, "-", "text/markdown", "no Content-Type"},
		{"skill.json as markdown", models.SkillFileNameSkillJSON, "text/markdown", "application/json", "text/markdown"},
		{"skill.json as plain text", models.SkillFileNameSkillJSON, "text/plain", "application/json", "text/plain"},
		{"an unparsable Content-Type", models.SkillFileNameSkillMD, "text/markdown; ;;=", "text/markdown", "Content-Type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			alter := &alterSkillFile{file: string(tt.file), header: tt.contentType}
			srv, a, c := altered(t, alter)
			_, err := c.SkillFile(context.Background(), tt.file)

			path := "/api/agents/" + a.ID + "/skill/" + string(tt.file)
			got := requestsTo(srv, path)
			require.Len(t, got, 1, "one request for the file, never retried")
			assert.Equal(t, tt.wantAccept, got[0].Header.Get("Accept"))
			if tt.wantErr == "" {
				require.NoError(t, err)
			} else {
				require.Error(t, err)
				assert.ErrorIs(t, err, herrors.ErrInvalidResponse)
				assert.Contains(t, err.Error(), string(tt.file))
				assert.Contains(t, err.Error(), tt.wantErr)
			}
			noViolations(t, srv)
		})
	}
}

// Every file but skill.json is checked against its SHA-256 in skill.json.
func TestClient_SkillFile_Hash(t *testing.T) {
	tests := []struct {
		name    string
		alter   *alterSkillFile
		file    models.SkillFileName
		wantErr string // "" for success
	}{
		{"as served", &alterSkillFile{file: "RULES.md"}, models.SkillFileNameRulesMD, ""},
		{"one byte changed", &alterSkillFile{file: "RULES.md", body: func(b []byte) []byte {
			return append(bytes.Clone(b[:len(b)-1]), b[len(b)-1]^1)
		}}, models.SkillFileNameRulesMD, "RULES.md does not match its SHA-256 in skill.json"},
		{"another file's bytes", &alterSkillFile{file: "SKILL.md", body: func([]byte) []byte {
			return []byte(heeprtestRules(t))
		}}, models.SkillFileNameSkillMD, "SKILL.md does not match its SHA-256 in skill.json"},
		{"skill.json has no hash for the file", &alterSkillFile{file: "skill.json", body: func(b []byte) []byte {
			return editManifest(t, b, func(m *models.SkillManifest) { delete(m.Files, "API.md") })
		}}, models.SkillFileNameAPIMD, "skill.json has no SHA-256 for API.md"},
		{"skill.json's hash is not hex", &alterSkillFile{file: "skill.json", body: func(b []byte) []byte {
			return editManifest(t, b, func(m *models.SkillManifest) { m.Files["API.md"] = "sha256:abc" })
		}}, models.SkillFileNameAPIMD, "API.md"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, a, c := altered(t, tt.alter)
			b, err := c.SkillFile(context.Background(), tt.file)
			if tt.wantErr == "" {
				require.NoError(t, err)
				assert.Equal(t, heeprtestRules(t), string(b))
			} else {
				require.Error(t, err)
				assert.Nil(t, b, "no unverified bytes")
				assert.ErrorIs(t, err, herrors.ErrInvalidResponse)
				assert.Contains(t, err.Error(), tt.wantErr)
			}
			// The manifest was read to check the file, once each: a
			// mismatch is not retried.
			assert.Len(t, requestsTo(srv, "/api/agents/"+a.ID+"/skill/skill.json"), 1)
			assert.LessOrEqual(t, len(requestsTo(srv, "/api/agents/"+a.ID+"/skill/"+string(tt.file))), 1)
			noViolations(t, srv)
		})
	}
}

// heeprtestRules is the fake's RULES.md as it serves it.
func heeprtestRules(t *testing.T) string {
	t.Helper()
	srv := heeprtest.NewServer()
	a := srv.AddAgent(heeprtest.Registered())
	res, err := srv.HTTPClient().Do(mustRequest(t, a, "RULES.md"))
	require.NoError(t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return string(b)
}

func mustRequest(t *testing.T, a heeprtest.Agent, file string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, client.DefaultBaseURL+"/agents/"+a.ID+"/skill/"+file, nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+a.APIKey.Reveal())
	return req
}

// editManifest decodes skill.json, edits it and encodes it again.
func editManifest(t *testing.T, b []byte, edit func(*models.SkillManifest)) []byte {
	t.Helper()
	var m models.SkillManifest
	require.NoError(t, json.Unmarshal(b, &m))
	edit(&m)
	out, err := json.Marshal(m)
	require.NoError(t, err)
	return out
}
