package share

import (
	"context"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"time"

	"xiangyun/internal/auth"
	"xiangyun/internal/catalog"
	"xiangyun/internal/db"
	"xiangyun/internal/errs"
	"xiangyun/internal/valid"
)

// Grant statuses as stored; "expired" is shown for an active grant past
// its validity.
const (
	GrantActive     = "active"
	GrantRevoked    = "revoked"
	GrantSuperseded = "superseded"
	GrantExpired    = "expired"
)

// GrantInfo is a sharing agreement (共享授权) as the console and API show it.
type GrantInfo struct {
	ID           int64             `json:"id"`
	RequestID    int64             `json:"request_id"`
	AppID        int64             `json:"application_id"`
	App          string            `json:"application"`
	BodyID       int64             `json:"body_id" doc:"the consuming body"`
	Body         string            `json:"body"`
	EntryID      int64             `json:"entry_id"`
	EntryCode    string            `json:"entry_code"`
	EntryName    string            `json:"entry_name"`
	ProviderID   int64             `json:"provider_id"`
	Provider     string            `json:"provider"`
	Items        []string          `json:"items"`
	ClearItems   []string          `json:"clear_items" doc:"items granted unmasked"`
	RowScope     map[string]string `json:"row_scope,omitempty"`
	Rate         int               `json:"rate_per_second"`
	Burst        int               `json:"burst"`
	DailyQuota   int64             `json:"daily_quota"`
	ValidFrom    time.Time         `json:"valid_from"`
	ValidTo      *time.Time        `json:"valid_to,omitempty"`
	Purpose      string            `json:"purpose"`
	Scenario     string            `json:"scenario,omitempty"`
	Status       string            `json:"status" doc:"active, expired, revoked, superseded"`
	CreatedAt    time.Time         `json:"created_at"`
	RevokedAt    *time.Time        `json:"revoked_at,omitempty"`
	RevokedBy    string            `json:"revoked_by,omitempty"`
	RevokeReason string            `json:"revoke_reason,omitempty"`
	CanRevoke    bool              `json:"can_revoke"`
}

func (s *Service) checkTerms(fs *errs.Fields, t *Terms, items []string) {
	t.ClearItems = normItems(fs, "clear_items", t.ClearItems)
	for _, c := range t.ClearItems {
		if !slices.Contains(items, c) {
			fs.Add("clear_items", "share.clear_not_granted", "明文信息项须在申请的信息项之内："+c, "clear items must be among the items asked for: "+c)
		}
	}
	if t.Rate == 0 {
		t.Rate = s.opts.Rate
	}
	if t.Burst == 0 {
		t.Burst = max(s.opts.Burst, t.Rate)
	}
	if t.DailyQuota == 0 {
		t.DailyQuota = s.opts.DailyQuota
	}
	if t.Rate < 0 || t.Rate > 100000 {
		fs.Add("rate_per_second", "share.bad_rate", "速率须在 1 到 100000 次/秒之间", "the rate must be 1 to 100000 calls a second")
	}
	if t.Burst < t.Rate {
		fs.Add("burst", "share.bad_burst", "突发量不能小于速率", "the burst may not be below the rate")
	}
	if t.DailyQuota < 0 {
		fs.Add("daily_quota", "share.bad_quota", "每日配额不能为负", "the daily quota may not be negative")
	}
}

