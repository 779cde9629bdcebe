package demo_test

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"xiangyun/internal/auth"
	"xiangyun/internal/catalog"
	"xiangyun/internal/demo"
	"xiangyun/internal/quality"
	"xiangyun/internal/server"
)

// TestDemoQuality loads the demo and checks that it shows what the quality
// pages need: scores with history, open and closed incidents, one
// acknowledged, and one or two overdue entries.
func TestDemoQuality(t *testing.T) {
	if testing.Short() {
		t.Skip("loads the whole demo")
	}
	ctx := context.Background()
	dir := t.TempDir()
	s, err := server.Open(ctx, server.Config{DB: "sqlite:" + dir, DataDir: dir, AuditKeyFile: filepath.Join(dir, "audit.key")}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	start := time.Now()
	if _, err := demo.Load(ctx, demo.Services{Orgs: s.Orgs, Auth: s.Auth, Catalog: s.Catalog, Audit: s.Audit, Quality: s.Quality, Control: s.Control}, auth.GeneratePassword()); err != nil {
		t.Fatal(err)
	}
	t.Logf("demo loaded in %v", time.Since(start))
	bodies, err := s.Quality.Scores(ctx, catalog.System, 0)
	if err != nil {
		t.Fatal(err)
	}
	measured, low := 0, 0
	for _, b := range bodies {
		measured += b.Measured
		if b.Scores != nil && b.Scores.Score < 95 {
			low++
		}
	}
	t.Logf("%d entries measured", measured)
	if measured < 60 || low == 0 {
		t.Errorf("%d entries measured, %d bodies below 95", measured, low)
	}
	open, nOpen, _ := s.Quality.Incidents(ctx, catalog.System, quality.IncidentFilter{Status: "open", Limit: 500})
	_, nClosed, _ := s.Quality.Incidents(ctx, catalog.System, quality.IncidentFilter{Status: quality.IncidentResolved})
	acked := 0
	for _, in := range open {
		if in.Status == quality.IncidentAcknowledged {
			acked++
		}
	}
	if nOpen == 0 || nClosed == 0 || acked != 1 {
		t.Errorf("incidents: %d open (%d acknowledged), %d resolved", nOpen, acked, nClosed)
	}
	over, err := s.Quality.Overdue(ctx, catalog.System, 0)
	if err != nil || len(over) < 1 || len(over) > 2 {
		t.Errorf("overdue: %v %d %+v", err, len(over), over)
	}
}
