package catalog

import (
	"context"
	"slices"
	"strconv"
	"strings"

	"xiangyun/internal/auth"
	"xiangyun/internal/db"
	"xiangyun/internal/errs"
	"xiangyun/internal/notify"
	"xiangyun/internal/org"
	"xiangyun/internal/valid"
)

// Workflow errors.
var (
	errNotProvider     = errs.Forbidden("catalog.not_provider", "只能编辑本单位提供的目录", "you may only edit entries your own body provides")
	errSubmitForbidden = errs.Forbidden("catalog.submit_forbidden", "只有本单位的首席数据官可以提交、撤销或废止目录",
		"only the chief data officer of the providing body may submit, withdraw or deprecate its entries")
	errReviewForbidden = errs.Forbidden("catalog.review_forbidden", "只有平台审核员可以发布或退回目录", "only platform reviewers may publish or return entries")
	errOwnEntry        = errs.Forbidden("catalog.own_entry", "不能审核本单位提供的目录（审核回避）", "you may not review an entry of your own body")
	errDeprecated      = errs.Conflict("catalog.deprecated", "目录已废止，不能再修改", "the entry is deprecated and can no longer change")
	errUnderReview     = errs.Conflict("catalog.under_review", "目录正在审核中，审核完成（发布或退回）后才能修改", "the entry is under review; it can change once published or returned")
	errNothingToSubmit = errs.Conflict("catalog.nothing_to_submit", "没有可提交的草稿或退回稿", "there is no draft or returned version to submit")
	errNotSubmitted    = errs.Conflict("catalog.not_submitted", "该目录没有待审核的版本", "the entry has no version waiting for review")
	errNotPublished    = errs.Conflict("catalog.not_published", "只有已发布的目录可以撤销", "only a published entry can be withdrawn")
)

// ErrStale refuses a change made on a revision of the entry that is no
// longer current: someone else changed it since the caller read it.
var ErrStale = errs.Conflict("catalog.stale", "内容已被他人修改，请刷新后重试",
	"the entry has been changed by someone else since you opened it; reload it and try again")

// Cond is a precondition of a change to an existing entry.
type Cond struct{ revs []int64 }

// IfRev makes a change conditional on the entry still being at one of revs
// (Entry.Rev as the caller read it); otherwise it fails with ErrStale.
// Without a Cond a change applies to whatever revision is current.
func IfRev(revs ...int64) Cond { return Cond{revs: revs} }

// claim raises the revision of entry e, read under lock in w, in the
// transaction that changes it: after checking the caller's view (conds),
// the compare-and-set on the revision read makes a concurrent change that
// got there first show as zero rows instead of being overwritten.
func claim(w *db.Tx, e entryRow, conds []Cond) error {
	for _, c := range conds {
		if !slices.Contains(c.revs, e.rev) {
			return ErrStale
		}
	}
	res, err := w.Exec(`UPDATE entries SET revision = revision + 1 WHERE id = $1 AND revision = $2`, e.id, e.rev)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return ErrStale
	}
	return nil
}

// Create drafts a new entry (version 1) of the provider named in in. Its
// code is generated from the classification.
func (s *Service) Create(ctx context.Context, p *auth.Principal, in EntryInput) (Entry, error) {
	es, err := s.create(ctx, p, []EntryInput{in}, false, false, "")
	if err != nil {
		return Entry{}, err
	}
	return s.Get(ctx, p, es[0].ID)
}

// CreateMany drafts many entries in one transaction: all of them or, on
// any problem, none. Validation problems of all rows are reported together,
// each field named "rows[i].field" with i the index in ins (from 0).
func (s *Service) CreateMany(ctx context.Context, p *auth.Principal, ins []EntryInput) ([]Entry, error) {
	return s.create(ctx, p, ins, true, false, "")
}

// CreatePublished loads entries straight into the catalog as published
// version 1, in one transaction, all or none, validated like CreateMany: for
// migrating an existing catalog (历史目录迁移) and for the demo and benchmark
// loaders. It bypasses review, so only System may call it.
func (s *Service) CreatePublished(ctx context.Context, p *auth.Principal, ins []EntryInput, note string) ([]Entry, error) {
	if p != System {
		return nil, errReviewForbidden
	}
	note, err := comment(note, false)
	if err != nil {
		return nil, err
	}
	return s.create(ctx, p, ins, true, true, note)
}

