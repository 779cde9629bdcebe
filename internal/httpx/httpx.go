// Package httpx is the HTTP plumbing shared by the console, the JSON API and
// (later) the gateway: authentication of each request, the route table in
// which every route declares its permission, and the audit wrapper that
// records every write and every refusal in one place.
package httpx

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"time"

	"xiangyun/internal/audit"
	"xiangyun/internal/auth"
	"xiangyun/internal/db"
)

// SessionCookie is the name of the session cookie.
const SessionCookie = "xy_session"

// LangCookie remembers the user's language ("zh" or "en").
const LangCookie = "xy_lang"

// Route is one entry of the route table.
type Route struct {
	Method  string
	Pattern string
	Perm    auth.Permission
	Action  string // audit action for writes, e.g. "org.body.create"
	API     bool   // JSON API (true) or console page (false)
}

// Table collects every route of the platform, so that tests can walk it.
type Table struct {
	mu     sync.Mutex
	routes []Route
}

// Add records a route.
func (t *Table) Add(r Route) {
	t.mu.Lock()
	t.routes = append(t.routes, r)
	t.mu.Unlock()
}

// Routes returns a copy of the table.
func (t *Table) Routes() []Route {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]Route(nil), t.routes...)
}

// IsWrite reports whether a method changes state.
func IsWrite(method string) bool {
	return method != http.MethodGet && method != http.MethodHead && method != http.MethodOptions
}

type reqInfo struct {
	id, ip, lang string
	pending      *Pending
}

type infoKey struct{}

// Pending is the audit record being built for the current request; handlers
// add the object and details, the wrapper appends it with the outcome.
type Pending struct {
	mu     sync.Mutex
	Object string
	Actor  string // set by sign-in handlers before a principal exists
	Detail map[string]string
	Skip   bool   // the handler recorded the event itself
	origin string // the committed intent of this record in an outbox (see Audited)
}

// Note records the object a request acted on and details for its audit
// record. Values must never be secrets.
func Note(ctx context.Context, object string, kv ...string) {
	p := pendingOf(ctx)
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if object != "" {
		p.Object = object
	}
	if p.Detail == nil && len(kv) > 1 {
		p.Detail = map[string]string{}
	}
	for i := 0; i+1 < len(kv); i += 2 {
		p.Detail[kv[i]] = kv[i+1]
	}
}

// NoteActor names the actor of an anonymous request (a sign-in attempt).
func NoteActor(ctx context.Context, name string) {
	if p := pendingOf(ctx); p != nil {
		p.mu.Lock()
		p.Actor = name
		p.mu.Unlock()
	}
}

func pendingOf(ctx context.Context) *Pending {
	if ri, ok := ctx.Value(infoKey{}).(*reqInfo); ok {
		return ri.pending
	}
	return nil
}

// RequestID, ClientIP and Lang read what the middleware stored.
func RequestID(ctx context.Context) string { return info(ctx).id }
func ClientIP(ctx context.Context) string  { return info(ctx).ip }
func Lang(ctx context.Context) string {
	if l := info(ctx).lang; l != "" {
		return l
	}
	return "zh"
}

func info(ctx context.Context) *reqInfo {
	if ri, ok := ctx.Value(infoKey{}).(*reqInfo); ok {
		return ri
	}
	return &reqInfo{}
}

// Authenticator resolves the principal of a request.
type Authenticator struct {
	Auth  *auth.Service
	Audit *audit.Log
	Log   *slog.Logger
	// TrustedProxies are the networks of the reverse proxies in front of
	// the platform. Only when the direct peer is inside one of them is
	// X-Forwarded-For read, from the right, to the first address outside
	// them: the address that the trusted proxies saw connect.
	TrustedProxies []netip.Prefix
	// Unavailable answers a request when the database cannot be reached
	// (503); PlainUnavailable when nil.
	Unavailable func(w http.ResponseWriter, r *http.Request)
	// OnDone, when set, is told of every finished request (for metrics);
	// r.Pattern holds the matched route.
	OnDone func(r *http.Request, status int, d time.Duration)
	// RefusalInterval is the window in which repeated refusals of anonymous
	// requests from one address are counted into one record; 0 = a minute.
	RefusalInterval time.Duration

	refused refusalCounter
}

