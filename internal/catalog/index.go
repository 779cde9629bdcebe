package catalog

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mozillazg/go-pinyin"

	"xiangyun/internal/auth"
	"xiangyun/internal/db"
	"xiangyun/internal/errs"
	"xiangyun/internal/org"
	"xiangyun/internal/search"
)

// The search index holds one document per entry, built from its current
// version. Text fields are searched in Chinese words, CJK bigrams and
// pinyin; keyword fields are filtered and counted; "access" carries the
// visibility: "public" for a published entry and "body:<provider>" always.
var indexSchema = search.Schema{
	Text: []search.TextField{
		{Name: "name", Boost: 3},
		{Name: "provider", Boost: 1.5},
		{Name: "items", Boost: 0.8, NoPinyin: true},
		{Name: "abstract", NoPinyin: true},
		{Name: "code", NoPinyin: true},
	},
	Keyword: []string{"provider", "region", "region_path", "class", "share_type", "open_type", "format", "cycle", "grade",
		"status", "scope", "access"},
	Sort: []string{"updated", "name", "code", "published"},
}

// Facets are the facet names of SearchQuery.Filters and SearchResult.Facets,
// which are also the query parameters of the search API.
var Facets = []string{"provider", "region", "class", "share_type", "open_type", "format", "cycle", "grade", "status", "scope"}

// Sorts are the accepted SearchQuery.Sort values; "" is relevance when
// there is a query and "-updated" otherwise.
var Sorts = []string{"relevance", "updated", "-updated", "name", "-name", "code", "-code", "published", "-published"}

// SearchQuery is a catalog search.
type SearchQuery struct {
	Q string
	// Filters maps a facet name to the values accepted (any of them).
	// region includes the region's sub-regions; class matches the first
	// level (类, "3") or the first two ("3/01").
	Filters   map[string][]string
	Sort      string
	Offset    int
	Limit     int      // 0 means 20; at most 1000
	Facets    []string // facets to count; nil means all
	FacetSize int      // values per facet; 0 means 20
}

// FacetValue is one value of a facet with its label and count.
type FacetValue struct {
	Value   string `json:"value"`
	Label   string `json:"label"`
	LabelEN string `json:"label_en,omitempty"`
	Count   int    `json:"count"`
}

// SearchResult is a page of entries (without items) with the total and the
// facet counts.
type SearchResult struct {
	Items  []Entry                 `json:"items"`
	Total  int                     `json:"total"`
	Facets map[string][]FacetValue `json:"facets"`
}

// doc builds the index document of an entry.
func doc(e *Entry) search.Doc {
	// Data items by their Chinese and English names (JSZH, gmsfhm); the
	// analysis lower-cases, so the English names match in any case.
	var items strings.Builder
	for i, it := range e.Items {
		if i > 0 {
			items.WriteByte(' ')
		}
		items.WriteString(it.Name)
		if it.EnName != "" {
			items.WriteByte(' ')
			items.WriteString(it.EnName)
		}
	}
	class := []string{}
	if e.Class != "" {
		class = append(class, e.Class[:1])
		if len(e.Class) >= 4 {
			class = append(class, e.Class[:4])
		}
	}
	access := docAccess(e.Status, e.ProviderID)
	sort := map[string]any{"updated": e.UpdatedAt, "name": sortName(e.Name), "code": e.Code}
	if e.PublishedAt != nil {
		sort["published"] = *e.PublishedAt
	}
	return search.Doc{
		ID: strconv.FormatInt(e.ID, 10),
		Text: map[string]string{"name": e.Name, "provider": e.Provider, "items": items.String(), "abstract": e.Abstract,
			"code": e.Code},
		Keyword: map[string][]string{
			"provider": {strconv.FormatInt(e.ProviderID, 10)}, "region": {e.RegionCode}, "region_path": regionPath(e.RegionCode),
			"class": class, "share_type": {e.ShareType}, "open_type": {e.OpenType}, "format": {e.FormatClass}, "cycle": {e.Cycle},
			"grade": {e.Grade}, "status": {e.Status}, "scope": {e.Scope}, "access": access,
		},
		Sort: sort,
	}
}

