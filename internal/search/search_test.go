package search

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

var testSchema = Schema{
	Text: []TextField{
		{Name: "name", Boost: 3},
		{Name: "abstract", NoPinyin: true},
		{Name: "provider", Boost: 1.5},
		{Name: "code", NoPinyin: true},
	},
	Keyword: []string{"provider_id", "region", "share_type", "format"},
	Sort:    []string{"updated_at", "name", "views"},
}

type entry struct {
	id, name, abstract, provider, providerID, region, share string
	formats                                                 []string
	day, views                                              int
}

var entries = []entry{
	{"d01", "吉林省常住人口基本信息", "全省常住人口的姓名、性别、出生日期、户籍地址等基本信息。", "省公安厅", "p-gat", "吉林省", "有条件共享", []string{"csv", "xlsx"}, 10, 500},
	{"d02", "企业法人登记信息", "企业法人的名称、统一社会信用代码、法定代表人、注册资本等登记信息。", "省市场监督管理厅", "p-scj", "吉林省", "无条件共享", []string{"csv"}, 3, 900},
	{"d03", "社会保险参保缴费信息", "参保单位和个人的参保险种、缴费基数、缴费月数。", "省人力资源和社会保障厅", "p-rst", "吉林省", "有条件共享", []string{"xlsx"}, 12, 300},
	{"d04", "不动产登记信息", "不动产权利人、坐落、面积、用途及抵押登记情况。", "省自然资源厅", "p-zrt", "长春市", "有条件共享", []string{"csv"}, 1, 800},
	{"d05", "城乡居民医疗保险参保信息", "城乡居民基本医疗保险的参保登记和待遇享受情况。", "省医疗保障局", "p-ybj", "吉林省", "有条件共享", []string{"api"}, 7, 200},
	{"d06", "长春市公共交通线路信息", "公交线路、站点、首末班时间和票价。", "长春市交通运输局", "p-ccjt", "长春市", "无条件共享", []string{"csv", "api"}, 15, 1000},
	{"d07", "失业保险金申领信息", "失业人员申领失业保险金的审核和发放记录。", "省人力资源和社会保障厅", "p-rst", "吉林省", "不予共享", []string{"xlsx"}, 5, 100},
	{"d08", "企业职工基本养老保险参保信息", "企业职工参加社会保险中基本养老保险的参保和缴费情况。", "省人力资源和社会保障厅", "p-rst", "吉林省", "有条件共享", []string{"csv"}, 8, 400},
	{"d09", "出生医学证明信息", "新生儿出生医学证明签发记录，用于人口登记。", "省卫生健康委员会", "p-wjw", "吉林省", "有条件共享", []string{"csv"}, 2, 150},
	{"d10", "道路运输经营许可信息", "道路旅客运输和货物运输经营许可证信息。", "省交通运输厅", "p-jtt", "吉林省", "无条件共享", []string{"api"}, 4, 250},
	{"d11", "社保卡发放信息", "社会保障卡的申领、制卡和发放记录。", "省人力资源和社会保障厅", "p-rst", "长春市", "有条件共享", []string{"csv"}, 9, 700},
	{"d12", "医疗保险参保信息", "参保人员的医疗保险参保状态。", "省医疗保障局", "p-ybj", "长春市", "有条件共享", []string{"csv"}, 6, 600},
	{"d13", "地区生产总值（GDP）统计", "按季度发布的全省地区生产总值 GDP 核算数据。", "省统计局", "p-tjj", "吉林省", "无条件共享", []string{"xlsx"}, 11, 350},
}

var day0 = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

func (e entry) doc() Doc {
	d := Doc{
		ID: e.id,
		Text: map[string]string{
			"name": e.name, "abstract": e.abstract, "provider": e.provider,
			"code": fmt.Sprintf("3/001/002/%05d", e.day),
		},
		Keyword: map[string][]string{
			"provider_id": {e.providerID}, "region": {e.region},
			"share_type": {e.share}, "format": e.formats,
		},
		Sort: map[string]any{
			"updated_at": day0.AddDate(0, 0, e.day), "name": e.name, "views": e.views,
		},
	}
	if e.id == "d13" {
		d.Sort["views"] = uint16(e.views) // any numeric type
	}
	return d
}

