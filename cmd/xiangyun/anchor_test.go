package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"xiangyun/internal/audit"
	"xiangyun/internal/auth"
	"xiangyun/internal/db"
	"xiangyun/internal/db/dbtest"
	"xiangyun/internal/httpx"
	"xiangyun/internal/org"
	"xiangyun/internal/server"
)

// TestAuditAnchor tampers with the audit log the way its own operators
// could — wipe it, roll it back to an older signed checkpoint, re-sign it
// with a new key, lose the key — and checks that `audit verify` reports it
// and the server refuses to start; and that `audit verify --checkpoint`
// proves the log consistent with a checkpoint an auditor saved, and refuses
// a forked one.
func TestAuditAnchor(t *testing.T) {
	ctx := context.Background()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	for dialect, dsnf := range dbtest.TestDSNs(t) {
		t.Run(string(dialect), func(t *testing.T) {
			// setup makes a log of 32 records with a checkpoint at 20 that
			// an auditor saved, anchored at shutdown.
			setup := func(t *testing.T) (cfg server.Config, flags []string, saved string, store *db.DB) {
				dir := t.TempDir()
				cfg = server.Config{DB: dsnf(t), DataDir: dir}
				flags = []string{"--db", cfg.DB, "--data", dir}
				s, err := server.Open(ctx, cfg, quiet)
				if err != nil {
					t.Fatal(err)
				}
				appendN := func(n int) {
					for i := 0; i < n; i++ {
						if _, err := s.Audit.Append(ctx, audit.Entry{Action: "test.write", Actor: "ops", Object: fmt.Sprintf("thing:%d", i)}); err != nil {
							t.Fatal(err)
						}
					}
				}
				appendN(20)
				if err := s.Audit.Checkpoint(ctx); err != nil {
					t.Fatal(err)
				}
				var out bytes.Buffer
				if err := run(ctx, append([]string{"audit", "checkpoint"}, flags...), nil, &out, io.Discard); err != nil {
					t.Fatal(err)
				}
				if !strings.HasPrefix(out.String(), "xiangyun-audit\n20\n") {
					t.Fatalf("audit checkpoint printed:\n%s", out.String())
				}
				saved = filepath.Join(t.TempDir(), "saved-checkpoint")
				if err := os.WriteFile(saved, out.Bytes(), 0o600); err != nil {
					t.Fatal(err)
				}
				appendN(12)
				s.Close()
				store = dbtest.Open(t, cfg.DB, "audit")
				return cfg, flags, saved, store
			}
			exec := func(t *testing.T, store *db.DB, q string, args ...any) {
				t.Helper()
				if _, err := store.Writer().ExecContext(ctx, q, args...); err != nil {
					t.Fatalf("%s: %v", q, err)
				}
			}
			verify := func(t *testing.T, flags []string, extra ...string) (string, error) {
				var out bytes.Buffer
				err := run(ctx, append(append([]string{"audit", "verify"}, flags...), extra...), nil, &out, io.Discard)
				return out.String(), err
			}
			mustFail := func(t *testing.T, cfg server.Config, flags []string, want string) {
				t.Helper()
				out, err := verify(t, flags)
				if err == nil || !strings.Contains(out+err.Error(), want) {
					t.Errorf("audit verify: want failure with %q, got %v\n%s", want, err, out)
				}
				s, err := server.Open(ctx, cfg, quiet)
				if err == nil {
					s.Close()
					t.Fatal("the server started on a tampered audit log")
				}
				if !strings.Contains(err.Error(), want) {
					t.Errorf("start: want %q in %v", want, err)
				}
			}

			t.Run("intact", func(t *testing.T) {
				cfg, flags, saved, _ := setup(t)
				out, err := verify(t, flags, "--checkpoint", saved)
				if err != nil || !strings.Contains(out, "anchor OK: consistent with the checkpoint at size 32") ||
					!strings.Contains(out, "the log extends the checkpoint at size 20") {
					t.Fatalf("intact log: %v\n%s", err, out)
				}
				s, err := server.Open(ctx, cfg, quiet)
				if err != nil {
					t.Fatal(err)
				}
				s.Close()
			})
			t.Run("wiped", func(t *testing.T) {
				cfg, flags, _, store := setup(t)
				for _, tbl := range []string{"audit_records", "audit_hashes", "audit_checkpoints", "audit_head"} {
					exec(t, store, "DELETE FROM "+tbl)
				}
				mustFail(t, cfg, flags, "covers 32")
			})
			t.Run("rolled back", func(t *testing.T) {
				cfg, flags, _, store := setup(t)
				exec(t, store, "DELETE FROM audit_records WHERE seq >= 20")
				exec(t, store, "DELETE FROM audit_hashes WHERE id >= $1", tlog.StoredHashCount(20))
				exec(t, store, "UPDATE audit_head SET size = c.size, root = c.root, note = c.note FROM audit_checkpoints c WHERE c.size = 20")
				exec(t, store, "DELETE FROM audit_checkpoints WHERE size > 20")
				mustFail(t, cfg, flags, "holds 20 records but a checkpoint signed earlier covers 32")
			})
			t.Run("re-signed with a new key", func(t *testing.T) {
				cfg, flags, _, store := setup(t)
				keyFile := filepath.Join(cfg.DataDir, "audit.key")
				if err := os.Remove(keyFile); err != nil {
					t.Fatal(err)
				}
				key, err := audit.LoadOrCreateKey(keyFile, server.AuditKeyName)
				if err != nil {
					t.Fatal(err)
				}
				// A head signed by the new key, over the same records.
				exec(t, store, "DELETE FROM audit_checkpoints")
				var size int64
				var root string
				if err := store.R.QueryRowContext(ctx, "SELECT size, root FROM audit_head").Scan(&size, &root); err != nil {
					t.Fatal(err)
				}
				var h tlog.Hash
				fmt.Sscanf(root, "%x", &h)
				msg, err := note.Sign(&note.Note{Text: fmt.Sprintf("xiangyun-audit\n%d\n%s\n", size, base64.StdEncoding.EncodeToString(h[:]))}, key.Signer)
				if err != nil {
					t.Fatal(err)
				}
				exec(t, store, "UPDATE audit_head SET note = $1", string(msg))
				mustFail(t, cfg, flags, "not by the audit key")
			})
			t.Run("key missing", func(t *testing.T) {
				cfg, flags, _, _ := setup(t)
				keyFile := filepath.Join(cfg.DataDir, "audit.key")
				if err := os.Remove(keyFile); err != nil {
					t.Fatal(err)
				}
				mustFail(t, cfg, flags, "missing")
				if _, err := os.Stat(keyFile); err == nil {
					t.Fatal("a new key was created for an existing log")
				}
			})
			t.Run("forked checkpoint", func(t *testing.T) {
				cfg, flags, _, _ := setup(t)
				key, err := audit.LoadKey(filepath.Join(cfg.DataDir, "audit.key"), server.AuditKeyName)
				if err != nil {
					t.Fatal(err)
				}
				other := tlog.RecordHash([]byte("another history"))
				msg, err := note.Sign(&note.Note{Text: "xiangyun-audit\n20\n" + base64.StdEncoding.EncodeToString(other[:]) + "\n"}, key.Signer)
				if err != nil {
					t.Fatal(err)
				}
				forked := filepath.Join(t.TempDir(), "forked")
				if err := os.WriteFile(forked, msg, 0o600); err != nil {
					t.Fatal(err)
				}
				out, err := verify(t, flags, "--checkpoint", forked)
				if err == nil || !strings.Contains(out, "not consistent with a checkpoint signed earlier at size 20") {
					t.Fatalf("forked checkpoint: %v\n%s", err, out)
				}
			})
		})
	}
}

