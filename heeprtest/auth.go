package heeprtest

import (
	"net/http"
	"strings"

	"github.com/heepr/heepr-go/models"
)

// registerPath is the one operation authenticated by a bootstrap token.
const registerPath = BasePath + "/agent/register"

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
		agentID, err := s.agentForKey(strings.TrimPrefix(info.auth, "Bearer "))
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
		return "", apiError(http.StatusUnauthorized, models.ErrorCodeUnauthorized, "unknown API key")
	case k.state == keyRevoked:
		return "", apiError(http.StatusUnauthorized, models.ErrorCodeKeyRevoked, "the owner revoked this key; re-bootstrap with a fresh token")
	case k.state == keyExpired:
		return "", apiError(http.StatusUnauthorized, models.ErrorCodeKeyExpired, "this key expired; the owner rotates it from settings")
	}
	return k.agentID, nil
}