func (s *Service) create(ctx context.Context, p *auth.Principal, ins []EntryInput, batch, publish bool, note string) ([]Entry, error) {
	if p != System && !p.Has(auth.PermCatalogEdit) {
		return nil, errNotProvider
	}
	c := s.newChecker()
	var fs errs.Fields
	bodies := make([]*org.Body, len(ins))
	for i := range ins {
		prefix := ""
		if batch {
			prefix = "rows[" + strconv.Itoa(i) + "]."
		}
		b, err := c.check(ctx, &ins[i], prefix, "", &fs)
		if err != nil {
			return nil, err
		}
		if b != nil && !canEdit(p, b.ID) {
			if !batch {
				return nil, errNotProvider
			}
			fs.Add(prefix+"provider_id", errNotProvider.Code, errNotProvider.ZH, errNotProvider.EN)
		}
		bodies[i] = b
	}
	if err := fs.Err(); err != nil {
		return nil, err
	}
	now := dbTime(s.clock())
	out := make([]Entry, len(ins))
	err := s.db.Tx(ctx, func(w *db.Tx) error {
		for i := range ins {
			e, err := s.insertEntry(w, p, &ins[i], bodies[i], now)
			if err == nil && publish {
				err = publishNew(w, p, &e, note, now)
			}
			if err == nil && publish {
				err = s.runPublishHooks(w, 0, e.currentID)
			}
			if err != nil {
				return err
			}
			out[i] = e
		}
		return s.changedNew(w, out)
	})
	if err != nil {
		return nil, db.Check(err)
	}
	for i := range out {
		decorate(p, &out[i])
	}
	return out, nil
}

func (s *Service) insertEntry(w *db.Tx, p *auth.Principal, in *EntryInput, b *org.Body, t db.Time) (Entry, error) {
	code, err := nextCode(w, in.Class)
	if err != nil {
		return Entry{}, err
	}
	scope, region := scopeOf(b)
	e := Entry{Code: code, ProviderID: b.ID, Provider: b.Name, ProviderCode: b.CreditCode, RegionCode: region, RegionName: b.RegionName,
		Scope: scope, Status: StatusDraft, Content: in.Content, Version: 1, CreatedAt: t.Time, UpdatedAt: t.Time}
	if a, ok := attributeOf(in.Class[:1]); ok {
		e.Attribute = a.Code
	}
	err = w.QueryRow(`INSERT INTO entries(code, class, provider_id, region_code, scope, status, versions, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, 1, $7, $7) RETURNING id`, code, in.Class, b.ID, region, scope, StatusDraft, t).Scan(&e.ID)
	if err != nil {
		return e, err
	}
	vid, err := insertVersion(w, e.ID, 1, StatusDraft, &in.Content, p, "", t)
	if err != nil {
		return e, err
	}
	e.currentID, e.draftID = vid, vid
	if err := w.Run(`UPDATE entries SET current_version_id = $1, draft_version_id = $1 WHERE id = $2`, vid, e.ID); err != nil {
		return e, err
	}
	return e, event(w, e.ID, 1, "create", p, "", "", t)
}

// publishNew publishes the first version of an entry just inserted.
func publishNew(w *db.Tx, p *auth.Principal, e *Entry, note string, now db.Time) error {
	rid, rname := actor(p)
	if err := w.Run(`UPDATE entry_versions SET status = $1, submitted_at = $2, submitter = $3, reviewed_at = $2, reviewer_id = $4,
		reviewer = $3, review_comment = $5, published_at = $2 WHERE id = $6`, StatusPublished, now, rname, rid, note, e.currentID); err != nil {
		return err
	}
	if err := w.Run(`UPDATE entries SET status = $1, published_version_id = $2, draft_version_id = NULL, published_at = $3,
		first_published_at = $3 WHERE id = $4`, StatusPublished, e.currentID, now, e.ID); err != nil {
		return err
	}
	if err := syncLists(w, e.ID, now, rname); err != nil {
		return err
	}
	e.Status, e.publishedID, e.draftID = StatusPublished, e.currentID, 0
	e.PublishedAt, e.FirstPublAt = &now.Time, &now.Time
	return event(w, e.ID, 1, "publish", p, note, "", now)
}