// TestAuditCheckpointDownload: the auditor downloads the current checkpoint
// from the API and from the console; later `audit verify --checkpoint`
// proves the grown log extends it. Other roles may not download it.
func TestAuditCheckpointDownload(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	cfg := server.Config{DB: "sqlite:" + dir}
	s, err := server.Open(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Orgs.CreateRegion(ctx, org.Region{Code: "220000", Name: "吉林省"}); err != nil {
		t.Fatal(err)
	}
	b, err := s.Orgs.CreateBody(ctx, org.BodyInput{Name: "吉林省政务服务和数字化建设管理局", CreditCode: "11220000MB1726532F", Kind: org.KindAgency, RegionCode: "220000"})
	if err != nil {
		t.Fatal(err)
	}
	const pw = "Ledger-check-2026-blue"
	user := func(name string, role auth.Role) {
		u, err := s.Auth.CreateUser(ctx, auth.UserInput{Username: name, DisplayName: name, BodyID: b.ID, Password: pw})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Auth.GrantRole(ctx, 0, u.ID, role, b.ID); err != nil {
			t.Fatal(err)
		}
	}
	user("auditor", auth.RoleAuditor)
	user("cdo", auth.RoleChiefDataOfficer)
	if _, err := s.Audit.Append(ctx, audit.Entry{Action: "test.write"}); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler)
	defer srv.Close()
	get := func(path, username string) (int, string) {
		tok, _, err := s.Auth.Login(ctx, username, pw, "127.0.0.1")
		if err != nil {
			t.Fatal(err)
		}
		req, _ := http.NewRequest("GET", srv.URL+path, nil)
		req.AddCookie(&http.Cookie{Name: httpx.SessionCookie, Value: tok})
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(body)
	}
	for _, path := range []string{"/api/v1/audit/checkpoint", "/audit/checkpoint"} {
		code, body := get(path, "auditor")
		if code != 200 {
			t.Fatalf("%s: %d %s", path, code, body)
		}
		cp, err := s.Audit.OpenCheckpoint([]byte(body))
		if err != nil || cp.Size == 0 {
			t.Fatalf("%s: not a checkpoint of the log: %v\n%s", path, err, body)
		}
		if code, _ := get(path, "cdo"); code != http.StatusForbidden {
			t.Fatalf("%s as a chief data officer: %d", path, code)
		}
		saved := filepath.Join(t.TempDir(), "checkpoint.txt")
		if err := os.WriteFile(saved, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Audit.Append(ctx, audit.Entry{Action: "test.write"}); err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		if err := run(ctx, []string{"audit", "verify", "--db", cfg.DB, "--checkpoint", saved}, nil, &out, io.Discard); err != nil {
			t.Fatalf("verify --checkpoint %s: %v\n%s", path, err, out.String())
		}
	}
	// The download is audited.
	if _, n, err := s.Audit.List(ctx, audit.Filter{Action: "audit.checkpoint", Outcome: audit.OutcomeSuccess}); err != nil || n != 2 {
		t.Fatalf("audit.checkpoint records: %d %v", n, err)
	}
}
