// Package ingest brings departments' records onto the platform (归集): every
// published entry shared as 库表 or 接口 gets a typed table of its own in the
// data store, filled by uploads (CSV, XLSX, JSON, NDJSON) and real-time
// pushes. Every row is parsed, typed and checked, staged, and published in
// one transaction, so that a failed, cancelled or crashed batch leaves the
// published records exactly as they were. Batches keep their lineage; a
// record keeps the batch that last wrote it and the history of its values.
package ingest

import (
	"context"
	"embed"
	"log/slog"
	"sync"
	"time"

	"xiangyun/internal/auth"
	"xiangyun/internal/blob"
	"xiangyun/internal/catalog"
	"xiangyun/internal/db"
	"xiangyun/internal/errs"
	"xiangyun/internal/quality"
)

//go:embed migrations
var migrations embed.FS

// Batch statuses and modes (fixed points of the API).
const (
	StatusRunning   = "running"
	StatusPublished = "published"
	StatusRejected  = "rejected"
	StatusFailed    = "failed"
	StatusCancelled = "cancelled"

	ModeAppend  = "append"
	ModeUpsert  = "upsert"
	ModeReplace = "replace"

	PublishValid = "publish_valid"
	RejectAll    = "reject_all"
)

// Options configure the service.
type Options struct {
	// SpoolDir holds uploaded files while their batches run.
	SpoolDir string
	// Quality supplies the entry's quality rules and keeps each batch's
	// results (in the control store, Control); nil: type checks only.
	Quality *quality.Service
	Control *db.DB
	Log     *slog.Logger
	// ChunkRows is how many rows are staged per transaction (default 5000):
	// fewer, larger transactions cost fewer commits (fsyncs); memory holds
	// at most two chunks (one being read, one being staged).
	ChunkRows int
	// Blobs keeps the content of file resources (文件, files.go); nil
	// leaves files out.
	Blobs blob.Store
	// MaxFileBytes bounds one file version (default DefaultMaxFileBytes).
	MaxFileBytes int64
}

// Service is the aggregation module.
type Service struct {
	db      *db.DB
	catalog *catalog.Service
	opts    Options
	log     *slog.Logger

	mu      sync.Mutex
	qmu     sync.Mutex // one quality delivery at a time
	running map[int64]*run
	plan    readPlan // the gateway's read path (query.go)
	wg      sync.WaitGroup
	ctx     context.Context
	stop    context.CancelFunc
}

// run is a batch being processed by this process.
type run struct {
	done   chan struct{}
	cancel context.CancelFunc
}

