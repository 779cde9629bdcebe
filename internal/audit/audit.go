// Package audit is the platform's tamper-evident audit log (审计日志).
//
// Every login, failed login, write, permission change and data access is
// appended as an Entry: who, what, when, from where and the outcome, never
// passwords or tokens. The entries are the leaves of an RFC 6962 Merkle tree
// (golang.org/x/mod/sumdb/tlog) whose head is signed as a note
// (golang.org/x/mod/sumdb/note, Ed25519) after every append; a signed
// checkpoint is kept every CheckpointEvery records. Verify recomputes the tree
// from the records and reports the first record that was changed, removed,
// inserted or reordered.
//
// The log lives in the "audit" store (see package db) in four tables:
// audit_records, audit_hashes (the tree's stored hashes, indexed by
// tlog.StoredHashIndex), audit_head (the current signed tree head) and
// audit_checkpoints.
package audit

import (
	"context"
	"database/sql"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"xiangyun/internal/db"
)

// Outcomes of an audited action.
const (
	OutcomeSuccess = "success"
	OutcomeFailure = "failure"
	OutcomeDenied  = "denied"
)

// CheckpointEvery is how many records lie between automatic checkpoints.
const CheckpointEvery = 1000

// Entry is one audit record.
type Entry struct {
	Seq       int64             // position in the log, assigned by Append (0-based tlog index)
	Time      time.Time         // set by Append if zero; stored with microsecond precision
	ActorID   int64             // 0 for anonymous / system
	Actor     string            // username, or "system", or "anonymous"
	Action    string            // dotted verb, e.g. "session.login", "auth.role.grant"
	Object    string            // "type:id", e.g. "body:12", "user:5"
	Outcome   string            // OutcomeSuccess, OutcomeFailure or OutcomeDenied
	IP        string            // client address
	RequestID string            // correlates with the request log
	Detail    map[string]string // small, never secrets; Append drops keys that look secret
}

// Log is the audit log in one store. It is safe for concurrent use.
type Log struct {
	db     *db.DB
	key    Key
	src    sources
	anchor anchorState
	logf   func(error)
}

//go:embed migrations/sqlite migrations/postgres
var migrationFiles embed.FS

// ErrReadOnly is returned by writes on a Log opened without a Signer.
var ErrReadOnly = errors.New("audit: log opened without a signing key")

// Open runs the audit migrations on store and returns the log. key must have
// a Verifier; without a Signer the log is read-only (List, Each, Verify).
func Open(ctx context.Context, store *db.DB, key Key) (*Log, error) {
	if key.Verifier == nil {
		return nil, errors.New("audit: key has no verifier")
	}
	if err := migrate(ctx, store); err != nil {
		return nil, err
	}
	l := &Log{db: store, key: key}
	var n int
	if err := store.R.QueryRowContext(ctx, "SELECT COUNT(*) FROM audit_head").Scan(&n); err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	if n == 0 {
		// Start with a signed head of the empty tree, so that Append always
		// has a row to lock. A read-only log without a head is left as it
		// is: verifying it reports the missing head.
		if key.Signer == nil {
			return l, nil
		}
		root, _ := tlog.TreeHash(0, nil)
		signed, err := l.sign(0, root)
		if err != nil {
			return nil, err
		}
		err = store.Tx(ctx, func(tx *db.Tx) error {
			_, err := tx.ExecContext(ctx, `INSERT INTO audit_head (id, size, root, note, updated)
				VALUES (1, 0, $1, $2, $3) ON CONFLICT (id) DO NOTHING`,
				hexHash(root), signed, db.Now())
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("audit: init head: %w", err)
		}
	} else if key.Signer != nil {
		if err := l.resignLegacyHead(ctx); err != nil {
			return nil, err
		}
	}
	return l, nil
}

// resignLegacyHead re-signs a head signed in the tlog tree format as a
// checkpoint of the same tree, if its signature is valid: checkpoints are
// what the anchor file and witnesses keep.
func (l *Log) resignLegacyHead(ctx context.Context) error {
	h, err := l.readHead(ctx)
	if err != nil {
		return err
	}
	cp, err := l.OpenCheckpoint([]byte(h.note))
	if err != nil || cp.Origin != legacyTreeOrigin {
		return nil // Verify reports a bad signature
	}
	signed, err := l.sign(cp.Size, cp.Root)
	if err != nil {
		return err
	}
	return l.db.Tx(db.WithCommitHook(ctx, nil), func(tx *db.Tx) error {
		_, err := tx.Exec("UPDATE audit_head SET note = $1 WHERE id = 1 AND note = $2", signed, h.note)
		return err
	})
}

func migrate(ctx context.Context, store *db.DB) error {
	migrations, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		return err
	}
	return store.Migrate(ctx, "audit", migrations)
}

