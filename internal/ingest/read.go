package ingest

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"strconv"
	"strings"

	"xiangyun/internal/auth"
	"xiangyun/internal/catalog"
	"xiangyun/internal/db"
	"xiangyun/internal/errs"
	"xiangyun/internal/mask"
)

const batchCols = `id, entry_id, status, source, mode, on_error, file_name, format, encoding, sha256, size, user_id, user_name,
	rows_read, accepted, rejected, message_zh, message_en, started_at, finished_at, unmatched, header`

func scanBatch(sc interface{ Scan(...any) error }) (Batch, error) {
	var (
		b                 Batch
		started           db.Time
		finished          sql.Null[db.Time]
		unmatched, header string
	)
	err := sc.Scan(&b.ID, &b.EntryID, &b.Status, &b.Source, &b.Mode, &b.OnError, &b.FileName, &b.Format, &b.Encoding, &b.SHA256, &b.Size,
		&b.UserID, &b.User, &b.Rows, &b.Accepted, &b.Rejected, &b.MessageZH, &b.MessageEN, &started, &finished, &unmatched, &header)
	b.Unmatched = []string{}
	if unmatched != "" && unmatched != "[]" {
		_ = json.Unmarshal([]byte(unmatched), &b.Unmatched)
	}
	if header != "" && header != "[]" {
		_ = json.Unmarshal([]byte(header), &b.Header)
	}
	b.StartedAt = started.Time
	if finished.Valid {
		t := finished.V.Time
		b.FinishedAt = &t
	}
	return b, err
}

// Batch returns a batch the principal may see: the provider's users and the
// platform.
func (s *Service) Batch(ctx context.Context, p *auth.Principal, id int64) (Batch, error) {
	b, err := s.batch(ctx, id)
	if err != nil {
		return b, err
	}
	e, err := s.catalog.Get(ctx, catalog.System, b.EntryID)
	if err != nil {
		return b, err
	}
	if ok, _ := mayRead(p, &e); !ok {
		return Batch{}, errNoBatch
	}
	return b, nil
}

