package api

import (
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"

	"xiangyun/internal/audit"
	"xiangyun/internal/auth"
	"xiangyun/internal/errs"
	"xiangyun/internal/httpx"
	"xiangyun/internal/ingest"
	"xiangyun/internal/quality"
	"xiangyun/internal/tabular"
)

// MaxUploadBytes limits a records upload (CSV and JSON stream; XLSX is
// limited further by ingest).
var MaxUploadBytes int64 = 2 << 30

// rawIn keeps the raw request for handlers that stream their bodies.
type rawIn struct {
	req *http.Request
	w   http.ResponseWriter
}

func (in *rawIn) Resolve(ctx huma.Context) []error {
	in.req, in.w = humago.Unwrap(ctx)
	return nil
}

type batchUploadIn struct {
	IDPath
	rawIn
}

type batchOut struct {
	Status int
	Body   ingest.Batch
}

type batchErrorsIn struct {
	IDPath
	Page
}

type reportIn struct {
	IDPath
	Format string `query:"format" enum:"csv,xlsx," doc:"csv (default) or xlsx"`
}

type recordsIn struct {
	IDPath
	Page
	rawIn
}

type recordsOut struct {
	Body struct {
		Items []map[string]any `json:"items"`
		Total int              `json:"total"`
	}
}

type pushIn struct {
	IDPath
	Key     string `header:"Idempotency-Key" doc:"a key of the caller's choosing, repeated on a retry"`
	Mode    string `query:"mode" enum:"append,upsert," doc:"default: upsert for entries with key items, else append"`
	OnError string `query:"on_error" enum:"publish_valid,reject_all,"`
	rawIn
}

type pushOut struct {
	Status int
	Body   ingest.PushResult
}

type batchListIn struct {
	IDPath
	Page
}

func (a *API) ingestRoutes() {
	if a.Ingest == nil {
		return
	}
	op(a, http.MethodPost, "/catalog/entries/{id}/batches", "data.upload", auth.PermDataUpload, "Upload records (CSV, XLSX, JSON or NDJSON) to a published entry",
		func(ctx context.Context, in *batchUploadIn) (*batchOut, error) {
			up, err := spoolUpload(in.req, in.w, a.SpoolDir)
			if err != nil {
				return nil, err
			}
			b, err := a.Ingest.Start(ctx, principal(ctx), in.ID, up)
			httpx.Note(ctx, "entry:"+strconv.FormatInt(in.ID, 10), "file", up.Name, "mode", up.Mode, "sha256", up.SHA256)
			if err != nil {
				return nil, err
			}
			// Small files finish at once: answer the outcome (201); larger ones
			// run on (202) and are followed through GET /batches/{id}.
			a.Ingest.Wait(ctx, b.ID, 2*time.Second)
			if nb, err := a.Ingest.Batch(ctx, principal(ctx), b.ID); err == nil {
				b = nb
			}
			st := http.StatusCreated
			if !b.Done() {
				st = http.StatusAccepted
			}
			return &batchOut{Status: st, Body: b}, nil
		})
	if o := a.h.OpenAPI().Paths["/api/v1/catalog/entries/{id}/batches"]; o != nil && o.Post != nil {
		o.Post.RequestBody = &huma.RequestBody{Required: true, Content: map[string]*huma.MediaType{
			"multipart/form-data": {Schema: &huma.Schema{Type: "object", Required: []string{"file"}, Properties: map[string]*huma.Schema{
				"file":     {Type: "string", Format: "binary", Description: ".csv (UTF-8 or GBK), .xlsx, .json (array of objects) or .ndjson"},
				"mode":     {Type: "string", Enum: []any{"append", "upsert", "replace"}},
				"on_error": {Type: "string", Enum: []any{"publish_valid", "reject_all"}},
			}}},
		}}
	}
	a.mappingRoutes()
	op(a, http.MethodGet, "/catalog/entries/{id}/batches", "data.batches", auth.PermDataRead, "List an entry's batches",
		func(ctx context.Context, in *batchListIn) (*List[ingest.Batch], error) {
			items, total, err := a.Ingest.Batches(ctx, principal(ctx), in.ID, in.limit(), in.offset())
			if err != nil {
				return nil, err
			}
			return list(items, total), nil
		})
	op(a, http.MethodGet, "/batches/{id}", "data.batch", auth.PermDataRead, "A batch's status and counts",
		func(ctx context.Context, in *IDPath) (*batchOut, error) {
			b, err := a.Ingest.Batch(ctx, principal(ctx), in.ID)
			if err != nil {
				return nil, err
			}
			return &batchOut{Status: http.StatusOK, Body: b}, nil
		})
	op(a, http.MethodPost, "/batches/{id}/cancel", "data.cancel", auth.PermDataUpload, "Cancel a running batch (nothing of it is published)",
		func(ctx context.Context, in *IDPath) (*batchOut, error) {
			b, err := a.Ingest.Cancel(ctx, principal(ctx), in.ID)
			if err != nil {
				return nil, err
			}
			return &batchOut{Status: http.StatusOK, Body: b}, nil
		})
	op(a, http.MethodGet, "/batches/{id}/errors", "data.errors", auth.PermDataRead, "A batch's error report, in row order",
		func(ctx context.Context, in *batchErrorsIn) (*List[ingest.RowError], error) {
			var items []ingest.RowError
			total, err := a.Ingest.Errors(ctx, principal(ctx), in.ID, in.limit(), in.offset(), func(e ingest.RowError) error {
				items = append(items, e)
				return nil
			})
			if err != nil {
				return nil, err
			}
			return list(items, total), nil
		})
	op(a, http.MethodGet, "/batches/{id}/report", "data.report", auth.PermDataRead, "Download a batch's error report as CSV or XLSX",
		func(ctx context.Context, in *reportIn) (*huma.StreamResponse, error) {
			format := tabular.CSV
			if in.Format == "xlsx" {
				format = tabular.XLSX
			}
			if _, err := a.Ingest.Batch(ctx, principal(ctx), in.ID); err != nil {
				return nil, err
			}
			return &huma.StreamResponse{Body: func(hc huma.Context) {
				lw := &lazyWriter{hc: hc, start: func() {
					name := "batch-" + strconv.FormatInt(in.ID, 10) + "-errors." + string(format)
					hc.SetHeader("Content-Type", contentType(format))
					hc.SetHeader("Content-Disposition", attachment("批次"+strconv.FormatInt(in.ID, 10)+"错误报告."+string(format), name))
					hc.SetStatus(http.StatusOK)
				}}
				if err := a.Ingest.WriteReport(ctx, principal(ctx), in.ID, format, lw); err != nil && !lw.started {
					a.writeProblem(ctx, hc, err)
				}
			}}, nil
		})
	op(a, http.MethodGet, "/catalog/entries/{id}/records", "data.records", auth.PermDataRead,
		"Page through an entry's records; filter by key items with ?{item name}=value",
		func(ctx context.Context, in *recordsIn) (*recordsOut, error) {
			filters := map[string]string{}
			for k, v := range in.req.URL.Query() {
				if k != "page" && k != "page_size" && len(v) > 0 {
					filters[k] = v[0]
				}
			}
			pg, err := a.Ingest.Records(ctx, principal(ctx), in.ID, filters, in.limit(), in.offset())
			if err != nil {
				return nil, err
			}
			out := &recordsOut{}
			out.Body.Items, out.Body.Total = pg.Items, pg.Total
			return out, nil
		})
	a.recordReadRoutes()
	a.compareRoutes()
	op(a, http.MethodPost, "/catalog/entries/{id}/records", "data.push", auth.PermDataUpload,
		"Push records (JSON array or NDJSON) with an Idempotency-Key; answers per-record results",
		func(ctx context.Context, in *pushIn) (*pushOut, error) {
			body, err := io.ReadAll(http.MaxBytesReader(in.w, in.req.Body, ingest.MaxPushBytes))
			if err != nil {
				if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
					return nil, errs.New(errs.KindTooLarge, "ingest.push_too_large", "一次推送不能超过 16 MiB", "one push may not exceed 16 MiB")
				}
				return nil, errs.Invalid("ingest.body", "读取请求内容失败", "cannot read the request body")
			}
			format := ""
			if ct := in.req.Header.Get("Content-Type"); strings.Contains(ct, "ndjson") || strings.Contains(ct, "jsonl") {
				format = ingest.FormatNDJSON
			}
			res, err := a.Ingest.Push(ctx, principal(ctx), in.ID, in.Key, format, in.Mode, in.OnError, body)
			httpx.Note(ctx, "entry:"+strconv.FormatInt(in.ID, 10), "batch", strconv.FormatInt(res.Batch.ID, 10), "replayed", strconv.FormatBool(res.Replayed))
			if err != nil {
				return nil, err
			}
			st := http.StatusCreated
			if res.Replayed {
				st = http.StatusOK
			}
			return &pushOut{Status: st, Body: res}, nil
		})
	if o := a.h.OpenAPI().Paths["/api/v1/catalog/entries/{id}/records"]; o != nil && o.Post != nil {
		o.Post.RequestBody = &huma.RequestBody{Required: true, Content: map[string]*huma.MediaType{
			"application/json":     {Schema: &huma.Schema{Type: "array", Items: &huma.Schema{Type: "object"}}},
			"application/x-ndjson": {Schema: &huma.Schema{Type: "string"}},
		}}
	}
}

type mappingBody struct {
	Mapping map[string]string `json:"mapping" doc:"source column name → data item name"`
}

type mappingIn struct {
	IDPath
	Body mappingBody
}

type mappingOut struct {
	Body mappingBody
}

func (a *API) mappingRoutes() {
	op(a, http.MethodGet, "/catalog/entries/{id}/mapping", "data.mapping", auth.PermDataRead, "The entry's saved column mapping for uploads",
		func(ctx context.Context, in *IDPath) (*mappingOut, error) {
			if _, _, err := a.Ingest.Batches(ctx, principal(ctx), in.ID, 1, 0); err != nil { // the same readers as the batches
				return nil, err
			}
			m, err := a.Ingest.Mapping(ctx, in.ID)
			if err != nil {
				return nil, err
			}
			out := &mappingOut{}
			out.Body.Mapping = m
			return out, nil
		})
	op(a, http.MethodPut, "/catalog/entries/{id}/mapping", "data.mapping.save", auth.PermDataUpload,
		"Save the column mapping later uploads use (column name → item name), replacing the saved one",
		func(ctx context.Context, in *mappingIn) (*mappingOut, error) {
			if err := a.Ingest.SaveMapping(ctx, principal(ctx), in.ID, in.Body.Mapping); err != nil {
				return nil, err
			}
			out := &mappingOut{}
			out.Body.Mapping = in.Body.Mapping
			return out, nil
		})
}

func contentType(f tabular.Format) string {
	if f == tabular.XLSX {
		return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	}
	return "text/csv; charset=utf-8"
}

// spoolUpload streams the multipart form to a temporary file under the size
// limit, hashing it on the way; mode and on_error may come before or after
// the file. Nothing reaches the database before the whole file is here.
func spoolUpload(r *http.Request, w http.ResponseWriter, dir string) (ingest.Upload, error) {
	var up ingest.Upload
	if r == nil {
		return up, errNotMultipart
	}
	r.Body = http.MaxBytesReader(w, r.Body, MaxUploadBytes+1<<20)
	mr, err := r.MultipartReader()
	if err != nil {
		return up, errNotMultipart
	}
	tooLarge := ingest.TooLarge(MaxUploadBytes)
	cleanup := func() {
		if up.Path != "" {
			os.Remove(up.Path)
		}
	}
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			cleanup()
			if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
				return up, tooLarge
			}
			return up, errNotMultipart
		}
		switch {
		case part.FormName() == "file" && part.FileName() != "" && up.Path == "":
			mode, onError := up.Mode, up.OnError
			if up, err = ingest.Spool(dir, part.FileName(), part, MaxUploadBytes); err != nil {
				return up, err
			}
			up.Mode, up.OnError = mode, onError
		case part.FormName() == "mode" || part.FormName() == "on_error":
			b, _ := io.ReadAll(io.LimitReader(part, 100))
			if part.FormName() == "mode" {
				up.Mode = strings.TrimSpace(string(b))
			} else {
				up.OnError = strings.TrimSpace(string(b))
			}
		}
		_ = part.Close()
	}
	if up.Path == "" {
		return up, errNoFile
	}
	return up, nil
}

type exportIn struct {
	IDPath
	Format string `query:"format" enum:"csv,xlsx," doc:"csv (default; UTF-8 with BOM) or xlsx"`
}

type recordHistoryIn struct {
	IDPath
	rawIn
}

type recordHistoryOut struct {
	Body struct {
		Items []ingest.RecordHistory `json:"items"`
	}
}

// recordReadRoutes: the streamed export of an entry's records and a
// record's history of values. Both read personal data, so each is recorded
// in the audit log as a data access.
func (a *API) recordReadRoutes() {
	op(a, http.MethodGet, "/catalog/entries/{id}/records/export", "data.export", auth.PermDataRead,
		"Download an entry's records as CSV or XLSX, streamed, masked as in the records list",
		func(ctx context.Context, in *exportIn) (*huma.StreamResponse, error) {
			format := tabular.CSV
			if in.Format == "xlsx" {
				format = tabular.XLSX
			}
			return &huma.StreamResponse{Body: func(hc huma.Context) {
				var info ingest.ExportInfo
				lw := &lazyWriter{hc: hc, start: func() {
					stamp := time.Now().Format("20060102-150405")
					hc.SetHeader("Content-Type", contentType(format))
					hc.SetHeader("Content-Disposition", attachment(info.EntryName+"-"+stamp+"."+string(format),
						"records-"+strconv.FormatInt(in.ID, 10)+"-"+stamp+"."+string(format)))
					hc.SetStatus(http.StatusOK)
				}}
				n, err := a.Ingest.Export(ctx, principal(ctx), in.ID, format, lw, func(i ingest.ExportInfo) { info = i })
				a.Authn.Append(ctx, audit.Entry{Action: "data.export", Object: "entry:" + strconv.FormatInt(in.ID, 10), Outcome: outcome(err == nil),
					Detail: map[string]string{"format": string(format), "rows": strconv.FormatInt(n, 10), "masked": strconv.FormatBool(!info.Provider)}})
				switch {
				case err != nil && !lw.started:
					a.writeProblem(ctx, hc, err)
				case err != nil && a.Authn.Log != nil: // the download is cut short
					a.Authn.Log.Error("records export", "request_id", httpx.RequestID(ctx), "err", err)
				}
			}}, nil
		})
	op(a, http.MethodGet, "/catalog/entries/{id}/records/history", "data.history", auth.PermDataRead,
		"A record's past and present values with the batch, time and version of each: ?{key item}=value or ?_id=record id",
		func(ctx context.Context, in *recordHistoryIn) (*recordHistoryOut, error) {
			filters := map[string]string{}
			var id int64
			for k, v := range in.req.URL.Query() {
				if len(v) == 0 {
					continue
				}
				if k == "_id" {
					n, err := strconv.ParseInt(v[0], 10, 64)
					if err != nil || n <= 0 {
						return nil, errs.Invalid("ingest.history_key", "_id 须为记录编号（正整数）", "_id must be a record id (a positive integer)")
					}
					id = n
					continue
				}
				filters[k] = v[0]
			}
			hs, err := a.Ingest.History(ctx, principal(ctx), in.ID, filters, id)
			a.Authn.Append(ctx, audit.Entry{Action: "data.history", Object: "entry:" + strconv.FormatInt(in.ID, 10), Outcome: outcome(err == nil),
				Detail: map[string]string{"records": strconv.Itoa(len(hs))}})
			if err != nil {
				return nil, err
			}
			out := &recordHistoryOut{}
			out.Body.Items = hs
			return out, nil
		})
}

type compareIn struct {
	A     int64 `query:"a" required:"true" doc:"entry A of a pair from GET /quality/compare/pairs"`
	B     int64 `query:"b" required:"true" doc:"entry B"`
	Limit int   `query:"limit" minimum:"1" maximum:"1000" default:"100" doc:"disagreements listed (all are counted)"`
}

type compareOut struct {
	Body struct {
		Pair quality.Pair `json:"pair"`
		quality.Comparison
	}
}

type pairsOut struct {
	Body struct {
		Items []quality.Pair `json:"items"`
	}
}

// compareRoutes: the multi-source check (多源校核) over the entries' records.
func (a *API) compareRoutes() {
	if a.Quality == nil {
		return
	}
	op(a, http.MethodGet, "/quality/compare/pairs", "quality.compare.pairs", auth.PermQualityRead,
		"Entry pairs of different bodies that share a key of the same meaning and items of the same name (platform)",
		func(ctx context.Context, in *struct{}) (*pairsOut, error) {
			ps, err := a.Quality.Pairs(ctx, principal(ctx))
			if err != nil {
				return nil, err
			}
			out := &pairsOut{}
			out.Body.Items = ps
			if out.Body.Items == nil {
				out.Body.Items = []quality.Pair{}
			}
			return out, nil
		})
	op(a, http.MethodGet, "/quality/compare", "quality.compare", auth.PermQualityRead,
		"Multi-source check of a pair: the records whose values of the items of the same name disagree (masked)",
		func(ctx context.Context, in *compareIn) (*compareOut, error) {
			ps, err := a.Quality.Pairs(ctx, principal(ctx))
			if err != nil {
				return nil, err
			}
			for _, p := range ps {
				if p.AID == in.A && p.BID == in.B {
					c, err := a.Ingest.Compare(ctx, principal(ctx), p, max(in.Limit, 1))
					a.Authn.Append(ctx, audit.Entry{Action: "quality.compare", Object: "entry:" + strconv.FormatInt(in.A, 10) + "+" + strconv.FormatInt(in.B, 10),
						Outcome: outcome(err == nil), Detail: map[string]string{"disagreeing": strconv.Itoa(c.Disagreeing)}})
					if err != nil {
						return nil, err
					}
					out := &compareOut{}
					out.Body.Pair, out.Body.Comparison = p, c
					return out, nil
				}
			}
			return nil, errs.NotFound("quality.pair", "这两个目录不能进行多源校核（不是不同部门共享同一主键的目录对）",
				"these two entries are not a pair for a multi-source check (entries of different bodies sharing a key)")
		})
}
