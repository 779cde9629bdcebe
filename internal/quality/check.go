package quality

import (
	"fmt"
	"hash/maphash"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/expr-lang/expr/vm"

	"xiangyun/internal/catalog"
	"xiangyun/internal/ident"
)

// Violation is one failed check of one value (or row, for expressions).
type Violation struct {
	Rule      string `json:"rule" doc:"rule kind, e.g. idcard"`
	Key       string `json:"key" doc:"the rule's identity within the entry; count failures per rule by this key"`
	Item      string `json:"item,omitempty"`
	Value     string `json:"value,omitempty"`
	ZH        string `json:"zh"`
	EN        string `json:"en"`
	Dimension string `json:"dimension"`
}

// SetViolation is a failed check over the whole batch: duplicate keys (the
// rows sharing one value) or a row count out of range (no rows).
type SetViolation struct {
	Violation
	Rows []int `json:"rows,omitempty" doc:"rows numbered by the order of Row calls, from 1"`
}

// Lookup answers whether value is a key of item in entry entryID, for
// reference rules; the caller (ingest) owns the records.
type Lookup func(entryID int64, item, value string) (bool, error)

// Checker holds the compiled rules of one entry version. It is not safe for
// concurrent use: one checker per batch.
type Checker struct {
	EntryID int64
	Rules   []Rule // the effective rules, enabled or not

	cols   []colCheck
	exprs  []exprCheck
	uniqs  []*uniqCheck
	rowcnt *Rule
	rows   int

	lookup   Lookup
	refCache map[string]bool
	err      error

	exprEnv map[string]any
	vm      vm.VM
	types   map[string]string // item name → data type
	enNames map[string]string // item name → English name
}

type colCheck struct {
	rule  *Rule
	item  string
	check func(v string) (zh, en string, ok bool)
	ref   bool // reference: checked through the lookup
}

type exprCheck struct {
	rule *Rule
	prog *vm.Program
}

type uniqCheck struct {
	rule   *Rule
	seed   maphash.Seed
	first  map[uint64]int32
	dups   map[uint64][]int
	values map[uint64]string
	order  []uint64
}

// maxRefCache bounds the memory of remembered reference lookups.
const maxRefCache = 100000

// compile builds a checker from effective rules; disabled rules are kept
// in Rules but not run.
func compile(entryID int64, items []catalog.Item, rules []Rule) (*Checker, error) {
	c := &Checker{EntryID: entryID, Rules: rules, types: map[string]string{}, enNames: map[string]string{}}
	for _, it := range items {
		c.types[it.Name] = it.DataType
		c.enNames[it.Name] = it.EnName
	}
	for i := range c.Rules {
		r := &c.Rules[i]
		if !r.Enabled {
			continue
		}
		if err := r.check(items); err != nil {
			return nil, fmt.Errorf("rule %s: %w", r.Key, err)
		}
		switch r.Kind {
		case KindUnique:
			c.uniqs = append(c.uniqs, &uniqCheck{rule: r, seed: maphash.MakeSeed(), first: map[uint64]int32{},
				dups: map[uint64][]int{}, values: map[uint64]string{}})
		case KindRowCount:
			c.rowcnt = r
		case KindFreshness:
			// evaluated over time (Overdue), not per row
		case KindExpr:
			prog, err := compileExpr(r.Params.Expr, items)
			if err != nil {
				return nil, err
			}
			c.exprs = append(c.exprs, exprCheck{rule: r, prog: prog})
		case KindReference:
			c.cols = append(c.cols, colCheck{rule: r, item: r.Items[0], ref: true})
		default:
			fn, err := valueCheck(r, c.types[r.Items[0]])
			if err != nil {
				return nil, err
			}
			c.cols = append(c.cols, colCheck{rule: r, item: r.Items[0], check: fn})
		}
	}
	if len(c.exprs) > 0 {
		c.exprEnv = make(map[string]any, len(items)*2)
	}
	return c, nil
}

// SetLookup installs the reference lookup; without one, reference rules
// report every non-empty value as unverifiable.
func (c *Checker) SetLookup(fn Lookup) { c.lookup = fn }

// Err returns the first error of a reference lookup, if any: the rows it
// concerned are reported as violations, so a caller may prefer to abort.
func (c *Checker) Err() error { return c.err }

