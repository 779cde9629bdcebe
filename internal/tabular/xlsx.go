package tabular

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"path"
	"strconv"
	"strings"

	"github.com/xuri/excelize/v2"
)

// maxXMLInMemory caps excelize's UnzipXMLSizeLimit: worksheets and shared
// string tables larger than this are extracted to a temporary file and
// streamed from there instead of being held in memory.
const maxXMLInMemory = 16 << 20

func (r *Reader) openXLSX(data []byte, opts Options) error {
	limit := opts.MaxUnzipBytes
	if limit <= 0 {
		limit = DefaultMaxUnzipBytes
	}
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return errCorrupt(err)
	}
	// Refuse zip bombs before excelize inflates anything. archive/zip fails
	// on entries that inflate beyond their declared size, so the declared
	// sizes can be trusted.
	var total uint64
	for _, f := range zr.File {
		total += f.UncompressedSize64
		if total > uint64(limit) {
			return newError(CodeZipBomb,
				fmt.Sprintf("文件解压后过大（超过 %s），可能是恶意构造的文件", sizeString(limit)),
				fmt.Sprintf("workbook expands to more than %s when unzipped; refusing a possible zip bomb", sizeString(limit)))
		}
	}

	f, err := excelize.OpenReader(bytes.NewReader(data), excelize.Options{
		UnzipSizeLimit:    limit,
		UnzipXMLSizeLimit: min(limit, maxXMLInMemory),
	})
	if err != nil {
		if f != nil {
			_ = f.Close()
		}
		return errCorrupt(err)
	}
	sheets := f.GetSheetList()
	sheet := opts.Sheet
	if sheet == "" {
		if len(sheets) == 0 {
			_ = f.Close()
			return errCorrupt(nil)
		}
		sheet = sheets[0]
	} else if i := indexFold(sheets, sheet); i >= 0 {
		sheet = sheets[i]
	} else {
		_ = f.Close()
		return newError(CodeSheetNotFound,
			fmt.Sprintf("找不到工作表“%s”，现有工作表：%s", sheet, strings.Join(sheets, "、")),
			fmt.Sprintf("worksheet %q not found; the workbook has: %s", sheet, strings.Join(sheets, ", ")))
	}
	rows, err := f.Rows(sheet)
	if err != nil {
		_ = f.Close()
		return errCorrupt(err)
	}
	src := &xlsxSource{file: f, rows: rows, raw: opts.RawValues}
	if part, ok := sheetPart(zr, sheet); ok {
		if rc, err := part.Open(); err == nil {
			src.formulas = &formulaScanner{rc: rc, dec: xml.NewDecoder(rc)}
		}
		src.merged = mergedRanges(part)
	}
	r.sheet = sheet
	r.src = src
	return nil
}

func indexFold(list []string, s string) int {
	for i, v := range list {
		if strings.EqualFold(v, s) {
			return i
		}
	}
	return -1
}

func errCorrupt(err error) *Error {
	e := newError(CodeCorrupt,
		"Excel 文件已损坏或格式不正确，请用 Excel 或 WPS 打开后重新另存为 .xlsx 文件",
		"the workbook is damaged or not a valid .xlsx file; open it in Excel or WPS and save it again as .xlsx")
	e.err = err
	return e
}

// xlsxSource streams a worksheet with excelize. Each call to rows.Next
// advances exactly one row number, including empty rows, so counting calls
// gives the row number.
type xlsxSource struct {
	file     *excelize.File
	rows     *excelize.Rows
	formulas *formulaScanner // nil when the worksheet part was not found
	merged   []*mergeRange   // merged ranges, whose cells all read as the top-left one
	row      int
	raw      bool // cells as stored, not as formatted (Options.RawValues)
}

func (s *xlsxSource) next() (int, []string, []int, error) {
	if !s.rows.Next() {
		if err := s.rows.Error(); err != nil {
			e := errCorrupt(err)
			e.Row = s.row + 1
			return 0, nil, nil, e
		}
		return 0, nil, nil, io.EOF
	}
	s.row++
	cells, err := s.rows.Columns(excelize.Options{RawCellValue: s.raw})
	if err != nil {
		e := errCorrupt(err)
		e.Row = s.row
		return 0, nil, nil, e
	}
	if len(s.merged) > 0 {
		cells = fillMerged(s.merged, s.row, cells)
	}
	var formulas []int
	if s.formulas != nil {
		formulas = s.formulas.at(s.row)
	}
	return s.row, cells, formulas, nil
}

