package share

// Call statistics (调用统计) of the exchange gateway: every gateway node counts its calls in memory and flushes the
// counts (CallCount, see snapshot.go) every second and at shutdown into one table of daily aggregates in the control
// store. A flush adds to the rows (calls = calls + n), so the flushes of many nodes add up exactly. From the table:
// calls by consuming body, entry, application, day and outcome over a date range, a one-click XLSX report, each
// grant's calls of the day (for daily quotas), and the providing body's view of who used its data and why
// (数据使用情况).
//
// The table holds ids only; names are resolved when a report is read: bodies through org, entries through the
// catalog, applications through the resolver the share service gives (SetAppNames).

import (
	"cmp"
	"context"
	"embed"
	"io"
	"io/fs"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"xiangyun/internal/auth"
	"xiangyun/internal/catalog"
	"xiangyun/internal/db"
	"xiangyun/internal/errs"
	"xiangyun/internal/org"
	"xiangyun/internal/tabular"
)

//go:embed migrations/stats
var statsMigrations embed.FS

// statsZone is the time zone of a statistics day (CallCount.Day).
var statsZone = func() *time.Location {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		return time.FixedZone("CST", 8*3600)
	}
	return loc
}()

// CallDay returns the statistics day (YYYY-MM-DD, Asia/Shanghai) of t.
func CallDay(t time.Time) string { return t.In(statsZone).Format(time.DateOnly) }

// Stats keeps the gateway's call statistics.
type Stats struct {
	db       *db.DB
	orgs     *org.Service
	cat      *catalog.Service
	appNames func(ctx context.Context, ids []int64) (map[int64]string, error)
	now      func() time.Time
}

// OpenStats migrates the statistics table (its own goose set, share_stats) on the control store. orgs and cat
// resolve body and entry names and the provider of an entry; either may be nil (ids are shown instead, and the
// provider's view is then unavailable).
func OpenStats(ctx context.Context, store *db.DB, orgs *org.Service, cat *catalog.Service) (*Stats, error) {
	sub, err := fs.Sub(statsMigrations, "migrations/stats")
	if err != nil {
		return nil, err
	}
	if err := store.Migrate(ctx, "share_stats", sub); err != nil {
		return nil, err
	}
	s := &Stats{db: store, orgs: orgs, cat: cat, now: func() time.Time {
		if store.Clock != nil {
			return store.Clock()
		}
		return time.Now()
	}}
	return s, nil
}

// SetAppNames sets the resolver of application names (the share service has them); without it applications are
// shown by id.
func (s *Stats) SetAppNames(fn func(ctx context.Context, ids []int64) (map[int64]string, error)) {
	s.appNames = fn
}

// Outcome of a successful call; every other outcome is a refusal code.
const OutcomeOK = "ok"

type callKey struct {
	Day                           string
	AppID, BodyID, EntryID, Grant int64
	Kind, Outcome, Purpose        string
}

func keyOf(c CallCount) callKey {
	return callKey{c.Day, c.AppID, c.BodyID, c.EntryID, c.GrantID, c.Kind, c.Outcome, c.Purpose}
}

func (a callKey) compare(b callKey) int {
	return cmp.Or(strings.Compare(a.Day, b.Day), cmp.Compare(a.AppID, b.AppID), cmp.Compare(a.BodyID, b.BodyID),
		cmp.Compare(a.EntryID, b.EntryID), cmp.Compare(a.Grant, b.Grant), strings.Compare(a.Kind, b.Kind),
		strings.Compare(a.Outcome, b.Outcome), strings.Compare(a.Purpose, b.Purpose))
}

func errCount(msg string) error {
	return errs.Invalid("share.stats_count", "调用计数无效："+msg, "invalid call count: "+msg)
}

