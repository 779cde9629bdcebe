package bench

// bench ingest: the aggregation (归集) benchmark of issue #7.
//
// For each database (a temporary SQLite directory, and a new database on the
// PostgreSQL server given with --pg) it opens a fresh installation through
// internal/server, publishes a 12-item entry (登记编号 key, 公民身份号码,
// 姓名, dates, 统一社会信用代码, Chinese text …) whose default quality rules
// are all on, and generates CSV files of N rows with internal/demo's value
// generators, in UTF-8 and in GBK (a small share of rows invalid). Then, side
// by side in the same run:
//
//	ingest   ingest.Service.Start on the spooled file, to the batch's end:
//	         streamed read, encoding detection, typing, every default rule,
//	         staging in chunked transactions and the one publishing
//	         transaction — the product path after the upload is spooled;
//	raw      the same rows, read with encoding/csv from the UTF-8 file and
//	         written with no checks into a table of the same column types
//	         and key: one prepared-insert transaction on SQLite, COPY (pgx
//	         CopyFrom) on PostgreSQL.
//
// Peak memory is the process's VmHWM, reset (/proc/self/clear_refs) before
// each case, for a small and a large file, to show that it does not grow
// with the file. Last, the streamed export of the large entry as CSV over
// HTTP (GET …/records/export, the product path with a bearer token) against
// a raw SELECT of the same columns written as CSV to io.Discard.
//
// The raw paths write and read the data store's tables directly, which no
// package but ingest may do; they are measurements of the alternative, not
// features.

import (
	"bufio"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"golang.org/x/text/encoding/simplifiedchinese"

	"xiangyun/internal/auth"
	"xiangyun/internal/catalog"
	"xiangyun/internal/db"
	"xiangyun/internal/demo"
	"xiangyun/internal/ident"
	"xiangyun/internal/ingest"
	"xiangyun/internal/org"
	"xiangyun/internal/server"
)

// IngestOptions configure an ingest benchmark run.
type IngestOptions struct {
	PG       string  // a postgres:// server URL (a new database is created and dropped); "" runs SQLite only
	NoSQLite bool    // skip SQLite (with PG set)
	Rows     int     // rows of the large file
	Small    int     // rows of the small file (memory comparison); 0 skips it
	Bad      float64 // share of rows with an invalid value
	Seed     uint64
	Keep     bool
	Profile  string // write a CPU profile of the large UTF-8 ingest case to this file prefix
	Export   bool   // run the export comparison
}

func DefaultIngestOptions() IngestOptions {
	return IngestOptions{Rows: 1_000_000, Small: 100_000, Bad: 0.005, Seed: 7, Export: true}
}

func ingestCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o := DefaultIngestOptions()
	fs := flag.NewFlagSet("bench ingest", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.PG, "pg", "", "PostgreSQL server URL (postgres://…); a new database is created and dropped. Empty: SQLite only")
	fs.BoolVar(&o.NoSQLite, "no-sqlite", false, "skip SQLite (with --pg)")
	fs.IntVar(&o.Rows, "rows", o.Rows, "rows of the large generated CSV")
	fs.IntVar(&o.Small, "small", o.Small, "rows of the small CSV, to compare peak memory (0: skip)")
	fs.Float64Var(&o.Bad, "bad", o.Bad, "share of rows with an invalid value")
	fs.Uint64Var(&o.Seed, "seed", o.Seed, "seed of the generated rows")
	fs.BoolVar(&o.Keep, "keep", false, "keep the databases and data directories")
	fs.StringVar(&o.Profile, "cpuprofile", "", "write CPU profiles of the large UTF-8 ingest and export to FILE-<db>-<case>.pprof")
	fs.BoolVar(&o.Export, "export", o.Export, "compare the streamed CSV export with a raw SELECT")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if o.Rows < 1 || o.Small < 0 || o.Bad < 0 || o.Bad >= 1 || (o.NoSQLite && o.PG == "") {
		return errors.New("bench ingest: --rows ≥ 1, --small ≥ 0, 0 ≤ --bad < 1, and --no-sqlite only with --pg")
	}
	rep, err := Ingest(ctx, o, stderr)
	if err != nil {
		return err
	}
	rep.Markdown(stdout)
	return nil
}

