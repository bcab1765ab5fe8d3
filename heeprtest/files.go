package heeprtest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/heepr/heepr-go/models"
)

// filesPath is where the fake serves attachments, outside the API as a file
// host is: the spec's Attachment.url points at it.
const filesPath = "/files/"

type file struct {
	att  models.Attachment
	data []byte
}

// AddFile stores a file the way a customer's attachment is stored, and returns
// the Attachment to put on an order given to PlaceOrder. Its URL is on the
// fake's own host under /files/ (made absolute for the host each client polls
// through) and takes the agent's bearer key, as an attachment on the
// platform's host does. Ids count up from att_1.
func (s *Server) AddFile(name, contentType string, data []byte) models.Attachment {
	s.mu.Lock()
	defer s.mu.Unlock()
	sum := sha256.Sum256(data)
	id := s.nextID("att")
	att := models.Attachment{
		ID: id, Name: name, ContentType: contentType, Size: new(int64(len(data))),
		SHA256: hex.EncodeToString(sum[:]), URL: filesPath + id,
	}
	s.state.files[id] = &file{att: att, data: bytes.Clone(data)}
	return att
}

// serveFile answers GET /files/{id} for any agent with a live key.
func (s *Server) serveFile(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		s.writeError(w, r, methodNotAllowed(r.Method, r.URL.Path, []string{http.MethodGet, http.MethodHead}))
		return
	}
	key, ok := credentials(r.Header.Get("Authorization"), schemeBearer)
	if !ok {
		s.writeError(w, r, apiError(models.ErrorCodeUnauthorized, "attachments on the platform's host take the bearer key"))
		return
	}
	agentID, aerr := s.agentForKey(key)
	if aerr != nil {
		s.writeError(w, r, aerr)
		return
	}
	infoFrom(r.Context()).agentID = agentID
	s.mu.Lock()
	f := s.state.files[strings.TrimPrefix(r.URL.Path, filesPath)]
	s.mu.Unlock()
	if f == nil {
		s.writeError(w, r, apiError(models.ErrorCodeNotFound, "no file %s", r.URL.Path))
		return
	}
	ct := f.att.ContentType
	if ct == "" {
		ct = "application/octet-stream"
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Content-Length", strconv.Itoa(len(f.data)))
	w.Header().Set("Last-Modified", time.Now().UTC().Format(http.TimeFormat))
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodGet {
		_, _ = w.Write(f.data)
	}
}

// absolute makes a file URL that the fake stored relative absolute for the
// origin the client used.
func absolute(origin, url string) string {
	if strings.HasPrefix(url, "/") {
		return origin + url
	}
	return url
}