// RecordCalls adds counts to the daily aggregates in one transaction. Counts of the same key are merged first, and
// rows are written in key order so that concurrent flushes of several nodes never deadlock on PostgreSQL.
func (s *Stats) RecordCalls(ctx context.Context, counts []CallCount) error {
	merged := map[callKey]*CallCount{}
	for _, c := range counts {
		if _, err := time.Parse(time.DateOnly, c.Day); err != nil {
			return errCount("day " + strconv.Quote(c.Day))
		}
		if c.Calls < 0 || c.LatencyUS < 0 {
			return errCount("negative calls or latency")
		}
		if c.Kind == "" || c.Outcome == "" || len(c.Kind) > 32 || len(c.Outcome) > 64 {
			return errCount("kind and outcome are required")
		}
		if r := []rune(c.Purpose); len(r) > 500 {
			c.Purpose = string(r[:500])
		}
		c.Purpose = strings.ToValidUTF8(c.Purpose, "\uFFFD")
		k := keyOf(c)
		if m, ok := merged[k]; ok {
			m.Calls += c.Calls
			m.LatencyUS += c.LatencyUS
			continue
		}
		cc := c
		merged[k] = &cc
	}
	if len(merged) == 0 {
		return nil
	}
	keys := slices.SortedFunc(maps.Keys(merged), callKey.compare)
	return s.db.Tx(ctx, func(tx *db.Tx) error {
		for _, k := range keys {
			c := merged[k]
			if err := tx.Run(`INSERT INTO share_call_stats (day, app_id, body_id, entry_id, grant_id, kind, outcome, purpose, calls, latency_us)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
				ON CONFLICT (day, app_id, body_id, entry_id, grant_id, kind, outcome, purpose)
				DO UPDATE SET calls = share_call_stats.calls + excluded.calls, latency_us = share_call_stats.latency_us + excluded.latency_us`,
				c.Day, c.AppID, c.BodyID, c.EntryID, c.GrantID, c.Kind, c.Outcome, c.Purpose, c.Calls, c.LatencyUS); err != nil {
				return err
			}
		}
		return nil
	})
}

// QuotaUsed returns, for each grant, its successful calls on day (YYYY-MM-DD, Asia/Shanghai) counted by every node
// so far: what the daily quota (Grant.DailyQuota) has used. Refused calls do not use quota.
func (s *Stats) QuotaUsed(ctx context.Context, day string) (map[int64]int64, error) {
	rows, err := s.db.R.QueryContext(ctx, `SELECT grant_id, SUM(calls) FROM share_call_stats
		WHERE day = $1 AND outcome = $2 AND grant_id <> 0 GROUP BY grant_id`, day, OutcomeOK)
	if err != nil {
		return nil, db.Check(err)
	}
	defer rows.Close()
	out := map[int64]int64{}
	for rows.Next() {
		var g, n int64
		if err := rows.Scan(&g, &n); err != nil {
			return nil, db.Check(err)
		}
		out[g] = n
	}
	return out, db.Check(rows.Err())
}

// QuotaUsedToday is QuotaUsed for the current statistics day (Asia/Shanghai) by the store's clock: the shape of
// Service.QuotaUsed, which fills Snapshot.QuotaUsed.
func (s *Stats) QuotaUsedToday(ctx context.Context) (map[int64]int64, error) {
	return s.QuotaUsed(ctx, CallDay(s.now()))
}

// Groupings of a statistics report.
const (
	GroupBody        = "body" // the consuming body (使用部门)
	GroupEntry       = "entry"
	GroupApplication = "application"
	GroupDay         = "day"
	GroupOutcome     = "outcome"
	GroupProvider    = "provider" // the providing body of the entry (提供部门)
)

// Groups lists the groupings in display order.
var Groups = []string{GroupDay, GroupBody, GroupEntry, GroupApplication, GroupOutcome, GroupProvider}

// StatsFilter selects a report: a date range (inclusive, YYYY-MM-DD; default the last 30 days) and a grouping.
type StatsFilter struct {
	From, To string
	Group    string
}

// StatsRow is one group of a report.
type StatsRow struct {
	Key          string  `json:"key" doc:"the id, day or outcome code the row groups by"`
	Name         string  `json:"name" doc:"the body, entry or application name (the key when unresolved)"`
	Calls        int64   `json:"calls"`
	OK           int64   `json:"ok" doc:"calls answered"`
	Refused      int64   `json:"refused" doc:"calls refused (any outcome but ok)"`
	AvgLatencyMS float64 `json:"avg_latency_ms"`
}

// StatsReport is a report of calls over a date range.
type StatsReport struct {
	From    string     `json:"from"`
	To      string     `json:"to"`
	Group   string     `json:"group"`
	Scope   string     `json:"scope" doc:"all, or the caller's bodies as consumer and provider"`
	Calls   int64      `json:"calls"`
	OK      int64      `json:"ok"`
	Refused int64      `json:"refused"`
	Rows    []StatsRow `json:"rows"`
}

var errStatsForbidden = errs.Forbidden("share.stats_forbidden", "无权查看调用统计", "you may not see call statistics")

// maxRangeDays bounds a report's date range.
const maxRangeDays = 3660

