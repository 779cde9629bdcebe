package web

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	"xiangyun/internal/auth"
	"xiangyun/internal/catalog"
	"xiangyun/internal/errs"
	"xiangyun/internal/httpx"
	"xiangyun/internal/ingest"
	"xiangyun/internal/tabular"
)

// The 数据 (records) pages of an entry: upload, batches with progress and
// error reports, and the records, masked unless the reader is the provider.

// MaxConsoleUpload bounds a records file uploaded from the console.
var MaxConsoleUpload int64 = 2 << 30

func (c *Console) dataRoutes() {
	if c.Ingest == nil {
		return
	}
	c.route(http.MethodGet, "/catalog/{id}/data", auth.PermDataRead, "data.page", c.dataPage)
	c.route(http.MethodPost, "/catalog/{id}/data", auth.PermDataUpload, "data.upload", c.dataUpload)
	c.route(http.MethodGet, "/data/batches/{id}", auth.PermDataRead, "data.batch", c.batchPage)
	c.route(http.MethodPost, "/data/batches/{id}/cancel", auth.PermDataUpload, "data.cancel", c.batchCancel)
	c.route(http.MethodGet, "/data/batches/{id}/report", auth.PermDataRead, "data.report", c.batchReport)
	c.fileRoutes()
	c.route(http.MethodGet, "/catalog/base", auth.PermCatalogRead, "catalog.base", c.baseLibraries)
	if c.Quality != nil {
		c.route(http.MethodGet, "/quality/compare", auth.PermQualityRead, "quality.compare", c.qualityCompare)
	}
	c.route(http.MethodGet, "/catalog/{id}/data/history", auth.PermDataRead, "data.history", c.recordHistory)
	c.route(http.MethodGet, "/catalog/{id}/data/export", auth.PermDataRead, "data.export", c.recordsExport)
	c.route(http.MethodGet, "/catalog/{id}/data/mapping", auth.PermDataUpload, "data.mapping", c.mappingPage)
	c.route(http.MethodPost, "/catalog/{id}/data/mapping", auth.PermDataUpload, "data.mapping.save", c.mappingSave)
	c.route(http.MethodPost, "/catalog/{id}/data/mapping/preview", auth.PermDataUpload, "data.mapping.preview", c.mappingPreview)
}

type dataPageData struct {
	E         catalog.Entry
	Items     []catalog.Item
	Rows      []dataRow
	Total     int
	Page      int
	Pages     int
	Batches   []ingest.Batch
	CanUpload bool
	Masked    bool
	Err       string // why the records cannot be shown
	NoRecords bool   // the entry is not shared as 库表 or 接口: no records section
	Files     *filesSection
}

func (c *Console) dataPage(w http.ResponseWriter, r *http.Request) {
	c.renderData(w, r, http.StatusOK, "")
}

func (c *Console) renderData(w http.ResponseWriter, r *http.Request, status int, msg string) {
	ctx := r.Context()
	p := auth.FromContext(ctx)
	id := pathID(r, "id")
	e, err := c.Catalog.Get(ctx, p, id)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	pg := c.page(r, e.Name+" · "+pick(httpxLang(r), "数据", "Data"), "catalog")
	pg.Error = msg
	d := &dataPageData{E: e, Items: e.Items, CanUpload: p.HasAt(auth.PermDataUpload, e.ProviderID)}
	d.Masked = !containsBody(p.BodiesWith(auth.PermDataRead), e.ProviderID)
	if d.Files, err = c.files(ctx, p, &e, pg.Lang); err != nil {
		c.fail(w, r, err)
		return
	}
	d.NoRecords = d.Files != nil && e.ShareMethod != catalog.MethodTable && e.ShareMethod != catalog.MethodAPI
	page, _ := strconv.Atoi(r.URL.Query().Get("page"))
	d.Page = max(page, 1)
	const size = 50
	var recs ingest.Page
	if !d.NoRecords {
		recs, err = c.Ingest.Records(ctx, p, id, nil, size, (d.Page-1)*size)
	}
	if err != nil {
		if e, ok := asErr(err); ok {
			d.Err = e.Message(pg.Lang)
		} else {
			c.fail(w, r, err)
			return
		}
	}
	d.Total = recs.Total
	for _, rec := range recs.Items {
		row := dataRow{ID: fmtCell(rec["_id"]), Batch: fmtCell(rec["_batch"]), Version: fmtCell(rec["_version"]), Disputed: rec["_disputed"] == true}
		for _, it := range e.Items {
			row.Cells = append(row.Cells, fmtCell(rec[it.Name]))
		}
		d.Rows = append(d.Rows, row)
	}
	d.Pages = max(1, (d.Total+size-1)/size)
	if d.Err == "" && !d.NoRecords {
		if d.Batches, _, err = c.Ingest.Batches(ctx, p, id, 20, 0); err != nil {
			c.fail(w, r, err)
			return
		}
	}
	pg.Data = d
	c.render(w, r, status, "data", pg)
}

func httpxLang(r *http.Request) string { return httpx.Lang(r.Context()) }

func asErr(err error) (*errs.Error, bool) { return errs.As(err) }

