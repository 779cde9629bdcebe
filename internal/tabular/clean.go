package tabular

import (
	"strings"
	"unicode"
)

// cleanCell normalises a cell value read from a file:
//
//   - line breaks (\r\n, \r) become \n and are kept inside the value;
//   - tabs become spaces;
//   - other C0 controls, DEL and C1 controls (including NUL) are dropped;
//   - surrounding whitespace (including U+3000 ideographic space, NBSP),
//     zero-width spaces and stray BOMs are trimmed.
func cleanCell(s string) string {
	for i := 0; i < len(s); i++ {
		// 0xC2 is the UTF-8 lead byte of U+0080..U+00BF, which holds the C1
		// controls; take the slow path and let stripControls decide.
		if c := s[i]; c < 0x20 || c == 0x7f || c == 0xc2 {
			s = stripControls(s)
			break
		}
	}
	return strings.TrimFunc(s, isTrimmable)
}

func stripControls(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\n':
			return r
		case r == '\r':
			return '\n'
		case r == '\t':
			return ' '
		case r < 0x20, r >= 0x7f && r <= 0x9f:
			return -1
		}
		return r
	}, s)
}

func isTrimmable(r rune) bool {
	return unicode.IsSpace(r) || r == '\ufeff' || r == '\u200b'
}

// IsFormula reports whether a spreadsheet application would treat the cell
// as a formula when the value is typed in or opened from a CSV file, i.e.
// whether it is a CSV/formula-injection risk. That is the case when the first
// character (after any leading spaces) is one of = + - @ or a tab or carriage
// return.
//
// Plain numbers such as "-12.5", "+86" or "-3e5%", and a lone "-" or "+"
// (common "no value" placeholders), are not formulas. Anything else starting
// with + or -, e.g. "+86 138 0000 0000" or "-2+3+cmd|' /C calc'!A0", is.
func IsFormula(s string) bool {
	if s == "" {
		return false
	}
	switch s[0] {
	case '\t', '\r':
		return true
	}
	s = strings.TrimLeft(s, " ")
	if s == "" {
		return false
	}
	switch s[0] {
	case '=', '@':
		return true
	case '+', '-':
		return len(s) > 1 && !isNumber(s)
	}
	return false
}

// isNumber reports whether s is a plain decimal number: an optional sign,
// digits with an optional fraction, an optional exponent and an optional
// trailing percent sign.
func isNumber(s string) bool {
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	digits := 0
	for ; i < len(s) && isDigit(s[i]); i++ {
		digits++
	}
	if i < len(s) && s[i] == '.' {
		for i++; i < len(s) && isDigit(s[i]); i++ {
			digits++
		}
	}
	if digits == 0 {
		return false
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		start := i
		for ; i < len(s) && isDigit(s[i]); i++ {
		}
		if i == start {
			return false
		}
	}
	if i < len(s) && s[i] == '%' {
		i++
	}
	return i == len(s)
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }
