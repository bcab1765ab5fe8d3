package heeprtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"

	"github.com/heepr/heepr-go/models"
)

// validHost is the host the router knows the API by; every request is matched
// as if sent to it, since the fake answers for any host.
const validHost = "heepr.invalid"

// validator checks traffic against the embedded openapi.yaml.
type validator struct {
	router routers.Router
	err    error // why the spec could not be loaded; every request is then a violation
}

// newValidator routes by doc, as loaded by loadSpec (err is loadSpec's). It
// points doc's servers at validHost, so it is the last to read doc.
func newValidator(doc *openapi3.T, err error) *validator {
	if err != nil {
		return &validator{err: err}
	}
	doc.Servers = openapi3.Servers{{URL: "http://" + validHost + BasePath}}
	router, err := legacy.NewRouter(doc)
	if err != nil {
		return &validator{err: fmt.Errorf("route openapi.yaml: %w", err)}
	}
	return &validator{router: router}
}

// allowed returns the methods the spec defines on r's path, in the order an
// Allow header lists them, and none when the path is unknown. The router is
// asked about each method in turn, because it tells a wrong method from an
// unknown path only on paths without parameters.
func (v *validator) allowed(r *http.Request) []string {
	var allow []string
	for _, m := range [...]string{
		http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut,
		http.MethodPatch, http.MethodDelete, http.MethodOptions, http.MethodTrace,
	} {
		probe := *r // FindRoute reads the method and URL only
		probe.Method = m
		if _, _, err := v.router.FindRoute(&probe); err == nil {
			allow = append(allow, m)
		}
	}
	return allow
}

// authenticate is kin-openapi's check of a security scheme: the header must be
// in the scheme's form. Whether the key is known is the API's business.
func authenticate(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	h := in.RequestValidationInput.Request.Header.Get("Authorization")
	want := schemeBearer
	if in.SecuritySchemeName == "BootstrapAuth" {
		want = schemeBootstrap
	}
	if _, ok := credentials(h, want); !ok {
		return fmt.Errorf("%s wants `Authorization: %s …`", in.SecuritySchemeName, want)
	}
	return nil
}

// validate checks each request before next sees it and each response of next
// before the client does. A request that breaks the spec is answered in the
// envelope (401 for a wrong auth scheme, 404 for an unknown path, else 400) and
// recorded; a response that breaks it is recorded and sent as it is.
func (s *Server) validate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v := s.val
		if v.err != nil {
			s.violation(r, ViolationRequest, v.err)
			s.writeError(w, r, apiError(models.ErrorCodeInternalError, "heeprtest cannot load its spec"))
			return
		}
		// Route and validate a shallow copy whose URL names the router's host.
		rv := r.Clone(r.Context())
		u := *r.URL
		u.Scheme, u.Host = "http", validHost
		rv.URL = &u
		rv.Body = r.Body
		route, params, err := v.router.FindRoute(rv)
		if err != nil {
			if allow := v.allowed(rv); len(allow) > 0 {
				e := methodNotAllowed(r.Method, r.URL.Path, allow)
				s.violation(r, ViolationRequest, errors.New(e.Message))
				s.writeError(w, r, e)
				return
			}
			s.violation(r, ViolationRequest, err)
			s.writeError(w, r, apiError(models.ErrorCodeNotFound, "no operation %s %s", r.Method, r.URL.Path))
			return
		}
		in := &openapi3filter.RequestValidationInput{
			Request: rv, PathParams: params, Route: route,
			Options: &openapi3filter.Options{AuthenticationFunc: authenticate},
		}
		if err := openapi3filter.ValidateRequest(r.Context(), in); err != nil {
			// A body that could not be read is a broken connection (a client
			// that gave up mid-upload), not a break of the contract.
			var reqErr *openapi3filter.RequestError
			if errors.As(err, &reqErr) && reqErr.Reason == "reading failed" {
				s.writeError(w, r, apiError(models.ErrorCodeInvalidRequest, "the request body could not be read: %v", reqErr.Err))
				return
			}
			s.violation(r, ViolationRequest, err)
			var sec *openapi3filter.SecurityRequirementsError
			if errors.As(err, &sec) {
				s.writeError(w, r, apiError(models.ErrorCodeUnauthorized, "%s", summarize(err)))
				return
			}
			s.writeError(w, r, apiError(models.ErrorCodeInvalidRequest, "%s", summarize(err)))
			return
		}
		// kin-openapi read the body and left a replay of it on the copy.
		r.Body = rv.Body

		rec := httptest.NewRecorder()
		next.ServeHTTP(rec, r)
		res := rec.Result()
		body := rec.Body.Bytes()

		opts := &openapi3filter.Options{IncludeResponseStatus: true}
		// text/markdown has no decoder in kin-openapi; its schema is any string.
		if mt, _, _ := mime.ParseMediaType(res.Header.Get("Content-Type")); mt == "text/markdown" {
			opts.ExcludeResponseBody = true
		}
		out := &openapi3filter.ResponseValidationInput{
			RequestValidationInput: in,
			Status:                 res.StatusCode,
			Header:                 res.Header,
			Body:                   io.NopCloser(bytes.NewReader(body)),
			Options:                opts,
		}
		if err := openapi3filter.ValidateResponse(r.Context(), out); err != nil {
			s.violation(r, ViolationResponse, err)
		}
		for k, vs := range res.Header {
			w.Header()[k] = vs
		}
		w.WriteHeader(res.StatusCode)
		_, _ = w.Write(body)
	})
}

// summarize shortens kin-openapi's error, which appends the whole schema, to
// what a client needs: what was wrong and where.
func summarize(err error) string {
	msg := err.Error()
	if i := strings.Index(msg, "\nSchema:"); i >= 0 {
		msg = msg[:i]
	}
	msg = strings.Join(strings.Fields(msg), " ")
	if len(msg) > 400 {
		msg = msg[:400] + "…"
	}
	return msg
}
