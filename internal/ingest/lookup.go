package ingest

import (
	"context"

	"xiangyun/internal/quality"
)

// lookup answers quality's reference rules: is value a live key value of
// item in another entry's records?
func (s *Service) lookup(ctx context.Context) quality.Lookup {
	tables := map[int64]*table{}
	return func(entryID int64, item, value string) (bool, error) {
		t, ok := tables[entryID]
		if !ok {
			var err error
			if t, err = loadTable(ctx, s.db.R, entryID); err != nil {
				return false, err
			}
			tables[entryID] = t
		}
		if t == nil {
			return false, nil
		}
		c := t.Cols[item]
		if c == nil {
			return false, nil
		}
		x, te := convert(c.DataType, 0, value)
		if te != nil {
			return false, nil
		}
		rctx, cancel := s.db.Ctx(ctx)
		defer cancel()
		var n int
		err := s.db.R.QueryRowContext(rctx, `SELECT COUNT(*) FROM (SELECT 1 FROM `+t.Name+` WHERE `+c.Col+` = $1 AND _deleted = FALSE LIMIT 1) x`, x).Scan(&n)
		return n > 0, err
	}
}