// Row checks one row (item name → text as read) and returns its
// violations; nil when it passes.
func (c *Checker) Row(values map[string]string) []Violation {
	c.rows++
	var out []Violation
	for i := range c.cols {
		cc := &c.cols[i]
		v := values[cc.item]
		if cc.ref {
			if vi, bad := c.reference(cc, v); bad {
				out = append(out, vi)
			}
			continue
		}
		if zh, en, ok := cc.check(v); !ok {
			out = append(out, Violation{Rule: cc.rule.Kind, Key: cc.rule.Key, Item: cc.item, Value: clip(v), ZH: zh, EN: en,
				Dimension: cc.rule.Dimension})
		}
	}
	if len(c.exprs) > 0 {
		clear(c.exprEnv)
		for name, t := range c.types {
			x := exprValue(t, values[name])
			c.exprEnv[name] = x
			if en := c.enNames[name]; en != "" {
				if _, taken := c.types[en]; !taken {
					c.exprEnv[en] = x
				}
			}
		}
		for _, e := range c.exprs {
			res, err := c.vm.Run(e.prog, c.exprEnv)
			if ok, _ := res.(bool); err != nil || !ok {
				zh, en := e.rule.Params.MessageZH, e.rule.Params.MessageEN
				if zh == "" {
					zh = "不满足规则：" + e.rule.Params.Expr
				}
				if en == "" {
					en = "fails the rule: " + e.rule.Params.Expr
				}
				if err != nil {
					zh, en = zh+"（求值出错："+clip(err.Error())+"）", en+" (evaluation error: "+clip(err.Error())+")"
				}
				out = append(out, Violation{Rule: KindExpr, Key: e.rule.Key, ZH: zh, EN: en, Dimension: e.rule.Dimension})
			}
		}
	}
	for _, u := range c.uniqs {
		c.unique(u, values)
	}
	return out
}

func (c *Checker) reference(cc *colCheck, v string) (Violation, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return Violation{}, false
	}
	p := cc.rule.Params
	vi := Violation{Rule: KindReference, Key: cc.rule.Key, Item: cc.item, Value: clip(v), Dimension: cc.rule.Dimension}
	if c.lookup == nil {
		vi.ZH, vi.EN = "无法核对引用（未配置查询）", "the reference cannot be checked (no lookup)"
		return vi, true
	}
	found, cached := c.refCache[v]
	if !cached {
		var err error
		found, err = c.lookup(p.RefEntryID, p.RefItem, v)
		if err != nil {
			if c.err == nil {
				c.err = err
			}
			vi.ZH, vi.EN = "引用核对失败："+clip(err.Error()), "reference check failed: "+clip(err.Error())
			return vi, true
		}
		if c.refCache == nil {
			c.refCache = map[string]bool{}
		}
		if len(c.refCache) < maxRefCache {
			c.refCache[v] = found
		}
	}
	if found {
		return Violation{}, false
	}
	vi.ZH = fmt.Sprintf("在目录 %d 的“%s”中找不到该值", p.RefEntryID, p.RefItem)
	vi.EN = fmt.Sprintf("not found in %q of entry %d", p.RefItem, p.RefEntryID)
	return vi, true
}

// unique remembers a 64-bit hash of each key (not the key itself) so that
// memory stays small for large batches; a hash collision between different
// keys, about one in 10^19 per pair, would report a false duplicate.
func (c *Checker) unique(u *uniqCheck, values map[string]string) {
	var h maphash.Hash
	h.SetSeed(u.seed)
	empty := true
	for i, it := range u.rule.Items {
		v := strings.TrimSpace(values[it])
		if v != "" {
			empty = false
		}
		if i > 0 {
			h.WriteByte(0)
		}
		h.WriteString(v)
	}
	if empty {
		return // not null reports missing keys
	}
	k := h.Sum64()
	first, seen := u.first[k]
	if !seen {
		u.first[k] = int32(c.rows)
		return
	}
	if _, ok := u.dups[k]; !ok {
		u.dups[k] = []int{int(first)}
		u.order = append(u.order, k)
		vals := make([]string, len(u.rule.Items))
		for i, it := range u.rule.Items {
			vals[i] = strings.TrimSpace(values[it])
		}
		u.values[k] = clip(strings.Join(vals, " | "))
	}
	u.dups[k] = append(u.dups[k], c.rows)
}