// Update changes an entry's content. A draft or returned version is edited
// in place; an entry in force (or withdrawn) gets a new draft version, a
// revision, while the published version stays in force, and then reason
// (why it changes) is required. The provider cannot change, nor the
// classification once the entry has been published (its code is derived
// from it); before that, a new classification gives a new code.
//
// With IfRev, the edit applies only to the revision the caller saw.
func (s *Service) Update(ctx context.Context, p *auth.Principal, id int64, in EntryInput, reason string, conds ...Cond) (Entry, error) {
	cur, err := s.Get(ctx, p, id)
	if err != nil {
		return Entry{}, err
	}
	if !canEdit(p, cur.ProviderID) {
		return Entry{}, errNotProvider
	}
	var fs errs.Fields
	reason = valid.Text(&fs, "reason", reason, 0, 500)
	if in.ProviderID == 0 && in.ProviderCode == "" {
		in.ProviderID = cur.ProviderID
	}
	if _, err := s.newChecker().check(ctx, &in, "", cur.Code, &fs); err != nil {
		return Entry{}, err
	}
	if in.ProviderID != cur.ProviderID && !fs.Has("provider_id") && !fs.Has("provider_code") {
		fs.Add("provider_id", "catalog.provider_fixed", "目录的提供方不能更改", "an entry's provider cannot change")
	}
	if err := fs.Err(); err != nil {
		return Entry{}, err
	}
	now := dbTime(s.clock())
	err = s.db.Tx(ctx, func(w *db.Tx) error {
		e, err := s.lockEntry(w, id)
		if err != nil {
			return err
		}
		if err := claim(w, e, conds); err != nil {
			return err
		}
		switch {
		case e.status == StatusDeprecated:
			return errDeprecated
		case e.draft != 0 && e.draftStatus == StatusSubmitted:
			return errUnderReview
		}
		if in.Class != e.class {
			if e.everPublished {
				var fs errs.Fields
				fs.Add("class", "catalog.class_fixed", "已发布目录的分类不能更改（代码由分类生成）；请新建目录",
					"the classification of a published entry cannot change (its code derives from it); create a new entry instead")
				return fs.Err()
			}
			code, err := nextCode(w, in.Class)
			if err != nil {
				return err
			}
			if err := w.Run(`UPDATE entries SET code = $1, class = $2 WHERE id = $3`, code, in.Class, id); err != nil {
				return err
			}
		}
		if e.draft != 0 {
			old, err := s.versionByID(ctx, w.Tx, e.draft)
			if err != nil {
				return err
			}
			if err := updateVersion(w, e.draft, &in.Content, now); err != nil {
				return err
			}
			if err := event(w, id, old.Number, "update", p, reason, changedFields(diffContent(&old.Content, &in.Content)), now); err != nil {
				return err
			}
		} else {
			if reason == "" {
				var fs errs.Fields
				fs.Add("reason", "catalog.reason_required", "修订已发布的目录须说明修订原因", "revising a published entry needs a reason")
				return fs.Err()
			}
			old, err := s.versionByID(ctx, w.Tx, e.current)
			if err != nil {
				return err
			}
			number := e.versions + 1
			vid, err := insertVersion(w, id, number, StatusDraft, &in.Content, p, reason, now)
			if err != nil {
				return err
			}
			if err := w.Run(`UPDATE entries SET draft_version_id = $1, versions = $2 WHERE id = $3`, vid, number, id); err != nil {
				return err
			}
			if err := event(w, id, number, "revise", p, reason, changedFields(diffContent(&old.Content, &in.Content)), now); err != nil {
				return err
			}
			if err := s.notice(w, p, e, notify.KindRevised, reason); err != nil {
				return err
			}
		}
		if err := w.Run(`UPDATE entries SET updated_at = $1 WHERE id = $2`, now, id); err != nil {
			return err
		}
		return s.changed(w, id)
	})
	if err != nil {
		return Entry{}, db.Check(err)
	}
	return s.Get(ctx, p, id)
}

