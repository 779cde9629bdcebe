// Package auth holds users, their roles per body, sessions and API tokens,
// and decides what a signed-in principal may do. Login throttling and lockout
// live here too, so every entry point (console, API, CLI) shares them.
package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"embed"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"xiangyun/internal/db"
	"xiangyun/internal/errs"
	"xiangyun/internal/org"
	"xiangyun/internal/valid"
)

//go:embed migrations
var migrations embed.FS

// Policy holds the tunable security settings.
type Policy struct {
	MaxFailures    int           // consecutive failed logins before lock-out
	LockFor        time.Duration // lock-out duration
	SessionIdle    time.Duration // a session ends after this long unused
	SessionMax     time.Duration // and at the latest this long after sign-in
	IPLoginsPerMin int           // login attempts per minute from one address (all nodes together)
}

// DefaultPolicy is used unless configured otherwise.
var DefaultPolicy = Policy{MaxFailures: 5, LockFor: 15 * time.Minute, SessionIdle: 2 * time.Hour, SessionMax: 12 * time.Hour, IPLoginsPerMin: 20}

// User is a person who signs in.
type User struct {
	ID          int64      `json:"id"`
	Username    string     `json:"username"`
	DisplayName string     `json:"display_name"`
	BodyID      int64      `json:"body_id"`
	BodyName    string     `json:"body_name,omitempty"`
	Email       string     `json:"email,omitempty"`
	Phone       string     `json:"phone,omitempty"`
	Disabled    bool       `json:"disabled"`
	LockedUntil *time.Time `json:"locked_until,omitempty"`
	LastLoginAt *time.Time `json:"last_login_at,omitempty"`
	CreatedAt   time.Time  `json:"created_at"`
	Roles       []Grant    `json:"roles"`
}

// Grant is one role held at one body.
type Grant struct {
	Role     Role   `json:"role"`
	BodyID   int64  `json:"body_id"`
	BodyName string `json:"body_name,omitempty"`
}

// Principal is who is making a request.
type Principal struct {
	User      User
	SessionID string // hash of the session token, when signed in by cookie
	TokenID   int64  // when signed in by API token
}

// Has reports whether the principal holds p through any role.
func (p *Principal) Has(perm Permission) bool {
	if perm == PermPublic {
		return true
	}
	if p == nil {
		return false
	}
	if perm == PermSignedIn {
		return true
	}
	for _, g := range p.User.Roles {
		if RoleHas(g.Role, perm) {
			return true
		}
	}
	return false
}

// HasAt reports whether the principal holds p for body bodyID: through a
// platform role, or a body role granted at that body.
func (p *Principal) HasAt(perm Permission, bodyID int64) bool {
	if p == nil {
		return false
	}
	for _, g := range p.User.Roles {
		if RoleHas(g.Role, perm) && (g.Role.Platform() || g.BodyID == bodyID) {
			return true
		}
	}
	return false
}

// Global reports whether the principal holds p through a platform role.
func (p *Principal) Global(perm Permission) bool {
	if p == nil {
		return false
	}
	for _, g := range p.User.Roles {
		if g.Role.Platform() && RoleHas(g.Role, perm) {
			return true
		}
	}
	return false
}

// BodiesWith lists the bodies at which the principal holds p through body roles.
func (p *Principal) BodiesWith(perm Permission) []int64 {
	var out []int64
	if p == nil {
		return nil
	}
	for _, g := range p.User.Roles {
		if !g.Role.Platform() && RoleHas(g.Role, perm) && !slices.Contains(out, g.BodyID) {
			out = append(out, g.BodyID)
		}
	}
	return out
}

// HasRole reports whether the principal holds role r anywhere.
func (p *Principal) HasRole(r Role) bool {
	if p == nil {
		return false
	}
	for _, g := range p.User.Roles {
		if g.Role == r {
			return true
		}
	}
	return false
}

