package catalogio

import (
	"strconv"
	"strings"

	"xiangyun/internal/catalog"
)

// The compact data items syntax (信息项简写) puts all data items of an entry
// in one cell, for CSV files, which have one sheet only. See the package
// documentation for the grammar.
const (
	itemsSyntaxZH = "CSV 文件用本列填写全部信息项（Excel 文件也可以用「信息项」工作表）。" +
		"格式：名称:类型[:长度][:标记…]，多个信息项用分号分隔。类型填字母（C N Y D T L M G B I F）或中文名（字符型…）；" +
		"标记：key/主键、required/必填、sensitive/敏感、en=英文名、mask=脱敏规则、code=代码表。" +
		"例：姓名:C:50:key:en=XM; 出生日期:D; 身份证号:C:18:sensitive:mask=身份证号"
	itemsSyntaxEN = "All data items of the entry in CSV files (workbooks may use the items sheet instead). " +
		"Syntax: name:type[:length][:flag…], items separated by semicolons. The type is the letter (C N Y D T L M G B I F) or " +
		"its Chinese name; flags: key, required, sensitive, en=English name, mask=masking rule, code=code list. " +
		"Example: 姓名:C:50:key:en=XM; 出生日期:D; 身份证号:C:18:sensitive:mask=id_card"
)

// ItemError is a problem with one item of a compact data items cell.
type ItemError struct {
	Index int    // the item's index in the result (from 0), or -1
	Field string // the item field, e.g. "data_type", or "" for the item
	Code  string
	ZH    string
	EN    string
}

// ParseItems parses the compact data items syntax. It returns the items it
// could read and a problem for each part it could not; the values are not
// checked against the value sets (the catalog does that).
func ParseItems(s string) ([]catalog.Item, []ItemError) {
	var items []catalog.Item
	var problems []ItemError
	for _, raw := range strings.FieldsFunc(s, func(r rune) bool { return r == ';' || r == '；' || r == '\n' || r == '\r' }) {
		raw = strings.TrimSpace(raw)
		if raw == "" {
			continue
		}
		parts := strings.FieldsFunc(raw, func(r rune) bool { return r == ':' || r == '：' })
		for i := range parts {
			parts[i] = strings.TrimSpace(parts[i])
		}
		idx := len(items)
		bad := func(field, code, zh, en string) {
			problems = append(problems, ItemError{Index: idx, Field: field, Code: code, ZH: "信息项「" + raw + "」：" + zh, EN: "data item " + strconv.Quote(raw) + ": " + en})
		}
		if len(parts) < 2 || parts[0] == "" || parts[1] == "" {
			problems = append(problems, ItemError{Index: -1, Code: "catalogio.item_syntax",
				ZH: "信息项「" + raw + "」格式不正确，应为 名称:类型[:长度][:标记]，如 姓名:C:50:key",
				EN: "data item " + strconv.Quote(raw) + " is not name:type[:length][:flags], e.g. 姓名:C:50:key"})
			continue
		}
		it := catalog.Item{Name: parts[0], DataType: parts[1]}
		for _, p := range parts[2:] {
			if p == "" {
				continue
			}
			if isDigits(p) {
				n, err := strconv.Atoi(p)
				if err != nil || n > 1_000_000 {
					bad("length", "catalogio.item_length", "数据长度「"+p+"」过大", "the length "+p+" is too large")
					continue
				}
				it.Length = n
				continue
			}
			k, v, kv := strings.Cut(strings.ReplaceAll(p, "＝", "="), "=")
			k, v = strings.ToLower(strings.TrimSpace(k)), strings.TrimSpace(v)
			switch {
			case !kv && (k == "key" || k == "主键" || k == "pk"):
				it.Key = true
			case !kv && (k == "required" || k == "必填" || k == "notnull" || k == "非空"):
				it.Required = true
			case !kv && (k == "sensitive" || k == "敏感"):
				it.Sensitive = true
			case kv && (k == "en" || k == "英文名" || k == "英文名称" || k == "en_name"):
				it.EnName = v
			case kv && (k == "mask" || k == "脱敏" || k == "脱敏规则"):
				it.Mask = v
			case kv && (k == "code" || k == "代码表" || k == "code_list" || k == "值域"):
				it.CodeList = v
			default:
				bad("", "catalogio.item_flag", "无法识别「"+p+"」；可用的标记：key/主键、required/必填、sensitive/敏感、en=、mask=、code=",
					"unknown part "+strconv.Quote(p)+"; the flags are key, required, sensitive, en=, mask=, code=")
			}
		}
		// An item with a bad part is kept, so that indexes stay aligned
		// with the catalog's field names.
		items = append(items, it)
	}
	return items, problems
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// FormatItems writes items in the compact syntax, with codes for the data
// type and masking rule: "姓名:C:50:key:en=XM; 出生日期:D".
func FormatItems(items []catalog.Item) string {
	var b strings.Builder
	for i, it := range items {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(it.Name)
		b.WriteString(":")
		b.WriteString(it.DataType)
		if it.Length > 0 {
			b.WriteString(":" + strconv.Itoa(it.Length))
		}
		if it.Key {
			b.WriteString(":key")
		} else if it.Required {
			b.WriteString(":required")
		}
		if it.Sensitive {
			b.WriteString(":sensitive")
		}
		if it.Mask != "" && it.Mask != "none" {
			b.WriteString(":mask=" + it.Mask)
		}
		if it.EnName != "" {
			b.WriteString(":en=" + it.EnName)
		}
		if it.CodeList != "" {
			b.WriteString(":code=" + it.CodeList)
		}
	}
	return b.String()
}