// IngestCase is one measured run.
type IngestCase struct {
	DB, Path, Encoding string
	Rows               int   // rows in the file
	Accepted, Rejected int64 // ingest paths
	Bytes              int64 // file size
	Time               time.Duration
	PeakRSS            int64 // bytes; VmHWM over the case
	Status             string
}

func (c IngestCase) rate() float64 { return float64(c.Rows) / c.Time.Seconds() }

// IngestReport is the result of a run.
type IngestReport struct {
	Opts                            IngestOptions
	GOOS, GOARCH, Go, CPU, MemTotal string
	CPUs                            int
	Databases                       map[string]string // dialect → version
	Cases                           []IngestCase
}

// Ingest runs the benchmark on SQLite and/or PostgreSQL.
func Ingest(ctx context.Context, o IngestOptions, stderr io.Writer) (*IngestReport, error) {
	rep := &IngestReport{Opts: o, GOOS: runtime.GOOS, GOARCH: runtime.GOARCH, Go: runtime.Version(), CPUs: runtime.NumCPU(),
		CPU: cpuModel(), MemTotal: memTotal(), Databases: map[string]string{}}
	dir, err := os.MkdirTemp("", "xiangyun-bench-ingest-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	sizes := []int{o.Rows}
	if o.Small > 0 && o.Small < o.Rows {
		sizes = []int{o.Small, o.Rows}
	}
	fmt.Fprintf(stderr, "bench: generating %v rows as UTF-8 and GBK CSV\n", sizes)
	files := map[int]map[string]genFile{}
	for _, n := range sizes {
		utf, gbk, err := generateCSV(dir, n, o.Bad, o.Seed)
		if err != nil {
			return nil, err
		}
		files[n] = map[string]genFile{"UTF-8": utf, "GBK": gbk}
	}
	var dbs []string
	if !o.NoSQLite {
		dbs = append(dbs, "")
	}
	if o.PG != "" {
		dbs = append(dbs, o.PG)
	}
	for _, d := range dbs {
		cases, version, err := ingestOn(ctx, o, d, sizes, files, stderr)
		if err != nil {
			return nil, err
		}
		rep.Cases = append(rep.Cases, cases...)
		if len(cases) > 0 {
			rep.Databases[cases[0].DB] = version
		}
	}
	return rep, nil
}

// benchItems is the benchmark entry's 12 data items.
func benchItems() []catalog.Item {
	return []catalog.Item{
		{Name: "登记编号", EnName: "djbh", DataType: "C", Length: 20, Key: true},
		{Name: "公民身份号码", EnName: "gmsfhm", DataType: "C", Length: 18, Required: true, Sensitive: true, Mask: "id_card"},
		{Name: "姓名", EnName: "xm", DataType: "C", Length: 50, Required: true, Sensitive: true, Mask: "name"},
		{Name: "出生日期", EnName: "csrq", DataType: "D"},
		{Name: "统一社会信用代码", EnName: "tyshxydm", DataType: "C", Length: 18},
		{Name: "单位名称", EnName: "dwmc", DataType: "C", Length: 100},
		{Name: "住所", EnName: "zs", DataType: "C", Length: 200},
		{Name: "行政区划代码", EnName: "xzqhdm", DataType: "C", Length: 6},
		{Name: "联系电话", EnName: "lxdh", DataType: "C", Length: 20},
		{Name: "登记日期", EnName: "djrq", DataType: "D"},
		{Name: "注册资本", EnName: "zczb", DataType: "N", Length: 18},
		{Name: "经营范围", EnName: "jyfw", DataType: "C", Length: 500},
	}
}

var (
	firmWords  = []string{"长白山", "松花江", "吉祥", "盛达", "宏图", "华信", "北方", "东北亚", "一汽", "查干湖", "鹿乡", "净月", "汇通", "鼎盛", "瑞丰"}
	firmKinds  = []string{"农业科技有限公司", "商贸有限公司", "建筑工程有限公司", "物流有限公司", "食品有限责任公司", "信息技术有限公司", "汽车零部件有限公司", "人参种植专业合作社"}
	scopeParts = []string{"农产品收购、加工、销售", "计算机软硬件开发", "道路普通货物运输", "建筑材料销售", "汽车零部件制造", "人参种植及初加工",
		"餐饮服务", "技术咨询、技术服务", "日用百货零售", "仓储服务（不含危险化学品）"}
)

type genFile struct {
	Path   string
	Size   int64
	SHA256 string
}

// generateCSV writes n rows as UTF-8 (with BOM, as Excel writes it) and as
// GBK, streaming, and returns both files.
func generateCSV(dir string, n int, bad float64, seed uint64) (utf, gbk genFile, err error) {
	items := benchItems()
	utf.Path = filepath.Join(dir, fmt.Sprintf("rows-%d-utf8.csv", n))
	gbk.Path = filepath.Join(dir, fmt.Sprintf("rows-%d-gbk.csv", n))
	fu, err := os.Create(utf.Path)
	if err != nil {
		return utf, gbk, err
	}
	defer fu.Close()
	fg, err := os.Create(gbk.Path)
	if err != nil {
		return utf, gbk, err
	}
	defer fg.Close()
	hu, hg := sha256.New(), sha256.New()
	bu := bufio.NewWriterSize(io.MultiWriter(fu, hu), 1<<20)
	enc := simplifiedchinese.GBK.NewEncoder()
	bg := bufio.NewWriterSize(io.MultiWriter(fg, hg), 1<<20)
	cu, cg := csv.NewWriter(bu), csv.NewWriter(enc.Writer(bg))
	bu.WriteString("\ufeff")
	header := make([]string, len(items))
	for i, it := range items {
		header[i] = it.Name
	}
	if err := cu.Write(header); err != nil {
		return utf, gbk, err
	}
	if err := cg.Write(header); err != nil {
		return utf, gbk, err
	}
	rng := rand.New(rand.NewPCG(seed, uint64(n)))
	rec := make([]string, len(items))
	for r := range n {
		badCol := -1
		if rng.Float64() < bad {
			badCol = 1 + rng.IntN(len(items)-1)
		}
		for i, it := range items {
			switch it.Name {
			case "登记编号":
				rec[i] = fmt.Sprintf("JL%09d", r+1)
			case "单位名称":
				rec[i] = "吉林省" + firmWords[rng.IntN(len(firmWords))] + firmKinds[rng.IntN(len(firmKinds))]
			case "经营范围":
				k := 1 + rng.IntN(3)
				parts := make([]string, k)
				for j := range parts {
					parts[j] = scopeParts[rng.IntN(len(scopeParts))]
				}
				rec[i] = strings.Join(parts, "；")
			default:
				rec[i] = demo.RecordValue(rng, it, r, i == badCol)
			}
			if i == badCol && (it.Name == "单位名称" || it.Name == "经营范围") {
				rec[i] = strings.Repeat("超长", 300) // longer than the item's length
			}
		}
		if err := cu.Write(rec); err != nil {
			return utf, gbk, err
		}
		if err := cg.Write(rec); err != nil {
			return utf, gbk, err
		}
	}
	cu.Flush()
	cg.Flush()
	if err := errors.Join(cu.Error(), cg.Error(), bu.Flush(), bg.Flush()); err != nil {
		return utf, gbk, err
	}
	utf.SHA256, gbk.SHA256 = hex.EncodeToString(hu.Sum(nil)), hex.EncodeToString(hg.Sum(nil))
	su, _ := fu.Stat()
	sg, _ := fg.Stat()
	utf.Size, gbk.Size = su.Size(), sg.Size()
	return utf, gbk, nil
}

// ingestOn runs every case on one database.
func ingestOn(ctx context.Context, o IngestOptions, d string, sizes []int, files map[int]map[string]genFile, stderr io.Writer) (_ []IngestCase, version string, err error) {
	b := &bench{o: Options{DB: d, Keep: o.Keep}, log: stderr}
	dsn, dataDir, cleanup, err := b.freshDatabase(ctx)
	if err != nil {
		return nil, "", err
	}
	defer cleanup()
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	s, err := server.Open(ctx, server.Config{DB: dsn, DataDir: dataDir, Addr: "127.0.0.1:0"}, log)
	if err != nil {
		return nil, "", err
	}
	defer s.Close()
	b.s = s
	if version, err = b.databaseVersion(ctx); err != nil {
		return nil, "", err
	}
	dbName := "SQLite"
	if s.DataDB.Dialect == db.Postgres {
		dbName = "PostgreSQL"
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, "", err
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
	base := "http://" + ln.Addr().String()

	// A provider and its data specialist.
	if _, err := s.Orgs.CreateRegion(ctx, org.Region{Code: "220000", Name: "吉林省"}); err != nil {
		return nil, "", err
	}
	body, err := s.Orgs.CreateBody(ctx, org.BodyInput{Name: "吉林省市场监督管理厅", CreditCode: creditCodeFor(1), Kind: org.KindAgency, RegionCode: "220000"})
	if err != nil {
		return nil, "", err
	}
	u, err := s.Auth.CreateUser(ctx, auth.UserInput{Username: "bench_spec", DisplayName: "基准测试数据专员", BodyID: body.ID, Password: demoPassword()})
	if err != nil {
		return nil, "", err
	}
	if err := s.Auth.GrantRole(ctx, 0, u.ID, auth.RoleDataSpecialist, body.ID); err != nil {
		return nil, "", err
	}
	if u, err = s.Auth.User(ctx, u.ID); err != nil {
		return nil, "", err
	}
	p := &auth.Principal{User: u}
	token, _, err := s.Auth.CreateToken(ctx, u.ID, "bench", 24*time.Hour)
	if err != nil {
		return nil, "", err
	}
	entry := func(name string) (catalog.Entry, error) {
		in := catalog.EntryInput{ProviderID: body.ID, Content: catalog.Content{
			Name: name, Class: "2/02/001", Abstract: "市场主体登记的统一社会信用代码、法定代表人、住所、注册资本和经营范围，供基准测试归集。",
			FormatClass: "database", FormatType: "kingbase", Items: benchItems(),
			ShareType: catalog.ShareConditional, ShareCondition: "仅用于基准测试", ShareMethod: catalog.MethodTable, ShareChannel: "platform",
			OpenType: catalog.OpenNone, OpenCondition: "涉及个人信息，不予开放", Cycle: "daily", Grade: "L3",
		}}
		es, err := s.Catalog.CreatePublished(ctx, catalog.System, []catalog.EntryInput{in}, "")
		if err != nil {
			return catalog.Entry{}, err
		}
		return s.Catalog.Get(ctx, catalog.System, es[0].ID)
	}

	var cases []IngestCase
	var exportEntry int64
	for _, n := range sizes {
		// Raw baseline first, then both encodings through ingest.
		fmt.Fprintf(stderr, "bench: %s: raw insert of %d rows\n", dbName, n)
		c, err := measure(func() (IngestCase, error) { return rawInsert(ctx, s.DataDB, n, files[n]["UTF-8"].Path) })
		if err != nil {
			return nil, "", fmt.Errorf("raw insert: %w", err)
		}
		c.DB, c.Encoding, c.Bytes = dbName, "UTF-8", files[n]["UTF-8"].Size
		cases = append(cases, c)
		for _, enc := range []string{"UTF-8", "GBK"} {
			f := files[n][enc]
			e, err := entry(fmt.Sprintf("基准测试市场主体登记信息（%d行，%s）", n, enc))
			if err != nil {
				return nil, "", err
			}
			if n == sizes[len(sizes)-1] && enc == "UTF-8" {
				exportEntry = e.ID
			}
			fmt.Fprintf(stderr, "bench: %s: ingest of %d rows (%s)\n", dbName, n, enc)
			prof := ""
			if o.Profile != "" && n == sizes[len(sizes)-1] && enc == "UTF-8" {
				prof = fmt.Sprintf("%s-%s-ingest.pprof", o.Profile, strings.ToLower(dbName))
			}
			c, err := measure(func() (IngestCase, error) { return runIngest(ctx, s.Ingest, p, e.ID, f, n, prof, stderr) })
			if err != nil {
				return nil, "", fmt.Errorf("ingest %d %s: %w", n, enc, err)
			}
			c.DB, c.Encoding, c.Bytes = dbName, enc, f.Size
			cases = append(cases, c)
		}
	}
	if o.Export && exportEntry != 0 {
		n := sizes[len(sizes)-1]
		fmt.Fprintf(stderr, "bench: %s: export of %d rows\n", dbName, n)
		prof := ""
		if o.Profile != "" {
			prof = fmt.Sprintf("%s-%s-export.pprof", o.Profile, strings.ToLower(dbName))
		}
		c, err := measure(func() (IngestCase, error) { return httpExport(ctx, base, token, exportEntry, prof) })
		if err != nil {
			return nil, "", fmt.Errorf("export: %w", err)
		}
		c.DB, c.Encoding = dbName, "UTF-8"
		cases = append(cases, c)
		c, err = measure(func() (IngestCase, error) { return rawSelect(ctx, s.DataDB, exportEntry) })
		if err != nil {
			return nil, "", fmt.Errorf("raw select: %w", err)
		}
		c.DB, c.Encoding = dbName, "UTF-8"
		cases = append(cases, c)
	}
	return cases, version, nil
}

// creditCodeFor is a valid 统一社会信用代码 of a government body.
func creditCodeFor(n int) string {
	oc := fmt.Sprintf("%08d", 21_000_000+n*53)
	c, _ := ident.OrgCodeCheckChar(oc)
	first := "11220000" + oc + string(c)
	cc, _ := ident.CreditCodeCheckChar(first)
	return first + string(cc)
}

// measure runs one case with the process's peak RSS reset before it and
// read after it; where the kernel does not offer the reset, the peak is
// sampled every 50 ms instead.
func measure(fn func() (IngestCase, error)) (IngestCase, error) {
	runtime.GC()
	debug.FreeOSMemory()
	reset := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) == nil
	var peak atomic.Int64
	done := make(chan struct{})
	var wg sync.WaitGroup
	if !reset {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t := time.NewTicker(50 * time.Millisecond)
			defer t.Stop()
			for {
				if v := procKB("VmRSS"); v > peak.Load() {
					peak.Store(v)
				}
				select {
				case <-done:
					return
				case <-t.C:
				}
			}
		}()
	}
	c, err := fn()
	close(done)
	wg.Wait()
	if reset {
		c.PeakRSS = procKB("VmHWM")
	} else {
		c.PeakRSS = peak.Load()
	}
	return c, err
}