// transition runs one workflow step on entry id in a transaction, then
// updates the index and returns the entry as p sees it.
func (s *Service) transition(ctx context.Context, p *auth.Principal, id int64, conds []Cond, step func(w *db.Tx, e entryRow, now db.Time) error) (Entry, error) {
	now := s.clock()
	err := s.db.Tx(ctx, func(w *db.Tx) error {
		e, err := s.lockEntry(w, id)
		if err != nil {
			return err
		}
		if e.status != StatusPublished && !canWork(p, e.provider) {
			return ErrNotFound
		}
		if err := claim(w, e, conds); err != nil {
			return err
		}
		if err := step(w, e, dbTime(now)); err != nil {
			return err
		}
		return s.changed(w, id)
	})
	if err != nil {
		return Entry{}, db.Check(err)
	}
	return s.Get(ctx, p, id)
}

// many runs one workflow step on every id in one transaction: all or none.
func (s *Service) many(ctx context.Context, p *auth.Principal, ids []int64, step func(w *db.Tx, e entryRow, now db.Time) error) error {
	now := s.clock()
	err := s.db.Tx(ctx, func(w *db.Tx) error {
		for i, id := range ids {
			e, err := s.lockEntry(w, id)
			if err == nil && e.status != StatusPublished && !canWork(p, e.provider) {
				err = ErrNotFound
			}
			if err == nil {
				err = claim(w, e, nil)
			}
			if err == nil {
				err = step(w, e, dbTime(now))
			}
			if err != nil {
				return rowError(i, err)
			}
		}
		return s.changed(w, ids...)
	})
	return db.Check(err)
}

// rowError names the row of a batch in err.
func rowError(i int, err error) error {
	e, ok := errs.As(err)
	if !ok {
		return err
	}
	row := "rows[" + strconv.Itoa(i) + "]"
	out := &errs.Error{Kind: e.Kind, Code: e.Code, ZH: "第 " + strconv.Itoa(i+1) + " 条：" + e.ZH, EN: row + ": " + e.EN}
	for _, f := range e.Fields {
		f.Field = row + "." + f.Field
		out.Fields = append(out.Fields, f)
	}
	if len(out.Fields) == 0 {
		out.Fields = []errs.FieldError{{Field: row, Code: e.Code, ZH: e.ZH, EN: e.EN}}
	}
	return out
}

func comment(s string, required bool) (string, error) {
	var fs errs.Fields
	min := 0
	if required {
		min = 1
	}
	s = valid.Text(&fs, "comment", s, min, 1000)
	return s, fs.Err()
}

func reasonText(s string) (string, error) {
	var fs errs.Fields
	s = valid.Text(&fs, "reason", s, 1, 1000)
	return s, fs.Err()
}

// Submit sends the entry's draft (or returned version) for review. Only
// the provider's chief data officer may; the draft is checked again.
func (s *Service) Submit(ctx context.Context, p *auth.Principal, id int64, note string, conds ...Cond) (Entry, error) {
	note, err := comment(note, false)
	if err != nil {
		return Entry{}, err
	}
	return s.transition(ctx, p, id, conds, func(w *db.Tx, e entryRow, now db.Time) error { return s.submit(w, p, e, note, now) })
}

// SubmitMany submits several entries in one transaction: all or none.
func (s *Service) SubmitMany(ctx context.Context, p *auth.Principal, ids []int64, note string) error {
	note, err := comment(note, false)
	if err != nil {
		return err
	}
	return s.many(ctx, p, ids, func(w *db.Tx, e entryRow, now db.Time) error { return s.submit(w, p, e, note, now) })
}

func (s *Service) submit(w *db.Tx, p *auth.Principal, e entryRow, note string, now db.Time) error {
	if !canSubmit(p, e.provider) {
		return errSubmitForbidden
	}
	if e.status == StatusDeprecated {
		return errDeprecated
	}
	if e.draft == 0 || (e.draftStatus != StatusDraft && e.draftStatus != StatusReturned) {
		return errNothingToSubmit
	}
	v, err := s.versionByID(w.Ctx, w.Tx, e.draft)
	if err != nil {
		return err
	}
	in := EntryInput{Content: v.Content, ProviderID: e.provider}
	var fs errs.Fields
	if _, err := s.newChecker().check(w.Ctx, &in, "", e.code, &fs); err != nil {
		return err
	}
	if err := fs.Err(); err != nil {
		return err
	}
	_, name := actor(p)
	if err := w.Run(`UPDATE entry_versions SET status = $1, submitted_at = $2, submitter = $3, updated_at = $2 WHERE id = $4`,
		StatusSubmitted, now, name, e.draft); err != nil {
		return err
	}
	if err := s.setWorkingStatus(w, e, StatusSubmitted, now); err != nil {
		return err
	}
	if err := s.notice(w, p, e, notify.KindSubmitted, note); err != nil {
		return err
	}
	return event(w, e.id, v.Number, "submit", p, note, "", now)
}

