package quality

import (
	"errors"
	"iter"
	"testing"

	"xiangyun/internal/catalog"
	"xiangyun/internal/errs"
)

func records(rs ...Record) iter.Seq2[Record, error] {
	return func(yield func(Record, error) bool) {
		for _, r := range rs {
			if !yield(r, nil) {
				return
			}
		}
	}
}

func TestCompare(t *testing.T) {
	a := records(
		Record{"公民身份号码": "11010519491231002X", "姓名": "张三", "出生日期": "1949-12-31"},
		Record{"公民身份号码": "370101190102039973", "姓名": "李四", "出生日期": "1901-02-03"},
		Record{"公民身份号码": "51343620000320711X", "姓名": "王五", "出生日期": ""},
		Record{"公民身份号码": "", "姓名": "无号"},
	)
	b := records(
		Record{"公民身份号码": "11010519491231002X", "姓名": "张三 ", "出生日期": "1949-12-30"}, // date differs
		Record{"公民身份号码": "370101190102039973", "姓名": "李肆", "出生日期": "1901-02-04"},  // both differ
		Record{"公民身份号码": "51343620000320711X", "姓名": "王五", "出生日期": "2000-03-20"},  // empty on A: not a disagreement
		Record{"公民身份号码": "110105194912310021", "姓名": "赵六"},
	)
	c, err := Compare(a, b, []string{"公民身份号码"}, []string{"姓名", "出生日期"}, 10)
	if err != nil {
		t.Fatal(err)
	}
	if c.Matched != 3 || c.OnlyA != 0 || c.OnlyB != 1 || c.Disagreeing != 2 || len(c.Disagreements) != 3 {
		t.Fatalf("%+v", c)
	}
	if d := c.Disagreements[0]; d.Key != "11010519491231002X" || d.Item != "出生日期" || d.A != "1949-12-31" || d.B != "1949-12-30" {
		t.Errorf("first: %+v", d)
	}
	// The limit bounds the list, not the count.
	c, _ = Compare(records(Record{"k": "1", "v": "a"}, Record{"k": "2", "v": "a"}), records(Record{"k": "1", "v": "b"}, Record{"k": "2", "v": "b"}),
		[]string{"k"}, []string{"v"}, 1)
	if c.Disagreeing != 2 || len(c.Disagreements) != 1 {
		t.Errorf("limit: %+v", c)
	}
	// A failing source fails the comparison.
	boom := func(yield func(Record, error) bool) { yield(nil, errors.New("read failed")) }
	if _, err := Compare(boom, b, []string{"k"}, []string{"v"}, 1); err == nil {
		t.Error("source error swallowed")
	}
}

func TestOneSourceAndPairs(t *testing.T) {
	eachDB(t, func(t *testing.T, f *fixture) {
		pop := f.entry("police", "人口基本信息", "daily")
		f.entry("market", "个体工商户经营者信息", "daily") // same items: 公民身份号码, 姓名, 出生日期
		f.entry("market", "市场主体登记信息", "monthly",
			catalog.Item{Name: "统一社会信用代码", DataType: "C", Length: 18, Key: true},
			catalog.Item{Name: "企业名称", DataType: "C", Length: 100, Required: true})
		os, err := f.q.OneSource(f.ctx, f.p["reviewer"])
		if err != nil {
			t.Fatal(err)
		}
		if len(os) != 3 || os[0].Item != "公民身份号码" || !os[0].Identifier || len(os[0].Bodies) != 2 || os[1].Identifier {
			t.Fatalf("one source: %+v", os)
		}
		if _, err := f.q.OneSource(f.ctx, f.p["police_cdo"]); errs.KindOf(err) != errs.KindForbidden {
			t.Errorf("a department read the platform list: %v", err)
		}
		if err := f.q.Settle(f.ctx, f.p["police_cdo"], "出生日期", f.bodies["police"].ID, ""); errs.KindOf(err) != errs.KindForbidden {
			t.Errorf("a department settled: %v", err)
		}
		if err := f.q.Settle(f.ctx, f.p["reviewer"], "出生日期", f.bodies["bureau"].ID, ""); errs.KindOf(err) != errs.KindInvalid {
			t.Errorf("settled on a body that does not provide it: %v", err)
		}
		if err := f.q.Settle(f.ctx, f.p["reviewer"], "出生日期", f.bodies["police"].ID, "公安为户籍信息权威来源"); err != nil {
			t.Fatal(err)
		}
		os, _ = f.q.OneSource(f.ctx, f.p["reviewer"])
		last := os[len(os)-1]
		if last.Item != "出生日期" || last.Settled == nil || last.Settled.BodyID != f.bodies["police"].ID || last.Settled.SettledBy != "reviewer" {
			t.Errorf("settled item sorts last with its settlement: %+v", os)
		}
		ps, err := f.q.Pairs(f.ctx, f.p["reviewer"])
		if err != nil || len(ps) != 1 || ps[0].AID != pop.ID || ps[0].Meaning != KindIDCard || len(ps[0].Items) != 2 {
			t.Errorf("pairs: %v %+v", err, ps)
		}
	})
}
