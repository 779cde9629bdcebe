package gateway

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"xiangyun/internal/share"
)

// Request signing (optional per key, required when the key says so):
//
//	X-Timestamp: Unix seconds
//	X-Nonce:     16–64 characters [A-Za-z0-9_-], never reused
//	X-Signature: hex(HMAC-SHA256(signing key, StringToSign))
//	StringToSign = METHOD "\n" escaped path "\n" raw query "\n" X-Timestamp "\n" X-Nonce "\n" hex(SHA-256(body))
//
// The path and query are signed exactly as sent on the wire.

var nonceRe = regexp.MustCompile(`^[A-Za-z0-9_-]{16,64}$`)

// StringToSign is the text a client signs (exported for clients and tests).
func StringToSign(method, escapedPath, rawQuery, timestamp, nonce string, body []byte) string {
	h := sha256.Sum256(body)
	return method + "\n" + escapedPath + "\n" + rawQuery + "\n" + timestamp + "\n" + nonce + "\n" + hex.EncodeToString(h[:])
}

// Sign returns the X-Signature value for the request parts.
func Sign(key []byte, method, escapedPath, rawQuery, timestamp, nonce string, body []byte) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(StringToSign(method, escapedPath, rawQuery, timestamp, nonce, body)))
	return hex.EncodeToString(m.Sum(nil))
}

// authenticate finds the credential of the request and checks its secret
// in constant time. It returns the key id seen (for the audit) even when
// refusing.
func authenticate(snap *share.Snapshot, r *http.Request, now time.Time) (*share.Credential, *Problem) {
	keyID := r.Header.Get("X-Client-Id")
	authz := r.Header.Get("Authorization")
	secret, ok := strings.CutPrefix(authz, "Bearer ")
	if keyID == "" || !ok || secret == "" {
		return nil, errUnauth
	}
	c := snap.Credentials[keyID]
	sum := sha256.Sum256([]byte(secret))
	if c == nil {
		// Compare anyway, so an unknown key costs what a known one does.
		var zero [32]byte
		subtle.ConstantTimeCompare(sum[:], zero[:])
		return nil, errUnauth
	}
	if subtle.ConstantTimeCompare(sum[:], c.SecretHash[:]) != 1 {
		return nil, errUnauth
	}
	if !c.NotAfter.IsZero() && !now.Before(c.NotAfter) {
		return c, errKeyExpired
	}
	return c, nil
}

// checkSignature verifies the signature headers, if sent or required.
// Nonces are remembered after the signature is found valid, so forged
// requests cannot fill the cache.
func (g *Gateway) checkSignature(c *share.Credential, r *http.Request, body []byte, now time.Time) *Problem {
	sig := r.Header.Get("X-Signature")
	if sig == "" {
		if c.RequireSignature {
			return errBadSignature.with("this key requires signed requests")
		}
		return nil
	}
	if len(c.SigningKey) == 0 {
		return errBadSignature.with("this key has no signing key")
	}
	ts, nonce := r.Header.Get("X-Timestamp"), r.Header.Get("X-Nonce")
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || !nonceRe.MatchString(nonce) {
		return errBadSignature.with("X-Timestamp must be Unix seconds and X-Nonce 16–64 characters [A-Za-z0-9_-]")
	}
	want := Sign(c.SigningKey, r.Method, r.URL.EscapedPath(), r.URL.RawQuery, ts, nonce, body)
	got := strings.ToLower(sig)
	if subtle.ConstantTimeCompare([]byte(want), []byte(got)) != 1 {
		return errBadSignature
	}
	t := time.Unix(sec, 0)
	if d := now.Sub(t); d > g.skew || d < -g.skew {
		return errSigExpired
	}
	if !g.nonces.add(c.KeyID+"\x00"+nonce, t.Add(g.skew), now) {
		return errReplayed
	}
	return nil
}

// nonceCache remembers the nonces of signed requests until their
// timestamps leave the allowed skew; a nonce seen again in that time is a
// replay. It is per node: a replay sent to another node within the window
// is caught only by that node's own cache (see docs/GATEWAY.md).
type nonceCache struct {
	mu    sync.Mutex
	seen  map[string]time.Time // nonce → when it may be forgotten
	sweep time.Time
}

const maxNonces = 1 << 20

// add records nonce and reports whether it was new.
func (n *nonceCache) add(nonce string, until, now time.Time) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.seen == nil {
		n.seen = map[string]time.Time{}
	}
	if now.Sub(n.sweep) > 10*time.Second || len(n.seen) >= maxNonces {
		for k, u := range n.seen {
			if now.After(u) {
				delete(n.seen, k)
			}
		}
		n.sweep = now
		if len(n.seen) >= maxNonces {
			return false // full of live nonces: refuse rather than forget one
		}
	}
	if u, ok := n.seen[nonce]; ok && !now.After(u) {
		return false
	}
	n.seen[nonce] = until
	return true
}