// setWorkingStatus mirrors the draft's status on an entry never published.
func (s *Service) setWorkingStatus(w *db.Tx, e entryRow, status string, now db.Time) error {
	if e.draft == e.current {
		return w.Run(`UPDATE entries SET status = $1, updated_at = $2 WHERE id = $3`, status, now, e.id)
	}
	return w.Run(`UPDATE entries SET updated_at = $1 WHERE id = $2`, now, e.id)
}

func (s *Service) checkReviewer(p *auth.Principal, e entryRow) error {
	if p != System && !p.Has(auth.PermCatalogReview) {
		return errReviewForbidden
	}
	if ownBody(p, e.provider) {
		return errOwnEntry
	}
	if e.draft == 0 || e.draftStatus != StatusSubmitted {
		return errNotSubmitted
	}
	return nil
}

// Publish approves the submitted version: it comes into force, the one it
// replaces is superseded, and the negative, responsibility and demand lists
// follow. Platform reviewers only, never for an entry of their own body.
func (s *Service) Publish(ctx context.Context, p *auth.Principal, id int64, note string, conds ...Cond) (Entry, error) {
	note, err := comment(note, false)
	if err != nil {
		return Entry{}, err
	}
	return s.transition(ctx, p, id, conds, func(w *db.Tx, e entryRow, now db.Time) error { return s.publish(w, p, e, note, now) })
}

// PublishMany publishes several submitted entries in one transaction.
func (s *Service) PublishMany(ctx context.Context, p *auth.Principal, ids []int64, note string) error {
	note, err := comment(note, false)
	if err != nil {
		return err
	}
	return s.many(ctx, p, ids, func(w *db.Tx, e entryRow, now db.Time) error { return s.publish(w, p, e, note, now) })
}

func (s *Service) publish(w *db.Tx, p *auth.Principal, e entryRow, note string, now db.Time) error {
	if err := s.checkReviewer(p, e); err != nil {
		return err
	}
	if err := s.runPublishHooks(w, e.published, e.draft); err != nil {
		return err
	}
	rid, rname := actor(p)
	var number int
	if err := w.QueryRow(`SELECT number FROM entry_versions WHERE id = $1`, e.draft).Scan(&number); err != nil {
		return err
	}
	if e.published != 0 {
		if err := w.Run(`UPDATE entry_versions SET status = $1, closed_at = $2, closed_by = $3, closed_reason = $4, updated_at = $2 WHERE id = $5`,
			StatusSuperseded, now, rname, "由第 "+strconv.Itoa(number)+" 版替代 / superseded by version "+strconv.Itoa(number), e.published); err != nil {
			return err
		}
	}
	if err := w.Run(`UPDATE entry_versions SET status = $1, reviewed_at = $2, reviewer_id = $3, reviewer = $4, review_comment = $5,
		published_at = $2, updated_at = $2 WHERE id = $6`, StatusPublished, now, rid, rname, note, e.draft); err != nil {
		return err
	}
	if err := w.Run(`UPDATE entries SET status = $1, current_version_id = $2, published_version_id = $2, draft_version_id = NULL,
		published_at = $3, first_published_at = COALESCE(first_published_at, $3), updated_at = $3 WHERE id = $4`,
		StatusPublished, e.draft, now, e.id); err != nil {
		return err
	}
	if err := syncLists(w, e.id, now, rname); err != nil {
		return err
	}
	if err := s.notice(w, p, e, notify.KindPublished, note); err != nil {
		return err
	}
	return event(w, e.id, number, "publish", p, note, "", now)
}

