package catalog

import (
	"os"
	"strconv"
	"testing"

	"xiangyun/internal/db/dbtest"
	"xiangyun/internal/org"
)

// BenchmarkSearch searches a catalog of XIANGYUN_BENCH_ENTRIES (default
// 3,000) demo entries as a department user, with all facets, on SQLite.
func BenchmarkSearch(b *testing.B) {
	n := 3000
	if v, err := strconv.Atoi(os.Getenv("XIANGYUN_BENCH_ENTRIES")); err == nil && v > 0 {
		n = v
	}
	f := newFixture(b, dbtest.TestDSNs(b)["sqlite"](b))
	bodies := []org.Body{f.bodies["bureau"], f.bodies["police"], f.bodies["market"], f.bodies["hrss"], f.bodies["city"]}
	for start := 0; start < n; start += 5000 {
		ins := make([]EntryInput, 0, 5000)
		for i := start; i < min(start+5000, n); i++ {
			ins = append(ins, DemoEntry(bodies, 1, i))
		}
		if _, err := f.s.CreatePublished(f.ctx, System, ins, ""); err != nil {
			b.Fatal(err)
		}
	}
	queries := []SearchQuery{{Q: "人口"}, {Q: "shbx"}, {}, {Q: "登记", Filters: map[string][]string{"grade": {"L1", "L2"}}}, {Sort: "name", Offset: 500}}
	for i := 0; b.Loop(); i++ {
		if _, err := f.s.Search(f.ctx, f.p["market_cdo"], queries[i%len(queries)]); err != nil {
			b.Fatal(err)
		}
	}
}
