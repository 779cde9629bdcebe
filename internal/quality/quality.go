// Package quality is data quality governance (数据治理): the rule catalog
// and each entry's rules (defaults derived from its data items, switchable,
// plus rules users add), the checker that ingest runs on every row of every
// batch, results per batch and rule, scores 0–100 per entry and per body by
// dimension with history, freshness against the update cycle (逾期),
// incidents assigned to the providing body (谁采集、谁负责), and the catalog
// checks of one datum, one source (一数一源) and multi-source comparison
// (多源校核).
//
// Its tables live in the control store. Ingest owns the records: it asks
// for a Checker, runs Row on each row and Finish at the end, and reports the
// batch with RecordBatch inside its own control-store transaction.
package quality

import (
	"context"
	"database/sql"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"xiangyun/internal/auth"
	"xiangyun/internal/catalog"
	"xiangyun/internal/db"
	"xiangyun/internal/errs"
	"xiangyun/internal/notify"
)

//go:embed migrations
var migrations embed.FS

// Options configure the service.
type Options struct {
	// Now replaces the clock for freshness (tests); the store's clock
	// stamps writes.
	Now func() time.Time
	// Notify, when set, tells the providing body's chief data officers of
	// every incident opened, in the transaction that opens it.
	Notify *notify.Service
}

// Service is data quality governance over the catalog.
type Service struct {
	db     *db.DB
	cat    *catalog.Service
	now    func() time.Time
	notify *notify.Service
}

// Open migrates the quality tables of the control store.
func Open(ctx context.Context, control *db.DB, cat *catalog.Service, opts Options) (*Service, error) {
	if err := control.Migrate(ctx, "quality", migrations); err != nil {
		return nil, err
	}
	s := &Service{db: control, cat: cat, now: opts.Now, notify: opts.Notify}
	if s.now == nil {
		s.now = func() time.Time {
			if control.Clock != nil {
				return control.Clock()
			}
			return time.Now()
		}
	}
	return s, nil
}

// SetClock replaces the clock used for freshness (tests, demo).
func (s *Service) SetClock(now func() time.Time) { s.now = now }

// queryer is a read connection or a write transaction.
type queryer interface {
	Query(q string, args ...any) (*sql.Rows, error)
}

type readConn struct {
	ctx context.Context
	db  *db.DB
}

func (r readConn) Query(q string, args ...any) (*sql.Rows, error) {
	return r.db.R.QueryContext(r.ctx, q, args...)
}

// storedRules reads an entry's stored rules.
func storedRules(q queryer, entryID int64) ([]Rule, error) {
	rows, err := q.Query(`SELECT rule_key, kind, items, params, threshold_kind, threshold, dimension, enabled, is_default, name
		FROM quality_rules WHERE entry_id = $1 ORDER BY id`, entryID)
	if err != nil {
		return nil, db.Check(err)
	}
	defer rows.Close()
	var out []Rule
	for rows.Next() {
		var r Rule
		var items, params string
		if err := rows.Scan(&r.Key, &r.Kind, &items, &params, &r.Threshold.Kind, &r.Threshold.Value, &r.Dimension,
			&r.Enabled, &r.Default, &r.Name); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(items), &r.Items); err != nil {
			return nil, fmt.Errorf("quality: rule %s items: %w", r.Key, err)
		}
		if err := json.Unmarshal([]byte(params), &r.Params); err != nil {
			return nil, fmt.Errorf("quality: rule %s params: %w", r.Key, err)
		}
		out = append(out, r)
	}
	return out, db.Check(rows.Err())
}

// Checker compiles the effective rules of an entry for the given items (the
// version whose records are being checked): defaults from the items plus
// stored overrides and added rules. Added rules that no longer fit the items
// (a removed item) are left out.
func (s *Service) Checker(ctx context.Context, entryID int64, items []catalog.Item) (*Checker, error) {
	ctx, cancel := s.db.Ctx(ctx)
	defer cancel()
	stored, err := storedRules(readConn{ctx, s.db}, entryID)
	if err != nil {
		return nil, err
	}
	return compile(entryID, items, fitting(Merge(Defaults(items), stored), items))
}

