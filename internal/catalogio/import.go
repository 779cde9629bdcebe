package catalogio

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/text/width"

	"xiangyun/internal/auth"
	"xiangyun/internal/catalog"
	"xiangyun/internal/errs"
	"xiangyun/internal/tabular"
)

// Default limits of Import.
const (
	DefaultMaxRows     = 5_000   // entry rows
	DefaultMaxItemRows = 100_000 // rows of the items sheet
)

// Options control Import. The zero value is ready to use.
type Options struct {
	// MaxRows limits the entry rows (header excluded); 0 means
	// DefaultMaxRows.
	MaxRows int
	// MaxItemRows limits the rows of the items sheet; 0 means
	// DefaultMaxItemRows.
	MaxItemRows int
	// MaxBytes limits the file size; 0 means tabular.DefaultMaxBytes
	// (64 MiB). The uncompressed size of a workbook is limited by tabular.
	MaxBytes int64
	// DryRun validates every row and reports, but creates nothing.
	DryRun bool
}

// Report is the outcome of an import: what was read, every problem found,
// row by row, and what was created. Nothing is created unless Errors is
// empty.
type Report struct {
	Format   string `json:"format" doc:"csv or xlsx"`
	Encoding string `json:"encoding,omitempty" doc:"detected text encoding of a CSV file: UTF-8, UTF-8 BOM, GB18030 …"`
	// Rows counts the entry rows read, Items the data items.
	Rows    int  `json:"rows"`
	Items   int  `json:"items"`
	Created int  `json:"created"`
	DryRun  bool `json:"dry_run,omitempty"`
	// Errors lists every problem, by sheet, row and column.
	Errors []RowError `json:"errors"`
	// Entries lists the entries created, in file order.
	Entries []CreatedEntry `json:"entries,omitempty"`
}

// OK reports whether the file had no problems.
func (r *Report) OK() bool { return len(r.Errors) == 0 }

// RowError is one problem of one row (Row 0: of the whole sheet).
type RowError struct {
	Sheet string `json:"sheet" doc:"worksheet name; 目录 for CSV files"`
	Row   int    `json:"row" doc:"row number as the spreadsheet shows it (the header is row 1)"`
	// Column is the header text with the column letter, "信息资源名称 (B)",
	// or the expected header of a missing column.
	Column string `json:"column,omitempty"`
	Letter string `json:"letter,omitempty" doc:"column letter, e.g. B"`
	// Field is the catalog field, e.g. "name" or "items[2].data_type".
	Field string `json:"field,omitempty"`
	Code  string `json:"code"`
	ZH    string `json:"message_zh"`
	EN    string `json:"message_en"`

	col int // column index for sorting; -1 when none
}

// CreatedEntry is an entry an import created.
type CreatedEntry struct {
	Row  int    `json:"row"`
	ID   int64  `json:"id"`
	Code string `json:"code"`
	Name string `json:"name"`
}

// entryRow is one entry row of the file.
type entryRow struct {
	num   int
	no    string
	in    catalog.EntryInput
	items []itemSrc
	bad   map[string]bool // columns with a problem found here: the catalog's own messages about them are dropped
}

// itemSrc says where a data item came from.
type itemSrc struct {
	row     int  // items sheet row; 0 for the compact column
	compact bool // from the entry's compact column
	bad     map[string]bool
}

// header is the header row of one sheet, mapped onto known columns.
type header struct {
	sheet string
	row   int
	texts []string
	cols  []*column // by index; nil for unknown or empty headers
	at    map[string]int
}

type importer struct {
	ctx     context.Context
	svc     *catalog.Service
	p       *auth.Principal
	opts    Options
	rep     *Report
	body    int64 // the importer's own body, for rows without a provider code
	entries []*entryRow
	eh      *header
	ih      *header
	byNo    map[string]*entryRow
	byName  map[string][]*entryRow
}

