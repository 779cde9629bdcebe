package catalog

import (
	"context"
	"database/sql"
	"errors"
	"regexp"
	"strings"
	"time"

	"xiangyun/internal/auth"
	"xiangyun/internal/db"
	"xiangyun/internal/errs"
	"xiangyun/internal/org"
	"xiangyun/internal/valid"
	"xiangyun/internal/workday"
)

// The three lists (三张清单, seed 003 §24) are kept consistent with the
// entries in the same transactions that change them (see syncLists):
//
//   - responsibility list (责任清单): which body must provide which resource.
//     An item is done while its linked entry is published, and pending
//     again when the entry is withdrawn or deprecated.
//   - demand list (需求清单): what a body needs, linked to the entries that
//     satisfy it; matched while one linked entry is published.
//   - negative list (负面清单): exactly the entries whose version in force
//     is 不予共享, with that version's legal basis. It is derived, never
//     edited by hand: an entry gets on it (or off it) by publishing a
//     version that is (or is not) 不予共享, through review.

// List statuses.
const (
	RespPending   = "pending"   // 待提供
	RespDone      = "done"      // 已提供
	RespCancelled = "cancelled" // 已取消

	DemandOpen    = "open"    // 待满足
	DemandMatched = "matched" // 已匹配
	DemandClosed  = "closed"  // 已关闭
)

// ListFilter narrows a list.
type ListFilter struct {
	BodyID int64
	Status string
	Q      string // name or title contains
	Offset int
	Limit  int // 0 = all
}

// Responsibility is one item of the responsibility list.
type Responsibility struct {
	ID          int64      `json:"id"`
	BodyID      int64      `json:"body_id"`
	Body        string     `json:"body"`
	Name        string     `json:"name" doc:"the resource the body must provide"`
	Basis       string     `json:"basis,omitempty" doc:"the legal basis of the duty (职责依据)"`
	Due         string     `json:"due,omitempty" doc:"date by which it is due, YYYY-MM-DD"`
	Note        string     `json:"note,omitempty"`
	EntryID     int64      `json:"entry_id,omitempty"`
	EntryCode   string     `json:"entry_code,omitempty"`
	EntryName   string     `json:"entry_name,omitempty"`
	Status      string     `json:"status" doc:"pending, done, cancelled"`
	Overdue     bool       `json:"overdue"`
	CreatedBy   string     `json:"created_by"`
	CreatedAt   time.Time  `json:"created_at"`
	UpdatedAt   time.Time  `json:"updated_at"`
	CompletedAt *time.Time `json:"completed_at,omitempty"`
}

// ResponsibilityInput creates or updates a responsibility item.
type ResponsibilityInput struct {
	BodyID int64  `json:"body_id"`
	Name   string `json:"name"`
	Basis  string `json:"basis,omitempty"`
	Due    string `json:"due,omitempty" doc:"YYYY-MM-DD"`
	Note   string `json:"note,omitempty"`
	// Cancelled cancels the item (update only); false restores it.
	Cancelled bool `json:"cancelled,omitempty"`
}

var dateRE = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)

var errListsForbidden = errs.Forbidden("catalog.lists_forbidden", "只有平台管理员或审核员可以维护清单", "only platform administrators or reviewers may maintain the lists")

func canManageLists(p *auth.Principal) bool { return p == System || p.Global(auth.PermCatalogLists) }

func (s *Service) checkResponsibility(ctx context.Context, in *ResponsibilityInput) error {
	var fs errs.Fields
	in.Name = valid.Line(&fs, "name", "资源名称", in.Name, 2, 100)
	in.Basis = valid.Text(&fs, "basis", in.Basis, 0, 1000)
	in.Note = valid.Text(&fs, "note", in.Note, 0, 1000)
	if in.Due = strings.TrimSpace(in.Due); in.Due != "" {
		if _, err := time.Parse("2006-01-02", in.Due); err != nil || !dateRE.MatchString(in.Due) {
			fs.Add("due", "catalog.date", "日期格式须为 YYYY-MM-DD", "the date must be YYYY-MM-DD")
		}
	}
	if err := s.checkBody(ctx, in.BodyID, &fs); err != nil {
		return err
	}
	return fs.Err()
}

