package tabular

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"io"
	"unicode/utf8"

	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"
)

// sniffBytes is how much of a streamed CSV file decides its encoding and
// delimiter.
const sniffBytes = 64 << 10

// StreamCSV returns a Reader over a CSV file that is decoded and parsed as it
// is read, so that memory does not grow with the file (Read holds the whole
// file). The encoding is chosen from the first 64 KiB like Read does: a BOM,
// valid UTF-8, or else GB18030 (GBK). A file that is UTF-8 at first and
// something else later fails with CodeEncoding at the row where the bytes
// stop being UTF-8; a start that is UTF-8 Chinese text followed by bytes that
// are not is refused as a file of mixed encodings. Options.MaxBytes is not
// applied (the caller limits the stream); MaxRows is.
func StreamCSV(r io.Reader, opts Options) (*Reader, error) {
	br := bufio.NewReaderSize(r, sniffBytes)
	sample, err := br.Peek(sniffBytes)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		e := newError(CodeIO, "读取文件失败", "cannot read the file")
		e.err = err
		return nil, e
	}
	var (
		text io.Reader
		enc  string
	)
	switch {
	case bytes.HasPrefix(sample, utf8BOM):
		_, _ = br.Discard(len(utf8BOM))
		sample = sample[len(utf8BOM):]
		if looksBinary(sample) {
			return nil, errBinary()
		}
		text, enc = &utf8Check{r: br}, "UTF-8 BOM"
	case bytes.HasPrefix(sample, []byte{0xff, 0xfe}):
		text, enc = transform.NewReader(br, unicode.UTF16(unicode.LittleEndian, unicode.ExpectBOM).NewDecoder()), "UTF-16LE"
	case bytes.HasPrefix(sample, []byte{0xfe, 0xff}):
		text, enc = transform.NewReader(br, unicode.UTF16(unicode.BigEndian, unicode.ExpectBOM).NewDecoder()), "UTF-16BE"
	case looksBinary(sample):
		return nil, errBinary()
	case validUTF8Prefix(sample, len(sample) < sniffBytes):
		text, enc = &utf8Check{r: br}, "UTF-8"
	default:
		if mixedEncoding(sample) {
			i := invalidUTF8At(sample)
			e := newError(CodeEncoding,
				"文件混用了多种字符编码（前面是 UTF-8，后面不是），请将整个文件另存为 UTF-8 或 GBK 编码",
				"the file mixes encodings (UTF-8 at first, something else later); save the whole file as UTF-8 or GBK")
			e.Row = bytes.Count(sample[:i], []byte{'\n'}) + 1
			return nil, e
		}
		text, enc = &replacementCheck{r: transform.NewReader(br, simplifiedchinese.GB18030.NewDecoder()), tried: "GB18030"}, "GB18030"
	}
	tb := bufio.NewReaderSize(text, sniffBytes)
	head, _ := tb.Peek(sniffBytes)
	rd := &Reader{format: CSV, encoding: enc, comma: detectComma(head), maxRows: opts.MaxRows}
	cr := csv.NewReader(tb)
	cr.Comma = rd.comma
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	cr.LazyQuotes = false
	rd.src = &csvSource{r: cr}
	return rd, nil
}

// validUTF8Prefix reports whether b is UTF-8, allowing a rune cut at the end
// of a sample that is not the whole file.
func validUTF8Prefix(b []byte, whole bool) bool {
	if !whole {
		for i := 1; i <= utf8.UTFMax && i <= len(b); i++ {
			if utf8.RuneStart(b[len(b)-i]) {
				if !utf8.FullRune(b[len(b)-i:]) {
					b = b[:len(b)-i]
				}
				break
			}
		}
	}
	return utf8.Valid(b)
}

// mixedEncoding reports a sample that starts as UTF-8 with several
// multi-byte characters before its first invalid byte: GBK text almost never
// looks like that, a file pasted together from two encodings does.
func mixedEncoding(b []byte) bool {
	i := invalidUTF8At(b)
	return utf8.RuneCount(b[:i]) <= i-4*2 // at least four 2+ byte runes
}

// utf8Check passes UTF-8 text through and fails at the first invalid byte.
type utf8Check struct {
	r     io.Reader
	carry []byte
	line  int // newlines passed, for the error's row
	err   error
}

func (u *utf8Check) Read(p []byte) (int, error) {
	if u.err != nil {
		return 0, u.err
	}
	if len(p) < 2*utf8.UTFMax {
		return 0, io.ErrShortBuffer
	}
	n := copy(p, u.carry)
	u.carry = u.carry[:0]
	m, err := u.r.Read(p[n:])
	n += m
	end := n
	if err == nil {
		for i := 1; i <= utf8.UTFMax && i <= n; i++ {
			if utf8.RuneStart(p[n-i]) {
				if !utf8.FullRune(p[n-i : n]) {
					end = n - i
				}
				break
			}
		}
	}
	if !utf8.Valid(p[:end]) {
		i := invalidUTF8At(p[:end])
		e := newError(CodeEncoding,
			"文件中途出现了非 UTF-8 编码的内容（可能混用了多种编码），请将整个文件另存为 UTF-8 或 GBK 编码",
			"the file stops being UTF-8 part-way (mixed encodings?); save the whole file as UTF-8 or GBK")
		e.Row = u.line + bytes.Count(p[:i], []byte{'\n'}) + 1
		u.err = e
		return i, nil
	}
	u.carry = append(u.carry, p[end:n]...)
	u.line += bytes.Count(p[:end], []byte{'\n'})
	if err != nil {
		if len(u.carry) > 0 && errors.Is(err, io.EOF) {
			e := newError(CodeEncoding, "文件末尾的字符不完整", "the file ends in the middle of a character")
			e.Row = u.line + 1
			u.err = e
			return end, nil
		}
		u.err = err
	}
	return end, nil
}

// replacementCheck fails when the decoder met bytes it could not decode
// (it substitutes U+FFFD for them).
type replacementCheck struct {
	r     io.Reader
	tried string
	line  int
	err   error
}

var replacement = []byte("\uFFFD")

func (c *replacementCheck) Read(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	n, err := c.r.Read(p)
	if i := bytes.Index(p[:n], replacement); i >= 0 {
		c.err = errEncoding(p[:n], i, c.tried)
		c.err.(*Error).Row += c.line
		return i, nil
	}
	c.line += bytes.Count(p[:n], []byte{'\n'})
	if err != nil {
		c.err = err
	}
	return n, nil
}
