package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"

	"xiangyun/internal/audit"
	"xiangyun/internal/auth"
	"xiangyun/internal/catalog"
	"xiangyun/internal/catalogio"
	"xiangyun/internal/errs"
	"xiangyun/internal/httpx"
)

// MaxImportBytes limits a catalog spreadsheet upload.
const MaxImportBytes = 64 << 20

type catalogTemplateIn struct {
	Lang string `query:"lang" enum:"zh,en," doc:"language of the headers and notes; default: the user's"`
}

// catalogImportIn takes the multipart request as it comes: the file is
// streamed from the request body under a size limit, never parsed into
// memory or temporary files by the framework.
type catalogImportIn struct {
	DryRun bool `query:"dry_run" doc:"validate every row and report, without creating anything"`

	req *http.Request
	w   http.ResponseWriter
}

// Resolve keeps the raw request for the handler.
func (in *catalogImportIn) Resolve(ctx huma.Context) []error {
	in.req, in.w = humago.Unwrap(ctx)
	return nil
}

// CatalogImportReport is catalogio.Report on the wire. The API has its own
// types, with names of their own, because huma names OpenAPI schemas after
// Go types and refuses two types of one name (audit.Report is "Report").
type CatalogImportReport struct {
	Format   string               `json:"format" doc:"csv or xlsx"`
	Encoding string               `json:"encoding,omitempty" doc:"detected encoding of a CSV file: UTF-8, UTF-8 BOM, GB18030 …"`
	Rows     int                  `json:"rows" doc:"entry rows read"`
	Items    int                  `json:"items" doc:"data items read"`
	Created  int                  `json:"created" doc:"entries created (0 unless every row is valid)"`
	DryRun   bool                 `json:"dry_run,omitempty"`
	Errors   []CatalogImportError `json:"errors" doc:"every problem, by sheet, row and column"`
	Entries  []CatalogImported    `json:"entries,omitempty" doc:"the entries created, in file order"`
}

// CatalogImportError is catalogio.RowError on the wire.
type CatalogImportError struct {
	Sheet  string `json:"sheet" doc:"worksheet; 目录 for CSV files"`
	Row    int    `json:"row" doc:"row number as the spreadsheet shows it (header = 1)"`
	Column string `json:"column,omitempty" doc:"header and letter, e.g. 信息资源名称 (B)"`
	Letter string `json:"letter,omitempty"`
	Field  string `json:"field,omitempty" doc:"catalog field, e.g. items[2].data_type"`
	Code   string `json:"code"`
	ZH     string `json:"message_zh"`
	EN     string `json:"message_en"`
}

// CatalogImported is catalogio.CreatedEntry on the wire.
type CatalogImported struct {
	Row  int    `json:"row"`
	ID   int64  `json:"id"`
	Code string `json:"code"`
	Name string `json:"name"`
}

func importReport(r catalogio.Report) CatalogImportReport {
	out := CatalogImportReport{Format: r.Format, Encoding: r.Encoding, Rows: r.Rows, Items: r.Items, Created: r.Created, DryRun: r.DryRun,
		Errors: make([]CatalogImportError, len(r.Errors))}
	for i, e := range r.Errors {
		out.Errors[i] = CatalogImportError{Sheet: e.Sheet, Row: e.Row, Column: e.Column, Letter: e.Letter, Field: e.Field, Code: e.Code, ZH: e.ZH, EN: e.EN}
	}
	for _, e := range r.Entries {
		out.Entries = append(out.Entries, CatalogImported{Row: e.Row, ID: e.ID, Code: e.Code, Name: e.Name})
	}
	return out
}

type catalogImportOut struct {
	Status int
	Body   CatalogImportReport
}

// catalogExportIn is the search's filters. "format" carries both the file
// format (csv or xlsx, default xlsx) and the search's format-class facet
// (document, database …), whose values never clash.
type catalogExportIn struct {
	Q         string   `query:"q" maxLength:"100" doc:"full-text query, as in the search"`
	Sort      string   `query:"sort" maxLength:"20" doc:"as in the search"`
	Format    []string `query:"format,explode" doc:"csv or xlsx (default xlsx); other values filter by format class, as in the search"`
	Provider  []string `query:"provider,explode" doc:"provider body ids"`
	Region    []string `query:"region,explode" doc:"region codes (with their sub-regions)"`
	Class     []string `query:"class,explode" doc:"classification prefixes: 1, 3/01 …"`
	ShareType []string `query:"share_type,explode"`
	OpenType  []string `query:"open_type,explode"`
	Cycle     []string `query:"cycle,explode"`
	Grade     []string `query:"grade,explode"`
	Status    []string `query:"status,explode"`
	Scope     []string `query:"scope,explode"`
}