// fitting drops added rules whose items or expression no longer fit items.
func fitting(rules []Rule, items []catalog.Item) []Rule {
	out := rules[:0:0]
	for _, r := range rules {
		if r.Enabled && !r.Default {
			c := r
			if c.check(items) != nil {
				continue
			}
		}
		out = append(out, r)
	}
	return out
}

// entryFacts is what RecordBatch and freshness need of a catalog entry.
type entryFacts struct {
	id, body int64
	name     string
	cycle    string
	items    []catalog.Item
}

func (s *Service) facts(ctx context.Context, entryID int64) (entryFacts, error) {
	e, err := s.cat.Get(ctx, catalog.System, entryID)
	if err != nil {
		return entryFacts{}, err
	}
	return entryFacts{id: e.ID, body: e.ProviderID, name: e.Name, cycle: e.Cycle, items: e.Items}, nil
}

// RuleResult is the outcome of one rule in one batch.
type RuleResult struct {
	BatchID   int64  `json:"batch_id"`
	Key       string `json:"key"`
	Kind      string `json:"kind"`
	Items     string `json:"items,omitempty"`
	Dimension string `json:"dimension"`
	Rows      int    `json:"rows"`
	Failed    int    `json:"failed"`
	Passed    bool   `json:"passed"`
}

// RecordBatch stores the results of a checked batch per rule, the entry's
// scores after it, its freshness (the batch is the entry's latest data) and
// opens or closes incidents, all in the caller's control-store transaction.
// perRule counts failures by Violation.Key (see Tally); a key that is a bare
// rule kind counts against the entry's first rule of that kind. rows is the
// number of rows read, rejected the rows that were not published.
func (s *Service) RecordBatch(tx *db.Tx, entryID, batchID int64, rows, rejected int, perRule map[string]int) error {
	if tx.Store != s.db.Name {
		return fmt.Errorf("quality: RecordBatch needs a %s-store transaction, not %s", s.db.Name, tx.Store)
	}
	if rows < 0 || rejected < 0 || rejected > rows {
		return fmt.Errorf("quality: batch %d: %d rejected of %d rows", batchID, rejected, rows)
	}
	f, err := s.facts(tx.Ctx, entryID)
	if err != nil {
		return err
	}
	stored, err := storedRules(tx, entryID)
	if err != nil {
		return err
	}
	rules := fitting(Merge(Defaults(f.items), stored), f.items)
	failed := attribute(rules, perRule)

	var results []RuleResult
	for _, r := range rules {
		if !r.Enabled || r.Kind == KindFreshness {
			continue
		}
		n := failed[r.Key]
		res := RuleResult{BatchID: batchID, Key: r.Key, Kind: r.Kind, Items: strings.Join(r.Items, "+"),
			Dimension: r.Dimension, Rows: rows, Failed: n, Passed: !r.Threshold.Fails(n, rows)}
		if r.Kind == KindRowCount && n > 0 {
			res.Passed = false // a row count out of range fails whatever the threshold
		}
		results = append(results, res)
		if err := tx.Run(`INSERT INTO quality_results (batch_id, rule_key, entry_id, kind, items, dimension, rows_total, failed, passed, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
			ON CONFLICT (entry_id, batch_id, rule_key) DO UPDATE SET rows_total = excluded.rows_total, failed = excluded.failed,
				passed = excluded.passed, created_at = excluded.created_at`,
			batchID, r.Key, entryID, r.Kind, res.Items, r.Dimension, rows, n, res.Passed, tx.Now); err != nil {
			return db.Check(err)
		}
	}
	fresh := slicesHasEnabled(rules, KindFreshness)
	sc := batchScores(results, rows, fresh)
	affected := rejected
	for _, r := range results {
		affected = max(affected, min(r.Failed, rows))
	}
	if err := tx.Run(`INSERT INTO quality_history (entry_id, body_id, batch_id, at, rows_total, rejected, affected, score,
			completeness, validity, uniqueness, consistency, timeliness, accuracy)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
		ON CONFLICT (entry_id, batch_id) DO UPDATE SET at = excluded.at, rows_total = excluded.rows_total,
			rejected = excluded.rejected, affected = excluded.affected, score = excluded.score,
			completeness = excluded.completeness, validity = excluded.validity, uniqueness = excluded.uniqueness,
			consistency = excluded.consistency, timeliness = excluded.timeliness, accuracy = excluded.accuracy`,
		entryID, f.body, batchID, tx.Now, rows, rejected, affected, sc.Score,
		sc.Dim[Completeness], sc.Dim[Validity], sc.Dim[Uniqueness], sc.Dim[Consistency], sc.Dim[Timeliness], sc.Dim[Accuracy]); err != nil {
		return db.Check(err)
	}
	if err := tx.Run(`INSERT INTO quality_entries (entry_id, body_id, last_batch_id, last_batch_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (entry_id) DO UPDATE SET body_id = excluded.body_id, last_batch_id = excluded.last_batch_id,
			last_batch_at = excluded.last_batch_at
		WHERE quality_entries.last_batch_at <= excluded.last_batch_at`, entryID, f.body, batchID, tx.Now); err != nil {
		return db.Check(err)
	}
	return s.incidents(tx, f, batchID, results)
}

