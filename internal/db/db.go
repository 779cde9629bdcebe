// Package db opens the platform's databases on SQLite or PostgreSQL and runs
// each domain package's embedded migrations. It knows nothing of the domain.
//
// One installation has several logical stores kept apart so that heavy writes
// in one never block another: "control" (catalog, users, workflow), "audit"
// (the tamper-evident log) and later "data" (aggregated records). On SQLite
// each is its own file in the data directory; on PostgreSQL each is its own
// schema in one database.
package db

import (
	"context"
	"crypto/rand"
	"database/sql"
	"database/sql/driver"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers "pgx"
	"modernc.org/sqlite"               // registers "sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"xiangyun/internal/errs"
)

// Dialect names the SQL flavour behind a DB.
type Dialect string

const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// DB is one logical store. Reads go to R; writes go through Tx, which on
// SQLite runs on a single writer connection with BEGIN IMMEDIATE so that
// writers queue instead of failing with SQLITE_BUSY.
type DB struct {
	Dialect Dialect
	Name    string  // logical store name: control, audit, data
	R       *sql.DB // readers
	w       *sql.DB // the writer (same pool as R on PostgreSQL)

	// Clock is the store's source of "now" (time.Now when nil); tests set
	// it to move time without sleeping.
	Clock func() time.Time
}

// Deadlines of one database call when the caller's context has none
// sooner: a store that cannot answer fails the request within seconds (503)
// instead of holding it for minutes.
var (
	ReadTimeout = 10 * time.Second
	// WriteTimeout is generous: one transaction may load a whole import;
	// HTTP requests carry their own, shorter deadline.
	WriteTimeout = 2 * time.Minute
	// ConnectTimeout bounds opening a connection to PostgreSQL.
	ConnectTimeout = 5 * time.Second
)

// Now returns the store clock's current time at the stored precision.
func (db *DB) Now() Time {
	if db.Clock == nil {
		return Now()
	}
	return Time{db.Clock().UTC().Truncate(time.Microsecond)}
}

// deadline bounds ctx by d unless it already ends sooner.
func (db *DB) deadline(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) <= d {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, d)
}

// Ctx bounds ctx by the read deadline, for a package's own read queries.
func (db *DB) Ctx(ctx context.Context) (context.Context, context.CancelFunc) {
	return db.deadline(ctx, ReadTimeout)
}

// storageErr marks err as the storage being unavailable when it is a
// connection failure or a missed deadline, so that callers answer 503 and
// never blame the user; other errors pass unchanged.
func storageErr(err error) error {
	if IsUnavailable(err) {
		return errs.Unavailable(err)
	}
	return err
}

// IsUnavailable reports whether err means the database could not be
// reached or did not answer in time.
func IsUnavailable(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, errs.ErrUnavailable) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, driver.ErrBadConn) ||
		errors.Is(err, sql.ErrConnDone) || errors.Is(err, errPoolClosed) {
		return true
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return true
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		// Class 08: connection exception; 57P01-03: shutdown, cannot connect now.
		return strings.HasPrefix(pe.Code, "08") || pe.Code == "57P01" || pe.Code == "57P02" || pe.Code == "57P03"
	}
	var ce *pgconn.ConnectError
	return errors.As(err, &ce)
}

// errPoolClosed is database/sql's error for a call on a closed pool (a
// store shut down under a request). The package does not export it, so it
// is taken from a pool closed on purpose: compared by identity, not text.
var errPoolClosed = func() error {
	p := sql.OpenDB(noConnector{})
	p.Close()
	return p.PingContext(context.Background())
}()

type noConnector struct{}

func (noConnector) Connect(context.Context) (driver.Conn, error) { return nil, driver.ErrBadConn }
func (noConnector) Driver() driver.Driver                        { return nil }

// Check turns a storage failure into errs.ErrUnavailable (503) and leaves
// other errors as they are: domain packages pass every error from the
// database through it before deciding what it means.
func Check(err error) error { return storageErr(err) }

