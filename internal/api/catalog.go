package api

import (
	"context"
	"net/http"
	"path"
	"reflect"
	"strconv"
	"strings"

	"github.com/danielgtaylor/huma/v2"

	"xiangyun/internal/auth"
	"xiangyun/internal/catalog"
	"xiangyun/internal/errs"
	"xiangyun/internal/httpx"
)

// Catalog (公共数据资源目录) operations. Route permissions are the coarse
// gate; the catalog service decides per entry (own body, 审核回避, state).

type entrySearchIn struct {
	Page
	Q         string   `query:"q" maxLength:"256" doc:"Chinese full text, pinyin (initials like shbx) or a code; words must all match"`
	Sort      string   `query:"sort" enum:"relevance,updated,-updated,name,-name,code,-code,published,-published," doc:"default: relevance with q, -updated without"`
	Provider  []string `query:"provider,explode" doc:"provider body id"`
	Region    []string `query:"region,explode" doc:"region code; includes its sub-regions"`
	Class     []string `query:"class,explode" doc:"classification: 类 (1, 2, 3) or 类/项 (e.g. 1/01)"`
	ShareType []string `query:"share_type,explode" doc:"unconditional, conditional, none; the labels are accepted too, also the regulation's 授权共享 (conditional) and 非共享 (none)"`
	OpenType  []string `query:"open_type,explode" doc:"unconditional, conditional, none (or their labels)"`
	Format    []string `query:"format,explode" doc:"format class"`
	Cycle     []string `query:"cycle,explode" doc:"update cycle"`
	Grade     []string `query:"grade,explode" doc:"data grade"`
	Status    []string `query:"status,explode" doc:"draft, submitted, returned, published, withdrawn, deprecated"`
	Scope     []string `query:"scope,explode" doc:"province or supplementary"`
	FacetSize int      `query:"facet_size" minimum:"0" maximum:"200" doc:"values per facet (default 20)"`
}

func (in *entrySearchIn) query() catalog.SearchQuery {
	f := map[string][]string{"provider": in.Provider, "region": in.Region, "class": in.Class, "share_type": in.ShareType,
		"open_type": in.OpenType, "format": in.Format, "cycle": in.Cycle, "grade": in.Grade, "status": in.Status, "scope": in.Scope}
	for k, v := range f {
		if len(v) == 0 {
			delete(f, k)
		}
	}
	return catalog.SearchQuery{Q: in.Q, Filters: catalog.ParseFilters(f), Sort: in.Sort, Offset: in.offset(), Limit: in.limit(), FacetSize: in.FacetSize}
}

type entrySearchOut struct {
	Body struct {
		Items  []catalog.Entry                 `json:"items" doc:"entries without data items"`
		Total  int                             `json:"total"`
		Facets map[string][]catalog.FacetValue `json:"facets" doc:"per facet: values with labels and counts, without the facet's own filter"`
	}
}

type entryIn struct{ Body catalog.EntryInput }
type entryOut struct {
	ETag string `header:"ETag" doc:"the entry's revision; send it as If-Match to change the entry"`
	Body catalog.Entry
}

// entryResult answers with e and its ETag.
func entryResult(e catalog.Entry, err error) (*entryOut, error) {
	out := &entryOut{Body: e}
	if err == nil && e.ID != 0 {
		out.ETag = etag(e.Rev)
	}
	return out, err
}

// etag is an entry revision's entity tag.
func etag(rev int64) string { return `"` + strconv.FormatInt(rev, 10) + `"` }

// Precondition is the If-Match header of a change to an existing entry (an
// exported type, so that huma reads the embedded field).
type Precondition struct {
	IfMatch string `header:"If-Match" maxLength:"200" doc:"the ETag (or rev) of the entry as read; a change made on an older revision is refused with 412"`
}

// preconditionRequired and preconditionFailed are the problems of a change
// without If-Match and of one made on an older revision.
func preconditionRequired() *Problem {
	return &Problem{Status: http.StatusPreconditionRequired, Title: http.StatusText(http.StatusPreconditionRequired),
		Code: "precondition.required", Detail: "send If-Match with the entry's ETag",
		MessageZH: "修改目录须带 If-Match 请求头（读取目录时得到的 ETag），以免覆盖他人的修改",
		MessageEN: "changing an entry needs an If-Match header with the ETag you read, so that nobody's change is overwritten"}
}

