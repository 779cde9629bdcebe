package web

import (
	"net/http"

	"xiangyun/internal/auth"
	"xiangyun/internal/org"
)

type homeData struct {
	Bodies, Users int
	ByKind        []chartItem
	ByRegion      []chartItem
	AuditSize     int64
	Catalog       any // the catalog section, when the viewer may read the catalog
}

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
			d.ByKind = append(d.ByKind, chartItem{Name: pg.T(k.ZH, string(k.Kind)), Value: kinds[k.Kind]})
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
	}
	if p.Has(auth.PermCatalogRead) {
		d.Catalog = c.catalogHome(r)
	}
	pg.Data = d
	c.render(w, r, http.StatusOK, "home", pg)
}
