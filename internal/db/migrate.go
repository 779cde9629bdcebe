package db

import (
	"context"
	"fmt"
	"io/fs"

	"github.com/pressly/goose/v3"
)

// Migrate applies the migrations of one domain package. fsys holds one folder
// per dialect ("sqlite/", "postgres/", optionally under "migrations/") of
// goose SQL files. Each package keeps
// its own version table (goose_<pkg>), so packages own their schema
// independently; callers migrate packages in import order, lowest first.
func (db *DB) Migrate(ctx context.Context, pkg string, fsys fs.FS) error {
	dir := string(db.Dialect)
	if _, err := fs.Stat(fsys, "migrations/"+dir); err == nil {
		dir = "migrations/" + dir
	}
	sub, err := fs.Sub(fsys, dir)
	if err != nil {
		return fmt.Errorf("db: migrations for %s: %w", pkg, err)
	}
	dialect := goose.DialectSQLite3
	if db.Dialect == Postgres {
		dialect = goose.DialectPostgres
	}
	p, err := goose.NewProvider(dialect, db.w, sub,
		goose.WithTableName("goose_"+pkg),
		goose.WithDisableGlobalRegistry(true))
	if err != nil {
		return fmt.Errorf("db: migrations for %s: %w", pkg, err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("db: migrate %s: %w", pkg, err)
	}
	return nil
}
