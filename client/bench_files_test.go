package client_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"testing"
	"time"

	"github.com/heepr/heepr-go/client"
)

// benchFileSize is the file BenchmarkDeliverFile uploads: large enough that
// reading it into memory would show at once in the heap.
const benchFileSize = 1 << 30

// maxPeakHeapMiB is the most the heap may grow while a file of any size is
// uploaded (issue 6).
const maxPeakHeapMiB = 16

// sinkServer takes a delivery as the platform does, discarding its body, and
// answers 202 with a small receipt.
func sinkServer(b *testing.B) *httptest.Server {
	b.Helper()
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/api/orders/ord_1/deliver" || r.Header.Get("Authorization") == "" {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		if _, err := io.Copy(io.Discard, r.Body); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusAccepted)
		_, _ = io.WriteString(w, `{"id":"dlv_1","order_id":"ord_1","state":"pending_review"}`+"\n")
	}))
	b.Cleanup(ts.Close)
	return ts
}

// sparseFile is a file of size bytes that takes no disk: a hole of zeros.
func sparseFile(b *testing.B, size int64) string {
	b.Helper()
	path := filepath.Join(b.TempDir(), "big.bin")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	if err := f.Truncate(size); err != nil {
		b.Fatal(err)
	}
	// Read it once, so its pages are cached before either side is timed: the
	// first reader of a hole pays for zeroing it, which is no one's throughput.
	if _, err := io.Copy(io.Discard, f); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	return path
}

// peakHeap runs fn and returns how far the heap grew above what it held
// before, at its highest, sampled every 2 ms: live objects and garbage not
// yet swept alike, so buffering a file shows however briefly it lasts.
func peakHeap(fn func()) uint64 {
	const metric = "/memory/classes/heap/objects:bytes"
	runtime.GC()
	s := []metrics.Sample{{Name: metric}}
	metrics.Read(s)
	base := s[0].Value.Uint64()

	stop, peakc := make(chan struct{}), make(chan uint64)
	go func() {
		t := time.NewTicker(2 * time.Millisecond)
		defer t.Stop()
		s := []metrics.Sample{{Name: metric}}
		var peak uint64
		for {
			select {
			case <-stop:
				peakc <- peak
				return
			case <-t.C:
				metrics.Read(s)
				peak = max(peak, s[0].Value.Uint64())
			}
		}
	}()
	fn()
	close(stop)
	peak := <-peakc
	if peak < base {
		return 0
	}
	return peak - base
}

// BenchmarkDeliverFile uploads a 1 GiB file with Deliver to a loopback server
// that discards it, beside a baseline that io.Copies the same file through a
// pipe into a plain net/http POST with the same Content-Length, to the same
// server, in the same run. Targets (issue 6): the SDK's throughput at least
// 70% of the baseline's, and the heap never more than 16 MiB above where it
// started (peak-heap-MiB; the benchmark fails past it). BENCHMARKS.md has the
// numbers. It runs only with -bench.
func BenchmarkDeliverFile(b *testing.B) {
	ts := sinkServer(b)
	path := sparseFile(b, benchFileSize)
	const key = "sk_live_4f9c2a7e1b8d4c6a9e0f3b5d7a1c2e4f"
	tr := &http.Transport{}
	b.Cleanup(tr.CloseIdleConnections)
	hc := &http.Client{Transport: tr}
	ctx := context.Background()

	run := func(b *testing.B, upload func() error) {
		// Once untimed (b.Loop resets the timer): what happens once per
		// process, such as loading mime's extension table or dialling, is not
		// what an upload costs.
		if err := upload(); err != nil {
			b.Fatal(err)
		}
		b.SetBytes(benchFileSize)
		b.ReportAllocs()
		peak := peakHeap(func() {
			for b.Loop() {
				if err := upload(); err != nil {
					b.Fatal(err)
				}
			}
		})
		mib := float64(peak) / (1 << 20)
		b.ReportMetric(mib, "peak-heap-MiB")
		if mib > maxPeakHeapMiB {
			b.Errorf("the heap grew %.1f MiB during the upload; the most allowed is %d MiB", mib, maxPeakHeapMiB)
		}
	}

	b.Run("sdk", func(b *testing.B) {
		c, err := client.New(client.WithBaseURL(ts.URL+"/api"), client.WithAPIKey(key), client.WithHTTPClient(hc))
		if err != nil {
			b.Fatal(err)
		}
		run(b, func() error {
			_, err := c.Deliver(ctx, "ord_1", client.Delivery{Files: []client.File{client.FileFromPath(path)}})
			return err
		})
	})

	b.Run("baseline", func(b *testing.B) {
		url := ts.URL + "/api/orders/ord_1/deliver"
		run(b, func() error { return baselineUpload(ctx, hc, url, key, path) })
	})
}

// baselineUpload is the least a program does to stream a file with net/http:
// io.Copy from the file into a pipe that is the request's body.
func baselineUpload(ctx context.Context, hc *http.Client, url, key, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	pr, pw := io.Pipe()
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, err := io.Copy(pw, f)
		pw.CloseWithError(err)
	}()
	defer func() { pr.Close(); <-done }()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, pr)
	if err != nil {
		return err
	}
	req.ContentLength = fi.Size()
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/octet-stream")
	res, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	_, err = io.Copy(io.Discard, res.Body)
	return err
}