// Open opens the logical store name from dsn. dsn is "sqlite:DIR" (a
// directory; the store is DIR/name.db), "sqlite::memory:" is not supported
// (use a temporary directory), or a postgres:// URL (the store is the schema
// xy_name, created if missing).
func Open(ctx context.Context, dsn, name string) (*DB, error) {
	switch {
	case strings.HasPrefix(dsn, "sqlite:"):
		return openSQLite(ctx, strings.TrimPrefix(dsn, "sqlite:"), name)
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		return openPostgres(ctx, dsn, name)
	}
	return nil, fmt.Errorf("db: unsupported DSN %q: use sqlite:DIR or postgres://…", Redact(dsn))
}

func openSQLite(ctx context.Context, dir, name string) (*DB, error) {
	if dir == "" {
		return nil, errors.New("db: sqlite: empty directory")
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("db: %w", err)
	}
	path := filepath.Join(dir, name+".db")
	// busy_timeout first, so that the following pragmas wait instead of failing.
	// synchronous=FULL: a commit the user was told about survives a power
	// loss (as on PostgreSQL), and the audit log is never behind the
	// checkpoints already anchored outside it. It costs one fsync per commit.
	q := url.Values{}
	for _, p := range []string{"busy_timeout(10000)", "journal_mode(WAL)", "foreign_keys(1)", "synchronous(FULL)"} {
		q.Add("_pragma", p)
	}
	base := "file:" + path + "?" + q.Encode()
	w, err := sql.Open("sqlite", base+"&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("db: %w", err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	if err := w.PingContext(ctx); err != nil {
		w.Close()
		if isLocked(err) {
			return nil, fmt.Errorf("db: %s is in use by another xiangyun process (a second serve or demo on the same data directory?): stop it first", path)
		}
		return nil, fmt.Errorf("db: open %s: %w", path, err)
	}
	r, err := sql.Open("sqlite", base+"&mode=ro")
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("db: %w", err)
	}
	r.SetMaxOpenConns(8)
	r.SetMaxIdleConns(8)
	d := &DB{Dialect: SQLite, Name: name, R: r, w: w}
	if err := d.migrateOutbox(ctx); err != nil {
		d.Close()
		return nil, err
	}
	return d, nil
}

func openPostgres(ctx context.Context, dsn, name string) (*DB, error) {
	schema := "xy_" + name
	u, err := url.Parse(dsn)
	if err != nil {
		return nil, fmt.Errorf("db: bad PostgreSQL URL: %w", errors.Unwrap(err))
	}
	q := u.Query()
	if q.Get("connect_timeout") == "" {
		// Without it an unreachable server holds every request for minutes.
		q.Set("connect_timeout", strconv.Itoa(int(ConnectTimeout/time.Second)))
		u.RawQuery = q.Encode()
	}
	boot, err := sql.Open("pgx", u.String())
	if err != nil {
		return nil, fmt.Errorf("db: %w", err)
	}
	defer boot.Close()
	if _, err := boot.ExecContext(ctx, "CREATE SCHEMA IF NOT EXISTS "+schema); err != nil {
		return nil, fmt.Errorf("db: create schema %s: %w", schema, err)
	}
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	p, err := sql.Open("pgx", u.String())
	if err != nil {
		return nil, fmt.Errorf("db: %w", err)
	}
	p.SetMaxOpenConns(20)
	p.SetMaxIdleConns(10)
	if err := p.PingContext(ctx); err != nil {
		p.Close()
		return nil, fmt.Errorf("db: connect: %w", err)
	}
	d := &DB{Dialect: Postgres, Name: name, R: p, w: p}
	if err := d.migrateOutbox(ctx); err != nil {
		d.Close()
		return nil, err
	}
	return d, nil
}

// Close closes the store's pools.
func (db *DB) Close() error {
	err := db.R.Close()
	if db.w != db.R {
		err = errors.Join(err, db.w.Close())
	}
	return err
}

