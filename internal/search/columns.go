package search

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/RoaringBitmap/roaring/v2"
)

// columns holds the keyword and sort values of all documents in memory.
// Filters, facets, counts and sorting run on roaring bitmaps and slices
// indexed by ordinal, which is much faster for large result sets than
// bleve's doc values. The values are persisted with each document in the
// bleve index (one stored field, see valuesField) and loaded by Open.
//
// columns is not synchronized; Index guards it.
type columns struct {
	ids     []string          // ID by ordinal
	ords    map[string]uint32 // ordinal by ID; ordinals are never reused
	alive   *roaring.Bitmap
	keyword map[string]*keywordColumn
	sort    map[string][]string  // field → key by ordinal; "" = none
	norm    map[string][]float32 // text field → 1/√length by ordinal
	version uint64               // incremented by every change

	// Orders are computed on first use and then kept in step with small
	// changes (see touch), so that a write does not cost the next search
	// a sort of every document; bulk changes drop them.
	orderMu sync.Mutex
	orders  map[orderKey]*order
	bulk    bool // set by Index.apply during a bulk change: touch does nothing
}

type orderKey struct {
	field string // "" = ID
	desc  bool
}

// order is an order of all ordinals (alive or not): by a sort field,
// missing values last, or by ID; ties by ID.
type order struct {
	ords []uint32 // in order
	rank []uint32 // position of each ordinal in ords
}

// keywordColumn holds the values of a keyword field: an inverted index
// (value → ordinals) for filters and facets over many documents, and a
// forward one (ordinal → values) for facets over few.
type keywordColumn struct {
	values []string          // by value number
	nums   map[string]uint32 // value number by value
	docs   []*roaring.Bitmap // ordinals by value number
	first  []uint32          // by ordinal: 1 + first value number (| hasMore), 0 = none
	more   [][]uint32        // by ordinal: further value numbers; nil until needed
}

const hasMore = 1 << 31 // flag in keywordColumn.first: see more

func (k *keywordColumn) add(o uint32, vals []string) {
	for _, v := range vals {
		n, ok := k.nums[v]
		if !ok {
			n = uint32(len(k.values))
			k.values = append(k.values, v)
			k.nums[v] = n
			k.docs = append(k.docs, roaring.New())
		}
		if !k.docs[n].CheckedAdd(o) {
			continue // repeated value
		}
		if k.first[o] == 0 {
			k.first[o] = n + 1
		} else {
			k.first[o] |= hasMore
			if len(k.more) < len(k.first) {
				k.more = slices.Grow(k.more, len(k.first)-len(k.more))[:len(k.first)]
			}
			k.more[o] = append(k.more[o], n)
		}
	}
}

func (k *keywordColumn) clear(o uint32) {
	if k.first[o] == 0 {
		return
	}
	k.docs[k.first[o]&^hasMore-1].Remove(o)
	if k.first[o]&hasMore != 0 {
		for _, n := range k.more[o] {
			k.docs[n].Remove(o)
		}
		k.more[o] = k.more[o][:0]
	}
	k.first[o] = 0
}

// count returns the number of documents of base per value number; all
// is the number of documents in the index.
func (k *keywordColumn) count(base *roaring.Bitmap, all uint64) []uint64 {
	counts := make([]uint64, len(k.values))
	// Iterating the documents is cheaper than intersecting bitmaps
	// unless base holds most documents and the field has few values.
	if base.GetCardinality() < all/2 || len(k.values) > 256 {
		buf := make([]uint32, 256)
		for it := base.ManyIterator(); ; {
			n := it.NextMany(buf)
			if n == 0 {
				return counts
			}
			for _, o := range buf[:n] {
				if f := k.first[o]; f != 0 {
					counts[f&^hasMore-1]++
					if f&hasMore != 0 {
						for _, v := range k.more[o] {
							counts[v]++
						}
					}
				}
			}
		}
	}
	for n, bm := range k.docs {
		counts[n] = base.AndCardinality(bm)
	}
	return counts
}

