package auth

import (
	"context"
	"database/sql"
	"errors"
	"net/netip"
	"strings"
	"time"

	"golang.org/x/time/rate"

	"xiangyun/internal/db"
	"xiangyun/internal/errs"
	"xiangyun/internal/valid"
)

// Login failures. They never say whether the username exists.
var (
	ErrBadCredentials = errs.New(errs.KindUnauthenticated, "auth.bad_credentials", "用户名或密码错误", "wrong username or password")
	ErrLocked         = errs.New(errs.KindTooMany, "auth.locked", "登录失败次数过多，账号已临时锁定，请稍后再试或联系安全保密管理员", "too many failed sign-ins: the account is locked for a while; try later or ask the security officer")
	ErrThrottled      = errs.New(errs.KindTooMany, "auth.throttled", "登录尝试过于频繁，请稍后再试", "too many sign-in attempts from your address; try again shortly")
	ErrDisabled       = errs.New(errs.KindUnauthenticated, "auth.disabled", "账号已停用", "the account is disabled")
)

// The address throttle has two layers. The limit itself is counted in SQL
// (login_throttle), so it holds across every node of an installation: at
// most IPLoginsPerMin attempts per address per one-minute window in all.
// In front of it, each node keeps a token bucket per address at the same
// rate, so an address flooding one node is refused from memory without a
// write per request; it never lets more through than the SQL count does.

// throttleKey is the unit an address is throttled by: an IPv4 address, or
// an IPv6 /64 (one subscriber's network; addresses within it are free to
// the holder).
func throttleKey(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	a = a.Unmap()
	if a.Is6() {
		p, _ := a.Prefix(64)
		return p.String()
	}
	return a.String()
}

func (s *Service) allowIP(ctx context.Context, ip string) error {
	key := throttleKey(ip)
	now := s.db.Now().Time
	if !s.allowLocal(key, now) {
		return ErrThrottled
	}
	window := db.Time{Time: now.Truncate(time.Minute)}
	var n int
	err := s.db.Tx(ctx, func(tx *db.Tx) error {
		if tx.Now.Sub(s.sweepDue()) > 10*time.Minute {
			if err := tx.Run(`DELETE FROM login_throttle WHERE window_start < $1`, db.Time{Time: window.Add(-time.Hour)}); err != nil {
				return err
			}
		}
		return tx.QueryRow(`INSERT INTO login_throttle(address, window_start, attempts) VALUES ($1, $2, 1)
			ON CONFLICT (address) DO UPDATE SET
			attempts = CASE WHEN login_throttle.window_start >= excluded.window_start THEN login_throttle.attempts + 1 ELSE 1 END,
			window_start = CASE WHEN login_throttle.window_start >= excluded.window_start THEN login_throttle.window_start ELSE excluded.window_start END
			RETURNING attempts`, key, window).Scan(&n)
	})
	if err != nil {
		return db.Check(err)
	}
	if n > s.policy.IPLoginsPerMin {
		return ErrThrottled
	}
	return nil
}

// sweepDue returns when this node last cleared old throttle rows and marks
// them cleared now.
func (s *Service) sweepDue() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	last := s.dbSweep
	if now := s.db.Now().Time; now.Sub(last) > 10*time.Minute {
		s.dbSweep = now
	}
	return last
}

// allowLocal is this node's token bucket for key.
func (s *Service) allowLocal(key string, now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if now.Sub(s.ipSweep) > 10*time.Minute { // forget idle addresses
		for k, l := range s.perIP {
			if l.TokensAt(now) >= float64(l.Burst()) {
				delete(s.perIP, k)
			}
		}
		s.ipSweep = now
	}
	l, ok := s.perIP[key]
	if !ok {
		n := s.policy.IPLoginsPerMin
		l = rate.NewLimiter(rate.Limit(float64(n)/60), n)
		s.perIP[key] = l
	}
	return l.AllowN(now, 1)
}

