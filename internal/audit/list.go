package audit

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"time"

	"xiangyun/internal/db"
)

// Filter selects entries for List and Each. Zero fields match everything.
type Filter struct {
	Actor   string    // exact username
	Action  string    // prefix, e.g. "session." or "auth.role"
	Object  string    // exact, e.g. "user:5"
	Outcome string    // exact
	IP      string    // exact
	Q       string    // case-insensitive substring of actor, action, object or detail
	From    time.Time // inclusive
	To      time.Time // exclusive
	Offset  int
	Limit   int // List: default 50, at most 1000; Each: 0 means all
}

const (
	defaultLimit = 50
	maxLimit     = 1000
)

const recordColumns = "seq, time, actor_id, actor, action, object, outcome, ip, request_id, detail, leaf_hash"

// where renders f as a WHERE clause (empty when f matches everything) and its
// arguments.
func (f Filter) where(d db.Dialect) (string, []any) {
	var conds []string
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	if f.Actor != "" {
		conds = append(conds, "actor = "+arg(f.Actor))
	}
	if f.Action != "" {
		conds = append(conds, d.ILike("action", arg(likePrefix(f.Action))))
	}
	if f.Object != "" {
		conds = append(conds, "object = "+arg(f.Object))
	}
	if f.Outcome != "" {
		conds = append(conds, "outcome = "+arg(f.Outcome))
	}
	if f.IP != "" {
		conds = append(conds, "ip = "+arg(f.IP))
	}
	if f.Q != "" {
		// One case rule on both databases (db.Dialect.ILike).
		q := db.Like(f.Q)
		var or []string
		for _, col := range []string{"actor", "action", "object", "detail"} {
			or = append(or, d.ILike(col, arg(q)))
		}
		conds = append(conds, "("+strings.Join(or, " OR ")+")")
	}
	if !f.From.IsZero() {
		conds = append(conds, "time >= "+arg(db.FormatTime(f.From)))
	}
	if !f.To.IsZero() {
		conds = append(conds, "time < "+arg(db.FormatTime(f.To)))
	}
	if len(conds) == 0 {
		return "", args
	}
	return " WHERE " + strings.Join(conds, " AND "), args
}

// likePrefix escapes s for a LIKE pattern matching strings that start with s.
func likePrefix(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return r.Replace(s) + "%"
}

// List returns one page of the entries matching f, newest first, and the
// number of all matching entries.
func (l *Log) List(ctx context.Context, f Filter) ([]Entry, int, error) {
	if f.Limit <= 0 {
		f.Limit = defaultLimit
	}
	f.Limit = min(f.Limit, maxLimit)
	f.Offset = max(f.Offset, 0)
	where, args := f.where(l.db.Dialect)
	var total int
	if err := l.db.R.QueryRowContext(ctx, "SELECT COUNT(*) FROM audit_records"+where, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("audit: list: %w", err)
	}
	n := len(args)
	q := fmt.Sprintf("SELECT %s FROM audit_records%s ORDER BY seq DESC LIMIT $%d OFFSET $%d", recordColumns, where, n+1, n+2)
	rows, err := l.db.R.QueryContext(ctx, q, append(args, f.Limit, f.Offset)...)
	if err != nil {
		return nil, 0, fmt.Errorf("audit: list: %w", err)
	}
	defer rows.Close()
	out := make([]Entry, 0, min(f.Limit, max(total-f.Offset, 0)))
	for rows.Next() {
		var r record
		if err := r.scan(rows); err != nil {
			return nil, 0, fmt.Errorf("audit: list: %w", err)
		}
		out = append(out, r.Entry)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("audit: list: %w", err)
	}
	return out, total, nil
}

// Each calls fn for every entry matching f, oldest first, streaming them from
// the database. f.Offset and f.Limit apply when set; a Limit of 0 means no
// limit. Each stops at the first error fn returns and returns it.
func (l *Log) Each(ctx context.Context, f Filter, fn func(Entry) error) error {
	where, args := f.where(l.db.Dialect)
	q := "SELECT " + recordColumns + " FROM audit_records" + where + " ORDER BY seq"
	if f.Limit > 0 {
		args = append(args, f.Limit)
		q += " LIMIT $" + strconv.Itoa(len(args))
	} else if f.Offset > 0 && l.db.Dialect == db.SQLite {
		q += " LIMIT -1" // SQLite needs a LIMIT before OFFSET
	}
	if f.Offset > 0 {
		args = append(args, f.Offset)
		q += " OFFSET $" + strconv.Itoa(len(args))
	}
	rows, err := l.db.R.QueryContext(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("audit: export: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var r record
		if err := r.scan(rows); err != nil {
			return fmt.Errorf("audit: export: %w", err)
		}
		if err := fn(r.Entry); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("audit: export: %w", err)
	}
	return nil
}

// record is a row of audit_records.
type record struct {
	Entry
	detail    string // stored JSON
	detailErr error  // set when detail is not a JSON object of strings
	leafHash  string // stored hex leaf hash
}

func (r *record) scan(rows *sql.Rows) error {
	var ts sql.NullString
	err := rows.Scan(&r.Seq, &ts, &r.ActorID, &r.Actor, &r.Action, &r.Object,
		&r.Outcome, &r.IP, &r.RequestID, &r.detail, &r.leafHash)
	if err != nil {
		return err
	}
	// A malformed time reads as zero rather than failing, so that Verify
	// reports the record as changed.
	var t db.Time
	if t.Scan(ts.String) == nil {
		r.Time = t.Time
	}
	r.Detail, r.detailErr = decodeDetail(r.detail)
	return nil
}
