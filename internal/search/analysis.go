package search

import (
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/analysis/lang/cjk"
	"github.com/blevesearch/bleve/v2/analysis/token/lowercase"
	bleveunicode "github.com/blevesearch/bleve/v2/analysis/tokenizer/unicode"
	"github.com/go-ego/gse"
	"github.com/mozillazg/go-pinyin"
)

// Analysis of text fields
//
// Every text field is indexed into up to three bleve fields:
//
//	t.<name>  words: gse search-mode segmentation of Han runs, plus
//	          abbreviations of four-character words (社会保险 → 社保);
//	          bleve's CJK analysis: overlapping bigrams and unigrams of
//	          CJK text; whole non-Han chunks (codes like
//	          "3/001/002/00001", English words), their prefixes ending at
//	          a separator and their alphanumeric parts;
//	p.<name>  pinyin of every segmented word, full ("shehuibaoxian") and
//	          initials ("shbx"), and the initials of the rest of each Han
//	          run from the start of every word on ("jlsczrkjbxx",
//	          "czrkjbxx", …), with their prefixes of up to three letters
//	          ("s", "sh", "she"), so that short pinyin queries are single
//	          term lookups and longer ones cheap prefix searches;
//	          a few common polyphones contribute both readings
//	          (长春 → "cc" and "zc");
//	x.<name>  the whole normalized value as one token (values of at most
//	          maxExactRunes runes), used to rank exact matches first;
//	l.<name>  the length of the value in runes (one token), for Open.
//
// Keyword and sort values are indexed as single tokens too (k.<name>,
// s.<name>), only for Open to load the columns from.
//
// Index and query side share normalize, splitRuns and segmentation, so
// a query term produces the same tokens as the same text in a document.

const (
	// analysisVersion is part of the index fingerprint: bump it whenever
	// the analysis changes so that existing indexes are recreated.
	analysisVersion = 1

	maxExactRunes   = 64 // longer values get no exact-match token
	maxWordRunes    = 8  // longer segmented words get no pinyin
	maxRunInitials  = 12 // initials of a run are cut after this many
	maxPinyinPrefix = 3  // longer pinyin prefixes are not indexed
	maxReadings     = 4  // pinyin variants per word or run (polyphones)
)

// segmenter loads the embedded Simplified Chinese gse dictionary once,
// on first use. It needs no files or network access.
var segmenter = sync.OnceValues(func() (*gse.Segmenter, error) {
	seg := new(gse.Segmenter)
	if err := seg.LoadDictEmbed("zh_s"); err != nil {
		return nil, err
	}
	return seg, nil
})

// cutWords segments a run of Han characters. Search mode also emits the
// shorter words contained in long ones (社会保险 → 社会, 保险, 社会保险).
// Without a dictionary the whole run is one word; bigrams still match.
func cutWords(run string, searchMode bool) []string {
	seg, err := segmenter()
	if err != nil {
		return []string{run}
	}
	if searchMode {
		return seg.CutSearch(run, true)
	}
	return seg.Cut(run, true)
}

// bigramIndexAnalyzer and bigramQueryAnalyzer are bleve's "cjk" analyzer;
// the index side also emits unigrams so that one-character queries match.
var (
	bigramIndexAnalyzer = newBigramAnalyzer(true)
	bigramQueryAnalyzer = newBigramAnalyzer(false)
)

func newBigramAnalyzer(unigrams bool) analysis.Analyzer {
	return &analysis.DefaultAnalyzer{
		Tokenizer: bleveunicode.NewUnicodeTokenizer(),
		TokenFilters: []analysis.TokenFilter{
			cjk.NewCJKWidthFilter(),
			lowercase.NewLowerCaseFilter(),
			cjk.NewCJKBigramFilter(unigrams),
		},
	}
}

func isHan(r rune) bool { return unicode.Is(unicode.Han, r) }

// normalize folds full-width ASCII and the ideographic space to their
// half-width forms and lower-cases the text.
func normalize(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 0xFF01 && r <= 0xFF5E:
			r -= 0xFEE0
		case r == 0x3000:
			r = ' '
		}
		return unicode.ToLower(r)
	}, s)
}

