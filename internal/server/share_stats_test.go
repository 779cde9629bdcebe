package server_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"xiangyun/internal/auth"
	"xiangyun/internal/browsertest"
	"xiangyun/internal/catalog"
	"xiangyun/internal/db/dbtest"
	"xiangyun/internal/share"
)

// statsEntry publishes an entry of the police (the env's department) and records calls on it by the bureau's
// application 5 and calls of the police's own application 6 on an entry of another body.
func statsEntry(t *testing.T, e *env) catalog.Entry {
	t.Helper()
	ctx := context.Background()
	in := catalog.EntryInput{ProviderID: e.dept.ID, Content: catalog.Content{
		Name: "人口基本信息", Class: "1/01/001", Abstract: "全省户籍人口的姓名、公民身份号码等基本信息。",
		FormatClass: "database", FormatType: "oracle", Items: []catalog.Item{
			{Name: "公民身份号码", DataType: "C", Length: 18, Key: true}, {Name: "姓名", DataType: "C", Length: 50, Required: true}},
		ShareType: catalog.ShareConditional, ShareCondition: "仅用于身份核验", ShareMethod: catalog.MethodTable, ShareChannel: "platform",
		OpenType: catalog.OpenNone, OpenCondition: "涉及个人信息", Cycle: "daily", Grade: "L3"}}
	es, err := e.s.Catalog.CreatePublished(ctx, catalog.System, []catalog.EntryInput{in}, "test")
	if err != nil {
		t.Fatal(err)
	}
	today := share.CallDay(time.Now())
	yesterday := share.CallDay(time.Now().AddDate(0, 0, -1))
	if err := e.s.ShareStats.RecordCalls(ctx, []share.CallCount{
		{Day: yesterday, AppID: 5, BodyID: e.bureau.ID, EntryID: es[0].ID, GrantID: 1, Kind: "query", Outcome: "ok", Purpose: "政务服务身份核验", Calls: 120, LatencyUS: 240_000},
		{Day: today, AppID: 5, BodyID: e.bureau.ID, EntryID: es[0].ID, GrantID: 1, Kind: "verify", Outcome: "ok", Purpose: "政务服务身份核验", Calls: 30, LatencyUS: 30_000},
		{Day: today, AppID: 5, BodyID: e.bureau.ID, EntryID: es[0].ID, GrantID: 1, Kind: "query", Outcome: "gw.rate_limited", Purpose: "政务服务身份核验", Calls: 4},
		{Day: today, AppID: 6, BodyID: e.dept.ID, EntryID: 987654, GrantID: 2, Kind: "service", Outcome: "ok", Purpose: "治安管理", Calls: 9},
	}); err != nil {
		t.Fatal(err)
	}
	return es[0]
}

// TestShareStatsConsole renders the statistics and usage pages and downloads the report, as the roles that may.
func TestShareStatsConsole(t *testing.T) {
	for dialect, dsn := range dbtest.TestDSNs(t) {
		t.Run(string(dialect), func(t *testing.T) {
			e := newEnv(t, dsn(t))
			statsEntry(t, e)
			get := func(c *http.Client, path string, status int, want ...string) string {
				t.Helper()
				res := e.do(c, "GET", path, nil)
				b, _ := io.ReadAll(res.Body)
				res.Body.Close()
				if res.StatusCode != status {
					t.Fatalf("GET %s: %d, want %d: %.300s", path, res.StatusCode, status, b)
				}
				for _, w := range want {
					if !strings.Contains(string(b), w) {
						t.Errorf("GET %s: %q missing", path, w)
					}
				}
				return string(b)
			}
			rev, cdo := e.client(auth.RoleReviewer), e.client(auth.RoleChiefDataOfficer)
			page := get(rev, "/share/stats", 200, "调用统计", `id="stat-calls">163<`, `id="stat-refused">4<`, "人口基本信息", "吉林省政务服务和数字化建设管理局",
				"chart-days-opt", "chart-outcomes-opt", "chart-entries-opt", "chart-bodies-opt", `href="/share/stats"`)
			if !strings.Contains(page, "/share/stats/report.xlsx?from=") {
				t.Error("no report link")
			}
			get(rev, "/share/stats?group=outcome", 200, "gw.rate_limited", "成功")
			get(rev, "/share/stats?group=day&from=2020-01-01&to=2020-01-31", 200, "该时间段内没有调用")
			get(rev, "/share/stats?from=2020-13-01", 422)
			// The police CDO sees the calls on its entry (as provider) and its own application's (as consumer).
			get(cdo, "/share/stats", 200, `id="stat-calls">163<`)
			get(cdo, "/share/usage", 200, "数据使用情况", "吉林省政务服务和数字化建设管理局", "政务服务身份核验", `id="usage-total">154<`)
			get(cdo, "/share/usage?lang=en", 200)
			res := e.do(cdo, "GET", "/share/stats/report.xlsx", nil)
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != 200 || !strings.HasPrefix(string(b), "PK") || !strings.Contains(res.Header.Get("Content-Disposition"), ".xlsx") {
				t.Fatalf("report: %d %q", res.StatusCode, res.Header)
			}
			for _, r := range []auth.Role{auth.RoleAdmin, auth.RoleAuditor, auth.RoleSecurityOfficer, auth.RoleDataSpecialist} {
				c := e.client(r)
				for _, p := range []string{"/share/stats", "/share/usage", "/share/stats/report.xlsx"} {
					get(c, p, 403)
				}
				if strings.Contains(get(c, "/profile", 200), `href="/share/stats"`) {
					t.Errorf("%s sees the statistics in the navigation", r)
				}
			}
		})
	}
}

// TestShareStatsBrowser opens the statistics page in chromium as the reviewer: the four charts draw.
func TestShareStatsBrowser(t *testing.T) {
	ctx := browsertest.New(t, 120*time.Second)
	e := newEnv(t, "sqlite:"+t.TempDir())
	statsEntry(t, e)
	err := chromedp.Do(ctx,
		chromedp.Navigate(e.ts.URL+"/login"),
		browsertest.Type("#username", "u_reviewer"), browsertest.Type("#password", pw), browsertest.Click("button[type=submit]"),
		browsertest.Visible("nav"),
		chromedp.Navigate(e.ts.URL+"/share/stats"),
		browsertest.Visible("#stats-table"),
		chromedp.Sleep(500*time.Millisecond), // ECharts draws after load
	)
	if err != nil {
		t.Fatal(err)
	}
	charts, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('.chart canvas').length`))
	if err != nil || charts != 4 {
		t.Fatalf("%d charts drawn: %v", charts, err)
	}
	calls, err := browsertest.Text(ctx, "#stat-calls")
	if err != nil || calls != "163" {
		t.Fatalf("calls %q: %v", calls, err)
	}
	vs, err := browsertest.Axe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range vs {
		t.Errorf("accessibility: %s", v)
	}
}