// Middleware identifies the caller (session cookie or bearer token), stores
// request id, client address and language in the context, and logs the
// request without secrets.
func (a *Authenticator) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		ri := &reqInfo{id: r.Header.Get("X-Request-Id"), ip: a.clientIP(r), lang: langOf(r), pending: &Pending{}}
		if len(ri.id) > 64 || ri.id == "" {
			ri.id = newID()
		}
		w.Header().Set("X-Request-Id", ri.id)
		ctx := context.WithValue(r.Context(), infoKey{}, ri)
		if !LongRunning(r) {
			// Every database call of the request ends by then, so an
			// unreachable database fails the request within seconds.
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, RequestTimeout)
			defer cancel()
		}
		var p *auth.Principal
		var lookupErr error
		lctx, lcancel := context.WithTimeout(ctx, LookupTimeout)
		if h := r.Header.Get("Authorization"); strings.HasPrefix(h, "Bearer ") {
			if p, lookupErr = a.Auth.TokenPrincipal(lctx, strings.TrimPrefix(h, "Bearer ")); lookupErr != nil {
				p = nil
				ri.pending.Detail = map[string]string{"credential": "invalid bearer token"}
			}
		} else if c, err := r.Cookie(SessionCookie); err == nil {
			p, lookupErr = a.Auth.Session(lctx, c.Value)
		}
		lcancel()
		if db.IsUnavailable(lookupErr) {
			// The caller may well be signed in: the database cannot say.
			// Answer 503, never "sign in first".
			if a.Log != nil {
				a.Log.Warn("credential lookup failed: database unavailable", "path", r.URL.Path, "request_id", ri.id, "err", lookupErr)
			}
			sw := &statusWriter{ResponseWriter: w, status: 200}
			a.unavailable(sw, r.WithContext(ctx))
			if a.OnDone != nil {
				a.OnDone(r, sw.status, time.Since(start))
			}
			return
		}
		if p != nil {
			ctx = auth.WithPrincipal(ctx, p)
		}
		sw := &statusWriter{ResponseWriter: w, status: 200}
		r2 := r.WithContext(ctx)
		next.ServeHTTP(sw, r2)
		if a.OnDone != nil {
			a.OnDone(r2, sw.status, time.Since(start))
		}
		if a.Log != nil && r.URL.Path != "/healthz" && r.URL.Path != "/metrics" {
			user := ""
			if p != nil {
				user = p.User.Username
			}
			// The query string is left out: it may carry search terms about people.
			a.Log.Info("http", "method", r.Method, "path", r.URL.Path, "status", sw.status, "ms", time.Since(start).Milliseconds(),
				"user", user, "ip", ri.ip, "request_id", ri.id)
		}
	})
}

// Deadlines of a request's database work. RequestTimeout bounds every
// request but the long-running ones (uploads, exports, verification,
// index rebuilds), which keep the store's own per-call deadlines;
// LookupTimeout bounds the session or token lookup that precedes
// everything; AuditTimeout bounds writing a request's audit record after
// its answer is ready.
var (
	RequestTimeout = 10 * time.Second
	LookupTimeout  = 3 * time.Second
	AuditTimeout   = 5 * time.Second
)

// LongRunning reports requests that may rightly take longer than
// RequestTimeout: uploads (import, batch), exports, the audit log's
// verification and index rebuilds.
func LongRunning(r *http.Request) bool {
	p := r.URL.Path
	for _, s := range []string{"/import", "/export", "/batch", "/verify", "/rebuild"} {
		if strings.HasSuffix(p, s) {
			return true
		}
	}
	return false
}

func (a *Authenticator) unavailable(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Retry-After", "5")
	if a.Unavailable != nil {
		a.Unavailable(w, r)
		return
	}
	PlainUnavailable(w, r)
}

// PlainUnavailable answers 503 in plain text, in both languages.
func PlainUnavailable(w http.ResponseWriter, r *http.Request) {
	http.Error(w, "503 服务暂时不可用（数据库无法访问），请稍后再试 / the service is unavailable right now (the database cannot be reached); try again shortly", http.StatusServiceUnavailable)
}

// auditCtx is the context of writing a finished request's audit record: it
// outlives the request's cancellation, but not by more than AuditTimeout.
// A request that ran out of its own time most likely found the database
// not answering; its record gets a short last try instead of holding the
// answer back for seconds more (a committed change's record is safe in the
// outbox either way, and a failure to audit is logged).
func auditCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	d := AuditTimeout
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		d = min(d, 500*time.Millisecond)
	}
	return context.WithTimeout(context.WithoutCancel(ctx), d)
}

