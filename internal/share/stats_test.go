package share

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"xiangyun/internal/auth"
	"xiangyun/internal/catalog"
	"xiangyun/internal/db"
	"xiangyun/internal/db/dbtest"
	"xiangyun/internal/errs"
	"xiangyun/internal/ident"
	"xiangyun/internal/org"
)

// statsFixture is a control store with three bodies, users in the roles that read statistics, two published entries
// (one of the police, one of the market authority) and the statistics service.
type statsFixture struct {
	t      testing.TB
	ctx    context.Context
	store  *db.DB
	stats  *Stats
	cat    *catalog.Service
	bodies map[string]org.Body
	p      map[string]*auth.Principal
	police catalog.Entry // provided by the police
	market catalog.Entry // provided by the market authority
}

func statsCreditCode(n int) string {
	oc := fmt.Sprintf("%08d", 31000000+n*71)
	c, _ := ident.OrgCodeCheckChar(oc)
	first := "11220000" + oc + string(c)
	cc, _ := ident.CreditCodeCheckChar(first)
	return first + string(cc)
}

func statsEachDB(t *testing.T, fn func(t *testing.T, f *statsFixture)) {
	t.Parallel()
	for dialect, dsn := range dbtest.TestDSNs(t) {
		t.Run(string(dialect), func(t *testing.T) {
			t.Parallel()
			fn(t, newStatsFixture(t, dsn(t)))
		})
	}
}

func newStatsFixture(t testing.TB, dsn string) *statsFixture {
	t.Helper()
	ctx := context.Background()
	store := dbtest.Open(t, dsn, "control")
	store.Clock = func() time.Time { return time.Date(2026, 3, 10, 4, 0, 0, 0, time.UTC) } // 12:00 in Shanghai
	f := &statsFixture{t: t, ctx: ctx, store: store, bodies: map[string]org.Body{}, p: map[string]*auth.Principal{}}
	orgs, err := org.Open(ctx, store)
	if err != nil {
		t.Fatal(err)
	}
	au, err := auth.Open(ctx, store, orgs, auth.DefaultPolicy)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := orgs.CreateRegion(ctx, org.Region{Code: "220000", Name: "吉林省"}); err != nil {
		t.Fatal(err)
	}
	for i, b := range []struct{ key, name string }{{"bureau", "吉林省政务服务和数字化建设管理局"}, {"police", "吉林省公安厅"}, {"market", "吉林省市场监督管理厅"}} {
		body, err := orgs.CreateBody(ctx, org.BodyInput{Name: b.name, CreditCode: statsCreditCode(i + 1), Kind: org.KindAgency, RegionCode: "220000"})
		if err != nil {
			t.Fatal(err)
		}
		f.bodies[b.key] = body
	}
	for _, u := range []struct{ name, role, body string }{{"reviewer", "reviewer", "bureau"}, {"admin", "admin", "bureau"},
		{"police_cdo", "cdo", "police"}, {"police_spec", "specialist", "police"}, {"market_cdo", "cdo", "market"}, {"auditor", "auditor", "bureau"}} {
		user, err := au.CreateUser(ctx, auth.UserInput{Username: u.name, DisplayName: u.name, BodyID: f.bodies[u.body].ID, Password: "Test-password-2026"})
		if err != nil {
			t.Fatal(err)
		}
		if err := au.GrantRole(ctx, 0, user.ID, auth.Role(u.role), f.bodies[u.body].ID); err != nil {
			t.Fatal(err)
		}
		if user, err = au.User(ctx, user.ID); err != nil {
			t.Fatal(err)
		}
		f.p[u.name] = &auth.Principal{User: user}
	}
	if f.cat, err = catalog.Open(ctx, store, orgs, catalog.Options{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.cat.Close() })
	f.police = f.entry("police", "人口基本信息")
	f.market = f.entry("market", "企业登记信息")
	if f.stats, err = OpenStats(ctx, store, orgs, f.cat); err != nil {
		t.Fatal(err)
	}
	f.stats.SetAppNames(func(_ context.Context, ids []int64) (map[int64]string, error) {
		out := map[int64]string{}
		for _, id := range ids {
			if id == 7 {
				out[id] = "市场监管一网通办"
			}
		}
		return out, nil
	})
	return f
}

func (f *statsFixture) entry(body, name string) catalog.Entry {
	f.t.Helper()
	in := catalog.EntryInput{ProviderID: f.bodies[body].ID, Content: catalog.Content{
		Name: name, Class: "1/01/001", Abstract: "用于测试调用统计的目录。",
		FormatClass: "database", FormatType: "oracle", Items: []catalog.Item{
			{Name: "公民身份号码", EnName: "gmsfhm", DataType: "C", Length: 18, Key: true},
			{Name: "姓名", EnName: "xm", DataType: "C", Length: 50, Required: true},
		},
		ShareType: catalog.ShareConditional, ShareCondition: "仅用于政务服务身份核验", ShareMethod: catalog.MethodTable, ShareChannel: "platform",
		OpenType: catalog.OpenNone, OpenCondition: "涉及个人信息，不予开放", Cycle: "daily", Grade: "L3",
	}}
	es, err := f.cat.CreatePublished(f.ctx, catalog.System, []catalog.EntryInput{in}, "test")
	if err != nil {
		f.t.Fatal(err)
	}
	return es[0]
}