func (s *Service) batch(ctx context.Context, id int64) (Batch, error) {
	ctx, cancel := s.db.Ctx(ctx)
	defer cancel()
	b, err := scanBatch(s.db.R.QueryRowContext(ctx, `SELECT `+batchCols+` FROM ingest_batches WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return b, errNoBatch
	}
	return b, db.Check(err)
}

// Batches lists an entry's batches, newest first.
func (s *Service) Batches(ctx context.Context, p *auth.Principal, entryID int64, limit, offset int) ([]Batch, int, error) {
	e, err := s.catalog.Get(ctx, catalog.System, entryID)
	if err != nil {
		return nil, 0, err
	}
	if ok, _ := mayRead(p, &e); !ok {
		return nil, 0, errNotReader
	}
	ctx, cancel := s.db.Ctx(ctx)
	defer cancel()
	var total int
	if err := s.db.R.QueryRowContext(ctx, `SELECT COUNT(*) FROM ingest_batches WHERE entry_id = $1`, entryID).Scan(&total); err != nil {
		return nil, 0, db.Check(err)
	}
	rows, err := s.db.R.QueryContext(ctx, `SELECT `+batchCols+` FROM ingest_batches WHERE entry_id = $1 ORDER BY id DESC LIMIT $2 OFFSET $3`, entryID, limit, offset)
	if err != nil {
		return nil, 0, db.Check(err)
	}
	defer rows.Close()
	var out []Batch
	for rows.Next() {
		b, err := scanBatch(rows)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, b)
	}
	return out, total, db.Check(rows.Err())
}

// Errors pages through a batch's error report in row order; limit < 0
// returns every stored error (downloads).
func (s *Service) Errors(ctx context.Context, p *auth.Principal, id int64, limit, offset int, each func(RowError) error) (int, error) {
	if _, err := s.Batch(ctx, p, id); err != nil {
		return 0, err
	}
	ctx, cancel := s.db.Ctx(ctx)
	defer cancel()
	var total int
	if err := s.db.R.QueryRowContext(ctx, `SELECT COUNT(*) FROM ingest_errors WHERE batch_id = $1`, id).Scan(&total); err != nil {
		return 0, db.Check(err)
	}
	q := `SELECT row_num, col, value, rule, message_zh, message_en FROM ingest_errors WHERE batch_id = $1 ORDER BY row_num, id`
	args := []any{id}
	if limit >= 0 {
		q += ` LIMIT $2 OFFSET $3`
		args = append(args, limit, offset)
	}
	rows, err := s.db.R.QueryContext(ctx, q, args...)
	if err != nil {
		return 0, db.Check(err)
	}
	defer rows.Close()
	for rows.Next() {
		var e RowError
		if err := rows.Scan(&e.Row, &e.Column, &e.Value, &e.Rule, &e.MessageZH, &e.MessageEN); err != nil {
			return 0, err
		}
		if err := each(e); err != nil {
			return 0, err
		}
	}
	return total, db.Check(rows.Err())
}

// Cancel asks a running batch to stop; nothing of it is published. The
// provider's uploaders may cancel.
func (s *Service) Cancel(ctx context.Context, p *auth.Principal, id int64) (Batch, error) {
	b, err := s.batch(ctx, id)
	if err != nil {
		return b, err
	}
	e, err := s.catalog.Get(ctx, catalog.System, b.EntryID)
	if err != nil {
		return b, err
	}
	if ok, _ := mayRead(p, &e); !ok {
		return Batch{}, errNoBatch
	}
	if !p.HasAt(auth.PermDataUpload, e.ProviderID) {
		return Batch{}, errNotProvider
	}
	if b.Status != StatusRunning {
		return b, errs.Conflict("ingest.not_running", "批次已结束（"+b.Status+"），不能取消", "the batch has ended ("+b.Status+") and cannot be cancelled")
	}
	if err := s.db.Tx(ctx, func(tx *db.Tx) error {
		return tx.Run(`UPDATE ingest_batches SET cancel = TRUE WHERE id = $1 AND status = $2`, id, StatusRunning)
	}); err != nil {
		return b, err
	}
	s.mu.Lock()
	r := s.running[id]
	s.mu.Unlock()
	if r != nil {
		s.Wait(ctx, id, 10e9)
	}
	return s.batch(ctx, id)
}

// Page is a page of records.
type Page struct {
	Items []map[string]any
	Total int
}

// Records pages through an entry's live records, filtered by key items
// (item name → value), masked by each item's rule unless the reader is the
// provider.
func (s *Service) Records(ctx context.Context, p *auth.Principal, entryID int64, filters map[string]string, limit, offset int) (Page, error) {
	rr, err := s.recordReader(ctx, p, entryID)
	if err != nil {
		return Page{}, err
	}
	cond, args, err := rr.where(filters)
	if err != nil {
		return Page{}, err
	}
	ctx, cancel := s.db.Ctx(ctx)
	defer cancel()
	var total int
	if err := s.db.R.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+rr.t.Name+` WHERE `+cond, args...).Scan(&total); err != nil {
		return Page{}, db.Check(err)
	}
	la, oa := args.Add(limit), args.Add(offset)
	rows, err := s.db.R.QueryContext(ctx, `SELECT `+rr.sel+` FROM `+rr.t.Name+` WHERE `+cond+` ORDER BY _id LIMIT `+la+` OFFSET `+oa, args...)
	if err != nil {
		return Page{}, db.Check(err)
	}
	defer rows.Close()
	out := Page{Total: total, Items: []map[string]any{}}
	for rows.Next() {
		r, err := rr.scan(rows)
		if err != nil {
			return Page{}, err
		}
		out.Items = append(out.Items, rr.object(r))
	}
	return out, db.Check(rows.Err())
}

// recordReader reads an entry's records for one principal: the entry, its
// table, the selected columns and each item's masking rule (none for the
// provider's own users).
type recordReader struct {
	e        catalog.Entry
	t        *table
	sel      string
	rules    []string
	provider bool
}

// scanned is one record as read, its item values in item order, in their
// output form and masked.
type scanned struct {
	id, batch, version int64
	disputed           bool
	vals               []any
}

func (s *Service) recordReader(ctx context.Context, p *auth.Principal, entryID int64) (*recordReader, error) {
	e, err := s.entry(ctx, entryID)
	if err != nil {
		return nil, err
	}
	ok, provider := mayRead(p, &e)
	if !ok {
		return nil, errNotReader
	}
	t, err := s.table(ctx, &e)
	if err != nil {
		return nil, err
	}
	rr := &recordReader{e: e, t: t, provider: provider, rules: make([]string, len(e.Items))}
	sel := []string{"_id", "_batch", "_version", "_disputed"}
	for i, it := range e.Items {
		expr := t.Cols[it.Name].Col
		if s.db.Dialect == db.Postgres && (it.DataType == "N" || it.DataType == "Y") {
			expr = "CAST(" + expr + " AS TEXT)"
		}
		sel = append(sel, expr)
		if !provider {
			rr.rules[i] = mask.For(it.Mask, it.Name, it.Sensitive, e.Grade)
		}
	}
	rr.sel = strings.Join(sel, ", ")
	return rr, nil
}

// where is the condition of live records matching filters on key items.
func (rr *recordReader) where(filters map[string]string) (string, db.Args, error) {
	where := []string{"_deleted = FALSE"}
	var args db.Args
	for name, v := range filters {
		col, x, err := rr.keyValue(name, v)
		if err != nil {
			return "", nil, err
		}
		where = append(where, col+" = "+args.Add(x))
	}
	return strings.Join(where, " AND "), args, nil
}

// keyValue is the column of a key item and a value typed for it.
func (rr *recordReader) keyValue(name, v string) (string, any, error) {
	for _, it := range rr.e.Items {
		if it.Name != name {
			continue
		}
		if !it.Key {
			break
		}
		x, te := convert(it.DataType, it.Length, v)
		if te != nil {
			return "", nil, errs.Invalid("ingest.filter", name+"："+te.zh, name+": "+te.en)
		}
		return rr.t.Cols[name].Col, x, nil
	}
	return "", nil, errs.Invalid("ingest.filter", "只能按主键信息项筛选："+name, "records can be filtered by key items only: "+name)
}

// scan reads one row selected with rr.sel.
func (rr *recordReader) scan(rows *sql.Rows) (scanned, error) { return rr.scanWith(rows) }

// scanWith reads one row selected with rr.sel and then extra columns.
func (rr *recordReader) scanWith(rows *sql.Rows, extra ...any) (scanned, error) {
	var (
		r        scanned
		disputed any
	)
	r.vals = make([]any, len(rr.e.Items))
	dest := make([]any, 0, 4+len(r.vals))
	dest = append(dest, &r.id, &r.batch, &r.version, &disputed)
	for i := range r.vals {
		dest = append(dest, &r.vals[i])
	}
	dest = append(dest, extra...)
	if err := rows.Scan(dest...); err != nil {
		return r, err
	}
	r.disputed, _ = output("L", disputed).(bool)
	for i, it := range rr.e.Items {
		r.vals[i] = rr.value(i, output(it.DataType, r.vals[i]))
	}
	return r, nil
}

// value masks an item's output value by its rule.
func (rr *recordReader) value(i int, v any) any {
	rule := rr.rules[i]
	if rule == "" || rule == mask.None || v == nil {
		return v
	}
	if str, ok := v.(string); ok {
		return mask.Apply(rule, str)
	}
	return mask.Apply(rule, toText(v))
}

// object is a record's JSON form: item names and the system fields.
func (rr *recordReader) object(r scanned) map[string]any {
	rec := make(map[string]any, len(r.vals)+4)
	rec["_id"], rec["_batch"], rec["_version"], rec["_disputed"] = r.id, r.batch, r.version, r.disputed
	for i, it := range rr.e.Items {
		rec[it.Name] = r.vals[i]
	}
	return rec
}

func toText(v any) string {
	switch x := v.(type) {
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	}
	return ""
}
