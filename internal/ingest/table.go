package ingest

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"xiangyun/internal/catalog"
	"xiangyun/internal/db"
	"xiangyun/internal/errs"
)

// column is a data item's generated column in an entry's table. Column and
// table names are generated (rec_<entry id>, c<n>), never taken from user
// text, so no user text is ever part of an SQL statement.
type column struct {
	Item     string
	Col      string
	DataType string
	Length   int
}

// table is an entry's record table as stored.
type table struct {
	EntryID int64
	Name    string
	Keys    []string // key columns, in item order
	NextCol int
	Cols    map[string]*column // by item name
}

func tableName(entryID int64) string { return "rec_" + strconv.FormatInt(entryID, 10) }

// holdsRecords reports whether an entry's share method keeps records here
// (库表 or 接口); file resources are kept elsewhere.
func holdsRecords(c *catalog.Content) bool {
	return c.ShareMethod == catalog.MethodTable || c.ShareMethod == catalog.MethodAPI
}

type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// loadTable reads an entry's table description; nil when it has none yet.
func loadTable(ctx context.Context, q querier, entryID int64) (*table, error) {
	t := &table{EntryID: entryID, Cols: map[string]*column{}}
	var keys string
	err := q.QueryRowContext(ctx, `SELECT table_name, key_cols, next_col FROM ingest_tables WHERE entry_id = $1`, entryID).Scan(&t.Name, &keys, &t.NextCol)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, db.Check(err)
	}
	if keys != "" {
		t.Keys = strings.Split(keys, ",")
	}
	rows, err := q.QueryContext(ctx, `SELECT item, col, data_type, length FROM ingest_columns WHERE entry_id = $1`, entryID)
	if err != nil {
		return nil, db.Check(err)
	}
	defer rows.Close()
	for rows.Next() {
		c := &column{}
		if err := rows.Scan(&c.Item, &c.Col, &c.DataType, &c.Length); err != nil {
			return nil, err
		}
		t.Cols[c.Item] = c
	}
	return t, db.Check(rows.Err())
}

// keyItems lists the names of an entry's key items.
func keyItems(items []catalog.Item) []string {
	var out []string
	for _, it := range items {
		if it.Key {
			out = append(out, it.Name)
		}
	}
	return out
}

// planError says why a version's items cannot be applied to the table.
func planError(zh, en string) error {
	return errs.Invalid("ingest.migrate", "数据表无法迁移到新版本："+zh, "the records table cannot migrate to the new version: "+en)
}

// checkMigration reports whether items can be applied to t (nil: a new
// table) without losing a row: items may be added and lengths widened;
// narrowing or changing a type, and changing the key of a table that holds
// records, are refused.
func checkMigration(t *table, items []catalog.Item, hasRows bool) error {
	if t == nil {
		return nil
	}
	for _, it := range items {
		c := t.Cols[it.Name]
		if c == nil {
			continue
		}
		if !widens(c.DataType, c.Length, it.DataType, it.Length) {
			return planError(fmt.Sprintf("信息项“%s”由 %s(%d) 改为 %s(%d) 会丢失已有数据，只能增加信息项或加大长度", it.Name, c.DataType, c.Length, it.DataType, it.Length),
				fmt.Sprintf("item %q changes from %s(%d) to %s(%d), which could lose stored values; only added items and wider lengths can migrate", it.Name, c.DataType, c.Length, it.DataType, it.Length))
		}
	}
	if hasRows && !sameKeys(t, items) {
		return planError("已有记录时不能更改主键信息项", "the key items cannot change while the table holds records")
	}
	return nil
}

func sameKeys(t *table, items []catalog.Item) bool {
	names := keyItems(items)
	if len(names) != len(t.Keys) {
		return false
	}
	for i, n := range names {
		c := t.Cols[n]
		if c == nil || c.Col != t.Keys[i] {
			return false
		}
	}
	return true
}

