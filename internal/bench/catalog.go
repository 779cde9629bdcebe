// Package bench holds the project's benchmarks, run by the xiangyun bench
// command; docs/BENCHMARKS.md reports their figures.
//
// bench catalog: the catalog search benchmark of issues #3 and #6.
//
// It opens a fresh installation through internal/server (a temporary
// SQLite directory, or a new database on the PostgreSQL server given), serves
// the real HTTP handler on a loopback port, loads the demo organisations and
// users (internal/demo) plus generated bodies, loads N generated entries with
// CreatePublished, rebuilds the search index, and then runs one fixed set of
// queries four ways, side by side in the same run:
//
//	api      GET /api/v1/catalog/entries over HTTP with a department user's
//	         bearer token: authentication, authorisation, search, loading the
//	         page's entries, facet labels, JSON — the product path;
//	service  catalog.Service.Search: the same without HTTP, token and JSON;
//	index    catalog.Service.SearchIDs: the search index alone (IDs, total,
//	         facet counts), the bare query;
//	like     plain SQL over the same entries: name, abstract or a data item
//	         name LIKE '%term%', the same filters and visibility, COUNT(*) and
//	         a page of 20 — the naïve alternative (no facets, no relevance).
//
// The LIKE path reads the catalog's tables directly, which no package but
// catalog may do; it is a measurement of the alternative, not a feature.

package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"math"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"xiangyun/internal/auth"
	"xiangyun/internal/catalog"
	"xiangyun/internal/db"
	"xiangyun/internal/demo"
	"xiangyun/internal/errs"
	"xiangyun/internal/ident"
	"xiangyun/internal/org"
	"xiangyun/internal/server"
)

// Options configure a catalog benchmark run.
type Options struct {
	DB      string        // "" or "sqlite" (a temporary directory), sqlite:DIR (new or empty), or a postgres:// server URL
	Entries int           // generated entries, on top of the demo catalog
	Bodies  int           // bodies in all, the demo's included; the rest are generated
	Reps    int           // runs of each query on each path
	Budget  time.Duration // time limit of each query on each path
	Batch   int           // entries per CreatePublished call
	Seed    int64         // of the generated entries
	User    string        // demo user whose API token the api path uses
	Keep    bool          // keep the database and data directory
	Clients int           // concurrent clients of the throughput runs
	Load    time.Duration // length of each throughput run
	// Trickle is the rate of writes (new published entries a second)
	// during TrickleReps runs of each query; 0 skips that part.
	Trickle, TrickleReps int
}

func DefaultOptions() Options {
	return Options{Entries: 150_000, Bodies: 13_000, Reps: 200, Budget: 15 * time.Second, Batch: 5000, Seed: 1, User: "market_cdo",
		Clients: 8, Load: 10 * time.Second, Trickle: 5, TrickleReps: 50}
}

func Command(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "ingest" {
		return ingestCommand(ctx, args, stdout, stderr)
	}
	if len(args) == 0 || args[0] != "catalog" {
		return errors.New("usage: xiangyun bench catalog|ingest; bench catalog [--db sqlite:DIR|postgres://…] [--entries 150000] [--bodies 13000] [--queries 200] [--budget 15s]")
	}
	o := DefaultOptions()
	fs := flag.NewFlagSet("bench catalog", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.DB, "db", "", "database: empty for a temporary SQLite directory, sqlite:DIR (new or empty), or a postgres:// URL of a server (a new database is created and dropped)")
	fs.IntVar(&o.Entries, "entries", o.Entries, "generated catalog entries (the demo catalog's 480 come on top)")
	fs.IntVar(&o.Bodies, "bodies", o.Bodies, "bodies in all, demo bodies included (extra ones are generated in Jilin's counties)")
	fs.IntVar(&o.Reps, "queries", o.Reps, "runs of each query on each path")
	fs.DurationVar(&o.Budget, "budget", o.Budget, "time limit of each query on each path (the LIKE scan stops early)")
	fs.IntVar(&o.Batch, "batch", o.Batch, "entries per CreatePublished transaction")
	fs.Int64Var(&o.Seed, "seed", o.Seed, "seed of the generated entries")
	fs.StringVar(&o.User, "user", o.User, "demo user whose API token the HTTP path uses")
	fs.BoolVar(&o.Keep, "keep", false, "keep the database and the data directory")
	fs.IntVar(&o.Clients, "clients", o.Clients, "concurrent clients of the throughput runs")
	fs.DurationVar(&o.Load, "load", o.Load, "length of each throughput run (API, then a bare net/http handler)")
	fs.IntVar(&o.Trickle, "trickle", o.Trickle, "writes a second during the searches under writes (0: skip them)")
	fs.IntVar(&o.TrickleReps, "trickle-queries", o.TrickleReps, "runs of each query under writes")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if o.Entries < 0 || o.Reps < 1 || o.Batch < 1 || o.Budget <= 0 || o.Clients < 1 || o.Load <= 0 || o.Trickle < 0 {
		return errors.New("bench: --entries ≥ 0, --queries ≥ 1, --batch ≥ 1, --budget > 0, --clients ≥ 1, --load > 0 and --trickle ≥ 0")
	}
	rep, err := Catalog(ctx, o, stderr)
	if err != nil {
		return err
	}
	rep.Markdown(stdout)
	return nil
}

// Paths, in the order of the report.
const (
	pathAPI     = "api"
	pathService = "service"
	pathIndex   = "index"
	pathPeer    = "peer"
	pathLike    = "like"
)

var benchPaths = []string{pathAPI, pathService, pathIndex, pathPeer, pathLike}

// benchQuery is one query of the benchmark.
type benchQuery struct {
	Label   string
	Q       string
	Filters map[string][]string
	Sort    string
	Page    int // from 1
	// Same: the LIKE scan asks the same question as the index, so that
	// the totals must agree (single two-character words, filters only).
	Same bool
	// Words: the query is a different word of this list on every run and
	// path, so that the index's cache of text results never answers it.
	Words []string
}

const benchPageSize = 20

// benchQueries are typical catalog searches.
var benchQueries = []benchQuery{
	{Label: "two-character word", Q: "人口", Same: true},
	{Label: "two words (企业 登记)", Q: "企业登记"},
	{Label: "four-character word", Q: "社会保险"},
	{Label: "three-character word", Q: "不动产"},
	{Label: "pinyin initials (社会保险)", Q: "shbx"},
	{Label: "provider name", Q: "公安局"},
	{Label: "facets only: grade L1, unconditional", Filters: map[string][]string{"grade": {"L1"}, "share_type": {"unconditional"}}, Same: true},
	{Label: "word + facets: grade L1/L2, 长春市", Q: "登记", Filters: map[string][]string{"grade": {"L1", "L2"}, "region": {"220100"}}, Same: true},
	{Label: "empty query, sorted by name", Sort: "name", Same: true},
	{Label: "deep page (200) of a broad word", Q: "信息", Page: 200, Same: true},
	{Label: "two-character words, uncached", Same: true, Words: benchWords},
}

