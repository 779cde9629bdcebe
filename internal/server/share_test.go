package server_test

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/chromedp/chromedp"

	"net/http/cookiejar"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"xiangyun/internal/browsertest"

	"xiangyun/internal/auth"
	"xiangyun/internal/catalog"
	"xiangyun/internal/db/dbtest"
	"xiangyun/internal/org"
	"xiangyun/internal/share"
)

// shareEnv adds a consuming body (the market regulator) with its chief data
// officer, and three police entries: conditional, unconditional and not
// shared.
func (e *env) shareEnv() (market org.Body, marketCDO *http.Client, cond, uncond, none int64) {
	e.t.Helper()
	ctx := e.t.Context()
	market, err := e.s.Orgs.CreateBody(ctx, org.BodyInput{Name: "吉林省市场监督管理厅", CreditCode: "11220000310000719A", Kind: org.KindAgency, RegionCode: "220000"})
	if err != nil {
		e.t.Fatal(err)
	}
	u, err := e.s.Auth.CreateUser(ctx, auth.UserInput{Username: "market_cdo", DisplayName: "市场监管厅首席数据官", BodyID: market.ID, Password: pw})
	if err != nil {
		e.t.Fatal(err)
	}
	if err := e.s.Auth.GrantRole(ctx, 0, u.ID, auth.RoleChiefDataOfficer, market.ID); err != nil {
		e.t.Fatal(err)
	}
	jar, _ := cookiejar.New(nil)
	marketCDO = &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	if res := e.do(marketCDO, "POST", "/api/v1/session", map[string]string{"username": "market_cdo", "password": pw}); res.StatusCode != 200 {
		e.t.Fatalf("login market_cdo: %d", res.StatusCode)
	}
	cond = e.policeEntry()
	in := func(name, shareType, condition, method, grade string) catalog.EntryInput {
		channel := "platform"
		if shareType == catalog.ShareNone {
			channel = ""
		}
		return catalog.EntryInput{ProviderID: e.dept.ID, Content: catalog.Content{
			Name: name, Class: "1/01/002", Abstract: name + "。", FormatClass: "database", FormatType: "oracle",
			Items:     []catalog.Item{{Name: "单位名称", EnName: "dwmc", DataType: "C", Length: 100, Key: true}, {Name: "地址", EnName: "dz", DataType: "C", Length: 200}},
			ShareType: shareType, ShareCondition: condition, ShareMethod: method, ShareChannel: channel,
			OpenType: catalog.OpenNone, OpenCondition: "不予开放", Cycle: "daily", Grade: grade,
		}}
	}
	es, err := e.s.Catalog.CreatePublished(ctx, catalog.System, []catalog.EntryInput{
		in("吉林省公安派出所名录", catalog.ShareUnconditional, "", catalog.MethodAPI, "L1"),
		in("吉林省在侦案件信息", catalog.ShareNone, "依据《中华人民共和国刑事诉讼法》，侦查信息不予共享", "", "L3"),
	}, "")
	if err != nil {
		e.t.Fatal(err)
	}
	return market, marketCDO, cond, es[0].ID, es[1].ID
}

type shareReqOut struct {
	ID           int64  `json:"id"`
	Status       string `json:"status"`
	GrantID      *int64 `json:"grant_id"`
	Step         string `json:"step"`
	RefuseReason string `json:"refuse_reason"`
	Revision     int64  `json:"revision"`
}