// Writer returns the pool that takes writes (one connection on SQLite).
func (db *DB) Writer() *sql.DB { return db.w }

// Redact hides the password in a DSN so that it can be logged.
func Redact(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil || u.User == nil {
		return dsn
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}

// IsUniqueViolation reports whether err is a unique-constraint failure on
// either backend.
func IsUniqueViolation(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == "23505" // unique_violation
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || se.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	return false
}

// isLocked reports an SQLite file locked by another process.
func isLocked(err error) bool {
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code()&0xff == sqlite3.SQLITE_BUSY || se.Code()&0xff == sqlite3.SQLITE_LOCKED
	}
	return false
}

// Like escapes s for use in a LIKE pattern with ESCAPE '\'.
func Like(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return "%" + r.Replace(s) + "%"
}

// ILike returns the condition "col matches the LIKE pattern p" (p is a
// placeholder or a quoted literal; patterns from Like use ESCAPE '\') with
// one rule on both dialects: ASCII letters match regardless of case, every
// other character exactly ("JSZH" finds "jszh", "人口" finds "人口").
// SQLite's LIKE folds ASCII case and nothing else; PostgreSQL's LIKE folds
// nothing, and its ILIKE and lower() also fold letters such as "Ｊ" or "É",
// which SQLite cannot, so there both sides are folded with translate().
func (d Dialect) ILike(col, p string) string {
	if d == Postgres {
		return "translate(" + col + ", '" + upperASCII + "', '" + lowerASCII + "') LIKE translate(" + p + ", '" + upperASCII + "', '" + lowerASCII + `') ESCAPE '\'`
	}
	return col + " LIKE " + p + ` ESCAPE '\'`
}

const (
	upperASCII = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	lowerASCII = "abcdefghijklmnopqrstuvwxyz"
)

// Args accumulates query arguments and hands out their placeholders, for
// queries whose WHERE clause is built from optional filters.
type Args []any

// Add appends v and returns its placeholder ($n).
func (a *Args) Add(v any) string {
	*a = append(*a, v)
	return "$" + strconv.Itoa(len(*a))
}

// InList appends "($1, $2, …)" for vals to q and returns the query with
// vals as its arguments: an IN list whose length is known only at run time.
func InList[T any](q string, vals []T) (string, []any) {
	args := make([]any, len(vals))
	for i, v := range vals {
		args[i] = v
	}
	return q + Placeholders(1, len(vals)), args
}

// Placeholders returns "($from, …)" with n placeholders.
func Placeholders(from, n int) string {
	var b strings.Builder
	b.WriteByte('(')
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("$" + strconv.Itoa(from+i))
	}
	b.WriteByte(')')
	return b.String()
}

// CreatePostgresDatabase creates a database with a random name starting with
// prefix on the PostgreSQL server of serverURL, for tests and benchmarks that
// need a fresh one. It returns the new database's URL and drop, which removes
// the database (closing any connections left to it).
func CreatePostgresDatabase(ctx context.Context, serverURL, prefix string) (dsn string, drop func() error, err error) {
	u, err := url.Parse(serverURL)
	if err != nil {
		return "", nil, fmt.Errorf("bad PostgreSQL URL: %w", errors.Unwrap(err))
	}
	admin, err := sql.Open("pgx", serverURL)
	if err != nil {
		return "", nil, err
	}
	rnd := make([]byte, 6)
	_, _ = rand.Read(rnd)
	name := prefix + hex.EncodeToString(rnd)
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		admin.Close()
		return "", nil, fmt.Errorf("create database: %w", err)
	}
	drop = func() error {
		defer admin.Close()
		_, err := admin.ExecContext(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
		return err
	}
	u.Path = "/" + name
	return u.String(), drop, nil
}

// Int64s reads the one integer column of every row of a query (ids, row
// numbers) and closes the rows: db.Int64s(q.QueryContext(ctx, …)).
func Int64s(rows *sql.Rows, err error) ([]int64, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var v int64
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}