// benchWords are two-character words of the catalog, none of them the
// abbreviation of a four-character word (社保, 医保), which the index finds
// and LIKE does not.
var benchWords = strings.Fields(`户籍 企业 法人 学校 学生 教师 医院 医师 疫苗 出生 死亡 婚姻 救助 殡葬 土地 规划
	采矿 施工 预售 住房 资质 运输 线路 纳税 发票 税务 结算 统计 价格 工业 排污 空气 监测 用户 缴费 律师
	公证 承包 农药 景区 旅行 投资 采购 预算 执法 许可 处罚 食品`)

// benchRow is the measurement of one query.
type benchRow struct {
	Query benchQuery
	Lat   map[string][]time.Duration // by path
	Total map[string]int             // by path (the last run)
	// Words holds, for a Words query, the totals of each word by path.
	Words map[string]map[string]int
}

// Report is the result of a run.
type Report struct {
	Opts                     Options
	Database                 string
	GOOS, GOARCH, Go, CPU    string
	CPUs                     int
	MemTotal                 string
	Bodies, DemoEntries      int
	IndexDocs                uint64
	OrgTime, Load, Rebuild   time.Duration
	SizeAfterLoad, SizeAfter int64
	Heap                     uint64
	PeakRSS                  string
	UserDesc                 string
	Rows                     []*benchRow
	Peer                     *peer
	Compared                 int      // queries whose API and index pages were compared
	Diffs                    []string // differences found
	API, Bare                loadResult
	Trickle                  []*trickleRow
	Writes                   []time.Duration // latency of each write of the trickle
	TrickleTime              time.Duration
	// Others is the CPU (in CPUs) that other processes used during the
	// load, the rebuild and the searches, and Postgres what the PostgreSQL
	// server's processes used (on a PostgreSQL run; counted in Others on a
	// SQLite run); negative when unknown.
	Others, Postgres [3]float64
}

// bench is a running benchmark.
type bench struct {
	o      Options
	log    io.Writer
	s      *server.Server
	base   string
	client *http.Client
	token  string
	p      *auth.Principal
	bodies []int64 // whose entries the searcher sees in every state
	peer   *peer

	genBodies []org.Body // providers of the generated entries // the peer of the database: FTS5 trigram or pg_trgm

	lastAPI  apiAnswer // of the last API search
	lastBody []byte
}

// apiAnswer is the part of an API search answer the benchmark checks.
type apiAnswer struct {
	Items []struct {
		ID int64 `json:"id"`
	} `json:"items"`
	Total  *int `json:"total"`
	Facets map[string][]struct {
		Value string `json:"value"`
		Count int    `json:"count"`
	} `json:"facets"`
}

