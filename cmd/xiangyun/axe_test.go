package main

import (
	"net/url"
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"xiangyun/internal/browsertest"
)

// axeRoles are the demo logins whose console the accessibility pass walks.
var axeRoles = []string{"admin", "secofficer", "auditor", "reviewer", "police_cdo", "police_spec"}

// axeMaxPages bounds the pages visited per role (distinct page kinds only).
const axeMaxPages = 45

var digits = regexp.MustCompile(`\d+`)

// pageKind is a link's page without its ids and paging: /catalog/12?via=review
// and /catalog/13?via=review are one kind of page.
func pageKind(u *url.URL) string {
	q := u.Query()
	var keys []string
	for k := range q {
		switch k {
		case "tab", "via", "status":
			keys = append(keys, k+"="+q.Get(k))
		}
	}
	sort.Strings(keys)
	return digits.ReplaceAllString(u.Path, "{n}") + "?" + strings.Join(keys, "&")
}

// skipLink says which links the pass does not follow: actions, downloads,
// the API and other origins.
func skipLink(u *url.URL) bool {
	p := u.Path
	return u.Host != "" || p == "/logout" || p == "/lang" || strings.HasPrefix(p, "/static/") || strings.HasPrefix(p, "/api/") ||
		strings.Contains(p, "export") || strings.Contains(p, "template") || u.Query().Get("format") != ""
}

// TestAccessibility walks every console page each role can reach from its
// home page (one page of each kind) at 1024 px wide and runs axe-core
// (WCAG 2.1 A and AA) on it: no serious or critical violation may remain.
// It also checks that the page does not scroll sideways, nor any table
// inside it, and that ECharts is loaded only where a chart is. The anonymous pages (sign-in, 404) are checked too.
func TestAccessibility(t *testing.T) {
	base := os.Getenv("XIANGYUN_E2E_URL") // a running demo, to iterate on the pages faster
	if base == "" {
		base, _ = startDemo(t)
	}
	ctx := browsertest.New(t, 8*time.Minute)
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1024, 768)); err != nil {
		t.Fatal(err)
	}
	pages := 0
	check := func(who, path string) []string {
		t.Helper()
		if err := chromedp.Do(ctx, chromedp.Navigate(base+path), chromedp.WaitReady("body")); err != nil {
			if strings.Contains(err.Error(), "ERR_ABORTED") { // a download, not a page
				return nil
			}
			t.Errorf("%s %s: %v", who, path, err)
			return nil
		}
		time.Sleep(150 * time.Millisecond) // htmx and app.js enhancements
		pages++
		vs, err := browsertest.Axe(ctx)
		if err != nil {
			t.Fatalf("%s %s: %v", who, path, err)
		}
		for _, v := range vs {
			t.Errorf("%s %s: %s", who, path, v)
		}
		over, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`(() => {
			const out = [];
			const d = document.documentElement;
			if (d.scrollWidth > d.clientWidth + 1) out.push('page ' + d.scrollWidth + 'px');
			document.querySelectorAll('table').forEach(t => {
				for (let p = t.parentElement; p && p !== document.body; p = p.parentElement) {
					if (p.scrollWidth > p.clientWidth + 1 && getComputedStyle(p).overflowX !== 'visible') {
						out.push((t.id || t.className || 'table') + ' ' + t.scrollWidth + 'px in ' + p.clientWidth + 'px');
						break;
					}
				}
			});
			return out;
		})()`))
		if err != nil {
			t.Fatalf("%s %s: %v", who, path, err)
		}
		for _, o := range over {
			t.Errorf("%s %s: scrolls sideways at 1024 px: %s", who, path, o)
		}
		// ECharts (1 MB) is loaded on the pages with a chart, and only there.
		charts, err := chromedp.Run(ctx, chromedp.Evaluate[[]bool](`[!!document.querySelector('[data-chart]'), !!document.querySelector('script[src*="echarts"]')]`))
		if err == nil && charts[0] != charts[1] {
			t.Errorf("%s %s: chart on the page %v, ECharts loaded %v", who, path, charts[0], charts[1])
		}
		links, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll('a[href]:not([download])')).map(a => a.getAttribute('href'))`))
		if err != nil {
			t.Fatalf("%s %s: %v", who, path, err)
		}
		return links
	}
	check("anonymous", "/login")
	check("anonymous", "/no-such-page")
	for _, role := range axeRoles {
		err := chromedp.Do(ctx,
			chromedp.Navigate(base+"/login"),
			browsertest.Type("#username", role),
			browsertest.Type("#password", demoPassword),
			browsertest.Click(`form[action="/login"] button[type=submit]`),
			browsertest.Visible("nav .nav-item"),
			chromedp.Navigate(base+"/lang?l=zh&next=/"),
			browsertest.Visible("nav .nav-item"),
		)
		if err != nil {
			t.Fatalf("%s login: %v", role, err)
		}
		seen := map[string]bool{}
		queue := []string{"/"}
		seen[pageKind(&url.URL{Path: "/"})] = true
		for n := 0; len(queue) > 0 && n < axeMaxPages; n++ {
			path := queue[0]
			queue = queue[1:]
			for _, href := range check(role, path) {
				u, err := url.Parse(href)
				if err != nil || !strings.HasPrefix(href, "/") || strings.HasPrefix(href, "//") || skipLink(u) {
					continue
				}
				if k := pageKind(u); !seen[k] {
					seen[k] = true
					queue = append(queue, u.RequestURI())
				}
			}
		}
		if err := chromedp.Do(ctx, chromedp.Navigate(base+"/"), browsertest.Click("details.menu summary"), browsertest.Click("#logout"), browsertest.Visible("#username")); err != nil {
			t.Fatalf("%s logout: %v", role, err)
		}
	}
	t.Logf("axe-core checked %d pages", pages)
}
