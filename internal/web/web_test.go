package web

import (
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

// TestAuditWords checks that the audit log reads in Chinese: the platform
// as 系统, objects and details named, the demo's actions labelled.
func TestAuditWords(t *testing.T) {
	for _, c := range []struct{ got, want string }{
		{auditActor("system", "zh"), "系统"},
		{auditObject("user:3", "zh"), "用户 3"},
		{auditObject("entry:12", "en"), "entry 12"},
		{auditObject("odd", "zh"), "odd"},
		{auditAction("demo.load", "zh"), "载入演示数据"},
		{auditDetail(map[string]string{"users": "80", "bodies": "74", "ok": "true"}, "zh"), "机构数：74；校验通过：是；用户数：80"},
		{auditDetail(map[string]string{"status": "See Other"}, "zh"), "状态：已跳转"},
		{bilingual("由第 2 版替代 / superseded by version 2", "zh"), "由第 2 版替代"},
		{auditDetail(map[string]string{"status": "See Other"}, "zh"), "状态：已跳转"},
		{bilingual("由第 2 版替代 / superseded by version 2", "en"), "superseded by version 2"},
		{bilingual("吉政发〔2019〕4号 / 第25条", "en"), "吉政发〔2019〕4号 / 第25条"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}
