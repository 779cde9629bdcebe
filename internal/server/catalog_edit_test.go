package server_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"xiangyun/internal/auth"
	"xiangyun/internal/catalog"
	"xiangyun/internal/db/dbtest"
	"xiangyun/internal/org"
	"xiangyun/internal/server"
)

const editPassword = "Test-password-2026"

var revField = regexp.MustCompile(`<input type="hidden" name="rev" value="(\d+)">`)

// The console's entry editor carries the revision it shows: a save made
// after someone else saved is refused with 409 and a message to reload,
// with the typed content kept on the page. Text that looks like markup is
// stored as typed and shown escaped.
func TestConsoleEditConflict(t *testing.T) {
	for dialect, dsn := range dbtest.TestDSNs(t) {
		t.Run(string(dialect), func(t *testing.T) {
			ctx := context.Background()
			dir := t.TempDir()
			policy := auth.DefaultPolicy
			policy.IPLoginsPerMin = 100000
			s, err := server.Open(ctx, server.Config{DB: dsn(t), DataDir: dir, AuditKeyFile: filepath.Join(dir, "audit.key"), AuthPolicy: &policy},
				slog.New(slog.NewTextHandler(io.Discard, nil)))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(s.Close)
			if _, err := s.Orgs.CreateRegion(ctx, org.Region{Code: "220000", Name: "吉林省"}); err != nil {
				t.Fatal(err)
			}
			police, err := s.Orgs.CreateBody(ctx, org.BodyInput{Name: "吉林省公安厅", CreditCode: "91350100M000100Y43", Kind: org.KindAgency, RegionCode: "220000"})
			if err != nil {
				t.Fatal(err)
			}
			u, err := s.Auth.CreateUser(ctx, auth.UserInput{Username: "spec", DisplayName: "王数据", BodyID: police.ID, Password: editPassword})
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Auth.GrantRole(ctx, 0, u.ID, auth.RoleDataSpecialist, police.ID); err != nil {
				t.Fatal(err)
			}
			if u, err = s.Auth.User(ctx, u.ID); err != nil {
				t.Fatal(err)
			}
			p := &auth.Principal{User: u}
			ts := httptest.NewServer(s.Handler)
			t.Cleanup(ts.Close)
			jar, _ := cookiejar.New(nil)
			c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
			res, err := c.Post(ts.URL+"/api/v1/session", "application/json", strings.NewReader(`{"username":"spec","password":"`+editPassword+`"}`))
			if err != nil || res.StatusCode != 200 {
				t.Fatalf("sign in: %v %v", res, err)
			}
			res.Body.Close()
			get := func(path string) (int, string) {
				t.Helper()
				res, err := c.Get(ts.URL + path)
				if err != nil {
					t.Fatal(err)
				}
				defer res.Body.Close()
				b, _ := io.ReadAll(res.Body)
				return res.StatusCode, string(b)
			}

			hostile := `<script>alert("x")</script> 人口 --`
			in := catalog.EntryInput{ProviderID: police.ID, Content: catalog.Content{Name: hostile, Class: "1/01/001",
				Abstract: "全省常住人口基本信息；经省政数局审批后共享。", FormatClass: "database", FormatType: "oracle",
				ShareType: "授权共享", ShareCondition: "经省政数局审批", ShareMethod: "api", OpenType: "none", OpenCondition: "涉及个人信息",
				Cycle: "daily", Grade: "L3", Items: []catalog.Item{{Name: "公民身份号码", DataType: "C", Length: 18, Key: true}}}}
			e, err := s.Catalog.Create(ctx, p, in)
			if err != nil {
				t.Fatal(err)
			}
			path := fmt.Sprintf("/catalog/%d", e.ID)

			// Markup typed into a name is stored as typed and shown escaped.
			st, page := get(path)
			if st != 200 || strings.Contains(page, hostile) || !strings.Contains(page, "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; 人口 --") {
				t.Errorf("entry page: %d, raw markup shown or name missing", st)
			}
			if !strings.Contains(page, "有条件共享（授权共享）") {
				t.Error("the share type label lacks the regulation's word")
			}

			st, page = get(path + "/edit")
			m := revField.FindStringSubmatch(page)
			if st != 200 || m == nil || m[1] != fmt.Sprint(e.Rev) {
				t.Fatalf("edit form: %d, revision field %v (want %d)", st, m, e.Rev)
			}
			// Someone else saves first.
			other := in
			other.Name = "吉林省常住人口基本信息"
			if _, err := s.Catalog.Update(ctx, p, e.ID, other, "", catalog.IfRev(e.Rev)); err != nil {
				t.Fatal(err)
			}
			form := url.Values{"rev": {m[1]}, "name": {"我的修改稿"}, "class": {"1/01/001"}, "abstract": {in.Abstract},
				"format_class": {"database"}, "format_type": {"oracle"}, "share_type": {"conditional"}, "share_condition": {"经省政数局审批"},
				"share_method": {"api"}, "open_type": {"none"}, "open_condition": {"涉及个人信息"}, "cycle": {"daily"}, "grade": {"L3"},
				"items[0].name": {"公民身份号码"}, "items[0].data_type": {"C"}, "items[0].length": {"18"}, "items[0].key": {"1"}, "op": {"save"}}
			res, err = c.PostForm(ts.URL+path+"/edit", form)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			page = string(b)
			if res.StatusCode != http.StatusConflict || !strings.Contains(page, "内容已被他人修改，请刷新后重试") || !strings.Contains(page, `value="我的修改稿"`) {
				t.Errorf("stale save: %d; message or typed name missing", res.StatusCode)
			}
			if m2 := revField.FindStringSubmatch(page); m2 == nil || m2[1] != m[1] {
				t.Errorf("the refused form no longer carries the revision it was made on: %v", m2)
			}
			if got, _ := s.Catalog.Get(ctx, p, e.ID); got.Name != "吉林省常住人口基本信息" {
				t.Errorf("the other's save was overwritten: %q", got.Name)
			}
			// After a reload the save applies.
			_, page = get(path + "/edit")
			m = revField.FindStringSubmatch(page)
			if m == nil {
				t.Fatal("no revision field after reload")
			}
			form.Set("rev", m[1])
			res, err = c.PostForm(ts.URL+path+"/edit", form)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != http.StatusSeeOther {
				t.Errorf("save after reload: %d", res.StatusCode)
			}
			if got, _ := s.Catalog.Get(ctx, p, e.ID); got.Name != "我的修改稿" {
				t.Errorf("after reload and save: %q", got.Name)
			}

			// A workflow step from the entry page carries the revision the
			// page showed: submitting content changed since is refused.
			cdo, err := s.Auth.CreateUser(ctx, auth.UserInput{Username: "cdo", DisplayName: "赵首席", BodyID: police.ID, Password: editPassword})
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Auth.GrantRole(ctx, 0, cdo.ID, auth.RoleChiefDataOfficer, police.ID); err != nil {
				t.Fatal(err)
			}
			cjar, _ := cookiejar.New(nil)
			cc := &http.Client{Jar: cjar, CheckRedirect: c.CheckRedirect}
			if res, err := cc.Post(ts.URL+"/api/v1/session", "application/json", strings.NewReader(`{"username":"cdo","password":"`+editPassword+`"}`)); err != nil || res.StatusCode != 200 {
				t.Fatalf("cdo sign in: %v %v", res, err)
			}
			entryPage := func() string {
				res, err := cc.Get(ts.URL + path)
				if err != nil {
					t.Fatal(err)
				}
				defer res.Body.Close()
				b, _ := io.ReadAll(res.Body)
				return string(b)
			}
			seen := revField.FindStringSubmatch(entryPage())
			if seen == nil {
				t.Fatal("the entry page's submit form carries no revision")
			}
			cur, _ := s.Catalog.Get(ctx, p, e.ID)
			changed := in
			changed.Name = "提交前又改过的名称"
			if _, err := s.Catalog.Update(ctx, p, e.ID, changed, "", catalog.IfRev(cur.Rev)); err != nil {
				t.Fatal(err)
			}
			res, err = cc.PostForm(ts.URL+path+"/submit", url.Values{"rev": {seen[1]}})
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if got, _ := s.Catalog.Get(ctx, p, e.ID); res.StatusCode != http.StatusConflict || got.Status != catalog.StatusDraft {
				t.Errorf("stale submit: %d, status %s", res.StatusCode, got.Status)
			}
			seen = revField.FindStringSubmatch(entryPage())
			res, err = cc.PostForm(ts.URL+path+"/submit", url.Values{"rev": {seen[1]}})
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if got, _ := s.Catalog.Get(ctx, p, e.ID); res.StatusCode != http.StatusSeeOther || got.Status != catalog.StatusSubmitted {
				t.Errorf("submit after reload: %d, status %s", res.StatusCode, got.Status)
			}
		})
	}
}
