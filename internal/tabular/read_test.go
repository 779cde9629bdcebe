package tabular

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/unicode"
)

// readAll reads every row of data, failing the test on error.
func readAll(t *testing.T, data []byte, name string, opts Options) (*Reader, []Row) {
	t.Helper()
	r, rows, err := tryReadAll(data, name, opts)
	if err != nil {
		t.Fatalf("read %s: %v", name, err)
	}
	return r, rows
}

func tryReadAll(data []byte, name string, opts Options) (*Reader, []Row, error) {
	r, err := Read(bytes.NewReader(data), name, opts)
	if err != nil {
		return nil, nil, err
	}
	defer r.Close()
	var rows []Row
	for row, err := range r.All() {
		if err != nil {
			return r, rows, err
		}
		rows = append(rows, row)
	}
	return r, rows, nil
}

// wantCode asserts that err is a *Error with the given code and returns it.
func wantCode(t *testing.T, err error, code string) *Error {
	t.Helper()
	e, ok := errors.AsType[*Error](err)
	if !ok {
		t.Fatalf("error = %v (%T), want *Error with code %s", err, err, code)
	}
	if e.Code != code {
		t.Fatalf("code = %s (%v), want %s", e.Code, e, code)
	}
	if e.ZH == "" || e.EN == "" {
		t.Fatalf("error %s lacks a message: %+v", code, e)
	}
	return e
}

func cells(rows []Row) [][]string {
	out := make([][]string, len(rows))
	for i, r := range rows {
		out[i] = r.Cells
	}
	return out
}

func nums(rows []Row) []int {
	out := make([]int, len(rows))
	for i, r := range rows {
		out[i] = r.Num
	}
	return out
}

const chineseCSV = "姓名,身份证号,住址,备注\r\n" +
	"张三,110101199001011234,北京市朝阳区,\r\n" +
	"李四, 0012 ,\"上海市浦东新区，世纪大道\",　全角空格　\r\n"

var chineseRows = [][]string{
	{"姓名", "身份证号", "住址", "备注"},
	{"张三", "110101199001011234", "北京市朝阳区"},
	{"李四", "0012", "上海市浦东新区，世纪大道", "全角空格"},
}

func mustEncode(t *testing.T, enc interface{ String(string) (string, error) }, s string) []byte {
	t.Helper()
	out, err := enc.String(s)
	if err != nil {
		t.Fatal(err)
	}
	return []byte(out)
}

