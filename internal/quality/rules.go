package quality

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"xiangyun/internal/catalog"
	"xiangyun/internal/errs"
	"xiangyun/internal/valid"
)

// Dimensions of data quality. Every rule belongs to one; scores are kept
// per dimension and averaged into the overall score.
const (
	Completeness = "completeness" // 完整性
	Validity     = "validity"     // 规范性 / 有效性
	Uniqueness   = "uniqueness"   // 唯一性
	Consistency  = "consistency"  // 一致性
	Timeliness   = "timeliness"   // 及时性
	Accuracy     = "accuracy"     // 准确性
)

// Dimensions lists the dimensions in display order with their names.
var Dimensions = []struct{ Code, ZH, EN string }{
	{Completeness, "完整性", "completeness"},
	{Validity, "规范性", "validity"},
	{Uniqueness, "唯一性", "uniqueness"},
	{Consistency, "一致性", "consistency"},
	{Timeliness, "及时性", "timeliness"},
	{Accuracy, "准确性", "accuracy"},
}

func validDimension(d string) bool {
	for _, x := range Dimensions {
		if x.Code == d {
			return true
		}
	}
	return false
}

// Rule kinds.
const (
	KindNotNull    = "notnull"
	KindUnique     = "unique"
	KindPattern    = "pattern"
	KindCodeList   = "codelist"
	KindRange      = "range"
	KindNumeric    = "numeric"
	KindLength     = "length"
	KindDate       = "date"
	KindDateTime   = "datetime"
	KindIDCard     = "idcard"
	KindCreditCode = "creditcode"
	KindOrgCode    = "orgcode"
	KindRegion     = "region"
	KindMobile     = "mobile"
	KindLandline   = "landline"
	KindPhone      = "phone" // mobile or landline
	KindEmail      = "email"
	KindReference  = "reference"
	KindRowCount   = "rowcount"
	KindFreshness  = "freshness"
	KindExpr       = "expr"
)

// Kind describes one rule kind of the catalog.
type Kind struct {
	Code      string `json:"code"`
	ZH        string `json:"zh"`
	EN        string `json:"en"`
	Dimension string `json:"dimension" doc:"default dimension"`
	Items     string `json:"items" doc:"one, many (a compound key), none (the whole batch or row)"`
	Params    string `json:"params,omitempty" doc:"the parameters it takes"`
}

// Kinds is the rule catalog.
var Kinds = []Kind{
	{KindNotNull, "非空", "not null", Completeness, "one", ""},
	{KindUnique, "唯一", "unique", Uniqueness, "many", ""},
	{KindPattern, "格式（正则）", "pattern (regular expression)", Validity, "one", "pattern"},
	{KindCodeList, "代码表", "code list", Validity, "one", "codes"},
	{KindRange, "取值范围", "value range", Validity, "one", "min, max"},
	{KindNumeric, "数值", "numeric", Validity, "one", ""},
	{KindLength, "长度", "length", Validity, "one", "min_len, max_len"},
	{KindDate, "日期", "date", Validity, "one", ""},
	{KindDateTime, "日期时间", "date and time", Validity, "one", ""},
	{KindIDCard, "身份证号", "resident ID number (GB 11643)", Validity, "one", ""},
	{KindCreditCode, "统一社会信用代码", "unified social credit code (GB 32100)", Validity, "one", ""},
	{KindOrgCode, "组织机构代码", "organisation code (GB 11714)", Validity, "one", ""},
	{KindRegion, "行政区划代码", "administrative division code (GB/T 2260)", Validity, "one", ""},
	{KindMobile, "手机号码", "mobile number", Validity, "one", ""},
	{KindLandline, "固定电话", "landline number", Validity, "one", ""},
	{KindPhone, "联系电话", "telephone (mobile or landline)", Validity, "one", ""},
	{KindEmail, "电子邮箱", "e-mail address", Validity, "one", ""},
	{KindReference, "引用其他目录", "reference to another entry's key", Consistency, "one", "ref_entry_id, ref_item"},
	{KindRowCount, "记录数范围", "row count range", Completeness, "none", "min_rows, max_rows"},
	{KindFreshness, "更新及时", "freshness against the update cycle", Timeliness, "none", "max_age_days"},
	{KindExpr, "自定义表达式", "custom expression over a row", Accuracy, "none", "expr, message_zh, message_en"},
}

