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
	"xiangyun/internal/workday"
)

// Request statuses (fixed points of the API) and review steps.
const (
	StatusGranted = "granted"
	StatusPending = "pending"
	StatusRefused = "refused"

	StepPlatform = "platform" // the platform's check (平台审核)
	StepProvider = "provider" // the providing body's answer (提供部门答复)
)

// Request is a share request (共享申请) with where its review stands.
type Request struct {
	ID           int64             `json:"id"`
	Status       string            `json:"status" doc:"granted, pending or refused"`
	GrantID      *int64            `json:"grant_id" doc:"the grant made, when granted"`
	AppID        int64             `json:"application_id"`
	App          string            `json:"application"`
	BodyID       int64             `json:"body_id" doc:"the consuming body (使用部门)"`
	Body         string            `json:"body"`
	EntryID      int64             `json:"entry_id"`
	EntryCode    string            `json:"entry_code"`
	EntryName    string            `json:"entry_name"`
	ProviderID   int64             `json:"provider_id"`
	Provider     string            `json:"provider"`
	ShareType    string            `json:"share_type"`
	Items        []string          `json:"items"`
	Purpose      string            `json:"purpose"`
	Basis        string            `json:"basis"`
	RowScope     map[string]string `json:"row_scope,omitempty"`
	ValidFrom    *time.Time        `json:"valid_from,omitempty"`
	ValidTo      *time.Time        `json:"valid_to,omitempty"`
	ScenarioID   int64             `json:"scenario_id,omitempty"`
	DemandID     int64             `json:"demand_id,omitempty"`
	Step         string            `json:"step,omitempty" doc:"platform or provider while pending"`
	Waiting      bool              `json:"waiting" doc:"waiting for the applicant's supplementary material"`
	MoreNeeded   string            `json:"more_needed,omitempty" doc:"the material the reviewer asked for"`
	StepStarted  *time.Time        `json:"step_started,omitempty"`
	DueAt        *time.Time        `json:"due_at,omitempty" doc:"the step's deadline (end of its last working day)"`
	DaysLeft     *int              `json:"days_left,omitempty" doc:"working days left until the deadline; negative once past"`
	Overdue      bool              `json:"overdue"`
	NoData       bool              `json:"no_data" doc:"the entry held no records when the provider's step began (longer deadline)"`
	RefuseReason string            `json:"refuse_reason,omitempty"`
	Revision     int64             `json:"revision"`
	CreatedBy    string            `json:"created_by"`
	CreatedAt    time.Time         `json:"created_at"`
	UpdatedAt    time.Time         `json:"updated_at"`
	DecidedAt    *time.Time        `json:"decided_at,omitempty"`
	Events       []Event           `json:"events,omitempty"`
	// What the reader may do now.
	CanDecide     bool `json:"can_decide"`
	CanSupplement bool `json:"can_supplement"`

	createdByID int64
	askedPlat   bool
	askedProv   bool
}

// Event is one recorded step of a request.
type Event struct {
	At      time.Time `json:"at"`
	Actor   string    `json:"actor"`
	Action  string    `json:"action" doc:"submitted, approved, asked_more, supplemented, granted, refused, revoked, superseded"`
	Step    string    `json:"step,omitempty"`
	Comment string    `json:"comment,omitempty"`
}

// RequestInput is a share request as the applicant files it.
type RequestInput struct {
	EntryID    int64             `json:"entry_id"`
	AppID      int64             `json:"application_id"`
	Items      []string          `json:"items"`
	Purpose    string            `json:"purpose"`
	Basis      string            `json:"basis"`
	RowScope   map[string]string `json:"row_scope,omitempty"`
	ValidFrom  string            `json:"valid_from,omitempty"`
	ValidTo    string            `json:"valid_to,omitempty"`
	ScenarioID int64             `json:"scenario_id,omitempty"`
	DemandID   int64             `json:"demand_id,omitempty"`
}

// Terms are what the provider sets when it approves; zero values take the
// defaults (no clear items, Options' rate, burst and quota).
type Terms struct {
	ClearItems []string `json:"clear_items,omitempty"`
	Rate       int      `json:"rate_per_second,omitempty"`
	Burst      int      `json:"burst,omitempty"`
	DailyQuota int64    `json:"daily_quota,omitempty"`
}

var (
	errOwnEntry    = errs.Invalid("share.own_entry", "本单位的资源无需申请共享", "your own body's entries need no share request")
	errNotYourStep = errs.Forbidden("share.not_your_step", "当前审核步骤不由您处理", "this review step is not yours")
)

// parseDay reads YYYY-MM-DD as the start of that day in Asia/Shanghai.
func parseDay(fs *errs.Fields, field, s string) time.Time {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}
	}
	t, err := time.ParseInLocation("2006-01-02", s, workday.Location())
	if err != nil {
		fs.Add(field, "share.bad_date", "日期格式应为 YYYY-MM-DD", "dates are YYYY-MM-DD")
	}
	return t
}

// Submit files a share request. Unconditional entries and requests within
// a scenario's bounds are granted at once, 不予共享 entries refused at once
// with their basis, conditional ones start their review.
func (s *Service) Submit(ctx context.Context, p *auth.Principal, in RequestInput) (Request, error) {
	app, err := s.app(ctx, in.AppID)
	if err != nil {
		return Request{}, err
	}
	if p != System && !bodyRole(p, auth.PermShareApply, app.BodyID) {
		return Request{}, errs.Forbidden("share.app_not_yours", "只能为本单位的应用申请共享", "you may only file requests for your own body's applications")
	}
	if app.Status != AppActive {
		return Request{}, errs.Conflict("share.app_revoked", "应用已停用", "the application is revoked")
	}
	e, err := s.catalog.Get(ctx, catalog.System, in.EntryID)
	if err != nil {
		return Request{}, err
	}
	if e.Status != catalog.StatusPublished {
		return Request{}, errs.Invalid("share.not_published", "目录未发布，不能申请共享", "the entry is not published")
	}
	if e.ProviderID == app.BodyID {
		return Request{}, errOwnEntry
	}
	var fs errs.Fields
	in.Items = normItems(&fs, "items", in.Items)
	if len(in.Items) == 0 {
		fs.Add("items", "share.items_required", "请选择需要的信息项（最小够用）", "choose the data items needed (least necessary)")
	}
	names := make([]string, len(e.Items))
	for i, it := range e.Items {
		names[i] = it.Name
	}
	for _, it := range in.Items {
		if !slices.Contains(names, it) {
			fs.Add("items", "share.unknown_item", "目录没有信息项："+it, "the entry has no data item "+it)
		}
	}
	in.Purpose = valid.Text(&fs, "purpose", in.Purpose, 2, 1000)
	in.Basis = valid.Text(&fs, "basis", in.Basis, 2, 1000)
	scope := map[string]string{}
	for k, v := range in.RowScope {
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if !slices.Contains(names, k) {
			fs.Add("row_scope", "share.unknown_item", "行范围的信息项不存在："+k, "the row scope names an unknown item: "+k)
		}
		v = valid.Line(&fs, "row_scope", "", v, 1, 200)
		scope[k] = v
	}
	from, to := parseDay(&fs, "valid_from", in.ValidFrom), parseDay(&fs, "valid_to", in.ValidTo)
	if !to.IsZero() {
		to = to.AddDate(0, 0, 1) // the end of the last day
		if !to.After(s.now()) || (!from.IsZero() && !to.After(from)) {
			fs.Add("valid_to", "share.bad_period", "有效期结束日期须晚于开始日期和今天", "the period must end after it starts and after today")
		}
	}
	if err := fs.Err(); err != nil {
		return Request{}, err
	}
	if e.ShareType != catalog.ShareNone && e.ShareMethod != catalog.MethodAPI && e.ShareMethod != catalog.MethodTable {
		return Request{}, errs.Invalid("share.method", "该目录不通过库表或接口共享，不能经网关申请", "the entry is not shared as a table or API, so it cannot be requested through the gateway")
	}
	var sc *Scenario
	if in.ScenarioID != 0 {
		x, err := s.Scenario(ctx, in.ScenarioID)
		if err != nil {
			return Request{}, err
		}
		if why := x.covers(app.BodyID, e.ID, in.Items); why != nil {
			return Request{}, why
		}
		sc = &x
	}
	if in.DemandID != 0 {
		d, err := s.catalog.Demand(ctx, in.DemandID)
		if err != nil {
			return Request{}, err
		}
		if d.BodyID != app.BodyID || d.Status == catalog.DemandClosed {
			return Request{}, errs.Invalid("share.demand", "需求须是本单位未关闭的需求", "the demand must be an open demand of the application's body")
		}
	}
	noData := false
	if e.ShareType == catalog.ShareConditional && s.opts.Ingest != nil && sc == nil {
		has, err := s.opts.Ingest.HasRecords(ctx, e.ID)
		if err != nil {
			return Request{}, err
		}
		noData = !has
	}
	uid, who := actor(p)
	var id int64
	err = retryGrant(func() error { return s.submitTx(ctx, p, in, app, e, sc, scope, from, to, noData, uid, who, &id) })
	if err != nil {
		return Request{}, db.Check(err)
	}
	if in.DemandID != 0 {
		// 供需对接: the demand is linked to the entry asked for (matched
		// while the entry is published), in catalog's own transaction.
		if _, err := s.catalog.LinkDemand(ctx, catalog.System, in.DemandID, e.ID, false); err != nil {
			s.opts.Log.Warn("share: link demand", "demand", in.DemandID, "entry", e.ID, "err", err)
		}
	}
	return s.Request(ctx, p, id)
}

