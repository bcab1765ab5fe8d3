package heeprtest

import (
	"net/http"
	"strings"

	"github.com/heepr/heepr-go/models"
)

// registerPath is the one operation authenticated by a bootstrap token.
const registerPath = BasePath + "/agent/register"

// The auth schemes of the API, as the spec names them in the Authorization header.
const (
	schemeBearer    = "Bearer"
	schemeBootstrap = "Bootstrap"
)

// credentials returns the credentials of an Authorization header in the given
// scheme, and whether the header is in that scheme with credentials at all.
// The scheme is case-insensitive and one or more spaces follow it (RFC 9110
// §11.1, §11.4), so "bearer sk_…" is the same credential as "Bearer sk_…".
func credentials(header, scheme string) (string, bool) {
	name, rest, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(name, scheme) {
		return "", false
	}
	rest = strings.TrimSpace(rest)
	return rest, rest != ""
}

// authenticate resolves the bearer key of every request but register to its
// agent, answering 401 unauthorized, key_revoked or key_expired when it cannot.
// The header's form was checked against the spec already.
func (s *Server) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		info := infoFrom(r.Context())
		info.auth = r.Header.Get("Authorization")
		if r.URL.Path == registerPath {
			next.ServeHTTP(w, r)
			return
		}
		key, _ := credentials(info.auth, schemeBearer) // "" when not a bearer key: unknown
		agentID, err := s.agentForKey(key)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		info.agentID = agentID
		next.ServeHTTP(w, r)
	})
}

func (s *Server) agentForKey(key string) (string, *apiErr) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := s.state.keys[key]
	switch {
	case k == nil:
		return "", apiError(models.ErrorCodeUnauthorized, "unknown API key")
	case k.state == keyRevoked:
		return "", apiError(models.ErrorCodeKeyRevoked, "the owner revoked this key; re-bootstrap with a fresh token")
	case k.state == keyExpired:
		return "", apiError(models.ErrorCodeKeyExpired, "this key expired; the owner rotates it from settings")
	}
	return k.agentID, nil
}
