package ingest

import (
	"context"
	"os"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"xiangyun/internal/auth"
	"xiangyun/internal/catalog"
	"xiangyun/internal/db"
	"xiangyun/internal/errs"
)

// mapper maps source column names onto data items: a mapping saved for the
// entry first, then the item's Chinese name, then its English name (any
// case). Spaces, the marks of required columns (*) and full-width forms do
// not matter.
type mapper struct {
	items []catalog.Item
	index map[string]int
}

func normHeader(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 0xFF01 && r <= 0xFF5E: // full-width ASCII
			r -= 0xFEE0
		case r == '\u3000', r == '\ufeff':
			continue
		}
		if unicode.IsSpace(r) || r == '*' {
			continue
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

func newMapper(items []catalog.Item, saved map[string]string) *mapper {
	m := &mapper{items: items, index: map[string]int{}}
	byName := map[string]int{}
	for i, it := range items {
		byName[it.Name] = i
	}
	for i := len(items) - 1; i >= 0; i-- { // the first item wins a clash
		if items[i].EnName != "" {
			m.index[normHeader(items[i].EnName)] = i
		}
	}
	for i := len(items) - 1; i >= 0; i-- {
		m.index[normHeader(items[i].Name)] = i
	}
	for h, item := range saved {
		if i, ok := byName[item]; ok {
			m.index[normHeader(h)] = i
		}
	}
	return m
}

// item returns the index of the item a header maps to, or -1.
func (m *mapper) item(header string) int {
	if i, ok := m.index[normHeader(header)]; ok {
		return i
	}
	return -1
}

// columns maps a table's header: the item index of each column (-1 for
// columns that map to nothing). Two columns mapping to one item, or a
// required item without a column, are refused.
func (m *mapper) columns(header []string) ([]int, []string, error) {
	out := make([]int, len(header))
	seen := map[int]string{}
	var unknown []string
	for c, h := range header {
		i := m.item(h)
		out[c] = i
		if i < 0 {
			if strings.TrimSpace(h) != "" {
				unknown = append(unknown, h)
			}
			continue
		}
		if prev, ok := seen[i]; ok {
			return nil, nil, errs.Invalid("ingest.mapping", "列“"+prev+"”和“"+h+"”都对应信息项“"+m.items[i].Name+"”",
				"columns "+quote(prev)+" and "+quote(h)+" both map to item "+quote(m.items[i].Name))
		}
		seen[i] = h
	}
	var missing []string
	for i, it := range m.items {
		if _, ok := seen[i]; !ok && (it.Required || it.Key) {
			missing = append(missing, it.Name)
		}
	}
	if len(missing) > 0 {
		return nil, nil, errs.Invalid("ingest.mapping", "文件缺少必填信息项的列："+strings.Join(missing, "、")+"（可在“列映射”中指定对应的列）",
			"the file has no column for the required items: "+strings.Join(missing, ", ")+" (map them under column mapping)")
	}
	return out, unknown, nil
}

func quote(s string) string { return `"` + s + `"` }

// Mapping returns the saved column mapping of an entry (header → item).
func (s *Service) Mapping(ctx context.Context, entryID int64) (map[string]string, error) {
	ctx, cancel := s.db.Ctx(ctx)
	defer cancel()
	rows, err := s.db.R.QueryContext(ctx, `SELECT header, item FROM ingest_mappings WHERE entry_id = $1`, entryID)
	if err != nil {
		return nil, db.Check(err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var h, i string
		if err := rows.Scan(&h, &i); err != nil {
			return nil, err
		}
		out[h] = i
	}
	return out, db.Check(rows.Err())
}

// SaveMapping replaces an entry's saved column mapping (source header →
// item name), which later uploads use before the items' own names. The
// provider's uploaders may save it.
func (s *Service) SaveMapping(ctx context.Context, p *auth.Principal, entryID int64, m map[string]string) error {
	e, err := s.entry(ctx, entryID)
	if err != nil {
		return err
	}
	if !p.HasAt(auth.PermDataUpload, e.ProviderID) {
		return errNotProvider
	}
	var fs errs.Fields
	for h, item := range m {
		if strings.TrimSpace(h) == "" || utf8.RuneCountInString(h) > 200 || !utf8.ValidString(h) {
			fs.Add("mapping", "ingest.mapping_header", "列名须为 1 至 200 个字符："+h, "a column name must have 1 to 200 characters: "+h)
			continue
		}
		if !slices.ContainsFunc(e.Items, func(it catalog.Item) bool { return it.Name == item }) {
			fs.Add("mapping["+h+"]", "ingest.mapping_item", "没有这个信息项："+item, "no such data item: "+item)
		}
	}
	if len(m) > 1000 {
		fs.Add("mapping", "ingest.mapping_size", "最多保存 1000 列的对应关系", "at most 1000 columns can be mapped")
	}
	if err := fs.Err(); err != nil {
		return err
	}
	return s.db.Tx(ctx, func(tx *db.Tx) error {
		if err := tx.Run(`DELETE FROM ingest_mappings WHERE entry_id = $1`, entryID); err != nil {
			return err
		}
		for h, item := range m {
			if err := tx.Run(`INSERT INTO ingest_mappings (entry_id, header, item) VALUES ($1, $2, $3)`, entryID, strings.TrimSpace(h), item); err != nil {
				return err
			}
		}
		return nil
	})
}

// ColumnMap is how one column of a file maps onto the entry's items.
type ColumnMap struct {
	Header string `json:"header"`
	Item   string `json:"item" doc:"the data item, empty when the column maps to none"`
	By     string `json:"by" doc:"saved (a saved mapping), name, en_name, or empty" enum:"saved,name,en_name,"`
}

// MapColumns shows how a header maps onto an entry's items with its saved
// mapping, and which required or key items no column reaches. The
// provider's readers may look.
func (s *Service) MapColumns(ctx context.Context, p *auth.Principal, entryID int64, header []string) ([]ColumnMap, []string, error) {
	e, err := s.entry(ctx, entryID)
	if err != nil {
		return nil, nil, err
	}
	if ok, _ := mayRead(p, &e); !ok {
		return nil, nil, errNotReader
	}
	saved, err := s.Mapping(ctx, entryID)
	if err != nil {
		return nil, nil, err
	}
	savedNorm := map[string]bool{}
	for h := range saved {
		savedNorm[normHeader(h)] = true
	}
	m := newMapper(e.Items, saved)
	out := make([]ColumnMap, 0, len(header))
	seen := map[int]bool{}
	for _, h := range header {
		cm := ColumnMap{Header: h}
		if i := m.item(h); i >= 0 {
			it := e.Items[i]
			cm.Item = it.Name
			switch n := normHeader(h); {
			case savedNorm[n]:
				cm.By = "saved"
			case n == normHeader(it.Name):
				cm.By = "name"
			default:
				cm.By = "en_name"
			}
			seen[i] = true
		}
		out = append(out, cm)
	}
	var missing []string
	for i, it := range e.Items {
		if !seen[i] && (it.Required || it.Key) {
			missing = append(missing, it.Name)
		}
	}
	return out, missing, nil
}

// PreviewHeader reads only the header row of a spooled table file (CSV or
// XLSX) and removes the file.
func PreviewHeader(path, name string) ([]string, error) {
	defer os.Remove(path)
	format, err := FormatOf(name)
	if err != nil {
		return nil, err
	}
	if format != FormatCSV && format != FormatXLSX {
		return nil, errs.Invalid("ingest.preview_format", "只有 CSV 和 XLSX 文件有表头可以预览", "only CSV and XLSX files have a header to preview")
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && format == FormatXLSX && st.Size() > MaxXLSXBytes {
		return nil, errs.New(errs.KindTooLarge, "tabular.oversize", "XLSX 文件不能超过 64 MiB", "an XLSX file may not exceed 64 MiB")
	}
	src, err := openSource(format, f)
	if err != nil {
		return nil, err
	}
	defer src.Close()
	h := src.Header()
	if len(h) > 1000 {
		h = h[:1000]
	}
	return h, nil
}
