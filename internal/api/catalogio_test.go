package api

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"
	"github.com/xuri/excelize/v2"

	"xiangyun/internal/audit"
	"xiangyun/internal/auth"
	"xiangyun/internal/catalog"
	"xiangyun/internal/catalogio"
	"xiangyun/internal/db/dbtest"
	"xiangyun/internal/httpx"
	"xiangyun/internal/org"
)

// ioServer is the API on one backend with the police's chief data officer,
// who signs in with a token.
type ioServer struct {
	srv   *httptest.Server
	token string
	audit *audit.Log
}

func newIOServer(t *testing.T, dsn string) *ioServer {
	t.Helper()
	ctx := context.Background()
	store := dbtest.Open(t, dsn, "control")
	adb := dbtest.Open(t, dsn, "audit")
	key, err := audit.NewKey("xiangyun-test")
	if err != nil {
		t.Fatal(err)
	}
	alog, err := audit.Open(ctx, adb, key)
	if err != nil {
		t.Fatal(err)
	}
	alog.Watch(store)
	orgs, err := org.Open(ctx, store)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := orgs.CreateRegion(ctx, org.Region{Code: "220000", Name: "吉林省"}); err != nil {
		t.Fatal(err)
	}
	police, err := orgs.CreateBody(ctx, org.BodyInput{Name: "吉林省公安厅", CreditCode: "91350100M000100Y43", Kind: org.KindAgency, RegionCode: "220000"})
	if err != nil {
		t.Fatal(err)
	}
	au, err := auth.Open(ctx, store, orgs, auth.DefaultPolicy)
	if err != nil {
		t.Fatal(err)
	}
	u, err := au.CreateUser(ctx, auth.UserInput{Username: "police_cdo", DisplayName: "张三", BodyID: police.ID, Password: "Test-password-2026"})
	if err != nil {
		t.Fatal(err)
	}
	if err := au.GrantRole(ctx, 0, u.ID, auth.RoleChiefDataOfficer, police.ID); err != nil {
		t.Fatal(err)
	}
	token, _, err := au.CreateToken(ctx, u.ID, "import", 0)
	if err != nil {
		t.Fatal(err)
	}
	cat, err := catalog.Open(ctx, store, orgs, catalog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cat.Close() })
	authn := &httpx.Authenticator{Auth: au, Audit: alog}
	table := &httpx.Table{}
	mux := http.NewServeMux()
	a := New(mux, Deps{Orgs: orgs, Auth: au, Audit: alog, Catalog: cat, Authn: authn, Table: table})
	if !slices.ContainsFunc(table.Routes(), func(r httpx.Route) bool {
		return r.Pattern == "/api/v1/catalog/import" && r.Perm == auth.PermCatalogEdit
	}) {
		t.Fatal("import route not in the route table")
	}
	if op := a.h.OpenAPI().Paths["/api/v1/catalog/import"].Post; op.RequestBody == nil || op.RequestBody.Content["multipart/form-data"] == nil {
		t.Fatal("the import's multipart body is not documented")
	}
	srv := httptest.NewServer(authn.Middleware(mux))
	t.Cleanup(srv.Close)
	return &ioServer{srv: srv, token: token, audit: alog}
}

