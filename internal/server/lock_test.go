package server_test

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"

	"xiangyun/internal/server"
)

// A second server on a data directory in use is refused with a plain
// message, and the directory is free again once the first one closes.
func TestDataDirectoryInUse(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	first, err := server.Open(ctx, server.Config{DB: "sqlite:" + dir}, quiet)
	if err != nil {
		t.Fatal(err)
	}
	_, err = server.Open(ctx, server.Config{DB: "sqlite:" + dir}, quiet)
	if err == nil || !strings.Contains(err.Error(), "is in use by another xiangyun process") {
		t.Fatalf("second server on the same directory: %v", err)
	}
	first.Close()
	again, err := server.Open(ctx, server.Config{DB: "sqlite:" + dir}, quiet)
	if err != nil {
		t.Fatalf("reopen after close: %v", err)
	}
	again.Close()
}
