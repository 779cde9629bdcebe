package catalog

import (
	"context"
	"strconv"
	"strings"
	"time"

	"xiangyun/internal/auth"
	"xiangyun/internal/db"
	"xiangyun/internal/org"
	"xiangyun/internal/workday"
)

// QueueItem is an entry waiting for review.
type QueueItem struct {
	Entry       Entry     `json:"entry"`
	Version     int       `json:"version" doc:"the version submitted"`
	Revision    bool      `json:"revision" doc:"a revision of an entry in force, not a new entry"`
	SubmittedAt time.Time `json:"submitted_at"`
	Submitter   string    `json:"submitter"`
	WaitingDays int       `json:"waiting_days" doc:"working days waited since submission"`
}

// QueueFilter narrows the review queue.
type QueueFilter struct {
	ProviderID int64
	RegionCode string // the region and its sub-regions
	Offset     int
	Limit      int // 0 = all
}

// ReviewQueue lists the submitted versions, oldest first, with the working
// days each has waited (from the first working day after submission, see
// package workday). Reviewers see all of them, including those of their own
// body, which they may not review (CanReview is false); other staff see
// their own bodies' submissions.
func (s *Service) ReviewQueue(ctx context.Context, p *auth.Principal, f QueueFilter) ([]QueueItem, int, error) {
	var args db.Args
	where := []string{"d.status = 'submitted'"}
	if f.ProviderID != 0 {
		where = append(where, "e.provider_id = "+args.Add(f.ProviderID))
	}
	if f.RegionCode != "" {
		where = append(where, "e.region_code LIKE "+args.Add(likeEscaper.Replace(org.RegionPrefix(f.RegionCode))+"%")+` ESCAPE '\'`)
	}
	if !seesAll(p) {
		bodies := p.BodiesWith(auth.PermCatalogEdit)
		if len(bodies) == 0 {
			return []QueueItem{}, 0, nil
		}
		var alts []string
		for _, b := range bodies {
			alts = append(alts, args.Add(b))
		}
		where = append(where, "e.provider_id IN ("+strings.Join(alts, ", ")+")")
	}
	from := ` FROM entries e JOIN entry_versions d ON d.id = e.draft_version_id WHERE ` + strings.Join(where, " AND ")
	var total int
	if err := s.db.R.QueryRowContext(ctx, `SELECT COUNT(*)`+from, args...).Scan(&total); err != nil {
		return nil, 0, err
	}
	q := `SELECT e.id, d.number, d.submitted_at, d.submitter, e.current_version_id <> d.id` + from + ` ORDER BY d.submitted_at, e.id`
	if f.Limit > 0 {
		q += " LIMIT " + args.Add(f.Limit) + " OFFSET " + args.Add(max(f.Offset, 0))
	}
	rows, err := s.db.R.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, 0, err
	}
	var items []QueueItem
	var ids []int64
	for rows.Next() {
		var it QueueItem
		var id int64
		var at db.Time
		if err := rows.Scan(&id, &it.Version, &at, &it.Submitter, &it.Revision); err != nil {
			rows.Close()
			return nil, 0, err
		}
		it.SubmittedAt = at.Time
		items, ids = append(items, it), append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, 0, err
	}
	es, err := s.loadEntries(ctx, s.db.R, ids, false, nil)
	if err != nil {
		return nil, 0, err
	}
	byID := map[int64]Entry{}
	for _, e := range es {
		decorate(p, &e)
		byID[e.ID] = e
	}
	now := s.clock()
	out := make([]QueueItem, 0, len(items))
	for i, it := range items {
		it.Entry = byID[ids[i]]
		it.WaitingDays = workday.WorkdaysBetween(it.SubmittedAt, now)
		out = append(out, it)
	}
	return out, total, nil
}

// Count is one bar of a chart.
type Count struct {
	Key     string `json:"key"`
	Label   string `json:"label"`
	LabelEN string `json:"label_en,omitempty"`
	Count   int    `json:"count"`
}

// MonthCount is the number of entries first published in a month and the
// running total at its end.
type MonthCount struct {
	Month string `json:"month" doc:"YYYY-MM"`
	Count int    `json:"count"`
	Total int    `json:"total"`
}

// Stats are the catalog's figures for the charts page. Breakdowns count
// published entries unless said otherwise.
type Stats struct {
	Entries       int          `json:"entries" doc:"all entries, in any state"`
	Published     int          `json:"published"`
	Supplementary int          `json:"supplementary" doc:"published supplementary entries"`
	Pending       int          `json:"pending" doc:"versions waiting for review"`
	Negative      int          `json:"negative" doc:"entries on the negative list"`
	ByProvider    []Count      `json:"by_provider" doc:"top providers"`
	ByShareType   []Count      `json:"by_share_type"`
	ByOpenType    []Count      `json:"by_open_type"`
	ByGrade       []Count      `json:"by_grade"`
	ByFormat      []Count      `json:"by_format"`
	ByAttribute   []Count      `json:"by_attribute"`
	ByStatus      []Count      `json:"by_status" doc:"all entries by status"`
	ByMonth       []MonthCount `json:"by_month" doc:"entries first published per month, with the running total"`
	Responsible   ListCounts   `json:"responsibilities"`
	Demands       ListCounts   `json:"demands"`
}