// TestShareAPI drives the sharing fixed points over HTTP on both databases:
// an application with its secret shown once, a request granted at once, one
// refused with its basis, one through both review steps, and a revocation
// that leaves the gateway's snapshot.
func TestShareAPI(t *testing.T) {
	for dialect, dsn := range dbtest.TestDSNs(t) {
		t.Run(string(dialect), func(t *testing.T) {
			e := newEnv(t, dsn(t))
			market, mc, cond, uncond, none := e.shareEnv()
			var app struct {
				ID     int64  `json:"id"`
				KeyID  string `json:"key_id"`
				Secret string `json:"secret"`
			}
			res := e.do(mc, "POST", "/api/v1/applications", map[string]string{"name": "企业开办一网通办系统", "purpose": "核验企业登记申请人的身份"})
			if res.StatusCode != 200 {
				body, _ := io.ReadAll(res.Body)
				t.Fatalf("create application: %d %s", res.StatusCode, body)
			}
			decode(t, res, &app)
			if app.ID == 0 || app.KeyID == "" || len(app.Secret) < 40 {
				t.Fatalf("application %+v", app)
			}
			// The secret is never shown again.
			res = e.do(mc, "GET", "/api/v1/applications/"+strconv.FormatInt(app.ID, 10), nil)
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != 200 || strings.Contains(string(body), app.Secret) || !strings.Contains(string(body), app.KeyID) {
				t.Fatalf("read application: %d %s", res.StatusCode, body)
			}
			// Another body's CDO (the police) cannot apply with it.
			police := e.client(auth.RoleChiefDataOfficer)
			req := func(c *http.Client, entry int64, items ...string) *http.Response {
				return e.do(c, "POST", "/api/v1/share-requests", map[string]any{"entry_id": entry, "application_id": app.ID, "items": items,
					"purpose": "企业开办时核验法定代表人身份", "basis": "《优化营商环境条例》"})
			}
			if res := req(police, uncond, "单位名称"); res.StatusCode != 403 {
				t.Fatalf("the police applied with the market's application: %d", res.StatusCode)
			}
			var granted, refused, pending shareReqOut
			decode(t, req(mc, uncond, "单位名称"), &granted)
			if granted.Status != "granted" || granted.GrantID == nil {
				t.Fatalf("unconditional: %+v", granted)
			}
			decode(t, req(mc, none, "单位名称"), &refused)
			if refused.Status != "refused" || refused.GrantID != nil || !strings.Contains(refused.RefuseReason, "刑事诉讼法") {
				t.Fatalf("not shared: %+v", refused)
			}
			decode(t, req(mc, cond, "姓名", "公民身份号码"), &pending)
			if pending.Status != "pending" || pending.GrantID != nil || pending.Step != "platform" {
				t.Fatalf("conditional: %+v", pending)
			}
			approve := func(c *http.Client) *http.Response {
				return e.do(c, "POST", "/api/v1/share-requests/"+strconv.FormatInt(pending.ID, 10)+"/approve", map[string]string{"comment": "同意"})
			}
			if res := approve(mc); res.StatusCode != 403 {
				t.Fatalf("the applicant approved: %d", res.StatusCode)
			}
			if res := approve(police); res.StatusCode != 403 {
				t.Fatalf("the provider approved the platform's step: %d", res.StatusCode)
			}
			var step shareReqOut
			decode(t, approve(e.client(auth.RoleReviewer)), &step)
			if step.Status != "pending" || step.Step != "provider" {
				t.Fatalf("after the platform step: %+v", step)
			}
			decode(t, approve(police), &step)
			if step.Status != "granted" || step.GrantID == nil {
				t.Fatalf("after the provider's step: %+v", step)
			}
			snap, err := e.s.Share.Snapshot(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if snap.Grants[share.GrantKey{AppID: app.ID, EntryID: cond}] == nil || snap.Credentials[app.KeyID] == nil ||
				snap.Credentials[app.KeyID].SecretHash != share.SecretHash(app.Secret) || snap.Credentials[app.KeyID].BodyID != market.ID {
				t.Fatalf("snapshot: %+v", snap)
			}
			// The provider revokes; a reason is required.
			path := "/api/v1/grants/" + strconv.FormatInt(*step.GrantID, 10) + "/revoke"
			if res := e.do(police, "POST", path, map[string]string{"reason": ""}); res.StatusCode != 422 {
				t.Fatalf("revoke without a reason: %d", res.StatusCode)
			}
			var g struct {
				Status string `json:"status"`
			}
			decode(t, e.do(police, "POST", path, map[string]string{"reason": "合作终止"}), &g)
			if g.Status != "revoked" {
				t.Fatalf("revoked grant: %+v", g)
			}
			if res := e.do(police, "POST", path, map[string]string{"reason": "再次撤销"}); res.StatusCode != 409 {
				t.Fatalf("second revocation: %d", res.StatusCode)
			}
			snap, _ = e.s.Share.Snapshot(t.Context())
			if snap.Grants[share.GrantKey{AppID: app.ID, EntryID: cond}] != nil {
				t.Fatal("revoked grant still in the snapshot")
			}
			// Lists: the reviewer's queue is empty now; the market sees its three requests.
			var lst struct {
				Items []shareReqOut `json:"items"`
				Total int           `json:"total"`
			}
			decode(t, e.do(mc, "GET", "/api/v1/share-requests?view=mine", nil), &lst)
			if lst.Total != 3 {
				t.Fatalf("market's requests: %+v", lst)
			}
			decode(t, e.do(e.client(auth.RoleReviewer), "GET", "/api/v1/share-requests?view=review", nil), &lst)
			if lst.Total != 0 {
				t.Fatalf("reviewer's queue: %+v", lst)
			}
			// Scenarios: reviewers define and replace them (with the revision read).
			rev := e.client(auth.RoleReviewer)
			sc := map[string]any{"name": "企业开办", "entries": []map[string]any{{"entry_id": cond, "items": []string{"姓名"}}}}
			if res := e.do(mc, "POST", "/api/v1/share-scenarios", sc); res.StatusCode != 403 {
				t.Fatalf("a CDO defined a scenario: %d", res.StatusCode)
			}
			var scOut struct {
				ID       int64 `json:"id"`
				Revision int64 `json:"revision"`
			}
			decode(t, e.do(rev, "POST", "/api/v1/share-scenarios", sc), &scOut)
			sc["revision"], sc["description"] = scOut.Revision, "企业开办一网通办"
			scPath := "/api/v1/share-scenarios/" + strconv.FormatInt(scOut.ID, 10)
			if res := e.do(rev, "PUT", scPath, sc); res.StatusCode != 200 {
				t.Fatalf("replace scenario: %d", res.StatusCode)
			}
			if res := e.do(rev, "PUT", scPath, sc); res.StatusCode != 409 {
				t.Fatalf("replace with a stale revision: %d", res.StatusCode)
			}
			// Services: the provider's CDO registers http(s) URLs only.
			if res := e.do(police, "POST", "/api/v1/share-services", map[string]any{"entry_id": uncond, "base_url": "file:///etc/passwd"}); res.StatusCode != 422 {
				t.Fatalf("file URL: %d", res.StatusCode)
			}
			if res := e.do(mc, "POST", "/api/v1/share-services", map[string]any{"entry_id": uncond, "base_url": "http://10.1.1.1/x"}); res.StatusCode != 403 {
				t.Fatalf("another body's service: %d", res.StatusCode)
			}
			var sv struct {
				ID      int64  `json:"id"`
				BaseURL string `json:"base_url"`
			}
			decode(t, e.do(police, "POST", "/api/v1/share-services", map[string]any{"entry_id": uncond, "base_url": "https://gat.jl.gov.cn/pcs/"}), &sv)
			if sv.BaseURL != "https://gat.jl.gov.cn/pcs" {
				t.Fatalf("service %+v", sv)
			}
			if res := e.do(police, "DELETE", "/api/v1/share-services/"+strconv.FormatInt(sv.ID, 10), nil); res.StatusCode != 204 && res.StatusCode != 200 {
				t.Fatalf("delete service: %d", res.StatusCode)
			}
		})
	}
}

// TestShareConsole walks the sharing pages: an application made in the
// console shows its secret once, a request filed from the entry's page,
// answered in the review queue, and every list page renders.
func TestShareConsole(t *testing.T) {
	e := newEnv(t, "sqlite:"+t.TempDir())
	_, mc, cond, _, _ := e.shareEnv()
	form := func(c *http.Client, path string, v url.Values) (*http.Response, string) {
		res, err := c.PostForm(e.ts.URL+path, v)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		return res, string(b)
	}
	get := func(c *http.Client, path string) (int, string) {
		res := e.do(c, "GET", path, nil)
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		return res.StatusCode, string(b)
	}
	res, page := form(mc, "/share/apps", url.Values{"name": {"企业开办一网通办系统"}, "purpose": {"核验企业登记申请人的身份"}})
	if res.StatusCode != 200 || !strings.Contains(page, `id="new-key-secret"`) || !strings.Contains(page, "xys_") {
		t.Fatalf("create application: %d", res.StatusCode)
	}
	if _, page := get(mc, "/share/apps"); strings.Contains(page, "xys_") {
		t.Fatal("the secret is shown again")
	}
	apps, _ := e.s.Share.Applications(t.Context(), share.System)
	if code, page := get(mc, "/catalog/"+strconv.FormatInt(cond, 10)); code != 200 || !strings.Contains(page, `id="apply-share"`) {
		t.Fatalf("entry page: %d, apply button: %v", code, strings.Contains(page, `id="apply-share"`))
	}
	if code, page := get(mc, "/share/apply/"+strconv.FormatInt(cond, 10)); code != 200 || !strings.Contains(page, `name="items" value="姓名"`) || !strings.Contains(page, `id="submit-request"`) {
		t.Fatalf("apply form: %d", code)
	}
	res, _ = form(mc, "/share/apply/"+strconv.FormatInt(cond, 10), url.Values{"items": {"姓名"}, "application_id": {strconv.FormatInt(apps[0].ID, 10)},
		"purpose": {"核验身份"}, "basis": {"依法履职"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("file request: %d", res.StatusCode)
	}
	loc := res.Header.Get("Location")
	reviewer := e.client(auth.RoleReviewer)
	if code, page := get(reviewer, "/share/review"); code != 200 || !strings.Contains(page, `href="`+loc+`"`) {
		t.Fatalf("review queue: %d", code)
	}
	if code, page := get(reviewer, "/"); code != 200 || !strings.Contains(page, `id="home-share"`) {
		t.Fatalf("reviewer's home: %d, share figure: %v", code, strings.Contains(page, `id="home-share"`))
	}
	code, page := get(reviewer, loc)
	if code != 200 || !strings.Contains(page, `id="approve"`) {
		t.Fatalf("request page for the reviewer: %d", code)
	}
	// A refusal without a reason stays on the page with the message.
	if res, page := form(reviewer, loc+"/refuse", url.Values{"reason": {""}}); res.StatusCode != 422 || !strings.Contains(page, "理由") {
		t.Fatalf("refuse without a reason: %d", res.StatusCode)
	}
	if res, _ := form(reviewer, loc+"/approve", url.Values{"comment": {"材料齐全"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("approve: %d", res.StatusCode)
	}
	police := e.client(auth.RoleChiefDataOfficer)
	if code, page := get(police, "/share/review"); code != 200 || !strings.Contains(page, `href="`+loc+`"`) {
		t.Fatalf("provider's queue: %d", code)
	}
	if res, _ := form(police, loc+"/approve", url.Values{"clear_items": {"姓名"}, "rate": {"20"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("grant: %d", res.StatusCode)
	}
	for _, p := range []struct {
		c    *http.Client
		path string
	}{{mc, "/share/requests"}, {police, "/share/requests?view=provider"}, {mc, "/share/grants"}, {police, "/share/grants?as=provider"},
		{reviewer, "/share/scenarios"}, {police, "/share/services"}, {reviewer, "/share/requests?view=all"}, {mc, loc}} {
		if code, page := get(p.c, p.path); code != 200 || !strings.Contains(page, "<h1") {
			t.Fatalf("%s: %d", p.path, code)
		}
	}
	if _, page := get(mc, "/share/grants"); !strings.Contains(page, "吉林省常住人口基本信息") {
		t.Fatal("the grant is not listed for the consumer")
	}
	code, page = get(mc, "/share/grants?lang=en")
	if code != 200 {
		t.Fatalf("english grants page: %d", code)
	}
}

// TestShareBrowser drives the sharing console in chromium: the market's CDO
// registers an application (its secret shown once), requests two items of
// the police entry from the entry's page, the reviewer passes it, the
// police CDO grants it; every page passes axe (WCAG 2.1 A/AA, serious and
// critical) and none scrolls sideways at 1024 px.
func TestShareBrowser(t *testing.T) {
	ctx := browsertest.New(t, 180*time.Second)
	e := newEnv(t, "sqlite:"+t.TempDir())
	_, _, cond, _, _ := e.shareEnv()
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1024, 768)); err != nil {
		t.Fatal(err)
	}
	check := func(who string) {
		t.Helper()
		time.Sleep(150 * time.Millisecond)
		vs, err := browsertest.Axe(ctx)
		if err != nil {
			t.Fatal(err)
		}
		loc, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`location.pathname + location.search`))
		for _, v := range vs {
			t.Errorf("%s %s: %s", who, loc, v)
		}
		over, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`(() => {
			const out = [];
			const d = document.documentElement;
			if (d.scrollWidth > d.clientWidth + 1) out.push('page ' + d.scrollWidth + 'px');
			document.querySelectorAll('table').forEach(t => {
				for (let p = t.parentElement; p && p !== document.body; p = p.parentElement) {
					if (p.scrollWidth > p.clientWidth + 1 && getComputedStyle(p).overflowX !== 'visible') {
						out.push((t.id || t.className || 'table') + ' ' + t.scrollWidth + 'px in ' + p.clientWidth + 'px');
						break;
					}
				}
			});
			return out;
		})()`))
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range over {
			t.Errorf("%s %s: scrolls sideways at 1024 px: %s", who, loc, o)
		}
	}
	signIn := func(user string) {
		t.Helper()
		if err := chromedp.Do(ctx, chromedp.Navigate(e.ts.URL+"/login"), browsertest.Type("#username", user), browsertest.Type("#password", pw),
			browsertest.Click("button[type=submit]"), browsertest.Visible("#logout")); err != nil {
			t.Fatalf("sign in %s: %v", user, err)
		}
	}
	signOut := func() {
		t.Helper()
		// The sign-out button sits in the header's user menu.
		if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(document.getElementById('logout').form.submit(), true)`)); err != nil {
			t.Fatal(err)
		}
		if err := chromedp.Do(ctx, browsertest.Visible("#username")); err != nil {
			t.Fatal(err)
		}
	}
	signIn("market_cdo")
	if err := chromedp.Do(ctx, chromedp.Navigate(e.ts.URL+"/share/apps"), browsertest.Type("#app-name", "企业开办一网通办系统"),
		browsertest.Type("#app-purpose", "核验企业登记申请人的身份"), browsertest.Click("#create-app"), browsertest.Visible("#new-key-secret")); err != nil {
		t.Fatal(err)
	}
	secret, err := browsertest.Text(ctx, "#new-key-secret")
	if err != nil || !strings.HasPrefix(secret, "xys_") {
		t.Fatalf("secret %q, %v", secret, err)
	}
	keyID, err := browsertest.Text(ctx, "#new-key-id")
	if err != nil || keyID == "" {
		t.Fatalf("key id %q, %v", keyID, err)
	}
	check("market_cdo")
	entry := e.ts.URL + "/catalog/" + strconv.FormatInt(cond, 10)
	if err := chromedp.Do(ctx, chromedp.Navigate(entry), browsertest.Visible("#entry-name")); err != nil {
		t.Fatal(err)
	}
	if n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('#apply-share').length`)); err != nil || n != 1 {
		html, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('.page-head').outerHTML`))
		t.Fatalf("apply button on the entry page: %d %v\n%s", n, err, html)
	}
	if err := chromedp.Do(ctx, browsertest.Click("#apply-share"), browsertest.Visible("#submit-request")); err != nil {
		t.Fatal(err)
	}
	check("market_cdo")
	if err := chromedp.Do(ctx, browsertest.Click(`input[name=items][value="姓名"]`), browsertest.Click(`input[name=items][value="公民身份号码"]`),
		browsertest.Type("#purpose", "企业开办时核验法定代表人身份"), browsertest.Type("#basis", "《优化营商环境条例》"),
		browsertest.Click("#submit-request"), browsertest.Visible("#request-status")); err != nil {
		t.Fatal(err)
	}
	if s, _ := browsertest.Text(ctx, "#request-status"); s != "审核中" {
		t.Fatalf("status %q", s)
	}
	check("market_cdo")
	loc, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`location.pathname`))
	for _, p := range []string{"/share/requests", "/share/grants", "/share/scenarios", "/share/services"} {
		if err := chromedp.Do(ctx, chromedp.Navigate(e.ts.URL+p), browsertest.Visible("h1")); err != nil {
			t.Fatal(err)
		}
		check("market_cdo")
	}
	signOut()
	signIn("u_reviewer")
	if err := chromedp.Do(ctx, chromedp.Navigate(e.ts.URL+"/share/review"), browsertest.Visible("#share-requests")); err != nil {
		t.Fatal(err)
	}
	check("reviewer")
	if err := chromedp.Do(ctx, chromedp.Navigate(e.ts.URL+loc), browsertest.Visible("#approve")); err != nil {
		t.Fatal(err)
	}
	check("reviewer")
	if err := chromedp.Do(ctx, browsertest.Type("#comment", "材料齐全"), browsertest.Click("#approve")); err != nil {
		t.Fatal(err)
	}
	// The answer reloads the page; the platform's step done, its button is
	// gone. Navigating before then would abort the form's own navigation.
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		gone, _ := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.readyState === 'complete' && !document.getElementById('approve') && !!document.getElementById('request-status')`))
		if gone {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the reviewer's approval never reloaded the request page")
		}
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(e.ts.URL+"/share/scenarios"), browsertest.Visible("#create-scenario")); err != nil {
		t.Fatal(err)
	}
	check("reviewer")
	signOut()
	signIn("u_cdo")
	if err := chromedp.Do(ctx, chromedp.Navigate(e.ts.URL+loc), browsertest.Visible("#approve")); err != nil {
		t.Fatal(err)
	}
	check("police_cdo")
	if err := chromedp.Do(ctx, browsertest.Click(`input[name=clear_items][value="姓名"]`), browsertest.Click("#approve"), browsertest.Visible("#grant")); err != nil {
		t.Fatal(err)
	}
	if s, _ := browsertest.Text(ctx, "#request-status"); s != "已授权" {
		t.Fatalf("status after the grant %q", s)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(e.ts.URL+"/share/grants?as=provider"), browsertest.Visible("#grants")); err != nil {
		t.Fatal(err)
	}
	check("police_cdo")
	if err := chromedp.Do(ctx, chromedp.Navigate(e.ts.URL+"/share/services"), browsertest.Visible("#create-service")); err != nil {
		t.Fatal(err)
	}
	check("police_cdo")

	// The grant in force, the application calls the gateway: 姓名 was granted
	// clear, 公民身份号码 comes masked by its rule.
	police := e.client(auth.RoleChiefDataOfficer)
	if res := e.upload(police, cond, "people.csv", []byte("公民身份号码,姓名\n11010519491231002X,张三\n"),
		map[string]string{"mode": "append", "on_error": "reject_all"}); res.StatusCode/100 != 2 {
		t.Fatalf("upload: %d", res.StatusCode)
	}
	call := func() (int, map[string]any) {
		req, _ := http.NewRequest("GET", e.ts.URL+"/gw/v1/entries/"+strconv.FormatInt(cond, 10)+"/records?"+
			url.Values{"公民身份号码": {"11010519491231002X"}}.Encode(), nil)
		req.Header.Set("X-Client-Id", keyID)
		req.Header.Set("Authorization", "Bearer "+secret)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var out struct {
			Items []map[string]any `json:"items"`
		}
		_ = json.NewDecoder(res.Body).Decode(&out)
		if len(out.Items) != 1 {
			return res.StatusCode, nil
		}
		return res.StatusCode, out.Items[0]
	}
	var rec map[string]any
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		var code int
		if code, rec = call(); code == 200 && rec != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("gateway call after the grant: %d %v", code, rec)
		}
	}
	if rec["姓名"] != "张三" || rec["公民身份号码"] == "11010519491231002X" || rec["公民身份号码"] == nil || rec["_disputed"] != false {
		t.Fatalf("gateway record %v: want 姓名 clear, 公民身份号码 masked, _disputed false", rec)
	}
	// The provider sees who used its data: the call reaches the statistics
	// within the gateway's flush interval.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(300 * time.Millisecond) {
		if err := chromedp.Do(ctx, chromedp.Navigate(e.ts.URL+"/share/usage"), browsertest.Visible("h1")); err != nil {
			t.Fatal(err)
		}
		n, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById('usage-total')?.textContent ?? ''`))
		if n != "0" && n != "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the gateway call never reached the provider's usage page")
		}
	}
	check("police_cdo")
	if row, _ := browsertest.Text(ctx, "#usage-table"); !strings.Contains(row, "企业开办") && !strings.Contains(row, "吉林省市场监督管理厅") {
		t.Errorf("usage table names neither the application nor the consuming body:\n%s", row)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(e.ts.URL+"/share/stats"), browsertest.Visible("#stat-calls")); err != nil {
		t.Fatal(err)
	}
	if n, _ := browsertest.Text(ctx, "#stat-calls"); n == "0" {
		t.Error("the statistics page counts no call")
	}
	check("police_cdo")
	if dir := os.Getenv("XIANGYUN_SCREENSHOTS"); dir != "" {
		if err := chromedp.Do(ctx, chromedp.Navigate(e.ts.URL+loc)); err == nil {
			if png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)); err == nil {
				_ = os.WriteFile(filepath.Join(dir, "share_request.png"), png, 0o644)
			}
		}
	}
}
