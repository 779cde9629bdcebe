package quality

import (
	"errors"
	"slices"
	"sync"
	"testing"

	"xiangyun/internal/catalog"
	"xiangyun/internal/db"
	"xiangyun/internal/errs"
	"xiangyun/internal/notify"
)

var goodRows = []map[string]string{
	{"公民身份号码": "11010519491231002X", "姓名": "张三", "出生日期": "1949-12-31"},
	{"公民身份号码": "370101190102039973", "姓名": "李四", "出生日期": "1901-02-03"},
	{"公民身份号码": "51343620000320711X", "姓名": "王五", "出生日期": "2000-03-20"},
}

var badRows = []map[string]string{
	{"公民身份号码": "11010519491231002X", "姓名": "张三", "出生日期": "1949-12-31"},
	{"公民身份号码": "110105194912310021", "姓名": "", "出生日期": "1949-13-31"}, // bad checksum, no name, bad date
	{"公民身份号码": "11010519491231002X", "姓名": "重复", "出生日期": ""},         // duplicate key
	{"公民身份号码": "51343620000320711X", "姓名": "王五", "出生日期": "2000-03-20"},
}

func TestRecordBatchIncidentLifecycle(t *testing.T) {
	eachDB(t, func(t *testing.T, f *fixture) {
		e := f.entry("police", "人口基本信息", "daily")
		per, _ := f.batch(e.ID, 101, badRows)
		if per["idcard:公民身份号码"] != 1 || per["notnull:姓名"] != 1 || per["date:出生日期"] != 1 || per["unique:公民身份号码"] != 2 {
			t.Fatalf("per rule: %v", per)
		}
		open, n, err := f.q.Incidents(f.ctx, f.p["police_cdo"], IncidentFilter{EntryID: e.ID, Status: "open"})
		if err != nil || n != 4 || len(open) != 4 {
			t.Fatalf("open incidents: %d %v %+v", n, err, open)
		}
		for _, in := range open {
			if in.BodyID != f.bodies["police"].ID || in.Status != IncidentNew || in.OpenedBatchID != 101 || in.EntryName != "人口基本信息" {
				t.Errorf("incident %+v", in)
			}
		}
		// The police CDO is told of each (not the specialist, not other bodies).
		inbox := func(who string) int {
			_, n, err := f.notify.List(f.ctx, f.p[who].User.ID, "zh", notify.Filter{})
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
		if inbox("police_cdo") != 4 || inbox("police_spec") != 0 || inbox("market_cdo") != 0 {
			t.Errorf("notices: cdo %d, specialist %d, market %d", inbox("police_cdo"), inbox("police_spec"), inbox("market_cdo"))
		}
		// Another failing batch updates the same incidents.
		f.advance(3600e9)
		f.batch(e.ID, 102, badRows)
		open, n, _ = f.q.Incidents(f.ctx, f.p["reviewer"], IncidentFilter{EntryID: e.ID, Status: "open"})
		if n != 4 || open[0].Batches != 2 || open[0].LastBatchID != 102 || open[0].OpenedBatchID != 101 {
			t.Fatalf("second failing batch: %d %+v", n, open)
		}
		// Acknowledge one, resolve another by hand.
		var idc, nn Incident
		for _, in := range open {
			switch in.RuleKey {
			case "idcard:公民身份号码":
				idc = in
			case "notnull:姓名":
				nn = in
			}
		}
		if _, err := f.q.Acknowledge(f.ctx, f.p["market_cdo"], idc.ID, ""); errs.KindOf(err) != errs.KindNotFound {
			t.Errorf("another body's CDO acknowledged: %v", err)
		}
		if _, err := f.q.Acknowledge(f.ctx, f.p["reviewer"], idc.ID, ""); errs.KindOf(err) != errs.KindForbidden {
			t.Errorf("a reviewer acknowledged: %v", err)
		}
		got, err := f.q.Acknowledge(f.ctx, f.p["police_spec"], idc.ID, "在查")
		if err != nil || got.Status != IncidentAcknowledged || got.AcknowledgedBy != "police_spec" {
			t.Fatalf("acknowledge: %+v %v", got, err)
		}
		if _, err := f.q.Acknowledge(f.ctx, f.p["police_spec"], idc.ID, ""); errs.KindOf(err) != errs.KindConflict {
			t.Errorf("acknowledged twice: %v", err)
		}
		if _, err := f.q.Resolve(f.ctx, f.p["police_cdo"], nn.ID, " "); errs.KindOf(err) != errs.KindInvalid {
			t.Errorf("resolve without reason: %v", err)
		}
		if got, err := f.q.Resolve(f.ctx, f.p["police_cdo"], nn.ID, "源系统已补录姓名"); err != nil || got.Status != IncidentResolved || got.Reason != "源系统已补录姓名" {
			t.Fatalf("resolve: %+v %v", got, err)
		}
		if inbox("police_cdo") != 4 {
			t.Errorf("a second failing batch notified again: %d", inbox("police_cdo"))
		}
		// A passing batch closes the rest.
		f.batch(e.ID, 103, goodRows)
		open, n, _ = f.q.Incidents(f.ctx, f.p["police_cdo"], IncidentFilter{EntryID: e.ID, Status: "open"})
		if n != 0 {
			t.Fatalf("still open after a passing batch: %+v", open)
		}
		all, n, _ := f.q.Incidents(f.ctx, f.p["police_cdo"], IncidentFilter{EntryID: e.ID})
		if n != 4 {
			t.Fatalf("all incidents: %d", n)
		}
		for _, in := range all {
			if in.Status != IncidentResolved || in.ResolvedAt == nil {
				t.Errorf("not resolved: %+v", in)
			}
			if in.ID == idc.ID && in.ResolvedBy != "system" {
				t.Errorf("closed by the passing batch: %+v", in)
			}
		}
		// A new failure opens a new incident.
		f.batch(e.ID, 104, badRows)
		_, n, _ = f.q.Incidents(f.ctx, f.p["police_cdo"], IncidentFilter{EntryID: e.ID, Status: IncidentNew})
		if n != 4 || inbox("police_cdo") != 8 {
			t.Errorf("reopened: %d, notices %d", n, inbox("police_cdo"))
		}
		// Other bodies do not see them; the auditor has no quality access.
		if _, n, _ := f.q.Incidents(f.ctx, f.p["market_cdo"], IncidentFilter{}); n != 0 {
			t.Errorf("market sees %d", n)
		}
		if _, _, err := f.q.Incidents(f.ctx, f.p["auditor"], IncidentFilter{}); errs.KindOf(err) != errs.KindForbidden {
			t.Errorf("auditor: %v", err)
		}
	})
}

func TestOneOpenIncidentUnderConcurrency(t *testing.T) {
	eachDB(t, func(t *testing.T, f *fixture) {
		e := f.entry("police", "人口基本信息", "daily")
		var wg sync.WaitGroup
		errc := make(chan error, 8)
		for i := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errc <- f.store.Tx(f.ctx, func(tx *db.Tx) error {
					return f.q.RecordBatch(tx, e.ID, int64(200+i), 10, 1, map[string]int{"idcard:公民身份号码": 1})
				})
			}()
		}
		wg.Wait()
		close(errc)
		for err := range errc {
			if err != nil {
				t.Error(err)
			}
		}
		open, n, err := f.q.Incidents(f.ctx, f.p["police_cdo"], IncidentFilter{EntryID: e.ID, Status: "open"})
		if err != nil || n != 1 || open[0].Batches != 8 {
			t.Fatalf("want one open incident over 8 batches: %d %v %+v", n, err, open)
		}
	})
}