// retryGrant runs fn again (up to three times) when it failed on the one
// active grant per application and entry: a concurrent grant for the same
// pair committed first, and the next attempt supersedes it.
func retryGrant(fn func() error) error {
	var err error
	for range 3 {
		if err = fn(); !db.IsUniqueViolation(err) {
			return err
		}
	}
	return err
}

func (s *Service) submitTx(ctx context.Context, p *auth.Principal, in RequestInput, app Application, e catalog.Entry, sc *Scenario,
	scope map[string]string, from, to time.Time, noData bool, uid int64, who string, out *int64) error {
	return s.db.Tx(ctx, func(tx *db.Tx) error {
		var id int64
		var vf, vt db.Time
		if !from.IsZero() {
			vf = db.Time{Time: from.UTC()}
		}
		if !to.IsZero() {
			vt = db.Time{Time: to.UTC()}
		}
		var scenario any
		if sc != nil {
			scenario = sc.ID
		}
		var demand any
		if in.DemandID != 0 {
			demand = in.DemandID
		}
		if err := tx.QueryRow(`INSERT INTO share_requests (app_id, body_id, entry_id, provider_id, share_type, items, purpose, basis, row_scope,
			valid_from, valid_to, scenario_id, demand_id, status, no_data, created_by_id, created_by, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $18) RETURNING id`,
			app.ID, app.BodyID, e.ID, e.ProviderID, e.ShareType, jsonText(in.Items), in.Purpose, in.Basis, jsonText(scope),
			vf, vt, scenario, demand, StatusPending, noData, uid, who, tx.Now).Scan(&id); err != nil {
			return err
		}
		*out = id
		if err := event(tx, p, id, "submitted", "", in.Purpose); err != nil {
			return err
		}
		r := reqRow{id: id, app: app.ID, body: app.BodyID, entry: e.ID, provider: e.ProviderID, items: in.Items, scope: scope, from: vf, to: vt,
			purpose: in.Purpose, name: e.Name, code: e.Code}
		switch {
		case e.ShareType == catalog.ShareNone:
			reason := "该目录为不予共享（非共享），已列入负面清单。依据：" + e.ShareCondition
			if err := tx.Run(`UPDATE share_requests SET status = $1, refuse_reason = $2, decided_at = $3, updated_at = $3 WHERE id = $4`,
				StatusRefused, reason, tx.Now, id); err != nil {
				return err
			}
			return event(tx, nil, id, "refused", "", reason)
		case sc != nil:
			return s.grant(tx, p, r, Terms{}, sc.Name, "granted", "应用场景："+sc.Name)
		case e.ShareType == catalog.ShareUnconditional:
			return s.grant(tx, p, r, Terms{}, "", "granted", "无条件共享")
		default:
			due := workday.AddWorkdays(tx.Now.Time, s.opts.PlatformDays)
			if err := tx.Run(`UPDATE share_requests SET step = $1, step_started = $2, due_at = $3 WHERE id = $4`,
				StepPlatform, tx.Now, db.Time{Time: due.UTC()}, id); err != nil {
				return err
			}
			return s.noticeStep(tx, p, r, StepPlatform, "")
		}
	})
}

