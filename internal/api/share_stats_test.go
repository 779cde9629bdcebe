package api

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"testing"

	"github.com/xuri/excelize/v2"

	"xiangyun/internal/db/dbtest"
	"xiangyun/internal/share"
)

func TestShareStatsAPI(t *testing.T) {
	for dialect, dsn := range dbtest.TestDSNs(t) {
		t.Run(string(dialect), func(t *testing.T) {
			env := newCatalogEnv(t, dsn(t))
			var e apiEntry
			if st := env.do("police_spec", "POST", "/api/v1/catalog/entries", env.entry("police", "人口基本信息"), &e); st != 200 {
				t.Fatalf("create: %d", st)
			}
			for _, step := range []struct{ user, action string }{{"police_cdo", "submit"}, {"reviewer", "publish"}} {
				if st := env.do(step.user, "POST", fmt.Sprintf("/api/v1/catalog/entries/%d/%s", e.ID, step.action), map[string]string{"comment": "ok"}, nil); st != 200 {
					t.Fatalf("%s: %d", step.action, st)
				}
			}
			m, p, b := env.bodies["market"].ID, env.bodies["police"].ID, env.bodies["bureau"].ID
			today := share.CallDay(env.control.Now().Time)
			if err := env.stats.RecordCalls(context.Background(), []share.CallCount{
				{Day: today, AppID: 7, BodyID: m, EntryID: e.ID, GrantID: 1, Kind: "query", Outcome: "ok", Purpose: "企业开办", Calls: 40, LatencyUS: 40_000},
				{Day: today, AppID: 7, BodyID: m, EntryID: e.ID, GrantID: 1, Kind: "query", Outcome: "gw.no_grant", Purpose: "企业开办", Calls: 2},
				{Day: today, AppID: 8, BodyID: b, EntryID: 424242, GrantID: 2, Kind: "service", Outcome: "ok", Calls: 5},
			}); err != nil {
				t.Fatal(err)
			}
			var rep share.StatsReport
			if st := env.do("reviewer", "GET", "/api/v1/share/stats?group=body", nil, &rep); st != 200 || rep.Calls != 47 || len(rep.Rows) != 2 || rep.Rows[0].Name != "吉林省市场监督管理厅" {
				t.Fatalf("reviewer by body: %d %+v", st, rep)
			}
			if st := env.do("police_cdo", "GET", "/api/v1/share/stats?group=outcome", nil, &rep); st != 200 || rep.Calls != 42 || rep.Refused != 2 {
				t.Fatalf("police as provider: %d %+v", st, rep)
			}
			if st := env.do("market_cdo", "GET", "/api/v1/share/stats?group=entry&from="+today+"&to="+today, nil, &rep); st != 200 || rep.Calls != 42 || rep.Rows[0].Name != "人口基本信息" {
				t.Fatalf("market as consumer: %d %+v", st, rep)
			}
			var prob Problem
			if st := env.do("reviewer", "GET", "/api/v1/share/stats?from=2026-13-01", nil, &prob); st != 422 || prob.MessageZH == "" {
				t.Fatalf("bad date: %d %+v", st, prob)
			}
			for _, who := range []string{"admin", "auditor", "police_spec", ""} {
				want := 403
				if who == "" {
					want = 401
				}
				for _, path := range []string{"/api/v1/share/stats", "/api/v1/share/stats/report.xlsx", "/api/v1/share/usage"} {
					if st := env.do(who, "GET", path, nil, nil); st != want {
						t.Errorf("%q %s: %d, want %d", who, path, st, want)
					}
				}
			}

			var use struct {
				BodyID int64            `json:"body_id"`
				Items  []share.UsageRow `json:"items"`
			}
			if st := env.do("police_cdo", "GET", "/api/v1/share/usage", nil, &use); st != 200 || use.BodyID != p || len(use.Items) != 1 ||
				use.Items[0].Body != "吉林省市场监督管理厅" || use.Items[0].Purpose != "企业开办" || use.Items[0].Calls != 42 {
				t.Fatalf("usage: %d %+v", st, use)
			}
			if st := env.do("market_cdo", "GET", fmt.Sprintf("/api/v1/share/usage?body_id=%d", p), nil, nil); st != 403 {
				t.Fatalf("market read the police's usage: %d", st)
			}

			req, _ := http.NewRequest("GET", env.srv.URL+"/api/v1/share/stats/report.xlsx", nil)
			req.Header.Set("Authorization", "Bearer "+env.tokens["market_cdo"])
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" {
				body, _ := io.ReadAll(resp.Body)
				t.Fatalf("report: %d %s", resp.StatusCode, body)
			}
			x, err := excelize.OpenReader(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			rows, err := x.GetRows("Sheet1")
			if err != nil {
				t.Fatal(err)
			}
			if len(rows) != 3 || rows[1][4] != "人口基本信息" || rows[1][5] != "吉林省公安厅" {
				t.Fatalf("report rows: %q", rows)
			}
		})
	}
}
