// Package gateway is the exchange gateway (交换网关), the data plane of
// sharing: applications of consuming bodies call /gw/v1 with their own
// credentials to query an entry's records, verify values (核验) or call a
// provider's registered service. Every call is authenticated, checked
// against an in-memory snapshot of grants (built by internal/share), rate-
// and quota-limited, projected to the granted items, masked, and recorded
// in the audit log (group commit) before its answer is released. See
// docs/GATEWAY.md for integrators.
package gateway

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"xiangyun/internal/audit"
	"xiangyun/internal/catalog"
	"xiangyun/internal/db"
	"xiangyun/internal/httpx"
	"xiangyun/internal/ingest"
	"xiangyun/internal/share"
)

// Config configures a gateway.
type Config struct {
	Snapshot  func(ctx context.Context) (*share.Snapshot, error) // loads a fresh snapshot
	Subscribe func(fn func(version int64)) (cancel func())       // change notices; nil = none
	Records   *ingest.Service
	Catalog   *catalog.Service
	Audit     *audit.Log
	Stats     func(ctx context.Context, counts []share.CallCount) error // nil = none; flushed every second and on Close
	Clock     func() time.Time                                          // nil = time.Now
	Logger    *slog.Logger

	// TrustedProxies are the reverse proxies whose X-Forwarded-For is believed.
	TrustedProxies []netip.Prefix
	// MaxBodyBytes bounds request bodies (default 1 MiB) and MaxAnswerBytes
	// a provider service's answer (default 8 MiB).
	MaxBodyBytes, MaxAnswerBytes int64
	// ServiceTimeout is a provider service's timeout when it registered none
	// (default 10 s).
	ServiceTimeout time.Duration
	// BreakerFailures consecutive failures open a provider service's
	// circuit (default 5); after BreakerOpen (default 30 s) one probe is let
	// through (half-open).
	BreakerFailures uint32
	BreakerOpen     time.Duration
	// Refresh reloads the snapshot periodically, a safety net behind
	// Subscribe (default 30 s). EntryTTL bounds how long an entry's catalog
	// description is cached (default 1 min; publication clears it at once).
	Refresh, EntryTTL time.Duration
	// AuditBatch and AuditLinger tune group commit (defaults 256, 0).
	AuditBatch  int
	AuditLinger time.Duration
	// SignatureSkew is the allowed clock skew of signed requests (default 5 min).
	SignatureSkew time.Duration
	// RefusalInterval is how long unauthenticated and rate-limited
	// refusals from one source are counted into one audit record after the
	// first (default 1 min).
	RefusalInterval time.Duration
	// Transport carries service calls; nil = a pooled http.Transport.
	Transport http.RoundTripper
}

// Gateway is the /gw/v1 handler.
type Gateway struct {
	cfg    Config
	clock  func() time.Time
	log    *slog.Logger
	skew   time.Duration
	client *http.Client

	snap     atomic.Pointer[snapState]
	reload   chan struct{}
	loadMu   sync.Mutex
	unsub    func()
	commit   *audit.Committer
	nonces   nonceCache
	limits   limiter
	entries  entryCache
	breakers breakers
	stats    statsAgg
	refused  refusalCounter
	metrics  metrics

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	closed atomic.Bool
}

// snapState is the snapshot in force with this node's quota bookkeeping.
type snapState struct {
	snap *share.Snapshot
	day  string // the Asia/Shanghai day the snapshot's QuotaUsed counts
	// flushedAt is, per grant, how many of this node's calls of day had
	// been flushed to the statistics when the snapshot was requested: those
	// are already in QuotaUsed.
	flushedAt map[int64]int64
}