// values are the keyword, sort and length values of a document.
type values struct {
	Keyword map[string][]string
	Sort    map[string]string // see sortKey
	Length  map[string]uint16 // of text fields, in runes
}

const noOrd = math.MaxUint32

func newColumns(s Schema) *columns {
	c := &columns{
		ords:    make(map[string]uint32),
		alive:   roaring.New(),
		keyword: make(map[string]*keywordColumn),
		sort:    make(map[string][]string),
		norm:    make(map[string][]float32),
		orders:  make(map[orderKey]*order),
	}
	for _, f := range s.Text {
		c.norm[f.Name] = nil
	}
	for _, f := range s.Keyword {
		c.keyword[f] = &keywordColumn{nums: make(map[string]uint32)}
	}
	for _, f := range s.Sort {
		c.sort[f] = nil
	}
	return c
}

// insert returns the ordinal of a document, new or existing, marking it
// alive.
func (c *columns) insert(id string) uint32 {
	o, ok := c.ords[id]
	if !ok {
		o = uint32(len(c.ids))
		c.ids = append(c.ids, id)
		c.ords[id] = o
		for f, keys := range c.sort {
			c.sort[f] = append(keys, "")
		}
		for f, norms := range c.norm {
			c.norm[f] = append(norms, 1)
		}
		for _, k := range c.keyword {
			k.first = append(k.first, 0)
		}
	}
	c.alive.Add(o)
	c.version++
	return o
}

// set adds or replaces the values of a document.
func (c *columns) set(id string, v values) {
	if o, ok := c.ords[id]; ok {
		c.clear(o)
	}
	o := c.insert(id)
	for f, vals := range v.Keyword {
		c.keyword[f].add(o, vals)
	}
	for f, key := range v.Sort {
		c.sort[f][o] = key
	}
	for f, n := range v.Length {
		c.setLength(o, f, n)
	}
	c.touch(o)
}

func (c *columns) delete(id string) {
	if o, ok := c.ords[id]; ok && c.alive.Contains(o) {
		c.clear(o)
		c.alive.Remove(o)
		c.version++
		c.touch(o)
	}
}

// touch moves ordinal o, new or with changed values, to its place in
// every computed order: a binary search and a move of the entries in
// between, instead of a sort of all ordinals on the next search.
func (c *columns) touch(o uint32) {
	c.orderMu.Lock()
	defer c.orderMu.Unlock()
	if c.bulk {
		return
	}
	for key, ord := range c.orders {
		keys := c.sort[key.field]
		if int(o) >= len(ord.ords) { // a new ordinal, for now last
			ord.ords = append(ord.ords, o)
			ord.rank = append(ord.rank, uint32(len(ord.ords)-1))
		}
		pos := int(ord.rank[o])
		ord.ords = slices.Delete(ord.ords, pos, pos+1)
		i, _ := slices.BinarySearchFunc(ord.ords, o, func(a, b uint32) int { return c.compare(keys, key.desc, a, b) })
		ord.ords = slices.Insert(ord.ords, i, o)
		for j := min(pos, i); j <= max(pos, i); j++ {
			ord.rank[ord.ords[j]] = uint32(j)
		}
	}
}

// setBulk starts (true) or ends (false) a bulk change; its end drops the
// orders, to be recomputed when next needed.
func (c *columns) setBulk(bulk bool) {
	c.orderMu.Lock()
	defer c.orderMu.Unlock()
	c.bulk = bulk
	if !bulk {
		clear(c.orders)
	}
}

// compare orders ordinals by keys (nil: by ID), missing values last, ties
// by ID.
func (c *columns) compare(keys []string, desc bool, a, b uint32) int {
	if keys != nil && keys[a] != keys[b] {
		switch {
		case keys[a] == "": // missing values last
			return 1
		case keys[b] == "":
			return -1
		case desc:
			return strings.Compare(keys[b], keys[a])
		}
		return strings.Compare(keys[a], keys[b])
	}
	if r := strings.Compare(c.ids[a], c.ids[b]); r != 0 || a == b {
		return r
	}
	if a < b {
		return -1
	}
	return 1
}

