package main

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"xiangyun/internal/browsertest"
)

// TestScreenshots takes the README's screenshots (docs/*.png) of the demo
// console: XIANGYUN_SCREENSHOT_DIR=docs go test -run TestScreenshots ./cmd/xiangyun
// (with XIANGYUN_E2E_URL, of a demo already running).
func TestScreenshots(t *testing.T) {
	dir := os.Getenv("XIANGYUN_SCREENSHOT_DIR")
	if dir == "" {
		t.Skip("screenshots skipped: set XIANGYUN_SCREENSHOT_DIR to the folder for them (e.g. docs)")
	}
	base := os.Getenv("XIANGYUN_E2E_URL")
	if base == "" {
		base, _ = startDemo(t)
	}
	ctx := browsertest.New(t, 4*time.Minute)
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1440, 900)); err != nil {
		t.Fatal(err)
	}
	login := func(user string) {
		t.Helper()
		err := chromedp.Do(ctx,
			chromedp.Navigate(base+"/login"),
			browsertest.Type("#username", user),
			browsertest.Type("#password", demoPassword),
			browsertest.Click(`form[action="/login"] button[type=submit]`),
			browsertest.Visible("nav .nav-item"),
			chromedp.Navigate(base+"/lang?l=zh&next=/"),
			browsertest.Visible("nav .nav-item"),
		)
		if err != nil {
			t.Fatalf("%s login: %v", user, err)
		}
	}
	shot := func(path, file string) {
		t.Helper()
		if err := chromedp.Do(ctx, chromedp.Navigate(base+path), chromedp.WaitReady("main")); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		time.Sleep(1500 * time.Millisecond) // charts and fonts
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatalf("screenshot of %s: %v", path, err)
		}
		if err := os.WriteFile(filepath.Join(dir, file), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	logout := func() {
		t.Helper()
		if err := chromedp.Do(ctx, chromedp.Navigate(base+"/"), browsertest.Click("details.menu summary"), browsertest.Click("#logout"), browsertest.Visible("#username")); err != nil {
			t.Fatalf("logout: %v", err)
		}
	}
	login("reviewer")
	shot("/", "console.png")
	shot("/catalog/stats", "catalog-stats.png")
	logout()
	login("police_spec")
	shot("/catalog", "catalog-search.png")
	logout()
	login("police_cdo")
	shot("/", "console-cdo.png")
	// A revision's differences, word by word.
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/")); err != nil {
		t.Fatal(err)
	}
	href, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(Array.from(document.querySelectorAll('#home-catalog-tasks tr')).find(r => r.textContent.includes('修订')) || {querySelector: () => ({getAttribute: () => ''})}).querySelector('a').getAttribute('href')`))
	if err == nil && href != "" {
		shot(href+"/diff", "catalog-diff.png")
	}
	// The entry editor's classification picker.
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/catalog/new"), browsertest.Click("[data-picker-toggle]"), browsertest.Type("#class-search", "人口")); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	if png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)); err == nil {
		_ = os.WriteFile(filepath.Join(dir, "catalog-editor.png"), png, 0o644)
	}
}
