package quality

import (
	"context"
	"errors"
	"iter"
	"slices"
	"strings"
	"time"

	"xiangyun/internal/auth"
	"xiangyun/internal/catalog"
	"xiangyun/internal/db"
	"xiangyun/internal/errs"
	"xiangyun/internal/valid"
)

// EntryRef names an entry.
type EntryRef struct {
	ID   int64  `json:"id"`
	Code string `json:"code"`
	Name string `json:"name"`
}

// SourceClaim is one body providing a data item, with the entries that do.
type SourceClaim struct {
	BodyID  int64      `json:"body_id"`
	Body    string     `json:"body"`
	Entries []EntryRef `json:"entries"`
}

// Settlement is the platform's decision on the authoritative source of a
// data item (一数一源).
type Settlement struct {
	BodyID    int64     `json:"body_id"`
	Note      string    `json:"note,omitempty"`
	SettledBy string    `json:"settled_by"`
	SettledAt time.Time `json:"settled_at"`
}

// OneSource is a data item that more than one body claims to provide in
// published entries.
type OneSource struct {
	Item       string        `json:"item"`
	Identifier bool          `json:"identifier" doc:"an identifier (ID number, credit code …): settle these first"`
	Bodies     []SourceClaim `json:"bodies"`
	Settled    *Settlement   `json:"settled,omitempty"`
}

// itemName normalises a data item's name for comparison.
func itemName(s string) string {
	return strings.Join(strings.Fields(s), "")
}

