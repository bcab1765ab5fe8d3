package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	heepr "github.com/heepr/heepr-go"
	"github.com/heepr/heepr-go/heeprtest"
)

// GET /api/openapi.yaml serves the spec the fake validates against, with no
// auth, outside the validated API (no violation recorded).
func TestServesTheSpec(t *testing.T) {
	srv := heeprtest.NewServer()
	h := newHandler(srv, false)
	tests := []struct {
		method     string
		wantStatus int
		wantBody   bool
	}{
		{http.MethodGet, http.StatusOK, true},
		{http.MethodHead, http.StatusOK, false},
	}
	for _, tt := range tests {
		t.Run(tt.method, func(t *testing.T) {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(tt.method, "/api/openapi.yaml", nil))
			res := rec.Result()
			body, err := io.ReadAll(res.Body)
			require.NoError(t, err)
			assert.Equal(t, tt.wantStatus, res.StatusCode)
			assert.Equal(t, "application/yaml", res.Header.Get("Content-Type"))
			if tt.wantBody {
				assert.Equal(t, heepr.OpenAPI(), body)
			}
		})
	}
	assert.Empty(t, srv.Violations())
	assert.Empty(t, srv.Requests(), "not part of the API: not logged as one of its requests")
}