func testDocs() []Doc {
	docs := make([]Doc, len(entries))
	for i, e := range entries {
		docs[i] = e.doc()
	}
	return docs
}

func openTest(t testing.TB, dir string) *Index {
	t.Helper()
	ix, err := Open(dir, testSchema)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ix.Close() })
	return ix
}

func filledIndex(t testing.TB) *Index {
	t.Helper()
	ix := openTest(t, "")
	if err := ix.Upsert(testDocs()...); err != nil {
		t.Fatal(err)
	}
	return ix
}

func search(t testing.TB, ix *Index, q Query) Result {
	t.Helper()
	res, err := ix.Search(context.Background(), q)
	if err != nil {
		t.Fatalf("Search(%+v): %v", q, err)
	}
	return res
}

func ids(t testing.TB, ix *Index, q string) []string {
	t.Helper()
	return search(t, ix, Query{Q: q, Limit: 100}).IDs
}

func TestRelevance(t *testing.T) {
	ix := filledIndex(t)
	tests := []struct {
		q       string
		first   []string // the first results, in any order
		include []string // also present
		exclude []string // absent
	}{
		{q: "人口", first: []string{"d01"}, include: []string{"d09"}, exclude: []string{"d02"}},
		{q: "rk", first: []string{"d01"}},
		{q: "renkou", first: []string{"d01"}},
		{q: "RenKou", first: []string{"d01"}},
		{q: "社会保险", first: []string{"d03"}, include: []string{"d08"}, exclude: []string{"d07", "d05"}},
		// Literal 社保 first, then the abbreviation of 社会保险 in a
		// name, then 社会保障 in the provider.
		{q: "社保", first: []string{"d11", "d03"}, include: []string{"d07", "d08"}, exclude: []string{"d05"}},
		{q: "shbx", first: []string{"d03"}, exclude: []string{"d05"}},
		{q: "shehuibaox", first: []string{"d03"}},
		{q: "医保", first: []string{"d12", "d05"}},
		{q: "公交", first: []string{"d06"}},
		{q: "ccs", first: []string{"d06"}},
		{q: "jlsczrk", first: []string{"d01"}},
		{q: "人口 基本", first: []string{"d01"}, exclude: []string{"d09"}},
		{q: "人口基本信息", first: []string{"d01"}, exclude: []string{"d09"}},
		{q: "省公安厅", first: []string{"d01"}},
		{q: "公安", first: []string{"d01"}},
		{q: "人力资源", first: []string{"d03", "d07", "d08", "d11"}, exclude: []string{"d01"}},
		{q: "长春市交通运输局", first: []string{"d06"}, exclude: []string{"d10"}},
		{q: "医疗保险参保信息", first: []string{"d12"}, include: []string{"d05"}},
		{q: "不动产登记信息", first: []string{"d04"}, exclude: []string{"d02"}},
		{q: "gdp", first: []string{"d13"}},
		{q: "ＧＤＰ", first: []string{"d13"}},
		{q: "生产总值", first: []string{"d13"}},
		{q: "证", first: []string{"d09"}},
		{q: "局", include: []string{"d05", "d06", "d12", "d13"}, exclude: []string{"d01"}},
		{q: "3/001/002/00010", first: []string{"d01"}},
		// Code prefixes match up to a separator.
		{q: "3/001/002", include: []string{"d01", "d02", "d06", "d13"}},
		{q: "3/001/002/0001"},
		{q: "00015", first: []string{"d06"}},
		{q: "renk", first: []string{"d01"}},
		{q: "gdp 2023"},
		{q: "GD"}, // English words match whole, or by prefixes of 3+ letters
		{q: "gdp统计", first: []string{"d13"}},
		{q: "人口 xyzzy"},
		{q: "火星"},
	}
	for _, tt := range tests {
		got := ids(t, ix, tt.q)
		if len(got) < len(tt.first) {
			t.Errorf("%q: got %v, want first %v", tt.q, got, tt.first)
			continue
		}
		if tt.first == nil && tt.include == nil && len(got) > 0 {
			t.Errorf("%q: got %v, want nothing", tt.q, got)
		}
		if head := slices.Sorted(slices.Values(got[:len(tt.first)])); !slices.Equal(head, slices.Sorted(slices.Values(tt.first))) {
			t.Errorf("%q: got %v, want first %v", tt.q, got, tt.first)
		}
		for _, id := range tt.include {
			if !slices.Contains(got, id) {
				t.Errorf("%q: got %v, want %s included", tt.q, got, id)
			}
		}
		for _, id := range tt.exclude {
			if slices.Contains(got, id) {
				t.Errorf("%q: got %v, want %s excluded", tt.q, got, id)
			}
		}
	}
}

