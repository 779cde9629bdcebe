package server_test

import (
	"bytes"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"xiangyun/internal/api"
	"xiangyun/internal/auth"
	"xiangyun/internal/catalog"
	"xiangyun/internal/db/dbtest"
)

func (e *env) policeEntry() int64 {
	e.t.Helper()
	in := catalog.EntryInput{ProviderID: e.dept.ID, Content: catalog.Content{
		Name: "吉林省常住人口基本信息", Class: "1/01/001", Abstract: "全省户籍人口的姓名、公民身份号码等基本信息。",
		FormatClass: "database", FormatType: "oracle",
		Items: []catalog.Item{
			{Name: "公民身份号码", EnName: "gmsfhm", DataType: "C", Length: 18, Key: true, Sensitive: true, Mask: "id_card"},
			{Name: "姓名", EnName: "xm", DataType: "C", Length: 50, Required: true, Sensitive: true, Mask: "name"},
		},
		ShareType: catalog.ShareConditional, ShareCondition: "仅用于政务服务身份核验", ShareMethod: catalog.MethodTable, ShareChannel: "platform",
		OpenType: catalog.OpenNone, OpenCondition: "涉及个人信息，不予开放", Cycle: "daily", Grade: "L3",
	}}
	es, err := e.s.Catalog.CreatePublished(e.t.Context(), catalog.System, []catalog.EntryInput{in}, "")
	if err != nil {
		e.t.Fatal(err)
	}
	return es[0].ID
}