// calls are a day of traffic: the market's application 7 calls the police entry, the police's application 9 calls
// the market entry, and one refusal.
func (f *statsFixture) calls() []CallCount {
	m, p := f.bodies["market"].ID, f.bodies["police"].ID
	return []CallCount{
		{Day: "2026-03-09", AppID: 7, BodyID: m, EntryID: f.police.ID, GrantID: 70, Kind: "query", Outcome: "ok", Purpose: "企业开办身份核验", Calls: 10, LatencyUS: 10_000},
		{Day: "2026-03-09", AppID: 7, BodyID: m, EntryID: f.police.ID, GrantID: 70, Kind: "query", Outcome: "gw.rate_limited", Purpose: "企业开办身份核验", Calls: 2, LatencyUS: 200},
		{Day: "2026-03-10", AppID: 7, BodyID: m, EntryID: f.police.ID, GrantID: 70, Kind: "verify", Outcome: "ok", Purpose: "企业开办身份核验", Calls: 5, LatencyUS: 5_000},
		{Day: "2026-03-10", AppID: 9, BodyID: p, EntryID: f.market.ID, GrantID: 90, Kind: "service", Outcome: "ok", Purpose: "治安管理", Calls: 3, LatencyUS: 9_000},
	}
}

func TestStatsRecordAndReport(t *testing.T) {
	statsEachDB(t, func(t *testing.T, f *statsFixture) {
		if err := f.stats.RecordCalls(f.ctx, f.calls()); err != nil {
			t.Fatal(err)
		}
		// A second flush of the same keys adds to them.
		if err := f.stats.RecordCalls(f.ctx, f.calls()[:1]); err != nil {
			t.Fatal(err)
		}
		rep, err := f.stats.Report(f.ctx, f.p["reviewer"], StatsFilter{From: "2026-03-01", To: "2026-03-10", Group: GroupDay})
		if err != nil {
			t.Fatal(err)
		}
		if rep.Calls != 30 || rep.OK != 28 || rep.Refused != 2 || rep.Scope != "all" {
			t.Fatalf("totals: %+v", rep)
		}
		if len(rep.Rows) != 2 || rep.Rows[0].Key != "2026-03-09" || rep.Rows[0].Calls != 22 || rep.Rows[1].Calls != 8 {
			t.Fatalf("by day: %+v", rep.Rows)
		}
		if got := rep.Rows[0].AvgLatencyMS; got < 0.918 || got > 0.919 { // 20200 µs / 22 calls
			t.Fatalf("average latency %v", got)
		}
		if s := DailySeries(rep); len(s) != 10 || s[0].Key != "2026-03-01" || s[0].Calls != 0 || s[8].Calls != 22 {
			t.Fatalf("series: %+v", s)
		}

		byBody, err := f.stats.Report(f.ctx, f.p["reviewer"], StatsFilter{From: "2026-03-01", To: "2026-03-10", Group: GroupBody})
		if err != nil {
			t.Fatal(err)
		}
		if len(byBody.Rows) != 2 || byBody.Rows[0].Name != "吉林省市场监督管理厅" || byBody.Rows[0].Calls != 27 || byBody.Rows[1].Name != "吉林省公安厅" {
			t.Fatalf("by body: %+v", byBody.Rows)
		}
		byEntry, err := f.stats.Report(f.ctx, f.p["reviewer"], StatsFilter{From: "2026-03-01", To: "2026-03-10", Group: GroupEntry})
		if err != nil {
			t.Fatal(err)
		}
		if byEntry.Rows[0].Name != "人口基本信息" || byEntry.Rows[0].Calls != 27 {
			t.Fatalf("by entry: %+v", byEntry.Rows)
		}
		byApp, err := f.stats.Report(f.ctx, f.p["reviewer"], StatsFilter{From: "2026-03-01", To: "2026-03-10", Group: GroupApplication})
		if err != nil {
			t.Fatal(err)
		}
		if byApp.Rows[0].Name != "市场监管一网通办" || byApp.Rows[1].Name != "9" { // 9 is unresolved: its id
			t.Fatalf("by application: %+v", byApp.Rows)
		}
		byOutcome, err := f.stats.Report(f.ctx, f.p["reviewer"], StatsFilter{From: "2026-03-01", To: "2026-03-10", Group: GroupOutcome})
		if err != nil {
			t.Fatal(err)
		}
		if len(byOutcome.Rows) != 2 || byOutcome.Rows[0].Key != "ok" || byOutcome.Rows[0].Calls != 28 || byOutcome.Rows[1].Key != "gw.rate_limited" {
			t.Fatalf("by outcome: %+v", byOutcome.Rows)
		}
		byProv, err := f.stats.Report(f.ctx, f.p["reviewer"], StatsFilter{From: "2026-03-01", To: "2026-03-10", Group: GroupProvider})
		if err != nil {
			t.Fatal(err)
		}
		if byProv.Rows[0].Name != "吉林省公安厅" || byProv.Rows[0].Calls != 27 {
			t.Fatalf("by provider: %+v", byProv.Rows)
		}
		// The date range bounds the rows; the default is the 30 days to today (2026-03-10 in Shanghai).
		one, err := f.stats.Report(f.ctx, f.p["reviewer"], StatsFilter{From: "2026-03-10", To: "2026-03-10"})
		if err != nil {
			t.Fatal(err)
		}
		if one.Calls != 8 {
			t.Fatalf("one day: %+v", one)
		}
		def, err := f.stats.Report(f.ctx, f.p["reviewer"], StatsFilter{})
		if err != nil {
			t.Fatal(err)
		}
		if def.From != "2026-02-09" || def.To != "2026-03-10" || def.Calls != 30 {
			t.Fatalf("default range: %+v", def)
		}
		for _, bad := range []StatsFilter{{From: "2026-3-1"}, {From: "2026-03-11", To: "2026-03-10"}, {Group: "nope"}} {
			if _, err := f.stats.Report(f.ctx, f.p["reviewer"], bad); errs.KindOf(err) != errs.KindInvalid {
				t.Fatalf("%+v: %v", bad, err)
			}
		}
		if err := f.stats.RecordCalls(f.ctx, []CallCount{{Day: "yesterday", Kind: "query", Outcome: "ok", Calls: 1}}); errs.KindOf(err) != errs.KindInvalid {
			t.Fatalf("bad day accepted: %v", err)
		}
		// A refusal before the application was known (no credential), with an over-long purpose cut at a rune.
		long := strings.Repeat("核", 600)
		if err := f.stats.RecordCalls(f.ctx, []CallCount{{Day: "2026-03-10", Kind: "call", Outcome: "gw.unauthenticated", Purpose: long, Calls: 3}}); err != nil {
			t.Fatal(err)
		}
		byApp, err = f.stats.Report(f.ctx, f.p["reviewer"], StatsFilter{From: "2026-03-10", To: "2026-03-10", Group: GroupApplication})
		if err != nil {
			t.Fatal(err)
		}
		var anon *StatsRow
		for i := range byApp.Rows {
			if byApp.Rows[i].Key == "0" {
				anon = &byApp.Rows[i]
			}
		}
		if anon == nil || anon.Name != "—" || anon.Refused != 3 {
			t.Fatalf("unknown application: %+v", byApp.Rows)
		}
	})
}

