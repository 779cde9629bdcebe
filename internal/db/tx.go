package db

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"time"
)

// Tx is the one write transaction of every package: the SQL transaction, a
// fixed Now for every timestamp it writes, a cache of prepared statements
// (a batch of thousands of rows prepares each statement once), hooks run
// after commit, and the store's outbox for side effects that must survive a
// crash (see Emit).
type Tx struct {
	*sql.Tx
	Ctx     context.Context
	Dialect Dialect
	Store   string // the logical store's name: control, audit, data
	Now     Time   // the transaction's "now", from the store's clock

	stmts map[string]*sql.Stmt
	after []func()
}

// Tx runs fn in a write transaction and commits when fn returns nil; any
// error or panic rolls it back. Hooks registered with AfterCommit run after a
// successful commit, in order. A commit hook carried by ctx (WithCommitHook)
// runs inside the transaction just before commit.
func (db *DB) Tx(ctx context.Context, fn func(tx *Tx) error) (err error) {
	ctx, cancel := db.deadline(ctx, WriteTimeout)
	defer cancel()
	stx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return storageErr(err)
	}
	tx := &Tx{Tx: stx, Ctx: ctx, Dialect: db.Dialect, Store: db.Name, Now: db.Now()}
	defer func() {
		for _, st := range tx.stmts {
			st.Close()
		}
		if err != nil {
			_ = stx.Rollback()
		}
	}()
	if err = fn(tx); err != nil {
		return err
	}
	if hook, ok := ctx.Value(commitHookKey{}).(CommitHook); ok && hook != nil {
		if err = hook(tx); err != nil {
			return err
		}
	}
	if err = stx.Commit(); err != nil {
		return storageErr(err)
	}
	for _, fn := range tx.after {
		fn()
	}
	return nil
}

// AfterCommit registers fn to run once the transaction has committed. Work
// that must happen even if the process dies right after the commit belongs
// in the outbox (Emit) or in a durable change sequence, not here.
func (t *Tx) AfterCommit(fn func()) { t.after = append(t.after, fn) }

func (t *Tx) stmt(q string) (*sql.Stmt, error) {
	if st, ok := t.stmts[q]; ok {
		return st, nil
	}
	st, err := t.Tx.PrepareContext(t.Ctx, q)
	if err != nil {
		return nil, err
	}
	if t.stmts == nil {
		t.stmts = map[string]*sql.Stmt{}
	}
	t.stmts[q] = st
	return st, nil
}

// Exec runs q as a cached prepared statement in the transaction's context.
func (t *Tx) Exec(q string, args ...any) (sql.Result, error) {
	st, err := t.stmt(q)
	if err != nil {
		return nil, err
	}
	return st.ExecContext(t.Ctx, args...)
}

// Run executes a statement whose result is not needed.
func (t *Tx) Run(q string, args ...any) error {
	_, err := t.Exec(q, args...)
	return err
}

// Query runs q as a cached prepared statement in the transaction's context.
func (t *Tx) Query(q string, args ...any) (*sql.Rows, error) {
	st, err := t.stmt(q)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(t.Ctx, args...)
}

// QueryRow runs q as a cached prepared statement in the transaction's context.
func (t *Tx) QueryRow(q string, args ...any) *sql.Row {
	st, err := t.stmt(q)
	if err != nil {
		return t.Tx.QueryRowContext(t.Ctx, q, args...) // reports the same error on Scan
	}
	return st.QueryRowContext(t.Ctx, args...)
}

// ForUpdate is " FOR UPDATE" on PostgreSQL, to lock the rows a statement
// selects until commit; SQLite has one writer, so it needs none.
func (t *Tx) ForUpdate() string {
	if t.Dialect == Postgres {
		return " FOR UPDATE"
	}
	return ""
}

// Emit writes a message on topic to the store's outbox in this transaction,
// so that the message exists if and only if the change commits. It returns
// the message's id, unique within the store.
func (t *Tx) Emit(topic string, payload []byte) (int64, error) {
	var id int64
	err := t.QueryRow(`INSERT INTO xy_outbox (topic, payload, created) VALUES ($1, $2, $3) RETURNING id`,
		topic, string(payload), t.Now).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("db: outbox: %w", err)
	}
	return id, nil
}

// CommitHook runs inside a write transaction just before it commits.
type CommitHook func(tx *Tx) error

type commitHookKey struct{}

// WithCommitHook returns ctx carrying hook: every write transaction begun
// with the returned context (or one derived from it) runs hook just before
// commit. The HTTP layer uses it to write a request's audit record in the
// same transaction as the change the request makes. A nil hook removes the
// one ctx carries.
func WithCommitHook(ctx context.Context, hook CommitHook) context.Context {
	return context.WithValue(ctx, commitHookKey{}, hook)
}

// Message is one outbox message.
type Message struct {
	ID      int64
	Topic   string
	Payload []byte
	Created time.Time
}

// Outbox returns up to limit messages on topic, oldest first, written before
// before (zero: any time).
func (db *DB) Outbox(ctx context.Context, topic string, before time.Time, limit int) ([]Message, error) {
	ctx, cancel := db.deadline(ctx, ReadTimeout)
	defer cancel()
	if before.IsZero() {
		before = time.Now().Add(time.Hour)
	}
	rows, err := db.w.QueryContext(ctx, `SELECT id, topic, payload, created FROM xy_outbox
		WHERE topic = $1 AND created < $2 ORDER BY id LIMIT $3`, topic, Time{before}, limit)
	if err != nil {
		return nil, storageErr(err)
	}
	defer rows.Close()
	var out []Message
	for rows.Next() {
		var (
			m       Message
			payload string
			created Time
		)
		if err := rows.Scan(&m.ID, &m.Topic, &payload, &created); err != nil {
			return nil, err
		}
		m.Payload, m.Created = []byte(payload), created.Time
		out = append(out, m)
	}
	return out, storageErr(rows.Err())
}

// Ack removes delivered messages from the outbox.
func (db *DB) Ack(ctx context.Context, ids ...int64) error {
	if len(ids) == 0 {
		return nil
	}
	return db.Tx(ctx, func(tx *Tx) error {
		q, args := InList("DELETE FROM xy_outbox WHERE id IN ", ids)
		_, err := tx.ExecContext(tx.Ctx, q, args...)
		return err
	})
}

//go:embed migrations
var outboxMigrations embed.FS

func (db *DB) migrateOutbox(ctx context.Context) error {
	sub, err := fs.Sub(outboxMigrations, "migrations")
	if err != nil {
		return err
	}
	return db.Migrate(ctx, "outbox", sub)
}
