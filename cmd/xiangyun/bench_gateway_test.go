package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// TestBenchGatewayCommand runs `xiangyun bench gateway` tiny, as the documentation shows it.
func TestBenchGatewayCommand(t *testing.T) {
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), []string{"bench", "gateway", "--db", "sqlite:" + t.TempDir(), "--rows", "100", "--duration", "1s", "--concurrency", "2"},
		nil, &stdout, &stderr)
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	md := stdout.String()
	for _, want := range []string{"### Gateway, SQLite", "| direct |", "| proxy |", "| service |", "| query |", "| lookup |", "audit records = gateway calls"} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q:\n%s", want, md)
		}
	}
	if strings.Contains(md, "not run") {
		t.Errorf("a path did not run:\n%s", md)
	}
	if !strings.Contains(stderr.String(), "loaded 100 records") {
		t.Errorf("no progress on stderr:\n%s", stderr.String())
	}
	if err := run(context.Background(), []string{"bench", "gateway", "--rows", "0"}, nil, &stdout, &stderr); err == nil {
		t.Error("--rows 0: no error")
	}
}
