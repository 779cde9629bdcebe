package ingest

import (
	"context"
	"io"
	"strconv"

	"xiangyun/internal/auth"
	"xiangyun/internal/db"
	"xiangyun/internal/tabular"
)

// exportChunk is how many records one query of an export reads: an export
// walks the table by record id, chunk after chunk, each query under the
// store's read deadline, so that neither a long transaction nor the whole
// table is ever held.
const exportChunk = 5000

// ExportInfo describes an export before its rows are written.
type ExportInfo struct {
	EntryName string
	Provider  bool // unmasked: the reader is the provider
}

// Export writes an entry's live records as CSV (UTF-8 with BOM) or XLSX,
// one column per data item, to w: the same readers and masking as Records.
// start is called once the reader is allowed and before the first byte,
// so that an HTTP handler can still answer a refusal as a problem. It
// returns the number of records written.
func (s *Service) Export(ctx context.Context, p *auth.Principal, entryID int64, format tabular.Format, w io.Writer, start func(ExportInfo)) (int64, error) {
	rr, err := s.recordReader(ctx, p, entryID)
	if err != nil {
		return 0, err
	}
	if start != nil {
		start(ExportInfo{EntryName: rr.e.Name, Provider: rr.provider})
	}
	tw, err := tabular.NewWriter(w, format)
	if err != nil {
		return 0, err
	}
	header := make([]string, len(rr.e.Items))
	for i, it := range rr.e.Items {
		header[i] = it.Name
	}
	if err := tw.WriteHeader(header); err != nil {
		return 0, err
	}
	var (
		n    int64
		last int64
	)
	for {
		got, err := s.exportChunk(ctx, rr, last, func(r scanned) error {
			last = r.id
			n++
			return tw.WriteRow(r.vals)
		})
		if err != nil {
			tw.Close()
			return n, err
		}
		if got < exportChunk {
			break
		}
	}
	return n, tw.Close()
}

func (s *Service) exportChunk(ctx context.Context, rr *recordReader, after int64, each func(scanned) error) (int, error) {
	ctx, cancel := s.db.Ctx(ctx)
	defer cancel()
	rows, err := s.db.R.QueryContext(ctx, `SELECT `+rr.sel+` FROM `+rr.t.Name+` WHERE _deleted = FALSE AND _id > $1 ORDER BY _id LIMIT `+
		strconv.Itoa(exportChunk), after)
	if err != nil {
		return 0, db.Check(err)
	}
	defer rows.Close()
	got := 0
	for rows.Next() {
		r, err := rr.scan(rows)
		if err != nil {
			return got, err
		}
		got++
		if err := each(r); err != nil {
			return got, err
		}
	}
	return got, db.Check(rows.Err())
}

// RecordCounts returns the number of live records of each of the given
// entries that has a records table (entries without one are left out). A
// count is no personal data: the catalog's readers see it.
func (s *Service) RecordCounts(ctx context.Context, entryIDs []int64) (map[int64]int64, error) {
	out := map[int64]int64{}
	ctx, cancel := s.db.Ctx(ctx)
	defer cancel()
	for start := 0; start < len(entryIDs); start += 500 {
		chunk := entryIDs[start:min(start+500, len(entryIDs))]
		q, args := db.InList(`SELECT entry_id, table_name FROM ingest_tables WHERE entry_id IN `, chunk)
		rows, err := s.db.R.QueryContext(ctx, q, args...)
		if err != nil {
			return nil, db.Check(err)
		}
		tables := map[int64]string{}
		for rows.Next() {
			var id int64
			var name string
			if err := rows.Scan(&id, &name); err != nil {
				rows.Close()
				return nil, err
			}
			tables[id] = name
		}
		rows.Close()
		if err := db.Check(rows.Err()); err != nil {
			return nil, err
		}
		for id, name := range tables {
			var n int64
			if err := s.db.R.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+name+` WHERE _deleted = FALSE`).Scan(&n); err != nil {
				return nil, db.Check(err)
			}
			out[id] = n
		}
	}
	return out, nil
}
