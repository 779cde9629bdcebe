package quality

import (
	"context"
	"database/sql"
	"slices"

	"xiangyun/internal/auth"
	"xiangyun/internal/catalog"
	"xiangyun/internal/db"
)

// HistoryPoint is an entry's scores after one batch.
type HistoryPoint struct {
	BatchID  int64  `json:"batch_id"`
	At       string `json:"at"`
	Rows     int    `json:"rows"`
	Rejected int    `json:"rejected"`
	Affected int    `json:"affected" doc:"rows failing at least one rule (at least)"`
	Scores   Scores `json:"scores"`
}

var dimCols = `completeness, validity, uniqueness, consistency, timeliness, accuracy`

func scanPoint(sc interface{ Scan(...any) error }) (HistoryPoint, int64, error) {
	var h HistoryPoint
	var entry int64
	var at db.Time
	var d [6]sql.NullFloat64
	err := sc.Scan(&entry, &h.BatchID, &at, &h.Rows, &h.Rejected, &h.Affected, &h.Scores.Score, &d[0], &d[1], &d[2], &d[3], &d[4], &d[5])
	h.At = at.UTC().Format("2006-01-02T15:04:05Z")
	h.Scores.Dim = map[string]*float64{}
	for i, x := range Dimensions {
		if d[i].Valid {
			v := d[i].Float64
			h.Scores.Dim[x.Code] = &v
		}
	}
	return h, entry, err
}

// EntryReport is an entry's data quality: current scores (the last batch,
// with timeliness as of now), freshness, the last batch's rule results, the
// score history and open incidents.
type EntryReport struct {
	EntryID       int64          `json:"entry_id"`
	Code          string         `json:"code"`
	Name          string         `json:"name"`
	BodyID        int64          `json:"body_id"`
	Body          string         `json:"body"`
	Scores        *Scores        `json:"scores,omitempty" doc:"none until the first batch"`
	Freshness     *Freshness     `json:"freshness,omitempty" doc:"none when the platform holds no records of the entry"`
	LastBatch     *HistoryPoint  `json:"last_batch,omitempty"`
	Results       []RuleResult   `json:"results"`
	History       []HistoryPoint `json:"history"`
	OpenIncidents int            `json:"open_incidents"`
}

// EntryQuality returns an entry's quality report.
func (s *Service) EntryQuality(ctx context.Context, p *auth.Principal, entryID int64) (EntryReport, error) {
	e, err := s.cat.Get(ctx, p, entryID)
	if err != nil {
		return EntryReport{}, err
	}
	if !mayRead(p, e.ProviderID) {
		return EntryReport{}, errForbidden
	}
	r := EntryReport{EntryID: e.ID, Code: e.Code, Name: e.Name, BodyID: e.ProviderID, Body: e.Provider, Results: []RuleResult{}, History: []HistoryPoint{}}
	rctx, cancel := s.db.Ctx(ctx)
	defer cancel()
	rows, err := s.db.R.QueryContext(rctx, `SELECT entry_id, batch_id, at, rows_total, rejected, affected, score, `+dimCols+`
		FROM quality_history WHERE entry_id = $1 ORDER BY at DESC, id DESC LIMIT 200`, entryID)
	if err != nil {
		return r, db.Check(err)
	}
	for rows.Next() {
		h, _, err := scanPoint(rows)
		if err != nil {
			rows.Close()
			return r, err
		}
		r.History = append(r.History, h)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return r, db.Check(err)
	}
	slices.Reverse(r.History)
	if err := s.db.R.QueryRowContext(rctx, `SELECT COUNT(*) FROM quality_incidents WHERE entry_id = $1 AND status <> 'resolved'`,
		entryID).Scan(&r.OpenIncidents); err != nil {
		return r, db.Check(err)
	}
	fs, err := s.freshness(ctx, e.ProviderID, s.now())
	if err != nil {
		return r, err
	}
	for i := range fs {
		if fs[i].EntryID == entryID {
			r.Freshness = &fs[i]
		}
	}
	if st, err := s.states(rctx, e.ProviderID); err != nil {
		return r, err
	} else if x, ok := st[entryID]; ok {
		for i := range r.History {
			if r.History[i].BatchID == x.lastBatch {
				last := r.History[i]
				r.LastBatch = &last
				sc := current(last.Scores, r.Freshness)
				r.Scores = &sc
			}
		}
		if r.Results, err = s.BatchResults(ctx, p, entryID, x.lastBatch); err != nil {
			return r, err
		}
		if r.Results == nil {
			r.Results = []RuleResult{}
		}
	}
	return r, nil
}