func TestCSVEncodings(t *testing.T) {
	// 𠮷 (U+20BB7) exists in GB18030 (four-byte form) but not in GBK.
	const gb18030Only = "姓名\r\n𠮷\r\n"
	if _, err := simplifiedchinese.GBK.NewEncoder().String(gb18030Only); err == nil {
		t.Fatal("test premise: 𠮷 should not be encodable in GBK")
	}
	tests := []struct {
		name string
		data []byte
		enc  string
		want [][]string
	}{
		{"utf8", []byte(chineseCSV), "UTF-8", chineseRows},
		{"utf8 bom", append([]byte("\xef\xbb\xbf"), chineseCSV...), "UTF-8 BOM", chineseRows},
		{"gbk", mustEncode(t, simplifiedchinese.GBK.NewEncoder(), chineseCSV), "GB18030", chineseRows},
		{"gb18030", mustEncode(t, simplifiedchinese.GB18030.NewEncoder(), gb18030Only), "GB18030", [][]string{{"姓名"}, {"𠮷"}}},
		{"utf16le bom", mustEncode(t, unicode.UTF16(unicode.LittleEndian, unicode.UseBOM).NewEncoder(), chineseCSV), "UTF-16LE", chineseRows},
		{"utf16be bom", mustEncode(t, unicode.UTF16(unicode.BigEndian, unicode.UseBOM).NewEncoder(), chineseCSV), "UTF-16BE", chineseRows},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, rows := readAll(t, tc.data, "名单.CSV", Options{})
			if r.Encoding() != tc.enc {
				t.Errorf("encoding = %q, want %q", r.Encoding(), tc.enc)
			}
			if r.Format() != CSV || r.Comma() != ',' {
				t.Errorf("format %q comma %q", r.Format(), r.Comma())
			}
			if got := cells(rows); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("rows = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestCSVInvalidEncoding(t *testing.T) {
	// 0x81 0x20 is neither UTF-8 nor GB18030.
	data := []byte("a,b\r\nc,\x81 d\r\n")
	_, _, err := tryReadAll(data, "x.csv", Options{})
	if e := wantCode(t, err, CodeEncoding); e.Row != 2 {
		t.Errorf("row = %d, want 2", e.Row)
	}
	_, _, err = tryReadAll(append([]byte("\xef\xbb\xbf"), data...), "x.csv", Options{})
	wantCode(t, err, CodeEncoding)
}

func TestCSVQuotesNewlinesAndRowNumbers(t *testing.T) {
	data := "编号,说明,金额\n" +
		"1,\"他说：\"\"你好\"\"\",\"第一行\r\n第二行\"\n" + // rows 2, spans two lines
		"\n" + // row 3: blank line
		",,\n" + // row 4: only delimiters
		"2,\"a\tb\x01c\x00\",  -12.5  ,,,\n" + // row 5
		"   \n" + // row 6: whitespace only
		"3,\"=1+2\",@x\n" // row 7
	_, rows := readAll(t, []byte(data), "a.csv", Options{})
	want := [][]string{
		{"编号", "说明", "金额"},
		{"1", `他说："你好"`, "第一行\n第二行"},
		{"2", "a bc", "-12.5"},
		{"3", "=1+2", "@x"},
	}
	if got := cells(rows); !reflect.DeepEqual(got, want) {
		t.Errorf("rows = %q, want %q", got, want)
	}
	if got, want := nums(rows), []int{1, 2, 5, 7}; !reflect.DeepEqual(got, want) {
		t.Errorf("row numbers = %v, want %v", got, want)
	}
	if !IsFormula(rows[3].Cell(1)) || !IsFormula(rows[3].Cell(2)) || rows[3].Formulas != nil {
		t.Errorf("formula-like text not recognised: %+v", rows[3])
	}
	if rows[0].Cell(10) != "" || rows[0].Cell(-1) != "" {
		t.Error("Cell out of range should be empty")
	}
}

func TestCSVDelimiters(t *testing.T) {
	for _, tc := range []struct {
		data  string
		comma rune
	}{
		{"姓名\t电话\t地址\n张三\t138\t\"北京,朝阳\"\n", '\t'},
		{"姓名;电话;地址\n张三;138;\"北京,朝阳\"\n", ';'},
		{"\"a;b;c\",d\n1,2\n", ','},
		{"single\nvalue\n", ','},
	} {
		r, rows := readAll(t, []byte(tc.data), "d.csv", Options{})
		if r.Comma() != tc.comma {
			t.Errorf("%q: comma = %q, want %q", tc.data, r.Comma(), tc.comma)
		}
		if tc.comma != ',' && !reflect.DeepEqual(rows[1].Cells, []string{"张三", "138", "北京,朝阳"}) {
			t.Errorf("%q: row = %q", tc.data, rows[1].Cells)
		}
	}
}

func TestMalformedCSV(t *testing.T) {
	for _, tc := range []struct {
		data string
		row  int
	}{
		{"a,b\n\nc,d\"e\n", 3},         // bare quote
		{"a,b\n\"c\",\"d\ne\n", 2},     // quote never closed
		{"a,\"b\n\"\n\nc,\"d\"x\n", 3}, // text after a closing quote
	} {
		r, err := Read(strings.NewReader(tc.data), "m.csv", Options{})
		if err != nil {
			t.Fatal(err)
		}
		var rerr error
		for _, err := range r.All() {
			rerr = err
		}
		e := wantCode(t, rerr, CodeMalformedCSV)
		if e.Row != tc.row {
			t.Errorf("%q: row = %d, want %d (%v)", tc.data, e.Row, tc.row, e)
		}
		if _, err := r.Next(); err != rerr {
			t.Errorf("error is not sticky: %v", err)
		}
	}
}

func TestEmptyCSV(t *testing.T) {
	for _, data := range []string{"", "\xef\xbb\xbf", "\n\n", " , \n"} {
		_, rows := readAll(t, []byte(data), "e.csv", Options{})
		if len(rows) != 0 {
			t.Errorf("%q: rows = %v", data, rows)
		}
	}
}

// xlsxBytes serialises f.
func xlsxBytes(t testing.TB, f *excelize.File) []byte {
	t.Helper()
	var buf bytes.Buffer
	if _, err := f.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestXLSXRead(t *testing.T) {
	f := excelize.NewFile()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(f.SetSheetName("Sheet1", "花名册"))
	must(f.SetSheetRow("花名册", "A1", &[]any{"姓名", "年龄", "身份证号", "备注"}))
	must(f.SetSheetRow("花名册", "A2", &[]any{" 张三 ", 30, "110101199001011234", "line1\r\nline2"}))
	// Row 3 left empty; row 4 has trailing empty cells and a gap.
	must(f.SetSheetRow("花名册", "A4", &[]any{"李四", nil, "", "x\ty", "", ""}))
	must(f.SetCellStr("花名册", "F5", "   ")) // whitespace only: skipped
	must(f.SetSheetRow("花名册", "A6", &[]any{"王五", 3.5}))
	_, err := f.NewSheet("明细")
	must(err)
	must(f.SetSheetRow("明细", "B2", &[]any{"项目", "金额"}))
	data := xlsxBytes(t, f)

	r, rows := readAll(t, data, "book.XLSX", Options{})
	if r.Sheet() != "花名册" || r.Format() != XLSX || r.Encoding() != "" {
		t.Errorf("sheet %q format %q encoding %q", r.Sheet(), r.Format(), r.Encoding())
	}
	want := [][]string{
		{"姓名", "年龄", "身份证号", "备注"},
		{"张三", "30", "110101199001011234", "line1\nline2"},
		{"李四", "", "", "x y"},
		{"王五", "3.5"},
	}
	if got := cells(rows); !reflect.DeepEqual(got, want) {
		t.Errorf("rows = %q, want %q", got, want)
	}
	if got, want := nums(rows), []int{1, 2, 4, 6}; !reflect.DeepEqual(got, want) {
		t.Errorf("row numbers = %v, want %v", got, want)
	}

	r, rows = readAll(t, data, "book.xlsx", Options{Sheet: "明细"})
	if r.Sheet() != "明细" || len(rows) != 1 || rows[0].Num != 2 ||
		!reflect.DeepEqual(rows[0].Cells, []string{"", "项目", "金额"}) {
		t.Errorf("named sheet: %q %+v", r.Sheet(), rows)
	}

	_, err = Read(bytes.NewReader(data), "book.xlsx", Options{Sheet: "不存在"})
	e := wantCode(t, err, CodeSheetNotFound)
	if !strings.Contains(e.ZH, "花名册、明细") {
		t.Errorf("message should list sheets: %s", e.ZH)
	}
}

func TestXLSXFormulas(t *testing.T) {
	f := excelize.NewFile()
	sw, err := f.NewStreamWriter("Sheet1")
	if err != nil {
		t.Fatal(err)
	}
	rows := [][]any{
		{"单价", "数量", "金额", "备注"},
		// Formula with a cached result, as Excel saves it.
		{2, 21, excelize.Cell{Formula: "A2*B2", Value: 42}, `=HYPERLINK("http://evil.example","点我")`},
		// Formula never calculated: no cached value.
		{3, 4, excelize.Cell{Formula: "A3*B3"}},
	}
	for i, row := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := sw.SetRow(cell, row); err != nil {
			t.Fatal(err)
		}
	}
	if err := sw.Flush(); err != nil {
		t.Fatal(err)
	}
	_, got := readAll(t, xlsxBytes(t, f), "f.xlsx", Options{})
	if len(got) != 3 {
		t.Fatalf("rows = %+v", got)
	}
	if got[0].Formulas != nil {
		t.Errorf("header formulas = %v", got[0].Formulas)
	}
	if want := []int{2}; !reflect.DeepEqual(got[1].Formulas, want) || got[1].Cell(2) != "42" {
		t.Errorf("row 2 = %+v, want formulas %v and cached 42", got[1], want)
	}
	// Text that looks like a formula is not a formula cell, but IsFormula
	// flags it.
	if c := got[1].Cell(3); !strings.HasPrefix(c, "=HYPERLINK") || !IsFormula(c) {
		t.Errorf("hyperlink text = %q", c)
	}
	if want := []int{2}; !reflect.DeepEqual(got[2].Formulas, want) || len(got[2].Cells) != 3 || got[2].Cell(2) != "" {
		t.Errorf("row 3 = %+v, want uncalculated formula in C", got[2])
	}

	// Shared formulas written with the regular API, on a sheet that is not
	// the first one; row 3 holds nothing but a formula.
	f = excelize.NewFile()
	if _, err := f.NewSheet("计算"); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ cell, value string }{{"A1", "x"}, {"A2", "1"}, {"A4", "3"}} {
		if err := f.SetCellStr("计算", c.cell, c.value); err != nil {
			t.Fatal(err)
		}
	}
	shared, ref := excelize.STCellFormulaTypeShared, "D2:D4"
	if err := f.SetCellFormula("计算", "D2", "A2*2", excelize.FormulaOpts{Type: &shared, Ref: &ref}); err != nil {
		t.Fatal(err)
	}
	_, got = readAll(t, xlsxBytes(t, f), "f.xlsx", Options{Sheet: "计算"})
	var formulas [][]int
	for _, row := range got {
		formulas = append(formulas, row.Formulas)
	}
	if want := [][]int{nil, {3}, {3}, {3}}; !reflect.DeepEqual(formulas, want) || got[2].Num != 3 {
		t.Errorf("shared formulas = %v (rows %+v), want %v", formulas, got, want)
	}
}

func TestFormatSniffing(t *testing.T) {
	f := excelize.NewFile()
	xlsx := xlsxBytes(t, f)
	binary := []byte("\x00\x01\x02\x03garbage\xff\xfe\x00")
	ole := append([]byte{0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1}, make([]byte, 512)...)
	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"really-xlsx.csv", xlsx},
		{"garbage.csv", binary},
		{"controls.csv", bytes.Repeat([]byte("a\x02\x03\x04\x05,"), 100)},
		{"utf16-garbage.csv", append([]byte{0xff, 0xfe}, 0, 0, 0, 0)},
		{"old.xls", ole},
		{"old-renamed.xlsx", ole},
		{"old-renamed.csv", ole},
		{"text.xlsx", []byte("a,b\n1,2\n")},
		{"data.txt", []byte("a,b\n")},
		{"data.xlsm", xlsx},
		{"noext", []byte("a,b\n")},
	} {
		_, err := Read(bytes.NewReader(tc.data), tc.name, Options{})
		e := wantCode(t, err, CodeFormat)
		t.Logf("%s: %s / %s", tc.name, e.EN, e.ZH)
	}
	// A damaged zip named .xlsx is reported as corrupt.
	_, err := Read(bytes.NewReader(xlsx[:len(xlsx)/2]), "cut.xlsx", Options{})
	wantCode(t, err, CodeCorrupt)
}

