// Package dashboardtest drives heepr-fake's live dashboard in a real browser:
// headless Chromium, through chromedp. It is a module of its own
// (github.com/heepr/heepr-go/dashboardtest) so that the browser driver never
// reaches the module graph of a program that imports heepr-go.
//
// The test builds the heepr-fake binary from the repository, opens its
// dashboard, places an order from the page, lets an SDK agent running in the
// test deliver it, and waits until the page shows the delivery. It looks for
// Chromium at $CHROMIUM, then as chromium on $PATH, and skips without one
// unless HEEPR_REQUIRE_CHROMIUM=1 (CI sets it), which makes a missing
// browser a failure. On failure it writes a screenshot and the page's HTML
// under $TMPDIR and names them.
//
//	cd dashboardtest && HEEPR_REQUIRE_CHROMIUM=1 go test ./...
package dashboardtest