// errMessage is a refusal's message in lang; storage failures stay generic.
func errMessage(err error, lang string) string {
	if e, ok := errs.As(err); ok {
		return e.Message(lang)
	}
	return pick(lang, "操作失败，请稍后重试", "the operation failed; please retry later")
}

// dataRow is one record as the table shows it.
type dataRow struct {
	Cells              []string
	ID, Batch, Version string
	Disputed           bool
}

func fmtCell(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case bool:
		if x {
			return "是"
		}
		return "否"
	}
	return fmt.Sprint(v)
}

func containsBody(ids []int64, id int64) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

// dataUpload takes the upload form: the file streams to disk, the batch
// starts, and the browser goes to the batch page, which shows progress.
func (c *Console) dataUpload(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	p := auth.FromContext(ctx)
	id := pathID(r, "id")
	r.Body = http.MaxBytesReader(w, r.Body, MaxConsoleUpload+1<<20)
	mr, err := r.MultipartReader()
	if err != nil {
		c.renderData(w, r, http.StatusUnprocessableEntity, pick(httpxLang(r), "请选择要上传的文件", "choose a file to upload"))
		return
	}
	var up ingest.Upload
	var mode, onError string
	for {
		part, err := mr.NextPart()
		if err != nil {
			break
		}
		switch part.FormName() {
		case "file":
			if part.FileName() != "" && up.Path == "" {
				if up, err = ingest.Spool(c.SpoolDir, part.FileName(), part, MaxConsoleUpload); err != nil {
					c.renderData(w, r, http.StatusRequestEntityTooLarge, errMessage(err, httpxLang(r)))
					return
				}
			}
		case "mode", "on_error":
			buf := make([]byte, 32)
			n, _ := part.Read(buf)
			if part.FormName() == "mode" {
				mode = string(buf[:n])
			} else {
				onError = string(buf[:n])
			}
		}
		_ = part.Close()
	}
	if up.Path == "" {
		c.renderData(w, r, http.StatusUnprocessableEntity, pick(httpxLang(r), "请选择要上传的文件", "choose a file to upload"))
		return
	}
	up.Mode, up.OnError = mode, onError
	b, err := c.Ingest.Start(ctx, p, id, up)
	if err != nil {
		c.renderData(w, r, statusOf(err), errMessage(err, httpxLang(r)))
		return
	}
	c.Ingest.Wait(ctx, b.ID, time.Second)
	c.redirect(w, r, "/data/batches/"+strconv.FormatInt(b.ID, 10), "")
}

type batchPageData struct {
	B         ingest.Batch
	E         catalog.Entry
	Errors    []ingest.RowError
	ErrTotal  int
	CanCancel bool
	CanMap    bool
	Percent   int
}

func (c *Console) batchPage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	p := auth.FromContext(ctx)
	b, err := c.Ingest.Batch(ctx, p, pathID(r, "id"))
	if err != nil {
		c.fail(w, r, err)
		return
	}
	e, err := c.Catalog.Get(ctx, p, b.EntryID)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	d := &batchPageData{B: b, E: e, CanCancel: !b.Done() && p.HasAt(auth.PermDataUpload, e.ProviderID), CanMap: p.HasAt(auth.PermDataUpload, e.ProviderID)}
	if b.Size > 0 && b.Done() {
		d.Percent = 100
	}
	if b.Done() {
		if d.ErrTotal, err = c.Ingest.Errors(ctx, p, b.ID, 100, 0, func(x ingest.RowError) error { d.Errors = append(d.Errors, x); return nil }); err != nil {
			c.fail(w, r, err)
			return
		}
	}
	pg := c.page(r, pick(httpxLang(r), "批次 ", "Batch ")+strconv.FormatInt(b.ID, 10), "catalog")
	pg.Data = d
	if htmxTarget(r, "batch-progress") {
		c.partial(w, http.StatusOK, "data_batch", "batch-progress", pg)
		return
	}
	c.render(w, r, http.StatusOK, "data_batch", pg)
}

func (c *Console) batchCancel(w http.ResponseWriter, r *http.Request) {
	id := pathID(r, "id")
	if _, err := c.Ingest.Cancel(r.Context(), auth.FromContext(r.Context()), id); err != nil {
		c.fail(w, r, err)
		return
	}
	c.redirect(w, r, "/data/batches/"+strconv.FormatInt(id, 10), pick(httpxLang(r), "已取消，未发布任何记录", "Cancelled; nothing was published"))
}

func (c *Console) batchReport(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id := pathID(r, "id")
	format := tabular.CSV
	ct := "text/csv; charset=utf-8"
	if r.URL.Query().Get("format") == "xlsx" {
		format, ct = tabular.XLSX, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	}
	if _, err := c.Ingest.Batch(ctx, auth.FromContext(ctx), id); err != nil {
		c.fail(w, r, err)
		return
	}
	name := "batch-" + strconv.FormatInt(id, 10) + "-errors." + string(format)
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	if err := c.Ingest.WriteReport(ctx, auth.FromContext(ctx), id, format, w); err != nil {
		c.Log.Error("batch report", "batch", id, "err", err)
	}
}