// reqRow is what the workflow needs of a request.
type reqRow struct {
	id, app, body, entry, provider, createdBy int64
	items                                     []string
	scope                                     map[string]string
	from, to                                  db.Time
	purpose, name, code                       string
	status, step                              string
	waiting, askedPlat, askedProv, noData     bool
	revision                                  int64
}

func (s *Service) loadRow(tx *db.Tx, id int64) (reqRow, error) {
	var r reqRow
	var items, scope string
	err := tx.QueryRow(`SELECT id, app_id, body_id, entry_id, provider_id, created_by_id, items, row_scope, valid_from, valid_to, purpose,
		status, step, waiting, asked_platform, asked_provider, no_data, revision FROM share_requests WHERE id = $1`+tx.ForUpdate(), id).Scan(
		&r.id, &r.app, &r.body, &r.entry, &r.provider, &r.createdBy, &items, &scope, &r.from, &r.to, &r.purpose,
		&r.status, &r.step, &r.waiting, &r.askedPlat, &r.askedProv, &r.noData, &r.revision)
	if isNoRows(err) {
		return r, ErrNotFound
	}
	if err != nil {
		return r, err
	}
	_ = json.Unmarshal([]byte(items), &r.items)
	_ = json.Unmarshal([]byte(scope), &r.scope)
	return r, nil
}

// mayDecide reports whether p answers r's current step: a platform reviewer
// of neither party (审核回避) for the platform step, the providing body's
// chief data officer (not the applicant) for the provider step.
func mayDecide(p *auth.Principal, r reqRow) bool {
	if p == nil || r.status != StatusPending || r.waiting {
		return false
	}
	switch r.step {
	case StepPlatform:
		return isReviewer(p) && p.Has(auth.PermShareApprove) && p.User.BodyID != r.provider && p.User.BodyID != r.body &&
			!bodyRole(p, auth.PermShareRead, r.provider) && !bodyRole(p, auth.PermShareRead, r.body)
	case StepProvider:
		return bodyRole(p, auth.PermShareApprove, r.provider) && p.User.ID != r.createdBy
	}
	return false
}

// advance changes a request whose step is still the one read (status,
// step, waiting and revision in the WHERE clause): of two concurrent
// answers to one step exactly one wins; the other gets ErrMovedOn.
func advance(tx *db.Tx, r reqRow, set string, args ...any) error {
	n := len(args)
	q := `UPDATE share_requests SET ` + set + `, revision = revision + 1, updated_at = $` + strconv.Itoa(n+1) +
		` WHERE id = $` + strconv.Itoa(n+2) + ` AND revision = $` + strconv.Itoa(n+3) + ` AND status = 'pending' AND step = $` + strconv.Itoa(n+4)
	res, err := tx.Exec(q, append(args, tx.Now, r.id, r.revision, r.step)...)
	if err != nil {
		return err
	}
	if c, _ := res.RowsAffected(); c != 1 {
		return ErrMovedOn
	}
	return nil
}