// Append adds e to the log and returns it as stored: with its Seq, its Time
// (now if it was zero), secrets removed from Detail and text made valid
// UTF-8. Action is required; an empty Outcome means success and an empty
// Actor of ActorID 0 means "anonymous".
func (l *Log) Append(ctx context.Context, e Entry) (Entry, error) {
	out, err := l.appendAll(ctx, []Entry{e}, nil)
	if err != nil {
		return Entry{}, err
	}
	return out[0], nil
}

// appendAll appends entries in one transaction, in order. origins, when not
// nil, gives each entry's outbox origin (or ""); an entry whose origin is
// already in the log is skipped. It returns the entries appended.
func (l *Log) appendAll(ctx context.Context, entries []Entry, origins []string) ([]Entry, error) {
	if l.key.Signer == nil {
		return nil, ErrReadOnly
	}
	out := make([]Entry, len(entries))
	details := make([]string, len(entries))
	for i, e := range entries {
		var err error
		if out[i], err = normalize(e); err != nil {
			return nil, err
		}
		if details[i], err = encodeDetail(out[i].Detail); err != nil {
			return nil, fmt.Errorf("audit: detail: %w", err)
		}
	}
	var (
		appended    []Entry
		checkpoints [][]byte // periodic checkpoints signed: anchor them
	)
	ctx = db.WithCommitHook(ctx, nil) // the log's own writes are not audited changes
	err := l.db.Tx(ctx, func(tx *db.Tx) error {
		q := "SELECT size FROM audit_head WHERE id = 1"
		if l.db.Dialect == db.Postgres {
			q += " FOR UPDATE" // serialise appenders across processes
		}
		var size int64
		if err := tx.QueryRowContext(ctx, q).Scan(&size); err != nil {
			return err
		}
		// Without origins to check against rows written in this
		// transaction, records and hashes are written at the end in a few
		// multi-row statements (group commit: one round trip per hundreds
		// of records instead of two per record).
		deferred := origins == nil
		hr := &txHashReader{ctx: ctx, tx: tx.Tx, cache: make(map[int64]tlog.Hash), deferred: deferred}
		var rows []any
		appended, checkpoints = appended[:0], checkpoints[:0]
		for i := range out {
			var origin *string
			if origins != nil && origins[i] != "" {
				var seen int
				if err := tx.QueryRow("SELECT COUNT(*) FROM audit_records WHERE origin = $1", origins[i]).Scan(&seen); err != nil {
					return err
				}
				if seen > 0 {
					continue
				}
				origin = &origins[i]
			}
			e := &out[i]
			e.Seq = size
			h := leafHash(e)
			hashes, err := tlog.StoredHashesForRecordHash(size, h, hr)
			if err != nil {
				return err
			}
			row := []any{e.Seq, db.Time{Time: e.Time}, e.ActorID, e.Actor, e.Action, e.Object,
				e.Outcome, e.IP, e.RequestID, details[i], hexHash(h), origin}
			if deferred {
				rows = append(rows, row...)
			} else if err := insertRecords(ctx, tx.Tx, row); err != nil {
				return err
			}
			appended = append(appended, *e)
			if err := hr.store(tlog.StoredHashIndex(0, size), hashes); err != nil {
				return err
			}
			size++
			if size%CheckpointEvery == 0 {
				root, err := tlog.TreeHash(size, hr)
				if err != nil {
					return err
				}
				signed, err := l.saveCheckpoint(ctx, tx.Tx, size, root)
				if err != nil {
					return err
				}
				checkpoints = append(checkpoints, []byte(signed))
			}
		}
		if err := insertRecords(ctx, tx.Tx, rows); err != nil {
			return err
		}
		if err := hr.flush(); err != nil {
			return err
		}
		root, err := tlog.TreeHash(size, hr)
		if err != nil {
			return err
		}
		signed, err := l.sign(size, root)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, "UPDATE audit_head SET size = $1, root = $2, note = $3, updated = $4 WHERE id = 1",
			size, hexHash(root), signed, db.Now())
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("audit: append: %w", err)
	}
	// After the commit: an anchored checkpoint must never be rolled back.
	for _, cp := range checkpoints {
		if err := l.anchorNote(context.WithoutCancel(ctx), cp); err != nil {
			l.witnessErr(err)
		}
	}
	return appended, nil
}