func (s *ioServer) do(t *testing.T, method, path, ctype string, body io.Reader, token bool) *http.Response {
	t.Helper()
	req, err := http.NewRequest(method, s.srv.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if token {
		req.Header.Set("Authorization", "Bearer "+s.token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { res.Body.Close() })
	return res
}

// upload posts data as the multipart field file.
func (s *ioServer) upload(t *testing.T, query, name string, data []byte) *http.Response {
	t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	_ = mw.WriteField("note", "ignored")
	fw, _ := mw.CreateFormFile("file", name)
	_, _ = fw.Write(data)
	mw.Close()
	return s.do(t, http.MethodPost, "/api/v1/catalog/import"+query, mw.FormDataContentType(), &b, true)
}

const importCSV = "\ufeff信息资源名称,信息资源分类,信息资源摘要,信息资源格式分类,信息资源格式类型,共享类型,共享条件,共享方式类型,开放属性,开放条件,更新周期,数据分级,信息项\n" +
	"户籍人口基本信息,1/01/001,全省户籍人口基本信息。,数据库,Oracle,有条件共享,仅用于身份核验,接口,不予开放,涉及个人信息,每日,L3,公民身份号码:C:18:key:sensitive:mask=id_card; 姓名:C:50\n"

func TestCatalogIOAPI(t *testing.T) {
	for dialect, dsn := range dbtest.TestDSNs(t) {
		t.Run(string(dialect), func(t *testing.T) {
			s := newIOServer(t, dsn(t))

			// Template.
			res := s.do(t, http.MethodGet, "/api/v1/catalog/template?lang=en", "", nil, true)
			body, _ := io.ReadAll(res.Body)
			if res.StatusCode != 200 || res.Header.Get("Content-Type") != catalogio.ContentType("xlsx") ||
				!strings.Contains(res.Header.Get("Content-Disposition"), "attachment") {
				t.Fatalf("template: %d %v", res.StatusCode, res.Header)
			}
			f, err := excelize.OpenReader(bytes.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			if rows, _ := f.GetRows("目录"); len(rows) != 1 || rows[0][1] != "Name" {
				t.Fatalf("template rows %v", rows)
			}
			f.Close()
			if res := s.do(t, http.MethodGet, "/api/v1/catalog/template", "", nil, false); res.StatusCode != http.StatusUnauthorized {
				t.Fatalf("anonymous template: %d", res.StatusCode)
			}

			// Dry run, then the import.
			var rep catalogio.Report
			res = s.upload(t, "?dry_run=true", "目录.csv", []byte(importCSV))
			if err := json.NewDecoder(res.Body).Decode(&rep); err != nil || res.StatusCode != 200 || rep.Created != 0 || !rep.DryRun || rep.Rows != 1 {
				t.Fatalf("dry run: %d %+v %v", res.StatusCode, rep, err)
			}
			res = s.upload(t, "", "目录.csv", []byte(importCSV))
			rep = catalogio.Report{}
			if err := json.NewDecoder(res.Body).Decode(&rep); err != nil || res.StatusCode != 200 || rep.Created != 1 || len(rep.Entries) != 1 {
				t.Fatalf("import: %d %+v %v", res.StatusCode, rep, err)
			}
			// The same file again: 422 with the report.
			res = s.upload(t, "", "目录.csv", []byte(importCSV))
			rep = catalogio.Report{}
			if err := json.NewDecoder(res.Body).Decode(&rep); err != nil || res.StatusCode != 422 || rep.Created != 0 ||
				len(rep.Errors) != 1 || rep.Errors[0].Code != "catalogio.name_exists" || rep.Errors[0].Row != 2 || rep.Errors[0].Column != "信息资源名称 (A)" {
				t.Fatalf("second import: %d %+v %v", res.StatusCode, rep, err)
			}

			// Files that cannot be read, and requests without a file.
			var pr Problem
			res = s.upload(t, "", "目录.xls", []byte{0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1})
			if err := json.NewDecoder(res.Body).Decode(&pr); err != nil || res.StatusCode != 422 || pr.Code != "tabular.format" || pr.MessageZH == "" {
				t.Fatalf("xls: %d %+v %v", res.StatusCode, pr, err)
			}
			res = s.do(t, http.MethodPost, "/api/v1/catalog/import", "text/csv", strings.NewReader(importCSV), true)
			if err := json.NewDecoder(res.Body).Decode(&pr); err != nil || res.StatusCode != 422 || pr.Code != "upload.not_multipart" {
				t.Fatalf("not multipart: %d %+v %v", res.StatusCode, pr, err)
			}
			var b bytes.Buffer
			mw := multipart.NewWriter(&b)
			_ = mw.WriteField("file", "not a file")
			mw.Close()
			res = s.do(t, http.MethodPost, "/api/v1/catalog/import", mw.FormDataContentType(), &b, true)
			if err := json.NewDecoder(res.Body).Decode(&pr); err != nil || res.StatusCode != 422 || pr.Code != "upload.no_file" {
				t.Fatalf("no file: %d %+v %v", res.StatusCode, pr, err)
			}
			if res := s.upload(t, "", "a.csv", nil); res.StatusCode != 422 {
				t.Fatalf("empty file: %d", res.StatusCode)
			}
			res = s.do(t, http.MethodPost, "/api/v1/catalog/import", "multipart/form-data; boundary=x", strings.NewReader("--x--"), false)
			if res.StatusCode != http.StatusUnauthorized {
				t.Fatalf("anonymous import: %d", res.StatusCode)
			}

			// Export, with the search's filters.
			res = s.do(t, http.MethodGet, "/api/v1/catalog/export?format=csv&share_type=conditional&format=database", "", nil, true)
			body, _ = io.ReadAll(res.Body)
			if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/csv") || !bytes.HasPrefix(body, []byte("\ufeff序号,")) ||
				!strings.Contains(string(body), "户籍人口基本信息") {
				t.Fatalf("CSV export: %d %v %q", res.StatusCode, res.Header, body)
			}
			res = s.do(t, http.MethodGet, "/api/v1/catalog/export?format=csv&share_type=none", "", nil, true)
			if body, _ = io.ReadAll(res.Body); strings.Contains(string(body), "户籍人口基本信息") {
				t.Fatalf("filter ignored: %q", body)
			}
			res = s.do(t, http.MethodGet, "/api/v1/catalog/export", "", nil, true)
			body, _ = io.ReadAll(res.Body)
			if f, err := excelize.OpenReader(bytes.NewReader(body)); err != nil || res.StatusCode != 200 {
				t.Fatalf("XLSX export: %d %v", res.StatusCode, err)
			} else if rows, _ := f.GetRows("信息项"); len(rows) != 3 {
				t.Fatalf("exported items %v", rows)
			}
			res = s.do(t, http.MethodGet, "/api/v1/catalog/export?format=pdf", "", nil, true)
			if err := json.NewDecoder(res.Body).Decode(&pr); err != nil || res.StatusCode != 422 || pr.Code != "catalogio.format" {
				t.Fatalf("pdf: %d %+v %v", res.StatusCode, pr, err)
			}
			res = s.do(t, http.MethodGet, "/api/v1/catalog/export?sort=colour", "", nil, true)
			if err := json.NewDecoder(res.Body).Decode(&pr); err != nil || res.StatusCode != 422 || pr.Code != "catalog.unknown_sort" ||
				res.Header.Get("Content-Disposition") != "" {
				t.Fatalf("bad sort: %d %+v %v", res.StatusCode, pr, err)
			}

			// Imports and exports are audited.
			es, _, err := s.audit.List(context.Background(), audit.Filter{Action: "catalog.", Limit: 50})
			if err != nil {
				t.Fatal(err)
			}
			var imports, exports int
			for _, e := range es {
				switch e.Action {
				case "catalog.import":
					imports++
				case "catalog.export":
					exports++
				}
			}
			if imports < 3 || exports < 4 {
				t.Fatalf("audit: %d imports, %d exports in %+v", imports, exports, es)
			}
		})
	}
}

// The import report must not take a schema name another package uses
// (audit.Report is "Report"): huma panics on duplicate names.
func TestCatalogIOSchemaNames(t *testing.T) {
	a := &API{Deps: Deps{Table: &httpx.Table{}, Authn: &httpx.Authenticator{}}, h: humago.New(http.NewServeMux(), huma.DefaultConfig("t", "0"))}
	type Report struct{ Size int }
	type RowError struct{ Row string }
	op(a, http.MethodGet, "/x", "x.read", auth.PermPublic, "x", func(context.Context, *struct{}) (*struct{ Body Report }, error) { return nil, nil })
	op(a, http.MethodGet, "/y", "y.read", auth.PermPublic, "y", func(context.Context, *struct{}) (*struct{ Body []RowError }, error) { return nil, nil })
	defer func() {
		if r := recover(); r != nil {
			t.Fatalf("registering the catalog I/O routes: %v", r)
		}
	}()
	a.catalogIORoutes()
}
