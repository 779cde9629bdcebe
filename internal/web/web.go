// Package web is the staff console: server-rendered pages (html/template +
// htmx), Chinese by default with an English switch. One handler per file;
// every route is registered through route(), which declares its permission.
package web

import (
	"bytes"
	"context"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

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

//go:embed templates static
var assets embed.FS

// Deps are the services the console uses.
type Deps struct {
	Orgs    *org.Service
	Auth    *auth.Service
	Audit   *audit.Log
	Catalog *catalog.Service
	Quality *quality.Service
	Notify  *notify.Service
	Authn   *httpx.Authenticator
	Table   *httpx.Table
	Log     *slog.Logger
	Brand   string // platform name shown in the header
	Login   func(ctx context.Context, username, password string) (string, auth.User, error)
	Cookie  func(token string) http.Cookie
	Version string
	Started time.Time
	// Imports bounds concurrent catalog imports, shared with the API;
	// catalogio.Imports when nil.
	Imports *catalogio.Limiter
	Ingest  *ingest.Service // records pages; nil leaves them out
	Share   *share.Service  // sharing pages; nil leaves them out
	// SpoolDir is where uploaded records files wait while their batches run.
	SpoolDir string
	// ShareStats is the gateway's call statistics; nil leaves its pages out.
	ShareStats *share.Stats
}

// Console serves the staff pages.
type Console struct {
	Deps
	pages map[string]*template.Template
	mux   *http.ServeMux
}

// New parses the templates and registers the console's routes on mux.
func New(mux *http.ServeMux, d Deps) (*Console, error) {
	if d.Brand == "" {
		d.Brand = "祥云 · 一体化公共数据平台"
	}
	c := &Console{Deps: d, pages: map[string]*template.Template{}, mux: mux}
	if err := c.parse(); err != nil {
		return nil, err
	}
	mux.HandleFunc("GET /static/", serveStatic)
	c.routes()
	// Any other address is a console page that does not exist: say so in
	// the console, not with a bare "404 page not found". The API keeps its
	// own answers.
	mux.HandleFunc("/", c.notFound)
	return c, nil
}

// route registers one console page with the permission it needs.
func (c *Console) route(method, pattern string, perm auth.Permission, action string, h http.HandlerFunc) {
	c.Authn.Guard(c.Table, c.mux, httpx.Route{Method: method, Pattern: pattern, Perm: perm, Action: action}, h, c.refused)
}

// refused shows a route-level refusal as a console page. The page keeps the
// guard's bilingual words ("403 无权访问 / forbidden", "请先登录 / sign in
// first"), which clients and tests rely on.
func (c *Console) refused(w http.ResponseWriter, r *http.Request, status int) {
	pg := c.page(r, "", "")
	if status == http.StatusUnauthorized {
		pg.Title = pg.T("请先登录", "Please sign in")
		pg.Data = &errorData{Code: "请先登录 / sign in first", Status: status,
			Hint: pg.T("您尚未登录或登录已过期，请重新登录后再操作。", "You are not signed in, or your session has expired. Sign in and try again.")}
	} else {
		pg.Title = pg.T("无权访问", "Access denied")
		pg.Data = &errorData{Code: "403 无权访问 / forbidden", Status: status,
			Hint: pg.T("您当前的角色不能使用此页面或操作。如确需使用，请联系安全保密管理员授予相应角色。",
				"Your roles do not allow this page or action. If you need it, ask the security officer for the role.")}
	}
	c.render(w, r, status, "error", pg)
}

// Unavailable renders the styled 503 page: the database cannot be reached,
// the user did nothing wrong and should try again shortly. The middleware
// uses it when it cannot even look up the session.
func (c *Console) Unavailable(w http.ResponseWriter, r *http.Request) {
	pg := c.page(r, "", "")
	pg.Title = pg.T("服务暂时不可用", "Service unavailable")
	pg.Error = errs.ErrUnavailable.Message(pg.Lang)
	pg.Data = &errorData{Code: "503 服务暂时不可用 / service unavailable", Status: http.StatusServiceUnavailable,
		Hint: pg.T("平台暂时无法访问数据库，您的操作没有问题。请稍候几秒后刷新页面重试；如持续出现，请联系平台管理员。",
			"The platform cannot reach its database right now; nothing you did caused this. Wait a few seconds and reload; if it persists, tell the platform administrator.")}
	c.render(w, r, http.StatusServiceUnavailable, "error", pg)
}

// errorData is what the error page shows besides the message.
type errorData struct {
	Code   string // a status line, e.g. "403 无权访问 / forbidden"
	Hint   string // what to do next
	Status int
}

// notFound answers an address no route has.
func (c *Console) notFound(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/api/") || (r.Method != http.MethodGet && r.Method != http.MethodHead) {
		http.NotFound(w, r)
		return
	}
	pg := c.page(r, "", "")
	pg.Title = pg.T("页面不存在", "Page not found")
	pg.Data = &errorData{Code: "404", Status: http.StatusNotFound,
		Hint: pg.T("您访问的地址不存在，可能已被移动或输入有误。请从工作台或导航进入需要的页面。", "There is no page at this address; it may have moved, or the address may be mistyped. Start from the home page or the navigation.")}
	c.render(w, r, http.StatusNotFound, "error", pg)
}

