package web

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"xiangyun/internal/catalog"
)

// TestHere checks where the language switch comes back to: the page itself
// for a GET, the same-origin page a form was on for a post, else home.
func TestHere(t *testing.T) {
	for _, c := range []struct {
		method, target, referer, want string
	}{
		{"GET", "/catalog?q=%E4%BA%BA%E5%8F%A3&share_type=none", "", "/catalog?q=%E4%BA%BA%E5%8F%A3&share_type=none"},
		{"POST", "/users/5/password", "http://example.test/users/5", "/users/5"},
		{"POST", "/catalog/lists/demand", "http://example.test/catalog/lists?tab=demand", "/catalog/lists?tab=demand"},
		{"POST", "/profile/tokens", "http://evil.test/phish", "/"},
		{"POST", "/profile/tokens", "", "/"},
	} {
		r := httptest.NewRequest(c.method, "http://example.test"+c.target, nil)
		if c.referer != "" {
			r.Header.Set("Referer", c.referer)
		}
		if got := here(r); got != c.want {
			t.Errorf("%s %s (referer %q): here = %q, want %q", c.method, c.target, c.referer, got, c.want)
		}
	}
}

// TestRefusalCatcher checks that only the guard's bare refusals are held
// back; the console's own pages and errors pass through.
func TestRefusalCatcher(t *testing.T) {
	for _, c := range []struct {
		name    string
		write   func(w http.ResponseWriter)
		refused int
		body    string
	}{
		{"guard 403", func(w http.ResponseWriter) {
			w.WriteHeader(http.StatusForbidden)
			_, _ = w.Write([]byte("403 无权访问 / forbidden"))
		}, http.StatusForbidden, ""},
		{"guard 401", func(w http.ResponseWriter) {
			http.Error(w, "请先登录 / sign in first", http.StatusUnauthorized)
		}, http.StatusUnauthorized, ""},
		{"console 403 page", func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.WriteHeader(http.StatusForbidden)
			_, _ = w.Write([]byte("<p>只能编辑本单位提供的目录</p>"))
		}, 0, "<p>只能编辑本单位提供的目录</p>"},
		{"login refused", func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte("<p>用户名或密码错误</p>"))
		}, 0, "<p>用户名或密码错误</p>"},
		{"download", func(w http.ResponseWriter) { _, _ = w.Write([]byte("a,b\n")) }, 0, "a,b\n"},
	} {
		rec := httptest.NewRecorder()
		rc := &refusalCatcher{ResponseWriter: rec}
		c.write(rc)
		if rc.refused != c.refused || rec.Body.String() != c.body {
			t.Errorf("%s: refused %d, body %q; want %d, %q", c.name, rc.refused, rec.Body.String(), c.refused, c.body)
		}
	}
}

// TestDescribeItem checks that an added or removed data item reads in the
// page's language, with the masking rule named rather than coded.
func TestDescribeItem(t *testing.T) {
	it := &catalog.Item{Name: "联系人", EnName: "lxr", DataType: "C", Length: 50, Sensitive: true, Mask: "name"}
	zh := vocab{lang: "zh"}.describeItem(it)
	en := vocab{lang: "en"}.describeItem(it)
	if !strings.Contains(zh, "C 字符型(50)") || !strings.Contains(zh, "敏感") || strings.Contains(zh, "mask") || strings.Contains(zh, ":name") {
		t.Errorf("zh: %q", zh)
	}
	if !strings.Contains(en, "sensitive") || !strings.Contains(en, "masking: ") || strings.ContainsAny(en, "敏感脱") {
		t.Errorf("en: %q", en)
	}
}

// TestAuditAction names recorded actions, refusals included, and leaves
// unknown ones to their code.
func TestAuditAction(t *testing.T) {
	if got := auditAction("session.login", "zh"); got != "登录" {
		t.Errorf("session.login: %q", got)
	}
	if got := auditAction("catalog.mine.denied", "en"); !strings.Contains(got, "refused") {
		t.Errorf("catalog.mine.denied: %q", got)
	}
	if got := auditAction("something.new", "zh"); got != "" {
		t.Errorf("unknown: %q", got)
	}
}
