package ingest

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"xiangyun/internal/auth"
	"xiangyun/internal/catalog"
	"xiangyun/internal/db"
	"xiangyun/internal/errs"
	"xiangyun/internal/quality"
)

// Batch is one upload or push with its lineage and outcome.
type Batch struct {
	ID       int64  `json:"id"`
	EntryID  int64  `json:"entry_id"`
	Status   string `json:"status" enum:"running,published,rejected,failed,cancelled"`
	Rows     int64  `json:"rows" doc:"rows read"`
	Accepted int64  `json:"accepted"`
	Rejected int64  `json:"rejected"`
	Source   string `json:"source" doc:"file or push"`
	Mode     string `json:"mode"`
	OnError  string `json:"on_error"`
	FileName string `json:"file_name,omitempty"`
	Format   string `json:"format,omitempty"`
	Encoding string `json:"encoding,omitempty"`
	SHA256   string `json:"sha256,omitempty"`
	Size     int64  `json:"size,omitempty"`
	UserID   int64  `json:"user_id,omitempty"`
	User     string `json:"user,omitempty"`
	// Unmatched lists the file's columns (or pushed fields) that map to no
	// data item: their values were not loaded. A warning, not an error.
	Unmatched  []string   `json:"unmatched_columns" doc:"columns of the file that map to no data item; their values were not loaded"`
	Header     []string   `json:"header,omitempty" doc:"the uploaded file's column names"`
	MessageZH  string     `json:"message_zh,omitempty"`
	MessageEN  string     `json:"message_en,omitempty"`
	StartedAt  time.Time  `json:"started_at"`
	FinishedAt *time.Time `json:"finished_at,omitempty"`
}

// Done reports whether the batch has ended.
func (b *Batch) Done() bool { return b.Status != StatusRunning }

// RowError is one problem of a batch's error report.
type RowError struct {
	Row       int64  `json:"row" doc:"row as a spreadsheet shows it (header = 1); the record's number for JSON"`
	Column    string `json:"column"`
	Value     string `json:"value"`
	Rule      string `json:"rule"`
	MessageZH string `json:"message_zh"`
	MessageEN string `json:"message_en"`
}

// Upload is a file received for an entry, spooled to disk.
type Upload struct {
	Path    string // the spooled file; removed when the batch ends
	Name    string // the file name the user gave
	Size    int64
	SHA256  string
	Mode    string
	OnError string
}

// MaxStoredErrors bounds the error report of one batch; further errors are
// counted, not kept.
const MaxStoredErrors = 100000

func checkMode(mode, onError string, t *table) (string, string, error) {
	if mode == "" {
		mode = ModeAppend
	}
	if onError == "" {
		onError = PublishValid
	}
	switch mode {
	case ModeAppend, ModeReplace:
	case ModeUpsert:
		if len(t.Keys) == 0 {
			return "", "", errs.Invalid("ingest.mode", "本目录没有主键信息项，不能按主键更新（upsert），请用追加或全量替换",
				"the entry has no key items, so records cannot be upserted; use append or replace")
		}
	default:
		return "", "", errs.Invalid("ingest.mode", "mode 须为 append、upsert 或 replace", "mode must be append, upsert or replace")
	}
	if onError != PublishValid && onError != RejectAll {
		return "", "", errs.Invalid("ingest.on_error", "on_error 须为 publish_valid 或 reject_all", "on_error must be publish_valid or reject_all")
	}
	return mode, onError, nil
}