// checkBody checks that the body of a list item exists and is enabled. A
// failed lookup is returned (503), never reported as a missing body.
func (s *Service) checkBody(ctx context.Context, id int64, fs *errs.Fields) error {
	b, err := s.orgs.Body(ctx, id)
	switch {
	case errors.Is(err, org.ErrBodyNotFound):
		fs.Add("body_id", "catalog.body_not_found", "机构不存在", "no such body")
	case err != nil:
		return db.Check(err)
	case !b.Enabled:
		fs.Add("body_id", "catalog.body_disabled", "机构已停用", "the body is disabled")
	}
	return nil
}

// CreateResponsibility adds an item to the responsibility list (list
// managers). If the body already has a published entry of that exact name,
// it is linked and the item is done at once.
func (s *Service) CreateResponsibility(ctx context.Context, p *auth.Principal, in ResponsibilityInput) (Responsibility, error) {
	if !canManageLists(p) {
		return Responsibility{}, errListsForbidden
	}
	if err := s.checkResponsibility(ctx, &in); err != nil {
		return Responsibility{}, err
	}
	_, by := actor(p)
	now := dbTime(s.clock())
	var id int64
	err := s.db.Tx(ctx, func(w *db.Tx) error {
		var entry sql.NullInt64
		err := w.QueryRow(`SELECT e.id FROM entries e JOIN entry_versions v ON v.id = e.published_version_id
			WHERE e.provider_id = $1 AND v.name = $2 AND e.status = 'published' ORDER BY e.id LIMIT 1`, in.BodyID, in.Name).Scan(&entry)
		if err != nil && !isNoRows(err) {
			return err
		}
		status, done := RespPending, db.Time{}
		if entry.Valid {
			status, done = RespDone, now
		}
		return w.QueryRow(`INSERT INTO responsibility_list(body_id, name, basis, due, note, entry_id, status, created_by, created_at, updated_at, completed_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, $10) RETURNING id`,
			in.BodyID, in.Name, in.Basis, in.Due, in.Note, entry, status, by, now, done).Scan(&id)
	})
	if err != nil {
		return Responsibility{}, db.Check(err)
	}
	return s.Responsibility(ctx, id)
}

// UpdateResponsibility changes an item's details, or cancels or restores
// it (list managers).
func (s *Service) UpdateResponsibility(ctx context.Context, p *auth.Principal, id int64, in ResponsibilityInput) (Responsibility, error) {
	if !canManageLists(p) {
		return Responsibility{}, errListsForbidden
	}
	cur, err := s.Responsibility(ctx, id)
	if err != nil {
		return Responsibility{}, err
	}
	if err := s.checkResponsibility(ctx, &in); err != nil {
		return Responsibility{}, err
	}
	now := dbTime(s.clock())
	err = s.db.Tx(ctx, func(w *db.Tx) error {
		entry := any(nil)
		if cur.EntryID != 0 && in.BodyID == cur.BodyID {
			entry = cur.EntryID
		}
		if err := w.Run(`UPDATE responsibility_list SET body_id = $1, name = $2, basis = $3, due = $4, note = $5, entry_id = $6, updated_at = $7
			WHERE id = $8`, in.BodyID, in.Name, in.Basis, in.Due, in.Note, entry, now, id); err != nil {
			return err
		}
		return s.respStatus(w, id, in.Cancelled, now)
	})
	if err != nil {
		return Responsibility{}, db.Check(err)
	}
	return s.Responsibility(ctx, id)
}

// respStatus recomputes an item's status from its link (or cancels it).
func (s *Service) respStatus(w *db.Tx, id int64, cancelled bool, now db.Time) error {
	if cancelled {
		return w.Run(`UPDATE responsibility_list SET status = 'cancelled', updated_at = $1 WHERE id = $2`, now, id)
	}
	var published bool
	err := w.QueryRow(`SELECT COUNT(*) > 0 FROM responsibility_list r JOIN entries e ON e.id = r.entry_id WHERE r.id = $1 AND e.status = 'published'`, id).Scan(&published)
	if err != nil {
		return err
	}
	if published {
		return w.Run(`UPDATE responsibility_list SET status = 'done', completed_at = COALESCE(completed_at, $1), updated_at = $1 WHERE id = $2`, now, id)
	}
	return w.Run(`UPDATE responsibility_list SET status = 'pending', completed_at = NULL, updated_at = $1 WHERE id = $2`, now, id)
}