func TestFiltersAndFacets(t *testing.T) {
	ix := filledIndex(t)
	facets := []string{"region", "share_type", "format", "provider_id"}

	// No filter: counts over everything.
	res := search(t, ix, Query{Facets: facets, Limit: 100})
	if res.Total != uint64(len(entries)) {
		t.Fatalf("total %d", res.Total)
	}
	wantRegion := []FacetCount{{"吉林省", 9}, {"长春市", 4}}
	if !slices.Equal(res.Facets["region"], wantRegion) {
		t.Errorf("region facet %v, want %v", res.Facets["region"], wantRegion)
	}
	// Multi-valued: d01 and d06 count for two formats.
	wantFormat := []FacetCount{{"csv", 8}, {"xlsx", 4}, {"api", 3}}
	if !slices.Equal(res.Facets["format"], wantFormat) {
		t.Errorf("format facet %v, want %v", res.Facets["format"], wantFormat)
	}

	// OR within a field.
	res = search(t, ix, Query{Filters: map[string][]string{"format": {"api", "xlsx"}}, Limit: 100})
	want := []string{"d01", "d03", "d05", "d06", "d07", "d10", "d13"}
	if !slices.Equal(res.IDs, want) {
		t.Errorf("OR filter: %v, want %v", res.IDs, want)
	}

	// AND across fields, with the text query and facets.
	q := Query{
		Q:       "信息",
		Filters: map[string][]string{"region": {"长春市"}, "share_type": {"有条件共享"}},
		Facets:  facets,
		Limit:   100,
	}
	res = search(t, ix, q)
	want = []string{"d04", "d11", "d12"}
	if !slices.Equal(slices.Sorted(slices.Values(res.IDs)), want) || res.Total != 3 {
		t.Errorf("AND filter: %v (%d), want %v", res.IDs, res.Total, want)
	}
	// A filtered field's facet ignores its own filter but not the others:
	// 有条件共享 entries per region (all named …信息).
	wantRegion = []FacetCount{{"吉林省", 5}, {"长春市", 3}}
	if !slices.Equal(res.Facets["region"], wantRegion) {
		t.Errorf("region facet %v, want %v", res.Facets["region"], wantRegion)
	}
	// 长春市 entries per share type.
	wantShare := []FacetCount{{"有条件共享", 3}, {"无条件共享", 1}}
	if !slices.Equal(res.Facets["share_type"], wantShare) {
		t.Errorf("share_type facet %v, want %v", res.Facets["share_type"], wantShare)
	}
	// Unfiltered fields count the results.
	wantFormat = []FacetCount{{"csv", 3}}
	if !slices.Equal(res.Facets["format"], wantFormat) {
		t.Errorf("format facet %v, want %v", res.Facets["format"], wantFormat)
	}

	// Filters do not change the ranking of the text query.
	res = search(t, ix, Query{Q: "人口", Filters: map[string][]string{"region": {"吉林省"}}})
	if !slices.Equal(res.IDs, []string{"d01", "d09"}) {
		t.Errorf("ranking with filter: %v", res.IDs)
	}

	// FacetSize keeps the most frequent values.
	res = search(t, ix, Query{Facets: []string{"provider_id"}, FacetSize: 2})
	wantProv := []FacetCount{{"p-rst", 4}, {"p-ybj", 2}}
	if !slices.Equal(res.Facets["provider_id"], wantProv) {
		t.Errorf("provider facet %v, want %v", res.Facets["provider_id"], wantProv)
	}

	// Unknown values match nothing; empty lists are ignored.
	res = search(t, ix, Query{Filters: map[string][]string{"region": {"火星"}, "format": nil}})
	if res.Total != 0 {
		t.Errorf("unknown value: total %d", res.Total)
	}
	res = search(t, ix, Query{Filters: map[string][]string{"format": {}}})
	if res.Total != uint64(len(entries)) {
		t.Errorf("empty filter: total %d", res.Total)
	}
}

