package catalogio

import (
	"bytes"
	"context"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"

	"xiangyun/internal/auth"
	"xiangyun/internal/catalog"
	"xiangyun/internal/errs"
	"xiangyun/internal/tabular"
)

// Export formats.
const (
	FormatCSV  = "csv"
	FormatXLSX = "xlsx"
)

// ContentType returns the media type of an export format.
func ContentType(format string) string {
	if format == FormatXLSX {
		return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	}
	return "text/csv; charset=utf-8"
}

// SplitFormat separates the file format (csv or xlsx; xlsx when absent)
// from the format-class facet values (database, document …) that share the
// "format" parameter of the search and export URLs; the two never clash.
// ok is false when a value is neither.
func SplitFormat(values []string) (format string, classes []string, ok bool) {
	format = FormatXLSX
	for _, v := range values {
		switch v = strings.TrimSpace(v); strings.ToLower(v) {
		case "":
		case FormatCSV, FormatXLSX:
			format = strings.ToLower(v)
		default:
			if !slices.ContainsFunc(catalog.Formats, func(f catalog.FormatClass) bool { return f.Code == v }) {
				return format, classes, false
			}
			classes = append(classes, v)
		}
	}
	return format, classes, true
}

var errFormat = errs.Invalid("catalogio.format", "导出格式须为 csv 或 xlsx", "the export format must be csv or xlsx")

// Export writes every entry of the filtered view q that p may see (Offset
// and Limit are ignored), with its data items: an XLSX workbook with the
// template's two sheets (so that it can be edited and imported again), or a
// CSV file (UTF-8 with BOM, formula-like text neutralised) with the entries
// and the compact data items column. Values are the Chinese labels.
//
// Entries are streamed from the catalog; nothing reaches w before the first
// entry (CSV) or the end (XLSX), so an error from the catalog (a bad filter,
// no permission) leaves w untouched.
func Export(ctx context.Context, svc *catalog.Service, p *auth.Principal, q catalog.SearchQuery, format string, w io.Writer) error {
	v := newVocab(svc)
	switch format {
	case FormatCSV:
		return exportCSV(ctx, svc, p, q, v, w)
	case FormatXLSX:
		return exportXLSX(ctx, svc, p, q, v, w)
	}
	return errFormat
}

func exportCSV(ctx context.Context, svc *catalog.Service, p *auth.Principal, q catalog.SearchQuery, v *vocab, w io.Writer) error {
	cols := entrySheet(true, true)
	tw, err := tabular.NewWriter(w, tabular.CSV)
	if err != nil {
		return err
	}
	started := false
	start := func() error {
		started = true
		h := make([]string, len(cols))
		for i, c := range cols {
			h[i] = c.zh
		}
		return tw.WriteHeader(h)
	}
	n := 0
	err = svc.Filtered(ctx, p, q, func(e catalog.Entry) error {
		if !started {
			if err := start(); err != nil {
				return err
			}
		}
		n++
		return tw.WriteRow(entryValues(cols, &e, n, v))
	})
	if err != nil {
		return err
	}
	if !started {
		if err := start(); err != nil {
			return err
		}
	}
	return tw.Close()
}

