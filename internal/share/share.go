// Package share is the sharing control plane (共享, 吉政发〔2019〕4号 §23–26):
// the applications (应用) of consuming bodies with their credentials, share
// requests (共享申请) and their reviews on working-day deadlines, application
// scenarios (应用场景), sharing agreements (共享授权, grants) and the HTTP
// services providers register on their entries (服务接口).
//
// # The three share types
//
//   - 无条件共享 (unconditional): a request is granted at once; it is still
//     recorded and the provider is told.
//   - 有条件共享 (conditional; the regulation's 授权共享): the platform checks
//     the request (default 2 working days), then the providing body answers
//     (default 5 working days, 10 when the entry holds no records on the
//     platform yet). Each reviewer may ask the applicant once for more
//     material, listing everything needed; the applicant supplements and the
//     step's clock starts again. Refusal needs a reason.
//   - 不予共享 (none; the regulation's 非共享): refused at once with the
//     entry's basis, which the negative list (负面清单) shows.
//
// A request inside an application scenario's bounds (the scenario lists the
// entry, the items asked are among the scenario's items, the consuming body
// is one the scenario serves) is granted directly.
//
// # The gateway
//
// The data plane (internal/gateway) never reads these tables on its hot path:
// it holds a Snapshot (snapshot.go) and rebuilds it when Subscribe tells it
// that share_version moved. Every change to credentials, grants or services
// raises share_version in its own transaction and, on PostgreSQL, sends
// pg_notify in that transaction, so every node hears of it at commit.
package share

import (
	"context"
	"database/sql"
	"embed"
	"encoding/json"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"xiangyun/internal/auth"
	"xiangyun/internal/catalog"
	"xiangyun/internal/db"
	"xiangyun/internal/errs"
	"xiangyun/internal/ingest"
	"xiangyun/internal/notify"
	"xiangyun/internal/org"
)

//go:embed migrations
var migrations embed.FS

// Options configure the service.
type Options struct {
	// KeyFile holds the platform sharing key (32 random bytes) that seals
	// applications' HMAC signing keys (AES-256-GCM), created on first start
	// like the audit key. "" and Key nil: signing keys are not kept (bearer
	// secrets only).
	KeyFile string
	// Key is the platform sharing key itself (tests); it wins over KeyFile.
	Key []byte
	// DSN is the control store's PostgreSQL URL: Subscribe listens on a
	// dedicated connection for changes made by other nodes. Ignored on
	// SQLite (one process: changes are seen in-process).
	DSN string
	// Notify receives workflow notices in each step's transaction.
	Notify *notify.Service
	// Ingest answers whether an entry holds records on the platform (the
	// provider's deadline is longer when it does not); nil: assume it does.
	Ingest *ingest.Service
	// Deadlines in working days; zero takes the defaults.
	PlatformDays       int // platform check (default 2)
	ProviderDays       int // provider answer (default 5)
	ProviderDaysNoData int // provider answer when the entry holds no records yet (default 10)
	// Default limits of a new grant; the provider may set others when it
	// approves. Zero takes the defaults (50/s, burst 100, 100000 a day).
	Rate, Burst int
	DailyQuota  int64
	// Overlap is how long a rotated-out key keeps working (default 24h).
	Overlap time.Duration
	// Poll is the safety-net interval at which Subscribe rereads
	// share_version on PostgreSQL (default 1s).
	Poll time.Duration
	Now  func() time.Time
	Log  *slog.Logger
}

func (o *Options) defaults() {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&o.PlatformDays, 2)
	def(&o.ProviderDays, 5)
	def(&o.ProviderDaysNoData, 10)
	def(&o.Rate, 50)
	def(&o.Burst, 100)
	if o.DailyQuota <= 0 {
		o.DailyQuota = 100000
	}
	if o.Overlap <= 0 {
		o.Overlap = 24 * time.Hour
	}
	if o.Poll <= 0 {
		o.Poll = time.Second
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
}

// Service is the sharing control plane.
type Service struct {
	db      *db.DB
	orgs    *org.Service
	catalog *catalog.Service
	opts    Options
	key     []byte // platform sharing key; nil: no signing keys
	clock   func() time.Time

	// QuotaUsed, when set, gives each grant's calls counted today across
	// nodes for Snapshot.QuotaUsed (the statistics in stats.go).
	QuotaUsed func(ctx context.Context) (map[int64]int64, error)

	fireMu   sync.Mutex
	mu       sync.Mutex
	subs     map[int]func(int64)
	nextSub  int
	notified int64 // the highest version subscribers were told of
	listen   context.CancelFunc
	bg       sync.WaitGroup
}