// Start checks an upload and starts its batch in the background. The batch
// row is written with ctx, so that an HTTP request's audit record commits
// with it.
func (s *Service) Start(ctx context.Context, p *auth.Principal, entryID int64, up Upload) (Batch, error) {
	fail := func(err error) (Batch, error) { os.Remove(up.Path); return Batch{}, err }
	e, err := s.entry(ctx, entryID)
	if err != nil {
		return fail(err)
	}
	if !p.HasAt(auth.PermDataUpload, e.ProviderID) {
		return fail(errNotProvider)
	}
	format, err := FormatOf(up.Name)
	if err != nil {
		return fail(err)
	}
	if format == FormatXLSX && up.Size > MaxXLSXBytes {
		return fail(errs.New(errs.KindTooLarge, "tabular.oversize", "XLSX 文件不能超过 64 MiB，更大的数据请用 CSV 上传", "an XLSX file may not exceed 64 MiB; send larger data as CSV"))
	}
	t, err := s.table(ctx, &e)
	if err != nil {
		return fail(err)
	}
	mode, onError, err := checkMode(up.Mode, up.OnError, t)
	if err != nil {
		return fail(err)
	}
	if format == FormatCSV || format == FormatXLSX {
		// A header without a required or key item is refused here, before a
		// batch exists and before any row is read.
		if err := s.checkHeader(ctx, &e, format, up.Path); err != nil {
			return fail(err)
		}
	}
	b := Batch{EntryID: e.ID, Status: StatusRunning, Source: "file", Mode: mode, OnError: onError, FileName: up.Name, Format: format,
		SHA256: up.SHA256, Size: up.Size, UserID: p.User.ID, User: p.User.DisplayName}
	err = s.db.Tx(ctx, func(tx *db.Tx) error {
		var prev int64
		err := tx.QueryRow(`SELECT id FROM ingest_batches WHERE entry_id = $1 AND sha256 = $2 AND status = $3 ORDER BY id LIMIT 1`,
			e.ID, up.SHA256, StatusPublished).Scan(&prev)
		if err == nil {
			return errs.Conflict("ingest.duplicate_file", fmt.Sprintf("这个文件已经发布过（批次 %d），不会重复归集", prev),
				fmt.Sprintf("this file was already published (batch %d); it is not loaded twice", prev))
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		b.StartedAt = tx.Now.Time
		return insertBatch(tx, &b)
	})
	if err != nil {
		return fail(err)
	}
	open := func() (source, io.Closer, error) {
		f, err := os.Open(up.Path)
		if err != nil {
			return nil, nil, err
		}
		src, err := openSource(format, f)
		if err != nil {
			f.Close()
			return nil, nil, err
		}
		return src, f, nil
	}
	s.launch(b.ID, func(ctx context.Context) {
		defer os.Remove(up.Path)
		s.process(ctx, &job{batch: b, entry: e, open: open})
	})
	return b, nil
}

// checkHeader reads a table file's header and maps it onto the entry's
// items with the saved mapping: two columns for one item, or a required or
// key item without a column, is an error.
func (s *Service) checkHeader(ctx context.Context, e *catalog.Entry, format, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	src, err := openSource(format, f)
	if err != nil {
		return nil // a file that cannot be read is the batch's failure, reported on it
	}
	defer src.Close()
	saved, err := s.Mapping(ctx, e.ID)
	if err != nil {
		return err
	}
	_, _, err = newMapper(e.Items, saved).columns(src.Header())
	return err
}

func insertBatch(tx *db.Tx, b *Batch) error {
	return tx.QueryRow(`INSERT INTO ingest_batches (entry_id, status, source, mode, on_error, file_name, format, sha256, size, user_id, user_name, started_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id`,
		b.EntryID, b.Status, b.Source, b.Mode, b.OnError, b.FileName, b.Format, b.SHA256, b.Size, b.UserID, b.User, tx.Now).Scan(&b.ID)
}

func (s *Service) launch(id int64, fn func(ctx context.Context)) {
	ctx, cancel := context.WithCancel(s.ctx)
	r := &run{done: make(chan struct{}), cancel: cancel}
	s.mu.Lock()
	s.running[id] = r
	s.mu.Unlock()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer close(r.done)
		defer cancel()
		defer func() {
			s.mu.Lock()
			delete(s.running, id)
			s.mu.Unlock()
		}()
		fn(ctx)
	}()
}

// Wait waits up to d for a batch run by this process to end.
func (s *Service) Wait(ctx context.Context, id int64, d time.Duration) {
	s.mu.Lock()
	r := s.running[id]
	s.mu.Unlock()
	if r == nil {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-r.done:
	case <-t.C:
	case <-ctx.Done():
	}
}

// job is one batch being processed.
type job struct {
	batch Batch
	entry catalog.Entry
	open  func() (source, io.Closer, error)

	t        *table
	cols     []*column // the column of each item, in item order
	rows     int64     // rows read
	staged   int64
	rejected int64
	stored   int // errors stored
	seq      int // calls to the quality checker
	perRule  map[string]int
	encoding string

	pending  []stagedRow
	inflight chan error // the chunk being staged (flush)

	mu        sync.Mutex // guards what the reader and the stager both update: the counts, errs, perRule, results, unmatched
	errs      []RowError
	unmatched []string
	// results, for pushes: per record number, its errors (nil = accepted)
	results map[int][]RowError
}

type stagedRow struct {
	num  int64
	seq  int
	vals []any
}

