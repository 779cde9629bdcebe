// Package mask hides parts of personal data (脱敏) before it is shown to
// readers who are not its provider. The rules follow hutool's
// DesensitizedUtil, which Chinese government systems widely use, plus a few
// of Apache Ranger's mask types; every rule counts runes, never bytes.
package mask

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"unicode/utf8"
)

// Rule codes; they match catalog.MaskRules.
const (
	None      = "none"
	Name      = "name"
	IDCard    = "id_card"
	Mobile    = "mobile"
	Landline  = "landline"
	Address   = "address"
	Email     = "email"
	BankCard  = "bank_card"
	Plate     = "plate"
	IPv4      = "ipv4"
	Redact    = "redact"
	Hash      = "hash"
	First4    = "show_first_4"
	Last4     = "show_last_4"
	Null      = "null"
	YearOnly  = "date_show_year"
	IDCard6_4 = "id_card_6_4" // the option of keeping the first 6 and last 4
)

// Known reports whether rule is a rule Apply understands ("" counts as none).
func Known(rule string) bool {
	switch rule {
	case "", None, Name, IDCard, Mobile, Landline, Address, Email, BankCard, Plate, IPv4, Redact, Hash, First4, Last4, Null, YearOnly, IDCard6_4:
		return true
	}
	return false
}

// Apply masks s by rule. An unknown rule redacts everything: failing closed
// is the only safe answer for personal data.
func Apply(rule, s string) string {
	if s == "" {
		return s
	}
	switch rule {
	case "", None:
		return s
	case Name:
		return hide(s, 1, runeLen(s))
	case IDCard:
		return idCard(s, 1, 2)
	case IDCard6_4:
		return idCard(s, 6, 4)
	case Mobile:
		return hide(s, 3, runeLen(s)-4)
	case Landline:
		return hide(s, 4, runeLen(s)-2)
	case Address:
		n := runeLen(s)
		return hide(s, n-8, n)
	case Email:
		i := strings.IndexByte(s, '@')
		if i <= 1 {
			return s
		}
		return hide(s, 1, utf8.RuneCountInString(s[:i]))
	case BankCard:
		return bankCard(s)
	case Plate:
		switch runeLen(s) {
		case 7:
			return hide(s, 3, 6)
		case 8:
			return hide(s, 3, 7)
		}
		return s
	case IPv4:
		if i := strings.IndexByte(s, '.'); i >= 0 {
			return s[:i] + ".*.*.*"
		}
		return s
	case First4:
		return hide(s, 4, runeLen(s))
	case Last4:
		return hide(s, 0, runeLen(s)-4)
	case Hash:
		h := sha256.Sum256([]byte(s))
		return hex.EncodeToString(h[:])
	case Null:
		return ""
	case YearOnly:
		if r := []rune(s); len(r) >= 4 {
			return string(r[:4])
		}
		return hide(s, 0, runeLen(s))
	}
	return hide(s, 0, runeLen(s))
}

func runeLen(s string) int { return utf8.RuneCountInString(s) }

// hide replaces the runes in [start, end) with '*', like hutool's
// StrUtil.hide: the bounds are clamped, and start > end leaves s alone.
func hide(s string, start, end int) string {
	r := []rune(s)
	start = max(start, 0)
	end = min(end, len(r))
	if start > end {
		return s
	}
	for i := start; i < end; i++ {
		r[i] = '*'
	}
	return string(r)
}

// idCard keeps front runes at the start and end at the end; hutool answers
// "" when the number is too short to keep both.
func idCard(s string, front, end int) string {
	n := runeLen(s)
	if front+end > n {
		return ""
	}
	return hide(s, front, n-end)
}

// bankCard keeps the first 4 digits and the last group, and groups by 4.
func bankCard(s string) string {
	s = strings.ReplaceAll(s, " ", "")
	r := []rune(s)
	n := len(r)
	if n < 9 {
		return s
	}
	endLen := n % 4
	if endLen == 0 {
		endLen = 4
	}
	mid := n - 4 - endLen
	var b strings.Builder
	b.WriteString(string(r[:4]))
	for i := range mid {
		if i%4 == 0 {
			b.WriteByte(' ')
		}
		b.WriteByte('*')
	}
	b.WriteByte(' ')
	b.WriteString(string(r[n-endLen:]))
	return b.String()
}

// Infer guesses the rule for an item from its name, for sensitive items
// whose rule was not set: "" when the name says nothing.
func Infer(name string) string {
	n := strings.ToLower(name)
	has := func(words ...string) bool {
		for _, w := range words {
			if strings.Contains(n, w) {
				return true
			}
		}
		return false
	}
	switch {
	case has("身份证", "公民身份号码", "证件号"):
		return IDCard
	case has("手机", "移动电话"):
		return Mobile
	case has("电话", "座机"):
		return Landline
	case has("邮箱", "email", "e-mail"):
		return Email
	case has("银行卡", "银行账号", "卡号"):
		return BankCard
	case has("车牌", "号牌"):
		return Plate
	case has("ip地址", "ip"):
		return IPv4
	case has("地址", "住址", "住所"):
		return Address
	case has("姓名", "名字", "联系人", "法定代表人", "负责人"):
		return Name
	}
	return ""
}

// For returns the rule that applies to an item for a reader who is not its
// provider. A rule set on the item wins. Otherwise (the catalog stores
// "none" when no rule was chosen) a sensitive item is masked by the rule its
// name suggests; in an L3 or L4 entry a sensitive item whose name suggests
// nothing is redacted. Items not marked sensitive are shown as they are.
func For(rule, itemName string, sensitive bool, grade string) string {
	if rule != "" && rule != None {
		return rule
	}
	if !sensitive {
		return None
	}
	if r := Infer(itemName); r != "" {
		return r
	}
	if grade == "L3" || grade == "L4" {
		return Redact
	}
	return None
}
