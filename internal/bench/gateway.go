// bench gateway: the exchange gateway benchmark of issue #8.
//
// One run, all on loopback, against a fresh installation (internal/server on a temporary SQLite directory or a new
// PostgreSQL database):
//
//	direct   a backend answering a 1 KB JSON record, called directly;
//	proxy    the same through a bare httputil.ReverseProxy;
//	service  the same through the gateway's service-call path: application authentication, grant check, masking of
//	         the JSON answer and a durable audit record before the answer is released;
//	query    the gateway's query path: one record by key out of an entry of --rows records (1,000,000 by default),
//	         with the same checks, masking and audit;
//	lookup   a minimal handler doing the same indexed lookup on the same table with no authentication,
//	         authorisation, masking or audit: the floor of the query path.
//
// Each path runs twice with hey's requester (github.com/rakyll/hey): at saturation (--concurrency workers as fast
// as they can), then at half the rate saturation reached. Requests/s and p50/p99 are hey's figures. After the
// gateway runs, the audit log must hold one record per call answered or refused (audit completeness).
package bench

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	"github.com/rakyll/hey/requester"

	"xiangyun/internal/audit"
	"xiangyun/internal/auth"
	"xiangyun/internal/catalog"
	"xiangyun/internal/db"
	"xiangyun/internal/gateway"
	"xiangyun/internal/ident"
	"xiangyun/internal/ingest"
	"xiangyun/internal/org"
	"xiangyun/internal/server"
	"xiangyun/internal/share"
)

// GatewayOptions configure a gateway benchmark run.
type GatewayOptions struct {
	DB          string        // "" (a temporary SQLite directory), sqlite:DIR, or a postgres:// server URL
	Rows        int           // records of the entry the query path reads
	Duration    time.Duration // length of each load run
	Concurrency int           // hey workers at saturation
	Keep        bool
	Seed        uint64
	// Profile, when set, is a directory that gets a CPU profile (pprof) of each path's saturation run.
	Profile string
}

// DefaultGatewayOptions are the figures.
func DefaultGatewayOptions() GatewayOptions {
	return GatewayOptions{Rows: 1_000_000, Duration: 10 * time.Second, Concurrency: 32, Seed: 8}
}

// GatewayCommand runs `xiangyun bench gateway`.
func GatewayCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o := DefaultGatewayOptions()
	fs := flag.NewFlagSet("bench gateway", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.DB, "db", "", "database: empty for a temporary SQLite directory, sqlite:DIR (new or empty), or a postgres:// URL of a server (a new database is created and dropped)")
	fs.IntVar(&o.Rows, "rows", o.Rows, "records of the entry the query path reads")
	fs.DurationVar(&o.Duration, "duration", o.Duration, "length of each load run (every path runs at saturation, then at half of it)")
	fs.IntVar(&o.Concurrency, "concurrency", o.Concurrency, "concurrent hey workers at saturation")
	fs.BoolVar(&o.Keep, "keep", false, "keep the database and the data directory")
	fs.Uint64Var(&o.Seed, "seed", o.Seed, "seed of the keys the query and lookup paths ask for")
	fs.StringVar(&o.Profile, "cpuprofile", "", "directory to write a CPU profile (PATH.pprof) of each path's saturation run into")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if o.Rows < 1 || o.Duration <= 0 || o.Concurrency < 1 {
		return errors.New("bench gateway: --rows ≥ 1, --duration > 0 and --concurrency ≥ 1")
	}
	rep, err := Gateway(ctx, o, stderr)
	if err != nil {
		return err
	}
	rep.Markdown(stdout)
	return nil
}

// Gateway paths, in the order of the report.
const (
	gwDirect  = "direct"
	gwProxy   = "proxy"
	gwService = "service"
	gwQuery   = "query"
	gwLookup  = "lookup"
)

// LoadRun is one hey run.
type LoadRun struct {
	Target   float64 // requests/s asked for; 0 at saturation
	Requests int     // answers received
	Status   map[int]int
	Errors   int // requests without an answer
	RPS      float64
	P50, P99 time.Duration
	// CPUPerReq is the CPU this process (server, backend and hey alike) and the PostgreSQL server used per answer;
	// Others is what other processes on the machine used meanwhile, in CPUs (-1: unknown).
	CPUPerReq time.Duration
	Others    float64
	Raw       string // hey's summary
}