// New loads the first snapshot and starts the gateway's background work.
func New(ctx context.Context, cfg Config) (*Gateway, error) {
	if cfg.Snapshot == nil || cfg.Records == nil || cfg.Catalog == nil || cfg.Audit == nil {
		return nil, errors.New("gateway: Snapshot, Records, Catalog and Audit are required")
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = 1 << 20
	}
	if cfg.MaxAnswerBytes <= 0 {
		cfg.MaxAnswerBytes = 8 << 20
	}
	if cfg.ServiceTimeout <= 0 {
		cfg.ServiceTimeout = 10 * time.Second
	}
	if cfg.BreakerFailures == 0 {
		cfg.BreakerFailures = 5
	}
	if cfg.BreakerOpen <= 0 {
		cfg.BreakerOpen = 30 * time.Second
	}
	if cfg.Refresh <= 0 {
		cfg.Refresh = 30 * time.Second
	}
	if cfg.EntryTTL <= 0 {
		cfg.EntryTTL = time.Minute
	}
	if cfg.SignatureSkew <= 0 {
		cfg.SignatureSkew = 5 * time.Minute
	}
	if cfg.RefusalInterval <= 0 {
		cfg.RefusalInterval = time.Minute
	}
	tr := cfg.Transport
	if tr == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConns, t.MaxIdleConnsPerHost = 1024, 256
		tr = t
	}
	g := &Gateway{cfg: cfg, clock: cfg.Clock, log: cfg.Logger, skew: cfg.SignatureSkew, reload: make(chan struct{}, 1),
		client: &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	g.ctx, g.cancel = context.WithCancel(context.WithoutCancel(ctx))
	g.metrics = newMetrics()
	g.breakers.init(cfg.BreakerFailures, cfg.BreakerOpen)
	g.entries.init(cfg.Catalog, cfg.EntryTTL)
	g.refused.interval = cfg.RefusalInterval
	if err := g.load(ctx); err != nil {
		g.cancel()
		return nil, fmt.Errorf("gateway: first snapshot: %w", err)
	}
	g.commit = cfg.Audit.NewCommitter(cfg.AuditBatch, cfg.AuditLinger)
	// A publication changes an entry's items or masks: drop its cached
	// description once the change commits.
	cfg.Catalog.OnPublish(func(tx *db.Tx, _, nv *catalog.Version) error {
		id := nv.EntryID
		tx.AfterCommit(func() { g.entries.forget(id) })
		return nil
	})
	if cfg.Subscribe != nil {
		g.unsub = cfg.Subscribe(func(version int64) {
			if st := g.snap.Load(); st != nil && version != 0 && version <= st.snap.Version {
				return
			}
			select {
			case g.reload <- struct{}{}:
			default:
			}
		})
	}
	g.wg.Add(2)
	go g.loader()
	go g.flusher()
	return g, nil
}

// load builds a new snapshot state and swaps it in.
func (g *Gateway) load(ctx context.Context) error {
	g.loadMu.Lock()
	defer g.loadMu.Unlock()
	day := dayOf(g.clock())
	flushed := g.stats.flushedCounts(day)
	snap, err := g.cfg.Snapshot(ctx)
	if err != nil {
		return err
	}
	if snap == nil {
		return errors.New("nil snapshot")
	}
	if old := g.snap.Load(); old != nil && old.snap.Version > snap.Version {
		return nil // an older build lost a race
	}
	st := &snapState{snap: snap, day: dayOf(snap.Built), flushedAt: flushed}
	if snap.Built.IsZero() {
		st.day = day
	}
	g.snap.Store(st)
	g.entries.clear()
	return nil
}

