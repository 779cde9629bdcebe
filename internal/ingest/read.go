package ingest

import (
	"context"
	"database/sql"
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
	rows_read, accepted, rejected, message_zh, message_en, started_at, finished_at`

func scanBatch(sc interface{ Scan(...any) error }) (Batch, error) {
	var (
		b        Batch
		started  db.Time
		finished sql.Null[db.Time]
	)
	err := sc.Scan(&b.ID, &b.EntryID, &b.Status, &b.Source, &b.Mode, &b.OnError, &b.FileName, &b.Format, &b.Encoding, &b.SHA256, &b.Size,
		&b.UserID, &b.User, &b.Rows, &b.Accepted, &b.Rejected, &b.MessageZH, &b.MessageEN, &started, &finished)
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
	e, err := s.entry(ctx, entryID)
	if err != nil {
		return Page{}, err
	}
	ok, provider := mayRead(p, &e)
	if !ok {
		return Page{}, errNotReader
	}
	t, err := s.table(ctx, &e)
	if err != nil {
		return Page{}, err
	}
	where := []string{"_deleted = FALSE"}
	var args db.Args
	byName := map[string]catalog.Item{}
	for _, it := range e.Items {
		byName[it.Name] = it
	}
	for name, v := range filters {
		it, found := byName[name]
		if !found || !it.Key {
			return Page{}, errs.Invalid("ingest.filter", "只能按主键信息项筛选："+name, "records can be filtered by key items only: "+name)
		}
		x, te := convert(it.DataType, it.Length, v)
		if te != nil {
			return Page{}, errs.Invalid("ingest.filter", name+"："+te.zh, name+": "+te.en)
		}
		where = append(where, t.Cols[name].Col+" = "+args.Add(x))
	}
	cond := strings.Join(where, " AND ")
	ctx, cancel := s.db.Ctx(ctx)
	defer cancel()
	var total int
	if err := s.db.R.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+t.Name+` WHERE `+cond, args...).Scan(&total); err != nil {
		return Page{}, db.Check(err)
	}
	sel := []string{"_id", "_batch", "_version", "_disputed"}
	for _, it := range e.Items {
		c := t.Cols[it.Name]
		expr := c.Col
		if s.db.Dialect == db.Postgres && (it.DataType == "N" || it.DataType == "Y") {
			expr = "CAST(" + c.Col + " AS TEXT)"
		}
		sel = append(sel, expr)
	}
	la, oa := args.Add(limit), args.Add(offset)
	rows, err := s.db.R.QueryContext(ctx, `SELECT `+strings.Join(sel, ", ")+` FROM `+t.Name+` WHERE `+cond+` ORDER BY _id LIMIT `+la+` OFFSET `+oa, args...)
	if err != nil {
		return Page{}, db.Check(err)
	}
	defer rows.Close()
	rules := make([]string, len(e.Items))
	for i, it := range e.Items {
		if !provider {
			rules[i] = mask.For(it.Mask, it.Name, it.Sensitive, e.Grade)
		}
	}
	out := Page{Total: total, Items: []map[string]any{}}
	for rows.Next() {
		var (
			id, batch, version int64
			disputed           any
		)
		vals := make([]any, len(e.Items))
		dest := []any{&id, &batch, &version, &disputed}
		for i := range vals {
			dest = append(dest, &vals[i])
		}
		if err := rows.Scan(dest...); err != nil {
			return Page{}, err
		}
		rec := map[string]any{"_batch": batch, "_version": version, "_disputed": output("L", disputed)}
		for i, it := range e.Items {
			v := output(it.DataType, vals[i])
			if str, ok := v.(string); ok && rules[i] != "" && rules[i] != mask.None {
				v = mask.Apply(rules[i], str)
			} else if rules[i] != "" && rules[i] != mask.None && v != nil {
				v = mask.Apply(rules[i], toText(v))
			}
			rec[it.Name] = v
		}
		out.Items = append(out.Items, rec)
	}
	return out, db.Check(rows.Err())
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
