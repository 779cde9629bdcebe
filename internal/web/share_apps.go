package web

import (
	"net/http"
	"strconv"
	"time"

	"xiangyun/internal/httpx"
	"xiangyun/internal/share"
)

type shareAppsData struct {
	SV     sv
	Apps   []share.Application
	NewKey *share.NewKey
}

// shareApps is 应用管理: the applications of the viewer's body, their keys,
// and the form to register one.
func (c *Console) shareApps(w http.ResponseWriter, r *http.Request) {
	c.renderApps(w, r, http.StatusOK, nil, nil)
}

func (c *Console) renderApps(w http.ResponseWriter, r *http.Request, status int, f *Form, k *share.NewKey) {
	pg := c.page(r, "", "share-apps")
	pg.Title = pg.T("应用管理", "Applications")
	as, err := c.Share.Applications(r.Context(), pg.P)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	pg.Form, pg.Data = f, &shareAppsData{SV: sv{pg.Lang}, Apps: as, NewKey: k}
	c.render(w, r, status, "share_apps", pg)
}

// shareAppCreate registers an application and shows its secret once.
func (c *Console) shareAppCreate(w http.ResponseWriter, r *http.Request) {
	f := newForm(r)
	pg := c.page(r, "", "")
	k, err := c.Share.CreateApplication(r.Context(), pg.P, share.AppInput{Name: f.V("name"), Purpose: f.V("purpose"), Contact: f.V("contact"),
		Systems: f.V("systems"), RequireSignature: f.V("require_signature") == "on"})
	if err != nil {
		pg.Error = f.fail(err, pg.Lang)
		c.renderAppsError(w, r, f, pg.Error)
		return
	}
	httpx.Note(r.Context(), "application:"+strconv.FormatInt(k.AppID, 10), "key_id", k.KeyID)
	c.renderApps(w, r, http.StatusOK, nil, &k)
}

func (c *Console) renderAppsError(w http.ResponseWriter, r *http.Request, f *Form, msg string) {
	pg := c.page(r, "", "share-apps")
	pg.Title = pg.T("应用管理", "Applications")
	as, err := c.Share.Applications(r.Context(), pg.P)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	pg.Form, pg.Error, pg.Data = f, msg, &shareAppsData{SV: sv{pg.Lang}, Apps: as}
	c.render(w, r, http.StatusUnprocessableEntity, "share_apps", pg)
}

// shareAppRotate makes a new key; the current ones keep working for the
// overlap period chosen.
func (c *Console) shareAppRotate(w http.ResponseWriter, r *http.Request) {
	id := pathID(r, "id")
	hours := formInt(r, "overlap_hours")
	k, err := c.Share.RotateKey(r.Context(), c.page(r, "", "").P, id, time.Duration(hours)*time.Hour)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	httpx.Note(r.Context(), "application:"+strconv.FormatInt(id, 10), "key_id", k.KeyID)
	c.renderApps(w, r, http.StatusOK, nil, &k)
}

// shareKeyRevoke ends one key at once.
func (c *Console) shareKeyRevoke(w http.ResponseWriter, r *http.Request) {
	id, key := pathID(r, "id"), r.PathValue("key_id")
	pg := c.page(r, "", "")
	httpx.Note(r.Context(), "application:"+strconv.FormatInt(id, 10), "key_id", key)
	if err := c.Share.RevokeKey(r.Context(), pg.P, id, key); err != nil {
		c.fail(w, r, err)
		return
	}
	c.redirect(w, r, "/share/apps", pg.T("凭据已吊销："+key, "Key revoked: "+key))
}

// shareAppRevoke stops an application.
func (c *Console) shareAppRevoke(w http.ResponseWriter, r *http.Request) {
	id := pathID(r, "id")
	pg := c.page(r, "", "")
	httpx.Note(r.Context(), "application:"+strconv.FormatInt(id, 10))
	if err := c.Share.RevokeApplication(r.Context(), pg.P, id); err != nil {
		c.fail(w, r, err)
		return
	}
	c.redirect(w, r, "/share/apps", pg.T("应用已停用，其凭据立即失效", "Application revoked; its keys stopped at once"))
}