// Service stores users, roles, sessions and tokens.
type Service struct {
	db     *db.DB
	orgs   *org.Service
	policy Policy

	mu      sync.Mutex
	perIP   map[string]*rate.Limiter
	ipSweep time.Time
	dbSweep time.Time
}

// Policy returns the security policy the service enforces; the session
// cookie's lifetime follows its SessionMax.
func (s *Service) Policy() Policy { return s.policy }

// Open migrates the auth tables and returns the service.
func Open(ctx context.Context, store *db.DB, orgs *org.Service, policy Policy) (*Service, error) {
	if err := store.Migrate(ctx, "auth", migrations); err != nil {
		return nil, err
	}
	return &Service{db: store, orgs: orgs, policy: policy, perIP: map[string]*rate.Limiter{}}, nil
}

var usernameRE = regexp.MustCompile(`^[a-z][a-z0-9_.-]{2,31}$`)

// UserInput creates or updates a user.
type UserInput struct {
	Username    string `json:"username" maxLength:"32"`
	DisplayName string `json:"display_name" maxLength:"50"`
	BodyID      int64  `json:"body_id"`
	Email       string `json:"email,omitempty" maxLength:"100"`
	Phone       string `json:"phone,omitempty" maxLength:"20"`
	Password    string `json:"password,omitempty" maxLength:"128"`
}

var (
	emailRE = regexp.MustCompile(`^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$`)
	phoneRE = regexp.MustCompile(`^[0-9+\-]{7,20}$`)
)

func (s *Service) checkUser(ctx context.Context, in *UserInput, creating bool) error {
	var fs errs.Fields
	in.Username = strings.ToLower(strings.TrimSpace(in.Username))
	if creating && !usernameRE.MatchString(in.Username) {
		fs.Add("username", "user.username", "用户名须为 3–32 位小写字母、数字、点、下划线或连字符，并以字母开头", "the username must be 3–32 lower-case letters, digits, '.', '_' or '-', starting with a letter")
	}
	in.DisplayName = valid.Line(&fs, "display_name", "姓名", in.DisplayName, 1, 50)
	if in.Email = strings.TrimSpace(in.Email); in.Email != "" && !emailRE.MatchString(in.Email) {
		fs.Add("email", "user.email", "邮箱格式不正确", "the e-mail address is not valid")
	}
	if in.Phone = strings.TrimSpace(in.Phone); in.Phone != "" && !phoneRE.MatchString(in.Phone) {
		fs.Add("phone", "user.phone", "电话号码格式不正确", "the phone number is not valid")
	}
	if b, err := s.orgs.Body(ctx, in.BodyID); err != nil {
		fs.Add("body_id", "org.body_not_found", "所属机构不存在", "the body does not exist")
	} else if !b.Enabled {
		fs.Add("body_id", "org.body_disabled", "所属机构已停用", "the body is disabled")
	}
	if creating {
		if err := CheckPasswordPolicy(in.Username, in.Password); err != nil {
			e, _ := errs.As(err)
			fs = append(fs, e.Fields...)
		}
	}
	return fs.Err()
}

// CreateUser adds a user with the given password and no roles.
func (s *Service) CreateUser(ctx context.Context, in UserInput) (User, error) {
	if err := s.checkUser(ctx, &in, true); err != nil {
		return User{}, err
	}
	hash := HashPassword(in.Password)
	var id int64
	err := s.db.Tx(ctx, func(tx *db.Tx) error {
		return tx.QueryRow(`INSERT INTO users(username, display_name, body_id, email, phone, password_hash, password_at, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $7) RETURNING id`,
			in.Username, in.DisplayName, in.BodyID, in.Email, in.Phone, hash, tx.Now).Scan(&id)
	})
	if db.IsUniqueViolation(err) {
		return User{}, errs.Conflict("user.exists", "用户名已存在", "the username is taken")
	}
	if err != nil {
		return User{}, db.Check(err)
	}
	return s.User(ctx, id)
}

