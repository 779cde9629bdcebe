package ingest

import (
	"bytes"
	"testing"
	"time"

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