func kindOf(code string) (Kind, bool) {
	for _, k := range Kinds {
		if k.Code == code {
			return k, true
		}
	}
	return Kind{}, false
}

// Params are a rule's parameters; each kind reads its own.
type Params struct {
	Pattern    string   `json:"pattern,omitempty" doc:"Go regular expression (RE2), anchored by the rule"`
	Codes      []string `json:"codes,omitempty" doc:"allowed values (code list)"`
	Min        *float64 `json:"min,omitempty"`
	Max        *float64 `json:"max,omitempty"`
	MinLen     int      `json:"min_len,omitempty" doc:"minimum length in characters"`
	MaxLen     int      `json:"max_len,omitempty" doc:"maximum length in characters"`
	RefEntryID int64    `json:"ref_entry_id,omitempty" doc:"entry whose key the value must be"`
	RefItem    string   `json:"ref_item,omitempty" doc:"the referenced entry's key item"`
	MinRows    int64    `json:"min_rows,omitempty"`
	MaxRows    int64    `json:"max_rows,omitempty"`
	MaxAgeDays int      `json:"max_age_days,omitempty" doc:"freshness: overrides the update cycle"`
	Expr       string   `json:"expr,omitempty" doc:"expression over the row's items, true when the row passes"`
	MessageZH  string   `json:"message_zh,omitempty"`
	MessageEN  string   `json:"message_en,omitempty"`
}

// Threshold says how many failures a rule tolerates in one batch before it
// fails (and opens an incident): a count of rows, or a percentage of rows.
type Threshold struct {
	Kind  string  `json:"kind" enum:"count,percent," required:"false" doc:"count (default) or percent"`
	Value float64 `json:"value" required:"false" doc:"failures tolerated: rows, or percent of rows; 0 by default"`
}

// Fails reports whether failed of rows exceeds the threshold.
func (t Threshold) Fails(failed, rows int) bool {
	if failed <= 0 {
		return false
	}
	if t.Kind == "percent" {
		if rows <= 0 {
			return true
		}
		return float64(failed)*100/float64(rows) > t.Value
	}
	return float64(failed) > t.Value
}

// Limits on user-supplied rule parameters.
const (
	maxPatternLen = 512
	maxExprLen    = 2000
	maxCodes      = 5000
	maxRules      = 500
)

// Rule is one quality rule of an entry: a default derived from its items
// (switchable off, threshold adjustable) or a rule a user added.
type Rule struct {
	Key       string    `json:"key" required:"false" doc:"stable identity: kind:item for defaults, kind#n for added rules (given on save when empty)"`
	Kind      string    `json:"kind"`
	Items     []string  `json:"items,omitempty" doc:"data items the rule reads (several: a compound key)"`
	Params    Params    `json:"params" required:"false"`
	Threshold Threshold `json:"threshold" required:"false"`
	Dimension string    `json:"dimension" required:"false" doc:"default: the kind's dimension"`
	Enabled   bool      `json:"enabled"`
	Default   bool      `json:"default" required:"false" doc:"derived from the items; may be switched off but not deleted"`
	Name      string    `json:"name,omitempty" doc:"display name"`
}

func defaultRule(kind string, items ...string) Rule {
	k, _ := kindOf(kind)
	key := kind
	if len(items) > 0 {
		key += ":" + strings.Join(items, "+")
	}
	return Rule{Key: key, Kind: kind, Items: items, Threshold: Threshold{Kind: "count"}, Dimension: k.Dimension,
		Enabled: true, Default: true}
}

// Name fragments that imply a check, Chinese and pinyin initials.
var nameChecks = []struct {
	kind  string
	names []string
}{
	{KindIDCard, []string{"身份证号", "公民身份号码", "身份证件号码", "sfzh", "gmsfhm"}},
	{KindCreditCode, []string{"统一社会信用代码", "信用代码", "tyshxydm"}},
	{KindOrgCode, []string{"组织机构代码", "zzjgdm"}},
	{KindRegion, []string{"行政区划代码", "区划代码", "xzqhdm"}},
	{KindMobile, []string{"手机号码", "手机号", "移动电话", "sjhm"}},
	{KindLandline, []string{"固定电话", "办公电话"}},
	{KindPhone, []string{"联系电话", "电话号码", "联系方式", "lxdh"}},
	{KindEmail, []string{"电子邮箱", "电子邮件", "邮箱地址", "email", "dzyx"}},
}