// UpdateUser changes a user's name, body and contact details. actor is the
// user making the change (0: the platform's own command line); see guard.
func (s *Service) UpdateUser(ctx context.Context, actor, id int64, in UserInput) (User, error) {
	u, err := s.User(ctx, id)
	if err != nil {
		return User{}, err
	}
	in.Username = u.Username
	if err := s.checkUser(ctx, &in, false); err != nil {
		return User{}, err
	}
	err = s.db.Tx(ctx, func(tx *db.Tx) error {
		if _, err := guard(tx, actor, id); err != nil {
			return err
		}
		return tx.Run(`UPDATE users SET display_name=$1, body_id=$2, email=$3, phone=$4, updated_at=$5 WHERE id=$6`,
			in.DisplayName, in.BodyID, in.Email, in.Phone, tx.Now, id)
	})
	if err != nil {
		return User{}, db.Check(err)
	}
	return s.User(ctx, id)
}

// SetPassword replaces a user's password, ends their sessions, revokes their
// API tokens and clears a lock-out: whoever knew the old password (or held
// a token issued under it) is shut out. actor is the user making the change
// (0: the platform's own command line); see guard.
func (s *Service) SetPassword(ctx context.Context, actor, id int64, pw string) error {
	u, err := s.User(ctx, id)
	if err != nil {
		return err
	}
	if err := CheckPasswordPolicy(u.Username, pw); err != nil {
		return err
	}
	hash := HashPassword(pw)
	return db.Check(s.db.Tx(ctx, func(tx *db.Tx) error {
		if _, err := guard(tx, actor, id); err != nil {
			return err
		}
		if err := tx.Run(`UPDATE users SET password_hash=$1, password_at=$2, updated_at=$2, failed_count=0, locked_until=NULL WHERE id=$3`, hash, tx.Now, id); err != nil {
			return err
		}
		if err := tx.Run(`UPDATE api_tokens SET revoked_at=$1 WHERE user_id=$2 AND revoked_at IS NULL`, tx.Now, id); err != nil {
			return err
		}
		return tx.Run(`DELETE FROM sessions WHERE user_id=$1`, id)
	}))
}

// ChangeOwnPassword checks the current password before setting a new one;
// like SetPassword it ends every session and revokes every API token of
// the user, the ones in use included.
func (s *Service) ChangeOwnPassword(ctx context.Context, id int64, current, next string) error {
	var hash string
	rctx, cancel := s.db.Ctx(ctx)
	err := s.db.R.QueryRowContext(rctx, `SELECT password_hash FROM users WHERE id=$1`, id).Scan(&hash)
	cancel()
	if errors.Is(err, sql.ErrNoRows) {
		return ErrUserNotFound
	}
	if err != nil {
		return db.Check(err)
	}
	if !CheckPassword(hash, current) {
		var fs errs.Fields
		fs.Add("current_password", "password.wrong", "当前密码不正确", "the current password is wrong")
		return fs.Err()
	}
	return s.SetPassword(ctx, id, id, next)
}

// SetDisabled disables or re-enables a user; disabling ends their sessions
// (their API tokens stop working while the account is disabled), so
// re-enabling restores access. actor is the user making the change (0: the
// platform's own command line); see guard.
func (s *Service) SetDisabled(ctx context.Context, actor, id int64, disabled bool) (User, error) {
	err := s.db.Tx(ctx, func(tx *db.Tx) error {
		if _, err := guard(tx, actor, id); err != nil {
			return err
		}
		if err := tx.Run(`UPDATE users SET disabled=$1, updated_at=$2 WHERE id=$3`, disabled, tx.Now, id); err != nil {
			return err
		}
		if disabled {
			return tx.Run(`DELETE FROM sessions WHERE user_id=$1`, id)
		}
		return tx.Run(`UPDATE users SET failed_count=0, locked_until=NULL WHERE id=$1`, id)
	})
	if err != nil {
		return User{}, db.Check(err)
	}
	return s.User(ctx, id)
}

