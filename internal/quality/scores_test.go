package quality

import (
	"math"
	"testing"
	"time"

	"xiangyun/internal/catalog"
	"xiangyun/internal/db"
)

func near(a, b float64) bool { return math.Abs(a-b) <= 0.11 }

func dim(sc *Scores, d string) float64 {
	if sc == nil || sc.Dim[d] == nil {
		return -1
	}
	return *sc.Dim[d]
}

func (f *fixture) record(entryID, batchID int64, rows, rejected int, per map[string]int) {
	f.t.Helper()
	if err := f.store.Tx(f.ctx, func(tx *db.Tx) error {
		return f.q.RecordBatch(tx, entryID, batchID, rows, rejected, per)
	}); err != nil {
		f.t.Fatal(err)
	}
}

func TestScoreRollUp(t *testing.T) {
	eachDB(t, func(t *testing.T, f *fixture) {
		a := f.entry("police", "人口基本信息", "daily")
		b := f.entry("police", "户籍迁移信息", "daily")
		f.entry("market", "市场主体登记信息", "monthly")
		f.record(a.ID, 1, 10, 4, map[string]int{"idcard:公民身份号码": 2, "notnull:姓名": 1, "unique:公民身份号码": 2})
		f.record(b.ID, 2, 30, 0, nil)

		r, err := f.q.EntryQuality(f.ctx, f.p["police_spec"], a.ID)
		if err != nil {
			t.Fatal(err)
		}
		// completeness 3 rules × 10 rows, 1 failure; validity 4 × 10, 2; uniqueness 10, 2; timeliness fresh.
		want := map[string]float64{Completeness: 96.7, Validity: 95, Uniqueness: 80, Timeliness: 100}
		for d, v := range want {
			if !near(dim(r.Scores, d), v) {
				t.Errorf("entry %s = %v, want %v", d, dim(r.Scores, d), v)
			}
		}
		if r.Scores == nil || !near(r.Scores.Score, 92.9) || dim(r.Scores, Accuracy) != -1 {
			t.Errorf("entry score %+v", r.Scores)
		}
		if len(r.History) != 1 || r.LastBatch == nil || r.LastBatch.Affected != 4 || len(r.Results) != 8 || r.OpenIncidents != 3 {
			t.Errorf("report: history %d, last %+v, results %d, open %d", len(r.History), r.LastBatch, len(r.Results), r.OpenIncidents)
		}

		bs, err := f.q.Scores(f.ctx, f.p["police_cdo"], f.bodies["police"].ID)
		if err != nil || len(bs) != 1 {
			t.Fatalf("body scores: %v %+v", err, bs)
		}
		p := bs[0]
		// Weighted by rows: (96.7×10 + 100×30) / 40 and so on.
		want = map[string]float64{Completeness: 99.2, Validity: 98.8, Uniqueness: 95, Timeliness: 100}
		for d, v := range want {
			if !near(dim(p.Scores, d), v) {
				t.Errorf("body %s = %v, want %v", d, dim(p.Scores, d), v)
			}
		}
		if !near(p.Scores.Score, 98.3) || p.Entries != 2 || p.Measured != 2 || p.Rows != 40 || p.OpenIncidents != 3 {
			t.Errorf("body %+v", p)
		}
		if len(p.Ranking) != 2 || p.Ranking[0].EntryID != a.ID || !near(p.Ranking[0].Priority, 28.4) || len(p.History) != 1 {
			t.Errorf("ranking %+v history %+v", p.Ranking, p.History)
		}
		// The platform sees every body, lowest score first; the market has no batch yet.
		all, err := f.q.Scores(f.ctx, f.p["reviewer"], 0)
		if err != nil || len(all) != 2 || all[0].BodyID != f.bodies["police"].ID || all[1].Scores != nil || all[0].Ranking != nil {
			t.Errorf("all bodies: %v %+v", err, all)
		}
		if _, err := f.q.Scores(f.ctx, f.p["market_cdo"], f.bodies["police"].ID); err == nil {
			t.Error("market CDO read police scores")
		}
		if mine, err := f.q.Scores(f.ctx, f.p["market_cdo"], 0); err != nil || len(mine) != 1 || mine[0].BodyID != f.bodies["market"].ID {
			t.Errorf("own body: %v %+v", err, mine)
		}

		// Timeliness falls once data is overdue: a's batch at Monday 2 March
		// 17:00 Beijing time is due by the end of Tuesday 3 March; on Thursday 5
		// March at 17:00 Beijing time (41 h past due, allowance 31 h) it is 0.
		f.advance(72 * time.Hour)
		r, _ = f.q.EntryQuality(f.ctx, f.p["police_spec"], a.ID)
		if r.Freshness == nil || !r.Freshness.Overdue || dim(r.Scores, Timeliness) != 0 || !near(r.Scores.Score, 67.9) {
			t.Errorf("overdue entry: %+v %+v", r.Freshness, r.Scores)
		}
	})
}

