package server_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"time"

	"github.com/chromedp/chromedp"

	"encoding/base64"
	"encoding/hex"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"xiangyun/internal/browsertest"

	"xiangyun/internal/auth"
	"xiangyun/internal/blob/blobtest"
	"xiangyun/internal/catalog"
	"xiangyun/internal/db/dbtest"
	"xiangyun/internal/server"
)

// fileEntry publishes an entry of the env's department shared as 文件.
func (e *env) fileEntry() int64 {
	e.t.Helper()
	in := catalog.EntryInput{ProviderID: e.dept.ID, Content: catalog.Content{
		Name: "吉林省公安机关年度统计公报", Class: "1/01/001", Abstract: "全省公安机关按年度发布的统计公报。",
		FormatClass: "document", FormatType: "pdf", Items: []catalog.Item{{Name: "公报正文", EnName: "zw", DataType: "C", Length: 200}},
		ShareType: catalog.ShareUnconditional, ShareMethod: catalog.MethodFile, ShareChannel: "platform",
		OpenType: catalog.OpenUnconditional, Cycle: "yearly", Grade: "L1",
	}}
	es, err := e.s.Catalog.CreatePublished(e.t.Context(), catalog.System, []catalog.EntryInput{in}, "")
	if err != nil {
		e.t.Fatal(err)
	}
	return es[0].ID
}