// exactKey is the token stored in the x.<name> fields: the normalized
// value with runs of white space collapsed to single spaces.
func exactKey(s string) string {
	k := strings.Join(strings.Fields(normalize(s)), " ")
	if utf8.RuneCountInString(k) > maxExactRunes {
		return ""
	}
	return k
}

// splitRuns calls fn for each maximal run of Han or non-Han characters
// of every white-space separated chunk of the (normalized) text.
func splitRuns(text string, fn func(run string, han bool)) {
	for _, chunk := range strings.Fields(text) {
		start, startHan := 0, false
		for i, r := range chunk {
			h := isHan(r)
			if i == 0 {
				startHan = h
				continue
			}
			if h != startHan {
				fn(chunk[start:i], startHan)
				start, startHan = i, h
			}
		}
		fn(chunk[start:], startHan)
	}
}

func notAlnum(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }

// trimPunct strips leading and trailing characters that are neither
// letters nor digits; inner punctuation (as in codes) is kept.
func trimPunct(s string) string { return strings.TrimFunc(s, notAlnum) }

// alnumParts splits s at every character that is neither letter nor digit.
func alnumParts(s string) []string { return strings.FieldsFunc(s, notAlnum) }

// abbreviation returns the customary short form of a four-character word
// made of two two-character words: the first character of each
// (社会保险 → 社保, 医疗保险 → 医保, 公共交通 → 公交).
func abbreviation(word string) string {
	if utf8.RuneCountInString(word) != 4 {
		return ""
	}
	r := []rune(word)
	return string([]rune{r[0], r[2]})
}

var pinyinArgs = pinyin.NewArgs()

// polyphones lists characters common in names with several common
// readings; other characters get go-pinyin's first reading only (its
// rarer readings, like shēn for 信, would make short initials match
// almost everything).
var polyphones = map[rune][]string{
	'长': {"chang", "zhang"}, '重': {"zhong", "chong"}, '行': {"xing", "hang"},
	'乐': {"le", "yue"}, '调': {"diao", "tiao"},
	'藏': {"cang", "zang"}, '厦': {"xia", "sha"}, '朝': {"chao", "zhao"},
	'传': {"chuan", "zhuan"}, '种': {"zhong"}, '单': {"dan", "shan"},
	'解': {"jie", "xie"}, '都': {"du", "dou"}, '还': {"huan", "hai"},
	'参': {"can", "shen"}, '强': {"qiang", "jiang"}, '差': {"cha", "chai"},
	'降': {"jiang", "xiang"}, '率': {"lv", "shuai"}, '系': {"xi"},
	'数': {"shu"}, '地': {"di"}, '模': {"mo", "mu"}, '曾': {"zeng", "ceng"},
	'校': {"xiao", "jiao"}, '角': {"jiao", "jue"}, '盛': {"sheng", "cheng"},
	'干': {"gan"}, '薄': {"bo", "bao"}, '露': {"lu", "lou"}, '更': {"geng"},
}

// readings returns the pinyin readings (without tones) of every
// character of a Han run.
func readings(run string) [][]string {
	var out [][]string
	for _, r := range run {
		rs, ok := polyphones[r]
		if !ok {
			rs = pinyin.SinglePinyin(r, pinyinArgs)
		}
		out = append(out, rs)
	}
	return out
}

// combos returns the concatenations of part(reading) over the characters,
// one reading each: at most maxReadings variants, spent on the earliest
// characters with several readings.
func combos(chars [][]string, part func(string) string) []string {
	out := []string{""}
	for _, rs := range chars {
		if len(rs) == 0 {
			continue
		}
		if len(out)*len(rs) > maxReadings {
			rs = rs[:1]
		}
		next := make([]string, 0, len(out)*len(rs))
		for _, o := range out {
			for _, r := range rs {
				next = append(next, o+part(r))
			}
		}
		out = next
	}
	if out[0] == "" {
		return nil
	}
	return out
}

