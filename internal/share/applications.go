package share

import (
	"context"
	"encoding/hex"
	"slices"
	"strings"
	"time"

	"xiangyun/internal/auth"
	"xiangyun/internal/db"
	"xiangyun/internal/errs"
	"xiangyun/internal/valid"
)

// Application statuses.
const (
	AppActive  = "active"
	AppRevoked = "revoked"
)

// Application is a consuming body's application (应用): a system that calls
// the gateway.
type Application struct {
	ID               int64     `json:"id"`
	BodyID           int64     `json:"body_id"`
	Body             string    `json:"body"`
	Name             string    `json:"name"`
	Purpose          string    `json:"purpose"`
	Contact          string    `json:"contact,omitempty"`
	Systems          string    `json:"systems,omitempty" doc:"the systems it serves"`
	RequireSignature bool      `json:"require_signature" doc:"calls must be HMAC-signed"`
	Status           string    `json:"status" doc:"active, revoked"`
	CreatedBy        string    `json:"created_by"`
	CreatedAt        time.Time `json:"created_at"`
	Keys             []Key     `json:"keys"`
}

// Key is one credential of an application as its owners see it: never the
// secret.
type Key struct {
	KeyID     string     `json:"key_id"`
	CreatedAt time.Time  `json:"created_at"`
	NotAfter  *time.Time `json:"not_after,omitempty" doc:"end of a rotated-out key's overlap period"`
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
	Live      bool       `json:"live"`
}

// AppInput creates or changes an application.
type AppInput struct {
	BodyID           int64  `json:"body_id,omitempty" doc:"the consuming body; default: the caller's"`
	Name             string `json:"name"`
	Purpose          string `json:"purpose"`
	Contact          string `json:"contact,omitempty"`
	Systems          string `json:"systems,omitempty"`
	RequireSignature bool   `json:"require_signature,omitempty"`
}

// NewKey is a credential just made: the only time its secret is shown.
type NewKey struct {
	AppID  int64  `json:"id"`
	KeyID  string `json:"key_id"`
	Secret string `json:"secret" doc:"shown once; keep it safe"`
}

var errAppForbidden = errs.Forbidden("share.app_forbidden", "只能管理本单位的应用", "you may only manage your own body's applications")

// applyBody picks the consuming body p acts for: body when given (p must
// hold share.apply there), else p's own body or its only one.
func applyBody(p *auth.Principal, body int64) (int64, error) {
	bs := p.BodiesWith(auth.PermShareApply)
	if body != 0 {
		if !slices.Contains(bs, body) {
			return 0, errAppForbidden
		}
		return body, nil
	}
	if p != nil && slices.Contains(bs, p.User.BodyID) {
		return p.User.BodyID, nil
	}
	if len(bs) == 1 {
		return bs[0], nil
	}
	if len(bs) == 0 {
		return 0, errAppForbidden
	}
	return 0, errs.Invalid("share.body_required", "请指定应用所属单位", "say which body the application belongs to (body_id)")
}

func checkApp(in *AppInput) error {
	var fs errs.Fields
	in.Name = valid.Line(&fs, "name", "应用名称", in.Name, 2, 100)
	in.Purpose = valid.Text(&fs, "purpose", in.Purpose, 2, 1000)
	in.Contact = valid.Line(&fs, "contact", "联系人", in.Contact, 0, 200)
	in.Systems = valid.Text(&fs, "systems", in.Systems, 0, 1000)
	return fs.Err()
}

// CreateApplication registers an application of a consuming body (its chief
// data officer) with its first credential.
func (s *Service) CreateApplication(ctx context.Context, p *auth.Principal, in AppInput) (NewKey, error) {
	body, err := applyBody(p, in.BodyID)
	if p == System {
		body, err = in.BodyID, nil
	}
	if err != nil {
		return NewKey{}, err
	}
	if err := checkApp(&in); err != nil {
		return NewKey{}, err
	}
	_, who := actor(p)
	var out NewKey
	err = s.db.Tx(ctx, func(tx *db.Tx) error {
		if err := tx.QueryRow(`INSERT INTO share_applications (body_id, name, purpose, contact, systems, require_signature, status, created_by, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) RETURNING id`, body, in.Name, in.Purpose, in.Contact, in.Systems, in.RequireSignature,
			AppActive, who, tx.Now).Scan(&out.AppID); err != nil {
			return err
		}
		k, err := s.addKey(tx, out.AppID, who)
		out.KeyID, out.Secret = k.KeyID, k.Secret
		return err
	})
	return out, db.Check(err)
}

