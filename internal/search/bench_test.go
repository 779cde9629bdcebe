package search

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Run with, e.g.:
//
//	SEARCH_BENCH_DOCS=150000 go test -run '^$' -bench . ./internal/search/
//
// The index (on disk, in a temporary directory) is built once per run.

var benchSchema = Schema{
	Text: []TextField{
		{Name: "name", Boost: 3},
		{Name: "abstract", NoPinyin: true},
		{Name: "items", NoPinyin: true},
		{Name: "provider", Boost: 1.5},
		{Name: "code", NoPinyin: true},
	},
	Keyword: []string{"provider_id", "region", "class", "share_type", "open_type", "format", "cycle", "grade", "status"},
	Sort:    []string{"updated_at", "name", "code"},
}

var (
	benchRegions   = []string{"吉林省", "长春市", "吉林市", "四平市", "辽源市", "通化市", "白山市", "松原市", "白城市", "延边州"}
	benchTopics    = []string{"常住人口", "户籍人口", "企业法人", "社会保险", "医疗保险", "养老保险", "失业保险", "不动产", "公共交通", "道路运输", "税务登记", "环境监测", "水质", "空气质量", "义务教育", "学校", "医疗机构", "药品", "食品安全", "农业补贴", "气象观测", "森林防火", "旅游景区", "文物保护", "住房公积金", "社会救助", "残疾人", "婚姻登记", "出生医学证明", "城乡居民", "个体工商户", "建设工程", "招标投标", "政府采购", "行政处罚", "行政许可", "信用评价", "交通违法", "机动车", "驾驶人"}
	benchSuffixes  = []string{"基本信息", "登记信息", "统计数据", "目录", "名单", "许可信息", "备案信息", "监测数据", "缴费信息", "参保信息", "变更记录", "年度报告"}
	benchProviders = []string{"省公安厅", "省市场监督管理厅", "省人力资源和社会保障厅", "省自然资源厅", "省医疗保障局", "省交通运输厅", "省税务局", "省生态环境厅", "省教育厅", "省卫生健康委员会", "省药品监督管理局", "省农业农村厅", "省气象局", "省林业和草原局", "省文化和旅游厅", "省住房和城乡建设厅", "省民政厅", "省残疾人联合会", "省财政厅", "省统计局"}
	benchItems     = []string{"姓名", "性别", "民族", "出生日期", "公民身份号码", "户籍地址", "统一社会信用代码", "法定代表人", "注册资本", "成立日期", "经营范围", "参保险种", "缴费基数", "缴费月数", "坐落", "面积", "用途", "线路名称", "站点", "票价", "监测时间", "监测值", "许可证编号", "有效期", "发证机关", "联系电话", "单位名称", "行政区划", "更新时间", "备注"}
	benchSentences = []string{"本数据集记录了", "按月更新，", "数据来源于业务系统，", "包括相关的基本情况和变动情况，", "可用于统计分析和业务协同，", "申请使用需经过审核，", "涉及个人信息的字段已脱敏处理，", "覆盖全省各市州，", "提供接口和文件两种方式，", "数据质量经过核验。"}
	benchShares    = []string{"无条件共享", "有条件共享", "不予共享"}
	benchFormats   = []string{"csv", "xlsx", "json", "api", "xml"}
	benchCycles    = []string{"实时", "每日", "每月", "每季度", "每年"}
)

func benchDoc(r *rand.Rand, i int) Doc {
	pick := func(s []string) string { return s[r.IntN(len(s))] }
	region, topic, prov := r.IntN(len(benchRegions)), pick(benchTopics), r.IntN(len(benchProviders))
	name := benchRegions[region] + topic + pick(benchSuffixes)
	var abs strings.Builder
	abs.WriteString("本数据集记录了" + benchRegions[region] + topic + "的")
	for range 4 + r.IntN(8) {
		abs.WriteString(pick(benchSentences))
		abs.WriteString(pick(benchTopics))
	}
	items := make([]string, 5+r.IntN(20))
	for j := range items {
		items[j] = pick(benchItems)
	}
	formats := []string{pick(benchFormats)}
	if r.IntN(3) == 0 {
		formats = append(formats, pick(benchFormats))
	}
	code := fmt.Sprintf("%d/%03d/%03d/%05d", 1+r.IntN(3), prov, r.IntN(40), i%100000)
	return Doc{
		ID: fmt.Sprintf("%08d", i),
		Text: map[string]string{
			"name": name, "abstract": abs.String(), "items": strings.Join(items, "、"),
			"provider": benchProviders[prov], "code": code,
		},
		Keyword: map[string][]string{
			"provider_id": {strconv.Itoa(prov)},
			"region":      {benchRegions[region]},
			"class":       {topic},
			"share_type":  {pick(benchShares)},
			"open_type":   {pick([]string{"开放", "不开放"})},
			"format":      formats,
			"cycle":       {pick(benchCycles)},
			"grade":       {pick([]string{"一级", "二级", "三级"})},
			"status":      {pick([]string{"已发布", "已下线"})},
		},
		Sort: map[string]any{
			"updated_at": time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(r.IntN(5*365*24)) * time.Hour),
			"name":       name,
			"code":       code,
		},
	}
}