// Unlock clears a lock-out after failed logins. It gives no one a
// credential, so the security officer may unlock any account.
func (s *Service) Unlock(ctx context.Context, id int64) error {
	var n int64
	err := s.db.Tx(ctx, func(tx *db.Tx) error {
		res, err := tx.Exec(`UPDATE users SET failed_count=0, locked_until=NULL WHERE id=$1`, id)
		if err == nil {
			n, _ = res.RowsAffected()
		}
		return err
	})
	if err == nil && n == 0 {
		return ErrUserNotFound
	}
	return db.Check(err)
}

// Errors of role grants (三员分立).
var (
	ErrSeparation = errs.Conflict("role.separation", "系统管理员、安全保密管理员、安全审计员须由不同人员担任（三员分立）",
		"the administrator, security officer and auditor roles must be held by different people")
	ErrAuditorExclusive = errs.Conflict("role.auditor_exclusive", "安全审计员不能兼任其他角色：审计人员不得修改数据",
		"an auditor cannot hold any other role: auditors must not change data")
	ErrSelfGrant  = errs.Forbidden("role.self_grant", "不能给自己授予角色", "you cannot grant roles to yourself")
	ErrSelfRevoke = errs.Forbidden("role.self_revoke", "不能撤销自己的角色", "you cannot revoke your own roles")
)

// GrantRole gives user id role r at body bodyID. Platform roles are held at
// the platform's own body but act everywhere; the 三员 may not be combined,
// an auditor holds no other role at all, no one grants themselves a role,
// and a 三员 account is changed only by a holder of its own role (guard).
// Every check reads the user's roles inside the write transaction, with the
// user's row locked, so two concurrent grants cannot both pass.
func (s *Service) GrantRole(ctx context.Context, granter, id int64, r Role, bodyID int64) error {
	if !r.Valid() {
		return errs.Invalid("role.unknown", "未知角色", "unknown role")
	}
	if _, err := s.orgs.Body(ctx, bodyID); err != nil {
		return err
	}
	if granter != 0 && granter == id {
		return ErrSelfGrant
	}
	return db.Check(s.db.Tx(ctx, func(tx *db.Tx) error {
		held, err := lockUser(tx, id)
		if err != nil {
			return err
		}
		if slices.Contains(threeRoles, r) {
			for _, g := range held {
				if g != r && slices.Contains(threeRoles, g) {
					return ErrSeparation
				}
			}
		}
		// An auditor only reads the audit trail; any other role would let the
		// same person change what they audit.
		for _, g := range held {
			if g != r && (g == RoleAuditor || r == RoleAuditor) {
				return ErrAuditorExclusive
			}
		}
		if err := checkActor(tx, granter, id, held); err != nil {
			return err
		}
		return tx.Run(`INSERT INTO user_roles(user_id, role, body_id, granted_by, granted_at) VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (user_id, role, body_id) DO NOTHING`, id, r, bodyID, nullInt(granter), tx.Now)
	}))
}

// RevokeRole removes a role grant; like a grant, it is refused on a 三员
// account the revoker does not share the role of (guard).
func (s *Service) RevokeRole(ctx context.Context, revoker, id int64, r Role, bodyID int64) error {
	if revoker != 0 && revoker == id {
		return ErrSelfRevoke
	}
	var n int64
	err := s.db.Tx(ctx, func(tx *db.Tx) error {
		if _, err := guard(tx, revoker, id); err != nil {
			return err
		}
		res, err := tx.Exec(`DELETE FROM user_roles WHERE user_id=$1 AND role=$2 AND body_id=$3`, id, r, bodyID)
		if err == nil {
			n, _ = res.RowsAffected()
		}
		return err
	})
	if err == nil && n == 0 {
		return errs.NotFound("role.not_held", "该用户没有这个角色", "the user does not hold this role")
	}
	return db.Check(err)
}