// procKB reads a /proc/self/status field in bytes.
func procKB(key string) int64 {
	kb, err := strconv.ParseInt(strings.TrimSuffix(procField("/proc/self/status", key), " kB"), 10, 64)
	if err != nil {
		return -1
	}
	return kb << 10
}

func runIngest(ctx context.Context, svc *ingest.Service, p *auth.Principal, entryID int64, f genFile, n int, prof string, stderr io.Writer) (IngestCase, error) {
	c := IngestCase{Path: "ingest", Rows: n}
	// Start removes its spooled file when the batch ends: hand it a link.
	spooled := f.Path + ".spool"
	if err := os.Link(f.Path, spooled); err != nil {
		return c, err
	}
	if prof != "" {
		pf, err := os.Create(prof)
		if err != nil {
			return c, err
		}
		defer pf.Close()
		if err := pprof.StartCPUProfile(pf); err != nil {
			return c, err
		}
		defer pprof.StopCPUProfile()
	}
	start := time.Now()
	b, err := svc.Start(ctx, p, entryID, ingest.Upload{Path: spooled, Name: filepath.Base(f.Path), Size: f.Size, SHA256: f.SHA256,
		Mode: ingest.ModeAppend, OnError: ingest.PublishValid})
	if err != nil {
		return c, err
	}
	last := time.Now()
	for {
		svc.Wait(ctx, b.ID, time.Second)
		if b, err = svc.Batch(ctx, p, b.ID); err != nil {
			return c, err
		}
		if b.Done() {
			break
		}
		if time.Since(last) > 5*time.Second {
			last = time.Now()
			fmt.Fprintf(stderr, "  read %d, accepted %d, rejected %d\n", b.Rows, b.Accepted, b.Rejected)
		}
	}
	c.Time = time.Since(start)
	c.Accepted, c.Rejected, c.Status = b.Accepted, b.Rejected, b.Status
	if b.Status != ingest.StatusPublished {
		return c, fmt.Errorf("batch %d %s: %s", b.ID, b.Status, b.MessageEN)
	}
	if b.Rows != int64(n) {
		return c, fmt.Errorf("batch %d read %d rows, want %d", b.ID, b.Rows, n)
	}
	return c, nil
}