// normalize validates e and brings it to the form that is stored and hashed.
func normalize(e Entry) (Entry, error) {
	e.Seq = 0
	e.Actor, e.Action, e.Object = clean(e.Actor), clean(e.Action), clean(e.Object)
	e.Outcome, e.IP, e.RequestID = clean(e.Outcome), clean(e.IP), clean(e.RequestID)
	if e.Action == "" {
		return Entry{}, errors.New("audit: entry without action")
	}
	switch e.Outcome {
	case "":
		e.Outcome = OutcomeSuccess
	case OutcomeSuccess, OutcomeFailure, OutcomeDenied:
	default:
		return Entry{}, fmt.Errorf("audit: unknown outcome %q", e.Outcome)
	}
	if e.Actor == "" {
		if e.ActorID != 0 {
			return Entry{}, fmt.Errorf("audit: actor %d without a name", e.ActorID)
		}
		e.Actor = "anonymous"
	}
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	e.Time = e.Time.UTC().Truncate(time.Microsecond)
	var d map[string]string
	for k, v := range e.Detail {
		if isSecretKey(k) {
			continue
		}
		if d == nil {
			d = make(map[string]string, len(e.Detail))
		}
		d[clean(k)] = clean(v)
	}
	e.Detail = d
	return e, nil
}

// sign returns the signed note of the tree of size n with root hash root.
func (l *Log) sign(n int64, root tlog.Hash) (string, error) {
	msg, err := note.Sign(&note.Note{Text: checkpointText(l.key.Signer.Name(), n, root)}, l.key.Signer)
	if err != nil {
		return "", fmt.Errorf("audit: sign tree head: %w", err)
	}
	return string(msg), nil
}

func (l *Log) saveCheckpoint(ctx context.Context, tx *sql.Tx, size int64, root tlog.Hash) (string, error) {
	signed, err := l.sign(size, root)
	if err != nil {
		return "", err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO audit_checkpoints (size, root, note, created)
		VALUES ($1, $2, $3, $4) ON CONFLICT (size) DO NOTHING`, size, hexHash(root), signed, db.Now())
	return signed, err
}

// Checkpoint saves the current tree head as a checkpoint, so that later
// verification can bound a rewrite to the records after it.
func (l *Log) Checkpoint(ctx context.Context) error {
	err := l.db.Tx(ctx, func(tx *db.Tx) error {
		var (
			size       int64
			root, text string
		)
		if err := tx.QueryRowContext(ctx, "SELECT size, root, note FROM audit_head WHERE id = 1").Scan(&size, &root, &text); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO audit_checkpoints (size, root, note, created)
			VALUES ($1, $2, $3, $4) ON CONFLICT (size) DO NOTHING`, size, root, text, db.Now())
		return err
	})
	if err != nil {
		return fmt.Errorf("audit: checkpoint: %w", err)
	}
	return nil
}

// Head returns the current signed tree head: the number of records, the
// tree's root hash and the signed note (a checkpoint) committing to both.
func (l *Log) Head(ctx context.Context) (size int64, root tlog.Hash, signedNote []byte, err error) {
	h, err := l.readHead(ctx)
	if err != nil {
		return 0, tlog.Hash{}, nil, err
	}
	root, err = parseHexHash(h.root)
	if err != nil {
		return 0, tlog.Hash{}, nil, fmt.Errorf("audit: head root: %w", err)
	}
	return h.size, root, []byte(h.note), nil
}

// errNoHead: the audit_head row is gone (the tables were wiped after Open).
var errNoHead = errors.New("audit: the log has no tree head")

type headRow struct {
	size int64
	root string
	note string
}

func (l *Log) readHead(ctx context.Context) (headRow, error) {
	var h headRow
	err := l.db.R.QueryRowContext(ctx, "SELECT size, root, note FROM audit_head WHERE id = 1").Scan(&h.size, &h.root, &h.note)
	if errors.Is(err, sql.ErrNoRows) {
		return headRow{}, errNoHead
	}
	if err != nil {
		return headRow{}, fmt.Errorf("audit: read head: %w", err)
	}
	return h, nil
}