// Finish returns the set-level violations of the batch: every group of rows
// sharing a unique key, and a row count out of range.
func (c *Checker) Finish() []SetViolation {
	var out []SetViolation
	for _, u := range c.uniqs {
		item := strings.Join(u.rule.Items, "+")
		for _, k := range u.order {
			rows := u.dups[k]
			out = append(out, SetViolation{Violation: Violation{Rule: KindUnique, Key: u.rule.Key, Item: item, Value: u.values[k],
				ZH: fmt.Sprintf("“%s”重复，共 %d 行", item, len(rows)), EN: fmt.Sprintf("%s repeats in %d rows", item, len(rows)),
				Dimension: u.rule.Dimension}, Rows: rows})
		}
	}
	if r := c.rowcnt; r != nil {
		n := int64(c.rows)
		if (r.Params.MinRows > 0 && n < r.Params.MinRows) || (r.Params.MaxRows > 0 && n > r.Params.MaxRows) {
			out = append(out, SetViolation{Violation: Violation{Rule: KindRowCount, Key: r.Key, Value: strconv.FormatInt(n, 10),
				ZH:        fmt.Sprintf("记录数 %d 不在 %d 至 %s 之间", n, r.Params.MinRows, maxText(r.Params.MaxRows, "不限")),
				EN:        fmt.Sprintf("row count %d is outside %d to %s", n, r.Params.MinRows, maxText(r.Params.MaxRows, "any")),
				Dimension: r.Dimension}})
		}
	}
	return out
}

// Tally counts violations per rule key, the perRule argument of RecordBatch.
// Row violations count once per row; a set violation counts its rows (or one
// when it has none, as a row count does).
func Tally(perRule map[string]int, row []Violation, set []SetViolation) {
	for _, v := range row {
		perRule[v.Key]++
	}
	for _, v := range set {
		n := len(v.Rows)
		if n == 0 {
			n = 1
		}
		perRule[v.Key] += n
	}
}

func maxText(n int64, none string) string {
	if n <= 0 {
		return none
	}
	return strconv.FormatInt(n, 10)
}