// OneSource lists data items provided by more than one body across the
// published catalog, identifiers first, then by the number of bodies.
func (s *Service) OneSource(ctx context.Context, p *auth.Principal) ([]OneSource, error) {
	if p != catalog.System && !p.Global(auth.PermQualityRead) {
		return nil, errForbidden
	}
	type claim struct {
		body    string
		entries []EntryRef
	}
	byItem := map[string]map[int64]*claim{}
	ident := map[string]bool{}
	err := s.published(ctx, 0, func(e catalog.Entry) error {
		for _, it := range e.Items {
			n := itemName(it.Name)
			if n == "" {
				continue
			}
			if byItem[n] == nil {
				byItem[n] = map[int64]*claim{}
			}
			c := byItem[n][e.ProviderID]
			if c == nil {
				c = &claim{body: e.Provider}
				byItem[n][e.ProviderID] = c
			}
			if !slices.ContainsFunc(c.entries, func(r EntryRef) bool { return r.ID == e.ID }) {
				c.entries = append(c.entries, EntryRef{ID: e.ID, Code: e.Code, Name: e.Name})
			}
			if k := nameKind(it); k == KindIDCard || k == KindCreditCode || k == KindOrgCode {
				ident[n] = true
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	settled, err := s.settlements(ctx)
	if err != nil {
		return nil, err
	}
	var out []OneSource
	for n, bodies := range byItem {
		if len(bodies) < 2 {
			continue
		}
		o := OneSource{Item: n, Identifier: ident[n]}
		for id, c := range bodies {
			o.Bodies = append(o.Bodies, SourceClaim{BodyID: id, Body: c.body, Entries: c.entries})
		}
		slices.SortFunc(o.Bodies, func(a, b SourceClaim) int { return int(a.BodyID - b.BodyID) })
		if st, ok := settled[n]; ok {
			o.Settled = &st
		}
		out = append(out, o)
	}
	slices.SortFunc(out, func(a, b OneSource) int {
		switch {
		case a.Identifier != b.Identifier:
			if a.Identifier {
				return -1
			}
			return 1
		case (a.Settled == nil) != (b.Settled == nil):
			if a.Settled == nil {
				return -1
			}
			return 1
		case len(a.Bodies) != len(b.Bodies):
			return len(b.Bodies) - len(a.Bodies)
		}
		return strings.Compare(a.Item, b.Item)
	})
	return out, nil
}

func (s *Service) settlements(ctx context.Context) (map[string]Settlement, error) {
	ctx, cancel := s.db.Ctx(ctx)
	defer cancel()
	rows, err := s.db.R.QueryContext(ctx, `SELECT item_name, body_id, note, settled_by, settled_at FROM quality_sources`)
	if err != nil {
		return nil, db.Check(err)
	}
	defer rows.Close()
	out := map[string]Settlement{}
	for rows.Next() {
		var n string
		var st Settlement
		var at db.Time
		if err := rows.Scan(&n, &st.BodyID, &st.Note, &st.SettledBy, &at); err != nil {
			return nil, err
		}
		st.SettledAt = at.Time
		out[n] = st
	}
	return out, db.Check(rows.Err())
}

// Settle records the authoritative body of a data item claimed by several
// (platform reviewers); the other bodies are then expected to take it from
// that source. bodyID 0 removes the settlement.
func (s *Service) Settle(ctx context.Context, p *auth.Principal, item string, bodyID int64, note string) error {
	if p != catalog.System && !p.Global(auth.PermCatalogReview) {
		return errs.Forbidden("quality.settle", "只有平台审核员可以认定权威来源", "only platform reviewers may settle a data item's source")
	}
	var fs errs.Fields
	item = itemName(valid.Line(&fs, "item", "信息项", item, 1, 100))
	note = valid.Text(&fs, "note", note, 0, 500)
	if err := fs.Err(); err != nil {
		return err
	}
	if bodyID > 0 {
		claims, err := s.OneSource(ctx, p)
		if err != nil {
			return err
		}
		i := slices.IndexFunc(claims, func(o OneSource) bool { return o.Item == item })
		if i < 0 || !slices.ContainsFunc(claims[i].Bodies, func(c SourceClaim) bool { return c.BodyID == bodyID }) {
			return errs.Invalid("quality.settle_body", "该部门并未提供此信息项，或此信息项只有一个来源",
				"that body does not provide this data item, or the item has a single source")
		}
	}
	return db.Check(s.db.Tx(ctx, func(tx *db.Tx) error {
		if bodyID == 0 {
			return tx.Run(`DELETE FROM quality_sources WHERE item_name = $1`, item)
		}
		return tx.Run(`INSERT INTO quality_sources (item_name, body_id, note, settled_by, settled_at) VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (item_name) DO UPDATE SET body_id = excluded.body_id, note = excluded.note,
				settled_by = excluded.settled_by, settled_at = excluded.settled_at`, item, bodyID, note, p.User.Username, tx.Now)
	}))
}

// Record is one record as text by item name.
type Record = map[string]string

// Disagreement is a key whose sources hold different values of an item.
type Disagreement struct {
	Key  string `json:"key"`
	Item string `json:"item"`
	A    string `json:"a"`
	B    string `json:"b"`
}

// Comparison is the result of a multi-source check (多源校核).
type Comparison struct {
	Matched       int            `json:"matched" doc:"keys present in both sources"`
	OnlyA         int            `json:"only_a"`
	OnlyB         int            `json:"only_b"`
	Disagreeing   int            `json:"disagreeing" doc:"keys with at least one differing value"`
	Disagreements []Disagreement `json:"disagreements" doc:"up to the limit, in B's order"`
}

// Compare lists the values of items that disagree between two sources of
// records keyed by the key items (e.g. 公民身份号码): records of a are held
// in memory by key (the smaller source should be a), b is streamed. Values
// are compared after trimming spaces; an empty value on either side is not
// a disagreement (it is a completeness matter). At most limit disagreements
// are listed (all are counted). Ingest supplies the iterators over two
// entries' records; see Pairs for the entries to compare.
func Compare(a, b iter.Seq2[Record, error], key, items []string, limit int) (Comparison, error) {
	var c Comparison
	if len(key) == 0 || len(items) == 0 {
		return c, errors.New("quality: Compare needs key items and items to compare")
	}
	keyOf := func(r Record) string {
		parts := make([]string, len(key))
		for i, k := range key {
			parts[i] = strings.TrimSpace(r[k])
		}
		return strings.Join(parts, "\x00")
	}
	held := map[string][]string{}
	for r, err := range a {
		if err != nil {
			return c, err
		}
		k := keyOf(r)
		if strings.Trim(k, "\x00") == "" {
			continue
		}
		vals := make([]string, len(items))
		for i, it := range items {
			vals[i] = strings.TrimSpace(r[it])
		}
		held[k] = vals
	}
	seen := make(map[string]bool, len(held))
	for r, err := range b {
		if err != nil {
			return c, err
		}
		k := keyOf(r)
		if strings.Trim(k, "\x00") == "" || seen[k] {
			continue
		}
		seen[k] = true
		av, ok := held[k]
		if !ok {
			c.OnlyB++
			continue
		}
		c.Matched++
		differs := false
		for i, it := range items {
			bv := strings.TrimSpace(r[it])
			if av[i] == "" || bv == "" || av[i] == bv {
				continue
			}
			differs = true
			if len(c.Disagreements) < limit {
				c.Disagreements = append(c.Disagreements, Disagreement{Key: strings.ReplaceAll(k, "\x00", " | "), Item: it, A: av[i], B: bv})
			}
		}
		if differs {
			c.Disagreeing++
		}
	}
	c.OnlyA = len(held) - c.Matched
	if c.Disagreements == nil {
		c.Disagreements = []Disagreement{}
	}
	return c, nil
}

// Pair is two published entries that share a key of the same meaning
// (身份证号, 统一社会信用代码 …) and other items of the same name: the
// candidates of a multi-source check.
type Pair struct {
	AID     int64    `json:"a_id"`
	BID     int64    `json:"b_id"`
	AName   string   `json:"a_name"`
	BName   string   `json:"b_name"`
	KeyA    string   `json:"key_a" doc:"the key item in A"`
	KeyB    string   `json:"key_b" doc:"the key item in B"`
	Items   []string `json:"items" doc:"items of the same name to compare"`
	Meaning string   `json:"meaning" doc:"rule kind of the shared key, e.g. idcard"`
}

// Pairs lists the entry pairs of the published catalog that a multi-source
// check can compare, across different bodies.
func (s *Service) Pairs(ctx context.Context, p *auth.Principal) ([]Pair, error) {
	if p != catalog.System && !p.Global(auth.PermQualityRead) {
		return nil, errForbidden
	}
	type keyed struct {
		e    catalog.Entry
		key  string
		kind string
	}
	var es []keyed
	err := s.published(ctx, 0, func(e catalog.Entry) error {
		for _, it := range e.Items {
			if k := nameKind(it); it.Key && (k == KindIDCard || k == KindCreditCode || k == KindOrgCode) {
				es = append(es, keyed{e, it.Name, k})
				break
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	var out []Pair
	for i := range es {
		for j := i + 1; j < len(es); j++ {
			a, b := es[i], es[j]
			if a.kind != b.kind || a.e.ProviderID == b.e.ProviderID {
				continue
			}
			var items []string
			for _, x := range a.e.Items {
				if x.Name == a.key {
					continue
				}
				if slices.ContainsFunc(b.e.Items, func(y catalog.Item) bool { return itemName(y.Name) == itemName(x.Name) && y.Name != b.key }) {
					items = append(items, x.Name)
				}
			}
			if len(items) == 0 {
				continue
			}
			out = append(out, Pair{AID: a.e.ID, BID: b.e.ID, AName: a.e.Name, BName: b.e.Name, KeyA: a.key, KeyB: b.key, Items: items, Meaning: a.kind})
		}
	}
	return out, nil
}