// ListCounts counts a list's items by status.
type ListCounts struct {
	Total    int            `json:"total"`
	ByStatus map[string]int `json:"by_status"`
}

// TopProviders is the number of providers Stats ranks.
const TopProviders = 10

// Stats computes the catalog's figures.
func (s *Service) Stats(ctx context.Context) (Stats, error) {
	var st Stats
	r := s.db.R
	err := r.QueryRowContext(ctx, `SELECT COUNT(*),
		COALESCE(SUM(CASE WHEN status = 'published' THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN status = 'published' AND scope = 'supplementary' THEN 1 ELSE 0 END), 0) FROM entries`).
		Scan(&st.Entries, &st.Published, &st.Supplementary)
	if err != nil {
		return st, err
	}
	if err := r.QueryRowContext(ctx, `SELECT COUNT(*) FROM entry_versions WHERE status = 'submitted'`).Scan(&st.Pending); err != nil {
		return st, err
	}
	if err := r.QueryRowContext(ctx, `SELECT COUNT(*) FROM negative_list`).Scan(&st.Negative); err != nil {
		return st, err
	}
	group := func(expr, from string, limit int) ([]Count, error) {
		q := `SELECT ` + expr + `, COUNT(*) FROM ` + from + ` GROUP BY ` + expr + ` ORDER BY COUNT(*) DESC, ` + expr
		if limit > 0 {
			q += " LIMIT " + strconv.Itoa(limit)
		}
		rows, err := r.QueryContext(ctx, q)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		out := []Count{}
		for rows.Next() {
			var c Count
			if err := rows.Scan(&c.Key, &c.Count); err != nil {
				return nil, err
			}
			out = append(out, c)
		}
		return out, rows.Err()
	}
	published := `entries e JOIN entry_versions v ON v.id = e.published_version_id WHERE e.status = 'published'`
	label := func(cs []Count, set []Term) {
		for i := range cs {
			cs[i].Label = cs[i].Key
			if t, ok := Lookup(set, cs[i].Key); ok {
				cs[i].Label, cs[i].LabelEN = t.ZH, t.EN
			}
		}
	}
	for _, g := range []struct {
		dst  *[]Count
		expr string
		from string
		set  []Term
	}{
		{&st.ByShareType, "v.share_type", published, ShareTypes},
		{&st.ByOpenType, "v.open_type", published, OpenTypes},
		{&st.ByGrade, "v.grade", published, s.grades.Terms()},
		{&st.ByFormat, "v.format_class", published, FormatClasses()},
		{&st.ByStatus, "e.status", "entries e", Statuses},
	} {
		cs, err := group(g.expr, g.from, 0)
		if err != nil {
			return st, err
		}
		label(cs, g.set)
		*g.dst = cs
	}
	if st.ByAttribute, err = group("SUBSTR(e.class, 1, 1)", published, 0); err != nil {
		return st, err
	}
	for i := range st.ByAttribute {
		st.ByAttribute[i].Label, st.ByAttribute[i].LabelEN = classLabel(st.ByAttribute[i].Key)
	}
	if st.ByProvider, err = group("e.provider_id", published, TopProviders); err != nil {
		return st, err
	}
	nm := s.names()
	for i := range st.ByProvider {
		id, _ := strconv.ParseInt(st.ByProvider[i].Key, 10, 64)
		st.ByProvider[i].Label = nm.body(ctx, id).Name
	}
	months, err := group("SUBSTR(e.first_published_at, 1, 7)", "entries e WHERE e.first_published_at IS NOT NULL", 0)
	if err != nil {
		return st, err
	}
	st.ByMonth = growth(months)
	if st.Responsible, err = s.listCounts(ctx, "responsibility_list"); err != nil {
		return st, err
	}
	if st.Demands, err = s.listCounts(ctx, "demand_list"); err != nil {
		return st, err
	}
	return st, nil
}

// growth orders month counts and adds running totals, filling empty months.
func growth(cs []Count) []MonthCount {
	counts := map[string]int{}
	first, last := "", ""
	for _, c := range cs {
		counts[c.Key] = c.Count
		if first == "" || c.Key < first {
			first = c.Key
		}
		if c.Key > last {
			last = c.Key
		}
	}
	out := []MonthCount{}
	if first == "" {
		return out
	}
	t, err := time.Parse("2006-01", first)
	if err != nil {
		return out
	}
	total := 0
	for ; t.Format("2006-01") <= last; t = t.AddDate(0, 1, 0) {
		m := t.Format("2006-01")
		total += counts[m]
		out = append(out, MonthCount{Month: m, Count: counts[m], Total: total})
	}
	return out
}

func (s *Service) listCounts(ctx context.Context, table string) (ListCounts, error) {
	lc := ListCounts{ByStatus: map[string]int{}}
	rows, err := s.db.R.QueryContext(ctx, `SELECT status, COUNT(*) FROM `+table+` GROUP BY status`)
	if err != nil {
		return lc, err
	}
	defer rows.Close()
	for rows.Next() {
		var k string
		var n int
		if err := rows.Scan(&k, &n); err != nil {
			return lc, err
		}
		lc.ByStatus[k] = n
		lc.Total += n
	}
	return lc, rows.Err()
}
