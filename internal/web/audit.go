package web

import (
	"net/http"
	"strconv"
	"time"

	"xiangyun/internal/api"
	"xiangyun/internal/audit"
	"xiangyun/internal/httpx"
)

type auditData struct {
	Entries []audit.Entry
	Pager   Pager
	Report  *audit.Report
	Size    int64
	// Export links carry the current filter, so the export is what the
	// auditor sees.
	ExportCSV, ExportXLSX string
}

func exportLinks(d *auditData, r *http.Request) {
	q := r.URL.Query()
	q.Del("page")
	q.Set("format", "csv")
	d.ExportCSV = "/audit/export?" + q.Encode()
	q.Set("format", "xlsx")
	d.ExportXLSX = "/audit/export?" + q.Encode()
}

func auditFilter(r *http.Request) audit.Filter {
	q := r.URL.Query()
	f := audit.Filter{Actor: q.Get("actor"), Action: q.Get("action"), Object: q.Get("object"), Outcome: q.Get("outcome"), IP: q.Get("ip"), Q: q.Get("q")}
	if t, err := time.ParseInLocation("2006-01-02", q.Get("from"), time.Local); err == nil {
		f.From = t
	}
	if t, err := time.ParseInLocation("2006-01-02", q.Get("to"), time.Local); err == nil {
		f.To = t.Add(24*time.Hour - time.Nanosecond)
	}
	return f
}

func (c *Console) auditList(w http.ResponseWriter, r *http.Request) {
	pg := c.page(r, pick(pgLang(r), "审计日志", "Audit log"), "audit")
	pager := pagerOf(r, 50)
	f := auditFilter(r)
	f.Offset, f.Limit = pager.Offset(), pager.PageSize
	es, total, err := c.Audit.List(r.Context(), f)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	pager.Total = total
	d := &auditData{Entries: es, Pager: pager}
	d.Size, _, _, _ = c.Audit.Head(r.Context())
	exportLinks(d, r)
	pg.Data = d
	c.render(w, r, http.StatusOK, "audit", pg)
}

func (c *Console) auditExport(w http.ResponseWriter, r *http.Request) {
	format := r.URL.Query().Get("format")
	if format != "xlsx" {
		format = "csv"
	}
	c.Authn.Append(r.Context(), audit.Entry{Action: "audit.export", Detail: map[string]string{"format": format}})
	if err := api.ExportAudit(r.Context(), c.Audit, auditFilter(r), format, w); err != nil {
		c.Log.Error("audit export", "request_id", httpx.RequestID(r.Context()), "err", err)
	}
}

func (c *Console) auditVerify(w http.ResponseWriter, r *http.Request) {
	rep, err := c.Audit.Verify(r.Context())
	if err != nil {
		c.fail(w, r, err)
		return
	}
	httpx.Note(r.Context(), "", "ok", strconv.FormatBool(rep.OK), "size", strconv.FormatInt(rep.Size, 10))
	pg := c.page(r, pick(pgLang(r), "审计日志", "Audit log"), "audit")
	pager := pagerOf(r, 50)
	es, total, err := c.Audit.List(r.Context(), audit.Filter{Limit: pager.PageSize})
	if err != nil {
		c.fail(w, r, err)
		return
	}
	pager.Total = total
	d := &auditData{Entries: es, Pager: pager, Report: &rep, Size: rep.Size}
	exportLinks(d, r)
	pg.Data = d
	c.render(w, r, http.StatusOK, "audit", pg)
}
