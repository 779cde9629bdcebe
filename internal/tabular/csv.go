package tabular

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/unicode"
)

var utf8BOM = []byte{0xef, 0xbb, 0xbf}

func (r *Reader) openCSV(data []byte) error {
	text, enc, err := decodeText(data)
	if err != nil {
		return err
	}
	r.encoding = enc
	r.comma = detectComma(text)
	cr := csv.NewReader(bytes.NewReader(text))
	cr.Comma = r.comma
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	r.src = &csvSource{r: cr}
	return nil
}

// decodeText converts CSV bytes to UTF-8: a UTF-8 BOM is stripped, UTF-16
// BOMs select UTF-16, valid UTF-8 is taken as is, and anything else is
// decoded as GB18030 (a superset of GBK and GB2312).
func decodeText(data []byte) ([]byte, string, error) {
	var utf16 *encoding.Decoder
	switch {
	case bytes.HasPrefix(data, utf8BOM):
		data = data[len(utf8BOM):]
		if looksBinary(data) {
			return nil, "", errBinary()
		}
		if !utf8.Valid(data) {
			return nil, "", errEncoding(data, invalidUTF8At(data), "UTF-8")
		}
		return data, "UTF-8 BOM", nil
	case bytes.HasPrefix(data, []byte{0xff, 0xfe}):
		utf16 = unicode.UTF16(unicode.LittleEndian, unicode.ExpectBOM).NewDecoder()
	case bytes.HasPrefix(data, []byte{0xfe, 0xff}):
		utf16 = unicode.UTF16(unicode.BigEndian, unicode.ExpectBOM).NewDecoder()
	}
	if utf16 != nil {
		enc := "UTF-16LE"
		if data[0] == 0xfe {
			enc = "UTF-16BE"
		}
		text, err := utf16.Bytes(data)
		if err != nil || looksBinary(text) {
			return nil, "", errBinary()
		}
		if i := bytes.IndexRune(text, utf8.RuneError); i >= 0 {
			return nil, "", errEncoding(text, i, enc)
		}
		return text, enc, nil
	}
	if looksBinary(data) {
		return nil, "", errBinary()
	}
	if utf8.Valid(data) {
		return data, "UTF-8", nil
	}
	text, err := simplifiedchinese.GB18030.NewDecoder().Bytes(data)
	if err != nil {
		return nil, "", errEncoding(data, invalidUTF8At(data), "GB18030")
	}
	// The decoder substitutes U+FFFD for byte sequences that are not
	// GB18030 either.
	if i := bytes.IndexRune(text, utf8.RuneError); i >= 0 {
		return nil, "", errEncoding(text, i, "GB18030")
	}
	return text, "GB18030", nil
}

// looksBinary reports whether the start of data is clearly not text: more
// than 5% of it are control characters (NUL included). Stray controls in an
// otherwise textual file are tolerated and removed from the cells.
func looksBinary(data []byte) bool {
	sample := data[:min(len(data), 8<<10)]
	controls := 0
	for _, c := range sample {
		if c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f' && c != 0x1a {
			controls++
		}
	}
	return controls*20 > len(sample)
}

func invalidUTF8At(data []byte) int {
	for i := 0; i < len(data); {
		r, size := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && size == 1 {
			return i
		}
		i += size
	}
	return len(data)
}

func errBinary() *Error {
	return newError(CodeFormat,
		"文件不是文本格式的 CSV 文件",
		"file is not a text CSV file")
}

// errEncoding reports undecodable text at byte offset i of text; Row is the
// physical line number, which equals the row number unless a quoted cell
// spans several lines.
func errEncoding(text []byte, i int, tried string) *Error {
	e := newError(CodeEncoding,
		"无法识别文件的字符编码，请将文件另存为 UTF-8 或 GBK 编码的 CSV 文件",
		fmt.Sprintf("cannot decode the file as %s; save it as a UTF-8 or GBK encoded CSV file", tried))
	e.Row = bytes.Count(text[:i], []byte{'\n'}) + 1
	return e
}

// detectComma picks the delimiter that occurs most often (outside quotes) on
// the first line: tab or semicolon when they beat the comma, else comma.
func detectComma(text []byte) rune {
	var commas, tabs, semis int
	quoted := false
	for _, c := range text {
		if c == '"' {
			quoted = !quoted
			continue
		}
		if quoted {
			continue
		}
		switch c {
		case '\n':
			goto done
		case ',':
			commas++
		case '\t':
			tabs++
		case ';':
			semis++
		}
	}
done:
	switch {
	case tabs > commas && tabs >= semis:
		return '\t'
	case semis > commas:
		return ';'
	}
	return ','
}

// csvSource numbers records like a spreadsheet application shows them: one
// row per record, with blank lines (which encoding/csv skips) still counted.
type csvSource struct {
	r       *csv.Reader
	row     int // number of the last record returned
	endLine int // physical line on which the last record ended
}

func (s *csvSource) next() (int, []string, []int, error) {
	rec, err := s.r.Read()
	if err != nil {
		if pe, ok := errors.AsType[*csv.ParseError](err); ok {
			return 0, nil, nil, s.parseError(pe)
		}
		return 0, nil, nil, err // io.EOF; reading from memory cannot fail otherwise
	}
	line, _ := s.r.FieldPos(0)
	s.row += line - s.endLine
	last := len(rec) - 1
	line, _ = s.r.FieldPos(last)
	s.endLine = line + strings.Count(rec[last], "\n")
	return s.row, rec, nil, nil
}

func (s *csvSource) close() error { return nil }

func (s *csvSource) parseError(pe *csv.ParseError) *Error {
	var zh, en string
	switch {
	case errors.Is(pe.Err, csv.ErrBareQuote):
		zh = "单元格中含有未加引号转义的双引号（\"）"
		en = `bare " in an unquoted field`
	case errors.Is(pe.Err, csv.ErrQuote):
		zh = "引号不匹配：缺少结束的双引号，或引号后有多余字符"
		en = `extraneous or missing " in a quoted field`
	default:
		zh = "CSV 格式错误"
		en = "malformed CSV: " + pe.Err.Error()
	}
	e := newError(CodeMalformedCSV, "CSV 格式错误："+zh, en)
	e.Row = s.row + pe.StartLine - s.endLine
	e.err = pe
	return e
}
