// Package server wires the platform together: it opens the stores, runs every
// package's migrations, builds the services and the HTTP handler, and serves
// it with graceful shutdown. cmd/xiangyun and the end-to-end tests both use it.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"xiangyun/internal/api"
	"xiangyun/internal/audit"
	"xiangyun/internal/auth"
	"xiangyun/internal/blob"
	"xiangyun/internal/catalog"
	"xiangyun/internal/catalogio"
	"xiangyun/internal/db"
	"xiangyun/internal/gateway"
	"xiangyun/internal/httpx"
	"xiangyun/internal/ingest"
	"xiangyun/internal/notify"
	"xiangyun/internal/org"
	"xiangyun/internal/quality"
	"xiangyun/internal/share"
	"xiangyun/internal/web"
)

// Version is set at build time with -ldflags "-X xiangyun/internal/server.Version=…".
var Version = "0.1.0-dev"

// Config is the platform's configuration (flags and XIANGYUN_* variables).
type Config struct {
	Addr          string // listen address
	DB            string // sqlite:DIR or postgres://…
	DataDir       string // files: search index, audit signing key, uploads
	AuditKeyFile  string // Ed25519 note key for signed tree heads; default DataDir/audit.key
	AuditAnchor   string // file the audit checkpoints are appended to; default DataDir/audit-checkpoints
	AuditWitness  string // URL of a tlog-witness the checkpoints are sent to; "" = none
	Brand         string // platform name in the console header
	SecureCookies bool   // set the Secure flag on cookies (behind TLS)
	// TrustedProxies are the networks of reverse proxies whose
	// X-Forwarded-For is believed (see httpx.ClientAddr); empty = none.
	TrustedProxies []netip.Prefix
	TrustProxy     bool         // alias kept for old configurations: trust a proxy on loopback
	AuthPolicy     *auth.Policy // login throttling and sessions; nil = auth.DefaultPolicy
	SMTPURL        string       // smtp://user:pass@host:port or smtps://…; "" = no e-mail
	SMTPFrom       string       // sender address of notification e-mail
	PublicURL      string       // the console's address as users reach it, for links in e-mail
	// ShareKeyFile is the platform sharing key that seals applications'
	// signing keys; default DataDir/share.key. Every node of one
	// installation needs the same file.
	ShareKeyFile string
	// Sharing review deadlines in working days (0: the defaults 2, 5 and 10).
	SharePlatformDays, ShareProviderDays, ShareProviderDaysNoData int
	// Blobs keeps file resources (文件): a local directory (BlobDir,
	// default DataDir/blobs) unless BlobS3.Endpoint names an S3-compatible
	// store.
	BlobDir      string
	BlobS3       blob.S3Config
	MaxFileBytes int64 // one file version; 0 = ingest.DefaultMaxFileBytes
}

// Defaults fills empty fields.
func (c *Config) Defaults() {
	if c.Addr == "" {
		c.Addr = "127.0.0.1:8080"
	}
	if c.DB == "" { // SQLite in the data directory, so --data alone moves everything
		c.DB = "sqlite:./xiangyun-data"
		if c.DataDir != "" {
			c.DB = "sqlite:" + c.DataDir
		}
	}
	if c.DataDir == "" {
		if strings.HasPrefix(c.DB, "sqlite:") {
			c.DataDir = strings.TrimPrefix(c.DB, "sqlite:")
		} else {
			c.DataDir = "./xiangyun-data"
		}
	}
	if c.TrustProxy && len(c.TrustedProxies) == 0 {
		c.TrustedProxies = httpx.LoopbackProxies
	}
	if c.AuthPolicy == nil {
		p := auth.DefaultPolicy
		c.AuthPolicy = &p
	}
	if c.AuditKeyFile == "" {
		c.AuditKeyFile = filepath.Join(c.DataDir, "audit.key")
	}
	if c.AuditAnchor == "" {
		c.AuditAnchor = filepath.Join(c.DataDir, "audit-checkpoints")
	}
	if c.ShareKeyFile == "" {
		c.ShareKeyFile = filepath.Join(c.DataDir, "share.key")
	}
	if c.BlobDir == "" {
		c.BlobDir = filepath.Join(c.DataDir, "blobs")
	}
}

// Server is a running installation.
type Server struct {
	Config  Config
	Log     *slog.Logger
	Control *db.DB
	AuditDB *db.DB
	DataDB  *db.DB // aggregated records
	Orgs    *org.Service
	Auth    *auth.Service
	Audit   *audit.Log
	Notify  *notify.Service
	Mail    *notify.Sender // nil without SMTP
	Catalog *catalog.Service
	Quality *quality.Service
	Ingest  *ingest.Service
	// Share is the sharing control plane; the gateway takes its Snapshot
	// and Subscribe.
	Share *share.Service
	// ShareStats is the gateway's call statistics (internal/share/stats.go) on the control store.
	ShareStats *share.Stats
	Blobs      blob.Store // file resources' content
	Authn      *httpx.Authenticator
	Routes     *httpx.Table
	API        *api.API
	Imports    *catalogio.Limiter // concurrent catalog imports (API and console)
	Gateway    *gateway.Gateway   // the exchange gateway at /gw/v1/
	Handler    http.Handler

	anchored bool   // the audit log was found consistent with its anchor
	unlock   func() // releases the data directory
}