func TestOverdue(t *testing.T) {
	eachDB(t, func(t *testing.T, f *fixture) {
		// The clock starts on Monday 2 March 2026, 09:00 UTC (17:00 in Beijing).
		daily := f.entry("police", "人口基本信息", "daily")
		monthly := f.entry("police", "户籍迁移信息", "monthly")
		weekly := f.entry("market", "市场主体登记信息", "weekly")
		other := f.entry("market", "不定期信息", "other")
		file := f.entry("market", "文件资源", "daily")
		off := f.entry("market", "关闭及时性", "daily")
		_ = other
		// A file resource holds no records: no freshness.
		e, _ := f.cat.Get(f.ctx, catalog.System, file.ID)
		in := catalog.EntryInput{Content: e.Content, ProviderID: e.ProviderID}
		in.ShareMethod, in.FormatClass, in.FormatType, in.Items = catalog.MethodFile, "spreadsheet", "xlsx", e.Items
		if _, err := f.cat.Update(f.ctx, catalog.System, file.ID, in, "file"); err != nil {
			t.Fatal(err)
		}
		if _, err := f.cat.Submit(f.ctx, catalog.System, file.ID, ""); err != nil {
			t.Fatal(err)
		}
		if _, err := f.cat.Publish(f.ctx, catalog.System, file.ID, ""); err != nil {
			t.Fatal(err)
		}
		rules, _ := f.q.Rules(f.ctx, f.p["market_cdo"], off.ID)
		for i := range rules {
			if rules[i].Kind == KindFreshness {
				rules[i].Enabled = false
			}
		}
		if _, err := f.q.SaveRules(f.ctx, f.p["market_cdo"], off.ID, rules, 0); err != nil {
			t.Fatal(err)
		}
		f.record(daily.ID, 1, 5, 0, nil)

		ids := func(fs []Freshness) map[int64]int {
			m := map[int64]int{}
			for _, x := range fs {
				m[x.EntryID] = x.DaysOverdue
			}
			return m
		}
		// Tuesday 3 March 12:00 UTC: nothing is due yet.
		f.advance(27 * time.Hour)
		if got, err := f.q.Overdue(f.ctx, f.p["reviewer"], 0); err != nil || len(got) != 0 {
			t.Fatalf("Tuesday: %v %+v", err, got)
		}
		// Wednesday 4 March 00:00 UTC (08:00 Beijing): the daily entry is a day overdue.
		f.advance(12 * time.Hour)
		got, _ := f.q.Overdue(f.ctx, f.p["reviewer"], 0)
		if m := ids(got); len(m) != 1 || m[daily.ID] != 1 {
			t.Fatalf("Wednesday: %+v", got)
		}
		// A batch on Friday 6 March is due by the end of Monday 9 March: not overdue at the weekend.
		f.advance(2 * 24 * time.Hour) // Friday 6 March 00:00 UTC
		f.record(daily.ID, 2, 5, 0, nil)
		f.advance(2*24*time.Hour + 12*time.Hour) // Sunday 8 March 12:00 UTC
		got, _ = f.q.Overdue(f.ctx, f.p["reviewer"], 0)
		if m := ids(got); len(m) != 0 {
			t.Fatalf("weekend: %+v", got)
		}
		// Tuesday 10 March 12:00 UTC: daily overdue since Monday night; weekly (never loaded,
		// published 2 March) due by the end of 9 March; monthly, other, file and the
		// switched-off entry are not overdue.
		f.advance(2 * 24 * time.Hour)
		got, _ = f.q.Overdue(f.ctx, f.p["reviewer"], 0)
		m := ids(got)
		if len(m) != 2 || m[daily.ID] != 1 || m[weekly.ID] != 1 {
			t.Fatalf("10 March: %+v", got)
		}
		for _, x := range got {
			if x.EntryID == weekly.ID && x.LastBatchAt != nil {
				t.Errorf("weekly never loaded: %+v", x)
			}
		}
		_ = monthly
		groups, err := f.q.OverdueByBody(f.ctx, f.p["reviewer"])
		if err != nil || len(groups) != 2 || groups[0].Count != 1 {
			t.Errorf("by body: %v %+v", err, groups)
		}
		// A body's staff see their own.
		mine, err := f.q.Overdue(f.ctx, f.p["market_cdo"], 0)
		if err != nil || len(mine) != 1 || mine[0].EntryID != weekly.ID {
			t.Errorf("market's own: %v %+v", err, mine)
		}
		if _, err := f.q.Overdue(f.ctx, f.p["market_cdo"], f.bodies["police"].ID); err == nil {
			t.Error("market read police's overdue list")
		}
	})
}

func TestDue(t *testing.T) {
	bj := time.FixedZone("CST", 8*3600)
	last := time.Date(2026, 1, 31, 10, 0, 0, 0, bj)
	cases := map[string]time.Time{
		"weekly":     time.Date(2026, 2, 7, 23, 59, 59, 999999999, bj),
		"monthly":    time.Date(2026, 3, 3, 23, 59, 59, 999999999, bj), // Go normalises 31 February
		"quarterly":  time.Date(2026, 5, 1, 23, 59, 59, 999999999, bj),
		"halfyearly": time.Date(2026, 7, 31, 23, 59, 59, 999999999, bj),
		"yearly":     time.Date(2027, 1, 31, 23, 59, 59, 999999999, bj),
		"daily":      time.Date(2026, 2, 2, 23, 59, 59, 999999999, bj), // Saturday → Monday
	}
	for cycle, want := range cases {
		if got := due(cycle, 0, last); !got.Equal(want) {
			t.Errorf("%s: %v, want %v", cycle, got, want)
		}
	}
	if !due("other", 0, last).IsZero() {
		t.Error("other has no deadline")
	}
	if got := due("yearly", 3, last); !got.Equal(time.Date(2026, 2, 3, 23, 59, 59, 999999999, bj)) {
		t.Errorf("max_age_days: %v", got)
	}
}