// decide runs fn on request id in a transaction once p is found to answer
// its current step. rev, when not 0, is the request's revision the answer
// was made on: a request that moved on since is refused (ErrMovedOn).
func (s *Service) decide(ctx context.Context, p *auth.Principal, id, rev int64, fn func(tx *db.Tx, r reqRow) error) (Request, error) {
	err := retryGrant(func() error { return s.decideTx(ctx, p, id, rev, fn) })
	if err != nil {
		return Request{}, db.Check(err)
	}
	return s.Request(ctx, p, id)
}

func (s *Service) decideTx(ctx context.Context, p *auth.Principal, id, rev int64, fn func(tx *db.Tx, r reqRow) error) error {
	return s.db.Tx(ctx, func(tx *db.Tx) error {
		r, err := s.loadRow(tx, id)
		if err != nil {
			return err
		}
		if !s.visible(p, r.body, r.provider) {
			return ErrNotFound
		}
		if r.status != StatusPending || r.waiting || (rev != 0 && rev != r.revision) {
			return ErrMovedOn
		}
		if !mayDecide(p, r) {
			return errNotYourStep
		}
		return fn(tx, r)
	})
}

// Approve passes the current step: the platform's check hands the request
// to the provider (its deadline longer when the entry holds no records
// yet); the provider's approval makes the grant, on terms.
func (s *Service) Approve(ctx context.Context, p *auth.Principal, id int64, comment string, terms Terms, rev int64) (Request, error) {
	var fs errs.Fields
	comment = valid.Text(&fs, "comment", comment, 0, 1000)
	if err := fs.Err(); err != nil {
		return Request{}, err
	}
	var noData bool
	if s.opts.Ingest != nil {
		// Read before the transaction: ingest is another store.
		var entry int64
		if err := s.db.R.QueryRowContext(ctx, `SELECT entry_id FROM share_requests WHERE id = $1`, id).Scan(&entry); err == nil {
			has, err := s.opts.Ingest.HasRecords(ctx, entry)
			if err != nil {
				return Request{}, err
			}
			noData = !has
		}
	}
	return s.decide(ctx, p, id, rev, func(tx *db.Tx, r reqRow) error {
		if r.step == StepPlatform {
			days := s.opts.ProviderDays
			if noData {
				days = s.opts.ProviderDaysNoData
			}
			due := workday.AddWorkdays(tx.Now.Time, days)
			if err := advance(tx, r, `step = $1, step_started = $2, due_at = $3, no_data = $4`, StepProvider, tx.Now, db.Time{Time: due.UTC()}, noData); err != nil {
				return err
			}
			if err := event(tx, p, r.id, "approved", StepPlatform, comment); err != nil {
				return err
			}
			r.step = StepProvider
			return s.noticeStep(tx, p, r, StepProvider, comment)
		}
		if err := advance(tx, r, `step = $1`, StepProvider); err != nil { // claims the step
			return err
		}
		return s.grant(tx, p, r, terms, "", "granted", comment)
	})
}

// AskMore asks the applicant, once per step, for more material, listing
// everything needed (一次性告知); the step's clock stops until the
// applicant supplements.
func (s *Service) AskMore(ctx context.Context, p *auth.Principal, id int64, needed string, rev int64) (Request, error) {
	var fs errs.Fields
	needed = valid.Text(&fs, "needed", needed, 2, 2000)
	if err := fs.Err(); err != nil {
		return Request{}, err
	}
	return s.decide(ctx, p, id, rev, func(tx *db.Tx, r reqRow) error {
		col := "asked_platform"
		if r.step == StepProvider {
			col = "asked_provider"
		}
		if (r.step == StepPlatform && r.askedPlat) || (r.step == StepProvider && r.askedProv) {
			return errs.Conflict("share.asked_once", "补充材料只能一次性告知，本步骤已要求过", "more material may be asked for once per step, listing everything; it was asked already")
		}
		if err := advance(tx, r, `waiting = TRUE, `+col+` = TRUE, more_needed = $1, due_at = NULL`, needed); err != nil {
			return err
		}
		if err := event(tx, p, r.id, "asked_more", r.step, needed); err != nil {
			return err
		}
		return s.noticeApplicant(tx, p, r, "share.more", "请补充共享申请材料", "More material needed for your share request",
			"审核人要求补充以下材料（一次性告知）：\n"+needed, "The reviewer asks for this material (everything at once):\n"+needed)
	})
}

