package db

import (
	"context"
	"database/sql"
	"testing"

	"xiangyun/internal/errs"
)

// A call on a pool closed under it (a store shut down during a request) is
// the storage being unavailable (503), not an internal error.
func TestClosedPoolIsUnavailable(t *testing.T) {
	p := sql.OpenDB(noConnector{})
	p.Close()
	err := p.QueryRowContext(context.Background(), "SELECT 1").Scan(new(int))
	if !IsUnavailable(err) || errs.KindOf(Check(err)) != errs.KindUnavailable {
		t.Fatalf("closed pool: %v, unavailable %v", err, IsUnavailable(err))
	}
	if IsUnavailable(sql.ErrNoRows) || Check(sql.ErrNoRows) != sql.ErrNoRows {
		t.Error("no rows is not an outage")
	}
}