// AuditKeyName is the name of the audit signing key and the origin of the
// audit log's checkpoints.
const AuditKeyName = "xiangyun-audit"

// Open opens the stores, migrates them and builds the services and handler.
func Open(ctx context.Context, cfg Config, log *slog.Logger) (*Server, error) {
	cfg.Defaults()
	if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	s := &Server{Config: cfg, Log: log}
	var err error
	fail := func(e error) (*Server, error) { s.Close(); return nil, e }
	if s.unlock, err = lockDataDir(cfg.DataDir); err != nil {
		return nil, err
	}
	if s.Control, err = db.Open(ctx, cfg.DB, "control"); err != nil {
		return fail(err)
	}
	if s.AuditDB, err = db.Open(ctx, cfg.DB, "audit"); err != nil {
		return fail(err)
	}
	if s.DataDB, err = db.Open(ctx, cfg.DB, "data"); err != nil {
		return fail(err)
	}
	key, err := audit.KeyForLog(ctx, s.AuditDB, cfg.AuditKeyFile, AuditKeyName, cfg.AuditAnchor)
	if err != nil {
		return fail(err)
	}
	if s.Audit, err = audit.Open(ctx, s.AuditDB, key); err != nil {
		return fail(err)
	}
	// The log must extend the checkpoints anchored outside the database: a
	// wiped, rolled back or re-signed log is not served.
	s.Audit.SetAnchor(audit.Anchor{File: cfg.AuditAnchor, Witness: cfg.AuditWitness})
	s.Audit.SetErrorLog(func(err error) { log.Error("audit anchor", "err", err) })
	if _, err := s.Audit.CheckAnchor(ctx); err != nil {
		return fail(fmt.Errorf("refusing to start: %w", err))
	}
	s.anchored = true
	// Changes committed before a crash whose audit records were not yet
	// delivered are appended now, before anything else is served.
	s.Audit.Watch(s.Control)
	s.Audit.Watch(s.DataDB)
	if n, err := s.Audit.Drain(ctx, time.Now()); err != nil {
		return fail(fmt.Errorf("audit: deliver pending records: %w", err))
	} else if n > 0 {
		log.Warn("audit records recovered from the outbox after an unclean stop", "records", n)
	}
	var smtp *notify.SMTP
	if cfg.SMTPURL != "" {
		if smtp, err = notify.ParseSMTP(cfg.SMTPURL, cfg.SMTPFrom); err != nil {
			return fail(err)
		}
	}
	if s.Notify, err = notify.Open(ctx, s.Control, notify.Options{Mail: smtp != nil, BaseURL: cfg.PublicURL, Log: log}); err != nil {
		return fail(err)
	}
	if smtp != nil {
		host := "xiangyun.invalid"
		if u, err := url.Parse(cfg.PublicURL); err == nil && u.Hostname() != "" {
			host = u.Hostname()
		}
		s.Mail = &notify.Sender{Store: s.Control, SMTP: smtp, Host: host, Logf: func(msg string, args ...any) { log.Warn(msg, args...) }}
		log.Info("notification e-mail on", "smtp", smtp.String(), "from", cfg.SMTPFrom)
	}
	if err := s.Audit.AnchorHead(ctx); err != nil {
		log.Error("audit anchor", "err", err)
	}
	if s.Orgs, err = org.Open(ctx, s.Control); err != nil {
		return fail(err)
	}
	if s.Auth, err = auth.Open(ctx, s.Control, s.Orgs, *cfg.AuthPolicy); err != nil {
		return fail(err)
	}
	if s.Catalog, err = catalog.Open(ctx, s.Control, s.Orgs, catalog.Options{IndexDir: filepath.Join(cfg.DataDir, "index", "catalog"), Notify: s.Notify}); err != nil {
		return fail(err)
	}
	if s.Quality, err = quality.Open(ctx, s.Control, s.Catalog, quality.Options{Notify: s.Notify}); err != nil {
		return fail(err)
	}
	if s.Blobs, err = blob.Open(ctx, blob.Config{Dir: cfg.BlobDir, S3: cfg.BlobS3}); err != nil {
		return fail(fmt.Errorf("file store: %w", err))
	}
	log.Info("file store", "blobs", s.Blobs.String())
	if s.Ingest, err = ingest.Open(ctx, s.DataDB, s.Catalog, ingest.Options{SpoolDir: filepath.Join(cfg.DataDir, "uploads"), Log: log,
		Quality: s.Quality, Control: s.Control, Blobs: s.Blobs, MaxFileBytes: cfg.MaxFileBytes}); err != nil {
		return fail(err)
	}
	if s.ShareStats, err = share.OpenStats(ctx, s.Control, s.Orgs, s.Catalog); err != nil {
		return fail(err)
	}
	shareOpts := share.Options{KeyFile: cfg.ShareKeyFile, Notify: s.Notify, Ingest: s.Ingest, Log: log,
		PlatformDays: cfg.SharePlatformDays, ProviderDays: cfg.ShareProviderDays, ProviderDaysNoData: cfg.ShareProviderDaysNoData}
	if s.Control.Dialect == db.Postgres {
		shareOpts.DSN = cfg.DB
	}
	if s.Share, err = share.Open(ctx, s.Control, s.Orgs, s.Catalog, shareOpts); err != nil {
		return fail(err)
	}
	s.Share.QuotaUsed = s.ShareStats.QuotaUsedToday // today's successful calls, all nodes
	s.ShareStats.SetAppNames(s.Share.AppNames)
	if s.Gateway, err = gateway.New(ctx, gateway.Config{Snapshot: s.Share.Snapshot, Subscribe: s.Share.Subscribe,
		Records: s.Ingest, Catalog: s.Catalog, Audit: s.Audit, Stats: s.ShareStats.RecordCalls, Logger: log, TrustedProxies: cfg.TrustedProxies}); err != nil {
		return fail(err)
	}
	if err := s.buildHandler(); err != nil {
		return fail(err)
	}
	return s, nil
}

