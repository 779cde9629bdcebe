package ingest

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"xiangyun/internal/errs"

	"github.com/xuri/excelize/v2"
)

// xlsxFile builds a workbook: a header, a row whose 出生日期 is a date cell
// shown with a two-digit year (m-d-yy) and whose 住址 is a formula, and a
// row with a date cell before 1904 and a text cell.
func xlsxFile(t testing.TB) []byte {
	f := excelize.NewFile()
	sh := f.GetSheetName(0)
	_ = f.SetSheetRow(sh, "A1", &[]any{"公民身份号码", "姓名", "出生日期", "住址"})
	_ = f.SetSheetRow(sh, "A2", &[]any{id1, "张三", time.Date(1949, 12, 31, 0, 0, 0, 0, time.UTC)})
	// A formula never calculated (no cached result): its text must not become a value.
	_ = f.SetCellFormula(sh, "D2", `CONCATENATE("长春市","朝阳区")`)
	_ = f.SetCellValue(sh, "D3", "吉林市船营区")
	style, _ := f.NewStyle(&excelize.Style{NumFmt: 14})
	_ = f.SetCellStyle(sh, "C2", "C2", style)
	_ = f.SetSheetRow(sh, "A3", &[]any{id2, "李四", time.Date(1901, 2, 3, 0, 0, 0, 0, time.UTC)})
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestXLSXUpload(t *testing.T) {
	eachDB(t, func(t *testing.T, f *fixture) {
		b, err := f.upload("police_spec", "人口.xlsx", xlsxFile(t), ModeAppend, PublishValid)
		if err != nil {
			t.Fatal(err)
		}
		if b.Status != StatusPublished || b.Accepted != 2 {
			t.Fatalf("batch: %+v %+v", b, f.errors(b.ID))
		}
		r := f.records("police_spec", nil)
		if r[0]["出生日期"] != "1949-12-31" || r[1]["出生日期"] != "1901-02-03" {
			t.Fatalf("dates: %v / %v", r[0]["出生日期"], r[1]["出生日期"])
		}
		if r[0]["住址"] != nil || r[1]["住址"] != "吉林市船营区" || r[0]["姓名"] != "张三" {
			t.Fatalf("cells: %v", r)
		}
	})
}

// TestXLSXFormulasMergedDates: a formula's cached value is the value (a
// formula never calculated is empty), a merged range gives every row its
// top-left value, and a date-formatted numeric cell is a date.
func TestXLSXFormulasMergedDates(t *testing.T) {
	eachDB(t, func(t *testing.T, f *fixture) {
		x := excelize.NewFile()
		sw, err := x.NewStreamWriter("Sheet1")
		if err != nil {
			t.Fatal(err)
		}
		dateStyle, _ := x.NewStyle(&excelize.Style{NumFmt: 14})
		rows := [][]any{
			{"公民身份号码", "姓名", "出生日期", "住址"},
			{id1, "张三", excelize.Cell{StyleID: dateStyle, Value: 18264}, excelize.Cell{Formula: `CONCATENATE("长春市","朝阳区")`, Value: "长春市朝阳区"}},
			{id2, "李四", excelize.Cell{StyleID: dateStyle, Value: 18265}},
			{id3, "王五", "2000-03-20", excelize.Cell{Formula: `"x"&"y"`}},
		}
		for i, row := range rows {
			cell, _ := excelize.CoordinatesToCellName(1, i+1)
			if err := sw.SetRow(cell, row); err != nil {
				t.Fatal(err)
			}
		}
		// 住址 of rows 2–3 is one merged cell.
		if err := sw.MergeCell("D2", "D3"); err != nil {
			t.Fatal(err)
		}
		if err := sw.Flush(); err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if err := x.Write(&buf); err != nil {
			t.Fatal(err)
		}
		b, err := f.upload("police_spec", "人口.xlsx", buf.Bytes(), ModeAppend, PublishValid)
		wantStatus(t, b, err, StatusPublished, 3, 3, 0)
		got := map[string]map[string]any{}
		for _, r := range f.records("police_spec", nil) {
			got[r["公民身份号码"].(string)] = r
		}
		// Serial 18264 (days after 1899-12-30) is 1950-01-01.
		if got[id1]["出生日期"] != "1950-01-01" || got[id2]["出生日期"] != "1950-01-02" || got[id3]["出生日期"] != "2000-03-20" {
			t.Fatalf("dates: %v %v %v", got[id1]["出生日期"], got[id2]["出生日期"], got[id3]["出生日期"])
		}
		if got[id1]["住址"] != "长春市朝阳区" || got[id2]["住址"] != "长春市朝阳区" || got[id3]["住址"] != nil {
			t.Fatalf("formula and merged cells: %v / %v / %v", got[id1]["住址"], got[id2]["住址"], got[id3]["住址"])
		}
	})
}

// zipBomb is a workbook whose worksheet declares a huge uncompressed size:
// refused before anything is inflated.
func zipBomb(t testing.TB) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, name := range []string{"[Content_Types].xml", "_rels/.rels", "xl/workbook.xml"} {
		w, _ := zw.Create(name)
		_, _ = w.Write([]byte(`<?xml version="1.0"?><x/>`))
	}
	// A sheet of 4 GiB of zeros compresses to a few MiB; declaring the size
	// is what the reader checks, and what a real bomb declares too.
	var body bytes.Buffer
	fw, _ := flate.NewWriter(&body, flate.BestCompression)
	zeros := make([]byte, 1<<20)
	for range 64 {
		_, _ = fw.Write(zeros)
	}
	_ = fw.Close()
	w, err := zw.CreateRaw(&zip.FileHeader{Name: "xl/worksheets/sheet1.xml", Method: zip.Deflate,
		CompressedSize64: uint64(body.Len()), UncompressedSize64: 4 << 30, CRC32: 0})
	if err != nil {
		t.Fatal(err)
	}
	_, _ = w.Write(body.Bytes())
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestXLSXZipBombAndOversize(t *testing.T) {
	eachDB(t, func(t *testing.T, f *fixture) {
		b, err := f.upload("police_spec", "a.csv", []byte("公民身份号码,姓名\n"+id1+",张三\n"), ModeAppend, PublishValid)
		wantStatus(t, b, err, StatusPublished, 1, 1, 0)
		before := f.records("police_spec", nil)

		b, err = f.upload("police_spec", "bomb.xlsx", zipBomb(t), ModeReplace, PublishValid)
		if err != nil || b.Status != StatusFailed || !strings.Contains(b.MessageEN, "zip bomb") || b.MessageZH == "" || b.Rows != 0 {
			t.Fatalf("zip bomb: %+v %v", b, err)
		}
		if after := f.records("police_spec", nil); fmt.Sprint(after) != fmt.Sprint(before) {
			t.Fatalf("zip bomb changed records: %v", after)
		}
		var staging int
		for _, q := range []string{`SELECT COUNT(*) FROM sqlite_master WHERE name LIKE 'stg_%'`,
			`SELECT COUNT(*) FROM information_schema.tables WHERE table_name LIKE 'stg_%' AND table_schema = current_schema()`} {
			if err := f.data.R.QueryRow(q).Scan(&staging); err == nil {
				break
			}
		}
		if staging != 0 {
			t.Fatalf("staging tables left: %d", staging)
		}

		// An XLSX larger than the limit is refused before a batch exists
		// (a sparse file: its size is real, its blocks are not).
		path := filepath.Join(f.dir, "big.xlsx")
		if err := os.WriteFile(path, []byte("PK\x03\x04"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Truncate(path, MaxXLSXBytes+1); err != nil {
			t.Fatal(err)
		}
		var n0, n1 int
		_ = f.data.R.QueryRow(`SELECT COUNT(*) FROM ingest_batches`).Scan(&n0)
		_, err = f.s.Start(f.ctx, f.p["police_spec"], f.entryID, Upload{Path: path, Name: "big.xlsx", Size: MaxXLSXBytes + 1, SHA256: "x", Mode: ModeReplace})
		wantKind(t, err, errs.KindTooLarge, "tabular.oversize")
		_ = f.data.R.QueryRow(`SELECT COUNT(*) FROM ingest_batches`).Scan(&n1)
		if n1 != n0 {
			t.Fatalf("oversize made a batch")
		}
		if _, err := os.Stat(path); !os.IsNotExist(err) {
			t.Fatalf("oversize file kept: %v", err)
		}
		if after := f.records("police_spec", nil); fmt.Sprint(after) != fmt.Sprint(before) {
			t.Fatalf("oversize changed records: %v", after)
		}
	})
}
