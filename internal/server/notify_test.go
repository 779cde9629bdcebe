package server_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"xiangyun/internal/auth"
	"xiangyun/internal/catalog"
	"xiangyun/internal/db/dbtest"
)

// TestNotifications: a catalog submission reaches the reviewer's inbox
// (API and console badge); each user reads and marks only their own.
func TestNotifications(t *testing.T) {
	for dialect, dsn := range dbtest.TestDSNs(t) {
		t.Run(string(dialect), func(t *testing.T) {
			e := newEnv(t, dsn(t))
			ctx := context.Background()
			cdo, err := e.s.Auth.User(ctx, e.users[auth.RoleChiefDataOfficer].ID)
			if err != nil {
				t.Fatal(err)
			}
			p := &auth.Principal{User: cdo}
			entry, err := e.s.Catalog.Create(ctx, p, catalog.EntryInput{ProviderID: e.dept.ID, Content: catalog.Content{
				Name: "吉林省常住人口基本信息", Class: "1/01/001", Abstract: "全省户籍人口的姓名、公民身份号码等基本信息。",
				FormatClass: "database", FormatType: "oracle",
				Items:     []catalog.Item{{Name: "公民身份号码", EnName: "gmsfhm", DataType: "C", Length: 18, Key: true, Sensitive: true, Mask: "id_card"}},
				ShareType: catalog.ShareConditional, ShareCondition: "仅用于政务服务身份核验", ShareMethod: catalog.MethodAPI, ShareChannel: "platform",
				OpenType: catalog.OpenNone, OpenCondition: "涉及个人信息，不予开放", Cycle: "daily", Grade: "L3"}})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := e.s.Catalog.Submit(ctx, p, entry.ID, "请审核"); err != nil {
				t.Fatal(err)
			}

			reviewer, other := e.client(auth.RoleReviewer), e.client(auth.RoleChiefDataOfficer)
			type list struct {
				Items []struct {
					ID    int64  `json:"id"`
					Title string `json:"title"`
					Link  string `json:"link"`
					Read  bool   `json:"read"`
				} `json:"items"`
				Total int `json:"total"`
			}
			var l list
			res := e.do(reviewer, "GET", "/api/v1/notifications?unread=true&lang=en", nil)
			decode(t, res, &l)
			if res.StatusCode != 200 || l.Total != 1 || l.Items[0].Title != "Submitted for review: 吉林省常住人口基本信息" ||
				l.Items[0].Link != "/catalog/"+strconv.FormatInt(entry.ID, 10) {
				t.Fatalf("reviewer's inbox: %d %+v", res.StatusCode, l)
			}
			id := strconv.FormatInt(l.Items[0].ID, 10)
			count := func(c *http.Client) int {
				var n struct{ Unread int }
				res := e.do(c, "GET", "/api/v1/notifications/unread-count", nil)
				decode(t, res, &n)
				if res.StatusCode != 200 {
					t.Fatalf("unread count: %d", res.StatusCode)
				}
				return n.Unread
			}
			if count(reviewer) != 1 || count(other) != 0 {
				t.Fatal("unread counts")
			}

			// Another user neither sees nor marks it: 404, as if it did not exist.
			var other404 problem
			res = e.do(other, "POST", "/api/v1/notifications/"+id+"/read", nil)
			decode(t, res, &other404)
			if res.StatusCode != 404 || other404.Code != "notify.not_found" {
				t.Fatalf("another user marking it: %d %+v", res.StatusCode, other404)
			}
			res = e.do(other, "GET", "/api/v1/notifications", nil)
			decode(t, res, &l)
			if l.Total != 0 {
				t.Fatalf("another user's list shows %d", l.Total)
			}
			if res := e.do(e.client(""), "GET", "/api/v1/notifications", nil); res.StatusCode != 401 {
				t.Fatalf("anonymous: %d", res.StatusCode)
			}
			if count(reviewer) != 1 {
				t.Fatal("another user's attempt marked it read")
			}

			// The console: a badge in the header of every page, the inbox, and
			// opening a notice marks it read and goes to its object.
			page := func(c *http.Client, path string) string {
				res := e.do(c, "GET", path, nil)
				b, _ := io.ReadAll(res.Body)
				res.Body.Close()
				if res.StatusCode != 200 {
					t.Fatalf("GET %s: %d", path, res.StatusCode)
				}
				return string(b)
			}
			if home := page(reviewer, "/profile"); !strings.Contains(home, `id="unread-badge">1<`) {
				t.Fatal("no unread badge in the header")
			}
			if p := page(other, "/profile"); strings.Contains(p, `unread-badge`) {
				t.Fatal("a badge for a user without unread notifications")
			}
			inbox := page(reviewer, "/notifications")
			if !strings.Contains(inbox, "新提交待审核：吉林省常住人口基本信息") || !strings.Contains(inbox, `action="/notifications/`+id+`/read"`) {
				t.Fatal("the inbox does not list the notice")
			}
			form := func(c *http.Client, path string, v url.Values) *http.Response {
				req, _ := http.NewRequest("POST", e.ts.URL+path, strings.NewReader(v.Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				res, err := c.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				res.Body.Close()
				return res
			}
			if res := form(other, "/notifications/"+id+"/read", nil); res.StatusCode != 404 {
				t.Fatalf("console: another user marking it: %d", res.StatusCode)
			}
			res = form(reviewer, "/notifications/"+id+"/read", url.Values{"next": {"//evil.example/x"}})
			if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/notifications" {
				t.Fatalf("an off-site next: %d %q", res.StatusCode, res.Header.Get("Location"))
			}
			res = form(reviewer, "/notifications/"+id+"/read", url.Values{"next": {"/catalog/" + strconv.FormatInt(entry.ID, 10)}})
			if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/catalog/"+strconv.FormatInt(entry.ID, 10) {
				t.Fatalf("open: %d %q", res.StatusCode, res.Header.Get("Location"))
			}
			if count(reviewer) != 0 {
				t.Fatal("still unread after opening")
			}
			if strings.Contains(page(reviewer, "/profile"), "unread-badge") {
				t.Fatal("badge after everything was read")
			}
			var all struct{ Marked int }
			res = e.do(reviewer, "POST", "/api/v1/notifications/read-all", nil)
			decode(t, res, &all)
			if res.StatusCode != 200 || all.Marked != 0 {
				t.Fatalf("read-all: %d %+v", res.StatusCode, all)
			}
		})
	}
}
