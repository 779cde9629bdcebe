package tabular

import "testing"

func TestIsFormula(t *testing.T) {
	for s, want := range map[string]bool{
		"":                    false,
		"张三":                  false,
		"=1+1":                true,
		"=HYPERLINK(\"x\")":   true,
		"+cmd|' /C calc'!A0":  true,
		"-2+3":                true,
		"@SUM(A1)":            true,
		"\t=1":                true,
		"\rx":                 true,
		"  =1":                true,
		"-12.5":               false,
		"+86":                 false,
		"+8613800138000":      false,
		"+86 138 0013 8000":   true,
		"-":                   false,
		"+":                   false,
		"-.5":                 false,
		"1e5":                 false,
		"-3e-5%":              false,
		"-1e":                 true,
		"-abc":                true,
		"a=b":                 false,
		"'=1":                 false,
		"'; DROP TABLE x;--":  false,
		"<script>":            false,
		"110101199001011234":  false,
		"-110101199001011234": false,
		"－全角减号":               false,
		"   ":                 false,
		"-1,234":              true,
		"=":                   true,
		"@":                   true,
		"--":                  true,
	} {
		if got := IsFormula(s); got != want {
			t.Errorf("IsFormula(%q) = %v, want %v", s, got, want)
		}
	}
}

func TestColumnName(t *testing.T) {
	for i, want := range map[int]string{
		-1: "", 0: "A", 1: "B", 25: "Z", 26: "AA", 27: "AB", 51: "AZ", 52: "BA",
		701: "ZZ", 702: "AAA", 16383: "XFD",
	} {
		if got := ColumnName(i); got != want {
			t.Errorf("ColumnName(%d) = %q, want %q", i, got, want)
		}
	}
}

func TestCleanCell(t *testing.T) {
	for in, want := range map[string]string{
		"  张三  ":           "张三",
		"\u3000全角\u3000":   "全角",
		"\ufeff编号":         "编号",
		"\u200b值\u00a0":    "值",
		"a\r\nb\rc\nd":     "a\nb\nc\nd",
		"a\tb":             "a b",
		"x\x00y\x1b\x7fz":  "xyz",
		"c1\u0085control":  "c1control",
		"é à ©":            "é à ©",
		"\n\n多行\n\n":       "多行",
		"plain ascii text": "plain ascii text",
	} {
		if got := cleanCell(in); got != want {
			t.Errorf("cleanCell(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestErrorMessage(t *testing.T) {
	e := &Error{Code: CodeMalformedCSV, ZH: "格式错误", EN: "bad", Row: 3, Col: 28}
	if got := e.Error(); got != "row 3, column AB: bad" {
		t.Errorf("Error() = %q", got)
	}
	e.Col = 0
	if got := e.Error(); got != "row 3: bad" {
		t.Errorf("Error() = %q", got)
	}
	e.Row, e.Col = 0, 1
	if got := e.Error(); got != "column A: bad" {
		t.Errorf("Error() = %q", got)
	}
	e.Col = 0
	if got := e.Error(); got != "bad" {
		t.Errorf("Error() = %q", got)
	}
}