func TestSortAndPaging(t *testing.T) {
	ix := filledIndex(t)
	byDay := slices.Clone(entries)
	slices.SortFunc(byDay, func(a, b entry) int { return b.day - a.day })
	var want []string
	for _, e := range byDay {
		want = append(want, e.id)
	}
	if got := search(t, ix, Query{Sort: "-updated_at", Limit: 100}).IDs; !slices.Equal(got, want) {
		t.Errorf("-updated_at: %v, want %v", got, want)
	}
	slices.Reverse(want)
	if got := search(t, ix, Query{Sort: "updated_at", Limit: 100}).IDs; !slices.Equal(got, want) {
		t.Errorf("updated_at: %v, want %v", got, want)
	}

	// Paging returns consecutive slices of the same order.
	var paged []string
	for off := 0; off < len(entries)+3; off += 4 {
		res := search(t, ix, Query{Sort: "updated_at", Offset: off, Limit: 4})
		if res.Total != uint64(len(entries)) {
			t.Fatalf("total %d", res.Total)
		}
		paged = append(paged, res.IDs...)
	}
	if !slices.Equal(paged, want) {
		t.Errorf("paged: %v, want %v", paged, want)
	}

	// Numbers, mixed numeric types.
	res := search(t, ix, Query{Sort: "-views", Limit: 3})
	if want := []string{"d06", "d02", "d04"}; !slices.Equal(res.IDs, want) {
		t.Errorf("-views: %v, want %v", res.IDs, want)
	}

	// Strings, with a text query.
	res = search(t, ix, Query{Q: "保险", Sort: "name", Limit: 100})
	var names []string
	for _, id := range res.IDs {
		names = append(names, entries[slices.IndexFunc(entries, func(e entry) bool { return e.id == id })].name)
	}
	if !slices.IsSorted(names) || len(names) != 5 {
		t.Errorf("name sort: %v", names)
	}

	// Ties (all documents equally relevant) are broken by ID.
	res = search(t, ix, Query{Limit: 100})
	if !slices.IsSorted(res.IDs) || len(res.IDs) != len(entries) {
		t.Errorf("relevance ties: %v", res.IDs)
	}
	// Missing values sort last.
	if err := ix.Upsert(Doc{ID: "a00", Text: map[string]string{"name": "无日期"}}); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"updated_at", "-updated_at"} {
		res = search(t, ix, Query{Sort: s, Limit: 100})
		if res.IDs[len(res.IDs)-1] != "a00" {
			t.Errorf("%s: missing value not last: %v", s, res.IDs)
		}
	}

	// Defaults and bounds.
	if res := search(t, ix, Query{Limit: -1}); len(res.IDs) != min(DefaultLimit, len(entries)+1) {
		t.Errorf("default limit: %d", len(res.IDs))
	}
	if res := search(t, ix, Query{Offset: 1 << 40}); len(res.IDs) != 0 || res.Total != uint64(len(entries)+1) {
		t.Errorf("huge offset: %d ids, total %d", len(res.IDs), res.Total)
	}
	if res := search(t, ix, Query{Offset: -5, Limit: 2}); !slices.Equal(res.IDs, []string{"a00", "d01"}) {
		t.Errorf("negative offset: %v", res.IDs)
	}
}