// addKey makes a new credential of app in tx.
func (s *Service) addKey(tx *db.Tx, app int64, who string) (NewKey, error) {
	id, secret := newCredential()
	sealed, err := s.seal(id, SigningKey(secret))
	if err != nil {
		return NewKey{}, err
	}
	h := SecretHash(secret)
	if err := tx.Run(`INSERT INTO share_credentials (key_id, app_id, secret_hash, signing_sealed, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6)`,
		id, app, hex.EncodeToString(h[:]), sealed, who, tx.Now); err != nil {
		return NewKey{}, err
	}
	return NewKey{AppID: app, KeyID: id, Secret: secret}, s.bump(tx)
}

// ownApp loads an application p may manage (its body's CDO).
func (s *Service) ownApp(ctx context.Context, p *auth.Principal, id int64) (Application, error) {
	a, err := s.app(ctx, id)
	if err != nil {
		return a, err
	}
	if p != System && !bodyRole(p, auth.PermShareApply, a.BodyID) {
		return Application{}, errAppForbidden
	}
	return a, nil
}

// RotateKey makes a new credential; the application's live keys keep
// working for overlap (default Options.Overlap), then end.
func (s *Service) RotateKey(ctx context.Context, p *auth.Principal, app int64, overlap time.Duration) (NewKey, error) {
	a, err := s.ownApp(ctx, p, app)
	if err != nil {
		return NewKey{}, err
	}
	if a.Status != AppActive {
		return NewKey{}, errs.Conflict("share.app_revoked", "应用已停用", "the application is revoked")
	}
	if overlap <= 0 {
		overlap = s.opts.Overlap
	}
	_, who := actor(p)
	var out NewKey
	err = s.db.Tx(ctx, func(tx *db.Tx) error {
		end := db.Time{Time: tx.Now.Add(overlap)}
		if err := tx.Run(`UPDATE share_credentials SET not_after = $1 WHERE app_id = $2 AND revoked_at IS NULL AND (not_after IS NULL OR not_after > $1)`,
			end, app); err != nil {
			return err
		}
		out, err = s.addKey(tx, app, who)
		return err
	})
	return out, db.Check(err)
}

// RevokeKey ends one credential at once.
func (s *Service) RevokeKey(ctx context.Context, p *auth.Principal, app int64, keyID string) error {
	if _, err := s.ownApp(ctx, p, app); err != nil {
		return err
	}
	_, who := actor(p)
	return db.Check(s.db.Tx(ctx, func(tx *db.Tx) error {
		r, err := tx.Exec(`UPDATE share_credentials SET revoked_at = $1, revoked_by = $2 WHERE key_id = $3 AND app_id = $4 AND revoked_at IS NULL`,
			tx.Now, who, keyID, app)
		if err != nil {
			return err
		}
		if n, _ := r.RowsAffected(); n != 1 {
			return errs.NotFound("share.key_not_found", "凭据不存在或已吊销", "no such live key")
		}
		return s.bump(tx)
	}))
}

// RevokeApplication stops an application: its keys end at once.
func (s *Service) RevokeApplication(ctx context.Context, p *auth.Principal, app int64) error {
	if _, err := s.ownApp(ctx, p, app); err != nil {
		return err
	}
	_, who := actor(p)
	return db.Check(s.db.Tx(ctx, func(tx *db.Tx) error {
		r, err := tx.Exec(`UPDATE share_applications SET status = $1, updated_at = $2 WHERE id = $3 AND status = $4`, AppRevoked, tx.Now, app, AppActive)
		if err != nil {
			return err
		}
		if n, _ := r.RowsAffected(); n != 1 {
			return errs.Conflict("share.app_revoked", "应用已停用", "the application is revoked")
		}
		if err := tx.Run(`UPDATE share_credentials SET revoked_at = $1, revoked_by = $2 WHERE app_id = $3 AND revoked_at IS NULL`, tx.Now, who, app); err != nil {
			return err
		}
		return s.bump(tx)
	}))
}

// UpdateApplication changes an application's description.
func (s *Service) UpdateApplication(ctx context.Context, p *auth.Principal, app int64, in AppInput) (Application, error) {
	if _, err := s.ownApp(ctx, p, app); err != nil {
		return Application{}, err
	}
	if err := checkApp(&in); err != nil {
		return Application{}, err
	}
	err := s.db.Tx(ctx, func(tx *db.Tx) error {
		if err := tx.Run(`UPDATE share_applications SET name = $1, purpose = $2, contact = $3, systems = $4, require_signature = $5, updated_at = $6 WHERE id = $7`,
			in.Name, in.Purpose, in.Contact, in.Systems, in.RequireSignature, tx.Now, app); err != nil {
			return err
		}
		return s.bump(tx) // require_signature is part of the snapshot
	})
	if err != nil {
		return Application{}, db.Check(err)
	}
	return s.app(ctx, app)
}

