package quality

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"math"
	"slices"
	"strconv"
	"time"

	"xiangyun/internal/auth"
	"xiangyun/internal/catalog"
	"xiangyun/internal/db"
	"xiangyun/internal/workday"
)

// due returns when data received at last becomes overdue for an update
// cycle, or the zero time when the cycle sets no deadline (其他/不定期).
// Daily and real-time data are due by the end of the next working day (no
// one loads data on a holiday); longer cycles by the end of the same date
// one period later. maxAgeDays, when positive, replaces the cycle.
func due(cycle string, maxAgeDays int, last time.Time) time.Time {
	loc := workday.Location()
	endOfDay := func(t time.Time) time.Time {
		y, m, d := t.In(loc).Date()
		return time.Date(y, m, d, 23, 59, 59, 999999999, loc)
	}
	if maxAgeDays > 0 {
		return endOfDay(last.AddDate(0, 0, maxAgeDays))
	}
	switch cycle {
	case "realtime", "daily":
		return workday.AddWorkdays(last, 1)
	case "weekly":
		return endOfDay(last.AddDate(0, 0, 7))
	case "monthly":
		return endOfDay(last.In(loc).AddDate(0, 1, 0))
	case "quarterly":
		return endOfDay(last.In(loc).AddDate(0, 3, 0))
	case "halfyearly":
		return endOfDay(last.In(loc).AddDate(0, 6, 0))
	case "yearly":
		return endOfDay(last.In(loc).AddDate(1, 0, 0))
	}
	return time.Time{}
}

// timelinessScore is 100 until the data is due, then falls linearly to 0
// at one more allowance past due.
func timelinessScore(last, dueAt, now time.Time) float64 {
	if dueAt.IsZero() || !now.After(dueAt) {
		return 100
	}
	allow := dueAt.Sub(last)
	if allow <= 0 {
		return 0
	}
	return round1(math.Max(0, 100*(1-float64(now.Sub(dueAt))/float64(allow))))
}

// holdsRecords reports whether an entry's share method means the platform
// holds its records (库表, 接口), so that freshness applies.
func holdsRecords(e *catalog.Entry) bool {
	return e.ShareMethod == catalog.MethodTable || e.ShareMethod == catalog.MethodAPI
}

// Freshness is an entry's freshness against its update cycle.
type Freshness struct {
	EntryID     int64      `json:"entry_id"`
	Code        string     `json:"code"`
	Name        string     `json:"name"`
	BodyID      int64      `json:"body_id"`
	Body        string     `json:"body"`
	Cycle       string     `json:"cycle"`
	LastBatchID int64      `json:"last_batch_id,omitempty"`
	LastBatchAt *time.Time `json:"last_batch_at,omitempty" doc:"the last successful batch; none when never loaded"`
	DueAt       *time.Time `json:"due_at,omitempty" doc:"when the data becomes overdue; none when the cycle sets no deadline"`
	Overdue     bool       `json:"overdue"`
	DaysOverdue int        `json:"days_overdue,omitempty"`
	Timeliness  float64    `json:"timeliness" doc:"timeliness score 0–100"`
}

type entryState struct {
	lastBatch int64
	lastAt    time.Time
}

// states reads the latest batch of every entry (of one body when body > 0).
func (s *Service) states(ctx context.Context, body int64) (map[int64]entryState, error) {
	q := `SELECT entry_id, last_batch_id, last_batch_at FROM quality_entries`
	var args []any
	if body > 0 {
		q += ` WHERE body_id = $1`
		args = append(args, body)
	}
	rows, err := s.db.R.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, db.Check(err)
	}
	defer rows.Close()
	out := map[int64]entryState{}
	for rows.Next() {
		var id int64
		var st entryState
		var at db.Time
		if err := rows.Scan(&id, &st.lastBatch, &at); err != nil {
			return nil, err
		}
		st.lastAt = at.Time
		out[id] = st
	}
	return out, db.Check(rows.Err())
}

// freshnessRules reads stored freshness overrides: entry → rule.
func (s *Service) freshnessRules(ctx context.Context) (map[int64]Rule, error) {
	rows, err := s.db.R.QueryContext(ctx, `SELECT entry_id, params, enabled FROM quality_rules WHERE kind = $1`, KindFreshness)
	if err != nil {
		return nil, db.Check(err)
	}
	defer rows.Close()
	out := map[int64]Rule{}
	for rows.Next() {
		var id int64
		var params string
		r := Rule{Kind: KindFreshness}
		if err := rows.Scan(&id, &params, &r.Enabled); err != nil {
			return nil, err
		}
		_ = json.Unmarshal([]byte(params), &r.Params)
		out[id] = r
	}
	return out, db.Check(rows.Err())
}

