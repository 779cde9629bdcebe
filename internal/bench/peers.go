package bench

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"xiangyun/internal/db"
	"xiangyun/internal/org"
)

// The peer is what the database itself offers for substring search: an
// FTS5 table with the trigram tokenizer on SQLite, a pg_trgm GIN index on
// PostgreSQL. Both are loaded with the same entries as the catalog (the
// current version's name, the provider's name, the abstract and the data
// items' Chinese and English names, in one text column per entry, beside
// the filter columns) and asked the same queries as substring matches with
// the same filters and visibility, a COUNT(*) and a page of 20 in update
// order (they have no relevance for LIKE queries and no facets).

// peer is a built peer index.
type peer struct {
	Name     string        // "FTS5 trigram" or "pg_trgm GIN"
	Build    time.Duration // building the index over the loaded table
	Size     int64         // of the index alone, bytes
	Docs     int
	postgres bool
}

// buildPeer loads the peer table from the catalog and builds its index.
func (b *bench) buildPeer(ctx context.Context) (*peer, error) {
	w := b.s.Control.Writer()
	pg := b.s.Control.Dialect == db.Postgres
	p := &peer{Name: "FTS5 trigram", postgres: pg}
	agg := `group_concat(i.name || ' ' || i.en_name, ' ')`
	if pg {
		p.Name = "pg_trgm GIN"
		agg = `string_agg(i.name || ' ' || i.en_name, ' ')`
	}
	stmts := []string{`DROP TABLE IF EXISTS bench_peer`,
		`CREATE TABLE bench_peer (id BIGINT PRIMARY KEY, status TEXT, provider_id BIGINT, region_code TEXT, scope TEXT, grade TEXT,
			share_type TEXT, open_type TEXT, format_class TEXT, cycle TEXT, name TEXT, updated_at TEXT, doc TEXT)`,
		`INSERT INTO bench_peer SELECT e.id, e.status, e.provider_id, e.region_code, e.scope, v.grade, v.share_type, v.open_type,
			v.format_class, v.cycle, v.name, e.updated_at,
			v.name || ' ' || b.name || ' ' || v.abstract || ' ' || COALESCE((SELECT ` + agg + ` FROM entry_items i WHERE i.version_id = v.id), '')
			FROM entries e JOIN entry_versions v ON v.id = e.current_version_id JOIN bodies b ON b.id = e.provider_id`,
	}
	if pg {
		stmts = append(stmts, `CREATE EXTENSION IF NOT EXISTS pg_trgm`, `ANALYZE bench_peer`)
	}
	for _, q := range stmts {
		if _, err := w.ExecContext(ctx, q); err != nil {
			return nil, fmt.Errorf("peer: %w", err)
		}
	}
	if err := w.QueryRowContext(ctx, `SELECT COUNT(*) FROM bench_peer`).Scan(&p.Docs); err != nil {
		return nil, err
	}
	b.stage(fmt.Sprintf("building the peer index (%s) over %s entries", p.Name, commas(p.Docs)))
	start := time.Now()
	if pg {
		if _, err := w.ExecContext(ctx, `CREATE INDEX bench_peer_trgm ON bench_peer USING gin (doc gin_trgm_ops)`); err != nil {
			return nil, fmt.Errorf("peer: %w", err)
		}
		p.Build = time.Since(start)
		if err := w.QueryRowContext(ctx, `SELECT pg_relation_size('bench_peer_trgm')`).Scan(&p.Size); err != nil {
			return nil, err
		}
		if _, err := w.ExecContext(ctx, `ANALYZE bench_peer`); err != nil {
			return nil, err
		}
		return p, nil
	}
	for _, q := range []string{
		`CREATE VIRTUAL TABLE bench_fts USING fts5(doc, tokenize='trigram', content='bench_peer', content_rowid='id')`,
		`INSERT INTO bench_fts(rowid, doc) SELECT id, doc FROM bench_peer`,
	} {
		if _, err := w.ExecContext(ctx, q); err != nil {
			return nil, fmt.Errorf("peer: %w", err)
		}
	}
	p.Build = time.Since(start)
	if err := w.QueryRowContext(ctx, `SELECT COALESCE(SUM(pgsize), 0) FROM dbstat WHERE name LIKE 'bench_fts%'`).Scan(&p.Size); err != nil {
		return nil, err
	}
	// Write the loaded tables from the write-ahead log to the database
	// now, not in the commit of the first catalog write that follows.
	if _, err := w.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		return nil, err
	}
	return p, nil
}

