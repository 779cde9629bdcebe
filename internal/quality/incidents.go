package quality

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"strings"
	"time"

	"xiangyun/internal/auth"
	"xiangyun/internal/catalog"
	"xiangyun/internal/db"
	"xiangyun/internal/errs"
	"xiangyun/internal/notify"
	"xiangyun/internal/valid"
)

// Incident statuses.
const (
	IncidentNew          = "new"
	IncidentAcknowledged = "acknowledged"
	IncidentResolved     = "resolved"
)

// Incident is a failing rule of an entry, assigned to the providing body
// (谁采集、谁负责). One stays open per entry and rule; later failing batches
// update it, a passing batch resolves it.
type Incident struct {
	ID             int64      `json:"id"`
	EntryID        int64      `json:"entry_id"`
	EntryName      string     `json:"entry_name,omitempty"`
	BodyID         int64      `json:"body_id"`
	RuleKey        string     `json:"rule_key"`
	Kind           string     `json:"kind"`
	Items          string     `json:"items,omitempty"`
	Dimension      string     `json:"dimension"`
	Status         string     `json:"status" enum:"new,acknowledged,resolved"`
	OpenedBatchID  int64      `json:"opened_batch_id"`
	LastBatchID    int64      `json:"last_batch_id"`
	Failed         int        `json:"failed" doc:"failures in the last failing batch"`
	Rows           int        `json:"rows" doc:"rows of the last failing batch"`
	Batches        int        `json:"batches" doc:"failing batches since it opened"`
	OpenedAt       time.Time  `json:"opened_at"`
	UpdatedAt      time.Time  `json:"updated_at"`
	AcknowledgedAt *time.Time `json:"acknowledged_at,omitempty"`
	AcknowledgedBy string     `json:"acknowledged_by,omitempty"`
	ResolvedAt     *time.Time `json:"resolved_at,omitempty"`
	ResolvedBy     string     `json:"resolved_by,omitempty"`
	Reason         string     `json:"reason,omitempty"`
}

const incidentCols = `id, entry_id, body_id, rule_key, kind, items, dimension, status, opened_batch_id, last_batch_id,
	failed, rows_total, batches, opened_at, updated_at, acknowledged_at, acknowledged_by, resolved_at, resolved_by, reason`

func scanIncident(sc interface{ Scan(...any) error }) (Incident, error) {
	var in Incident
	var opened, updated, acked, resolved db.Time
	err := sc.Scan(&in.ID, &in.EntryID, &in.BodyID, &in.RuleKey, &in.Kind, &in.Items, &in.Dimension, &in.Status,
		&in.OpenedBatchID, &in.LastBatchID, &in.Failed, &in.Rows, &in.Batches, &opened, &updated, &acked,
		&in.AcknowledgedBy, &resolved, &in.ResolvedBy, &in.Reason)
	in.OpenedAt, in.UpdatedAt = opened.Time, updated.Time
	if !acked.IsZero() {
		t := acked.Time
		in.AcknowledgedAt = &t
	}
	if !resolved.IsZero() {
		t := resolved.Time
		in.ResolvedAt = &t
	}
	return in, err
}

// incidents opens (or updates) an incident for each failing rule and
// resolves the open incident of each passing one. The insert is an upsert
// on the partial unique index of open incidents, so concurrent batches of
// one entry never open two.
func (s *Service) incidents(tx *db.Tx, f entryFacts, batchID int64, results []RuleResult) error {
	for _, r := range results {
		if r.Passed {
			if err := tx.Run(`UPDATE quality_incidents SET status = 'resolved', resolved_at = $1, resolved_by = 'system',
				reason = $2, updated_at = $1 WHERE entry_id = $3 AND rule_key = $4 AND status <> 'resolved'`,
				tx.Now, "passed in batch "+itoa(batchID)+" / 批次 "+itoa(batchID)+" 已通过", f.id, r.Key); err != nil {
				return db.Check(err)
			}
			continue
		}
		row := tx.QueryRow(`INSERT INTO quality_incidents (entry_id, body_id, rule_key, kind, items, dimension, status,
				opened_batch_id, last_batch_id, failed, rows_total, batches, opened_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, 'new', $7, $7, $8, $9, 1, $10, $10)
			ON CONFLICT (entry_id, rule_key) WHERE status <> 'resolved' DO UPDATE SET
				last_batch_id = excluded.last_batch_id, failed = excluded.failed, rows_total = excluded.rows_total,
				batches = quality_incidents.batches + 1, updated_at = excluded.updated_at, body_id = excluded.body_id
			RETURNING `+incidentCols,
			f.id, f.body, r.Key, r.Kind, r.Items, r.Dimension, batchID, r.Failed, r.Rows, tx.Now)
		in, err := scanIncident(row)
		if err != nil {
			return db.Check(err)
		}
		if in.OpenedBatchID == batchID && in.Batches == 1 && s.notify != nil {
			in.EntryName = f.name
			if err := s.noticeOpened(tx, in); err != nil {
				return err
			}
		}
	}
	return nil
}

