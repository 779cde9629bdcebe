package ingest

import (
	"context"
	"iter"
	"strconv"
	"strings"

	"xiangyun/internal/auth"
	"xiangyun/internal/catalog"
	"xiangyun/internal/db"
	"xiangyun/internal/errs"
	"xiangyun/internal/mask"
	"xiangyun/internal/quality"
)

// Multi-source check (多源校核) over real records: quality.Pairs names two
// published entries of different bodies that share a key of the same
// meaning (身份证号, 统一社会信用代码 …) and other items of the same name;
// Compare streams both entries' records through quality.Compare.

// compareKey is the field that carries a record's key in the iterators.
const compareKey = "\x00key"

// MaxCompareRecords bounds the records of the side held in memory.
const MaxCompareRecords = 2_000_000

// Compare runs the multi-source check of a pair: the disagreeing values of
// the items of the same name, keyed by the shared key. Only the platform's
// quality readers may run it, and the values it lists are masked by each
// item's rule (the key by A's): the check says where two bodies disagree,
// it does not hand out their records.
func (s *Service) Compare(ctx context.Context, p *auth.Principal, pair quality.Pair, limit int) (quality.Comparison, error) {
	if p != catalog.System && !p.Global(auth.PermQualityRead) {
		return quality.Comparison{}, errs.Forbidden("ingest.compare", "只有平台的数据质量人员可以进行多源校核", "only the platform's quality staff may run a multi-source check")
	}
	ea, err := s.entry(ctx, pair.AID)
	if err != nil {
		return quality.Comparison{}, err
	}
	eb, err := s.entry(ctx, pair.BID)
	if err != nil {
		return quality.Comparison{}, err
	}
	ta, err := s.table(ctx, &ea)
	if err != nil {
		return quality.Comparison{}, err
	}
	tb, err := s.table(ctx, &eb)
	if err != nil {
		return quality.Comparison{}, err
	}
	// Hold the smaller side in memory.
	counts, err := s.RecordCounts(ctx, []int64{ea.ID, eb.ID})
	if err != nil {
		return quality.Comparison{}, err
	}
	swap := counts[ea.ID] > counts[eb.ID]
	if min(counts[ea.ID], counts[eb.ID]) > MaxCompareRecords {
		return quality.Comparison{}, errs.New(errs.KindTooLarge, "ingest.compare_size", "两个目录的记录都超过 200 万条，不能在线校核", "both entries hold more than 2 million records; too many for an online check")
	}
	colsA, err := compareCols(&ea, ta, pair.KeyA, pair.Items)
	if err != nil {
		return quality.Comparison{}, err
	}
	colsB, err := compareCols(&eb, tb, pair.KeyB, pair.Items)
	if err != nil {
		return quality.Comparison{}, err
	}
	a, b := s.recordIter(ctx, ta, colsA), s.recordIter(ctx, tb, colsB)
	if swap {
		a, b = b, a
	}
	c, err := quality.Compare(a, b, []string{compareKey}, pair.Items, limit)
	if err != nil {
		return c, err
	}
	// Mask what is shown: the key by A's key item, values by each side's item.
	rule := func(e *catalog.Entry, name string) string {
		for _, it := range e.Items {
			if itemName(it.Name) == itemName(name) {
				return mask.For(it.Mask, it.Name, it.Sensitive, e.Grade)
			}
		}
		return mask.None
	}
	apply := func(r, v string) string {
		if r == "" || r == mask.None {
			return v
		}
		return mask.Apply(r, v)
	}
	left, right := &ea, &eb
	if swap {
		left, right = &eb, &ea
	}
	keyRule := rule(&ea, pair.KeyA)
	for i := range c.Disagreements {
		d := &c.Disagreements[i]
		d.Key = apply(keyRule, d.Key)
		d.A = apply(rule(left, d.Item), d.A)
		d.B = apply(rule(right, d.Item), d.B)
		if swap {
			d.A, d.B = d.B, d.A
		}
	}
	if swap {
		c.OnlyA, c.OnlyB = c.OnlyB, c.OnlyA
	}
	return c, nil
}

func itemName(s string) string { return strings.Join(strings.Fields(s), "") }

// compareCol is a column read for a comparison, under the name the record
// carries.
type compareCol struct {
	name     string
	col      string
	dataType string
}

func compareCols(e *catalog.Entry, t *table, key string, items []string) ([]compareCol, error) {
	find := func(name string) *catalog.Item {
		for i := range e.Items {
			if itemName(e.Items[i].Name) == itemName(name) {
				return &e.Items[i]
			}
		}
		return nil
	}
	k := find(key)
	if k == nil {
		return nil, errs.Invalid("ingest.compare_item", "目录“"+e.Name+"”没有信息项“"+key+"”", "entry "+quote(e.Name)+" has no item "+quote(key))
	}
	out := []compareCol{{name: compareKey, col: t.Cols[k.Name].Col, dataType: k.DataType}}
	for _, n := range items {
		it := find(n)
		if it == nil {
			return nil, errs.Invalid("ingest.compare_item", "目录“"+e.Name+"”没有信息项“"+n+"”", "entry "+quote(e.Name)+" has no item "+quote(n))
		}
		out = append(out, compareCol{name: n, col: t.Cols[it.Name].Col, dataType: it.DataType})
	}
	return out, nil
}

// recordIter streams a table's live records as text by name, chunk by
// chunk in record order, each chunk under the read deadline.
func (s *Service) recordIter(ctx context.Context, t *table, cols []compareCol) iter.Seq2[quality.Record, error] {
	sel := []string{"_id"}
	for _, c := range cols {
		expr := c.col
		if s.db.Dialect == db.Postgres && (c.dataType == "N" || c.dataType == "Y") {
			expr = "CAST(" + expr + " AS TEXT)"
		}
		sel = append(sel, expr)
	}
	q := `SELECT ` + strings.Join(sel, ", ") + ` FROM ` + t.Name + ` WHERE _deleted = FALSE AND _id > $1 ORDER BY _id LIMIT ` + strconv.Itoa(exportChunk)
	return func(yield func(quality.Record, error) bool) {
		var last int64
		for {
			batch, err := s.readChunk(ctx, q, last, cols)
			if err != nil {
				yield(nil, err)
				return
			}
			for _, r := range batch {
				last = r.id
				if !yield(r.rec, nil) {
					return
				}
			}
			if len(batch) < exportChunk {
				return
			}
		}
	}
}

type idRecord struct {
	id  int64
	rec quality.Record
}

func (s *Service) readChunk(ctx context.Context, q string, after int64, cols []compareCol) ([]idRecord, error) {
	ctx, cancel := s.db.Ctx(ctx)
	defer cancel()
	rows, err := s.db.R.QueryContext(ctx, q, after)
	if err != nil {
		return nil, db.Check(err)
	}
	defer rows.Close()
	var out []idRecord
	vals := make([]any, len(cols))
	dest := make([]any, len(cols)+1)
	for rows.Next() {
		var r idRecord
		dest[0] = &r.id
		for i := range vals {
			vals[i] = nil
			dest[i+1] = &vals[i]
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, err
		}
		r.rec = make(quality.Record, len(cols))
		for i, c := range cols {
			v := output(c.dataType, vals[i])
			switch x := v.(type) {
			case nil:
			case string:
				r.rec[c.name] = x
			default:
				r.rec[c.name] = toText(x)
			}
		}
		out = append(out, r)
	}
	return out, db.Check(rows.Err())
}