func slicesHasEnabled(rules []Rule, kind string) bool {
	for _, r := range rules {
		if r.Kind == kind && r.Enabled {
			return true
		}
	}
	return false
}

// attribute maps perRule counts onto rule keys.
func attribute(rules []Rule, perRule map[string]int) map[string]int {
	out := map[string]int{}
	keys := map[string]bool{}
	firstOfKind := map[string]string{}
	for _, r := range rules {
		if !r.Enabled {
			continue
		}
		keys[r.Key] = true
		if _, ok := firstOfKind[r.Kind]; !ok {
			firstOfKind[r.Kind] = r.Key
		}
	}
	for k, n := range perRule {
		switch {
		case keys[k]:
			out[k] += n
		case firstOfKind[k] != "":
			out[firstOfKind[k]] += n
		}
	}
	return out
}

// Scores are an entry's (or body's) scores: overall and by dimension, nil
// where there is no rule of the dimension.
type Scores struct {
	Score float64             `json:"score"`
	Dim   map[string]*float64 `json:"dimensions"`
}

// batchScores computes the scores of one batch: a dimension's score is the
// share of (row, rule) checks of that dimension that passed, × 100; the
// overall score is the mean of the dimensions present. Timeliness is 100 at
// the time of a batch (fresh data) when the freshness rule is on.
func batchScores(results []RuleResult, rows int, fresh bool) Scores {
	type acc struct{ checks, failed float64 }
	dims := map[string]*acc{}
	for _, r := range results {
		a := dims[r.Dimension]
		if a == nil {
			a = &acc{}
			dims[r.Dimension] = a
		}
		n := float64(max(rows, 1))
		f := float64(min(r.Failed, max(rows, 1)))
		if r.Kind == KindRowCount && r.Failed > 0 {
			f = n // a batch of the wrong size fails in full
		}
		a.checks += n
		a.failed += f
	}
	sc := Scores{Dim: map[string]*float64{}}
	if fresh {
		v := 100.0
		sc.Dim[Timeliness] = &v
	}
	for d, a := range dims {
		v := round1(100 * (1 - a.failed/a.checks))
		if d == Timeliness && sc.Dim[d] != nil {
			v = round1((v + *sc.Dim[d]) / 2)
		}
		sc.Dim[d] = &v
	}
	sc.Score = overall(sc.Dim)
	return sc
}

func overall(dim map[string]*float64) float64 {
	var sum float64
	var n int
	for _, v := range dim {
		if v != nil {
			sum += *v
			n++
		}
	}
	if n == 0 {
		return 100
	}
	return round1(sum / float64(n))
}