// visibility is the catalog's visibility rule for one principal, the one
// definition behind the check of an entry in Go (visible, canWork), the
// search index's filter (access) and the SQL filter of exports (sql):
// without catalog.read nothing; otherwise every published entry, and every
// entry of the bodies whose catalog the principal works on (edit), which
// for System, reviewers and any platform role that edits is all bodies.
type visibility struct {
	none   bool    // no catalog.read: sees nothing
	all    bool    // sees every entry in every state
	bodies []int64 // else: sees every entry of these bodies
}

func visibilityOf(p *auth.Principal) visibility {
	switch {
	case p != System && !p.Has(auth.PermCatalogRead):
		return visibility{none: true, bodies: p.BodiesWith(auth.PermCatalogEdit)}
	case seesAll(p) || p.Global(auth.PermCatalogEdit):
		return visibility{all: true}
	}
	return visibility{bodies: p.BodiesWith(auth.PermCatalogEdit)}
}

// works reports whether the principal sees provider's entries in every
// state (drafts, submissions, withdrawn …).
func (v visibility) works(provider int64) bool {
	return v.all || slices.Contains(v.bodies, provider)
}

// sees reports whether the principal may read an entry.
func (v visibility) sees(status string, provider int64) bool {
	return !v.none && (status == StatusPublished || v.works(provider))
}

// docAccess are the "access" values of an entry's index document; access
// lists the values a principal's search accepts (nil: any).
func docAccess(status string, provider int64) []string {
	out := []string{"body:" + strconv.FormatInt(provider, 10)}
	if status == StatusPublished {
		out = append(out, "public")
	}
	return out
}

func (v visibility) access() []string {
	switch {
	case v.none:
		return []string{"none"} // no document has it
	case v.all:
		return nil
	}
	out := []string{"public"}
	for _, b := range v.bodies {
		out = append(out, "body:"+strconv.FormatInt(b, 10))
	}
	return out
}

// sql renders the rule over entries e, adding arguments with arg; "" when
// the principal sees everything.
func (v visibility) sql(arg func(any) string) string {
	switch {
	case v.none:
		return "1=0"
	case v.all:
		return ""
	}
	alts := []string{"e.status = " + arg(StatusPublished)}
	for _, b := range v.bodies {
		alts = append(alts, "e.provider_id = "+arg(b))
	}
	return "(" + strings.Join(alts, " OR ") + ")"
}