// Login checks a username and password and starts a session. It returns the
// session token (to be set as a cookie) and the user. Every attempt counts
// towards the address's throttle, and a wrong password towards the user's
// lock-out; while an account is locked no password, the right one
// included, signs in.
func (s *Service) Login(ctx context.Context, username, password, ip string) (token string, u User, err error) {
	if err := s.allowIP(ctx, ip); err != nil {
		return "", User{}, err
	}
	username = strings.ToLower(strings.TrimSpace(username))
	var (
		id       int64
		hash     string
		disabled bool
		locked   db.Time
	)
	rctx, cancel := s.db.Ctx(ctx)
	err = s.db.R.QueryRowContext(rctx, `SELECT id, password_hash, disabled, locked_until FROM users WHERE username=$1`, username).
		Scan(&id, &hash, &disabled, &locked)
	cancel()
	if errors.Is(err, sql.ErrNoRows) {
		CheckPassword(dummyHash, password)
		return "", User{}, ErrBadCredentials
	}
	if err != nil {
		return "", User{}, db.Check(err)
	}
	who := User{ID: id, Username: username}
	if locked.After(s.db.Now().Time) {
		return "", who, ErrLocked
	}
	if !CheckPassword(hash, password) {
		return "", who, s.countFailure(ctx, id)
	}
	if disabled {
		return "", who, ErrDisabled
	}
	token, idHash := newSecret("")
	err = s.db.Tx(ctx, func(tx *db.Tx) error {
		// The lock is checked again in the write: failures that committed
		// while this password was being checked may have locked the account.
		res, err := tx.Exec(`UPDATE users SET failed_count=0, locked_until=NULL, last_login_at=$1
			WHERE id=$2 AND disabled = FALSE AND (locked_until IS NULL OR locked_until <= $1)`, tx.Now, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrLocked
		}
		// Clear this user's expired sessions while we are here.
		if err := tx.Run(`DELETE FROM sessions WHERE user_id=$1 AND expires_at < $2`, id, tx.Now); err != nil {
			return err
		}
		return tx.Run(`INSERT INTO sessions(id_hash, user_id, ip, created_at, seen_at, expires_at) VALUES ($1, $2, $3, $4, $4, $5)`,
			idHash, id, ip, tx.Now, db.Time{Time: tx.Now.Add(s.policy.SessionMax)})
	})
	if err != nil {
		if err == ErrLocked {
			return "", who, err
		}
		return "", User{}, db.Check(err)
	}
	u, err = s.User(ctx, id)
	return token, u, err
}

// countFailure counts a wrong password for user id in one statement and
// returns the error to answer with. The count is of failures since the last
// sign-in or lock; the one that reaches MaxFailures sets locked_until in
// the same statement. A failure while the account is locked changes
// nothing (the statement matches no row), so concurrent wrong passwords
// are counted exactly and lock the account at the limit.
func (s *Service) countFailure(ctx context.Context, id int64) error {
	var (
		count int
		until db.Time
	)
	err := s.db.Tx(ctx, func(tx *db.Tx) error {
		return tx.QueryRow(`UPDATE users SET
			failed_count = CASE WHEN locked_until IS NULL THEN failed_count + 1 ELSE 1 END,
			locked_until = CASE WHEN (CASE WHEN locked_until IS NULL THEN failed_count + 1 ELSE 1 END) >= $2 THEN $3 ELSE NULL END
			WHERE id = $1 AND (locked_until IS NULL OR locked_until <= $4)
			RETURNING failed_count, locked_until`,
			id, s.policy.MaxFailures, db.Time{Time: tx.Now.Add(s.policy.LockFor)}, tx.Now).Scan(&count, &until)
	})
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return ErrLocked // locked by a concurrent failure
	case err != nil:
		return db.Check(err)
	case !until.IsZero():
		return ErrLocked
	}
	return ErrBadCredentials
}

// Session returns the principal for a session token, or ErrUnauthenticated
// (ErrUnavailable when the database cannot answer). It slides the idle
// timeout at most once a minute to spare the writer.
func (s *Service) Session(ctx context.Context, token string) (*Principal, error) {
	if token == "" || len(token) > 100 {
		return nil, errs.ErrUnauthenticated
	}
	idHash := hashSecret(token)
	var seen, expires db.Time
	u, err := s.userWithRoles(ctx, `SELECT s.seen_at, s.expires_at, `+userCols+`, r.role, r.body_id FROM sessions s
		JOIN users u ON u.id = s.user_id LEFT JOIN user_roles r ON r.user_id = u.id
		WHERE s.id_hash=$1 AND u.disabled = FALSE ORDER BY r.role, r.body_id`, []any{idHash}, &seen, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.ErrUnauthenticated
	}
	if err != nil {
		return nil, err
	}
	now := s.db.Now().Time
	if !now.Before(expires.Time) || now.Sub(seen.Time) > s.policy.SessionIdle {
		_ = s.Logout(ctx, token)
		return nil, errs.ErrUnauthenticated
	}
	// Record use at most once a minute (a tenth of the idle limit when that
	// is shorter): a write per request would make every page view a write.
	if now.Sub(seen.Time) > min(time.Minute, s.policy.SessionIdle/10) {
		_ = s.db.Tx(ctx, func(tx *db.Tx) error {
			return tx.Run(`UPDATE sessions SET seen_at=$1 WHERE id_hash=$2`, tx.Now, idHash)
		})
	}
	return &Principal{User: u, SessionID: idHash}, nil
}

// Logout ends a session.
func (s *Service) Logout(ctx context.Context, token string) error {
	return db.Check(s.db.Tx(ctx, func(tx *db.Tx) error {
		return tx.Run(`DELETE FROM sessions WHERE id_hash=$1`, hashSecret(token))
	}))
}