func round1(v float64) float64 { return math.Round(v*10) / 10 }

// Rules returns an entry's effective rules (defaults merged with overrides
// and added rules) for its current items.
func (s *Service) Rules(ctx context.Context, p *auth.Principal, entryID int64) ([]Rule, error) {
	rs, _, err := s.RuleSet(ctx, p, entryID)
	return rs, err
}

// RuleSet returns an entry's effective rules and the revision of its rule
// set (0 before the first save), which SaveRules takes back.
func (s *Service) RuleSet(ctx context.Context, p *auth.Principal, entryID int64) ([]Rule, int64, error) {
	e, err := s.cat.Get(ctx, p, entryID)
	if err != nil {
		return nil, 0, err
	}
	if !mayRead(p, e.ProviderID) {
		return nil, 0, errForbidden
	}
	rctx, cancel := s.db.Ctx(ctx)
	defer cancel()
	var rev int64
	err = s.db.R.QueryRowContext(rctx, `SELECT revision FROM quality_rule_sets WHERE entry_id = $1`, entryID).Scan(&rev)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, 0, db.Check(err)
	}
	stored, err := storedRules(readConn{rctx, s.db}, entryID)
	if err != nil {
		return nil, 0, err
	}
	return Merge(Defaults(e.Items), stored), rev, nil
}

// ErrStale refuses a rule set saved on a revision someone else has changed.
var ErrStale = errs.Conflict("quality.stale", "质量规则已被他人修改，请刷新后重试", "the rules were changed by someone else; reload and try again")

var errForbidden = errs.Forbidden("quality.forbidden", "无权查看或管理该目录的数据质量", "you may not see or manage this entry's data quality")

func mayRead(p *auth.Principal, body int64) bool {
	return p == catalog.System || p.Global(auth.PermQualityRead) || p.HasAt(auth.PermQualityRead, body)
}

func mayManage(p *auth.Principal, body int64) bool {
	return p == catalog.System || p.HasAt(auth.PermQualityManage, body)
}

