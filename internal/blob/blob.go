// Package blob stores files by their content: the key of a blob is the
// SHA-256 of its bytes (64 lowercase hex digits), computed while the bytes
// are written, so the same content is stored once and a key can never name
// a path outside the store. Two implementations: a local directory (the
// default, DATA/blobs) and an S3-compatible object store (production).
//
// A Put is atomic: until it returns successfully nothing of it is visible,
// and a Put that fails midway (a broken upload, a killed process) leaves no
// blob behind. Reads verify the content against the key and fail at the end
// of a stream whose bytes do not match.
//
// The package knows nothing of the domain: what a blob means (an entry's
// file attachment, an export) is recorded by its users.
package blob

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"time"
)

// Info describes a stored blob.
type Info struct {
	Key      string    // the SHA-256 of the content, lowercase hex
	Size     int64     // bytes
	Modified time.Time // when it was (last) stored
}

// SHA256 is the content's SHA-256 in hex: the key.
func (i Info) SHA256() string { return i.Key }

// Store is a content-addressed blob store.
type Store interface {
	// Put reads r to its end and stores the bytes, hashing them on the way.
	// size is the number of bytes r holds, or -1 when unknown; a stream of
	// another length fails. An error from r (or ctx) fails the Put and
	// leaves nothing stored. Storing content that is already there succeeds
	// and returns the same key.
	Put(ctx context.Context, r io.Reader, size int64) (Info, error)
	// Get opens a blob for reading. The reader fails with ErrCorrupt at the
	// end if the bytes do not hash to the key.
	Get(ctx context.Context, key string) (io.ReadCloser, Info, error)
	// Stat describes a blob; ErrNotFound when it is not stored.
	Stat(ctx context.Context, key string) (Info, error)
	// Delete removes a blob; deleting a missing blob is not an error.
	Delete(ctx context.Context, key string) error
	// List calls fn for every blob whose key starts with prefix (hex
	// digits; "" lists everything), in no particular order.
	List(ctx context.Context, prefix string, fn func(Info) error) error
	// String names the store for logs (no secrets).
	String() string
}

var (
	// ErrNotFound is returned for a key that is not stored.
	ErrNotFound = errors.New("blob: not found")
	// ErrInvalidKey is returned for a key that is not a SHA-256 in hex.
	ErrInvalidKey = errors.New("blob: invalid key (want 64 lowercase hex digits)")
	// ErrCorrupt is returned at the end of a read whose bytes do not match
	// their key.
	ErrCorrupt = errors.New("blob: stored content does not match its SHA-256")
	// ErrSize is returned by Put when the stream's length differs from the
	// announced size.
	ErrSize = errors.New("blob: the stream's length differs from the announced size")
)

// KeyLen is the length of a key.
const KeyLen = 2 * sha256.Size

// ValidKey reports whether key is a SHA-256 in lowercase hex.
func ValidKey(key string) bool {
	return len(key) == KeyLen && validHex(key)
}

// validPrefix reports whether p can start a key.
func validPrefix(p string) bool { return len(p) <= KeyLen && validHex(p) }

func validHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

func checkKey(key string) error {
	if !ValidKey(key) {
		return fmt.Errorf("%w: %q", ErrInvalidKey, truncate(key, 80))
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// hashingReader hashes and counts what is read through it and stops when
// ctx is cancelled.
type hashingReader struct {
	ctx context.Context
	r   io.Reader
	h   hash.Hash
	n   int64
}

func newHashingReader(ctx context.Context, r io.Reader) *hashingReader {
	return &hashingReader{ctx: ctx, r: r, h: sha256.New()}
}

func (h *hashingReader) Read(p []byte) (int, error) {
	if err := h.ctx.Err(); err != nil {
		return 0, err
	}
	n, err := h.r.Read(p)
	h.h.Write(p[:n])
	h.n += int64(n)
	return n, err
}

func (h *hashingReader) sum() string { return hex.EncodeToString(h.h.Sum(nil)) }

// checkEnd verifies, after the store read size bytes, that r holds no more.
func checkEnd(r io.Reader, size, n int64) error {
	if size < 0 {
		return nil
	}
	if n != size {
		return fmt.Errorf("%w: read %d bytes, announced %d", ErrSize, n, size)
	}
	var one [1]byte
	for {
		m, err := r.Read(one[:])
		if m > 0 {
			return fmt.Errorf("%w: more than the announced %d bytes", ErrSize, size)
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// verifyingReader checks at EOF that the content hashes to its key.
type verifyingReader struct {
	rc   io.ReadCloser
	h    hash.Hash
	key  string
	n    int64
	size int64
}

func verify(rc io.ReadCloser, key string, size int64) io.ReadCloser {
	return &verifyingReader{rc: rc, h: sha256.New(), key: key, size: size}
}

func (v *verifyingReader) Read(p []byte) (int, error) {
	n, err := v.rc.Read(p)
	v.h.Write(p[:n])
	v.n += int64(n)
	if errors.Is(err, io.EOF) && (v.n != v.size || hex.EncodeToString(v.h.Sum(nil)) != v.key) {
		return n, ErrCorrupt
	}
	return n, err
}

func (v *verifyingReader) Close() error { return v.rc.Close() }

// Config chooses a store: S3 when S3.Endpoint is set, else the local
// directory Dir.
type Config struct {
	Dir string
	S3  S3Config
}

// Open opens the store cfg chooses.
func Open(ctx context.Context, cfg Config) (Store, error) {
	if cfg.S3.Endpoint != "" {
		return OpenS3(ctx, cfg.S3)
	}
	return OpenLocal(cfg.Dir)
}
