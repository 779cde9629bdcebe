// Package catalog is the public-data resource catalog (公共数据资源目录): entries
// with the fields of the national catalog guide (发改高技〔2017〕1272号), their
// validation rules, the review workflow with every version kept, the three
// lists (责任清单, 需求清单, 负面清单), statistics, and the Chinese full-text
// search over the entries.
//
// # Entries and versions
//
// An entry (目录, 信息资源) is an identity: a generated code, a provider body
// and the region whose catalog it belongs to. Its content lives in versions.
// A department drafts version 1 and submits it; a platform reviewer publishes
// it or returns it with comments. Editing a published entry makes a new
// draft version (a revision) while the published one stays in force until
// the revision is published. Withdrawing takes an entry out of the catalog
// (it may be revised and published again); deprecating ends it for good.
//
// The entry's "current" content is the version in force, or the last one
// that was, or for an entry never published its draft. Everybody with
// catalog.read sees published entries; drafts, returned and submitted
// versions, withdrawn and deprecated entries are seen by the provider's
// staff and by reviewers only.
//
// # Scope
//
// An entry of a province-level body belongs to the province catalog; an
// entry of a city's or county's body is a supplementary entry (补充目录) of
// that region. The province-wide catalog is all published entries.
package catalog

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"log/slog"
	"sync"
	"time"

	"xiangyun/internal/auth"
	"xiangyun/internal/db"
	"xiangyun/internal/errs"
	"xiangyun/internal/notify"
	"xiangyun/internal/org"
	"xiangyun/internal/search"
)

//go:embed migrations
var migrations embed.FS

// Item is a data item (信息项) of an entry.
type Item struct {
	Name      string `json:"name" doc:"信息项名称"`
	EnName    string `json:"en_name,omitempty" doc:"English or pinyin field name: a letter, then letters, digits or _"`
	DataType  string `json:"data_type" doc:"C N Y D T L M G B I F (see vocabulary)"`
	Length    int    `json:"length,omitempty" doc:"数据长度; required for C and N"`
	Required  bool   `json:"required,omitempty" doc:"必填 (not null); key items are always required"`
	Key       bool   `json:"key,omitempty" doc:"主键 / 唯一标识"`
	Sensitive bool   `json:"sensitive,omitempty" doc:"敏感信息项"`
	Mask      string `json:"mask,omitempty" doc:"masking rule (脱敏规则); default none"`
	CodeList  string `json:"code_list,omitempty" doc:"代码表 / 值域, e.g. GB/T 2261.1"`
}

// Content is the versioned part of an entry: everything a department fills
// in and a reviewer approves.
type Content struct {
	Name           string   `json:"name" doc:"信息资源名称"`
	Class          string   `json:"class" doc:"信息资源分类: 类/项/目[/细目], e.g. 1/01/001 or 3/05/002"`
	Abstract       string   `json:"abstract" doc:"信息资源摘要"`
	FormatClass    string   `json:"format_class" doc:"信息资源格式分类 (see vocabulary)"`
	FormatType     string   `json:"format_type" doc:"信息资源格式类型 within the class"`
	Items          []Item   `json:"items,omitempty" doc:"信息项"`
	ShareType      string   `json:"share_type" doc:"共享类型: unconditional, conditional (有条件共享, also 授权共享), none (不予共享, also 非共享)"`
	ShareCondition string   `json:"share_condition,omitempty" doc:"共享条件: the conditions (conditional) or the legal basis (none)"`
	ShareMethod    string   `json:"share_method,omitempty" doc:"共享方式类型: api, table, file (not for none)"`
	ShareChannel   string   `json:"share_channel,omitempty" doc:"共享方式分类: platform, email, media (not for none)"`
	OpenType       string   `json:"open_type" doc:"开放属性: unconditional, conditional, none"`
	OpenCondition  string   `json:"open_condition,omitempty" doc:"开放条件: the conditions (conditional) or the basis (none)"`
	Cycle          string   `json:"cycle" doc:"更新周期"`
	Grade          string   `json:"grade" doc:"数据分级, L1–L4 by default"`
	Related        []string `json:"related,omitempty" doc:"关联资源代码"`
}