// current takes a batch's scores and sets timeliness as of now.
func current(batch Scores, f *Freshness) Scores {
	sc := Scores{Dim: map[string]*float64{}}
	for k, v := range batch.Dim {
		x := *v
		sc.Dim[k] = &x
	}
	if f != nil && f.DueAt != nil {
		t := f.Timeliness
		sc.Dim[Timeliness] = &t
	}
	sc.Score = overall(sc.Dim)
	return sc
}

// EntryRank is an entry in a body's fix-first ranking.
type EntryRank struct {
	EntryID  int64   `json:"entry_id"`
	Code     string  `json:"code"`
	Name     string  `json:"name"`
	Score    float64 `json:"score"`
	Rows     int     `json:"rows"`
	Affected int     `json:"affected"`
	Priority float64 `json:"priority" doc:"(100 − score) × rows affected: fix the highest first"`
	Overdue  bool    `json:"overdue"`
	Open     int     `json:"open_incidents"`
}

// DayPoint is a body's average score on one day.
type DayPoint struct {
	Day   string  `json:"day"`
	Score float64 `json:"score"`
	Rows  int64   `json:"rows"`
}

// BodyScore is a department's data quality: scores by dimension averaged
// over its entries weighted by their rows, counts, the fix-first ranking and
// the daily history.
type BodyScore struct {
	BodyID        int64       `json:"body_id"`
	Body          string      `json:"body"`
	Entries       int         `json:"entries" doc:"published entries holding records"`
	Measured      int         `json:"measured" doc:"entries with at least one batch"`
	Rows          int64       `json:"rows" doc:"rows of the entries' last batches"`
	Scores        *Scores     `json:"scores,omitempty"`
	Overdue       int         `json:"overdue"`
	OpenIncidents int         `json:"open_incidents"`
	Ranking       []EntryRank `json:"ranking,omitempty"`
	History       []DayPoint  `json:"history,omitempty"`
}