func hasRows(tx *db.Tx, t *table) (bool, error) {
	if t == nil {
		return false, nil
	}
	var n int
	err := tx.QueryRowContext(tx.Ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM `+t.Name+` LIMIT 1) x`).Scan(&n)
	return n > 0, err
}

// ensure creates or migrates the table of entryID to items in tx and
// returns it. It is idempotent: applying the same items again changes
// nothing.
func ensure(tx *db.Tx, entryID int64, items []catalog.Item) (*table, error) {
	if tx.Dialect == db.Postgres {
		// Serialise schema changes of one entry across nodes.
		if _, err := tx.ExecContext(tx.Ctx, `SELECT pg_advisory_xact_lock(7007, $1)`, int32(entryID)); err != nil {
			return nil, err
		}
	}
	t, err := loadTable(tx.Ctx, tx, entryID)
	if err != nil {
		return nil, err
	}
	rows, err := hasRows(tx, t)
	if err != nil {
		return nil, err
	}
	if err := checkMigration(t, items, rows); err != nil {
		return nil, err
	}
	if t != nil && !rows && !sameKeys(t, items) {
		// An empty table may change its key: rebuild it.
		if err := tx.Run(`DROP TABLE ` + t.Name); err != nil {
			return nil, err
		}
		if err := tx.Run(`DELETE FROM ingest_columns WHERE entry_id = $1`, entryID); err != nil {
			return nil, err
		}
		if err := tx.Run(`DELETE FROM ingest_tables WHERE entry_id = $1`, entryID); err != nil {
			return nil, err
		}
		t = nil
	}
	if t == nil {
		return create(tx, entryID, items)
	}
	changed := false
	for _, it := range items {
		c := t.Cols[it.Name]
		if c == nil {
			c = &column{Item: it.Name, Col: "c" + strconv.Itoa(t.NextCol), DataType: it.DataType, Length: it.Length}
			t.NextCol++
			if err := tx.Run(`ALTER TABLE ` + t.Name + ` ADD COLUMN ` + c.Col + ` ` + sqlType(tx.Dialect, c.DataType, c.Length)); err != nil {
				return nil, err
			}
			if err := tx.Run(`INSERT INTO ingest_columns (entry_id, item, col, data_type, length) VALUES ($1, $2, $3, $4, $5)`,
				entryID, c.Item, c.Col, c.DataType, c.Length); err != nil {
				return nil, err
			}
			t.Cols[it.Name] = c
			changed = true
			continue
		}
		if c.DataType == it.DataType && c.Length == it.Length {
			continue
		}
		if tx.Dialect == db.Postgres {
			typ := sqlType(tx.Dialect, it.DataType, it.Length)
			if err := tx.Run(`ALTER TABLE ` + t.Name + ` ALTER COLUMN ` + c.Col + ` TYPE ` + typ + ` USING ` + c.Col + `::` + typ); err != nil {
				return nil, err
			}
		} // SQLite columns take any value; the declared type is bookkeeping.
		if err := tx.Run(`UPDATE ingest_columns SET data_type = $1, length = $2 WHERE entry_id = $3 AND item = $4`, it.DataType, it.Length, entryID, it.Name); err != nil {
			return nil, err
		}
		c.DataType, c.Length = it.DataType, it.Length
		changed = true
	}
	if changed {
		if err := tx.Run(`UPDATE ingest_tables SET next_col = $1, updated_at = $2 WHERE entry_id = $3`, t.NextCol, tx.Now, entryID); err != nil {
			return nil, err
		}
	}
	return t, nil
}

// systemColumns are the columns every record table has.
func systemColumns(d db.Dialect) string {
	id := "_id INTEGER PRIMARY KEY"
	if d == db.Postgres {
		id = "_id BIGSERIAL PRIMARY KEY"
	}
	return id + `, _batch BIGINT NOT NULL, _received TEXT NOT NULL, _version INTEGER NOT NULL DEFAULT 1,
		_disputed BOOLEAN NOT NULL DEFAULT FALSE, _deleted BOOLEAN NOT NULL DEFAULT FALSE`
}

func create(tx *db.Tx, entryID int64, items []catalog.Item) (*table, error) {
	t := &table{EntryID: entryID, Name: tableName(entryID), NextCol: 1, Cols: map[string]*column{}}
	var defs []string
	for _, it := range items {
		c := &column{Item: it.Name, Col: "c" + strconv.Itoa(t.NextCol), DataType: it.DataType, Length: it.Length}
		t.NextCol++
		t.Cols[it.Name] = c
		defs = append(defs, c.Col+" "+sqlType(tx.Dialect, c.DataType, c.Length))
		if it.Key {
			t.Keys = append(t.Keys, c.Col)
		}
		if err := tx.Run(`INSERT INTO ingest_columns (entry_id, item, col, data_type, length) VALUES ($1, $2, $3, $4, $5)`,
			entryID, c.Item, c.Col, c.DataType, c.Length); err != nil {
			return nil, err
		}
	}
	if err := tx.Run(`CREATE TABLE ` + t.Name + ` (` + systemColumns(tx.Dialect) + `, ` + strings.Join(defs, ", ") + `)`); err != nil {
		return nil, err
	}
	if len(t.Keys) > 0 {
		if err := tx.Run(`CREATE UNIQUE INDEX ` + t.Name + `_key ON ` + t.Name + ` (` + strings.Join(t.Keys, ", ") + `)`); err != nil {
			return nil, err
		}
	}
	if err := tx.Run(`CREATE INDEX ` + t.Name + `_batch ON ` + t.Name + ` (_batch)`); err != nil {
		return nil, err
	}
	err := tx.Run(`INSERT INTO ingest_tables (entry_id, table_name, key_cols, next_col, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5)`,
		entryID, t.Name, strings.Join(t.Keys, ","), t.NextCol, tx.Now)
	return t, err
}
