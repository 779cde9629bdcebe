package audit

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/mod/sumdb/note"

	"xiangyun/internal/db"
)

// Key signs and verifies the log's tree heads. Signer may be nil for a
// read-only log that is only verified.
type Key struct {
	Signer   note.Signer
	Verifier note.Verifier
	// VerifierKey is the public verifier key text (name+hash+key). It is
	// safe to publish and lets auditors check exported tree heads.
	VerifierKey string
}

// NewKey returns a fresh in-memory Ed25519 key named name.
func NewKey(name string) (Key, error) {
	skey, vkey, err := note.GenerateKey(rand.Reader, name)
	if err != nil {
		return Key{}, fmt.Errorf("audit: generate key: %w", err)
	}
	return parseKey(skey, vkey)
}

// LoadKey loads the Ed25519 note key stored in the file at path (see
// LoadOrCreateKey); a missing file is an error wrapping fs.ErrNotExist.
func LoadKey(path, name string) (Key, error) {
	k, err := loadKey(path, name)
	if errors.Is(err, fs.ErrNotExist) {
		return Key{}, fmt.Errorf("audit: signing key file %s is missing: %w", path, err)
	}
	return k, err
}

// KeyForLog returns the signing key of the log in store, from the file at
// path. The key is created only for a new log: if the file is missing while
// the log has a tree head or records, or checkpoints were anchored in
// anchorFile, a new key would hide a replaced log, so KeyForLog refuses.
func KeyForLog(ctx context.Context, store *db.DB, path, name, anchorFile string) (Key, error) {
	k, err := loadKey(path, name)
	if !errors.Is(err, fs.ErrNotExist) {
		return k, err
	}
	if err := migrate(ctx, store); err != nil {
		return Key{}, err
	}
	var heads, records int64
	if err := store.R.QueryRowContext(ctx, "SELECT (SELECT COUNT(*) FROM audit_head), (SELECT COUNT(*) FROM audit_records)").Scan(&heads, &records); err != nil {
		return Key{}, fmt.Errorf("audit: %w", err)
	}
	if heads > 0 || records > 0 {
		return Key{}, fmt.Errorf("audit: the signing key file %s is missing but the audit log exists (%d records): "+
			"restore the key file from backup; a new key is created only for a new, empty log", path, records)
	}
	if anchorFile != "" {
		if st, err := os.Stat(anchorFile); err == nil && st.Size() > 0 {
			return Key{}, fmt.Errorf("audit: the signing key file %s is missing but checkpoints of the log were anchored in %s: "+
				"restore the key file and the audit database from backup", path, anchorFile)
		}
	}
	return LoadOrCreateKey(path, name)
}

// LoadOrCreateKey loads the Ed25519 note key stored in the file at path,
// creating it (mode 0600) on first use. The file holds two lines: the private
// signer key and the public verifier key. name must match the stored key's
// name.
func LoadOrCreateKey(path, name string) (Key, error) {
	k, err := loadKey(path, name)
	if !errors.Is(err, fs.ErrNotExist) {
		return k, err
	}
	skey, vkey, err := note.GenerateKey(rand.Reader, name)
	if err != nil {
		return Key{}, fmt.Errorf("audit: generate key: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return Key{}, fmt.Errorf("audit: key: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return loadKey(path, name) // another process created it first
	}
	if err != nil {
		return Key{}, fmt.Errorf("audit: key: %w", err)
	}
	_, err = f.WriteString(skey + "\n" + vkey + "\n")
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return Key{}, fmt.Errorf("audit: write key: %w", err)
	}
	return parseKey(skey, vkey)
}

func loadKey(path, name string) (Key, error) {
	st, err := os.Stat(path)
	if err != nil {
		return Key{}, err
	}
	if st.Mode().Perm()&0o077 != 0 {
		return Key{}, fmt.Errorf("audit: key file %s is accessible by others (mode %v): chmod 600 it", path, st.Mode().Perm())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return Key{}, fmt.Errorf("audit: key: %w", err)
	}
	skey, vkey, _ := strings.Cut(strings.TrimSpace(string(b)), "\n")
	k, err := parseKey(strings.TrimSpace(skey), strings.TrimSpace(vkey))
	if err != nil {
		return Key{}, fmt.Errorf("audit: key file %s: %w", path, err)
	}
	if k.Signer.Name() != name {
		return Key{}, fmt.Errorf("audit: key file %s holds key %q, want %q", path, k.Signer.Name(), name)
	}
	return k, nil
}

// parseKey builds a Key from its text forms and checks that they belong
// together.
func parseKey(skey, vkey string) (Key, error) {
	s, err := note.NewSigner(skey)
	if err != nil {
		return Key{}, fmt.Errorf("audit: signer key: %w", err)
	}
	v, err := note.NewVerifier(vkey)
	if err != nil {
		return Key{}, fmt.Errorf("audit: verifier key: %w", err)
	}
	msg := []byte("xiangyun audit key check\n")
	sig, err := s.Sign(msg)
	if err != nil || s.Name() != v.Name() || s.KeyHash() != v.KeyHash() || !v.Verify(msg, sig) {
		return Key{}, errors.New("audit: signer and verifier keys do not match")
	}
	return Key{Signer: s, Verifier: v, VerifierKey: vkey}, nil
}
