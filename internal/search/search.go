// Package search is a full-text index for Chinese text with filters,
// facets and sorting, built on bleve's scorch index.
//
// The caller describes its documents with a Schema: text fields are
// searched (Chinese words, CJK bigrams, pinyin; see analysis.go),
// keyword fields are filtered and faceted, sort fields order results.
// The index stores nothing but document IDs: the caller loads the
// records for the returned IDs from its own database.
//
// Bleve analyzes, persists and merges the index; queries are evaluated
// on the postings of its segments as roaring bitmaps (eval.go), and
// filters, facets and sorting run on in-memory columns (columns.go).
// This keeps a search a few milliseconds even when it matches most of
// 150,000 documents, where bleve's own collector takes tens.
//
// An Index is safe for concurrent use.
package search

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/document"
	"github.com/blevesearch/bleve/v2/index/scorch"
	index "github.com/blevesearch/bleve_index_api"
)

// TextField is a full-text field.
type TextField struct {
	Name string
	// Boost weighs matches in this field against the other text fields;
	// zero or less means 1.
	Boost float64
	// NoPinyin leaves the field out of pinyin search (initials like
	// "shbx" and full pinyin like "shehuibaoxian"); useful for long
	// descriptions, where pinyin mostly adds noise and index size.
	NoPinyin bool
}

// Schema lists the fields of the documents. Names must be unique within
// each list; a name may appear in several lists (e.g. "name" as text and
// as sort field).
type Schema struct {
	Text    []TextField // searched by Query.Q
	Keyword []string    // exact values, for Query.Filters and Query.Facets
	Sort    []string    // for Query.Sort
}

// Doc is a document to index. Every key of its maps must be a field of
// the Schema of the matching kind; fields may be missing.
type Doc struct {
	ID      string
	Text    map[string]string
	Keyword map[string][]string // multi-valued; values are matched verbatim
	// Sort values are strings, time.Time or numbers (any int, uint or
	// float type); use the same type for a field in all documents.
	Sort map[string]any
}

// Query is a search request.
type Query struct {
	// Q is the user's query: white-space separated terms that must all
	// match. Empty (or without any letter or digit) matches everything.
	Q string
	// Filters restricts results to documents having, for every listed
	// keyword field, at least one of the values (OR within a field, AND
	// across fields). Fields with an empty list are ignored.
	Filters map[string][]string
	// Facets lists keyword fields to count values of. The counts of a
	// field reflect Q and the filters on all other fields, but not the
	// field's own filter, so that a UI can offer its alternatives.
	Facets []string
	// FacetSize is the number of most frequent values returned per
	// facet; zero or less means DefaultFacetSize.
	FacetSize int
	// Sort is a sort field, with a "-" prefix for descending order, or
	// "" for relevance. Ties are broken by ascending ID.
	Sort string
	// Offset and Limit page through the results; Limit zero or less
	// means DefaultLimit, and is capped at MaxLimit.
	Offset, Limit int
}

// FacetCount is the number of matching documents having a value.
type FacetCount struct {
	Value string
	Count int
}

// Result is the answer to a Query.
type Result struct {
	IDs    []string // the requested page
	Total  uint64   // number of matching documents
	Facets map[string][]FacetCount
	Took   time.Duration
}

const (
	DefaultLimit     = 20
	MaxLimit         = 1000
	DefaultFacetSize = 20
	// MaxWindow bounds Offset+Limit: deeper pages return no IDs (but
	// Total and Facets), which keeps hostile offsets cheap.
	MaxWindow = 100_000
)

var (
	// ErrInvalidQuery reports a query naming an unknown field.
	ErrInvalidQuery = errors.New("search: invalid query")
	// ErrClosed is returned by every method of a closed Index.
	ErrClosed = errors.New("search: index closed")
)

