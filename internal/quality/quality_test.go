package quality

import (
	"sync"
	"testing"

	"xiangyun/internal/db"
	"xiangyun/internal/errs"
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
		if n != 4 {
			t.Errorf("reopened: %d", n)
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
		if _, err := f.q.SaveRules(f.ctx, f.p["police_cdo"], e.ID, rules); err != nil {
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
