package server_test

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"slices"
	"strings"
	"testing"

	"xiangyun/internal/db"
	"xiangyun/internal/db/dbtest"
	"xiangyun/internal/server"
)

// column is what the dialects must agree on: name, broad type and whether
// NULL is allowed. Types are compared by family, since the dialects spell
// them differently (INTEGER/BIGINT, BLOB/BYTEA).
type column struct {
	Type    string
	NotNull bool
}

// TestSchemaParity migrates a fresh installation on SQLite and on PostgreSQL
// and proves that every store has the same tables with the same columns,
// types (by family) and nullability on both: a migration written for one
// dialect only, or differently, fails here.
func TestSchemaParity(t *testing.T) {
	dsns := dbtest.TestDSNs(t)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	ctx := context.Background()
	schemas := map[db.Dialect]map[string]map[string]map[string]column{}
	for _, dialect := range []db.Dialect{db.SQLite, db.Postgres} {
		t.Run(string(dialect), func(t *testing.T) {
			dsn := dsns[dialect](t)
			s, err := server.Open(ctx, server.Config{DB: dsn, DataDir: t.TempDir()}, quiet)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			stores := map[string]map[string]map[string]column{}
			for _, store := range s.Stores() {
				cols, err := describe(ctx, store)
				if err != nil {
					t.Fatal(err)
				}
				stores[store.Name] = cols
				t.Logf("%s: %d tables", store.Name, len(cols))
			}
			schemas[dialect] = stores
		})
	}
	lite, pg := schemas[db.SQLite], schemas[db.Postgres]
	if lite == nil || pg == nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("schema parity needs both databases under CI")
		}
		t.Skip("schema parity needs both databases")
	}
	for _, store := range union(lite, pg) {
		for _, table := range union(lite[store], pg[store]) {
			l, lok := lite[store][table]
			p, pok := pg[store][table]
			if !lok || !pok {
				t.Errorf("%s.%s exists on SQLite: %v, on PostgreSQL: %v", store, table, lok, pok)
				continue
			}
			for _, c := range union(l, p) {
				if l[c] != p[c] {
					t.Errorf("%s.%s.%s: SQLite %+v, PostgreSQL %+v", store, table, c, l[c], p[c])
				}
			}
		}
	}
}

func union[V any](a, b map[string]V) []string {
	keys := slices.Collect(maps.Keys(a))
	for k := range b {
		if _, ok := a[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys
}

// describe lists the store's tables (goose's version tables left out) and
// their columns.
func describe(ctx context.Context, store *db.DB) (map[string]map[string]column, error) {
	out := map[string]map[string]column{}
	var rows *sql.Rows
	var err error
	if store.Dialect == db.SQLite {
		rows, err = store.R.QueryContext(ctx, `SELECT m.name, p.name, p.type, p."notnull" OR p.pk > 0
			FROM sqlite_master m JOIN pragma_table_info(m.name) p
			WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'`)
	} else {
		rows, err = store.R.QueryContext(ctx, `SELECT table_name, column_name, data_type, is_nullable = 'NO'
			FROM information_schema.columns WHERE table_schema = current_schema()`)
	}
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var table, name, typ string
		var notNull bool
		if err := rows.Scan(&table, &name, &typ, &notNull); err != nil {
			return nil, err
		}
		if strings.HasPrefix(table, "goose_") {
			continue
		}
		if out[table] == nil {
			out[table] = map[string]column{}
		}
		out[table][name] = column{Type: family(typ), NotNull: notNull}
	}
	return out, rows.Err()
}

// family maps a declared type to a family both dialects share.
func family(t string) string {
	t = strings.ToLower(t)
	switch {
	case strings.Contains(t, "int"), t == "bigserial", t == "serial":
		return "integer"
	case strings.Contains(t, "char"), strings.Contains(t, "text"), strings.Contains(t, "clob"):
		return "text"
	case strings.Contains(t, "blob"), t == "bytea":
		return "bytes"
	case strings.Contains(t, "bool"):
		return "boolean"
	case strings.Contains(t, "real"), strings.Contains(t, "double"), strings.Contains(t, "float"), strings.Contains(t, "numeric"), strings.Contains(t, "decimal"):
		return "number"
	}
	return fmt.Sprintf("other(%s)", t)
}
