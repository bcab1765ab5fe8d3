package heeprtest_test

import (
	"io"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/heepr/heepr-go/heeprtest"
	"github.com/heepr/heepr-go/models"
)

// Requests that break openapi.yaml are answered in the envelope and recorded.
// A value outside an open set (a decline reason, a skill file name) does not
// break it: see TestUnknownValuesOfOpenSets and TestUnknownSkillFile.
func TestRequestsThatBreakTheSpec(t *testing.T) {
	srv := heeprtest.NewServer()
	a := srv.AddAgent()
	b, c := registered(t, srv)
	poll(t, c)
	reqs := srv.Requests()
	good := reqs[len(reqs)-1].Header.Get("Authorization") // the poll's bearer key
	require.Contains(t, good, "Bearer sk_live_")
	ord := srv.PlaceOrder(b.ID, models.Order{})

	tests := []struct {
		name, method, path, auth, contentType, body string
		wantStatus                                  int
		wantCode                                    models.ErrorCode
		wantErr                                     string
		wantAllow                                   string // the Allow header of a 405
	}{
		{
			name: "missing field", method: http.MethodPost, path: "/agent/register",
			auth: "Bootstrap " + a.BootstrapToken.Reveal(), contentType: "application/json", body: `{}`,
			wantStatus: http.StatusBadRequest, wantCode: models.ErrorCodeInvalidRequest, wantErr: "agent_id",
		},
		{
			name: "bearer on register", method: http.MethodPost, path: "/agent/register",
			auth: good, contentType: "application/json", body: `{"agent_id":"` + a.ID + `"}`,
			wantStatus: http.StatusUnauthorized, wantCode: models.ErrorCodeUnauthorized, wantErr: "Bootstrap",
		},
		{
			name: "bootstrap token on a bearer operation", method: http.MethodGet, path: "/events",
			auth:       "Bootstrap " + a.BootstrapToken.Reveal(),
			wantStatus: http.StatusUnauthorized, wantCode: models.ErrorCodeUnauthorized, wantErr: "Bearer",
		},
		{
			name: "no auth", method: http.MethodGet, path: "/skill",
			wantStatus: http.StatusUnauthorized, wantCode: models.ErrorCodeUnauthorized, wantErr: "Bearer",
		},
		{
			name: "progress out of range", method: http.MethodPost, path: "/status", auth: good,
			contentType: "application/json", body: `{"order_id":"` + ord + `","progress":{"percent":101}}`,
			wantStatus: http.StatusBadRequest, wantCode: models.ErrorCodeInvalidRequest, wantErr: "percent",
		},
		{
			name: "empty status update", method: http.MethodPost, path: "/status", auth: good,
			contentType: "application/json", body: `{}`,
			wantStatus: http.StatusBadRequest, wantCode: models.ErrorCodeInvalidRequest, wantErr: "properties",
		},
		{
			name: "not JSON", method: http.MethodPost, path: "/orders/" + ord + "/flag", auth: good,
			contentType: "application/json", body: `{"reason":`,
			wantStatus: http.StatusBadRequest, wantCode: models.ErrorCodeInvalidRequest, wantErr: "body",
		},
		{
			name: "no such path", method: http.MethodGet, path: "/gigs", auth: good,
			wantStatus: http.StatusNotFound, wantCode: models.ErrorCodeNotFound, wantErr: "no matching operation",
		},
		{
			name: "wrong method", method: http.MethodDelete, path: "/events", auth: good,
			wantStatus: http.StatusMethodNotAllowed, wantCode: models.ErrorCodeMethodNotAllowed, wantErr: "method not allowed",
			wantAllow: "GET",
		},
		{
			name: "wrong method on a path with an id", method: http.MethodGet, path: "/orders/" + ord + "/deliver", auth: good,
			wantStatus: http.StatusMethodNotAllowed, wantCode: models.ErrorCodeMethodNotAllowed, wantErr: "method not allowed",
			wantAllow: "POST",
		},
		{
			name: "wrong method on register", method: http.MethodPut, path: "/agent/register",
			auth: "Bootstrap " + a.BootstrapToken.Reveal(), contentType: "application/json", body: `{"agent_id":"` + a.ID + `"}`,
			wantStatus: http.StatusMethodNotAllowed, wantCode: models.ErrorCodeMethodNotAllowed, wantErr: "method not allowed",
			wantAllow: "POST",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(srv.Violations())
			status, header, body := do(t, srv, tt.method, tt.path, tt.auth, tt.contentType, tt.body)
			detail := envelope(t, status, body, tt.wantStatus, tt.wantCode)
			assert.NotContains(t, detail.Message, "Schema:", "the client gets a summary, not a schema dump")
			assert.Equal(t, tt.wantAllow, header.Get("Allow"), "a 405, and only a 405, lists the methods the path takes")

			vs := srv.Violations()
			require.Len(t, vs, before+1, "recorded")
			v := vs[len(vs)-1]
			assert.Equal(t, heeprtest.ViolationRequest, v.Kind)
			assert.Equal(t, tt.method, v.Method)
			assert.Contains(t, v.Err, tt.wantErr)
			assert.Equal(t, detail.RequestID, v.RequestID)
		})
	}
	assert.Empty(t, srv.Deliveries(ord))
	assert.Empty(t, srv.Declines(ord))
	assert.Empty(t, srv.Flags(ord))
}

// errAfter is a body that breaks off after some bytes, as a client that gives
// up mid-upload does.
type errAfter struct {
	data []byte
	err  error
}

func (e *errAfter) Read(p []byte) (int, error) {
	if len(e.data) == 0 {
		return 0, e.err
	}
	n := copy(p, e.data)
	e.data = e.data[n:]
	return n, nil
}

// A body cut off mid-send is a broken connection, not a violation of the spec.
func TestBrokenBodyIsNotAViolation(t *testing.T) {
	srv := heeprtest.NewServer()
	a, c := registered(t, srv)
	poll(t, c)
	bearer := srv.Requests()[1].Header.Get("Authorization")
	ord := srv.PlaceOrder(a.ID, models.Order{})
	req, err := http.NewRequest(http.MethodPost, base+"/orders/"+ord+"/deliver", &errAfter{data: []byte(`{"text":"half`), err: io.ErrUnexpectedEOF})
	require.NoError(t, err)
	req.Header.Set("Authorization", bearer)
	req.Header.Set("Content-Type", "application/json")
	res, err := srv.HTTPClient().Do(req)
	require.NoError(t, err)
	res.Body.Close()
	assert.Equal(t, http.StatusBadRequest, res.StatusCode)
	assert.Empty(t, srv.Deliveries(ord))
	noViolations(t, srv)
}
