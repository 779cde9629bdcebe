package audit

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"xiangyun/internal/db"
)

// anchoredLog opens a log with n records whose head is anchored in a
// checkpoint file.
func anchoredLog(t *testing.T, dsn string, n int) (*Log, *db.DB, string) {
	t.Helper()
	l, store := openTestLog(t, dsn)
	file := filepath.Join(t.TempDir(), "audit-checkpoints")
	l.SetAnchor(Anchor{File: file})
	if _, err := l.CheckAnchor(context.Background()); err != nil {
		t.Fatal(err)
	}
	fill(t, l, n)
	if err := l.AnchorHead(context.Background()); err != nil {
		t.Fatal(err)
	}
	return l, store, file
}

func wantTampered(t *testing.T, err error, substr string) {
	t.Helper()
	if !errors.Is(err, ErrTampered) || !strings.Contains(err.Error(), substr) {
		t.Fatalf("want tampering (%q), got %v", substr, err)
	}
}

// TestAnchorDetectsWipeRollbackAndKeyChange tampers with the log in ways the
// signed head inside the database cannot catch: each passes Verify, and
// each is caught against the checkpoint anchored outside the database.
func TestAnchorDetectsWipeRollbackAndKeyChange(t *testing.T) {
	forEachBackend(t, func(t *testing.T, dsn func(testing.TB) string) {
		ctx := context.Background()
		t.Run("intact", func(t *testing.T) {
			l, _, file := anchoredLog(t, dsn(t), 1312)
			fill(t, l, 5)
			cp, err := l.CheckAnchor(ctx)
			if err != nil || cp == nil || cp.Size != 1312 {
				t.Fatalf("anchor: %+v %v", cp, err)
			}
			if err := l.AnchorHead(ctx); err != nil {
				t.Fatal(err)
			}
			cps, err := l.ReadCheckpoints(file)
			// The periodic checkpoint at 1000 was anchored by the append, then 1312 and 1317.
			if err != nil || len(cps) != 3 || cps[0].Size != 1000 || cps[1].Size != 1312 || cps[2].Size != 1317 {
				t.Fatalf("checkpoint file: %+v %v", cps, err)
			}
		})
		t.Run("rolled back to an older checkpoint", func(t *testing.T) {
			l, store, _ := anchoredLog(t, dsn(t), 1312)
			// Drop the last 312 records and restore the signed checkpoint at 1000.
			exec(t, store, "DELETE FROM audit_records WHERE seq >= 1000")
			exec(t, store, "DELETE FROM audit_hashes WHERE id >= $1", tlog.StoredHashCount(1000))
			exec(t, store, "UPDATE audit_head SET size = c.size, root = c.root, note = c.note FROM audit_checkpoints c WHERE c.size = 1000")
			exec(t, store, "DELETE FROM audit_checkpoints WHERE size > 1000")
			// Only the anchor betrays the rollback.
			if rep := mustVerify(t, l); rep.OK || rep.First.Kind != ProblemAnchor {
				t.Fatalf("verify after a rollback: %+v %v", rep, rep.First)
			}
			_, err := l.CheckAnchor(ctx)
			wantTampered(t, err, "holds 1000 records but a checkpoint signed earlier covers 1312")
			if err := l.AnchorHead(ctx); err == nil {
				t.Fatal("a rolled-back head was anchored")
			}
		})
		t.Run("wiped", func(t *testing.T) {
			l, store, file := anchoredLog(t, dsn(t), 40)
			for _, tbl := range []string{"audit_records", "audit_hashes", "audit_checkpoints", "audit_head"} {
				exec(t, store, "DELETE FROM "+tbl)
			}
			// Without a head, read-only: the wipe is reported as such.
			ro, err := Open(ctx, store, Key{Verifier: l.key.Verifier})
			if err != nil {
				t.Fatal(err)
			}
			ro.SetAnchor(Anchor{File: file})
			_, err = ro.CheckAnchor(ctx)
			wantTampered(t, err, "the log was wiped")
			if rep := mustVerify(t, ro); rep.OK {
				t.Fatal("verify passed a log without a head")
			}
			// Reopened with the key, the log starts afresh at size 0 and
			// verifies by itself; the anchor betrays it.
			fresh, err := Open(ctx, store, l.key)
			if err != nil {
				t.Fatal(err)
			}
			if rep := mustVerify(t, fresh); !rep.OK {
				t.Fatalf("fresh log: %v", rep.First)
			}
			fresh.SetAnchor(Anchor{File: file})
			_, err = fresh.CheckAnchor(ctx)
			wantTampered(t, err, "holds 0 records but a checkpoint signed earlier covers 40")
		})
		t.Run("re-signed with a new key", func(t *testing.T) {
			l, store, file := anchoredLog(t, dsn(t), 40)
			// The intruder rewrites a record, rebuilds the hashes, drops the
			// checkpoints and signs a new head with a key of their own.
			rewrite(t, l, store, 7)
			rehash(t, l, store)
			exec(t, store, "DELETE FROM audit_checkpoints")
			other := testKey(t)
			forged, err := Open(ctx, store, other)
			if err != nil {
				t.Fatal(err)
			}
			var root tlog.Hash
			if root, err = tlog.TreeHash(40, &dbHashReader{ctx: ctx, l: forged}); err != nil {
				t.Fatal(err)
			}
			signed, err := forged.sign(40, root)
			if err != nil {
				t.Fatal(err)
			}
			exec(t, store, "UPDATE audit_head SET root = $1, note = $2", hexHash(root), signed)
			if rep := mustVerify(t, forged); !rep.OK {
				t.Fatalf("the forged log was expected to pass the in-database checks with the new key: %v", rep.First)
			}
			forged.SetAnchor(Anchor{File: file})
			if rep := mustVerify(t, forged); rep.OK || rep.First.Kind != ProblemAnchor {
				t.Fatalf("verify of a re-signed log: %+v %v", rep, rep.First)
			}
			_, err = forged.CheckAnchor(ctx)
			wantTampered(t, err, "not by the audit key")
		})
		t.Run("saved checkpoints", func(t *testing.T) {
			l, _, _ := anchoredLog(t, dsn(t), 40)
			saved, err := l.CurrentCheckpoint(ctx)
			if err != nil {
				t.Fatal(err)
			}
			fill(t, l, 25)
			cp, err := l.OpenCheckpoint(saved)
			if err != nil || cp.Size != 40 {
				t.Fatalf("saved checkpoint: %+v %v", cp, err)
			}
			if err := l.Consistent(ctx, cp); err != nil {
				t.Fatalf("good checkpoint: %v", err)
			}
			// A fork: a validly signed checkpoint at size 40 of other records.
			other, _ := openTestLog(t, dsn(t))
			other.key = l.key
			fill(t, other, 39)
			if _, err := other.Append(ctx, Entry{Action: "data.table.delete"}); err != nil {
				t.Fatal(err)
			}
			forkNote, err := other.CurrentCheckpoint(ctx)
			if err != nil {
				t.Fatal(err)
			}
			fork, err := l.OpenCheckpoint(forkNote)
			if err != nil || fork.Size != 40 {
				t.Fatalf("fork: %+v %v", fork, err)
			}
			wantTampered(t, l.Consistent(ctx, fork), "not consistent")
			// A checkpoint beyond the log.
			fill(t, other, 100)
			ahead, _ := other.CurrentCheckpoint(ctx)
			cpAhead, err := l.OpenCheckpoint(ahead)
			if err != nil {
				t.Fatal(err)
			}
			wantTampered(t, l.Consistent(ctx, cpAhead), "holds 65 records")
		})
	})
}