// Open migrates the sharing tables and returns the service.
func Open(ctx context.Context, store *db.DB, orgs *org.Service, cat *catalog.Service, opts Options) (*Service, error) {
	if err := store.Migrate(ctx, "share", migrations); err != nil {
		return nil, err
	}
	opts.defaults()
	s := &Service{db: store, orgs: orgs, catalog: cat, opts: opts, clock: opts.Now, subs: map[int]func(int64){}}
	if s.clock == nil {
		s.clock = time.Now
	}
	switch {
	case opts.Key != nil:
		if len(opts.Key) != 32 {
			return nil, errors.New("share: the platform sharing key must be 32 bytes")
		}
		s.key = slices.Clone(opts.Key)
	case opts.KeyFile != "":
		k, err := LoadOrCreateKey(opts.KeyFile)
		if err != nil {
			return nil, err
		}
		s.key = k
	}
	if cat != nil {
		cat.OnRetire(s.entryRetired)
	}
	return s, nil
}

// entryRetired runs in the transaction that withdraws or deprecates an entry:
// when applications hold grants on it, share_version rises with the change, so
// that every gateway node reloads its snapshot (and with it the entry's
// description, now out of force) at once instead of when its cache expires.
// The grants themselves stay: a withdrawn entry may be published again.
func (s *Service) entryRetired(tx *db.Tx, entryID int64, _ string) error {
	var n int
	if err := tx.QueryRow(`SELECT COUNT(*) FROM share_grants WHERE entry_id = $1 AND status = $2`, entryID, GrantActive).Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		return nil
	}
	return s.bump(tx)
}

// Close stops listening for other nodes' changes.
func (s *Service) Close() {
	s.mu.Lock()
	stop := s.listen
	s.listen = nil
	s.mu.Unlock()
	if stop != nil {
		stop()
	}
	s.bg.Wait()
}

// SetClock replaces the clock (tests).
func (s *Service) SetClock(now func() time.Time) { s.clock = now }

func (s *Service) now() time.Time { return s.clock().UTC().Truncate(time.Microsecond) }

// System is the platform acting from the command line (demo loading). Never
// hand it to a request handler.
var System = catalog.System

// Errors shared by several operations.
var (
	ErrNotFound    = errs.NotFound("share.not_found", "共享申请不存在", "no such share request")
	ErrForbidden   = errs.Forbidden("share.forbidden", "无权执行此操作", "you are not allowed to do this")
	ErrMovedOn     = errs.Conflict("share.moved_on", "申请已被他人处理或状态已变化，请刷新后重试", "the request has been handled by someone else or has moved on; reload and try again")
	errAppNotFound = errs.NotFound("share.app_not_found", "应用不存在", "no such application")
)

func actor(p *auth.Principal) (int64, string) {
	if p == nil {
		return 0, ""
	}
	name := p.User.DisplayName
	if name == "" {
		name = p.User.Username
	}
	return p.User.ID, name
}

// bodyRole reports whether p holds perm through a role at body (not through
// a platform role): the body's own chief data officer.
func bodyRole(p *auth.Principal, perm auth.Permission, body int64) bool {
	return p != nil && slices.Contains(p.BodiesWith(perm), body)
}

// isReviewer reports whether p is a platform reviewer.
func isReviewer(p *auth.Principal) bool {
	return p != nil && p.Global(auth.PermShareReview)
}

// bump raises share_version in tx and tells subscribers after the commit:
// this node through AfterCommit, other nodes through pg_notify, which
// PostgreSQL delivers when the transaction commits.
func (s *Service) bump(tx *db.Tx) error {
	var v int64
	if err := tx.QueryRow(`UPDATE share_version SET version = version + 1 WHERE id = 1 RETURNING version`).Scan(&v); err != nil {
		return err
	}
	if tx.Dialect == db.Postgres {
		if err := tx.Run(`SELECT pg_notify('`+notifyChannel+`', $1)`, itoa(v)); err != nil {
			return err
		}
	}
	tx.AfterCommit(func() { s.fire(v) })
	return nil
}

// Version returns the current share_version.
func (s *Service) Version(ctx context.Context) (int64, error) {
	ctx, cancel := s.db.Ctx(ctx)
	defer cancel()
	var v int64
	err := s.db.R.QueryRowContext(ctx, `SELECT version FROM share_version WHERE id = 1`).Scan(&v)
	return v, db.Check(err)
}

// event records one step of a request.
func event(tx *db.Tx, p *auth.Principal, request int64, action, step, comment string) error {
	id, who := actor(p)
	return tx.Run(`INSERT INTO share_request_events (request_id, at, actor_id, actor, action, step, comment) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		request, tx.Now, id, who, action, step, comment)
}

func jsonText(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func isNoRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }

func itoa(v int64) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// normItems trims names and drops empty ones; duplicates are an error.
func normItems(fs *errs.Fields, field string, items []string) []string {
	out := make([]string, 0, len(items))
	for _, it := range items {
		it = strings.TrimSpace(it)
		if it == "" {
			continue
		}
		if slices.Contains(out, it) {
			fs.Add(field, "share.item_twice", "信息项重复："+it, "data item listed twice: "+it)
			continue
		}
		out = append(out, it)
	}
	return out
}

func ptime(t db.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	v := t.Time
	return &v
}