// peerSQL renders q for the peer: the substring match on the index, the
// filters and the searcher's visibility on the table's columns.
func (b *bench) peerSQL(q benchQuery, word string) (count, page string, args []any, err error) {
	var a db.Args
	vis := []string{"p.status = 'published'"}
	for _, id := range b.bodies {
		vis = append(vis, "p.provider_id = "+a.Add(id))
	}
	where := []string{"(" + strings.Join(vis, " OR ") + ")"}
	if t := strings.TrimSpace(word); t != "" {
		arg := a.Add(db.Like(t))
		if b.peer.postgres {
			where = append(where, `p.doc ILIKE `+arg+` ESCAPE '\'`)
		} else {
			where = append(where, `p.id IN (SELECT rowid FROM bench_fts WHERE doc LIKE `+arg+` ESCAPE '\')`)
		}
	}
	columns := map[string]string{"grade": "p.grade", "share_type": "p.share_type", "open_type": "p.open_type",
		"format": "p.format_class", "cycle": "p.cycle", "status": "p.status", "scope": "p.scope"}
	for _, name := range slices.Sorted(maps.Keys(q.Filters)) {
		var alts []string
		for _, v := range q.Filters[name] {
			switch col, ok := columns[name]; {
			case name == "region":
				alts = append(alts, "p.region_code LIKE "+a.Add(org.RegionPrefix(v)+"%"))
			case name == "provider":
				id, _ := strconv.ParseInt(v, 10, 64)
				alts = append(alts, "p.provider_id = "+a.Add(id))
			case ok:
				alts = append(alts, col+" = "+a.Add(v))
			default:
				return "", "", nil, fmt.Errorf("bench: no SQL for filter %q", name)
			}
		}
		where = append(where, "("+strings.Join(alts, " OR ")+")")
	}
	order := "p.updated_at DESC, p.id"
	if q.Sort == "name" {
		order = "p.name, p.id"
	}
	from := ` FROM bench_peer p WHERE ` + strings.Join(where, " AND ")
	count = `SELECT COUNT(*)` + from
	page = `SELECT p.id` + from + ` ORDER BY ` + order + ` LIMIT ` + strconv.Itoa(benchPageSize) +
		` OFFSET ` + strconv.Itoa((max(q.Page, 1)-1)*benchPageSize)
	return count, page, a, nil
}

func (b *bench) runPeer(ctx context.Context, q benchQuery, word string) (int, time.Duration, error) {
	count, page, args, err := b.peerSQL(q, word)
	if err != nil {
		return 0, 0, err
	}
	r := b.s.Control.R
	start := time.Now()
	var total int
	if err := r.QueryRowContext(ctx, count, args...).Scan(&total); err != nil {
		return 0, 0, fmt.Errorf("peer count: %w", err)
	}
	rows, err := r.QueryContext(ctx, page, args...)
	if err != nil {
		return 0, 0, fmt.Errorf("peer page: %w", err)
	}
	n := 0
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return 0, 0, err
		}
		n++
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, 0, err
	}
	d := time.Since(start)
	if want := min(benchPageSize, max(total-(max(q.Page, 1)-1)*benchPageSize, 0)); n != want {
		return 0, 0, fmt.Errorf("peer page: %d rows, want %d of %d", n, want, total)
	}
	return total, d, nil
}