// loader reloads on change notices and periodically.
func (g *Gateway) loader() {
	defer g.wg.Done()
	t := time.NewTicker(g.cfg.Refresh)
	defer t.Stop()
	for {
		select {
		case <-g.ctx.Done():
			return
		case <-g.reload:
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(g.ctx, 10*time.Second)
		if err := g.load(ctx); err != nil && g.ctx.Err() == nil {
			g.log.Error("gateway: snapshot reload failed; the previous snapshot stays in force", "err", err)
		}
		cancel()
	}
}

// Reload loads a fresh snapshot now (tests, and the coordinator after a
// change it knows of).
func (g *Gateway) Reload(ctx context.Context) error { return g.load(ctx) }

// Close stops the gateway: the audit committer writes what is queued, the
// statistics and counted refusals are flushed.
func (g *Gateway) Close() error {
	if !g.closed.CompareAndSwap(false, true) {
		return nil
	}
	if g.unsub != nil {
		g.unsub()
	}
	g.cancel()
	g.wg.Wait()
	g.flushRefusals()
	g.commit.Close()
	return g.flushStats(context.Background())
}

var requestIDRe = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,128}$`)

func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// call is one request as the gateway handles it.
type call struct {
	start     time.Time
	id        string
	ip        string
	kind      string
	rt        route
	body      []byte
	reqHash   [32]byte
	cred      *share.Credential
	grant     *share.Grant
	entry     *catalog.Entry
	purpose   string
	caseID    string
	items     []string // items returned or compared
	masks     []string // item=rule for the masks applied
	records   int
	keyID     string
	quotaHeld bool
	status    int
}

// ServeHTTP answers a /gw/v1 request.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c := &call{start: g.clock(), ip: httpx.ClientAddr(r.RemoteAddr, r.Header.Values("X-Forwarded-For"), g.cfg.TrustedProxies),
		keyID: r.Header.Get("X-Client-Id")}
	if len(c.keyID) > 128 || !utf8.ValidString(c.keyID) {
		c.keyID = c.keyID[:min(len(c.keyID), 16)] + "…"
	}
	c.id = r.Header.Get("X-Request-Id")
	var p *Problem
	if c.id == "" {
		c.id = newRequestID()
	} else if !requestIDRe.MatchString(c.id) {
		c.id = newRequestID()
		p = errBadRequestID
	}
	w.Header().Set("X-Request-Id", c.id)
	if p == nil {
		p = g.prepare(w, r, c)
	}
	var (
		status = http.StatusOK
		answer []byte
		ctype  = "application/json"
	)
	if p == nil {
		status, answer, ctype, p = g.serve(r, c)
	}
	if p != nil {
		status, answer, ctype = p.Status, encodeProblem(p, c.id), "application/problem+json"
		retryAfter(w.Header(), p)
	}
	if g.closed.Load() {
		p, status = errUnavailable, errUnavailable.Status
		answer, ctype = encodeProblem(p, c.id), "application/problem+json"
	}
	respHash := sha256.Sum256(answer)
	// The audit record is durable before a byte of the answer leaves. It is
	// written even if the caller has gone: the data may have been read.
	actx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 30*time.Second)
	err := g.record(actx, c, status, p, respHash)
	cancel()
	if err != nil {
		g.log.Error("gateway: audit append failed; call refused", "request_id", c.id, "err", err)
		p, status = errAuditDown, errAuditDown.Status
		answer, ctype = encodeProblem(p, c.id), "application/problem+json"
		retryAfter(w.Header(), p)
		respHash = sha256.Sum256(answer)
	}
	c.status = status
	g.count(c, p)
	h := w.Header()
	h.Set("Content-Type", ctype)
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Request-Hash", hex.EncodeToString(c.reqHash[:]))
	h.Set("X-Response-Hash", ResponseHash(c.id, c.reqHash, respHash))
	h.Set("Content-Length", strconv.Itoa(len(answer)))
	w.WriteHeader(status)
	_, _ = w.Write(answer)
}

// ResponseHash binds an answer to its request: base64(SHA-256(request id
// "\n" hex(request hash) "\n" hex(SHA-256(response body)))).
func ResponseHash(requestID string, reqHash, respHash [32]byte) string {
	h := sha256.New()
	h.Write([]byte(requestID + "\n" + hex.EncodeToString(reqHash[:]) + "\n" + hex.EncodeToString(respHash[:])))
	return base64.StdEncoding.EncodeToString(h.Sum(nil))
}

// RequestHash is SHA-256 of METHOD "\n" escaped path "\n" raw query "\n"
// hex(SHA-256(body)); X-Request-Hash carries it in hex.
func RequestHash(method, escapedPath, rawQuery string, body []byte) [32]byte {
	b := sha256.Sum256(body)
	return sha256.Sum256([]byte(method + "\n" + escapedPath + "\n" + rawQuery + "\n" + hex.EncodeToString(b[:])))
}

// prepare normalises the path, reads the body, authenticates and checks
// the grant, rate and quota.
func (g *Gateway) prepare(w http.ResponseWriter, r *http.Request, c *call) *Problem {
	rt, p := parsePath(r.URL.EscapedPath())
	if p != nil {
		c.reqHash = RequestHash(r.Method, r.URL.EscapedPath(), r.URL.RawQuery, nil)
		return p
	}
	c.rt, c.kind = rt, rt.kind
	switch {
	case rt.kind == "query" && r.Method != http.MethodGet:
		return errMethod
	case rt.kind == "verify" && r.Method != http.MethodPost:
		return errMethod
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, g.cfg.MaxBodyBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return errTooLarge
		}
		return errBadBody.with("the body could not be read")
	}
	c.body = body
	c.reqHash = RequestHash(r.Method, r.URL.EscapedPath(), r.URL.RawQuery, body)
	st := g.snap.Load()
	now := c.start
	cred, p := authenticate(st.snap, r, now)
	if p != nil {
		if cred != nil {
			c.cred = cred
		}
		return p
	}
	c.cred = cred
	if p := g.checkSignature(cred, r, body, now); p != nil {
		return p
	}
	if p := c.readPurpose(r); p != nil {
		return p
	}
	gr := st.snap.Grants[share.GrantKey{AppID: cred.AppID, EntryID: rt.entryID}]
	if gr == nil || gr.AppID != cred.AppID || gr.BodyID != cred.BodyID || gr.EntryID != rt.entryID {
		return errNoGrant
	}
	c.grant = gr
	if c.purpose == "" {
		c.purpose = gr.Purpose
	}
	if now.Before(gr.ValidFrom) {
		return errNotYet
	}
	if !gr.Allows(now) {
		return errGrantExpired
	}
	if p := g.limits.allow(gr, now); p != nil {
		return p
	}
	if p := g.takeQuota(st, gr, now); p != nil {
		return p
	}
	c.quotaHeld = true
	return nil
}

var caseIDRe = regexp.MustCompile(`^[A-Za-z0-9._:/-]{1,128}$`)

// readPurpose reads X-Purpose (UTF-8 text or percent-encoded, ≤ 200
// characters) and X-Case-Id.
func (c *call) readPurpose(r *http.Request) *Problem {
	if v := r.Header.Get("X-Case-Id"); v != "" {
		if !caseIDRe.MatchString(v) {
			return errBadHeader.with("X-Case-Id: 1–128 letters, digits or ._:/-")
		}
		c.caseID = v
	}
	v := r.Header.Get("X-Purpose")
	if strings.Contains(v, "%") {
		if d, err := urlUnescape(v); err == nil {
			v = d
		}
	}
	if !utf8.ValidString(v) || utf8.RuneCountInString(v) > 200 || strings.ContainsFunc(v, func(r rune) bool { return r < 0x20 }) {
		return errBadHeader.with("X-Purpose: at most 200 characters of UTF-8 text (or percent-encoded UTF-8)")
	}
	c.purpose = strings.TrimSpace(v)
	return nil
}

// serve runs an admitted call.
func (g *Gateway) serve(r *http.Request, c *call) (int, []byte, string, *Problem) {
	switch c.kind {
	case "query", "verify":
		e, p := g.entries.get(r.Context(), c.rt.entryID, true)
		if p != nil {
			return 0, nil, "", p
		}
		c.entry = e
		if c.kind == "query" {
			return g.query(r, c)
		}
		return g.verify(r, c)
	default:
		e, p := g.entries.get(r.Context(), c.rt.entryID, false)
		if p != nil {
			return 0, nil, "", p
		}
		c.entry = e
		return g.service(r, c)
	}
}

// record appends the call's audit record (or counts a repeated
// unauthenticated or rate-limited refusal into its source's next record).
func (g *Gateway) record(ctx context.Context, c *call, status int, p *Problem, respHash [32]byte) error {
	outcome, code := audit.OutcomeSuccess, "ok"
	if p == nil && status >= 400 {
		// A provider service's own refusal, relayed (filtered).
		outcome, code = audit.OutcomeFailure, providerCode(status)
	}
	if p != nil {
		code = p.Code
		outcome = audit.OutcomeDenied
		if status >= 500 {
			outcome = audit.OutcomeFailure
		}
	}
	action := "gw." + c.kind
	if c.kind == "" {
		action = "gw.call"
	}
	e := audit.Entry{Time: c.start, Actor: "anonymous", Action: action, Outcome: outcome, IP: c.ip, RequestID: c.id,
		Object: "entry:" + strconv.FormatInt(c.rt.entryID, 10)}
	if c.rt.entryID == 0 {
		e.Object = ""
	}
	d := map[string]string{
		"status":          strconv.Itoa(status),
		"code":            code,
		"latency_us":      strconv.FormatInt(g.clock().Sub(c.start).Microseconds(), 10),
		"request_sha256":  hex.EncodeToString(c.reqHash[:]),
		"response_sha256": hex.EncodeToString(respHash[:]),
	}
	if c.cred != nil {
		e.Actor = "app:" + strconv.FormatInt(c.cred.AppID, 10)
		d["app"] = strconv.FormatInt(c.cred.AppID, 10)
		d["body"] = strconv.FormatInt(c.cred.BodyID, 10)
		d["key_id"] = c.cred.KeyID
	} else if c.keyID != "" {
		d["key_id"] = c.keyID // as sent; unauthenticated
	}
	if c.grant != nil {
		d["grant"] = strconv.FormatInt(c.grant.ID, 10)
		if c.grant.Scenario != "" {
			d["scenario"] = c.grant.Scenario
		}
	}
	if c.rt.entryID != 0 {
		d["entry"] = strconv.FormatInt(c.rt.entryID, 10)
	}
	if c.purpose != "" {
		d["purpose"] = c.purpose
	}
	if c.caseID != "" {
		d["case_id"] = c.caseID
	}
	if len(c.items) > 0 {
		d["items"] = strings.Join(c.items, ",")
	}
	if len(c.masks) > 0 {
		d["masks"] = strings.Join(c.masks, ",")
	}
	if c.kind == "query" && p == nil {
		d["records"] = strconv.Itoa(c.records)
	}
	if c.kind == "service" && c.rt.rest != "" {
		d["service_path"] = truncate(c.rt.rest, 200)
	}
	e.Detail = d
	// Floods of refusals without a credential, or of an application over
	// its rate, are counted: the first per source and interval is
	// recorded at once, the rest in one record with their count.
	if p != nil && (p.Status == http.StatusUnauthorized || p.Code == errRateLimited.Code) {
		src := "ip:" + c.ip
		if c.cred != nil && p.Code == errRateLimited.Code {
			src = "app:" + strconv.FormatInt(c.cred.AppID, 10)
		}
		if !g.refused.first(g, src, e) {
			return nil
		}
	}
	_, err := g.commit.Append(ctx, e)
	return err
}

// providerCode is the outcome of a relayed 4xx answer of a provider service.
func providerCode(status int) string { return "provider_" + strconv.Itoa(status) }

func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}

// dayOf is the calendar day in Asia/Shanghai (quotas and statistics).
func dayOf(t time.Time) string { return t.In(china).Format("2006-01-02") }

var china = time.FixedZone("CST", 8*3600)

// untilMidnight is the number of seconds to the next day in Asia/Shanghai.
func untilMidnight(now time.Time) int {
	n := now.In(china)
	next := time.Date(n.Year(), n.Month(), n.Day()+1, 0, 0, 0, 0, china)
	return int(next.Sub(n).Seconds()) + 1
}

// jsonAnswer encodes an answer (HTML characters not escaped).
func jsonAnswer(v any) ([]byte, *Problem) {
	var buf bytes.Buffer
	enc := newEncoder(&buf)
	if err := enc.Encode(v); err != nil {
		return nil, errInternal
	}
	return buf.Bytes(), nil
}
