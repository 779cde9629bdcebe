package quality

import (
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"

	"xiangyun/internal/catalog"
	"xiangyun/internal/errs"
)

var testItems = []catalog.Item{
	{Name: "公民身份号码", EnName: "gmsfhm", DataType: "C", Length: 18, Key: true},
	{Name: "姓名", EnName: "xm", DataType: "C", Length: 4, Required: true},
	{Name: "出生日期", EnName: "csrq", DataType: "D"},
	{Name: "登记时间", DataType: "T"},
	{Name: "年龄", EnName: "nl", DataType: "N", Length: 3},
	{Name: "统一社会信用代码", DataType: "C", Length: 18},
	{Name: "组织机构代码", DataType: "C", Length: 10},
	{Name: "行政区划代码", DataType: "C", Length: 6},
	{Name: "手机号码", DataType: "C", Length: 11},
	{Name: "联系电话", DataType: "C", Length: 20},
	{Name: "固定电话", DataType: "C", Length: 20},
	{Name: "电子邮箱", DataType: "C", Length: 100},
	{Name: "性别", DataType: "C", Length: 1},
}

func keys(rs []Rule) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Key)
	}
	return out
}

func TestDefaults(t *testing.T) {
	rs := Defaults(testItems)
	want := []string{"notnull:公民身份号码", "length:公民身份号码", "idcard:公民身份号码", "notnull:姓名", "length:姓名",
		"date:出生日期", "datetime:登记时间", "numeric:年龄", "creditcode:统一社会信用代码", "orgcode:组织机构代码",
		"region:行政区划代码", "mobile:手机号码", "phone:联系电话", "landline:固定电话", "email:电子邮箱",
		"unique:公民身份号码", "rowcount", "freshness"}
	for _, k := range want {
		if !slices.Contains(keys(rs), k) {
			t.Errorf("default %s missing; got %v", k, keys(rs))
		}
	}
	if slices.Contains(keys(rs), "length:年龄") || slices.ContainsFunc(keys(rs), func(k string) bool { return strings.HasSuffix(k, ":性别") && !strings.HasPrefix(k, "length") }) {
		t.Errorf("unexpected defaults: %v", keys(rs))
	}
	// Several key items make one compound unique rule.
	rs = Defaults([]catalog.Item{{Name: "a", DataType: "C", Key: true}, {Name: "b", DataType: "C", Key: true}})
	if !slices.Contains(keys(rs), "unique:a+b") || slices.Contains(keys(rs), "unique:a") {
		t.Errorf("compound key: %v", keys(rs))
	}
	// An ID check by pinyin name, and 身份证号 inside a longer name.
	rs = Defaults([]catalog.Item{{Name: "证件", EnName: "SFZH", DataType: "C"}, {Name: "法定代表人身份证号", DataType: "C"}})
	if !slices.Contains(keys(rs), "idcard:证件") || !slices.Contains(keys(rs), "idcard:法定代表人身份证号") {
		t.Errorf("ID check by name: %v", keys(rs))
	}
}