// split accepts repeated parameters and comma-separated values alike.
func split(vals []string) []string {
	var out []string
	for _, v := range vals {
		for _, s := range strings.Split(v, ",") {
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, s)
			}
		}
	}
	return out
}

var errExportFormat = errs.Invalid("catalogio.format", "format 须为 csv、xlsx 或信息资源格式分类代码",
	"format must be csv, xlsx or a format class code")

// query returns the file format and the catalog query.
func (in *catalogExportIn) query() (string, catalog.SearchQuery, error) {
	format, classes, ok := catalogio.SplitFormat(split(in.Format))
	if !ok {
		return "", catalog.SearchQuery{}, errExportFormat
	}
	q := catalog.SearchQuery{Q: in.Q, Sort: in.Sort, Filters: map[string][]string{}}
	for name, vals := range map[string][]string{"format": classes, "provider": in.Provider, "region": in.Region, "class": in.Class,
		"share_type": in.ShareType, "open_type": in.OpenType, "cycle": in.Cycle, "grade": in.Grade, "status": in.Status, "scope": in.Scope} {
		if vs := split(vals); len(vs) > 0 {
			q.Filters[name] = catalog.ParseFilter(name, vs)
		}
	}
	return format, q, nil
}

func (a *API) catalogIORoutes() {
	op(a, http.MethodGet, "/catalog/template", "catalog.template", auth.PermCatalogRead, "Download the XLSX catalog import template",
		func(ctx context.Context, in *catalogTemplateIn) (*huma.StreamResponse, error) {
			lang := in.Lang
			if lang == "" {
				lang = httpx.Lang(ctx)
			}
			var buf bytes.Buffer
			if err := catalogio.TemplateFor(&buf, lang, a.Catalog); err != nil {
				return nil, err
			}
			return &huma.StreamResponse{Body: func(hc huma.Context) {
				hc.SetHeader("Content-Type", catalogio.ContentType(catalogio.FormatXLSX))
				hc.SetHeader("Content-Disposition", attachment("目录导入模板.xlsx", "catalog-template.xlsx"))
				hc.SetHeader("Content-Length", strconv.Itoa(buf.Len()))
				_, _ = hc.BodyWriter().Write(buf.Bytes())
			}}, nil
		})

	op(a, http.MethodPost, "/catalog/import", "catalog.import", auth.PermCatalogEdit,
		"Import catalog entries from an XLSX or CSV file",
		func(ctx context.Context, in *catalogImportIn) (*catalogImportOut, error) {
			// A slot first, before a byte of the upload is read.
			release, err := a.imports().Begin(ctx, catalogio.ImportWait)
			if err != nil {
				httpx.Note(ctx, "catalog", "busy", "true")
				return nil, huma.ErrorWithHeaders(err, http.Header{"Retry-After": {strconv.Itoa(catalogio.RetryAfter)}})
			}
			defer release()
			file, name, err := uploadedFile(in.req, in.w, "file", MaxImportBytes)
			if err != nil {
				httpx.Note(ctx, "catalog", "dry_run", strconv.FormatBool(in.DryRun))
				return nil, err
			}
			rep, err := catalogio.Import(ctx, a.Catalog, principal(ctx), file, name, catalogio.Options{DryRun: in.DryRun, MaxBytes: MaxImportBytes})
			httpx.Note(ctx, "catalog", "file", name, "dry_run", strconv.FormatBool(in.DryRun), "rows", strconv.Itoa(rep.Rows),
				"errors", strconv.Itoa(len(rep.Errors)), "created", strconv.Itoa(rep.Created))
			if err != nil {
				return nil, err
			}
			out := &catalogImportOut{Status: http.StatusOK, Body: importReport(rep)}
			if !rep.OK() {
				out.Status = http.StatusUnprocessableEntity
			}
			return out, nil
		})
	if o := a.h.OpenAPI().Paths["/api/v1/catalog/import"]; o != nil && o.Post != nil {
		o.Post.Description = "Permission: `catalog.edit`. Send `multipart/form-data` with the spreadsheet in the `file` field (.xlsx or .csv, at most 64 MiB). " +
			"Answers the import report: 200 when every row was valid (and, unless `dry_run`, created in one transaction), " +
			"422 with the same report listing every problem by sheet, row and column when any row was not (nothing is created). " +
			"A file that cannot be read at all gives a problem (422, or 413 when too large)."
		o.Post.RequestBody = &huma.RequestBody{Required: true, Content: map[string]*huma.MediaType{
			"multipart/form-data": {Schema: &huma.Schema{Type: "object", Required: []string{"file"}, Properties: map[string]*huma.Schema{
				"file": {Type: "string", Format: "binary", Description: "the catalog spreadsheet (.xlsx or .csv)"},
			}}},
		}}
	}

	op(a, http.MethodGet, "/catalog/export", "catalog.export", auth.PermCatalogRead,
		"Export the filtered catalog as XLSX (re-importable) or CSV",
		func(ctx context.Context, in *catalogExportIn) (*huma.StreamResponse, error) {
			format, q, err := in.query()
			if err != nil {
				return nil, err
			}
			return &huma.StreamResponse{Body: func(hc huma.Context) {
				lw := &lazyWriter{hc: hc, start: func() {
					stamp := time.Now().Format("20060102-150405")
					hc.SetHeader("Content-Type", catalogio.ContentType(format))
					hc.SetHeader("Content-Disposition", attachment("目录-"+stamp+"."+format, "catalog-"+stamp+"."+format))
					hc.SetStatus(http.StatusOK)
				}}
				err := catalogio.Export(ctx, a.Catalog, principal(ctx), q, format, lw)
				// The text query is left out: it may name people.
				detail := map[string]string{"format": format}
				for k, v := range q.Filters {
					detail[k] = strings.Join(v, ",")
				}
				a.Authn.Append(ctx, audit.Entry{Action: "catalog.export", Object: "catalog", Outcome: outcome(err == nil), Detail: detail})
				switch {
				case err != nil && !lw.started:
					a.writeProblem(ctx, hc, err)
				case err != nil && a.Authn.Log != nil: // the download is cut short
					a.Authn.Log.Error("catalog export", "request_id", httpx.RequestID(ctx), "err", err)
				}
			}}, nil
		})
}

