package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/danielgtaylor/huma/v2"

	"xiangyun/internal/audit"
	"xiangyun/internal/auth"
	"xiangyun/internal/catalog"
	"xiangyun/internal/db"
	"xiangyun/internal/db/dbtest"
	"xiangyun/internal/httpx"
	"xiangyun/internal/ident"
	"xiangyun/internal/org"
	"xiangyun/internal/quality"
	"xiangyun/internal/share"
)

// catalogEnv is the API over a fresh installation with a few bodies and
// users, each with an API token.
type catalogEnv struct {
	t       *testing.T
	srv     *httptest.Server
	log     *audit.Log
	bodies  map[string]org.Body
	tokens  map[string]string
	openapi *huma.OpenAPI
	control *db.DB
	cat     *catalog.Service
	quality *quality.Service
	stats   *share.Stats
}

func newCatalogEnv(t *testing.T, dsn string) *catalogEnv {
	t.Helper()
	ctx := context.Background()
	control, auditDB := dbtest.Open(t, dsn, "control"), dbtest.Open(t, dsn, "audit")
	key, err := audit.LoadOrCreateKey(filepath.Join(t.TempDir(), "audit.key"), "xiangyun-test")
	if err != nil {
		t.Fatal(err)
	}
	log, err := audit.Open(ctx, auditDB, key)
	if err != nil {
		t.Fatal(err)
	}
	log.Watch(control)
	orgs, err := org.Open(ctx, control)
	if err != nil {
		t.Fatal(err)
	}
	au, err := auth.Open(ctx, control, orgs, auth.DefaultPolicy)
	if err != nil {
		t.Fatal(err)
	}
	cat, err := catalog.Open(ctx, control, orgs, catalog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cat.Close() })
	qs, err := quality.Open(ctx, control, cat, quality.Options{})
	if err != nil {
		t.Fatal(err)
	}

	stats, err := share.OpenStats(ctx, control, orgs, cat)
	if err != nil {
		t.Fatal(err)
	}
	env := &catalogEnv{t: t, log: log, bodies: map[string]org.Body{}, tokens: map[string]string{}, control: control, cat: cat, quality: qs, stats: stats}
	if _, err := orgs.CreateRegion(ctx, org.Region{Code: "220000", Name: "吉林省"}); err != nil {
		t.Fatal(err)
	}
	for i, b := range []struct{ key, name string }{{"bureau", "吉林省政务服务和数字化建设管理局"}, {"police", "吉林省公安厅"}, {"market", "吉林省市场监督管理厅"}} {
		oc := fmt.Sprintf("%08d", 31000000+i*71)
		c1, _ := ident.OrgCodeCheckChar(oc)
		first := "11220000" + oc + string(c1)
		c2, _ := ident.CreditCodeCheckChar(first)
		body, err := orgs.CreateBody(ctx, org.BodyInput{Name: b.name, CreditCode: first + string(c2), Kind: org.KindAgency, RegionCode: "220000"})
		if err != nil {
			t.Fatal(err)
		}
		env.bodies[b.key] = body
	}
	for _, u := range []struct {
		name, body string
		role       auth.Role
	}{{"reviewer", "bureau", auth.RoleReviewer}, {"admin", "bureau", auth.RoleAdmin}, {"police_cdo", "police", auth.RoleChiefDataOfficer},
		{"police_spec", "police", auth.RoleDataSpecialist}, {"market_cdo", "market", auth.RoleChiefDataOfficer}, {"auditor", "bureau", auth.RoleAuditor}} {
		user, err := au.CreateUser(ctx, auth.UserInput{Username: u.name, DisplayName: u.name, BodyID: env.bodies[u.body].ID, Password: "Test-password-2026"})
		if err != nil {
			t.Fatal(err)
		}
		if err := au.GrantRole(ctx, 0, user.ID, u.role, env.bodies[u.body].ID); err != nil {
			t.Fatal(err)
		}
		if env.tokens[u.name], _, err = au.CreateToken(ctx, user.ID, "test", 0); err != nil {
			t.Fatal(err)
		}
	}
	mux := http.NewServeMux()
	authn := &httpx.Authenticator{Auth: au, Audit: log}
	a := New(mux, Deps{Orgs: orgs, Catalog: cat, Quality: qs, Auth: au, Audit: log, Authn: authn, Table: &httpx.Table{}, Version: "test", ShareStats: stats})
	env.openapi = a.h.OpenAPI()
	env.srv = httptest.NewServer(authn.Middleware(mux))
	t.Cleanup(env.srv.Close)
	return env
}

