// Package dbtest gives tests a fresh database on each backend the suite runs on.
package dbtest

import (
	"context"
	"os"
	"testing"

	"xiangyun/internal/db"
)

// TestDSNs lists the backends the integration suite runs on: SQLite always,
// PostgreSQL when XIANGYUN_TEST_POSTGRES holds a URL (otherwise its subtest
// is skipped, saying why). Under CI (CI=true) a missing PostgreSQL URL fails
// the test instead of skipping it.
func TestDSNs(t testing.TB) map[db.Dialect]func(t testing.TB) string {
	m := map[db.Dialect]func(t testing.TB) string{
		db.SQLite: func(t testing.TB) string { return "sqlite:" + t.TempDir() },
	}
	if pg := os.Getenv("XIANGYUN_TEST_POSTGRES"); pg != "" {
		m[db.Postgres] = func(t testing.TB) string { return FreshPostgres(t, pg) }
	} else if os.Getenv("CI") == "true" {
		t.Fatal("CI=true but XIANGYUN_TEST_POSTGRES is not set: the PostgreSQL run is required under CI")
	} else {
		// A visible skip of the PostgreSQL subtest, with its reason.
		m[db.Postgres] = func(t testing.TB) string {
			t.Skip("PostgreSQL variant skipped: set XIANGYUN_TEST_POSTGRES=postgres://user@host:5432/db?sslmode=disable to run it")
			return ""
		}
	}
	return m
}

// FreshPostgres creates an empty database on the server at base for one test
// and drops it when the test ends; it returns the new database's URL.
func FreshPostgres(t testing.TB, base string) string {
	t.Helper()
	dsn, drop, err := db.CreatePostgresDatabase(context.Background(), base, "xytest_")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = drop() })
	return dsn
}

// Open opens the named store of dsn and closes it when the test ends.
func Open(t testing.TB, dsn, name string) *db.DB {
	t.Helper()
	store, err := db.Open(context.Background(), dsn, name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	return store
}