// Return sends the submitted version back to the provider with the
// reviewer's comments, which are required.
func (s *Service) Return(ctx context.Context, p *auth.Principal, id int64, note string, conds ...Cond) (Entry, error) {
	note, err := comment(note, true)
	if err != nil {
		return Entry{}, err
	}
	return s.transition(ctx, p, id, conds, func(w *db.Tx, e entryRow, now db.Time) error {
		if err := s.checkReviewer(p, e); err != nil {
			return err
		}
		rid, rname := actor(p)
		var number int
		if err := w.QueryRow(`SELECT number FROM entry_versions WHERE id = $1`, e.draft).Scan(&number); err != nil {
			return err
		}
		if err := w.Run(`UPDATE entry_versions SET status = $1, reviewed_at = $2, reviewer_id = $3, reviewer = $4, review_comment = $5,
			updated_at = $2 WHERE id = $6`, StatusReturned, now, rid, rname, note, e.draft); err != nil {
			return err
		}
		if err := s.setWorkingStatus(w, e, StatusReturned, now); err != nil {
			return err
		}
		if err := s.notice(w, p, e, notify.KindReturned, note); err != nil {
			return err
		}
		return event(w, e.id, number, "return", p, note, "", now)
	})
}

// Withdraw takes a published entry out of the catalog (撤销) for reason.
// It keeps its history and may be revised and published again; a pending
// revision stays.
func (s *Service) Withdraw(ctx context.Context, p *auth.Principal, id int64, reason string, conds ...Cond) (Entry, error) {
	reason, err := reasonText(reason)
	if err != nil {
		return Entry{}, err
	}
	return s.transition(ctx, p, id, conds, func(w *db.Tx, e entryRow, now db.Time) error {
		if !canSubmit(p, e.provider) {
			return errSubmitForbidden
		}
		if e.status != StatusPublished {
			return errNotPublished
		}
		_, name := actor(p)
		var number int
		if err := w.QueryRow(`SELECT number FROM entry_versions WHERE id = $1`, e.published).Scan(&number); err != nil {
			return err
		}
		if err := closeVersion(w, e.published, StatusWithdrawn, name, reason, now); err != nil {
			return err
		}
		if err := w.Run(`UPDATE entries SET status = $1, published_version_id = NULL, updated_at = $2 WHERE id = $3`,
			StatusWithdrawn, now, e.id); err != nil {
			return err
		}
		if err := syncLists(w, e.id, now, name); err != nil {
			return err
		}
		if err := s.notice(w, p, e, notify.KindWithdrawn, reason); err != nil {
			return err
		}
		if err := s.runRetireHooks(w, e.id, StatusWithdrawn); err != nil {
			return err
		}
		return event(w, e.id, number, "withdraw", p, reason, "", now)
	})
}

// Deprecate ends an entry for good (废止) for reason: its versions in force
// and in progress are closed and it can no longer change.
func (s *Service) Deprecate(ctx context.Context, p *auth.Principal, id int64, reason string, conds ...Cond) (Entry, error) {
	reason, err := reasonText(reason)
	if err != nil {
		return Entry{}, err
	}
	return s.transition(ctx, p, id, conds, func(w *db.Tx, e entryRow, now db.Time) error {
		if !canSubmit(p, e.provider) {
			return errSubmitForbidden
		}
		if e.status == StatusDeprecated {
			return errDeprecated
		}
		_, name := actor(p)
		var number int
		for _, vid := range []int64{e.published, e.draft} {
			if vid == 0 {
				continue
			}
			if err := closeVersion(w, vid, StatusDeprecated, name, reason, now); err != nil {
				return err
			}
		}
		if err := w.QueryRow(`SELECT number FROM entry_versions WHERE id = $1`, e.current).Scan(&number); err != nil {
			return err
		}
		if err := w.Run(`UPDATE entries SET status = $1, published_version_id = NULL, draft_version_id = NULL, updated_at = $2 WHERE id = $3`,
			StatusDeprecated, now, e.id); err != nil {
			return err
		}
		if err := syncLists(w, e.id, now, name); err != nil {
			return err
		}
		if e.published != 0 {
			if err := s.runRetireHooks(w, e.id, StatusDeprecated); err != nil {
				return err
			}
		}
		return event(w, e.id, number, "deprecate", p, reason, "", now)
	})
}

