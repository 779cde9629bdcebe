package ingest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"

	"xiangyun/internal/errs"
	"xiangyun/internal/tabular"
)

// Formats of record files.
const (
	FormatCSV    = "csv"
	FormatXLSX   = "xlsx"
	FormatJSON   = "json"
	FormatNDJSON = "ndjson"
)

// FormatOf picks a file's format by its extension.
func FormatOf(name string) (string, error) {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".csv", ".txt":
		return FormatCSV, nil
	case ".xlsx":
		return FormatXLSX, nil
	case ".json":
		return FormatJSON, nil
	case ".ndjson", ".jsonl":
		return FormatNDJSON, nil
	}
	return "", errs.Invalid("ingest.format", "只接受 CSV、XLSX、JSON 和 NDJSON 文件（.csv .xlsx .json .ndjson .jsonl）",
		"only CSV, XLSX, JSON and NDJSON files are accepted (.csv .xlsx .json .ndjson .jsonl)")
}

// record is one row as read: positional cells under the source's header
// (tabular files) or named fields (JSON).
type record struct {
	Num  int      // row number: spreadsheet numbering for tables, the record's ordinal for JSON
	Keys []string // field names (JSON); nil for tabular rows
	Vals []string
	Err  *rowError // the record itself could not be read (a JSON value that is not an object)
}

type rowError struct{ col, value, rule, zh, en string }

// source yields records; io.EOF ends it. Any other error ends the batch.
type source interface {
	Header() []string // nil for JSON
	Next() (record, error)
	Encoding() string
	Close() error
}

// MaxXLSXBytes bounds an XLSX upload, which (unlike CSV and JSON) must be
// opened whole.
const MaxXLSXBytes = 64 << 20

// MaxRecordBytes bounds one JSON record or NDJSON line.
const MaxRecordBytes = 1 << 20

func openSource(format string, r io.Reader) (source, error) {
	switch format {
	case FormatCSV, FormatXLSX:
		var (
			rd  *tabular.Reader
			err error
		)
		if format == FormatCSV {
			rd, err = tabular.StreamCSV(r, tabular.Options{})
		} else {
			// Raw values: a date cell's displayed form may drop the century.
			rd, err = tabular.Read(r, "f.xlsx", tabular.Options{MaxBytes: MaxXLSXBytes, RawValues: true})
		}
		if err != nil {
			return nil, tabularErr(err)
		}
		t := &tableSource{rd: rd}
		row, err := rd.Next()
		if errors.Is(err, io.EOF) {
			rd.Close()
			return nil, errs.Invalid("ingest.empty", "文件是空的：第 1 行应为表头（信息项名称）", "the file is empty: row 1 must hold the headers (item names)")
		}
		if err != nil {
			rd.Close()
			return nil, tabularErr(err)
		}
		t.header = append([]string(nil), row.Cells...)
		return t, nil
	case FormatJSON:
		return newJSONSource(r)
	case FormatNDJSON:
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 64<<10), MaxRecordBytes)
		return &ndjsonSource{sc: sc}, nil
	}
	return nil, fmt.Errorf("ingest: unknown format %q", format)
}

// tabularErr turns a reader error into a domain error with its message.
func tabularErr(err error) error {
	var te *tabular.Error
	if errors.As(err, &te) {
		zh, en := te.ZH, te.EN
		if te.Row > 0 {
			zh, en = fmt.Sprintf("第 %d 行：%s", te.Row, zh), fmt.Sprintf("row %d: %s", te.Row, en)
		}
		kind := errs.KindInvalid
		if te.Code == tabular.CodeOversize || te.Code == tabular.CodeZipBomb {
			kind = errs.KindTooLarge
		}
		return errs.New(kind, te.Code, zh, en)
	}
	return err
}

type tableSource struct {
	rd     *tabular.Reader
	header []string
}

func (t *tableSource) Header() []string { return t.header }
func (t *tableSource) Encoding() string { return t.rd.Encoding() }
func (t *tableSource) Close() error     { return t.rd.Close() }
func (t *tableSource) Next() (record, error) {
	row, err := t.rd.Next()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return record{}, io.EOF
		}
		return record{}, tabularErr(err)
	}
	return record{Num: row.Num, Vals: row.Cells}, nil
}

// jsonSource streams the elements of a JSON array of objects.
type jsonSource struct {
	dec *json.Decoder
	n   int
}