func (a *API) imports() *catalogio.Limiter {
	if a.Imports != nil {
		return a.Imports
	}
	return catalogio.Imports
}

// lazyWriter sends the headers on the first write, so that an error before
// any data can still be answered with a problem.
type lazyWriter struct {
	hc      huma.Context
	start   func()
	started bool
}

func (w *lazyWriter) Write(b []byte) (int, error) {
	if !w.started {
		w.started = true
		w.start()
	}
	return w.hc.BodyWriter().Write(b)
}

// writeProblem answers err as a problem from inside a streamed response.
func (a *API) writeProblem(ctx context.Context, hc huma.Context, err error) {
	pr, ok := a.problem(ctx, err).(*Problem)
	if !ok {
		return
	}
	hc.SetHeader("Content-Type", "application/problem+json")
	if pr.Status == http.StatusServiceUnavailable {
		hc.SetHeader("Retry-After", "5")
	}
	hc.SetStatus(pr.Status)
	_ = json.NewEncoder(hc.BodyWriter()).Encode(pr)
}

// attachment is a Content-Disposition naming the download, with an ASCII
// fallback for old clients.
func attachment(name, ascii string) string {
	return mime.FormatMediaType("attachment", map[string]string{"filename": name}) + "; " +
		strings.TrimPrefix(mime.FormatMediaType("attachment", map[string]string{"filename": ascii}), "attachment; ")
}

var (
	errNotMultipart = errs.Invalid("upload.not_multipart", "请以 multipart/form-data 上传文件（字段名 file）",
		"upload the file as multipart/form-data in the field named file")
	errNoFile = errs.Invalid("upload.no_file", "请求中没有名为 file 的文件", "the request has no file in the field named file")
)

// uploadedFile streams the first part named field of a multipart request,
// with the body limited to max plus room for the multipart framing (the
// importer enforces max on the file itself). It returns the file's base
// name.
func uploadedFile(r *http.Request, w http.ResponseWriter, field string, max int64) (io.Reader, string, error) {
	if r == nil {
		return nil, "", errNotMultipart
	}
	r.Body = http.MaxBytesReader(w, r.Body, max+1<<20)
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, "", errNotMultipart
	}
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return nil, "", errNoFile
		}
		if err != nil {
			if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
				return nil, "", errs.New(errs.KindTooLarge, "tabular.oversize", "文件过大", "the file is too large")
			}
			return nil, "", errNotMultipart
		}
		if part.FormName() == field && part.FileName() != "" {
			return part, filepath.Base(strings.ReplaceAll(part.FileName(), `\`, "/")), nil
		}
		_ = part.Close()
	}
}