// KindIncident is the notice kind of an opened quality incident.
const KindIncident = "quality.incident"

// noticeOpened tells the providing body's chief data officers of a new
// incident (谁采集、谁负责), once per incident.
func (s *Service) noticeOpened(tx *db.Tx, in Incident) error {
	cdos, err := auth.Holders(tx, auth.RoleChiefDataOfficer, in.BodyID)
	if err != nil {
		return err
	}
	to := make([]notify.Recipient, 0, len(cdos))
	for _, c := range cdos {
		to = append(to, notify.Recipient{UserID: c.UserID, Email: c.Email})
	}
	k, _ := kindOf(in.Kind)
	what, whatEN := k.ZH, k.EN
	if in.Items != "" {
		what, whatEN = what+"（"+in.Items+"）", whatEN+" ("+in.Items+")"
	}
	_, err = s.notify.Send(tx, notify.Notice{
		Kind:    KindIncident,
		Key:     "quality.incident:" + itoa(in.ID),
		Link:    "/quality/entries/" + itoa(in.EntryID) + "#incidents",
		TitleZH: "数据质量问题：" + in.EntryName, TitleEN: "Data quality incident: " + in.EntryName,
		BodyZH: "批次 " + itoa(in.LastBatchID) + " 中规则“" + what + "”不合格：" + strconv.Itoa(in.Failed) + " / " + strconv.Itoa(in.Rows) +
			" 条记录。请核查源数据并在质量事件中确认、处理。",
		BodyEN: "Rule " + whatEN + " failed in batch " + itoa(in.LastBatchID) + ": " + strconv.Itoa(in.Failed) + " of " + strconv.Itoa(in.Rows) +
			" rows. Check the source data, then acknowledge and resolve the incident.",
		To: to,
	})
	return err
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// IncidentFilter selects incidents.
type IncidentFilter struct {
	BodyID  int64
	EntryID int64
	Status  string // "", "open" (new or acknowledged), or one status
	Limit   int
	Offset  int
}

// Incidents lists incidents the principal may see, newest first, with the
// total matching.
func (s *Service) Incidents(ctx context.Context, p *auth.Principal, f IncidentFilter) ([]Incident, int, error) {
	var args db.Args
	var where []string
	if p != catalog.System && !p.Global(auth.PermQualityRead) {
		bodies := p.BodiesWith(auth.PermQualityRead)
		if len(bodies) == 0 {
			return nil, 0, errForbidden
		}
		var ph []string
		for _, b := range bodies {
			ph = append(ph, args.Add(b))
		}
		where = append(where, "body_id IN ("+strings.Join(ph, ", ")+")")
	}
	if f.BodyID > 0 {
		where = append(where, "body_id = "+args.Add(f.BodyID))
	}
	if f.EntryID > 0 {
		where = append(where, "entry_id = "+args.Add(f.EntryID))
	}
	switch f.Status {
	case "":
	case "open":
		where = append(where, "status <> 'resolved'")
	case IncidentNew, IncidentAcknowledged, IncidentResolved:
		where = append(where, "status = "+args.Add(f.Status))
	default:
		return nil, 0, errs.Invalid("quality.status", "未知的状态："+f.Status, "unknown status: "+f.Status)
	}
	w := ""
	if len(where) > 0 {
		w = " WHERE " + strings.Join(where, " AND ")
	}
	ctx, cancel := s.db.Ctx(ctx)
	defer cancel()
	var total int
	if err := s.db.R.QueryRowContext(ctx, `SELECT COUNT(*) FROM quality_incidents`+w, args...).Scan(&total); err != nil {
		return nil, 0, db.Check(err)
	}
	limit := f.Limit
	if limit <= 0 || limit > 500 {
		limit = 100
	}
	q := `SELECT ` + incidentCols + ` FROM quality_incidents` + w + ` ORDER BY (status = 'resolved'), opened_at DESC, id DESC LIMIT ` +
		args.Add(limit) + ` OFFSET ` + args.Add(max(f.Offset, 0))
	rows, err := s.db.R.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, 0, db.Check(err)
	}
	defer rows.Close()
	var out []Incident
	for rows.Next() {
		in, err := scanIncident(rows)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, in)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, db.Check(err)
	}
	s.entryNames(ctx, out)
	return out, total, nil
}

