package web

import (
	"net/http"
	"strconv"
	"strings"

	"xiangyun/internal/httpx"
	"xiangyun/internal/share"
)

type shareServicesData struct {
	SV       sv
	Services []share.ServiceInfo
}

// shareServices is 服务接口: the HTTP services providing bodies register on
// their entries, to which the gateway forwards service calls.
func (c *Console) shareServices(w http.ResponseWriter, r *http.Request) {
	c.renderServices(w, r, http.StatusOK, nil)
}

func (c *Console) renderServices(w http.ResponseWriter, r *http.Request, status int, f *Form) {
	pg := c.page(r, "", "share-services")
	pg.Title = pg.T("服务接口", "Services")
	vs, err := c.Share.Services(r.Context(), pg.P)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	pg.Form, pg.Data = f, &shareServicesData{SV: sv{pg.Lang}, Services: vs}
	if f != nil {
		pg.Error = f.Errors["_"]
	}
	c.render(w, r, status, "share_services", pg)
}

// shareServiceCreate registers a service on an entry given by its code.
func (c *Console) shareServiceCreate(w http.ResponseWriter, r *http.Request) {
	f := newForm(r)
	pg := c.page(r, "", "")
	in := share.ServiceInput{BaseURL: f.V("base_url"), TimeoutMS: formInt(r, "timeout_ms")}
	e, err := c.Catalog.GetByCode(r.Context(), pg.P, strings.TrimSpace(f.V("entry_code")))
	var v share.ServiceInfo
	if err == nil {
		in.EntryID = e.ID
		v, err = c.Share.RegisterService(r.Context(), pg.P, in)
	}
	if err != nil {
		f.Errors["_"] = f.fail(err, pg.Lang)
		rr := r.Clone(r.Context())
		rr.Method = http.MethodGet
		c.renderServices(w, rr, http.StatusUnprocessableEntity, f)
		return
	}
	httpx.Note(r.Context(), "service:"+itoa(v.ID), "entry", strconv.FormatInt(v.EntryID, 10))
	c.redirect(w, r, "/share/services", pg.T("服务接口已登记", "Service registered"))
}

// shareServiceDelete removes a registration.
func (c *Console) shareServiceDelete(w http.ResponseWriter, r *http.Request) {
	pg := c.page(r, "", "")
	id := pathID(r, "id")
	httpx.Note(r.Context(), "service:"+itoa(id))
	if err := c.Share.DeleteService(r.Context(), pg.P, id); err != nil {
		c.fail(w, r, err)
		return
	}
	c.redirect(w, r, "/share/services", pg.T("服务接口已删除", "Service removed"))
}