func unmatchedJSON(cols []string) string {
	if len(cols) == 0 {
		return "[]"
	}
	b, _ := json.Marshal(cols)
	return string(b)
}

func stagingName(batchID int64) string { return "stg_" + strconv.FormatInt(batchID, 10) }

// errCancelled ends a batch whose cancellation was asked for.
var errCancelled = errors.New("cancelled")

// process runs a batch to its end and records the outcome; it never leaves
// a batch running unless the process dies, which recover handles.
func (s *Service) process(ctx context.Context, j *job) {
	err := s.stageAll(ctx, j)
	status, zh, en := StatusPublished, "", ""
	switch {
	case errors.Is(err, errCancelled):
		status, zh, en = StatusCancelled, "已取消，未发布任何记录", "cancelled; nothing was published"
	case err != nil && ctx.Err() != nil:
		status, zh, en = StatusFailed, "服务停止，处理中断，未发布任何记录", "the service stopped; nothing was published"
	case err != nil:
		status = StatusFailed
		if e, ok := errs.As(err); ok {
			zh, en = e.ZH, e.EN
		} else {
			s.log.Error("ingest: batch failed", "batch", j.batch.ID, "err", err)
			zh, en = "处理失败（内部错误），未发布任何记录", "processing failed (internal error); nothing was published"
		}
	}
	if err == nil {
		var pubErr error
		status, zh, en, pubErr = s.publish(ctx, j)
		if pubErr != nil {
			status = StatusFailed
			if e, ok := errs.As(pubErr); ok {
				zh, en = e.ZH, e.EN
			} else {
				s.log.Error("ingest: publishing a batch failed", "batch", j.batch.ID, "err", pubErr)
				zh, en = "发布失败（内部错误），已发布的记录未受影响", "publishing failed (internal error); the published records are unchanged"
			}
		}
	}
	if status == StatusPublished {
		return // publish recorded the outcome in its transaction
	}
	// A context of its own: the outcome must be recorded even at shutdown.
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	err = s.db.Tx(fctx, func(tx *db.Tx) error {
		if err := tx.Run(`DROP TABLE IF EXISTS ` + stagingName(j.batch.ID)); err != nil {
			return err
		}
		return tx.Run(`UPDATE ingest_batches SET status = $1, message_zh = $2, message_en = $3, rows_read = $4, accepted = $5, rejected = $6, encoding = $7,
			finished_at = $8 WHERE id = $9 AND status = $10`, status, zh, en, j.rows, 0, j.rejected, j.encoding, tx.Now, j.batch.ID, StatusRunning)
	})
	if err != nil {
		s.log.Error("ingest: recording a batch outcome", "batch", j.batch.ID, "err", err)
	}
	j.batch.Status = status
}