// EntryInput is what a department supplies to create or revise an entry;
// it maps one to one onto a row of the catalog spreadsheet.
type EntryInput struct {
	Content
	ProviderID int64 `json:"provider_id" required:"false" doc:"the providing body (信息资源提供方); 0 with provider_code to look it up"`
	// ProviderCode is the provider's 统一社会信用代码 (提供方代码): it finds
	// the provider when ProviderID is 0, and must match it otherwise.
	ProviderCode string `json:"provider_code,omitempty" doc:"提供方代码 (统一社会信用代码)"`
	// Classified marks a 涉密 resource, which this platform refuses.
	Classified bool `json:"classified,omitempty" doc:"涉密: such resources are refused"`
}

// Version is one version of an entry's content with its workflow record.
type Version struct {
	ID      int64  `json:"id"`
	EntryID int64  `json:"entry_id"`
	Number  int    `json:"number"`
	Status  string `json:"status"`
	Content
	AuthorID      int64      `json:"author_id,omitempty"`
	Author        string     `json:"author"`
	Reason        string     `json:"reason,omitempty" doc:"why this version was made"`
	CreatedAt     time.Time  `json:"created_at"`
	UpdatedAt     time.Time  `json:"updated_at"`
	SubmittedAt   *time.Time `json:"submitted_at,omitempty"`
	Submitter     string     `json:"submitter,omitempty"`
	ReviewedAt    *time.Time `json:"reviewed_at,omitempty"`
	Reviewer      string     `json:"reviewer,omitempty"`
	ReviewComment string     `json:"review_comment,omitempty"`
	PublishedAt   *time.Time `json:"published_at,omitempty" doc:"发布日期 of this version"`
	ClosedAt      *time.Time `json:"closed_at,omitempty" doc:"when it was superseded, withdrawn or deprecated"`
	ClosedBy      string     `json:"closed_by,omitempty"`
	ClosedReason  string     `json:"closed_reason,omitempty"`
}

// Entry is a catalog entry with its current content.
type Entry struct {
	ID           int64  `json:"id"`
	Code         string `json:"code" doc:"信息资源代码"`
	Attribute    string `json:"attribute" doc:"资源属性: base, theme, department"`
	ProviderID   int64  `json:"provider_id"`
	Provider     string `json:"provider" doc:"provider's name"`
	ProviderCode string `json:"provider_code" doc:"provider's 统一社会信用代码"`
	RegionCode   string `json:"region_code"`
	RegionName   string `json:"region_name,omitempty"`
	Scope        string `json:"scope" doc:"province or supplementary"`
	Status       string `json:"status"`
	Content
	Version int `json:"version" doc:"number of the current version"`
	// Rev is the entry's row version, raised by every change: an edit
	// carries the Rev it was made on (If-Match in the API, a hidden field
	// in the console) and is refused if the entry has changed since.
	Rev         int64      `json:"rev" doc:"row version of the entry; send it back (as If-Match, or the ETag) to change the entry"`
	PublishedAt *time.Time `json:"published_at,omitempty" doc:"发布日期 of the version in force"`
	FirstPublAt *time.Time `json:"first_published_at,omitempty"`
	CreatedAt   time.Time  `json:"created_at"`
	UpdatedAt   time.Time  `json:"updated_at"`
	// RevisionStatus is the status of a pending revision of an entry that
	// is (or was) in force, for callers who may see it.
	RevisionStatus string `json:"revision_status,omitempty"`
	// Revision is the pending revision itself, filled by Get.
	Revision *Version `json:"revision,omitempty"`
	// CanEdit, CanSubmit and CanReview say what the caller may do now.
	CanEdit   bool `json:"can_edit"`
	CanSubmit bool `json:"can_submit"`
	CanReview bool `json:"can_review"`

	draftID, currentID, publishedID int64
}

// Options configure the service.
type Options struct {
	// IndexDir is the search index directory; "" keeps it in memory.
	IndexDir string
	// Grades replaces the default grade policy.
	Grades *GradePolicy
	// Now replaces the clock (tests).
	Now func() time.Time
	// Log receives index maintenance failures; nil means slog.Default().
	Log *slog.Logger
	// Notify receives workflow notices in each step's transaction; nil
	// sends none.
	Notify *notify.Service
}

// Service is the catalog.
type Service struct {
	db     *db.DB
	orgs   *org.Service
	grades *GradePolicy
	now    func() time.Time
	log    *slog.Logger
	notify *notify.Service

	ix      *search.Index
	ixMu    sync.Mutex     // serialises reload-and-upsert of index documents
	applied map[int64]bool // change sequence numbers above the mark applied by AfterCommit hooks; guarded by ixMu
	labels  labelCache     // body and region names for searches

	rebuildMu sync.Mutex
	rebuild   IndexStatus
	bg        sync.WaitGroup
	stop      context.CancelFunc

	publishHooks []PublishHook
	retireHooks  []RetireHook
	bgCtx        context.Context
}

