package search

import (
	"context"
	"math"
	"slices"
	"strings"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/blevesearch/bleve/v2/index/scorch"
	segment "github.com/blevesearch/scorch_segment_api/v2"
)

// Text queries are evaluated directly on the postings of the scorch
// segments, as roaring bitmaps, instead of by bleve's searchers, which
// score and collect one document at a time: far too slow for queries
// matching tens of thousands of documents on a small machine.
//
// Scoring is TF-IDF-like with binary term frequency: a document scores,
// for every clause it matches, the clause weight (field boost × kind of
// match) × idf of the clause × 1/√(length of the field); a document
// whose field equals the whole query gets a bonus that ranks it first.
//
// Phrases rank next: the index keeps no positions, but a run of Han text
// longer than two characters occurs as a phrase where all its overlapping
// bigrams occur (登记机关: 登记 记机 机关), which scattered words (登记 … 机关)
// rarely produce. A field having the bigram chain of a query's Han run,
// or of its Han runs joined (企业 登记 → 企业登记: the words adjacent),
// scores phraseWeight × field boost, more than any sum of word matches,
// so that the phrase matches rank above the scattered ones.

// Relative weights of the kinds of match (multiplied by field boosts).
const (
	wordsWeight  = 1.0 // segmented words (and bigrams, when the same)
	gramsWeight  = 0.6 // bigrams, when they differ from the words
	partsWeight  = 0.5 // alphanumeric parts of codes, prefixes of words
	pinyinWeight = 0.8
	exactWeight  = 100 // the whole query equals the whole field
	phraseWeight = 30  // the field has the query's Han text as a phrase (bigram chain)
	maxPrefix    = 256 // terms a prefix clause expands to, at most
)

// clause matches documents having all terms in a bleve field, or, for a
// prefix clause, some term starting with terms[0].
type clause struct {
	field  string
	terms  []string
	prefix bool
	text   string  // the schema text field, for length normalization
	weight float64 // field boost × weight of the kind of match
}

// plan is a parsed user query: every atom must match; an atom matches
// where any of its clauses does.
type plan struct {
	atoms  [][]clause
	exact  []clause
	phrase []clause // bigram chains of Han runs; scored like exact
}

// plan translates the atoms of a user query into clauses.
func (ix *Index) plan(atoms []atom, q string) plan {
	var p plan
	for _, a := range atoms {
		p.atoms = append(p.atoms, ix.atomClauses(a))
	}
	// Phrases: each Han atom of three or more characters, and all Han
	// atoms joined when there are several.
	var runs []string
	joined := ""
	for _, a := range atoms {
		if a.han {
			runs = append(runs, a.text)
			joined += a.text
		}
	}
	if len(runs) > 1 {
		runs = append(runs, joined)
	}
	for _, r := range runs {
		var grams []string
		for _, t := range bigramQueryAnalyzer.Analyze([]byte(r)) {
			if g := string(t.Term); !slices.Contains(grams, g) {
				grams = append(grams, g)
			}
		}
		if len(grams) < 2 {
			continue // one bigram: every match is the phrase
		}
		for _, f := range ix.schema.Text {
			p.phrase = append(p.phrase, clause{field: wordsField(f.Name), terms: grams, text: f.Name,
				weight: phraseWeight * ix.text[f.Name].Boost})
		}
	}
	if k := exactKey(q); k != "" {
		for _, f := range ix.schema.Text {
			p.exact = append(p.exact, clause{field: exactField(f.Name), terms: []string{k},
				text: f.Name, weight: exactWeight * ix.text[f.Name].Boost})
		}
	}
	return p
}

