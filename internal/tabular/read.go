// Package tabular reads and writes the CSV and XLSX tables that Chinese
// government departments exchange: GBK/GB18030 or UTF-8 CSV files as saved
// by Excel and WPS, and XLSX workbooks. It knows nothing about the meaning of
// the data; it delivers rows of trimmed strings, guards against hostile input
// (oversized files, zip bombs, binary files posing as CSV) and neutralises
// formula injection when writing.
package tabular

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"iter"
	"path/filepath"
	"slices"
	"strings"
)

// Format is a table file format.
type Format string

// Supported formats.
const (
	CSV  Format = "csv"
	XLSX Format = "xlsx"
)

// Default limits used when the corresponding Options field is zero.
const (
	DefaultMaxBytes      = 64 << 20  // 64 MiB upload
	DefaultMaxUnzipBytes = 256 << 20 // 256 MiB uncompressed XLSX content
)

// Options controls Read. The zero value is ready to use.
type Options struct {
	// MaxBytes limits the size of the input; larger input fails with
	// CodeOversize. Zero means DefaultMaxBytes.
	MaxBytes int64
	// MaxUnzipBytes limits the total uncompressed size of an XLSX archive;
	// larger archives fail with CodeZipBomb. Zero means DefaultMaxUnzipBytes.
	MaxUnzipBytes int64
	// MaxRows limits the number of non-empty rows, header included; reading
	// one more fails with CodeTooManyRows. Zero means no limit beyond
	// MaxBytes.
	MaxRows int
	// Sheet selects an XLSX worksheet by name (case-insensitive). Empty
	// means the first sheet. Ignored for CSV.
	Sheet string
	// RawValues reads XLSX cells as stored instead of as displayed: full
	// precision numbers, and dates as serial day numbers (the displayed form
	// of a date can drop the century). Ignored for CSV.
	RawValues bool
}

// Row is one non-empty row of a table.
type Row struct {
	// Num is the 1-based row number as a spreadsheet application shows it:
	// the header is row 1, and skipped empty rows still count. For CSV a
	// quoted field spanning several lines still makes a single row.
	Num int
	// Cells holds the cleaned cell values with trailing empty cells removed.
	Cells []string
	// Formulas lists the 0-based indexes of cells that hold a formula in an
	// XLSX file; their Cells value is the result cached by the application
	// that saved the file (empty if it never calculated it). Always nil for
	// CSV, where formula-like text is just text: check it with IsFormula.
	Formulas []int
}

// Cell returns the i-th (0-based) cell, or "" when the row is shorter.
func (r Row) Cell(i int) string {
	if i < 0 || i >= len(r.Cells) {
		return ""
	}
	return r.Cells[i]
}

// source yields raw rows of one format; io.EOF marks the end.
type source interface {
	next() (num int, cells []string, formulas []int, err error)
	close() error
}

// Reader yields the rows of a CSV or XLSX table. It is not safe for
// concurrent use.
type Reader struct {
	format   Format
	encoding string
	comma    rune
	sheet    string
	maxRows  int
	rows     int
	src      source
	err      error
}

var (
	zipMagic = []byte("PK\x03\x04")
	// Empty zip archive (end-of-central-directory record only).
	zipEmptyMagic = []byte("PK\x05\x06")
	// OLE2 compound document: legacy .xls, or an encrypted .xlsx.
	oleMagic = []byte{0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1}
)

// Read reads a whole table file into memory (at most Options.MaxBytes) and
// returns a Reader over its rows. The format is chosen by the extension of
// name (.csv or .xlsx, case-insensitive) and verified against the content, so
// a zip archive named .csv, a legacy .xls or binary data is refused with a
// CodeFormat error. All errors are *Error.
func Read(r io.Reader, name string, opts Options) (*Reader, error) {
	format, err := formatOf(name)
	if err != nil {
		return nil, err
	}
	maxBytes := opts.MaxBytes
	if maxBytes <= 0 {
		maxBytes = DefaultMaxBytes
	}
	data, err := io.ReadAll(io.LimitReader(r, maxBytes+1))
	if err != nil {
		e := newError(CodeIO, "读取文件失败", "cannot read the file")
		e.err = err
		return nil, e
	}
	return readBytes(data, format, maxBytes, opts)
}

// ReadBytes is Read over data already in memory, without copying it: a
// caller that opens several sheets of one workbook reads the file once.
func ReadBytes(data []byte, name string, opts Options) (*Reader, error) {
	format, err := formatOf(name)
	if err != nil {
		return nil, err
	}
	maxBytes := opts.MaxBytes
	if maxBytes <= 0 {
		maxBytes = DefaultMaxBytes
	}
	return readBytes(data, format, maxBytes, opts)
}