// exportXLSX fills the template: the workbook keeps its header notes,
// drop-down lists, column formats and frozen header, and the rows are
// streamed into both sheets.
func exportXLSX(ctx context.Context, svc *catalog.Service, p *auth.Principal, q catalog.SearchQuery, v *vocab, w io.Writer) error {
	var tpl bytes.Buffer
	if err := tabular.Template(&tpl, templateSheets("zh", v, true)); err != nil {
		return err
	}
	f, err := excelize.OpenReader(&tpl)
	if err != nil {
		return err
	}
	defer f.Close()
	es, err := newSheetWriter(f, SheetEntries, entrySheet(true, false))
	if err != nil {
		return err
	}
	is, err := newSheetWriter(f, SheetItems, itemColumns)
	if err != nil {
		return err
	}
	n := 0
	err = svc.Filtered(ctx, p, q, func(e catalog.Entry) error {
		n++
		if err := es.row(entryValues(es.cols, &e, n, v)); err != nil {
			return err
		}
		for i := range e.Items {
			if err := is.row(itemValues(is.cols, &e, &e.Items[i], n)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if err := es.sw.Flush(); err != nil {
		return err
	}
	if err := is.sw.Flush(); err != nil {
		return err
	}
	_, err = f.WriteTo(w)
	return err
}

// sheetWriter streams rows into one sheet of the template.
type sheetWriter struct {
	sw     *excelize.StreamWriter
	cols   []column
	styles []int // the text style of each column
	rows   int
}

func newSheetWriter(f *excelize.File, sheet string, cols []column) (*sheetWriter, error) {
	s := &sheetWriter{cols: cols, styles: make([]int, len(cols))}
	head := make([]any, len(cols))
	for i, c := range cols {
		name := tabular.ColumnName(i)
		st, err := f.GetCellStyle(sheet, name+"1")
		if err != nil {
			return nil, err
		}
		head[i] = excelize.Cell{StyleID: st, Value: c.zh}
		if s.styles[i], err = f.GetColStyle(sheet, name); err != nil {
			return nil, err
		}
	}
	sw, err := f.NewStreamWriter(sheet)
	if err != nil {
		return nil, err
	}
	s.sw = sw
	return s, s.put(head, excelize.RowOpts{Height: 24})
}

func (s *sheetWriter) put(cells []any, opts ...excelize.RowOpts) error {
	s.rows++
	cell, err := excelize.CoordinatesToCellName(1, s.rows)
	if err != nil {
		return err
	}
	return s.sw.SetRow(cell, cells, opts...)
}

// row writes values as literal cells (never formulas) in the column's text
// format, numbers as numbers.
func (s *sheetWriter) row(values []any) error {
	cells := make([]any, len(values))
	for i, v := range values {
		st := 0
		if i < len(s.styles) {
			st = s.styles[i]
		}
		if v == "" {
			v = nil // an empty cell, keeping the column's format
		}
		cells[i] = excelize.Cell{StyleID: st, Value: v}
	}
	return s.put(cells)
}

func label(set []catalog.Term, code string) string {
	if t, ok := catalog.Lookup(set, code); ok {
		return t.ZH
	}
	return code
}

func formatTypeLabel(class, code string) string {
	for _, f := range catalog.Formats {
		if f.Code == class {
			return label(f.Types, code)
		}
	}
	return code
}

func yesNoOf(b bool) string {
	if b {
		return yes
	}
	return no
}

// entryValues renders entry e (number n) for cols.
func entryValues(cols []column, e *catalog.Entry, n int, v *vocab) []any {
	out := make([]any, len(cols))
	for i, c := range cols {
		var val any
		switch c.key {
		case keyNo:
			val = n
		case "name":
			val = e.Name
		case "class":
			val = e.Class
		case "provider_code":
			val = e.ProviderCode
		case "abstract":
			val = e.Abstract
		case "format_class":
			val = label(catalog.FormatClasses(), e.FormatClass)
		case "format_type":
			val = formatTypeLabel(e.FormatClass, e.FormatType)
		case "share_type":
			val = label(catalog.ShareTypes, e.ShareType)
		case "share_condition":
			val = e.ShareCondition
		case "share_method":
			val = label(catalog.ShareMethods, e.ShareMethod)
		case "share_channel":
			val = label(catalog.ShareChannels, e.ShareChannel)
		case "open_type":
			val = label(catalog.OpenTypes, e.OpenType)
		case "open_condition":
			val = e.OpenCondition
		case "cycle":
			val = label(catalog.Cycles, e.Cycle)
		case "grade":
			val = label(v.grades, e.Grade)
		case "related":
			val = strings.Join(e.Related, "; ")
		case "classified":
			val = no // classified resources are never in the catalog
		case keyItems:
			val = FormatItems(e.Items)
		case "code":
			val = e.Code
		case "provider":
			val = e.Provider
		case "status":
			val = label(catalog.Statuses, e.Status)
		case "version":
			val = e.Version
		case "published_at":
			if e.PublishedAt != nil {
				val = e.PublishedAt.In(time.Local).Format(time.DateOnly)
			}
		}
		if val == nil {
			val = ""
		}
		out[i] = val
	}
	return out
}

// itemValues renders data item it of entry e (number n) for cols.
func itemValues(cols []column, e *catalog.Entry, it *catalog.Item, n int) []any {
	out := make([]any, len(cols))
	for i, c := range cols {
		var val any = ""
		switch c.key {
		case keyEntryNo:
			val = n
		case keyEntryName:
			val = e.Name
		case "name":
			val = it.Name
		case "en_name":
			val = it.EnName
		case "data_type":
			val = label(catalog.DataTypes, it.DataType)
		case "length":
			if it.Length > 0 {
				val = it.Length
			}
		case "required":
			val = yesNoOf(it.Required || it.Key)
		case "key":
			val = yesNoOf(it.Key)
		case "sensitive":
			val = yesNoOf(it.Sensitive)
		case "mask":
			if it.Mask != "" && it.Mask != "none" {
				val = label(catalog.MaskRules, it.Mask)
			}
		case "code_list":
			val = it.CodeList
		}
		out[i] = val
	}
	return out
}