// do sends a request as user ("" for anonymous) and decodes the answer into
// out (when not nil); it returns the status.
func (env *catalogEnv) do(user, method, path string, body, out any) int {
	env.t.Helper()
	st, _ := env.doH(user, method, path, nil, body, out)
	return st
}

// doH is do with request headers; it also returns the response headers.
func (env *catalogEnv) doH(user, method, path string, h map[string]string, body, out any) (int, http.Header) {
	env.t.Helper()
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			env.t.Fatal(err)
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, env.srv.URL+path, r)
	if err != nil {
		env.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if user != "" {
		req.Header.Set("Authorization", "Bearer "+env.tokens[user])
	}
	for k, v := range h {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		env.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if out != nil && len(data) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			env.t.Fatalf("%s %s: %d %s: %v", method, path, resp.StatusCode, data, err)
		}
	}
	return resp.StatusCode, resp.Header
}

// etag reads the ETag of entry id as user sees it.
func (env *catalogEnv) etag(user string, id int64) map[string]string {
	env.t.Helper()
	st, h := env.doH(user, "GET", fmt.Sprintf("/api/v1/catalog/entries/%d", id), nil, nil, nil)
	if st != 200 || h.Get("ETag") == "" {
		env.t.Fatalf("GET entry %d: %d, ETag %q", id, st, h.Get("ETag"))
	}
	return map[string]string{"If-Match": h.Get("ETag")}
}

func (env *catalogEnv) entry(body, name string) map[string]any {
	return map[string]any{
		"provider_id": env.bodies[body].ID, "name": name, "class": "1/01/001",
		"abstract": "全省常住人口的姓名、公民身份号码等基本信息。", "format_class": "database", "format_type": "oracle",
		"items": []map[string]any{
			{"name": "公民身份号码", "en_name": "gmsfhm", "data_type": "C", "length": 18, "key": true, "sensitive": true, "mask": "id_card"},
			{"name": "姓名", "data_type": "C", "length": 50, "sensitive": true, "mask": "name"},
		},
		"share_type": "conditional", "share_condition": "仅用于身份核验", "share_method": "api",
		"open_type": "none", "open_condition": "涉及个人信息，不予开放", "cycle": "daily", "grade": "L3",
	}
}

type apiEntry struct {
	ID        int64  `json:"id"`
	Code      string `json:"code"`
	Name      string `json:"name"`
	Provider  string `json:"provider"`
	ShareType string `json:"share_type"`
	OpenType  string `json:"open_type"`
	Grade     string `json:"grade"`
	Status    string `json:"status"`
	Items     []struct {
		Name string `json:"name"`
	} `json:"items"`
}