// The body's name is not read here: bodies belong to org, and names are
// filled in by (*Service).name.
const userCols = `u.id, u.username, u.display_name, u.body_id, u.email, u.phone, u.disabled, u.locked_until, u.last_login_at, u.created_at`

// scanUser scans userCols, with the columns lead before them and trail
// after them; a locked_until in the past (before now) is no lock.
func scanUser(sc interface{ Scan(...any) error }, now time.Time, lead, trail []any) (User, error) {
	var u User
	var locked, last, created db.Time
	dest := slices.Concat(lead, []any{&u.ID, &u.Username, &u.DisplayName, &u.BodyID, &u.Email, &u.Phone, &u.Disabled, &locked, &last, &created}, trail)
	err := sc.Scan(dest...)
	if !locked.IsZero() && locked.After(now) {
		t := locked.Time
		u.LockedUntil = &t
	}
	if !last.IsZero() {
		t := last.Time
		u.LastLoginAt = &t
	}
	u.CreatedAt = created.Time
	return u, err
}

// userWithRoles runs q, which selects lead, userCols and then r.role,
// r.body_id from a LEFT JOIN of user_roles r (one row per role, ordered), and
// returns the user with roles and body names: the user and their roles in
// one statement. It returns sql.ErrNoRows when q selects nothing.
func (s *Service) userWithRoles(ctx context.Context, q string, args []any, lead ...any) (User, error) {
	rctx, cancel := s.db.Ctx(ctx)
	defer cancel()
	rows, err := s.db.R.QueryContext(rctx, q, args...)
	if err != nil {
		return User{}, db.Check(err)
	}
	defer rows.Close()
	now := s.db.Now().Time
	var (
		u     User
		found bool
	)
	for rows.Next() {
		var role sql.NullString
		var body sql.NullInt64
		x, err := scanUser(rows, now, lead, []any{&role, &body})
		if err != nil {
			return User{}, err
		}
		if !found {
			u, found = x, true
			u.Roles = []Grant{}
		}
		if role.Valid {
			u.Roles = append(u.Roles, Grant{Role: Role(role.String), BodyID: body.Int64})
		}
	}
	if err := rows.Err(); err != nil {
		return User{}, db.Check(err)
	}
	if !found {
		return User{}, sql.ErrNoRows
	}
	rows.Close()
	err = s.name(ctx, []*User{&u})
	return u, err
}

