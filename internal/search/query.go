package search

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/blevesearch/bleve/v2/index/scorch"
)

const (
	maxQueryRunes = 256 // longer queries are truncated
	maxTerms      = 12  // further query terms are ignored
	cacheSize     = 16  // text query results kept per index
)

// Search runs a query. Hostile input in Q (quotes, operators, markup,
// very long strings) is treated as text; only unknown field names in
// Filters, Facets or Sort are errors (wrapping ErrInvalidQuery).
func (ix *Index) Search(ctx context.Context, q Query) (Result, error) {
	start := time.Now()
	if err := ix.check(q); err != nil {
		return Result{}, err
	}
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	if ix.closed {
		return Result{}, ErrClosed
	}
	g := ix.cur
	cols := g.cols

	// Documents matching Q: hits with scores, and their set.
	var th *textHits
	matched := cols.alive
	if atoms := parseQuery(q.Q); len(atoms) > 0 {
		var err error
		th, err = ix.textSearch(ctx, g, atoms, q.Q, q.Sort == "")
		if err != nil {
			return Result{}, err
		}
		matched = roaring.And(th.set, cols.alive)
	}

	// Filters: OR within a field, AND across fields.
	filters := make(map[string]*roaring.Bitmap)
	for f, vals := range q.Filters {
		if len(vals) == 0 {
			continue
		}
		var bms []*roaring.Bitmap
		k := cols.keyword[f]
		for _, v := range vals {
			if n, ok := k.nums[v]; ok {
				bms = append(bms, k.docs[n])
			}
		}
		filters[f] = roaring.FastOr(bms...)
	}
	filtered := func(skip string) *roaring.Bitmap {
		bm := matched
		for f, fb := range filters {
			if f != skip {
				bm = roaring.And(bm, fb)
			}
		}
		return bm
	}
	all := filtered("")
	res := Result{Total: all.GetCardinality()}

	if len(q.Facets) > 0 {
		size := q.FacetSize
		if size <= 0 {
			size = DefaultFacetSize
		}
		res.Facets = make(map[string][]FacetCount, len(q.Facets))
		for _, f := range q.Facets {
			base := all
			if filters[f] != nil {
				base = filtered(f)
			}
			res.Facets[f] = facetCounts(cols, base, f, size)
		}
	}

	limit := q.Limit
	if limit <= 0 {
		limit = DefaultLimit
	}
	limit = min(limit, MaxLimit)
	offset := max(q.Offset, 0)
	if offset+limit > MaxWindow || uint64(offset) >= res.Total {
		res.IDs = []string{}
		res.Took = time.Since(start)
		return res, nil
	}
	ords := ix.page(cols, th, all, q.Sort, offset+limit)
	res.IDs = make([]string, 0, limit)
	for _, o := range ords[min(offset, len(ords)):] {
		res.IDs = append(res.IDs, cols.ids[o])
	}
	res.Took = time.Since(start)
	return res, nil
}

// check reports unknown fields in q.
func (ix *Index) check(q Query) error {
	for f := range q.Filters {
		if !ix.keyword[f] {
			return fmt.Errorf("%w: unknown filter field %q", ErrInvalidQuery, f)
		}
	}
	for _, f := range q.Facets {
		if !ix.keyword[f] {
			return fmt.Errorf("%w: unknown facet field %q", ErrInvalidQuery, f)
		}
	}
	if name := strings.TrimPrefix(q.Sort, "-"); q.Sort != "" && !ix.sort[name] {
		return fmt.Errorf("%w: unknown sort field %q", ErrInvalidQuery, name)
	}
	return nil
}

// facetCounts counts the documents of base per value of a keyword
// field, most frequent first (ties by value), at most size values. The
// size most frequent are selected with a heap: a field like the provider
// has thousands of values, of which a page shows twenty.
func facetCounts(cols *columns, base *roaring.Bitmap, field string, size int) []FacetCount {
	if base.IsEmpty() {
		return []FacetCount{}
	}
	k := cols.keyword[field]
	var counts []uint64
	if base == cols.alive || base.GetCardinality() == cols.alive.GetCardinality() {
		// Everything: the value bitmaps hold live documents only.
		counts = make([]uint64, len(k.values))
		for n, bm := range k.docs {
			counts[n] = bm.GetCardinality()
		}
	} else {
		counts = k.count(base, cols.alive.GetCardinality())
	}
	top := topK[FacetCount]{k: size, less: func(a, b FacetCount) bool {
		if a.Count != b.Count {
			return a.Count > b.Count
		}
		return a.Value < b.Value
	}}
	for n, c := range counts {
		if c > 0 && (len(top.heap) < size || int(c) >= top.heap[0].Count) {
			top.add(FacetCount{Value: k.values[n], Count: int(c)})
		}
	}
	return append([]FacetCount{}, top.sorted()...)
}