// atomClauses lists the ways an atom can match: in every text field,
// for Han text its segmented words or its bigrams; for other text the
// whole chunk, the prefix of an ASCII word, all parts of a code, or
// pinyin.
func (ix *Index) atomClauses(a atom) []clause {
	var cs []clause
	add := func(f TextField, field string, terms []string, prefix bool, weight float64) {
		if len(terms) > 0 {
			cs = append(cs, clause{field: field, terms: terms, prefix: prefix,
				text: f.Name, weight: weight * ix.text[f.Name].Boost})
		}
	}
	if a.han {
		var words, grams []string
		for _, w := range cutWords(a.text, false) {
			if w = strings.TrimSpace(w); w != "" && !slices.Contains(words, w) {
				words = append(words, w)
			}
		}
		for _, t := range bigramQueryAnalyzer.Analyze([]byte(a.text)) {
			if g := string(t.Term); !slices.Contains(grams, g) {
				grams = append(grams, g)
			}
		}
		slices.Sort(words)
		slices.Sort(grams)
		same := slices.Equal(words, grams)
		for _, f := range ix.schema.Text {
			add(f, wordsField(f.Name), words, false, wordsWeight)
			if !same {
				add(f, wordsField(f.Name), grams, false, gramsWeight)
			}
		}
		return cs
	}
	parts := alnumParts(a.text)
	letters := isASCIILetters(a.text)
	for _, f := range ix.schema.Text {
		add(f, wordsField(f.Name), []string{a.text}, false, wordsWeight)
		if letters && len(a.text) >= 3 {
			add(f, wordsField(f.Name), []string{a.text}, true, partsWeight)
		}
		if len(parts) > 1 {
			add(f, wordsField(f.Name), parts, false, partsWeight)
		}
		if letters && !f.NoPinyin {
			// Short prefixes are indexed, longer ones searched.
			long := len(a.text) > maxPinyinPrefix
			add(f, pinyinField(f.Name), []string{a.text}, long, pinyinWeight)
		}
	}
	return cs
}

func isASCIILetters(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 'a' || c > 'z' {
			return false
		}
	}
	return s != ""
}

// segMatch holds the bitmaps (of local doc numbers) of a plan in one
// segment, deleted documents included: segments never change but for
// their deletions, so a segMatch stays valid for as long as its segment
// lives, and a query after a write only evaluates the new segments.
type segMatch struct {
	clauses [][]*roaring.Bitmap // by atom and clause; nil if none
	exact   []*roaring.Bitmap
	phrase  []*roaring.Bitmap
	all     *roaring.Bitmap // documents matching every atom
}

// hits evaluates a plan on the current snapshot of g; scores are zero
// unless scored. The matches of segments in prev (from an earlier
// evaluation of the same plan) are reused; the matches of the current
// segments are returned for the next time. The caller holds ix.mu (read).
func (g *generation) hits(ctx context.Context, p plan, scored bool, prev map[uint64]segMatch) ([]hit, map[uint64]segMatch, error) {
	snap, err := snapshot(g.bi)
	if err != nil {
		return nil, nil, err
	}
	defer snap.Close()
	segs := snap.Segments()
	next := make(map[uint64]segMatch, len(segs))

	matches := make([]segMatch, len(segs))
	df := make([][]uint64, len(p.atoms)) // documents per clause
	for a := range p.atoms {
		df[a] = make([]uint64, len(p.atoms[a]))
	}
	for i, ss := range segs {
		if err := ctx.Err(); err != nil {
			return nil, nil, err
		}
		m, ok := prev[ss.Id()]
		if !ok {
			if m, err = evalSegment(ss, p, scored); err != nil {
				return nil, nil, err
			}
		}
		next[ss.Id()] = m
		if del := ss.Deleted(); del != nil && !del.IsEmpty() {
			m.all = roaring.AndNot(m.all, del)
		}
		matches[i] = m
		for a, bms := range matches[i].clauses {
			for c, bm := range bms {
				if bm != nil {
					df[a][c] += bm.GetCardinality()
				}
			}
		}
	}

	n := float64(g.cols.alive.GetCardinality())
	var hits []hit
	var scores []float32
	for i, m := range matches {
		if m.all.IsEmpty() {
			continue
		}
		ords := g.segmentOrds(segs, i)
		if scored {
			scores = slices.Grow(scores[:0], len(ords))[:len(ords)]
			clear(scores)
			// Adds weight × norm (1/√length), or just weight.
			addScores := func(bm *roaring.Bitmap, weight float32, norms []float32) {
				roaring.And(bm, m.all).Iterate(func(d uint32) bool {
					if o := ords[d]; o != noOrd {
						if norms != nil {
							scores[d] += weight * norms[o]
						} else {
							scores[d] += weight
						}
					}
					return true
				})
			}
			for a, bms := range m.clauses {
				for c, bm := range bms {
					if bm != nil {
						cl := p.atoms[a][c]
						idf := 1 + math.Log(n/float64(df[a][c]+1))
						addScores(bm, float32(cl.weight*idf), g.cols.norm[cl.text])
					}
				}
			}
			for c, bm := range m.exact {
				if bm != nil {
					addScores(bm, float32(p.exact[c].weight), nil)
				}
			}
			for c, bm := range m.phrase {
				if bm != nil {
					addScores(bm, float32(p.phrase[c].weight), nil)
				}
			}
		}
		m.all.Iterate(func(d uint32) bool {
			if o := ords[d]; o != noOrd {
				h := hit{ord: o}
				if scored {
					h.score = scores[d]
				}
				hits = append(hits, h)
			}
			return true
		})
	}
	return hits, next, nil
}