// name fills in the names of the users' bodies and of the bodies their
// roles are held at, asking org (which owns bodies) once for all of them.
func (s *Service) name(ctx context.Context, users []*User) error {
	var ids []int64
	for _, u := range users {
		ids = append(ids, u.BodyID)
		for _, g := range u.Roles {
			ids = append(ids, g.BodyID)
		}
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	if len(ids) == 0 {
		return nil
	}
	bodies, err := s.orgs.BodiesByID(ctx, ids)
	if err != nil {
		return db.Check(err)
	}
	for _, u := range users {
		u.BodyName = bodies[u.BodyID].Name
		for i := range u.Roles {
			u.Roles[i].BodyName = bodies[u.Roles[i].BodyID].Name
		}
	}
	return nil
}

// ErrUserNotFound is returned for an unknown user.
var ErrUserNotFound = errs.NotFound("user.not_found", "用户不存在", "no such user")

// User returns one user with roles.
func (s *Service) User(ctx context.Context, id int64) (User, error) {
	u, err := s.userWithRoles(ctx, `SELECT `+userCols+`, r.role, r.body_id FROM users u
		LEFT JOIN user_roles r ON r.user_id = u.id WHERE u.id=$1 ORDER BY r.role, r.body_id`, []any{id})
	if errors.Is(err, sql.ErrNoRows) {
		return User{}, ErrUserNotFound
	}
	return u, err
}

// UserByName returns one user by username.
func (s *Service) UserByName(ctx context.Context, username string) (User, error) {
	u, err := s.userWithRoles(ctx, `SELECT `+userCols+`, r.role, r.body_id FROM users u
		LEFT JOIN user_roles r ON r.user_id = u.id WHERE u.username=$1 ORDER BY r.role, r.body_id`, []any{strings.ToLower(strings.TrimSpace(username))})
	if errors.Is(err, sql.ErrNoRows) {
		return User{}, ErrUserNotFound
	}
	return u, err
}

// UserFilter narrows a user listing.
type UserFilter struct {
	Q      string
	BodyID int64
	Role   Role
	Offset int
	Limit  int
}

// Users lists users with their roles, and the total: three statements
// (count, page, the page's roles) and one call to org for body names.
func (s *Service) Users(ctx context.Context, f UserFilter) ([]User, int, error) {
	rctx, cancel := s.db.Ctx(ctx)
	defer cancel()
	var a db.Args
	where := []string{"1=1"}
	if f.Q != "" {
		p := a.Add(db.Like(f.Q))
		where = append(where, "("+s.db.Dialect.ILike("u.username", p)+" OR "+s.db.Dialect.ILike("u.display_name", p)+")")
	}
	if f.BodyID != 0 {
		where = append(where, "u.body_id = "+a.Add(f.BodyID))
	}
	if f.Role != "" {
		where = append(where, "EXISTS (SELECT 1 FROM user_roles r WHERE r.user_id = u.id AND r.role = "+a.Add(string(f.Role))+")")
	}
	cond := strings.Join(where, " AND ")
	var total int
	if err := s.db.R.QueryRowContext(rctx, `SELECT COUNT(*) FROM users u WHERE `+cond, a...).Scan(&total); err != nil {
		return nil, 0, db.Check(err)
	}
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 50
	}
	q := `SELECT ` + userCols + ` FROM users u WHERE ` + cond + ` ORDER BY u.id LIMIT ` + a.Add(f.Limit) + ` OFFSET ` + a.Add(f.Offset)
	rows, err := s.db.R.QueryContext(rctx, q, a...)
	if err != nil {
		return nil, 0, db.Check(err)
	}
	now := s.db.Now().Time
	out := []User{}
	byID := map[int64]int{}
	for rows.Next() {
		u, err := scanUser(rows, now, nil, nil)
		if err != nil {
			rows.Close()
			return nil, 0, err
		}
		u.Roles = []Grant{}
		byID[u.ID] = len(out)
		out = append(out, u)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, 0, db.Check(err)
	}
	if len(out) == 0 {
		return out, total, nil
	}
	ids := make([]int64, len(out))
	for i, u := range out {
		ids[i] = u.ID
	}
	rq, args := db.InList(`SELECT user_id, role, body_id FROM user_roles WHERE user_id IN `, ids)
	rrows, err := s.db.R.QueryContext(rctx, rq+` ORDER BY user_id, role, body_id`, args...)
	if err != nil {
		return nil, 0, db.Check(err)
	}
	for rrows.Next() {
		var uid int64
		var g Grant
		if err := rrows.Scan(&uid, &g.Role, &g.BodyID); err != nil {
			rrows.Close()
			return nil, 0, err
		}
		i := byID[uid]
		out[i].Roles = append(out[i].Roles, g)
	}
	rrows.Close()
	if err := rrows.Err(); err != nil {
		return nil, 0, db.Check(err)
	}
	ptrs := make([]*User, len(out))
	for i := range out {
		ptrs[i] = &out[i]
	}
	return out, total, s.name(ctx, ptrs)
}

func nullInt(v int64) any {
	if v == 0 {
		return nil
	}
	return v
}

// newSecret returns a random URL-safe secret and its SHA-256 hex digest.
func newSecret(prefix string) (secret, hash string) {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	secret = prefix + base64.RawURLEncoding.EncodeToString(b)
	return secret, hashSecret(secret)
}

func hashSecret(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}
