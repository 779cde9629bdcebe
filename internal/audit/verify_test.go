package audit

import (
	"context"
	"fmt"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"xiangyun/internal/db"
	"xiangyun/internal/db/dbtest"
)

// fill appends n entries in batches and returns their count.
func fill(t testing.TB, l *Log, n int) {
	t.Helper()
	base := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for start := 0; start < n; start += 5000 {
		batch := make([]Entry, 0, min(5000, n-start))
		for i := start; i < start+cap(batch); i++ {
			batch = append(batch, Entry{
				Time: base.Add(time.Duration(i) * time.Second), ActorID: int64(i%7 + 1),
				Actor: fmt.Sprintf("user%d", i%7), Action: "data.table.read", Object: fmt.Sprintf("table:%d", i),
				IP: "192.0.2.1", RequestID: fmt.Sprintf("req-%d", i), Detail: map[string]string{"rows": fmt.Sprint(i * 3)},
			})
		}
		if _, err := l.appendAll(context.Background(), batch, nil); err != nil {
			t.Fatal(err)
		}
	}
}

func exec(t *testing.T, store *db.DB, q string, args ...any) {
	t.Helper()
	if _, err := store.Writer().ExecContext(context.Background(), q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// readEntry reads the record at seq as it is stored.
func readEntry(t *testing.T, l *Log, seq int64) Entry {
	t.Helper()
	rows, err := l.db.R.Query("SELECT "+recordColumns+" FROM audit_records WHERE seq = $1", seq)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var r record
	if !rows.Next() {
		t.Fatalf("no record %d", seq)
	}
	if err := r.scan(rows); err != nil {
		t.Fatal(err)
	}
	return r.Entry
}

// rewrite changes the action of record seq and updates its leaf_hash column
// and stored leaf hash to match, as an attacker with database access would.
func rewrite(t *testing.T, l *Log, store *db.DB, seq int64) {
	e := readEntry(t, l, seq)
	e.Action = "data.table.export"
	h := leafHash(&e)
	exec(t, store, "UPDATE audit_records SET action = $1, leaf_hash = $2 WHERE seq = $3", e.Action, hexHash(h), seq)
	exec(t, store, "UPDATE audit_hashes SET hash = $1 WHERE id = $2", h[:], tlog.StoredHashIndex(0, seq))
}

// rehash recomputes every stored hash from the records, leaving only the
// signed heads to betray a rewrite.
func rehash(t *testing.T, l *Log, store *db.DB) {
	var stored []tlog.Hash
	r := tlog.HashReaderFunc(func(idx []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(idx))
		for i, x := range idx {
			out[i] = stored[x]
		}
		return out, nil
	})
	err := l.Each(context.Background(), Filter{}, func(e Entry) error {
		hs, err := tlog.StoredHashes(e.Seq, leafData(&e), r)
		stored = append(stored, hs...)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for id, h := range stored {
		exec(t, store, "UPDATE audit_hashes SET hash = $1 WHERE id = $2", h[:], id)
	}
}

func swap(t *testing.T, store *db.DB, a, b int64, cols string) {
	exec(t, store, "UPDATE audit_records SET seq = -1 WHERE seq = $1", a)
	exec(t, store, "UPDATE audit_records SET seq = $1 WHERE seq = $2", a, b)
	exec(t, store, "UPDATE audit_records SET seq = $1 WHERE seq = -1", b)
	if cols == "" {
		return
	}
	// Put the named columns back, e.g. leave leaf_hash where it was.
	exec(t, store, fmt.Sprintf(`UPDATE audit_records SET %[1]s = CASE seq WHEN $1 THEN
		(SELECT %[1]s FROM audit_records WHERE seq = $2) ELSE (SELECT %[1]s FROM audit_records WHERE seq = $1) END
		WHERE seq IN ($1, $2)`, cols), a, b)
}

func TestVerifyDetectsTampering(t *testing.T) {
	tests := []struct {
		name     string
		n        int
		tamper   func(t *testing.T, l *Log, store *db.DB)
		kind     string
		from, to int64 // the reported seq must lie in [from, to]
	}{
		{"action updated", 50, func(t *testing.T, l *Log, s *db.DB) {
			exec(t, s, "UPDATE audit_records SET action = 'data.table.delete' WHERE seq = 17")
		}, ProblemChanged, 17, 17},
		{"time updated", 50, func(t *testing.T, l *Log, s *db.DB) {
			exec(t, s, "UPDATE audit_records SET time = '2024-01-01T00:00:00.000000Z' WHERE seq = 3")
		}, ProblemChanged, 3, 3},
		{"detail updated", 50, func(t *testing.T, l *Log, s *db.DB) {
			exec(t, s, `UPDATE audit_records SET detail = '{"rows":"0"}' WHERE seq = 30`)
		}, ProblemChanged, 30, 30},
		{"detail garbled", 50, func(t *testing.T, l *Log, s *db.DB) {
			exec(t, s, `UPDATE audit_records SET detail = 'nonsense' WHERE seq = 31`)
		}, ProblemChanged, 31, 31},
		{"first record updated", 50, func(t *testing.T, l *Log, s *db.DB) {
			exec(t, s, "UPDATE audit_records SET actor = 'nobody' WHERE seq = 0")
		}, ProblemChanged, 0, 0},
		{"first of two changes", 50, func(t *testing.T, l *Log, s *db.DB) {
			exec(t, s, "UPDATE audit_records SET ip = '1.1.1.1' WHERE seq IN (12, 40)")
		}, ProblemChanged, 12, 12},
		{"leaf_hash column only", 50, func(t *testing.T, l *Log, s *db.DB) {
			exec(t, s, "UPDATE audit_records SET leaf_hash = 'abcd' WHERE seq = 9")
		}, ProblemChanged, 9, 9},
		{"record deleted", 50, func(t *testing.T, l *Log, s *db.DB) {
			exec(t, s, "DELETE FROM audit_records WHERE seq = 17")
		}, ProblemRemoved, 17, 17},
		{"last record deleted", 50, func(t *testing.T, l *Log, s *db.DB) {
			exec(t, s, "DELETE FROM audit_records WHERE seq = 49")
		}, ProblemRemoved, 49, 49},
		{"record and its hashes deleted", 50, func(t *testing.T, l *Log, s *db.DB) {
			exec(t, s, "DELETE FROM audit_records WHERE seq = 20")
			exec(t, s, "DELETE FROM audit_hashes WHERE id = $1", tlog.StoredHashIndex(0, 20))
		}, ProblemRemoved, 20, 20},
		{"record inserted", 50, func(t *testing.T, l *Log, s *db.DB) {
			exec(t, s, `INSERT INTO audit_records (seq, time, actor_id, actor, action, object, outcome, ip, request_id, detail, leaf_hash)
				SELECT 50, time, actor_id, actor, action, object, outcome, ip, request_id, detail, leaf_hash FROM audit_records WHERE seq = 1`)
		}, ProblemInserted, 50, 50},
		{"records swapped", 50, func(t *testing.T, l *Log, s *db.DB) {
			swap(t, s, 10, 30, "")
		}, ProblemReordered, 10, 10},
		{"contents swapped, leaf_hash kept", 50, func(t *testing.T, l *Log, s *db.DB) {
			swap(t, s, 10, 30, "leaf_hash")
		}, ProblemReordered, 10, 10},
		{"record and leaf hash rewritten", 50, func(t *testing.T, l *Log, s *db.DB) {
			rewrite(t, l, s, 20)
		}, ProblemHeadMismatch, 20, 20},
		{"odd record and leaf hash rewritten", 50, func(t *testing.T, l *Log, s *db.DB) {
			rewrite(t, l, s, 21)
		}, ProblemHeadMismatch, 20, 21},
		{"last record and leaf hash rewritten", 49, func(t *testing.T, l *Log, s *db.DB) {
			rewrite(t, l, s, 48) // no sibling yet: only the signed root betrays it
		}, ProblemHeadMismatch, 0, 0},
		{"record and all hashes rewritten", 2500, func(t *testing.T, l *Log, s *db.DB) {
			rewrite(t, l, s, 1500)
			rehash(t, l, s)
		}, ProblemHeadMismatch, 1000, 1000},
		{"interior hash altered", 50, func(t *testing.T, l *Log, s *db.DB) {
			exec(t, s, "UPDATE audit_hashes SET hash = $1 WHERE id = $2", make([]byte, 32), tlog.StoredHashIndex(2, 3))
		}, ProblemChanged, 12, 12},
		{"head re-signed with another key", 50, func(t *testing.T, l *Log, s *db.DB) {
			_, root, _, _ := l.Head(context.Background())
			other := testKey(t)
			msg, err := note.Sign(&note.Note{Text: string(tlog.FormatTree(tlog.Tree{N: 50, Hash: root}))}, other.Signer)
			if err != nil {
				t.Fatal(err)
			}
			exec(t, s, "UPDATE audit_head SET note = $1", string(msg))
		}, ProblemHeadSignature, 50, 50},
		{"head size edited", 50, func(t *testing.T, l *Log, s *db.DB) {
			exec(t, s, "UPDATE audit_head SET size = 49")
		}, ProblemHeadMismatch, 49, 49},
		{"head rolled back", 50, func(t *testing.T, l *Log, s *db.DB) {
			ctx := context.Background()
			size, root, old, err := l.Head(ctx)
			if err != nil {
				t.Fatal(err)
			}
			fill(t, l, 10)
			if err := l.Checkpoint(ctx); err != nil {
				t.Fatal(err)
			}
			// Drop the last records and replay the older, validly signed head.
			exec(t, s, "DELETE FROM audit_records WHERE seq >= $1", size)
			exec(t, s, "DELETE FROM audit_hashes WHERE id >= $1", tlog.StoredHashCount(size))
			exec(t, s, "UPDATE audit_head SET size = $1, root = $2, note = $3", size, hexHash(root), string(old))
		}, ProblemRemoved, 50, 50},
	}
	forEachBackend(t, func(t *testing.T, dsn func(testing.TB) string) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				l, store := openTestLog(t, dsn(t))
				fill(t, l, tt.n)
				if rep := mustVerify(t, l); !rep.OK {
					t.Fatalf("before tampering: %v", rep.First)
				}
				tt.tamper(t, l, store)
				rep := mustVerify(t, l)
				if rep.OK || rep.First == nil {
					t.Fatalf("tampering not detected: %+v", rep)
				}
				p := rep.First
				if p.Kind != tt.kind || p.Seq < tt.from || p.Seq > tt.to {
					t.Fatalf("got %v, want %s at seq %d..%d", p, tt.kind, tt.from, tt.to)
				}
				t.Log(p)
			})
		}
	})
}

// BenchmarkVerify measures Verify on a log of 100,000 records:
//
//	go test -run '^$' -bench Verify -benchtime 3x ./internal/audit/
func BenchmarkVerify(b *testing.B) {
	for dialect, dsn := range dbtest.TestDSNs(b) {
		b.Run(string(dialect), func(b *testing.B) {
			l, _ := openTestLog(b, dsn(b))
			start := time.Now()
			fill(b, l, 100_000)
			b.Logf("appended 100000 records in batches in %v", time.Since(start))
			for b.Loop() {
				rep, err := l.Verify(context.Background())
				if err != nil || !rep.OK || rep.Checked != 100_000 {
					b.Fatalf("%+v %v %v", rep, rep.First, err)
				}
			}
		})
	}
}
