package server_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
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