// nameKind returns the check an item's name implies, or "".
func nameKind(it catalog.Item) string {
	for _, nc := range nameChecks {
		for _, n := range nc.names {
			if strings.Contains(it.Name, n) || strings.EqualFold(it.EnName, n) {
				return nc.kind
			}
		}
	}
	return ""
}

// Defaults derives the default rules of an entry from its items: required
// → not null, key items → unique (compound when several), declared length,
// type checks (D date, T datetime, N/Y/I/F/B numeric), identifier checks by
// name, a row count of at least one and freshness against the cycle.
func Defaults(items []catalog.Item) []Rule {
	var rs, tail []Rule
	var keys []string
	for _, it := range items {
		if it.Required || it.Key {
			rs = append(rs, defaultRule(KindNotNull, it.Name))
		}
		if it.Key {
			keys = append(keys, it.Name)
		}
		switch it.DataType {
		case "D":
			rs = append(rs, defaultRule(KindDate, it.Name))
		case "T":
			rs = append(rs, defaultRule(KindDateTime, it.Name))
		case "N", "Y", "I", "F", "B":
			rs = append(rs, defaultRule(KindNumeric, it.Name))
		}
		if it.Length > 0 && (it.DataType == "C" || it.DataType == "") {
			r := defaultRule(KindLength, it.Name)
			r.Params.MaxLen = it.Length
			rs = append(rs, r)
		}
		if k := nameKind(it); k != "" && (it.DataType == "C" || it.DataType == "") {
			rs = append(rs, defaultRule(k, it.Name))
		}
	}
	if len(keys) > 0 {
		tail = append(tail, defaultRule(KindUnique, keys...))
	}
	rc := defaultRule(KindRowCount)
	rc.Params.MinRows = 1
	tail = append(tail, rc, defaultRule(KindFreshness))
	return append(rs, tail...)
}

func ruleErr(format, zh string, args ...any) error {
	return errs.Invalid("quality.rule", fmt.Sprintf(zh, args...), fmt.Sprintf(format, args...))
}