// LinkResponsibility links an item to the entry that fulfils it (0
// unlinks). The entry must be provided by the item's body. List managers
// and the body's chief data officer may link.
func (s *Service) LinkResponsibility(ctx context.Context, p *auth.Principal, id, entryID int64) (Responsibility, error) {
	cur, err := s.Responsibility(ctx, id)
	if err != nil {
		return Responsibility{}, err
	}
	if !canManageLists(p) && !p.HasAt(auth.PermCatalogSubmit, cur.BodyID) {
		return Responsibility{}, errListsForbidden
	}
	if cur.Status == RespCancelled {
		return Responsibility{}, errs.Conflict("catalog.responsibility_cancelled", "该责任事项已取消", "the responsibility item is cancelled")
	}
	if entryID != 0 {
		e, err := s.entryFor(ctx, p, entryID)
		if err != nil {
			return Responsibility{}, err
		}
		if e.ProviderID != cur.BodyID {
			var fs errs.Fields
			fs.Add("entry_id", "catalog.responsibility_body", "关联的目录须由责任单位提供", "the linked entry must be provided by the responsible body")
			return Responsibility{}, fs.Err()
		}
	}
	now := dbTime(s.clock())
	err = s.db.Tx(ctx, func(w *db.Tx) error {
		var entry any
		if entryID != 0 {
			entry = entryID
		}
		if err := w.Run(`UPDATE responsibility_list SET entry_id = $1, updated_at = $2 WHERE id = $3`, entry, now, id); err != nil {
			return err
		}
		return s.respStatus(w, id, false, now)
	})
	if err != nil {
		return Responsibility{}, db.Check(err)
	}
	return s.Responsibility(ctx, id)
}

const respSelect = `SELECT r.id, r.body_id, r.name, r.basis, r.due, r.note, COALESCE(r.entry_id, 0), COALESCE(e.code, ''),
	COALESCE(v.name, ''), r.status, r.created_by, r.created_at, r.updated_at, r.completed_at
	FROM responsibility_list r LEFT JOIN entries e ON e.id = r.entry_id LEFT JOIN entry_versions v ON v.id = e.current_version_id`

func (s *Service) scanResp(ctx context.Context, nm *names, sc interface{ Scan(...any) error }) (Responsibility, error) {
	var r Responsibility
	var created, updated, completed db.Time
	err := sc.Scan(&r.ID, &r.BodyID, &r.Name, &r.Basis, &r.Due, &r.Note, &r.EntryID, &r.EntryCode, &r.EntryName, &r.Status,
		&r.CreatedBy, &created, &updated, &completed)
	if err != nil {
		return r, err
	}
	r.CreatedAt, r.UpdatedAt, r.CompletedAt = created.Time, updated.Time, timePtr(completed)
	r.Body = nm.body(ctx, r.BodyID).Name
	r.Overdue = r.Status == RespPending && r.Due != "" && r.Due < s.clock().In(workday.Location()).Format("2006-01-02")
	return r, nil
}

// Responsibility returns one item of the responsibility list.
func (s *Service) Responsibility(ctx context.Context, id int64) (Responsibility, error) {
	r, err := s.scanResp(ctx, s.names(), s.db.R.QueryRowContext(ctx, respSelect+` WHERE r.id = $1`, id))
	if isNoRows(err) {
		return r, errs.NotFound("catalog.responsibility_not_found", "责任清单事项不存在", "no such responsibility item")
	}
	return r, db.Check(err)
}

// Responsibilities lists the responsibility list, by body then name, with
// the total.
func (s *Service) Responsibilities(ctx context.Context, f ListFilter) ([]Responsibility, int, error) {
	where, args := listWhere(s.db.Dialect, f, "r.body_id", "r.status", "r.name")
	var total int
	if err := s.db.R.QueryRowContext(ctx, `SELECT COUNT(*) FROM responsibility_list r WHERE `+where, args...).Scan(&total); err != nil {
		return nil, 0, db.Check(err)
	}
	q := respSelect + ` WHERE ` + where + ` ORDER BY r.body_id, r.name, r.id` + pageSQL(f, &args)
	rows, err := s.db.R.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, 0, db.Check(err)
	}
	defer rows.Close()
	nm := s.names()
	out := []Responsibility{}
	for rows.Next() {
		r, err := s.scanResp(ctx, nm, rows)
		if err != nil {
			return nil, 0, db.Check(err)
		}
		out = append(out, r)
	}
	return out, total, rows.Err()
}

