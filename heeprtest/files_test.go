package heeprtest_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/heepr/heepr-go/heeprtest"
	"github.com/heepr/heepr-go/models"
)

// Attachments are read with GET or HEAD; any other method is a 405 that says
// so in the Allow header.
func TestFileMethods(t *testing.T) {
	srv := heeprtest.NewServer()
	a := srv.AddAgent(heeprtest.Registered())
	att := srv.AddFile("ref.txt", "text/plain", []byte("ref"))
	bearer := "Bearer " + a.APIKey.Reveal()
	tests := []struct {
		method     string
		wantStatus int
		wantCode   models.ErrorCode
		wantAllow  string
	}{
		{http.MethodGet, http.StatusOK, "", ""},
		{http.MethodHead, http.StatusOK, "", ""},
		{http.MethodPost, http.StatusMethodNotAllowed, models.ErrorCodeMethodNotAllowed, "GET, HEAD"},
		{http.MethodDelete, http.StatusMethodNotAllowed, models.ErrorCodeMethodNotAllowed, "GET, HEAD"},
	}
	for _, tt := range tests {
		t.Run(tt.method, func(t *testing.T) {
			req, err := http.NewRequest(tt.method, "https://heepr.ai"+att.URL, nil)
			require.NoError(t, err)
			req.Header.Set("Authorization", bearer)
			res, err := srv.HTTPClient().Do(req)
			require.NoError(t, err)
			defer res.Body.Close()
			assert.Equal(t, tt.wantStatus, res.StatusCode)
			assert.Equal(t, tt.wantAllow, res.Header.Get("Allow"))
			if tt.wantCode != "" {
				var body [512]byte
				n, _ := res.Body.Read(body[:])
				envelope(t, res.StatusCode, body[:n], tt.wantStatus, tt.wantCode)
			}
		})
	}
}