// Import reads a catalog spreadsheet and drafts its entries: an XLSX
// workbook with the sheets 目录 (entries) and optionally 信息项 (data
// items), or a CSV file of entries with the compact data items column (see
// ParseItems). Headers are matched by name, Chinese or English, in any
// order. Every row is checked — file-level rules here, the catalog's rules
// through ValidateInput — and every problem is reported with its sheet, row
// and column. If there is any problem, or opts.DryRun is set, nothing is
// created; otherwise all entries are created in one transaction.
//
// A file that cannot be read at all (wrong type, legacy .xls, damaged,
// undecodable, too large, a zip bomb, too many rows, no data) gives an
// *errs.Error with Chinese and English messages and no report.
func Import(ctx context.Context, svc *catalog.Service, p *auth.Principal, r io.Reader, filename string, opts Options) (Report, error) {
	if p == nil || (p != catalog.System && !p.Has(auth.PermCatalogEdit)) {
		return Report{}, errs.ErrForbidden
	}
	if opts.MaxRows <= 0 {
		opts.MaxRows = DefaultMaxRows
	}
	if opts.MaxItemRows <= 0 {
		opts.MaxItemRows = DefaultMaxItemRows
	}
	if opts.MaxBytes <= 0 {
		opts.MaxBytes = tabular.DefaultMaxBytes
	}
	rep := &Report{DryRun: opts.DryRun, Errors: []RowError{}}
	im := &importer{ctx: ctx, svc: svc, p: p, opts: opts, rep: rep, byNo: map[string]*entryRow{}, byName: map[string][]*entryRow{}}
	if bs := p.BodiesWith(auth.PermCatalogEdit); len(bs) == 1 && p != catalog.System {
		im.body = bs[0]
	}

	topts := tabular.Options{MaxBytes: opts.MaxBytes}
	var data []byte
	var er *tabular.Reader
	var err error
	if strings.EqualFold(filepath.Ext(filename), ".xlsx") {
		// A workbook is opened once per sheet: read it once (at most one
		// byte past the limit, which tabular refuses).
		if data, err = io.ReadAll(io.LimitReader(r, opts.MaxBytes+1)); err != nil {
			return Report{}, errs.Invalid("catalogio.read", "读取上传的文件失败，请重新上传", "cannot read the uploaded file; please upload it again")
		}
		er, err = openSheet(data, filename, topts, true, SheetEntries, "catalog", "entries", "")
	} else if er, err = tabular.Read(r, filename, topts); err != nil {
		err = fileError(err)
	}
	if err != nil {
		return Report{}, err
	}
	rep.Format, rep.Encoding = string(er.Format()), er.Encoding()
	err = im.readEntries(er)
	er.Close()
	if err != nil {
		return Report{}, err
	}
	if er.Format() == tabular.XLSX && im.eh != nil {
		ir, err := openSheet(data, filename, topts, false, SheetItems, "items", "数据项")
		if err != nil {
			return Report{}, err
		}
		if ir != nil {
			err = im.readItems(ir)
			ir.Close()
			if err != nil {
				return Report{}, err
			}
		}
	}
	if im.eh == nil { // a required column is missing: the rows were not read
		im.sort()
		return *rep, nil
	}
	for _, e := range im.entries {
		rep.Items += len(e.in.Items)
	}
	im.duplicates()
	if err := im.existing(); err != nil {
		return Report{}, err
	}
	for _, e := range im.entries {
		if err := svc.ValidateInput(ctx, e.in); err != nil {
			ve, ok := errs.As(err)
			if !ok || len(ve.Fields) == 0 {
				return Report{}, err
			}
			for _, fe := range ve.Fields {
				im.fieldError(e, fe)
			}
		}
	}
	if !rep.OK() || opts.DryRun {
		im.sort()
		return *rep, nil
	}
	ins := make([]catalog.EntryInput, len(im.entries))
	for i, e := range im.entries {
		ins[i] = e.in
	}
	created, err := svc.CreateMany(ctx, p, ins)
	if err != nil {
		ve, ok := errs.As(err)
		if !ok || len(ve.Fields) == 0 {
			return Report{}, err
		}
		// Problems only the batch sees: the provider's permission, or a
		// change between the check and the insert.
		for _, fe := range ve.Fields {
			i, rest, ok := rowIndex(fe.Field)
			if !ok || i >= len(im.entries) {
				im.add(RowError{Sheet: SheetEntries, Field: fe.Field, Code: fe.Code, ZH: fe.ZH, EN: fe.EN, col: -1})
				continue
			}
			fe.Field = rest
			im.fieldError(im.entries[i], fe)
		}
		im.sort()
		return *rep, nil
	}
	rep.Created = len(created)
	rep.Entries = make([]CreatedEntry, len(created))
	for i, e := range created {
		rep.Entries[i] = CreatedEntry{Row: im.entries[i].num, ID: e.ID, Code: e.Code, Name: e.Name}
	}
	return *rep, nil
}