var (
	reqCount = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "xiangyun_http_requests_total", Help: "HTTP requests by route and status class."}, []string{"route", "code"})
	reqTime  = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "xiangyun_http_request_seconds", Help: "HTTP request latency by route.", Buckets: prometheus.DefBuckets}, []string{"route"})
)

func (s *Server) buildHandler() error {
	mux := http.NewServeMux()
	s.Routes = &httpx.Table{}
	s.Authn = &httpx.Authenticator{Auth: s.Auth, Audit: s.Audit, Log: s.Log, TrustedProxies: s.Config.TrustedProxies}
	cookie := func(tok string) http.Cookie {
		return api.SessionCookie(tok, s.Config.SecureCookies, s.Auth.Policy().SessionMax)
	}
	// One import at a time on SQLite: a second one would only wait for
	// the single writer (and time out) while holding its file in memory.
	s.Imports = catalogio.NewLimiter(2)
	if s.Control.Dialect == db.SQLite {
		s.Imports = catalogio.NewLimiter(1)
	}
	s.API = api.New(mux, api.Deps{Imports: s.Imports, Orgs: s.Orgs, Auth: s.Auth, Audit: s.Audit, Catalog: s.Catalog, Quality: s.Quality, Notify: s.Notify, Authn: s.Authn, Table: s.Routes, SecureCookie: s.Config.SecureCookies, Version: Version,
		Ingest: s.Ingest, Share: s.Share, ShareStats: s.ShareStats, SpoolDir: filepath.Join(s.Config.DataDir, "uploads")})
	console, err := web.New(mux, web.Deps{Imports: s.Imports, Orgs: s.Orgs, Auth: s.Auth, Audit: s.Audit, Catalog: s.Catalog, Quality: s.Quality, Notify: s.Notify, Authn: s.Authn, Table: s.Routes, Log: s.Log,
		Ingest: s.Ingest, Share: s.Share, ShareStats: s.ShareStats, SpoolDir: filepath.Join(s.Config.DataDir, "uploads"),
		Brand: s.Config.Brand, Login: s.API.Login, Cookie: cookie, Version: Version, Started: time.Now()})
	if err != nil {
		return err
	}
	// When the session lookup itself finds the database unreachable, the
	// caller gets a 503 in the form it reads: a problem or a console page.
	s.Authn.Unavailable = func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/api/") {
			api.WriteProblem(w, api.UnavailableProblem())
			return
		}
		console.Unavailable(w, r)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}), reqCount, reqTime)
	reg.MustRegister(s.Gateway.Collectors()...)
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("ok\n")) })
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		for _, d := range s.Stores() {
			if err := d.R.PingContext(ctx); err != nil {
				http.Error(w, "database "+d.Name+" not ready", http.StatusServiceUnavailable)
				return
			}
		}
		if err := s.Catalog.IndexReady(); err != nil {
			http.Error(w, "catalog search index not ready", http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("ready\n"))
	})
	s.Authn.OnDone = func(r *http.Request, status int, d time.Duration) {
		route := r.Pattern
		if route == "" {
			route = "unmatched"
		}
		reqCount.WithLabelValues(route, fmt.Sprintf("%dxx", status/100)).Inc()
		reqTime.WithLabelValues(route).Observe(d.Seconds())
	}
	// Cross-origin protection (Sec-Fetch-Site / Origin) guards every form
	// and API write against CSRF without tokens in the pages.
	csrf := http.NewCrossOriginProtection()
	csrf.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.Log.Warn("cross-origin request refused", "method", r.Method, "path", r.URL.Path, "origin", r.Header.Get("Origin"))
		const zh, en = "跨站请求被拒绝：请在本平台的页面中操作", "cross-origin request refused: use the platform's own pages"
		if strings.HasPrefix(r.URL.Path, "/api/") {
			api.WriteProblem(w, &api.Problem{Status: http.StatusForbidden, Title: "Forbidden", Code: "csrf", Detail: en, MessageZH: zh, MessageEN: en})
			return
		}
		http.Error(w, "403 "+zh+" / "+en, http.StatusForbidden)
	}))
	site := csrf.Handler(s.Authn.Middleware(mux))
	// The exchange gateway sits outside the console's CSRF and session
	// middleware: applications authenticate with their own credentials.
	// It gets every path under /gw/ as sent (not cleaned by ServeMux), so
	// that it normalises and refuses path tricks itself.
	s.Handler = securityHeaders(s.Config.SecureCookies, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p := r.URL.EscapedPath(); strings.HasPrefix(strings.ToLower(p), "/gw/") || strings.EqualFold(p, "/gw") {
			s.Gateway.ServeHTTP(w, r)
			return
		}
		site.ServeHTTP(w, r)
	}))
	return nil
}

