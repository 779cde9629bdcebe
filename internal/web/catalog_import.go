package web

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"xiangyun/internal/auth"
	"xiangyun/internal/catalogio"
	"xiangyun/internal/errs"
	"xiangyun/internal/httpx"
	"xiangyun/internal/tabular"
)

type importData struct {
	Report   *catalogio.Report
	Filename string
	DryRun   bool
	MaxRows  int
	MaxMB    int64
	Partial  bool // rendered as a fragment into the page
}

// importMaxBytes bounds an upload (the file plus the form around it).
const importMaxBytes = tabular.DefaultMaxBytes + 1<<20

func (c *Console) catalogImportForm(w http.ResponseWriter, r *http.Request) {
	pg := c.page(r, pick(pgLang(r), "批量导入", "Import"), "catalog-import")
	pg.Data = &importData{MaxRows: catalogio.DefaultMaxRows, MaxMB: tabular.DefaultMaxBytes >> 20}
	c.render(w, r, http.StatusOK, "catalog_import", pg)
}

func (c *Console) catalogImportTemplate(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", catalogio.ContentType(catalogio.FormatXLSX))
	w.Header().Set("Content-Disposition", attachment("catalog-template-"+pgLang(r)+".xlsx")+`; filename*=UTF-8''`+pick(pgLang(r), "%E7%9B%AE%E5%BD%95%E5%AF%BC%E5%85%A5%E6%A8%A1%E6%9D%BF.xlsx", "catalog-import-template.xlsx"))
	if err := catalogio.TemplateFor(w, pgLang(r), c.Catalog); err != nil {
		c.Log.Error("catalog template", "request_id", httpx.RequestID(r.Context()), "err", err)
	}
}

// catalogImport reads an uploaded spreadsheet. The upload form posts with
// XMLHttpRequest (data-progress) and gets the report as a fragment; without
// script it gets the whole page.
func (c *Console) catalogImport(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	lang := pgLang(r)
	pg := c.page(r, pick(lang, "批量导入", "Import"), "catalog-import")
	d := &importData{MaxRows: catalogio.DefaultMaxRows, MaxMB: tabular.DefaultMaxBytes >> 20}
	pg.Data = d
	status := http.StatusOK
	// A slot first, before a byte of the upload is read: the API and the
	// console share the limit.
	imports := c.Imports
	if imports == nil {
		imports = catalogio.Imports
	}
	release, err := imports.Begin(ctx, catalogio.ImportWait)
	if err != nil {
		w.Header().Set("Retry-After", strconv.Itoa(catalogio.RetryAfter))
		pg.Error, status = (&Form{Errors: map[string]string{}}).fail(err, lang), http.StatusTooManyRequests
		c.importAnswer(w, r, status, pg, d)
		return
	}
	defer release()
	r.Body = http.MaxBytesReader(w, r.Body, importMaxBytes)
	// The file goes to a temporary file, not memory (the default keeps up
	// to 32 MB of it in memory); net/http removes it after the request.
	err = r.ParseMultipartForm(1 << 20)
	file, hdr, ferr := r.FormFile("file")
	if err == nil || !errors.As(err, new(*http.MaxBytesError)) {
		err = ferr
	}
	switch {
	case err == nil:
		defer file.Close()
		d.Filename = hdr.Filename
		d.DryRun = r.FormValue("dry_run") != ""
		name := []rune(hdr.Filename)
		httpx.Note(ctx, "", "file", string(name[:min(len(name), 100)]), "size", strconv.FormatInt(hdr.Size, 10), "dry_run", strconv.FormatBool(d.DryRun))
		rep, ierr := catalogio.Import(ctx, c.Catalog, auth.FromContext(ctx), file, hdr.Filename, catalogio.Options{DryRun: d.DryRun})
		switch {
		case ierr != nil:
			if _, ok := errs.As(ierr); !ok {
				c.fail(w, r, ierr)
				return
			}
			pg.Error, status = (&Form{Errors: map[string]string{}}).fail(ierr, lang), statusOf(ierr)
		case !rep.OK():
			d.Report, status = &rep, http.StatusUnprocessableEntity
			pg.Error = pick(lang, "文件中有 "+strconv.Itoa(len(rep.Errors))+" 处问题，没有导入任何目录。请按下表逐行修改后重新上传。",
				"The file has "+strconv.Itoa(len(rep.Errors))+" problems; nothing was imported. Fix the rows listed below and upload it again.")
		default:
			d.Report = &rep
			httpx.Note(ctx, "", "rows", strconv.Itoa(rep.Rows), "created", strconv.Itoa(rep.Created))
		}
	case errors.As(err, new(*http.MaxBytesError)):
		pg.Error, status = pick(lang, "文件过大：不能超过 "+strconv.FormatInt(d.MaxMB, 10)+" MB", "The file is too large: at most "+strconv.FormatInt(d.MaxMB, 10)+" MB"), http.StatusRequestEntityTooLarge
	default:
		pg.Error, status = pick(lang, "请选择要上传的 XLSX 或 CSV 文件", "Choose an XLSX or CSV file to upload"), http.StatusUnprocessableEntity
	}
	c.importAnswer(w, r, status, pg, d)
}

// importAnswer shows the import page, or only its result when the form
// posted with script.
func (c *Console) importAnswer(w http.ResponseWriter, r *http.Request, status int, pg *Page, d *importData) {
	if r.Header.Get("X-Upload-Progress") == "1" {
		d.Partial = true
		c.partial(w, status, "catalog_import", "catalog-import-result", pg)
		return
	}
	c.render(w, r, status, "catalog_import", pg)
}

// lazyDownload sets the download headers on the first write, so that an
// export that fails before writing can still show an error page.
type lazyDownload struct {
	w           http.ResponseWriter
	ctype, name string
	wrote       bool
}

func (l *lazyDownload) Write(p []byte) (int, error) {
	if !l.wrote {
		l.wrote = true
		l.w.Header().Set("Content-Type", l.ctype)
		l.w.Header().Set("Content-Disposition", attachment(l.name))
		l.w.Header().Set("Cache-Control", "no-store")
	}
	return l.w.Write(p)
}

func exportName(format string) string {
	return "catalog-" + time.Now().Format("20060102-150405") + "." + format
}