// Audited returns ctx in which the first write transaction of the request
// that commits also writes the request's audit record (action) to its store's
// outbox, in the same transaction: a committed change always has its record,
// even if the process dies before Record delivers the final version of it.
func (a *Authenticator) Audited(ctx context.Context, action string) context.Context {
	ri := info(ctx)
	if ri.pending == nil {
		return ctx
	}
	p := ri.pending
	return db.WithCommitHook(ctx, func(tx *db.Tx) error {
		p.mu.Lock()
		if p.Skip || p.origin != "" {
			p.mu.Unlock()
			return nil
		}
		e := audit.Entry{Action: action, Object: p.Object, Outcome: audit.OutcomeSuccess, IP: ri.ip, RequestID: ri.id, Actor: p.Actor,
			Detail: map[string]string{"status": "committed"}}
		for k, v := range p.Detail {
			e.Detail[k] = v
		}
		p.mu.Unlock()
		a.fillActor(ctx, &e)
		origin, err := audit.Intent(tx, e)
		if err != nil {
			return err
		}
		tx.AfterCommit(func() {
			p.mu.Lock()
			p.origin = origin
			p.mu.Unlock()
		})
		return nil
	})
}

// Unaudited returns ctx without the commit hook of Audited, for handlers
// that record their event themselves (a sign-in attempt).
func Unaudited(ctx context.Context) context.Context { return db.WithCommitHook(ctx, nil) }

// Record appends the audit record of a finished request: every write, and
// every refused request. status is the response status. When the request's
// change committed an intent (Audited), the record is delivered as that
// intent, so it is in the log exactly once.
func (a *Authenticator) Record(ctx context.Context, action string, status int) {
	ri := info(ctx)
	if ri.pending == nil || ri.pending.Skip {
		return
	}
	outcome := audit.OutcomeSuccess
	switch {
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		outcome = audit.OutcomeDenied
	case status >= 400:
		outcome = audit.OutcomeFailure
	}
	ri.pending.mu.Lock()
	e := audit.Entry{Action: action, Object: ri.pending.Object, Outcome: outcome, IP: ri.ip, RequestID: ri.id, Actor: ri.pending.Actor,
		Detail: map[string]string{"status": http.StatusText(status)}}
	for k, v := range ri.pending.Detail {
		e.Detail[k] = v
	}
	ri.pending.Skip = true
	origin := ri.pending.origin
	ri.pending.mu.Unlock()
	if origin == "" && outcome == audit.OutcomeDenied && auth.FromContext(ctx) == nil && !a.refused.first(a, e) {
		return // counted into the address's summary record
	}
	if origin == "" {
		a.Append(ctx, e)
		return
	}
	a.fillActor(ctx, &e)
	actx, cancel := auditCtx(ctx)
	defer cancel()
	if err := a.Audit.Deliver(actx, origin, e); err != nil && a.Log != nil {
		// The intent stays in the outbox; the drainer appends it.
		a.Log.Error("audit delivery failed", "action", e.Action, "request_id", e.RequestID, "origin", origin, "err", err)
	}
}

func (a *Authenticator) fillActor(ctx context.Context, e *audit.Entry) {
	if p := auth.FromContext(ctx); p != nil && e.ActorID == 0 {
		e.ActorID, e.Actor = p.User.ID, p.User.Username
	}
	if e.Actor == "" {
		e.Actor = "anonymous"
	}
	if e.IP == "" {
		e.IP = ClientIP(ctx)
	}
	if e.RequestID == "" {
		e.RequestID = RequestID(ctx)
	}
}

// Append writes e, filling the actor from the context; a failure to audit is
// logged loudly (the change itself has already been committed).
func (a *Authenticator) Append(ctx context.Context, e audit.Entry) {
	a.fillActor(ctx, &e)
	actx, cancel := auditCtx(ctx)
	defer cancel()
	if _, err := a.Audit.Append(actx, e); err != nil && a.Log != nil {
		a.Log.Error("audit append failed", "action", e.Action, "request_id", e.RequestID, "err", err)
	}
}

func (a *Authenticator) clientIP(r *http.Request) string {
	return ClientAddr(r.RemoteAddr, r.Header.Values("X-Forwarded-For"), a.TrustedProxies)
}