func TestOversize(t *testing.T) {
	data := []byte(strings.Repeat("a,b,c\n", 20)) // 120 bytes
	if _, err := Read(bytes.NewReader(data), "a.csv", Options{MaxBytes: 120}); err != nil {
		t.Fatalf("exactly at limit: %v", err)
	}
	_, err := Read(bytes.NewReader(data), "a.csv", Options{MaxBytes: 119})
	wantCode(t, err, CodeOversize)

	xlsx := xlsxBytes(t, excelize.NewFile())
	_, err = Read(bytes.NewReader(xlsx), "a.xlsx", Options{MaxBytes: 1024})
	wantCode(t, err, CodeOversize)
}

func TestTooManyRows(t *testing.T) {
	data := []byte("h\n1\n\n2\n3\n4\n")
	_, rows, err := tryReadAll(data, "a.csv", Options{MaxRows: 3})
	if e := wantCode(t, err, CodeTooManyRows); e.Row != 5 {
		t.Errorf("row = %d, want 5", e.Row)
	}
	if len(rows) != 3 {
		t.Errorf("got %d rows before the error", len(rows))
	}
	if _, _, err := tryReadAll(data, "a.csv", Options{MaxRows: 5}); err != nil {
		t.Error(err)
	}

	f := excelize.NewFile()
	for i := 1; i <= 10; i++ {
		cell, _ := excelize.CoordinatesToCellName(1, i)
		if err := f.SetCellInt("Sheet1", cell, int64(i)); err != nil {
			t.Fatal(err)
		}
	}
	_, rows, err = tryReadAll(xlsxBytes(t, f), "a.xlsx", Options{MaxRows: 4})
	if e := wantCode(t, err, CodeTooManyRows); e.Row != 5 || len(rows) != 4 {
		t.Errorf("row = %d, rows read = %d", e.Row, len(rows))
	}
}

