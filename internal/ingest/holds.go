package ingest

import (
	"context"

	"xiangyun/internal/db"
)

// HasRecords reports whether an entry holds records on the platform: a
// batch of it has published at least one row. Sharing uses it for the
// provider's longer answer deadline when the data is not on the platform yet.
func (s *Service) HasRecords(ctx context.Context, entryID int64) (bool, error) {
	ctx, cancel := s.db.Ctx(ctx)
	defer cancel()
	var n int
	err := s.db.R.QueryRowContext(ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM ingest_batches WHERE entry_id = $1 AND status = $2 AND accepted > 0 LIMIT 1) x`,
		entryID, StatusPublished).Scan(&n)
	return n > 0, db.Check(err)
}