// GatewayPath is one path's pair of runs.
type GatewayPath struct {
	Name, Desc string
	Sat, Half  *LoadRun
	NotRun     string // why the path was not measured
}

// GatewayReport is the result of a run.
type GatewayReport struct {
	Opts                  GatewayOptions
	Database              string
	GOOS, GOARCH, Go, CPU string
	CPUs                  int
	MemTotal              string
	Hey                   string
	Rows                  int
	LoadTime              time.Duration
	Paths                 []*GatewayPath
	// Audit completeness of the gateway runs: calls answered (2xx) and refused (any other status) by the gateway,
	// and audit records appended meanwhile. Checked is false when no gateway path ran.
	Checked                  bool
	Answered, Refused, Audit int64
	// Stats is the answered calls the call statistics counted (share.Stats, flushed by the gateway).
	Stats int64
	Notes []string
}

// gwBench is a running gateway benchmark.
type gwBench struct {
	o       GatewayOptions
	log     io.Writer
	s       *server.Server
	entry   catalog.Entry
	backend string // base URL of the backend
	police  int64  // the providing body (吉林省公安厅)
	market  int64  // the consuming body (吉林省市场监督管理厅)
	spec    auth.User
	close   []func()
}

// Gateway runs the benchmark and returns its report; progress goes to stderr.
func Gateway(ctx context.Context, o GatewayOptions, stderr io.Writer) (_ *GatewayReport, err error) {
	g := &gwBench{o: o, log: stderr}
	defer func() {
		for i := len(g.close) - 1; i >= 0; i-- {
			g.close[i]()
		}
	}()
	rep := &GatewayReport{Opts: o, GOOS: runtime.GOOS, GOARCH: runtime.GOARCH, Go: runtime.Version(), CPUs: runtime.NumCPU(),
		CPU: cpuModel(), MemTotal: memTotal(), Hey: heyVersion()}

	// A fresh installation, the way the catalog benchmark makes one.
	fb := &bench{o: Options{DB: o.DB, Keep: o.Keep}, log: stderr}
	dsn, dataDir, cleanup, err := fb.freshDatabase(ctx)
	if err != nil {
		return nil, err
	}
	defer cleanup()
	log := slog.New(slog.NewMultiHandler(slog.NewTextHandler(io.Discard, nil),
		slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	s, err := server.Open(ctx, server.Config{DB: dsn, DataDir: dataDir, Addr: "127.0.0.1:0"}, log)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	g.s, fb.s = s, s
	if rep.Database, err = fb.databaseVersion(ctx); err != nil {
		return nil, err
	}

	g.stage("creating the providing and the consuming body")
	if err := g.setupBodies(ctx); err != nil {
		return nil, err
	}
	start := time.Now()
	if err := g.loadRecords(ctx); err != nil {
		return nil, err
	}
	rep.LoadTime, rep.Rows = time.Since(start), o.Rows

	// The backend and the plain paths.
	if g.backend, err = g.serve(http.HandlerFunc(backendHandler)); err != nil {
		return nil, err
	}
	bu, _ := url.Parse(g.backend)
	// A bare reverse proxy, but with as many idle connections to the backend as there are workers (the default
	// transport keeps two, and would measure connection set-up instead of proxying).
	rp := httputil.NewSingleHostReverseProxy(bu)
	rp.Transport = &http.Transport{MaxIdleConns: 1024, MaxIdleConnsPerHost: 1024, IdleConnTimeout: 90 * time.Second}
	proxy, err := g.serve(rp)
	if err != nil {
		return nil, err
	}
	lookup, err := g.lookupHandler(ctx)
	if err != nil {
		return nil, err
	}
	lookupURL, err := g.serve(lookup)
	if err != nil {
		return nil, err
	}
	keys := mrand.New(mrand.NewPCG(o.Seed, 1))
	randomKey := func() string { return residentID(keys.IntN(o.Rows)) }

	paths := []*GatewayPath{
		{Name: gwDirect, Desc: "backend (1 KB JSON), called directly"},
		{Name: gwProxy, Desc: "the backend through a bare httputil.ReverseProxy"},
		{Name: gwService, Desc: "the backend through the gateway's service call (authentication, grant, masking, durable audit)"},
		{Name: gwQuery, Desc: fmt.Sprintf("gateway query: one record by key of %s (authentication, grant, masking, durable audit)", commas(o.Rows))},
		{Name: gwLookup, Desc: fmt.Sprintf("minimal handler: the same indexed lookup of %s, no authorisation, masking or audit", commas(o.Rows))},
	}
	rep.Paths = paths
	reqs := map[string]func() *http.Request{
		gwDirect: fixedGet(g.backend + "/record"),
		gwProxy:  fixedGet(proxy + "/record"),
		gwLookup: func() *http.Request {
			r, _ := http.NewRequest(http.MethodGet, lookupURL+"/lookup?key="+randomKey(), nil)
			return r
		},
	}
	gw, err := g.gatewayPaths(ctx, randomKey)
	if err != nil {
		return nil, err
	}
	for _, p := range paths {
		switch p.Name {
		case gwService, gwQuery:
			if gw.reason != "" {
				p.NotRun = gw.reason
				continue
			}
			reqs[p.Name] = gw.reqs[p.Name]
		}
	}
	pg := s.Control.Dialect == db.Postgres
	var before int64
	if gw.reason == "" {
		if before, err = gw.auditSize(ctx); err != nil {
			return nil, err
		}
	}
	for _, p := range paths {
		if p.NotRun != "" {
			g.stage(p.Name + ": not run — " + p.NotRun)
			continue
		}
		g.stage(fmt.Sprintf("%s: saturation, %d workers, %s", p.Name, o.Concurrency, o.Duration))
		stop, err := startProfile(o.Profile, p.Name)
		if err != nil {
			return nil, err
		}
		p.Sat, err = runHey(ctx, reqs[p.Name], o.Concurrency, 0, o.Duration, pg)
		stop()
		if err != nil {
			return nil, err
		}
		half := p.Sat.RPS / 2
		g.stage(fmt.Sprintf("%s: half load, %.0f requests/s", p.Name, half))
		if p.Half, err = runHey(ctx, reqs[p.Name], o.Concurrency, half, o.Duration, pg); err != nil {
			return nil, err
		}
		if p.Name == gwService || p.Name == gwQuery {
			for _, r := range []*LoadRun{p.Sat, p.Half} {
				for code, n := range r.Status {
					if code/100 == 2 {
						rep.Answered += int64(n)
					} else {
						rep.Refused += int64(n)
					}
				}
			}
		}
	}
	if gw.reason == "" {
		rep.Checked = true
		if err := gw.settle(ctx); err != nil {
			return nil, err
		}
		after, err := gw.auditSize(ctx)
		if err != nil {
			return nil, err
		}
		rep.Audit = after - before
		ok, err := gw.statsOK(ctx)
		if err != nil {
			return nil, err
		}
		rep.Stats = ok - gw.warmups
	}
	return rep, nil
}

func (g *gwBench) stage(msg string) { fmt.Fprintf(g.log, "bench: %s\n", msg) }

// serve serves h on a loopback port until the run ends and returns its base URL.
func (g *gwBench) serve(h http.Handler) (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	g.close = append(g.close, func() { _ = srv.Close() })
	return "http://" + ln.Addr().String(), nil
}

func fixedGet(u string) func() *http.Request {
	return func() *http.Request {
		r, _ := http.NewRequest(http.MethodGet, u, nil)
		return r
	}
}

// backendRecord is the backend's answer: a record of about 1 KB with personal items the gateway masks.
var backendRecord = func() []byte {
	rec := map[string]any{
		"公民身份号码": "220102198001011234", "姓名": "张伟", "性别": "1", "出生日期": "1980-01-01",
		"户籍地址": "吉林省长春市南关区人民大街1234号5栋2单元1201室", "联系电话": "13912345678",
		"_办理事项": "企业开办登记", "_受理编号": "JL-2026-000001",
	}
	b, _ := json.Marshal(rec)
	pad := 1024 - len(b) - len(`,"_备注":""`)
	rec["_备注"] = strings.Repeat("x", max(pad, 0))
	b, _ = json.Marshal(rec)
	return b
}()

func backendHandler(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(backendRecord)))
	_, _ = w.Write(backendRecord)
}

