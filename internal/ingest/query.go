package ingest

import (
	"context"
	"database/sql"
	"sort"
	"strings"
	"sync"

	"xiangyun/internal/catalog"
	"xiangyun/internal/db"
	"xiangyun/internal/errs"
)

// This file is the exchange gateway's read path (internal/gateway): no
// principal (the gateway has checked the grant before it calls), only the
// columns asked for, equality filters by item name with the grant's row
// scope ANDed in, and one prepared, indexed statement per call. Values are
// returned as stored, unmasked: the gateway masks them by the grant.

// Query is one gateway read of an entry's live records.
type Query struct {
	// Items are the item names returned (the granted items); unknown names
	// are refused.
	Items []string
	// Filters and Scope are item name → value equality conditions; Scope is
	// the grant's row scope. Both are ANDed.
	Filters map[string]string
	Scope   map[string]string
	Limit   int // 1…1000
	Offset  int
}

// QueryPage is a page of records keyed by item name, each with the system
// fields _disputed, _version and _batch. More is true when a further page
// exists (no total is counted: that would cost a second scan).
type QueryPage struct {
	Items []map[string]any
	More  bool
}

// readPlan caches an entry's table description and its prepared
// statements, so that a gateway call costs one indexed query.
type readPlan struct {
	mu     sync.Mutex
	tables map[int64]*table
	stmts  map[string]*sql.Stmt
}

const maxPlanStmts = 2000 // beyond this the statement cache starts afresh

var errFilter = func(name, zh, en string) error {
	return errs.Invalid("ingest.filter", name+"："+zh, name+": "+en)
}

// queryTable returns the entry's table from the cache, reloading (and
// migrating, like every read) when the published items changed.
func (s *Service) queryTable(ctx context.Context, e *catalog.Entry) (*table, error) {
	if e.Status != catalog.StatusPublished || !holdsRecords(&e.Content) {
		return nil, errNoRecords
	}
	s.plan.mu.Lock()
	if s.plan.tables == nil {
		s.plan.tables = map[int64]*table{}
		s.plan.stmts = map[string]*sql.Stmt{}
	}
	t := s.plan.tables[e.ID]
	s.plan.mu.Unlock()
	if t != nil && current(t, e.Items) {
		return t, nil
	}
	t, err := s.table(ctx, e)
	if err != nil {
		return nil, err
	}
	s.plan.mu.Lock()
	s.plan.tables[e.ID] = t
	s.plan.mu.Unlock()
	return t, nil
}

// stmt returns the prepared statement for q on the readers' pool.
func (s *Service) stmt(ctx context.Context, q string) (*sql.Stmt, error) {
	s.plan.mu.Lock()
	st := s.plan.stmts[q]
	s.plan.mu.Unlock()
	if st != nil {
		return st, nil
	}
	st, err := s.db.R.PrepareContext(ctx, q)
	if err != nil {
		return nil, db.Check(err)
	}
	s.plan.mu.Lock()
	defer s.plan.mu.Unlock()
	if old := s.plan.stmts[q]; old != nil {
		_ = st.Close()
		return old, nil
	}
	if len(s.plan.stmts) >= maxPlanStmts {
		for k, o := range s.plan.stmts {
			_ = o.Close()
			delete(s.plan.stmts, k)
		}
	}
	s.plan.stmts[q] = st
	return st, nil
}

// where builds the conditions of filters and scope in a stable order.
func (s *Service) where(e *catalog.Entry, t *table, filters, scope map[string]string, args *db.Args) ([]string, error) {
	byName := make(map[string]*catalog.Item, len(e.Items))
	for i := range e.Items {
		byName[e.Items[i].Name] = &e.Items[i]
	}
	conds := []string{"_deleted = FALSE"}
	add := func(m map[string]string) error {
		names := make([]string, 0, len(m))
		for n := range m {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			it, c := byName[n], t.Cols[n]
			if it == nil || c == nil {
				return errFilter(n, "不是本目录的信息项", "not an item of this entry")
			}
			x, te := convert(it.DataType, it.Length, m[n])
			if te != nil {
				return errFilter(n, te.zh, te.en)
			}
			if x == nil {
				conds = append(conds, c.Col+" IS NULL")
				continue
			}
			conds = append(conds, c.Col+" = "+args.Add(x))
		}
		return nil
	}
	if err := add(scope); err != nil {
		return nil, err
	}
	if err := add(filters); err != nil {
		return nil, err
	}
	return conds, nil
}