// Scores reports per body: one body with its ranking and history when
// bodyID > 0, else every body the principal may see, lowest score first.
func (s *Service) Scores(ctx context.Context, p *auth.Principal, bodyID int64) ([]BodyScore, error) {
	var bodies []int64
	switch {
	case bodyID > 0:
		if !mayRead(p, bodyID) {
			return nil, errForbidden
		}
		bodies = []int64{bodyID}
	case p == catalog.System || p.Global(auth.PermQualityRead):
	default:
		bodies = p.BodiesWith(auth.PermQualityRead)
		if len(bodies) == 0 {
			return nil, errForbidden
		}
	}
	now := s.now()
	rctx, cancel := s.db.Ctx(ctx)
	defer cancel()
	// The latest batch of every entry, with its scores.
	latest := map[int64]HistoryPoint{}
	rows, err := s.db.R.QueryContext(rctx, `SELECT h.entry_id, h.batch_id, h.at, h.rows_total, h.rejected, h.affected, h.score, `+
		`h.completeness, h.validity, h.uniqueness, h.consistency, h.timeliness, h.accuracy
		FROM quality_entries q JOIN quality_history h ON h.entry_id = q.entry_id AND h.batch_id = q.last_batch_id`)
	if err != nil {
		return nil, db.Check(err)
	}
	for rows.Next() {
		h, entry, err := scanPoint(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		latest[entry] = h
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, db.Check(err)
	}
	open := map[int64]int{}
	rows, err = s.db.R.QueryContext(rctx, `SELECT entry_id, COUNT(*) FROM quality_incidents WHERE status <> 'resolved' GROUP BY entry_id`)
	if err != nil {
		return nil, db.Check(err)
	}
	for rows.Next() {
		var id int64
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			rows.Close()
			return nil, err
		}
		open[id] = n
	}
	rows.Close()

	byBody := map[int64]*BodyScore{}
	type weighted struct{ sum, w map[string]float64 }
	acc := map[int64]*weighted{}
	var order []int64
	var scope int64
	if len(bodies) == 1 {
		scope = bodies[0]
	}
	fs, err := s.freshness(ctx, scope, now)
	if err != nil {
		return nil, err
	}
	for _, f := range fs {
		if len(bodies) > 0 && !slices.Contains(bodies, f.BodyID) {
			continue
		}
		b := byBody[f.BodyID]
		if b == nil {
			b = &BodyScore{BodyID: f.BodyID, Body: f.Body}
			byBody[f.BodyID] = b
			acc[f.BodyID] = &weighted{map[string]float64{}, map[string]float64{}}
			order = append(order, f.BodyID)
		}
		b.Entries++
		b.OpenIncidents += open[f.EntryID]
		if f.Overdue {
			b.Overdue++
		}
		h, ok := latest[f.EntryID]
		if !ok {
			continue
		}
		b.Measured++
		b.Rows += int64(h.Rows)
		fc := f
		sc := current(h.Scores, &fc)
		w := float64(max(h.Rows, 1))
		a := acc[f.BodyID]
		for d, v := range sc.Dim {
			a.sum[d] += *v * w
			a.w[d] += w
		}
		b.Ranking = append(b.Ranking, EntryRank{EntryID: f.EntryID, Code: f.Code, Name: f.Name, Score: sc.Score, Rows: h.Rows,
			Affected: h.Affected, Priority: round1((100 - sc.Score) * float64(h.Affected)), Overdue: f.Overdue, Open: open[f.EntryID]})
	}
	out := make([]BodyScore, 0, len(order))
	for _, id := range order {
		b := byBody[id]
		if b.Measured > 0 {
			sc := Scores{Dim: map[string]*float64{}}
			for d, sum := range acc[id].sum {
				v := round1(sum / acc[id].w[d])
				sc.Dim[d] = &v
			}
			sc.Score = overall(sc.Dim)
			b.Scores = &sc
		}
		slices.SortStableFunc(b.Ranking, func(x, y EntryRank) int {
			switch {
			case x.Priority != y.Priority:
				return cmpF(y.Priority, x.Priority)
			case x.Score != y.Score:
				return cmpF(x.Score, y.Score)
			}
			return int(x.EntryID - y.EntryID)
		})
		if bodyID > 0 {
			if b.History, err = s.bodyHistory(rctx, id); err != nil {
				return nil, err
			}
		} else {
			b.Ranking = nil
		}
		out = append(out, *b)
	}
	slices.SortStableFunc(out, func(x, y BodyScore) int {
		xs, ys := 101.0, 101.0
		if x.Scores != nil {
			xs = x.Scores.Score
		}
		if y.Scores != nil {
			ys = y.Scores.Score
		}
		return cmpF(xs, ys)
	})
	return out, nil
}

func cmpF(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// bodyHistory averages a body's batch scores per day (weighted by rows).
func (s *Service) bodyHistory(ctx context.Context, body int64) ([]DayPoint, error) {
	rows, err := s.db.R.QueryContext(ctx, `SELECT substr(at, 1, 10) AS day, SUM(score * rows_total) / SUM(rows_total + 0.0), SUM(rows_total)
		FROM quality_history WHERE body_id = $1 AND rows_total > 0 GROUP BY substr(at, 1, 10) ORDER BY day DESC LIMIT 366`, body)
	if err != nil {
		return nil, db.Check(err)
	}
	defer rows.Close()
	var out []DayPoint
	for rows.Next() {
		var d DayPoint
		if err := rows.Scan(&d.Day, &d.Score, &d.Rows); err != nil {
			return nil, err
		}
		d.Score = round1(d.Score)
		out = append(out, d)
	}
	slices.Reverse(out)
	return out, db.Check(rows.Err())
}
