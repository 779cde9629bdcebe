package web

import (
	"cmp"
	"net/http"
	"slices"
	"time"

	"xiangyun/internal/audit"
	"xiangyun/internal/auth"
	"xiangyun/internal/catalog"
	"xiangyun/internal/org"
)

type homeData struct {
	Bodies, Users int
	ByKind        []chartItem
	ByRegion      []chartItem
	AuditSize     int64
	Audit         *homeAudit     // the auditor's section
	Catalog       any            // the catalog section, when the viewer may read the catalog
	Platform      *catalog.Stats // the administrator's platform figures
	Quality       any            // the provider's overdue entries and open incidents (partials_quality.html)
	Share         *homeShare     // share requests waiting for the viewer (share_home.go)
}

// homeAudit is the auditor's part of the home page: what went wrong in the
// last week, each figure linking to the audit log filtered to it.
type homeAudit struct {
	Failures, Denied, LoginFailures             int
	FailuresHref, DeniedHref, LoginFailuresHref string
	Recent                                      []audit.Entry
}

// homeAuditDays is the period of the auditor's figures.
const homeAuditDays = 7

func (c *Console) auditHome(r *http.Request) *homeAudit {
	ctx := r.Context()
	since := time.Now().AddDate(0, 0, -homeAuditDays+1)
	from := time.Date(since.Year(), since.Month(), since.Day(), 0, 0, 0, 0, time.Local)
	fromQ := "&from=" + from.Format("2006-01-02")
	h := &homeAudit{
		FailuresHref: "/audit?outcome=failure" + fromQ, DeniedHref: "/audit?outcome=denied" + fromQ,
		LoginFailuresHref: "/audit?action=session.login&outcome=failure" + fromQ,
	}
	failed, n, err := c.Audit.List(ctx, audit.Filter{Outcome: audit.OutcomeFailure, From: from, Limit: homeRecent})
	if err != nil {
		c.Log.Error("audit home", "err", err)
		return h
	}
	h.Failures = n
	denied, n, _ := c.Audit.List(ctx, audit.Filter{Outcome: audit.OutcomeDenied, From: from, Limit: homeRecent})
	h.Denied = n
	_, h.LoginFailures, _ = c.Audit.List(ctx, audit.Filter{Action: "session.login", Outcome: audit.OutcomeFailure, From: from, Limit: 1})
	h.Recent = append(failed, denied...)
	slices.SortFunc(h.Recent, func(a, b audit.Entry) int { return cmp.Compare(b.Seq, a.Seq) })
	h.Recent = h.Recent[:min(len(h.Recent), homeRecent)]
	return h
}

// homeRecent is how many recent failures and refusals the auditor sees.
const homeRecent = 8

type chartItem struct {
	Name  string `json:"name"`
	Value int    `json:"value"`
}

func (c *Console) home(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	pg := c.page(r, pick(pgLang(r), "工作台", "Home"), "home")
	p := pg.P
	d := &homeData{}
	if p.Has(auth.PermOrgRead) {
		bodies, n, err := c.Orgs.Bodies(ctx, org.BodyFilter{})
		if err != nil {
			c.fail(w, r, err)
			return
		}
		d.Bodies = n
		kinds := map[org.Kind]int{}
		regions := map[string]int{}
		for _, b := range bodies {
			kinds[b.Kind]++
			regions[b.RegionCode[:4]+"00"]++
		}
		for _, k := range org.Kinds {
			d.ByKind = append(d.ByKind, chartItem{Name: kindLabel(k.Kind, pg.Lang), Value: kinds[k.Kind]})
		}
		regs, _ := c.Orgs.Regions(ctx)
		for _, rg := range regs {
			if rg.Level <= 2 && regions[rg.Code] > 0 {
				d.ByRegion = append(d.ByRegion, chartItem{Name: rg.Name, Value: regions[rg.Code]})
			}
		}
	}
	if p.Has(auth.PermUserRead) {
		_, d.Users, _ = c.Auth.Users(ctx, auth.UserFilter{Limit: 1})
	}
	if p.Has(auth.PermAuditRead) {
		d.AuditSize, _, _, _ = c.Audit.Head(ctx)
		d.Audit = c.auditHome(r)
	}
	if p.Has(auth.PermCatalogRead) {
		d.Catalog = c.catalogHome(r)
	}
	if p.Has(auth.PermSettings) && p.Has(auth.PermCatalogRead) {
		if st, err := c.Catalog.Stats(ctx); err == nil {
			d.Platform = &st
		} else {
			c.Log.Error("home: catalog figures", "err", err)
		}
	}
	if p.Has(auth.PermQualityManage) {
		if q := c.qualityHome(r); q != nil {
			d.Quality = q
		}
	}
	if p.Has(auth.PermShareApprove) {
		d.Share = c.shareHome(r)
	}
	pg.Data = d
	c.render(w, r, http.StatusOK, "home", pg)
}