// dateRange checks and defaults a date range.
func (s *Stats) dateRange(from, to string) (string, string, error) {
	today := CallDay(s.now())
	if to == "" {
		to = today
	}
	t, err := time.Parse(time.DateOnly, to)
	if err != nil {
		return "", "", errs.Invalid("share.stats_date", "日期格式应为 YYYY-MM-DD："+to, "a date is YYYY-MM-DD: "+to)
	}
	if from == "" {
		from = t.AddDate(0, 0, -29).Format(time.DateOnly)
	}
	f, err := time.Parse(time.DateOnly, from)
	if err != nil {
		return "", "", errs.Invalid("share.stats_date", "日期格式应为 YYYY-MM-DD："+from, "a date is YYYY-MM-DD: "+from)
	}
	if f.After(t) {
		return "", "", errs.Invalid("share.stats_range", "开始日期晚于结束日期", "the start date is after the end date")
	}
	if t.Sub(f) > maxRangeDays*24*time.Hour {
		return "", "", errs.Invalid("share.stats_range", "日期范围过长（最多十年）", "the date range is too long (ten years at most)")
	}
	return from, to, nil
}

// scope returns the condition limiting rows to what p may see: everything for a platform role with the permission;
// otherwise the calls of p's bodies as consumers and the calls on entries p's bodies provide.
func (s *Stats) scope(ctx context.Context, p *auth.Principal, a *db.Args) (cond, label string, err error) {
	if p.Global(auth.PermShareStats) {
		return "TRUE", "all", nil
	}
	bodies := p.BodiesWith(auth.PermShareStats)
	if len(bodies) == 0 {
		return "", "", errStatsForbidden
	}
	entries, err := s.providedEntries(ctx, bodies)
	if err != nil {
		return "", "", err
	}
	var or []string
	var ps []string
	for _, b := range bodies {
		ps = append(ps, a.Add(b))
	}
	or = append(or, "body_id IN ("+strings.Join(ps, ", ")+")")
	if len(entries) > 0 {
		ps = ps[:0]
		for _, e := range entries {
			ps = append(ps, a.Add(e))
		}
		or = append(or, "entry_id IN ("+strings.Join(ps, ", ")+")")
	}
	return "(" + strings.Join(or, " OR ") + ")", "own", nil
}

// providedEntries lists the ids of the entries the bodies provide, in any status.
func (s *Stats) providedEntries(ctx context.Context, bodies []int64) ([]int64, error) {
	if s.cat == nil || len(bodies) == 0 {
		return nil, nil
	}
	var vals []string
	for _, b := range bodies {
		vals = append(vals, strconv.FormatInt(b, 10))
	}
	var ids []int64
	err := s.cat.Filtered(ctx, catalog.System, catalog.SearchQuery{Filters: map[string][]string{"provider": vals}}, func(e catalog.Entry) error {
		ids = append(ids, e.ID)
		return nil
	})
	return ids, err
}

