// Package browsertest starts Debian's chromium for end-to-end tests with
// chromedp. Without a browser the test is skipped with a clear message,
// except under CI (CI=true), where a missing browser fails the test.
package browsertest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Browser finds the chromium binary: XIANGYUN_CHROMIUM, else chromium or
// chromium-browser on PATH.
func Browser() string {
	if p := os.Getenv("XIANGYUN_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// New returns a browser tab context that lives until the test ends, with an
// overall deadline.
func New(t *testing.T, timeout time.Duration) context.Context {
	t.Helper()
	path := Browser()
	if path == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("CI=true but no chromium found: install Debian's chromium (apt-get install chromium fonts-noto-cjk)")
		}
		t.Skip("browser test skipped: no chromium on PATH (apt-get install chromium fonts-noto-cjk, or set XIANGYUN_CHROMIUM)")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(filepath.Join(t.TempDir(), "profile")),
		chromedp.WindowSize(1400, 1000),
	)
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelB := chromedp.NewContext(actx)
	ctx, cancelT := context.WithTimeout(ctx, timeout)
	t.Cleanup(func() { cancelT(); cancelB(); cancelA() })
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// Visible waits until the first element matching the CSS selector is visible.
func Visible(sel string) chromedp.Action[chromedp.Void] {
	return chromedp.Query(chromedp.CSS(sel), chromedp.NodeVisible)
}

// Type sends keys to the element matching the CSS selector.
func Type(sel, text string) chromedp.Action[chromedp.Void] {
	return chromedp.SendKeys(chromedp.CSS(sel), text, chromedp.NodeVisible)
}

// Click clicks the element matching the CSS selector.
func Click(sel string) chromedp.Action[chromedp.Void] {
	return chromedp.Click(chromedp.CSS(sel), chromedp.NodeVisible)
}

// Text returns the visible text of the element matching the CSS selector.
func Text(ctx context.Context, sel string) (string, error) {
	return chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel), chromedp.NodeVisible))
}
