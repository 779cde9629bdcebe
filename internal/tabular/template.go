package tabular

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/xuri/excelize/v2"
)

// TemplateSheet describes one worksheet of an import template.
type TemplateSheet struct {
	Name    string
	Columns []TemplateColumn
}

// TemplateColumn describes one column of an import template.
type TemplateColumn struct {
	// Header is the exact header text the importer expects in row 1.
	Header string
	// Note explains what to fill in; it is shown as a comment on the
	// header cell.
	Note string
	// Required columns have a red header and their comment starts with
	// "【必填】" (optional ones with "【选填】"). The header text itself is
	// left unchanged so that it still matches on import.
	Required bool
	// Values, when set, restricts the column to a fixed set through a
	// drop-down list (Excel data validation).
	Values []string
	// Width overrides the automatic column width.
	Width float64
}

// ValuesSheet is the name of the hidden worksheet that holds drop-down lists
// too long (or containing commas) to be stored inline in the validation.
const ValuesSheet = "_values"

// Template writes an XLSX import template: one worksheet per sheet with a
// bold, frozen header row in row 1 (data starts in row 2, exactly what Read
// expects), a comment on every header cell describing the column, and
// drop-down lists for columns with fixed Values. All cells are formatted as
// text so that ID numbers, phone numbers and codes with leading zeros are
// kept as typed.
func Template(w io.Writer, sheets []TemplateSheet) error {
	if len(sheets) == 0 {
		return errors.New("tabular: template needs at least one sheet")
	}
	f := excelize.NewFile()
	defer f.Close()
	t := templateBuilder{f: f}
	if err := t.styles(); err != nil {
		return err
	}
	// Create all sheets first so that ValuesSheet, added on demand, ends up
	// last.
	for i, s := range sheets {
		if strings.EqualFold(s.Name, ValuesSheet) {
			return fmt.Errorf("tabular: sheet name %q is reserved", ValuesSheet)
		}
		if i == 0 {
			if err := f.SetSheetName("Sheet1", s.Name); err != nil {
				return err
			}
		} else if _, err := f.NewSheet(s.Name); err != nil {
			return err
		}
	}
	for _, s := range sheets {
		if err := t.sheet(s); err != nil {
			return fmt.Errorf("tabular: sheet %q: %w", s.Name, err)
		}
	}
	if t.listCols > 0 {
		if err := f.SetSheetVisible(ValuesSheet, false); err != nil {
			return err
		}
	}
	f.SetActiveSheet(0)
	_, err := f.WriteTo(w)
	return err
}

type templateBuilder struct {
	f                  *excelize.File
	text, header, reqd int
	listCols           int // columns used on ValuesSheet
}

func (t *templateBuilder) styles() error {
	var err error
	textFmt := "@"
	if t.text, err = t.f.NewStyle(&excelize.Style{CustomNumFmt: &textFmt}); err != nil {
		return err
	}
	base := excelize.Style{
		CustomNumFmt: &textFmt,
		Fill:         excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"DDEBF7"}},
		Alignment:    &excelize.Alignment{Horizontal: "center", Vertical: "center"},
		Border: []excelize.Border{
			{Type: "left", Color: "A6A6A6", Style: 1}, {Type: "right", Color: "A6A6A6", Style: 1},
			{Type: "top", Color: "A6A6A6", Style: 1}, {Type: "bottom", Color: "A6A6A6", Style: 1},
		},
	}
	base.Font = &excelize.Font{Bold: true}
	if t.header, err = t.f.NewStyle(&base); err != nil {
		return err
	}
	base.Font = &excelize.Font{Bold: true, Color: "C00000"}
	t.reqd, err = t.f.NewStyle(&base)
	return err
}

func (t *templateBuilder) sheet(s TemplateSheet) error {
	f, name := t.f, s.Name
	if len(s.Columns) == 0 {
		return errors.New("no columns")
	}
	last := ColumnName(len(s.Columns) - 1)
	if err := f.SetColStyle(name, "A:"+last, t.text); err != nil {
		return err
	}
	for i, c := range s.Columns {
		col := ColumnName(i)
		cell := col + "1"
		style := t.header
		if c.Required {
			style = t.reqd
		}
		if err := f.SetCellStr(name, cell, c.Header); err != nil {
			return err
		}
		if err := f.SetCellStyle(name, cell, cell, style); err != nil {
			return err
		}
		w := c.Width
		if w <= 0 {
			w = columnWidth(c.Header)
			for _, v := range c.Values {
				w = max(w, columnWidth(v))
			}
		}
		if err := f.SetColWidth(name, col, col, w); err != nil {
			return err
		}
		if err := f.AddComment(name, headerComment(cell, c)); err != nil {
			return err
		}
		if len(c.Values) > 0 {
			if err := t.dropDown(name, col, c.Values); err != nil {
				return err
			}
		}
	}
	if err := f.SetRowHeight(name, 1, 24); err != nil {
		return err
	}
	return f.SetPanes(name, &excelize.Panes{
		Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft",
	})
}

func headerComment(cell string, c TemplateColumn) excelize.Comment {
	tag := "【选填】"
	if c.Required {
		tag = "【必填】"
	}
	text := c.Note
	if len(c.Values) > 0 {
		if text != "" {
			text += "\n"
		}
		text += "请从下拉列表中选择。"
	}
	return excelize.Comment{
		Cell:   cell,
		Author: "填写说明",
		Paragraph: []excelize.RichTextRun{
			{Text: tag, Font: &excelize.Font{Bold: true}},
			{Text: text},
		},
		Width:  240,
		Height: 80,
	}
}

// dropDown restricts col (rows 2 to the end of the sheet) to values, inline
// when short enough, else through a range on the hidden ValuesSheet.
func (t *templateBuilder) dropDown(sheet, col string, values []string) error {
	dv := excelize.NewDataValidation(true)
	dv.Sqref = fmt.Sprintf("%s2:%s%d", col, col, excelize.TotalRows)
	// An inline list is separated by commas, so values containing one must
	// go to the values sheet; SetDropList refuses lists over 255 characters.
	if strings.ContainsAny(strings.Join(values, ""), `,"`) || dv.SetDropList(values) != nil {
		ref, err := t.storeValues(values)
		if err != nil {
			return err
		}
		dv.SetSqrefDropList(ref)
	}
	dv.SetError(excelize.DataValidationErrorStyleStop, "输入有误", "请从下拉列表中选择")
	return t.f.AddDataValidation(sheet, dv)
}

// storeValues writes values into the next free column of ValuesSheet and
// returns an absolute reference to them.
func (t *templateBuilder) storeValues(values []string) (string, error) {
	if t.listCols == 0 {
		if _, err := t.f.NewSheet(ValuesSheet); err != nil {
			return "", err
		}
	}
	col := ColumnName(t.listCols)
	t.listCols++
	for i, v := range values {
		if err := t.f.SetCellStr(ValuesSheet, fmt.Sprintf("%s%d", col, i+1), v); err != nil {
			return "", err
		}
	}
	return fmt.Sprintf("'%s'!$%s$1:$%s$%d", ValuesSheet, col, col, len(values)), nil
}
