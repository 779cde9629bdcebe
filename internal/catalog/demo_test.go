package catalog

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"xiangyun/internal/org"
)

func TestDemoDictionary(t *testing.T) {
	en := map[string]string{}
	for _, it := range demoItems {
		if prev, dup := en[strings.ToLower(it.EnName)]; dup {
			t.Errorf("English name %s of %s and %s", it.EnName, it.Name, prev)
		}
		en[strings.ToLower(it.EnName)] = it.Name
	}
	for _, n := range demoPad {
		if _, ok := demoItems[n]; !ok {
			t.Errorf("pad item %s not in the dictionary", n)
		}
	}
	for _, d := range demoDepts {
		for _, tpl := range d.tpls {
			for _, n := range strings.Fields(tpl.items) {
				if _, ok := demoItems[strings.TrimPrefix(n, "*")]; !ok {
					t.Errorf("%s: item %s not in the dictionary", tpl.name, n)
				}
			}
		}
	}
}

func TestDemoEntries(t *testing.T) {
	eachDB(t, func(t *testing.T, f *fixture) {
		bodies := []org.Body{f.bodies["bureau"], f.bodies["police"], f.bodies["market"], f.bodies["hrss"], f.bodies["city"]}
		for i, name := range []string{"吉林省卫生健康委员会", "吉林省教育厅", "吉林省民政厅", "吉林省自然资源厅", "吉林省住房和城乡建设厅",
			"吉林省交通运输厅", "国家税务总局吉林省税务局", "吉林省医疗保障局", "吉林省不动产登记中心", "吉林省统计局", "吉林省生态环境厅",
			"吉林省司法厅", "吉林省农业农村厅", "吉林省文化和旅游厅", "吉林省应急管理厅", "吉林省发展和改革委员会", "吉林省退役军人事务厅",
			"吉林省财政厅"} {
			b, err := f.orgs.CreateBody(f.ctx, org.BodyInput{Name: name, CreditCode: creditCode("11", "220000", 100+i), Kind: org.KindAgency, RegionCode: "220000"})
			if err != nil {
				t.Fatal(err)
			}
			bodies = append(bodies, b)
		}
		b, err := f.orgs.CreateBody(f.ctx, org.BodyInput{Name: "国网吉林省电力有限公司", CreditCode: creditCode("91", "220000", 200), Kind: org.KindUtility, Sector: "power", RegionCode: "220000"})
		if err != nil {
			t.Fatal(err)
		}
		bodies = append(bodies, b)

		const n = 400
		ins := DemoEntries(bodies, n, 42)
		if again := DemoEntries(bodies, n, 42); !reflect.DeepEqual(ins, again) {
			t.Fatal("not deterministic")
		}
		if other := DemoEntries(bodies, 10, 43); reflect.DeepEqual(ins[:10], other) {
			t.Error("the seed changes nothing")
		}
		if DemoEntry(bodies, 42, 300).Name != ins[300].Name {
			t.Error("DemoEntry differs from DemoEntries")
		}
		seen := map[string]map[string]bool{"share": {}, "open": {}, "grade": {}, "format": {}, "attribute": {}}
		names := map[string]bool{}
		for _, in := range ins {
			if len(in.Items) < 5 || len(in.Items) > 40 {
				t.Errorf("%s: %d items", in.Name, len(in.Items))
			}
			seen["share"][in.ShareType] = true
			seen["open"][in.OpenType] = true
			seen["grade"][in.Grade] = true
			seen["format"][in.FormatClass] = true
			seen["attribute"][in.Class[:1]] = true
			names[in.Name] = true
		}
		for k, want := range map[string]int{"share": 3, "open": 3, "grade": 4, "attribute": 3} {
			if len(seen[k]) != want {
				t.Errorf("%s values: %v", k, seen[k])
			}
		}
		if len(seen["format"]) < 4 || len(names) < n*9/10 {
			t.Errorf("too little variety: %d formats, %d names", len(seen["format"]), len(names))
		}
		// Every generated entry passes the rules: the batch is all or nothing.
		if _, err := f.s.CreatePublished(f.ctx, f.p["reviewer"], ins, ""); err == nil {
			t.Fatal("a reviewer loaded published entries")
		}
		es, err := f.s.CreatePublished(f.ctx, System, ins, "历史目录迁移")
		if err != nil {
			t.Fatal(err)
		}
		if es[0].Status != StatusPublished || es[0].PublishedAt == nil {
			t.Errorf("loaded: %+v", es[0])
		}
		if res, _ := f.s.Search(f.ctx, f.p["market_cdo"], SearchQuery{}); res.Total != n {
			t.Errorf("searchable: %d", res.Total)
		}
		st, err := f.s.Stats(f.ctx)
		if err != nil {
			t.Fatal(err)
		}
		if st.Published != n || len(st.ByProvider) != TopProviders || len(st.ByGrade) != 4 || st.Negative == 0 || len(st.ByMonth) != 1 ||
			st.ByMonth[0].Total != n {
			t.Errorf("stats: %+v", st)
		}

		start := time.Now()
		DemoEntries(bodies, 20000, 1)
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("20,000 demo entries took %v", d)
		}
	})
}

func TestStats(t *testing.T) {
	eachDB(t, func(t *testing.T, f *fixture) {
		searchSet(t, f)
		f.advance(40 * 24 * time.Hour)
		e := f.create("market_cdo", f.input("market", "食品经营许可信息"))
		f.publish(e.ID)
		if _, err := f.s.Submit(f.ctx, f.p["police_cdo"], f.mustCode("1/01/003/000001"), ""); err != nil {
			t.Fatal(err)
		}
		st, err := f.s.Stats(f.ctx)
		if err != nil {
			t.Fatal(err)
		}
		count := func(cs []Count, key string) int {
			for _, c := range cs {
				if c.Key == key {
					return c.Count
				}
			}
			return -1
		}
		if st.Entries != 13 || st.Published != 12 || st.Supplementary != 2 || st.Pending != 1 || st.Negative != 1 {
			t.Errorf("totals: %+v", st)
		}
		if count(st.ByShareType, "none") != 1 || count(st.ByOpenType, "unconditional") != 2 || count(st.ByGrade, "L3") != 8 ||
			count(st.ByStatus, "submitted") != 1 || count(st.ByAttribute, "1") != 6 || st.ByAttribute[0].Label != "基础" {
			t.Errorf("breakdowns: %+v", st)
		}
		if st.ByProvider[0].Count != 3 || st.ByProvider[0].Label != "吉林省公安厅" || len(st.ByProvider) != 5 {
			t.Errorf("providers: %+v", st.ByProvider)
		}
		if len(st.ByMonth) != 2 || st.ByMonth[0] != (MonthCount{"2026-03", 11, 11}) || st.ByMonth[1] != (MonthCount{"2026-04", 1, 12}) {
			t.Errorf("growth: %+v", st.ByMonth)
		}
	})
}

func (f *fixture) mustCode(code string) int64 {
	f.t.Helper()
	e, err := f.s.GetByCode(f.ctx, System, code)
	if err != nil {
		f.t.Fatal(err)
	}
	return e.ID
}
