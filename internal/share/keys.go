package share

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Credentials (应用凭据). A key id is public (sent as X-Client-Id); the secret
// is 256 random bits, shown once and stored only as its SHA-256. Secrets are
// made by the platform, not chosen by people, so a fast hash is safe.
//
// Signed requests use an HMAC-SHA256 signing key derived from the secret:
//
//	signing key = HMAC-SHA256(key = the secret as sent (its ASCII text), message = "xiangyun-gw-sign-v1")
//
// A client computes it once from the secret it was given. The platform
// keeps the signing key sealed (AES-256-GCM, the key id as associated data)
// with the platform sharing key, a file in the data directory, so that a
// copy of the database alone can neither forge signatures nor recover
// secrets.

// SigningLabel is the message of the signing-key derivation.
const SigningLabel = "xiangyun-gw-sign-v1"

// newCredential makes a key id and a secret.
func newCredential() (keyID, secret string) {
	id := make([]byte, 8)
	sec := make([]byte, 32)
	_, _ = rand.Read(id)
	_, _ = rand.Read(sec)
	return "app_" + hex.EncodeToString(id), "xys_" + base64.RawURLEncoding.EncodeToString(sec)
}

// SecretHash is how a secret is stored and checked: SHA-256 of its text.
func SecretHash(secret string) [32]byte { return sha256.Sum256([]byte(secret)) }

// SigningKey derives the HMAC signing key of a secret.
func SigningKey(secret string) []byte {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(SigningLabel))
	return m.Sum(nil)
}

// LoadOrCreateKey reads the platform sharing key from path, creating it
// (32 random bytes, hex, mode 0600) on first use.
func LoadOrCreateKey(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
			return nil, fmt.Errorf("share key: %w", err)
		}
		k := make([]byte, 32)
		_, _ = rand.Read(k)
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, fs.ErrExist) {
			return LoadOrCreateKey(path) // made meanwhile by another process
		}
		if err != nil {
			return nil, fmt.Errorf("share key: %w", err)
		}
		if _, err := f.WriteString(hex.EncodeToString(k) + "\n"); err != nil {
			f.Close()
			return nil, fmt.Errorf("share key: %w", err)
		}
		if err := f.Sync(); err != nil {
			f.Close()
			return nil, fmt.Errorf("share key: %w", err)
		}
		return k, f.Close()
	}
	if err != nil {
		return nil, fmt.Errorf("share key: %w", err)
	}
	k, err := hex.DecodeString(string(trimSpace(b)))
	if err != nil || len(k) != 32 {
		return nil, fmt.Errorf("share key %s: not 32 hex-encoded bytes", path)
	}
	return k, nil
}

func trimSpace(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == '\r' || b[len(b)-1] == ' ') {
		b = b[:len(b)-1]
	}
	return b
}

func (s *Service) aead() (cipher.AEAD, error) {
	blk, err := aes.NewCipher(s.key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(blk)
}

// seal encrypts a signing key for storage, bound to its key id.
func (s *Service) seal(keyID string, plain []byte) (string, error) {
	if s.key == nil {
		return "", nil
	}
	a, err := s.aead()
	if err != nil {
		return "", err
	}
	nonce := make([]byte, a.NonceSize())
	_, _ = rand.Read(nonce)
	return base64.StdEncoding.EncodeToString(a.Seal(nonce, nonce, plain, []byte(keyID))), nil
}

// unseal decrypts a stored signing key; "" gives nil.
func (s *Service) unseal(keyID, sealed string) ([]byte, error) {
	if sealed == "" || s.key == nil {
		return nil, nil
	}
	b, err := base64.StdEncoding.DecodeString(sealed)
	if err != nil {
		return nil, err
	}
	a, err := s.aead()
	if err != nil {
		return nil, err
	}
	if len(b) < a.NonceSize() {
		return nil, errors.New("share: sealed signing key too short")
	}
	return a.Open(nil, b[:a.NonceSize()], b[a.NonceSize():], []byte(keyID))
}