// Report returns the calls p may see over the filter's date range, grouped.
func (s *Stats) Report(ctx context.Context, p *auth.Principal, f StatsFilter) (StatsReport, error) {
	from, to, err := s.dateRange(f.From, f.To)
	if err != nil {
		return StatsReport{}, err
	}
	if f.Group == "" {
		f.Group = GroupDay
	}
	if !slices.Contains(Groups, f.Group) {
		return StatsReport{}, errs.Invalid("share.stats_group", "未知的分组："+f.Group, "unknown grouping: "+f.Group)
	}
	var a db.Args
	cond, label, err := s.scope(ctx, p, &a)
	if err != nil {
		return StatsReport{}, err
	}
	col := map[string]string{GroupBody: "body_id", GroupEntry: "entry_id", GroupApplication: "app_id", GroupDay: "day",
		GroupOutcome: "outcome", GroupProvider: "entry_id"}[f.Group]
	q := `SELECT ` + col + `, SUM(calls), SUM(CASE WHEN outcome = ` + a.Add(OutcomeOK) + ` THEN calls ELSE 0 END), SUM(latency_us)
		FROM share_call_stats WHERE ` + cond + ` AND day >= ` + a.Add(from) + ` AND day <= ` + a.Add(to) + `
		GROUP BY ` + col
	rows, err := s.db.R.QueryContext(ctx, q, a...)
	if err != nil {
		return StatsReport{}, db.Check(err)
	}
	defer rows.Close()
	type agg struct{ calls, ok, lat int64 }
	groups := map[string]*agg{}
	for rows.Next() {
		var key string
		var g agg
		if err := rows.Scan(&key, &g.calls, &g.ok, &g.lat); err != nil {
			return StatsReport{}, db.Check(err)
		}
		groups[key] = &g
	}
	if err := rows.Err(); err != nil {
		return StatsReport{}, db.Check(err)
	}
	rows.Close()
	if f.Group == GroupProvider {
		// Regroup the entries by their providing body.
		ids := parseIDs(slices.Collect(maps.Keys(groups)))
		prov, err := s.entryProviders(ctx, ids)
		if err != nil {
			return StatsReport{}, err
		}
		byProv := map[string]*agg{}
		for k, g := range groups {
			id, _ := strconv.ParseInt(k, 10, 64)
			pk := strconv.FormatInt(prov[id], 10)
			if byProv[pk] == nil {
				byProv[pk] = &agg{}
			}
			byProv[pk].calls += g.calls
			byProv[pk].ok += g.ok
			byProv[pk].lat += g.lat
		}
		groups = byProv
	}
	rep := StatsReport{From: from, To: to, Group: f.Group, Scope: label, Rows: []StatsRow{}}
	for k, g := range groups {
		r := StatsRow{Key: k, Name: k, Calls: g.calls, OK: g.ok, Refused: g.calls - g.ok}
		if g.calls > 0 {
			r.AvgLatencyMS = float64(g.lat) / float64(g.calls) / 1000
		}
		rep.Calls += r.Calls
		rep.OK += r.OK
		rep.Refused += r.Refused
		rep.Rows = append(rep.Rows, r)
	}
	if err := s.nameRows(ctx, f.Group, rep.Rows); err != nil {
		return StatsReport{}, err
	}
	if f.Group == GroupDay {
		slices.SortFunc(rep.Rows, func(a, b StatsRow) int { return strings.Compare(a.Key, b.Key) })
	} else {
		slices.SortFunc(rep.Rows, func(a, b StatsRow) int { return cmp.Or(cmp.Compare(b.Calls, a.Calls), strings.Compare(a.Key, b.Key)) })
	}
	return rep, nil
}

// DailySeries fills the days of [from, to] that had no calls with zeros, for a chart.
func DailySeries(rep StatsReport) []StatsRow {
	by := map[string]StatsRow{}
	for _, r := range rep.Rows {
		by[r.Key] = r
	}
	var out []StatsRow
	f, err1 := time.Parse(time.DateOnly, rep.From)
	t, err2 := time.Parse(time.DateOnly, rep.To)
	if err1 != nil || err2 != nil {
		return rep.Rows
	}
	for d := f; !d.After(t); d = d.AddDate(0, 0, 1) {
		k := d.Format(time.DateOnly)
		r, ok := by[k]
		if !ok {
			r = StatsRow{Key: k, Name: k}
		}
		out = append(out, r)
	}
	return out
}

func parseIDs(keys []string) []int64 {
	var ids []int64
	for _, k := range keys {
		if id, err := strconv.ParseInt(k, 10, 64); err == nil {
			ids = append(ids, id)
		}
	}
	return ids
}

// entryRef is what a report shows of an entry.
type entryRef struct {
	Name, Code string
	Provider   int64
}

func (s *Stats) entries(ctx context.Context, ids []int64) (map[int64]entryRef, error) {
	out := map[int64]entryRef{}
	if s.cat == nil {
		return out, nil
	}
	for _, id := range ids {
		e, err := s.cat.Get(ctx, catalog.System, id)
		if errs.KindOf(err) == errs.KindNotFound {
			continue
		}
		if err != nil {
			return nil, err
		}
		out[id] = entryRef{Name: e.Name, Code: e.Code, Provider: e.ProviderID}
	}
	return out, nil
}