func TestUpsertDelete(t *testing.T) {
	ix := filledIndex(t)
	if n, _ := ix.Count(); n != uint64(len(entries)) {
		t.Fatalf("count %d", n)
	}
	// Replace: the old text no longer matches.
	e := entries[0]
	e.name, e.abstract = "吉林省户籍迁移信息", "户籍迁移记录。"
	if err := ix.Upsert(e.doc()); err != nil {
		t.Fatal(err)
	}
	if got := ids(t, ix, "户籍迁移"); !slices.Equal(got, []string{"d01"}) {
		t.Errorf("after update: %v", got)
	}
	// Sort orders follow updates too.
	if got := search(t, ix, Query{Sort: "name", Limit: 1}).IDs; !slices.Equal(got, []string{"d04"}) { // 不…
		t.Errorf("name order: %v", got)
	}
	e.name = "一网通办信息"
	if err := ix.Upsert(e.doc()); err != nil {
		t.Fatal(err)
	}
	if got := search(t, ix, Query{Sort: "name", Limit: 1}).IDs; !slices.Equal(got, []string{"d01"}) {
		t.Errorf("name order after update: %v", got)
	}
	e.name = "吉林省户籍迁移信息"
	if err := ix.Upsert(e.doc()); err != nil {
		t.Fatal(err)
	}
	if got := ids(t, ix, "户籍迁移"); !slices.Equal(got, []string{"d01"}) {
		t.Errorf("after update: %v", got)
	}
	if got := ids(t, ix, "常住人口"); len(got) != 0 {
		t.Errorf("old text still matches: %v", got)
	}
	if err := ix.Delete("d01", "d03", "nope"); err != nil {
		t.Fatal(err)
	}
	if n, _ := ix.Count(); n != uint64(len(entries)-2) {
		t.Errorf("count after delete %d", n)
	}
	if got := ids(t, ix, "shbx"); slices.Contains(got, "d03") {
		t.Errorf("deleted doc found: %v", got)
	}
	// Bad documents.
	if err := ix.Upsert(Doc{}); err == nil {
		t.Error("empty ID accepted")
	}
	if err := ix.Upsert(Doc{ID: "x", Keyword: map[string][]string{"nope": {"1"}}}); err == nil {
		t.Error("unknown field accepted")
	}
	if err := ix.Upsert(Doc{ID: "x", Sort: map[string]any{"views": []int{1}}}); err == nil {
		t.Error("bad sort value accepted")
	}
}

func TestCanceled(t *testing.T) {
	ix := filledIndex(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := ix.Search(ctx, Query{Q: "人口"}); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled search: %v", err)
	}
}

func TestHostileQueries(t *testing.T) {
	ix := filledIndex(t)
	queries := []string{
		`"`, `*`, `:`, `(`, `)`, `\`, `+-!~^`, `name:人口`, `"人口`, `人口*`, `人口~2`,
		`<script>alert("x")</script>`, `<b>人口</b>`, `'; DROP TABLE datasets; --`,
		`1' OR '1'='1`, `%00`, "\x00\xff\xfe", "人口\u200b信息", `a AND b OR NOT c`,
		`/.*/`, `[a TO z]`, `{}`, `\u0000`, "　", "🙂", "𠀀𠀁", "ㄅㄆ", "ひらがな",
		strings.Repeat("人口", 5000), strings.Repeat("a", 100000), strings.Repeat("a ", 10000),
		strings.Repeat("(", 1000), strings.Repeat("3/", 1000),
	}
	for _, q := range queries {
		for _, sort := range []string{"", "-updated_at"} {
			_, err := ix.Search(context.Background(), Query{Q: q, Sort: sort, Facets: []string{"region"}})
			if err != nil {
				t.Errorf("%.40q: %v", q, err)
			}
		}
	}
	// Pure punctuation means "no query".
	if res := search(t, ix, Query{Q: `"*:(`}); res.Total != uint64(len(entries)) {
		t.Errorf("punctuation query: total %d", res.Total)
	}
}

func TestInvalidQuery(t *testing.T) {
	ix := filledIndex(t)
	for _, q := range []Query{
		{Filters: map[string][]string{"nope": {"x"}}},
		{Facets: []string{"name"}},
		{Sort: "-nope"},
		{Sort: "abstract"},
	} {
		if _, err := ix.Search(context.Background(), q); !errors.Is(err, ErrInvalidQuery) {
			t.Errorf("%+v: err %v", q, err)
		}
	}
	if _, err := Open("", Schema{Keyword: []string{"a", "a"}}); err == nil {
		t.Error("duplicate field accepted")
	}
}