func fullSyllable(r string) string { return r }
func initial(r string) string      { return r[:1] }

// textAnalysis computes the word and pinyin tokens of one text value
// once; the t.<name> and p.<name> fields of a document share it (scorch
// analyzes the fields of a document in one goroutine).
type textAnalysis struct {
	once   sync.Once
	text   string
	pinyin bool
	words  analysis.TokenStream
	py     analysis.TokenStream
	seenPy map[string]bool
}

func addToken(ts *analysis.TokenStream, term string) {
	if term == "" {
		return
	}
	*ts = append(*ts, &analysis.Token{
		Term:     []byte(term),
		Position: len(*ts) + 1,
		Type:     analysis.AlphaNumeric,
	})
}

// addPinyin adds a pinyin token and its prefixes of up to
// maxPinyinPrefix letters, once per field (repeats would only inflate
// term frequencies). Longer prefixes are found by prefix search.
func (a *textAnalysis) addPinyin(p string) {
	if a.seenPy == nil {
		a.seenPy = make(map[string]bool)
	}
	for n := 1; n <= len(p); n++ {
		if n > maxPinyinPrefix && n < len(p) {
			n = len(p)
		}
		if t := p[:n]; !a.seenPy[t] {
			a.seenPy[t] = true
			addToken(&a.py, t)
		}
	}
}

func (a *textAnalysis) run() {
	splitRuns(a.text, func(run string, han bool) {
		if !han {
			a.addChunk(run)
			return
		}
		for _, w := range cutWords(run, true) {
			addToken(&a.words, w)
			addToken(&a.words, abbreviation(w))
			if a.pinyin && utf8.RuneCountInString(w) <= maxWordRunes {
				chars := readings(w)
				for _, p := range combos(chars, fullSyllable) {
					a.addPinyin(p)
				}
				for _, p := range combos(chars, initial) {
					a.addPinyin(p)
				}
			}
		}
		if a.pinyin {
			a.addRunInitials(run)
		}
	})
	for _, t := range bigramIndexAnalyzer.Analyze([]byte(a.text)) {
		addToken(&a.words, string(t.Term))
	}
}

// addChunk adds a non-Han chunk, its prefixes ending before a separator
// and its alphanumeric parts: "3/001/002" → "3/001/002", "3/001", "3",
// "001", "002".
func (a *textAnalysis) addChunk(chunk string) {
	chunk = trimPunct(chunk)
	if chunk == "" {
		return
	}
	addToken(&a.words, chunk)
	parts := alnumParts(chunk)
	if len(parts) < 2 {
		return
	}
	for i, r := range chunk {
		if i > 0 && notAlnum(r) && !notAlnum(rune(chunk[i-1])) {
			addToken(&a.words, chunk[:i])
		}
	}
	for _, p := range parts[1:] {
		addToken(&a.words, p)
	}
}

// addRunInitials adds the prefixes of the initials of a Han run from
// the start of each (accurate mode) word on: "jlsczrkjbxx", "czrkjbxx", …
func (a *textAnalysis) addRunInitials(run string) {
	chars := readings(run)
	pos := 0 // in characters
	for _, w := range cutWords(run, false) {
		if pos >= len(chars) {
			break
		}
		end := min(pos+maxRunInitials, len(chars))
		for _, p := range combos(chars[pos:end], initial) {
			a.addPinyin(p)
		}
		pos += utf8.RuneCountInString(w)
	}
}

// wordsAnalyzer and pinyinAnalyzer implement analysis.Analyzer for the
// t.<name> and p.<name> fields of one document; they ignore their input
// and return the tokens of the shared textAnalysis.
type (
	wordsAnalyzer  struct{ a *textAnalysis }
	pinyinAnalyzer struct{ a *textAnalysis }
)

func (w wordsAnalyzer) Analyze([]byte) analysis.TokenStream {
	w.a.once.Do(w.a.run)
	return w.a.words
}

func (p pinyinAnalyzer) Analyze([]byte) analysis.TokenStream {
	p.a.once.Do(p.a.run)
	return p.a.py
}
