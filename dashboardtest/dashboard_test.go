package dashboardtest

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/png"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/heepr/heepr-go/client"
	"github.com/heepr/heepr-go/models"
	"github.com/heepr/heepr-go/poller"
)

const (
	brief     = "A haiku about the sea, ordered from the dashboard."
	haiku     = "Grey waves fold on sand"
	imageName = "sea.png"
)

// The walk a newcomer takes: open the dashboard, place an order from the page,
// run an agent, see the delivery arrive on the page.
func TestDashboard_OrderFromThePageIsDelivered(t *testing.T) {
	chrome := chromiumPath(t)
	began := time.Now()
	fake := startFake(t, buildFake(t))
	tab := browser(t, chrome)
	agent := &sdkAgent{logs: &lockedBuffer{}}
	failureArtifacts(t, tab, fake, agent)

	// The tab's first action runs on its own context, not a timed child, so
	// the browser lives until the test's cleanup rather than the first timeout.
	require.NoError(t, chromedp.Do(tab, chromedp.Navigate(fake.Origin+"/")))
	within(t, tab, 10*time.Second,
		chromedp.WaitVisible(chromedp.ID("place-order")),
		chromedp.WaitVisible(chromedp.CSS(`#agents tr[data-agent-id="`+fake.AgentID+`"]`)),
	)
	row := run(t, tab, 5*time.Second, chromedp.Text(chromedp.CSS(`#agents tr[data-agent-id="`+fake.AgentID+`"]`)))
	assert.Contains(t, row, "offline")
	assert.Contains(t, row, "no live key")
	t.Logf("saw: agent row %q", row)

	// Place the order as a person does: fill in the brief, click the button.
	within(t, tab, 5*time.Second,
		chromedp.SetValue(chromedp.CSS(`#order-form [name="agent_id"]`), fake.AgentID),
		chromedp.SetValue(chromedp.CSS(`#order-form [name="brief"]`), brief),
		chromedp.Click(chromedp.ID("place-order")),
	)
	t.Logf("clicked: Place order, agent %s, brief %q", fake.AgentID, brief)
	orderID := run(t, tab, 10*time.Second, chromedp.Poll[string](
		`document.querySelector("#orders article.order")?.dataset.orderId`, chromedp.WithPollingInterval(50*time.Millisecond)))
	notice := run(t, tab, 5*time.Second, chromedp.Text(chromedp.ID("notice")))
	assert.Contains(t, notice, "order "+orderID+" placed")
	card := `#orders article[data-order-id="` + orderID + `"]`
	placed := run(t, tab, 5*time.Second, chromedp.Text(chromedp.CSS(card)))
	assert.Contains(t, placed, brief)
	assert.Contains(t, placed, "in_progress")
	assert.Contains(t, placed, "new_order")
	assert.Contains(t, placed, "queued", "not polled yet: no agent runs")
	t.Logf("saw: order %s on the page, in_progress, its new_order queued; notice %q", orderID, notice)

	// An SDK agent in this process takes the order and delivers a text and a PNG.
	receipt := agent.run(t, fake)

	seen := run(t, tab, 15*time.Second, chromedp.PollFunction[pageDelivery](`(id, agent) => {
		const card = document.querySelector('#orders article[data-order-id="' + id + '"]');
		const d = card && card.querySelector(".delivery");
		const text = d && d.querySelector("pre.text");
		const a = d && d.querySelector("a.file");
		const img = d && d.querySelector("img.preview");
		if (!text || !a || !img) return null;
		const bar = card.querySelector("progress");
		const ev = card.querySelector(".events li");
		return {
			state: card.dataset.state, text: text.textContent,
			href: a.getAttribute("href"), download: a.getAttribute("download"), image: img.getAttribute("src"),
			progress: bar ? Number(bar.value) : -1, polled: !!ev && ev.textContent.includes("polled"),
			agentLive: document.querySelector('#agents tr[data-agent-id="' + agent + '"]').textContent,
		};
	}`, chromedp.WithPollingArgs(orderID, fake.AgentID), chromedp.WithPollingInterval(50*time.Millisecond)))
	r := <-receipt
	fileURL := "/_fake/deliveries/" + r.ID + "/files/" + imageName
	assert.Equal(t, "delivered", seen.State)
	assert.Equal(t, haiku+"\n(for: "+brief+")", seen.Text, "the delivery's text, and the brief the agent polled")
	assert.Equal(t, fileURL, seen.Href, "a download link for the file")
	assert.Equal(t, imageName, seen.Download)
	assert.Equal(t, fileURL, seen.Image, "the image shown inline")
	assert.Equal(t, 50, seen.Progress, "the agent's progress as a bar")
	assert.True(t, seen.Polled, "the new_order is marked polled")
	assert.Contains(t, seen.AgentLive, "online")
	assert.Contains(t, seen.AgentLive, "live")
	t.Logf("saw: delivery %s on order %s: text %q, link %s, inline image, progress bar at %d%%, order %s; agent row %q",
		r.ID, orderID, seen.Text, seen.Href, seen.Progress, seen.State, seen.AgentLive)

	// The browser must have drawn the PNG itself, not a broken image.
	res, err := http.Get(fake.Origin + fileURL)
	require.NoError(t, err)
	res.Body.Close()
	require.Equal(t, http.StatusOK, res.StatusCode, "GET %s", fileURL)
	width := run(t, tab, 5*time.Second, chromedp.PollFunction[int](`(src) => {
		const img = document.querySelector('img.preview[src="' + src + '"]');
		return img && img.complete && img.naturalWidth;
	}`, chromedp.WithPollingArgs(fileURL)))
	assert.Equal(t, 16, width, "the delivered PNG, drawn")
	t.Logf("saw: the image drawn, %d px wide", width)

	// The request log: the delivery shows up as it happened.
	logRow := run(t, tab, 5*time.Second, chromedp.PollFunction[string](`(path) => {
		const row = Array.from(document.querySelectorAll("#requests tbody tr")).find((r) => r.cells[3].textContent === path);
		return row && row.textContent;
	}`, chromedp.WithPollingArgs("/api/orders/"+orderID+"/deliver")))
	assert.Contains(t, logRow, "POST")
	assert.Contains(t, logRow, "202")
	assert.Contains(t, logRow, fake.AgentID)
	t.Logf("saw: the request log's row %q", logRow)

	violations := run(t, tab, 5*time.Second, chromedp.Text(chromedp.ID("violations")))
	assert.Equal(t, "0", violations, "the fake's spec validation, as the page shows it")
	agent.stop(t)
	fake.stop(t)
	for _, m := range violationCount.FindAllStringSubmatch(fake.stdout.String(), -1) {
		assert.True(t, m[1] == "0" || m[2] == "0", "the fake's own report at exit: %q", m[0])
	}
	t.Logf("took %s, the build of heepr-fake included", time.Since(began).Round(10*time.Millisecond))
}