var funcs = template.FuncMap{
	"date": func(t any) string {
		switch v := t.(type) {
		case time.Time:
			if v.IsZero() {
				return ""
			}
			return v.In(time.Local).Format("2006-01-02")
		case *time.Time:
			if v == nil || v.IsZero() {
				return ""
			}
			return v.In(time.Local).Format("2006-01-02")
		}
		return ""
	},
	"cell": fmtCell,
	"datetime": func(t any) string {
		switch v := t.(type) {
		case time.Time:
			if v.IsZero() {
				return ""
			}
			return v.In(time.Local).Format("2006-01-02 15:04:05")
		case *time.Time:
			if v == nil || v.IsZero() {
				return ""
			}
			return v.In(time.Local).Format("2006-01-02 15:04:05")
		}
		return ""
	},
	"json": func(v any) (template.JS, error) {
		var b bytes.Buffer
		enc := jsonEncoder(&b)
		if err := enc.Encode(v); err != nil {
			return "", err
		}
		return template.JS(strings.TrimSpace(b.String())), nil
	},
	"add":         func(a, b int) int { return a + b },
	"sub":         func(a, b int) int { return a - b },
	"itoa":        func(v int64) string { return strconv.FormatInt(v, 10) },
	"auditAction": auditAction,
	"auditActor":  auditActor,
	"auditObject": auditObject,
	"auditDetail": auditDetail,
	"bi":          bilingual,
	"roleName": func(r auth.Role, lang string) string {
		return r.Name(lang)
	},
	"dict": func(kv ...any) map[string]any {
		m := map[string]any{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[fmt.Sprint(kv[i])] = kv[i+1]
		}
		return m
	},
	"contains": func(list []string, s string) bool {
		for _, x := range list {
			if x == s {
				return true
			}
		}
		return false
	},
}

func (c *Console) parse() error {
	base, err := template.New("layout.html").Funcs(funcs).ParseFS(assets, "templates/layout.html", "templates/partials*.html")
	if err != nil {
		return err
	}
	files, err := fs.Glob(assets, "templates/*.html")
	if err != nil {
		return err
	}
	for _, f := range files {
		name := strings.TrimPrefix(f, "templates/")
		if name == "layout.html" || strings.HasPrefix(name, "partials") {
			continue
		}
		t, err := base.Clone()
		if err == nil {
			_, err = t.ParseFS(assets, f)
		}
		if err != nil {
			return fmt.Errorf("web: template %s: %w", name, err)
		}
		c.pages[strings.TrimSuffix(name, ".html")] = t
	}
	return nil
}

// Page is what every template receives.
type Page struct {
	Title   string
	Lang    string
	Brand   string
	Active  string // nav key of the current section
	P       *auth.Principal
	Nav     []NavGroup
	Flash   string
	Error   string
	Path    string
	Here    string // where the language switch comes back to: this page, or for a form post the page it came from
	Query   url.Values
	Form    *Form
	Data    any
	Version string
	Unread  int // the viewer's unread notifications, for the header badge
}

