package web

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"xiangyun/internal/auth"
	"xiangyun/internal/catalog"
	"xiangyun/internal/org"
	"xiangyun/internal/workday"
)

// attention is an entry of the caller's body that needs action: returned
// with the reviewer's comments, or a draft not yet submitted.
type attention struct {
	E        catalog.Entry
	Returned *catalog.Version
}

type mineData struct {
	V         vocab
	Result    catalog.SearchResult
	Pager     Pager
	Tabs      []facetLink
	Attention []attention
	Bodies    int // bodies whose catalog the caller edits
	Q         string
}

// maxAttention bounds the entries the attention list looks at.
const maxAttention = 1000

// ownFilters selects the entries of the bodies whose catalog p edits.
func ownFilters(p *auth.Principal) map[string][]string {
	var ids []string
	for _, b := range p.BodiesWith(auth.PermCatalogEdit) {
		ids = append(ids, strconv.FormatInt(b, 10))
	}
	return map[string][]string{"provider": ids}
}

// needsAction reports whether an entry of one's own body waits for its
// staff: returned, or a draft (new or revision) not yet submitted.
func needsAction(e *catalog.Entry) bool {
	for _, s := range []string{e.Status, e.RevisionStatus} {
		if s == catalog.StatusReturned || s == catalog.StatusDraft {
			return true
		}
	}
	return false
}

// returnedVersion finds the version of an entry that was returned, with
// the reviewer's comments.
func (c *Console) returnedVersion(r *http.Request, e *catalog.Entry) *catalog.Version {
	if e.Status != catalog.StatusReturned && e.RevisionStatus != catalog.StatusReturned {
		return nil
	}
	vs, err := c.Catalog.Versions(r.Context(), auth.FromContext(r.Context()), e.ID)
	if err != nil {
		return nil
	}
	for i := len(vs) - 1; i >= 0; i-- {
		if vs[i].Status == catalog.StatusReturned {
			return &vs[i]
		}
	}
	return nil
}

func (c *Console) catalogMine(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	pg := c.page(r, pick(pgLang(r), "本单位目录", "My body's entries"), "catalog-mine")
	d := &mineData{V: c.vocab(pg.Lang), Q: r.URL.Query().Get("q")}
	own := ownFilters(pg.P)
	d.Bodies = len(own["provider"])
	pager := pagerOf(r, 20)
	if d.Bodies > 0 {
		// Every entry of the body, for the status tabs and the entries
		// that wait for its staff.
		all, err := c.Catalog.Search(ctx, pg.P, catalog.SearchQuery{Filters: own, Sort: "-updated", Limit: maxAttention, Facets: []string{"status"}})
		if err != nil {
			c.fail(w, r, err)
			return
		}
		status := r.URL.Query().Get("status")
		d.Tabs = append(d.Tabs, facetLink{Label: pg.T("全部", "All"), Count: all.Total, On: status == "", Href: hrefOf("/catalog/mine", withParam(r.URL.Query(), "status"))})
		for _, t := range catalog.Statuses {
			for _, fv := range all.Facets["status"] {
				if fv.Value == t.Code {
					d.Tabs = append(d.Tabs, facetLink{Label: t.Label(pg.Lang), Count: fv.Count, On: status == t.Code, Href: hrefOf("/catalog/mine", withParam(r.URL.Query(), "status", t.Code))})
				}
			}
		}
		for i := range all.Items {
			if e := &all.Items[i]; needsAction(e) {
				d.Attention = append(d.Attention, attention{E: *e, Returned: c.returnedVersion(r, e)})
			}
		}
		// Returned entries first: they carry the reviewer's comments.
		slices.SortStableFunc(d.Attention, func(a, b attention) int {
			switch {
			case a.Returned != nil && b.Returned == nil:
				return -1
			case a.Returned == nil && b.Returned != nil:
				return 1
			}
			return 0
		})
		q := catalog.SearchQuery{Q: d.Q, Filters: own, Sort: "-updated", Offset: pager.Offset(), Limit: pager.PageSize, Facets: []string{}}
		if status != "" {
			q.Filters = map[string][]string{"provider": own["provider"], "status": {status}}
		}
		res, err := c.Catalog.Search(ctx, pg.P, q)
		if err != nil {
			c.fail(w, r, err)
			return
		}
		d.Result = res
		pager.Total = res.Total
	}
	d.Pager = pager
	pg.Data = d
	c.render(w, r, http.StatusOK, "catalog_mine", pg)
}

type reviewData struct {
	V           vocab
	Items       []catalog.QueueItem
	Pager       Pager
	Close, Over int
	Regions     []org.Region // the province and its cities, for the filter
	Providers   []org.Body
	Filtered    bool
}

