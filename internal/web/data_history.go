package web

import (
	"net/http"
	"strconv"
	"time"

	"xiangyun/internal/audit"
	"xiangyun/internal/auth"
	"xiangyun/internal/catalog"
	"xiangyun/internal/ingest"
	"xiangyun/internal/tabular"
)

// The history of a record (记录历史): every value it had, with the batch,
// time and version, masked as the records list is.

type historyPageData struct {
	E       catalog.Entry
	Items   []catalog.Item
	Records []ingest.RecordHistory
}

func (c *Console) recordHistory(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	p := auth.FromContext(ctx)
	id := pathID(r, "id")
	e, err := c.Catalog.Get(ctx, p, id)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	rid, _ := strconv.ParseInt(r.URL.Query().Get("record"), 10, 64)
	filters := map[string]string{}
	for _, it := range e.Items {
		if v := r.URL.Query().Get(it.Name); it.Key && v != "" {
			filters[it.Name] = v
		}
	}
	hs, err := c.Ingest.History(ctx, p, id, filters, rid)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	c.Authn.Append(ctx, audit.Entry{Action: "data.history", Object: "entry:" + strconv.FormatInt(id, 10), Detail: map[string]string{"records": strconv.Itoa(len(hs))}})
	pg := c.page(r, e.Name+" · "+pick(httpxLang(r), "记录历史", "Record history"), "catalog")
	pg.Data = &historyPageData{E: e, Items: e.Items, Records: hs}
	c.render(w, r, http.StatusOK, "data_history", pg)
}

// recordsExport streams the entry's records as CSV or XLSX, masked as the
// records list is; a data access, so it is audited.
func (c *Console) recordsExport(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id := pathID(r, "id")
	format, ct := tabular.CSV, "text/csv; charset=utf-8"
	if r.URL.Query().Get("format") == "xlsx" {
		format, ct = tabular.XLSX, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	}
	started := false
	n, err := c.Ingest.Export(ctx, auth.FromContext(ctx), id, format, w, func(ingest.ExportInfo) {
		started = true
		name := "records-" + strconv.FormatInt(id, 10) + "-" + time.Now().Format("20060102-150405") + "." + string(format)
		w.Header().Set("Content-Type", ct)
		w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	})
	outcome := audit.OutcomeSuccess
	if err != nil {
		outcome = audit.OutcomeFailure
	}
	c.Authn.Append(ctx, audit.Entry{Action: "data.export", Object: "entry:" + strconv.FormatInt(id, 10), Outcome: outcome,
		Detail: map[string]string{"format": string(format), "rows": strconv.FormatInt(n, 10)}})
	if err != nil && !started {
		c.fail(w, r, err)
	} else if err != nil {
		c.Log.Error("records export", "entry", id, "err", err)
	}
}