func (s *xlsxSource) close() error {
	if s.formulas != nil {
		_ = s.formulas.rc.Close()
	}
	err := s.rows.Close()
	if cerr := s.file.Close(); err == nil {
		err = cerr
	}
	return err
}

// formulaScanner walks the worksheet XML in step with excelize's row
// iterator and reports which cells of a row carry an <f> (formula) element,
// which the streaming API does not expose. It holds one row at a time.
type formulaScanner struct {
	rc   io.ReadCloser
	dec  *xml.Decoder
	row  int   // number of the row last scanned
	cols []int // formula columns (0-based) of that row
	done bool
}

// at returns the formula columns of row num. Rows must be requested in
// increasing order.
func (s *formulaScanner) at(num int) []int {
	for !s.done && s.row < num {
		s.scanRow()
	}
	if s.row == num {
		return s.cols
	}
	return nil
}

func (s *formulaScanner) scanRow() {
	s.cols = nil
	inRow, col := false, 0
	for {
		tok, err := s.dec.RawToken()
		if err != nil {
			s.done = true
			return
		}
		switch t := tok.(type) {
		case xml.StartElement:
			switch t.Name.Local {
			case "row":
				inRow, col = true, 0
				if n, err := strconv.Atoi(attr(t, "r")); err == nil {
					s.row = n
				} else {
					s.row++
				}
			case "c":
				col++
				if c, _, err := excelize.CellNameToCoordinates(attr(t, "r")); err == nil {
					col = c
				}
			case "f":
				if inRow && col > 0 {
					s.cols = append(s.cols, col-1)
				}
			}
		case xml.EndElement:
			switch t.Name.Local {
			case "row":
				if inRow {
					return
				}
			case "sheetData":
				s.done = true
				return
			}
		}
	}
}

func attr(t xml.StartElement, local string) string {
	for _, a := range t.Attr {
		if a.Name.Local == local {
			return a.Value
		}
	}
	return ""
}

// sheetPart finds the zip entry holding the named worksheet by following
// _rels/.rels → workbook → workbook relationships.
func sheetPart(zr *zip.Reader, sheet string) (*zip.File, bool) {
	files := make(map[string]*zip.File, len(zr.File))
	for _, f := range zr.File {
		files[strings.ToLower(strings.TrimPrefix(strings.ReplaceAll(f.Name, `\`, "/"), "/"))] = f
	}
	var rels relationships
	wbPath := "xl/workbook.xml"
	if readXML(files, "_rels/.rels", &rels) {
		for _, rel := range rels.Rel {
			if strings.HasSuffix(rel.Type, "/officeDocument") {
				wbPath = strings.TrimPrefix(rel.Target, "/")
			}
		}
	}
	var wb struct {
		Sheets []struct {
			Name string `xml:"name,attr"`
			ID   string `xml:"id,attr"` // r:id
		} `xml:"sheets>sheet"`
	}
	if !readXML(files, wbPath, &wb) {
		return nil, false
	}
	id := ""
	for _, s := range wb.Sheets {
		if strings.EqualFold(s.Name, sheet) {
			id = s.ID
			break
		}
	}
	dir, base := path.Split(wbPath)
	rels = relationships{}
	if id == "" || !readXML(files, dir+"_rels/"+base+".rels", &rels) {
		return nil, false
	}
	for _, rel := range rels.Rel {
		if rel.ID != id {
			continue
		}
		target := rel.Target
		if strings.HasPrefix(target, "/") {
			target = target[1:]
		} else {
			target = path.Join(dir, target)
		}
		f, ok := files[strings.ToLower(target)]
		return f, ok
	}
	return nil, false
}

type relationships struct {
	Rel []struct {
		ID     string `xml:"Id,attr"`
		Type   string `xml:"Type,attr"`
		Target string `xml:"Target,attr"`
	} `xml:"Relationship"`
}

func readXML(files map[string]*zip.File, name string, v any) bool {
	f, ok := files[strings.ToLower(name)]
	if !ok {
		return false
	}
	rc, err := f.Open()
	if err != nil {
		return false
	}
	defer rc.Close()
	return xml.NewDecoder(rc).Decode(v) == nil
}