func TestStatsVisibility(t *testing.T) {
	statsEachDB(t, func(t *testing.T, f *statsFixture) {
		if err := f.stats.RecordCalls(f.ctx, f.calls()); err != nil {
			t.Fatal(err)
		}
		// A third body's calls on a third body's entry: no one but the reviewer sees them.
		other := CallCount{Day: "2026-03-10", AppID: 11, BodyID: f.bodies["bureau"].ID, EntryID: 999_999, GrantID: 110, Kind: "query", Outcome: "ok", Calls: 100}
		if err := f.stats.RecordCalls(f.ctx, []CallCount{other}); err != nil {
			t.Fatal(err)
		}
		rng := StatsFilter{From: "2026-03-01", To: "2026-03-10", Group: GroupEntry}
		all, err := f.stats.Report(f.ctx, f.p["reviewer"], rng)
		if err != nil || all.Calls != 120 {
			t.Fatalf("reviewer: %+v %v", all, err)
		}
		// The police CDO: its own application's calls (3, as consumer) and the calls on its entry (17, as provider).
		pol, err := f.stats.Report(f.ctx, f.p["police_cdo"], rng)
		if err != nil || pol.Calls != 20 || pol.Scope != "own" {
			t.Fatalf("police cdo: %+v %v", pol, err)
		}
		mkt, err := f.stats.Report(f.ctx, f.p["market_cdo"], rng)
		if err != nil || mkt.Calls != 20 {
			t.Fatalf("market cdo: %+v %v", mkt, err)
		}
		for _, who := range []string{"admin", "auditor", "police_spec"} {
			if _, err := f.stats.Report(f.ctx, f.p[who], rng); errs.KindOf(err) != errs.KindForbidden {
				t.Fatalf("%s: %v", who, err)
			}
			var buf bytes.Buffer
			if err := f.stats.WriteReport(f.ctx, f.p[who], "", "", "zh", &buf); errs.KindOf(err) != errs.KindForbidden {
				t.Fatalf("%s report: %v", who, err)
			}
		}

		// The provider's view: who used the police entry, how often and why.
		use, err := f.stats.Usage(f.ctx, f.p["police_cdo"], f.bodies["police"].ID, "2026-03-01", "2026-03-10")
		if err != nil {
			t.Fatal(err)
		}
		if len(use) != 1 || use[0].Body != "吉林省市场监督管理厅" || use[0].App != "市场监管一网通办" || use[0].Entry != "人口基本信息" ||
			use[0].Purpose != "企业开办身份核验" || use[0].Calls != 17 || use[0].OK != 15 || use[0].FirstDay != "2026-03-09" || use[0].LastDay != "2026-03-10" {
			t.Fatalf("usage: %+v", use)
		}
		if _, err := f.stats.Usage(f.ctx, f.p["market_cdo"], f.bodies["police"].ID, "", ""); errs.KindOf(err) != errs.KindForbidden {
			t.Fatalf("market sees the police's usage: %v", err)
		}
		if rv, err := f.stats.Usage(f.ctx, f.p["reviewer"], f.bodies["market"].ID, "", ""); err != nil || len(rv) != 1 || rv[0].Calls != 3 {
			t.Fatalf("reviewer usage of market: %+v %v", rv, err)
		}

		// The XLSX report holds exactly the rows the caller may see.
		var buf bytes.Buffer
		if err := f.stats.WriteReport(f.ctx, f.p["police_cdo"], "2026-03-01", "2026-03-10", "zh", &buf); err != nil {
			t.Fatal(err)
		}
		x, err := excelize.OpenReader(&buf)
		if err != nil {
			t.Fatal(err)
		}
		rows, err := x.GetRows("Sheet1")
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != 5 || rows[0][0] != "日期" || rows[1][1] != "吉林省市场监督管理厅" || rows[1][4] != "人口基本信息" || rows[1][5] != "吉林省公安厅" {
			t.Fatalf("report rows: %q", rows)
		}
		var sum int
		for _, r := range rows[1:] {
			var n int
			fmt.Sscan(r[9], &n)
			sum += n
		}
		if sum != 20 {
			t.Fatalf("report sums to %d calls, want 20: %q", sum, rows)
		}
	})
}

