package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"testing"
	"time"

	"xiangyun/internal/auth"
	"xiangyun/internal/catalog"
	"xiangyun/internal/db/dbtest"
	"xiangyun/internal/ident"
	"xiangyun/internal/ingest"
	"xiangyun/internal/server"
)

func crashID(n int) string {
	first := fmt.Sprintf("220102%04d0101%03d", 1950+n/1000%70, n%1000)
	c, err := ident.IDCardCheckChar(first)
	if err != nil {
		panic(err)
	}
	return first + string(c)
}

// TestCrashMidUpload runs the real program, starts a large replacing upload,
// kills the program with SIGKILL while the rows are being staged, restarts
// it, and checks that the published records are exactly as they were and
// the batch is marked failed.
func TestCrashMidUpload(t *testing.T) {
	const rows = 300000
	ctx := context.Background()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	for dialect, dsnf := range dbtest.TestDSNs(t) {
		t.Run(string(dialect), func(t *testing.T) {
			dir := t.TempDir()
			cfg := server.Config{DB: dsnf(t), DataDir: dir}
			s, err := server.Open(ctx, cfg, quiet)
			if err != nil {
				t.Fatal(err)
			}
			body, token, p := crashFixture(t, s, "police_spec", auth.RoleDataSpecialist)
			es, err := s.Catalog.CreatePublished(ctx, catalog.System, []catalog.EntryInput{{ProviderID: body.ID, Content: catalog.Content{
				Name: "吉林省居民身份核验信息", Class: "1/01/001", Abstract: "全省常住人口的公民身份号码和姓名。", FormatClass: "database", FormatType: "oracle",
				Items:     []catalog.Item{{Name: "公民身份号码", DataType: "C", Length: 18, Key: true}, {Name: "姓名", DataType: "C", Length: 50, Required: true}},
				ShareType: catalog.ShareConditional, ShareCondition: "仅用于身份核验", ShareMethod: catalog.MethodAPI, ShareChannel: "platform",
				OpenType: catalog.OpenNone, OpenCondition: "涉及个人信息", Cycle: "daily", Grade: "L3"}}}, "")
			if err != nil {
				t.Fatal(err)
			}
			entry := es[0].ID
			var first bytes.Buffer
			first.WriteString("公民身份号码,姓名\n")
			for i := range 5 {
				fmt.Fprintf(&first, "%s,原有%d\n", crashID(i), i)
			}
			up, err := ingest.Spool(t.TempDir(), "first.csv", &first, 1<<20)
			if err != nil {
				t.Fatal(err)
			}
			b, err := s.Ingest.Start(ctx, p, entry, up)
			if err != nil {
				t.Fatal(err)
			}
			s.Ingest.Wait(ctx, b.ID, time.Minute)
			before, err := s.Ingest.Records(ctx, p, entry, nil, 100, 0)
			if err != nil || before.Total != 5 {
				t.Fatalf("first batch: %+v %v", before, err)
			}
			s.Close()

			base, kill9 := startProgram(t, cfg.DB, dir)
			var file bytes.Buffer
			mw := multipart.NewWriter(&file)
			_ = mw.WriteField("mode", "replace")
			fw, _ := mw.CreateFormFile("file", "all.csv")
			_, _ = io.WriteString(fw, "公民身份号码,姓名\n")
			for i := range rows {
				fmt.Fprintf(fw, "%s,新%d\n", crashID(i), i)
			}
			_ = mw.Close()
			client := &http.Client{Timeout: time.Minute}
			req, _ := http.NewRequest("POST", fmt.Sprintf("%s/api/v1/catalog/entries/%d/batches", base, entry), &file)
			req.Header.Set("Authorization", "Bearer "+token)
			req.Header.Set("Content-Type", mw.FormDataContentType())
			res, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			var batch struct {
				ID     int64
				Status string
				Rows   int
			}
			_ = json.NewDecoder(res.Body).Decode(&batch)
			res.Body.Close()
			if res.StatusCode != 202 || batch.Status != "running" {
				t.Fatalf("upload: %d %+v (the file was processed too fast to crash in the middle)", res.StatusCode, batch)
			}
			for batch.Rows == 0 {
				req, _ := http.NewRequest("GET", fmt.Sprintf("%s/api/v1/batches/%d", base, batch.ID), nil)
				req.Header.Set("Authorization", "Bearer "+token)
				res, err := client.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				_ = json.NewDecoder(res.Body).Decode(&batch)
				res.Body.Close()
				if batch.Status != "running" || batch.Rows > rows/2 {
					t.Fatalf("batch ran too fast to crash in the middle: %+v", batch)
				}
			}
			kill9()

			s, err = server.Open(ctx, cfg, quiet)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			got, err := s.Ingest.Batch(ctx, p, batch.ID)
			if err != nil || got.Status != ingest.StatusFailed {
				t.Fatalf("after restart: %+v %v", got, err)
			}
			after, err := s.Ingest.Records(ctx, p, entry, nil, 100, 0)
			if err != nil || fmt.Sprint(after.Items) != fmt.Sprint(before.Items) {
				t.Fatalf("records changed by a crashed batch: %v %v", after.Items, err)
			}
			t.Logf("killed after %d of %d rows were read; records intact, batch %d failed", batch.Rows, rows, batch.ID)
		})
	}
}
