package tabular

import (
	"archive/zip"
	"bufio"
	"bytes"
	"encoding/xml"
	"io"

	"github.com/xuri/excelize/v2"
)

// Merged cells (合并单元格). A worksheet lists its merged ranges after its
// rows, and only the top-left cell of a range holds the value. A data sheet
// that merges, say, 单位名称 over the rows of one unit means that value for
// every row of the range, so the reader gives each cell of a range the
// top-left cell's value.

// maxMergeRanges bounds the merged ranges kept for one worksheet.
const maxMergeRanges = 100000

// mergeRange is a merged range, 1-based and inclusive.
type mergeRange struct {
	top, left, bottom, right int
	value                    string // the top-left cell's, once its row was read
}

// mergedRanges finds a worksheet part's merged ranges. It reads the part
// once, searching the raw bytes for <mergeCells, which follows the rows,
// so that a large sheet costs a byte scan rather than an XML parse.
func mergedRanges(part *zip.File) []*mergeRange {
	rc, err := part.Open()
	if err != nil {
		return nil
	}
	defer rc.Close()
	br := bufio.NewReaderSize(rc, 1<<16)
	marker := []byte("<mergeCells")
	var window []byte
	buf := make([]byte, 1<<16)
	for {
		n, err := br.Read(buf)
		window = append(window, buf[:n]...)
		if i := bytes.Index(window, marker); i >= 0 {
			return parseMerges(io.MultiReader(bytes.NewReader(window[i:]), br))
		}
		// Keep the tail that may hold the start of the marker.
		if len(window) > len(marker) {
			window = append(window[:0], window[len(window)-len(marker):]...)
		}
		if err != nil {
			return nil
		}
	}
}

func parseMerges(r io.Reader) []*mergeRange {
	dec := xml.NewDecoder(r)
	var out []*mergeRange
	for len(out) < maxMergeRanges {
		tok, err := dec.RawToken()
		if err != nil {
			return out
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if t.Name.Local != "mergeCell" {
				continue
			}
			ref := attr(t, "ref")
			from, to, ok := bytes.Cut([]byte(ref), []byte(":"))
			if !ok {
				continue
			}
			c1, r1, err1 := excelize.CellNameToCoordinates(string(from))
			c2, r2, err2 := excelize.CellNameToCoordinates(string(to))
			if err1 != nil || err2 != nil || r2 < r1 || c2 < c1 || c2-c1 > 16384 {
				continue
			}
			out = append(out, &mergeRange{top: r1, left: c1, bottom: r2, right: c2})
		case xml.EndElement:
			if t.Name.Local == "mergeCells" {
				return out
			}
		}
	}
	return out
}

// fillMerged gives the cells of row num that lie in a merged range the
// range's value; cells may grow to reach the range's right edge.
func fillMerged(ranges []*mergeRange, num int, cells []string) []string {
	for _, m := range ranges {
		if num < m.top || num > m.bottom {
			continue
		}
		if num == m.top {
			if m.left-1 < len(cells) {
				m.value = cells[m.left-1]
			}
		}
		if m.value == "" {
			continue
		}
		for len(cells) < m.right {
			cells = append(cells, "")
		}
		for c := m.left - 1; c < m.right; c++ {
			if cells[c] == "" {
				cells[c] = m.value
			}
		}
	}
	return cells
}