// Open migrates the data store, marks batches a crash left running as
// failed (their staged rows were never published), and registers the
// publication check with the catalog.
func Open(ctx context.Context, store *db.DB, cat *catalog.Service, opts Options) (*Service, error) {
	if err := store.Migrate(ctx, "ingest", migrations); err != nil {
		return nil, err
	}
	if opts.ChunkRows <= 0 {
		opts.ChunkRows = 5000
	}
	s := &Service{db: store, catalog: cat, opts: opts, log: opts.Log, running: map[int64]*run{}}
	if s.log == nil {
		s.log = slog.Default()
	}
	s.ctx, s.stop = context.WithCancel(context.WithoutCancel(ctx))
	if err := s.recover(ctx); err != nil {
		return nil, err
	}
	if cat != nil {
		cat.OnPublish(s.checkPublish)
	}
	// Results of batches published before a crash reach quality now.
	if err := s.deliverQuality(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// Close cancels running batches (they end as failed, nothing published) and
// waits for them.
func (s *Service) Close() {
	s.stop()
	s.wg.Wait()
}

// recover ends the batches of a previous process: a batch still "running"
// was interrupted, so it is failed and its staging table dropped.
func (s *Service) recover(ctx context.Context) error {
	return s.db.Tx(ctx, func(tx *db.Tx) error {
		ids, err := db.Int64s(tx.Query(`SELECT id FROM ingest_batches WHERE status = $1`, StatusRunning))
		if err != nil {
			return err
		}
		for _, id := range ids {
			if err := tx.Run(`DROP TABLE IF EXISTS ` + stagingName(id)); err != nil {
				return err
			}
			if err := tx.Run(`UPDATE ingest_batches SET status = $1, message_zh = $2, message_en = $3, finished_at = $4 WHERE id = $5`,
				StatusFailed, "处理中断（服务重启），未发布任何记录，请重新上传", "interrupted (the service restarted); nothing was published, upload again", tx.Now, id); err != nil {
				return err
			}
		}
		if len(ids) > 0 {
			s.log.Warn("batches interrupted by a restart marked failed", "batches", ids)
		}
		return nil
	})
}

// checkPublish runs inside the catalog's publishing transaction: a version
// whose items the records table cannot take is refused with the reason; a
// version it can take migrates the table once the publication commits.
func (s *Service) checkPublish(ctl *db.Tx, old, nv *catalog.Version) error {
	if !holdsRecords(&nv.Content) {
		return nil
	}
	ctx, cancel := s.db.Ctx(ctl.Ctx)
	defer cancel()
	t, err := loadTable(ctx, s.db.R, nv.EntryID)
	if err != nil {
		return err
	}
	rows := false
	if t != nil {
		var n int
		if err := s.db.R.QueryRowContext(ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM `+t.Name+` LIMIT 1) x`).Scan(&n); err != nil {
			return db.Check(err)
		}
		rows = n > 0
	}
	if err := checkMigration(t, nv.Items, rows); err != nil {
		return err
	}
	items := nv.Items
	ctl.AfterCommit(func() {
		ctx, cancel := context.WithTimeout(s.ctx, time.Minute)
		defer cancel()
		if err := s.db.Tx(ctx, func(tx *db.Tx) error { _, err := ensure(tx, nv.EntryID, items); return err }); err != nil {
			// The next upload or read migrates it again.
			s.log.Error("ingest: migrating a records table after publication", "entry", nv.EntryID, "err", err)
		}
	})
	return nil
}

var (
	errNoEntry   = errs.NotFound("ingest.entry", "目录不存在", "no such catalog entry")
	errNoRecords = errs.Invalid("ingest.not_records", "只有已发布、共享方式为库表或接口的目录才能归集数据",
		"only published entries shared as a database table or API hold records")
	errNotProvider = errs.Forbidden("ingest.not_provider", "只有提供方的数据专员和首席数据官可以归集本目录的数据",
		"only the provider's data specialists and chief data officers may load this entry's records")
	errNotReader = errs.Forbidden("ingest.not_reader", "只有提供方和平台可以查看归集的数据，其他部门请通过共享申请获取",
		"only the provider and the platform may read these records; other bodies get them through sharing")
	errNoBatch = errs.NotFound("ingest.batch", "批次不存在", "no such batch")
)

// entry returns a published entry that holds records.
func (s *Service) entry(ctx context.Context, id int64) (catalog.Entry, error) {
	e, err := s.catalog.Get(ctx, catalog.System, id)
	if err != nil {
		if errs.KindOf(err) == errs.KindNotFound {
			return e, errNoEntry
		}
		return e, err
	}
	if e.Status != catalog.StatusPublished || !holdsRecords(&e.Content) {
		return e, errNoRecords
	}
	return e, nil
}

// mayRead reports whether p may read an entry's records, and whether
// unmasked (the provider's own users).
func mayRead(p *auth.Principal, e *catalog.Entry) (ok, provider bool) {
	if p == nil || !p.HasAt(auth.PermDataRead, e.ProviderID) {
		return false, false
	}
	for _, b := range p.BodiesWith(auth.PermDataRead) {
		if b == e.ProviderID {
			return true, true
		}
	}
	return true, false
}

// table returns the entry's table, created or migrated to its published
// items. Reads find it as it is; only a missing or outdated table takes a
// write transaction.
func (s *Service) table(ctx context.Context, e *catalog.Entry) (*table, error) {
	if len(e.Items) == 0 {
		return nil, errs.Invalid("ingest.no_items", "目录没有信息项，不能归集数据", "the entry has no data items, so it holds no records")
	}
	rctx, cancel := s.db.Ctx(ctx)
	t, err := loadTable(rctx, s.db.R, e.ID)
	cancel()
	if err != nil {
		return nil, err
	}
	if t != nil && current(t, e.Items) {
		return t, nil
	}
	err = s.db.Tx(ctx, func(tx *db.Tx) error {
		var err error
		t, err = ensure(tx, e.ID, e.Items)
		return err
	})
	return t, err
}

// current reports whether t already matches items.
func current(t *table, items []catalog.Item) bool {
	for _, it := range items {
		c := t.Cols[it.Name]
		if c == nil || c.DataType != it.DataType || c.Length != it.Length {
			return false
		}
	}
	return sameKeys(t, items)
}
