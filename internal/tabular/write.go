package tabular

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"time"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/width"
)

// Writer writes a table as CSV or XLSX.
//
// CSV output is UTF-8 with a BOM and CRLF line endings, which Excel and WPS
// in China open correctly. Text cells that IsFormula are prefixed with an
// apostrophe (') so that spreadsheet applications show them as text instead
// of evaluating them.
//
// XLSX output is written with excelize's StreamWriter to a sheet named
// "Sheet1". Text is always stored as a plain string cell, never as a
// formula, so formula-like text is shown verbatim and needs no apostrophe.
// The header row is bold and frozen and sets the column widths. Nothing
// reaches the underlying io.Writer before Close.
//
// A Writer is not safe for concurrent use.
type Writer struct {
	format Format
	w      io.Writer
	rows   int
	err    error

	// CSV
	cw  *csv.Writer
	rec []string

	// XLSX
	file *excelize.File
	sw   *excelize.StreamWriter
}

const xlsxSheet = "Sheet1"

// NewWriter returns a Writer producing format (CSV or XLSX) on w.
func NewWriter(w io.Writer, format Format) (*Writer, error) {
	tw := &Writer{format: format, w: w}
	switch format {
	case CSV:
		tw.cw = csv.NewWriter(w)
		tw.cw.UseCRLF = true
	case XLSX:
		tw.file = excelize.NewFile()
		sw, err := tw.file.NewStreamWriter(xlsxSheet)
		if err != nil {
			_ = tw.file.Close()
			return nil, err
		}
		tw.sw = sw
	default:
		return nil, fmt.Errorf("tabular: unsupported output format %q", format)
	}
	return tw, nil
}

// WriteHeader writes the header row. It must be called before any WriteRow.
func (w *Writer) WriteHeader(header []string) error {
	if w.rows > 0 {
		return errors.New("tabular: WriteHeader called after rows were written")
	}
	if w.format == CSV {
		return w.WriteStrings(header)
	}
	if w.err != nil {
		return w.err
	}
	bold, err := w.file.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}})
	if err != nil {
		return w.fail(err)
	}
	row := make([]any, len(header))
	for i, h := range header {
		row[i] = excelize.Cell{StyleID: bold, Value: h}
		if err := w.sw.SetColWidth(i+1, i+1, columnWidth(h)); err != nil {
			return w.fail(err)
		}
	}
	if len(header) > 0 {
		err = w.sw.SetPanes(&excelize.Panes{
			Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft",
		})
		if err != nil {
			return w.fail(err)
		}
	}
	return w.setRow(row)
}

// WriteRow writes one data row. Supported cell types are string, []byte,
// bool, all integer and float types, time.Time (written as text
// "2006-01-02 15:04:05", or "2006-01-02" at midnight), fmt.Stringer and nil
// (an empty cell); anything else is formatted with fmt.Sprint.
func (w *Writer) WriteRow(cells []any) error {
	if w.err != nil {
		return w.err
	}
	if w.format == CSV {
		w.rec = w.rec[:0]
		for _, c := range cells {
			w.rec = append(w.rec, csvValue(c))
		}
		return w.writeCSV(w.rec)
	}
	row := make([]any, len(cells))
	for i, c := range cells {
		row[i] = xlsxValue(c)
	}
	return w.setRow(row)
}

// WriteStrings writes one row of text cells.
func (w *Writer) WriteStrings(cells []string) error {
	if w.err != nil {
		return w.err
	}
	if w.format == CSV {
		w.rec = w.rec[:0]
		for _, c := range cells {
			w.rec = append(w.rec, neutralise(c))
		}
		return w.writeCSV(w.rec)
	}
	row := make([]any, len(cells))
	for i, c := range cells {
		row[i] = c
	}
	return w.setRow(row)
}