// pageDelivery is what the page shows of an order once it is delivered.
type pageDelivery struct {
	State     string `json:"state"`
	Text      string `json:"text"`
	Href      string `json:"href"`
	Download  string `json:"download"`
	Image     string `json:"image"`
	Progress  int    `json:"progress"`
	Polled    bool   `json:"polled"`
	AgentLive string `json:"agentLive"`
}

// violationCount finds a count of violations in what heepr-fake prints at
// exit, written "3 spec violations" or "violations: 0".
var violationCount = regexp.MustCompile(`\b(\d+) (?:spec )?violations?\b|\bviolations?[:=]? *(\d+)\b`)

// within runs actions on the tab, bounded by d.
func within(t *testing.T, tab context.Context, d time.Duration, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab, d)
	defer cancel()
	require.NoError(t, chromedp.Do(ctx, actions...))
}

// run runs one action on the tab, bounded by d, and returns its value.
func run[T any](t *testing.T, tab context.Context, d time.Duration, a chromedp.Action[T]) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab, d)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	require.NoError(t, err)
	return v
}

// sdkAgent is an agent built on the SDK's client and poller, as an agent
// author writes one.
type sdkAgent struct {
	logs     *lockedBuffer
	cancel   context.CancelFunc
	done     chan error
	stopOnce sync.Once
}