// residentID is the ID number (公民身份号码) of the i-th generated resident: unique for i below 6,000,000, with a
// valid check character (GB 11643).
func residentID(i int) string {
	regions := [...]string{"220102", "220104", "220202", "220303", "222401", "220502"}
	birth := time.Date(1950, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, (i/len(regions))/1000)
	first := regions[i%len(regions)] + birth.Format("20060102") + fmt.Sprintf("%03d", (i/len(regions))%1000)
	c, err := ident.IDCardCheckChar(first)
	if err != nil {
		panic(err)
	}
	return first + string(c)
}

var benchSurnames = []rune("王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗")
var benchGiven = []string{"伟", "芳", "娜", "秀英", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰"}

// setupBodies creates the providing body (the police) with its data specialist, who uploads the records, and the
// consuming body (the market authority), whose application calls the gateway.
func (g *gwBench) setupBodies(ctx context.Context) error {
	s := g.s
	if _, err := s.Orgs.CreateRegion(ctx, org.Region{Code: "220000", Name: "吉林省"}); err != nil {
		return err
	}
	for i, b := range []struct {
		name string
		id   *int64
	}{{"吉林省公安厅", &g.police}, {"吉林省市场监督管理厅", &g.market}} {
		oc := fmt.Sprintf("%08d", 41000000+i*97)
		c1, _ := ident.OrgCodeCheckChar(oc)
		first := "11220000" + oc + string(c1)
		c2, _ := ident.CreditCodeCheckChar(first)
		body, err := s.Orgs.CreateBody(ctx, org.BodyInput{Name: b.name, CreditCode: first + string(c2), Kind: org.KindAgency, RegionCode: "220000"})
		if err != nil {
			return err
		}
		*b.id = body.ID
	}
	u, err := s.Auth.CreateUser(ctx, auth.UserInput{Username: "police_spec", DisplayName: "公安厅数据专员", BodyID: g.police, Password: demoPassword()})
	if err != nil {
		return err
	}
	if err := s.Auth.GrantRole(ctx, 0, u.ID, auth.RoleDataSpecialist, g.police); err != nil {
		return err
	}
	g.spec, err = s.Auth.User(ctx, u.ID)
	return err
}

// loadRecords publishes the police identity entry of the demo's shape and uploads --rows records into it through
// ingest's upload path (spooled CSV, typed, checked by the quality rules, staged and published), as the police's data
// specialist.
func (g *gwBench) loadRecords(ctx context.Context) error {
	s := g.s
	in := catalog.EntryInput{ProviderID: g.police, Content: catalog.Content{
		Name: "吉林省居民身份核验信息（基准测试）", Class: "1/01/001", FormatClass: "database", FormatType: "oracle",
		Abstract: "基准测试用的常住人口身份信息：公民身份号码、姓名、性别、出生日期和户籍地址。",
		Items: []catalog.Item{
			{Name: "公民身份号码", EnName: "gmsfhm", DataType: "C", Length: 18, Key: true, Sensitive: true, Mask: "id_card"},
			{Name: "姓名", EnName: "xm", DataType: "C", Length: 50, Required: true, Sensitive: true, Mask: "name"},
			{Name: "性别", EnName: "xb", DataType: "C", Length: 1, CodeList: "GB/T 2261.1"},
			{Name: "出生日期", EnName: "csrq", DataType: "D"},
			{Name: "户籍地址", EnName: "hjdz", DataType: "C", Length: 200, Sensitive: true, Mask: "address"},
		},
		ShareType: catalog.ShareConditional, ShareCondition: "仅限政务服务事项办理中核验申请人身份",
		ShareMethod: catalog.MethodAPI, ShareChannel: "platform", OpenType: catalog.OpenNone, OpenCondition: "涉及个人信息，依法不予开放",
		Cycle: "daily", Grade: "L3",
	}}
	es, err := s.Catalog.CreatePublished(ctx, catalog.System, []catalog.EntryInput{in}, "基准测试")
	if err != nil {
		return err
	}
	if g.entry, err = s.Catalog.Get(ctx, catalog.System, es[0].ID); err != nil {
		return err
	}
	p := &auth.Principal{User: g.spec}

	g.stage(fmt.Sprintf("writing %s records to a CSV file", commas(g.o.Rows)))
	f, err := os.CreateTemp("", "xiangyun-bench-records-*.csv")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	h := sha256.New()
	w := bufio.NewWriterSize(io.MultiWriter(f, h), 1<<20)
	fmt.Fprint(w, "公民身份号码,姓名,性别,出生日期,户籍地址\r\n")
	r := mrand.New(mrand.NewPCG(2026, 8))
	for i := range g.o.Rows {
		id := residentID(i)
		sex := "2"
		if (id[16]-'0')%2 == 1 {
			sex = "1"
		}
		fmt.Fprintf(w, "%s,%c%s,%s,%s-%s-%s,吉林省长春市南关区人民大街%d号%d栋%d单元%d室\r\n", id,
			benchSurnames[r.IntN(len(benchSurnames))], benchGiven[r.IntN(len(benchGiven))], sex, id[6:10], id[10:12], id[12:14],
			1+r.IntN(2000), 1+r.IntN(30), 1+r.IntN(6), 101+r.IntN(1800))
	}
	if err := w.Flush(); err != nil {
		return err
	}
	size, err := f.Seek(0, io.SeekCurrent)
	if err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	g.stage(fmt.Sprintf("uploading %s records (%s MB) through ingest", commas(g.o.Rows), strconv.FormatInt(size>>20, 10)))
	// Start removes the file when the batch ends: give it a copy's path of its own.
	spool := f.Name() + ".up"
	if err := os.Link(f.Name(), spool); err != nil {
		return err
	}
	start := time.Now()
	b, err := s.Ingest.Start(ctx, p, g.entry.ID, ingest.Upload{Path: spool, Name: "常住人口基本信息-基准测试.csv", Size: size,
		SHA256: fmt.Sprintf("%x", h.Sum(nil)), Mode: ingest.ModeAppend, OnError: ingest.RejectAll})
	if err != nil {
		return fmt.Errorf("bench: upload: %w", err)
	}
	for {
		s.Ingest.Wait(ctx, b.ID, 10*time.Second)
		if b, err = s.Ingest.Batch(ctx, p, b.ID); err != nil {
			return err
		}
		if b.Status != ingest.StatusRunning {
			break
		}
		fmt.Fprintf(g.log, "  %s running, %s\n", commas(int(b.Rows)), time.Since(start).Round(time.Second))
	}
	if b.Status != ingest.StatusPublished || int(b.Accepted) != g.o.Rows {
		return fmt.Errorf("bench: batch %d %s with %d of %d rows accepted: %s", b.ID, b.Status, b.Accepted, g.o.Rows, b.MessageEN)
	}
	g.stage(fmt.Sprintf("loaded %s records in %s", commas(g.o.Rows), time.Since(start).Round(time.Millisecond)))
	return nil
}

// lookupHandler is the floor of the query path: GET /lookup?key= reads one record by its key with one prepared,
// indexed statement on the entry's record table and answers it as JSON, with nothing else. It reads ingest's tables
// directly, which no package but ingest may do: it is a measurement of the alternative, not a feature.
func (g *gwBench) lookupHandler(ctx context.Context) (http.Handler, error) {
	data := g.s.DataDB
	var table string
	if err := data.R.QueryRowContext(ctx, `SELECT table_name FROM ingest_tables WHERE entry_id = $1`, g.entry.ID).Scan(&table); err != nil {
		return nil, fmt.Errorf("bench: the entry's record table: %w", err)
	}
	rows, err := data.R.QueryContext(ctx, `SELECT item, col FROM ingest_columns WHERE entry_id = $1`, g.entry.ID)
	if err != nil {
		return nil, err
	}
	cols := map[string]string{}
	for rows.Next() {
		var item, col string
		if err := rows.Scan(&item, &col); err != nil {
			rows.Close()
			return nil, err
		}
		cols[item] = col
	}
	rows.Close()
	var names, sel []string
	for _, it := range g.entry.Items {
		names = append(names, it.Name)
		expr := cols[it.Name]
		if data.Dialect == db.Postgres {
			expr = "CAST(" + expr + " AS TEXT)"
		}
		sel = append(sel, expr)
	}
	stmt, err := data.R.PrepareContext(ctx, `SELECT `+strings.Join(sel, ", ")+`, _disputed FROM `+table+
		` WHERE `+cols["公民身份号码"]+` = $1 AND _deleted = FALSE ORDER BY _id LIMIT 20`)
	if err != nil {
		return nil, err
	}
	g.close = append(g.close, func() { _ = stmt.Close() })
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rows, err := stmt.QueryContext(r.Context(), r.URL.Query().Get("key"))
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		defer rows.Close()
		items := []map[string]any{}
		for rows.Next() {
			vals := make([]any, len(names)+1)
			ptrs := make([]any, len(vals))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			rec := map[string]any{}
			for i, n := range names {
				if b, ok := vals[i].([]byte); ok {
					vals[i] = string(b)
				}
				rec[n] = vals[i]
			}
			rec["_disputed"] = vals[len(names)]
			items = append(items, rec)
		}
		if len(items) == 0 {
			http.Error(w, "no such record", http.StatusNotFound)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"items": items})
	}), nil
}