// published streams the published entries of body (all when 0).
func (s *Service) published(ctx context.Context, body int64, fn func(catalog.Entry) error) error {
	f := map[string][]string{"status": {catalog.StatusPublished}}
	if body > 0 {
		f["provider"] = []string{strconv.FormatInt(body, 10)}
	}
	return s.cat.Filtered(ctx, catalog.System, catalog.SearchQuery{Filters: f}, fn)
}

// freshness computes the freshness of each published entry holding records
// (of one body when body > 0) at now.
func (s *Service) freshness(ctx context.Context, body int64, now time.Time) ([]Freshness, error) {
	rctx, cancel := s.db.Ctx(ctx)
	defer cancel()
	st, err := s.states(rctx, body)
	if err != nil {
		return nil, err
	}
	fr, err := s.freshnessRules(rctx)
	if err != nil {
		return nil, err
	}
	var out []Freshness
	err = s.published(ctx, body, func(e catalog.Entry) error {
		if !holdsRecords(&e) {
			return nil
		}
		r, overridden := fr[e.ID]
		if overridden && !r.Enabled {
			return nil
		}
		f := Freshness{EntryID: e.ID, Code: e.Code, Name: e.Name, BodyID: e.ProviderID, Body: e.Provider, Cycle: e.Cycle, Timeliness: 100}
		base := time.Time{}
		if x, ok := st[e.ID]; ok {
			t := x.lastAt
			f.LastBatchID, f.LastBatchAt, base = x.lastBatch, &t, t
		} else if e.FirstPublAt != nil {
			base = *e.FirstPublAt // never loaded: due one cycle after publication
		} else if e.PublishedAt != nil {
			base = *e.PublishedAt
		}
		if base.IsZero() {
			return nil
		}
		if d := due(e.Cycle, r.Params.MaxAgeDays, base); !d.IsZero() {
			f.DueAt = &d
			if now.After(d) {
				f.Overdue = true
				f.DaysOverdue = int(now.Sub(d).Hours()/24) + 1
			}
			f.Timeliness = timelinessScore(base, d, now)
		}
		out = append(out, f)
		return nil
	})
	return out, err
}

// Overdue lists the overdue entries the principal may see (of one body when
// body > 0), most overdue first.
func (s *Service) Overdue(ctx context.Context, p *auth.Principal, body int64) ([]Freshness, error) {
	if body > 0 && !mayRead(p, body) {
		return nil, errForbidden
	}
	if body == 0 && p != catalog.System && !p.Global(auth.PermQualityRead) {
		var out []Freshness
		for _, b := range p.BodiesWith(auth.PermQualityRead) {
			fs, err := s.Overdue(ctx, p, b)
			if err != nil {
				return nil, err
			}
			out = append(out, fs...)
		}
		sortOverdue(out)
		return out, nil
	}
	all, err := s.freshness(ctx, body, s.now())
	if err != nil {
		return nil, err
	}
	out := all[:0]
	for _, f := range all {
		if f.Overdue {
			out = append(out, f)
		}
	}
	sortOverdue(out)
	return out, nil
}

func sortOverdue(fs []Freshness) {
	slices.SortStableFunc(fs, func(a, b Freshness) int {
		if a.DaysOverdue != b.DaysOverdue {
			return b.DaysOverdue - a.DaysOverdue
		}
		return int(a.EntryID - b.EntryID)
	})
}

// BodyOverdue groups overdue entries by providing body.
type BodyOverdue struct {
	BodyID  int64       `json:"body_id"`
	Body    string      `json:"body"`
	Count   int         `json:"count"`
	Entries []Freshness `json:"entries"`
}

// OverdueByBody groups the overdue entries the principal may see by body,
// the bodies with most overdue entries first.
func (s *Service) OverdueByBody(ctx context.Context, p *auth.Principal) ([]BodyOverdue, error) {
	fs, err := s.Overdue(ctx, p, 0)
	if err != nil {
		return nil, err
	}
	idx := map[int64]int{}
	var out []BodyOverdue
	for _, f := range fs {
		i, ok := idx[f.BodyID]
		if !ok {
			i = len(out)
			idx[f.BodyID] = i
			out = append(out, BodyOverdue{BodyID: f.BodyID, Body: f.Body})
		}
		out[i].Count++
		out[i].Entries = append(out[i].Entries, f)
	}
	slices.SortStableFunc(out, func(a, b BodyOverdue) int { return b.Count - a.Count })
	return out, nil
}

// LastBatch returns the id and time of an entry's latest recorded batch;
// ok is false when it has none.
func (s *Service) LastBatch(ctx context.Context, entryID int64) (id int64, at time.Time, ok bool, err error) {
	ctx, cancel := s.db.Ctx(ctx)
	defer cancel()
	var t db.Time
	err = s.db.R.QueryRowContext(ctx, `SELECT last_batch_id, last_batch_at FROM quality_entries WHERE entry_id = $1`, entryID).Scan(&id, &t)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, time.Time{}, false, nil
	}
	if err != nil {
		return 0, time.Time{}, false, db.Check(err)
	}
	return id, t.Time, true, nil
}