func (s *Stats) entryProviders(ctx context.Context, ids []int64) (map[int64]int64, error) {
	es, err := s.entries(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := map[int64]int64{}
	for id, e := range es {
		out[id] = e.Provider
	}
	return out, nil
}

func (s *Stats) bodyNames(ctx context.Context, ids []int64) (map[int64]string, error) {
	out := map[int64]string{}
	if s.orgs == nil || len(ids) == 0 {
		return out, nil
	}
	bs, err := s.orgs.BodiesByID(ctx, ids)
	if err != nil {
		return nil, err
	}
	for id, b := range bs {
		out[id] = b.Name
	}
	return out, nil
}

func (s *Stats) appNamesOf(ctx context.Context, ids []int64) (map[int64]string, error) {
	if s.appNames == nil || len(ids) == 0 {
		return map[int64]string{}, nil
	}
	return s.appNames(ctx, ids)
}

// nameRows fills the rows' names for an id grouping.
func (s *Stats) nameRows(ctx context.Context, group string, rows []StatsRow) error {
	var ids []int64
	for _, r := range rows {
		ids = append(ids, parseIDs([]string{r.Key})...)
	}
	var names map[int64]string
	var err error
	switch group {
	case GroupBody, GroupProvider:
		names, err = s.bodyNames(ctx, ids)
	case GroupApplication:
		names, err = s.appNamesOf(ctx, ids)
	case GroupEntry:
		var es map[int64]entryRef
		es, err = s.entries(ctx, ids)
		names = map[int64]string{}
		for id, e := range es {
			names[id] = e.Name
		}
	default:
		return nil
	}
	if err != nil {
		return err
	}
	for i := range rows {
		id, _ := strconv.ParseInt(rows[i].Key, 10, 64)
		if n, ok := names[id]; ok && n != "" {
			rows[i].Name = n
		} else if id == 0 {
			rows[i].Name = "—" // a call refused before its application or entry was known
		}
	}
	return nil
}

// UsageRow is one user of a provider's data (数据使用情况): which consuming body's application called which entry,
// for what purpose, how often and when.
type UsageRow struct {
	EntryID   int64  `json:"entry_id"`
	Entry     string `json:"entry"`
	EntryCode string `json:"entry_code,omitempty"`
	BodyID    int64  `json:"body_id" doc:"the consuming body"`
	Body      string `json:"body"`
	AppID     int64  `json:"app_id"`
	App       string `json:"app"`
	Purpose   string `json:"purpose"`
	Calls     int64  `json:"calls"`
	OK        int64  `json:"ok"`
	FirstDay  string `json:"first_day"`
	LastDay   string `json:"last_day"`
}

// Usage returns who used the data of the entries providerID provides over a date range: the provider's own view.
// p must hold share.stats at providerID, or everywhere.
func (s *Stats) Usage(ctx context.Context, p *auth.Principal, providerID int64, from, to string) ([]UsageRow, error) {
	if !p.HasAt(auth.PermShareStats, providerID) {
		return nil, errStatsForbidden
	}
	from, to, err := s.dateRange(from, to)
	if err != nil {
		return nil, err
	}
	entries, err := s.providedEntries(ctx, []int64{providerID})
	if err != nil {
		return nil, err
	}
	out := []UsageRow{}
	if len(entries) == 0 {
		return out, nil
	}
	var a db.Args
	var ps []string
	for _, e := range entries {
		ps = append(ps, a.Add(e))
	}
	q := `SELECT entry_id, body_id, app_id, purpose, SUM(calls), SUM(CASE WHEN outcome = ` + a.Add(OutcomeOK) + ` THEN calls ELSE 0 END), MIN(day), MAX(day)
		FROM share_call_stats WHERE entry_id IN (` + strings.Join(ps, ", ") + `) AND day >= ` + a.Add(from) + ` AND day <= ` + a.Add(to) + `
		GROUP BY entry_id, body_id, app_id, purpose`
	rows, err := s.db.R.QueryContext(ctx, q, a...)
	if err != nil {
		return nil, db.Check(err)
	}
	defer rows.Close()
	for rows.Next() {
		var r UsageRow
		if err := rows.Scan(&r.EntryID, &r.BodyID, &r.AppID, &r.Purpose, &r.Calls, &r.OK, &r.FirstDay, &r.LastDay); err != nil {
			return nil, db.Check(err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, db.Check(err)
	}
	rows.Close()
	if err := s.nameUsage(ctx, out); err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b UsageRow) int {
		return cmp.Or(cmp.Compare(b.Calls, a.Calls), cmp.Compare(a.EntryID, b.EntryID), cmp.Compare(a.BodyID, b.BodyID),
			cmp.Compare(a.AppID, b.AppID), strings.Compare(a.Purpose, b.Purpose))
	})
	return out, nil
}

func (s *Stats) nameUsage(ctx context.Context, rs []UsageRow) error {
	var eids, bids, aids []int64
	for _, r := range rs {
		eids, bids, aids = append(eids, r.EntryID), append(bids, r.BodyID), append(aids, r.AppID)
	}
	es, err := s.entries(ctx, uniq(eids))
	if err != nil {
		return err
	}
	bs, err := s.bodyNames(ctx, uniq(bids))
	if err != nil {
		return err
	}
	as, err := s.appNamesOf(ctx, uniq(aids))
	if err != nil {
		return err
	}
	for i := range rs {
		r := &rs[i]
		r.Entry, r.EntryCode = cmp.Or(es[r.EntryID].Name, strconv.FormatInt(r.EntryID, 10)), es[r.EntryID].Code
		r.Body = cmp.Or(bs[r.BodyID], strconv.FormatInt(r.BodyID, 10))
		r.App = cmp.Or(as[r.AppID], strconv.FormatInt(r.AppID, 10))
	}
	return nil
}

func uniq(ids []int64) []int64 {
	slices.Sort(ids)
	return slices.Compact(ids)
}

// ReportHeader is the header of the XLSX report, in the reader's language.
func ReportHeader(lang string) []string {
	if lang == "en" {
		return []string{"Day", "Consuming body", "Application", "Entry code", "Entry", "Providing body", "Kind", "Outcome", "Purpose", "Calls", "Average latency (ms)"}
	}
	return []string{"日期", "使用部门", "应用", "目录代码", "目录名称", "提供部门", "调用方式", "结果", "用途", "调用次数", "平均耗时（毫秒）"}
}

// WriteReport writes the detail rows p may see over the date range as an XLSX workbook (the one-click report,
// 一键报表): one row per day, consuming body, application, entry, kind, outcome and purpose.
func (s *Stats) WriteReport(ctx context.Context, p *auth.Principal, from, to, lang string, w io.Writer) error {
	from, to, err := s.dateRange(from, to)
	if err != nil {
		return err
	}
	var a db.Args
	cond, _, err := s.scope(ctx, p, &a)
	if err != nil {
		return err
	}
	q := `SELECT day, body_id, app_id, entry_id, kind, outcome, purpose, SUM(calls), SUM(latency_us)
		FROM share_call_stats WHERE ` + cond + ` AND day >= ` + a.Add(from) + ` AND day <= ` + a.Add(to) + `
		GROUP BY day, body_id, app_id, entry_id, kind, outcome, purpose
		ORDER BY day, body_id, app_id, entry_id, kind, outcome, purpose`
	type row struct {
		day                   string
		body, app, entry      int64
		kind, outcome, purpos string
		calls, lat            int64
	}
	var rs []row
	err = func() error {
		rows, err := s.db.R.QueryContext(ctx, q, a...)
		if err != nil {
			return db.Check(err)
		}
		defer rows.Close()
		for rows.Next() {
			var r row
			if err := rows.Scan(&r.day, &r.body, &r.app, &r.entry, &r.kind, &r.outcome, &r.purpos, &r.calls, &r.lat); err != nil {
				return db.Check(err)
			}
			rs = append(rs, r)
		}
		return db.Check(rows.Err())
	}()
	if err != nil {
		return err
	}
	var eids, bids, aids []int64
	for _, r := range rs {
		eids, bids, aids = append(eids, r.entry), append(bids, r.body), append(aids, r.app)
	}
	es, err := s.entries(ctx, uniq(eids))
	if err != nil {
		return err
	}
	for _, e := range es {
		bids = append(bids, e.Provider)
	}
	bs, err := s.bodyNames(ctx, uniq(bids))
	if err != nil {
		return err
	}
	as, err := s.appNamesOf(ctx, uniq(aids))
	if err != nil {
		return err
	}
	tw, err := tabular.NewWriter(w, tabular.XLSX)
	if err != nil {
		return err
	}
	if err := tw.WriteHeader(ReportHeader(lang)); err != nil {
		return err
	}
	name := func(m map[int64]string, id int64) string { return cmp.Or(m[id], strconv.FormatInt(id, 10)) }
	for _, r := range rs {
		e := es[r.entry]
		avg := 0.0
		if r.calls > 0 {
			avg = float64(r.lat) / float64(r.calls) / 1000
		}
		prov := ""
		if e.Provider != 0 {
			prov = name(bs, e.Provider)
		}
		if err := tw.WriteRow([]any{r.day, name(bs, r.body), name(as, r.app), e.Code, cmp.Or(e.Name, strconv.FormatInt(r.entry, 10)),
			prov, r.kind, r.outcome, r.purpos, r.calls, avg}); err != nil {
			return err
		}
	}
	return tw.Close()
}