func TestCatalogAPI(t *testing.T) {
	for dialect, dsn := range dbtest.TestDSNs(t) {
		t.Run(string(dialect), func(t *testing.T) {
			env := newCatalogEnv(t, dsn(t))
			id := func(e apiEntry) string { return fmt.Sprint(e.ID) }

			// The search is described in the OpenAPI document with one parameter per facet.
			search := env.openapi.Paths["/api/v1/catalog/entries"]
			if search == nil || search.Get == nil || search.Post == nil || search.Get.Metadata["permission"] != "catalog.read" {
				t.Fatal("search not in the OpenAPI description")
			}
			params := map[string]bool{}
			for _, p := range search.Get.Parameters {
				params[p.Name] = true
			}
			for _, name := range append([]string{"q", "page", "page_size", "sort"}, catalog.Facets...) {
				if !params[name] {
					t.Errorf("search parameter %s not described", name)
				}
			}
			for _, p := range []string{"/api/v1/catalog/entries/{id}/publish", "/api/v1/catalog/entries/{id}/diff", "/api/v1/catalog/review-queue",
				"/api/v1/catalog/responsibilities", "/api/v1/catalog/demands/{id}/links", "/api/v1/catalog/negative-list", "/api/v1/catalog/vocabulary",
				"/api/v1/catalog/stats", "/api/v1/catalog/index/rebuild"} {
				if env.openapi.Paths[p] == nil {
					t.Errorf("%s not in the OpenAPI description", p)
				}
			}

			// Value sets, with the grade policy.
			var voc struct {
				ShareTypes []catalog.Term      `json:"share_types"`
				Grades     []catalog.GradeRule `json:"grades"`
			}
			if st := env.do("police_spec", "GET", "/api/v1/catalog/vocabulary", nil, &voc); st != 200 || len(voc.ShareTypes) != 3 || len(voc.Grades) != 4 ||
				voc.Grades[3].Code != "L4" || len(voc.Grades[3].Open) != 1 {
				t.Fatalf("vocabulary: %d %+v", st, voc)
			}
			if st := env.do("", "GET", "/api/v1/catalog/vocabulary", nil, nil); st != 401 {
				t.Errorf("anonymous vocabulary: %d", st)
			}
			if st := env.do("auditor", "GET", "/api/v1/catalog/entries", nil, nil); st != 403 {
				t.Errorf("auditor search: %d", st)
			}

			// Create: validation errors name the field, in both languages.
			bad := env.entry("police", "吉林省常住人口基本信息")
			bad["share_type"], bad["share_condition"] = "none", ""
			var prob Problem
			if st := env.do("police_spec", "POST", "/api/v1/catalog/entries", bad, &prob); st != 422 || len(prob.Errors) != 1 ||
				prob.Errors[0].Field != "share_condition" || prob.Errors[0].Code != "catalog.share_basis_required" || prob.Errors[0].ZH == "" {
				t.Fatalf("invalid create: %d %+v", st, prob)
			}
			var e apiEntry
			if st := env.do("police_spec", "POST", "/api/v1/catalog/entries", env.entry("police", "吉林省常住人口基本信息"), &e); st != 200 ||
				e.Code != "1/01/001/000001" || e.Status != "draft" || len(e.Items) != 2 {
				t.Fatalf("create: %d %+v", st, e)
			}
			if st := env.do("market_cdo", "POST", "/api/v1/catalog/entries", env.entry("police", "吉林省常住人口基本信息"), &prob); st != 403 ||
				prob.Code != "catalog.not_provider" {
				t.Errorf("create for another body: %d %+v", st, prob)
			}

			// Workflow permissions.
			if st := env.do("police_spec", "POST", "/api/v1/catalog/entries/"+id(e)+"/submit", map[string]any{}, nil); st != 403 {
				t.Errorf("specialist submits: %d", st)
			}
			if st := env.do("police_cdo", "POST", "/api/v1/catalog/entries/"+id(e)+"/submit", map[string]any{"comment": "请审核"}, &e); st != 200 || e.Status != "submitted" {
				t.Fatalf("submit: %d %+v", st, e)
			}
			if st := env.do("police_cdo", "POST", "/api/v1/catalog/entries/"+id(e)+"/publish", map[string]any{}, nil); st != 403 {
				t.Errorf("department publishes its own entry: %d", st)
			}
			if st, _ := env.doH("reviewer", "PUT", "/api/v1/catalog/entries/"+id(e), env.etag("reviewer", e.ID), map[string]any{"entry": env.entry("police", "改名")}, nil); st != 403 {
				t.Errorf("reviewer edits: %d", st)
			}
			var queue struct {
				Items []struct {
					WaitingDays int      `json:"waiting_days"`
					Entry       apiEntry `json:"entry"`
				} `json:"items"`
				Total int `json:"total"`
			}
			if st := env.do("reviewer", "GET", "/api/v1/catalog/review-queue", nil, &queue); st != 200 || queue.Total != 1 || queue.Items[0].Entry.ID != e.ID {
				t.Errorf("queue: %d %+v", st, queue)
			}
			if st := env.do("reviewer", "POST", "/api/v1/catalog/entries/"+id(e)+"/publish", map[string]any{"comment": "同意"}, &e); st != 200 || e.Status != "published" {
				t.Fatalf("publish: %d %+v", st, e)
			}
			if st, _ := env.doH("market_cdo", "PUT", "/api/v1/catalog/entries/"+id(e), env.etag("market_cdo", e.ID), map[string]any{"entry": env.entry("police", "改名"), "reason": "改"}, &prob); st != 403 {
				t.Errorf("another body edits: %d", st)
			}

			// A revision, its diff and the versions.
			rev := env.entry("police", "吉林省常住人口基本信息（含流动人口）")
			if st, _ := env.doH("police_spec", "PUT", "/api/v1/catalog/entries/"+id(e), env.etag("police_spec", e.ID), map[string]any{"entry": rev, "reason": "纳入流动人口"}, &e); st != 200 ||
				e.Status != "published" || e.Name != "吉林省常住人口基本信息" {
				t.Fatalf("revise: %d %+v", st, e)
			}
			var diff catalog.Diff
			if st := env.do("police_cdo", "GET", "/api/v1/catalog/entries/"+id(e)+"/diff", nil, &diff); st != 200 || diff.From != 1 || diff.To != 2 ||
				len(diff.Changes) != 1 || diff.Changes[0].Field != "name" {
				t.Errorf("diff: %d %+v", st, diff)
			}
			var versions []catalog.Version
			if st := env.do("market_cdo", "GET", "/api/v1/catalog/entries/"+id(e)+"/versions", nil, &versions); st != 200 || len(versions) != 1 {
				t.Errorf("versions for another body: %d %d", st, len(versions))
			}
			var byCode apiEntry
			if st := env.do("market_cdo", "GET", "/api/v1/catalog/entries/by-code?code=1/01/001/000001", nil, &byCode); st != 200 || byCode.ID != e.ID {
				t.Errorf("by code: %d %+v", st, byCode)
			}

			// The fixed search point.
			var res struct {
				Items  []apiEntry                      `json:"items"`
				Total  int                             `json:"total"`
				Facets map[string][]catalog.FacetValue `json:"facets"`
			}
			q := "/api/v1/catalog/entries?q=" + "%E4%BA%BA%E5%8F%A3" + "&page=1&page_size=10&share_type=conditional&share_type=none&grade=L3"
			if st := env.do("market_cdo", "GET", q, nil, &res); st != 200 || res.Total != 1 || len(res.Items) != 1 {
				t.Fatalf("search: %d %+v", st, res)
			}
			it := res.Items[0]
			if it.ID != e.ID || it.Code == "" || it.Name == "" || it.Provider != "吉林省公安厅" || it.ShareType != "conditional" ||
				it.OpenType != "none" || it.Grade != "L3" || it.Status != "published" || len(it.Items) != 0 {
				t.Errorf("search item: %+v", it)
			}
			for _, f := range catalog.Facets {
				if _, ok := res.Facets[f]; !ok {
					t.Errorf("facet %s missing", f)
				}
			}
			if res.Facets["provider"][0].Label != "吉林省公安厅" || res.Facets["provider"][0].Count != 1 {
				t.Errorf("provider facet: %+v", res.Facets["provider"])
			}
			// The regulation's share words (吉政发〔2019〕4号 §25) filter like the codes,
			// and labels show them beside the national guide's.
			for share, want := range map[string]int{"%E6%8E%88%E6%9D%83%E5%85%B1%E4%BA%AB": 1, "%E9%9D%9E%E5%85%B1%E4%BA%AB": 0, "none": 0} { // 授权共享, 非共享
				if st := env.do("market_cdo", "GET", "/api/v1/catalog/entries?share_type="+share, nil, &res); st != 200 || res.Total != want {
					t.Errorf("share_type=%s: %d, %d entries, want %d", share, st, res.Total, want)
				}
			}
			if sf := res.Facets["share_type"]; len(sf) != 1 || sf[0].Value != "conditional" || sf[0].Label != "有条件共享（授权共享）" {
				t.Errorf("share facet: %+v", sf)
			}
			if st := env.do("market_cdo", "GET", "/api/v1/catalog/entries?q=rk", nil, &res); st != 200 || res.Total != 1 {
				t.Errorf("pinyin search: %d %d", st, res.Total)
			}
			if st := env.do("market_cdo", "GET", "/api/v1/catalog/entries?sort=views", nil, nil); st != 422 {
				t.Errorf("bad sort: %d", st)
			}

			// Lists.
			var r catalog.Responsibility
			if st := env.do("police_cdo", "POST", "/api/v1/catalog/responsibilities", map[string]any{"body_id": env.bodies["police"].ID, "name": "机动车登记信息"}, nil); st != 403 {
				t.Errorf("department adds to the responsibility list: %d", st)
			}
			if st := env.do("admin", "POST", "/api/v1/catalog/responsibilities", map[string]any{"body_id": env.bodies["police"].ID, "name": "吉林省常住人口基本信息"}, &r); st != 200 ||
				r.Status != "done" || r.EntryID != e.ID {
				t.Errorf("responsibility: %d %+v", st, r)
			}
			var d catalog.Demand
			if st := env.do("market_cdo", "POST", "/api/v1/catalog/demands", map[string]any{"body_id": env.bodies["market"].ID, "title": "人口基本信息核验"}, &d); st != 200 {
				t.Fatalf("demand: %d %+v", st, d)
			}
			if st := env.do("reviewer", "POST", fmt.Sprintf("/api/v1/catalog/demands/%d/links", d.ID), map[string]any{"entry_id": e.ID}, &d); st != 200 || d.Status != "matched" {
				t.Errorf("demand link: %d %+v", st, d)
			}
			var neg struct{ Total int }
			if st := env.do("market_cdo", "GET", "/api/v1/catalog/negative-list", nil, &neg); st != 200 || neg.Total != 0 {
				t.Errorf("negative list: %d %+v", st, neg)
			}
			var st catalog.Stats
			if code := env.do("market_cdo", "GET", "/api/v1/catalog/stats", nil, &st); code != 200 || st.Published != 1 || st.Entries != 1 {
				t.Errorf("stats: %d %+v", code, st)
			}
			var ix catalog.IndexStatus
			if code := env.do("market_cdo", "POST", "/api/v1/catalog/index/rebuild", nil, nil); code != 403 {
				t.Errorf("department rebuilds the index: %d", code)
			}
			if code := env.do("admin", "POST", "/api/v1/catalog/index/rebuild", nil, &ix); code != 200 || ix.StartedAt == nil {
				t.Errorf("rebuild: %d %+v", code, ix)
			}

			// Every change is audited with its object.
			ctx := context.Background()
			for _, c := range []struct{ action, object, outcome string }{
				{"catalog.entry.create", "entry:" + id(e), audit.OutcomeSuccess},
				{"catalog.entry.submit", "entry:" + id(e), audit.OutcomeSuccess},
				{"catalog.entry.publish", "entry:" + id(e), audit.OutcomeSuccess},
				{"catalog.entry.publish.denied", "", audit.OutcomeDenied},
				{"catalog.entry.update", "entry:" + id(e), audit.OutcomeSuccess},
				{"catalog.demand.link", fmt.Sprintf("demand:%d", d.ID), audit.OutcomeSuccess},
				{"catalog.index.rebuild", "index:catalog", audit.OutcomeSuccess},
			} {
				es, _, err := env.log.List(ctx, audit.Filter{Action: c.action, Object: c.object, Outcome: c.outcome})
				if err != nil || len(es) == 0 || (c.object != "" && es[0].Object != c.object) || !strings.HasPrefix(es[0].Action, c.action) {
					t.Errorf("audit %s %s: %+v %v", c.action, c.object, es, err)
				}
			}
		})
	}
}