// TestStatsConcurrentFlushes: several gateway nodes flush the same keys at once; the totals add up exactly.
func TestStatsConcurrentFlushes(t *testing.T) {
	statsEachDB(t, func(t *testing.T, f *statsFixture) {
		const nodes, flushes = 6, 15
		m := f.bodies["market"].ID
		var wg sync.WaitGroup
		errc := make(chan error, nodes*flushes)
		for n := range nodes {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range flushes {
					// Each flush touches the same rows, in an order that differs by node.
					var cs []CallCount
					for k := range 4 {
						g := int64((k + n + i) % 4)
						cs = append(cs, CallCount{Day: "2026-03-10", AppID: 7, BodyID: m, EntryID: f.police.ID, GrantID: 100 + g,
							Kind: "query", Outcome: "ok", Purpose: "核验", Calls: g + 1, LatencyUS: 10})
					}
					errc <- f.stats.RecordCalls(f.ctx, cs)
				}
			}()
		}
		wg.Wait()
		close(errc)
		for err := range errc {
			if err != nil {
				t.Fatal(err)
			}
		}
		used, err := f.stats.QuotaUsed(f.ctx, "2026-03-10")
		if err != nil {
			t.Fatal(err)
		}
		for g := int64(0); g < 4; g++ {
			if want := (g + 1) * nodes * flushes; used[100+g] != want {
				t.Fatalf("grant %d: %d calls, want %d (%v)", 100+g, used[100+g], want, used)
			}
		}
		// Refusals do not use quota; other days do not count.
		if err := f.stats.RecordCalls(f.ctx, []CallCount{
			{Day: "2026-03-10", GrantID: 100, Kind: "query", Outcome: "gw.quota_exhausted", Calls: 50},
			{Day: "2026-03-09", GrantID: 100, Kind: "query", Outcome: "ok", Calls: 50},
		}); err != nil {
			t.Fatal(err)
		}
		if used, err = f.stats.QuotaUsed(f.ctx, "2026-03-10"); err != nil || used[100] != nodes*flushes {
			t.Fatalf("quota after refusals: %v %v", used, err)
		}
		// The store's clock says 2026-03-10 12:00 in Shanghai.
		if today, err := f.stats.QuotaUsedToday(f.ctx); err != nil || today[100] != nodes*flushes || today[103] != 4*nodes*flushes {
			t.Fatalf("quota today: %v %v", today, err)
		}
	})
}