func TestPersistence(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "idx")
	ix, err := Open(dir, testSchema)
	if err != nil {
		t.Fatal(err)
	}
	if err := ix.Upsert(testDocs()...); err != nil {
		t.Fatal(err)
	}
	if err := ix.Delete("d02"); err != nil {
		t.Fatal(err)
	}
	size, err := ix.SizeBytes()
	if err != nil || size <= 0 {
		t.Errorf("size %d, %v", size, err)
	}
	if err := ix.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := ix.Search(context.Background(), Query{}); !errors.Is(err, ErrClosed) {
		t.Errorf("search after close: %v", err)
	}

	ix = openTest(t, dir)
	if n, _ := ix.Count(); n != uint64(len(entries)-1) {
		t.Errorf("count after reopen %d", n)
	}
	if got := ids(t, ix, "shbx"); len(got) == 0 || got[0] != "d03" {
		t.Errorf("search after reopen: %v", got)
	}
	res := search(t, ix, Query{Facets: []string{"region"}, Sort: "-updated_at", Limit: 1})
	if res.IDs[0] != "d06" || res.Facets["region"][0] != (FacetCount{"吉林省", 8}) {
		t.Errorf("after reopen: %+v", res)
	}
	ix.Close()

	// Another schema: the index starts empty.
	s := testSchema
	s.Keyword = append(slices.Clone(s.Keyword), "status")
	ix2, err := Open(dir, s)
	if err != nil {
		t.Fatal(err)
	}
	defer ix2.Close()
	if n, _ := ix2.Count(); n != 0 {
		t.Errorf("count with new schema %d", n)
	}
	if subs, _ := filepath.Glob(filepath.Join(dir, subPrefix+"*")); len(subs) != 1 {
		t.Errorf("index dirs: %v", subs)
	}
}