// check validates a rule against the entry's items: a known kind and
// dimension, items that exist, parameters the kind needs, a regular
// expression and an expression that compile.
func (r *Rule) check(items []catalog.Item) error {
	k, ok := kindOf(r.Kind)
	if !ok {
		return ruleErr("unknown rule kind %q", "未知的规则类型 %q", r.Kind)
	}
	if r.Dimension == "" {
		r.Dimension = k.Dimension
	}
	if !validDimension(r.Dimension) {
		return ruleErr("unknown dimension %q", "未知的质量维度 %q", r.Dimension)
	}
	switch r.Threshold.Kind {
	case "":
		r.Threshold.Kind = "count"
	case "count", "percent":
	default:
		return ruleErr("threshold kind must be count or percent", "阈值类型应为 count（条数）或 percent（百分比）")
	}
	if r.Threshold.Value < 0 || (r.Threshold.Kind == "percent" && r.Threshold.Value > 100) {
		return ruleErr("threshold %v out of range", "阈值 %v 超出范围", r.Threshold.Value)
	}
	switch k.Items {
	case "one":
		if len(r.Items) != 1 {
			return ruleErr("rule %s takes exactly one data item", "规则 %s 须指定一个信息项", r.Kind)
		}
	case "many":
		if len(r.Items) == 0 {
			return ruleErr("rule %s needs at least one data item", "规则 %s 须至少指定一个信息项", r.Kind)
		}
	case "none":
		r.Items = nil
	}
	seen := map[string]bool{}
	for _, n := range r.Items {
		if seen[n] {
			return ruleErr("data item %q named twice", "信息项 %q 重复", n)
		}
		seen[n] = true
		if !slices.ContainsFunc(items, func(it catalog.Item) bool { return it.Name == n }) {
			return ruleErr("no data item %q in this entry", "本目录没有信息项 %q", n)
		}
	}
	p := &r.Params
	switch r.Kind {
	case KindPattern:
		if p.Pattern == "" || len(p.Pattern) > maxPatternLen {
			return ruleErr("a pattern of 1 to %d bytes is needed", "须提供 1 至 %d 字节的正则表达式", maxPatternLen)
		}
		if _, err := regexp.Compile(`^(?:` + p.Pattern + `)$`); err != nil {
			return ruleErr("the pattern does not compile: %v", "正则表达式有误：%v", err)
		}
	case KindCodeList:
		if len(p.Codes) == 0 || len(p.Codes) > maxCodes {
			return ruleErr("a code list of 1 to %d values is needed", "须提供 1 至 %d 个代码值", maxCodes)
		}
	case KindRange:
		if p.Min == nil && p.Max == nil {
			return ruleErr("a range needs min, max or both", "取值范围须指定最小值或最大值")
		}
		if p.Min != nil && p.Max != nil && *p.Min > *p.Max {
			return ruleErr("min is greater than max", "最小值大于最大值")
		}
	case KindLength:
		if p.MinLen < 0 || p.MaxLen < 0 || (p.MaxLen > 0 && p.MinLen > p.MaxLen) || (p.MinLen == 0 && p.MaxLen == 0) {
			return ruleErr("a length needs 0 ≤ min_len ≤ max_len, not both 0", "长度须满足 0 ≤ 最小长度 ≤ 最大长度，且不能都为 0")
		}
	case KindReference:
		if p.RefEntryID <= 0 || p.RefItem == "" {
			return ruleErr("a reference needs ref_entry_id and ref_item", "引用规则须指定被引用的目录和信息项")
		}
	case KindRowCount:
		if p.MinRows < 0 || p.MaxRows < 0 || (p.MaxRows > 0 && p.MinRows > p.MaxRows) {
			return ruleErr("a row count range needs 0 ≤ min_rows ≤ max_rows", "记录数范围须满足 0 ≤ 最小值 ≤ 最大值")
		}
	case KindFreshness:
		if p.MaxAgeDays < 0 || p.MaxAgeDays > 3660 {
			return ruleErr("max_age_days must be 0 (the update cycle) to 3660", "最长间隔天数应为 0（按更新周期）至 3660")
		}
	case KindExpr:
		if _, err := compileExpr(p.Expr, items); err != nil {
			return err
		}
	}
	var fs errs.Fields
	r.Name = valid.Line(&fs, "name", "规则名称", r.Name, 0, 100)
	p.MessageZH = valid.Line(&fs, "params.message_zh", "提示信息", p.MessageZH, 0, 200)
	p.MessageEN = valid.Line(&fs, "params.message_en", "提示信息（英文）", p.MessageEN, 0, 400)
	for i, c := range p.Codes {
		p.Codes[i] = valid.Line(&fs, "params.codes", "代码值", c, 1, 100)
	}
	if p.RefItem != "" {
		p.RefItem = valid.Line(&fs, "params.ref_item", "被引用信息项", p.RefItem, 1, 100)
	}
	return fs.Err()
}

// Merge applies stored overrides to the defaults of items: a stored rule
// with a default's key replaces its enabled flag, threshold and dimension
// (and parameters where the kind has any); other stored rules are added.
// Defaults whose items no longer exist are dropped with their overrides.
func Merge(defaults, stored []Rule) []Rule {
	out := slices.Clone(defaults)
	idx := map[string]int{}
	for i, r := range out {
		idx[r.Key] = i
	}
	for _, s := range stored {
		if i, ok := idx[s.Key]; ok {
			d := &out[i]
			d.Enabled = s.Enabled
			d.Threshold = s.Threshold
			if s.Dimension != "" {
				d.Dimension = s.Dimension
			}
			if s.Kind == d.Kind && s.Params.hasAny() {
				d.Params = s.Params
			}
			continue
		}
		if s.Default {
			continue // an override of a default that no longer exists
		}
		out = append(out, s)
	}
	return out
}

func (p Params) hasAny() bool {
	return p.Pattern != "" || len(p.Codes) > 0 || p.Min != nil || p.Max != nil || p.MinLen != 0 || p.MaxLen != 0 ||
		p.RefEntryID != 0 || p.MinRows != 0 || p.MaxRows != 0 || p.MaxAgeDays != 0 || p.Expr != ""
}