func listWhere(d db.Dialect, f ListFilter, bodyCol, statusCol, textCol string) (string, db.Args) {
	var args db.Args
	where := []string{"1=1"}
	if f.BodyID != 0 {
		where = append(where, bodyCol+" = "+args.Add(f.BodyID))
	}
	if f.Status != "" {
		where = append(where, statusCol+" = "+args.Add(f.Status))
	}
	if q := strings.TrimSpace(f.Q); q != "" {
		where = append(where, d.ILike(textCol, args.Add(db.Like(q))))
	}
	return strings.Join(where, " AND "), args
}

func pageSQL(f ListFilter, args *db.Args) string {
	if f.Limit <= 0 {
		return ""
	}
	return " LIMIT " + args.Add(f.Limit) + " OFFSET " + args.Add(max(f.Offset, 0))
}

// Demand is one item of the demand list.
type Demand struct {
	ID          int64        `json:"id"`
	BodyID      int64        `json:"body_id"`
	Body        string       `json:"body"`
	Title       string       `json:"title"`
	Description string       `json:"description,omitempty"`
	Items       string       `json:"items,omitempty" doc:"the data items needed"`
	Status      string       `json:"status" doc:"open, matched, closed"`
	CloseReason string       `json:"close_reason,omitempty"`
	CreatedBy   string       `json:"created_by"`
	CreatedAt   time.Time    `json:"created_at"`
	UpdatedAt   time.Time    `json:"updated_at"`
	Links       []DemandLink `json:"links"`
}

// DemandLink is an entry linked to a demand as satisfying it.
type DemandLink struct {
	EntryID  int64     `json:"entry_id"`
	Code     string    `json:"code"`
	Name     string    `json:"name"`
	Provider string    `json:"provider"`
	Status   string    `json:"status"`
	LinkedBy string    `json:"linked_by"`
	LinkedAt time.Time `json:"linked_at"`
}

// DemandInput creates or updates a demand.
type DemandInput struct {
	BodyID      int64  `json:"body_id" doc:"the body that needs the data"`
	Title       string `json:"title"`
	Description string `json:"description,omitempty"`
	Items       string `json:"items,omitempty" doc:"the data items needed"`
}

var errDemandForbidden = errs.Forbidden("catalog.demand_forbidden", "只能为本单位提出或修改数据需求", "you may only post or change demands of your own body")

func canDemand(p *auth.Principal, body int64) bool {
	return p == System || p.HasAt(auth.PermCatalogDemand, body) || canManageLists(p)
}

func (s *Service) checkDemand(ctx context.Context, in *DemandInput) error {
	var fs errs.Fields
	in.Title = valid.Line(&fs, "title", "需求名称", in.Title, 2, 100)
	in.Description = valid.Text(&fs, "description", in.Description, 0, 2000)
	in.Items = valid.Text(&fs, "items", in.Items, 0, 2000)
	if err := s.checkBody(ctx, in.BodyID, &fs); err != nil {
		return err
	}
	return fs.Err()
}

// CreateDemand posts a demand of a body: its chief data officer, or a
// reviewer on its behalf.
func (s *Service) CreateDemand(ctx context.Context, p *auth.Principal, in DemandInput) (Demand, error) {
	if err := s.checkDemand(ctx, &in); err != nil {
		return Demand{}, err
	}
	if !canDemand(p, in.BodyID) {
		return Demand{}, errDemandForbidden
	}
	_, by := actor(p)
	now := dbTime(s.clock())
	var id int64
	err := s.db.Tx(ctx, func(w *db.Tx) error {
		return w.QueryRow(`INSERT INTO demand_list(body_id, title, description, items, status, created_by, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING id`, in.BodyID, in.Title, in.Description, in.Items, DemandOpen, by, now).Scan(&id)
	})
	if err != nil {
		return Demand{}, db.Check(err)
	}
	return s.Demand(ctx, id)
}

// UpdateDemand changes a demand's text (its body or list managers).
func (s *Service) UpdateDemand(ctx context.Context, p *auth.Principal, id int64, in DemandInput) (Demand, error) {
	cur, err := s.Demand(ctx, id)
	if err != nil {
		return Demand{}, err
	}
	if in.BodyID == 0 {
		in.BodyID = cur.BodyID
	}
	if !canDemand(p, cur.BodyID) || !canDemand(p, in.BodyID) {
		return Demand{}, errDemandForbidden
	}
	if err := s.checkDemand(ctx, &in); err != nil {
		return Demand{}, err
	}
	err = s.db.Tx(ctx, func(w *db.Tx) error {
		return w.Run(`UPDATE demand_list SET body_id = $1, title = $2, description = $3, items = $4, updated_at = $5 WHERE id = $6`,
			in.BodyID, in.Title, in.Description, in.Items, dbTime(s.clock()), id)
	})
	if err != nil {
		return Demand{}, db.Check(err)
	}
	return s.Demand(ctx, id)
}

