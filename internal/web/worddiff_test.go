package web

import (
	"strings"
	"testing"
)

func render(ss []seg) string {
	var b strings.Builder
	for _, s := range ss {
		if s.Changed {
			b.WriteString("[" + s.Text + "]")
		} else {
			b.WriteString(s.Text)
		}
	}
	return b.String()
}

func TestWordDiff(t *testing.T) {
	for _, c := range []struct{ old, new, wantOld, wantNew string }{
		{"仅用于政务服务事项办理中的身份核验", "仅用于政务服务事项办理中的身份核验和资格审查",
			"仅用于政务服务事项办理中的身份核验", "仅用于政务服务事项办理中的身份核验[和资格审查]"},
		{"每日更新，用于户籍管理", "每月更新，用于户籍管理", "每[日]更新，用于户籍管理", "每[月]更新，用于户籍管理"},
		{"format oracle db", "format kingbase db", "format [oracle] db", "format [kingbase] db"},
		{"相同", "相同", "相同", "相同"},
		{"", "新增内容", "", "[新增内容]"},
	} {
		o, n := wordDiff(c.old, c.new)
		if render(o) != c.wantOld || render(n) != c.wantNew {
			t.Errorf("%q → %q: got %q / %q", c.old, c.new, render(o), render(n))
		}
	}
	// Long texts stay correct and bounded.
	long := strings.Repeat("吉林省公共数据", 800)
	o, n := wordDiff(long+"甲", long+"乙")
	if render(o) != long+"[甲]" || render(n) != long+"[乙]" {
		t.Errorf("long text: %d segments", len(o))
	}
}