// stageAll reads, types and checks every row and stages the good ones.
func (s *Service) stageAll(ctx context.Context, j *job) error {
	t, err := s.table(ctx, &j.entry)
	if err != nil {
		return err
	}
	j.t, j.perRule = t, map[string]int{}
	items := j.entry.Items
	j.cols = make([]*column, len(items))
	for i, it := range items {
		j.cols[i] = t.Cols[it.Name]
	}
	src, closer, err := j.open()
	if err != nil {
		return err
	}
	defer closer.Close()
	defer src.Close()
	j.encoding = src.Encoding()
	saved, err := s.Mapping(ctx, j.entry.ID)
	if err != nil {
		return err
	}
	m := newMapper(items, saved)
	var colIdx []int
	header := src.Header()
	if header != nil {
		var unknown []string
		if colIdx, unknown, err = m.columns(header); err != nil {
			return err
		}
		for _, h := range unknown {
			j.unmatch(h)
		}
		if len(header) <= 1000 {
			hj, _ := json.Marshal(header)
			if err := s.db.Tx(ctx, func(tx *db.Tx) error {
				return tx.Run(`UPDATE ingest_batches SET header = $1 WHERE id = $2`, string(hj), j.batch.ID)
			}); err != nil {
				return err
			}
		}
	}
	if err := s.db.Tx(ctx, func(tx *db.Tx) error { return createStaging(tx, j) }); err != nil {
		return err
	}
	var checker *quality.Checker
	if s.opts.Quality != nil {
		if checker, err = s.opts.Quality.Checker(ctx, j.entry.ID, items); err != nil {
			return err
		}
		checker.SetLookup(s.lookup(ctx))
	}
	keyIdx := map[string]int{}
	vals := make([]string, len(items))
	pendingErrs := 0 // rows with errors since the last flush
	// A chunk being staged must end before the batch does, whatever happens.
	defer func() { _ = j.waitStage() }()
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		rec, err := src.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		j.rows++
		clear(vals)
		var rowErrs []RowError
		var rowKeys []string // quality rule keys of rowErrs' quality violations
		add := func(col, value, rule, zh, en string) {
			rowErrs = append(rowErrs, RowError{Row: int64(rec.Num), Column: col, Value: clip(value), Rule: rule, MessageZH: zh, MessageEN: en})
		}
		if rec.Err != nil {
			add(rec.Err.col, rec.Err.value, rec.Err.rule, rec.Err.zh, rec.Err.en)
		} else if rec.Keys == nil {
			for c, v := range rec.Vals {
				if c >= len(colIdx) {
					if v != "" {
						add("", v, "format", fmt.Sprintf("本行的单元格多于表头（%d 列）", len(colIdx)), fmt.Sprintf("the row has more cells than the header (%d columns)", len(colIdx)))
						break
					}
					continue
				}
				if i := colIdx[c]; i >= 0 {
					vals[i] = v
				}
			}
		} else {
			for k, key := range rec.Keys {
				i, ok := keyIdx[key]
				if !ok {
					i = m.item(key)
					if len(keyIdx) < 1000 {
						keyIdx[key] = i
					}
					if i < 0 {
						j.mu.Lock()
						j.unmatch(key)
						j.mu.Unlock()
					}
				}
				if i >= 0 {
					vals[i] = rec.Vals[k]
				}
			}
		}
		if j.batch.Format == FormatXLSX {
			for i, it := range items {
				if it.DataType == "D" || it.DataType == "T" {
					vals[i] = serialDate(it.DataType, vals[i])
				}
			}
		}
		bound := make([]any, len(items))
		failed := map[string]bool{}
		if len(rowErrs) == 0 {
			for i, it := range items {
				v := vals[i]
				if v == "" {
					// Key items can never be empty; other required items are the
					// quality module's (not null, which users may switch off).
					if it.Key || (it.Required && checker == nil) {
						add(it.Name, "", quality.KindNotNull, "必填信息项为空", "a required item is empty")
						failed[it.Name] = true
					}
					continue
				}
				x, te := convert(it.DataType, it.Length, v)
				if te != nil {
					add(it.Name, v, te.rule, te.zh, te.en)
					failed[it.Name] = true
					continue
				}
				bound[i] = x
			}
		}
		if checker != nil && rec.Err == nil {
			row := make(map[string]string, len(items))
			for i, it := range items {
				row[it.Name] = vals[i]
			}
			j.seq++
			for _, v := range checker.Row(row) {
				if !failed[v.Item] {
					add(v.Item, v.Value, v.Rule, v.ZH, v.EN)
					rowKeys = append(rowKeys, v.Key)
				}
			}
		}
		if len(rowErrs) > 0 || j.results != nil {
			j.mu.Lock() // the stager updates the same counters
			if len(rowErrs) > 0 {
				j.rejected++
				// Counted by rule key for quality; type checks by their kind, which
				// quality attributes to its first rule of that kind.
				for _, k := range rowKeys {
					j.perRule[k]++
				}
				for _, e := range rowErrs[:len(rowErrs)-len(rowKeys)] {
					j.perRule[e.Rule]++
				}
				j.addErrors(rowErrs)
			}
			if j.results != nil {
				j.results[rec.Num] = rowErrs
			}
			j.mu.Unlock()
		}
		if len(rowErrs) == 0 {
			j.pending = append(j.pending, stagedRow{num: int64(rec.Num), seq: j.seq, vals: bound})
			pendingErrs = 0
		} else {
			pendingErrs++
		}
		if len(j.pending)+pendingErrs >= s.opts.ChunkRows {
			if err := s.flush(ctx, j, false); err != nil {
				return err
			}
			pendingErrs = 0
		}
	}
	if err := s.flush(ctx, j, true); err != nil {
		return err
	}
	if checker != nil {
		if err := s.applySet(ctx, j, checker.Finish()); err != nil {
			return err
		}
	}
	return nil
}

// maxUnmatched bounds the unmatched columns kept on a batch.
const maxUnmatched = 100

// unmatch notes a column that maps to no item (under j.mu once the
// stager runs).
func (j *job) unmatch(name string) {
	name = strings.TrimSpace(name)
	if name == "" || len(j.unmatched) >= maxUnmatched || slices.Contains(j.unmatched, name) {
		return
	}
	j.unmatched = append(j.unmatched, clip(name))
}