func readBytes(data []byte, format Format, maxBytes int64, opts Options) (*Reader, error) {
	var err error
	if int64(len(data)) > maxBytes {
		return nil, newError(CodeOversize,
			fmt.Sprintf("文件过大，不能超过 %s", sizeString(maxBytes)),
			fmt.Sprintf("file is too large; the limit is %s", sizeString(maxBytes)))
	}
	if bytes.HasPrefix(data, oleMagic) {
		return nil, newError(CodeFormat,
			"文件是旧版 Excel（.xls）格式或已加密，请另存为不加密的 .xlsx 文件后重新上传",
			"file is a legacy Excel .xls workbook or is encrypted; save it as an unencrypted .xlsx file and upload again")
	}
	isZip := bytes.HasPrefix(data, zipMagic) || bytes.HasPrefix(data, zipEmptyMagic)

	rd := &Reader{format: format, maxRows: opts.MaxRows}
	switch format {
	case CSV:
		if isZip {
			return nil, newError(CodeFormat,
				"文件扩展名为 .csv，但内容是压缩包（可能是 .xlsx 文件），请使用正确的扩展名",
				"file is named .csv but is a zip archive (probably an .xlsx workbook); use the correct extension")
		}
		err = rd.openCSV(data)
	case XLSX:
		if !isZip {
			return nil, newError(CodeFormat,
				"文件扩展名为 .xlsx，但内容不是有效的 Excel 工作簿",
				"file is named .xlsx but is not a valid Excel workbook")
		}
		err = rd.openXLSX(data, opts)
	}
	if err != nil {
		return nil, err
	}
	return rd, nil
}

func formatOf(name string) (Format, error) {
	switch ext := strings.ToLower(filepath.Ext(name)); ext {
	case ".csv":
		return CSV, nil
	case ".xlsx":
		return XLSX, nil
	case ".xls":
		return "", newError(CodeFormat,
			"不支持旧版 Excel（.xls）文件，请另存为 .xlsx 或 .csv 后重新上传",
			"legacy Excel .xls files are not supported; save as .xlsx or .csv and upload again")
	case "":
		return "", newError(CodeFormat,
			"文件没有扩展名，仅支持 .csv 和 .xlsx 文件",
			"file has no extension; only .csv and .xlsx files are supported")
	default:
		return "", newError(CodeFormat,
			fmt.Sprintf("不支持 %s 文件，仅支持 .csv 和 .xlsx 文件", ext),
			fmt.Sprintf("%s files are not supported; only .csv and .xlsx files are", ext))
	}
}

func sizeString(n int64) string {
	if n >= 1<<20 && n%(1<<20) == 0 {
		return fmt.Sprintf("%d MB", n>>20)
	}
	if n >= 1<<10 && n%(1<<10) == 0 {
		return fmt.Sprintf("%d KB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// Format returns the format of the table.
func (r *Reader) Format() Format { return r.format }

// Encoding returns the detected text encoding of a CSV file: "UTF-8",
// "UTF-8 BOM", "UTF-16LE", "UTF-16BE" or "GB18030" (which covers GBK and
// GB2312). It is "" for XLSX.
func (r *Reader) Encoding() string { return r.encoding }

// Comma returns the detected CSV delimiter (',', '\t' or ';'); 0 for XLSX.
func (r *Reader) Comma() rune { return r.comma }

// Sheet returns the name of the XLSX worksheet being read; "" for CSV.
func (r *Reader) Sheet() string { return r.sheet }

// Next returns the next non-empty row, or io.EOF after the last one. Any
// other error is an *Error and is returned again by later calls.
func (r *Reader) Next() (Row, error) {
	for r.err == nil {
		num, raw, formulas, err := r.src.next()
		if err != nil {
			r.err = err
			break
		}
		cells := make([]string, len(raw))
		last := -1
		for i, c := range raw {
			if cells[i] = cleanCell(c); cells[i] != "" {
				last = i
			}
		}
		if last < 0 && len(formulas) == 0 {
			continue
		}
		if len(formulas) > 0 {
			last = max(last, slices.Max(formulas)) // keep formula cells
		}
		r.rows++
		if r.maxRows > 0 && r.rows > r.maxRows {
			e := newError(CodeTooManyRows,
				fmt.Sprintf("行数过多，最多允许 %d 行（含表头）", r.maxRows),
				fmt.Sprintf("too many rows; at most %d rows (header included) are allowed", r.maxRows))
			e.Row = num
			r.err = e
			break
		}
		for len(cells) <= last {
			cells = append(cells, "") // defensive: formula beyond the values
		}
		return Row{Num: num, Cells: cells[:last+1], Formulas: formulas}, nil
	}
	return Row{}, r.err
}

// All returns an iterator over the remaining rows. Iteration stops after the
// first error, which is yielded with a zero Row; io.EOF is not yielded.
func (r *Reader) All() iter.Seq2[Row, error] {
	return func(yield func(Row, error) bool) {
		for {
			row, err := r.Next()
			if errors.Is(err, io.EOF) {
				return
			}
			if !yield(row, err) || err != nil {
				return
			}
		}
	}
}

// Close releases resources (temporary files of large XLSX worksheets). It
// does not close the io.Reader passed to Read.
func (r *Reader) Close() error {
	if r.src == nil {
		return nil
	}
	err := r.src.close()
	r.src = nil
	if r.err == nil {
		r.err = newError(CodeIO, "读取器已关闭", "reader is closed")
	}
	return err
}