func mustCompile(t *testing.T, items []catalog.Item, rules []Rule) *Checker {
	t.Helper()
	c, err := compile(1, items, rules)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func rule(kind string, item string, p Params) Rule {
	r := defaultRule(kind, item)
	r.Default = false
	r.Params = p
	return r
}

func f64(v float64) *float64 { return &v }

// TestRuleKinds runs every value rule over passing and failing values.
func TestRuleKinds(t *testing.T) {
	items := []catalog.Item{{Name: "v", DataType: "C", Length: 200}}
	cases := []struct {
		rule       Rule
		pass, fail []string
	}{
		{rule(KindNotNull, "v", Params{}), []string{"x", " a "}, []string{"", "  "}},
		{rule(KindPattern, "v", Params{Pattern: `[A-Z]{2}\d+`}), []string{"AB1", "", "ZZ123"}, []string{"ab1", "AB", "xAB1", "AB1x"}},
		{rule(KindCodeList, "v", Params{Codes: []string{"1", "2", "9"}}), []string{"1", "9", ""}, []string{"3", "01"}},
		{rule(KindRange, "v", Params{Min: f64(0), Max: f64(150)}), []string{"0", "150", "37.5"}, []string{"-1", "151", "abc"}},
		{rule(KindNumeric, "v", Params{}), []string{"1", "-2.5", "1e3"}, []string{"1,000", "壹"}},
		{rule(KindLength, "v", Params{MinLen: 2, MaxLen: 3}), []string{"张三", "欧阳娜"}, []string{"张", "欧阳娜娜"}},
		{rule(KindDate, "v", Params{}), []string{"2024-02-29", "20240131", "2024/01/31", "2024年1月3日"}, []string{"2023-02-29", "2024-13-01", "1700-01-01", "昨天"}},
		{rule(KindDateTime, "v", Params{}), []string{"2024-02-29 23:59:59", "2024-02-29T08:00:00+08:00", "2024-01-01 08:30"}, []string{"2024-02-30 10:00:00", "2024-01-01 25:00:00"}},
		{rule(KindIDCard, "v", Params{}), []string{"11010519491231002X", "370101190102039973", "51343620000320711X"},
			[]string{"110105194912310021", "11010519491231002x", "1101051949123100", "110105194902300020"}},
		{rule(KindCreditCode, "v", Params{}), []string{"91350100M000100Y43", "91512081MA62K0260E"}, []string{"91350100M000100Y4Z", "9135010OM000100Y43", "91350100M000100Y4"}},
		{rule(KindOrgCode, "v", Params{}), []string{"M000100Y4", "MA62K0260", "M000100Y-4"}, []string{"M000100Y5", "M000100Y"}},
		{rule(KindRegion, "v", Params{}), []string{"220000", "220102", "110101"}, []string{"22010", "990000", "2201AB"}},
		{rule(KindMobile, "v", Params{}), []string{"13912345678", "+86 13912345678"}, []string{"12912345678", "1391234567", "0431-88888888"}},
		{rule(KindLandline, "v", Params{}), []string{"0431-88888888", "043188888888", "88888888", "0431-8888888-123"}, []string{"13912345678", "0431-888"}},
		{rule(KindPhone, "v", Params{}), []string{"13912345678", "0431-88888888"}, []string{"123", "电话"}},
		{rule(KindEmail, "v", Params{}), []string{"a.b@jl.gov.cn", "x+y@example.com"}, []string{"a@b", "@jl.gov.cn", "a b@c.cn", "a@@b.cn"}},
	}
	for _, tc := range cases {
		t.Run(tc.rule.Kind, func(t *testing.T) {
			c := mustCompile(t, items, []Rule{tc.rule})
			for _, v := range tc.pass {
				if vs := c.Row(map[string]string{"v": v}); len(vs) != 0 {
					t.Errorf("%q: unexpected %+v", v, vs)
				}
			}
			for _, v := range tc.fail {
				vs := c.Row(map[string]string{"v": v})
				if len(vs) != 1 || vs[0].Rule != tc.rule.Kind || vs[0].Item != "v" || vs[0].ZH == "" || vs[0].EN == "" ||
					vs[0].Key != tc.rule.Key || vs[0].Dimension == "" {
					t.Errorf("%q: want one %s violation, got %+v", v, tc.rule.Kind, vs)
				}
			}
		})
	}
}

func TestUniqueAndRowCount(t *testing.T) {
	items := []catalog.Item{{Name: "a", DataType: "C"}, {Name: "b", DataType: "C"}}
	u := defaultRule(KindUnique, "a", "b")
	rc := defaultRule(KindRowCount)
	rc.Params = Params{MinRows: 1, MaxRows: 4}
	c := mustCompile(t, items, []Rule{u, rc})
	for _, r := range [][2]string{{"1", "x"}, {"1", "y"}, {"1", "x"}, {"2", "x"}, {"1", "x"}} {
		c.Row(map[string]string{"a": r[0], "b": r[1]})
	}
	set := c.Finish()
	if len(set) != 2 {
		t.Fatalf("want a duplicate group and a row count, got %+v", set)
	}
	if set[0].Rule != KindUnique || !slices.Equal(set[0].Rows, []int{1, 3, 5}) || set[0].Value != "1 | x" {
		t.Errorf("duplicates: %+v", set[0])
	}
	if set[1].Rule != KindRowCount || set[1].Value != "5" || set[1].Rows != nil {
		t.Errorf("row count: %+v", set[1])
	}
	per := map[string]int{}
	Tally(per, nil, set)
	if per["unique:a+b"] != 3 || per["rowcount"] != 1 {
		t.Errorf("tally: %v", per)
	}
	// A single-item key; empty keys are left to not null.
	c = mustCompile(t, items, []Rule{defaultRule(KindUnique, "a"), rc})
	for _, v := range []string{"1", "", "", "2"} {
		c.Row(map[string]string{"a": v})
	}
	if set := c.Finish(); len(set) != 0 {
		t.Errorf("no duplicates expected: %+v", set)
	}
}

func TestReference(t *testing.T) {
	items := []catalog.Item{{Name: "code", DataType: "C"}}
	r := rule(KindReference, "code", Params{RefEntryID: 7, RefItem: "统一社会信用代码"})
	c := mustCompile(t, items, []Rule{r})
	calls := 0
	c.SetLookup(func(entryID int64, item, value string) (bool, error) {
		calls++
		if entryID != 7 || item != "统一社会信用代码" {
			t.Errorf("lookup %d %s", entryID, item)
		}
		if value == "boom" {
			return false, errors.New("store down")
		}
		return value == "known", nil
	})
	if vs := c.Row(map[string]string{"code": "known"}); len(vs) != 0 {
		t.Errorf("known: %+v", vs)
	}
	c.Row(map[string]string{"code": "known"})
	if vs := c.Row(map[string]string{"code": "unknown"}); len(vs) != 1 || vs[0].Dimension != Consistency {
		t.Errorf("unknown: %+v", vs)
	}
	if calls != 2 {
		t.Errorf("lookups are cached: %d calls", calls)
	}
	if vs := c.Row(map[string]string{"code": "boom"}); len(vs) != 1 || c.Err() == nil {
		t.Errorf("lookup error: %+v %v", vs, c.Err())
	}
	// Without a lookup every value is reported.
	c = mustCompile(t, items, []Rule{r})
	if vs := c.Row(map[string]string{"code": "x"}); len(vs) != 1 {
		t.Errorf("no lookup: %+v", vs)
	}
}

func TestExpressionRule(t *testing.T) {
	items := []catalog.Item{{Name: "证件类型", DataType: "C"}, {Name: "证件号码", DataType: "C"}, {Name: "年龄", EnName: "age", DataType: "N"},
		{Name: "开始日期", DataType: "D"}, {Name: "结束日期", DataType: "D"}}
	r := Rule{Key: "expr#1", Kind: KindExpr, Enabled: true, Dimension: Accuracy, Threshold: Threshold{Kind: "count"},
		Params: Params{Expr: `(证件类型 != "身份证" || idcard(证件号码)) && (年龄 == nil || age < 150) && (结束日期 == "" || 结束日期 >= 开始日期)`,
			MessageZH: "证件或年龄不合理", MessageEN: "bad ID or age"}}
	c := mustCompile(t, items, []Rule{r})
	pass := []map[string]string{
		{"证件类型": "身份证", "证件号码": "11010519491231002X", "年龄": "30"},
		{"证件类型": "护照", "证件号码": "E123", "年龄": ""},
		{"证件类型": "护照", "开始日期": "2024-01-01", "结束日期": "2024-12-31"},
	}
	for _, row := range pass {
		if vs := c.Row(row); len(vs) != 0 {
			t.Errorf("%v: %+v", row, vs)
		}
	}
	fail := []map[string]string{
		{"证件类型": "身份证", "证件号码": "110105194912310021"},
		{"证件类型": "护照", "年龄": "151"},
		{"证件类型": "护照", "开始日期": "2024-12-31", "结束日期": "2024-01-01"},
	}
	for _, row := range fail {
		if vs := c.Row(row); len(vs) != 1 || vs[0].ZH != "证件或年龄不合理" || vs[0].Dimension != Accuracy {
			t.Errorf("%v: %+v", row, vs)
		}
	}
}

func TestExpressionRefused(t *testing.T) {
	items := []catalog.Item{{Name: "a", DataType: "N"}, {Name: "s", DataType: "C"}}
	for _, src := range []string{
		"",
		"a +",                             // syntax
		"a + 1",                           // not a boolean
		"nosuch > 1",                      // unknown item
		"len(map(1..1000000, # * 2)) > 0", // loops and ranges
		"any([1,2,3], # > a)",             // predicates
		`repeat(s, 1000000) != ""`,        // unbounded allocation
		`1..3 == [1,2,3]`,
		`let x = s + s; let y = x + x; let z = y + y; len(z) > 0`, // doubling strings
		strings.Repeat("a > 0 && ", 400) + "true",                 // too many nodes or too long
	} {
		_, err := compileExpr(src, items)
		e, ok := errs.As(err)
		if !ok || e.Kind != errs.KindInvalid || e.ZH == "" || e.EN == "" {
			t.Errorf("%q: want a bilingual invalid error, got %v", src, err)
		}
		r := Rule{Kind: KindExpr, Params: Params{Expr: src}, Enabled: true}
		if err := r.check(items); err == nil {
			t.Errorf("%q: check accepted it", src)
		}
	}
	if _, err := compileExpr(`a > 1 && trim(s) != ""`, items); err != nil {
		t.Errorf("valid expression refused: %v", err)
	}
}

func TestThreshold(t *testing.T) {
	cases := []struct {
		th           Threshold
		failed, rows int
		fails        bool
	}{
		{Threshold{"count", 0}, 0, 100, false},
		{Threshold{"count", 0}, 1, 100, true},
		{Threshold{"count", 5}, 5, 100, false},
		{Threshold{"count", 5}, 6, 100, true},
		{Threshold{"percent", 10}, 10, 100, false},
		{Threshold{"percent", 10}, 11, 100, true},
		{Threshold{"percent", 0.5}, 1, 1000, false},
		{Threshold{"percent", 0.5}, 6, 1000, true},
	}
	for _, tc := range cases {
		if got := tc.th.Fails(tc.failed, tc.rows); got != tc.fails {
			t.Errorf("%+v %d/%d: fails %v", tc.th, tc.failed, tc.rows, got)
		}
	}
}

func TestMergeSwitchOff(t *testing.T) {
	d := Defaults(testItems)
	off := Rule{Key: "idcard:公民身份号码", Kind: KindIDCard, Default: true, Enabled: false, Threshold: Threshold{Kind: "count"}}
	added := rule(KindCodeList, "性别", Params{Codes: []string{"1", "2"}})
	added.Key = "codelist#1"
	gone := Rule{Key: "idcard:旧信息项", Kind: KindIDCard, Default: true, Enabled: false}
	m := Merge(d, []Rule{off, added, gone})
	var c *Checker
	c = mustCompile(t, testItems, m)
	vs := c.Row(map[string]string{"公民身份号码": "110105194912310021", "姓名": "张三", "性别": "3"})
	for _, v := range vs {
		if v.Rule == KindIDCard {
			t.Errorf("switched-off rule ran: %+v", v)
		}
	}
	if !slices.ContainsFunc(vs, func(v Violation) bool { return v.Key == "codelist#1" }) {
		t.Errorf("added rule did not run: %+v", vs)
	}
	if slices.Contains(keys(m), "idcard:旧信息项") {
		t.Errorf("override of a vanished default kept")
	}
}

func TestRuleCheck(t *testing.T) {
	bad := []Rule{
		{Kind: "nosuch", Items: []string{"姓名"}},
		{Kind: KindPattern, Items: []string{"姓名"}, Params: Params{Pattern: "("}},
		{Kind: KindPattern, Items: []string{"姓名"}, Params: Params{Pattern: strings.Repeat("a", 600)}},
		{Kind: KindNotNull, Items: []string{"没有"}},
		{Kind: KindNotNull, Items: []string{"姓名", "出生日期"}},
		{Kind: KindRange, Items: []string{"年龄"}},
		{Kind: KindRange, Items: []string{"年龄"}, Params: Params{Min: f64(5), Max: f64(1)}},
		{Kind: KindCodeList, Items: []string{"性别"}},
		{Kind: KindReference, Items: []string{"姓名"}},
		{Kind: KindNotNull, Items: []string{"姓名"}, Threshold: Threshold{Kind: "percent", Value: 101}},
		{Kind: KindNotNull, Items: []string{"姓名"}, Dimension: "beauty"},
		{Kind: KindUnique},
	}
	for _, r := range bad {
		if err := r.check(testItems); err == nil {
			t.Errorf("%+v accepted", r)
		} else if e, ok := errs.As(err); !ok || e.ZH == "" {
			t.Errorf("%+v: %v is not bilingual", r, err)
		}
	}
}

func FuzzCompileExpr(f *testing.F) {
	for _, s := range []string{`a > 1`, `s == "x" || idcard(s)`, `len(s) < 3 and a in [1, 2]`, `1..10`, `map([1], #)`,
		`let x = a; x > 2`, `s matches "^[a-z]+$"`, `(((((a)))))`, `a ?? 0 > 1`, `date(s) < now()`} {
		f.Add(s)
	}
	items := []catalog.Item{{Name: "a", DataType: "N"}, {Name: "s", DataType: "C"}, {Name: "名称", DataType: "C"}}
	f.Fuzz(func(t *testing.T, src string) {
		prog, err := compileExpr(src, items)
		if err != nil {
			if _, ok := errs.As(err); !ok {
				t.Fatalf("%q: unbilingual error %v", src, err)
			}
			return
		}
		// Whatever compiles must run within the budget on any row, without panicking.
		c := &Checker{}
		for _, row := range []map[string]any{{"a": 1.0, "s": "x", "名称": ""}, {"a": nil, "s": "", "名称": "长春"}} {
			_, _ = c.vm.Run(prog, row)
		}
	})
}

// BenchmarkRow measures one row through every default rule of a 12-item
// entry, as ingest runs it.
func BenchmarkRow(b *testing.B) {
	items := append(slices.Clone(testItems), catalog.Item{Name: "地址", DataType: "C", Length: 200})
	c, err := compile(1, items, Defaults(items))
	if err != nil {
		b.Fatal(err)
	}
	row := map[string]string{"公民身份号码": "11010519491231002X", "姓名": "张三", "出生日期": "1949-12-31", "登记时间": "2024-01-02 03:04:05",
		"年龄": "75", "统一社会信用代码": "91350100M000100Y43", "组织机构代码": "M000100Y4", "行政区划代码": "220102", "手机号码": "13912345678",
		"联系电话": "0431-88888888", "固定电话": "0431-88888888", "电子邮箱": "a@jl.gov.cn", "性别": "1", "地址": "吉林省长春市南关区人民大街 1 号"}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		row["公民身份号码"] = strconv.Itoa(i) // unique keys, as in a real file
		c.Row(row)
	}
}
