package server_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"

	"xiangyun/internal/auth"
	"xiangyun/internal/browsertest"
	"xiangyun/internal/db/dbtest"
)

// TestUploadFixPublishBrowser: a data specialist in chromium uploads a CSV
// with bad rows and on_error=reject_all, sees the batch rejected and the
// bad rows in the console, downloads the error report, uploads the fixed
// file, sees it published and the records listed.
func TestUploadFixPublishBrowser(t *testing.T) {
	for dialect, dsn := range dbtest.TestDSNs(t) {
		t.Run(string(dialect), func(t *testing.T) {
			ctx := browsertest.New(t, 180*time.Second)
			e := newEnv(t, dsn(t))
			entry := e.policeEntry()
			dir := t.TempDir()
			bad := filepath.Join(dir, "常住人口-有错.csv")
			good := filepath.Join(dir, "常住人口-更正.csv")
			if err := os.WriteFile(bad, []byte("公民身份号码,姓名\n11010519491231002X,段正淳\n110105194912310021,坏号码\n51343620000320711X,\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(good, []byte("公民身份号码,姓名\n11010519491231002X,段正淳\n51343620000320711X,赵六\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			data := fmt.Sprintf("%s/catalog/%d/data", e.ts.URL, entry)
			upload := func(path string) error {
				return chromedp.Do(ctx,
					chromedp.Navigate(data),
					browsertest.Visible("#upload-form"),
					chromedp.SetUploadFiles(chromedp.CSS("#data-file"), []string{path}),
					chromedp.SetValue(chromedp.CSS("#data-mode"), "upsert"),
					chromedp.SetValue(chromedp.CSS("#data-onerror"), "reject_all"),
					browsertest.Click("#upload-go"),
					// The batch page follows the batch until it ends.
					chromedp.Query(chromedp.CSS(`#batch-progress:not([hx-get])`), chromedp.NodeVisible),
				)
			}
			err := chromedp.Do(ctx,
				chromedp.Navigate(e.ts.URL+"/login"),
				browsertest.Type("#username", "u_specialist"), browsertest.Type("#password", pw), browsertest.Click("button[type=submit]"),
				browsertest.Visible("main.main"), // the signed-in layout, not the login page
			)
			if err != nil {
				t.Fatal(err)
			}
			if err := upload(bad); err != nil {
				t.Fatalf("bad upload: %v", err)
			}
			status, err := browsertest.Text(ctx, "#batch-progress .badge")
			if err != nil || !strings.Contains(status, "已拒绝") {
				t.Fatalf("status %q %v", status, err)
			}
			counts, _ := browsertest.Text(ctx, "#batch-counts")
			report, err := browsertest.Text(ctx, "#batch-errors table")
			if err != nil || !strings.Contains(report, "110105194912310021") || !strings.Contains(report, "姓名") || !strings.Contains(counts, "3") {
				t.Fatalf("error rows: %q %q %v", counts, report, err)
			}
			// Download the report (CSV) as the browser does.
			downloads := t.TempDir()
			progress := chromedp.Events(ctx, browser.DownloadProgress)
			err = chromedp.Do(ctx,
				chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
					_, err := chromedp.Call(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
						Behavior: browser.SetDownloadBehaviorBehaviorAllowAndName, DownloadPath: downloads, EventsEnabled: ptr(true)})
					return err
				}),
				browsertest.Click("#report-csv"),
			)
			if err != nil {
				t.Fatal(err)
			}
			var file string
			for ev, err := range progress {
				if err != nil {
					t.Fatal(err)
				}
				if ev.State == browser.DownloadProgressStateCompleted {
					file = filepath.Join(downloads, ev.GUID)
					break
				}
				if ev.State == browser.DownloadProgressStateCanceled {
					t.Fatal("download cancelled")
				}
			}
			b, err := os.ReadFile(file)
			if err != nil || !strings.Contains(string(b), "110105194912310021") || strings.Count(string(b), "\n") != 3 {
				t.Fatalf("report file: %q %v", b, err)
			}
			// Nothing was published.
			var recs0 struct{ Total int }
			decode(t, e.do(e.client(auth.RoleDataSpecialist), "GET", "/api/v1/catalog/entries/"+strconv.FormatInt(entry, 10)+"/records", nil), &recs0)
			if recs0.Total != 0 {
				t.Fatalf("records after the rejected batch: %d", recs0.Total)
			}

			if err := upload(good); err != nil {
				t.Fatalf("fixed upload: %v", err)
			}
			if status, err = browsertest.Text(ctx, "#batch-progress .badge"); err != nil || !strings.Contains(status, "已发布") {
				t.Fatalf("fixed status %q %v", status, err)
			}
			if err := chromedp.Do(ctx, chromedp.Navigate(data), browsertest.Visible("#records table")); err != nil {
				t.Fatal(err)
			}
			recs, err := browsertest.Text(ctx, "#records table tbody")
			if err != nil || !strings.Contains(recs, "段正淳") || !strings.Contains(recs, "赵六") {
				t.Fatalf("records: %q %v", recs, err)
			}
			n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('#records tbody tr').length`))
			if err != nil || n != 2 {
				t.Fatalf("record rows: %d %v", n, err)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }
