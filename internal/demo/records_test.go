package demo_test

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"strconv"
	"testing"

	"xiangyun/internal/auth"
	"xiangyun/internal/catalog"
	"xiangyun/internal/demo"
	"xiangyun/internal/ident"
	"xiangyun/internal/ingest"
	"xiangyun/internal/server"
)

// TestDemoRecords: the demo's police population entry (published, shared
// on conditions, with 姓名 and 公民身份号码) holds records with valid ID
// numbers, and a batch with rejected rows.
func TestDemoRecords(t *testing.T) {
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
	u, err := s.Auth.UserByName(ctx, "police_spec")
	if err != nil {
		t.Fatal(err)
	}
	p := &auth.Principal{User: u}
	res, err := s.Catalog.Search(ctx, catalog.System, catalog.SearchQuery{Filters: map[string][]string{"provider": {strconv.FormatInt(u.BodyID, 10)}}, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, e := range res.Items {
		if e.Provider != "吉林省公安厅" {
			continue
		}
		pg, err := s.Ingest.Records(ctx, p, e.ID, nil, 200, 0)
		if err != nil || pg.Total == 0 {
			continue
		}
		found = true
		if e.ShareType != catalog.ShareConditional || pg.Total < 300 {
			t.Fatalf("entry %s: share %s, %d records", e.Name, e.ShareType, pg.Total)
		}
		for _, r := range pg.Items {
			id, _ := r["公民身份号码"].(string)
			if ident.IDCard(id) != nil || r["姓名"] == "" {
				t.Fatalf("record %v", r)
			}
		}
		bs, _, err := s.Ingest.Batches(ctx, p, e.ID, 10, 0)
		if err != nil || len(bs) != 2 || bs[0].Rejected == 0 || bs[0].Status != ingest.StatusPublished || bs[1].Rejected != 0 {
			t.Fatalf("batches: %+v %v", bs, err)
		}
	}
	if !found {
		t.Fatal("no police entry with records")
	}
	// Each of the six base libraries (§21) holds an entry with records.
	for _, lib := range catalog.BaseCatalogs {
		res, err := s.Catalog.Search(ctx, catalog.System, catalog.SearchQuery{Filters: map[string][]string{"class": {"1/" + lib.Code}}, Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		var ids []int64
		for _, e := range res.Items {
			ids = append(ids, e.ID)
		}
		counts, err := s.Ingest.RecordCounts(ctx, ids)
		if err != nil {
			t.Fatal(err)
		}
		most := int64(0)
		for _, n := range counts {
			most = max(most, n)
		}
		if most < 30 {
			t.Errorf("base library %s: no entry with records (%v)", lib.ZH, counts)
		}
	}
}
