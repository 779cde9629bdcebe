package search

import (
	"context"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzQuery feeds arbitrary user text to the query parser and to a search
// over a small index: no input may panic, the parser keeps its bounds, and
// every answer stays within the index.
func FuzzQuery(f *testing.F) {
	for _, s := range []string{"", "人口", "登记机关", "2023年 GDP", "shbx", "JSZH", "  \t\n", "\"引号\" OR 1=1 --",
		"<script>", strings.Repeat("人", 500), "\xff\xfe", "ａｂｃ　全角", "企业登记 不动产 -医疗"} {
		f.Add(s)
	}
	ix := filledIndex(f)
	f.Fuzz(func(t *testing.T, q string) {
		atoms := parseQuery(q)
		if len(atoms) > maxTerms {
			t.Fatalf("%d atoms, more than %d", len(atoms), maxTerms)
		}
		for _, a := range atoms {
			if a.text == "" || !utf8.ValidString(a.text) {
				t.Fatalf("bad atom %q from %q", a.text, q)
			}
		}
		res, err := ix.Search(context.Background(), Query{Q: q, Facets: []string{"provider_id"}, Limit: 5})
		if err != nil {
			return // refusing a query is fine; panicking or returning garbage is not
		}
		if res.Total > uint64(len(entries)) || len(res.IDs) > 5 || uint64(len(res.IDs)) > res.Total {
			t.Fatalf("query %q: total %d, %d ids", q, res.Total, len(res.IDs))
		}
	})
}
