package audit

import (
	"os"
	"path/filepath"
	"testing"
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
