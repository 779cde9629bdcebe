package server_test

import (
	"io"
	"regexp"
	"strings"
	"testing"
)

// The API reference works without Internet access: its page names no other
// origin, its CSP allows none, and the viewer it loads is served from the
// binary.
func TestAPIDocsOffline(t *testing.T) {
	e := newEnv(t, "sqlite:"+t.TempDir())
	anon := e.client("")
	res := e.do(anon, "GET", "/api/v1/docs", nil)
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	page := string(b)
	if res.StatusCode != 200 || !strings.Contains(page, "<elements-api") {
		t.Fatalf("docs: %d %.300s", res.StatusCode, page)
	}
	if m := regexp.MustCompile(`(?i)(https?:)?//[a-z0-9.-]+\.[a-z]{2,}`).FindString(page); m != "" {
		t.Errorf("the docs page loads from %s", m)
	}
	csp := res.Header.Get("Content-Security-Policy")
	if csp == "" || strings.Contains(csp, "http") || !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-eval") {
		t.Errorf("docs CSP %q", csp)
	}
	for _, src := range regexp.MustCompile(`(?:src|href)="(/static/[^"]+)"`).FindAllStringSubmatch(page, -1) {
		res := e.do(anon, "GET", src[1], nil)
		n, _ := io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != 200 || n < 100 {
			t.Errorf("%s: %d, %d bytes", src[1], res.StatusCode, n)
		}
	}
}