func (c *Console) catalogReview(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	pg := c.page(r, pick(pgLang(r), "目录审核", "Review queue"), "catalog-review")
	pager := pagerOf(r, 50)
	q := r.URL.Query()
	f := catalog.QueueFilter{RegionCode: q.Get("region"), Offset: pager.Offset(), Limit: pager.PageSize}
	f.ProviderID, _ = strconv.ParseInt(q.Get("provider"), 10, 64)
	items, total, err := c.Catalog.ReviewQueue(ctx, pg.P, f)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	pager.Total = total
	d := &reviewData{V: c.vocab(pg.Lang), Items: items, Pager: pager, Close: reviewCloseDays, Over: reviewOverDays, Filtered: f.RegionCode != "" || f.ProviderID != 0}
	regions, err := c.Orgs.Regions(ctx)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	for _, rg := range regions {
		if rg.Level <= 2 {
			d.Regions = append(d.Regions, rg)
		}
	}
	if d.Providers, _, err = c.Orgs.Bodies(ctx, org.BodyFilter{}); err != nil {
		c.fail(w, r, err)
		return
	}
	pg.Data = d
	c.render(w, r, http.StatusOK, "catalog_review", pg)
}

// catalogHomeData is the catalog part of the home page.
type catalogHomeData struct {
	V                   vocab
	Published, Negative int
	Reviewer, Editor    bool
	Queue               []catalog.QueueItem
	QueueTotal          int
	Mine, Returned      int
	Tasks               []catalog.Entry
	// A chief data officer's part: the body's entries waiting for review,
	// and its open duties of the responsibility list, overdue first.
	Submitter bool
	Submitted []waitingEntry
	Duties    []catalog.Responsibility
	Overdue   int
}

// waitingEntry is an entry of one's own body waiting for review.
type waitingEntry struct {
	E    catalog.Entry
	Days int // working days since it was submitted
}

// dutyDays is how far ahead the home page lists open duties.
const dutyDays = 30

// homeTasks is how many tasks the home page lists.
const homeTasks = 8

// catalogHome gathers the viewer's catalog tasks and headline figures for
// the home page; nil leaves the section out.
func (c *Console) catalogHome(r *http.Request) any {
	ctx := r.Context()
	p := auth.FromContext(ctx)
	d := &catalogHomeData{V: c.vocab(pgLang(r))}
	res, err := c.Catalog.Search(ctx, p, catalog.SearchQuery{Filters: map[string][]string{"status": {catalog.StatusPublished}}, Limit: 1, Facets: []string{}})
	if err != nil {
		c.Log.Error("catalog home", "err", err)
		return nil
	}
	d.Published = res.Total
	if _, n, err := c.Catalog.NegativeList(ctx, catalog.ListFilter{Limit: 1}); err == nil {
		d.Negative = n
	}
	if p.Has(auth.PermCatalogReview) {
		d.Reviewer = true
		d.Queue, d.QueueTotal, _ = c.Catalog.ReviewQueue(ctx, p, catalog.QueueFilter{Limit: homeTasks})
	}
	if own := ownFilters(p); len(own["provider"]) > 0 {
		d.Editor = true
		all, err := c.Catalog.Search(ctx, p, catalog.SearchQuery{Filters: own, Sort: "-updated", Limit: maxAttention, Facets: []string{}})
		if err == nil {
			d.Mine = all.Total
			var returned, drafts []catalog.Entry
			for _, e := range all.Items {
				switch {
				case e.Status == catalog.StatusReturned || e.RevisionStatus == catalog.StatusReturned:
					returned = append(returned, e)
				case needsAction(&e):
					drafts = append(drafts, e)
				}
			}
			d.Returned = len(returned)
			d.Tasks = append(returned, drafts...)
			d.Tasks = d.Tasks[:min(len(d.Tasks), homeTasks)]
			if p.Has(auth.PermCatalogSubmit) {
				d.Submitter = true
				now := time.Now()
				for _, e := range all.Items {
					if e.Status == catalog.StatusSubmitted || e.RevisionStatus == catalog.StatusSubmitted {
						d.Submitted = append(d.Submitted, waitingEntry{E: e, Days: workday.WorkdaysBetween(e.UpdatedAt, now)})
					}
				}
				slices.SortStableFunc(d.Submitted, func(a, b waitingEntry) int { return b.Days - a.Days })
				d.Submitted = d.Submitted[:min(len(d.Submitted), homeTasks)]
			}
		}
		if d.Submitter {
			horizon := time.Now().In(workday.Location()).AddDate(0, 0, dutyDays).Format("2006-01-02")
			for _, b := range p.BodiesWith(auth.PermCatalogSubmit) {
				rs, _, err := c.Catalog.Responsibilities(ctx, catalog.ListFilter{BodyID: b, Status: catalog.RespPending})
				if err != nil {
					c.Log.Error("catalog home: responsibilities", "err", err)
					break
				}
				for _, r := range rs {
					if r.Overdue {
						d.Overdue++
					}
					if r.Overdue || (r.Due != "" && r.Due <= horizon) {
						d.Duties = append(d.Duties, r)
					}
				}
			}
			slices.SortStableFunc(d.Duties, func(a, b catalog.Responsibility) int { return strings.Compare(a.Due, b.Due) })
		}
	}
	return d
}
