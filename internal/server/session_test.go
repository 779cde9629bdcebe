package server_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"xiangyun/internal/auth"
	"xiangyun/internal/db/dbtest"
	"xiangyun/internal/org"
	"xiangyun/internal/server"
)

// TestSessionCookieFollowsPolicy: the session cookie, from the API and from
// the console's login form, lives as long as the configured policy's
// SessionMax, not the default's.
func TestSessionCookieFollowsPolicy(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	policy := auth.DefaultPolicy
	policy.SessionMax = 45 * time.Minute
	policy.IPLoginsPerMin = 1000
	s, err := server.Open(ctx, server.Config{DB: dbtest.TestDSNs(t)["sqlite"](t), DataDir: dir, AuditKeyFile: filepath.Join(dir, "audit.key"), AuthPolicy: &policy},
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	if _, err := s.Orgs.CreateRegion(ctx, org.Region{Code: "220000", Name: "吉林省"}); err != nil {
		t.Fatal(err)
	}
	b, err := s.Orgs.CreateBody(ctx, org.BodyInput{Name: "吉林省公安厅", CreditCode: "91350100M000100Y43", Kind: org.KindAgency, RegionCode: "220000"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Auth.CreateUser(ctx, auth.UserInput{Username: "li.si", DisplayName: "李四", BodyID: b.ID, Password: pw}); err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s.Handler)
	t.Cleanup(ts.Close)
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	check := func(what string, res *http.Response, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		for _, ck := range res.Cookies() {
			if ck.Name == "xy_session" && ck.Value != "" {
				if ck.MaxAge != int(policy.SessionMax.Seconds()) {
					t.Errorf("%s: session cookie Max-Age %d, want %d (the configured SessionMax)", what, ck.MaxAge, int(policy.SessionMax.Seconds()))
				}
				return
			}
		}
		t.Errorf("%s: no session cookie (status %d)", what, res.StatusCode)
	}
	res, err := c.Post(ts.URL+"/api/v1/session", "application/json", strings.NewReader(`{"username":"li.si","password":"`+pw+`"}`))
	check("API", res, err)
	res, err = c.PostForm(ts.URL+"/login", url.Values{"username": {"li.si"}, "password": {pw}})
	check("console", res, err)
}

// TestNoTakeoverOverHTTP: the 三员 rules hold through the API as well (they
// live in the domain): the administrator cannot reset the auditor's or the
// security officer's password, the security officer cannot change the
// administrator's roles; ordinary accounts are unaffected.
func TestNoTakeoverOverHTTP(t *testing.T) {
	e := newEnv(t, "sqlite:"+t.TempDir())
	admin, sec := e.client(auth.RoleAdmin), e.client(auth.RoleSecurityOfficer)
	id := func(r auth.Role) string { return strconv.FormatInt(e.users[r].ID, 10) }
	for _, c := range []struct {
		name         string
		c            *http.Client
		method, path string
		body         any
		status       int
	}{
		{"admin resets the auditor's password", admin, "PUT", "/api/v1/users/" + id(auth.RoleAuditor) + "/password", map[string]string{"password": "Taken-over-2026x"}, 403},
		{"admin resets the security officer's password", admin, "PUT", "/api/v1/users/" + id(auth.RoleSecurityOfficer) + "/password", map[string]string{"password": "Taken-over-2026x"}, 403},
		{"admin disables the auditor", admin, "PUT", "/api/v1/users/" + id(auth.RoleAuditor) + "/disabled", map[string]bool{"disabled": true}, 403},
		{"admin edits the security officer", admin, "PUT", "/api/v1/users/" + id(auth.RoleSecurityOfficer), map[string]any{"username": "u_security", "display_name": "x", "body_id": e.bureau.ID}, 403},
		{"security officer strips the admin", sec, "DELETE", "/api/v1/users/" + id(auth.RoleAdmin) + "/roles?role=admin&body_id=" + strconv.FormatInt(e.bureau.ID, 10), nil, 403},
		{"security officer grants the admin a role", sec, "POST", "/api/v1/users/" + id(auth.RoleAdmin) + "/roles", map[string]any{"role": "reviewer", "body_id": e.bureau.ID}, 403},
		{"admin resets a specialist's password", admin, "PUT", "/api/v1/users/" + id(auth.RoleDataSpecialist) + "/password", map[string]string{"password": "Reset-by-admin-2026"}, 204},
	} {
		res := e.do(c.c, c.method, c.path, c.body)
		var p problem
		if res.StatusCode != 204 && res.StatusCode != 200 {
			decode(t, res, &p)
		} else {
			res.Body.Close()
		}
		if res.StatusCode != c.status || (c.status == 403 && p.Code != "role.separation_account") {
			t.Errorf("%s: %d %+v, want %d", c.name, res.StatusCode, p, c.status)
		}
	}
}