// grant makes the grant of request r on terms in tx (the request's status
// becomes granted), supersedes the application's older grant on the entry,
// raises share_version and tells the parties.
func (s *Service) grant(tx *db.Tx, p *auth.Principal, r reqRow, t Terms, scenario, action, comment string) error {
	var fs errs.Fields
	s.checkTerms(&fs, &t, r.items)
	if err := fs.Err(); err != nil {
		return err
	}
	_, who := actor(p)
	// Grants of one application are made one at a time (the row lock on
	// PostgreSQL; SQLite has one writer): the newer one supersedes the
	// older, and the one active grant per application and entry holds.
	// NO KEY UPDATE: the foreign keys of rows this transaction inserted
	// already hold KEY SHARE on the row, which it does not conflict with.
	lockSQL := `SELECT id FROM share_applications WHERE id = $1`
	if tx.Dialect == db.Postgres {
		lockSQL += ` FOR NO KEY UPDATE`
	}
	var lock int64
	if err := tx.QueryRow(lockSQL, r.app).Scan(&lock); err != nil {
		return err
	}
	if err := tx.Run(`UPDATE share_grants SET status = $1, revoked_at = $2, revoked_by = $3, revoke_reason = $4 WHERE app_id = $5 AND entry_id = $6 AND status = $7`,
		GrantSuperseded, tx.Now, who, "由新的授权取代 / superseded by a newer grant (request "+strconv.FormatInt(r.id, 10)+")", r.app, r.entry, GrantActive); err != nil {
		return err
	}
	from := r.from
	if from.IsZero() || from.Before(tx.Now.Time) {
		from = tx.Now
	}
	var id int64
	if err := tx.QueryRow(`INSERT INTO share_grants (request_id, app_id, body_id, entry_id, provider_id, items, clear_items, row_scope, rate, burst, daily_quota,
		valid_from, valid_to, purpose, scenario, status, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17) RETURNING id`,
		r.id, r.app, r.body, r.entry, r.provider, jsonText(r.items), jsonText(t.ClearItems), jsonText(r.scope), t.Rate, t.Burst, t.DailyQuota,
		from, r.to, r.purpose, scenario, GrantActive, tx.Now).Scan(&id); err != nil {
		return err
	}
	if err := tx.Run(`UPDATE share_requests SET status = $1, grant_id = $2, decided_at = $3, updated_at = $3, due_at = NULL WHERE id = $4`,
		StatusGranted, id, tx.Now, r.id); err != nil {
		return err
	}
	if err := event(tx, p, r.id, action, r.step, comment); err != nil {
		return err
	}
	if err := s.bump(tx); err != nil {
		return err
	}
	// Recorded and visible to the provider (无条件共享 too): its chief data
	// officers are told, and the applicant's.
	g := "授权编号 " + strconv.FormatInt(id, 10) + "，信息项：" + strings.Join(r.items, "、")
	gEN := "grant " + strconv.FormatInt(id, 10) + ", items: " + strings.Join(r.items, ", ")
	if err := s.tellCDOs(tx, p, "share.granted", r.id, []int64{r.provider},
		"已共享："+r.name, "Shared: "+r.name, "您单位的目录（"+r.code+"）已向其他部门共享，"+g+"。", "Your body's entry ("+r.code+") is now shared, "+gEN+"."); err != nil {
		return err
	}
	return s.noticeApplicant(tx, p, r, "share.granted", "共享申请已通过："+r.name, "Share request granted: "+r.name, g+"。", gEN+".")
}

var errGrantNotFound = errs.NotFound("share.grant_not_found", "授权不存在", "no such grant")

// RevokeGrant ends a grant with a reason: the providing body's or the
// consuming body's chief data officer, or a platform reviewer. Of two
// concurrent revocations exactly one succeeds.
func (s *Service) RevokeGrant(ctx context.Context, p *auth.Principal, id int64, reason string) (GrantInfo, error) {
	var fs errs.Fields
	reason = valid.Text(&fs, "reason", reason, 2, 1000)
	if err := fs.Err(); err != nil {
		return GrantInfo{}, errs.Invalid("share.reason_required", "撤销授权须说明理由", "revoking a grant needs a reason")
	}
	g, err := s.Grant(ctx, p, id)
	if err != nil {
		return g, err
	}
	if !g.CanRevoke {
		if g.Status != GrantActive {
			return g, errs.Conflict("share.grant_ended", "授权已结束", "the grant has ended already")
		}
		return g, ErrForbidden
	}
	_, who := actor(p)
	err = s.db.Tx(ctx, func(tx *db.Tx) error {
		res, err := tx.Exec(`UPDATE share_grants SET status = $1, revoked_at = $2, revoked_by = $3, revoke_reason = $4 WHERE id = $5 AND status = $6`,
			GrantRevoked, tx.Now, who, reason, id, GrantActive)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return errs.Conflict("share.grant_ended", "授权已结束（可能已被他人撤销）", "the grant has ended already (perhaps revoked by someone else)")
		}
		if err := event(tx, p, g.RequestID, "revoked", "", reason); err != nil {
			return err
		}
		if err := s.bump(tx); err != nil {
			return err
		}
		return s.tellCDOs(tx, p, "share.revoked", g.RequestID, []int64{g.BodyID, g.ProviderID}, "共享授权已撤销："+g.EntryName, "Grant revoked: "+g.EntryName,
			"授权编号 "+strconv.FormatInt(id, 10)+" 已由 "+who+" 撤销。理由："+reason, "Grant "+strconv.FormatInt(id, 10)+" was revoked by "+who+". Reason: "+reason)
	})
	if err != nil {
		return GrantInfo{}, db.Check(err)
	}
	return s.Grant(ctx, p, id)
}

const grantSelect = `SELECT g.id, g.request_id, g.app_id, a.name, g.body_id, g.entry_id, g.provider_id, g.items, g.clear_items, g.row_scope, g.rate, g.burst,
	g.daily_quota, g.valid_from, g.valid_to, g.purpose, g.scenario, g.status, g.created_at, g.revoked_at, g.revoked_by, g.revoke_reason
	FROM share_grants g JOIN share_applications a ON a.id = g.app_id`