// Supplement answers a request for more material (the applicant's body's
// chief data officer); the step's clock starts again.
func (s *Service) Supplement(ctx context.Context, p *auth.Principal, id int64, material string, rev int64) (Request, error) {
	var fs errs.Fields
	material = valid.Text(&fs, "material", material, 2, 4000)
	if err := fs.Err(); err != nil {
		return Request{}, err
	}
	err := s.db.Tx(ctx, func(tx *db.Tx) error {
		r, err := s.loadRow(tx, id)
		if err != nil {
			return err
		}
		if !s.visible(p, r.body, r.provider) {
			return ErrNotFound
		}
		if !bodyRole(p, auth.PermShareApply, r.body) {
			return ErrForbidden
		}
		if rev != 0 && rev != r.revision {
			return ErrMovedOn
		}
		if r.status != StatusPending || !r.waiting {
			return errs.Conflict("share.not_waiting", "该申请没有待补充的材料", "the request is not waiting for material")
		}
		days := s.opts.PlatformDays
		if r.step == StepProvider {
			days = s.opts.ProviderDays
			if r.noData {
				days = s.opts.ProviderDaysNoData
			}
		}
		due := workday.AddWorkdays(tx.Now.Time, days)
		res, err := tx.Exec(`UPDATE share_requests SET waiting = FALSE, step_started = $1, due_at = $2, revision = revision + 1, updated_at = $1
			WHERE id = $3 AND revision = $4 AND waiting = TRUE`, tx.Now, db.Time{Time: due.UTC()}, id, r.revision)
		if err != nil {
			return err
		}
		if c, _ := res.RowsAffected(); c != 1 {
			return ErrMovedOn
		}
		if err := event(tx, p, id, "supplemented", r.step, material); err != nil {
			return err
		}
		return s.noticeStep(tx, p, r, r.step, material)
	})
	if err != nil {
		return Request{}, db.Check(err)
	}
	return s.Request(ctx, p, id)
}

// Refuse ends the request with a reason (required).
func (s *Service) Refuse(ctx context.Context, p *auth.Principal, id int64, reason string, rev int64) (Request, error) {
	var fs errs.Fields
	reason = valid.Text(&fs, "reason", reason, 2, 1000)
	if err := fs.Err(); err != nil {
		return Request{}, errs.Invalid("share.reason_required", "不予共享须说明理由", "a refusal needs a reason")
	}
	return s.decide(ctx, p, id, rev, func(tx *db.Tx, r reqRow) error {
		if err := advance(tx, r, `status = $1, refuse_reason = $2, decided_at = $3, due_at = NULL`, StatusRefused, reason, tx.Now); err != nil {
			return err
		}
		if err := event(tx, p, r.id, "refused", r.step, reason); err != nil {
			return err
		}
		return s.noticeApplicant(tx, p, r, "share.refused", "共享申请未通过："+r.name, "Share request refused: "+r.name,
			"理由："+reason, "Reason: "+reason)
	})
}

// visible reports whether p may see a request between consumer and provider:
// staff of either body and platform reviewers.
func (s *Service) visible(p *auth.Principal, consumer, provider int64) bool {
	return p == System || p.HasAt(auth.PermShareRead, consumer) || p.HasAt(auth.PermShareRead, provider)
}