// Index is a search index, in memory or in a directory.
//
// Keyword, sort and length values are held in memory (see columns) and
// also indexed in bleve, from where Open loads them.
//
// On disk, dir holds a file CURRENT naming the subdirectory that holds
// the live bleve index; Rebuild writes a new subdirectory and switches
// CURRENT atomically. One process at a time may use a directory.
type Index struct {
	dir         string
	schema      Schema
	fingerprint []byte
	text        map[string]TextField
	keyword     map[string]bool
	sort        map[string]bool

	wmu sync.Mutex // serializes Upsert, Delete, the end of Rebuild and Close
	log *[]change  // non-nil while Rebuild runs: changes to replay; guarded by wmu

	mu     sync.RWMutex // guards cur and its columns
	cur    *generation
	closed bool
}

// generation is a bleve index with its columns; Rebuild replaces it.
type generation struct {
	bi   bleve.Index
	sub  string // subdirectory under Index.dir
	cols *columns

	segMu sync.Mutex
	segs  map[uint64][]uint32 // scorch segment ID → ordinal by local doc number

	cacheMu sync.Mutex
	cache   map[cacheKey]*textHits

	mark    uint64 // the caller's mark stored with the documents (see SetMark)
	hasMark bool
}

// change is an Upsert, Delete or SetMark made while a Rebuild runs.
type change struct {
	docs    []prepared
	ids     []string
	mark    uint64 // with setMark: the new mark, stored in the same bleve batch
	setMark bool
}

// prepared is a Doc converted for bleve and the columns.
type prepared struct {
	doc  *document.Document
	vals values
}

const (
	currentFile    = "CURRENT"
	subPrefix      = "idx-"
	fingerprintKey = "xiangyun.search.fingerprint"
	markKey        = "xiangyun.search.mark"
	flushKey       = "xiangyun.search.closed"
	batchSize      = 1000
	// bulkChange: changes of more documents drop the sort orders rather
	// than update them one document at a time.
	bulkChange = 64
)

