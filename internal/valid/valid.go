// Package valid checks free text typed by people before it is stored: valid
// UTF-8, a length in characters (not bytes), no control characters and no
// bidirectional overrides.
//
// It deliberately does not look for markup or SQL: every query is
// parameterised and every page escapes, so 「经省政数局审批」, 「2019--2024年」,
// quotes, semicolons, angle brackets and words like "select" are ordinary
// text here, stored and shown exactly as typed. Filtering them would only
// refuse honest users.
package valid

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"xiangyun/internal/errs"
)

// Line checks a single-line field such as a name: trimmed, required when
// min > 0, at most max characters (0: no limit), and no line breaks, tabs
// or other control characters. label is the field's Chinese name, kept for
// callers' readability.
func Line(fs *errs.Fields, field, label, s string, min, max int) string {
	s = strings.TrimSpace(s)
	check(fs, field, s, min, max, false)
	return s
}

// Text checks a multi-line field such as an abstract: like Line, but line
// breaks and tabs are allowed (CRLF is stored as LF).
func Text(fs *errs.Fields, field, s string, min, max int) string {
	s = strings.TrimSpace(strings.ReplaceAll(s, "\r\n", "\n"))
	check(fs, field, s, min, max, true)
	return s
}

func check(fs *errs.Fields, field, s string, min, max int, multiline bool) bool {
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
		fs.Add(field, "text.too_long", "超过最大长度 "+strconv.Itoa(max)+" 个字符", "is longer than "+strconv.Itoa(max)+" characters")
		return false
	}
	for _, r := range s {
		switch {
		case multiline && (r == '\n' || r == '\t'):
		case unicode.IsControl(r):
			if r == '\n' || r == '\r' || r == '\t' {
				fs.Add(field, "text.single_line", "须为一行文字，不能换行", "must be a single line")
			} else {
				fs.Add(field, "text.control_chars", "包含不可见的控制字符", "contains control characters")
			}
			return false
		case isBidiControl(r):
			// They make text display in an order other than the stored one
			// (a name that reads differently from what is searched and signed).
			fs.Add(field, "text.bidi_control", "包含改变文字显示方向的不可见字符", "contains invisible characters that change the text's display direction")
			return false
		}
	}
	return true
}

// isBidiControl reports the explicit directional embeddings, overrides and
// isolates (U+202A–U+202E, U+2066–U+2069), which ordinary text never needs.
func isBidiControl(r rune) bool {
	return (r >= 0x202A && r <= 0x202E) || (r >= 0x2066 && r <= 0x2069)
}
