// Package valid checks free text typed by people before it is stored: lengths
// in characters (not bytes), no control characters, no markup, and no
// fragments of SQL or script that have no business in a government record.
// Storage is parameterised and output is escaped anyway; refusing such input
// keeps the records clean and tells the user clearly what is wrong.
package valid

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"xiangyun/internal/errs"
)

var (
	markup = regexp.MustCompile(`<\s*[a-zA-Z!/?]|javascript:|on[a-z]+\s*=`)
	sqlish = regexp.MustCompile(`(?i)(--|/\*|\*/|;\s*(drop|delete|insert|update|select|alter|truncate|create|exec)\b|'\s*(or|and)\s+['\d]|\bunion\s+(all\s+)?select\b)`)
)

// Line checks a single-line field such as a name: required when min > 0, at
// most max characters, no control characters, no markup, no SQL fragments and
// none of the characters <>"'\;` that never appear in official names.
func Line(fs *errs.Fields, field, label, s string, min, max int) string {
	s = strings.TrimSpace(s)
	if !check(fs, field, s, min, max) {
		return s
	}
	if strings.ContainsAny(s, "<>\"'\\;`\n\r\t") || sqlish.MatchString(s) {
		fs.Add(field, "text.forbidden_chars", "不能包含 < > \" ' \\ ; ` 等特殊字符或脚本、SQL 片段",
			"must not contain < > \" ' \\ ; ` or fragments of markup or SQL")
	}
	return s
}

// Text checks a multi-line field such as an abstract.
func Text(fs *errs.Fields, field, s string, min, max int) string {
	s = strings.TrimSpace(strings.ReplaceAll(s, "\r\n", "\n"))
	if !check(fs, field, s, min, max) {
		return s
	}
	if markup.MatchString(s) || sqlish.MatchString(s) {
		fs.Add(field, "text.markup", "不能包含 HTML 标签、脚本或 SQL 片段", "must not contain HTML tags, script or SQL fragments")
	}
	return s
}

func check(fs *errs.Fields, field, s string, min, max int) bool {
	if !utf8.ValidString(s) {
		fs.Add(field, "text.encoding", "不是有效的 UTF-8 文本", "is not valid UTF-8 text")
		return false
	}
	n := utf8.RuneCountInString(s)
	if n == 0 && min > 0 {
		fs.Add(field, "required", "必填", "is required")
		return false
	}
	if n < min {
		fs.Add(field, "text.too_short", "内容过短", "is too short")
		return false
	}
	if max > 0 && n > max {
		fs.Add(field, "text.too_long", "超过最大长度 "+itoa(max)+" 个字符", "is longer than "+itoa(max)+" characters")
		return false
	}
	for _, r := range s {
		if unicode.IsControl(r) && r != '\n' && r != '\t' {
			fs.Add(field, "text.control_chars", "包含不可见的控制字符", "contains control characters")
			return false
		}
	}
	return true
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return string(b[i:])
}