// benchCatalog runs the benchmark and returns its report; progress goes to
// stderr.
func Catalog(ctx context.Context, o Options, stderr io.Writer) (_ *Report, err error) {
	b := &bench{o: o, log: stderr}
	rep := &Report{Opts: o, GOOS: runtime.GOOS, GOARCH: runtime.GOARCH, Go: runtime.Version(), CPUs: runtime.NumCPU(),
		CPU: cpuModel(), MemTotal: memTotal()}

	dsn, dataDir, cleanup, err := b.freshDatabase(ctx)
	if err != nil {
		return nil, err
	}
	defer cleanup()

	// Request logs are formatted as in production but discarded; warnings
	// and errors go to stderr.
	log := slog.New(slog.NewMultiHandler(slog.NewTextHandler(io.Discard, nil),
		slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	s, err := server.Open(ctx, server.Config{DB: dsn, DataDir: dataDir, Addr: "127.0.0.1:0"}, log)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	b.s = s
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	serveCtx, stop := context.WithCancel(ctx)
	served := make(chan error, 1)
	go func() { served <- s.Serve(serveCtx, ln) }()
	defer func() {
		stop()
		if e := <-served; e != nil && err == nil {
			err = e
		}
	}()
	b.base = "http://" + ln.Addr().String()
	b.client = &http.Client{Timeout: 5 * time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
	defer b.client.CloseIdleConnections()
	if rep.Database, err = b.databaseVersion(ctx); err != nil {
		return nil, err
	}

	// Organisations, users and the demo catalog, then generated bodies.
	start := time.Now()
	b.stage("loading the demo organisations, users and catalog")
	password := demoPassword()
	if _, err := demo.Load(ctx, demo.Services{Orgs: s.Orgs, Auth: s.Auth, Catalog: s.Catalog, Audit: s.Audit}, password); err != nil {
		return nil, fmt.Errorf("demo data: %w", err)
	}
	if err := s.Control.R.QueryRowContext(ctx, `SELECT COUNT(*) FROM entries`).Scan(&rep.DemoEntries); err != nil {
		return nil, err
	}
	bodies, err := b.seedBodies(ctx)
	if err != nil {
		return nil, err
	}
	rep.Bodies = len(bodies) + 1 // and the bureau
	b.genBodies = bodies
	rep.OrgTime = time.Since(start)

	// Entries.
	pg := s.Control.Dialect == db.Postgres
	cpu := readCPU(pg)
	if rep.Load, err = b.loadEntries(ctx, bodies); err != nil {
		return nil, err
	}
	rep.Others[0], rep.Postgres[0], cpu = othersSince(cpu)
	if rep.SizeAfterLoad, err = s.Catalog.IndexSize(); err != nil {
		return nil, err
	}

	// Index rebuild.
	b.stage("rebuilding the search index")
	start = time.Now()
	last := time.Now()
	err = s.Catalog.RebuildIndex(ctx, func(done, total int) {
		if time.Since(last) > time.Second || done == total {
			last = time.Now()
			fmt.Fprintf(stderr, "\r  indexed %s / %s", commas(done), commas(total))
		}
	})
	fmt.Fprintln(stderr)
	if err != nil {
		return nil, fmt.Errorf("rebuild: %w", err)
	}
	rep.Rebuild = time.Since(start)
	rep.Others[1], rep.Postgres[1], _ = othersSince(cpu)
	if rep.SizeAfter, err = s.Catalog.IndexSize(); err != nil {
		return nil, err
	}
	rep.IndexDocs = s.Catalog.IndexStatus().Documents
	if b.peer, err = b.buildPeer(ctx); err != nil {
		return nil, err
	}
	rep.Peer = b.peer

	// A department user's API token, made the way a client makes one.
	if err := b.signIn(ctx, b.o.User, password); err != nil {
		return nil, err
	}
	if b.p, err = s.Auth.TokenPrincipal(ctx, b.token); err != nil {
		return nil, err
	}
	rep.UserDesc = b.describeUser()
	b.bodies = b.p.BodiesWith(auth.PermCatalogEdit)

	// Searches.
	if rep.Compared, rep.Diffs, err = b.compare(ctx); err != nil {
		return nil, err
	}
	cpu = readCPU(pg)
	if rep.Rows, err = b.measure(ctx); err != nil {
		return nil, err
	}
	rep.Others[2], rep.Postgres[2], _ = othersSince(cpu)
	if rep.API, rep.Bare, err = b.throughput(ctx); err != nil {
		return nil, err
	}
	if rep.Trickle, rep.Writes, rep.TrickleTime, err = b.trickle(ctx); err != nil {
		return nil, err
	}
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	rep.Heap = ms.HeapAlloc
	rep.PeakRSS = procStatus("VmHWM")
	return rep, nil
}

// demoPassword makes a password for the demo users that meets the
// password policy.
func demoPassword() string {
	const letters = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ"
	const digits = "23456789"
	b := make([]byte, 14)
	for i := range b {
		set := letters
		if i%4 == 3 {
			set = digits
		}
		b[i] = set[mrand.IntN(len(set))]
	}
	return string(b)
}

func (b *bench) stage(msg string) { fmt.Fprintf(b.log, "bench: %s\n", msg) }

// freshDatabase makes the empty database and data directory of the run
// and returns the function that removes them (unless --keep).
func (b *bench) freshDatabase(ctx context.Context) (dsn, dataDir string, cleanup func(), err error) {
	var undo []func()
	cleanup = func() {
		for _, f := range slices.Backward(undo) {
			f()
		}
	}
	tempDir := func() (string, error) {
		d, err := os.MkdirTemp("", "xiangyun-bench-")
		if err == nil && !b.o.Keep {
			undo = append(undo, func() { _ = os.RemoveAll(d) })
		}
		if err == nil && b.o.Keep {
			undo = append(undo, func() { fmt.Fprintf(b.log, "bench: kept %s\n", d) })
		}
		return d, err
	}
	switch d := b.o.DB; {
	case d == "" || d == "sqlite" || d == "sqlite:":
		dir, err := tempDir()
		if err != nil {
			return "", "", cleanup, err
		}
		return "sqlite:" + dir, dir, cleanup, nil
	case strings.HasPrefix(d, "sqlite:"):
		dir := strings.TrimPrefix(d, "sqlite:")
		if ents, err := os.ReadDir(dir); err == nil && len(ents) > 0 {
			return "", "", cleanup, fmt.Errorf("bench: %s is not empty: the benchmark needs a fresh database", dir)
		}
		return d, dir, cleanup, nil
	case strings.HasPrefix(d, "postgres://"), strings.HasPrefix(d, "postgresql://"):
		dsn, drop, err := db.CreatePostgresDatabase(ctx, d, "xybench_")
		if err != nil {
			return "", "", cleanup, fmt.Errorf("bench: %w", err)
		}
		undo = append(undo, func() {
			if b.o.Keep {
				fmt.Fprintf(b.log, "bench: kept database %s\n", db.Redact(dsn))
				return
			}
			if err := drop(); err != nil {
				fmt.Fprintf(b.log, "bench: drop database %s: %v\n", db.Redact(dsn), err)
			}
		})
		dir, err := tempDir()
		if err != nil {
			return "", "", cleanup, err
		}
		return dsn, dir, cleanup, nil
	}
	return "", "", cleanup, fmt.Errorf("bench: unsupported --db %q: use sqlite:DIR or a postgres:// URL", db.Redact(b.o.DB))
}

func (b *bench) databaseVersion(ctx context.Context) (string, error) {
	var v string
	switch b.s.Control.Dialect {
	case db.SQLite:
		if err := b.s.Control.R.QueryRowContext(ctx, `SELECT sqlite_version()`).Scan(&v); err != nil {
			return "", err
		}
		return "SQLite " + v + " (modernc.org/sqlite, WAL, one writer)", nil
	default:
		if err := b.s.Control.R.QueryRowContext(ctx, `SHOW server_version`).Scan(&v); err != nil {
			return "", err
		}
		return "PostgreSQL " + v + " (pgx, loopback TCP)", nil
	}
}

// benchCounties are the county-level divisions of Jilin (GB/T 2260) where
// the generated bodies sit.
var benchCounties = []struct{ code, name string }{
	{"220102", "南关区"}, {"220103", "宽城区"}, {"220104", "朝阳区"}, {"220105", "二道区"}, {"220106", "绿园区"},
	{"220112", "双阳区"}, {"220113", "九台区"}, {"220122", "农安县"}, {"220182", "榆树市"}, {"220183", "德惠市"},
	{"220184", "公主岭市"}, {"220202", "昌邑区"}, {"220203", "龙潭区"}, {"220204", "船营区"}, {"220211", "丰满区"},
	{"220221", "永吉县"}, {"220281", "蛟河市"}, {"220282", "桦甸市"}, {"220283", "舒兰市"}, {"220284", "磐石市"},
	{"220302", "铁西区"}, {"220303", "铁东区"}, {"220322", "梨树县"}, {"220323", "伊通满族自治县"}, {"220382", "双辽市"},
	{"220402", "龙山区"}, {"220403", "西安区"}, {"220421", "东丰县"}, {"220422", "东辽县"}, {"220502", "东昌区"},
	{"220503", "二道江区"}, {"220521", "通化县"}, {"220523", "辉南县"}, {"220524", "柳河县"}, {"220581", "梅河口市"},
	{"220582", "集安市"}, {"220602", "浑江区"}, {"220605", "江源区"}, {"220621", "抚松县"}, {"220622", "靖宇县"},
	{"220623", "长白朝鲜族自治县"}, {"220681", "临江市"}, {"220702", "宁江区"}, {"220721", "前郭尔罗斯蒙古族自治县"},
	{"220722", "长岭县"}, {"220723", "乾安县"}, {"220781", "扶余市"}, {"220802", "洮北区"}, {"220821", "镇赉县"},
	{"220822", "通榆县"}, {"220881", "洮南市"}, {"220882", "大安市"}, {"222401", "延吉市"}, {"222402", "图们市"},
	{"222403", "敦化市"}, {"222404", "珲春市"}, {"222405", "龙井市"}, {"222406", "和龙市"}, {"222424", "汪清县"},
	{"222426", "安图县"},
}

// A county's departments, then numbered local units (派出所, 市场监管所,
// schools, clinics …) as many as needed.
var (
	benchCountyDepts = strings.Fields(`人民政府办公室 发展和改革局 教育局 科学技术局 工业和信息化局 公安局 民政局 司法局 财政局
		人力资源和社会保障局 自然资源局 生态环境分局 住房和城乡建设局 交通运输局 水利局 农业农村局 商务局 文化和旅游局
		卫生健康局 退役军人事务局 应急管理局 审计局 市场监督管理局 统计局 医疗保障局 林业局 税务局 不动产登记中心
		社会保险事业管理局 政务服务和数字化建设管理局 城市管理行政执法局 信访局 疾病预防控制中心 人民医院 中医院 融媒体中心`)
	benchUnits = strings.Fields(`公安局第%s派出所 市场监督管理局第%s市场监督管理所 税务局第%s税务分局 第%s中学 第%s小学
		第%s卫生院 自然资源局第%s自然资源所 人力资源和社会保障局第%s社会保障服务站 第%s社区服务中心`)
)

// chineseNumber writes 1–99 in Chinese numerals.
func chineseNumber(n int) string {
	d := []rune("零一二三四五六七八九")
	switch {
	case n < 10:
		return string(d[n])
	case n < 20:
		return "十" + strings.TrimPrefix(string(d[n%10]), "零")
	default:
		return string(d[n/10]) + "十" + strings.TrimPrefix(string(d[n%10]), "零")
	}
}

// benchBody is the x-th generated body: counties take turns, each going
// through its departments and then its numbered units.
func benchBody(x int) org.BodyInput {
	c := benchCounties[x%len(benchCounties)]
	j := x / len(benchCounties)
	var name string
	if j < len(benchCountyDepts) {
		name = c.name + benchCountyDepts[j]
	} else {
		k := j - len(benchCountyDepts)
		name = c.name + fmt.Sprintf(benchUnits[k%len(benchUnits)], chineseNumber(k/len(benchUnits)%99+1))
		if n := k / len(benchUnits) / 99; n > 0 { // beyond 99 of a kind (more than ~53,000 bodies)
			name += "（" + strconv.Itoa(n+1) + "）"
		}
	}
	kind, prefix := org.KindAgency, "11"
	for _, suffix := range []string{"中学", "小学", "卫生院", "医院", "中心", "服务站"} {
		if strings.HasSuffix(name, suffix) {
			kind, prefix = org.KindInstitution, "12"
		}
	}
	oc := fmt.Sprintf("%08d", 30_000_000+x*7)
	ocCheck, _ := ident.OrgCodeCheckChar(oc)
	first := prefix + c.code + oc + string(ocCheck)
	cc, _ := ident.CreditCodeCheckChar(first)
	return org.BodyInput{Name: name, CreditCode: first + string(cc), Kind: kind, RegionCode: c.code}
}

// seedBodies adds generated bodies up to --bodies and returns the
// providers of the generated entries: every body but the data bureau.
func (b *bench) seedBodies(ctx context.Context) ([]org.Body, error) {
	all, _, err := b.s.Orgs.Bodies(ctx, org.BodyFilter{})
	if err != nil {
		return nil, err
	}
	if extra := b.o.Bodies - len(all); extra > 0 {
		b.stage(fmt.Sprintf("creating %s bodies in %d counties", commas(extra), len(benchCounties)))
		for _, c := range benchCounties {
			if _, err := b.s.Orgs.CreateRegion(ctx, org.Region{Code: c.code, Name: c.name}); err != nil && errs.KindOf(err) != errs.KindConflict {
				return nil, fmt.Errorf("region %s: %w", c.code, err)
			}
		}
		have := map[string]bool{}
		for _, x := range all {
			have[x.Name] = true
		}
		last := time.Now()
		for x, made := 0, 0; made < extra; x++ {
			in := benchBody(x)
			if have[in.Name] { // a demo body (延吉市政务服务和数字化建设管理局)
				continue
			}
			if _, err := b.s.Orgs.CreateBody(ctx, in); err != nil {
				return nil, fmt.Errorf("body %s: %w", in.Name, err)
			}
			if made++; time.Since(last) > time.Second || made == extra {
				last = time.Now()
				fmt.Fprintf(b.log, "\r  %s / %s", commas(made), commas(extra))
			}
		}
		fmt.Fprintln(b.log)
		if all, _, err = b.s.Orgs.Bodies(ctx, org.BodyFilter{}); err != nil {
			return nil, err
		}
	}
	slices.SortFunc(all, func(x, y org.Body) int { return int(x.ID - y.ID) })
	return slices.DeleteFunc(all, func(x org.Body) bool { return x.Name == demo.Bureau }), nil
}

// loadEntries loads the generated entries as published, in batches, and
// returns the time it took.
func (b *bench) loadEntries(ctx context.Context, bodies []org.Body) (time.Duration, error) {
	n := b.o.Entries
	b.stage(fmt.Sprintf("loading %s entries from %s providers in batches of %s", commas(n), commas(len(bodies)), commas(b.o.Batch)))
	start := time.Now()
	for from := 0; from < n; from += b.o.Batch {
		ins := make([]catalog.EntryInput, 0, b.o.Batch)
		for i := from; i < min(from+b.o.Batch, n); i++ {
			ins = append(ins, demo.Entry(bodies, b.o.Seed, i))
		}
		if _, err := b.s.Catalog.CreatePublished(ctx, catalog.System, ins, "基准测试批量导入"); err != nil {
			return 0, fmt.Errorf("entries %d–%d: %w", from, from+len(ins)-1, err)
		}
		done, el := from+len(ins), time.Since(start)
		rate := float64(done) / el.Seconds()
		eta := time.Duration(float64(n-done)/rate) * time.Second
		fmt.Fprintf(b.log, "\r  %s / %s entries, %s entries/s, %s to go   ", commas(done), commas(n), commas(int(rate)), eta.Round(time.Second))
	}
	fmt.Fprintln(b.log)
	return time.Since(start), nil
}

// signIn signs in as user and makes an API token, through the API.
func (b *bench) signIn(ctx context.Context, user, password string) error {
	post := func(path string, body any, cookies []*http.Cookie) (*http.Response, []byte, error) {
		js, _ := json.Marshal(body)
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, b.base+path, bytes.NewReader(js))
		if err != nil {
			return nil, nil, err
		}
		req.Header.Set("Content-Type", "application/json")
		for _, c := range cookies {
			req.AddCookie(c)
		}
		resp, err := b.client.Do(req)
		if err != nil {
			return nil, nil, err
		}
		defer resp.Body.Close()
		out, err := io.ReadAll(resp.Body)
		if err == nil && resp.StatusCode != http.StatusOK {
			err = fmt.Errorf("POST %s: %s: %s", path, resp.Status, out)
		}
		return resp, out, err
	}
	resp, _, err := post("/api/v1/session", map[string]string{"username": user, "password": password}, nil)
	if err != nil {
		return fmt.Errorf("sign in as %s: %w", user, err)
	}
	_, out, err := post("/api/v1/tokens", map[string]string{"name": "bench"}, resp.Cookies())
	if err != nil {
		return err
	}
	var tok struct{ Token string }
	if err := json.Unmarshal(out, &tok); err != nil || tok.Token == "" {
		return fmt.Errorf("token: %v %s", err, out)
	}
	b.token = tok.Token
	return nil
}

func (b *bench) describeUser() string {
	d := b.p.User.Username
	for _, g := range b.p.User.Roles {
		d += ", " + g.Role.Name("en") + " (" + g.Role.Name("zh") + ") of " + g.BodyName
	}
	return d
}

// searchQuery is q as a catalog query, with word for its text.
func (q benchQuery) searchQuery(word string) catalog.SearchQuery {
	return catalog.SearchQuery{Q: word, Filters: q.Filters, Sort: q.Sort, Offset: (max(q.Page, 1) - 1) * benchPageSize, Limit: benchPageSize}
}

// run runs q (with word as its text) once on path and returns the total
// and the time taken.
func (b *bench) run(ctx context.Context, path string, q benchQuery, word string) (int, time.Duration, error) {
	switch path {
	case pathAPI:
		return b.runAPI(ctx, q, word)
	case pathService:
		start := time.Now()
		res, err := b.s.Catalog.Search(ctx, b.p, q.searchQuery(word))
		return res.Total, time.Since(start), err
	case pathIndex:
		start := time.Now()
		res, err := b.s.Catalog.SearchIDs(ctx, b.p, q.searchQuery(word))
		return int(res.Total), time.Since(start), err
	case pathPeer:
		return b.runPeer(ctx, q, word)
	default:
		return b.runLike(ctx, q, word)
	}
}

func (b *bench) runAPI(ctx context.Context, q benchQuery, word string) (int, time.Duration, error) {
	v := url.Values{}
	if word != "" {
		v.Set("q", word)
	}
	if q.Sort != "" {
		v.Set("sort", q.Sort)
	}
	v.Set("page", strconv.Itoa(max(q.Page, 1)))
	v.Set("page_size", strconv.Itoa(benchPageSize))
	for _, k := range slices.Sorted(maps.Keys(q.Filters)) {
		for _, x := range q.Filters[k] {
			v.Add(k, x)
		}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, b.base+"/api/v1/catalog/entries?"+v.Encode(), nil)
	if err != nil {
		return 0, 0, err
	}
	req.Header.Set("Authorization", "Bearer "+b.token)
	start := time.Now()
	resp, err := b.client.Do(req)
	if err != nil {
		return 0, 0, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	d := time.Since(start)
	if err != nil {
		return 0, 0, err
	}
	if resp.StatusCode != http.StatusOK {
		return 0, 0, fmt.Errorf("GET %s: %s: %.300s", req.URL.RequestURI(), resp.Status, body)
	}
	var out apiAnswer
	if err := json.Unmarshal(body, &out); err != nil || out.Total == nil || out.Facets == nil {
		return 0, 0, fmt.Errorf("GET %s: unexpected answer (%v): %.300s", req.URL.RequestURI(), err, body)
	}
	if want := min(benchPageSize, max(*out.Total-(max(q.Page, 1)-1)*benchPageSize, 0)); len(out.Items) != want {
		return 0, 0, fmt.Errorf("GET %s: %d items on the page, want %d of %d", req.URL.RequestURI(), len(out.Items), want, *out.Total)
	}
	b.lastAPI, b.lastBody = out, body
	return *out.Total, d, nil
}

// likeSQL renders the naïve alternative: the same visibility and filters
// as the index, the text matched with LIKE in the name, the abstract (which
// names the provider) and the data item names of the current version.
func (b *bench) likeSQL(q benchQuery, word string) (count, page string, args []any, err error) {
	var a db.Args
	vis := []string{"e.status = 'published'"}
	for _, id := range b.p.BodiesWith(auth.PermCatalogEdit) {
		vis = append(vis, "e.provider_id = "+a.Add(id))
	}
	where := []string{"(" + strings.Join(vis, " OR ") + ")"}
	if t := strings.TrimSpace(word); t != "" {
		p := a.Add(db.Like(t))
		where = append(where, "(v.name LIKE "+p+` ESCAPE '\' OR v.abstract LIKE `+p+` ESCAPE '\'`+
			` OR EXISTS (SELECT 1 FROM entry_items i WHERE i.version_id = v.id AND i.name LIKE `+p+` ESCAPE '\'))`)
	}
	columns := map[string]string{"grade": "v.grade", "share_type": "v.share_type", "open_type": "v.open_type",
		"format": "v.format_class", "cycle": "v.cycle", "status": "e.status", "scope": "e.scope"}
	for _, name := range slices.Sorted(maps.Keys(q.Filters)) {
		var alts []string
		for _, v := range q.Filters[name] {
			switch col, ok := columns[name]; {
			case name == "region":
				alts = append(alts, "e.region_code LIKE "+a.Add(org.RegionPrefix(v)+"%"))
			case name == "provider":
				id, _ := strconv.ParseInt(v, 10, 64)
				alts = append(alts, "e.provider_id = "+a.Add(id))
			case ok:
				alts = append(alts, col+" = "+a.Add(v))
			default:
				return "", "", nil, fmt.Errorf("bench: no SQL for filter %q", name)
			}
		}
		where = append(where, "("+strings.Join(alts, " OR ")+")")
	}
	order := "e.updated_at DESC, e.id" // LIKE has no relevance
	if q.Sort == "name" {
		order = "v.name, e.id"
	}
	from := ` FROM entries e JOIN entry_versions v ON v.id = e.current_version_id WHERE ` + strings.Join(where, " AND ")
	count = `SELECT COUNT(*)` + from
	page = `SELECT e.id, e.code, v.name, e.provider_id, v.share_type, v.open_type, v.grade, e.status` + from +
		` ORDER BY ` + order + ` LIMIT ` + strconv.Itoa(benchPageSize) + ` OFFSET ` + strconv.Itoa((max(q.Page, 1)-1)*benchPageSize)
	return count, page, a, nil
}

func (b *bench) runLike(ctx context.Context, q benchQuery, word string) (int, time.Duration, error) {
	count, page, args, err := b.likeSQL(q, word)
	if err != nil {
		return 0, 0, err
	}
	r := b.s.Control.R
	start := time.Now()
	var total int
	if err := r.QueryRowContext(ctx, count, args...).Scan(&total); err != nil {
		return 0, 0, fmt.Errorf("LIKE count: %w", err)
	}
	rows, err := r.QueryContext(ctx, page, args...)
	if err != nil {
		return 0, 0, fmt.Errorf("LIKE page: %w", err)
	}
	n := 0
	for rows.Next() {
		var id, provider int64
		var code, name, share, open, grade, status string
		if err := rows.Scan(&id, &code, &name, &provider, &share, &open, &grade, &status); err != nil {
			rows.Close()
			return 0, 0, err
		}
		n++
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, 0, err
	}
	d := time.Since(start)
	if want := min(benchPageSize, max(total-(max(q.Page, 1)-1)*benchPageSize, 0)); n != want {
		return 0, 0, fmt.Errorf("LIKE page: %d rows, want %d of %d", n, want, total)
	}
	return total, d, nil
}

// measure runs every query on every path, interleaved: in each round every
// query runs once on each path that has runs and time left, in an order
// that rotates from round to round. After a warm-up round, the fixed
// queries' text results are in the index's small cache (as popular
// queries are in use); the last query changes its word on every run and
// path so that its text search is never cached.
func (b *bench) measure(ctx context.Context) ([]*benchRow, error) {
	rows := make([]*benchRow, len(benchQueries))
	for i, q := range benchQueries {
		rows[i] = &benchRow{Query: q, Lat: map[string][]time.Duration{}, Total: map[string]int{}}
		if q.Words != nil {
			rows[i].Words = map[string]map[string]int{}
		}
	}
	b.stage("warm-up: every query once on every path")
	for _, q := range benchQueries {
		if q.Words != nil {
			continue
		}
		for _, path := range benchPaths {
			if _, _, err := b.run(ctx, path, q, q.Q); err != nil {
				return nil, fmt.Errorf("%s on %s: %w", q.Label, path, err)
			}
		}
	}
	b.stage(fmt.Sprintf("searching: %d queries × %d paths, at most %d runs or %s each", len(benchQueries), len(benchPaths), b.o.Reps, b.o.Budget))
	spent := map[[2]int]time.Duration{}
	start, last := time.Now(), time.Now()
	for round := 0; ; round++ {
		active := false
		for qi, q := range benchQueries {
			for k := range benchPaths {
				pi := (k + round + qi) % len(benchPaths)
				path := benchPaths[pi]
				key := [2]int{qi, pi}
				if len(rows[qi].Lat[path]) >= b.o.Reps || spent[key] >= b.o.Budget {
					continue
				}
				active = true
				word := q.Q
				if q.Words != nil {
					// Paths are len(Words)/len(paths) runs apart on the list:
					// between two runs of one word, the other paths search
					// more words than the cache holds.
					word = q.Words[(round+pi*(len(q.Words)/len(benchPaths)))%len(q.Words)]
				}
				total, d, err := b.run(ctx, path, q, word)
				if err != nil {
					return nil, fmt.Errorf("%s on %s: %w", q.Label, path, err)
				}
				spent[key] += d
				rows[qi].Lat[path] = append(rows[qi].Lat[path], d)
				if q.Words != nil {
					if rows[qi].Words[word] == nil {
						rows[qi].Words[word] = map[string]int{}
					}
					rows[qi].Words[word][path] = total
					rows[qi].Total[path] += total
				} else {
					rows[qi].Total[path] = total
				}
			}
		}
		if !active {
			break
		}
		if time.Since(last) > 5*time.Second {
			last = time.Now()
			fmt.Fprintf(b.log, "\r  round %d, %s", round+1, time.Since(start).Round(time.Second))
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
	}
	fmt.Fprintf(b.log, "\r  done in %s          \n", time.Since(start).Round(time.Second))
	return rows, nil
}

// mismatches lists the queries whose totals differ between paths that
// must agree: api, service and index always; like where Same is set.
func (r *benchRow) mismatches() []string {
	var out []string
	check := func(what string, totals map[string]int) {
		want, ok := totals[pathIndex]
		for _, p := range benchPaths {
			got, has := totals[p]
			if !has || !ok {
				continue
			}
			if (p == pathLike || p == pathPeer) && !r.Query.Same {
				continue
			}
			if got != want {
				out = append(out, fmt.Sprintf("%s: %s %d, index %d", what, p, got, want))
			}
		}
	}
	if r.Words != nil {
		for _, w := range slices.Sorted(maps.Keys(r.Words)) {
			check(r.Query.Label+" "+w, r.Words[w])
		}
		return out
	}
	check(r.Query.Label, r.Total)
	return out
}

// percentile returns the nearest-rank p-th percentile of ds.
func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Sorted(slices.Values(ds))
	i := int(math.Ceil(p/100*float64(len(s)))) - 1
	return s[min(max(i, 0), len(s)-1)]
}

func ms(d time.Duration) string {
	f := float64(d) / float64(time.Millisecond)
	switch {
	case f >= 100:
		return strconv.FormatFloat(f, 'f', 0, 64)
	case f >= 10:
		return strconv.FormatFloat(f, 'f', 1, 64)
	}
	return strconv.FormatFloat(f, 'f', 2, 64)
}

func ratio(a, b time.Duration) string {
	if b <= 0 {
		return "–"
	}
	r := float64(a) / float64(b)
	if r >= 10 {
		return strconv.FormatFloat(r, 'f', 0, 64) + "×"
	}
	return strconv.FormatFloat(r, 'f', 1, 64) + "×"
}

// markdown writes the report as Markdown.
func (r *Report) Markdown(w io.Writer) {
	o := r.Opts
	dbName := "SQLite"
	if strings.HasPrefix(r.Database, "PostgreSQL") {
		dbName = "PostgreSQL"
	}
	fmt.Fprintf(w, "### Catalog search: %s, %s entries\n\n", dbName, commas(o.Entries+r.DemoEntries))
	fmt.Fprintln(w, "| | |\n|---|---|")
	fmt.Fprintf(w, "| machine | %d CPUs (%s), %s RAM, %s/%s, %s |\n", r.CPUs, r.CPU, r.MemTotal, r.GOOS, r.GOARCH, r.Go)
	fmt.Fprintf(w, "| database | %s |\n", r.Database)
	fmt.Fprintf(w, "| catalog | %s generated + %s demo entries = %s documents in the index; %s bodies |\n",
		commas(o.Entries), commas(r.DemoEntries), commas(int(r.IndexDocs)), commas(r.Bodies))
	fmt.Fprintf(w, "| organisations, users, demo catalog | %s |\n", r.OrgTime.Round(100*time.Millisecond))
	fmt.Fprintf(w, "| load | %s entries in %s: **%s entries/s** (CreatePublished, %s per transaction, index updated after each) |\n",
		commas(o.Entries), r.Load.Round(time.Second), commas(int(float64(o.Entries)/max(r.Load.Seconds(), 1e-9))), commas(o.Batch))
	fmt.Fprintf(w, "| index rebuild | **%s** for %s documents: %s documents/s (RebuildIndex, from the database) |\n",
		r.Rebuild.Round(100*time.Millisecond), commas(int(r.IndexDocs)), commas(int(float64(r.IndexDocs)/max(r.Rebuild.Seconds(), 1e-9))))
	fmt.Fprintf(w, "| index on disk | **%s** after the rebuild (%s after the load) |\n", mib(r.SizeAfter), mib(r.SizeAfterLoad))
	peerName := "peer"
	if r.Peer != nil {
		peerName = r.Peer.Name
		fmt.Fprintf(w, "| peer: %s | built in **%s** over %s entries, **%s** (the index alone); Xiangyun's rebuild takes %s its time and %s its size |\n",
			r.Peer.Name, r.Peer.Build.Round(100*time.Millisecond), commas(r.Peer.Docs), mib(r.Peer.Size),
			ratio(r.Rebuild, r.Peer.Build), ratio(time.Duration(r.SizeAfter), time.Duration(r.Peer.Size)))
	}
	fmt.Fprintf(w, "| memory | Go heap %s after GC at the end; peak RSS %s |\n", mib(int64(r.Heap)), r.PeakRSS)
	fmt.Fprintf(w, "| searcher | %s, with an API token |\n", r.UserDesc)
	if r.Others[0] >= 0 && r.Others[1] >= 0 && r.Others[2] >= 0 {
		if dbName == "PostgreSQL" {
			fmt.Fprintf(w, "| PostgreSQL server | used %.2f of the %d CPUs during the load, %.2f during the rebuild, %.2f during the searches |\n",
				r.Postgres[0], r.CPUs, r.Postgres[1], r.Postgres[2])
		}
		fmt.Fprintf(w, "| other processes | used %.2f of the %d CPUs during the load, %.2f during the rebuild, %.2f during the searches (the machine may be shared) |\n",
			r.Others[0], r.CPUs, r.Others[1], r.Others[2])
	}
	fmt.Fprintf(w, "| runs | one client, one request at a time; each query at most %d times per path or %s, paths interleaved |\n\n", o.Reps, o.Budget)

	fmt.Fprintln(w, "Latency in ms, p50 / p95 / p99 (runs); hits = total of the first page's answer.")
	fmt.Fprintln(w)
	fmt.Fprintf(w, "| query | hits | API (HTTP) | service | index | %s | LIKE scan | API ÷ index p50 / p95 | LIKE ÷ API p95 |\n", peerName)
	fmt.Fprintln(w, "|---|--:|---|---|---|---|---|--:|--:|")
	var bad []string
	goals := struct{ fast, near, far, n int }{}
	for _, row := range r.Rows {
		q := row.Query
		label := q.Label
		switch {
		case q.Words != nil:
			label += fmt.Sprintf(" (%d words: %s …)", len(q.Words), strings.Join(q.Words[:3], " "))
		default:
			var parts []string
			if q.Q != "" {
				parts = append(parts, "`"+q.Q+"`")
			}
			if q.Page > 1 {
				parts = append(parts, fmt.Sprintf("page %d", q.Page))
			}
			if len(parts) > 0 {
				label = strings.Join(parts, ", ") + " — " + label
			}
		}
		hits := commas(row.Total[pathAPI])
		if q.Words != nil {
			hits = commas(row.Total[pathAPI]/max(len(row.Lat[pathAPI]), 1)) + " avg"
		} else {
			if p, ok := row.Total[pathPeer]; ok && p != row.Total[pathAPI] {
				hits += fmt.Sprintf(" (%s %s)", peerName, commas(p))
			}
			if l, ok := row.Total[pathLike]; ok && l != row.Total[pathAPI] {
				hits += fmt.Sprintf(" (LIKE %s)", commas(l))
			}
		}
		cell := func(path string) string {
			ds := row.Lat[path]
			return fmt.Sprintf("%s / %s / %s (%d)", ms(percentile(ds, 50)), ms(percentile(ds, 95)), ms(percentile(ds, 99)), len(ds))
		}
		api95, ix95, like95 := percentile(row.Lat[pathAPI], 95), percentile(row.Lat[pathIndex], 95), percentile(row.Lat[pathLike], 95)
		api50, ix50 := percentile(row.Lat[pathAPI], 50), percentile(row.Lat[pathIndex], 50)
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s | %s / %s | %s |\n", label, hits, cell(pathAPI), cell(pathService), cell(pathIndex),
			cell(pathPeer), cell(pathLike), ratio(api50, ix50), ratio(api95, ix95), ratio(like95, api95))
		goals.n++
		if api95 <= 20*time.Millisecond {
			goals.fast++
		}
		if api50 <= 2*ix50 && api95 <= 2*ix95 {
			goals.near++
		}
		if like95 >= 20*api95 {
			goals.far++
		}
		bad = append(bad, row.mismatches()...)
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "Goals by query: API p95 ≤ 20 ms: %d of %d; API ≤ 2× the bare index at p50 and p95 (issue #6): %d of %d; LIKE ≥ 20× slower than the API (p95): %d of %d.\n",
		goals.fast, goals.n, goals.near, goals.n, goals.far, goals.n)
	if len(bad) == 0 {
		fmt.Fprintf(w, "Totals: the API, the service and the index agree on every query; the LIKE scan and %s agree wherever they ask the same question (single two-character words, filters, no text).\n", peerName)
	} else {
		fmt.Fprintf(w, "Totals that differ where they should agree: %s.\n", strings.Join(bad, "; "))
	}
	if r.Compared > 0 {
		if len(r.Diffs) == 0 {
			fmt.Fprintf(w, "Pages: on all %d fixed queries the API's page has the index's entry ids in the index's order, and the same facet values with the same counts.\n", r.Compared)
		} else {
			fmt.Fprintf(w, "Pages that differ between the API and the index: %s.\n", strings.Join(r.Diffs, "; "))
		}
	}
	fmt.Fprintln(w)

	if r.API.Requests > 0 {
		fmt.Fprintf(w, "Throughput at saturation: %d clients for %s each, cycling through the %d fixed first-page queries.\n\n", o.Clients, o.Load, len(throughputQueries()))
		fmt.Fprintln(w, "| server | requests/s | p50 / p95 / p99 ms | CPU per request |")
		fmt.Fprintln(w, "|---|--:|---|--:|")
		for _, l := range []struct {
			name string
			res  loadResult
		}{{"API (HTTP): token, search, page, facets, JSON", r.API}, {"bare net/http handler writing the same JSON", r.Bare}} {
			fmt.Fprintf(w, "| %s | %s | %s / %s / %s | %s ms |\n", l.name, commas(int(l.res.rate())), ms(percentile(l.res.Lat, 50)),
				ms(percentile(l.res.Lat, 95)), ms(percentile(l.res.Lat, 99)), ms(l.res.CPU/time.Duration(max(l.res.Requests, 1))))
		}
		fmt.Fprintf(w, "\nThe API serves **%.1f%%** of the bare handler's requests/s (goal of issue #6: ≥ 20%%).\n\n", 100*r.API.rate()/max(r.Bare.rate(), 1e-9))
	}
	if len(r.Trickle) > 0 {
		fmt.Fprintf(w, "Under a trickle of writes: %d entries published one per transaction (CreatePublished, %s / %s ms p50 / p95 each) in %s (%.1f writes/s, %d asked) while each query ran %d times on the API and the index, one client.\n\n",
			len(r.Writes), ms(percentile(r.Writes, 50)), ms(percentile(r.Writes, 95)), r.TrickleTime.Round(time.Second),
			float64(len(r.Writes))/max(r.TrickleTime.Seconds(), 1e-9), o.Trickle, o.TrickleReps)
		fmt.Fprintln(w, "| query | API quiet p50 / p95 | API under writes p50 / p95 | index quiet p50 / p95 | index under writes p50 / p95 |")
		fmt.Fprintln(w, "|---|---|---|---|---|")
		for _, t := range r.Trickle {
			var quiet *benchRow
			for _, row := range r.Rows {
				if row.Query.Label == t.Query.Label {
					quiet = row
				}
			}
			pp := func(ds []time.Duration) string { return ms(percentile(ds, 50)) + " / " + ms(percentile(ds, 95)) }
			label := t.Query.Label
			if t.Query.Q != "" {
				label = "`" + t.Query.Q + "` — " + label
			}
			fmt.Fprintf(w, "| %s | %s | %s | %s | %s |\n", label, pp(quiet.Lat[pathAPI]), pp(t.API), pp(quiet.Lat[pathIndex]), pp(t.Idx))
		}
		fmt.Fprintln(w)
	}
}

func mib(n int64) string { return strconv.FormatFloat(float64(n)/(1<<20), 'f', 1, 64) + " MiB" }

// commas writes n with thousands separators.
func commas(n int) string {
	s := strconv.Itoa(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	if neg {
		s = "-" + s
	}
	return s
}

// cpuSample is the busy CPU time of the machine, of this process and of
// the PostgreSQL server's processes, in seconds, from Linux's /proc.
type cpuSample struct {
	machine, self, postgres float64
	at                      time.Time
	ok, pg                  bool
}

const clockTicks = 100 // USER_HZ, the unit of /proc/stat and /proc/PID/stat on Linux

// readCPU reads the CPU times, those of the processes named postgres when
// pg is set.
func readCPU(pg bool) cpuSample {
	s := cpuSample{at: time.Now(), pg: pg}
	stat, err1 := os.ReadFile("/proc/stat")
	self, err2 := os.ReadFile("/proc/self/stat")
	if err1 != nil || err2 != nil {
		return s
	}
	line, _, _ := strings.Cut(string(stat), "\n")
	f := strings.Fields(line) // cpu user nice system idle iowait irq softirq steal …
	if len(f) < 9 || f[0] != "cpu" {
		return s
	}
	for _, i := range []int{1, 2, 3, 6, 7, 8} {
		v, _ := strconv.ParseFloat(f[i], 64)
		s.machine += v / clockTicks
	}
	var ok bool
	if _, s.self, ok = procCPU(self, false); !ok {
		return s
	}
	if pg {
		dirs, _ := filepath.Glob("/proc/[0-9]*/stat")
		for _, d := range dirs {
			if st, err := os.ReadFile(d); err == nil {
				if comm, t, ok := procCPU(st, true); ok && comm == "postgres" {
					s.postgres += t
				}
			}
		}
	}
	s.ok = true
	return s
}

// procCPU returns the command name and the user and system CPU time of
// a /proc/PID/stat file, with that of its ended children (the postmaster's
// short-lived backends and parallel workers) when children is set. Fields
// after the command's closing parenthesis start at field 3; utime, stime,
// cutime and cstime are fields 14 to 17.
func procCPU(stat []byte, children bool) (string, float64, bool) {
	open, end := bytes.IndexByte(stat, '('), bytes.LastIndexByte(stat, ')')
	if open < 0 || end < open {
		return "", 0, false
	}
	rest := strings.Fields(string(stat[end+1:]))
	if len(rest) < 15 {
		return "", 0, false
	}
	fields := []int{11, 12}
	if children {
		fields = append(fields, 13, 14)
	}
	var t float64
	for _, i := range fields {
		v, _ := strconv.ParseFloat(rest[i], 64)
		t += v / clockTicks
	}
	return string(stat[open+1 : end]), t, true
}

// othersSince returns the CPU used since a by other processes and by the
// PostgreSQL server, in CPUs (0.5 = half of one CPU busy on average), or
// -1 when unknown, and a new sample.
func othersSince(a cpuSample) (others, postgres float64, _ cpuSample) {
	b := readCPU(a.pg)
	if !a.ok || !b.ok || !b.at.After(a.at) {
		return -1, -1, b
	}
	secs := b.at.Sub(a.at).Seconds()
	postgres = max(b.postgres-a.postgres, 0)
	others = max((b.machine-a.machine)-(b.self-a.self)-postgres, 0)
	return others / secs, postgres / secs, b
}

// cpuModel, memTotal and procStatus read Linux's /proc; elsewhere they
// say "unknown".
func cpuModel() string {
	if v := procField("/proc/cpuinfo", "model name"); v != "" {
		return v
	}
	return "model unknown"
}

func memTotal() string {
	kb, err := strconv.ParseFloat(strings.TrimSuffix(procField("/proc/meminfo", "MemTotal"), " kB"), 64)
	if err != nil {
		return "unknown"
	}
	return strconv.FormatFloat(kb/(1<<20), 'f', 1, 64) + " GiB"
}

func procStatus(key string) string {
	kb, err := strconv.ParseFloat(strings.TrimSuffix(procField("/proc/self/status", key), " kB"), 64)
	if err != nil {
		return "unknown"
	}
	return mib(int64(kb * 1024))
}

// procField returns the value of the first "key: value" line of file.
func procField(file, key string) string {
	f, err := os.Open(file)
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == key {
			return strings.TrimSpace(v)
		}
	}
	return ""
}