func TestThresholdPercentInBatch(t *testing.T) {
	eachDB(t, func(t *testing.T, f *fixture) {
		e := f.entry("police", "人口基本信息", "daily")
		rules, err := f.q.Rules(f.ctx, f.p["police_cdo"], e.ID)
		if err != nil {
			t.Fatal(err)
		}
		for i := range rules {
			if rules[i].Key == "idcard:公民身份号码" {
				rules[i].Threshold = Threshold{Kind: "percent", Value: 10}
			}
		}
		if _, err := f.q.SaveRules(f.ctx, f.p["police_cdo"], e.ID, rules, 0); err != nil {
			t.Fatal(err)
		}
		// 1 of 10 rows (10%) is tolerated; 2 of 10 is not.
		for b, failed := range map[int64]int{301: 1, 302: 2} {
			if err := f.store.Tx(f.ctx, func(tx *db.Tx) error {
				return f.q.RecordBatch(tx, e.ID, b, 10, failed, map[string]int{"idcard:公民身份号码": failed})
			}); err != nil {
				t.Fatal(err)
			}
		}
		res, err := f.q.BatchResults(f.ctx, f.p["police_cdo"], e.ID, 301)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range res {
			if r.Key == "idcard:公民身份号码" && (!r.Passed || r.Failed != 1) {
				t.Errorf("301: %+v", r)
			}
		}
		res, _ = f.q.BatchResults(f.ctx, f.p["police_cdo"], e.ID, 302)
		for _, r := range res {
			if r.Key == "idcard:公民身份号码" && (r.Passed || r.Failed != 2) {
				t.Errorf("302: %+v", r)
			}
		}
	})
}