// securityHeaders sets the headers every answer carries. With secure
// cookies the platform is served over TLS, so browsers are told to use
// HTTPS only (HSTS) for a year; without them it may be plain HTTP on an
// intranet, where HSTS would lock users out.
func securityHeaders(secure bool, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		if secure {
			h.Set("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
		}
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("X-Frame-Options", "DENY")
		// No exemptions: the API docs page serves a vendored viewer and
		// sets a stricter policy of its own.
		h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; frame-ancestors 'none'; form-action 'self'")
		next.ServeHTTP(w, r)
	})
}

// every runs job now and then every interval until ctx ends; a failure is
// logged and retried at the next tick.
func (s *Server) every(ctx context.Context, interval time.Duration, name string, job func(context.Context) (int, error)) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if _, err := job(ctx); err != nil && ctx.Err() == nil {
			s.Log.Error(name+" failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Serve answers HTTP on ln until ctx is cancelled, then shuts down gracefully.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{Handler: s.Handler, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 5 * time.Minute, WriteTimeout: 10 * time.Minute, IdleTimeout: 2 * time.Minute,
		ErrorLog: slog.NewLogLogger(s.Log.Handler(), slog.LevelWarn)}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	go s.Audit.RunDrainer(ctx, 5*time.Second, 30*time.Second, func(err error) { s.Log.Error("audit outbox drain failed", "err", err) })
	go s.every(ctx, 10*time.Minute, "review deadline notices", s.Catalog.NotifyDeadlines)
	go s.every(ctx, 10*time.Minute, "share request deadline notices", s.Share.NotifyDeadlines)
	if s.Mail != nil {
		go s.Mail.Run(ctx, 10*time.Second)
	}
	go s.Audit.RunAnchor(ctx, time.Minute, func(err error) { s.Log.Error("audit anchor", "err", err) })
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	s.Log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	err := srv.Shutdown(sctx)
	s.Authn.FlushRefusals() // the refusals counted but not yet recorded
	if e := <-errc; !errors.Is(e, http.ErrServerClosed) {
		err = errors.Join(err, e)
	}
	return err
}

// Stores lists the installation's logical stores.
func (s *Server) Stores() []*db.DB { return []*db.DB{s.Control, s.AuditDB, s.DataDB} }

// Close anchors the audit log's head and releases the stores.
func (s *Server) Close() {
	if s.Gateway != nil {
		if err := s.Gateway.Close(); err != nil { // flushes call statistics
			s.Log.Error("gateway close", "err", err)
		}
	}
	if s.Share != nil {
		s.Share.Close() // stops listening for other nodes' changes
	}
	if s.Ingest != nil {
		s.Ingest.Close() // running batches end as failed, nothing published
	}
	if s.anchored {
		if err := s.Audit.AnchorHead(context.Background()); err != nil {
			s.Log.Error("audit anchor", "err", err)
		}
	}
	if s.Catalog != nil {
		_ = s.Catalog.Close()
	}
	for _, d := range []*db.DB{s.Control, s.AuditDB, s.DataDB} {
		if d != nil {
			_ = d.Close()
		}
	}
	if s.unlock != nil {
		s.unlock()
	}
}
