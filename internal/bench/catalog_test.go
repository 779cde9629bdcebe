package bench

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"xiangyun/internal/db/dbtest"
	"xiangyun/internal/ident"
)

// TestBenchCatalog runs the catalog benchmark on a tiny catalog on every
// backend: the report must hold sane numbers, and the paths must agree on
// the totals. It checks no timings: those belong to docs/BENCHMARKS.md.
func TestBenchCatalog(t *testing.T) {
	for dialect, dsn := range dbtest.TestDSNs(t) {
		t.Run(string(dialect), func(t *testing.T) {
			o := DefaultOptions()
			o.DB = dsn(t)
			o.Entries, o.Bodies, o.Batch, o.Reps, o.Budget = 300, 120, 100, 3, time.Minute
			o.Clients, o.Load, o.Trickle, o.TrickleReps = 2, 300*time.Millisecond, 20, 2
			trickleMin = 0
			var log bytes.Buffer
			rep, err := Catalog(context.Background(), o, &log)
			if err != nil {
				t.Fatalf("%v\n%s", err, log.String())
			}
			if rep.Bodies != 120 || rep.DemoEntries == 0 || rep.IndexDocs != uint64(o.Entries+rep.DemoEntries) {
				t.Errorf("bodies %d, demo entries %d, index documents %d", rep.Bodies, rep.DemoEntries, rep.IndexDocs)
			}
			if rep.Load <= 0 || rep.Rebuild <= 0 || rep.SizeAfter <= 0 || rep.SizeAfterLoad <= 0 || rep.Heap == 0 {
				t.Errorf("load %s, rebuild %s, index %d bytes (%d after the load), heap %d", rep.Load, rep.Rebuild, rep.SizeAfter, rep.SizeAfterLoad, rep.Heap)
			}
			if rep.Peer == nil || uint64(rep.Peer.Docs) != rep.IndexDocs || rep.Peer.Build <= 0 || rep.Peer.Size <= 0 {
				t.Errorf("peer %+v", rep.Peer)
			}
			if rep.Compared == 0 || len(rep.Diffs) > 0 {
				t.Errorf("%d pages compared; differences: %v", rep.Compared, rep.Diffs)
			}
			if rep.API.Requests == 0 || rep.Bare.Requests == 0 || len(rep.API.Lat) != rep.API.Requests {
				t.Errorf("throughput: API %d, bare %d requests", rep.API.Requests, rep.Bare.Requests)
			}
			if len(rep.Trickle) == 0 || len(rep.Trickle[0].API) < o.TrickleReps || len(rep.Trickle[0].Idx) != len(rep.Trickle[0].API) {
				t.Errorf("trickle: %d rows", len(rep.Trickle))
			}
			if len(rep.Rows) != len(benchQueries) {
				t.Fatalf("%d rows for %d queries", len(rep.Rows), len(benchQueries))
			}
			for _, row := range rep.Rows {
				for _, path := range benchPaths {
					ds := row.Lat[path]
					if len(ds) != o.Reps {
						t.Errorf("%s on %s: %d runs, want %d", row.Query.Label, path, len(ds), o.Reps)
					}
					for _, d := range ds {
						if d <= 0 {
							t.Errorf("%s on %s: run took %s", row.Query.Label, path, d)
						}
					}
				}
				for _, m := range row.mismatches() {
					t.Errorf("totals differ: %s", m)
				}
				if row.Query.Q == "" && row.Query.Filters == nil && row.Total[pathAPI] == 0 {
					t.Errorf("%s: no hits", row.Query.Label)
				}
			}
			var out bytes.Buffer
			rep.Markdown(&out)
			md := out.String()
			for _, want := range []string{"| query | hits | API (HTTP) | service | index | ", "| LIKE scan | API ÷ index p50 / p95 |", "requests/s", "under writes", "| index rebuild |", "Totals: the API, the service and the index agree"} {
				if !strings.Contains(md, want) {
					t.Errorf("report lacks %q:\n%s", want, md)
				}
			}
		})
	}
}

// TestBenchBodies checks the generated bodies: valid credit codes, unique
// names and codes, as many as the default run needs.
func TestBenchBodies(t *testing.T) {
	names, codes := map[string]bool{}, map[string]bool{}
	for x := range DefaultOptions().Bodies {
		b := benchBody(x)
		if err := ident.CreditCode(b.CreditCode); err != nil {
			t.Fatalf("body %d %s: credit code %s: %v", x, b.Name, b.CreditCode, err)
		}
		if names[b.Name] || codes[b.CreditCode] {
			t.Fatalf("body %d: duplicate name %s or code %s", x, b.Name, b.CreditCode)
		}
		names[b.Name], codes[b.CreditCode] = true, true
		if n := len([]rune(b.Name)); n < 2 || n > 100 {
			t.Fatalf("body %d: name %q", x, b.Name)
		}
	}
}
