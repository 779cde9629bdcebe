package web

import (
	"net/http"

	"xiangyun/internal/catalog"
	"xiangyun/internal/share"
)

type shareRequestData struct {
	SV    sv
	R     share.Request
	E     catalog.Entry
	Grant *share.GrantInfo
	// Provider step: the approval form sets the grant's terms.
	ProviderStep bool
}

// shareRequest shows one request with its recorded steps and, for whoever
// answers its current step, the approve / ask for more / refuse forms.
func (c *Console) shareRequest(w http.ResponseWriter, r *http.Request) {
	c.renderRequest(w, r, http.StatusOK, nil)
}

func (c *Console) renderRequest(w http.ResponseWriter, r *http.Request, status int, f *Form) {
	pg := c.page(r, "", "share-requests")
	ctx := r.Context()
	req, err := c.Share.Request(ctx, pg.P, pathID(r, "id"))
	if err != nil {
		c.fail(w, r, err)
		return
	}
	if req.CanDecide {
		pg.Active = "share-review"
	}
	pg.Title = pg.T("共享申请 ", "Share request ") + itoa(req.ID)
	d := &shareRequestData{SV: sv{pg.Lang}, R: req, ProviderStep: req.Step == share.StepProvider}
	if e, err := c.Catalog.Get(ctx, catalog.System, req.EntryID); err == nil {
		d.E = e
	}
	if req.GrantID != nil {
		if g, err := c.Share.Grant(ctx, pg.P, *req.GrantID); err == nil {
			d.Grant = &g
		}
	}
	pg.Form, pg.Data = f, d
	if f != nil {
		pg.Error = f.Errors["_"]
	}
	c.render(w, r, status, "share_request", pg)
}

// shareDecide answers a request's step (approve, ask-more, refuse) or
// supplements it; the form carries the revision it was made on, so a step
// answered meanwhile by someone else is refused, not overwritten.
func (c *Console) shareDecide(action string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		f := newForm(r)
		pg := c.page(r, "", "")
		id, rev := pathID(r, "id"), formInt(r, "revision")
		ctx := r.Context()
		var err error
		var msg string
		switch action {
		case "approve":
			t := share.Terms{ClearItems: f.Values["clear_items"], Rate: int(formInt(r, "rate")), Burst: int(formInt(r, "burst")), DailyQuota: formInt(r, "daily_quota")}
			_, err = c.Share.Approve(ctx, pg.P, id, f.V("comment"), t, rev)
			msg = pg.T("已审核通过", "Passed")
		case "ask-more":
			_, err = c.Share.AskMore(ctx, pg.P, id, f.V("needed"), rev)
			msg = pg.T("已一次性告知需补充的材料", "The applicant was asked for the material")
		case "refuse":
			_, err = c.Share.Refuse(ctx, pg.P, id, f.V("reason"), rev)
			msg = pg.T("已不予共享", "Refused")
		case "supplement":
			_, err = c.Share.Supplement(ctx, pg.P, id, f.V("material"), rev)
			msg = pg.T("材料已补充，审核时限重新计算", "Material supplied; the step's clock starts again")
		}
		if err != nil {
			f.Errors["_"] = f.fail(err, pg.Lang)
			rr := r.Clone(ctx)
			rr.Method = http.MethodGet
			c.renderRequest(w, rr, http.StatusUnprocessableEntity, f)
			return
		}
		c.redirect(w, r, "/share/requests/"+itoa(id), msg)
	}
}