// T picks the Chinese or the English text.
func (p *Page) T(zh, en string) string {
	if p.Lang == "en" {
		return en
	}
	return zh
}

// Can reports whether the viewer holds perm.
func (p *Page) Can(perm string) bool { return p.P.Has(auth.Permission(perm)) }

// URL returns the current path with one query parameter replaced.
func (p *Page) URL(key, value string) string {
	q := url.Values{}
	for k, v := range p.Query {
		q[k] = v
	}
	if value == "" {
		q.Del(key)
	} else {
		q.Set(key, value)
	}
	if key != "page" {
		q.Del("page")
	}
	if len(q) == 0 {
		return p.Path
	}
	return p.Path + "?" + q.Encode()
}

// Form carries submitted values and per-field errors back to a form, so that
// nothing typed is lost when a submit fails.
type Form struct {
	Values url.Values
	Errors map[string]string
	// unavailable is set when the form failed because the database could
	// not be reached: the page then answers 503, not a user's mistake.
	unavailable bool
}

// V returns a submitted value.
func (f *Form) V(name string) string {
	if f == nil {
		return ""
	}
	return f.Values.Get(name)
}

// E returns the error for a field.
func (f *Form) E(name string) string {
	if f == nil {
		return ""
	}
	return f.Errors[name]
}

func newForm(r *http.Request) *Form {
	_ = r.ParseForm()
	return &Form{Values: r.PostForm, Errors: map[string]string{}}
}

// fail puts a domain error onto the form, per field where possible, and
// returns the general message in the page's language.
func (f *Form) fail(err error, lang string) string {
	if db.IsUnavailable(err) {
		f.unavailable = true
		return errs.ErrUnavailable.Message(lang)
	}
	e, ok := errs.As(err)
	if !ok {
		return pick(lang, "操作失败，请稍后重试", "the operation failed; please retry later")
	}
	for _, fe := range e.Fields {
		if lang == "en" {
			f.Errors[fe.Field] = fe.EN
		} else {
			f.Errors[fe.Field] = fe.ZH
		}
	}
	return e.Message(lang)
}

func pick(lang, zh, en string) string {
	if lang == "en" {
		return en
	}
	return zh
}

// page builds the page data for a request.
func (c *Console) page(r *http.Request, title, active string) *Page {
	p := auth.FromContext(r.Context())
	pg := &Page{Title: title, Lang: httpx.Lang(r.Context()), Brand: c.Brand, Active: active, P: p, Path: r.URL.Path, Query: r.URL.Query(), Version: c.Version}
	pg.Nav = navFor(pg)
	pg.Unread = c.unread(r.Context(), p)
	pg.Here = here(r)
	if f, err := r.Cookie("xy_flash"); err == nil {
		if v, err := url.QueryUnescape(f.Value); err == nil {
			pg.Flash = v
		}
	}
	return pg
}

// render writes a page with status.
func (c *Console) render(w http.ResponseWriter, r *http.Request, status int, name string, pg *Page) {
	t, ok := c.pages[name]
	if !ok {
		http.Error(w, "no template "+name, http.StatusInternalServerError)
		return
	}
	if pg.Flash != "" {
		http.SetCookie(w, &http.Cookie{Name: "xy_flash", Path: "/", MaxAge: -1})
	}
	if pg.Form != nil && pg.Form.unavailable && status < 500 {
		status = http.StatusServiceUnavailable
	}
	if status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "5")
	}
	var b bytes.Buffer
	if err := t.ExecuteTemplate(&b, "layout.html", pg); err != nil {
		c.Log.Error("render", "template", name, "err", err)
		http.Error(w, "render error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = b.WriteTo(w)
}

// here is the address of the page a request shows, for links that come
// back to it (the language switch): the request itself for a GET, and for a
// form post (whose address only accepts posts) the same-origin page the
// form was on, else the home page.
func here(r *http.Request) string {
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		return r.URL.RequestURI()
	}
	if ref, err := url.Parse(r.Referer()); err == nil && ref.Host == r.Host && strings.HasPrefix(ref.Path, "/") && !strings.HasPrefix(ref.Path, "//") {
		return ref.RequestURI()
	}
	return "/"
}