func preconditionFailed() *Problem {
	return &Problem{Status: http.StatusPreconditionFailed, Title: http.StatusText(http.StatusPreconditionFailed),
		Code: catalog.ErrStale.Code, Detail: "If-Match does not match the entry's current ETag",
		MessageZH: catalog.ErrStale.ZH + "（If-Match 与目录当前的 ETag 不符）",
		MessageEN: catalog.ErrStale.EN + " (If-Match does not match the entry's current ETag)"}
}

// conds turns If-Match into the service's precondition: required refuses
// a missing header (428); "*" matches any revision; a list matches any of
// its strong tags ("7" or 7); weak tags never match (RFC 9110 §13.1.1).
func (m Precondition) conds(required bool) ([]catalog.Cond, error) {
	h := strings.TrimSpace(m.IfMatch)
	switch {
	case h == "" && required:
		return nil, preconditionRequired()
	case h == "" || h == "*":
		return nil, nil
	}
	revs := []int64{}
	for _, t := range strings.Split(h, ",") {
		t = strings.TrimSpace(t)
		if strings.HasPrefix(t, "W/") {
			continue
		}
		if n, err := strconv.ParseInt(strings.Trim(t, `"`), 10, 64); err == nil {
			revs = append(revs, n)
		}
	}
	return []catalog.Cond{catalog.IfRev(revs...)}, nil
}

// staleAs412 reports a stale change made with If-Match as 412.
func staleAs412(err error, conds []catalog.Cond) error {
	if e, ok := errs.As(err); ok && e.Code == catalog.ErrStale.Code && len(conds) > 0 {
		return preconditionFailed()
	}
	return err
}

type entryBatchIn struct {
	Body struct {
		Entries []catalog.EntryInput `json:"entries" minItems:"1" maxItems:"1000"`
	}
}
type entryBatchOut struct {
	Body struct {
		Items []catalog.Entry `json:"items"`
	}
}

type entryCodeIn struct {
	Code string `query:"code" maxLength:"40" required:"true" doc:"信息资源代码, e.g. 1/01/001/000001"`
}

type entryUpdateIn struct {
	IDPath
	Precondition
	Body struct {
		Entry  catalog.EntryInput `json:"entry"`
		Reason string             `json:"reason,omitempty" maxLength:"500" doc:"why it changes; required when revising a published entry"`
	}
}

type entryNoteIn struct {
	IDPath
	Precondition
	Body struct {
		Comment string `json:"comment,omitempty" maxLength:"1000" doc:"review comment; required to return"`
	}
}

type entryReasonIn struct {
	IDPath
	Precondition
	Body struct {
		Reason string `json:"reason" maxLength:"1000"`
	}
}

type idsIn struct {
	Body struct {
		IDs     []int64 `json:"ids" minItems:"1" maxItems:"1000"`
		Comment string  `json:"comment,omitempty" maxLength:"1000"`
	}
}

type versionsOut struct{ Body []catalog.Version }

type versionIn struct {
	IDPath
	Number int `path:"number" minimum:"1"`
}
type versionOut struct{ Body catalog.Version }

type diffIn struct {
	IDPath
	From int `query:"from" minimum:"-1" doc:"version number; 0: the version in force (or the one before 'to'); -1: an empty entry"`
	To   int `query:"to" minimum:"0" doc:"version number; 0: the pending revision, or the current version"`
}
type diffOut struct{ Body catalog.Diff }

type historyOut struct{ Body []catalog.Event }

type queueIn struct {
	Page
	ProviderID int64  `query:"provider_id"`
	Region     string `query:"region" maxLength:"6"`
}

type listIn struct {
	Page
	BodyID int64  `query:"body_id"`
	Status string `query:"status" maxLength:"20"`
	Q      string `query:"q" maxLength:"100"`
}

func (in *listIn) filter() catalog.ListFilter {
	return catalog.ListFilter{BodyID: in.BodyID, Status: in.Status, Q: in.Q, Offset: in.offset(), Limit: in.limit()}
}

type respIn struct{ Body catalog.ResponsibilityInput }
type respOut struct{ Body catalog.Responsibility }
type respUpdateIn struct {
	IDPath
	Body catalog.ResponsibilityInput
}
type respLinkIn struct {
	IDPath
	Body struct {
		EntryID int64 `json:"entry_id" minimum:"0" doc:"0 unlinks"`
	}
}

