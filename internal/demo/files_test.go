package demo_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"xiangyun/internal/auth"
	"xiangyun/internal/catalog"
	"xiangyun/internal/demo"
	"xiangyun/internal/server"
)

// TestDemoFiles: the demo's file entries are published as 文件 and carry
// real attachments: a report in two versions and a readable XLSX workbook,
// each matching its recorded SHA-256.
func TestDemoFiles(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := server.Open(ctx, server.Config{DB: "sqlite:" + dir, DataDir: dir, AuditKeyFile: filepath.Join(dir, "audit.key")}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := demo.Load(ctx, demo.Services{Orgs: s.Orgs, Auth: s.Auth, Catalog: s.Catalog, Audit: s.Audit, Ingest: s.Ingest}, "Demo-password-2026"); err != nil {
		t.Fatal(err)
	}
	u, err := s.Auth.UserByName(ctx, "reviewer")
	if err != nil {
		t.Fatal(err)
	}
	p := &auth.Principal{User: u}
	for i, name := range demo.FileEntries {
		res, err := s.Catalog.Search(ctx, catalog.System, catalog.SearchQuery{Q: name, Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		var e *catalog.Entry
		for k := range res.Items {
			if res.Items[k].Name == name {
				e = &res.Items[k]
			}
		}
		if e == nil || e.ShareMethod != catalog.MethodFile || e.Status != catalog.StatusPublished {
			t.Fatalf("file entry %s: %+v", name, e)
		}
		vs, err := s.Ingest.Files(ctx, p, e.ID)
		if err != nil {
			t.Fatal(err)
		}
		if want := []int{2, 1}[i]; len(vs) != want {
			t.Fatalf("%s: %d versions, want %d", name, len(vs), want)
		}
		for _, v := range vs {
			_, rc, err := s.Ingest.OpenFile(ctx, p, e.ID, v.Version)
			if err != nil {
				t.Fatal(err)
			}
			b, err := io.ReadAll(rc)
			rc.Close()
			if err != nil {
				t.Fatal(err)
			}
			h := sha256.Sum256(b)
			if hex.EncodeToString(h[:]) != v.SHA256 || int64(len(b)) != v.Size || v.User == "" || v.Note == "" {
				t.Fatalf("%s v%d: %+v", name, v.Version, v)
			}
			switch {
			case strings.HasSuffix(v.Name, ".txt"):
				if v.MediaType != "text/plain; charset=utf-8" || !bytes.Contains(b, []byte("市场主体")) {
					t.Fatalf("report v%d: %s", v.Version, v.MediaType)
				}
			case strings.HasSuffix(v.Name, ".xlsx"):
				if v.MediaType != "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" {
					t.Fatalf("workbook type %s", v.MediaType)
				}
				f, err := excelize.OpenReader(bytes.NewReader(b))
				if err != nil {
					t.Fatal(err)
				}
				rows, err := f.GetRows(f.GetSheetName(0))
				f.Close()
				if err != nil || len(rows) != 11 || rows[0][0] != "事项编码" || rows[1][1] != "食品经营许可" {
					t.Fatalf("workbook rows %v %v", rows, err)
				}
			default:
				t.Fatalf("unexpected file %s", v.Name)
			}
		}
	}
}
