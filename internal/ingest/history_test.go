package ingest

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"xiangyun/internal/errs"
	"xiangyun/internal/tabular"
)

func TestRecordHistory(t *testing.T) {
	eachDB(t, func(t *testing.T, f *fixture) {
		b1, err := f.upload("police_spec", "a.csv", []byte("公民身份号码,姓名,出生日期,住址\n"+id1+",张三,1949-12-31,长春市朝阳区\n"+id3+",赵六,2000-03-20,\n"), ModeAppend, PublishValid)
		wantStatus(t, b1, err, StatusPublished, 2, 2, 0)
		b2, err := f.upload("police_spec", "b.csv", []byte("公民身份号码,姓名,出生日期\n"+id1+",张三丰,1950-01-01\n"), ModeUpsert, PublishValid)
		wantStatus(t, b2, err, StatusPublished, 1, 1, 0)
		b3, err := f.upload("police_spec", "c.csv", []byte("公民身份号码,姓名\n"+id3+",赵六\n"), ModeReplace, PublishValid)
		wantStatus(t, b3, err, StatusPublished, 1, 1, 0)

		hs, err := f.s.History(f.ctx, f.p["police_spec"], f.entryID, map[string]string{"公民身份号码": id1}, 0)
		if err != nil {
			t.Fatal(err)
		}
		// Current (deleted by the replacement), then the upserted values, then the first.
		if len(hs) != 1 || len(hs[0].Versions) != 3 {
			t.Fatalf("history: %+v", hs)
		}
		v := hs[0].Versions
		if !v[0].Current || !v[0].Deleted || v[0].Version != 3 || v[0].Batch != b3.ID || v[0].Values["姓名"] != "张三丰" {
			t.Fatalf("current: %+v", v[0])
		}
		if v[1].Current || v[1].Version != 2 || v[1].Batch != b2.ID || v[1].ReplacedBy != b3.ID || v[1].Values["姓名"] != "张三丰" ||
			v[1].Values["出生日期"] != "1950-01-01" || v[1].WrittenAt == nil || v[1].ReplacedAt == nil {
			t.Fatalf("second: %+v", v[1])
		}
		if v[2].Version != 1 || v[2].Batch != b1.ID || v[2].ReplacedBy != b2.ID || v[2].Values["姓名"] != "张三" || v[2].Values["出生日期"] != "1949-12-31" ||
			v[2].Values["住址"] != "长春市朝阳区" {
			t.Fatalf("first: %+v", v[2])
		}
		// By record id, the same record; the platform sees it masked.
		rh, err := f.s.History(f.ctx, f.p["reviewer"], f.entryID, nil, hs[0].ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(rh) != 1 || len(rh[0].Versions) != 3 || rh[0].Versions[2].Values["姓名"] != "张*" || rh[0].Versions[2].Values["公民身份号码"] == id1 {
			t.Fatalf("masked history: %+v", rh)
		}
		// The same readers as Records, key items only, something to look for.
		_, err = f.s.History(f.ctx, f.p["market_cdo"], f.entryID, map[string]string{"公民身份号码": id1}, 0)
		wantKind(t, err, errs.KindForbidden, "ingest.not_reader")
		_, err = f.s.History(f.ctx, f.p["police_spec"], f.entryID, map[string]string{"姓名": "张三"}, 0)
		wantKind(t, err, errs.KindInvalid, "ingest.filter")
		_, err = f.s.History(f.ctx, f.p["police_spec"], f.entryID, nil, 0)
		wantKind(t, err, errs.KindInvalid, "ingest.history_key")
		if hs, err := f.s.History(f.ctx, f.p["police_spec"], f.entryID, map[string]string{"公民身份号码": id2}, 0); err != nil || len(hs) != 0 {
			t.Fatalf("unknown key: %+v %v", hs, err)
		}
	})
}

func TestExport(t *testing.T) {
	eachDB(t, func(t *testing.T, f *fixture) {
		var csv strings.Builder
		csv.WriteString("公民身份号码,姓名,出生日期,住址\n")
		var ids []string
		n := 30
		for i := range n {
			ids = append(ids, idNumber(i))
			fmt.Fprintf(&csv, "%s,\"=HYPERLINK(\"\"x\"\")\",1990-01-%02d,长春市南关区人民大街%d号\n", ids[i], 1+i%28, i)
		}
		b, err := f.upload("police_spec", "a.csv", []byte(csv.String()), ModeAppend, PublishValid)
		wantStatus(t, b, err, StatusPublished, int64(n), int64(n), 0)
		var out bytes.Buffer
		var info ExportInfo
		got, err := f.s.Export(f.ctx, f.p["police_spec"], f.entryID, tabular.CSV, &out, func(i ExportInfo) { info = i })
		if err != nil || got != int64(n) || !info.Provider {
			t.Fatalf("export: %d %v %+v", got, err, info)
		}
		rd, err := tabular.ReadBytes(out.Bytes(), "x.csv", tabular.Options{})
		if err != nil {
			t.Fatal(err)
		}
		var rows [][]string
		for r, err := range rd.All() {
			if err != nil {
				t.Fatal(err)
			}
			rows = append(rows, r.Cells)
		}
		if len(rows) != n+1 || strings.Join(rows[0], ",") != "公民身份号码,姓名,出生日期,住址" || rows[1][1] != "'=HYPERLINK(\"x\")" /* neutralised against formula injection */ || rows[1][2] != "1990-01-01" {
			t.Fatalf("exported: %d rows, %q", len(rows), rows[:2])
		}
		// The platform's export is masked like Records.
		out.Reset()
		if _, err := f.s.Export(f.ctx, f.p["reviewer"], f.entryID, tabular.XLSX, &out, nil); err != nil {
			t.Fatal(err)
		}
		rd, err = tabular.ReadBytes(out.Bytes(), "x.xlsx", tabular.Options{})
		if err != nil {
			t.Fatal(err)
		}
		rows = rows[:0]
		for r, err := range rd.All() {
			if err != nil {
				t.Fatal(err)
			}
			rows = append(rows, r.Cells)
		}
		if len(rows) != n+1 || strings.Contains(rows[1][0], ids[0][6:14]) || !strings.Contains(rows[1][0], "*") {
			t.Fatalf("masked export: %q", rows[:2])
		}
		_, err = f.s.Export(f.ctx, f.p["market_cdo"], f.entryID, tabular.CSV, &out, nil)
		wantKind(t, err, errs.KindForbidden, "ingest.not_reader")
	})
}

func TestUnmatchedAndMissingColumns(t *testing.T) {
	eachDB(t, func(t *testing.T, f *fixture) {
		// Columns that map to no item are loaded without their values and
		// reported on the batch.
		b, err := f.upload("police_spec", "a.csv", []byte("公民身份号码,姓名,备注,曾用名\n"+id1+",张三,无,张叁\n"), ModeAppend, PublishValid)
		wantStatus(t, b, err, StatusPublished, 1, 1, 0)
		if strings.Join(b.Unmatched, ",") != "备注,曾用名" {
			t.Fatalf("unmatched: %q", b.Unmatched)
		}
		// JSON fields too.
		b, err = f.upload("police_spec", "b.ndjson", []byte(`{"公民身份号码": "`+id3+`", "姓名": "赵六", "extra": 1}`+"\n"), ModeAppend, PublishValid)
		wantStatus(t, b, err, StatusPublished, 1, 1, 0)
		if strings.Join(b.Unmatched, ",") != "extra" {
			t.Fatalf("unmatched fields: %q", b.Unmatched)
		}
		// A file without a column for a required or key item is refused at
		// once: no batch, nothing read.
		var before int
		_ = f.data.R.QueryRow(`SELECT COUNT(*) FROM ingest_batches`).Scan(&before)
		_, err = f.upload("police_spec", "c.csv", []byte("公民身份号码,出生日期\n"+id2+",1901-02-03\n"), ModeAppend, PublishValid)
		wantKind(t, err, errs.KindInvalid, "ingest.mapping")
		if e, _ := errs.As(err); !strings.Contains(e.ZH, "姓名") || !strings.Contains(e.EN, "姓名") {
			t.Fatalf("message: %v", err)
		}
		var after int
		_ = f.data.R.QueryRow(`SELECT COUNT(*) FROM ingest_batches`).Scan(&after)
		if after != before {
			t.Fatalf("a batch was made: %d → %d", before, after)
		}
		// A saved mapping makes the column count.
		if err := f.s.SaveMapping(f.ctx, f.p["police_spec"], f.entryID, map[string]string{"名字": "姓名"}); err != nil {
			t.Fatal(err)
		}
		b, err = f.upload("police_spec", "d.csv", []byte("公民身份号码,名字\n"+id2+",李四\n"), ModeAppend, PublishValid)
		wantStatus(t, b, err, StatusPublished, 1, 1, 0)
		if len(b.Unmatched) != 0 {
			t.Fatalf("unmatched after mapping: %q", b.Unmatched)
		}
	})
}