// rawTable creates a table of the benchmark items' types with the same
// key, for the raw paths.
func rawTable(ctx context.Context, store *db.DB, name string) error {
	pg := store.Dialect == db.Postgres
	var defs []string
	for i, it := range benchItems() {
		t := "TEXT"
		switch it.DataType {
		case "C":
			t = "VARCHAR(" + strconv.Itoa(it.Length) + ")"
		case "D":
			if pg {
				t = "DATE"
			}
		case "N":
			if pg {
				t = "NUMERIC"
			}
		}
		defs = append(defs, "c"+strconv.Itoa(i+1)+" "+t)
	}
	id := "id INTEGER PRIMARY KEY"
	if pg {
		id = "id BIGSERIAL PRIMARY KEY"
	}
	return store.Tx(ctx, func(tx *db.Tx) error {
		if err := tx.Run(`CREATE TABLE ` + name + ` (` + id + `, ` + strings.Join(defs, ", ") + `)`); err != nil {
			return err
		}
		return tx.Run(`CREATE UNIQUE INDEX ` + name + `_key ON ` + name + ` (c1)`)
	})
}

// rawRows reads the generated UTF-8 file with encoding/csv and hands each
// row, typed for the database, to fn.
func rawRows(path string, pg bool, fn func([]any) error) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 1<<20)
	if b, _ := br.Peek(3); string(b) == "\ufeff" {
		_, _ = br.Discard(3)
	}
	cr := csv.NewReader(br)
	cr.ReuseRecord = true
	if _, err := cr.Read(); err != nil { // header
		return err
	}
	items := benchItems()
	vals := make([]any, len(items))
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		for i, it := range items {
			v := rec[i]
			switch {
			case v == "":
				vals[i] = nil
			case pg && it.DataType == "D":
				t, err := time.Parse("2006-01-02", v)
				if err != nil {
					vals[i] = nil // the invalid dates of the generated file: no checks, no value
					continue
				}
				vals[i] = t
			case pg && it.DataType == "N":
				x, err := strconv.ParseFloat(v, 64)
				if err != nil {
					vals[i] = nil
					continue
				}
				vals[i] = x
			default:
				if len([]rune(v)) > it.Length && it.Length > 0 {
					v = string([]rune(v)[:it.Length]) // VARCHAR(n) on PostgreSQL refuses longer text
				}
				vals[i] = v
			}
		}
		if err := fn(vals); err != nil {
			return err
		}
	}
}