// ClientAddr is the client's address of a request from peer (host:port)
// through the X-Forwarded-For headers xff, trusting only proxies inside
// trusted. Every proxy appends the address it saw to the right, so the list
// is walked from the right, skipping trusted proxies; the first address
// outside them is the client. Anything left of it was written by the
// client and is ignored. When an entry cannot be parsed the chain is broken
// there and the last trusted hop is taken.
func ClientAddr(peer string, xff []string, trusted []netip.Prefix) string {
	host, _, err := net.SplitHostPort(peer)
	if err != nil {
		host = peer
	}
	addr, err := netip.ParseAddr(host)
	if err != nil || !inPrefixes(addr.Unmap(), trusted) {
		return host
	}
	last := addr.Unmap()
	for i := len(xff) - 1; i >= 0; i-- {
		parts := strings.Split(xff[i], ",")
		for j := len(parts) - 1; j >= 0; j-- {
			a, ok := parseHop(parts[j])
			if !ok {
				return last.String()
			}
			if !inPrefixes(a, trusted) {
				return a.String()
			}
			last = a
		}
	}
	return last.String()
}

// parseHop reads one X-Forwarded-For entry: an address, with or without a
// port (IPv6 with a port in brackets).
func parseHop(s string) (netip.Addr, bool) {
	s = strings.TrimSpace(s)
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Unmap(), true
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap(), true
	}
	return netip.Addr{}, false
}

func inPrefixes(a netip.Addr, ps []netip.Prefix) bool {
	for _, p := range ps {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// LoopbackProxies is what --trust-proxy alone trusts: a proxy on this host.
var LoopbackProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}

// ParseProxies reads a comma-separated list of networks (10.0.0.0/8) or
// single addresses (192.0.2.7) of trusted proxies.
func ParseProxies(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if !strings.Contains(f, "/") {
			a, err := netip.ParseAddr(f)
			if err != nil {
				return nil, fmt.Errorf("trusted proxy %q: not an address or network", f)
			}
			out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
			continue
		}
		p, err := netip.ParsePrefix(f)
		if err != nil {
			return nil, fmt.Errorf("trusted proxy %q: not an address or network", f)
		}
		if p.Addr().Is4In6() && p.Bits() >= 96 {
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

func langOf(r *http.Request) string {
	if c, err := r.Cookie(LangCookie); err == nil && (c.Value == "en" || c.Value == "zh") {
		return c.Value
	}
	// Chinese unless the user chose English with the switch: the platform's
	// language is Chinese, whatever language the browser was installed in.
	return "zh"
}

func newID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(s int)           { w.status = s; w.ResponseWriter.WriteHeader(s) }
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// StatusWriter wraps w to learn the status a handler wrote.
func StatusWriter(w http.ResponseWriter) (http.ResponseWriter, func() int) {
	sw := &statusWriter{ResponseWriter: w, status: 200}
	return sw, func() int { return sw.status }
}

// Refusal writes the answer to a request a route refuses: status is 401
// (a write without sign-in) or 403 (signed in, not allowed).
type Refusal func(w http.ResponseWriter, r *http.Request, status int)

// PlainRefusal answers a refusal in plain text, in both languages.
func PlainRefusal(w http.ResponseWriter, r *http.Request, status int) {
	if status == http.StatusUnauthorized {
		http.Error(w, "请先登录 / sign in first", status)
		return
	}
	http.Error(w, "403 无权访问 / forbidden", status)
}

// Guard wraps a console handler: it checks the route's permission (sending
// anonymous users to sign in), answers refusals with refuse (PlainRefusal
// when nil) and audits writes and refusals.
func (a *Authenticator) Guard(t *Table, mux *http.ServeMux, rt Route, h http.HandlerFunc, refuse Refusal) {
	t.Add(rt)
	if refuse == nil {
		refuse = PlainRefusal
	}
	mux.HandleFunc(rt.Method+" "+rt.Pattern, func(w http.ResponseWriter, r *http.Request) {
		p := auth.FromContext(r.Context())
		if !p.Has(rt.Perm) {
			if p == nil && rt.Perm != auth.PermPublic {
				if IsWrite(r.Method) {
					refuse(w, r, http.StatusUnauthorized)
					a.Record(r.Context(), rt.Action, http.StatusUnauthorized)
					return
				}
				http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
				return
			}
			refuse(w, r, http.StatusForbidden)
			a.Record(r.Context(), rt.Action+".denied", http.StatusForbidden)
			return
		}
		sw, status := StatusWriter(w)
		if !IsWrite(r.Method) {
			h(sw, r)
			return
		}
		r = r.WithContext(a.Audited(r.Context(), rt.Action))
		h(sw, r)
		a.Record(r.Context(), rt.Action, status())
	})
}

// Skip tells the wrapper that the handler recorded the event itself.
func Skip(ctx context.Context) {
	if p := pendingOf(ctx); p != nil {
		p.mu.Lock()
		p.Skip = true
		p.mu.Unlock()
	}
}