func closeVersion(w *db.Tx, id int64, status, by, reason string, now db.Time) error {
	return w.Run(`UPDATE entry_versions SET status = $1, closed_at = $2, closed_by = $3, closed_reason = $4, updated_at = $2 WHERE id = $5`,
		status, now, by, reason, id)
}

// syncLists keeps the lists consistent with an entry after a change of its
// version in force: the negative list holds exactly the entries whose
// version in force is 不予共享, with that version's basis; responsibility
// items are done while their entry is published (an unlinked item of the
// provider with the entry's exact name is linked on publication); demands
// are matched while one of their linked entries is published.
func syncLists(w *db.Tx, id int64, now db.Time, by string) error {
	var status, name, share, basis string
	var provider, published int64
	err := w.QueryRow(`SELECT e.status, e.provider_id, COALESCE(e.published_version_id, 0), v.name, v.share_type, v.share_condition
		FROM entries e JOIN entry_versions v ON v.id = e.current_version_id WHERE e.id = $1`, id).
		Scan(&status, &provider, &published, &name, &share, &basis)
	if err != nil {
		return err
	}
	inForce := status == StatusPublished && published != 0
	if inForce && share == ShareNone {
		err = w.Run(`INSERT INTO negative_list(entry_id, version_id, basis, added_by, added_at) VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (entry_id) DO UPDATE SET version_id = excluded.version_id, basis = excluded.basis`, id, published, basis, by, now)
	} else {
		err = w.Run(`DELETE FROM negative_list WHERE entry_id = $1`, id)
	}
	if err != nil {
		return err
	}
	if inForce {
		if err := w.Run(`UPDATE responsibility_list SET entry_id = $1, updated_at = $2
			WHERE entry_id IS NULL AND status = 'pending' AND body_id = $3 AND name = $4`, id, now, provider, name); err != nil {
			return err
		}
		err = w.Run(`UPDATE responsibility_list SET status = 'done', completed_at = COALESCE(completed_at, $2), updated_at = $2
			WHERE entry_id = $1 AND status = 'pending'`, id, now)
	} else {
		err = w.Run(`UPDATE responsibility_list SET status = 'pending', completed_at = NULL, updated_at = $2
			WHERE entry_id = $1 AND status = 'done'`, id, now)
	}
	if err != nil {
		return err
	}
	return syncDemands(w, `id IN (SELECT demand_id FROM demand_links WHERE entry_id = $1)`, id, now)
}

// syncDemands recomputes the status of the open or matched demands that
// where selects (with $1 = arg).
func syncDemands(w *db.Tx, where string, arg any, now db.Time) error {
	return w.Run(`UPDATE demand_list SET status = CASE WHEN EXISTS (SELECT 1 FROM demand_links l JOIN entries e ON e.id = l.entry_id
		WHERE l.demand_id = demand_list.id AND e.status = 'published') THEN 'matched' ELSE 'open' END, updated_at = $2
		WHERE status <> 'closed' AND `+where, arg, now)
}

// Get returns an entry as p may see it, with its items and, for the
// provider's staff and reviewers, its pending revision.
func (s *Service) Get(ctx context.Context, p *auth.Principal, id int64) (Entry, error) {
	es, err := s.loadEntries(ctx, s.db.R, []int64{id}, true, nil)
	if err != nil {
		return Entry{}, db.Check(err)
	}
	if len(es) == 0 || !visible(p, &es[0]) {
		return Entry{}, ErrNotFound
	}
	e := es[0]
	if canWork(p, e.ProviderID) && e.draftID != 0 && e.draftID != e.currentID {
		v, err := s.versionByID(ctx, s.db.R, e.draftID)
		if err != nil {
			return Entry{}, err
		}
		e.Revision = &v
	}
	decorate(p, &e)
	return e, nil
}

// GetByCode returns the entry with code.
func (s *Service) GetByCode(ctx context.Context, p *auth.Principal, code string) (Entry, error) {
	var id int64
	err := s.db.R.QueryRowContext(ctx, `SELECT id FROM entries WHERE code = $1`, strings.TrimSpace(code)).Scan(&id)
	if isNoRows(err) {
		return Entry{}, ErrNotFound
	}
	if err != nil {
		return Entry{}, db.Check(err)
	}
	return s.Get(ctx, p, id)
}
