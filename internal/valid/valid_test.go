package valid

import (
	"strings"
	"testing"

	"xiangyun/internal/errs"
)

// Ordinary government text passes as typed, whatever punctuation it holds.
func TestOrdinaryTextAccepted(t *testing.T) {
	lines := []string{
		"经省政数局审批",
		"2019--2024年全省企业登记信息",
		"《吉林省公共数据和一网通办管理办法（试行）》第十五条",
		`“一网通办”事项清单（含'好差评'数据）`,
		`吉政发〔2019〕4号; 第25条 "授权共享"`,
		"人口 <80 万的县（市、区）",
		"select / update 两类接口 -- 见附件",
		"C:\\共享\\目录; a/*b*/c",
		"JSZH_2024 & GMSFHM",
		"../../etc/passwd",
	}
	for _, s := range lines {
		var fs errs.Fields
		if got := Line(&fs, "name", "名称", s, 1, 100); got != s || fs.Err() != nil {
			t.Errorf("Line(%q) = %q, %v", s, got, fs.Err())
		}
		fs = nil
		if got := Text(&fs, "abstract", s, 1, 1000); got != s || fs.Err() != nil {
			t.Errorf("Text(%q) = %q, %v", s, got, fs.Err())
		}
	}
	var fs errs.Fields
	if got := Text(&fs, "abstract", "  第一段\r\n\t第二段：经省政数局审批后共享。 ", 1, 1000); got != "第一段\n\t第二段：经省政数局审批后共享。" || fs.Err() != nil {
		t.Errorf("multi-line text: %q, %v", got, fs.Err())
	}
}

// The real limits stay: length in characters, control characters, line
// breaks in a single line, invalid UTF-8, bidirectional overrides.
func TestLimits(t *testing.T) {
	cases := []struct {
		s, code string
		text    bool
	}{
		{"", "required", false},
		{"局", "text.too_short", false},
		{strings.Repeat("长", 11), "text.too_long", false},
		{strings.Repeat("长", 11), "text.too_long", true},
		{"a\x00b", "text.control_chars", false},
		{"a\x00b", "text.control_chars", true},
		{"a\x1bb", "text.control_chars", true},
		{"第一行\n第二行", "text.single_line", false},
		{"名\t称", "text.single_line", false},
		{"ab\xffcd", "text.encoding", false},
		{"ab\xffcd", "text.encoding", true},
		{"ab\u202Efdp.exe", "text.bidi_control", false},
		{"说明\u2066隔离\u2069", "text.bidi_control", true},
	}
	for _, c := range cases {
		var fs errs.Fields
		if c.text {
			Text(&fs, "f", c.s, 2, 10)
		} else {
			Line(&fs, "f", "字段", c.s, 2, 10)
		}
		if len(fs) != 1 || fs[0].Code != c.code || fs[0].Field != "f" || fs[0].ZH == "" || fs[0].EN == "" {
			t.Errorf("%q (text %v): %+v, want %s", c.s, c.text, fs, c.code)
		}
	}
	// Length counts characters, not bytes.
	var fs errs.Fields
	if Line(&fs, "f", "字段", strings.Repeat("长", 10), 2, 10); fs.Err() != nil {
		t.Errorf("10 characters of 3 bytes each refused: %v", fs.Err())
	}
}