// rowIndex splits "rows[3].name" into 3 and "name".
func rowIndex(field string) (int, string, bool) {
	rest, ok := strings.CutPrefix(field, "rows[")
	if !ok {
		return 0, field, false
	}
	n, rest, ok := strings.Cut(rest, "].")
	if !ok {
		return 0, field, false
	}
	i, err := strconv.Atoi(n)
	return i, rest, err == nil
}

// openSheet opens the first of the named worksheets that exists ("" is
// the first sheet). A CSV file is its only sheet. When none exists it
// returns nil, or the error of the last attempt if must is set.
func openSheet(data []byte, filename string, opts tabular.Options, must bool, names ...string) (*tabular.Reader, error) {
	var last error
	for _, name := range names {
		opts.Sheet = name
		rd, err := tabular.ReadBytes(data, filename, opts)
		if err == nil {
			return rd, nil
		}
		if te, ok := errors.AsType[*tabular.Error](err); ok && te.Code == tabular.CodeSheetNotFound {
			last = err
			continue
		}
		return nil, fileError(err)
	}
	if must && last != nil {
		return nil, fileError(last)
	}
	return nil, nil
}

// fileError turns a tabular error into an *errs.Error.
func fileError(err error) error {
	te, ok := errors.AsType[*tabular.Error](err)
	if !ok {
		return err
	}
	kind := errs.KindInvalid
	if te.Code == tabular.CodeOversize || te.Code == tabular.CodeZipBomb || te.Code == tabular.CodeTooManyRows {
		kind = errs.KindTooLarge
	}
	zh, en := te.ZH, te.EN
	if te.Row > 0 {
		zh, en = fmt.Sprintf("第 %d 行：%s", te.Row, zh), fmt.Sprintf("row %d: %s", te.Row, en)
	}
	return errs.New(kind, te.Code, zh, en)
}

var (
	errEmpty  = errs.Invalid("catalogio.empty", "文件中没有内容", "the file is empty")
	errNoRows = errs.Invalid("catalogio.no_rows", "表头下没有目录数据行", "there are no entry rows under the header")
)

func errTooManyRows(sheet string, n int) error {
	return errs.New(errs.KindTooLarge, "catalogio.too_many_rows",
		fmt.Sprintf("「%s」超过 %d 行，请分批导入", sheet, n), fmt.Sprintf("sheet %s has more than %d rows; import it in parts", sheet, n))
}

