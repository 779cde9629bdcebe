package web

import (
	"net/http"

	"xiangyun/internal/share"
)

type shareTab struct {
	Label, Href string
	On          bool
}

type shareRequestsData struct {
	SV    sv
	Tabs  []shareTab
	Items []share.Request
	Pager Pager
	View  string
}

// shareRequests is 我的申请: the requests of the viewer's body, or (a tab)
// those on its entries; reviewers also see all.
func (c *Console) shareRequests(w http.ResponseWriter, r *http.Request) {
	pg := c.page(r, "", "share-requests")
	pg.Title = pg.T("共享申请", "Share requests")
	view := r.URL.Query().Get("view")
	if view != share.ViewProvider && view != share.ViewAll {
		view = share.ViewMine
	}
	tabs := []shareTab{{pg.T("本单位的申请", "My body's requests"), "/share/requests", view == share.ViewMine},
		{pg.T("本单位目录收到的申请", "Requests on my body's entries"), "/share/requests?view=provider", view == share.ViewProvider}}
	if pg.P.Global("share.read") {
		tabs = append(tabs, shareTab{pg.T("全部", "All"), "/share/requests?view=all", view == share.ViewAll})
	}
	pager := pagerOf(r, 20)
	items, total, err := c.Share.Requests(r.Context(), pg.P, share.RequestFilter{View: view, Status: r.URL.Query().Get("status"), Offset: pager.Offset(), Limit: pager.PageSize})
	if err != nil {
		c.fail(w, r, err)
		return
	}
	pager.Total = total
	pg.Data = &shareRequestsData{SV: sv{pg.Lang}, Tabs: tabs, Items: items, Pager: pager, View: view}
	c.render(w, r, http.StatusOK, "share_requests", pg)
}

// shareReview is 待我审核: the requests whose current step the viewer
// answers, nearest deadline first, with working days left and overdue marks.
func (c *Console) shareReview(w http.ResponseWriter, r *http.Request) {
	pg := c.page(r, "", "share-review")
	pg.Title = pg.T("待我审核", "Requests to answer")
	pager := pagerOf(r, 50)
	items, total, err := c.Share.Requests(r.Context(), pg.P, share.RequestFilter{View: share.ViewReview, Offset: pager.Offset(), Limit: pager.PageSize})
	if err != nil {
		c.fail(w, r, err)
		return
	}
	pager.Total = total
	pg.Data = &shareRequestsData{SV: sv{pg.Lang}, Items: items, Pager: pager, View: share.ViewReview}
	c.render(w, r, http.StatusOK, "share_requests", pg)
}