const appSelect = `SELECT id, body_id, name, purpose, contact, systems, require_signature, status, created_by, created_at FROM share_applications`

func (s *Service) scanApps(ctx context.Context, q string, args ...any) ([]Application, error) {
	ctx, cancel := s.db.Ctx(ctx)
	defer cancel()
	rows, err := s.db.R.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, db.Check(err)
	}
	out := []Application{}
	idx := map[int64]int{}
	for rows.Next() {
		var a Application
		var at db.Time
		if err := rows.Scan(&a.ID, &a.BodyID, &a.Name, &a.Purpose, &a.Contact, &a.Systems, &a.RequireSignature, &a.Status, &a.CreatedBy, &at); err != nil {
			rows.Close()
			return nil, db.Check(err)
		}
		a.CreatedAt, a.Keys = at.Time, []Key{}
		idx[a.ID] = len(out)
		out = append(out, a)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, db.Check(err)
	}
	if len(out) == 0 {
		return out, nil
	}
	ids := make([]int64, len(out))
	for i, a := range out {
		ids[i] = a.ID
	}
	q2, args2 := db.InList(`SELECT app_id, key_id, created_at, not_after, revoked_at FROM share_credentials WHERE app_id IN `, ids)
	krows, err := s.db.R.QueryContext(ctx, q2+` ORDER BY created_at, key_id`, args2...)
	if err != nil {
		return nil, db.Check(err)
	}
	defer krows.Close()
	now := s.now()
	for krows.Next() {
		var app int64
		var k Key
		var created, notAfter, revoked db.Time
		if err := krows.Scan(&app, &k.KeyID, &created, &notAfter, &revoked); err != nil {
			return nil, db.Check(err)
		}
		k.CreatedAt, k.NotAfter, k.RevokedAt = created.Time, ptime(notAfter), ptime(revoked)
		k.Live = revoked.IsZero() && (notAfter.IsZero() || now.Before(notAfter.Time))
		a := &out[idx[app]]
		a.Keys = append(a.Keys, k)
	}
	if err := krows.Err(); err != nil {
		return nil, db.Check(err)
	}
	for i := range out {
		out[i].Body = s.bodyName(ctx, out[i].BodyID)
	}
	return out, nil
}

func (s *Service) app(ctx context.Context, id int64) (Application, error) {
	as, err := s.scanApps(ctx, appSelect+` WHERE id = $1`, id)
	if err != nil {
		return Application{}, err
	}
	if len(as) == 0 {
		return Application{}, errAppNotFound
	}
	return as[0], nil
}

// Application returns an application p may see: its body's staff and
// platform reviewers.
func (s *Service) Application(ctx context.Context, p *auth.Principal, id int64) (Application, error) {
	a, err := s.app(ctx, id)
	if err != nil {
		return a, err
	}
	if p != System && !p.HasAt(auth.PermShareRead, a.BodyID) {
		return Application{}, errAppNotFound
	}
	return a, nil
}

// Applications lists the applications of the bodies p acts for; reviewers
// see all.
func (s *Service) Applications(ctx context.Context, p *auth.Principal) ([]Application, error) {
	if p == System || p.Global(auth.PermShareRead) {
		return s.scanApps(ctx, appSelect+` ORDER BY id DESC`)
	}
	bs := p.BodiesWith(auth.PermShareRead)
	if len(bs) == 0 {
		return []Application{}, nil
	}
	q, args := db.InList(appSelect+` WHERE body_id IN `, bs)
	return s.scanApps(ctx, q+` ORDER BY id DESC`, args...)
}

func (s *Service) bodyName(ctx context.Context, id int64) string {
	if s.orgs == nil {
		return ""
	}
	b, err := s.orgs.Body(ctx, id)
	if err != nil {
		return ""
	}
	return b.Name
}

// AppNames returns the names of the applications with the given ids, for
// reports that hold only ids (the call statistics). Unknown ids are left out.
func (s *Service) AppNames(ctx context.Context, ids []int64) (map[int64]string, error) {
	out := make(map[int64]string, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	var args db.Args
	marks := make([]string, len(ids))
	for i, id := range ids {
		marks[i] = args.Add(id)
	}
	ctx, cancel := s.db.Ctx(ctx)
	defer cancel()
	rows, err := s.db.R.QueryContext(ctx, `SELECT id, name FROM share_applications WHERE id IN (`+strings.Join(marks, ", ")+`)`, args...)
	if err != nil {
		return nil, db.Check(err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			id   int64
			name string
		)
		if err := rows.Scan(&id, &name); err != nil {
			return nil, db.Check(err)
		}
		out[id] = name
	}
	return out, db.Check(rows.Err())
}
