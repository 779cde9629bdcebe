package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"xiangyun/internal/audit"
	"xiangyun/internal/auth"
	"xiangyun/internal/db/dbtest"
	"xiangyun/internal/org"
	"xiangyun/internal/server"
	"xiangyun/internal/tabular"
)

const pw = "Test-password-2026"

// env is one running installation with a user per role.
type env struct {
	t      *testing.T
	s      *server.Server
	ts     *httptest.Server
	bureau org.Body
	dept   org.Body
	users  map[auth.Role]auth.User
}

func newEnv(t *testing.T, dsn string) *env { return newEnvWith(t, dsn, nil) }

// newEnvWith is newEnv with a configuration changed by configure.
func newEnvWith(t *testing.T, dsn string, configure func(*server.Config)) *env {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	policy := auth.DefaultPolicy
	policy.IPLoginsPerMin = 100000 // every test client signs in from 127.0.0.1
	cfg := server.Config{DB: dsn, DataDir: dir, AuditKeyFile: filepath.Join(dir, "audit.key"), AuthPolicy: &policy}
	if configure != nil {
		configure(&cfg)
	}
	s, err := server.Open(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	e := &env{t: t, s: s, users: map[auth.Role]auth.User{}}
	for _, r := range []org.Region{{Code: "220000", Name: "吉林省"}, {Code: "220100", Name: "长春市"}} {
		if _, err := s.Orgs.CreateRegion(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	if e.bureau, err = s.Orgs.CreateBody(ctx, org.BodyInput{Name: "吉林省政务服务和数字化建设管理局", CreditCode: "11220000MB1726532F", Kind: org.KindAgency, RegionCode: "220000"}); err != nil {
		t.Fatal(err)
	}
	if e.dept, err = s.Orgs.CreateBody(ctx, org.BodyInput{Name: "吉林省公安厅", CreditCode: "91350100M000100Y43", Kind: org.KindAgency, RegionCode: "220000"}); err != nil {
		t.Fatal(err)
	}
	for _, r := range auth.Roles {
		body := e.dept
		if r.Platform {
			body = e.bureau
		}
		u, err := s.Auth.CreateUser(ctx, auth.UserInput{Username: "u_" + string(r.Role), DisplayName: r.ZH, BodyID: body.ID, Password: pw})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Auth.GrantRole(ctx, 0, u.ID, r.Role, body.ID); err != nil {
			t.Fatal(err)
		}
		e.users[r.Role] = u
	}
	e.ts = httptest.NewServer(s.Handler)
	t.Cleanup(e.ts.Close)
	return e
}

// client returns an HTTP client signed in as role ("" = anonymous).
func (e *env) client(role auth.Role) *http.Client {
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	if role != "" {
		res := e.do(c, "POST", "/api/v1/session", map[string]string{"username": "u_" + string(role), "password": pw})
		if res.StatusCode != 200 {
			e.t.Fatalf("login %s: %d", role, res.StatusCode)
		}
	}
	return c
}

func (e *env) do(c *http.Client, method, path string, body any) *http.Response {
	e.t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, e.ts.URL+path, r)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := c.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	return res
}

func decode(t *testing.T, res *http.Response, v any) {
	t.Helper()
	defer res.Body.Close()
	if err := json.NewDecoder(res.Body).Decode(v); err != nil {
		t.Fatalf("decode: %v", err)
	}
}

type problem struct {
	Status    int    `json:"status"`
	Code      string `json:"code"`
	MessageZH string `json:"message_zh"`
	MessageEN string `json:"message_en"`
	Errors    []struct {
		Field string `json:"field"`
		Code  string `json:"code"`
	} `json:"errors"`
}

func TestAPI(t *testing.T) {
	for dialect, dsn := range dbtest.TestDSNs(t) {
		t.Run(string(dialect), func(t *testing.T) {
			e := newEnv(t, dsn(t))
			anon := e.client("")
			// Fixed point: POST /api/v1/session → 200 + cookie, 401 otherwise.
			if res := e.do(anon, "POST", "/api/v1/session", map[string]string{"username": "u_admin", "password": "wrong-one-123"}); res.StatusCode != 401 {
				t.Fatalf("bad login: %d", res.StatusCode)
			} else {
				var p problem
				decode(t, res, &p)
				if p.Code != "auth.bad_credentials" || p.MessageZH == "" || p.MessageEN == "" {
					t.Fatalf("problem: %+v", p)
				}
				if ct := res.Header.Get("Content-Type"); !strings.Contains(ct, "problem+json") {
					t.Fatalf("content type %q", ct)
				}
			}
			admin := e.client(auth.RoleAdmin)
			// Fixed point: POST /api/v1/tokens → {"token"}; use as Bearer.
			res := e.do(admin, "POST", "/api/v1/tokens", map[string]string{"name": "script"})
			var tok struct{ Token string }
			decode(t, res, &tok)
			if tok.Token == "" {
				t.Fatal("no token")
			}
			req, _ := http.NewRequest("GET", e.ts.URL+"/api/v1/me", nil)
			req.Header.Set("Authorization", "Bearer "+tok.Token)
			if res, _ := http.DefaultClient.Do(req); res.StatusCode != 200 {
				t.Fatalf("bearer: %d", res.StatusCode)
			}
			req.Header.Set("Authorization", "Bearer xyt_forged")
			if res, _ := http.DefaultClient.Do(req); res.StatusCode != 401 {
				t.Fatalf("forged bearer: %d", res.StatusCode)
			}
			// Create a body, then bad input changes nothing.
			res = e.do(admin, "POST", "/api/v1/bodies", map[string]any{"name": "长春市公安局", "credit_code": "91512081MA62K0260E", "kind": "agency", "region_code": "220100"})
			if res.StatusCode != 200 {
				t.Fatalf("create body: %d", res.StatusCode)
			}
			bad := []map[string]any{
				{"name": "某局", "credit_code": "91350100M000100Y4Z", "kind": "agency", "region_code": "220000"},
				{"name": "某局", "credit_code": "91512081MA62K0260E", "kind": "agency", "region_code": "220000"},
				{"name": "<script>x</script>", "credit_code": "11220000MB1726532F", "kind": "agency", "region_code": "220000"},
				{"name": "1' OR '1'='1", "credit_code": "11220000MB1726532F", "kind": "agency", "region_code": "220000"},
				{"name": strings.Repeat("长", 300), "credit_code": "11220000MB1726532F", "kind": "agency", "region_code": "220000"},
				{"name": "某局", "credit_code": "11220000MB1726532F", "kind": "agency", "region_code": "229900"},
			}
			for _, b := range bad {
				res := e.do(admin, "POST", "/api/v1/bodies", b)
				var p problem
				decode(t, res, &p)
				if res.StatusCode < 400 || res.StatusCode >= 500 || p.Code == "" || p.MessageZH == "" || p.MessageEN == "" {
					t.Errorf("bad body %v: %d %+v", b["name"], res.StatusCode, p)
				}
			}
			var bodies struct{ Total int }
			decode(t, e.do(admin, "GET", "/api/v1/bodies", nil), &bodies)
			if bodies.Total != 3 {
				t.Fatalf("bodies after bad input: %d", bodies.Total)
			}
			// Separation of duties: the administrator cannot read the audit log; the auditor cannot change data.
			if res := e.do(admin, "GET", "/api/v1/audit", nil); res.StatusCode != 403 {
				t.Fatalf("admin reads audit: %d", res.StatusCode)
			}
			auditor := e.client(auth.RoleAuditor)
			if res := e.do(auditor, "POST", "/api/v1/bodies", map[string]any{"name": "审计员建的", "credit_code": "11220000MB1726532F", "kind": "agency", "region_code": "220000"}); res.StatusCode != 403 {
				t.Fatalf("auditor writes: %d", res.StatusCode)
			}
			var log struct {
				Items []audit.Entry
				Total int
			}
			decode(t, e.do(auditor, "GET", "/api/v1/audit?page_size=200", nil), &log)
			seen := map[string]string{}
			for _, it := range log.Items {
				seen[it.Action+"/"+it.Outcome] = it.Actor
				for k, v := range it.Detail {
					if strings.Contains(v, pw) || strings.Contains(v, tok.Token) || strings.Contains(strings.ToLower(k), "password") {
						t.Fatalf("secret in audit record %+v", it)
					}
				}
			}
			for _, want := range []string{"session.login/success", "session.login_failed/failure", "org.body.create/success", "org.body.create/failure", "token.create/success", "audit.list.denied/denied", "org.body.create.denied/denied"} {
				if _, ok := seen[want]; !ok {
					t.Errorf("audit log lacks %s; has %v", want, seen)
				}
			}
			var rep audit.Report
			decode(t, e.do(auditor, "GET", "/api/v1/audit/verify", nil), &rep)
			if !rep.OK || rep.Size == 0 {
				t.Fatalf("verify: %+v", rep)
			}
			// OpenAPI 3.1 description is served.
			var spec struct {
				OpenAPI string `json:"openapi"`
				Paths   map[string]any
			}
			decode(t, e.do(anon, "GET", "/api/v1/openapi.json", nil), &spec)
			if !strings.HasPrefix(spec.OpenAPI, "3.1") || spec.Paths["/api/v1/bodies"] == nil {
				t.Fatalf("openapi: %s, %d paths", spec.OpenAPI, len(spec.Paths))
			}
		})
	}
}

// routeRoles is who may pass each route's permission check, written by hand
// from the README's role table (admin: bodies, users, settings, read the
// catalog and manage its lists, read data quality; security: roles and
// unlocking; auditor: the audit log and nothing else; reviewer: review,
// lists, demands, data quality everywhere; cdo: own a body's catalog and its
// data quality; specialist: draft and edit, its body's data quality). It is deliberately not derived
// from internal/auth/roles.go: a route given the wrong permission, or a role
// given a permission it must not have, fails TestRouteMatrix. A new route
// must be added here by hand. Finer checks (the entry's own body, the
// demanding body) happen inside the handlers and are tested there.
var routeRoles = []struct{ method, pattern, roles string }{
	{"POST", "/api/v1/session", "anonymous admin security auditor reviewer cdo specialist"},
	{"DELETE", "/api/v1/session", "admin security auditor reviewer cdo specialist"},
	{"GET", "/api/v1/me", "admin security auditor reviewer cdo specialist"},
	{"PUT", "/api/v1/me/password", "admin security auditor reviewer cdo specialist"},
	{"POST", "/api/v1/tokens", "admin security auditor reviewer cdo specialist"},
	{"GET", "/api/v1/tokens", "admin security auditor reviewer cdo specialist"},
	{"DELETE", "/api/v1/tokens/{id}", "admin security auditor reviewer cdo specialist"},
	{"GET", "/api/v1/regions", "admin security reviewer cdo specialist"},
	{"POST", "/api/v1/regions", "admin"},
	{"GET", "/api/v1/bodies", "admin security reviewer cdo specialist"},
	{"POST", "/api/v1/bodies", "admin"},
	{"GET", "/api/v1/bodies/{id}", "admin security reviewer cdo specialist"},
	{"PUT", "/api/v1/bodies/{id}", "admin"},
	{"PUT", "/api/v1/bodies/{id}/enabled", "admin"},
	{"GET", "/api/v1/users", "admin security"},
	{"POST", "/api/v1/users", "admin"},
	{"GET", "/api/v1/users/{id}", "admin security"},
	{"PUT", "/api/v1/users/{id}", "admin"},
	{"PUT", "/api/v1/users/{id}/password", "admin"},
	{"PUT", "/api/v1/users/{id}/disabled", "admin"},
	{"POST", "/api/v1/users/{id}/unlock", "security"},
	{"POST", "/api/v1/users/{id}/roles", "security"},
	{"DELETE", "/api/v1/users/{id}/roles", "security"},
	{"GET", "/api/v1/audit", "auditor"},
	{"GET", "/api/v1/audit/verify", "auditor"},
	{"GET", "/api/v1/audit/export", "auditor"},
	{"GET", "/api/v1/audit/checkpoint", "auditor"},
	{"GET", "/api/v1/notifications", "admin security auditor reviewer cdo specialist"},
	{"GET", "/api/v1/notifications/unread-count", "admin security auditor reviewer cdo specialist"},
	{"POST", "/api/v1/notifications/{id}/read", "admin security auditor reviewer cdo specialist"},
	{"POST", "/api/v1/notifications/read-all", "admin security auditor reviewer cdo specialist"},
	{"GET", "/audit/checkpoint", "auditor"},
	{"GET", "/notifications", "admin security auditor reviewer cdo specialist"},
	{"POST", "/notifications/{id}/read", "admin security auditor reviewer cdo specialist"},
	{"POST", "/notifications/read-all", "admin security auditor reviewer cdo specialist"},
	{"GET", "/api/v1/catalog/entries", "admin reviewer cdo specialist"},
	{"POST", "/api/v1/catalog/entries", "cdo specialist"},
	{"POST", "/api/v1/catalog/entries/batch", "cdo specialist"},
	{"GET", "/api/v1/catalog/entries/by-code", "admin reviewer cdo specialist"},
	{"GET", "/api/v1/catalog/entries/{id}", "admin reviewer cdo specialist"},
	{"PUT", "/api/v1/catalog/entries/{id}", "cdo specialist"},
	{"POST", "/api/v1/catalog/entries/{id}/submit", "cdo"},
	{"POST", "/api/v1/catalog/entries/{id}/publish", "reviewer"},
	{"POST", "/api/v1/catalog/entries/{id}/return", "reviewer"},
	{"POST", "/api/v1/catalog/entries/{id}/withdraw", "cdo"},
	{"POST", "/api/v1/catalog/entries/{id}/deprecate", "cdo"},
	{"GET", "/api/v1/catalog/entries/{id}/versions", "admin reviewer cdo specialist"},
	{"GET", "/api/v1/catalog/entries/{id}/versions/{number}", "admin reviewer cdo specialist"},
	{"GET", "/api/v1/catalog/entries/{id}/diff", "admin reviewer cdo specialist"},
	{"GET", "/api/v1/catalog/entries/{id}/history", "admin reviewer cdo specialist"},
	{"GET", "/api/v1/catalog/review-queue", "admin reviewer cdo specialist"},
	{"POST", "/api/v1/catalog/review/submit", "cdo"},
	{"POST", "/api/v1/catalog/review/publish", "reviewer"},
	{"GET", "/api/v1/catalog/responsibilities", "admin reviewer cdo specialist"},
	{"POST", "/api/v1/catalog/responsibilities", "admin reviewer"},
	{"GET", "/api/v1/catalog/responsibilities/{id}", "admin reviewer cdo specialist"},
	{"PUT", "/api/v1/catalog/responsibilities/{id}", "admin reviewer"},
	{"PUT", "/api/v1/catalog/responsibilities/{id}/entry", "admin reviewer cdo specialist"},
	{"GET", "/api/v1/catalog/demands", "admin reviewer cdo specialist"},
	{"POST", "/api/v1/catalog/demands", "reviewer cdo"},
	{"GET", "/api/v1/catalog/demands/{id}", "admin reviewer cdo specialist"},
	{"PUT", "/api/v1/catalog/demands/{id}", "reviewer cdo"},
	{"POST", "/api/v1/catalog/demands/{id}/close", "reviewer cdo"},
	{"POST", "/api/v1/catalog/demands/{id}/links", "admin reviewer cdo specialist"},
	{"DELETE", "/api/v1/catalog/demands/{id}/links/{entry_id}", "admin reviewer cdo specialist"},
	{"GET", "/api/v1/catalog/negative-list", "admin reviewer cdo specialist"},
	{"GET", "/api/v1/catalog/vocabulary", "admin reviewer cdo specialist"},
	{"GET", "/api/v1/catalog/stats", "admin reviewer cdo specialist"},
	{"GET", "/api/v1/catalog/index", "admin reviewer"},
	{"POST", "/api/v1/catalog/index/rebuild", "admin reviewer"},
	{"GET", "/api/v1/catalog/template", "admin reviewer cdo specialist"},
	{"POST", "/api/v1/catalog/import", "cdo specialist"},
	{"GET", "/api/v1/catalog/export", "admin reviewer cdo specialist"},
	{"GET", "/api/v1/catalog/entries/{id}/mapping", "admin reviewer cdo specialist"},
	{"PUT", "/api/v1/catalog/entries/{id}/mapping", "cdo specialist"},
	{"POST", "/api/v1/catalog/entries/{id}/batches", "cdo specialist"},
	{"GET", "/api/v1/catalog/entries/{id}/batches", "admin reviewer cdo specialist"},
	{"GET", "/api/v1/batches/{id}", "admin reviewer cdo specialist"},
	{"POST", "/api/v1/batches/{id}/cancel", "cdo specialist"},
	{"GET", "/api/v1/batches/{id}/errors", "admin reviewer cdo specialist"},
	{"GET", "/api/v1/batches/{id}/report", "admin reviewer cdo specialist"},
	{"GET", "/api/v1/catalog/entries/{id}/records", "admin reviewer cdo specialist"},
	{"GET", "/api/v1/catalog/entries/{id}/records/export", "admin reviewer cdo specialist"},
	{"GET", "/api/v1/catalog/entries/{id}/records/history", "admin reviewer cdo specialist"},
	{"POST", "/api/v1/catalog/entries/{id}/records", "cdo specialist"},
	{"POST", "/api/v1/catalog/entries/{id}/files", "cdo specialist"},
	{"GET", "/api/v1/catalog/entries/{id}/files", "admin reviewer cdo specialist"},
	{"GET", "/api/v1/catalog/entries/{id}/files/{version}", "admin reviewer cdo specialist"},
	{"GET", "/login", "anonymous admin security auditor reviewer cdo specialist"},
	{"POST", "/login", "anonymous admin security auditor reviewer cdo specialist"},
	{"POST", "/logout", "admin security auditor reviewer cdo specialist"},
	{"GET", "/lang", "anonymous admin security auditor reviewer cdo specialist"},
	{"GET", "/{$}", "admin security auditor reviewer cdo specialist"},
	{"GET", "/orgs", "admin security reviewer cdo specialist"},
	{"GET", "/orgs/new", "admin"},
	{"POST", "/orgs/new", "admin"},
	{"GET", "/orgs/{id}", "admin security reviewer cdo specialist"},
	{"POST", "/orgs/{id}", "admin"},
	{"POST", "/orgs/{id}/enabled", "admin"},
	{"GET", "/users", "admin security"},
	{"GET", "/users/new", "admin"},
	{"POST", "/users/new", "admin"},
	{"GET", "/users/{id}", "admin security"},
	{"POST", "/users/{id}/disabled", "admin"},
	{"POST", "/users/{id}/password", "admin"},
	{"POST", "/users/{id}/roles", "security"},
	{"POST", "/users/{id}/roles/revoke", "security"},
	{"POST", "/users/{id}/unlock", "security"},
	{"GET", "/audit", "auditor"},
	{"GET", "/audit/export", "auditor"},
	{"POST", "/audit/verify", "auditor"},
	{"GET", "/profile", "admin security auditor reviewer cdo specialist"},
	{"POST", "/profile/password", "admin security auditor reviewer cdo specialist"},
	{"POST", "/profile/tokens", "admin security auditor reviewer cdo specialist"},
	{"POST", "/profile/tokens/{id}/revoke", "admin security auditor reviewer cdo specialist"},
	{"GET", "/catalog", "admin reviewer cdo specialist"},
	{"GET", "/catalog/export", "admin reviewer cdo specialist"},
	{"GET", "/catalog/new", "cdo specialist"},
	{"POST", "/catalog/new", "cdo specialist"},
	{"GET", "/catalog/editor.js", "cdo specialist"},
	{"GET", "/catalog/mine", "cdo specialist"},
	{"GET", "/catalog/review", "reviewer"},
	{"GET", "/catalog/{id}", "admin reviewer cdo specialist"},
	{"GET", "/catalog/{id}/diff", "admin reviewer cdo specialist"},
	{"GET", "/catalog/{id}/edit", "cdo specialist"},
	{"POST", "/catalog/{id}/edit", "cdo specialist"},
	{"POST", "/catalog/{id}/submit", "cdo"},
	{"POST", "/catalog/{id}/withdraw", "cdo"},
	{"POST", "/catalog/{id}/deprecate", "cdo"},
	{"POST", "/catalog/{id}/publish", "reviewer"},
	{"POST", "/catalog/{id}/return", "reviewer"},
	{"GET", "/catalog/lists", "admin reviewer cdo specialist"},
	{"GET", "/catalog/lists/export", "admin reviewer cdo specialist"},
	{"POST", "/catalog/lists/responsibility", "admin reviewer"},
	{"POST", "/catalog/lists/responsibility/{id}/cancel", "admin reviewer"},
	{"POST", "/catalog/lists/responsibility/{id}/link", "admin reviewer cdo specialist"},
	{"POST", "/catalog/lists/demand", "reviewer cdo"},
	{"POST", "/catalog/lists/demand/{id}/link", "reviewer cdo"},
	{"POST", "/catalog/lists/demand/{id}/close", "reviewer cdo"},
	{"GET", "/catalog/import", "cdo specialist"},
	{"GET", "/catalog/import/template", "cdo specialist"},
	{"POST", "/catalog/import", "cdo specialist"},
	{"GET", "/catalog/stats", "admin reviewer cdo specialist"},
	{"GET", "/api/v1/share/stats", "reviewer cdo"},
	{"GET", "/api/v1/share/stats/report.xlsx", "reviewer cdo"},
	{"GET", "/api/v1/share/usage", "reviewer cdo"},
	{"GET", "/share/stats", "reviewer cdo"},
	{"GET", "/share/stats/report.xlsx", "reviewer cdo"},
	{"GET", "/share/usage", "reviewer cdo"},
	{"GET", "/catalog/base", "admin reviewer cdo specialist"},
	{"GET", "/quality", "admin reviewer cdo specialist"},
	{"GET", "/quality/bodies/{id}", "admin reviewer cdo specialist"},
	{"GET", "/quality/entries/{id}", "admin reviewer cdo specialist"},
	{"GET", "/quality/incidents", "admin reviewer cdo specialist"},
	{"GET", "/quality/one-source", "admin reviewer cdo specialist"},
	{"GET", "/quality/overdue", "admin reviewer cdo specialist"},
	{"GET", "/quality/compare", "admin reviewer cdo specialist"},
	{"POST", "/quality/entries/{id}/rules", "cdo specialist"},
	{"POST", "/quality/entries/{id}/rules/add", "cdo specialist"},
	{"POST", "/quality/incidents/{id}/acknowledge", "cdo specialist"},
	{"POST", "/quality/incidents/{id}/resolve", "cdo specialist"},
	{"POST", "/quality/one-source", "reviewer"},
	{"GET", "/catalog/{id}/data", "admin reviewer cdo specialist"},
	{"POST", "/catalog/{id}/data", "cdo specialist"},
	{"GET", "/data/batches/{id}", "admin reviewer cdo specialist"},
	{"POST", "/data/batches/{id}/cancel", "cdo specialist"},
	{"GET", "/data/batches/{id}/report", "admin reviewer cdo specialist"},
	{"POST", "/catalog/{id}/files", "cdo specialist"},
	{"GET", "/catalog/{id}/files/{version}", "admin reviewer cdo specialist"},
	{"GET", "/catalog/{id}/data/history", "admin reviewer cdo specialist"},
	{"GET", "/catalog/{id}/data/export", "admin reviewer cdo specialist"},
	{"GET", "/catalog/{id}/data/mapping", "cdo specialist"},
	{"POST", "/catalog/{id}/data/mapping", "cdo specialist"},
	{"POST", "/catalog/{id}/data/mapping/preview", "cdo specialist"},
	{"GET", "/catalog/index", "admin reviewer"},
	{"POST", "/catalog/index/rebuild", "admin reviewer"},
	// Data quality: platform roles read everywhere and body roles their own
	// body; the provider's CDO and specialist edit rules and handle incidents;
	// reviewers settle 一数一源.
	{"GET", "/api/v1/catalog/entries/{id}/quality-rules", "admin reviewer cdo specialist"},
	{"PUT", "/api/v1/catalog/entries/{id}/quality-rules", "cdo specialist"},
	{"GET", "/api/v1/catalog/entries/{id}/quality", "admin reviewer cdo specialist"},
	{"GET", "/api/v1/catalog/entries/{id}/quality/batches/{batch_id}", "admin reviewer cdo specialist"},
	{"GET", "/api/v1/quality/rule-kinds", "admin reviewer cdo specialist"},
	{"GET", "/api/v1/quality/scores", "admin reviewer cdo specialist"},
	{"GET", "/api/v1/quality/overdue", "admin reviewer cdo specialist"},
	{"GET", "/api/v1/quality/compare/pairs", "admin reviewer cdo specialist"},
	{"GET", "/api/v1/quality/compare", "admin reviewer cdo specialist"},
	{"GET", "/api/v1/quality/incidents", "admin reviewer cdo specialist"},
	{"GET", "/api/v1/quality/incidents/{id}", "admin reviewer cdo specialist"},
	{"POST", "/api/v1/quality/incidents/{id}/acknowledge", "cdo specialist"},
	{"POST", "/api/v1/quality/incidents/{id}/resolve", "cdo specialist"},
	{"GET", "/api/v1/quality/one-source", "admin reviewer cdo specialist"},
	{"PUT", "/api/v1/quality/one-source", "reviewer"},
	{"GET", "/api/v1/quality/multi-source/pairs", "admin reviewer cdo specialist"},
	// Sharing (共享): a consuming body's CDO applies and manages its
	// applications; reviewers check requests and define scenarios; the
	// providing body's CDO answers, registers services; both parties and
	// reviewers read. Admin, security officer and auditor: nothing.
	{"POST", "/api/v1/applications", "cdo"},
	{"GET", "/api/v1/applications", "reviewer cdo specialist"},
	{"GET", "/api/v1/applications/{id}", "reviewer cdo specialist"},
	{"PUT", "/api/v1/applications/{id}", "cdo"},
	{"POST", "/api/v1/applications/{id}/rotate", "cdo"},
	{"POST", "/api/v1/applications/{id}/keys/{key_id}/revoke", "cdo"},
	{"POST", "/api/v1/applications/{id}/revoke", "cdo"},
	{"POST", "/api/v1/share-requests", "cdo"},
	{"GET", "/api/v1/share-requests", "reviewer cdo specialist"},
	{"GET", "/api/v1/share-requests/{id}", "reviewer cdo specialist"},
	{"POST", "/api/v1/share-requests/{id}/approve", "reviewer cdo"},
	{"POST", "/api/v1/share-requests/{id}/ask-more", "reviewer cdo"},
	{"POST", "/api/v1/share-requests/{id}/supplement", "cdo"},
	{"POST", "/api/v1/share-requests/{id}/refuse", "reviewer cdo"},
	{"GET", "/api/v1/grants", "reviewer cdo specialist"},
	{"GET", "/api/v1/grants/{id}", "reviewer cdo specialist"},
	{"POST", "/api/v1/grants/{id}/revoke", "reviewer cdo"},
	{"GET", "/api/v1/share-scenarios", "reviewer cdo specialist"},
	{"GET", "/api/v1/share-scenarios/{id}", "reviewer cdo specialist"},
	{"POST", "/api/v1/share-scenarios", "reviewer"},
	{"PUT", "/api/v1/share-scenarios/{id}", "reviewer"},
	{"DELETE", "/api/v1/share-scenarios/{id}", "reviewer"},
	{"GET", "/api/v1/share-services", "reviewer cdo specialist"},
	{"POST", "/api/v1/share-services", "cdo"},
	{"PUT", "/api/v1/share-services/{id}", "cdo"},
	{"DELETE", "/api/v1/share-services/{id}", "cdo"},
	{"GET", "/share/apps", "reviewer cdo specialist"},
	{"POST", "/share/apps", "cdo"},
	{"POST", "/share/apps/{id}/rotate", "cdo"},
	{"POST", "/share/apps/{id}/keys/{key_id}/revoke", "cdo"},
	{"POST", "/share/apps/{id}/revoke", "cdo"},
	{"GET", "/share/apply/{entry}", "cdo"},
	{"POST", "/share/apply/{entry}", "cdo"},
	{"GET", "/share/requests", "reviewer cdo specialist"},
	{"GET", "/share/requests/{id}", "reviewer cdo specialist"},
	{"POST", "/share/requests/{id}/approve", "reviewer cdo"},
	{"POST", "/share/requests/{id}/ask-more", "reviewer cdo"},
	{"POST", "/share/requests/{id}/refuse", "reviewer cdo"},
	{"POST", "/share/requests/{id}/supplement", "cdo"},
	{"GET", "/share/review", "reviewer cdo"},
	{"GET", "/share/grants", "reviewer cdo specialist"},
	{"POST", "/share/grants/{id}/revoke", "reviewer cdo"},
	{"GET", "/share/scenarios", "reviewer cdo specialist"},
	{"POST", "/share/scenarios", "reviewer"},
	{"POST", "/share/scenarios/{id}/delete", "reviewer"},
	{"GET", "/share/services", "reviewer cdo specialist"},
	{"POST", "/share/services", "cdo"},
	{"POST", "/share/services/{id}/delete", "cdo"},
}

// TestRouteMatrix walks every route of the platform with every role and with
// no sign-in, and compares the answer with the hand-written routeRoles.
func TestRouteMatrix(t *testing.T) {
	e := newEnv(t, "sqlite:"+t.TempDir())
	clients := map[string]*http.Client{"anonymous": e.client("")}
	for _, r := range auth.Roles {
		clients[string(r.Role)] = e.client(r.Role)
	}
	expected := map[string]map[string]bool{}
	for _, x := range routeRoles {
		k := x.method + " " + x.pattern
		if expected[k] != nil {
			t.Fatalf("routeRoles lists %s twice", k)
		}
		expected[k] = map[string]bool{}
		for _, r := range strings.Fields(x.roles) {
			if _, ok := clients[r]; !ok {
				t.Fatalf("routeRoles: %s names unknown role %q", k, r)
			}
			expected[k][r] = true
		}
	}
	routes := e.s.Routes.Routes()
	seen := map[string]bool{}
	for _, rt := range routes {
		k := rt.Method + " " + rt.Pattern
		seen[k] = true
		want, ok := expected[k]
		if !ok {
			t.Errorf("route %s (permission %s) is not in the hand-written routeRoles table: add who may use it", k, rt.Perm)
			continue
		}
		path := strings.NewReplacer("{id}", "1", "{$}", "", "{code}", "x", "{version}", "1", "{number}", "1", "{entry_id}", "1", "{batch_id}", "1").Replace(rt.Pattern)
		for role, c := range clients {
			if rt.Pattern == "/logout" || (rt.Pattern == "/api/v1/session" && rt.Method == "DELETE") {
				if role == "anonymous" {
					c = e.client("")
				} else {
					c = e.client(auth.Role(role)) // a throwaway session
				}
			}
			var body io.Reader
			if rt.API && (rt.Method == "POST" || rt.Method == "PUT") {
				body = strings.NewReader("{}")
			}
			req, _ := http.NewRequest(rt.Method, e.ts.URL+path, body)
			if body != nil {
				req.Header.Set("Content-Type", "application/json")
			} else if rt.Method == "POST" {
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			}
			res, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			denied := routeDenied(rt.API, res.StatusCode, b, res.Header.Get("Location"))
			if want[role] == denied {
				t.Errorf("%s as %s: status %d; the role table says allowed=%v (route declares %s)", k, role, res.StatusCode, want[role], rt.Perm)
			}
		}
	}
	for k := range expected {
		if !seen[k] {
			t.Errorf("routeRoles lists %s, which the server does not serve", k)
		}
	}
}

// routeDenied tells a route-level refusal from any other answer.
func routeDenied(api bool, status int, body []byte, location string) bool {
	if api {
		if status != 401 && status != 403 {
			return false
		}
		var p problem
		_ = json.Unmarshal(body, &p)
		return p.Code == "forbidden" || p.Code == "unauthenticated"
	}
	switch status {
	case http.StatusSeeOther:
		return strings.HasPrefix(location, "/login?next=")
	case 401, 403:
		return bytes.Contains(body, []byte("请先登录 / sign in first")) || bytes.Contains(body, []byte("403 无权访问 / forbidden"))
	}
	return false
}

// TestHTTPBasics covers what operators and browsers rely on outside the API
// proper: health, readiness, metrics, security headers and the refusal of
// cross-site writes (CSRF).
func TestHTTPBasics(t *testing.T) {
	e := newEnv(t, "sqlite:"+t.TempDir())
	anon := e.client("")
	for path, want := range map[string]string{"/healthz": "ok", "/readyz": "ready"} {
		res := e.do(anon, "GET", path, nil)
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 200 || !strings.Contains(string(b), want) {
			t.Errorf("%s: %d %q", path, res.StatusCode, b)
		}
	}
	res := e.do(anon, "GET", "/login", nil)
	res.Body.Close()
	for h, want := range map[string]string{"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY", "Content-Security-Policy": "frame-ancestors 'none'"} {
		if !strings.Contains(res.Header.Get(h), want) {
			t.Errorf("header %s = %q", h, res.Header.Get(h))
		}
	}
	if h := res.Header.Get("Strict-Transport-Security"); h != "" {
		t.Errorf("HSTS without secure cookies (plain HTTP): %q", h)
	}
	res = e.do(anon, "GET", "/metrics", nil)
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if !strings.Contains(string(b), `xiangyun_http_requests_total{code="2xx",route="GET /login"}`) {
		t.Errorf("metrics lack the request counter:\n%.2000s", b)
	}

	// Unknown API paths answer with a problem, not a text page.
	res = e.do(anon, "GET", "/api/v1/no-such-thing", nil)
	var p problem
	decode(t, res, &p)
	if res.StatusCode != 404 || p.Code != "not_found" || p.MessageZH == "" || p.MessageEN == "" {
		t.Errorf("unknown API path: %d %+v", res.StatusCode, p)
	}

	// A signed-in administrator's browser is made to post from another site.
	admin := e.client(auth.RoleAdmin)
	for _, c := range []struct{ path, ctype, body string }{
		{"/api/v1/bodies", "application/json", `{"name":"跨站","credit_code":"91350100M000100Y43","kind":"agency","region_code":"220000"}`},
		{"/orgs/new", "application/x-www-form-urlencoded", "name=%E8%B7%A8%E7%AB%99&credit_code=91350100M000100Y43&kind=agency&region_code=220000"},
	} {
		req, _ := http.NewRequest("POST", e.ts.URL+c.path, strings.NewReader(c.body))
		req.Header.Set("Content-Type", c.ctype)
		req.Header.Set("Origin", "https://evil.example")
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		res, err := admin.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 403 || !strings.Contains(string(b), "跨站请求被拒绝") || !strings.Contains(string(b), "cross-origin request refused") {
			t.Errorf("cross-site POST %s: %d %s", c.path, res.StatusCode, b)
		}
	}
	var bodies struct{ Total int }
	decode(t, e.do(admin, "GET", "/api/v1/bodies", nil), &bodies)
	if bodies.Total != 2 {
		t.Errorf("a cross-site request changed data: %d bodies", bodies.Total)
	}
}

// TestRedirectNext proves that /login and /lang send the browser only to
// paths on this site, whatever next says.
func TestRedirectNext(t *testing.T) {
	e := newEnv(t, "sqlite:"+t.TempDir())
	anon := e.client("")
	for _, next := range []string{"/\t/evil.example", "/\n/evil.example", "//evil.example", "/\\evil.example", "https://evil.example", "javascript:alert(1)"} {
		res := e.do(anon, "GET", "/lang?l=en&next="+url.QueryEscape(next), nil)
		res.Body.Close()
		if loc := res.Header.Get("Location"); res.StatusCode != http.StatusSeeOther || loc != "/" {
			t.Errorf("/lang next=%q: %d → %q", next, res.StatusCode, loc)
		}
		form := url.Values{"username": {"u_admin"}, "password": {pw}, "next": {next}}
		req, _ := http.NewRequest("POST", e.ts.URL+"/login", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		res, err := e.client("").Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if loc := res.Header.Get("Location"); res.StatusCode != http.StatusSeeOther || loc != "/" {
			t.Errorf("/login next=%q: %d → %q", next, res.StatusCode, loc)
		}
	}
	res := e.do(anon, "GET", "/lang?l=en&next="+url.QueryEscape("/catalog?q=x"), nil)
	res.Body.Close()
	if loc := res.Header.Get("Location"); loc != "/catalog?q=x" {
		t.Errorf("/lang to a local page: %q", loc)
	}
}

// TestHSTS: with secure cookies (served over TLS) every answer tells the
// browser to use HTTPS only.
func TestHSTS(t *testing.T) {
	e := newEnvWith(t, "sqlite:"+t.TempDir(), func(c *server.Config) { c.SecureCookies = true })
	for _, path := range []string{"/login", "/api/v1/me", "/healthz", "/static/app.css"} {
		res := e.do(e.client(""), "GET", path, nil)
		res.Body.Close()
		if h := res.Header.Get("Strict-Transport-Security"); !strings.HasPrefix(h, "max-age=31536000") {
			t.Errorf("%s: Strict-Transport-Security = %q", path, h)
		}
	}
}

// auditRec is what a filter test needs of one audit record, from a list or
// an export.
type auditRec struct {
	actor, action, outcome string
	time                   time.Time
}

// TestAuditFilters proves that each filter of the audit log (actor, action,
// outcome, time) filters the API list and the CSV and XLSX exports of the
// API and the console.
func TestAuditFilters(t *testing.T) {
	for dialect, dsn := range dbtest.TestDSNs(t) {
		t.Run(string(dialect), func(t *testing.T) {
			e := newEnv(t, dsn(t))
			anon := e.client("")
			bad := func(user string) {
				res := e.do(anon, "POST", "/api/v1/session", map[string]string{"username": user, "password": "wrong-one-123"})
				res.Body.Close()
			}
			admin := e.client(auth.RoleAdmin)
			bad("u_admin")
			res := e.do(admin, "GET", "/api/v1/audit", nil) // denied
			res.Body.Close()
			// mid is a whole second, so that the exports' times (to the
			// second) fall on the same side of it as the records' own.
			mid := time.Now().Truncate(time.Second).Add(time.Second)
			time.Sleep(time.Until(mid) + 10*time.Millisecond)
			cdo := e.client(auth.RoleChiefDataOfficer)
			bad("u_cdo")
			res = e.do(cdo, "GET", "/api/v1/audit", nil)
			res.Body.Close()
			auditor := e.client(auth.RoleAuditor)

			all := e.auditList(auditor, "")
			if len(all) < 6 {
				t.Fatalf("only %d records", len(all))
			}
			midQ := url.QueryEscape(mid.Format(time.RFC3339Nano))
			cases := []struct {
				query string
				match func(auditRec) bool
			}{
				{"actor=u_cdo", func(r auditRec) bool { return r.actor == "u_cdo" }},
				{"action=session.login_failed", func(r auditRec) bool { return r.action == "session.login_failed" }},
				{"action=session.", func(r auditRec) bool { return strings.HasPrefix(r.action, "session.") }},
				{"outcome=denied", func(r auditRec) bool { return r.outcome == "denied" }},
				{"outcome=failure", func(r auditRec) bool { return r.outcome == "failure" }},
				{"from=" + midQ, func(r auditRec) bool { return !r.time.Before(mid) }},
				{"to=" + midQ, func(r auditRec) bool { return r.time.Before(mid) }},
				{"actor=u_admin&outcome=denied", func(r auditRec) bool { return r.actor == "u_admin" && r.outcome == "denied" }},
			}
			for _, c := range cases {
				want := 0
				for _, r := range all {
					if c.match(r) {
						want++
					}
				}
				if want == 0 || want == len(all) {
					t.Fatalf("%s: the test data do not exercise this filter (%d of %d)", c.query, want, len(all))
				}
				sources := map[string][]auditRec{
					"API list":        e.auditList(auditor, c.query),
					"API CSV export":  e.auditExport(auditor, "/api/v1/audit/export?format=csv&"+c.query),
					"API XLSX export": e.auditExport(auditor, "/api/v1/audit/export?format=xlsx&"+c.query),
					"console CSV":     e.auditExport(auditor, "/audit/export?format=csv&"+c.query),
					"console XLSX":    e.auditExport(auditor, "/audit/export?format=xlsx&"+c.query),
				}
				for name, got := range sources {
					// Exports of the same filter happen later and add
					// audit.export records of their own; count only the
					// records that existed when all was read.
					n := 0
					for _, r := range got {
						if !c.match(r) {
							t.Errorf("%s %s: record %+v does not match", name, c.query, r)
						}
						if r.action != "audit.export" && r.action != "audit.list" {
							n++
						}
					}
					w := 0
					for _, r := range all {
						if c.match(r) && r.action != "audit.export" && r.action != "audit.list" {
							w++
						}
					}
					if n != w {
						t.Errorf("%s %s: %d records, want %d", name, c.query, n, w)
					}
				}
			}
		})
	}
}

func (e *env) auditList(c *http.Client, query string) []auditRec {
	e.t.Helper()
	res := e.do(c, "GET", "/api/v1/audit?page_size=200&"+query, nil)
	if res.StatusCode != 200 {
		b, _ := io.ReadAll(res.Body)
		e.t.Fatalf("audit list %s: %d %s", query, res.StatusCode, b)
	}
	var l struct{ Items []audit.Entry }
	decode(e.t, res, &l)
	var out []auditRec
	for _, it := range l.Items {
		out = append(out, auditRec{it.Actor, it.Action, it.Outcome, it.Time})
	}
	return out
}

func (e *env) auditExport(c *http.Client, path string) []auditRec {
	e.t.Helper()
	res := e.do(c, "GET", path, nil)
	defer res.Body.Close()
	if res.StatusCode != 200 {
		b, _ := io.ReadAll(res.Body)
		e.t.Fatalf("%s: %d %s", path, res.StatusCode, b)
	}
	name := "x.csv"
	if strings.Contains(path, "xlsx") {
		name = "x.xlsx"
	}
	rd, err := tabular.Read(res.Body, name, tabular.Options{})
	if err != nil {
		e.t.Fatalf("%s: %v", path, err)
	}
	defer rd.Close()
	var out []auditRec
	for row, err := range rd.All() {
		if err != nil {
			e.t.Fatalf("%s: %v", path, err)
		}
		if row.Num == 1 {
			continue
		}
		tm, err := time.ParseInLocation("2006-01-02 15:04:05", row.Cell(1), time.Local)
		if err != nil {
			e.t.Fatalf("%s: time %q", path, row.Cell(1))
		}
		out = append(out, auditRec{row.Cell(2), row.Cell(3), row.Cell(5), tm})
	}
	return out
}

// TestImportsBounded: while every import slot is taken, an import through
// the API or the console is answered at once with 429, Retry-After and a
// bilingual message, before its upload is read.
func TestImportsBounded(t *testing.T) {
	e := newEnv(t, "sqlite:"+t.TempDir())
	cdo := e.client(auth.RoleChiefDataOfficer)
	var releases []func()
	for {
		rel, err := e.s.Imports.Begin(context.Background(), 0)
		if err != nil {
			break
		}
		releases = append(releases, rel)
	}
	if len(releases) == 0 {
		t.Fatal("no import slot")
	}
	upload := func(path string) (*http.Response, []byte, time.Duration) {
		var b bytes.Buffer
		mw := multipart.NewWriter(&b)
		fw, _ := mw.CreateFormFile("file", "catalog.csv")
		_, _ = fw.Write([]byte("序号,信息资源名称\n"))
		_ = mw.Close()
		req, _ := http.NewRequest("POST", e.ts.URL+path, &b)
		req.Header.Set("Content-Type", mw.FormDataContentType())
		start := time.Now()
		res, err := cdo.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		return res, body, time.Since(start)
	}
	for _, path := range []string{"/api/v1/catalog/import", "/catalog/import"} {
		res, body, took := upload(path)
		if res.StatusCode != http.StatusTooManyRequests || res.Header.Get("Retry-After") == "" || took > 5*time.Second {
			t.Errorf("%s while busy: %d, Retry-After %q, after %v", path, res.StatusCode, res.Header.Get("Retry-After"), took)
		}
		if !strings.Contains(string(body), "导入已达上限") || (strings.HasPrefix(path, "/api/") && !strings.Contains(string(body), "too many imports")) {
			t.Errorf("%s while busy: %.300s", path, body)
		}
	}
	for _, rel := range releases {
		rel()
	}
	for _, path := range []string{"/api/v1/catalog/import", "/catalog/import"} {
		if res, body, _ := upload(path); res.StatusCode == http.StatusTooManyRequests {
			t.Errorf("%s with free slots: %d %.300s", path, res.StatusCode, body)
		}
	}
}