// clip bounds a value quoted in a message.
func clip(s string) string {
	if len(s) <= 200 {
		return s
	}
	cut := 200
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

var (
	reMobile   = regexp.MustCompile(`^(?:\+?86[- ]?)?1[3-9][0-9]{9}$`)
	reLandline = regexp.MustCompile(`^(?:\(?0[1-9][0-9]{1,2}\)?[- ]?)?[2-9][0-9]{6,7}(?:-[0-9]{1,6})?$`)
	reEmail    = regexp.MustCompile(`^[A-Za-z0-9._%+\-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?)+$`)
)

var dateLayouts = []string{"2006-01-02", "20060102", "2006/01/02", "2006.01.02", "2006年01月02日", "2006年1月2日"}
var dateTimeLayouts = []string{"2006-01-02 15:04:05", "2006-01-02T15:04:05", time.RFC3339, time.RFC3339Nano,
	"2006-01-02 15:04:05.999999", "2006-01-02 15:04", "2006/01/02 15:04:05", "20060102150405"}

func parseAny(layouts []string, s string) bool {
	for _, l := range layouts {
		if t, err := time.Parse(l, s); err == nil && t.Year() >= 1800 && t.Year() <= 2200 {
			return true
		}
	}
	return false
}

func validDate(s string) bool { return parseAny(dateLayouts, strings.TrimSpace(s)) }

// valueCheck returns the check of one value for a column rule. Every check
// but not null passes empty values: a missing value is a completeness
// failure, reported once, by not null.
func valueCheck(r *Rule, dataType string) (func(string) (string, string, bool), error) {
	p := r.Params
	skipEmpty := func(f func(v string) (string, string, bool)) func(string) (string, string, bool) {
		return func(v string) (string, string, bool) {
			v = strings.TrimSpace(v)
			if v == "" {
				return "", "", true
			}
			return f(v)
		}
	}
	identCheck := func(f func(string) error) func(string) (string, string, bool) {
		return skipEmpty(func(v string) (string, string, bool) {
			if err := f(v); err != nil {
				if ie, ok := err.(*ident.Error); ok {
					return ie.ZH, ie.EN, false
				}
				return err.Error(), err.Error(), false
			}
			return "", "", true
		})
	}
	switch r.Kind {
	case KindNotNull:
		return func(v string) (string, string, bool) {
			if strings.TrimSpace(v) == "" {
				return "必填项为空", "required value is empty", false
			}
			return "", "", true
		}, nil
	case KindPattern:
		re, err := regexp.Compile(`^(?:` + p.Pattern + `)$`)
		if err != nil {
			return nil, err
		}
		return skipEmpty(func(v string) (string, string, bool) {
			if !re.MatchString(v) {
				return "格式不符合规则 " + p.Pattern, "does not match " + p.Pattern, false
			}
			return "", "", true
		}), nil
	case KindCodeList:
		set := make(map[string]bool, len(p.Codes))
		for _, c := range p.Codes {
			set[strings.TrimSpace(c)] = true
		}
		return skipEmpty(func(v string) (string, string, bool) {
			if !set[v] {
				return "不在代码表中", "not in the code list", false
			}
			return "", "", true
		}), nil
	case KindNumeric:
		return skipEmpty(func(v string) (string, string, bool) {
			if _, err := strconv.ParseFloat(v, 64); err != nil {
				return "不是数值", "not a number", false
			}
			return "", "", true
		}), nil
	case KindRange:
		return skipEmpty(func(v string) (string, string, bool) {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				return "不是数值", "not a number", false
			}
			if (p.Min != nil && f < *p.Min) || (p.Max != nil && f > *p.Max) {
				return "超出取值范围", "out of range", false
			}
			return "", "", true
		}), nil
	case KindLength:
		return skipEmpty(func(v string) (string, string, bool) {
			n := utf8.RuneCountInString(v)
			if p.MaxLen > 0 && n > p.MaxLen {
				return fmt.Sprintf("长度 %d 超过 %d", n, p.MaxLen), fmt.Sprintf("length %d exceeds %d", n, p.MaxLen), false
			}
			if n < p.MinLen {
				return fmt.Sprintf("长度 %d 不足 %d", n, p.MinLen), fmt.Sprintf("length %d is under %d", n, p.MinLen), false
			}
			return "", "", true
		}), nil
	case KindDate:
		return skipEmpty(func(v string) (string, string, bool) {
			if !parseAny(dateLayouts, v) {
				return "不是有效日期", "not a valid date", false
			}
			return "", "", true
		}), nil
	case KindDateTime:
		return skipEmpty(func(v string) (string, string, bool) {
			if !parseAny(dateTimeLayouts, v) {
				return "不是有效的日期时间", "not a valid date and time", false
			}
			return "", "", true
		}), nil
	case KindIDCard:
		return identCheck(ident.IDCard), nil
	case KindCreditCode:
		return identCheck(ident.CreditCode), nil
	case KindOrgCode:
		return identCheck(ident.OrgCode), nil
	case KindRegion:
		return identCheck(ident.RegionCode), nil
	case KindMobile:
		return skipEmpty(func(v string) (string, string, bool) {
			if !reMobile.MatchString(v) {
				return "不是有效的手机号码", "not a valid mobile number", false
			}
			return "", "", true
		}), nil
	case KindLandline:
		return skipEmpty(func(v string) (string, string, bool) {
			if !reLandline.MatchString(v) || reMobile.MatchString(v) {
				return "不是有效的固定电话号码", "not a valid landline number", false
			}
			return "", "", true
		}), nil
	case KindPhone:
		return skipEmpty(func(v string) (string, string, bool) {
			if !reMobile.MatchString(v) && !reLandline.MatchString(v) {
				return "不是有效的电话号码", "not a valid telephone number", false
			}
			return "", "", true
		}), nil
	case KindEmail:
		return skipEmpty(func(v string) (string, string, bool) {
			if len(v) > 254 || !reEmail.MatchString(v) {
				return "不是有效的电子邮箱", "not a valid e-mail address", false
			}
			return "", "", true
		}), nil
	}
	return nil, fmt.Errorf("quality: rule kind %q has no value check", r.Kind)
}