// bombXLSX builds a workbook whose single sheet is megabytes of repeated
// text that compresses to a few kilobytes.
func bombXLSX(t testing.TB) []byte {
	t.Helper()
	f := excelize.NewFile()
	sw, err := f.NewStreamWriter("Sheet1")
	if err != nil {
		t.Fatal(err)
	}
	row := make([]any, 20)
	for i := range row {
		row[i] = strings.Repeat("炸", 100)
	}
	for i := 1; i <= 2000; i++ {
		cell, _ := excelize.CoordinatesToCellName(1, i)
		if err := sw.SetRow(cell, row); err != nil {
			t.Fatal(err)
		}
	}
	if err := sw.Flush(); err != nil {
		t.Fatal(err)
	}
	return xlsxBytes(t, f)
}

func TestZipBomb(t *testing.T) {
	data := bombXLSX(t)
	t.Logf("compressed size %d bytes", len(data))
	_, err := Read(bytes.NewReader(data), "bomb.xlsx", Options{MaxUnzipBytes: 1 << 20})
	wantCode(t, err, CodeZipBomb)

	// Within a generous limit the same file reads fine, streaming the large
	// worksheet from a temporary file.
	_, rows := readAll(t, data, "bomb.xlsx", Options{MaxUnzipBytes: 64 << 20})
	if len(rows) != 2000 || len(rows[1999].Cells) != 20 {
		t.Errorf("rows = %d", len(rows))
	}
}

