package main

import (
	"embed"
	"io/fs"
	"net/http"
	"strconv"

	"github.com/heepr/heepr-go/heeprtest"
)

// dashboardFiles is the dashboard: one HTML page, its script and its style,
// plain files with no build step, so what the binary serves is what the
// repository holds.
//
//go:embed dashboard
var dashboardFiles embed.FS

// assetsPath is where the page's script, style and icon are served.
const assetsPath = "/dashboard/"

// dashboardCSP keeps the page to its own origin: it loads nothing from
// elsewhere (no CDN; the fake runs offline), and text an agent delivered
// cannot become script. Images may come from the origin (delivered files).
const dashboardCSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; " +
	"connect-src 'self'; form-action 'none'; base-uri 'none'; frame-ancestors 'none'"

// registerDashboard serves the live dashboard at / and its read-out at
// GET /_fake/state on mux, beside the API. Like the control API, whose routes
// the page calls, they answer loopback clients only unless remoteControl.
func registerDashboard(mux *http.ServeMux, srv *heeprtest.Server, remoteControl bool) {
	guard := func(h http.Handler) http.Handler {
		if remoteControl {
			return h
		}
		return loopbackOnly(h)
	}
	assets, err := fs.Sub(dashboardFiles, "dashboard")
	if err != nil {
		panic(err) // embedded at build time: only a typo here fails, and every test catches it
	}
	page, err := fs.ReadFile(assets, "index.html")
	if err != nil {
		panic(err)
	}
	icon, err := fs.ReadFile(assets, "favicon.svg")
	if err != nil {
		panic(err)
	}
	mux.Handle("GET /{$}", guard(serveBytes("text/html; charset=utf-8", page)))
	mux.Handle("GET "+assetsPath, guard(dashboardHeaders(http.StripPrefix(assetsPath, http.FileServerFS(assets)))))
	// Browsers ask for /favicon.ico on their own; answered here, the ask is not
	// recorded as a request for a path the API does not have.
	mux.Handle("GET /favicon.ico", guard(serveBytes("image/svg+xml", icon)))
	mux.Handle("GET "+statePath, guard(serveState(srv)))
}

// serveBytes answers with body, under the page's security headers.
func serveBytes(contentType string, body []byte) http.Handler {
	return dashboardHeaders(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", contentType)
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		if r.Method == http.MethodHead {
			return
		}
		_, _ = w.Write(body)
	}))
}

// dashboardHeaders sets the headers every dashboard file carries: no caching, so a
// browser never runs yesterday's script against today's binary (the files are
// small and local); no sniffing; and the page's content security policy.
func dashboardHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Cache-Control", "no-store")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Content-Security-Policy", dashboardCSP)
		next.ServeHTTP(w, r)
	})
}