const reqSelect = `SELECT r.id, r.status, r.grant_id, r.app_id, a.name, r.body_id, r.entry_id, r.provider_id, r.share_type, r.items, r.purpose, r.basis,
	r.row_scope, r.valid_from, r.valid_to, r.scenario_id, r.demand_id, r.step, r.waiting, r.more_needed, r.step_started, r.due_at, r.no_data,
	r.refuse_reason, r.revision, r.created_by_id, r.created_by, r.created_at, r.updated_at, r.decided_at, r.asked_platform, r.asked_provider
	FROM share_requests r JOIN share_applications a ON a.id = r.app_id`

func (s *Service) scanRequests(ctx context.Context, p *auth.Principal, q string, args ...any) ([]Request, error) {
	rctx, cancel := s.db.Ctx(ctx)
	defer cancel()
	rows, err := s.db.R.QueryContext(rctx, q, args...)
	if err != nil {
		return nil, db.Check(err)
	}
	out := []Request{}
	for rows.Next() {
		var (
			r                                          Request
			grant, scenario, demand                    *int64
			items, scope                               string
			from, to, started, due, created, upd, decd db.Time
		)
		if err := rows.Scan(&r.ID, &r.Status, &grant, &r.AppID, &r.App, &r.BodyID, &r.EntryID, &r.ProviderID, &r.ShareType, &items, &r.Purpose, &r.Basis,
			&scope, &from, &to, &scenario, &demand, &r.Step, &r.Waiting, &r.MoreNeeded, &started, &due, &r.NoData,
			&r.RefuseReason, &r.Revision, &r.createdByID, &r.CreatedBy, &created, &upd, &decd, &r.askedPlat, &r.askedProv); err != nil {
			rows.Close()
			return nil, db.Check(err)
		}
		r.GrantID = grant
		if scenario != nil {
			r.ScenarioID = *scenario
		}
		if demand != nil {
			r.DemandID = *demand
		}
		_ = json.Unmarshal([]byte(items), &r.Items)
		_ = json.Unmarshal([]byte(scope), &r.RowScope)
		if len(r.RowScope) == 0 {
			r.RowScope = nil
		}
		r.ValidFrom, r.ValidTo, r.StepStarted, r.DueAt, r.DecidedAt = ptime(from), ptime(to), ptime(started), ptime(due), ptime(decd)
		r.CreatedAt, r.UpdatedAt = created.Time, upd.Time
		out = append(out, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, db.Check(err)
	}
	now := s.now()
	entries := map[int64]catalog.Entry{}
	for i := range out {
		r := &out[i]
		if r.Status != StatusPending {
			r.Step = ""
		}
		e, ok := entries[r.EntryID]
		if !ok {
			if e, err = s.catalog.Get(ctx, catalog.System, r.EntryID); err != nil && db.IsUnavailable(err) {
				return nil, err
			}
			entries[r.EntryID] = e
		}
		r.EntryCode, r.EntryName, r.Provider = e.Code, e.Name, e.Provider
		r.Body = s.bodyName(ctx, r.BodyID)
		if r.DueAt != nil && r.Status == StatusPending {
			d := workday.Remaining(now, *r.DueAt)
			r.DaysLeft = &d
			r.Overdue = now.After(*r.DueAt)
		}
		row := reqRow{status: r.Status, step: r.Step, waiting: r.Waiting, body: r.BodyID, provider: r.ProviderID, createdBy: r.createdByID}
		r.CanDecide = mayDecide(p, row)
		r.CanSupplement = r.Status == StatusPending && r.Waiting && bodyRole(p, auth.PermShareApply, r.BodyID)
	}
	return out, nil
}

// Request returns one request with its events, as p may see it.
func (s *Service) Request(ctx context.Context, p *auth.Principal, id int64) (Request, error) {
	rs, err := s.scanRequests(ctx, p, reqSelect+` WHERE r.id = $1`, id)
	if err != nil {
		return Request{}, err
	}
	if len(rs) == 0 || !s.visible(p, rs[0].BodyID, rs[0].ProviderID) {
		return Request{}, ErrNotFound
	}
	r := rs[0]
	ctx, cancel := s.db.Ctx(ctx)
	defer cancel()
	rows, err := s.db.R.QueryContext(ctx, `SELECT at, actor, action, step, comment FROM share_request_events WHERE request_id = $1 ORDER BY id`, id)
	if err != nil {
		return Request{}, db.Check(err)
	}
	defer rows.Close()
	r.Events = []Event{}
	for rows.Next() {
		var e Event
		var at db.Time
		if err := rows.Scan(&at, &e.Actor, &e.Action, &e.Step, &e.Comment); err != nil {
			return Request{}, db.Check(err)
		}
		e.At = at.Time
		r.Events = append(r.Events, e)
	}
	return r, db.Check(rows.Err())
}

// Views of the request lists.
const (
	ViewMine     = "mine"     // requests of the bodies p acts for as consumer
	ViewReview   = "review"   // requests whose current step p answers (待我审核)
	ViewProvider = "provider" // requests on the entries of p's bodies
	ViewAll      = "all"      // every request (reviewers)
)

// RequestFilter narrows a request list.
type RequestFilter struct {
	View   string
	Status string
	Offset int
	Limit  int
}

// Requests lists requests in a view, newest first (the review view: the
// nearest deadline first), with the total.
func (s *Service) Requests(ctx context.Context, p *auth.Principal, f RequestFilter) ([]Request, int, error) {
	var (
		args  db.Args
		where []string
	)
	in := func(col string, ids []int64) string {
		if len(ids) == 0 {
			return "FALSE"
		}
		ph := make([]string, len(ids))
		for i, id := range ids {
			ph[i] = args.Add(id)
		}
		return col + " IN (" + strings.Join(ph, ", ") + ")"
	}
	order := ` ORDER BY r.id DESC`
	switch f.View {
	case ViewReview:
		var alts []string
		if isReviewer(p) && p.Has(auth.PermShareApprove) {
			own := args.Add(p.User.BodyID)
			alts = append(alts, "(r.step = 'platform' AND r.provider_id <> "+own+" AND r.body_id <> "+own+")")
		}
		if bs := p.BodiesWith(auth.PermShareApprove); len(bs) > 0 {
			alts = append(alts, "(r.step = 'provider' AND "+in("r.provider_id", bs)+" AND r.created_by_id <> "+args.Add(p.User.ID)+")")
		}
		if len(alts) == 0 {
			return []Request{}, 0, nil
		}
		where = append(where, "r.status = 'pending' AND r.waiting = FALSE AND ("+strings.Join(alts, " OR ")+")")
		order = ` ORDER BY r.due_at, r.id`
	case ViewProvider:
		where = append(where, in("r.provider_id", p.BodiesWith(auth.PermShareRead)))
	case ViewAll:
		if p != System && !p.Global(auth.PermShareRead) {
			return nil, 0, ErrForbidden
		}
	default:
		where = append(where, in("r.body_id", p.BodiesWith(auth.PermShareRead)))
	}
	if f.Status != "" {
		where = append(where, "r.status = "+args.Add(f.Status))
	}
	cond := "TRUE"
	if len(where) > 0 {
		cond = strings.Join(where, " AND ")
	}
	rctx, cancel := s.db.Ctx(ctx)
	var total int
	err := s.db.R.QueryRowContext(rctx, `SELECT COUNT(*) FROM share_requests r WHERE `+cond, args...).Scan(&total)
	cancel()
	if err != nil {
		return nil, 0, db.Check(err)
	}
	q := reqSelect + ` WHERE ` + cond + order
	if f.Limit > 0 {
		q += ` LIMIT ` + args.Add(f.Limit) + ` OFFSET ` + args.Add(f.Offset)
	}
	rs, err := s.scanRequests(ctx, p, q, args...)
	return rs, total, err
}