// readHeader reads the header row, skipping up to three title rows (rows
// with a single cell) above it, and maps it onto the columns of l. It reports unknown,
// repeated and missing required columns; it returns nil when a required
// column is missing. ok is false for a sheet without rows.
func (im *importer) readHeader(rd *tabular.Reader, sheet string, l lookup, required func(at map[string]int) []*column) (*header, bool, error) {
	var row tabular.Row
	for skipped := 0; ; skipped++ {
		var err error
		row, err = rd.Next()
		if errors.Is(err, io.EOF) {
			return nil, false, nil
		}
		if err != nil {
			return nil, false, fileError(err)
		}
		filled := 0
		for _, c := range row.Cells {
			if c != "" {
				filled++
			}
		}
		if filled > 1 || skipped >= 3 || (filled == 1 && l.find(row.Cells[len(row.Cells)-1]) != nil) {
			break
		}
	}
	h := &header{sheet: sheet, row: row.Num, texts: row.Cells, cols: make([]*column, len(row.Cells)), at: map[string]int{}}
	for i, text := range row.Cells {
		if text == "" {
			continue
		}
		c := l.find(text)
		if c == nil {
			im.add(RowError{Sheet: sheet, Row: row.Num, Column: colName(text, i), Letter: tabular.ColumnName(i), Code: "catalogio.unknown_column",
				ZH: "无法识别的列「" + text + "」：请使用模板中的列名，或删除该列", EN: "unknown column " + strconv.Quote(text) + ": use the template's headers or remove the column", col: i})
			continue
		}
		if j, dup := h.at[c.key]; dup {
			im.add(RowError{Sheet: sheet, Row: row.Num, Column: colName(text, i), Letter: tabular.ColumnName(i), Code: "catalogio.duplicate_column",
				ZH: "列「" + text + "」与第 " + tabular.ColumnName(j) + " 列重复", EN: "column " + strconv.Quote(text) + " repeats column " + tabular.ColumnName(j), col: i})
			continue
		}
		h.cols[i], h.at[c.key] = c, i
	}
	for _, f := range row.Formulas {
		im.add(RowError{Sheet: sheet, Row: row.Num, Column: colName(h.text(f), f), Letter: tabular.ColumnName(f), Code: "catalogio.formula",
			ZH: "表头单元格含有公式，请直接填写列名", EN: "the header cell holds a formula; type the column name", col: f})
	}
	missing := required(h.at)
	for _, c := range missing {
		im.add(RowError{Sheet: sheet, Row: row.Num, Column: c.zh, Code: "catalogio.missing_column",
			ZH: "缺少必需的列「" + c.zh + "」", EN: "the required column " + strconv.Quote(c.zh) + " (" + c.en + ") is missing", col: -1})
	}
	if len(missing) > 0 {
		return nil, true, nil
	}
	return h, true, nil
}

func (h *header) text(i int) string {
	if i < len(h.texts) {
		return h.texts[i]
	}
	return ""
}

// colName is the Column of a RowError: "信息资源名称 (B)".
func colName(text string, i int) string {
	if text == "" {
		return tabular.ColumnName(i)
	}
	return text + " (" + tabular.ColumnName(i) + ")"
}

// column returns the Column, letter and index of key in h, or the expected
// header when the file lacks the column.
func (h *header) column(key string, cols []column) (string, string, int) {
	if h == nil {
		return "", "", -1
	}
	if i, ok := h.at[key]; ok {
		return colName(h.texts[i], i), tabular.ColumnName(i), i
	}
	if c := columnByKey(cols, key); c != nil {
		return c.zh, "", -1
	}
	return "", "", -1
}

func (im *importer) add(e RowError) { im.rep.Errors = append(im.rep.Errors, e) }

// cellError reports a problem with the cell of key in row num.
func (im *importer) cellError(h *header, cols []column, row int, key, field, code, zh, en string) {
	col, letter, i := h.column(key, cols)
	sheet := SheetEntries
	if h != nil {
		sheet = h.sheet
	}
	im.add(RowError{Sheet: sheet, Row: row, Column: col, Letter: letter, Field: field, Code: code, ZH: zh, EN: en, col: i})
}

var (
	formulaZH = "单元格含有公式。系统不计算公式，请改为直接填写值（可复制后“选择性粘贴 → 数值”）"
	formulaEN = "the cell holds a formula, which is never evaluated; type the value instead (copy, then paste values)"
	fTextZH   = "内容以 = + - @ 开头，会被电子表格当作公式执行，已拒绝；请去掉开头的符号"
	fTextEN   = "the text starts with = + - or @ and would run as a formula in a spreadsheet; remove the leading character"
)