// uploadFile posts a multipart form: the file, then the note when given.
func (e *env) uploadFile(c *http.Client, path, name string, content []byte, note string, header map[string]string) *http.Response {
	e.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, _ := mw.CreatePart(textproto.MIMEHeader{
		"Content-Disposition": {mime.FormatMediaType("form-data", map[string]string{"name": "file", "filename": name})},
		"Content-Type":        {"application/pdf"}, // what the client claims: not believed
	})
	_, _ = fw.Write(content)
	if note != "" {
		_ = mw.WriteField("note", note)
	}
	_ = mw.Close()
	req, _ := http.NewRequest("POST", e.ts.URL+path, &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := c.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	return res
}

func hexSum(b []byte) string { h := sha256.Sum256(b); return hex.EncodeToString(h[:]) }

// TestFilesAPI: file resources over HTTP on both databases, with the
// content in the local blob directory and, when a weed binary is at hand,
// in a real S3 server.
func TestFilesAPI(t *testing.T) {
	stores := map[string]func(t *testing.T, cfg *server.Config){
		"local": func(t *testing.T, cfg *server.Config) {},
		"s3": func(t *testing.T, cfg *server.Config) {
			w := blobtest.Start(t, blobtest.Options{AccessKey: "xiangyun-api", SecretKey: "xiangyun-api-secret-0123456789"})
			cfg.BlobS3.Endpoint, cfg.BlobS3.Bucket, cfg.BlobS3.AccessKey, cfg.BlobS3.SecretKey, cfg.BlobS3.Create =
				w.Endpoint, "xiangyun", w.AccessKey, w.SecretKey, true
		},
	}
	for dialect, dsn := range dbtest.TestDSNs(t) {
		for store, configure := range stores {
			t.Run(string(dialect)+"/"+store, func(t *testing.T) {
				e := newEnvWith(t, dsn(t), func(cfg *server.Config) {
					configure(t, cfg)
					cfg.MaxFileBytes = 256 << 10
				})
				testFilesAPI(t, e, store)
			})
		}
	}
}

func testFilesAPI(t *testing.T, e *env, store string) {
	entry := e.fileEntry()
	base := "/api/v1/catalog/entries/" + strconv.FormatInt(entry, 10) + "/files"
	spec, cdo, reviewer, auditor := e.client(auth.RoleDataSpecialist), e.client(auth.RoleChiefDataOfficer), e.client(auth.RoleReviewer), e.client(auth.RoleAuditor)
	report := []byte("2025年全省公安机关统计公报\n一、总体情况……\n")

	res := e.uploadFile(spec, base, `..\..\2025年统计公报.pdf`, report, "首次发布", nil)
	var v map[string]any
	decode(t, res, &v)
	if res.StatusCode != 201 || v["version"] != 1.0 || v["name"] != "2025年统计公报.pdf" || v["sha256"] != hexSum(report) ||
		v["size"] != float64(len(report)) || v["media_type"] != "text/plain; charset=utf-8" || v["note"] != "首次发布" || v["user"] == "" {
		t.Fatalf("upload: %d %v", res.StatusCode, v)
	}
	// The same bytes again: 409, nothing added.
	res = e.uploadFile(cdo, base, "again.pdf", report, "", nil)
	var p problem
	decode(t, res, &p)
	if res.StatusCode != 409 || p.Code != "ingest.file_duplicate" || p.MessageZH == "" || p.MessageEN == "" {
		t.Fatalf("duplicate: %d %+v", res.StatusCode, p)
	}
	// Over the limit: 413 with both languages, nothing written.
	res = e.uploadFile(spec, base, "big.bin", bytes.Repeat([]byte{0xAB}, 300<<10), "", nil)
	decode(t, res, &p)
	if res.StatusCode != 413 || p.Code != "ingest.file_too_large" || !strings.Contains(p.MessageZH, "未保存任何内容") || !strings.Contains(p.MessageEN, "nothing was saved") {
		t.Fatalf("oversize: %d %+v", res.StatusCode, p)
	}
	// Not the provider's: refused.
	if res := e.uploadFile(reviewer, base, "x.txt", []byte("x"), "", nil); res.StatusCode != 403 {
		t.Fatalf("reviewer uploads: %d", res.StatusCode)
	}
	// A hostile name.
	res = e.uploadFile(spec, base, "evil\x1b[2J.txt", []byte("y"), "", nil)
	decode(t, res, &p)
	if res.StatusCode != 422 || p.Code != "ingest.file_name" {
		t.Fatalf("control characters in a name: %d %+v", res.StatusCode, p)
	}

	var list struct {
		Items []map[string]any
		Total int
	}
	decode(t, e.do(reviewer, "GET", base, nil), &list)
	if list.Total != 1 || list.Items[0]["version"] != 1.0 {
		t.Fatalf("list: %+v", list)
	}
	if res := e.do(auditor, "GET", base, nil); res.StatusCode != 403 {
		t.Fatalf("auditor lists files: %d", res.StatusCode)
	}

	// Download: content, type, name, checksums.
	res = e.do(reviewer, "GET", base+"/1", nil)
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	sum := sha256.Sum256(report)
	if res.StatusCode != 200 || !bytes.Equal(body, report) {
		t.Fatalf("download: %d %q", res.StatusCode, body)
	}
	h := res.Header
	if h.Get("Content-Type") != "text/plain; charset=utf-8" || h.Get("ETag") != `"`+hexSum(report)+`"` ||
		h.Get("Repr-Digest") != "sha-256=:"+base64.StdEncoding.EncodeToString(sum[:])+":" ||
		h.Get("Digest") != "sha-256="+base64.StdEncoding.EncodeToString(sum[:]) || h.Get("Content-Length") != strconv.Itoa(len(report)) {
		t.Fatalf("download headers: %v", h)
	}
	_, params, err := mime.ParseMediaType(h.Get("Content-Disposition"))
	if err != nil || params["filename"] != "2025年统计公报.pdf" || !strings.Contains(h.Get("Content-Disposition"), "filename*=utf-8''2025%E5%B9%B4") ||
		!strings.HasPrefix(h.Get("Content-Disposition"), "attachment") {
		t.Fatalf("Content-Disposition %q: %v %v", h.Get("Content-Disposition"), params, err)
	}
	if res := e.do(reviewer, "GET", base+"/7", nil); res.StatusCode != 404 {
		t.Fatalf("missing version: %d", res.StatusCode)
	}

	// A second version through the console, as the upload script sends it.
	v2 := []byte("2025年全省公安机关统计公报（更正）\n")
	console := "/catalog/" + strconv.FormatInt(entry, 10)
	res = e.uploadFile(cdo, console+"/files", "公报更正.txt", v2, "更正", map[string]string{"X-Upload-Progress": "1", "Origin": e.ts.URL})
	res.Body.Close()
	if res.StatusCode != http.StatusCreated || !strings.HasPrefix(res.Header.Get("X-Location"), console+"/data") {
		t.Fatalf("console upload: %d %s", res.StatusCode, res.Header.Get("X-Location"))
	}
	// A refused one answers the form with the reason in place.
	res = e.uploadFile(cdo, console+"/files", "公报更正.txt", v2, "", map[string]string{"X-Upload-Progress": "1", "Origin": e.ts.URL})
	body, _ = io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 409 || !bytes.Contains(body, []byte(`id="file-form"`)) || !bytes.Contains(body, []byte("当前版本 2")) || bytes.Contains(body, []byte("<html")) {
		t.Fatalf("console duplicate: %d %s", res.StatusCode, body)
	}
	res = e.do(reviewer, "GET", console+"/data", nil)
	body, _ = io.ReadAll(res.Body)
	res.Body.Close()
	for _, want := range []string{`id="files"`, hexSum(report), hexSum(v2), "公报更正.txt", console + "/files/2", "更正"} {
		if !bytes.Contains(body, []byte(want)) {
			t.Fatalf("data page lacks %q", want)
		}
	}
	if bytes.Contains(body, []byte(`id="file-form"`)) {
		t.Fatal("the reviewer is offered the upload form")
	}
	res = e.do(reviewer, "GET", console+"/files/2", nil)
	body, _ = io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !bytes.Equal(body, v2) || res.Header.Get("ETag") != `"`+hexSum(v2)+`"` {
		t.Fatalf("console download: %d %v", res.StatusCode, res.Header)
	}

	// Every download is in the audit log as a data access, refusals too.
	if res := e.do(e.client(auth.RoleAuditor), "GET", base+"/1", nil); res.StatusCode != 403 {
		t.Fatalf("auditor downloads: %d", res.StatusCode)
	}
	outcomes := map[string]int{}
	for _, r := range e.auditList(auditor, "action=data.file.download") {
		if r.action == "data.file.download" {
			if r.actor != "u_reviewer" {
				t.Fatalf("download record %+v", r)
			}
			outcomes[r.outcome]++
		}
	}
	// The two downloads, and the try of a version that does not exist.
	if outcomes["success"] != 2 || outcomes["failure"] != 1 {
		t.Fatalf("downloads audited: %v", outcomes)
	}
	if store == "local" {
		// The content is in DATA/blobs, by its SHA-256; nothing is left in tmp.
		k := hexSum(report)
		if _, err := os.Stat(filepath.Join(e.s.Config.BlobDir, k[:2], k)); err != nil {
			t.Fatal(err)
		}
		if tmp, _ := os.ReadDir(filepath.Join(e.s.Config.BlobDir, "tmp")); len(tmp) != 0 {
			t.Fatalf("temporary files left: %v", tmp)
		}
	}
}

// TestFilesConsole drives the 文件 section in chromium: an upload through
// the progress script lands as version 1; the same file again is refused
// in place, in the form, without leaving the page.
func TestFilesConsole(t *testing.T) {
	ctx := browsertest.New(t, 60*time.Second)
	e := newEnv(t, "sqlite:"+t.TempDir())
	entry := e.fileEntry()
	file := filepath.Join(t.TempDir(), "2025年统计公报.txt")
	content := bytes.Repeat([]byte("2025年全省公安机关统计公报。"), 40000) // about 1.5 MiB: the upload takes a few progress events
	if err := os.WriteFile(file, content, 0o644); err != nil {
		t.Fatal(err)
	}
	page := fmt.Sprintf("%s/catalog/%d/data", e.ts.URL, entry)
	steps := []chromedp.Action[chromedp.Void]{
		chromedp.Navigate(e.ts.URL + "/login"),
		browsertest.Type("#username", "u_specialist"), browsertest.Type("#password", pw), browsertest.Click("button[type=submit]"),
		browsertest.Visible("#home-stats"),
		chromedp.Navigate(page),
		browsertest.Visible("#file-form"),
		chromedp.SetUploadFiles(chromedp.CSS("#file-file"), []string{file}),
		browsertest.Type("#file-note", "首次发布"),
		browsertest.Click("#file-go"),
		browsertest.Visible("#file-versions a.file-download"),
	}
	for i, step := range steps {
		sctx, cancel := context.WithTimeout(ctx, 15*time.Second)
		err := chromedp.Do(sctx, step)
		cancel()
		if err != nil {
			if png, perr := chromedp.Run(ctx, chromedp.FullScreenshot(100)); perr == nil && os.Getenv("XIANGYUN_SCREENSHOTS") != "" {
				_ = os.WriteFile(filepath.Join(os.Getenv("XIANGYUN_SCREENSHOTS"), "data_files_failed.png"), png, 0o644)
			}
			t.Fatalf("step %d: %v", i, err)
		}
	}
	if flash, err := browsertest.Text(ctx, ".alert-success"); err != nil || !strings.Contains(flash, "已上传第 1 版") {
		t.Fatalf("no message after the upload: %q %v", flash, err)
	}
	row, err := browsertest.Text(ctx, "#file-versions tbody tr")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"v1", "2025年统计公报.txt", hexSum(content), "首次发布", "text/plain"} {
		if !strings.Contains(row, want) {
			t.Fatalf("version row %q lacks %q", row, want)
		}
	}
	// A workbook with a long name (the longest media type) still fits a
	// 1024 px screen: the table does not scroll sideways.
	book := filepath.Join(t.TempDir(), strings.Repeat("长春市政务服务事项目录清单", 4)+".xlsx")
	if err := os.WriteFile(book, []byte("PK\x03\x04 a workbook's first bytes"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx,
		chromedp.EmulateViewport(1024, 768),
		chromedp.SetUploadFiles(chromedp.CSS("#file-file"), []string{book}),
		browsertest.Type("#file-note", "事项调整后的清单，共十项，另附说明"),
		browsertest.Click("#file-go"),
		browsertest.Visible(`#file-versions a[href$="/files/2"]`),
	); err != nil {
		t.Fatal(err)
	}
	wide, err := chromedp.Run(ctx, chromedp.Evaluate[[]int](`(() => { const t = document.querySelector('#file-versions'); return [t.scrollWidth, t.parentElement.clientWidth, document.documentElement.scrollWidth, document.documentElement.clientWidth]; })()`))
	if err != nil {
		t.Fatal(err)
	}
	if wide[0] > wide[1]+1 || wide[2] > wide[3]+1 {
		t.Errorf("at 1024 px the versions table is %d px in %d px (page %d in %d)", wide[0], wide[1], wide[2], wide[3])
	}
	if dir := os.Getenv("XIANGYUN_SCREENSHOTS"); dir != "" {
		if png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)); err == nil {
			_ = os.WriteFile(filepath.Join(dir, "data_files.png"), png, 0o644)
		}
	}
	// The current file again: the script swaps the refused form in place.
	err = chromedp.Do(ctx,
		chromedp.SetUploadFiles(chromedp.CSS("#file-file"), []string{book}),
		browsertest.Click("#file-go"),
		browsertest.Visible("#file-error"),
	)
	if err != nil {
		t.Fatal(err)
	}
	msg, err := browsertest.Text(ctx, "#file-error")
	if err != nil {
		t.Fatal(err)
	}
	bar, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`!!document.querySelector('#file-versions') && location.pathname.endsWith('/data')`))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(msg, "当前版本 2") || !bar {
		t.Fatalf("refusal %q (still on the page: %v)", msg, bar)
	}
	if vs, err := e.s.Ingest.Files(t.Context(), nil, entry); err == nil || len(vs) != 0 {
		// nil principal: refused; the count is checked through the API below.
		t.Fatalf("files without a principal: %v %v", vs, err)
	}
	var list struct{ Total int }
	decode(t, e.do(e.client(auth.RoleReviewer), "GET", fmt.Sprintf("/api/v1/catalog/entries/%d/files", entry), nil), &list)
	if list.Total != 2 {
		t.Fatalf("%d versions after a refused duplicate", list.Total)
	}
}
