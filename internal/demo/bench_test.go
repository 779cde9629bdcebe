package demo

import (
	"context"
	"os"
	"strconv"
	"testing"

	"xiangyun/internal/auth"
	"xiangyun/internal/catalog"
	"xiangyun/internal/db/dbtest"
	"xiangyun/internal/org"
)

// BenchmarkSearch searches a catalog of XIANGYUN_BENCH_ENTRIES (default
// 3,000) demo entries with all facets, on SQLite. (It moved here from the
// catalog package with the demo generator.)
func BenchmarkSearch(b *testing.B) {
	n := 3000
	if v, err := strconv.Atoi(os.Getenv("XIANGYUN_BENCH_ENTRIES")); err == nil && v > 0 {
		n = v
	}
	ctx := context.Background()
	store := dbtest.Open(b, dbtest.TestDSNs(b)["sqlite"](b), "control")
	orgs, err := org.Open(ctx, store)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := orgs.CreateRegion(ctx, org.Region{Code: "220000", Name: "吉林省"}); err != nil {
		b.Fatal(err)
	}
	var bodies []org.Body
	for i, name := range []string{"吉林省公安厅", "吉林省市场监督管理厅", "吉林省人力资源和社会保障厅", "吉林省卫生健康委员会", "吉林省民政厅"} {
		body, err := orgs.CreateBody(ctx, org.BodyInput{Name: name, CreditCode: creditCode("11", "220000", i+1), Kind: org.KindAgency, RegionCode: "220000"})
		if err != nil {
			b.Fatal(err)
		}
		bodies = append(bodies, body)
	}
	s, err := catalog.Open(ctx, store, orgs, catalog.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	for start := 0; start < n; start += 5000 {
		ins := make([]catalog.EntryInput, 0, 5000)
		for i := start; i < min(start+5000, n); i++ {
			ins = append(ins, Entry(bodies, 1, i))
		}
		if _, err := s.CreatePublished(ctx, catalog.System, ins, ""); err != nil {
			b.Fatal(err)
		}
	}
	p := &auth.Principal{User: auth.User{ID: 1, Username: "reader"}}
	queries := []catalog.SearchQuery{{Q: "人口"}, {Q: "shbx"}, {}, {Q: "登记", Filters: map[string][]string{"grade": {"L1", "L2"}}}, {Sort: "name", Offset: 500}}
	for i := 0; b.Loop(); i++ {
		if _, err := s.Search(ctx, p, queries[i%len(queries)]); err != nil {
			b.Fatal(err)
		}
	}
}