// cells walks the known cells of row, reporting formulas, formula-like
// text and values under a missing header; fn gets the others. bad
// collects the keys of refused cells.
func (im *importer) cells(h *header, cols []column, row tabular.Row, bad map[string]bool, blank map[int]bool, fn func(c *column, v string)) {
	formula := map[int]bool{}
	for _, i := range row.Formulas {
		formula[i] = true
	}
	for i, v := range row.Cells {
		var c *column
		if i < len(h.cols) {
			c = h.cols[i]
		}
		if c == nil {
			if (v != "" || formula[i]) && h.text(i) == "" && !blank[i] {
				blank[i] = true
				im.add(RowError{Sheet: h.sheet, Row: row.Num, Column: tabular.ColumnName(i), Letter: tabular.ColumnName(i), Code: "catalogio.no_header",
					ZH: "第 " + tabular.ColumnName(i) + " 列有内容但没有列名", EN: "column " + tabular.ColumnName(i) + " has values but no header", col: i})
			}
			continue
		}
		if c.ignored {
			continue
		}
		switch {
		case formula[i]:
			bad[c.key] = true
			im.add(RowError{Sheet: h.sheet, Row: row.Num, Column: colName(h.texts[i], i), Letter: tabular.ColumnName(i), Field: c.key,
				Code: "catalogio.formula", ZH: formulaZH, EN: formulaEN, col: i})
		case tabular.IsFormula(v):
			bad[c.key] = true
			im.add(RowError{Sheet: h.sheet, Row: row.Num, Column: colName(h.texts[i], i), Letter: tabular.ColumnName(i), Field: c.key,
				Code: "catalogio.formula_text", ZH: fTextZH, EN: fTextEN, col: i})
		case v != "":
			fn(c, v)
		}
	}
}

func (im *importer) readEntries(rd *tabular.Reader) error {
	sheet := SheetEntries
	if rd.Format() == tabular.XLSX {
		sheet = rd.Sheet()
	}
	h, ok, err := im.readHeader(rd, sheet, entryLookup, func(at map[string]int) []*column {
		var out []*column
		for i := range entryColumns {
			c := &entryColumns[i]
			if _, has := at[c.key]; !has && c.required && !(c.key == "provider_code" && im.body != 0) {
				out = append(out, c)
			}
		}
		return out
	})
	if err != nil {
		return err
	}
	if !ok {
		return errEmpty
	}
	if h == nil {
		return nil
	}
	im.eh = h
	_, hasNo := h.at[keyNo]
	blank := map[int]bool{}
	for {
		row, err := rd.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fileError(err)
		}
		if len(im.entries) >= im.opts.MaxRows {
			return errTooManyRows(sheet, im.opts.MaxRows)
		}
		e := &entryRow{num: row.Num, bad: map[string]bool{}}
		if im.body != 0 {
			e.in.ProviderID = im.body
		}
		im.cells(h, entryColumns, row, e.bad, blank, func(c *column, v string) { im.entryCell(e, c, v) })
		if !hasNo {
			e.no = strconv.Itoa(row.Num)
		}
		im.entries = append(im.entries, e)
		im.rep.Rows++
	}
	if len(im.entries) == 0 {
		return errNoRows
	}
	for _, e := range im.entries {
		if e.no != "" {
			if first, dup := im.byNo[e.no]; dup {
				im.cellError(h, entryColumns, e.num, keyNo, "", "catalogio.duplicate_no",
					"序号 "+e.no+" 与第 "+strconv.Itoa(first.num)+" 行重复", "number "+e.no+" repeats row "+strconv.Itoa(first.num))
			} else {
				im.byNo[e.no] = e
			}
		}
		if k := normName(e.in.Name); k != "" {
			im.byName[k] = append(im.byName[k], e)
		}
	}
	return nil
}