// SaveRules replaces an entry's rules: for each default, its enabled flag,
// threshold and dimension (and parameters, where its kind takes any); the
// added rules as given. Every rule is checked against the entry's items; an
// added rule gets a key kind#n when it has none. rev is the revision the
// caller read (RuleSet); a set changed since is refused with ErrStale. A
// negative rev skips the check (the command line, the demo).
func (s *Service) SaveRules(ctx context.Context, p *auth.Principal, entryID int64, rules []Rule, rev int64) ([]Rule, error) {
	e, err := s.cat.Get(ctx, p, entryID)
	if err != nil {
		return nil, err
	}
	if !mayManage(p, e.ProviderID) {
		return nil, errForbidden
	}
	if len(rules) > maxRules {
		return nil, ruleErr("at most %d rules per entry", "每个目录至多 %d 条规则", maxRules)
	}
	defaults := map[string]Rule{}
	for _, d := range Defaults(e.Items) {
		defaults[d.Key] = d
	}
	seen := map[string]bool{}
	var fields errs.Fields
	for i := range rules {
		r := &rules[i]
		if d, ok := defaults[r.Key]; ok {
			r.Default, r.Kind, r.Items = true, d.Kind, d.Items
			if !r.Params.hasAny() {
				r.Params = d.Params
			}
		} else {
			r.Default = false
			if strings.HasPrefix(r.Key, r.Kind+":") || r.Key == r.Kind {
				r.Key = "" // a default that no longer applies becomes an added rule
			}
		}
		if err := r.check(e.Items); err != nil {
			ee, _ := errs.As(err)
			if ee == nil {
				return nil, err
			}
			if len(ee.Fields) == 0 {
				fields.Add(fmt.Sprintf("rules[%d]", i), ee.Code, ee.ZH, ee.EN)
			}
			for _, fe := range ee.Fields {
				fields.Add(fmt.Sprintf("rules[%d].%s", i, fe.Field), fe.Code, fe.ZH, fe.EN)
			}
			continue
		}
		if r.Key != "" {
			if seen[r.Key] {
				fields.Add(fmt.Sprintf("rules[%d].key", i), "quality.rule_key", "规则标识重复："+r.Key, "duplicate rule key: "+r.Key)
			}
			seen[r.Key] = true
		}
	}
	if len(fields) > 0 {
		// Name the first problem in the message too: a console form shows
		// the message, not fields of a rule list.
		f := fields[0]
		return nil, &errs.Error{Kind: errs.KindInvalid, Code: "quality.rules", Fields: fields,
			ZH: "规则有误（" + f.Field + "）：" + f.ZH, EN: "invalid rule (" + f.Field + "): " + f.EN}
	}
	n := 0
	for i := range rules {
		if rules[i].Key == "" {
			for {
				n++
				k := fmt.Sprintf("%s#%d", rules[i].Kind, n)
				if !seen[k] {
					rules[i].Key, seen[k] = k, true
					break
				}
			}
		}
	}
	err = s.db.Tx(ctx, func(tx *db.Tx) error {
		// Compare and bump the set's revision in one statement, so that of
		// two concurrent saves on one revision exactly one goes through.
		var next int64
		err := tx.QueryRow(`INSERT INTO quality_rule_sets (entry_id, revision, updated_by, updated_at) VALUES ($1, 1, $2, $3)
			ON CONFLICT (entry_id) DO UPDATE SET revision = quality_rule_sets.revision + 1, updated_by = excluded.updated_by,
				updated_at = excluded.updated_at
			WHERE CAST($4 AS BIGINT) < 0 OR quality_rule_sets.revision = CAST($4 AS BIGINT)
			RETURNING revision`, entryID, p.User.Username, tx.Now, rev).Scan(&next)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrStale
		}
		if err != nil {
			return err
		}
		if err := tx.Run(`DELETE FROM quality_rules WHERE entry_id = $1`, entryID); err != nil {
			return err
		}
		for _, r := range rules {
			if r.Default && r.Enabled && r.Threshold == (Threshold{Kind: "count"}) && r.Dimension == defaults[r.Key].Dimension &&
				paramsEqual(r.Params, defaults[r.Key].Params) {
				continue // the default as it is: nothing to store
			}
			items, _ := json.Marshal(r.Items)
			params, _ := json.Marshal(r.Params)
			if err := tx.Run(`INSERT INTO quality_rules (entry_id, rule_key, kind, items, params, threshold_kind, threshold,
				dimension, enabled, is_default, name, updated_by, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
				entryID, r.Key, r.Kind, string(items), string(params), r.Threshold.Kind, r.Threshold.Value, r.Dimension,
				r.Enabled, r.Default, r.Name, p.User.Username, tx.Now); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, db.Check(err)
	}
	return s.Rules(ctx, p, entryID)
}

func paramsEqual(a, b Params) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}

// BatchResults returns the per-rule results of one batch of an entry.
func (s *Service) BatchResults(ctx context.Context, p *auth.Principal, entryID, batchID int64) ([]RuleResult, error) {
	e, err := s.cat.Get(ctx, p, entryID)
	if err != nil {
		return nil, err
	}
	if !mayRead(p, e.ProviderID) {
		return nil, errForbidden
	}
	ctx, cancel := s.db.Ctx(ctx)
	defer cancel()
	rows, err := s.db.R.QueryContext(ctx, `SELECT batch_id, rule_key, kind, items, dimension, rows_total, failed, passed
		FROM quality_results WHERE entry_id = $1 AND batch_id = $2 ORDER BY rule_key`, entryID, batchID)
	if err != nil {
		return nil, db.Check(err)
	}
	defer rows.Close()
	var out []RuleResult
	for rows.Next() {
		var r RuleResult
		if err := rows.Scan(&r.BatchID, &r.Key, &r.Kind, &r.Items, &r.Dimension, &r.Rows, &r.Failed, &r.Passed); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, db.Check(rows.Err())
}