// evalSegment computes the bitmaps of a plan in one segment, deleted
// documents included.
func evalSegment(ss *scorch.SegmentSnapshot, p plan, scored bool) (segMatch, error) {
	seg := ss.Segment()
	dicts := make(map[string]segment.TermDictionary)
	dict := func(field string) (segment.TermDictionary, error) {
		d, ok := dicts[field]
		if !ok {
			var err error
			if d, err = seg.Dictionary(field); err != nil {
				return nil, err
			}
			dicts[field] = d
		}
		return d, nil
	}
	postings := func(d segment.TermDictionary, term string, into *roaring.Bitmap) error {
		pl, err := d.PostingsList([]byte(term), nil, nil)
		if err != nil {
			return err
		}
		return orInto(pl, into)
	}
	eval := func(c clause) (*roaring.Bitmap, error) {
		d, err := dict(c.field)
		if err != nil {
			return nil, err
		}
		bm := roaring.New()
		if c.prefix {
			start := []byte(c.terms[0])
			it := d.AutomatonIterator(nil, start, prefixEnd(start))
			for range maxPrefix {
				e, err := it.Next()
				if err != nil || e == nil {
					return bm, err
				}
				if err := postings(d, e.Term, bm); err != nil {
					return nil, err
				}
			}
			return bm, nil
		}
		for i, t := range c.terms {
			if i == 0 {
				err = postings(d, t, bm)
			} else {
				tb := roaring.New()
				err = postings(d, t, tb)
				bm.And(tb)
			}
			if err != nil || bm.IsEmpty() {
				return bm, err
			}
		}
		return bm, nil
	}

	m := segMatch{clauses: make([][]*roaring.Bitmap, len(p.atoms))}
	for a, cs := range p.atoms {
		m.clauses[a] = make([]*roaring.Bitmap, len(cs))
		atomAll := roaring.New()
		for c, cl := range cs {
			bm, err := eval(cl)
			if err != nil {
				return segMatch{}, err
			}
			if !bm.IsEmpty() {
				m.clauses[a][c] = bm
				atomAll.Or(bm)
			}
		}
		if m.all == nil {
			m.all = atomAll
		} else {
			m.all.And(atomAll)
		}
	}
	if m.all == nil {
		m.all = roaring.New()
	}
	if scored && !m.all.IsEmpty() {
		m.phrase = make([]*roaring.Bitmap, len(p.phrase))
		for c, cl := range p.phrase {
			if bm, err := eval(cl); err != nil {
				return segMatch{}, err
			} else if !bm.IsEmpty() {
				m.phrase[c] = bm
			}
		}
		m.exact = make([]*roaring.Bitmap, len(p.exact))
		for c, cl := range p.exact {
			if bm, err := eval(cl); err != nil {
				return segMatch{}, err
			} else if !bm.IsEmpty() {
				m.exact[c] = bm
			}
		}
	}
	return m, nil
}

// orInto adds the documents of a postings list to a bitmap.
func orInto(pl segment.PostingsList, into *roaring.Bitmap) error {
	if o, ok := pl.(interface{ OrInto(*roaring.Bitmap) }); ok {
		o.OrInto(into)
		return nil
	}
	it := pl.Iterator(false, false, false, nil)
	for {
		p, err := it.Next()
		if err != nil || p == nil {
			return err
		}
		into.Add(uint32(p.Number()))
	}
}

// prefixEnd returns the least key greater than all keys starting with
// prefix, or nil if there is none.
func prefixEnd(prefix []byte) []byte {
	end := slices.Clone(prefix)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i]++; end[i] != 0 {
			return end[:i+1]
		}
	}
	return nil
}