var rawSeq atomic.Int64

// rawInsert writes the file's rows with no checks: one prepared-insert
// transaction on SQLite, COPY on PostgreSQL.
func rawInsert(ctx context.Context, store *db.DB, n int, path string) (IngestCase, error) {
	c := IngestCase{Path: "raw", Rows: n}
	name := "bench_raw_" + strconv.FormatInt(rawSeq.Add(1), 10)
	if err := rawTable(ctx, store, name); err != nil {
		return c, err
	}
	cols := make([]string, len(benchItems()))
	for i := range cols {
		cols[i] = "c" + strconv.Itoa(i+1)
	}
	start := time.Now()
	pg := store.Dialect == db.Postgres
	var inserted int64
	if pg {
		conn, err := store.R.Conn(ctx)
		if err != nil {
			return c, err
		}
		defer conn.Close()
		err = conn.Raw(func(dc any) error {
			pc := dc.(*stdlib.Conn).Conn()
			rows := make(chan []any, 1024)
			errc := make(chan error, 1)
			go func() {
				defer close(rows)
				errc <- rawRows(path, true, func(v []any) error {
					select {
					case rows <- append([]any(nil), v...):
						return nil
					case <-ctx.Done():
						return ctx.Err()
					}
				})
			}()
			k, err := pc.CopyFrom(ctx, pgx.Identifier{name}, cols, &chanSource{ch: rows})
			inserted = k
			for range rows { // drain on error
			}
			return errors.Join(err, <-errc)
		})
		if err != nil {
			return c, err
		}
	} else {
		ins := `INSERT INTO ` + name + ` (` + strings.Join(cols, ", ") + `) VALUES ` + db.Placeholders(1, len(cols))
		err := store.Tx(context.WithoutCancel(ctx), func(tx *db.Tx) error {
			return rawRows(path, false, func(v []any) error {
				if err := tx.Run(ins, v...); err != nil {
					return err
				}
				inserted++
				return nil
			})
		})
		if err != nil {
			return c, err
		}
	}
	c.Time = time.Since(start)
	c.Accepted, c.Status = inserted, "inserted"
	if inserted != int64(n) {
		return c, fmt.Errorf("raw insert wrote %d rows, want %d", inserted, n)
	}
	return c, nil
}