// regionPath lists the prefixes that select a region and its ancestors:
// 220102 → 22, 2201, 220102.
func regionPath(code string) []string {
	var out []string
	for _, p := range []string{org.RegionPrefix(code[:2] + "0000"), org.RegionPrefix(code[:4] + "00"), org.RegionPrefix(code)} {
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out
}

var pinyinArgs = pinyin.NewArgs()

// sortName orders names by pinyin (拼音排序), as Chinese readers expect.
func sortName(name string) string {
	return strings.Join(pinyin.LazyPinyin(name, pinyinArgs), " ") + "\x00" + name
}

// The index follows the database through a durable change sequence:
// every write transaction that changes entries takes the next number from
// change_counter (an UPDATE … RETURNING, whose row lock is held until
// commit, so that sequence order is commit order on PostgreSQL too) and
// stamps it on the entries' change_seq. The index stores the last
// sequence number it has applied (its mark, in the same bleve batch as
// the documents) and catches up with the entries above it at start-up
// and every catchUpInterval. After a commit, the change is also applied
// at once (AfterCommit) for freshness; a crash in between loses nothing,
// because the mark only moves when the catch-up has applied the rows.

// catchUpInterval is how often the index applies changes it has not seen
// (those of other nodes, or of hooks that failed).
var catchUpInterval = 2 * time.Second

// changed records in w that entries changed and updates their index
// documents after the commit. Every write of catalog entries calls it
// once, at the end of its transaction.
func (s *Service) changed(w *db.Tx, ids ...int64) error {
	seq, err := s.stamp(w, ids)
	if err != nil {
		return err
	}
	ctx := context.WithoutCancel(w.Ctx)
	w.AfterCommit(func() { s.reindex(ctx, seq, ids...) })
	return nil
}

// changedNew is changed for entries just created, whose documents are
// built from the entries in memory (es is filled in when the hook runs).
func (s *Service) changedNew(w *db.Tx, es []Entry) error {
	ids := make([]int64, len(es))
	for i := range es {
		ids[i] = es[i].ID
	}
	seq, err := s.stamp(w, ids)
	if err != nil {
		return err
	}
	w.AfterCommit(func() { s.indexEntries(seq, es) })
	return nil
}

// stamp takes the next change sequence number and stamps it on ids.
func (s *Service) stamp(w *db.Tx, ids []int64) (int64, error) {
	var seq int64
	if err := w.QueryRow(`UPDATE change_counter SET v = v + 1 WHERE name = 'catalog' RETURNING v`).Scan(&seq); err != nil {
		return 0, err
	}
	for start := 0; start < len(ids); start += 500 {
		q, args := db.InList(`UPDATE entries SET change_seq = ? WHERE id IN `, ids[start:min(start+500, len(ids))])
		q = strings.Replace(q, "?", "$"+strconv.Itoa(len(args)+1), 1)
		if err := w.Run(q, append(args, seq)...); err != nil {
			return 0, err
		}
	}
	return seq, nil
}

// reindex updates the documents of entries after change seq committed.
// A failure is logged, not returned: the change is committed, and the
// next catch-up applies it.
func (s *Service) reindex(ctx context.Context, seq int64, ids ...int64) {
	ctx, cancel := s.db.Ctx(ctx)
	defer cancel()
	s.ixMu.Lock()
	defer s.ixMu.Unlock()
	for start := 0; start < len(ids); start += 500 {
		chunk := ids[start:min(start+500, len(ids))]
		es, err := s.loadEntries(ctx, s.db.R, chunk, true, nil)
		if err == nil {
			docs := make([]search.Doc, len(es))
			for i := range es {
				docs[i] = doc(&es[i])
			}
			err = s.ix.Upsert(docs...)
		}
		if err != nil {
			s.log.Error("catalog: index update failed; the next catch-up retries it", "err", err)
			return
		}
	}
	s.appliedLocked(seq)
}

// indexEntries indexes entries built in memory (after create).
func (s *Service) indexEntries(seq int64, es []Entry) {
	s.ixMu.Lock()
	defer s.ixMu.Unlock()
	for start := 0; start < len(es); start += 1000 {
		chunk := es[start:min(start+1000, len(es))]
		docs := make([]search.Doc, len(chunk))
		for i := range chunk {
			docs[i] = doc(&chunk[i])
		}
		if err := s.ix.Upsert(docs...); err != nil {
			s.log.Error("catalog: index update failed; the next catch-up retries it", "err", err)
			return
		}
	}
	s.appliedLocked(seq)
}

// appliedLocked remembers that change seq is in the index, so that the
// catch-up need not load its entries again. The caller holds ixMu.
func (s *Service) appliedLocked(seq int64) {
	if mark, ok, _ := s.ix.Mark(); ok && uint64(seq) <= mark {
		return
	}
	if s.applied == nil {
		s.applied = make(map[int64]bool)
	}
	s.applied[seq] = true
}

// CatchUp applies to the index the changes above its mark, in sequence
// order, and moves the mark. It runs at start-up and periodically; an
// index without a mark waits for its rebuild.
func (s *Service) CatchUp(ctx context.Context) error {
	// Bounded like every read: an unreachable database must not hold
	// connections (or ixMu) for minutes.
	ctx, cancel := s.db.Ctx(ctx)
	defer cancel()
	s.ixMu.Lock()
	defer s.ixMu.Unlock()
	mark, ok, err := s.ix.Mark()
	if err != nil || !ok {
		return err
	}
	lastSeq, lastID := int64(mark), int64(0)
	const page = 500
	for {
		// change_seq >= $1 keeps to the index on change_seq.
		rows, err := s.db.R.QueryContext(ctx, `SELECT id, change_seq FROM entries
			WHERE change_seq >= $1 AND (change_seq > $1 OR id > $2) ORDER BY change_seq, id LIMIT `+strconv.Itoa(page), lastSeq, lastID)
		if err != nil {
			return err
		}
		var ids []int64
		n := 0
		for rows.Next() {
			var id, seq int64
			if err := rows.Scan(&id, &seq); err != nil {
				rows.Close()
				return err
			}
			n++
			lastSeq, lastID = seq, id
			if !s.applied[seq] {
				ids = append(ids, id)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if n == 0 {
			break
		}
		// A full page may end inside a change: only the changes before
		// its last one are complete.
		upTo := lastSeq
		if n == page {
			upTo--
		}
		es, err := s.loadEntries(ctx, s.db.R, ids, true, nil)
		if err != nil {
			return err
		}
		docs := make([]search.Doc, len(es))
		for i := range es {
			docs[i] = doc(&es[i])
		}
		if err := s.ix.UpsertMark(uint64(max(upTo, int64(mark))), docs...); err != nil {
			return err
		}
		if n < page {
			break
		}
	}
	if mark, _, _ = s.ix.Mark(); len(s.applied) > 0 {
		for seq := range s.applied {
			if uint64(seq) <= mark {
				delete(s.applied, seq)
			}
		}
	}
	return nil
}

// openIndex brings the index up to date at start-up: an index without a
// mark (new, recreated after a schema change, or older than the change
// sequence) is rebuilt in the background, searches meanwhile seeing its
// old contents; one with a mark catches up now. Then the periodic
// catch-up starts.
func (s *Service) openIndex(ctx context.Context) error {
	_, ok, err := s.ix.Mark()
	if err != nil {
		return err
	}
	if !ok {
		var n int
		if err := s.db.R.QueryRowContext(ctx, `SELECT COUNT(*) FROM entries`).Scan(&n); err != nil {
			return err
		}
		docs, err := s.ix.Count()
		if err != nil {
			return err
		}
		if n == 0 && docs == 0 {
			seq, err := s.changeSeq(ctx)
			if err == nil {
				err = s.ix.UpsertMark(uint64(seq))
			}
			if err != nil {
				return err
			}
		} else if _, err := s.StartRebuild(); err != nil {
			return err
		}
	} else if err := s.CatchUp(ctx); err != nil {
		return err
	}
	s.bg.Add(1)
	go s.catchUpLoop()
	return nil
}

// catchUpLoop runs CatchUp every catchUpInterval until the service closes.
func (s *Service) catchUpLoop() {
	defer s.bg.Done()
	t := time.NewTicker(catchUpInterval)
	defer t.Stop()
	for {
		select {
		case <-s.bgCtx.Done():
			return
		case <-t.C:
			if err := s.CatchUp(s.bgCtx); err != nil && s.bgCtx.Err() == nil {
				s.log.Warn("catalog: index catch-up failed", "err", err)
			}
		}
	}
}

// changeSeq returns the last change sequence number committed.
func (s *Service) changeSeq(ctx context.Context) (int64, error) {
	var v int64
	err := s.db.R.QueryRowContext(ctx, `SELECT v FROM change_counter WHERE name = 'catalog'`).Scan(&v)
	return v, err
}

// IndexReady reports whether the search index can answer searches: it is
// open and has been built (an index being built for the first time, or
// after a schema change, cannot).
func (s *Service) IndexReady() error {
	_, ok, err := s.ix.Mark()
	if err != nil {
		return err
	}
	if !ok {
		return errs.New(errs.KindUnavailable, "catalog.index_building", "检索索引正在建立", "the search index is being built")
	}
	return nil
}

// searchQuery translates q for the index, adding p's visibility filter.
func (s *Service) searchQuery(p *auth.Principal, q SearchQuery) (search.Query, error) {
	sq := search.Query{Q: q.Q, Offset: q.Offset, Limit: q.Limit, FacetSize: q.FacetSize, Filters: map[string][]string{}}
	if sq.Limit <= 0 {
		sq.Limit = 20
	}
	for name, vals := range q.Filters {
		if !slices.Contains(Facets, name) {
			return sq, errs.Invalid("catalog.unknown_filter", "未知的筛选条件 "+name, "unknown filter "+name)
		}
		var clean []string
		for _, v := range vals {
			if v = strings.TrimSpace(v); v != "" {
				if name == "region" {
					v = org.RegionPrefix(v)
				}
				clean = append(clean, v)
			}
		}
		if name == "region" {
			name = "region_path"
		}
		sq.Filters[name] = clean
	}
	if access := visibilityOf(p).access(); access != nil {
		sq.Filters["access"] = access
	}
	switch sort := q.Sort; {
	case sort == "" && strings.TrimSpace(q.Q) == "":
		sq.Sort = "-updated"
	case sort == "" || sort == "relevance":
	case slices.Contains(Sorts, sort):
		sq.Sort = sort
	default:
		return sq, errs.Invalid("catalog.unknown_sort", "未知的排序方式 "+sort, "unknown sort "+sort)
	}
	sq.Facets = q.Facets
	if sq.Facets == nil {
		sq.Facets = Facets
	}
	for _, f := range sq.Facets {
		if !slices.Contains(Facets, f) {
			return sq, errs.Invalid("catalog.unknown_facet", "未知的分面 "+f, "unknown facet "+f)
		}
	}
	return sq, nil
}

// Search finds entries visible to p: published entries for everybody with
// catalog.read, and every entry of the bodies whose catalog p edits (all
// entries for reviewers). Items are returned without data items.
func (s *Service) Search(ctx context.Context, p *auth.Principal, q SearchQuery) (SearchResult, error) {
	res, err := s.SearchIDs(ctx, p, q)
	if err != nil {
		return SearchResult{}, err
	}
	ids := make([]int64, 0, len(res.IDs))
	for _, id := range res.IDs {
		if n, err := strconv.ParseInt(id, 10, 64); err == nil {
			ids = append(ids, n)
		}
	}
	nm := s.names()
	nm.shared = &s.labels
	es, err := s.loadEntries(ctx, s.db.R, ids, false, nm)
	if err != nil {
		return SearchResult{}, err
	}
	out := SearchResult{Items: make([]Entry, 0, len(es)), Total: int(res.Total), Facets: map[string][]FacetValue{}}
	for i := range es {
		if visible(p, &es[i]) { // the index may lag a moment behind
			decorate(p, &es[i])
			out.Items = append(out.Items, es[i])
		}
	}
	var bodyIDs []int64
	var regionCodes []string
	for _, c := range res.Facets["provider"] {
		if id, err := strconv.ParseInt(c.Value, 10, 64); err == nil {
			bodyIDs = append(bodyIDs, id)
		}
	}
	for _, c := range res.Facets["region"] {
		regionCodes = append(regionCodes, c.Value)
	}
	if err := nm.prefetch(ctx, bodyIDs, regionCodes); err != nil {
		return SearchResult{}, err
	}
	sets := s.facetTerms()
	for name, counts := range res.Facets {
		vals := make([]FacetValue, len(counts))
		for i, c := range counts {
			vals[i] = s.facetValue(ctx, nm, sets[name], name, c.Value)
			vals[i].Count = c.Count
		}
		out.Facets[name] = vals
	}
	return out, nil
}

// labelTTL is how long searches reuse the names of bodies and regions: a
// renamed body shows its new name in search results within this time.
var labelTTL = 30 * time.Second

// labelCache holds body and region names across searches, so that a page
// of results and its facets mostly need no lookups. It is emptied every
// labelTTL. A nil *labelCache caches nothing.
type labelCache struct {
	mu      sync.RWMutex
	since   time.Time
	bodies  map[int64]org.Body
	regions map[string]string
}

func (c *labelCache) body(id int64) (org.Body, bool) {
	if c == nil {
		return org.Body{}, false
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	b, ok := c.bodies[id]
	return b, ok && time.Since(c.since) < labelTTL
}

func (c *labelCache) region(code string) (string, bool) {
	if c == nil {
		return "", false
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	r, ok := c.regions[code]
	return r, ok && time.Since(c.since) < labelTTL
}

// expireLocked empties the cache when it is older than labelTTL.
func (c *labelCache) expireLocked() {
	if c.bodies == nil || time.Since(c.since) >= labelTTL {
		c.since, c.bodies, c.regions = time.Now(), map[int64]org.Body{}, map[string]string{}
	}
}

func (c *labelCache) putBodies(bs map[int64]org.Body) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.expireLocked()
	for id, b := range bs {
		if b.ID != 0 {
			c.bodies[id] = b
		}
	}
}

func (c *labelCache) putRegions(rs map[string]string) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.expireLocked()
	for code, r := range rs {
		if r != "" {
			c.regions[code] = r
		}
	}
}

// padShape pads an IN list to the next power of two by repeating its last
// value, so that lookups use a few statement texts (which the PostgreSQL
// driver prepares once per connection) instead of one per list length.
func padShape[T any](vals []T) []T {
	n := len(vals)
	if n <= 1 {
		return vals
	}
	size := 1
	for size < n {
		size *= 2
	}
	out := make([]T, size)
	copy(out, vals)
	for i := n; i < size; i++ {
		out[i] = vals[n-1]
	}
	return out
}

// facetTerms are the vocabularies that label the values of facets, by
// facet name.
func (s *Service) facetTerms() map[string][]Term {
	return map[string][]Term{"share_type": ShareTypes, "open_type": OpenTypes, "format": FormatClasses(), "cycle": Cycles,
		"grade": s.grades.Terms(), "status": Statuses, "scope": Scopes}
}

// facetValue labels a facet value; set is the facet's vocabulary (see
// facetTerms), built once per search rather than once per value.
func (s *Service) facetValue(ctx context.Context, nm *names, set []Term, facet, v string) FacetValue {
	fv := FacetValue{Value: v, Label: v}
	switch facet {
	case "provider":
		if id, err := strconv.ParseInt(v, 10, 64); err == nil {
			fv.Label = nm.body(ctx, id).Name
		}
	case "region":
		fv.Label = nm.region(ctx, v)
	case "class":
		fv.Label, fv.LabelEN = classLabel(v)
	default:
		if t, ok := Lookup(set, v); ok {
			fv.Label, fv.LabelEN = t.ZH, t.EN
		}
	}
	return fv
}

// classLabel names a classification prefix: "1" 基础, "1/01" 人口.
func classLabel(v string) (zh, en string) {
	a, ok := attributeOf(v[:1])
	if !ok {
		return v, v
	}
	if len(v) == 1 {
		return a.ZH, a.EN
	}
	if t, ok := Lookup(a.Items, v[2:]); ok {
		return t.ZH, t.EN
	}
	return a.ZH + " " + v[2:], a.EN + " " + v[2:]
}

// Filtered streams every entry matching q (Offset and Limit ignored) to fn,
// with data items, for exports. Without a text query the entries come
// straight from the database in id order, however many; with one, from the
// index in q's order, and at most search.MaxWindow of them.
func (s *Service) Filtered(ctx context.Context, p *auth.Principal, q SearchQuery, fn func(Entry) error) error {
	if p != System && !p.Has(auth.PermCatalogRead) {
		return errs.ErrForbidden
	}
	sq, err := s.searchQuery(p, q)
	if err != nil {
		return err
	}
	if strings.TrimSpace(q.Q) == "" {
		return s.filteredSQL(ctx, p, q, fn)
	}
	sq.Facets, sq.Limit = nil, search.MaxLimit
	nm := s.names()
	for sq.Offset = 0; ; sq.Offset += sq.Limit {
		res, err := s.ix.Search(ctx, sq)
		if err != nil {
			return err
		}
		if res.Total > search.MaxWindow {
			return errs.Invalid("catalog.too_many_results", "匹配的目录过多，请缩小检索范围", "too many entries match; narrow the search")
		}
		ids := make([]int64, 0, len(res.IDs))
		for _, id := range res.IDs {
			if n, err := strconv.ParseInt(id, 10, 64); err == nil {
				ids = append(ids, n)
			}
		}
		if err := s.emit(ctx, p, ids, nm, fn); err != nil {
			return err
		}
		if len(res.IDs) < sq.Limit {
			return nil
		}
	}
}

func (s *Service) emit(ctx context.Context, p *auth.Principal, ids []int64, nm *names, fn func(Entry) error) error {
	es, err := s.loadEntries(ctx, s.db.R, ids, true, nm)
	if err != nil {
		return err
	}
	for i := range es {
		if !visible(p, &es[i]) {
			continue
		}
		decorate(p, &es[i])
		if err := fn(es[i]); err != nil {
			return err
		}
	}
	return nil
}

// filteredSQL is Filtered without a text query: the same filters in SQL,
// read in pages by id.
func (s *Service) filteredSQL(ctx context.Context, p *auth.Principal, q SearchQuery, fn func(Entry) error) error {
	where, args := s.filterSQL(p, q.Filters)
	nm := s.names()
	last := int64(0)
	for {
		a := append([]any(nil), args...)
		a = append(a, last)
		ids, err := db.Int64s(s.db.R.QueryContext(ctx, `SELECT e.id FROM entries e JOIN entry_versions v ON v.id = e.current_version_id WHERE `+where+
			` AND e.id > $`+strconv.Itoa(len(a))+` ORDER BY e.id LIMIT 500`, a...))
		if err != nil {
			return err
		}
		if len(ids) == 0 {
			return nil
		}
		if err := s.emit(ctx, p, ids, nm, fn); err != nil {
			return err
		}
		last = ids[len(ids)-1]
	}
}

var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

// filterSQL renders facet filters and p's visibility as a WHERE clause
// over entries e joined with their current version v.
func (s *Service) filterSQL(p *auth.Principal, filters map[string][]string) (string, []any) {
	var args []any
	arg := func(v any) string { args = append(args, v); return "$" + strconv.Itoa(len(args)) }
	where := []string{"1=1"}
	column := map[string]string{"share_type": "v.share_type", "open_type": "v.open_type", "format": "v.format_class",
		"cycle": "v.cycle", "grade": "v.grade", "status": "e.status", "scope": "e.scope"}
	names := make([]string, 0, len(filters))
	for name := range filters {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		var alts []string
		for _, v := range filters[name] {
			if v = strings.TrimSpace(v); v == "" {
				continue
			}
			switch name {
			case "provider":
				id, _ := strconv.ParseInt(v, 10, 64)
				alts = append(alts, "e.provider_id = "+arg(id))
			case "region":
				alts = append(alts, "e.region_code LIKE "+arg(likeEscaper.Replace(org.RegionPrefix(v))+"%")+` ESCAPE '\'`)
			case "class":
				alts = append(alts, "(e.class = "+arg(v)+" OR e.class LIKE "+arg(likeEscaper.Replace(v)+"/%")+` ESCAPE '\')`)
			default:
				alts = append(alts, column[name]+" = "+arg(v))
			}
		}
		if len(alts) > 0 {
			where = append(where, "("+strings.Join(alts, " OR ")+")")
		}
	}
	if vis := visibilityOf(p).sql(arg); vis != "" {
		where = append(where, vis)
	}
	return strings.Join(where, " AND "), args
}

// IndexStatus reports on index rebuilds.
type IndexStatus struct {
	Running    bool       `json:"running"`
	Done       int        `json:"done"`
	Total      int        `json:"total"`
	StartedAt  *time.Time `json:"started_at,omitempty"`
	FinishedAt *time.Time `json:"finished_at,omitempty"`
	Error      string     `json:"error,omitempty"`
	Documents  uint64     `json:"documents" doc:"documents in the live index"`
}

var errRebuilding = errs.Conflict("catalog.index_rebuilding", "索引正在重建中", "the index is being rebuilt")

// IndexStatus returns the state of the last or running rebuild.
func (s *Service) IndexStatus() IndexStatus {
	s.rebuildMu.Lock()
	st := s.rebuild
	s.rebuildMu.Unlock()
	st.Documents, _ = s.ix.Count()
	return st
}

// IndexSize returns the size of the live search index on disk (see
// search.Index.SizeBytes).
func (s *Service) IndexSize() (int64, error) { return s.ix.SizeBytes() }

// StartRebuild starts rebuilding the index in the background (if no
// rebuild runs) and returns its status; follow it with IndexStatus.
func (s *Service) StartRebuild() (IndexStatus, error) {
	if err := s.beginRebuild(); err != nil {
		if errors.Is(err, errRebuilding) {
			return s.IndexStatus(), nil
		}
		return IndexStatus{}, err
	}
	s.bg.Add(1)
	go func() {
		defer s.bg.Done()
		err := s.runRebuild(s.bgCtx, nil)
		if err != nil && s.bgCtx.Err() == nil {
			s.log.Error("catalog: index rebuild failed", "err", err)
		}
	}()
	return s.IndexStatus(), nil
}

// RebuildIndex rebuilds the search index from the database, reporting
// progress (done of total entries) to progress when it is not nil. The live
// index keeps serving searches meanwhile and is swapped at the end.
// A rebuild already running (say the one Open starts for an index without
// a mark) is waited for first.
func (s *Service) RebuildIndex(ctx context.Context, progress func(done, total int)) error {
	for {
		err := s.beginRebuild()
		if err == nil {
			break
		}
		if !errors.Is(err, errRebuilding) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	return s.runRebuild(ctx, progress)
}

func (s *Service) beginRebuild() error {
	s.rebuildMu.Lock()
	defer s.rebuildMu.Unlock()
	if s.rebuild.Running {
		return errRebuilding
	}
	now := s.clock()
	s.rebuild = IndexStatus{Running: true, StartedAt: &now}
	return nil
}

func (s *Service) runRebuild(ctx context.Context, progress func(done, total int)) (err error) {
	total := 0
	defer func() {
		s.rebuildMu.Lock()
		now := s.clock()
		s.rebuild.Running, s.rebuild.FinishedAt = false, &now
		if err != nil {
			s.rebuild.Error = err.Error()
		}
		s.rebuildMu.Unlock()
	}()
	if err := s.db.R.QueryRowContext(ctx, `SELECT COUNT(*) FROM entries`).Scan(&total); err != nil {
		return err
	}
	// Changes after this sequence number may be missed by the scan; the
	// catch-up applies them to the new index.
	seq, err := s.changeSeq(ctx)
	if err != nil {
		return err
	}
	s.setProgress(0, total, progress)
	return s.ix.RebuildMark(uint64(seq), func(yield func(search.Doc) error) error {
		nm := s.names()
		done, last := 0, int64(0)
		for {
			if err := ctx.Err(); err != nil {
				return err
			}
			ids, err := db.Int64s(s.db.R.QueryContext(ctx, `SELECT id FROM entries WHERE id > $1 ORDER BY id LIMIT 500`, last))
			if err != nil || len(ids) == 0 {
				return err
			}
			es, err := s.loadEntries(ctx, s.db.R, ids, true, nm)
			if err != nil {
				return err
			}
			for i := range es {
				if err := yield(doc(&es[i])); err != nil {
					return err
				}
			}
			done += len(ids)
			last = ids[len(ids)-1]
			s.setProgress(done, max(total, done), progress)
		}
	})
}

func (s *Service) setProgress(done, total int, progress func(done, total int)) {
	s.rebuildMu.Lock()
	s.rebuild.Done, s.rebuild.Total = done, total
	s.rebuildMu.Unlock()
	if progress != nil {
		progress(done, total)
	}
}