// System is the platform itself acting from the command line (demo loading,
// benchmarks): it may do everything. Never hand it to a request handler.
var System = &auth.Principal{User: auth.User{Username: "system", DisplayName: "系统"}}

// Open migrates the catalog tables, opens the search index and returns the
// service. The index catches up with the changes committed since it was
// last updated (see openIndex).
func Open(ctx context.Context, store *db.DB, orgs *org.Service, opts Options) (*Service, error) {
	if err := store.Migrate(ctx, "catalog", migrations); err != nil {
		return nil, err
	}
	s := &Service{db: store, orgs: orgs, grades: opts.Grades, now: opts.Now, log: opts.Log, notify: opts.Notify}
	if s.grades == nil {
		s.grades = DefaultGradePolicy()
	}
	if err := s.grades.check(); err != nil {
		return nil, err
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	ix, err := search.Open(opts.IndexDir, indexSchema)
	if err != nil {
		return nil, err
	}
	s.ix = ix
	s.bgCtx, s.stop = context.WithCancel(context.WithoutCancel(ctx))
	if err := s.openIndex(ctx); err != nil {
		ix.Close()
		return nil, err
	}
	return s, nil
}

// Close waits for a background rebuild to stop and closes the index.
func (s *Service) Close() error {
	s.stop()
	s.bg.Wait()
	return s.ix.Close()
}

// clock returns the current time at the stored precision.
// SetClock replaces the service's clock, for loading records with their
// historical dates (the demo's earlier submissions, a legacy catalog's
// history). Call it before the service serves requests, never while it does.
func (s *Service) SetClock(now func() time.Time) {
	if now == nil {
		now = time.Now
	}
	s.now = now
}

func (s *Service) clock() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

// Errors.
var (
	ErrNotFound = errs.NotFound("catalog.entry_not_found", "目录不存在", "no such catalog entry")
	errVersion  = errs.NotFound("catalog.version_not_found", "版本不存在", "no such version")
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

// seesAll reports whether p sees every entry in every state: reviewers.
func seesAll(p *auth.Principal) bool {
	return p == System || p.Global(auth.PermCatalogReview)
}

// canWork reports whether p may see the drafts of provider's entries.
func canWork(p *auth.Principal, provider int64) bool {
	return visibilityOf(p).works(provider)
}

func canEdit(p *auth.Principal, provider int64) bool {
	return p == System || p.HasAt(auth.PermCatalogEdit, provider)
}

func canSubmit(p *auth.Principal, provider int64) bool {
	return p == System || p.HasAt(auth.PermCatalogSubmit, provider)
}

// ownBody reports whether p belongs to or holds a role at body: such a
// person may not review the body's entries (审核回避).
func ownBody(p *auth.Principal, body int64) bool {
	if p == nil || p == System {
		return false
	}
	if p.User.BodyID == body {
		return true
	}
	for _, g := range p.User.Roles {
		if g.BodyID == body && !g.Role.Platform() {
			return true
		}
	}
	return false
}

func canReview(p *auth.Principal, provider int64) bool {
	return p == System || (p.Has(auth.PermCatalogReview) && !ownBody(p, provider))
}

// visible reports whether p may read e at all.
func visible(p *auth.Principal, e *Entry) bool {
	return visibilityOf(p).sees(e.Status, e.ProviderID)
}

// decorate fills what the caller may see and do.
func decorate(p *auth.Principal, e *Entry) {
	if !canWork(p, e.ProviderID) {
		e.RevisionStatus, e.Revision = "", nil
	}
	open := e.Status != StatusDeprecated
	e.CanEdit = open && canEdit(p, e.ProviderID) && e.RevisionStatus != StatusSubmitted && e.Status != StatusSubmitted
	working := e.RevisionStatus
	if e.draftID == e.currentID {
		working = e.Status
	}
	e.CanSubmit = open && canSubmit(p, e.ProviderID) && (working == StatusDraft || working == StatusReturned)
	e.CanReview = open && working == StatusSubmitted && p != System && canReview(p, e.ProviderID)
}

type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func timePtr(t db.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	v := t.Time
	return &v
}

func isNoRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }
