// Package api is the JSON REST API under /api/v1, described by OpenAPI 3.1 at
// /api/v1/openapi.json. Handlers are thin: decode, call a domain service,
// encode. Each operation declares its permission through op(); the
// permission check and the audit record are done here once for all.
package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"

	"xiangyun/internal/audit"
	"xiangyun/internal/auth"
	"xiangyun/internal/catalog"
	"xiangyun/internal/catalogio"
	"xiangyun/internal/db"
	"xiangyun/internal/errs"
	"xiangyun/internal/httpx"
	"xiangyun/internal/ingest"
	"xiangyun/internal/notify"
	"xiangyun/internal/org"
	"xiangyun/internal/quality"
	"xiangyun/internal/share"
)

// Deps are the services the API serves.
type Deps struct {
	Orgs         *org.Service
	Catalog      *catalog.Service
	Quality      *quality.Service
	Auth         *auth.Service
	Audit        *audit.Log
	Notify       *notify.Service
	Authn        *httpx.Authenticator
	Table        *httpx.Table
	SecureCookie bool
	Version      string
	Ingest       *ingest.Service // records; nil leaves the records routes out
	Share        *share.Service  // sharing; nil leaves the sharing routes out
	SpoolDir     string          // where uploads wait while their batches run
	// Imports bounds concurrent catalog imports, shared with the console;
	// catalogio.Imports when nil.
	Imports *catalogio.Limiter
	// ShareStats is the gateway's call statistics; nil leaves its routes out.
	ShareStats *share.Stats
}

// API registers operations on a huma API.
type API struct {
	Deps
	h huma.API
}

// Problem is an RFC 9457 problem detail with a stable code and messages in
// Chinese and English.
type Problem struct {
	Type      string            `json:"type,omitempty"`
	Title     string            `json:"title"`
	Status    int               `json:"status"`
	Detail    string            `json:"detail,omitempty"`
	Code      string            `json:"code"`
	MessageZH string            `json:"message_zh"`
	MessageEN string            `json:"message_en"`
	Errors    []errs.FieldError `json:"errors,omitempty"`
}

func (p *Problem) Error() string  { return p.Detail }
func (p *Problem) GetStatus() int { return p.Status }

// WriteProblem answers with p outside huma (plain net/http handlers).
func WriteProblem(w http.ResponseWriter, p *Problem) {
	w.Header().Set("Content-Type", "application/problem+json")
	if p.Status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "5")
	}
	w.WriteHeader(p.Status)
	_ = json.NewEncoder(w).Encode(p)
}

// UnavailableProblem is the answer when the database cannot be reached.
func UnavailableProblem() *Problem {
	e := errs.ErrUnavailable
	return &Problem{Status: http.StatusServiceUnavailable, Title: http.StatusText(http.StatusServiceUnavailable), Code: e.Code, Detail: e.EN, MessageZH: e.ZH, MessageEN: e.EN}
}

// ContentType makes huma send application/problem+json.
func (p *Problem) ContentType(ct string) string {
	if ct == "application/json" {
		return "application/problem+json"
	}
	return ct
}

func init() {
	// Errors raised by huma itself (bad JSON, failed schema validation, body too
	// large) get the same shape as domain errors.
	huma.NewError = func(status int, msg string, es ...error) huma.StatusError {
		p := &Problem{Status: status, Title: http.StatusText(status), Detail: msg, Code: "request.invalid",
			MessageZH: "请求格式不正确：" + msg, MessageEN: "the request is not valid: " + msg}
		switch status {
		case http.StatusRequestEntityTooLarge:
			p.Code, p.MessageZH, p.MessageEN = "request.too_large", "请求内容过大", "the request body is too large"
		case http.StatusUnauthorized:
			p.Code, p.MessageZH, p.MessageEN = "unauthenticated", "请先登录", "sign in first"
		case http.StatusForbidden:
			p.Code, p.MessageZH, p.MessageEN = "forbidden", "无权执行此操作", "you are not allowed to do this"
		case http.StatusNotFound:
			p.Code, p.MessageZH, p.MessageEN = "not_found", "资源不存在", "not found"
		case http.StatusInternalServerError:
			p.Code, p.MessageZH, p.MessageEN = "internal", "服务器内部错误，请稍后重试", "internal error; please retry later"
		}
		for _, e := range es {
			if e == nil {
				continue
			}
			fe := errs.FieldError{Code: "request.invalid", ZH: e.Error(), EN: e.Error()}
			if d, ok := e.(*huma.ErrorDetail); ok {
				fe.Field = strings.TrimPrefix(d.Location, "body.")
				fe.ZH, fe.EN = d.Message, d.Message
			}
			p.Errors = append(p.Errors, fe)
		}
		return p
	}
}

var kindStatus = map[errs.Kind]int{
	errs.KindInvalid:         http.StatusUnprocessableEntity,
	errs.KindNotFound:        http.StatusNotFound,
	errs.KindConflict:        http.StatusConflict,
	errs.KindForbidden:       http.StatusForbidden,
	errs.KindUnauthenticated: http.StatusUnauthorized,
	errs.KindTooMany:         http.StatusTooManyRequests,
	errs.KindTooLarge:        http.StatusRequestEntityTooLarge,
	errs.KindUnavailable:     http.StatusServiceUnavailable,
}

// problem turns a domain error into a problem; unknown errors become a
// generic 500 whose cause is logged, never shown.
func (a *API) problem(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	if p, ok := err.(*Problem); ok {
		return p
	}
	if db.IsUnavailable(err) {
		// A storage outage or a missed deadline: 503, never the user's
		// fault, whatever the domain code made of it.
		if a.Authn != nil && a.Authn.Log != nil {
			a.Authn.Log.Warn("api: database unavailable", "request_id", httpx.RequestID(ctx), "err", err)
		}
		err = errs.ErrUnavailable
	}
	e, ok := errs.As(err)
	if !ok {
		if a.Authn != nil && a.Authn.Log != nil {
			a.Authn.Log.Error("api internal error", "request_id", httpx.RequestID(ctx), "err", err)
		}
		return &Problem{Status: 500, Title: "Internal Server Error", Code: "internal", Detail: "internal error (request " + httpx.RequestID(ctx) + ")",
			MessageZH: "服务器内部错误，请稍后重试（请求编号 " + httpx.RequestID(ctx) + "）", MessageEN: "internal error; please retry later (request " + httpx.RequestID(ctx) + ")"}
	}
	st := kindStatus[e.Kind]
	if st == 0 {
		st = 500
	}
	return &Problem{Status: st, Title: http.StatusText(st), Code: e.Code, Detail: e.Error(), MessageZH: e.ZH, MessageEN: e.EN, Errors: e.Fields}
}

// New mounts the API on mux under /api/v1.
func New(mux *http.ServeMux, d Deps) *API {
	cfg := huma.DefaultConfig("Xiangyun 祥云 API", d.Version)
	cfg.Info.Description = "JSON API of the Xiangyun public-data platform. Sign in with POST /api/v1/session (cookie) or send `Authorization: Bearer <token>`. Errors are RFC 9457 problems with a stable `code` and `message_zh` / `message_en`."
	cfg.OpenAPIPath = "/api/v1/openapi"
	// The docs page is ours (docs.go): huma's loads its viewer from a CDN.
	cfg.DocsPath = ""
	cfg.SchemasPath = "/api/v1/schemas"
	// Several packages own a type named Entry or Problem; name schemas after
	// their package so that the OpenAPI document keeps them apart.
	cfg.Components.Schemas = huma.NewMapRegistry("#/components/schemas/", schemaNamer)
	cfg.Components.SecuritySchemes = map[string]*huma.SecurityScheme{
		"bearer":  {Type: "http", Scheme: "bearer"},
		"session": {Type: "apiKey", In: "cookie", Name: httpx.SessionCookie},
	}
	a := &API{Deps: d, h: humago.New(mux, cfg)}
	a.sessionRoutes()
	a.tokenRoutes()
	a.orgRoutes()
	a.userRoutes()
	a.auditRoutes()
	a.auditCheckpointRoutes()
	a.catalogRoutes()
	a.catalogIORoutes()
	a.ingestRoutes()
	a.fileRoutes()
	a.qualityRoutes()
	a.notificationRoutes()
	a.shareRoutes()
	a.shareStatsRoutes()
	mux.HandleFunc("GET /api/v1/docs", serveDocs)
	// Anything else under /api/v1 is a problem too, never a text page.
	mux.HandleFunc("/api/v1/", func(w http.ResponseWriter, r *http.Request) {
		WriteProblem(w, &Problem{Status: http.StatusNotFound, Title: "Not Found", Code: "not_found", Detail: "no such API operation: " + r.Method + " " + r.URL.Path,
			MessageZH: "没有这个接口，请查阅 /api/v1/docs", MessageEN: "no such API operation; see /api/v1/docs"})
	})
	return a
}

// Huma exposes the underlying huma API so that later modules can register.
func (a *API) Huma() huma.API { return a.h }

// op registers one operation with its permission and audit action.
func op[I, O any](a *API, method, path, action string, perm auth.Permission, summary string, h func(context.Context, *I) (*O, error)) {
	full := "/api/v1" + path
	a.Table.Add(httpx.Route{Method: method, Pattern: full, Perm: perm, Action: action, API: true})
	o := huma.Operation{
		OperationID: strings.ReplaceAll(action, ".", "-"),
		Method:      method,
		Path:        full,
		Summary:     summary,
		Tags:        []string{strings.SplitN(action, ".", 2)[0]},
		Errors:      []int{400, 401, 403, 422},
		Metadata:    map[string]any{"permission": string(perm)},
	}
	if perm != auth.PermPublic {
		o.Security = []map[string][]string{{"bearer": {}}, {"session": {}}}
		o.Description = "Permission: `" + string(perm) + "`."
	}
	write := httpx.IsWrite(method)
	o.Middlewares = huma.Middlewares{func(ctx huma.Context, next func(huma.Context)) {
		c := ctx.Context()
		p := auth.FromContext(c)
		if !p.Has(perm) {
			e := errs.ErrForbidden
			if p == nil {
				e = errs.ErrUnauthenticated
			}
			pr := a.problem(c, e).(*Problem)
			ctx.SetHeader("Content-Type", "application/problem+json")
			ctx.SetStatus(pr.Status)
			_ = json.NewEncoder(ctx.BodyWriter()).Encode(pr)
			a.Authn.Record(c, action+".denied", pr.Status)
			return
		}
		if !write {
			next(ctx)
			return
		}
		ctx = huma.WithContext(ctx, a.Authn.Audited(c, action))
		next(ctx)
		a.Authn.Record(ctx.Context(), action, ctx.Status())
	}}
	huma.Register(a.h, o, func(ctx context.Context, in *I) (*O, error) {
		out, err := h(ctx, in)
		var hdr http.Header
		if he, ok := err.(huma.HeadersError); ok {
			// A handler's own headers (Retry-After) survive the mapping.
			hdr, err = he.GetHeaders(), errors.Unwrap(err)
		}
		if pr, ok := a.problem(ctx, err).(*Problem); ok {
			if hdr != nil {
				return out, huma.ErrorWithHeaders(pr, hdr)
			}
			if pr.Status == http.StatusServiceUnavailable {
				return out, huma.ErrorWithHeaders(pr, http.Header{"Retry-After": {"5"}})
			}
			return out, pr
		}
		return out, nil
	})
}

// Page is the common paging input.
type Page struct {
	Page     int `query:"page" minimum:"1" default:"1" doc:"page number, from 1"`
	PageSize int `query:"page_size" minimum:"1" maximum:"200" default:"20"`
}

func (p Page) offset() int { return (max(p.Page, 1) - 1) * p.limit() }
func (p Page) limit() int {
	if p.PageSize <= 0 {
		return 20
	}
	return min(p.PageSize, 200)
}

// List is a page of items with the total count.
type List[T any] struct {
	Body struct {
		Items []T `json:"items"`
		Total int `json:"total"`
	}
}

func list[T any](items []T, total int) *List[T] {
	out := &List[T]{}
	if items == nil {
		items = []T{}
	}
	out.Body.Items, out.Body.Total = items, total
	return out
}

// Empty is a response without a body.
type Empty struct{}

// IDPath is a numeric path id.
type IDPath struct {
	ID int64 `path:"id" minimum:"1"`
}

func principal(ctx context.Context) *auth.Principal { return auth.FromContext(ctx) }