// chanSource feeds CopyFrom from a channel.
type chanSource struct {
	ch  <-chan []any
	cur []any
}

func (s *chanSource) Next() bool {
	v, ok := <-s.ch
	s.cur = v
	return ok
}
func (s *chanSource) Values() ([]any, error) { return s.cur, nil }
func (s *chanSource) Err() error             { return nil }

// httpExport downloads the entry's records as CSV over HTTP and discards
// them, counting the rows.
func httpExport(ctx context.Context, base, token string, entryID int64, prof string) (IngestCase, error) {
	c := IngestCase{Path: "export"}
	if prof != "" {
		pf, err := os.Create(prof)
		if err != nil {
			return c, err
		}
		defer pf.Close()
		if err := pprof.StartCPUProfile(pf); err != nil {
			return c, err
		}
		defer pprof.StopCPUProfile()
	}
	start := time.Now()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/api/v1/catalog/entries/"+strconv.FormatInt(entryID, 10)+"/records/export?format=csv", nil)
	if err != nil {
		return c, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := (&http.Client{Timeout: time.Hour}).Do(req)
	if err != nil {
		return c, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return c, fmt.Errorf("export: %s: %s", resp.Status, b)
	}
	lines, size, err := countLines(resp.Body)
	if err != nil {
		return c, err
	}
	c.Time, c.Bytes, c.Rows, c.Status = time.Since(start), size, lines-1, resp.Header.Get("Transfer-Encoding")
	if len(resp.TransferEncoding) > 0 {
		c.Status = strings.Join(resp.TransferEncoding, ",")
	}
	return c, nil
}

// countLines counts CSV records (lines outside quotes) of r.
func countLines(r io.Reader) (int, int64, error) {
	br := bufio.NewReaderSize(r, 1<<20)
	var (
		n      int
		size   int64
		quoted bool
	)
	buf := make([]byte, 1<<16)
	for {
		k, err := br.Read(buf)
		size += int64(k)
		for _, b := range buf[:k] {
			switch b {
			case '"':
				quoted = !quoted
			case '\n':
				if !quoted {
					n++
				}
			}
		}
		if errors.Is(err, io.EOF) {
			return n, size, nil
		}
		if err != nil {
			return n, size, err
		}
	}
}

// rawSelect reads the entry's record table's item columns with one SELECT
// and writes them as CSV to io.Discard.
func rawSelect(ctx context.Context, store *db.DB, entryID int64) (IngestCase, error) {
	c := IngestCase{Path: "select"}
	cols := make([]string, len(benchItems()))
	for i := range cols {
		cols[i] = "c" + strconv.Itoa(i+1) // the generated columns of a fresh table, in item order
	}
	start := time.Now()
	rows, err := store.R.QueryContext(ctx, `SELECT `+strings.Join(cols, ", ")+` FROM rec_`+strconv.FormatInt(entryID, 10)+` WHERE _deleted = FALSE ORDER BY _id`)
	if err != nil {
		return c, err
	}
	defer rows.Close()
	cw := csv.NewWriter(io.Discard)
	raw := make([]sql.RawBytes, len(cols))
	dest := make([]any, len(cols))
	for i := range raw {
		dest[i] = &raw[i]
	}
	rec := make([]string, len(cols))
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return c, err
		}
		for i, b := range raw {
			rec[i] = string(b)
		}
		if err := cw.Write(rec); err != nil {
			return c, err
		}
		c.Rows++
	}
	cw.Flush()
	c.Time, c.Status = time.Since(start), "discarded"
	return c, rows.Err()
}

