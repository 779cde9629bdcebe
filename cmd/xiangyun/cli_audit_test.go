package main

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"xiangyun/internal/audit"
	"xiangyun/internal/org"
	"xiangyun/internal/server"
)

// TestCLIChangeCommitsItsIntent: a change made by a command writes its
// audit intent in the change's own transaction, so that a crash right after
// the commit still leaves the record to the drainer; delivered, it is in
// the log once.
func TestCLIChangeCommitsItsIntent(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := server.Open(ctx, server.Config{DB: "sqlite:" + dir}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	pending := func() int {
		msgs, err := s.Control.Outbox(ctx, "audit", time.Time{}, 100)
		if err != nil {
			t.Fatal(err)
		}
		return len(msgs)
	}
	e := audit.Entry{Action: "org.region.create", Actor: "system", Detail: map[string]string{"via": "cli"}}
	err = auditedChange(ctx, s, e, func(ctx context.Context) (string, error) {
		if _, err := s.Orgs.CreateRegion(ctx, org.Region{Code: "220000", Name: "吉林省"}); err != nil {
			return "", err
		}
		// Committed: the intent is already in the outbox, before delivery.
		if n := pending(); n != 1 {
			t.Errorf("%d intents in the outbox after the commit, want 1", n)
		}
		return "user:1", nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n := pending(); n != 0 {
		t.Fatalf("%d intents left after delivery", n)
	}
	if n, err := s.Audit.Drain(ctx, time.Time{}); err != nil || n != 0 {
		t.Fatalf("drain after delivery: %d %v", n, err)
	}
	recs, total, err := s.Audit.List(ctx, audit.Filter{Action: "org.region.create"})
	if err != nil || total != 1 || recs[0].Object != "user:1" {
		t.Fatalf("records: %+v %d %v", recs, total, err)
	}
}
