package api

import (
	"fmt"
	"testing"

	"xiangyun/internal/catalog"
	"xiangyun/internal/db"
	"xiangyun/internal/db/dbtest"
	"xiangyun/internal/quality"
)

func TestQualityAPI(t *testing.T) {
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
			path := fmt.Sprintf("/api/v1/catalog/entries/%d/quality-rules", e.ID)
			var rules struct {
				Revision int64          `json:"revision"`
				Rules    []quality.Rule `json:"rules"`
				Kinds    []quality.Kind `json:"kinds"`
			}
			st, h := env.doH("reviewer", "GET", path, nil, nil, &rules)
			if st != 200 || len(rules.Rules) == 0 || len(rules.Kinds) != len(quality.Kinds) || h.Get("ETag") != `"0"` {
				t.Fatalf("rules: %d %s %+v", st, h.Get("ETag"), rules)
			}
			ifMatch := map[string]string{"If-Match": `"0"`}
			// Switch the ID check off and add an expression rule; a broken expression is refused in both languages.
			for i := range rules.Rules {
				if rules.Rules[i].Key == "idcard:公民身份号码" {
					rules.Rules[i].Enabled = false
				}
			}
			bad := append(rules.Rules, quality.Rule{Kind: quality.KindExpr, Enabled: true, Params: quality.Params{Expr: "姓名 +"}})
			var prob Problem
			if st, _ := env.doH("police_cdo", "PUT", path, ifMatch, map[string]any{"rules": bad}, &prob); st != 422 || prob.MessageZH == "" || prob.MessageEN == "" {
				t.Errorf("broken expression: %d %+v", st, prob)
			}
			good := append(rules.Rules, quality.Rule{Kind: quality.KindExpr, Enabled: true, Params: quality.Params{Expr: `len(姓名) <= 10`}})
			if st, _ := env.doH("reviewer", "PUT", path, ifMatch, map[string]any{"rules": good}, nil); st != 403 {
				t.Errorf("a reviewer edited rules: %d", st)
			}
			if st, _ := env.doH("market_cdo", "PUT", path, ifMatch, map[string]any{"rules": good}, nil); st != 403 {
				t.Errorf("another body edited rules: %d", st)
			}
			if st := env.do("police_spec", "PUT", path, map[string]any{"rules": good}, &prob); st != 428 || prob.MessageZH == "" {
				t.Errorf("save without If-Match: %d %+v", st, prob)
			}
			if st, h := env.doH("police_spec", "PUT", path, ifMatch, map[string]any{"rules": good}, &rules); st != 200 || h.Get("ETag") != `"1"` || rules.Revision != 1 {
				t.Errorf("save: %d %s", st, h.Get("ETag"))
			}
			if st, _ := env.doH("police_cdo", "PUT", path, ifMatch, map[string]any{"rules": good}, &prob); st != 412 || prob.Code != "quality.stale" {
				t.Errorf("stale save: %d %+v", st, prob)
			}
			for _, r := range rules.Rules {
				if (r.Key == "idcard:公民身份号码" && r.Enabled) || (r.Kind == quality.KindExpr && r.Key != "expr#1") {
					t.Errorf("saved: %+v", r)
				}
			}
			// A failing batch recorded as ingest does opens an incident the police handle.
			if err := env.control.Tx(t.Context(), func(tx *db.Tx) error {
				return env.quality.RecordBatch(tx, e.ID, 9, 10, 2, map[string]int{"expr#1": 2})
			}); err != nil {
				t.Fatal(err)
			}
			var rep quality.EntryReport
			if st := env.do("police_cdo", "GET", fmt.Sprintf("/api/v1/catalog/entries/%d/quality", e.ID), nil, &rep); st != 200 || rep.Scores == nil || rep.OpenIncidents != 1 {
				t.Fatalf("entry quality: %d %+v", st, rep)
			}
			if st := env.do("market_cdo", "GET", fmt.Sprintf("/api/v1/catalog/entries/%d/quality", e.ID), nil, nil); st != 403 {
				t.Errorf("market read police quality: %d", st)
			}
			var incs struct {
				Items []quality.Incident `json:"items"`
				Total int                `json:"total"`
			}
			if st := env.do("reviewer", "GET", "/api/v1/quality/incidents?status=open", nil, &incs); st != 200 || incs.Total != 1 {
				t.Fatalf("incidents: %d %+v", st, incs)
			}
			id := incs.Items[0].ID
			if st := env.do("reviewer", "POST", fmt.Sprintf("/api/v1/quality/incidents/%d/resolve", id), map[string]string{"note": "x"}, nil); st != 403 {
				t.Errorf("reviewer resolved: %d", st)
			}
			var inc quality.Incident
			if st := env.do("police_spec", "POST", fmt.Sprintf("/api/v1/quality/incidents/%d/acknowledge", id), map[string]string{}, &inc); st != 200 || inc.Status != "acknowledged" {
				t.Errorf("acknowledge: %d %+v", st, inc)
			}
			if st := env.do("police_cdo", "POST", fmt.Sprintf("/api/v1/quality/incidents/%d/resolve", id), map[string]string{"note": "已修正源系统"}, &inc); st != 200 || inc.Status != "resolved" {
				t.Errorf("resolve: %d %+v", st, inc)
			}
			var scores struct {
				Items []quality.BodyScore `json:"items"`
			}
			if st := env.do("police_cdo", "GET", fmt.Sprintf("/api/v1/quality/scores?body_id=%d", env.bodies["police"].ID), nil, &scores); st != 200 ||
				len(scores.Items) != 1 || len(scores.Items[0].Ranking) != 1 {
				t.Errorf("scores: %d %+v", st, scores)
			}
			for _, p := range []string{"/api/v1/quality/overdue", "/api/v1/quality/one-source", "/api/v1/quality/multi-source/pairs", "/api/v1/quality/rule-kinds"} {
				if st := env.do("reviewer", "GET", p, nil, nil); st != 200 {
					t.Errorf("%s: %d", p, st)
				}
			}
			if st := env.do("auditor", "GET", "/api/v1/quality/scores", nil, nil); st != 403 {
				t.Errorf("auditor read scores: %d", st)
			}
			_ = catalog.System
		})
	}
}
