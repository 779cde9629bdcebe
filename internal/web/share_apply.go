package web

import (
	"net/http"
	"strconv"
	"strings"

	"xiangyun/internal/catalog"
	"xiangyun/internal/share"
)

type shareApplyData struct {
	SV        sv
	E         catalog.Entry
	Apps      []share.Application
	Scenarios []share.Scenario
	Demands   []catalog.Demand
	Items     []string // checked items
}

// shareApplyForm is 申请共享 on an entry: pick the items needed with
// checkboxes (最小够用), the application, purpose and legal basis.
func (c *Console) shareApplyForm(w http.ResponseWriter, r *http.Request) {
	c.renderApply(w, r, http.StatusOK, nil)
}

func (c *Console) renderApply(w http.ResponseWriter, r *http.Request, status int, f *Form) {
	pg := c.page(r, "", "share-requests")
	ctx := r.Context()
	e, err := c.Catalog.Get(ctx, pg.P, pathID(r, "entry"))
	if err != nil {
		c.fail(w, r, err)
		return
	}
	pg.Title = pg.T("申请共享：", "Request: ") + e.Name
	all, err := c.Share.Applications(ctx, pg.P)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	d := &shareApplyData{SV: sv{pg.Lang}, E: e}
	for _, a := range all {
		if a.Status == share.AppActive && pg.P.HasAt("share.apply", a.BodyID) && a.BodyID != e.ProviderID {
			d.Apps = append(d.Apps, a)
		}
	}
	body := pg.P.User.BodyID
	if d.Scenarios, err = c.Share.ScenariosFor(ctx, body, e.ID); err != nil {
		c.fail(w, r, err)
		return
	}
	if ds, _, err := c.Catalog.Demands(ctx, catalog.ListFilter{BodyID: body, Status: catalog.DemandOpen}); err == nil {
		d.Demands = ds
	}
	if f != nil {
		d.Items = f.Values["items"]
	}
	pg.Form, pg.Data = f, d
	c.render(w, r, status, "share_apply", pg)
}

// shareApply files the request and shows where it stands.
func (c *Console) shareApply(w http.ResponseWriter, r *http.Request) {
	f := newForm(r)
	pg := c.page(r, "", "")
	in := share.RequestInput{EntryID: pathID(r, "entry"), AppID: formInt(r, "application_id"), Items: f.Values["items"],
		Purpose: f.V("purpose"), Basis: f.V("basis"), ValidTo: f.V("valid_to"), ScenarioID: formInt(r, "scenario_id"), DemandID: formInt(r, "demand_id")}
	if k, v := strings.TrimSpace(f.V("scope_item")), strings.TrimSpace(f.V("scope_value")); k != "" && v != "" {
		in.RowScope = map[string]string{k: v}
	}
	req, err := c.Share.Submit(r.Context(), pg.P, in)
	if err != nil {
		pg.Error = f.fail(err, pg.Lang)
		c.renderApplyError(w, r, f, pg.Error)
		return
	}
	msg := map[string]string{
		share.StatusGranted: pg.T("已授权，可通过共享网关调用", "Granted: call it through the gateway"),
		share.StatusPending: pg.T("已提交，待平台审核", "Filed: waiting for the platform's check"),
		share.StatusRefused: pg.T("该目录不予共享，申请未通过", "The entry is not shared; the request is refused"),
	}[req.Status]
	c.redirect(w, r, "/share/requests/"+strconv.FormatInt(req.ID, 10), msg)
}

func (c *Console) renderApplyError(w http.ResponseWriter, r *http.Request, f *Form, msg string) {
	rr := r.Clone(r.Context())
	rr.Method = http.MethodGet
	f.Errors["_"] = msg
	c.renderApply(w, rr, http.StatusUnprocessableEntity, f)
}