// CloseDemand closes a demand with a reason, or reopens it when reopen is
// set (its body or list managers).
func (s *Service) CloseDemand(ctx context.Context, p *auth.Principal, id int64, reason string, reopen bool) (Demand, error) {
	cur, err := s.Demand(ctx, id)
	if err != nil {
		return Demand{}, err
	}
	if !canDemand(p, cur.BodyID) {
		return Demand{}, errDemandForbidden
	}
	var fs errs.Fields
	min := 1 // closing needs a reason
	if reopen {
		min = 0
	}
	reason = valid.Text(&fs, "reason", reason, min, 1000)
	if err := fs.Err(); err != nil {
		return Demand{}, err
	}
	now := dbTime(s.clock())
	err = s.db.Tx(ctx, func(w *db.Tx) error {
		if !reopen {
			return w.Run(`UPDATE demand_list SET status = 'closed', close_reason = $1, updated_at = $2 WHERE id = $3`, reason, now, id)
		}
		if err := w.Run(`UPDATE demand_list SET status = 'open', close_reason = '', updated_at = $1 WHERE id = $2`, now, id); err != nil {
			return err
		}
		return syncDemands(w, `id = $1`, id, now)
	})
	if err != nil {
		return Demand{}, db.Check(err)
	}
	return s.Demand(ctx, id)
}

// LinkDemand links an entry that satisfies a demand (供需对接), or unlinks it
// when unlink is set. The demanding body, list managers and the entry's
// provider (offering its entry) may link; the demand is matched while one
// of its linked entries is published.
func (s *Service) LinkDemand(ctx context.Context, p *auth.Principal, id, entryID int64, unlink bool) (Demand, error) {
	cur, err := s.Demand(ctx, id)
	if err != nil {
		return Demand{}, err
	}
	e, err := s.entryFor(ctx, p, entryID)
	if err != nil {
		return Demand{}, err
	}
	if !canDemand(p, cur.BodyID) && !canSubmit(p, e.ProviderID) {
		return Demand{}, errDemandForbidden
	}
	if !unlink && e.Status == StatusDeprecated {
		return Demand{}, errDeprecated
	}
	_, by := actor(p)
	now := dbTime(s.clock())
	err = s.db.Tx(ctx, func(w *db.Tx) error {
		var err error
		if unlink {
			err = w.Run(`DELETE FROM demand_links WHERE demand_id = $1 AND entry_id = $2`, id, entryID)
		} else {
			err = w.Run(`INSERT INTO demand_links(demand_id, entry_id, linked_by, linked_at) VALUES ($1, $2, $3, $4)
				ON CONFLICT (demand_id, entry_id) DO NOTHING`, id, entryID, by, now)
		}
		if err != nil {
			return err
		}
		return syncDemands(w, `id = $1`, id, now)
	})
	if err != nil {
		return Demand{}, db.Check(err)
	}
	return s.Demand(ctx, id)
}

const demandSelect = `SELECT id, body_id, title, description, items, status, close_reason, created_by, created_at, updated_at FROM demand_list d`

func (s *Service) scanDemand(ctx context.Context, nm *names, sc interface{ Scan(...any) error }) (Demand, error) {
	var d Demand
	var created, updated db.Time
	err := sc.Scan(&d.ID, &d.BodyID, &d.Title, &d.Description, &d.Items, &d.Status, &d.CloseReason, &d.CreatedBy, &created, &updated)
	d.CreatedAt, d.UpdatedAt = created.Time, updated.Time
	d.Body = nm.body(ctx, d.BodyID).Name
	d.Links = []DemandLink{}
	return d, err
}

// Demand returns one demand with its links.
func (s *Service) Demand(ctx context.Context, id int64) (Demand, error) {
	nm := s.names()
	d, err := s.scanDemand(ctx, nm, s.db.R.QueryRowContext(ctx, demandSelect+` WHERE id = $1`, id))
	if isNoRows(err) {
		return d, errs.NotFound("catalog.demand_not_found", "需求不存在", "no such demand")
	}
	if err != nil {
		return d, db.Check(err)
	}
	ds := []Demand{d}
	if err := s.demandLinks(ctx, nm, ds); err != nil {
		return d, err
	}
	return ds[0], nil
}