func (e *env) upload(c *http.Client, entry int64, name string, content []byte, fields map[string]string) *http.Response {
	e.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range fields {
		_ = mw.WriteField(k, v)
	}
	fw, _ := mw.CreateFormFile("file", name)
	_, _ = fw.Write(content)
	_ = mw.Close()
	req, _ := http.NewRequest("POST", e.ts.URL+"/api/v1/catalog/entries/"+strconv.FormatInt(entry, 10)+"/batches", &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	res, err := c.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	return res
}

// TestRecordsAPI covers the fixed points of aggregation: upload, batch
// status, errors, records, and push.
func TestRecordsAPI(t *testing.T) {
	for dialect, dsn := range dbtest.TestDSNs(t) {
		t.Run(string(dialect), func(t *testing.T) {
			e := newEnv(t, dsn(t))
			entry := e.policeEntry()
			spec := e.client(auth.RoleDataSpecialist)
			csv := "公民身份号码,姓名\n11010519491231002X,段正淳\n110105194912310021,坏号码\n\"370101190102039973\",\"李\n四\"\n"
			res := e.upload(spec, entry, "人口.csv", []byte(csv), map[string]string{"mode": "append", "on_error": "publish_valid"})
			var b map[string]any
			decode(t, res, &b)
			if res.StatusCode != 201 && res.StatusCode != 202 {
				t.Fatalf("upload: %d %v", res.StatusCode, b)
			}
			id := int64(b["id"].(float64))
			for i := 0; b["status"] == "running" && i < 100; i++ {
				time.Sleep(100 * time.Millisecond)
				decode(t, e.do(spec, "GET", "/api/v1/batches/"+strconv.FormatInt(id, 10), nil), &b)
			}
			if b["status"] != "published" || b["rows"] != 3.0 || b["accepted"] != 2.0 || b["rejected"] != 1.0 {
				t.Fatalf("batch: %v", b)
			}
			var errsOut struct {
				Items []map[string]any
				Total int
			}
			decode(t, e.do(spec, "GET", "/api/v1/batches/"+strconv.FormatInt(id, 10)+"/errors?page=1&page_size=10", nil), &errsOut)
			if errsOut.Total != 1 || errsOut.Items[0]["row"] != 3.0 || errsOut.Items[0]["column"] != "公民身份号码" || errsOut.Items[0]["value"] != "110105194912310021" ||
				errsOut.Items[0]["rule"] == "" || errsOut.Items[0]["message_zh"] == "" || errsOut.Items[0]["message_en"] == "" {
				t.Fatalf("errors: %+v", errsOut)
			}
			res = e.do(spec, "GET", "/api/v1/batches/"+strconv.FormatInt(id, 10)+"/report?format=csv", nil)
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != 200 || !bytes.Contains(body, []byte("110105194912310021")) {
				t.Fatalf("report: %d %s", res.StatusCode, body)
			}
			var recs struct {
				Items []map[string]any
				Total int
			}
			path := "/api/v1/catalog/entries/" + strconv.FormatInt(entry, 10) + "/records"
			decode(t, e.do(spec, "GET", path+"?page=1&page_size=10", nil), &recs)
			if recs.Total != 2 || recs.Items[0]["姓名"] != "段正淳" || recs.Items[1]["姓名"] != "李\n四" || recs.Items[0]["_batch"] != float64(id) ||
				recs.Items[0]["_version"] != 1.0 || recs.Items[0]["_disputed"] != false {
				t.Fatalf("records: %+v", recs)
			}
			decode(t, e.do(e.client(auth.RoleReviewer), "GET", path+"?公民身份号码=11010519491231002X", nil), &recs)
			if recs.Total != 1 || recs.Items[0]["姓名"] != "段**" || recs.Items[0]["公民身份号码"] != "1***************2X" {
				t.Fatalf("masked records: %+v", recs)
			}
			if res := e.do(e.client(auth.RoleAuditor), "GET", path, nil); res.StatusCode != 403 {
				t.Fatalf("auditor reads records: %d", res.StatusCode)
			}
			// The streamed export, masked like the records list, and the
			// history of one record; both are audited as data accesses.
			res = e.do(e.client(auth.RoleReviewer), "GET", path+"/export?format=csv", nil)
			body, _ = io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != 200 || !strings.Contains(res.Header.Get("Content-Disposition"), "attachment") ||
				!bytes.Contains(body, []byte("段**")) || bytes.Contains(body, []byte("段正淳")) || bytes.Count(body, []byte("\n")) != 3 {
				t.Fatalf("export: %d %q", res.StatusCode, body)
			}
			if res := e.do(e.client(auth.RoleAuditor), "GET", path+"/export", nil); res.StatusCode != 403 {
				t.Fatalf("auditor exports records: %d", res.StatusCode)
			}
			var hist struct {
				Items []struct {
					ID       int64
					Versions []map[string]any
				}
			}
			decode(t, e.do(spec, "GET", path+"/history?公民身份号码=11010519491231002X", nil), &hist)
			if len(hist.Items) != 1 || len(hist.Items[0].Versions) != 1 || hist.Items[0].Versions[0]["batch"] != float64(id) ||
				hist.Items[0].Versions[0]["values"].(map[string]any)["姓名"] != "段正淳" {
				t.Fatalf("history: %+v", hist)
			}
			decode(t, e.do(e.client(auth.RoleReviewer), "GET", path+"/history?_id="+strconv.FormatInt(hist.Items[0].ID, 10), nil), &hist)
			if len(hist.Items) != 1 || hist.Items[0].Versions[0]["values"].(map[string]any)["姓名"] != "段**" {
				t.Fatalf("masked history: %+v", hist)
			}
			if res := e.do(spec, "GET", path+"/history?_id=x", nil); res.StatusCode != 422 && res.StatusCode != 400 {
				t.Fatalf("bad _id: %d", res.StatusCode)
			}
			var exported, historyRead bool
			for _, r := range e.auditList(e.client(auth.RoleAuditor), "") {
				exported = exported || r.action == "data.export"
				historyRead = historyRead || r.action == "data.history"
			}
			if !exported || !historyRead {
				t.Fatalf("data accesses not audited: export %v history %v", exported, historyRead)
			}
			// Push with an idempotency key; a retry answers the same.
			push := func(key string) (int, map[string]any) {
				req, _ := http.NewRequest("POST", e.ts.URL+path, strings.NewReader(`{"公民身份号码": "51343620000320711X", "姓名": "赵六"}`+"\n"))
				req.Header.Set("Content-Type", "application/x-ndjson")
				req.Header.Set("Idempotency-Key", key)
				res, err := spec.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				var out map[string]any
				decode(t, res, &out)
				return res.StatusCode, out
			}
			st, out := push("p-1")
			if st != 201 || out["results"].([]any)[0].(map[string]any)["accepted"] != true {
				t.Fatalf("push: %d %v", st, out)
			}
			if st, again := push("p-1"); st != 200 || again["replayed"] != true {
				t.Fatalf("replayed push: %d %v", st, again)
			}
			// An oversize file is refused before anything is written.
			old := api.MaxUploadBytes
			api.MaxUploadBytes = 1 << 10
			defer func() { api.MaxUploadBytes = old }()
			res = e.upload(spec, entry, "big.csv", bytes.Repeat([]byte("11010519491231002X,张三\n"), 200), nil)
			var p problem
			decode(t, res, &p)
			if res.StatusCode != 413 || p.MessageZH == "" {
				t.Fatalf("oversize: %d %+v", res.StatusCode, p)
			}
			var list struct{ Total int }
			decode(t, e.do(spec, "GET", "/api/v1/catalog/entries/"+strconv.FormatInt(entry, 10)+"/batches", nil), &list)
			if list.Total != 2 {
				t.Fatalf("batches after oversize: %d", list.Total)
			}
		})
	}
}

// TestRecordsConsole: upload from the entry's 数据 page, follow the batch
// page, download the error report, and read the records masked as the
// platform.
func TestRecordsConsole(t *testing.T) {
	e := newEnv(t, "sqlite:"+t.TempDir())
	entry := e.policeEntry()
	spec := e.client(auth.RoleDataSpecialist)
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	_ = mw.WriteField("mode", "upsert")
	fw, _ := mw.CreateFormFile("file", "人口.csv")
	_, _ = fw.Write([]byte("公民身份号码,姓名,备注\n11010519491231002X,段正淳,无\n110105194912310021,坏号码,\n"))
	_ = mw.Close()
	req, _ := http.NewRequest("POST", e.ts.URL+"/catalog/"+strconv.FormatInt(entry, 10)+"/data", &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	res, err := spec.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	loc := res.Header.Get("Location")
	if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/data/batches/") {
		t.Fatalf("upload: %d %q", res.StatusCode, loc)
	}
	var page string
	for i := 0; i < 50; i++ {
		res := e.do(spec, "GET", loc, nil)
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if page = string(b); !strings.Contains(page, "hx-trigger") {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !strings.Contains(page, "已发布") || !strings.Contains(page, "110105194912310021") || !strings.Contains(page, "report?format=xlsx") {
		t.Fatalf("batch page: %s", page)
	}
	res = e.do(spec, "GET", loc+"/report?format=xlsx", nil)
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !bytes.HasPrefix(b, []byte("PK")) {
		t.Fatalf("xlsx report: %d", res.StatusCode)
	}
	res = e.do(e.client(auth.RoleReviewer), "GET", "/catalog/"+strconv.FormatInt(entry, 10)+"/data", nil)
	b, _ = io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !strings.Contains(string(b), "段**") || strings.Contains(string(b), "段正淳") || strings.Contains(string(b), "upload-form") {
		t.Fatalf("reviewer's data page: %d", res.StatusCode)
	}
	if res := e.do(e.client(auth.RoleAuditor), "GET", "/catalog/"+strconv.FormatInt(entry, 10)+"/data", nil); res.StatusCode != 403 {
		t.Fatalf("auditor's data page: %d", res.StatusCode)
	}
	// The unmatched column is a warning on the batch page.
	if !strings.Contains(page, `id="batch-unmatched"`) || !strings.Contains(page, "备注") {
		t.Fatalf("unmatched column not shown: %s", page)
	}
	ep := "/catalog/" + strconv.FormatInt(entry, 10) + "/data"
	get := func(c *http.Client, path string) (int, string) {
		res := e.do(c, "GET", path, nil)
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		return res.StatusCode, string(b)
	}
	// Mapping editor: the last upload's header, 备注 unmatched.
	st, body := get(spec, ep+"/mapping")
	if st != 200 || !strings.Contains(body, `data-header="备注"`) || !strings.Contains(body, "未对应") {
		t.Fatalf("mapping page: %d %s", st, body)
	}
	// A header-only preview of another file: 名字 maps to nothing, so 姓名 is missing.
	buf.Reset()
	mw = multipart.NewWriter(&buf)
	fw, _ = mw.CreateFormFile("file", "其他.csv")
	_, _ = fw.Write([]byte("公民身份号码,名字\n51343620000320711X,赵六\n"))
	_ = mw.Close()
	req, _ = http.NewRequest("POST", e.ts.URL+ep+"/mapping/preview", &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	res, err = spec.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !strings.Contains(string(b), `data-header="名字"`) || !strings.Contains(string(b), `id="mapping-missing"`) {
		t.Fatalf("preview: %d %s", res.StatusCode, b)
	}
	// Save 名字 → 姓名; the next upload with that header loads 姓名.
	form := url.Values{"h": {"公民身份号码", "名字"}, "item": {"公民身份号码", "姓名"}}
	req, _ = http.NewRequest("POST", e.ts.URL+ep+"/mapping", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res, err = spec.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("save mapping: %d", res.StatusCode)
	}
	if m, _ := e.s.Ingest.Mapping(t.Context(), entry); m["名字"] != "姓名" {
		t.Fatalf("saved mapping: %v", m)
	}
	// Two columns onto one item are refused with a message.
	form = url.Values{"h": {"姓名", "名字"}, "item": {"姓名", "姓名"}}
	req, _ = http.NewRequest("POST", e.ts.URL+ep+"/mapping", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res, _ = spec.Do(req)
	b, _ = io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 422 || !strings.Contains(string(b), "mapping-error") {
		t.Fatalf("duplicate mapping: %d", res.StatusCode)
	}
	// History from the records page, masked for the platform.
	st, body = get(e.client(auth.RoleReviewer), ep)
	i := strings.Index(body, ep+"/history?record=")
	if st != 200 || i < 0 {
		t.Fatalf("no history link: %s", body)
	}
	link := body[i : i+strings.IndexByte(body[i:], '"')]
	st, body = get(e.client(auth.RoleReviewer), link)
	if st != 200 || !strings.Contains(body, "段**") || strings.Contains(body, "段正淳") || !strings.Contains(body, "history-record") {
		t.Fatalf("history page: %d %s", st, body)
	}
	// The base libraries group the entry under 人口 with its record count.
	st, body = get(e.client(auth.RoleReviewer), "/catalog/base")
	if st != 200 || !strings.Contains(body, `id="baselib-01"`) || !strings.Contains(body, `id="baselib-06"`) ||
		!strings.Contains(body, `href="`+ep+`" class="record-count">1<`) {
		t.Fatalf("base libraries: %d %s", st, body)
	}
	// The export, masked for the platform.
	st, body = get(e.client(auth.RoleReviewer), ep+"/export?format=csv")
	if st != 200 || !strings.Contains(body, "段**") || strings.Contains(body, "段正淳") {
		t.Fatalf("export: %d %q", st, body)
	}
}
