package web

import (
	"net/url"
	"strings"
	"testing"
)

// TestLocalPath feeds the sign-in and language redirects the usual open
// redirect attacks; each must come back as a path on this site.
func TestLocalPath(t *testing.T) {
	attacks := []string{
		"//evil.example", "/\t/evil.example", "/\n/evil.example", "/\r\n/evil.example", "\t//evil.example",
		" //evil.example", "/\\evil.example", "\\\\evil.example", "/\\/evil.example", "\\/evil.example",
		"https://evil.example", "http:evil.example", "javascript:alert(1)", "JaVaScRiPt:alert(1)",
		"\tjavascript:alert(1)", "data:text/html,x", "evil.example", "", "/%09/evil.example\\x",
		"/x\\..\\..\\evil.example", "\x00//evil.example", "/\x00/evil.example", "/\x7f/evil.example",
		"//user@evil.example", "///evil.example", "\x01/\t/evil.example",
	}
	for _, a := range attacks {
		got := localPath(a)
		if got != "/" {
			t.Errorf("localPath(%q) = %q, want /", a, got)
		}
	}
	// What a browser makes of each accepted value stays on this site.
	base, _ := url.Parse("https://xy.example/login")
	for _, ok := range []string{"/", "/catalog?q=%E4%BA%BA%E5%8F%A3&share_type=none", "/catalog/12/edit", "/users/5#roles",
		"/a/../b", "/%2F%2Fevil.example", "/catalog?next=//evil.example"} {
		got := localPath(ok)
		if got != ok {
			t.Errorf("localPath(%q) = %q, want it unchanged", ok, got)
		}
		u, err := base.Parse(strings.NewReplacer("\t", "", "\n", "", "\r", "").Replace(got))
		if err != nil || u.Host != "xy.example" {
			t.Errorf("localPath(%q) = %q leads to %v", ok, got, u)
		}
	}
	// A value with tab or newline inside a local path is kept as the browser reads it.
	if got := localPath("/cata\tlog"); got != "/catalog" {
		t.Errorf("localPath with tab in a local path = %q", got)
	}
}
