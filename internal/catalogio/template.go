package catalogio

import (
	"io"

	"xiangyun/internal/catalog"
	"xiangyun/internal/tabular"
)

// Template writes the XLSX import template with the default grade policy:
// sheet "目录" with one row per entry and sheet "信息项" with one row per
// data item, headers in lang ("zh" or "en"), required columns marked, a note
// on every header and drop-down lists (Chinese labels) for every column
// with a value set.
func Template(w io.Writer, lang string) error { return TemplateFor(w, lang, nil) }

// TemplateFor is Template with the grade policy of svc (nil: the default).
func TemplateFor(w io.Writer, lang string, svc *catalog.Service) error {
	return tabular.Template(w, templateSheets(lang, newVocab(svc), false))
}

// templateSheets describes the two sheets; export adds the informational
// columns that exports fill in and imports skip.
func templateSheets(lang string, v *vocab, export bool) []tabular.TemplateSheet {
	return []tabular.TemplateSheet{
		{Name: SheetEntries, Columns: templateColumns(entrySheet(export, false), lang, v)},
		{Name: SheetItems, Columns: templateColumns(itemColumns, lang, v)},
	}
}

func templateColumns(cols []column, lang string, v *vocab) []tabular.TemplateColumn {
	out := make([]tabular.TemplateColumn, len(cols))
	for i, c := range cols {
		note := c.noteZH
		if lang == "en" {
			note = c.noteEN
		}
		if c.ignored {
			if lang == "en" {
				note = "Filled in by exports for reference; ignored on import (an import always drafts new entries)."
			} else {
				note = "导出时填写，供查阅；导入时忽略（导入总是新建目录草稿）。"
			}
		}
		tc := tabular.TemplateColumn{Header: c.header(lang), Note: note, Required: c.required, Width: c.width}
		if c.values != nil {
			tc.Values = c.values(v)
		}
		out[i] = tc
	}
	return out
}