// entryCell stores the value of one cell of an entry row.
func (im *importer) entryCell(e *entryRow, c *column, v string) {
	in := &e.in
	switch c.key {
	case keyNo:
		e.no = v
	case "name":
		in.Name = v
	case "class":
		in.Class = v
	case "provider_code":
		in.ProviderCode = v
	case "abstract":
		in.Abstract = v
	case "format_class":
		in.FormatClass = v
	case "format_type":
		in.FormatType = v
	case "share_type":
		in.ShareType = v
	case "share_condition":
		in.ShareCondition = v
	case "share_method":
		in.ShareMethod = v
	case "share_channel":
		in.ShareChannel = v
	case "open_type":
		in.OpenType = v
	case "open_condition":
		in.OpenCondition = v
	case "cycle":
		in.Cycle = v
	case "grade":
		in.Grade = v
	case "related":
		in.Related = splitList(v)
	case "classified":
		b, ok := parseBool(v)
		if !ok {
			e.bad[c.key] = true
			im.cellError(im.eh, entryColumns, e.num, c.key, "classified", "catalogio.bool", "请填写「是」或「否」", "must be yes (是) or no (否)")
		}
		in.Classified = b
	case keyItems:
		items, problems := ParseItems(v)
		for _, p := range problems {
			e.bad[keyItems] = true
			field := "items"
			if p.Index >= 0 {
				field = "items[" + strconv.Itoa(len(in.Items)+p.Index) + "]"
				if p.Field != "" {
					field += "." + p.Field
				}
			}
			im.cellError(im.eh, entryColumns, e.num, keyItems, field, p.Code, p.ZH, p.EN)
		}
		for range items {
			e.items = append(e.items, itemSrc{compact: true})
		}
		in.Items = append(in.Items, items...)
	}
}

// splitList splits a list of codes on semicolons, commas, 、 and spaces.
func splitList(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool {
		return r == ';' || r == '；' || r == ',' || r == '，' || r == '、' || r == ' ' || r == '\n' || r == '\u3000'
	})
}

// parseBool reads 是/否 and the usual other spellings; "" is false.
func parseBool(s string) (bool, bool) {
	switch strings.ToLower(width.Fold.String(strings.TrimSpace(s))) {
	case "是", "y", "yes", "true", "1", "√", "✓", "✔", "有", "t":
		return true, true
	case "否", "n", "no", "false", "0", "×", "✗", "x", "无", "f", "":
		return false, true
	}
	return false, false
}

// normName folds a name for duplicate detection.
func normName(s string) string {
	return strings.ToLower(strings.Join(strings.Fields(width.Fold.String(s)), ""))
}

func (im *importer) readItems(rd *tabular.Reader) error {
	sheet := rd.Sheet()
	h, ok, err := im.readHeader(rd, sheet, itemLookup, func(at map[string]int) []*column {
		var out []*column
		for i := range itemColumns {
			c := &itemColumns[i]
			if _, has := at[c.key]; !has && c.required {
				out = append(out, c)
			}
		}
		_, no := at[keyEntryNo]
		_, name := at[keyEntryName]
		if !no && !name {
			out = append(out, &column{key: keyEntryName, zh: "目录序号或信息资源名称", en: "Entry no or Entry name"})
		}
		return out
	})
	if err != nil || !ok || h == nil {
		return err // an empty items sheet is no items
	}
	im.ih = h
	blank := map[int]bool{}
	n := 0
	for {
		row, err := rd.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fileError(err)
		}
		if n++; n > im.opts.MaxItemRows {
			return errTooManyRows(sheet, im.opts.MaxItemRows)
		}
		im.itemRow(h, row, blank)
	}
}

func (im *importer) itemRow(h *header, row tabular.Row, blank map[int]bool) {
	var it catalog.Item
	var no, name string
	bad := map[string]bool{}
	im.cells(h, itemColumns, row, bad, blank, func(c *column, v string) {
		switch c.key {
		case keyEntryNo:
			no = v
		case keyEntryName:
			name = v
		case "name":
			it.Name = v
		case "en_name":
			it.EnName = v
		case "data_type":
			it.DataType = v
		case "length":
			n, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil || n != float64(int(n)) || n < 0 || n > 1_000_000 {
				bad[c.key] = true
				im.cellError(h, itemColumns, row.Num, c.key, "length", "catalogio.length", "数据长度须为 0 到 1000000 的整数",
					"the length must be a whole number from 0 to 1000000")
				return
			}
			it.Length = int(n)
		case "required", "key", "sensitive":
			b, ok := parseBool(v)
			if !ok {
				bad[c.key] = true
				im.cellError(h, itemColumns, row.Num, c.key, c.key, "catalogio.bool", "请填写「是」或「否」", "must be yes (是) or no (否)")
			}
			switch c.key {
			case "required":
				it.Required = b
			case "key":
				it.Key = b
			default:
				it.Sensitive = b
			}
		case "mask":
			it.Mask = v
		case "code_list":
			it.CodeList = v
		}
	})
	e, ok := im.link(h, row.Num, no, name, bad)
	if !ok {
		return
	}
	e.items = append(e.items, itemSrc{row: row.Num, bad: bad})
	e.in.Items = append(e.in.Items, it)
}