// rejected is how many rows of the UTF-8 ingest of n rows were rejected.
func (r *IngestReport) rejected(n int) int64 {
	for _, c := range r.Cases {
		if c.Path == "ingest" && c.Rows == n && c.Encoding == "UTF-8" {
			return c.Rejected
		}
	}
	return -1
}

// Markdown writes the report as the tables of docs/BENCHMARKS.md.
func (r *IngestReport) Markdown(w io.Writer) {
	o := r.Opts
	fmt.Fprintf(w, "Machine: %s/%s, %d CPUs (%s), %s memory; %s.\n", r.GOOS, r.GOARCH, r.CPUs, r.CPU, r.MemTotal, r.Go)
	for d, v := range r.Databases {
		fmt.Fprintf(w, "%s: %s.\n", d, v)
	}
	sizes := commas(o.Rows)
	if o.Small > 0 && o.Small < o.Rows {
		sizes = commas(o.Small) + " and " + sizes
	}
	fmt.Fprintf(w, "Files: %s generated rows, 12 columns, %.1f%% of rows with one invalid value; every default quality rule on.\n\n",
		sizes, o.Bad*100)
	fmt.Fprintln(w, "| database | path | encoding | rows | file | accepted | rejected | time | rows/s | × raw | peak RSS |")
	fmt.Fprintln(w, "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
	raw := map[string]float64{}
	for _, c := range r.Cases {
		if c.Path == "raw" {
			raw[c.DB+strconv.Itoa(c.Rows)] = c.rate()
		}
	}
	for _, c := range r.Cases {
		if c.Path == "export" || c.Path == "select" {
			continue
		}
		ratio := "—"
		if c.Path == "ingest" && raw[c.DB+strconv.Itoa(c.Rows)] > 0 {
			ratio = fmt.Sprintf("%.2f", c.rate()/raw[c.DB+strconv.Itoa(c.Rows)])
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s | %.1f s | %s | %s | %s |\n", c.DB, c.Path, c.Encoding, commas(c.Rows), mib(c.Bytes),
			commas(int(c.Accepted)), commas(int(c.Rejected)), c.Time.Seconds(), commas(int(c.rate())), ratio, mib(c.PeakRSS))
	}
	var exp []IngestCase
	for _, c := range r.Cases {
		if c.Path == "export" || c.Path == "select" {
			exp = append(exp, c)
		}
	}
	if len(exp) == 0 {
		return
	}
	fmt.Fprintln(w, "\n| database | path | rows | bytes | time | rows/s | × raw SELECT | peak RSS |")
	fmt.Fprintln(w, "|---|---|---:|---:|---:|---:|---:|---:|")
	sel := map[string]float64{}
	for _, c := range exp {
		if c.Path == "select" {
			sel[c.DB] = c.rate()
		}
	}
	for _, c := range exp {
		ratio := "—"
		if c.Path == "export" && sel[c.DB] > 0 {
			ratio = fmt.Sprintf("%.2f", c.rate()/sel[c.DB])
		}
		bytes := "—"
		if c.Bytes > 0 {
			bytes = mib(c.Bytes)
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %.1f s | %s | %s | %s |\n", c.DB, c.Path, commas(c.Rows), bytes, c.Time.Seconds(), commas(int(c.rate())), ratio, mib(c.PeakRSS))
	}
}