func (s *Service) demandLinks(ctx context.Context, nm *names, ds []Demand) error {
	if len(ds) == 0 {
		return nil
	}
	idx := map[int64]int{}
	ids := make([]int64, len(ds))
	for i, d := range ds {
		idx[d.ID], ids[i] = i, d.ID
	}
	q, args := db.InList(`SELECT l.demand_id, l.entry_id, e.code, v.name, e.provider_id, e.status, l.linked_by, l.linked_at
		FROM demand_links l JOIN entries e ON e.id = l.entry_id JOIN entry_versions v ON v.id = e.current_version_id
		WHERE l.demand_id IN `, ids)
	rows, err := s.db.R.QueryContext(ctx, q+` ORDER BY l.demand_id, l.linked_at, l.entry_id`, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var did, provider int64
		var l DemandLink
		var at db.Time
		if err := rows.Scan(&did, &l.EntryID, &l.Code, &l.Name, &provider, &l.Status, &l.LinkedBy, &at); err != nil {
			return err
		}
		l.LinkedAt, l.Provider = at.Time, nm.body(ctx, provider).Name
		ds[idx[did]].Links = append(ds[idx[did]].Links, l)
	}
	return rows.Err()
}

// Demands lists the demand list, newest first, with the total.
func (s *Service) Demands(ctx context.Context, f ListFilter) ([]Demand, int, error) {
	where, args := listWhere(s.db.Dialect, f, "d.body_id", "d.status", "d.title")
	var total int
	if err := s.db.R.QueryRowContext(ctx, `SELECT COUNT(*) FROM demand_list d WHERE `+where, args...).Scan(&total); err != nil {
		return nil, 0, db.Check(err)
	}
	rows, err := s.db.R.QueryContext(ctx, demandSelect+` WHERE `+where+` ORDER BY d.id DESC`+pageSQL(f, &args), args...)
	if err != nil {
		return nil, 0, db.Check(err)
	}
	nm := s.names()
	out := []Demand{}
	for rows.Next() {
		d, err := s.scanDemand(ctx, nm, rows)
		if err != nil {
			rows.Close()
			return nil, 0, db.Check(err)
		}
		out = append(out, d)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, 0, db.Check(err)
	}
	return out, total, s.demandLinks(ctx, nm, out)
}

// Negative is one row of the negative list.
type Negative struct {
	EntryID    int64     `json:"entry_id"`
	Code       string    `json:"code"`
	Name       string    `json:"name"`
	ProviderID int64     `json:"provider_id"`
	Provider   string    `json:"provider"`
	Version    int       `json:"version"`
	Basis      string    `json:"basis" doc:"the legal or policy basis for not sharing"`
	AddedBy    string    `json:"added_by" doc:"the reviewer who published the version"`
	AddedAt    time.Time `json:"added_at"`
}

// NegativeList lists the negative list by code, with the total. Status in
// the filter is ignored.
func (s *Service) NegativeList(ctx context.Context, f ListFilter) ([]Negative, int, error) {
	f.Status = ""
	where, args := listWhere(s.db.Dialect, f, "e.provider_id", "", "v.name")
	from := ` FROM negative_list n JOIN entries e ON e.id = n.entry_id JOIN entry_versions v ON v.id = n.version_id WHERE ` + where
	var total int
	if err := s.db.R.QueryRowContext(ctx, `SELECT COUNT(*)`+from, args...).Scan(&total); err != nil {
		return nil, 0, db.Check(err)
	}
	rows, err := s.db.R.QueryContext(ctx, `SELECT n.entry_id, e.code, v.name, e.provider_id, v.number, n.basis, n.added_by, n.added_at`+
		from+` ORDER BY e.code`+pageSQL(f, &args), args...)
	if err != nil {
		return nil, 0, db.Check(err)
	}
	defer rows.Close()
	nm := s.names()
	out := []Negative{}
	for rows.Next() {
		var n Negative
		var at db.Time
		if err := rows.Scan(&n.EntryID, &n.Code, &n.Name, &n.ProviderID, &n.Version, &n.Basis, &n.AddedBy, &at); err != nil {
			return nil, 0, db.Check(err)
		}
		n.AddedAt, n.Provider = at.Time, nm.body(ctx, n.ProviderID).Name
		out = append(out, n)
	}
	return out, total, rows.Err()
}
