package main

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"xiangyun/internal/audit"
	"xiangyun/internal/server"
)

// TestAuditVerifyCommand tampers with the stored log the way an intruder with
// database access would, and checks that `xiangyun audit verify` names the
// first record that was changed, removed or reordered.
func TestAuditVerifyCommand(t *testing.T) {
	cases := []struct {
		name    string
		tamper  string
		wantSeq int
	}{
		{"intact", "", -1},
		{"changed", "UPDATE audit_records SET actor = 'nobody' WHERE seq = 5", 5},
		{"removed", "DELETE FROM audit_records WHERE seq = 7", 7},
		{"reordered", `UPDATE audit_records SET seq = CASE seq WHEN 3 THEN -4 WHEN 4 THEN -3 END WHERE seq IN (3, 4);
		               UPDATE audit_records SET seq = -seq WHERE seq < 0`, 3},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ctx := context.Background()
			dir := t.TempDir()
			s, err := server.Open(ctx, server.Config{DB: "sqlite:" + dir}, slog.New(slog.NewTextHandler(io.Discard, nil)))
			if err != nil {
				t.Fatal(err)
			}
			for i := 0; i < 12; i++ {
				if _, err := s.Audit.Append(ctx, audit.Entry{Action: "test.write", Actor: fmt.Sprintf("user%d", i), Object: fmt.Sprintf("thing:%d", i)}); err != nil {
					t.Fatal(err)
				}
			}
			s.Close()
			if c.tamper != "" {
				raw, err := sql.Open("sqlite", filepath.Join(dir, "audit.db"))
				if err != nil {
					t.Fatal(err)
				}
				for _, stmt := range strings.Split(c.tamper, ";") {
					if _, err := raw.Exec(stmt); err != nil {
						t.Fatalf("tamper: %v", err)
					}
				}
				raw.Close()
			}
			var out bytes.Buffer
			err = run(ctx, []string{"audit", "verify", "--db", "sqlite:" + dir}, nil, &out, io.Discard)
			if c.wantSeq < 0 {
				if err != nil || !strings.Contains(out.String(), "OK") {
					t.Fatalf("intact log: %v\n%s", err, out.String())
				}
				return
			}
			if err == nil {
				t.Fatalf("tampering (%s) not detected:\n%s", c.name, out.String())
			}
			if want := fmt.Sprintf("first problem at record %d", c.wantSeq); !strings.Contains(out.String(), want) {
				t.Fatalf("want %q, got:\n%s", want, out.String())
			}
		})
	}
}