// testWitness is a tlog-witness (c2sp.org/tlog-witness) for one log: it
// checks the log's signature and the consistency proof from the size it
// last cosigned, and cosigns with its own key.
type testWitness struct {
	t        *testing.T
	verifier note.Verifier
	signer   note.Signer
	mu       sync.Mutex
	size     int64
	root     tlog.Hash
	accepted []int64
	refused  int
}

func (w *testWitness) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/add-checkpoint" {
		http.NotFound(rw, r)
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	body, _ := io.ReadAll(r.Body)
	br := bufio.NewReader(bytes.NewReader(body))
	first, _ := br.ReadString('\n')
	old, err := strconv.ParseInt(strings.TrimPrefix(strings.TrimSpace(first), "old "), 10, 64)
	if err != nil || !strings.HasPrefix(first, "old ") {
		http.Error(rw, "bad old line", http.StatusBadRequest)
		return
	}
	var proof tlog.TreeProof
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			http.Error(rw, "no checkpoint", http.StatusBadRequest)
			return
		}
		if line == "\n" {
			break
		}
		h, err := base64.StdEncoding.DecodeString(strings.TrimSpace(line))
		if err != nil || len(h) != tlog.HashSize {
			http.Error(rw, "bad proof line", http.StatusBadRequest)
			return
		}
		proof = append(proof, tlog.Hash(h))
	}
	rest, _ := io.ReadAll(br)
	n, err := note.Open(rest, note.VerifierList(w.verifier))
	if err != nil {
		w.refused++
		http.Error(rw, "checkpoint not signed by the log", http.StatusForbidden)
		return
	}
	_, tree, err := parseCheckpointText(n.Text)
	if err != nil {
		http.Error(rw, err.Error(), http.StatusBadRequest)
		return
	}
	if old != w.size {
		rw.Header().Set("Content-Type", "text/x.tlog.size")
		rw.WriteHeader(http.StatusConflict)
		fmt.Fprintf(rw, "%d\n", w.size)
		return
	}
	switch {
	case tree.N < w.size:
		w.refused++
		http.Error(rw, "smaller than the cosigned tree", http.StatusBadRequest)
		return
	case w.size > 0 && tree.N > w.size:
		if err := tlog.CheckTree(proof, tree.N, tree.Hash, w.size, w.root); err != nil {
			w.refused++
			http.Error(rw, "consistency proof: "+err.Error(), http.StatusUnprocessableEntity)
			return
		}
	case w.size > 0 && tree.Hash != w.root:
		w.refused++
		http.Error(rw, "fork", http.StatusConflict)
		return
	}
	w.size, w.root = tree.N, tree.Hash
	w.accepted = append(w.accepted, tree.N)
	cosigned, err := note.Sign(&note.Note{Text: n.Text}, w.signer)
	if err != nil {
		w.t.Error(err)
	}
	_, sigs, _ := strings.Cut(string(cosigned), "\n\n")
	_, _ = io.WriteString(rw, sigs)
}