func TestReaderClose(t *testing.T) {
	r, err := Read(strings.NewReader("a\nb\n"), "a.csv", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	_, err = r.Next()
	wantCode(t, err, CodeIO)
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestReadError(t *testing.T) {
	_, err := Read(iotestErrReader{}, "a.csv", Options{})
	e := wantCode(t, err, CodeIO)
	if !errors.Is(e, io.ErrUnexpectedEOF) {
		t.Errorf("cause not wrapped: %v", e)
	}
}

type iotestErrReader struct{}

func (iotestErrReader) Read([]byte) (int, error) { return 0, io.ErrUnexpectedEOF }

func BenchmarkReadCSV100k(b *testing.B) {
	var buf bytes.Buffer
	buf.WriteString("序号,姓名,身份证号,联系电话,住址,金额\r\n")
	for i := range 100_000 {
		buf.WriteString(strings.Join([]string{
			itoa(i), "张三丰", "110101199001011234", "13800138000",
			"\"北京市朝阳区建国路88号, 3单元\"", "1234.56",
		}, ","))
		buf.WriteString("\r\n")
	}
	data := buf.Bytes()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		r, err := Read(bytes.NewReader(data), "bench.csv", Options{})
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		for _, err := range r.All() {
			if err != nil {
				b.Fatal(err)
			}
			n++
		}
		if n != 100_001 {
			b.Fatalf("rows = %d", n)
		}
	}
}

func itoa(i int) string {
	var b [20]byte
	n := len(b)
	for {
		n--
		b[n] = byte('0' + i%10)
		if i /= 10; i == 0 {
			return string(b[n:])
		}
	}
}