func TestRebuild(t *testing.T) {
	for _, disk := range []bool{false, true} {
		t.Run(fmt.Sprint("disk=", disk), func(t *testing.T) {
			dir := ""
			if disk {
				dir = t.TempDir()
			}
			ix := openTest(t, dir)
			if err := ix.Upsert(testDocs()[:3]...); err != nil {
				t.Fatal(err)
			}
			old := ix.cur.sub

			// A failing feed leaves the index alone.
			boom := errors.New("boom")
			err := ix.Rebuild(func(yield func(Doc) error) error {
				if err := yield(entries[5].doc()); err != nil {
					return err
				}
				return boom
			})
			if !errors.Is(err, boom) {
				t.Fatalf("rebuild error %v", err)
			}
			if n, _ := ix.Count(); n != 3 {
				t.Errorf("count after failed rebuild %d", n)
			}

			err = ix.Rebuild(func(yield func(Doc) error) error {
				for _, d := range testDocs()[3:] {
					if err := yield(d); err != nil {
						return err
					}
					// Searches keep using the old index meanwhile.
					if got := ids(t, ix, "shbx"); !slices.Equal(got, []string{"d03"}) {
						t.Errorf("during rebuild: %v", got)
					}
				}
				// Changes made during the rebuild are kept.
				if err := ix.Delete("d13"); err != nil {
					return err
				}
				return ix.Upsert(Doc{ID: "z01", Text: map[string]string{"name": "新增数据"}})
			})
			if err != nil {
				t.Fatal(err)
			}
			if n, _ := ix.Count(); n != uint64(len(entries)-3) {
				t.Errorf("count after rebuild %d", n)
			}
			if got := ids(t, ix, "shbx"); len(got) != 0 {
				t.Errorf("old docs after rebuild: %v", got)
			}
			if got := ids(t, ix, "新增"); !slices.Equal(got, []string{"z01"}) {
				t.Errorf("upsert during rebuild: %v", got)
			}
			if got := ids(t, ix, "gdp"); len(got) != 0 {
				t.Errorf("delete during rebuild: %v", got)
			}
			if !disk {
				return
			}
			if _, err := os.Stat(filepath.Join(dir, old)); !os.IsNotExist(err) {
				t.Errorf("old index dir still there: %v", err)
			}
			cur, _ := os.ReadFile(filepath.Join(dir, currentFile))
			if strings.TrimSpace(string(cur)) != ix.cur.sub {
				t.Errorf("CURRENT = %q, want %q", cur, ix.cur.sub)
			}
			ix.Close()
			ix2 := openTest(t, dir)
			if n, _ := ix2.Count(); n != uint64(len(entries)-3) {
				t.Errorf("count after reopen %d", n)
			}
		})
	}

	// The package-level Rebuild opens and fills a directory.
	dir := t.TempDir()
	ix, err := Rebuild(dir, testSchema, func(yield func(Doc) error) error {
		for _, d := range testDocs() {
			if err := yield(d); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	if got := ids(t, ix, "rk"); len(got) == 0 || got[0] != "d01" {
		t.Errorf("after Rebuild: %v", got)
	}
}

func TestConcurrent(t *testing.T) {
	ix := filledIndex(t)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 20 {
				if g == 0 {
					e := entries[i%len(entries)]
					if err := ix.Upsert(e.doc()); err != nil {
						t.Error(err)
					}
					continue
				}
				if got := ids(t, ix, "人口"); len(got) == 0 || got[0] != "d01" {
					t.Errorf("concurrent search: %v", got)
				}
			}
		})
	}
	wg.Go(func() {
		err := ix.Rebuild(func(yield func(Doc) error) error {
			for _, d := range testDocs() {
				if err := yield(d); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Error(err)
		}
	})
	wg.Wait()
	if n, _ := ix.Count(); n != uint64(len(entries)) {
		t.Errorf("count %d", n)
	}
}

func TestAnalysis(t *testing.T) {
	a := &textAnalysis{text: normalize("社会保险ＡＢＣ 3/001/002"), pinyin: true}
	a.run()
	var words, py []string
	for _, tok := range a.words {
		words = append(words, string(tok.Term))
	}
	for _, tok := range a.py {
		py = append(py, string(tok.Term))
	}
	for _, w := range []string{"社会", "保险", "社会保险", "社保", "abc", "3/001/002", "001"} {
		if !slices.Contains(words, w) {
			t.Errorf("words %v lack %q", words, w)
		}
	}
	for _, p := range []string{"shbx", "shehuibaoxian", "sh", "shehui"} {
		if !slices.Contains(py, p) {
			t.Errorf("pinyin %v lacks %q", py, p)
		}
	}
	chars := readings("长春")
	full, initials := combos(chars, fullSyllable), combos(chars, initial)
	if !slices.Contains(full, "changchun") || !slices.Contains(initials, "cc") {
		t.Errorf("长春: %v %v", full, initials)
	}
}

// TestPhraseRanksFirst: where the query's words occur as a phrase (登记机关,
// 企业登记), the document outranks those where they are scattered, even
// when the scattered words are in the heavier, shorter name field.
func TestPhraseRanksFirst(t *testing.T) {
	ix, err := Open("", testSchema)
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	long := "本数据包括企业名称、统一社会信用代码、法定代表人、住所、经营范围、成立日期、营业期限、核准日期等内容，按日更新。"
	var docs []Doc
	for i, name := range []string{"机关事业单位人员登记信息", "机关团体登记情况", "党政机关车辆登记信息", "机关单位不动产登记信息",
		"机关事业单位养老保险登记", "企业年度报告登记信息（机关填报）"} {
		docs = append(docs, Doc{ID: fmt.Sprintf("s%d", i), Text: map[string]string{"name": name, "abstract": long}})
	}
	for i, name := range []string{"企业年度报告信息", "市场主体公示信息", "个体工商户信息"} {
		docs = append(docs, Doc{ID: fmt.Sprintf("p%d", i), Text: map[string]string{"name": name,
			"abstract": long + "由登记机关依法公示。" + long}})
	}
	docs = append(docs,
		Doc{ID: "adj", Text: map[string]string{"name": "内资企业登记信息", "abstract": long}},
		Doc{ID: "far", Text: map[string]string{"name": "企业职工失业登记信息", "abstract": long}},
	)
	if err := ix.Upsert(docs...); err != nil {
		t.Fatal(err)
	}
	res, err := ix.Search(context.Background(), Query{Q: "登记机关"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Total != 9 || len(res.IDs) < 3 {
		t.Fatalf("登记机关: %d hits %v", res.Total, res.IDs)
	}
	if top := slices.Sorted(slices.Values(res.IDs[:3])); !slices.Equal(top, []string{"p0", "p1", "p2"}) {
		t.Errorf("登记机关: the phrase matches are not first: %v", res.IDs)
	}
	for _, q := range []string{"企业登记", "企业 登记"} {
		res, err = ix.Search(context.Background(), Query{Q: q})
		if err != nil || len(res.IDs) < 2 || res.IDs[0] != "adj" {
			t.Errorf("%s: the adjacent words are not first: %v %v", q, res.IDs, err)
		}
	}
}

// TestOrdersFollowSmallChanges: the sort orders kept up to date by small
// changes equal those computed from scratch.
func TestOrdersFollowSmallChanges(t *testing.T) {
	ix, err := Open("", testSchema)
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	mk := func(i, v int) Doc {
		return Doc{ID: fmt.Sprintf("d%03d", i), Text: map[string]string{"name": "文档"},
			Sort: map[string]any{"views": v % 7, "name": fmt.Sprintf("n%02d", v%13)}}
	}
	var docs []Doc
	for i := range 100 {
		docs = append(docs, mk(i, i))
	}
	if err := ix.Upsert(docs...); err != nil { // bulk: no orders yet
		t.Fatal(err)
	}
	ctx := context.Background()
	sorts := []string{"views", "-views", "name", "-name", ""}
	for _, s := range sorts {
		ix.Search(ctx, Query{Sort: s, Limit: 5}) // compute the orders
	}
	for step := range 60 {
		switch step % 3 {
		case 0:
			err = ix.Upsert(mk(step*7%120, step*5)) // changed or new
		case 1:
			err = ix.Delete(fmt.Sprintf("d%03d", step*11%100))
		default:
			err = ix.Upsert(mk(step, step+3), mk(step+1, step))
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	cols := ix.cur.cols
	for _, s := range sorts {
		name, desc := strings.CutPrefix(s, "-")
		ko := cols.order(name, desc)
		for i, o := range ko.ords {
			if ko.rank[o] != uint32(i) {
				t.Fatalf("order %q: rank of %d is %d, at %d", s, o, ko.rank[o], i)
			}
		}
		kept := slices.Clone(ko.ords)
		delete(cols.orders, orderKey{name, desc})
		fresh := cols.order(name, desc)
		if !slices.Equal(kept, fresh.ords) {
			t.Errorf("order %q: kept %v, fresh %v", s, kept[:10], fresh.ords[:10])
		}
		for i, o := range fresh.ords {
			if fresh.rank[o] != uint32(i) {
				t.Fatalf("order %q: bad rank", s)
			}
		}
	}
}

// TestTextCacheFollowsChanges: a cached text query, asked again after
// documents were added, changed and deleted (re-evaluating only the new
// segments), answers as a fresh index with the same documents does.
func TestTextCacheFollowsChanges(t *testing.T) {
	ctx := context.Background()
	ix, err := Open("", testSchema)
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	docs := map[string]Doc{}
	for _, e := range entries {
		docs[e.id] = e.doc()
	}
	upsert := func(ds ...Doc) {
		for _, d := range ds {
			docs[d.ID] = d
		}
		if err := ix.Upsert(ds...); err != nil {
			t.Fatal(err)
		}
	}
	upsert(slices.Collect(maps.Values(docs))...)
	queries := []string{"人口", "保险", "社会保险", "shbx", "登记信息"}
	for _, q := range queries {
		ix.Search(ctx, Query{Q: q})
	}
	upsert(Doc{ID: "n1", Text: map[string]string{"name": "流动人口居住登记信息", "abstract": "社会保险参保情况"}})
	d := docs["d01"]
	d.Text = map[string]string{"name": "吉林省法人基本信息"}
	upsert(d)
	if err := ix.Delete("d03"); err != nil {
		t.Fatal(err)
	}
	delete(docs, "d03")
	fresh, err := Open("", testSchema)
	if err != nil {
		t.Fatal(err)
	}
	defer fresh.Close()
	if err := fresh.Upsert(slices.Collect(maps.Values(docs))...); err != nil {
		t.Fatal(err)
	}
	for _, q := range queries {
		got, err1 := ix.Search(ctx, Query{Q: q})
		want, err2 := fresh.Search(ctx, Query{Q: q})
		if err1 != nil || err2 != nil || !slices.Equal(got.IDs, want.IDs) || got.Total != want.Total {
			t.Errorf("%s: after changes %v (%d), fresh %v (%d) %v %v", q, got.IDs, got.Total, want.IDs, want.Total, err1, err2)
		}
	}
}