// link finds the entry of an items sheet row by number and/or name.
func (im *importer) link(h *header, row int, no, name string, bad map[string]bool) (*entryRow, bool) {
	if bad[keyEntryNo] || bad[keyEntryName] {
		return nil, false
	}
	var byNo, byName *entryRow
	if no != "" {
		if byNo = im.byNo[no]; byNo == nil {
			im.cellError(h, itemColumns, row, keyEntryNo, "", "catalogio.entry_no_not_found",
				"「目录」工作表中没有序号为 "+no+" 的目录", "no entry has the number "+no+" on the entries sheet")
			return nil, false
		}
	}
	if name != "" {
		es := im.byName[normName(name)]
		switch {
		case len(es) == 0:
			im.cellError(h, itemColumns, row, keyEntryName, "", "catalogio.entry_name_not_found",
				"「目录」工作表中没有名为「"+name+"」的目录", "no entry is named "+strconv.Quote(name)+" on the entries sheet")
			return nil, false
		case len(es) > 1 && byNo == nil:
			im.cellError(h, itemColumns, row, keyEntryName, "", "catalogio.entry_name_ambiguous",
				"「目录」工作表中有多个名为「"+name+"」的目录，请用目录序号区分", "several entries are named "+strconv.Quote(name)+"; use the entry number")
			return nil, false
		}
		byName = es[0]
		if byNo != nil && !slices.Contains(es, byNo) {
			im.cellError(h, itemColumns, row, keyEntryName, "", "catalogio.entry_mismatch",
				"目录序号 "+no+" 与信息资源名称「"+name+"」不是同一条目录", "entry number "+no+" and entry name "+strconv.Quote(name)+" are different entries")
			return nil, false
		}
	}
	switch {
	case byNo != nil:
		return byNo, true
	case byName != nil:
		return byName, true
	}
	im.cellError(h, itemColumns, row, keyEntryName, "", "catalogio.entry_missing",
		"请填写所属目录的目录序号或信息资源名称", "give the entry number or the entry name of the item")
	return nil, false
}

// providerKey identifies an entry's provider within the file.
func (e *entryRow) providerKey() string {
	if e.in.ProviderID != 0 {
		return "#" + strconv.FormatInt(e.in.ProviderID, 10)
	}
	return strings.ToUpper(strings.TrimSpace(e.in.ProviderCode))
}

// duplicates reports names that repeat within the file for one provider.
func (im *importer) duplicates() {
	seen := map[string]*entryRow{}
	for _, e := range im.entries {
		k := normName(e.in.Name)
		if k == "" || e.bad["name"] {
			continue
		}
		k = e.providerKey() + "\x00" + k
		if first, dup := seen[k]; dup {
			e.bad["name"] = true
			im.cellError(im.eh, entryColumns, e.num, "name", "name", "catalogio.duplicate_name",
				"信息资源名称「"+e.in.Name+"」与第 "+strconv.Itoa(first.num)+" 行重复", "the name "+strconv.Quote(e.in.Name)+" repeats row "+strconv.Itoa(first.num))
			continue
		}
		seen[k] = e
	}
}