// Token is a personal API token (the secret itself is shown only once).
type Token struct {
	ID         int64      `json:"id"`
	Name       string     `json:"name"`
	Prefix     string     `json:"prefix"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
	ExpiresAt  *time.Time `json:"expires_at,omitempty"`
	Revoked    bool       `json:"revoked"`
}

const tokenPrefix = "xyt_"

// CreateToken issues an API token for user id; the secret is returned once
// and stored only as a hash.
func (s *Service) CreateToken(ctx context.Context, userID int64, name string, ttl time.Duration) (string, Token, error) {
	var fs errs.Fields
	name = valid.Line(&fs, "name", "名称", name, 1, 50)
	if err := fs.Err(); err != nil {
		return "", Token{}, err
	}
	secret, hash := newSecret(tokenPrefix)
	var id int64
	err := s.db.Tx(ctx, func(tx *db.Tx) error {
		var exp any
		if ttl > 0 {
			exp = db.Time{Time: tx.Now.Add(ttl)}
		}
		return tx.QueryRow(`INSERT INTO api_tokens(user_id, name, prefix, hash, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
			userID, name, secret[:len(tokenPrefix)+6], hash, tx.Now, exp).Scan(&id)
	})
	if err != nil {
		return "", Token{}, db.Check(err)
	}
	toks, err := s.Tokens(ctx, userID)
	for _, t := range toks {
		if t.ID == id {
			return secret, t, err
		}
	}
	return secret, Token{}, err
}

// Tokens lists a user's tokens, newest first.
func (s *Service) Tokens(ctx context.Context, userID int64) ([]Token, error) {
	rctx, cancel := s.db.Ctx(ctx)
	defer cancel()
	rows, err := s.db.R.QueryContext(rctx, `SELECT id, name, prefix, created_at, last_used_at, expires_at, revoked_at FROM api_tokens WHERE user_id=$1 ORDER BY id DESC`, userID)
	if err != nil {
		return nil, db.Check(err)
	}
	defer rows.Close()
	out := []Token{}
	for rows.Next() {
		var t Token
		var c, l, e, r db.Time
		if err := rows.Scan(&t.ID, &t.Name, &t.Prefix, &c, &l, &e, &r); err != nil {
			return nil, err
		}
		t.CreatedAt = c.Time
		if !l.IsZero() {
			t.LastUsedAt = &l.Time
		}
		if !e.IsZero() {
			t.ExpiresAt = &e.Time
		}
		t.Revoked = !r.IsZero()
		out = append(out, t)
	}
	return out, db.Check(rows.Err())
}

// RevokeToken revokes one of the user's own tokens at once. Tokens are
// personal: no one revokes another user's token (a password reset or a
// disabled account ends them instead).
func (s *Service) RevokeToken(ctx context.Context, userID, tokenID int64) error {
	var n int64
	err := s.db.Tx(ctx, func(tx *db.Tx) error {
		res, err := tx.Exec(`UPDATE api_tokens SET revoked_at=$1 WHERE id=$2 AND user_id=$3 AND revoked_at IS NULL`, tx.Now, tokenID, userID)
		if err == nil {
			n, _ = res.RowsAffected()
		}
		return err
	})
	if err == nil && n == 0 {
		return errs.NotFound("token.not_found", "令牌不存在或已撤销", "no such token, or it is already revoked")
	}
	return db.Check(err)
}

// TokenPrincipal returns the principal for a bearer token, or
// ErrUnauthenticated (ErrUnavailable when the database cannot answer).
func (s *Service) TokenPrincipal(ctx context.Context, secret string) (*Principal, error) {
	if !strings.HasPrefix(secret, tokenPrefix) || len(secret) > 100 {
		return nil, errs.ErrUnauthenticated
	}
	var id int64
	var exp, last db.Time
	u, err := s.userWithRoles(ctx, `SELECT t.id, t.expires_at, t.last_used_at, `+userCols+`, r.role, r.body_id FROM api_tokens t
		JOIN users u ON u.id = t.user_id LEFT JOIN user_roles r ON r.user_id = u.id
		WHERE t.hash=$1 AND t.revoked_at IS NULL AND u.disabled = FALSE ORDER BY r.role, r.body_id`, []any{hashSecret(secret)}, &id, &exp, &last)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.ErrUnauthenticated
	}
	if err != nil {
		return nil, err
	}
	now := s.db.Now().Time
	if !exp.IsZero() && !now.Before(exp.Time) {
		return nil, errs.ErrUnauthenticated
	}
	if now.Sub(last.Time) > time.Minute {
		_ = s.db.Tx(ctx, func(tx *db.Tx) error {
			return tx.Run(`UPDATE api_tokens SET last_used_at=$1 WHERE id=$2`, tx.Now, id)
		})
	}
	return &Principal{User: u, TokenID: id}, nil
}

type ctxKey struct{}

// WithPrincipal stores p in ctx.
func WithPrincipal(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, ctxKey{}, p)
}

// FromContext returns the request's principal, or nil when anonymous.
func FromContext(ctx context.Context) *Principal {
	p, _ := ctx.Value(ctxKey{}).(*Principal)
	return p
}