// runHey runs hey's requester for d with c workers, as fast as they go (rate 0) or at rate requests/s in all.
func runHey(ctx context.Context, req func() *http.Request, c int, rate float64, d time.Duration, pg bool) (*LoadRun, error) {
	var out bytes.Buffer
	w := &requester.Work{
		Request:     req(),
		RequestFunc: req,
		N:           1 << 30,
		C:           c,
		Timeout:     20,
		Writer:      &out,
	}
	if rate > 0 {
		// As `hey -c C -q rate/C`: each worker paced by its own ticker. A tick missed while an answer is slow is
		// dropped, so the rate reached can fall short of the rate asked; the report gives the rate reached.
		w.QPS = rate / float64(c)
	}
	w.Init()
	cpu := readCPU(pg)
	done := make(chan struct{})
	go func() {
		select {
		case <-time.After(d):
		case <-ctx.Done():
		}
		w.Stop()
		close(done)
	}()
	w.Run()
	<-done
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	run, err := parseHey(out.String())
	if err != nil {
		return nil, err
	}
	run.Target = rate
	after := readCPU(pg)
	run.Others, _, _ = othersSince(cpu)
	if cpu.ok && after.ok && run.Requests > 0 {
		used := (after.self - cpu.self) + (after.postgres - cpu.postgres)
		run.CPUPerReq = time.Duration(used / float64(run.Requests) * float64(time.Second))
	} else {
		run.CPUPerReq = -1
	}
	if run.Requests+run.Errors == 0 {
		return nil, fmt.Errorf("bench: hey sent no request in %s (is the machine starved?)", d)
	}
	return run, nil
}