var benchDir string

func TestMain(m *testing.M) {
	code := m.Run()
	if benchDir != "" {
		os.RemoveAll(benchDir)
	}
	os.Exit(code)
}

var benchIndex = sync.OnceValues(func() (*Index, error) {
	n := 20000
	if s := os.Getenv("SEARCH_BENCH_DOCS"); s != "" {
		var err error
		if n, err = strconv.Atoi(s); err != nil {
			return nil, err
		}
	}
	// SEARCH_BENCH_DIR keeps the index for later runs.
	dir := os.Getenv("SEARCH_BENCH_DIR")
	if dir == "" {
		var err error
		if dir, err = os.MkdirTemp("", "search-bench-"); err != nil {
			return nil, err
		}
		benchDir = dir
	}
	start := time.Now()
	ix, err := Open(dir, benchSchema)
	if err != nil {
		return nil, err
	}
	if count, _ := ix.Count(); count != uint64(n) {
		err = ix.Rebuild(func(yield func(Doc) error) error {
			r := rand.New(rand.NewPCG(1, 2))
			for i := range n {
				if err := yield(benchDoc(r, i)); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(os.Stderr, "bench index: %d docs built in %v\n", n, time.Since(start).Round(time.Millisecond))
		// Reopen, as a server would, and let scorch merge segments.
		if err := ix.Close(); err != nil {
			return nil, err
		}
		start = time.Now()
		if ix, err = Open(dir, benchSchema); err != nil {
			return nil, err
		}
	}
	opened := time.Since(start)
	segments := func() any {
		adv, _ := ix.cur.bi.Advanced()
		return adv.StatsMap()["TotFileSegmentsAtRoot"]
	}
	for last, stable := segments(), 0; stable < 5; stable++ {
		time.Sleep(200 * time.Millisecond)
		if cur := segments(); cur != last {
			last, stable = cur, 0
		}
	}
	size, _ := ix.SizeBytes()
	fmt.Fprintf(os.Stderr, "bench index: %d docs opened in %v, %.1f MiB on disk, %v segments\n",
		n, opened.Round(time.Millisecond), float64(size)/(1<<20), segments())
	return ix, nil
})

func BenchmarkSearch(b *testing.B) {
	ix, err := benchIndex()
	if err != nil {
		b.Fatal(err)
	}
	facets := []string{"provider_id", "region", "class", "share_type", "format"}
	queries := []struct {
		name string
		q    Query
	}{
		{"人口", Query{Q: "人口", Facets: facets}},
		{"社保_缴费", Query{Q: "社保 缴费", Facets: facets}},
		{"社保_缴费_bydate", Query{Q: "社保 缴费", Sort: "-updated_at"}},
		{"社保_缴费_nofacets", Query{Q: "社保 缴费"}},
		{"长春市公安局", Query{Q: "长春市公安局", Facets: facets}},
		{"医疗保险参保信息", Query{Q: "医疗保险参保信息", Facets: facets}},
		{"shbx", Query{Q: "shbx", Facets: facets}},
		{"rk", Query{Q: "rk", Facets: facets}},
		{"s", Query{Q: "s", Facets: facets}},
		{"sh", Query{Q: "sh", Facets: facets}},
		{"税", Query{Q: "税", Facets: facets}},
		{"code", Query{Q: "2/003/010", Facets: facets}},
		{"all_facets", Query{Facets: facets, Sort: "-updated_at"}},
		{"all_nofacets", Query{Sort: "-updated_at"}},
		{"filtered", Query{Q: "信息", Filters: map[string][]string{"region": {"长春市", "吉林市"}, "share_type": {"无条件共享"}}, Facets: facets, Sort: "-updated_at"}},
		{"人口_page50", Query{Q: "人口", Offset: 1000, Limit: 20}},
	}
	for _, bq := range queries {
		// Cold runs the text query every time; cached reuses its
		// matches, as when paging or changing filters.
		for _, cached := range []bool{false, true} {
			name := bq.name + "/cold"
			if cached {
				name = bq.name + "/cached"
			}
			b.Run(name, func(b *testing.B) {
				var total uint64
				for b.Loop() {
					if !cached {
						ix.cur.cacheMu.Lock()
						clear(ix.cur.cache)
						ix.cur.cacheMu.Unlock()
					}
					res, err := ix.Search(context.Background(), bq.q)
					if err != nil {
						b.Fatal(err)
					}
					total = res.Total
				}
				b.ReportMetric(float64(total), "hits")
			})
		}
	}
}

func BenchmarkIndexing(b *testing.B) {
	ix, err := Open("", benchSchema)
	if err != nil {
		b.Fatal(err)
	}
	defer ix.Close()
	r := rand.New(rand.NewPCG(3, 4))
	docs := make([]Doc, 1000)
	for i := range docs {
		docs[i] = benchDoc(r, i)
	}
	if err := ix.Upsert(docs[:1]...); err != nil { // load the dictionary
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		if err := ix.Upsert(docs...); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*len(docs)), "µs/doc")
}
