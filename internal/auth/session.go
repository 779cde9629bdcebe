package auth

import (
	"context"
	"database/sql"
	"errors"
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

func (s *Service) allowIP(ip string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	if now.Sub(s.ipSweep) > 10*time.Minute { // forget idle addresses
		for k, l := range s.perIP {
			if l.Tokens() >= float64(l.Burst()) {
				delete(s.perIP, k)
			}
		}
		s.ipSweep = now
	}
	l, ok := s.perIP[ip]
	if !ok {
		n := s.policy.IPLoginsPerMin
		l = rate.NewLimiter(rate.Limit(float64(n)/60), n)
		s.perIP[ip] = l
	}
	return l.Allow()
}

// Login checks a username and password and starts a session. It returns the
// session token (to be set as a cookie) and the user. Failures count towards
// the user's lock-out and the address's throttle.
func (s *Service) Login(ctx context.Context, username, password, ip string) (token string, u User, err error) {
	if !s.allowIP(ip) {
		return "", User{}, ErrThrottled
	}
	username = strings.ToLower(strings.TrimSpace(username))
	var (
		id       int64
		hash     string
		disabled bool
		failed   int
		locked   db.Time
	)
	err = s.db.R.QueryRowContext(ctx, `SELECT id, password_hash, disabled, failed_count, locked_until FROM users WHERE username=$1`, username).
		Scan(&id, &hash, &disabled, &failed, &locked)
	if errors.Is(err, sql.ErrNoRows) {
		CheckPassword(dummyHash, password)
		return "", User{}, ErrBadCredentials
	}
	if err != nil {
		return "", User{}, err
	}
	now := time.Now()
	if !locked.IsZero() && locked.After(now) {
		return "", User{}, ErrLocked
	}
	if !CheckPassword(hash, password) {
		failed++
		var until any
		if failed >= s.policy.MaxFailures {
			until = db.Time{Time: now.Add(s.policy.LockFor)}
			failed = 0
		}
		_ = s.db.Tx(ctx, func(tx *db.Tx) error {
			_, err := tx.ExecContext(ctx, `UPDATE users SET failed_count=$1, locked_until=$2 WHERE id=$3`, failed, until, id)
			return err
		})
		if until != nil {
			return "", User{ID: id, Username: username}, ErrLocked
		}
		return "", User{ID: id, Username: username}, ErrBadCredentials
	}
	if disabled {
		return "", User{ID: id, Username: username}, ErrDisabled
	}
	token, idHash := newSecret("")
	t := db.Now()
	err = s.db.Tx(ctx, func(tx *db.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE users SET failed_count=0, locked_until=NULL, last_login_at=$1 WHERE id=$2`, t, id); err != nil {
			return err
		}
		// Clear this user's expired sessions while we are here.
		if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id=$1 AND expires_at < $2`, id, db.FormatTime(now)); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO sessions(id_hash, user_id, ip, created_at, seen_at, expires_at) VALUES ($1, $2, $3, $4, $4, $5)`,
			idHash, id, ip, t, db.Time{Time: now.Add(s.policy.SessionMax)})
		return err
	})
	if err != nil {
		return "", User{}, err
	}
	u, err = s.User(ctx, id)
	return token, u, err
}

// Session returns the principal for a session token, or ErrUnauthenticated.
// It slides the idle timeout at most once a minute to spare the writer.
func (s *Service) Session(ctx context.Context, token string) (*Principal, error) {
	if token == "" || len(token) > 100 {
		return nil, errs.ErrUnauthenticated
	}
	idHash := hashSecret(token)
	var seen, expires db.Time
	u, err := scanUser(withLeading(s.db.R.QueryRowContext(ctx, `SELECT s.seen_at, s.expires_at, `+userCols+` FROM sessions s
		JOIN users u ON u.id = s.user_id LEFT JOIN bodies b ON b.id = u.body_id
		WHERE s.id_hash=$1 AND u.disabled = FALSE`, idHash), &seen, &expires))
	if err != nil {
		return nil, lookupErr(err)
	}
	now := time.Now()
	if now.After(expires.Time) || now.Sub(seen.Time) > s.policy.SessionIdle {
		_ = s.Logout(ctx, token)
		return nil, errs.ErrUnauthenticated
	}
	// Record use at most once a minute (a tenth of the idle limit when that
	// is shorter): a write per request would make every page view a write.
	if now.Sub(seen.Time) > min(time.Minute, s.policy.SessionIdle/10) {
		_ = s.db.Tx(ctx, func(tx *db.Tx) error {
			_, err := tx.ExecContext(ctx, `UPDATE sessions SET seen_at=$1 WHERE id_hash=$2`, db.Now(), idHash)
			return err
		})
	}
	if u.Roles, err = s.roles(ctx, u.ID); err != nil {
		return nil, lookupErr(err)
	}
	return &Principal{User: u, SessionID: idHash}, nil
}

// Logout ends a session.
func (s *Service) Logout(ctx context.Context, token string) error {
	return s.db.Tx(ctx, func(tx *db.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE id_hash=$1`, hashSecret(token))
		return err
	})
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
	now := db.Now()
	var exp any
	if ttl > 0 {
		exp = db.Time{Time: now.Add(ttl)}
	}
	var id int64
	err := s.db.Tx(ctx, func(tx *db.Tx) error {
		return tx.QueryRowContext(ctx, `INSERT INTO api_tokens(user_id, name, prefix, hash, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
			userID, name, secret[:len(tokenPrefix)+6], hash, now, exp).Scan(&id)
	})
	if err != nil {
		return "", Token{}, err
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
	rows, err := s.db.R.QueryContext(ctx, `SELECT id, name, prefix, created_at, last_used_at, expires_at, revoked_at FROM api_tokens WHERE user_id=$1 ORDER BY id DESC`, userID)
	if err != nil {
		return nil, err
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
	return out, rows.Err()
}

// RevokeToken revokes one of the user's tokens at once.
func (s *Service) RevokeToken(ctx context.Context, userID, tokenID int64) error {
	var n int64
	err := s.db.Tx(ctx, func(tx *db.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE api_tokens SET revoked_at=$1 WHERE id=$2 AND user_id=$3 AND revoked_at IS NULL`, db.Now(), tokenID, userID)
		if err == nil {
			n, _ = res.RowsAffected()
		}
		return err
	})
	if err == nil && n == 0 {
		return errs.NotFound("token.not_found", "令牌不存在或已撤销", "no such token, or it is already revoked")
	}
	return err
}