// recordCols is the number of columns insertRecords writes per record.
const recordCols = 12

// insertRecords writes audit records given as consecutive groups of
// recordCols values, up to 400 records per statement.
func insertRecords(ctx context.Context, tx *sql.Tx, vals []any) error {
	const per = 400
	for len(vals) > 0 {
		n := min(len(vals)/recordCols, per)
		var b strings.Builder
		b.WriteString(`INSERT INTO audit_records
			(seq, time, actor_id, actor, action, object, outcome, ip, request_id, detail, leaf_hash, origin) VALUES `)
		for i := range n {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(db.Placeholders(i*recordCols+1, recordCols))
		}
		if _, err := tx.ExecContext(ctx, b.String(), vals[:n*recordCols]...); err != nil {
			return err
		}
		vals = vals[n*recordCols:]
	}
	return nil
}

// txHashReader reads stored hashes inside the append transaction, with the
// hashes written by this transaction cached in memory. When deferred, the
// hashes stored are only cached until flush writes them all.
type txHashReader struct {
	ctx      context.Context
	tx       *sql.Tx
	cache    map[int64]tlog.Hash
	deferred bool
	pending  []int64 // indexes stored but not yet written, ascending
}

func (r *txHashReader) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	var missing []any
	var ph []string
	for i, idx := range indexes {
		if h, ok := r.cache[idx]; ok {
			out[i] = h
			continue
		}
		missing = append(missing, idx)
		ph = append(ph, "$"+strconv.Itoa(len(missing)))
	}
	if len(missing) == 0 {
		return out, nil
	}
	rows, err := r.tx.QueryContext(r.ctx, "SELECT id, hash FROM audit_hashes WHERE id IN ("+strings.Join(ph, ", ")+")", missing...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	found := make(map[int64]tlog.Hash, len(missing))
	for rows.Next() {
		var (
			id int64
			b  []byte
		)
		if err := rows.Scan(&id, &b); err != nil {
			return nil, err
		}
		if len(b) != tlog.HashSize {
			return nil, fmt.Errorf("stored hash %d has %d bytes", id, len(b))
		}
		found[id] = tlog.Hash(b)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for i, idx := range indexes {
		if _, ok := r.cache[idx]; ok {
			continue
		}
		h, ok := found[idx]
		if !ok {
			return nil, fmt.Errorf("stored hash %d is missing", idx)
		}
		out[i] = h
	}
	return out, nil
}

// store writes hashes at consecutive indexes from first and caches them.
func (r *txHashReader) store(first int64, hashes []tlog.Hash) error {
	if r.deferred {
		for i, h := range hashes {
			r.cache[first+int64(i)] = h
			r.pending = append(r.pending, first+int64(i))
		}
		return nil
	}
	return r.write(first, hashes)
}

// flush writes the deferred hashes, up to 1000 per statement.
func (r *txHashReader) flush() error {
	for len(r.pending) > 0 {
		n := min(len(r.pending), 1000)
		var b strings.Builder
		args := make([]any, 0, 2*n)
		b.WriteString("INSERT INTO audit_hashes (id, hash) VALUES ")
		for i, id := range r.pending[:n] {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "($%d, $%d)", 2*i+1, 2*i+2)
			h := r.cache[id]
			args = append(args, id, h[:])
		}
		if _, err := r.tx.ExecContext(r.ctx, b.String(), args...); err != nil {
			return err
		}
		r.pending = r.pending[n:]
	}
	return nil
}

// write inserts hashes at consecutive indexes from first and caches them.
func (r *txHashReader) write(first int64, hashes []tlog.Hash) error {
	var b strings.Builder
	args := make([]any, 0, 2*len(hashes))
	b.WriteString("INSERT INTO audit_hashes (id, hash) VALUES ")
	for i, h := range hashes {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "($%d, $%d)", 2*i+1, 2*i+2)
		args = append(args, first+int64(i), h[:])
		r.cache[first+int64(i)] = h
	}
	_, err := r.tx.ExecContext(r.ctx, b.String(), args...)
	return err
}

func hexHash(h tlog.Hash) string { return hex.EncodeToString(h[:]) }

func parseHexHash(s string) (tlog.Hash, error) {
	var h tlog.Hash
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != tlog.HashSize {
		return h, fmt.Errorf("malformed hash %q", s)
	}
	return tlog.Hash(b), nil
}