var (
	heyRPS    = regexp.MustCompile(`Requests/sec:\s+([0-9.]+)`)
	heyPct    = regexp.MustCompile(`(?m)^\s+(\d+)%%? in ([0-9.]+) secs`)
	heyStatus = regexp.MustCompile(`(?m)^\s+\[(\d+)\]\s+(\d+) responses`)
	heyErrors = regexp.MustCompile(`(?m)^\s+\[(\d+)\]\s+\S`)
)

// parseHey reads hey's summary (requests/s at 4 decimals, latencies in seconds at 4 decimals: 0.1 ms).
func parseHey(s string) (*LoadRun, error) {
	r := &LoadRun{Status: map[int]int{}, Raw: s}
	m := heyRPS.FindStringSubmatch(s)
	if m == nil {
		return nil, fmt.Errorf("bench: no Requests/sec in hey's summary:\n%s", s)
	}
	r.RPS, _ = strconv.ParseFloat(m[1], 64)
	for _, m := range heyPct.FindAllStringSubmatch(s, -1) {
		sec, _ := strconv.ParseFloat(m[2], 64)
		d := time.Duration(sec * float64(time.Second))
		switch m[1] {
		case "50":
			r.P50 = d
		case "99":
			r.P99 = d
		}
	}
	for _, m := range heyStatus.FindAllStringSubmatch(s, -1) {
		code, _ := strconv.Atoi(m[1])
		n, _ := strconv.Atoi(m[2])
		r.Status[code] += n
		r.Requests += n
	}
	if i := strings.Index(s, "Error distribution:"); i >= 0 {
		for _, m := range heyErrors.FindAllStringSubmatch(s[i:], -1) {
			n, _ := strconv.Atoi(m[1])
			r.Errors += n
		}
	}
	return r, nil
}

