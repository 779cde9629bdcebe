package server_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"xiangyun/internal/auth"
	"xiangyun/internal/browsertest"
	"xiangyun/internal/catalog"
	"xiangyun/internal/db"
	"xiangyun/internal/db/dbtest"
	"xiangyun/internal/quality"
)

// TestQualityConsole renders the quality pages with data and drives the
// incident and rule forms as a browser would.
func TestQualityConsole(t *testing.T) {
	for dialect, dsn := range dbtest.TestDSNs(t) {
		t.Run(string(dialect), func(t *testing.T) {
			e := newEnv(t, dsn(t))
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
			id := es[0].ID
			if err := e.s.Control.Tx(ctx, func(tx *db.Tx) error {
				return e.s.Quality.RecordBatch(tx, id, 1, 100, 7, map[string]int{"idcard:公民身份号码": 5, "notnull:姓名": 2})
			}); err != nil {
				t.Fatal(err)
			}
			get := func(c *http.Client, path string, want ...string) string {
				t.Helper()
				res := e.do(c, "GET", path, nil)
				b, _ := io.ReadAll(res.Body)
				res.Body.Close()
				if res.StatusCode != 200 {
					t.Fatalf("GET %s: %d %s", path, res.StatusCode, b)
				}
				for _, w := range want {
					if !strings.Contains(string(b), w) {
						t.Errorf("GET %s: %q missing", path, w)
					}
				}
				return string(b)
			}
			post := func(c *http.Client, path string, form url.Values) int {
				t.Helper()
				req, _ := http.NewRequest("POST", e.ts.URL+path, strings.NewReader(form.Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				res, err := c.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				res.Body.Close()
				return res.StatusCode
			}
			rev, cdo := e.client(auth.RoleReviewer), e.client(auth.RoleChiefDataOfficer)
			get(rev, "/quality", "吉林省公安厅", "chart-bodies-opt")
			get(rev, fmt.Sprintf("/quality/bodies/%d", e.dept.ID), "优先整改", "人口基本信息")
			get(cdo, fmt.Sprintf("/quality/entries/%d", id), "身份证号", "save-rules", "最近批次检查结果")
			if strings.Contains(get(rev, fmt.Sprintf("/quality/entries/%d", id)), "save-rules") {
				t.Error("a reviewer is offered the rule form")
			}
			get(rev, "/quality/incidents", "身份证号")
			get(rev, "/quality/one-source")
			// The CDO is sent to the body's page; the reviewer is not offered incident actions.
			if res := e.do(cdo, "GET", "/quality", nil); res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != fmt.Sprintf("/quality/bodies/%d", e.dept.ID) {
				t.Errorf("CDO overview: %d %s", res.StatusCode, res.Header.Get("Location"))
			}
			incs, _, err := e.s.Quality.Incidents(ctx, catalog.System, quality.IncidentFilter{Status: "open"})
			if err != nil || len(incs) != 2 {
				t.Fatalf("incidents: %v %+v", err, incs)
			}
			if st := post(cdo, fmt.Sprintf("/quality/incidents/%d/acknowledge", incs[0].ID), url.Values{}); st != http.StatusSeeOther {
				t.Errorf("acknowledge: %d", st)
			}
			if st := post(cdo, fmt.Sprintf("/quality/incidents/%d/resolve", incs[1].ID), url.Values{"reason": {"已补录"}}); st != http.StatusSeeOther {
				t.Errorf("resolve: %d", st)
			}
			if st := post(rev, fmt.Sprintf("/quality/incidents/%d/resolve", incs[0].ID), url.Values{"reason": {"x"}}); st != http.StatusForbidden {
				t.Errorf("reviewer resolve: %d", st)
			}
			// Switch the ID check off from the rule form (its checkbox left unticked), add a code list.
			form := url.Values{"enabled:notnull:公民身份号码": {"1"}, "enabled:notnull:姓名": {"1"}, "enabled:unique:公民身份号码": {"1"},
				"enabled:rowcount": {"1"}, "enabled:freshness": {"1"}, "th_kind:notnull:姓名": {"percent"}, "th_value:notnull:姓名": {"5"}, "revision": {"0"}}
			if st := post(cdo, fmt.Sprintf("/quality/entries/%d/rules", id), form); st != http.StatusSeeOther {
				t.Fatalf("save rules: %d", st)
			}
			if st := post(cdo, fmt.Sprintf("/quality/entries/%d/rules/add", id), url.Values{"kind": {"pattern"}, "item": {"姓名"}, "pattern": {"("}, "revision": {"1"}}); st != http.StatusUnprocessableEntity {
				t.Errorf("bad pattern: %d", st)
			}
			if st := post(cdo, fmt.Sprintf("/quality/entries/%d/rules/add", id), url.Values{"kind": {"expr"}, "expr": {`len(姓名) <= 20`}, "message_zh": {"姓名过长"}, "revision": {"1"}}); st != http.StatusSeeOther {
				t.Errorf("add expression: %d", st)
			}
			// A form rendered before those saves is refused, not applied over them.
			if st := post(cdo, fmt.Sprintf("/quality/entries/%d/rules", id), form); st != http.StatusConflict {
				t.Errorf("stale rules form: %d", st)
			}
			rules, err := e.s.Quality.Rules(ctx, catalog.System, id)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range rules {
				switch r.Key {
				case "idcard:公民身份号码", "length:公民身份号码", "length:姓名":
					if r.Enabled {
						t.Errorf("%s still on", r.Key)
					}
				case "notnull:姓名":
					if r.Threshold.Kind != "percent" || r.Threshold.Value != 5 {
						t.Errorf("threshold: %+v", r.Threshold)
					}
				case "expr#1":
					if !r.Enabled || r.Params.MessageZH != "姓名过长" {
						t.Errorf("expression rule: %+v", r)
					}
				}
			}
			// Two days later the daily entry is overdue: the CDO sees it at the top of the home page.
			now := time.Now().Add(72 * time.Hour)
			e.s.Quality.SetClock(func() time.Time { return now })
			get(cdo, "/", "home-quality", "人口基本信息")
			get(rev, "/quality/overdue", "overdue-total", "人口基本信息")
		})
	}
}

// TestQualityBrowser signs in as the provider's CDO in chromium: the home
// page leads with the body's quality block, the entry's quality page draws
// its charts, and an incident is acknowledged from the page.
func TestQualityBrowser(t *testing.T) {
	ctx := browsertest.New(t, 120*time.Second)
	e := newEnv(t, "sqlite:"+t.TempDir())
	bg := context.Background()
	in := catalog.EntryInput{ProviderID: e.dept.ID, Content: catalog.Content{
		Name: "人口基本信息", Class: "1/01/001", Abstract: "全省户籍人口的姓名、公民身份号码等基本信息。",
		FormatClass: "database", FormatType: "oracle", Items: []catalog.Item{
			{Name: "公民身份号码", DataType: "C", Length: 18, Key: true}, {Name: "姓名", DataType: "C", Length: 50, Required: true}},
		ShareType: catalog.ShareConditional, ShareCondition: "仅用于身份核验", ShareMethod: catalog.MethodTable, ShareChannel: "platform",
		OpenType: catalog.OpenNone, OpenCondition: "涉及个人信息", Cycle: "daily", Grade: "L3"}}
	es, err := e.s.Catalog.CreatePublished(bg, catalog.System, []catalog.EntryInput{in}, "test")
	if err != nil {
		t.Fatal(err)
	}
	id := es[0].ID
	for b, per := range []map[string]int{{"notnull:姓名": 9}, {"idcard:公民身份号码": 5, "notnull:姓名": 2}} {
		if err := e.s.Control.Tx(bg, func(tx *db.Tx) error {
			return e.s.Quality.RecordBatch(tx, id, int64(b+1), 100, 9, per)
		}); err != nil {
			t.Fatal(err)
		}
	}
	err = chromedp.Do(ctx,
		chromedp.Navigate(e.ts.URL+"/login"),
		browsertest.Type("#username", "u_cdo"), browsertest.Type("#password", pw), browsertest.Click("button[type=submit]"),
		browsertest.Visible("#home-quality"),
		chromedp.Navigate(fmt.Sprintf("%s/quality/entries/%d", e.ts.URL, id)),
		browsertest.Visible("#rules-form"),
		chromedp.Sleep(500*time.Millisecond), // ECharts draws after load
	)
	if err != nil {
		t.Fatal(err)
	}
	charts, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('.chart canvas').length`))
	if err != nil {
		t.Fatal(err)
	}
	if dir := os.Getenv("XIANGYUN_SCREENSHOTS"); dir != "" {
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err == nil {
			err = os.WriteFile(filepath.Join(dir, "quality_entry.png"), png, 0o644)
		}
		if err != nil {
			t.Logf("screenshot: %v", err)
		}
	}
	if err := chromedp.Do(ctx, browsertest.Click(`#incidents form[action$="/acknowledge"] button`), browsertest.Visible("#incidents")); err != nil {
		t.Fatal(err)
	}
	status, err := chromedp.Run(ctx, chromedp.Text(`#incidents .badge-amber`, chromedp.NodeVisible))
	if err != nil {
		t.Fatal(err)
	}
	if charts < 2 || status != "处理中" {
		t.Errorf("charts drawn: %d; acknowledged status %q", charts, status)
	}
	if dir := os.Getenv("XIANGYUN_SCREENSHOTS"); dir != "" {
		for name, path := range map[string]string{"quality_body": fmt.Sprintf("/quality/bodies/%d", e.dept.ID), "home": "/"} {
			if err := chromedp.Do(ctx, chromedp.Navigate(e.ts.URL+path), chromedp.Sleep(500*time.Millisecond)); err != nil {
				t.Fatal(err)
			}
			if png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)); err == nil {
				_ = os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644)
			}
		}
	}
}
