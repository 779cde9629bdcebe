package ingest

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"xiangyun/internal/catalog"
)

// drain reads a source to its end (at most 10,000 records) and checks what
// every reader promises: row numbers grow, values are valid text.
func drain(t *testing.T, format string, data []byte) {
	src, err := openSource(format, bytes.NewReader(data))
	if err != nil {
		return
	}
	defer src.Close()
	last := 0
	for range 10000 {
		rec, err := src.Next()
		if errors.Is(err, io.EOF) || err != nil {
			return
		}
		if rec.Num <= last {
			t.Fatalf("%s: record number %d after %d", format, rec.Num, last)
		}
		last = rec.Num
		if rec.Keys != nil && len(rec.Keys) != len(rec.Vals) {
			t.Fatalf("%s: %d keys, %d values", format, len(rec.Keys), len(rec.Vals))
		}
	}
}

func FuzzCSVSource(f *testing.F) {
	f.Add([]byte("公民身份号码,姓名\n11010519491231002X,张三\n"))
	f.Add([]byte("\xef\xbb\xbfa,b\n\"x\ny\",2\n\n3,4,5\n"))
	f.Add([]byte("a,b\n\"unterminated\n"))
	f.Add([]byte("\xb9\xab\xc3\xf1,\xd0\xd5\xc3\xfb\n1,\x95\x32\x82\x36\n"))
	f.Add([]byte("a;b\n1;2\n"))
	f.Fuzz(func(t *testing.T, data []byte) { drain(t, FormatCSV, data) })
}

func FuzzJSONSource(f *testing.F) {
	f.Add([]byte(`[{"姓名": "张三", "n": 1.50, "b": true, "x": null}]`))
	f.Add([]byte(`[1, "a", {"a": [1]}, {}]`))
	f.Add([]byte(`{"a": 1}`))
	f.Add([]byte(`[{"a": 1},`))
	f.Fuzz(func(t *testing.T, data []byte) { drain(t, FormatJSON, data) })
}

func FuzzNDJSONSource(f *testing.F) {
	f.Add([]byte("{\"a\": 1}\n\n{\"a\": \"x\"}\n"))
	f.Add([]byte("[1]\nnot json\n{\"a\": {\"b\": 1}}\n"))
	f.Fuzz(func(t *testing.T, data []byte) { drain(t, FormatNDJSON, data) })
}

func FuzzMapping(f *testing.F) {
	items := []catalog.Item{
		{Name: "公民身份号码", EnName: "GMSFHM", DataType: "C", Key: true},
		{Name: "姓名", EnName: "xm", DataType: "C", Required: true},
		{Name: "出生日期", DataType: "D"},
	}
	f.Add("公民身份号码,姓名,出生日期", "证件号", "公民身份号码")
	f.Add("ＧＭＳＦＨＭ,* 姓名 ,x", "", "")
	f.Add("证件号,xm,xm", "证件号", "公民身份号码")
	f.Fuzz(func(t *testing.T, header, savedHeader, savedItem string) {
		m := newMapper(items, map[string]string{savedHeader: savedItem})
		cols, _, err := m.columns(strings.Split(header, ","))
		if err != nil {
			return
		}
		seen := map[int]bool{}
		for _, i := range cols {
			if i >= len(items) {
				t.Fatalf("column maps to item %d of %d", i, len(items))
			}
			if i >= 0 && seen[i] {
				t.Fatalf("two columns map to item %d", i)
			}
			seen[i] = true
		}
		if !seen[0] || !seen[1] {
			t.Fatalf("required items unmapped but accepted: %v", cols)
		}
	})
}

func TestConvert(t *testing.T) {
	for _, c := range []struct {
		typ  string
		len  int
		in   string
		want any
		rule string
	}{
		{"C", 2, "𠀀𠀁", "𠀀𠀁", ""},
		{"C", 2, "𠀀𠀁x", nil, "length"},
		{"N", 5, "1,234.5", "1234.5", ""},
		{"N", 3, "1234", nil, "length"},
		{"N", 0, "12a", nil, "type"},
		{"I", 0, "-42", int64(-42), ""},
		{"F", 0, "1e3", 1000.0, ""},
		{"L", 0, "是", true, ""},
		{"L", 0, "maybe", nil, "type"},
		{"D", 0, "2024年5月1日", "2024-05-01", ""},
		{"D", 0, "20240501", "2024-05-01", ""},
		{"D", 0, "2024-02-30", nil, "date"},
		{"D", 0, "2024-05-01 00:00:00", "2024-05-01", ""},
		{"T", 0, "2024-05-01T08:30:00+08:00", "2024-05-01 08:30:00", ""},
		{"T", 0, "2024-05-01T00:30:00Z", "2024-05-01 08:30:00", ""},
		{"T", 0, "2024/5/1 8:30", "2024-05-01 08:30:00", ""},
		{"T", 0, "2024-13-01 08:00:00", nil, "datetime"},
		{"G", 0, "aGk=", []byte("hi"), ""},
	} {
		got, te := convert(c.typ, c.len, c.in)
		if c.rule != "" {
			if te == nil || te.rule != c.rule {
				t.Errorf("convert(%s, %q) = %v, %v; want rule %s", c.typ, c.in, got, te, c.rule)
			}
			continue
		}
		if te != nil || !equal(got, c.want) {
			t.Errorf("convert(%s, %q) = %#v, %v; want %#v", c.typ, c.in, got, te, c.want)
		}
	}
}

func equal(a, b any) bool {
	if x, ok := a.([]byte); ok {
		y, _ := b.([]byte)
		return bytes.Equal(x, y)
	}
	return a == b
}

func TestWidens(t *testing.T) {
	for _, c := range []struct {
		from string
		fl   int
		to   string
		tl   int
		ok   bool
	}{
		{"C", 10, "C", 20, true}, {"C", 20, "C", 10, false}, {"C", 10, "C", 0, true}, {"C", 0, "C", 10, false},
		{"C", 10, "M", 0, true}, {"M", 0, "C", 100, false}, {"I", 0, "N", 10, true}, {"N", 10, "I", 0, false}, {"D", 0, "T", 0, true},
	} {
		if got := widens(c.from, c.fl, c.to, c.tl); got != c.ok {
			t.Errorf("widens(%s%d → %s%d) = %v", c.from, c.fl, c.to, c.tl, got)
		}
	}
}

// FuzzXLSXSource feeds mutated workbooks (zip containers) to the XLSX
// reader: it must refuse or read them, never panic or run away with memory.
func FuzzXLSXSource(f *testing.F) {
	for _, rows := range [][][]any{
		{{"公民身份号码", "姓名"}, {"11010519491231002X", "张三"}},
		{{"a", "b", "c"}, {1.5, true, nil}, {"=1+1", "x", 3}},
	} {
		x := excelize.NewFile()
		for i, r := range rows {
			cell, _ := excelize.CoordinatesToCellName(1, i+1)
			_ = x.SetSheetRow("Sheet1", cell, &r)
		}
		var buf bytes.Buffer
		if err := x.Write(&buf); err != nil {
			f.Fatal(err)
		}
		f.Add(buf.Bytes())
	}
	f.Add([]byte("PK\x03\x04 not a workbook"))
	f.Fuzz(func(t *testing.T, data []byte) { drain(t, FormatXLSX, data) })
}