func TestAnchorWitness(t *testing.T) {
	forEachBackend(t, func(t *testing.T, dsn func(testing.TB) string) {
		ctx := context.Background()
		l, store := openTestLog(t, dsn(t))
		wkey, err := NewKey("witness.example")
		if err != nil {
			t.Fatal(err)
		}
		w := &testWitness{t: t, verifier: l.key.Verifier, signer: wkey.Signer}
		srv := httptest.NewServer(w)
		defer srv.Close()
		file := filepath.Join(t.TempDir(), "audit-checkpoints")
		l.SetAnchor(Anchor{File: file, Witness: srv.URL})
		var logged []error
		l.SetErrorLog(func(err error) { logged = append(logged, err) })
		for _, n := range []int{3, 10, 1, 50} {
			fill(t, l, n)
			if err := l.AnchorHead(ctx); err != nil {
				t.Fatal(err)
			}
		}
		if fmt.Sprint(w.accepted) != "[3 13 14 64]" || w.refused != 0 || len(logged) != 0 {
			t.Fatalf("witness accepted %v, refused %d; errors %v", w.accepted, w.refused, logged)
		}
		// The cosignatures are kept with the anchored checkpoints.
		cps, err := l.ReadCheckpoints(file)
		if err != nil || len(cps) != 4 {
			t.Fatalf("checkpoints: %v %v", cps, err)
		}
		if _, err := note.Open(cps[3].Note, note.VerifierList(wkey.Verifier)); err != nil {
			t.Fatalf("no cosignature by the witness: %v\n%s", err, cps[3].Note)
		}
		// A restarted log learns the witness's size from its 409 answer.
		l2, err := Open(ctx, store, l.key)
		if err != nil {
			t.Fatal(err)
		}
		l2.SetAnchor(Anchor{File: file, Witness: srv.URL})
		fill(t, l2, 7)
		if err := l2.AnchorHead(ctx); err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(w.accepted) != "[3 13 14 64 71]" {
			t.Fatalf("after restart the witness accepted %v", w.accepted)
		}
		// A rewritten history: the witness's own check of the proof refuses it.
		rewrite(t, l2, store, 60)
		rehash(t, l2, store)
		root, err := tlog.TreeHash(71, &dbHashReader{ctx: ctx, l: l2})
		if err != nil {
			t.Fatal(err)
		}
		fill(t, l2, 1)
		root, _ = tlog.TreeHash(72, &dbHashReader{ctx: ctx, l: l2})
		signed, _ := l2.sign(72, root)
		exec(t, store, "UPDATE audit_head SET root = $1, note = $2", hexHash(root), signed)
		l3, _ := Open(ctx, store, l.key)
		l3.SetAnchor(Anchor{Witness: srv.URL})
		l3.anchor.witnessSize = 71
		if err := l3.AnchorHead(ctx); err == nil || !strings.Contains(err.Error(), "422") {
			t.Fatalf("witness accepted a rewritten history: %v", err)
		}
		if w.refused != 1 || w.size != 71 {
			t.Fatalf("witness state: refused %d, size %d", w.refused, w.size)
		}
	})
}

// TestLegacyHeadResigned: a head signed in the tlog tree format before
// checkpoints were used still verifies, and opening the log with its key
// re-signs it as a checkpoint that can be anchored.
func TestLegacyHeadResigned(t *testing.T) {
	forEachBackend(t, func(t *testing.T, dsn func(testing.TB) string) {
		ctx := context.Background()
		l, store := openTestLog(t, dsn(t))
		fill(t, l, 10)
		size, root, _, err := l.Head(ctx)
		if err != nil {
			t.Fatal(err)
		}
		legacy, err := note.Sign(&note.Note{Text: string(tlog.FormatTree(tlog.Tree{N: size, Hash: root}))}, l.key.Signer)
		if err != nil {
			t.Fatal(err)
		}
		exec(t, store, "UPDATE audit_head SET note = $1", string(legacy))
		if rep := mustVerify(t, l); !rep.OK {
			t.Fatalf("legacy head: %v", rep.First)
		}
		l2, err := Open(ctx, store, l.key)
		if err != nil {
			t.Fatal(err)
		}
		msg, _ := l2.CurrentCheckpoint(ctx)
		cp, err := l2.OpenCheckpoint(msg)
		if err != nil || cp.Origin != "xiangyun-audit" || cp.Size != size || cp.Root != root {
			t.Fatalf("re-signed head: %+v %v", cp, err)
		}
		if rep := mustVerify(t, l2); !rep.OK {
			t.Fatalf("re-signed head: %v", rep.First)
		}
	})
}
