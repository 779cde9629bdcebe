package tabular

import (
	"fmt"
	"strings"
)

// Stable error codes carried by *Error. Callers may switch on them and map
// them to their own responses; the codes never change once published.
const (
	CodeFormat        = "tabular.format"          // unsupported or mislabelled file
	CodeOversize      = "tabular.oversize"        // input larger than Options.MaxBytes
	CodeEncoding      = "tabular.encoding"        // CSV text in an unrecognised encoding
	CodeTooManyRows   = "tabular.too_many_rows"   // more rows than Options.MaxRows
	CodeZipBomb       = "tabular.zip_bomb"        // XLSX expands beyond Options.MaxUnzipBytes
	CodeMalformedCSV  = "tabular.malformed_csv"   // CSV syntax error (e.g. bare quote)
	CodeCorrupt       = "tabular.corrupt"         // damaged XLSX archive or worksheet
	CodeSheetNotFound = "tabular.sheet_not_found" // Options.Sheet does not exist
	CodeIO            = "tabular.io"              // reading the input failed
)

// Error is the single error type returned by this package's readers. ZH and
// EN are user-presentable messages; Row and Col are 1-based positions in the
// file (0 when not applicable). Use ColumnName(Col-1) for a letter.
type Error struct {
	Code string
	ZH   string
	EN   string
	Row  int
	Col  int

	err error // underlying cause, if any
}

// Error returns the English message, prefixed with the position when known.
func (e *Error) Error() string {
	var b strings.Builder
	switch {
	case e.Row > 0 && e.Col > 0:
		fmt.Fprintf(&b, "row %d, column %s: ", e.Row, ColumnName(e.Col-1))
	case e.Row > 0:
		fmt.Fprintf(&b, "row %d: ", e.Row)
	case e.Col > 0:
		fmt.Fprintf(&b, "column %s: ", ColumnName(e.Col-1))
	}
	b.WriteString(e.EN)
	return b.String()
}

// Unwrap returns the underlying cause, if any.
func (e *Error) Unwrap() error { return e.err }

func newError(code, zh, en string) *Error {
	return &Error{Code: code, ZH: zh, EN: en}
}

// ColumnName converts a 0-based column index to its spreadsheet letter name:
// 0 → "A", 25 → "Z", 26 → "AA". Negative indexes return "".
func ColumnName(i int) string {
	if i < 0 {
		return ""
	}
	var buf [8]byte
	n := len(buf)
	for i++; i > 0; i = (i - 1) / 26 {
		n--
		buf[n] = byte('A' + (i-1)%26)
	}
	return string(buf[n:])
}
