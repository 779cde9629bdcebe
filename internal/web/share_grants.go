package web

import (
	"net/http"

	"xiangyun/internal/httpx"
	"xiangyun/internal/share"
)

type shareGrantsData struct {
	SV    sv
	Tabs  []shareTab
	Items []share.GrantInfo
	Pager Pager
}

// shareGrants is 共享授权: the grants the viewer's body uses, or (a tab)
// those on its entries, with revocation.
func (c *Console) shareGrants(w http.ResponseWriter, r *http.Request) {
	pg := c.page(r, "", "share-grants")
	pg.Title = pg.T("共享授权", "Grants")
	as := r.URL.Query().Get("as")
	if as != "provider" && as != "all" {
		as = "consumer"
	}
	tabs := []shareTab{{pg.T("本单位使用的授权", "Grants my body uses"), "/share/grants", as == "consumer"},
		{pg.T("本单位目录的授权", "Grants on my body's entries"), "/share/grants?as=provider", as == "provider"}}
	if pg.P.Global("share.read") {
		tabs = append(tabs, shareTab{pg.T("全部", "All"), "/share/grants?as=all", as == "all"})
	}
	pager := pagerOf(r, 20)
	items, total, err := c.Share.Grants(r.Context(), pg.P, share.GrantFilter{As: as, Offset: pager.Offset(), Limit: pager.PageSize})
	if err != nil {
		c.fail(w, r, err)
		return
	}
	pager.Total = total
	pg.Data = &shareGrantsData{SV: sv{pg.Lang}, Tabs: tabs, Items: items, Pager: pager}
	c.render(w, r, http.StatusOK, "share_grants", pg)
}

// shareGrantRevoke revokes a grant with a reason; every gateway node stops
// it within a second.
func (c *Console) shareGrantRevoke(w http.ResponseWriter, r *http.Request) {
	f := newForm(r)
	pg := c.page(r, "", "")
	id := pathID(r, "id")
	httpx.Note(r.Context(), "grant:"+itoa(id))
	if _, err := c.Share.RevokeGrant(r.Context(), pg.P, id, f.V("reason")); err != nil {
		c.fail(w, r, err)
		return
	}
	back := "/share/grants"
	if ref := here(r); ref != "/" {
		back = ref
	}
	c.redirect(w, r, back, pg.T("授权已撤销，网关即时停止调用", "Grant revoked; the gateway stops it at once"))
}