// TokenPrincipal returns the principal for a bearer token.
func (s *Service) TokenPrincipal(ctx context.Context, secret string) (*Principal, error) {
	if !strings.HasPrefix(secret, tokenPrefix) || len(secret) > 100 {
		return nil, errs.ErrUnauthenticated
	}
	var id int64
	var exp, last db.Time
	u, err := scanUser(withLeading(s.db.R.QueryRowContext(ctx, `SELECT t.id, t.expires_at, t.last_used_at, `+userCols+` FROM api_tokens t
		JOIN users u ON u.id = t.user_id LEFT JOIN bodies b ON b.id = u.body_id
		WHERE t.hash=$1 AND t.revoked_at IS NULL AND u.disabled = FALSE`, hashSecret(secret)), &id, &exp, &last))
	if err != nil {
		return nil, lookupErr(err)
	}
	if !exp.IsZero() && time.Now().After(exp.Time) {
		return nil, errs.ErrUnauthenticated
	}
	if time.Since(last.Time) > time.Minute {
		_ = s.db.Tx(ctx, func(tx *db.Tx) error {
			_, err := tx.ExecContext(ctx, `UPDATE api_tokens SET last_used_at=$1 WHERE id=$2`, db.Now(), id)
			return err
		})
	}
	if u.Roles, err = s.roles(ctx, u.ID); err != nil {
		return nil, lookupErr(err)
	}
	return &Principal{User: u, TokenID: id}, nil
}

// lookupErr is the error of a failed session or token lookup: a database
// that cannot answer is errs.ErrUnavailable (503), so that an outage is not
// mistaken for "sign in first"; anything else means no valid credential.
func lookupErr(err error) error {
	if db.IsUnavailable(err) {
		return db.Check(err)
	}
	return errs.ErrUnauthenticated
}

// withLeading scans the columns before a user's columns into lead, so that a
// session or token and its user come from one query.
func withLeading(row *sql.Row, lead ...any) interface{ Scan(...any) error } {
	return leadingScanner{row, lead}
}

type leadingScanner struct {
	row  *sql.Row
	lead []any
}

func (l leadingScanner) Scan(dest ...any) error { return l.row.Scan(append(l.lead, dest...)...) }

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