func (s *Service) entryNames(ctx context.Context, ins []Incident) {
	names := map[int64]string{}
	for i := range ins {
		id := ins[i].EntryID
		if _, ok := names[id]; !ok {
			if f, err := s.facts(ctx, id); err == nil {
				names[id] = f.name
			}
		}
		ins[i].EntryName = names[id]
	}
}

// Incident returns one incident.
func (s *Service) Incident(ctx context.Context, p *auth.Principal, id int64) (Incident, error) {
	ctx, cancel := s.db.Ctx(ctx)
	defer cancel()
	in, err := scanIncident(s.db.R.QueryRowContext(ctx, `SELECT `+incidentCols+` FROM quality_incidents WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Incident{}, errNoIncident
	}
	if err != nil {
		return Incident{}, db.Check(err)
	}
	if !mayRead(p, in.BodyID) {
		return Incident{}, errNoIncident
	}
	ins := []Incident{in}
	s.entryNames(ctx, ins)
	return ins[0], nil
}

var errNoIncident = errs.NotFound("quality.incident", "事件不存在", "no such incident")

// Acknowledge marks a new incident as taken in hand by the provider.
func (s *Service) Acknowledge(ctx context.Context, p *auth.Principal, id int64, note string) (Incident, error) {
	var fs errs.Fields
	note = valid.Text(&fs, "note", note, 0, 500)
	if err := fs.Err(); err != nil {
		return Incident{}, err
	}
	return s.move(ctx, p, id, IncidentAcknowledged, note)
}

// Resolve closes an open incident with a reason.
func (s *Service) Resolve(ctx context.Context, p *auth.Principal, id int64, reason string) (Incident, error) {
	var fs errs.Fields
	reason = valid.Text(&fs, "reason", reason, 1, 500)
	if err := fs.Err(); err != nil {
		return Incident{}, err
	}
	return s.move(ctx, p, id, IncidentResolved, reason)
}

func (s *Service) move(ctx context.Context, p *auth.Principal, id int64, to, text string) (Incident, error) {
	err := s.db.Tx(ctx, func(tx *db.Tx) error {
		in, err := scanIncident(tx.QueryRow(`SELECT `+incidentCols+` FROM quality_incidents WHERE id = $1`+tx.ForUpdate(), id))
		if errors.Is(err, sql.ErrNoRows) {
			return errNoIncident
		}
		if err != nil {
			return err
		}
		if !mayRead(p, in.BodyID) {
			return errNoIncident
		}
		if !mayManage(p, in.BodyID) {
			return errs.Forbidden("quality.incident_manage", "只有提供方的首席数据官或数据专员可以处理该事件（谁采集、谁负责）",
				"only the providing body's chief data officer or data specialist may handle this incident")
		}
		switch {
		case in.Status == IncidentResolved:
			return errs.Conflict("quality.incident_closed", "事件已关闭", "the incident is already resolved")
		case to == IncidentAcknowledged && in.Status != IncidentNew:
			return errs.Conflict("quality.incident_acked", "事件已确认", "the incident is already acknowledged")
		}
		if to == IncidentAcknowledged {
			return tx.Run(`UPDATE quality_incidents SET status = $1, acknowledged_at = $2, acknowledged_by = $3, updated_at = $2,
				reason = $4 WHERE id = $5`, to, tx.Now, p.User.Username, text, id)
		}
		return tx.Run(`UPDATE quality_incidents SET status = $1, resolved_at = $2, resolved_by = $3, updated_at = $2,
			reason = $4 WHERE id = $5`, to, tx.Now, p.User.Username, text, id)
	})
	if err != nil {
		return Incident{}, db.Check(err)
	}
	return s.Incident(ctx, p, id)
}
