package bench

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"xiangyun/internal/db/dbtest"
)

// TestBenchIngest runs the ingest benchmark on tiny files on every backend:
// every path must have handled every row, the invalid rows must have been
// rejected by ingest alone, and the report must name each path. It checks
// no timings: those belong to docs/BENCHMARKS.md.
func TestBenchIngest(t *testing.T) {
	for dialect, dsn := range dbtest.TestDSNs(t) {
		t.Run(string(dialect), func(t *testing.T) {
			o := DefaultIngestOptions()
			o.Rows, o.Small, o.Bad = 600, 200, 0.05
			if dialect == "postgres" {
				o.PG, o.NoSQLite = dsn(t), true
			}
			var log bytes.Buffer
			rep, err := Ingest(context.Background(), o, &log)
			if err != nil {
				t.Fatalf("%v\n%s", err, log.String())
			}
			paths := map[string]int{}
			for _, c := range rep.Cases {
				paths[c.Path]++
				switch c.Path {
				case "raw":
					if c.Accepted != int64(c.Rows) {
						t.Errorf("raw %d rows: inserted %d", c.Rows, c.Accepted)
					}
				case "ingest":
					if c.Accepted+c.Rejected != int64(c.Rows) || c.Rejected == 0 || c.Status != "published" {
						t.Errorf("ingest %d rows (%s): accepted %d, rejected %d, %s", c.Rows, c.Encoding, c.Accepted, c.Rejected, c.Status)
					}
				case "export", "select":
					if c.Rows != 600-int(rep.rejected(600)) {
						t.Errorf("%s: %d rows", c.Path, c.Rows)
					}
				}
				if c.Time <= 0 || c.PeakRSS <= 0 {
					t.Errorf("%s: time %s, peak %d", c.Path, c.Time, c.PeakRSS)
				}
			}
			if paths["raw"] != 2 || paths["ingest"] != 4 || paths["export"] != 1 || paths["select"] != 1 {
				t.Errorf("cases: %v", paths)
			}
			var out bytes.Buffer
			rep.Markdown(&out)
			for _, want := range []string{"| ingest | GBK | 600 |", "| raw | UTF-8 | 200 |", "| export | ", "× raw SELECT"} {
				if !strings.Contains(out.String(), want) {
					t.Errorf("report lacks %q:\n%s", want, out.String())
				}
			}
		})
	}
}