// clear removes the values of ordinal o.
func (c *columns) clear(o uint32) {
	for _, k := range c.keyword {
		k.clear(o)
	}
	for _, keys := range c.sort {
		keys[o] = ""
	}
	for _, norms := range c.norm {
		norms[o] = 1
	}
}

func (c *columns) setLength(o uint32, field string, n uint16) {
	c.norm[field][o] = float32(1 / math.Sqrt(float64(max(n, 1))))
}

// order returns the order of the ordinals by a sort field ("" = ID),
// computing it on first use (touch keeps it up to date).
func (c *columns) order(field string, desc bool) *order {
	key := orderKey{field, desc}
	c.orderMu.Lock()
	defer c.orderMu.Unlock()
	if o := c.orders[key]; o != nil {
		return o
	}
	o := &order{ords: make([]uint32, len(c.ids)), rank: make([]uint32, len(c.ids))}
	for i := range o.ords {
		o.ords[i] = uint32(i)
	}
	keys := c.sort[field]
	slices.SortFunc(o.ords, func(a, b uint32) int { return c.compare(keys, desc, a, b) })
	for i, ord := range o.ords {
		o.rank[ord] = uint32(i)
	}
	c.orders[key] = o
	return o
}

// sortKey encodes a sort value as a string that compares like the value:
// strings as they are, numbers and times as 16 hex digits.
func sortKey(v any) (string, error) {
	var n float64
	switch v := v.(type) {
	case nil:
		return "", nil
	case string:
		return v, nil
	case time.Time:
		if v.IsZero() {
			return "", nil
		}
		n = float64(v.UnixNano())
	case int:
		n = float64(v)
	case int8:
		n = float64(v)
	case int16:
		n = float64(v)
	case int32:
		n = float64(v)
	case int64:
		n = float64(v)
	case uint:
		n = float64(v)
	case uint8:
		n = float64(v)
	case uint16:
		n = float64(v)
	case uint32:
		n = float64(v)
	case uint64:
		n = float64(v)
	case float32:
		n = float64(v)
	case float64:
		n = v
	default:
		return "", fmt.Errorf("unsupported sort value type %T", v)
	}
	if math.IsNaN(n) {
		return "", nil
	}
	// Flip the sign bit of positive numbers and all bits of negative
	// ones: the unsigned integers then order like the floats.
	b := math.Float64bits(n)
	if b>>63 == 0 {
		b |= 1 << 63
	} else {
		b = ^b
	}
	return fmt.Sprintf("%016x", b), nil
}

// topK keeps the k least items added, by less (a strict total order).
type topK[T any] struct {
	k    int
	less func(a, b T) bool
	heap []T // max-heap: the greatest kept item first
}

func (t *topK[T]) add(x T) {
	switch {
	case t.k <= 0:
	case len(t.heap) < t.k:
		t.heap = append(t.heap, x)
		for i := len(t.heap) - 1; i > 0; {
			p := (i - 1) / 2
			if !t.less(t.heap[p], t.heap[i]) {
				break
			}
			t.heap[p], t.heap[i] = t.heap[i], t.heap[p]
			i = p
		}
	case t.less(x, t.heap[0]):
		t.heap[0] = x
		for i, n := 0, len(t.heap); ; {
			m := 2*i + 1
			if m >= n {
				break
			}
			if r := m + 1; r < n && t.less(t.heap[m], t.heap[r]) {
				m = r
			}
			if !t.less(t.heap[i], t.heap[m]) {
				break
			}
			t.heap[i], t.heap[m] = t.heap[m], t.heap[i]
			i = m
		}
	}
}

// sorted returns the kept items in order.
func (t *topK[T]) sorted() []T {
	slices.SortFunc(t.heap, func(a, b T) int {
		switch {
		case t.less(a, b):
			return -1
		case t.less(b, a):
			return 1
		}
		return 0
	})
	return t.heap
}