// Close finishes the table and, for XLSX, writes the workbook to the
// underlying io.Writer. It does not close that io.Writer.
func (w *Writer) Close() error {
	if w.format == CSV {
		if w.err == nil && w.rows == 0 {
			w.writeBOM() // an empty table is still a UTF-8 CSV file
		}
		if w.err == nil {
			w.cw.Flush()
			w.err = w.cw.Error()
		}
		return w.err
	}
	if w.file == nil {
		return w.err
	}
	defer func() { w.file = nil }()
	if w.err == nil {
		w.err = w.sw.Flush()
	}
	if w.err == nil {
		_, w.err = w.file.WriteTo(w.w)
	}
	if err := w.file.Close(); w.err == nil {
		w.err = err
	}
	return w.err
}

func (w *Writer) fail(err error) error {
	w.err = err
	return err
}

func (w *Writer) writeBOM() {
	if _, err := w.w.Write(utf8BOM); err != nil {
		w.err = err
	}
}

func (w *Writer) writeCSV(rec []string) error {
	if w.rows == 0 {
		if w.writeBOM(); w.err != nil {
			return w.err
		}
	}
	w.rows++
	if err := w.cw.Write(rec); err != nil {
		return w.fail(err)
	}
	return nil
}

func (w *Writer) setRow(row []any) error {
	w.rows++
	cell, err := excelize.CoordinatesToCellName(1, w.rows)
	if err == nil {
		err = w.sw.SetRow(cell, row)
	}
	if err != nil {
		return w.fail(err)
	}
	return nil
}

// neutralise prefixes formula-like text with an apostrophe for CSV output.
func neutralise(s string) string {
	if IsFormula(s) {
		return "'" + s
	}
	return s
}

func csvValue(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return neutralise(v)
	case []byte:
		return neutralise(string(v))
	case bool:
		if v {
			return "TRUE"
		}
		return "FALSE"
	case int:
		return strconv.Itoa(v)
	case int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64:
		return fmt.Sprint(v)
	case float32:
		return formatFloat(float64(v), 32)
	case float64:
		return formatFloat(v, 64)
	case time.Time:
		return formatTime(v)
	case fmt.Stringer:
		return neutralise(v.String())
	}
	return neutralise(fmt.Sprint(v))
}

// xlsxValue converts v to a value excelize stores as a literal cell.
func xlsxValue(v any) any {
	switch v := v.(type) {
	case nil, string, bool, int8, int16, int32, uint8, uint16, uint32:
		return v
	case []byte:
		return string(v)
	case int:
		return exactInt(int64(v))
	case int64:
		return exactInt(v)
	case uint:
		return exactUint(uint64(v))
	case uint64:
		return exactUint(v)
	case float32:
		return finiteFloat(float64(v), 32)
	case float64:
		return finiteFloat(v, 64)
	case time.Time:
		return formatTime(v)
	case fmt.Stringer:
		return v.String()
	}
	// Includes excelize.Cell, so callers cannot smuggle in a formula.
	return fmt.Sprint(v)
}

// Excel keeps 15 significant digits; larger integers (ID numbers, account
// numbers) would be silently rounded, so they are written as text.
const maxExactInt = 999_999_999_999_999

func exactInt(v int64) any {
	if v > maxExactInt || v < -maxExactInt {
		return strconv.FormatInt(v, 10)
	}
	return v
}

func exactUint(v uint64) any {
	if v > maxExactInt {
		return strconv.FormatUint(v, 10)
	}
	return v
}

func finiteFloat(v float64, bits int) any {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return formatFloat(v, bits)
	}
	return v
}

func formatFloat(v float64, bits int) string {
	return strconv.FormatFloat(v, 'f', -1, bits)
}

func formatTime(t time.Time) string {
	if t.Hour() == 0 && t.Minute() == 0 && t.Second() == 0 && t.Nanosecond() == 0 {
		return t.Format(time.DateOnly)
	}
	return t.Format(time.DateTime)
}

// columnWidth returns a column width fitting s, counting East Asian wide
// characters double, within [10, 50].
func columnWidth(s string) float64 {
	return min(max(float64(displayWidth(s))+4, 10), 50)
}

func displayWidth(s string) int {
	n := 0
	for _, r := range s {
		switch width.LookupRune(r).Kind() {
		case width.EastAsianWide, width.EastAsianFullwidth:
			n += 2
		default:
			n++
		}
	}
	return n
}