// TestStoredRulesEveryKind saves a rule of every kind that takes parameters,
// reads them back through Checker and runs a passing and a failing row.
func TestStoredRulesEveryKind(t *testing.T) {
	eachDB(t, func(t *testing.T, f *fixture) {
		e := f.entry("police", "人员信息", "daily",
			catalog.Item{Name: "公民身份号码", DataType: "C", Length: 18, Key: true},
			catalog.Item{Name: "性别", DataType: "C", Length: 1},
			catalog.Item{Name: "年龄", DataType: "N", Length: 3},
			catalog.Item{Name: "编号", DataType: "C", Length: 20},
			catalog.Item{Name: "单位代码", DataType: "C", Length: 18})
		lo, hi := 0.0, 150.0
		added := []Rule{
			{Kind: KindPattern, Items: []string{"编号"}, Params: Params{Pattern: `JL\d{4}`}, Enabled: true},
			{Kind: KindCodeList, Items: []string{"性别"}, Params: Params{Codes: []string{"1", "2", "9"}}, Enabled: true},
			{Kind: KindRange, Items: []string{"年龄"}, Params: Params{Min: &lo, Max: &hi}, Enabled: true},
			{Kind: KindLength, Items: []string{"编号"}, Params: Params{MinLen: 6, MaxLen: 6}, Enabled: true},
			{Kind: KindCreditCode, Items: []string{"单位代码"}, Enabled: true, Dimension: Accuracy, Threshold: Threshold{Kind: "percent", Value: 5}},
			{Kind: KindReference, Items: []string{"单位代码"}, Params: Params{RefEntryID: 99, RefItem: "统一社会信用代码"}, Enabled: true},
			{Kind: KindExpr, Params: Params{Expr: `性别 != "2" || 年龄 == nil || 年龄 >= 20`, MessageZH: "女性年龄不足", MessageEN: "too young"}, Enabled: true},
		}
		saved, err := f.q.SaveRules(f.ctx, f.p["police_spec"], e.ID, append(Defaults(e.Items), added...), 0)
		if err != nil {
			t.Fatal(err)
		}
		if n := len(saved); n != len(Defaults(e.Items))+len(added) {
			t.Fatalf("%d rules after save", n)
		}
		c, err := f.q.Checker(f.ctx, e.ID, e.Items)
		if err != nil {
			t.Fatal(err)
		}
		c.SetLookup(func(entryID int64, item, value string) (bool, error) {
			return entryID == 99 && item == "统一社会信用代码" && value == "91350100M000100Y43", nil
		})
		good := map[string]string{"公民身份号码": "11010519491231002X", "性别": "2", "年龄": "30", "编号": "JL2026", "单位代码": "91350100M000100Y43"}
		if vs := c.Row(good); len(vs) != 0 {
			t.Fatalf("good row: %+v", vs)
		}
		bad := map[string]string{"公民身份号码": "370101190102039973", "性别": "2", "年龄": "151", "编号": "XX20261", "单位代码": "91512081MA62K0260E"}
		got := map[string]bool{}
		for _, v := range c.Row(bad) {
			got[v.Rule] = true
			if v.Rule == KindCreditCode {
				t.Errorf("a valid credit code failed: %+v", v)
			}
		}
		for _, k := range []string{KindPattern, KindRange, KindLength, KindReference} {
			if !got[k] {
				t.Errorf("%s did not fail: %v", k, got)
			}
		}
		if vs := c.Row(map[string]string{"公民身份号码": "51343620000320711X", "性别": "3", "年龄": "12", "编号": "JL2027", "单位代码": "91350100M000100Y4Z"}); len(vs) != 3 {
			t.Errorf("code list, credit code and expression: %+v", vs)
		}
		for _, r := range saved {
			if r.Kind == KindCreditCode && !r.Default && (r.Dimension != Accuracy || r.Threshold != (Threshold{"percent", 5})) {
				t.Errorf("stored dimension and threshold: %+v", r)
			}
		}
		// A save on the revision read before someone else's save is refused.
		if _, err := f.q.SaveRules(f.ctx, f.p["police_cdo"], e.ID, Defaults(e.Items), 0); !errors.Is(err, ErrStale) {
			t.Errorf("stale save: %v", err)
		}
		_, rev, err := f.q.RuleSet(f.ctx, f.p["police_cdo"], e.ID)
		if err != nil || rev != 1 {
			t.Fatalf("revision %d %v", rev, err)
		}
		// Only the changes are stored: saving the defaults as they are leaves no rows.
		if _, err := f.q.SaveRules(f.ctx, f.p["police_cdo"], e.ID, Defaults(e.Items), rev); err != nil {
			t.Fatal(err)
		}
		var n int
		if err := f.store.R.QueryRow(`SELECT COUNT(*) FROM quality_rules WHERE entry_id = $1`, e.ID).Scan(&n); err != nil || n != 0 {
			t.Errorf("stored rows: %d %v", n, err)
		}
	})
}

// TestConcurrentRuleSaves: of concurrent saves on one revision, exactly one
// goes through; the others are refused as stale, never lost silently.
func TestConcurrentRuleSaves(t *testing.T) {
	eachDB(t, func(t *testing.T, f *fixture) {
		e := f.entry("police", "人口基本信息", "daily")
		rules, rev, err := f.q.RuleSet(f.ctx, f.p["police_cdo"], e.ID)
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		errc := make(chan error, 6)
		for i := range 6 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				rs := slices.Clone(rules)
				rs[0].Threshold = Threshold{Kind: "count", Value: float64(i + 1)}
				_, err := f.q.SaveRules(f.ctx, f.p["police_cdo"], e.ID, rs, rev)
				errc <- err
			}()
		}
		wg.Wait()
		close(errc)
		ok, stale := 0, 0
		for err := range errc {
			switch {
			case err == nil:
				ok++
			case errors.Is(err, ErrStale):
				stale++
			default:
				t.Error(err)
			}
		}
		if ok != 1 || stale != 5 {
			t.Errorf("%d saved, %d stale", ok, stale)
		}
	})
}
