package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// TestBenchCommand runs the subcommand itself, as the documentation shows it.
func TestBenchCommand(t *testing.T) {
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), []string{"bench", "catalog", "--db", "sqlite:" + t.TempDir(), "--entries", "50", "--bodies", "0", "--queries", "1", "--load", "200ms", "--trickle", "0"},
		nil, &stdout, &stderr)
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	if md := stdout.String(); !strings.Contains(md, "### Catalog search: SQLite") || strings.Count(md, "\n| ") < 11+10 {
		t.Errorf("report:\n%s", md)
	}
	if !strings.Contains(stderr.String(), "loading 50 entries") {
		t.Errorf("no progress on stderr:\n%s", stderr.String())
	}
	if err := run(context.Background(), []string{"bench", "nothing"}, nil, &stdout, &stderr); err == nil {
		t.Error("bench nothing: no error")
	}
}

// TestBenchIngestCommand runs `xiangyun bench ingest` on tiny files.
func TestBenchIngestCommand(t *testing.T) {
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), []string{"bench", "ingest", "--rows", "120", "--small", "40"}, nil, &stdout, &stderr)
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	md := stdout.String()
	for _, want := range []string{"| SQLite | raw | UTF-8 | 120 |", "| SQLite | ingest | GBK | 40 |", "| SQLite | export | ", "| SQLite | select | "} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q:\n%s", want, md)
		}
	}
	if err := run(context.Background(), []string{"bench", "ingest", "--rows", "0"}, nil, &stdout, &stderr); err == nil {
		t.Error("--rows 0: no error")
	}
}
