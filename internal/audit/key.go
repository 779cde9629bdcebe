package audit

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/mod/sumdb/note"
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
