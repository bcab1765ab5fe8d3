package heeprtest_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/heepr/heepr-go/heeprtest"
	"github.com/heepr/heepr-go/models"
)

// The auth scheme is case-insensitive (RFC 9110 §11.1), and one or more
// spaces separate it from the credentials: every spelling below is the same
// credential, for the spec's check and for the fake's lookup alike.
func TestAuthSchemeIsCaseInsensitive(t *testing.T) {
	tests := []struct {
		name   string
		scheme string // replaces "Bearer"/"Bootstrap" in the header
	}{
		{"canonical", ""},
		{"lower case", "lower"},
		{"upper case", "upper"},
		{"mixed case", "mixed"},
		{"two spaces", "spaces"},
	}
	spell := func(scheme, canonical, secret string) string {
		switch scheme {
		case "lower":
			return strings.ToLower(canonical) + " " + secret
		case "upper":
			return strings.ToUpper(canonical) + " " + secret
		case "mixed":
			return strings.ToLower(canonical[:3]) + strings.ToUpper(canonical[3:]) + " " + secret
		case "spaces":
			return canonical + "  " + secret
		}
		return canonical + " " + secret
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := heeprtest.NewServer()
			a := srv.AddAgent()
			att := srv.AddFile("ref.txt", "text/plain", []byte("ref"))

			status, _, body := do(t, srv, http.MethodPost, "/agent/register",
				spell(tt.scheme, "Bootstrap", a.BootstrapToken.Reveal()), "application/json", `{"agent_id":"`+a.ID+`"}`)
			require.Equal(t, http.StatusOK, status, "register: %s", body)
			reqs := srv.Requests()
			assert.Equal(t, a.ID, reqs[len(reqs)-1].AgentID, "the token was found")
			key := regexpKey.FindString(string(body))
			require.NotEmpty(t, key, "%s", body)

			bearer := spell(tt.scheme, "Bearer", key)
			status, _, body = do(t, srv, http.MethodGet, "/skill", bearer, "", "")
			assert.Equal(t, http.StatusOK, status, "GET /skill: %s", body)
			status, _, body = do(t, srv, http.MethodGet, "/agents/"+a.ID+"/skill/RULES.md", bearer, "", "")
			assert.Equal(t, http.StatusOK, status, "GET skill file: %s", body)

			req, err := http.NewRequest(http.MethodGet, "https://heepr.ai"+att.URL, nil)
			require.NoError(t, err)
			req.Header.Set("Authorization", bearer)
			res, err := srv.HTTPClient().Do(req)
			require.NoError(t, err)
			res.Body.Close()
			assert.Equal(t, http.StatusOK, res.StatusCode, "attachment download")

			// The same token, spelled canonically, is the same token: redeemed.
			status, _, body = do(t, srv, http.MethodPost, "/agent/register",
				"Bootstrap "+a.BootstrapToken.Reveal(), "application/json", `{"agent_id":"`+a.ID+`"}`)
			envelope(t, status, body, http.StatusUnauthorized, models.ErrorCodeBootstrapUsed)
			noViolations(t, srv)
		})
	}
}

// What is not a credential of the scheme stays refused.
func TestAuthMalformed(t *testing.T) {
	srv := heeprtest.NewServer()
	a, _ := registered(t, srv)
	tests := []struct {
		name, method, path, auth, body string
	}{
		{"bearer without a key", http.MethodGet, "/events", "Bearer", ""},
		{"bearer with only spaces", http.MethodGet, "/events", "Bearer   ", ""},
		{"scheme glued to the key", http.MethodGet, "/events", "Bearersk_live_x", ""},
		{"another scheme", http.MethodGet, "/events", "Basic dXNlcjpwYXNz", ""},
		{"bootstrap without a token", http.MethodPost, "/agent/register", "bootstrap", `{"agent_id":"` + a.ID + `"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(srv.Violations())
			ct := ""
			if tt.body != "" {
				ct = "application/json"
			}
			status, _, body := do(t, srv, tt.method, tt.path, tt.auth, ct, tt.body)
			envelope(t, status, body, http.StatusUnauthorized, models.ErrorCodeUnauthorized)
			assert.Len(t, srv.Violations(), before+1, "a request that breaks the security scheme is recorded")
		})
	}
}
