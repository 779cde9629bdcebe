package demo_test

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"xiangyun/internal/demo"
	"xiangyun/internal/ident"
	"xiangyun/internal/server"
	"xiangyun/internal/share"
)

// TestDemoShare: the demo's market application holds a grant on the police
// identity entry with 姓名 and 公民身份号码; pending and refused requests, a
// scenario and a service exist; a second run gives a fresh working key.
func TestDemoShare(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := server.Open(ctx, server.Config{DB: "sqlite:" + dir, DataDir: dir, AuditKeyFile: filepath.Join(dir, "audit.key")}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ds := demo.Services{Orgs: s.Orgs, Auth: s.Auth, Catalog: s.Catalog, Audit: s.Audit, Ingest: s.Ingest}
	if _, err := demo.Load(ctx, ds, "Demo-password-2026"); err != nil {
		t.Fatal(err)
	}
	d, err := demo.LoadShare(ctx, ds, s.Share)
	if err != nil {
		t.Fatal(err)
	}
	if ident.IDCard(d.RecordID) != nil || d.KeyID == "" || d.Secret == "" {
		t.Fatalf("demo %+v", d)
	}
	curl := d.Curl("http://127.0.0.1:8080")
	if !strings.Contains(curl, "%E5%85%AC%E6%B0%91%E8%BA%AB%E4%BB%BD%E5%8F%B7%E7%A0%81="+d.RecordID) || !strings.Contains(curl, "X-Client-Id: "+d.KeyID) {
		t.Fatalf("curl: %s", curl)
	}
	snap, err := s.Share.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	c := snap.Credentials[d.KeyID]
	if c == nil || c.SecretHash != share.SecretHash(d.Secret) {
		t.Fatalf("credential %+v", c)
	}
	g := snap.Grants[share.GrantKey{AppID: c.AppID, EntryID: d.EntryID}]
	if g == nil || strings.Join(g.Items, ",") != "公民身份号码,姓名" {
		t.Fatalf("grant %+v", g)
	}
	if snap.Services[d.EntryID] == nil {
		t.Fatal("no provider service")
	}
	rs, _, err := s.Share.Requests(ctx, share.System, share.RequestFilter{View: share.ViewAll})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, r := range rs {
		seen[r.Status]++
	}
	if seen["granted"] < 1 || seen["pending"] < 1 || seen["refused"] < 1 {
		t.Fatalf("request statuses %v", seen)
	}
	if scs, _ := s.Share.Scenarios(ctx); len(scs) < 1 {
		t.Fatal("no scenario")
	}
	// A second run: a new key, the first still live in its overlap.
	d2, err := demo.LoadShare(ctx, ds, s.Share)
	if err != nil {
		t.Fatal(err)
	}
	snap, _ = s.Share.Snapshot(ctx)
	if d2.KeyID == d.KeyID || snap.Credentials[d2.KeyID] == nil || snap.Credentials[d.KeyID] == nil || d2.EntryID != d.EntryID {
		t.Fatalf("second run %+v", d2)
	}
}
