package main

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"xiangyun/internal/browsertest"
)

// TestConsoleExtras opens the API reference in the browser (the vendored
// viewer must draw the operations under the page's own CSP, with no
// request to another origin) and picks a classification from the entry
// editor's class tree by searching it.
func TestConsoleExtras(t *testing.T) {
	base := os.Getenv("XIANGYUN_E2E_URL")
	if base == "" {
		base, _ = startDemo(t)
	}
	ctx := browsertest.New(t, 2*time.Minute)
	wctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	err := chromedp.Do(wctx, chromedp.Navigate(base+"/api/v1/docs"))
	if err == nil {
		_, err = chromedp.Run(wctx, chromedp.Poll[bool](`document.body.innerText.includes('catalog') && document.body.innerText.includes('Xiangyun')`, chromedp.WithPollingInterval(300*time.Millisecond)))
	}
	if err != nil {
		txt, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.innerText.slice(0, 500)`))
		t.Fatalf("the API reference did not render: %v\n%s", err, txt)
	}
	origins, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`performance.getEntriesByType('resource').map(e => new URL(e.name).origin).filter(o => o !== location.origin)`))
	if err != nil {
		t.Fatal(err)
	}
	if len(origins) > 0 {
		t.Errorf("the docs page loaded from %s", strings.Join(origins, ", "))
	}

	err = chromedp.Do(ctx,
		chromedp.Navigate(base+"/login"),
		browsertest.Type("#username", "police_cdo"),
		browsertest.Type("#password", demoPassword),
		browsertest.Click(`form[action="/login"] button[type=submit]`),
		browsertest.Visible("nav .nav-item"),
		chromedp.Navigate(base+"/lang?l=zh&next=/catalog/new"),
		browsertest.Visible("#entry-form"),
		browsertest.Type("#class", "9/99/123"),
		browsertest.Click("[data-picker-toggle]"),
		browsertest.Visible("#class-search"),
		browsertest.Type("#class-search", "社会保障"),
	)
	if err != nil {
		t.Fatalf("open the class picker: %v", err)
	}
	shown, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll('#class-tree [data-code]')).filter(b => b.offsetParent).map(b => b.dataset.code)`))
	if err != nil || len(shown) != 1 || shown[0] != "2/01/" {
		t.Fatalf("searching 社会保障 shows %v (%v)", shown, err)
	}
	if err := chromedp.Do(ctx, browsertest.Click(`#class-tree [data-code="2/01/"]`)); err != nil {
		t.Fatal(err)
	}
	got, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById('class').value`))
	if err != nil || got != "2/01/123" {
		t.Errorf("picked class %q (%v), want 2/01/123 (the typed 目 kept)", got, err)
	}
	if hidden, _ := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.getElementById('class-tree').hidden`)); !hidden {
		t.Error("the picker stays open after a choice")
	}
}