// Query reads a page of e's live records for the gateway.
func (s *Service) Query(ctx context.Context, e *catalog.Entry, q Query) (QueryPage, error) {
	t, err := s.queryTable(ctx, e)
	if err != nil {
		return QueryPage{}, err
	}
	if q.Limit <= 0 || q.Limit > 1000 {
		q.Limit = 20
	}
	q.Offset = max(q.Offset, 0)
	types := make(map[string]string, len(e.Items))
	for _, it := range e.Items {
		types[it.Name] = it.DataType
	}
	sel := []string{"_batch", "_version", "_disputed"}
	for _, n := range q.Items {
		c := t.Cols[n]
		if c == nil || types[n] == "" {
			return QueryPage{}, errFilter(n, "不是本目录的信息项", "not an item of this entry")
		}
		expr := c.Col
		if s.db.Dialect == db.Postgres && (types[n] == "N" || types[n] == "Y") {
			expr = "CAST(" + c.Col + " AS TEXT)"
		}
		sel = append(sel, expr)
	}
	var args db.Args
	conds, err := s.where(e, t, q.Filters, q.Scope, &args)
	if err != nil {
		return QueryPage{}, err
	}
	sqlText := `SELECT ` + strings.Join(sel, ", ") + ` FROM ` + t.Name + ` WHERE ` + strings.Join(conds, " AND ") +
		` ORDER BY _id LIMIT ` + args.Add(q.Limit+1) + ` OFFSET ` + args.Add(q.Offset)
	rctx, cancel := s.db.Ctx(ctx)
	defer cancel()
	st, err := s.stmt(rctx, sqlText)
	if err != nil {
		return QueryPage{}, err
	}
	rows, err := st.QueryContext(rctx, args...)
	if err != nil {
		return QueryPage{}, db.Check(err)
	}
	defer rows.Close()
	out := QueryPage{Items: make([]map[string]any, 0, min(q.Limit, 64))}
	vals := make([]any, len(q.Items))
	var (
		batch, version int64
		disputed       any
	)
	dest := []any{&batch, &version, &disputed}
	for i := range vals {
		dest = append(dest, &vals[i])
	}
	for rows.Next() {
		if len(out.Items) == q.Limit {
			out.More = true
			break
		}
		if err := rows.Scan(dest...); err != nil {
			return QueryPage{}, db.Check(err)
		}
		rec := make(map[string]any, len(q.Items)+3)
		rec["_batch"], rec["_version"], rec["_disputed"] = batch, version, output("L", disputed)
		for i, n := range q.Items {
			rec[n] = output(types[n], vals[i])
			vals[i] = nil
		}
		out.Items = append(out.Items, rec)
	}
	return out, db.Check(rows.Err())
}

// Verification is the answer of Verify: whether a record was found by the
// key values given, and for each item given whether its value matches. No
// stored value leaves this function.
type Verification struct {
	Found    bool
	Matches  map[string]bool
	Disputed bool
}

// Verify finds the live record of e whose key items equal the key values in
// values (all key items must be given), within scope, and compares every
// other value given with the stored one. Values are compared in their typed
// form (a date given as 2024/5/1 matches 2024-05-01).
func (s *Service) Verify(ctx context.Context, e *catalog.Entry, values, scope map[string]string) (Verification, error) {
	t, err := s.queryTable(ctx, e)
	if err != nil {
		return Verification{}, err
	}
	keys := map[string]string{}
	var others []*catalog.Item
	for i := range e.Items {
		it := &e.Items[i]
		v, given := values[it.Name]
		switch {
		case it.Key && !given:
			return Verification{}, errs.Invalid("ingest.verify_key", "核验须提供全部主键信息项："+it.Name, "verification needs every key item: "+it.Name)
		case it.Key:
			keys[it.Name] = v
		case given:
			others = append(others, it)
		}
	}
	if len(keys) == 0 {
		return Verification{}, errs.Invalid("ingest.verify_key", "本目录没有主键信息项，不能核验", "the entry has no key items, so it cannot verify")
	}
	for n := range values {
		if t.Cols[n] == nil {
			return Verification{}, errFilter(n, "不是本目录的信息项", "not an item of this entry")
		}
	}
	sort.Slice(others, func(i, j int) bool { return others[i].Name < others[j].Name })
	sel := []string{"_disputed"}
	want := make([]any, len(others))
	for i, it := range others {
		c := t.Cols[it.Name]
		expr := c.Col
		if s.db.Dialect == db.Postgres && (it.DataType == "N" || it.DataType == "Y") {
			expr = "CAST(" + c.Col + " AS TEXT)"
		}
		sel = append(sel, expr)
		x, te := convert(it.DataType, it.Length, values[it.Name])
		if te != nil {
			want[i] = te // never equal to a stored value
			continue
		}
		want[i] = x
	}
	var args db.Args
	conds, err := s.where(e, t, keys, scope, &args)
	if err != nil {
		return Verification{}, err
	}
	rctx, cancel := s.db.Ctx(ctx)
	defer cancel()
	st, err := s.stmt(rctx, `SELECT `+strings.Join(sel, ", ")+` FROM `+t.Name+` WHERE `+strings.Join(conds, " AND ")+` LIMIT 1`)
	if err != nil {
		return Verification{}, err
	}
	vals := make([]any, len(others))
	var disputed any
	dest := []any{&disputed}
	for i := range vals {
		dest = append(dest, &vals[i])
	}
	out := Verification{Matches: make(map[string]bool, len(values))}
	err = st.QueryRowContext(rctx, args...).Scan(dest...)
	if err == sql.ErrNoRows {
		for n := range values {
			out.Matches[n] = false
		}
		return out, nil
	}
	if err != nil {
		return Verification{}, db.Check(err)
	}
	out.Found = true
	out.Disputed = output("L", disputed) == true
	for n := range keys {
		out.Matches[n] = true
	}
	for i, it := range others {
		if _, bad := want[i].(*typeError); bad {
			out.Matches[it.Name] = false
			continue
		}
		out.Matches[it.Name] = sameValue(it.DataType, vals[i], want[i])
	}
	return out, nil
}

// sameValue compares a stored value with a converted one in their output
// form.
func sameValue(dataType string, stored, want any) bool {
	if stored == nil || want == nil {
		return stored == nil && want == nil
	}
	a, b := output(dataType, stored), output(dataType, want)
	if dataType == "N" || dataType == "Y" {
		return numText(a) == numText(b)
	}
	return a == b
}

// numText normalises decimal text: 1.50 and 1.5 are the same number.
func numText(v any) string {
	s, _ := v.(string)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	if s == "" || s == "-" {
		return "0"
	}
	return s
}
