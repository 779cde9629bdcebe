// Package catalogio is how departments compile catalogs in spreadsheets: the
// XLSX import template, the import of XLSX and CSV files with a row-by-row
// error report, and the export of any filtered view of the catalog as XLSX
// (re-importable) or CSV.
//
// # Workbook
//
// Sheet 目录 has one row per entry and a column per field of
// catalog.EntryInput; sheet 信息项 has one row per data item, linked to its
// entry by the entry's 序号 (目录序号) or name (信息资源名称). Headers are
// matched by name, in Chinese or English, in any order, ignoring spaces,
// full-width forms, asterisks and bracketed remarks ("信息资源名称（必填）").
// Cells hold the Chinese labels of the value sets; the English codes and
// the usual alternative spellings are accepted too (catalog.Parse). When
// the entries sheet has no 序号 column, 目录序号 is the entry's row number.
//
// # Compact data items
//
// A CSV file has one sheet, so an entry's data items go in its 信息项
// column (workbooks may use it too):
//
//	items = item { ";" item }
//	item  = name ":" type { ":" part }
//	part  = length | flag | key "=" value
//
// Items are separated by ";", "；" or line breaks, parts by ":" or "："
// ("=" may be "＝"). The type is the letter (C N Y D T L M G B I F) or the
// Chinese name (字符型 …); a part of digits is the length (数据长度). The
// flags are key/主键, required/必填 and sensitive/敏感; the key=value parts
// are en/英文名 (English name), mask/脱敏 (masking rule) and code/代码表
// (code list). Spaces around parts are ignored and flags are
// case-insensitive; names and values cannot contain the separators. For
// example:
//
//	姓名:C:50:key:en=XM; 出生日期:D; 身份证号:C:18:sensitive:mask=id_card
//
// # Import
//
// Every row is checked and every problem reported with its sheet, row and
// column: unknown, repeated and missing required columns, formula cells and
// formula-like text (refused, never evaluated), names repeated within the
// file or already in the provider's catalog, unlinked data items, and every
// rule of the catalog (catalog.Service.ValidateInput), which also refuses
// markup and SQL fragments. Nothing is created unless every row is valid;
// then all entries are drafted in one transaction (CreateMany).
package catalogio