// run registers with the fake's printed token and polls; on new_order it
// reports progress, then delivers a text and a PNG. It returns the receipt
// of the first delivery.
func (a *sdkAgent) run(t *testing.T, fake *fakeProcess) <-chan *models.DeliveryReceipt {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	a.cancel, a.done = cancel, make(chan error, 1)
	t.Cleanup(func() { a.stop(t) })
	c, err := client.New(client.WithBaseURL(fake.BaseURL), client.WithLogger(slog.New(slog.NewTextHandler(a.logs, nil))))
	require.NoError(t, err)
	_, err = c.Register(ctx, models.BootstrapToken(fake.Token), fake.AgentID)
	require.NoError(t, err)
	img := pngImage(t)
	receipts := make(chan *models.DeliveryReceipt, 1)
	p, err := poller.New(c, poller.Handlers{
		NewOrder: func(ctx context.Context, ev models.NewOrderEvent) error {
			if _, err := c.ReportProgress(ctx, ev.OrderID, client.ProgressParams{Percent: 50, Message: "drafting"}); err != nil {
				return err
			}
			r, err := c.Deliver(ctx, ev.OrderID, client.Delivery{
				Text:  haiku + "\n(for: " + ev.Order.Brief + ")",
				Files: []client.File{client.FileFromBytes(imageName, img).WithContentType("image/png")},
			})
			if err == nil {
				select {
				case receipts <- r:
				default:
				}
			}
			return err
		},
	})
	require.NoError(t, err)
	go func() { a.done <- p.Run(ctx) }()
	return receipts
}

// stop cancels the poller and waits for Run's clean drain.
func (a *sdkAgent) stop(t *testing.T) {
	a.stopOnce.Do(func() {
		if a.cancel == nil {
			return
		}
		a.cancel()
		select {
		case err := <-a.done:
			assert.NoError(t, err, "the poller's Run after cancel")
		case <-time.After(10 * time.Second):
			t.Errorf("the poller did not return within 10s of cancel")
		}
	})
}

// pngImage is a 16×16 PNG, small enough to deliver and check by its width.
func pngImage(t *testing.T) []byte {
	t.Helper()
	m := image.NewRGBA(image.Rect(0, 0, 16, 16))
	for x := range 16 {
		for y := range 16 {
			m.Set(x, y, color.RGBA{R: 31, G: 111, B: 92, A: 255})
		}
	}
	var buf bytes.Buffer
	require.NoError(t, png.Encode(&buf, m))
	return buf.Bytes()
}

// failureArtifacts writes, when the test fails, a screenshot and the page's
// HTML under $TMPDIR, and names them with what the fake and the agent logged.
// Registered after the browser, it runs before the browser closes.
func failureArtifacts(t *testing.T, tab context.Context, fake *fakeProcess, agent *sdkAgent) {
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		dir, err := os.MkdirTemp("", "heepr-dashboard-") // under $TMPDIR
		if err != nil {
			t.Errorf("no directory for the failure's screenshot: %v", err)
			return
		}
		ctx, cancel := context.WithTimeout(tab, 10*time.Second)
		defer cancel()
		shot, page := filepath.Join(dir, "screenshot.png"), filepath.Join(dir, "page.html")
		if b, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)); err != nil {
			shot = "none (" + err.Error() + ")"
		} else if err := os.WriteFile(shot, b, 0o644); err != nil {
			shot = "none (" + err.Error() + ")"
		}
		if html, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.documentElement.outerHTML`)); err != nil {
			page = "none (" + err.Error() + ")"
		} else if err := os.WriteFile(page, []byte(html), 0o644); err != nil {
			page = "none (" + err.Error() + ")"
		}
		t.Errorf("the dashboard at the failure:\n  screenshot: %s\n  page HTML:  %s\nheepr-fake printed:\n%s%s\nthe agent logged:\n%s",
			shot, page, fake.stdout, fake.stderr, agent.logs)
	})
}