// heyVersion is the version of hey's module this binary was built with.
func heyVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == "github.com/rakyll/hey" {
				return d.Path + " " + d.Version
			}
		}
	}
	return "github.com/rakyll/hey v0.1.5"
}

// Markdown writes the report as the tables of docs/BENCHMARKS.md.
func (r *GatewayReport) Markdown(w io.Writer) {
	fmt.Fprintf(w, "### Gateway, %s, %s records\n\n", r.Database, commas(r.Rows))
	fmt.Fprintf(w, "Machine: %s, %d CPUs, %s; %s %s/%s. Load generator: %s (its requester package, in process).\n",
		r.CPU, r.CPUs, r.MemTotal, r.Go, r.GOOS, r.GOARCH, r.Hey)
	fmt.Fprintf(w, "Each run %s with %d workers; half load is half the saturation rate of the same path. Records loaded through ingest in %s.\n\n",
		r.Opts.Duration, r.Opts.Concurrency, r.LoadTime.Round(time.Millisecond))
	fmt.Fprintln(w, "| path | what | saturation req/s | p50 | p99 | CPU/answer | half load req/s | p50 | p99 | non-2xx / errors | other processes (CPUs) |")
	fmt.Fprintln(w, "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	by := map[string]*GatewayPath{}
	for _, p := range r.Paths {
		by[p.Name] = p
		if p.Sat == nil {
			fmt.Fprintf(w, "| %s | %s | not run: %s | | | | | | | | |\n", p.Name, p.Desc, p.NotRun)
			continue
		}
		bad := 0
		for _, run := range []*LoadRun{p.Sat, p.Half} {
			for code, n := range run.Status {
				if code/100 != 2 {
					bad += n
				}
			}
			bad += run.Errors
		}
		cpu := "?"
		if p.Sat.CPUPerReq >= 0 {
			cpu = fmt.Sprintf("%d µs", p.Sat.CPUPerReq.Microseconds())
		}
		fmt.Fprintf(w, "| %s | %s | %.0f | %s | %s | %s | %.0f | %s | %s | %d | %.1f, %.1f |\n", p.Name, p.Desc, p.Sat.RPS, gwMS(p.Sat.P50), gwMS(p.Sat.P99),
			cpu, p.Half.RPS, gwMS(p.Half.P50), gwMS(p.Half.P99), bad, p.Sat.Others, p.Half.Others)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| goal | measured | met |")
	fmt.Fprintln(w, "|---|---|---|")
	ratio := func(a, b string, goal float64, label string) {
		pa, pb := by[a], by[b]
		if pa.Sat == nil || pb.Sat == nil {
			fmt.Fprintf(w, "| %s | not run | — |\n", label)
			return
		}
		x := pa.Sat.RPS / pb.Sat.RPS
		fmt.Fprintf(w, "| %s | %.2f× | %s |\n", label, x, yes(x >= goal))
	}
	ratio(gwService, gwProxy, 0.8, "service ≥ 0.8× proxy (throughput)")
	if s, p := by[gwService], by[gwProxy]; s.Half != nil && p.Half != nil {
		added := s.Half.P99 - p.Half.P99
		fmt.Fprintf(w, "| service p99 − proxy p99 ≤ 2 ms at half load | %s | %s |\n", gwMS(added), yes(added <= 2*time.Millisecond))
	} else {
		fmt.Fprintln(w, "| service p99 − proxy p99 ≤ 2 ms at half load | not run | — |")
	}
	ratio(gwQuery, gwLookup, 0.6, "query ≥ 0.6× minimal lookup (throughput)")
	ratio(gwProxy, gwDirect, 0, "proxy / direct (for reference)")
	if r.Checked {
		fmt.Fprintf(w, "| audit records = gateway calls answered + refused | %d records, %d answered + %d refused | %s |\n",
			r.Audit, r.Answered, r.Refused, yes(r.Audit == r.Answered+r.Refused))
		fmt.Fprintf(w, "| call statistics = gateway calls answered | %d counted, %d answered | %s |\n", r.Stats, r.Answered, yes(r.Stats == r.Answered))
	} else {
		fmt.Fprintln(w, "| audit records = gateway calls | not run | — |")
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "CPU/answer: CPU time of this process (server, backend and load generator together) and of the PostgreSQL server per answer at saturation. Other processes: CPUs that other processes on the machine used during the saturation and the half-load run. hey reports latencies to 0.1 ms.")
	fmt.Fprintln(w)
	for _, n := range r.Notes {
		fmt.Fprintf(w, "- %s\n", n)
	}
}

func gwMS(d time.Duration) string {
	return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
}

func yes(ok bool) string {
	if ok {
		return "yes"
	}
	return "**no**"
}

// gwPaths are the gateway's paths of a run, or the reason they cannot run.
type gwPaths struct {
	reason    string
	reqs      map[string]func() *http.Request
	auditSize func(ctx context.Context) (int64, error)
	settle    func(ctx context.Context) error // closes the gateway: every record and count is written
	statsOK   func(ctx context.Context) (int64, error)
	warmups   int64 // answered calls before the runs
}

// The bench application's credential.
const (
	benchKeyID  = "bench-app-key"
	benchSecret = "bench-secret-0123456789abcdef0123456789abcdef"
	benchApp    = 1
	benchGrant  = 1
)

// gatewayPaths starts a gateway (internal/gateway, the handler `serve` mounts at /gw/v1/) on the installation's
// stores with a snapshot made for the run: the market authority's application holds a grant of every item of the
// police entry, and the police registered the backend as the entry's service. Everything else is the product's
// path: authentication by key and secret, the grant check, masking of L3 items, group-committed durable audit before
// each answer, call statistics flushed every second.
func (g *gwBench) gatewayPaths(ctx context.Context, randomKey func() string) (gwPaths, error) {
	now := time.Now()
	var items []string
	for _, it := range g.entry.Items {
		items = append(items, it.Name)
	}
	snap := &share.Snapshot{Version: 1, Built: now,
		Credentials: map[string]*share.Credential{benchKeyID: {KeyID: benchKeyID, AppID: benchApp, BodyID: g.market, SecretHash: sha256.Sum256([]byte(benchSecret))}},
		Grants: map[share.GrantKey]*share.Grant{{AppID: benchApp, EntryID: g.entry.ID}: {ID: benchGrant, AppID: benchApp, BodyID: g.market,
			EntryID: g.entry.ID, Items: items, ValidFrom: now.Add(-time.Hour), Purpose: "企业开办身份核验（基准测试）"}},
		Services:  map[int64]*share.ProviderService{g.entry.ID: {EntryID: g.entry.ID, BodyID: g.police, BaseURL: g.backend, Timeout: 10 * time.Second}},
		QuotaUsed: map[int64]int64{},
	}
	log := slog.New(slog.NewTextHandler(g.log, &slog.HandlerOptions{Level: slog.LevelWarn}))
	gw, err := gateway.New(ctx, gateway.Config{
		Snapshot: func(context.Context) (*share.Snapshot, error) { return snap, nil },
		Records:  g.s.Ingest, Catalog: g.s.Catalog, Audit: g.s.Audit, Stats: g.s.ShareStats.RecordCalls, Logger: log,
		Transport: &http.Transport{MaxIdleConns: 1024, MaxIdleConnsPerHost: 1024, IdleConnTimeout: 90 * time.Second},
	})
	if err != nil {
		return gwPaths{}, err
	}
	closed := false
	g.close = append(g.close, func() {
		if !closed {
			_ = gw.Close()
		}
	})
	base, err := g.serve(gw)
	if err != nil {
		return gwPaths{}, err
	}
	auth := func(r *http.Request) *http.Request {
		r.Header.Set("X-Client-Id", benchKeyID)
		r.Header.Set("Authorization", "Bearer "+benchSecret)
		return r
	}
	entry := strconv.FormatInt(g.entry.ID, 10)
	paths := gwPaths{
		reqs: map[string]func() *http.Request{
			gwService: func() *http.Request {
				r, _ := http.NewRequest(http.MethodGet, base+"/gw/v1/entries/"+entry+"/service/record", nil)
				return auth(r)
			},
			gwQuery: func() *http.Request {
				r, _ := http.NewRequest(http.MethodGet, base+"/gw/v1/entries/"+entry+"/records?"+url.QueryEscape("公民身份号码")+"="+randomKey(), nil)
				return auth(r)
			},
		},
		auditSize: func(ctx context.Context) (int64, error) {
			_, n, err := g.s.Audit.List(ctx, audit.Filter{Action: "gw.", Limit: 1})
			return int64(n), err
		},
		settle: func(context.Context) error {
			closed = true
			return gw.Close()
		},
		statsOK: func(ctx context.Context) (int64, error) {
			used, err := g.s.ShareStats.QuotaUsed(ctx, share.CallDay(time.Now()))
			return used[benchGrant], err
		},
	}
	// One call of each kind must be answered before the runs, or the figures would measure refusals.
	for _, k := range []string{gwService, gwQuery} {
		paths.warmups++
		res, err := http.DefaultClient.Do(paths.reqs[k]())
		if err != nil {
			return gwPaths{}, err
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			return gwPaths{}, fmt.Errorf("bench: the gateway's %s path answered %d: %s", k, res.StatusCode, body)
		}
	}
	return paths, nil
}

// startProfile starts a CPU profile into dir/name.pprof when dir is set; the function it returns stops it.
func startProfile(dir, name string) (func(), error) {
	if dir == "" {
		return func() {}, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	f, err := os.Create(filepath.Join(dir, name+".pprof"))
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}