// Open opens the index in dir, creating dir and an empty index if
// needed; dir "" means a new in-memory index.
//
// If the index in dir was built with another schema (or an older
// analysis), it is replaced by an empty one: the caller should check
// Count and Rebuild when it is zero.
func Open(dir string, s Schema) (*Index, error) {
	ix, err := newIndex(dir, s)
	if err != nil {
		return nil, err
	}
	go segmenter() // load the dictionary in the background

	if dir == "" {
		ix.cur, err = ix.create("")
		if err != nil {
			return nil, err
		}
		return ix, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	if cur, err := os.ReadFile(filepath.Join(dir, currentFile)); err == nil {
		sub := strings.TrimSpace(string(cur))
		bi, err := bleve.OpenUsing(filepath.Join(dir, sub), map[string]any{"bolt_timeout": "10s", "unsafe_batch": true})
		switch {
		case err == nil:
			fp, err := bi.GetInternal([]byte(fingerprintKey))
			if err == nil && string(fp) == string(ix.fingerprint) {
				ix.cur, err = ix.load(bi, sub)
				if err != nil {
					bi.Close()
					return nil, err
				}
			} else {
				bi.Close()
			}
		case errors.Is(err, bleve.ErrorIndexPathDoesNotExist), errors.Is(err, bleve.ErrorIndexMetaMissing):
		default:
			return nil, fmt.Errorf("search: open %s: %w", dir, err)
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	if ix.cur == nil {
		sub := newSubName()
		g, err := ix.create(sub)
		if err != nil {
			return nil, err
		}
		if err := writeCurrent(dir, sub); err != nil {
			g.bi.Close()
			return nil, err
		}
		ix.cur = g
	}
	ix.removeStale()
	return ix, nil
}

func newIndex(dir string, s Schema) (*Index, error) {
	ix := &Index{
		dir:     dir,
		schema:  s,
		text:    make(map[string]TextField),
		keyword: make(map[string]bool),
		sort:    make(map[string]bool),
	}
	for _, f := range s.Text {
		if f.Boost <= 0 {
			f.Boost = 1
		}
		if _, dup := ix.text[f.Name]; dup || f.Name == "" {
			return nil, fmt.Errorf("search: bad or duplicate text field %q", f.Name)
		}
		ix.text[f.Name] = f
	}
	for _, list := range []struct {
		names []string
		set   map[string]bool
	}{{s.Keyword, ix.keyword}, {s.Sort, ix.sort}} {
		for _, name := range list.names {
			if list.set[name] || name == "" {
				return nil, fmt.Errorf("search: bad or duplicate field %q", name)
			}
			list.set[name] = true
		}
	}
	// Boosts only matter at query time: leave them out of the fingerprint.
	fp := struct {
		Version int
		Text    []TextField
		Keyword []string
		Sort    []string
	}{analysisVersion, make([]TextField, len(s.Text)), s.Keyword, s.Sort}
	for i, f := range s.Text {
		fp.Text[i] = TextField{Name: f.Name, NoPinyin: f.NoPinyin}
	}
	var err error
	ix.fingerprint, err = json.Marshal(fp)
	return ix, err
}

func (ix *Index) newGeneration(bi bleve.Index, sub string) *generation {
	return &generation{
		bi:    bi,
		sub:   sub,
		cols:  newColumns(ix.schema),
		segs:  make(map[uint64][]uint32),
		cache: make(map[cacheKey]*textHits),
	}
}

// create makes a new empty generation in subdirectory sub of ix.dir, or
// in memory if ix.dir is "".
func (ix *Index) create(sub string) (*generation, error) {
	path := ""
	if ix.dir != "" {
		path = filepath.Join(ix.dir, sub)
	}
	// Documents are added with IndexAdvanced, which bypasses the
	// mapping; it only has to exist.
	m := bleve.NewIndexMapping()
	m.IndexDynamic = false
	m.StoreDynamic = false
	m.DocValuesDynamic = false
	bi, err := bleve.NewUsing(path, m, scorch.Name, scorch.Name, map[string]any{"unsafe_batch": true})
	if err != nil {
		return nil, err
	}
	if err := bi.SetInternal([]byte(fingerprintKey), ix.fingerprint); err != nil {
		bi.Close()
		if path != "" {
			os.RemoveAll(path)
		}
		return nil, err
	}
	return ix.newGeneration(bi, sub), nil
}

// load reads the columns of an existing bleve index from the terms of
// its keyword, sort and length fields.
func (ix *Index) load(bi bleve.Index, sub string) (*generation, error) {
	g := ix.newGeneration(bi, sub)
	if m, err := bi.GetInternal([]byte(markKey)); err != nil {
		return nil, err
	} else if len(m) > 0 {
		if g.mark, err = strconv.ParseUint(string(m), 10, 64); err != nil {
			return nil, fmt.Errorf("search: bad mark %q: %w", m, err)
		}
		g.hasMark = true
	}
	snap, err := snapshot(bi)
	if err != nil {
		return nil, err
	}
	defer snap.Close()
	for _, ss := range snap.Segments() {
		live := ss.DocNumbersLive()
		ords := make([]uint32, ss.Segment().Count())
		for i := range ords {
			ords[i] = noOrd
		}
		var err error
		live.Iterate(func(num uint32) bool {
			var id []byte
			if id, err = ss.DocID(uint64(num)); err == nil {
				ords[num] = g.cols.insert(string(id))
			}
			return err == nil
		})
		if err != nil {
			return nil, err
		}
		for _, f := range ix.schema.Keyword {
			k := g.cols.keyword[f]
			err = forTerms(ss, keywordField(f), live, func(term string, num uint32) {
				k.add(ords[num], []string{term})
			})
			if err != nil {
				return nil, err
			}
		}
		for _, f := range ix.schema.Sort {
			keys := g.cols.sort[f]
			err = forTerms(ss, sortField(f), live, func(term string, num uint32) {
				keys[ords[num]] = term
			})
			if err != nil {
				return nil, err
			}
		}
		for _, f := range ix.schema.Text {
			err = forTerms(ss, lengthField(f.Name), live, func(term string, num uint32) {
				n, _ := strconv.Atoi(term)
				g.cols.setLength(ords[num], f.Name, uint16(n))
			})
			if err != nil {
				return nil, err
			}
		}
		g.segs[ss.Id()] = ords
	}
	return g, nil
}

// forTerms calls fn for every term of a field and live document having
// it in a segment.
func forTerms(ss *scorch.SegmentSnapshot, field string, live *roaring.Bitmap, fn func(term string, num uint32)) error {
	dict, err := ss.Segment().Dictionary(field)
	if err != nil {
		return err
	}
	it := dict.AutomatonIterator(nil, nil, nil)
	for {
		e, err := it.Next()
		if err != nil || e == nil {
			return err
		}
		pl, err := dict.PostingsList([]byte(e.Term), nil, nil)
		if err != nil {
			return err
		}
		bm := roaring.New()
		if err := orInto(pl, bm); err != nil {
			return err
		}
		bm.And(live)
		bm.Iterate(func(num uint32) bool {
			fn(e.Term, num)
			return true
		})
	}
}

// snapshot returns the current scorch snapshot of bi; the caller closes it.
func snapshot(bi bleve.Index) (*scorch.IndexSnapshot, error) {
	adv, err := bi.Advanced()
	if err != nil {
		return nil, err
	}
	r, err := adv.Reader()
	if err != nil {
		return nil, err
	}
	snap, ok := r.(*scorch.IndexSnapshot)
	if !ok {
		r.Close()
		return nil, fmt.Errorf("search: unexpected index reader %T", r)
	}
	return snap, nil
}

func newSubName() string {
	return fmt.Sprintf("%s%d", subPrefix, time.Now().UnixNano())
}

// writeCurrent atomically points dir/CURRENT at sub.
func writeCurrent(dir, sub string) error {
	tmp := filepath.Join(dir, currentFile+".tmp")
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	_, err = f.WriteString(sub + "\n")
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, filepath.Join(dir, currentFile))
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// removeStale deletes index subdirectories other than the current one,
// left behind by an interrupted Rebuild or a schema change.
func (ix *Index) removeStale() {
	entries, _ := os.ReadDir(ix.dir)
	for _, e := range entries {
		if e.IsDir() && strings.HasPrefix(e.Name(), subPrefix) && e.Name() != ix.cur.sub {
			os.RemoveAll(filepath.Join(ix.dir, e.Name()))
		}
	}
}

// Durability. Changes are searchable as soon as Upsert or Delete return,
// but written to disk in the background ("unsafe_batch" in bleve's
// terms): waiting for the disk on every change made a single-entry write
// take seconds on a busy machine. A crash loses the changes not yet on
// disk, and the mark with them: snapshots are persisted in order, so the
// stored mark never claims documents that are not there, and the caller
// re-applies what is above it (see UpsertMark). Close waits, for a while,
// until everything is on disk.

// closeFlush bounds how long Close waits for pending changes to reach the
// disk.
const closeFlush = 30 * time.Second

// Close closes the index, after writing pending changes to disk (for at
// most closeFlush; what is left is lost, with its mark).
func (ix *Index) Close() error {
	ix.wmu.Lock()
	defer ix.wmu.Unlock()
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if ix.closed {
		return nil
	}
	ix.closed = true
	if ix.dir != "" {
		_ = flush(ix.cur.bi, closeFlush)
	}
	return ix.cur.bi.Close()
}

// flush waits until the changes made to bi so far are on disk, for at
// most d.
func flush(bi bleve.Index, d time.Duration) error {
	flushed := make(chan error, 1)
	b := bi.NewBatch()
	b.SetInternal([]byte(flushKey), []byte(time.Now().UTC().Format(time.RFC3339Nano)))
	b.SetPersistedCallback(func(err error) { flushed <- err })
	if err := bi.Batch(b); err != nil {
		return err
	}
	select {
	case err := <-flushed:
		return err
	case <-time.After(d):
		return errors.New("search: index not written to disk in time")
	}
}

// Upsert adds or replaces documents (by ID).
func (ix *Index) Upsert(docs ...Doc) error {
	ps := make([]prepared, len(docs))
	for i, d := range docs {
		var err error
		if ps[i], err = ix.prepare(d); err != nil {
			return err
		}
	}
	ix.wmu.Lock()
	defer ix.wmu.Unlock()
	if ix.closed {
		return ErrClosed
	}
	if ix.log != nil {
		*ix.log = append(*ix.log, change{docs: ps})
	}
	return ix.apply(ix.cur, change{docs: ps})
}

// UpsertMark is Upsert that also stores mark with the index, in the same
// bleve batch, so that after a crash the documents and the mark are
// either both there or both missing. The caller uses the mark to record
// how far the index has caught up with its source (e.g. a change
// sequence); see Mark. A mark lower than the stored one is ignored.
func (ix *Index) UpsertMark(mark uint64, docs ...Doc) error {
	ps := make([]prepared, len(docs))
	for i, d := range docs {
		var err error
		if ps[i], err = ix.prepare(d); err != nil {
			return err
		}
	}
	ix.wmu.Lock()
	defer ix.wmu.Unlock()
	if ix.closed {
		return ErrClosed
	}
	c := change{docs: ps, mark: mark, setMark: true}
	if ix.log != nil {
		*ix.log = append(*ix.log, c)
	}
	return ix.apply(ix.cur, c)
}

// Mark returns the mark stored by UpsertMark or RebuildMark, and false
// if none was ever stored (a new, recreated or older index).
func (ix *Index) Mark() (uint64, bool, error) {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	if ix.closed {
		return 0, false, ErrClosed
	}
	return ix.cur.mark, ix.cur.hasMark, nil
}

// Delete removes documents by ID; unknown IDs are ignored.
func (ix *Index) Delete(ids ...string) error {
	ix.wmu.Lock()
	defer ix.wmu.Unlock()
	if ix.closed {
		return ErrClosed
	}
	if ix.log != nil {
		*ix.log = append(*ix.log, change{ids: ids})
	}
	return ix.apply(ix.cur, change{ids: ids})
}

// apply makes a change to g; the caller holds wmu (or owns g). Columns
// change first, so that searches never see a document missing in them.
func (ix *Index) apply(g *generation, c change) error {
	ix.mu.Lock()
	bulk := len(c.ids)+len(c.docs) > bulkChange
	if bulk {
		g.cols.setBulk(true)
	}
	for _, id := range c.ids {
		g.cols.delete(id)
	}
	for _, p := range c.docs {
		g.cols.set(p.doc.ID(), p.vals)
	}
	if bulk {
		g.cols.setBulk(false)
	}
	ix.mu.Unlock()

	b := g.bi.NewBatch()
	for _, id := range c.ids {
		b.Delete(id)
	}
	for _, p := range c.docs {
		if err := b.IndexAdvanced(p.doc); err != nil {
			return err
		}
		if b.Size() >= batchSize {
			if err := g.bi.Batch(b); err != nil {
				return err
			}
			b.Reset()
		}
	}
	// The mark goes with the last batch of the change: persisted after
	// (or with) the documents it stands for, never before.
	setMark := c.setMark && (!g.hasMark || c.mark > g.mark)
	if setMark {
		b.SetInternal([]byte(markKey), []byte(strconv.FormatUint(c.mark, 10)))
	}
	if b.Size() == 0 {
		return nil
	}
	if err := g.bi.Batch(b); err != nil {
		return err
	}
	if setMark {
		ix.mu.Lock()
		g.mark, g.hasMark = c.mark, true
		ix.mu.Unlock()
	}
	return nil
}

// Fields are indexed only: nothing is stored (but bleve's _id), and
// there are no term vectors (no phrase queries or highlighting).
const textOpts = index.IndexField

// prepare converts a Doc into a bleve document and its column values.
func (ix *Index) prepare(d Doc) (prepared, error) {
	if d.ID == "" {
		return prepared{}, errors.New("search: document without ID")
	}
	doc := document.NewDocument(d.ID)
	var vals values
	for name, v := range d.Text {
		f, ok := ix.text[name]
		if !ok {
			return prepared{}, fmt.Errorf("search: document %s: unknown text field %q", d.ID, name)
		}
		norm := normalize(v)
		if strings.TrimSpace(norm) == "" {
			continue
		}
		if vals.Length == nil {
			vals.Length = make(map[string]uint16)
		}
		vals.Length[name] = uint16(min(utf8.RuneCountInString(norm), math.MaxUint16))
		a := &textAnalysis{text: norm, pinyin: !f.NoPinyin}
		doc.AddField(document.NewTextFieldCustom(wordsField(name), nil, []byte(norm), textOpts, wordsAnalyzer{a}))
		if a.pinyin {
			doc.AddField(document.NewTextFieldCustom(pinyinField(name), nil, []byte(norm), textOpts, pinyinAnalyzer{a}))
		}
		if k := exactKey(v); k != "" {
			doc.AddField(document.NewTextFieldCustom(exactField(name), nil, []byte(k), textOpts, nil))
		}
	}
	for name, vs := range d.Keyword {
		if !ix.keyword[name] {
			return prepared{}, fmt.Errorf("search: document %s: unknown keyword field %q", d.ID, name)
		}
		vs = slices.DeleteFunc(slices.Clone(vs), func(v string) bool { return v == "" })
		if len(vs) > 0 {
			if vals.Keyword == nil {
				vals.Keyword = make(map[string][]string)
			}
			vals.Keyword[name] = vs
		}
	}
	for name, v := range d.Sort {
		if !ix.sort[name] {
			return prepared{}, fmt.Errorf("search: document %s: unknown sort field %q", d.ID, name)
		}
		key, err := sortKey(v)
		if err != nil {
			return prepared{}, fmt.Errorf("search: document %s: sort field %s: %w", d.ID, name, err)
		}
		if key != "" {
			if vals.Sort == nil {
				vals.Sort = make(map[string]string)
			}
			vals.Sort[name] = key
		}
	}
	// The values are also indexed, as single terms, for Open to load.
	for name, vs := range vals.Keyword {
		for _, v := range vs {
			doc.AddField(document.NewTextFieldCustom(keywordField(name), nil, []byte(v), textOpts, nil))
		}
	}
	for name, key := range vals.Sort {
		doc.AddField(document.NewTextFieldCustom(sortField(name), nil, []byte(key), textOpts, nil))
	}
	for name, n := range vals.Length {
		doc.AddField(document.NewTextFieldCustom(lengthField(name), nil, []byte(strconv.Itoa(int(n))), textOpts, nil))
	}
	return prepared{doc, vals}, nil
}

// Names of the bleve fields derived from the schema fields.
func wordsField(name string) string   { return "t." + name }
func pinyinField(name string) string  { return "p." + name }
func exactField(name string) string   { return "x." + name }
func lengthField(name string) string  { return "l." + name }
func keywordField(name string) string { return "k." + name }
func sortField(name string) string    { return "s." + name }

// Count returns the number of documents.
func (ix *Index) Count() (uint64, error) {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	if ix.closed {
		return 0, ErrClosed
	}
	return ix.cur.cols.alive.GetCardinality(), nil
}

// SizeBytes returns the size of the index files, or for an in-memory
// index an estimate of bleve's memory use (both without the columns).
func (ix *Index) SizeBytes() (int64, error) {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	if ix.closed {
		return 0, ErrClosed
	}
	if ix.dir == "" {
		adv, err := ix.cur.bi.Advanced()
		if err != nil {
			return 0, err
		}
		if m, ok := adv.(interface{ MemoryUsed() uint64 }); ok {
			return int64(m.MemoryUsed()), nil
		}
		return 0, nil
	}
	var size int64
	err := filepath.WalkDir(filepath.Join(ix.dir, ix.cur.sub), func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			// Scorch removes obsolete segment files concurrently.
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if d.Type().IsRegular() {
			if info, err := d.Info(); err == nil {
				size += info.Size()
			}
		}
		return nil
	})
	return size, err
}

// Rebuild replaces the contents of the index by the documents that feed
// passes to yield. The new index is built beside the live one, which
// keeps serving searches, and then swapped in atomically (on disk by
// rewriting the CURRENT file). Upserts and deletes made during the
// rebuild are applied to both. If feed or yield fail, the live index is
// left as it was. Only one Rebuild may run at a time.
func (ix *Index) Rebuild(feed func(yield func(Doc) error) error) error {
	return ix.rebuild(feed, nil)
}

// RebuildMark is Rebuild that stores mark with the new index (see
// UpsertMark); marks stored by UpsertMark during the rebuild that are
// higher win.
func (ix *Index) RebuildMark(mark uint64, feed func(yield func(Doc) error) error) error {
	return ix.rebuild(feed, &mark)
}

func (ix *Index) rebuild(feed func(yield func(Doc) error) error, mark *uint64) error {
	ix.wmu.Lock()
	switch {
	case ix.closed:
		ix.wmu.Unlock()
		return ErrClosed
	case ix.log != nil:
		ix.wmu.Unlock()
		return errors.New("search: rebuild already running")
	}
	ix.log = new([]change)
	ix.wmu.Unlock()

	sub := ""
	if ix.dir != "" {
		sub = newSubName()
	}
	g, err := ix.create(sub)
	if err == nil {
		err = ix.fill(g, feed)
	}
	if err == nil && mark != nil {
		err = ix.apply(g, change{mark: *mark, setMark: true})
	}

	ix.wmu.Lock()
	defer ix.wmu.Unlock()
	changes := *ix.log
	ix.log = nil
	if err == nil && ix.closed {
		err = ErrClosed
	}
	// No Upsert or Delete runs now: replay those made meanwhile.
	for _, c := range changes {
		if err == nil {
			err = ix.apply(g, c)
		}
	}
	if err == nil && ix.dir != "" {
		// The new index is complete on disk before it becomes current.
		if err = flush(g.bi, 10*closeFlush); err == nil {
			err = writeCurrent(ix.dir, sub)
		}
	}
	if err != nil {
		if g != nil {
			g.bi.Close()
			if sub != "" {
				os.RemoveAll(filepath.Join(ix.dir, sub))
			}
		}
		return err
	}
	ix.mu.Lock()
	old := ix.cur
	ix.cur = g
	ix.mu.Unlock()
	err = old.bi.Close()
	if old.sub != "" {
		os.RemoveAll(filepath.Join(ix.dir, old.sub))
	}
	return err
}

// fill adds the documents of feed to the new generation g, which is not
// shared yet.
func (ix *Index) fill(g *generation, feed func(yield func(Doc) error) error) error {
	var batch []prepared
	flush := func() error {
		err := ix.apply(g, change{docs: batch})
		batch = batch[:0]
		return err
	}
	err := feed(func(d Doc) error {
		p, err := ix.prepare(d)
		if err != nil {
			return err
		}
		batch = append(batch, p)
		if len(batch) < batchSize {
			return nil
		}
		return flush()
	})
	if err != nil || len(batch) == 0 {
		return err
	}
	return flush()
}

// Rebuild opens the index in dir (see Open) and rebuilds it from feed
// (see Index.Rebuild).
func Rebuild(dir string, s Schema, feed func(yield func(Doc) error) error) (*Index, error) {
	ix, err := Open(dir, s)
	if err != nil {
		return nil, err
	}
	if err := ix.Rebuild(feed); err != nil {
		ix.Close()
		return nil, err
	}
	return ix, nil
}
