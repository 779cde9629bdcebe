package db_test

import (
	"context"
	"slices"
	"testing"

	"xiangyun/internal/db"
	"xiangyun/internal/db/dbtest"
)

// The same case-insensitive match gives the same rows on SQLite and
// PostgreSQL: ASCII letters fold, everything else (Chinese, full-width
// letters, accented letters) matches exactly, and LIKE's wildcards in the
// search text are literal.
func TestILikeSameOnBothDatabases(t *testing.T) {
	rows := []string{"JSZH_2024", "jszh", "Jszh 驾驶证号", "人口JSZH", "ＪＳＺＨ", "Émile", "émile", "50%_off", `a\b`, "人口信息", "人口"}
	cases := map[string][]string{
		"jszh":  {"JSZH_2024", "jszh", "Jszh 驾驶证号", "人口JSZH"},
		"JSZH":  {"JSZH_2024", "jszh", "Jszh 驾驶证号", "人口JSZH"},
		"JsZh ": {"Jszh 驾驶证号"},
		"ｊｓｚｈ":  nil,
		"ＪＳＺＨ":  {"ＪＳＺＨ"},
		"émile": {"émile"},
		"MILE":  {"Émile", "émile"},
		"人口":    {"人口JSZH", "人口信息", "人口"},
		"驾驶证":   {"Jszh 驾驶证号"},
		"%":     {"50%_off"},
		"_":     {"JSZH_2024", "50%_off"},
		`\`:     {`a\b`},
	}
	for dialect, dsn := range dbtest.TestDSNs(t) {
		t.Run(string(dialect), func(t *testing.T) {
			ctx := context.Background()
			d := dbtest.Open(t, dsn(t), "control")
			if err := d.Tx(ctx, func(tx *db.Tx) error {
				if err := tx.Run(`CREATE TABLE ilike_test (id INTEGER PRIMARY KEY, name TEXT NOT NULL)`); err != nil {
					return err
				}
				for i, r := range rows {
					if err := tx.Run(`INSERT INTO ilike_test (id, name) VALUES ($1, $2)`, i+1, r); err != nil {
						return err
					}
				}
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			for q, want := range cases {
				rs, err := d.R.QueryContext(ctx, `SELECT name FROM ilike_test WHERE `+d.Dialect.ILike("name", "$1")+` ORDER BY id`, db.Like(q))
				if err != nil {
					t.Fatal(err)
				}
				var got []string
				for rs.Next() {
					var s string
					if err := rs.Scan(&s); err != nil {
						t.Fatal(err)
					}
					got = append(got, s)
				}
				rs.Close()
				if !slices.Equal(got, want) {
					t.Errorf("%q: %q, want %q", q, got, want)
				}
			}
		})
	}
}