// existing reports names that the provider's catalog already has (except
// deprecated entries), so that importing a file twice does not draft
// every entry twice. It looks at the bodies whose catalog p edits.
func (im *importer) existing() error {
	bodies := im.p.BodiesWith(auth.PermCatalogEdit)
	if im.p == catalog.System || len(bodies) == 0 || len(bodies) > 20 {
		return nil
	}
	names := map[string]string{} // provider id + name → code
	codes := map[string]int64{}  // provider credit code → id
	for _, b := range bodies {
		id := strconv.FormatInt(b, 10)
		err := im.svc.Filtered(im.ctx, im.p, catalog.SearchQuery{Filters: map[string][]string{"provider": {id}}}, func(e catalog.Entry) error {
			if e.Status != catalog.StatusDeprecated {
				names[id+"\x00"+normName(e.Name)] = e.Code
			}
			codes[e.ProviderCode] = e.ProviderID
			return nil
		})
		if err != nil {
			return err
		}
	}
	if len(names) == 0 {
		return nil
	}
	for _, e := range im.entries {
		if e.bad["name"] {
			continue
		}
		id := e.in.ProviderID
		if c := strings.ToUpper(strings.TrimSpace(e.in.ProviderCode)); c != "" {
			if n, ok := codes[c]; ok {
				id = n
			} else {
				continue
			}
		}
		if code, ok := names[strconv.FormatInt(id, 10)+"\x00"+normName(e.in.Name)]; ok {
			e.bad["name"] = true
			im.cellError(im.eh, entryColumns, e.num, "name", "name", "catalogio.name_exists",
				"本单位已有名为「"+e.in.Name+"」的目录（"+code+"），请勿重复导入", "the provider already has an entry named "+strconv.Quote(e.in.Name)+" ("+code+"); do not import it twice")
		}
	}
	return nil
}

// fieldError places one of the catalog's field errors on its sheet, row
// and column.
func (im *importer) fieldError(e *entryRow, fe errs.FieldError) {
	field := fe.Field
	key, sub := field, ""
	if rest, ok := strings.CutPrefix(field, "items["); ok {
		n, after, _ := strings.Cut(rest, "]")
		i, err := strconv.Atoi(n)
		sub = strings.TrimPrefix(after, ".")
		if err == nil && i < len(e.items) {
			src := e.items[i]
			if e.bad[keyItems] && src.compact {
				return
			}
			if !src.compact {
				if src.bad[sub] {
					return
				}
				im.cellError(im.ih, itemColumns, src.row, sub, field, fe.Code, fe.ZH, fe.EN)
				return
			}
		}
		key = keyItems
	}
	switch {
	case key == "items":
		key = keyItems
	case strings.HasPrefix(key, "related"):
		key = "related"
	case key == "provider_id":
		key = "provider_code"
	}
	if e.bad[key] {
		return
	}
	zh, en := fe.ZH, fe.EN
	switch {
	case fe.Code == "catalog.provider_code_mismatch" && im.body != 0:
		zh, en = "只能导入本单位提供的目录：提供方代码不是本单位的统一社会信用代码", "you may only import your own body's entries: the provider code is not your body's credit code"
	case key == keyItems:
		if _, ok := im.eh.at[keyItems]; !ok {
			// No compact column: the items belong on the items sheet.
			ref := "信息资源名称"
			if e.no != "" {
				ref = "目录序号 " + e.no + " 或信息资源名称"
			}
			im.add(RowError{Sheet: im.eh.sheet, Row: e.num, Column: SheetItems, Field: field, Code: fe.Code,
				ZH: zh + "：请在「信息项」工作表中填写本目录的信息项（用" + ref + "关联；CSV 文件用「信息项」列）",
				EN: en + ": list the entry's data items on the items sheet, linked by its number or name (in a CSV file: the data items column)", col: -1})
			return
		}
	}
	im.cellError(im.eh, entryColumns, e.num, key, field, fe.Code, zh, en)
}

// sort orders the errors by sheet, row and column.
func (im *importer) sort() {
	order := func(s string) int {
		switch {
		case im.eh != nil && s == im.eh.sheet, s == SheetEntries:
			return 0
		case s == SheetItems:
			return 1
		}
		return 2
	}
	slices.SortStableFunc(im.rep.Errors, func(a, b RowError) int {
		return cmp.Or(cmp.Compare(order(a.Sheet), order(b.Sheet)), cmp.Compare(a.Row, b.Row), cmp.Compare(a.col, b.col))
	})
}