// page returns the first k ordinals of set in the requested order.
func (ix *Index) page(cols *columns, th *textHits, set *roaring.Bitmap, sortBy string, k int) []uint32 {
	if sortBy == "" && th != nil {
		byID := cols.order("", false).rank
		top := topK[hit]{k: k, less: func(a, b hit) bool {
			if a.score != b.score {
				return a.score > b.score
			}
			return byID[a.ord] < byID[b.ord]
		}}
		every := set.GetCardinality() == uint64(len(th.hits)) // no filter
		for _, h := range th.hits {
			if every || set.Contains(h.ord) {
				top.add(h)
			}
		}
		out := make([]uint32, 0, k)
		for _, h := range top.sorted() {
			out = append(out, h.ord)
		}
		return out
	}

	name, desc := strings.CutPrefix(sortBy, "-")
	o := cols.order(name, desc)
	// Walk the order when set is dense, else sort set.
	if n := set.GetCardinality(); n*32 >= uint64(len(o.ords)) {
		out := make([]uint32, 0, min(uint64(k), n))
		for _, ord := range o.ords {
			if len(out) == k {
				break
			}
			if set.Contains(ord) {
				out = append(out, ord)
			}
		}
		return out
	}
	top := topK[uint32]{k: k, less: func(a, b uint32) bool { return o.rank[a] < o.rank[b] }}
	set.Iterate(func(ord uint32) bool {
		top.add(ord)
		return true
	})
	return top.sorted()
}

// hit is a document matching a text query.
type hit struct {
	ord   uint32
	score float32
}

// textHits are the documents matching a text query.
type textHits struct {
	version uint64 // of the columns when computed
	hits    []hit  // scores are zero unless scored
	set     *roaring.Bitmap
	segs    map[uint64]segMatch // by segment, for the next evaluation after a change
}

type cacheKey struct {
	q      string
	scored bool
}

// textSearch returns the documents matching the atoms of a user query,
// from the cache of g if the index did not change since. The caller
// holds ix.mu (read).
func (ix *Index) textSearch(ctx context.Context, g *generation, atoms []atom, q string, scored bool) (*textHits, error) {
	key := cacheKey{normalize(q), scored}
	g.cacheMu.Lock()
	th := g.cache[key]
	g.cacheMu.Unlock()
	if th != nil && th.version == g.cols.version {
		return th, nil
	}
	// After a change only the segments new since are evaluated.
	var prev map[uint64]segMatch
	if th != nil {
		prev = th.segs
	}
	hits, segs, err := g.hits(ctx, ix.plan(atoms, q), scored, prev)
	if err != nil {
		return nil, err
	}
	ords := make([]uint32, len(hits))
	for i, h := range hits {
		ords[i] = h.ord
	}
	th = &textHits{version: g.cols.version, hits: hits, set: roaring.New(), segs: segs}
	th.set.AddMany(ords)

	g.cacheMu.Lock()
	if len(g.cache) >= cacheSize {
		clear(g.cache)
	}
	g.cache[key] = th
	g.cacheMu.Unlock()
	return th, nil
}

// segmentOrds returns the ordinals of the documents of segs[i] by local
// doc number. Segments are immutable, so the mapping is computed once
// per segment. The caller holds ix.mu (read).
func (g *generation) segmentOrds(segs []*scorch.SegmentSnapshot, i int) []uint32 {
	id := segs[i].Id()
	g.segMu.Lock()
	ords, ok := g.segs[id]
	g.segMu.Unlock()
	if ok {
		return ords
	}
	ords = make([]uint32, segs[i].Segment().Count())
	for num := range ords {
		ords[num] = noOrd
		if docID, err := segs[i].DocID(uint64(num)); err == nil {
			if o, ok := g.cols.ords[string(docID)]; ok {
				ords[num] = o
			}
		}
	}
	g.segMu.Lock()
	defer g.segMu.Unlock()
	// Forget merged-away segments.
	live := make(map[uint64]bool, len(segs))
	for _, ss := range segs {
		live[ss.Id()] = true
	}
	for sid := range g.segs {
		if !live[sid] {
			delete(g.segs, sid)
		}
	}
	g.segs[id] = ords
	return ords
}

// atom is a unit of a user query that must match: a run of Han
// characters, or a chunk of other characters (ASCII words, pinyin,
// codes).
type atom struct {
	text string
	han  bool
}

// parseQuery normalizes a user query and splits it into atoms: white
// space separates terms, and a term mixing Han and other characters
// ("2023年") becomes one atom per run.
func parseQuery(q string) []atom {
	if utf8.RuneCountInString(q) > maxQueryRunes {
		q = string([]rune(q)[:maxQueryRunes])
	}
	var atoms []atom
	splitRuns(normalize(q), func(run string, han bool) {
		if !han {
			run = trimPunct(run)
		}
		a := atom{run, han}
		if run != "" && !slices.Contains(atoms, a) && len(atoms) < maxTerms {
			atoms = append(atoms, a)
		}
	})
	return atoms
}