func (j *job) addErrors(es []RowError) {
	for _, e := range es {
		if j.stored >= MaxStoredErrors {
			return
		}
		j.stored++
		j.errs = append(j.errs, e)
	}
}

func createStaging(tx *db.Tx, j *job) error {
	defs := []string{"_row BIGINT NOT NULL", "_seq BIGINT NOT NULL"}
	for i, c := range j.cols {
		defs = append(defs, c.Col+" "+sqlType(tx.Dialect, j.entry.Items[i].DataType, j.entry.Items[i].Length))
	}
	name := stagingName(j.batch.ID)
	if err := tx.Run(`CREATE TABLE ` + name + ` (` + strings.Join(defs, ", ") + `)`); err != nil {
		return err
	}
	if len(j.t.Keys) > 0 {
		return tx.Run(`CREATE UNIQUE INDEX ` + name + `_key ON ` + name + ` (` + strings.Join(j.t.Keys, ", ") + `)`)
	}
	return nil
}

// stageRows is how many rows one staging INSERT carries on PostgreSQL,
// where one statement per row costs a round trip each. SQLite runs in the
// process, and binds many numbered parameters in quadratic time: one row a
// statement is fastest there.
func stageRows(d db.Dialect) int {
	if d == db.Postgres {
		return 100
	}
	return 1
}

// flush hands the pending rows and errors to the stager, which writes them
// in a transaction of their own while the reader goes on with the next
// chunk (reading and checking overlap the database's work); it first waits
// for the chunk before, and returns its error or cancellation. The last
// flush stages in line, then stores the errors the stager itself found.
func (s *Service) flush(ctx context.Context, j *job, last bool) error {
	if err := j.waitStage(); err != nil {
		return err
	}
	rows, read := j.pending, j.rows
	j.pending = make([]stagedRow, 0, cap(rows))
	j.mu.Lock()
	errs := j.errs
	j.errs = nil
	j.mu.Unlock()
	if last {
		if err := s.stage(ctx, j, rows, errs, read); err != nil {
			return err
		}
		j.mu.Lock()
		errs = j.errs
		j.errs = nil
		j.mu.Unlock()
		if len(errs) > 0 {
			return s.stage(ctx, j, nil, errs, read)
		}
		return nil
	}
	ch := make(chan error, 1)
	j.inflight = ch
	go func() { ch <- s.stage(ctx, j, rows, errs, read) }()
	return nil
}

// waitStage waits for the chunk being staged, if any.
func (j *job) waitStage() error {
	if j.inflight == nil {
		return nil
	}
	err := <-j.inflight
	j.inflight = nil
	return err
}

// stage writes one chunk: its rows into the staging table and its errors,
// records progress and notices a cancellation. Rows whose key repeats an
// earlier row of the batch are not staged (the staging table's unique key,
// ON CONFLICT DO NOTHING) and reported.
func (s *Service) stage(ctx context.Context, j *job, pending []stagedRow, errs []RowError, read int64) error {
	name := stagingName(j.batch.ID)
	cols := []string{"_row", "_seq"}
	for _, c := range j.cols {
		cols = append(cols, c.Col)
	}
	insert := func(n int) string {
		var b strings.Builder
		b.WriteString(`INSERT INTO ` + name + ` (` + strings.Join(cols, ", ") + `) VALUES `)
		for r := range n {
			if r > 0 {
				b.WriteString(", ")
			}
			b.WriteString(db.Placeholders(1+r*len(cols), len(cols)))
		}
		if len(j.t.Keys) > 0 {
			b.WriteString(` ON CONFLICT (` + strings.Join(j.t.Keys, ", ") + `) DO NOTHING RETURNING _row`)
		}
		return b.String()
	}
	keyNames := j.keyNames()
	var cancel bool
	committed := func() {}
	err := s.db.Tx(ctx, func(tx *db.Tx) error {
		per := stageRows(tx.Dialect)
		args := make([]any, 0, per*len(cols))
		var staged int64
		var dups []RowError
		for start := 0; start < len(pending); start += per {
			chunk := pending[start:min(start+per, len(pending))]
			args = args[:0]
			for _, r := range chunk {
				args = append(args, r.num, r.seq)
				args = append(args, r.vals...)
			}
			q := insert(len(chunk))
			if len(j.t.Keys) == 0 {
				if err := tx.Run(q, args...); err != nil {
					return err
				}
				staged += int64(len(chunk))
				continue
			}
			nums, err := db.Int64s(tx.Query(q, args...))
			if err != nil {
				return err
			}
			staged += int64(len(nums))
			if len(nums) == len(chunk) {
				continue
			}
			in := make(map[int64]bool, len(nums))
			for _, n := range nums {
				in[n] = true
			}
			for _, r := range chunk {
				if !in[r.num] {
					dups = append(dups, dupError(r.num, keyNames))
				}
			}
		}
		if err := insertErrors(tx, j.batch.ID, errs); err != nil {
			return err
		}
		j.mu.Lock()
		acc, rej := j.staged+staged, j.rejected+int64(len(dups))
		unmatched := unmatchedJSON(j.unmatched)
		j.mu.Unlock()
		committed = func() {
			// Counted now, stored with the next chunk's errors.
			j.mu.Lock()
			defer j.mu.Unlock()
			j.staged += staged
			j.rejected += int64(len(dups))
			j.perRule["unique"] += len(dups)
			for _, d := range dups {
				if j.results != nil {
					j.results[int(d.Row)] = []RowError{d}
				}
			}
			j.addErrors(dups)
		}
		return tx.QueryRow(`UPDATE ingest_batches SET rows_read = $1, accepted = $2, rejected = $3, encoding = $4, unmatched = $5 WHERE id = $6 RETURNING cancel`,
			read, acc, rej, j.encoding, unmatched, j.batch.ID).Scan(&cancel)
	})
	if err != nil {
		return err
	}
	committed()
	if cancel {
		return errCancelled
	}
	return nil
}