// redirect sends the browser on with a one-time message.
func (c *Console) redirect(w http.ResponseWriter, r *http.Request, to, flash string) {
	if flash != "" {
		http.SetCookie(w, &http.Cookie{Name: "xy_flash", Value: url.QueryEscape(flash), Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode, MaxAge: 60})
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// notFound renders the error page.
func (c *Console) fail(w http.ResponseWriter, r *http.Request, err error) {
	if db.IsUnavailable(err) {
		c.Log.Warn("console: database unavailable", "path", r.URL.Path, "request_id", httpx.RequestID(r.Context()), "err", err)
		c.Unavailable(w, r)
		return
	}
	pg := c.page(r, "", "")
	status := http.StatusInternalServerError
	switch errs.KindOf(err) {
	case errs.KindNotFound:
		status = http.StatusNotFound
	case errs.KindForbidden:
		status = http.StatusForbidden
	case errs.KindInvalid:
		status = http.StatusUnprocessableEntity
	case errs.KindConflict:
		status = http.StatusConflict
	}
	if e, ok := errs.As(err); ok {
		pg.Error = e.Message(pg.Lang)
	} else {
		c.Log.Error("console error", "path", r.URL.Path, "request_id", httpx.RequestID(r.Context()), "err", err)
		pg.Error = pg.T("服务器内部错误，请稍后重试（请求编号 ", "Internal error; please retry later (request ") + httpx.RequestID(r.Context()) + pg.T("）", ")")
	}
	pg.Title = pg.T("出错了", "Something went wrong")
	switch status {
	case http.StatusNotFound:
		pg.Title = pg.T("内容不存在", "Not found")
		pg.Data = &errorData{Status: status, Hint: pg.T("要查看的内容不存在，可能已被删除，或不在您可以查看的范围内。", "What you asked for does not exist, may have been removed, or is outside what you may see.")}
	case http.StatusForbidden:
		pg.Title = pg.T("无权操作", "Not allowed")
		pg.Data = &errorData{Status: status, Hint: pg.T("您当前的角色或所属单位不能进行此操作。如确需办理，请联系本单位首席数据官或安全保密管理员。", "Your roles or your body do not allow this. If you need it, ask your body's chief data officer or the security officer.")}
	case http.StatusUnprocessableEntity, http.StatusConflict:
		pg.Data = &errorData{Status: status, Hint: pg.T("请返回上一页，按提示修改后重试。", "Go back, correct what the message says and try again.")}
	}
	c.render(w, r, status, "error", pg)
}

// pathID reads a numeric path value.
func pathID(r *http.Request, name string) int64 {
	n, _ := strconv.ParseInt(r.PathValue(name), 10, 64)
	return n
}

func formInt(r *http.Request, name string) int64 {
	n, _ := strconv.ParseInt(strings.TrimSpace(r.FormValue(name)), 10, 64)
	return n
}

// Pager describes one page of a list.
type Pager struct {
	Page, PageSize, Total int
}

func pagerOf(r *http.Request, size int) Pager {
	n, _ := strconv.Atoi(r.URL.Query().Get("page"))
	return Pager{Page: max(n, 1), PageSize: size}
}

func (p Pager) Offset() int { return (p.Page - 1) * p.PageSize }
func (p Pager) Pages() int  { return max(1, (p.Total+p.PageSize-1)/p.PageSize) }
func (p Pager) Prev() int   { return p.Page - 1 }
func (p Pager) Next() int {
	if p.Page >= p.Pages() {
		return 0
	}
	return p.Page + 1
}
func (p Pager) From() int { return min(p.Total, p.Offset()+1) }
func (p Pager) To() int   { return min(p.Total, p.Offset()+p.PageSize) }

func pgLang(r *http.Request) string { return httpx.Lang(r.Context()) }