func (s *Service) scanGrants(ctx context.Context, p *auth.Principal, q string, args ...any) ([]GrantInfo, error) {
	rctx, cancel := s.db.Ctx(ctx)
	defer cancel()
	rows, err := s.db.R.QueryContext(rctx, q, args...)
	if err != nil {
		return nil, db.Check(err)
	}
	out := []GrantInfo{}
	for rows.Next() {
		var (
			g                         GrantInfo
			items, clear, scope       string
			from, to, created, revokd db.Time
		)
		if err := rows.Scan(&g.ID, &g.RequestID, &g.AppID, &g.App, &g.BodyID, &g.EntryID, &g.ProviderID, &items, &clear, &scope, &g.Rate, &g.Burst,
			&g.DailyQuota, &from, &to, &g.Purpose, &g.Scenario, &g.Status, &created, &revokd, &g.RevokedBy, &g.RevokeReason); err != nil {
			rows.Close()
			return nil, db.Check(err)
		}
		_ = json.Unmarshal([]byte(items), &g.Items)
		_ = json.Unmarshal([]byte(clear), &g.ClearItems)
		_ = json.Unmarshal([]byte(scope), &g.RowScope)
		if g.ClearItems == nil {
			g.ClearItems = []string{}
		}
		if len(g.RowScope) == 0 {
			g.RowScope = nil
		}
		g.ValidFrom, g.ValidTo, g.CreatedAt, g.RevokedAt = from.Time, ptime(to), created.Time, ptime(revokd)
		out = append(out, g)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, db.Check(err)
	}
	now := s.now()
	entries := map[int64]catalog.Entry{}
	for i := range out {
		g := &out[i]
		if g.Status == GrantActive && g.ValidTo != nil && !now.Before(*g.ValidTo) {
			g.Status = GrantExpired
		}
		e, ok := entries[g.EntryID]
		if !ok {
			if e, err = s.catalog.Get(ctx, catalog.System, g.EntryID); err != nil && db.IsUnavailable(err) {
				return nil, err
			}
			entries[g.EntryID] = e
		}
		g.EntryCode, g.EntryName, g.Provider = e.Code, e.Name, e.Provider
		g.Body = s.bodyName(ctx, g.BodyID)
		g.CanRevoke = g.Status == GrantActive && p != nil && p.Has(auth.PermShareApprove) &&
			(p == System || isReviewer(p) || bodyRole(p, auth.PermShareApprove, g.ProviderID) || bodyRole(p, auth.PermShareApply, g.BodyID))
	}
	return out, nil
}

// Grant returns one grant p may see (either party's staff, reviewers).
func (s *Service) Grant(ctx context.Context, p *auth.Principal, id int64) (GrantInfo, error) {
	gs, err := s.scanGrants(ctx, p, grantSelect+` WHERE g.id = $1`, id)
	if err != nil {
		return GrantInfo{}, err
	}
	if len(gs) == 0 || !s.visible(p, gs[0].BodyID, gs[0].ProviderID) {
		return GrantInfo{}, errGrantNotFound
	}
	return gs[0], nil
}

// GrantFilter narrows a grant list: As is "consumer" (the bodies p acts for
// use the data), "provider" (their entries are shared) or "all" (reviewers).
type GrantFilter struct {
	As     string
	Offset int
	Limit  int
}

// Grants lists grants, newest first, with the total.
func (s *Service) Grants(ctx context.Context, p *auth.Principal, f GrantFilter) ([]GrantInfo, int, error) {
	var args db.Args
	var cond string
	col := "g.body_id"
	switch f.As {
	case "all":
		if p != System && !p.Global(auth.PermShareRead) {
			return nil, 0, ErrForbidden
		}
		cond = "TRUE"
	case "provider":
		col = "g.provider_id"
		fallthrough
	default:
		bs := p.BodiesWith(auth.PermShareRead)
		if len(bs) == 0 {
			return []GrantInfo{}, 0, nil
		}
		ph := make([]string, len(bs))
		for i, b := range bs {
			ph[i] = args.Add(b)
		}
		cond = col + " IN (" + strings.Join(ph, ", ") + ")"
	}
	rctx, cancel := s.db.Ctx(ctx)
	var total int
	err := s.db.R.QueryRowContext(rctx, `SELECT COUNT(*) FROM share_grants g WHERE `+cond, args...).Scan(&total)
	cancel()
	if err != nil {
		return nil, 0, db.Check(err)
	}
	q := grantSelect + ` WHERE ` + cond + ` ORDER BY g.id DESC`
	if f.Limit > 0 {
		q += ` LIMIT ` + args.Add(f.Limit) + ` OFFSET ` + args.Add(f.Offset)
	}
	gs, err := s.scanGrants(ctx, p, q, args...)
	return gs, total, err
}
