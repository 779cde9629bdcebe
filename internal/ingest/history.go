package ingest

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"xiangyun/internal/auth"
	"xiangyun/internal/db"
	"xiangyun/internal/errs"
)

// RecordVersion is one state of a record: its current values or values a
// later batch replaced or deleted (kept in ingest_history), with the batch
// that wrote them and when.
type RecordVersion struct {
	Version    int64          `json:"version"`
	Batch      int64          `json:"batch" doc:"the batch that wrote these values"`
	WrittenAt  *time.Time     `json:"written_at,omitempty" doc:"when these values were published"`
	ReplacedBy int64          `json:"replaced_by,omitempty" doc:"the batch that replaced or deleted these values"`
	ReplacedAt *time.Time     `json:"replaced_at,omitempty"`
	Current    bool           `json:"current"`
	Deleted    bool           `json:"deleted" doc:"the record was deleted (by a full replacement) in this state"`
	Values     map[string]any `json:"values" doc:"item name → value, masked as in the records list"`
}

// RecordHistory is a record's versions, newest first.
type RecordHistory struct {
	ID       int64           `json:"id"`
	Disputed bool            `json:"disputed"`
	Versions []RecordVersion `json:"versions"`
}

// maxHistoryRecords and maxHistoryVersions bound one history answer.
const (
	maxHistoryRecords  = 20
	maxHistoryVersions = 500
)

// History returns the past and present values of the records an entry's
// key items identify (filters: key item name → value; deleted records
// included), or of one record by its id (recordID > 0): the same readers
// and masking as Records. Objections show the old values from here.
func (s *Service) History(ctx context.Context, p *auth.Principal, entryID int64, filters map[string]string, recordID int64) ([]RecordHistory, error) {
	rr, err := s.recordReader(ctx, p, entryID)
	if err != nil {
		return nil, err
	}
	var (
		where []string
		args  db.Args
	)
	if recordID > 0 {
		where = append(where, "_id = "+args.Add(recordID))
	}
	for name, v := range filters {
		col, x, err := rr.keyValue(name, v)
		if err != nil {
			return nil, err
		}
		where = append(where, col+" = "+args.Add(x))
	}
	if len(where) == 0 {
		return nil, errs.Invalid("ingest.history_key", "请给出记录编号或主键信息项的值", "give a record id or the values of key items")
	}
	ctx, cancel := s.db.Ctx(ctx)
	defer cancel()
	rows, err := s.db.R.QueryContext(ctx, `SELECT `+rr.sel+`, _received, _deleted FROM `+rr.t.Name+` WHERE `+strings.Join(where, " AND ")+
		` ORDER BY _id LIMIT `+strconv.Itoa(maxHistoryRecords), args...)
	if err != nil {
		return nil, db.Check(err)
	}
	out := []RecordHistory{}
	for rows.Next() {
		var (
			received db.Time
			deleted  any
		)
		r, err := rr.scanWith(rows, &received, &deleted)
		if err != nil {
			rows.Close()
			return nil, err
		}
		at := received.Time
		del, _ := output("L", deleted).(bool)
		cur := RecordVersion{Version: r.version, Batch: r.batch, WrittenAt: &at, Current: true, Deleted: del, Values: map[string]any{}}
		for i, it := range rr.e.Items {
			cur.Values[it.Name] = r.vals[i]
		}
		out = append(out, RecordHistory{ID: r.id, Disputed: r.disputed, Versions: []RecordVersion{cur}})
	}
	rows.Close()
	if err := db.Check(rows.Err()); err != nil {
		return nil, err
	}
	for k := range out {
		if err := s.pastVersions(ctx, rr, &out[k]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// pastVersions appends a record's replaced values, newest first.
func (s *Service) pastVersions(ctx context.Context, rr *recordReader, h *RecordHistory) error {
	rows, err := s.db.R.QueryContext(ctx, `SELECT h.old_values, COALESCE(h.old_batch, 0), h.old_version, h.batch_id, h.changed_at, b.finished_at
		FROM ingest_history h LEFT JOIN ingest_batches b ON b.id = h.old_batch
		WHERE h.entry_id = $1 AND h.record_id = $2 ORDER BY h.id DESC LIMIT `+strconv.Itoa(maxHistoryVersions), rr.e.ID, h.ID)
	if err != nil {
		return db.Check(err)
	}
	defer rows.Close()
	// A deletion (full replacement) is a version of its own: the record
	// keeps its values with the deleted flag, and the row here holds the
	// values before it. Whether an old version was itself deleted is not
	// kept.
	for rows.Next() {
		var (
			raw      string
			v        RecordVersion
			changed  db.Time
			finished sql.Null[db.Time]
		)
		if err := rows.Scan(&raw, &v.Batch, &v.Version, &v.ReplacedBy, &changed, &finished); err != nil {
			return err
		}
		at := changed.Time
		v.ReplacedAt = &at
		if finished.Valid {
			w := finished.V.Time
			v.WrittenAt = &w
		}
		vals, err := rr.historyValues(raw)
		if err != nil {
			return err
		}
		v.Values = vals
		h.Versions = append(h.Versions, v)
	}
	return db.Check(rows.Err())
}

// historyValues turns a history row's old values (a JSON object keyed by
// generated column) into item name → output value, masked.
func (rr *recordReader) historyValues(raw string) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader([]byte(raw)))
	dec.UseNumber()
	var byCol map[string]any
	if err := dec.Decode(&byCol); err != nil {
		return nil, err
	}
	out := make(map[string]any, len(rr.e.Items))
	for i, it := range rr.e.Items {
		c := rr.t.Cols[it.Name]
		out[it.Name] = rr.value(i, historyValue(it.DataType, byCol[c.Col]))
	}
	return out, nil
}

// historyValue normalises a value as the database's JSON functions wrote
// it to the form Records answers.
func historyValue(dataType string, v any) any {
	switch x := v.(type) {
	case nil:
		return nil
	case json.Number:
		switch dataType {
		case "I":
			if n, err := x.Int64(); err == nil {
				return n
			}
		case "B", "F":
			if f, err := x.Float64(); err == nil {
				return f
			}
		case "L":
			return x.String() != "0"
		}
		return x.String()
	case bool:
		return x
	case string:
		switch dataType {
		case "T":
			// PostgreSQL writes timestamps in ISO form (2026-01-02T03:04:05).
			return strings.Replace(x, "T", " ", 1)
		case "L":
			return x == "true" || x == "1" || x == "t"
		}
		return x
	}
	return output(dataType, v)
}