func (j *job) keyNames() string {
	var names []string
	for _, it := range j.entry.Items {
		if it.Key {
			names = append(names, it.Name)
		}
	}
	return strings.Join(names, "+")
}

func dupError(row int64, keys string) RowError {
	return RowError{Row: row, Column: keys, Rule: "unique", MessageZH: "主键与本批次中前面的行重复", MessageEN: "the key repeats an earlier row of this batch"}
}

func insertErrors(tx *db.Tx, batchID int64, es []RowError) error {
	for _, e := range es {
		if err := tx.Run(`INSERT INTO ingest_errors (batch_id, row_num, col, value, rule, message_zh, message_en) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
			batchID, e.Row, e.Column, e.Value, e.Rule, e.MessageZH, e.MessageEN); err != nil {
			return err
		}
	}
	return nil
}

// applySet removes the staged rows that break a set rule (uniqueness over
// the batch) and reports them.
func (s *Service) applySet(ctx context.Context, j *job, set []quality.SetViolation) error {
	if len(set) == 0 {
		return nil
	}
	name := stagingName(j.batch.ID)
	return s.db.Tx(ctx, func(tx *db.Tx) error {
		for _, v := range set {
			if len(v.Rows) == 0 {
				// A rule over the whole batch (row count): reported once.
				j.perRule[v.Key]++
				j.addErrors([]RowError{{Row: 0, Column: v.Item, Value: v.Value, Rule: v.Rule, MessageZH: v.ZH, MessageEN: v.EN}})
				continue
			}
			for start := 0; start < len(v.Rows); start += 500 {
				chunk := v.Rows[start:min(start+500, len(v.Rows))]
				q, args := db.InList(`SELECT _row FROM `+name+` WHERE _seq IN `, chunk)
				nums, err := db.Int64s(tx.QueryContext(tx.Ctx, q, args...))
				if err != nil {
					return err
				}
				q, args = db.InList(`DELETE FROM `+name+` WHERE _seq IN `, chunk)
				if _, err := tx.ExecContext(tx.Ctx, q, args...); err != nil {
					return err
				}
				for _, n := range nums {
					j.staged--
					j.rejected++
					j.perRule[v.Key]++
					re := RowError{Row: n, Column: v.Item, Value: clip(v.Value), Rule: v.Rule, MessageZH: v.ZH, MessageEN: v.EN}
					j.addErrors([]RowError{re})
					if j.results != nil {
						j.results[int(n)] = append(j.results[int(n)], re)
					}
				}
			}
		}
		if err := insertErrors(tx, j.batch.ID, j.errs); err != nil {
			return err
		}
		j.errs = j.errs[:0]
		return tx.Run(`UPDATE ingest_batches SET accepted = $1, rejected = $2 WHERE id = $3`, j.staged, j.rejected, j.batch.ID)
	})
}