type demandIn struct{ Body catalog.DemandInput }
type demandOut struct{ Body catalog.Demand }
type demandUpdateIn struct {
	IDPath
	Body catalog.DemandInput
}
type demandCloseIn struct {
	IDPath
	Body struct {
		Reason string `json:"reason,omitempty" maxLength:"1000"`
		Reopen bool   `json:"reopen,omitempty" doc:"reopen a closed demand instead"`
	}
}
type demandLinkIn struct {
	IDPath
	Body struct {
		EntryID int64 `json:"entry_id" minimum:"1"`
	}
}
type demandUnlinkIn struct {
	IDPath
	EntryID int64 `path:"entry_id" minimum:"1"`
}

type vocabularyOut struct{ Body catalog.Vocabulary }
type statsOut struct{ Body catalog.Stats }
type indexOut struct{ Body catalog.IndexStatus }

func entryObject(id int64) string { return "entry:" + itoa(id) }

func (a *API) catalogRoutes() {
	c := func() *catalog.Service { return a.Catalog }

	// Entries.
	op(a, http.MethodGet, "/catalog/entries", "catalog.entry.search", auth.PermCatalogRead,
		"Search the catalog (Chinese full text, pinyin, facets)",
		func(ctx context.Context, in *entrySearchIn) (*entrySearchOut, error) {
			res, err := c().Search(ctx, principal(ctx), in.query())
			if err != nil {
				return nil, err
			}
			out := &entrySearchOut{}
			out.Body.Items, out.Body.Total, out.Body.Facets = res.Items, res.Total, res.Facets
			return out, nil
		})
	op(a, http.MethodPost, "/catalog/entries", "catalog.entry.create", auth.PermCatalogEdit, "Draft a new entry of one's own body",
		func(ctx context.Context, in *entryIn) (*entryOut, error) {
			e, err := c().Create(ctx, principal(ctx), in.Body)
			httpx.Note(ctx, entryObject(e.ID), "code", e.Code, "provider_id", itoa(in.Body.ProviderID))
			return entryResult(e, err)
		})
	op(a, http.MethodPost, "/catalog/entries/batch", "catalog.entry.create_many", auth.PermCatalogEdit,
		"Draft many entries at once: all or none; errors name rows[i].field",
		func(ctx context.Context, in *entryBatchIn) (*entryBatchOut, error) {
			es, err := c().CreateMany(ctx, principal(ctx), in.Body.Entries)
			httpx.Note(ctx, "entries", "rows", strconv.Itoa(len(in.Body.Entries)))
			if len(es) > 0 {
				httpx.Note(ctx, "", "first_id", itoa(es[0].ID), "last_id", itoa(es[len(es)-1].ID))
			}
			out := &entryBatchOut{}
			out.Body.Items = es
			return out, err
		})
	op(a, http.MethodGet, "/catalog/entries/by-code", "catalog.entry.read_code", auth.PermCatalogRead, "One entry by its code",
		func(ctx context.Context, in *entryCodeIn) (*entryOut, error) {
			return entryResult(c().GetByCode(ctx, principal(ctx), in.Code))
		})
	op(a, http.MethodGet, "/catalog/entries/{id}", "catalog.entry.read", auth.PermCatalogRead,
		"One entry with its data items and, for its body and reviewers, its pending revision",
		func(ctx context.Context, in *IDPath) (*entryOut, error) {
			return entryResult(c().Get(ctx, principal(ctx), in.ID))
		})
	op(a, http.MethodPut, "/catalog/entries/{id}", "catalog.entry.update", auth.PermCatalogEdit,
		"Edit a draft, or revise a published entry (a new version; the published one stays in force). "+
			"If-Match with the ETag read is required: 428 without it, 412 when the entry has changed since",
		func(ctx context.Context, in *entryUpdateIn) (*entryOut, error) {
			httpx.Note(ctx, entryObject(in.ID), "reason", in.Body.Reason)
			conds, err := in.conds(true)
			if err != nil {
				return nil, err
			}
			e, err := c().Update(ctx, principal(ctx), in.ID, in.Body.Entry, in.Body.Reason, conds...)
			if err == nil {
				httpx.Note(ctx, "", "version", strconv.Itoa(max(e.Version, revision(e))))
			}
			return entryResult(e, staleAs412(err, conds))
		})
	type step = func(s *catalog.Service, ctx context.Context, p *auth.Principal, id int64, text string, conds ...catalog.Cond) (catalog.Entry, error)
	transition := func(method, path, action string, perm auth.Permission, summary string, fn step) {
		op(a, method, path, action, perm, summary+"; with If-Match, only on the revision read (412 otherwise)",
			func(ctx context.Context, in *entryNoteIn) (*entryOut, error) {
				httpx.Note(ctx, entryObject(in.ID), "comment", in.Body.Comment)
				conds, err := in.conds(false)
				if err != nil {
					return nil, err
				}
				e, err := fn(c(), ctx, principal(ctx), in.ID, in.Body.Comment, conds...)
				if err == nil {
					httpx.Note(ctx, "", "status", e.Status)
				}
				return entryResult(e, staleAs412(err, conds))
			})
	}
	transition(http.MethodPost, "/catalog/entries/{id}/submit", "catalog.entry.submit", auth.PermCatalogSubmit,
		"Submit the draft for review (chief data officer of the provider)", (*catalog.Service).Submit)
	transition(http.MethodPost, "/catalog/entries/{id}/publish", "catalog.entry.publish", auth.PermCatalogReview,
		"Publish the submitted version (platform reviewer; never one's own body's entry)", (*catalog.Service).Publish)
	transition(http.MethodPost, "/catalog/entries/{id}/return", "catalog.entry.return", auth.PermCatalogReview,
		"Return the submitted version with comments", (*catalog.Service).Return)
	closing := func(path, action, summary string, fn step) {
		op(a, http.MethodPost, path, action, auth.PermCatalogSubmit, summary+"; with If-Match, only on the revision read (412 otherwise)",
			func(ctx context.Context, in *entryReasonIn) (*entryOut, error) {
				httpx.Note(ctx, entryObject(in.ID), "reason", in.Body.Reason)
				conds, err := in.conds(false)
				if err != nil {
					return nil, err
				}
				e, err := fn(c(), ctx, principal(ctx), in.ID, in.Body.Reason, conds...)
				return entryResult(e, staleAs412(err, conds))
			})
	}
	closing("/catalog/entries/{id}/withdraw", "catalog.entry.withdraw", "Withdraw a published entry from the catalog (撤销), with a reason", (*catalog.Service).Withdraw)
	closing("/catalog/entries/{id}/deprecate", "catalog.entry.deprecate", "Deprecate an entry for good (废止), with a reason", (*catalog.Service).Deprecate)
	op(a, http.MethodGet, "/catalog/entries/{id}/versions", "catalog.entry.versions", auth.PermCatalogRead,
		"Every version of an entry, oldest first (others' drafts excluded)",
		func(ctx context.Context, in *IDPath) (*versionsOut, error) {
			vs, err := c().Versions(ctx, principal(ctx), in.ID)
			return &versionsOut{Body: vs}, err
		})
	op(a, http.MethodGet, "/catalog/entries/{id}/versions/{number}", "catalog.entry.version", auth.PermCatalogRead, "One version of an entry",
		func(ctx context.Context, in *versionIn) (*versionOut, error) {
			v, err := c().Version(ctx, principal(ctx), in.ID, in.Number)
			return &versionOut{Body: v}, err
		})
	op(a, http.MethodGet, "/catalog/entries/{id}/diff", "catalog.entry.diff", auth.PermCatalogRead,
		"Field-by-field difference between two versions (default: what the pending revision changes)",
		func(ctx context.Context, in *diffIn) (*diffOut, error) {
			d, err := c().Diff(ctx, principal(ctx), in.ID, in.From, in.To)
			return &diffOut{Body: d}, err
		})
	op(a, http.MethodGet, "/catalog/entries/{id}/history", "catalog.entry.history", auth.PermCatalogRead,
		"Who did what to an entry, when and why",
		func(ctx context.Context, in *IDPath) (*historyOut, error) {
			h, err := c().History(ctx, principal(ctx), in.ID)
			return &historyOut{Body: h}, err
		})

	// Review.
	op(a, http.MethodGet, "/catalog/review-queue", "catalog.review.queue", auth.PermCatalogRead,
		"Submitted versions, oldest first, with working days waited (reviewers: all; departments: their own)",
		func(ctx context.Context, in *queueIn) (*List[catalog.QueueItem], error) {
			q, n, err := c().ReviewQueue(ctx, principal(ctx), catalog.QueueFilter{ProviderID: in.ProviderID, RegionCode: in.Region,
				Offset: in.offset(), Limit: in.limit()})
			return list(q, n), err
		})
	batch := func(path, action string, perm auth.Permission, summary string,
		fn func(s *catalog.Service, ctx context.Context, p *auth.Principal, ids []int64, note string) error) {
		op(a, http.MethodPost, path, action, perm, summary, func(ctx context.Context, in *idsIn) (*Empty, error) {
			httpx.Note(ctx, "entries", "count", strconv.Itoa(len(in.Body.IDs)), "first_id", itoa(in.Body.IDs[0]))
			return &Empty{}, fn(c(), ctx, principal(ctx), in.Body.IDs, in.Body.Comment)
		})
	}
	batch("/catalog/review/submit", "catalog.entry.submit_many", auth.PermCatalogSubmit, "Submit several drafts: all or none", (*catalog.Service).SubmitMany)
	batch("/catalog/review/publish", "catalog.entry.publish_many", auth.PermCatalogReview, "Publish several submitted entries: all or none", (*catalog.Service).PublishMany)

	// Lists.
	op(a, http.MethodGet, "/catalog/responsibilities", "catalog.responsibility.list", auth.PermCatalogRead, "The responsibility list (责任清单)",
		func(ctx context.Context, in *listIn) (*List[catalog.Responsibility], error) {
			rs, n, err := c().Responsibilities(ctx, in.filter())
			return list(rs, n), err
		})
	op(a, http.MethodPost, "/catalog/responsibilities", "catalog.responsibility.create", auth.PermCatalogLists, "Add to the responsibility list",
		func(ctx context.Context, in *respIn) (*respOut, error) {
			r, err := c().CreateResponsibility(ctx, principal(ctx), in.Body)
			httpx.Note(ctx, "responsibility:"+itoa(r.ID), "body_id", itoa(in.Body.BodyID), "name", in.Body.Name)
			return &respOut{Body: r}, err
		})
	op(a, http.MethodGet, "/catalog/responsibilities/{id}", "catalog.responsibility.read", auth.PermCatalogRead, "One responsibility item",
		func(ctx context.Context, in *IDPath) (*respOut, error) {
			r, err := c().Responsibility(ctx, in.ID)
			return &respOut{Body: r}, err
		})
	op(a, http.MethodPut, "/catalog/responsibilities/{id}", "catalog.responsibility.update", auth.PermCatalogLists,
		"Change, cancel or restore a responsibility item",
		func(ctx context.Context, in *respUpdateIn) (*respOut, error) {
			httpx.Note(ctx, "responsibility:"+itoa(in.ID), "cancelled", strconv.FormatBool(in.Body.Cancelled))
			r, err := c().UpdateResponsibility(ctx, principal(ctx), in.ID, in.Body)
			return &respOut{Body: r}, err
		})
	op(a, http.MethodPut, "/catalog/responsibilities/{id}/entry", "catalog.responsibility.link", auth.PermCatalogRead,
		"Link the entry that fulfils a responsibility item (list managers or the body's chief data officer)",
		func(ctx context.Context, in *respLinkIn) (*respOut, error) {
			httpx.Note(ctx, "responsibility:"+itoa(in.ID), "entry_id", itoa(in.Body.EntryID))
			r, err := c().LinkResponsibility(ctx, principal(ctx), in.ID, in.Body.EntryID)
			return &respOut{Body: r}, err
		})
	op(a, http.MethodGet, "/catalog/demands", "catalog.demand.list", auth.PermCatalogRead, "The demand list (需求清单)",
		func(ctx context.Context, in *listIn) (*List[catalog.Demand], error) {
			ds, n, err := c().Demands(ctx, in.filter())
			return list(ds, n), err
		})
	op(a, http.MethodPost, "/catalog/demands", "catalog.demand.create", auth.PermCatalogDemand, "Post a demand of one's own body",
		func(ctx context.Context, in *demandIn) (*demandOut, error) {
			d, err := c().CreateDemand(ctx, principal(ctx), in.Body)
			httpx.Note(ctx, "demand:"+itoa(d.ID), "body_id", itoa(in.Body.BodyID), "title", in.Body.Title)
			return &demandOut{Body: d}, err
		})
	op(a, http.MethodGet, "/catalog/demands/{id}", "catalog.demand.read", auth.PermCatalogRead, "One demand with its linked entries",
		func(ctx context.Context, in *IDPath) (*demandOut, error) {
			d, err := c().Demand(ctx, in.ID)
			return &demandOut{Body: d}, err
		})
	op(a, http.MethodPut, "/catalog/demands/{id}", "catalog.demand.update", auth.PermCatalogDemand, "Change a demand",
		func(ctx context.Context, in *demandUpdateIn) (*demandOut, error) {
			httpx.Note(ctx, "demand:"+itoa(in.ID), "title", in.Body.Title)
			d, err := c().UpdateDemand(ctx, principal(ctx), in.ID, in.Body)
			return &demandOut{Body: d}, err
		})
	op(a, http.MethodPost, "/catalog/demands/{id}/close", "catalog.demand.close", auth.PermCatalogDemand, "Close a demand with a reason, or reopen it",
		func(ctx context.Context, in *demandCloseIn) (*demandOut, error) {
			httpx.Note(ctx, "demand:"+itoa(in.ID), "reopen", strconv.FormatBool(in.Body.Reopen), "reason", in.Body.Reason)
			d, err := c().CloseDemand(ctx, principal(ctx), in.ID, in.Body.Reason, in.Body.Reopen)
			return &demandOut{Body: d}, err
		})
	op(a, http.MethodPost, "/catalog/demands/{id}/links", "catalog.demand.link", auth.PermCatalogRead,
		"Link an entry that satisfies a demand (the demanding body, list managers, or the entry's provider)",
		func(ctx context.Context, in *demandLinkIn) (*demandOut, error) {
			httpx.Note(ctx, "demand:"+itoa(in.ID), "entry_id", itoa(in.Body.EntryID))
			d, err := c().LinkDemand(ctx, principal(ctx), in.ID, in.Body.EntryID, false)
			return &demandOut{Body: d}, err
		})
	op(a, http.MethodDelete, "/catalog/demands/{id}/links/{entry_id}", "catalog.demand.unlink", auth.PermCatalogRead, "Unlink an entry from a demand",
		func(ctx context.Context, in *demandUnlinkIn) (*demandOut, error) {
			httpx.Note(ctx, "demand:"+itoa(in.ID), "entry_id", itoa(in.EntryID))
			d, err := c().LinkDemand(ctx, principal(ctx), in.ID, in.EntryID, true)
			return &demandOut{Body: d}, err
		})
	op(a, http.MethodGet, "/catalog/negative-list", "catalog.negative.list", auth.PermCatalogRead,
		"The negative list (负面清单): entries in force that are not shared, with their basis",
		func(ctx context.Context, in *listIn) (*List[catalog.Negative], error) {
			ns, n, err := c().NegativeList(ctx, in.filter())
			return list(ns, n), err
		})

	// Reference data, statistics, index.
	op(a, http.MethodGet, "/catalog/vocabulary", "catalog.vocabulary", auth.PermCatalogRead,
		"Value sets with codes and Chinese/English labels, and the grade policy in force",
		func(ctx context.Context, _ *struct{}) (*vocabularyOut, error) {
			return &vocabularyOut{Body: c().Vocabulary()}, nil
		})
	op(a, http.MethodGet, "/catalog/stats", "catalog.stats", auth.PermCatalogRead, "Catalog figures for charts",
		func(ctx context.Context, _ *struct{}) (*statsOut, error) {
			st, err := c().Stats(ctx)
			return &statsOut{Body: st}, err
		})
	op(a, http.MethodGet, "/catalog/index", "catalog.index.status", auth.PermCatalogLists, "State of the search index and of its last rebuild",
		func(ctx context.Context, _ *struct{}) (*indexOut, error) {
			return &indexOut{Body: c().IndexStatus()}, nil
		})
	op(a, http.MethodPost, "/catalog/index/rebuild", "catalog.index.rebuild", auth.PermCatalogLists,
		"Rebuild the search index from the database in the background; follow it with GET /catalog/index",
		func(ctx context.Context, _ *struct{}) (*indexOut, error) {
			httpx.Note(ctx, "index:catalog")
			st, err := c().StartRebuild()
			return &indexOut{Body: st}, err
		})
}

// revision returns the number of an entry's pending revision, if any.
func revision(e catalog.Entry) int {
	if e.Revision != nil {
		return e.Revision.Number
	}
	return 0
}

// schemaNamer names the OpenAPI schemas of the platform's types after their
// package (CatalogEntry, AuditEntry, AuditProblem); api's own types keep
// their names. huma's default namer gives catalog.Entry and audit.Entry, or
// api.Problem and audit.Problem, the same name and panics. New should use it:
//
//	cfg.Components.Schemas = huma.NewMapRegistry("#/components/schemas/", schemaNamer)
func schemaNamer(t reflect.Type, hint string) string {
	name := huma.DefaultSchemaNamer(t, hint)
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Array {
		t = t.Elem()
	}
	pkg := t.PkgPath()
	if t.Name() == "" || !strings.HasPrefix(pkg, "xiangyun/") || pkg == "xiangyun/internal/api" {
		return name
	}
	base := path.Base(pkg)
	return strings.ToUpper(base[:1]) + base[1:] + name
}
