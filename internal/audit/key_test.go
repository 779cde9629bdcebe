package audit

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"xiangyun/internal/db/dbtest"
)

func TestLoadOrCreateKey(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys", "audit.key")
	k1, err := LoadOrCreateKey(path, "xiangyun-audit")
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("key file mode = %v, want 0600", st.Mode().Perm())
	}
	k2, err := LoadOrCreateKey(path, "xiangyun-audit")
	if err != nil {
		t.Fatal(err)
	}
	msg := []byte("tree\n")
	sig, err := k1.Signer.Sign(msg)
	if err != nil {
		t.Fatal(err)
	}
	if !k2.Verifier.Verify(msg, sig) || k1.VerifierKey != k2.VerifierKey || k2.Signer.KeyHash() != k1.Signer.KeyHash() {
		t.Error("reloaded key differs from the created one")
	}

	if _, err := LoadOrCreateKey(path, "other-name"); err == nil {
		t.Error("loaded a key under another name")
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadOrCreateKey(path, "xiangyun-audit"); err == nil {
		t.Error("loaded a world-readable key file")
	}
	bad := filepath.Join(t.TempDir(), "bad.key")
	if err := os.WriteFile(bad, []byte("garbage\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadOrCreateKey(bad, "xiangyun-audit"); err == nil {
		t.Error("loaded a malformed key file")
	}
}

func TestNewKey(t *testing.T) {
	a, err := NewKey("xiangyun-audit")
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewKey("xiangyun-audit")
	if err != nil {
		t.Fatal(err)
	}
	if a.VerifierKey == b.VerifierKey {
		t.Error("NewKey returned the same key twice")
	}
	if _, err := NewKey("bad name"); err == nil {
		t.Error("NewKey accepted an invalid name")
	}
}

// TestKeyForLog: a key is created for a new, empty log only; a missing key
// for a log that exists (records, a head, anchored checkpoints) is refused.
func TestKeyForLog(t *testing.T) {
	forEachBackend(t, func(t *testing.T, dsn func(testing.TB) string) {
		ctx := context.Background()
		dir := t.TempDir()
		keyFile, anchor := filepath.Join(dir, "audit.key"), filepath.Join(dir, "audit-checkpoints")
		store := dbtest.Open(t, dsn(t), "audit")
		key, err := KeyForLog(ctx, store, keyFile, "xiangyun-audit", anchor)
		if err != nil {
			t.Fatalf("new log: %v", err)
		}
		again, err := KeyForLog(ctx, store, keyFile, "xiangyun-audit", anchor)
		if err != nil || again.VerifierKey != key.VerifierKey {
			t.Fatalf("existing key not loaded: %v", err)
		}
		l, err := Open(ctx, store, key)
		if err != nil {
			t.Fatal(err)
		}
		// A head alone (no records yet) already makes the log existing.
		if err := os.Remove(keyFile); err != nil {
			t.Fatal(err)
		}
		if _, err := KeyForLog(ctx, store, keyFile, "xiangyun-audit", anchor); err == nil || !strings.Contains(err.Error(), "missing") {
			t.Fatalf("missing key with an existing head: %v", err)
		}
		if _, err := os.Stat(keyFile); err == nil {
			t.Fatal("a key was created for an existing log")
		}
		if _, err := l.Append(ctx, Entry{Action: "x"}); err != nil {
			t.Fatal(err)
		}
		if _, err := KeyForLog(ctx, store, keyFile, "xiangyun-audit", anchor); err == nil || !strings.Contains(err.Error(), "1 records") {
			t.Fatalf("missing key with records: %v", err)
		}
		if _, err := LoadKey(keyFile, "xiangyun-audit"); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("LoadKey of a missing file: %v", err)
		}
		// Tables wiped too, but checkpoints were anchored: still refused.
		if err := os.WriteFile(anchor, []byte("xiangyun-audit\n1\nAAAA\n\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		empty := dbtest.Open(t, dsn(t), "audit")
		if _, err := KeyForLog(ctx, empty, keyFile, "xiangyun-audit", anchor); err == nil || !strings.Contains(err.Error(), "anchored") {
			t.Fatalf("missing key with anchored checkpoints: %v", err)
		}
	})
}