func newJSONSource(r io.Reader) (*jsonSource, error) {
	br := bufio.NewReader(r)
	if b, _ := br.Peek(3); bytes.Equal(b, []byte{0xef, 0xbb, 0xbf}) {
		_, _ = br.Discard(3)
	}
	dec := json.NewDecoder(br)
	dec.UseNumber()
	tok, err := dec.Token()
	if d, ok := tok.(json.Delim); err != nil || !ok || d != '[' {
		return nil, errs.Invalid("ingest.json", "JSON 文件应为对象数组：[{\"信息项\": \"值\"}, …]", `a JSON file must be an array of objects: [{"item": "value"}, …]`)
	}
	return &jsonSource{dec: dec}, nil
}

func (j *jsonSource) Header() []string { return nil }
func (j *jsonSource) Encoding() string { return "UTF-8" }
func (j *jsonSource) Close() error     { return nil }
func (j *jsonSource) Next() (record, error) {
	if !j.dec.More() {
		if _, err := j.dec.Token(); err != nil {
			return record{}, jsonErr(j.n+1, err)
		}
		return record{}, io.EOF
	}
	j.n++
	var raw json.RawMessage
	if err := j.dec.Decode(&raw); err != nil {
		return record{}, jsonErr(j.n, err)
	}
	if len(raw) > MaxRecordBytes {
		return record{}, errs.New(errs.KindTooLarge, "ingest.record_too_large", fmt.Sprintf("第 %d 条记录过大（超过 1 MiB）", j.n), fmt.Sprintf("record %d is larger than 1 MiB", j.n))
	}
	return objectRecord(j.n, raw), nil
}

func jsonErr(n int, err error) error {
	return errs.Invalid("ingest.json", fmt.Sprintf("第 %d 条记录处 JSON 格式错误：%v", n, err), fmt.Sprintf("malformed JSON at record %d: %v", n, err))
}

// ndjsonSource reads one JSON object per line; blank lines are skipped but
// counted, so that a record's number is its line number.
type ndjsonSource struct {
	sc   *bufio.Scanner
	line int
}

func (s *ndjsonSource) Header() []string { return nil }
func (s *ndjsonSource) Encoding() string { return "UTF-8" }
func (s *ndjsonSource) Close() error     { return nil }
func (s *ndjsonSource) Next() (record, error) {
	for s.sc.Scan() {
		s.line++
		b := bytes.TrimSpace(s.sc.Bytes())
		if s.line == 1 {
			b = bytes.TrimPrefix(b, []byte{0xef, 0xbb, 0xbf})
		}
		if len(b) == 0 {
			continue
		}
		return objectRecord(s.line, b), nil
	}
	if err := s.sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return record{}, errs.New(errs.KindTooLarge, "ingest.record_too_large", fmt.Sprintf("第 %d 行过长（超过 1 MiB）", s.line+1), fmt.Sprintf("line %d is longer than 1 MiB", s.line+1))
		}
		return record{}, err
	}
	return record{}, io.EOF
}

// objectRecord reads one JSON object's fields as text: strings as they are,
// numbers as written, booleans as true/false, null as empty. Anything else
// makes the record a rejected row, not a failed batch.
func objectRecord(n int, raw []byte) record {
	rec := record{Num: n}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var obj map[string]any
	if err := dec.Decode(&obj); err != nil || obj == nil {
		rec.Err = &rowError{value: clip(string(raw)), rule: "format", zh: "记录不是 JSON 对象", en: "the record is not a JSON object"}
		return rec
	}
	for k, v := range obj {
		var s string
		switch x := v.(type) {
		case nil:
		case string:
			s = x
		case json.Number:
			s = x.String()
		case bool:
			s = strconv.FormatBool(x)
		default:
			b, _ := json.Marshal(x)
			rec.Err = &rowError{col: k, value: clip(string(b)), rule: "type", zh: "值应为文本、数值或逻辑值，不能是对象或数组", en: "a value must be text, a number or a boolean, not an object or array"}
			return rec
		}
		rec.Keys = append(rec.Keys, k)
		rec.Vals = append(rec.Vals, strings.TrimSpace(s))
	}
	return rec
}

// clip shortens a value kept in an error report.
func clip(s string) string {
	if r := []rune(s); len(r) > 200 {
		return string(r[:200]) + "…"
	}
	return s
}