// Changes of an existing entry carry the ETag they were made on: without it
// the API answers 428, with an old one 412, and of 20 parallel edits made on
// the same ETag exactly one applies.
func TestCatalogAPIIfMatch(t *testing.T) {
	for dialect, dsn := range dbtest.TestDSNs(t) {
		t.Run(string(dialect), func(t *testing.T) {
			env := newCatalogEnv(t, dsn(t))
			var e struct {
				apiEntry
				Rev int64 `json:"rev"`
			}
			st, h := env.doH("police_spec", "POST", "/api/v1/catalog/entries", nil, env.entry("police", "吉林省常住人口基本信息"), &e)
			if st != 200 || e.Rev == 0 || h.Get("ETag") != fmt.Sprintf(`"%d"`, e.Rev) {
				t.Fatalf("create: %d rev %d ETag %q", st, e.Rev, h.Get("ETag"))
			}
			path := fmt.Sprintf("/api/v1/catalog/entries/%d", e.ID)
			body := func(name string) map[string]any { return map[string]any{"entry": env.entry("police", name)} }

			var prob Problem
			if st, _ := env.doH("police_spec", "PUT", path, nil, body("未带版本"), &prob); st != 428 || prob.Code != "precondition.required" ||
				!strings.Contains(prob.MessageZH, "If-Match") || prob.MessageEN == "" {
				t.Errorf("PUT without If-Match: %d %+v", st, prob)
			}
			prob = Problem{}
			if st, _ := env.doH("police_spec", "PUT", path, map[string]string{"If-Match": `"999"`}, body("旧版本"), &prob); st != 412 ||
				prob.Code != "catalog.stale" || !strings.Contains(prob.MessageZH, "请刷新后重试") {
				t.Errorf("PUT with a stale If-Match: %d %+v", st, prob)
			}
			if st, _ := env.doH("police_spec", "PUT", path, map[string]string{"If-Match": `W/"` + fmt.Sprint(e.Rev) + `"`}, body("弱标签"), nil); st != 412 {
				t.Errorf("PUT with a weak tag: %d, want 412", st)
			}

			// 20 editors who all read the same revision save at once.
			match := env.etag("police_spec", e.ID)
			const n = 20
			status := make([]int, n)
			tags := make([]string, n)
			done := make(chan int)
			for i := range n {
				go func() {
					var out struct{ Name string }
					st, h := env.doH("police_spec", "PUT", path, match, body(fmt.Sprintf("吉林省常住人口信息第%d稿", i)), &out)
					status[i], tags[i] = st, h.Get("ETag")
					done <- i
				}()
			}
			winner := -1
			for range n {
				<-done
			}
			for i, st := range status {
				switch st {
				case 200:
					if winner >= 0 {
						t.Errorf("edits %d and %d both applied", winner, i)
					}
					winner = i
				case 412:
				default:
					t.Errorf("edit %d: status %d", i, st)
				}
			}
			if winner < 0 {
				t.Fatal("no edit applied")
			}
			var got apiEntry
			if st, h := env.doH("police_spec", "GET", path, nil, nil, &got); st != 200 || got.Name != fmt.Sprintf("吉林省常住人口信息第%d稿", winner) ||
				h.Get("ETag") != tags[winner] || h.Get("ETag") == match["If-Match"] {
				t.Errorf("after the race: %d %q ETag %q (winner %d, %q)", st, got.Name, h.Get("ETag"), winner, tags[winner])
			}

			// Workflow actions accept If-Match too.
			if st, _ := env.doH("police_cdo", "POST", path+"/submit", match, map[string]any{}, nil); st != 412 {
				t.Errorf("submit on a stale ETag: %d, want 412", st)
			}
			if st, _ := env.doH("police_cdo", "POST", path+"/submit", env.etag("police_cdo", e.ID), map[string]any{}, &got); st != 200 || got.Status != "submitted" {
				t.Errorf("submit: %d %+v", st, got)
			}
		})
	}
}
