package catalogio_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/csv"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/simplifiedchinese"

	"xiangyun/internal/auth"
	"xiangyun/internal/catalog"
	"xiangyun/internal/catalogio"
	"xiangyun/internal/db/dbtest"
	"xiangyun/internal/errs"
	"xiangyun/internal/org"
	"xiangyun/internal/tabular"
)

const (
	policeCode = "91350100M000100Y43"
	marketCode = "91512081MA62K0260E"
	bureauCode = "11220000MB1726532F"
)

// env is a catalog with three bodies and the chief data officers of two.
type env struct {
	t      *testing.T
	ctx    context.Context
	svc    *catalog.Service
	police org.Body
	market org.Body
	cdo    *auth.Principal // police
	mcdo   *auth.Principal // market
	dual   *auth.Principal // police and market
}

func newEnv(t *testing.T, dsn string) *env {
	t.Helper()
	ctx := context.Background()
	store := dbtest.Open(t, dsn, "control")
	orgs, err := org.Open(ctx, store)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := orgs.CreateRegion(ctx, org.Region{Code: "220000", Name: "吉林省"}); err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, ctx: ctx}
	bodies := map[string]org.Body{}
	for _, b := range []struct{ name, code string }{
		{"吉林省政务服务和数字化建设管理局", bureauCode}, {"吉林省公安厅", policeCode}, {"吉林省市场监督管理厅", marketCode},
	} {
		body, err := orgs.CreateBody(ctx, org.BodyInput{Name: b.name, CreditCode: b.code, Kind: org.KindAgency, RegionCode: "220000"})
		if err != nil {
			t.Fatal(err)
		}
		bodies[b.code] = body
	}
	e.police, e.market = bodies[policeCode], bodies[marketCode]
	au, err := auth.Open(ctx, store, orgs, auth.DefaultPolicy)
	if err != nil {
		t.Fatal(err)
	}
	principal := func(name string, bodies ...org.Body) *auth.Principal {
		u, err := au.CreateUser(ctx, auth.UserInput{Username: name, DisplayName: name, BodyID: bodies[0].ID, Password: "Test-password-2026"})
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range bodies {
			if err := au.GrantRole(ctx, 0, u.ID, auth.RoleChiefDataOfficer, b.ID); err != nil {
				t.Fatal(err)
			}
		}
		if u, err = au.User(ctx, u.ID); err != nil {
			t.Fatal(err)
		}
		return &auth.Principal{User: u}
	}
	e.cdo, e.mcdo, e.dual = principal("police_cdo", e.police), principal("market_cdo", e.market), principal("dual_cdo", e.police, e.market)
	if e.svc, err = catalog.Open(ctx, store, orgs, catalog.Options{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.svc.Close() })
	return e
}

// eachDB runs fn on a fresh env on every backend.
func eachDB(t *testing.T, fn func(t *testing.T, e *env)) {
	for dialect, dsn := range dbtest.TestDSNs(t) {
		t.Run(string(dialect), func(t *testing.T) { fn(t, newEnv(t, dsn(t))) })
	}
}

// entries returns every entry, with items.
func (e *env) entries() []catalog.Entry {
	e.t.Helper()
	var out []catalog.Entry
	if err := e.svc.Filtered(e.ctx, catalog.System, catalog.SearchQuery{}, func(x catalog.Entry) error {
		out = append(out, x)
		return nil
	}); err != nil {
		e.t.Fatal(err)
	}
	return out
}

func (e *env) importFile(p *auth.Principal, data []byte, name string, opts catalogio.Options) (catalogio.Report, error) {
	return catalogio.Import(e.ctx, e.svc, p, bytes.NewReader(data), name, opts)
}

// mustImport imports a file that must be valid.
func (e *env) mustImport(p *auth.Principal, data []byte, name string) catalogio.Report {
	e.t.Helper()
	rep, err := e.importFile(p, data, name, catalogio.Options{})
	if err != nil {
		e.t.Fatalf("import %s: %v", name, err)
	}
	if !rep.OK() {
		e.t.Fatalf("import %s: unexpected errors:\n%s", name, dump(rep))
	}
	return rep
}

func dump(rep catalogio.Report) string {
	var b strings.Builder
	for _, x := range rep.Errors {
		b.WriteString(x.Sheet + " row " + itoa(x.Row) + " [" + x.Column + "] " + x.Field + " " + x.Code + ": " + x.ZH + "\n")
	}
	return b.String()
}

func itoa(n int) string { return strconv.Itoa(n) }

// want asserts that rep has an error on sheet, row, in the column whose
// header starts with column (with its letter), with code.
func want(t *testing.T, rep catalogio.Report, sheet string, row int, column, code string) {
	t.Helper()
	for _, x := range rep.Errors {
		if x.Sheet == sheet && x.Row == row && strings.HasPrefix(x.Column, column) && x.Code == code {
			if column != "" && x.Letter == "" && !strings.Contains(code, "missing_column") {
				t.Errorf("error without a column letter: %+v", x)
			}
			if x.ZH == "" || x.EN == "" {
				t.Errorf("error without messages: %+v", x)
			}
			return
		}
	}
	t.Errorf("no error %s row %d [%s] %s in:\n%s", sheet, row, column, code, dump(rep))
}

// Entry columns of the template, in order.
var entryHeaders = []string{"序号", "信息资源名称", "信息资源分类", "提供方代码", "信息资源摘要", "信息资源格式分类", "信息资源格式类型", "共享类型",
	"共享条件", "共享方式类型", "共享方式分类", "开放属性", "开放条件", "更新周期", "数据分级", "关联资源代码", "涉密"}

var itemHeaders = []string{"目录序号", "信息资源名称", "信息项名称", "英文名称", "数据类型", "数据长度", "必填", "主键", "敏感", "脱敏规则", "代码表"}

// entry is a valid entries-sheet row: a conditionally shared population
// database of the police.
func entry(no, name string) map[string]string {
	return map[string]string{"序号": no, "信息资源名称": name, "信息资源分类": "1/01/001", "提供方代码": policeCode,
		"信息资源摘要": "全省户籍人口的姓名、公民身份号码、出生日期等基本信息。", "信息资源格式分类": "数据库", "信息资源格式类型": "Oracle",
		"共享类型": "有条件共享", "共享条件": "仅用于政务服务身份核验", "共享方式类型": "接口", "共享方式分类": "共享平台方式",
		"开放属性": "不予开放", "开放条件": "涉及个人信息，不予开放", "更新周期": "每日", "数据分级": "L3 较敏感", "涉密": "否"}
}

// items returns two valid items-sheet rows of entry no.
func items(no, name string) []map[string]string {
	return []map[string]string{
		{"目录序号": no, "信息资源名称": name, "信息项名称": "公民身份号码", "英文名称": "gmsfhm", "数据类型": "字符型", "数据长度": "18",
			"必填": "是", "主键": "是", "敏感": "是", "脱敏规则": "身份证号", "代码表": ""},
		{"目录序号": no, "信息项名称": "姓名", "英文名称": "xm", "数据类型": "字符型", "数据长度": "50", "必填": "是", "主键": "否",
			"敏感": "是", "脱敏规则": "姓名"},
		{"信息资源名称": name, "信息项名称": "出生日期", "英文名称": "csrq", "数据类型": "D"},
	}
}

// workbook fills the import template (lang) with rows and applies edit.
func workbook(t *testing.T, lang string, entries, itemRows []map[string]string, edit func(f *excelize.File)) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := catalogio.Template(&buf, lang); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fill(t, f, catalogio.SheetEntries, entries)
	fill(t, f, catalogio.SheetItems, itemRows)
	if edit != nil {
		edit(f)
	}
	out, err := f.WriteToBuffer()
	if err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// fill writes rows (header → value) under the sheet's header row.
func fill(t *testing.T, f *excelize.File, sheet string, rows []map[string]string) {
	t.Helper()
	all, err := f.GetRows(sheet)
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]int{}
	for i, h := range all[0] {
		col[h] = i
	}
	for r, row := range rows {
		for h, v := range row {
			i, ok := col[h]
			if !ok {
				en := english[h]
				if sheet == catalogio.SheetItems && h == "信息资源名称" {
					en = "Entry name"
				}
				i, ok = col[en]
			}
			if !ok {
				t.Fatalf("sheet %s has no column %s", sheet, h)
			}
			cell, _ := excelize.CoordinatesToCellName(i+1, r+2)
			if err := f.SetCellStr(sheet, cell, v); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// english maps the Chinese headers used by the tests to the English
// template's.
var english = map[string]string{"序号": "No", "信息资源名称": "Name", "信息资源分类": "Classification", "提供方代码": "Provider code",
	"信息资源摘要": "Abstract", "信息资源格式分类": "Format class", "信息资源格式类型": "Format type", "共享类型": "Share type",
	"共享条件": "Share condition", "共享方式类型": "Share method", "共享方式分类": "Share channel", "开放属性": "Open type",
	"开放条件": "Open condition", "更新周期": "Update cycle", "数据分级": "Data grade", "关联资源代码": "Related codes", "涉密": "Classified",
	"目录序号": "Entry no", "信息项名称": "Item name", "英文名称": "English name", "数据类型": "Data type", "数据长度": "Length",
	"必填": "Required", "主键": "Key", "敏感": "Sensitive", "脱敏规则": "Masking rule", "代码表": "Code list"}

// csvFile writes header and rows as CSV text.
func csvFile(t *testing.T, header []string, rows []map[string]string) string {
	t.Helper()
	var b strings.Builder
	w := csv.NewWriter(&b)
	_ = w.Write(header)
	for _, r := range rows {
		rec := make([]string, len(header))
		for i, h := range header {
			rec[i] = r[h]
		}
		_ = w.Write(rec)
	}
	w.Flush()
	return b.String()
}

func csvEntry(no, name string) map[string]string {
	r := entry(no, name)
	r["信息项"] = "公民身份号码:C:18:key:sensitive:mask=身份证号:en=gmsfhm; 姓名:字符型:50:必填:敏感:脱敏=name; 出生日期:D:code=GB/T 7408"
	return r
}

var csvHeader = append(slices.Clone(entryHeaders), "信息项")

func TestTemplateRoundTrip(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		for _, lang := range []string{"zh", "en"} {
			var buf bytes.Buffer
			if err := catalogio.Template(&buf, lang); err != nil {
				t.Fatal(err)
			}
			f, err := excelize.OpenReader(bytes.NewReader(buf.Bytes()))
			if err != nil {
				t.Fatal(err)
			}
			if got := f.GetSheetList(); len(got) < 2 || got[0] != "目录" || got[1] != "信息项" {
				t.Fatalf("sheets %v", got)
			}
			head, _ := f.GetRows("目录")
			if lang == "zh" && !slices.Equal(head[0], entryHeaders) {
				t.Fatalf("entry headers %v", head[0])
			}
			dvs, _ := f.GetDataValidations("目录")
			if len(dvs) < 9 {
				t.Errorf("%s: %d drop-downs on the entries sheet", lang, len(dvs))
			}
			dvs, _ = f.GetDataValidations("信息项")
			if len(dvs) < 5 {
				t.Errorf("%s: %d drop-downs on the items sheet", lang, len(dvs))
			}
			cs, _ := f.GetComments("目录")
			if len(cs) != len(entryHeaders) {
				t.Errorf("%s: %d notes for %d columns", lang, len(cs), len(entryHeaders))
			}
			f.Close()

			// Fill the template as a department would and import it.
			a, b := entry("1", "户籍人口基本信息"+lang), entry("2", "法人单位基本信息"+lang)
			b["信息资源分类"], b["共享类型"], b["共享条件"], b["共享方式类型"], b["开放属性"], b["开放条件"], b["数据分级"] =
				"1/02/001", "无条件共享", "", "库表", "无条件开放", "", "L1 不敏感"
			delete(b, "提供方代码") // the importer's own body
			rows := items("1", a["信息资源名称"])
			rows = append(rows, map[string]string{"目录序号": "2", "信息项名称": "统一社会信用代码", "数据类型": "C", "数据长度": "18", "主键": "是"})
			data := workbook(t, lang, []map[string]string{a, b}, rows, nil)
			rep := e.mustImport(e.cdo, data, "目录.xlsx")
			if rep.Rows != 2 || rep.Created != 2 || rep.Items != 4 || rep.Format != "xlsx" || len(rep.Entries) != 2 {
				t.Fatalf("%s: report %+v", lang, rep)
			}
			got, err := e.svc.Get(e.ctx, e.cdo, rep.Entries[0].ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.Name != a["信息资源名称"] || got.ShareType != catalog.ShareConditional || got.FormatType != "oracle" || got.Grade != "L3" ||
				got.ProviderID != e.police.ID || got.Status != catalog.StatusDraft || len(got.Items) != 3 {
				t.Fatalf("%s: entry %+v", lang, got)
			}
			if it := got.Items[0]; it.Name != "公民身份号码" || it.DataType != "C" || it.Length != 18 || !it.Key || !it.Sensitive || it.Mask != "id_card" {
				t.Fatalf("%s: item %+v", lang, it)
			}
			if it := got.Items[2]; it.Name != "出生日期" || it.DataType != "D" || it.Key {
				t.Fatalf("%s: item %+v", lang, it)
			}
			second, _ := e.svc.Get(e.ctx, e.cdo, rep.Entries[1].ID)
			if second.OpenType != catalog.OpenUnconditional || second.ShareCondition != "无条件" || len(second.Items) != 1 || rep.Entries[1].Row != 3 {
				t.Fatalf("%s: second entry %+v", lang, second)
			}
		}
	})
}

func TestImportBrokenRows(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		good := entry("1", "户籍人口基本信息")
		noName := entry("2", "")
		badShare := entry("3", "出生医学证明信息")
		badShare["共享类型"] = "随便共享"
		noBasis := entry("4", "犯罪记录信息")
		noBasis["共享类型"], noBasis["共享条件"], noBasis["共享方式类型"] = "不予共享", "", ""
		secret := entry("5", "涉密人员信息")
		secret["涉密"] = "是"
		badClass := entry("6", "流动人口信息")
		badClass["信息资源分类"], badClass["信息资源格式类型"] = "9/99", "PDF"
		badRelated := entry("7", "暂住人口信息")
		badRelated["关联资源代码"] = "1/01/001/999999"
		rows := []map[string]string{good, noName, badShare, noBasis, secret, badClass, badRelated}
		var itemRows []map[string]string
		for _, r := range rows {
			itemRows = append(itemRows, items(r["序号"], "")[:2]...)
		}
		itemRows = append(itemRows,
			map[string]string{"目录序号": "99", "信息项名称": "无主信息项", "数据类型": "C", "数据长度": "10"},                          // row 16
			map[string]string{"目录序号": "1", "信息项名称": "住址", "数据类型": "文本", "数据长度": "abc"},                            // row 17
			map[string]string{"信息资源名称": "没有这个目录", "信息项名称": "联系电话", "数据类型": "C", "数据长度": "20"},                     // row 18
			map[string]string{"目录序号": "1", "信息资源名称": "犯罪记录信息", "信息项名称": "备注", "数据类型": "M"},                        // row 19
			map[string]string{"目录序号": "1", "信息项名称": "婚姻状况", "数据类型": "C", "数据长度": "2", "主键": "也许"},                 // row 20
			map[string]string{"信息项名称": "孤儿项", "数据类型": "C", "数据长度": "2"},                                           // row 21
			map[string]string{"目录序号": "1", "信息项名称": "籍贯", "英文名称": "1jg", "数据类型": "C", "数据长度": "20", "脱敏规则": "乱码"}, // row 22
		)
		data := workbook(t, "zh", rows, itemRows, nil)
		rep, err := e.importFile(e.cdo, data, "broken.xlsx", catalogio.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if rep.OK() || rep.Created != 0 || rep.Rows != 7 {
			t.Fatalf("report %+v", rep)
		}
		want(t, rep, "目录", 3, "信息资源名称 (B)", "required")
		want(t, rep, "目录", 4, "共享类型 (H)", "catalog.unknown_value")
		want(t, rep, "目录", 5, "共享条件 (I)", "catalog.share_basis_required")
		want(t, rep, "目录", 6, "涉密 (Q)", "catalog.classified")
		want(t, rep, "目录", 7, "信息资源分类 (C)", "catalog.class_format")
		want(t, rep, "目录", 7, "信息资源格式类型 (G)", "catalog.format_type")
		want(t, rep, "目录", 8, "关联资源代码 (P)", "catalog.related_not_found")
		want(t, rep, "信息项", 16, "目录序号 (A)", "catalogio.entry_no_not_found")
		want(t, rep, "信息项", 17, "数据长度 (F)", "catalogio.length")
		want(t, rep, "信息项", 17, "数据类型 (E)", "catalog.unknown_value")
		want(t, rep, "信息项", 18, "信息资源名称 (B)", "catalogio.entry_name_not_found")
		want(t, rep, "信息项", 19, "信息资源名称 (B)", "catalogio.entry_mismatch")
		want(t, rep, "信息项", 20, "主键 (H)", "catalogio.bool")
		want(t, rep, "信息项", 21, "信息资源名称", "catalogio.entry_missing")
		want(t, rep, "信息项", 22, "英文名称 (D)", "catalog.item_en_name")
		want(t, rep, "信息项", 22, "脱敏规则 (J)", "catalog.unknown_value")
		for _, x := range rep.Errors {
			if x.Row < 2 || x.Column == "" {
				t.Errorf("error without a row or column: %+v", x)
			}
		}
		// Sorted by sheet, then row.
		if !slices.IsSortedFunc(rep.Errors, func(a, b catalogio.RowError) int {
			if a.Sheet != b.Sheet {
				if a.Sheet == "目录" {
					return -1
				}
				return 1
			}
			return a.Row - b.Row
		}) {
			t.Errorf("errors not sorted:\n%s", dump(rep))
		}
		if n := len(e.entries()); n != 0 {
			t.Fatalf("%d entries created from a broken file", n)
		}
	})
}

func TestImportCSVEncodings(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		text := csvFile(t, csvHeader, []map[string]string{csvEntry("1", "户籍人口基本信息"), csvEntry("2", "常住人口基本信息")})
		gbk, err := simplifiedchinese.GBK.NewEncoder().String(text)
		if err != nil {
			t.Fatal(err)
		}
		rep := e.mustImport(e.cdo, []byte(gbk), "目录.CSV")
		if rep.Encoding != "GB18030" || rep.Created != 2 || rep.Items != 6 || rep.Format != "csv" {
			t.Fatalf("GBK report %+v", rep)
		}
		got, _ := e.svc.Get(e.ctx, e.cdo, rep.Entries[0].ID)
		if got.Name != "户籍人口基本信息" || len(got.Items) != 3 || got.Items[1].Name != "姓名" || got.Items[1].Mask != "name" ||
			!got.Items[1].Required || got.Items[2].CodeList != "GB/T 7408" || got.Items[0].EnName != "gmsfhm" {
			t.Fatalf("GBK entry %+v", got)
		}

		bom := "\ufeff" + csvFile(t, csvHeader, []map[string]string{csvEntry("1", "流动人口基本信息")})
		rep = e.mustImport(e.cdo, []byte(bom), "bom.csv")
		if rep.Encoding != "UTF-8 BOM" || rep.Created != 1 {
			t.Fatalf("BOM report %+v", rep)
		}
		if got, _ := e.svc.Get(e.ctx, e.cdo, rep.Entries[0].ID); got.Name != "流动人口基本信息" {
			t.Fatalf("BOM entry name %q", got.Name)
		}
		if n := len(e.entries()); n != 3 {
			t.Fatalf("%d entries", n)
		}
	})
}

func TestImportHeaders(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		// English and decorated headers in another order, an unknown column
		// and English codes for the values.
		header := []string{"  Name ", "*信息资源分类（必填）", "abstract", "format_class", "Format Type", "share type", "共享条件", "共享方式",
			"开放属性", "开放条件", "更新周期", "数据分级【必填】", "信息项", "ＰＲＯＶＩＤＥＲ＿ＣＯＤＥ", "备注"}
		r := map[string]string{"  Name ": "户籍人口基本信息", "*信息资源分类（必填）": "1/01/001", "abstract": "全省户籍人口基本信息。",
			"format_class": "database", "Format Type": "oracle", "share type": "conditional", "共享条件": "仅用于身份核验",
			"共享方式": "api", "开放属性": "否", "开放条件": "涉及个人信息", "更新周期": "daily", "数据分级【必填】": "L3",
			"信息项": "公民身份号码:C:18:key", "ＰＲＯＶＩＤＥＲ＿ＣＯＤＥ": policeCode, "备注": "x"}
		rep, err := e.importFile(e.cdo, []byte(csvFile(t, header, []map[string]string{r})), "h.csv", catalogio.Options{})
		if err != nil {
			t.Fatal(err)
		}
		want(t, rep, "目录", 1, "备注 (O)", "catalogio.unknown_column")
		if len(rep.Errors) != 1 {
			t.Fatalf("only the unknown column is wrong:\n%s", dump(rep))
		}
		delete(r, "备注")
		rep = e.mustImport(e.cdo, []byte(csvFile(t, header[:len(header)-1], []map[string]string{r})), "h.csv")
		if got, _ := e.svc.Get(e.ctx, e.cdo, rep.Entries[0].ID); got.Cycle != "daily" || got.ShareMethod != "api" || got.OpenType != "none" {
			t.Fatalf("entry %+v", got)
		}

		// Missing required columns stop the import before the rows, and a
		// title row above the header is skipped.
		text := "吉林省公安厅政务信息资源目录\n" + csvFile(t, []string{"信息资源名称", "信息资源摘要", "信息资源分类"},
			[]map[string]string{{"信息资源名称": "x", "信息资源摘要": "y", "信息资源分类": "1/01/001"}})
		rep, err = e.importFile(e.cdo, []byte(text), "m.csv", catalogio.Options{})
		if err != nil {
			t.Fatal(err)
		}
		for _, col := range []string{"信息资源格式分类", "信息资源格式类型", "共享类型", "开放属性", "更新周期", "数据分级"} {
			want(t, rep, "目录", 2, col, "catalogio.missing_column")
		}
		if len(rep.Errors) != 6 {
			t.Fatalf("errors:\n%s", dump(rep))
		}
		// The provider code column may only be left out by users of one body.
		noProvider := slices.DeleteFunc(slices.Clone(csvHeader), func(h string) bool { return h == "提供方代码" })
		rep, _ = e.importFile(catalog.System, []byte(csvFile(t, noProvider, []map[string]string{csvEntry("1", "甲")})), "p.csv", catalogio.Options{})
		want(t, rep, "目录", 1, "提供方代码", "catalogio.missing_column")
	})
}

func TestImportDuplicates(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		rows := []map[string]string{csvEntry("1", "户籍人口基本信息"), csvEntry("2", "出生医学证明"), csvEntry("3", "户籍人口 基本信息")}
		rep, err := e.importFile(e.cdo, []byte(csvFile(t, csvHeader, rows)), "dup.csv", catalogio.Options{})
		if err != nil {
			t.Fatal(err)
		}
		want(t, rep, "目录", 4, "信息资源名称 (B)", "catalogio.duplicate_name")
		if len(rep.Errors) != 1 || rep.Created != 0 {
			t.Fatalf("report:\n%s", dump(rep))
		}
		// Repeated 序号.
		rows[2] = csvEntry("2", "死亡医学证明")
		rep, _ = e.importFile(e.cdo, []byte(csvFile(t, csvHeader, rows)), "dup.csv", catalogio.Options{})
		want(t, rep, "目录", 4, "序号 (A)", "catalogio.duplicate_no")

		// Importing the same file twice: the names already exist.
		rows = rows[:2]
		file := []byte(csvFile(t, csvHeader, rows))
		e.mustImport(e.cdo, file, "once.csv")
		rep, err = e.importFile(e.cdo, file, "twice.csv", catalogio.Options{})
		if err != nil {
			t.Fatal(err)
		}
		want(t, rep, "目录", 2, "信息资源名称 (B)", "catalogio.name_exists")
		want(t, rep, "目录", 3, "信息资源名称 (B)", "catalogio.name_exists")
		if n := len(e.entries()); n != 2 {
			t.Fatalf("%d entries after importing twice", n)
		}
		// Another body may use the same name for its own resource.
		other := csvEntry("1", "户籍人口基本信息")
		other["提供方代码"] = marketCode
		e.mustImport(e.mcdo, []byte(csvFile(t, csvHeader, []map[string]string{other})), "m.csv")
		// But not import entries of another body.
		rep, _ = e.importFile(e.mcdo, []byte(csvFile(t, csvHeader, []map[string]string{csvEntry("1", "新生儿信息")})), "p.csv", catalogio.Options{})
		want(t, rep, "目录", 2, "提供方代码 (D)", "catalog.provider_code_mismatch")
		// Someone working for two bodies names the provider in each row;
		// the catalog refuses a third body's rows when creating them.
		mine, theirs := csvEntry("1", "新生儿信息"), csvEntry("2", "政务服务事项")
		theirs["提供方代码"] = bureauCode
		rep, err = e.importFile(e.dual, []byte(csvFile(t, csvHeader, []map[string]string{mine, theirs})), "d.csv", catalogio.Options{})
		if err != nil {
			t.Fatal(err)
		}
		want(t, rep, "目录", 3, "提供方代码 (D)", "catalog.not_provider")
		if len(rep.Errors) != 1 || rep.Created != 0 {
			t.Fatalf("report:\n%s", dump(rep))
		}
		noCode := csvEntry("1", "新生儿信息")
		delete(noCode, "提供方代码")
		rep, _ = e.importFile(e.dual, []byte(csvFile(t, csvHeader, []map[string]string{noCode})), "d.csv", catalogio.Options{})
		want(t, rep, "目录", 2, "提供方代码 (D)", "required")
		if n := len(e.entries()); n != 3 {
			t.Fatalf("%d entries", n)
		}
	})
}

func TestImportFormulasAndHostileText(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		data := workbook(t, "zh", []map[string]string{entry("1", "户籍人口基本信息"), entry("2", `=HYPERLINK("http://evil.example/","点击")`)},
			items("1", ""), func(f *excelize.File) {
				if err := f.SetCellFormula("目录", "E2", `CONCATENATE("全省","户籍人口")`); err != nil {
					t.Fatal(err)
				}
				if err := f.SetCellFormula("信息项", "C3", `"姓"&"名"`); err != nil {
					t.Fatal(err)
				}
				_ = f.SetCellStr("信息项", "K2", "@SUM(1+1)*cmd|' /C calc'!A0")
			})
		rep, err := e.importFile(e.cdo, data, "f.xlsx", catalogio.Options{})
		if err != nil {
			t.Fatal(err)
		}
		want(t, rep, "目录", 2, "信息资源摘要 (E)", "catalogio.formula")
		want(t, rep, "目录", 3, "信息资源名称 (B)", "catalogio.formula_text")
		want(t, rep, "信息项", 3, "信息项名称 (C)", "catalogio.formula")
		want(t, rep, "信息项", 2, "代码表 (K)", "catalogio.formula_text")
		for _, x := range rep.Errors {
			if x.Row == 2 && x.Sheet == "目录" && x.Code == "required" {
				t.Errorf("a refused formula is also reported as missing: %+v", x)
			}
		}

		// Formula-like text in a CSV file.
		r := csvEntry("1", "户籍人口基本信息")
		r["共享条件"] = "=cmd|' /C calc'!A0"
		r["信息项"] = "-2+3+cmd:C:10:key"
		rep, _ = e.importFile(e.cdo, []byte(csvFile(t, csvHeader, []map[string]string{r})), "f.csv", catalogio.Options{})
		want(t, rep, "目录", 2, "共享条件 (I)", "catalogio.formula_text")
		want(t, rep, "目录", 2, "信息项 (R)", "catalogio.formula_text")

		// Markup and SQL-looking text are ordinary text: queries are
		// parameterised and pages escape, so they are imported and read back
		// exactly as written; a related code that names no entry is refused.
		a, b := csvEntry("1", "<script>alert(1)</script>"), csvEntry("2", "人口信息'; DROP TABLE entries;--")
		b["信息资源摘要"] = "'; DROP TABLE entries;--"
		a["信息项"] = "<img src=x onerror=alert(1)>:C:10:key"
		c := csvEntry("3", "婚姻登记信息")
		c["关联资源代码"] = "'; DROP TABLE entries;--"
		rep, err = e.importFile(e.cdo, []byte(csvFile(t, csvHeader, []map[string]string{a, b, c})), "x.csv", catalogio.Options{})
		if err != nil {
			t.Fatal(err)
		}
		want(t, rep, "目录", 4, "关联资源代码 (P)", "catalog.related_not_found")
		for _, x := range rep.Errors {
			if x.Row != 4 || x.Code != "catalog.related_not_found" {
				t.Errorf("only the unknown related codes are errors: %+v", x)
			}
		}
		if n := len(e.entries()); n != 0 {
			t.Fatalf("%d entries written", n)
		}
		rep = e.mustImport(e.cdo, []byte(csvFile(t, csvHeader, []map[string]string{a, b})), "x.csv")
		got := map[string]catalog.Entry{}
		for _, x := range e.entries() {
			got[x.Name] = x
		}
		if x, ok := got["人口信息'; DROP TABLE entries;--"]; !ok || x.Abstract != "'; DROP TABLE entries;--" {
			t.Errorf("SQL-looking text not stored verbatim: %+v", got)
		}
		if x, ok := got["<script>alert(1)</script>"]; !ok {
			t.Errorf("markup not stored verbatim: %+v", got)
		} else if full, err := e.svc.Get(e.ctx, catalog.System, x.ID); err != nil || len(full.Items) != 1 || full.Items[0].Name != "<img src=x onerror=alert(1)>" {
			t.Errorf("item name: %+v %v", full.Items, err)
		}
	})
}

func TestImportBadFiles(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		good := []byte(csvFile(t, csvHeader, []map[string]string{csvEntry("1", "户籍人口基本信息")}))
		var zipped bytes.Buffer
		zw := zip.NewWriter(&zipped)
		w, _ := zw.CreateHeader(&zip.FileHeader{Name: "xl/workbook.xml", Method: zip.Store})
		_, _ = w.Write([]byte("<workbook/>"))
		zw.Close()
		// A zip bomb: entries declaring gigabytes.
		var bomb bytes.Buffer
		zw = zip.NewWriter(&bomb)
		for i := range 3 {
			w, _ := zw.CreateRaw(&zip.FileHeader{Name: "xl/worksheets/sheet" + itoa(i) + ".xml", Method: zip.Deflate,
				CompressedSize64: 2, UncompressedSize64: 1 << 30})
			_, _ = w.Write([]byte{3, 0})
		}
		zw.Close()
		var four []map[string]string
		for i := range 4 {
			four = append(four, csvEntry(itoa(i+1), "目录"+itoa(i)))
		}
		lines := csvFile(t, csvHeader, four)

		for _, c := range []struct {
			name string
			data []byte
			opts catalogio.Options
			code string
			kind errs.Kind
		}{
			{"目录.xls", []byte{0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1, 0, 0}, catalogio.Options{}, "tabular.format", errs.KindInvalid},
			{"目录.xlsx", []byte{0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1, 0, 0}, catalogio.Options{}, "tabular.format", errs.KindInvalid},
			{"目录.txt", good, catalogio.Options{}, "tabular.format", errs.KindInvalid},
			{"目录", good, catalogio.Options{}, "tabular.format", errs.KindInvalid},
			{"目录.xlsx", good, catalogio.Options{}, "tabular.format", errs.KindInvalid},
			{"目录.csv", zipped.Bytes(), catalogio.Options{}, "tabular.format", errs.KindInvalid},
			{"目录.xlsx", append([]byte("PK\x03\x04"), bytes.Repeat([]byte{0x55}, 200)...), catalogio.Options{}, "tabular.corrupt", errs.KindInvalid},
			{"目录.xlsx", zipped.Bytes(), catalogio.Options{}, "tabular.corrupt", errs.KindInvalid},
			{"目录.xlsx", bomb.Bytes(), catalogio.Options{}, "tabular.zip_bomb", errs.KindTooLarge},
			{"目录.csv", []byte("GIF89a\x01\x00\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"), catalogio.Options{}, "tabular.format", errs.KindInvalid},
			{"目录.csv", []byte("信息资源名称\n\x81\x20\xff\xfe\x80\n"), catalogio.Options{}, "tabular.encoding", errs.KindInvalid},
			{"目录.csv", good, catalogio.Options{MaxBytes: 100}, "tabular.oversize", errs.KindTooLarge},
			{"目录.csv", []byte(lines), catalogio.Options{MaxRows: 3}, "catalogio.too_many_rows", errs.KindTooLarge},
			{"目录.csv", nil, catalogio.Options{}, "catalogio.empty", errs.KindInvalid},
			{"目录.csv", []byte(strings.Join(csvHeader, ",") + "\n\n"), catalogio.Options{}, "catalogio.no_rows", errs.KindInvalid},
			{"目录.csv", []byte("信息资源名称,\"未闭合\n"), catalogio.Options{}, "tabular.malformed_csv", errs.KindInvalid},
		} {
			_, err := e.importFile(e.cdo, c.data, c.name, c.opts)
			ee, ok := errs.As(err)
			if !ok || ee.Code != c.code || ee.Kind != c.kind || ee.ZH == "" || ee.EN == "" {
				t.Errorf("%s (%d bytes): %v (want %s)", c.name, len(c.data), err, c.code)
			}
		}
		// No permission to edit the catalog.
		if _, err := e.importFile(nil, good, "a.csv", catalogio.Options{}); errs.KindOf(err) != errs.KindForbidden {
			t.Errorf("anonymous import: %v", err)
		}
		if n := len(e.entries()); n != 0 {
			t.Fatalf("%d entries", n)
		}
	})
}

func TestImportDryRun(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		file := []byte(csvFile(t, csvHeader, []map[string]string{csvEntry("1", "户籍人口基本信息")}))
		rep, err := e.importFile(e.cdo, file, "a.csv", catalogio.Options{DryRun: true})
		if err != nil || !rep.OK() || rep.Created != 0 || !rep.DryRun || rep.Rows != 1 {
			t.Fatalf("dry run: %+v %v", rep, err)
		}
		if n := len(e.entries()); n != 0 {
			t.Fatalf("dry run created %d entries", n)
		}
	})
}

func TestExportReimport(t *testing.T) {
	for dialect, dsn := range dbtest.TestDSNs(t) {
		t.Run(string(dialect), func(t *testing.T) {
			src := newEnv(t, dsn(t))
			a, b := entry("1", "户籍人口基本信息"), entry("2", "出生医学证明信息")
			b["共享类型"], b["共享条件"], b["共享方式类型"] = "不予共享", "依据《中华人民共和国个人信息保护法》第十三条", ""
			file := workbook(t, "zh", []map[string]string{a, b}, append(items("1", "户籍人口基本信息"), map[string]string{"目录序号": "2",
				"信息项名称": "出生证编号", "英文名称": "cszbh", "数据类型": "字符型", "数据长度": "20", "主键": "是", "代码表": "卫健委编码"}), nil)
			rep := src.mustImport(src.cdo, file, "a.xlsx")
			// A third entry relates to the first and has formula-like text,
			// which the importer refuses but the catalog takes.
			c := csvEntry("1", "死亡医学证明信息")
			c["关联资源代码"] = rep.Entries[0].Code
			rep = src.mustImport(src.cdo, []byte(csvFile(t, csvHeader, []map[string]string{c})), "c.csv")
			x, err := src.svc.Get(src.ctx, src.cdo, rep.Entries[0].ID)
			if err != nil {
				t.Fatal(err)
			}
			in := catalog.EntryInput{Content: x.Content, ProviderID: x.ProviderID}
			in.Abstract = "=1+2 死亡原因统计"
			if _, err := src.svc.Update(src.ctx, src.cdo, x.ID, in, ""); err != nil {
				t.Fatal(err)
			}
			orig := src.entries()

			var xl bytes.Buffer
			if err := catalogio.Export(src.ctx, src.svc, src.cdo, catalog.SearchQuery{}, "xlsx", &xl); err != nil {
				t.Fatal(err)
			}
			f, err := excelize.OpenReader(bytes.NewReader(xl.Bytes()))
			if err != nil {
				t.Fatal(err)
			}
			if sheets := f.GetSheetList(); sheets[0] != "目录" || sheets[1] != "信息项" {
				t.Fatalf("sheets %v", sheets)
			}
			rows, _ := f.GetRows("目录")
			if len(rows) != 4 || !slices.Equal(rows[0][:len(entryHeaders)], entryHeaders) || rows[3][15] != orig[0].Code || rows[3][4] != "=1+2 死亡原因统计" {
				t.Fatalf("exported entries sheet %q", rows)
			}
			if irows, _ := f.GetRows("信息项"); len(irows) != 1+3+1+3 || irows[1][0] != "1" || irows[1][1] != "户籍人口基本信息" || irows[1][4] != "字符型" {
				t.Fatalf("exported items sheet %q", irows)
			}
			if dvs, _ := f.GetDataValidations("目录"); len(dvs) < 9 {
				t.Errorf("the export lost the drop-downs: %d", len(dvs))
			}
			for r := 1; r <= 4; r++ {
				for c := 1; c <= len(rows[0]); c++ {
					cell, _ := excelize.CoordinatesToCellName(c, r)
					if fm, _ := f.GetCellFormula("目录", cell); fm != "" {
						t.Errorf("formula in %s: %s", cell, fm)
					}
				}
			}

			// Re-import into an empty catalog: the formula-like text is
			// refused until it is edited; the related code, which does not
			// exist there, is dropped.
			dst := newEnv(t, dsn(t))
			rep, err = dst.importFile(dst.cdo, xl.Bytes(), "export.xlsx", catalogio.Options{})
			if err != nil {
				t.Fatal(err)
			}
			want(t, rep, "目录", 4, "信息资源摘要 (E)", "catalogio.formula_text")
			want(t, rep, "目录", 4, "关联资源代码 (P)", "catalog.related_not_found")
			if len(rep.Errors) != 2 || rep.Created != 0 {
				t.Fatalf("re-import:\n%s", dump(rep))
			}
			_ = f.SetCellStr("目录", "E4", "1+2 死亡原因统计")
			_ = f.SetCellStr("目录", "P4", "")
			edited, _ := f.WriteToBuffer()
			f.Close()
			rep = dst.mustImport(dst.cdo, edited.Bytes(), "export.xlsx")
			if rep.Created != 3 {
				t.Fatalf("re-import %+v", rep)
			}
			same(t, orig, dst.entries())

			// CSV: BOM, neutralised formulas, the compact items column.
			var cb bytes.Buffer
			if err := catalogio.Export(src.ctx, src.svc, src.cdo, catalog.SearchQuery{}, "csv", &cb); err != nil {
				t.Fatal(err)
			}
			if !bytes.HasPrefix(cb.Bytes(), []byte("\xef\xbb\xbf")) {
				t.Fatal("CSV export without BOM")
			}
			recs, err := csv.NewReader(bytes.NewReader(cb.Bytes()[3:])).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			last := len(csvHeader) - 1
			if len(recs) != 4 || recs[0][0] != "序号" || recs[0][last] != "信息项" {
				t.Fatalf("CSV export %q", recs)
			}
			if recs[3][4] != "'=1+2 死亡原因统计" || recs[3][15] != orig[0].Code || recs[3][1] != "死亡医学证明信息" {
				t.Errorf("CSV row %q", recs[3])
			}
			if recs[1][last] != "公民身份号码:C:18:key:sensitive:mask=id_card:en=gmsfhm; 姓名:C:50:required:sensitive:mask=name:en=xm; 出生日期:D:en=csrq" {
				t.Errorf("compact items %q", recs[1][last])
			}
			// A CSV export imports again too.
			cb.Reset()
			if err := catalogio.Export(src.ctx, src.svc, src.cdo, catalog.SearchQuery{Filters: map[string][]string{"share_type": {"none"}}}, "csv", &cb); err != nil {
				t.Fatal(err)
			}
			dst2 := newEnv(t, dsn(t))
			rep = dst2.mustImport(dst2.cdo, cb.Bytes(), "export.csv")
			if rep.Created != 1 || rep.Encoding != "UTF-8 BOM" {
				t.Fatalf("CSV re-import %+v", rep)
			}
			same(t, orig[1:2], dst2.entries())

			// Errors come back before anything is written.
			var none bytes.Buffer
			err = catalogio.Export(src.ctx, src.svc, src.cdo, catalog.SearchQuery{Filters: map[string][]string{"colour": {"red"}}}, "csv", &none)
			if errs.KindOf(err) != errs.KindInvalid || none.Len() != 0 {
				t.Fatalf("bad filter: %v, %d bytes", err, none.Len())
			}
			if err := catalogio.Export(src.ctx, src.svc, nil, catalog.SearchQuery{}, "xlsx", &none); errs.KindOf(err) != errs.KindForbidden || none.Len() != 0 {
				t.Fatalf("anonymous export: %v", err)
			}
			if err := catalogio.Export(src.ctx, src.svc, src.cdo, catalog.SearchQuery{}, "pdf", &none); errs.KindOf(err) != errs.KindInvalid {
				t.Fatalf("pdf export: %v", err)
			}
			// An empty view still has its header.
			if err := catalogio.Export(src.ctx, src.svc, src.cdo, catalog.SearchQuery{Filters: map[string][]string{"grade": {"L4"}}}, "csv", &none); err != nil ||
				!strings.HasPrefix(none.String(), "\ufeff序号,信息资源名称") {
				t.Fatalf("empty export: %v %q", err, none.String())
			}
		})
	}
}

// same compares the imported entries with the originals by name.
func same(t *testing.T, want, got []catalog.Entry) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d entries, want %d", len(got), len(want))
	}
	byName := map[string]catalog.Entry{}
	for _, g := range got {
		byName[g.Name] = g
	}
	for _, w := range want {
		g, ok := byName[w.Name]
		if !ok {
			t.Errorf("entry %s missing", w.Name)
			continue
		}
		wa, ga := strings.TrimLeft(w.Abstract, "="), g.Abstract
		if g.Class != w.Class || ga != wa || g.FormatClass != w.FormatClass || g.FormatType != w.FormatType ||
			g.ShareType != w.ShareType || g.ShareCondition != w.ShareCondition || g.ShareMethod != w.ShareMethod ||
			g.ShareChannel != w.ShareChannel || g.OpenType != w.OpenType || g.OpenCondition != w.OpenCondition ||
			g.Cycle != w.Cycle || g.Grade != w.Grade || g.ProviderCode != w.ProviderCode {
			t.Errorf("entry %s:\n got %+v\nwant %+v", w.Name, g.Content, w.Content)
		}
		if !slices.Equal(g.Items, w.Items) {
			t.Errorf("items of %s:\n got %+v\nwant %+v", w.Name, g.Items, w.Items)
		}
	}
}

func TestCompactItems(t *testing.T) {
	items, problems := catalogio.ParseItems("姓名：C：50：主键：en=XM；出生日期:日期型; ;身份证号:C:18:sensitive:mask＝身份证号:code=GB 11643\n备注:M:required")
	if len(problems) != 0 || len(items) != 4 {
		t.Fatalf("%+v %+v", items, problems)
	}
	if it := items[0]; it.Name != "姓名" || it.DataType != "C" || it.Length != 50 || !it.Key || it.EnName != "XM" {
		t.Fatalf("%+v", it)
	}
	if it := items[2]; !it.Sensitive || it.Mask != "身份证号" || it.CodeList != "GB 11643" || it.Length != 18 {
		t.Fatalf("%+v", it)
	}
	if !items[3].Required || items[1].DataType != "日期型" {
		t.Fatalf("%+v", items)
	}
	_, problems = catalogio.ParseItems("姓名; 年龄:N:3:primary; :C")
	if len(problems) != 3 || problems[0].Index != -1 || problems[1].Index != 0 || problems[1].Code != "catalogio.item_flag" {
		t.Fatalf("%+v", problems)
	}
	in := []catalog.Item{{Name: "公民身份号码", DataType: "C", Length: 18, Key: true, Required: true, Sensitive: true, Mask: "id_card", EnName: "gmsfhm"},
		{Name: "出生日期", DataType: "D", Mask: "none"}, {Name: "备注", DataType: "M", Required: true, CodeList: "自定义"}}
	s := catalogio.FormatItems(in)
	if s != "公民身份号码:C:18:key:sensitive:mask=id_card:en=gmsfhm; 出生日期:D; 备注:M:required:code=自定义" {
		t.Fatalf("%q", s)
	}
	back, problems := catalogio.ParseItems(s)
	in[1].Mask = ""
	if len(problems) != 0 || !slices.Equal(back, []catalog.Item{{Name: "公民身份号码", DataType: "C", Length: 18, Key: true, Sensitive: true, Mask: "id_card", EnName: "gmsfhm"},
		in[1], in[2]}) {
		t.Fatalf("round trip %+v %+v", back, problems)
	}
}

func TestSplitFormat(t *testing.T) {
	for _, c := range []struct {
		in      []string
		format  string
		classes []string
		ok      bool
	}{
		{nil, "xlsx", nil, true},
		{[]string{"csv"}, "csv", nil, true},
		{[]string{"database", " XLSX ", "document"}, "xlsx", []string{"database", "document"}, true},
		{[]string{"csv", "pdf"}, "csv", nil, false},
	} {
		f, cl, ok := catalogio.SplitFormat(c.in)
		if f != c.format || !slices.Equal(cl, c.classes) || ok != c.ok {
			t.Errorf("SplitFormat(%q) = %s %v %v", c.in, f, cl, ok)
		}
	}
}

// The regulation's share words (吉政发〔2019〕4号 §25) are read in imports, in
// CSV and in the template's drop-down, as are the labels an export writes.
func TestImportRegulationShareWords(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		a, b, c := csvEntry("1", "户籍人口基本信息"), csvEntry("2", "人口死亡信息"), csvEntry("3", "出生医学证明信息")
		a["共享类型"], a["共享条件"] = "授权共享", "经省政数局审批"
		b["共享类型"], b["共享条件"], b["共享方式类型"] = "非共享", "依据《中华人民共和国个人信息保护法》第十三条", ""
		c["共享类型"] = "有条件共享(授权共享)"
		rep := e.mustImport(e.cdo, []byte(csvFile(t, csvHeader, []map[string]string{a, b, c})), "目录.csv")
		want := map[string]string{"户籍人口基本信息": catalog.ShareConditional, "人口死亡信息": catalog.ShareNone, "出生医学证明信息": catalog.ShareConditional}
		if rep.Created != 3 {
			t.Fatalf("report %+v", rep)
		}
		for _, x := range e.entries() {
			if x.ShareType != want[x.Name] {
				t.Errorf("%s: share type %q, want %q", x.Name, x.ShareType, want[x.Name])
			}
		}
		// The template offers the regulation's words in its drop-down.
		var buf bytes.Buffer
		if err := catalogio.Template(&buf, "zh"); err != nil {
			t.Fatal(err)
		}
		f, err := excelize.OpenReader(&buf)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		// A short list is inline in the validation, a long one on the values sheet.
		var list []string
		dvs, err := f.GetDataValidations(catalogio.SheetEntries)
		if err != nil {
			t.Fatal(err)
		}
		for _, dv := range dvs {
			if strings.Contains(dv.Formula1, "无条件共享") {
				list = strings.Split(strings.Trim(dv.Formula1, `"`), ",")
			}
		}
		if rows, err := f.GetRows(tabular.ValuesSheet); err == nil && list == nil {
			for _, row := range rows {
				if slices.Contains(row, "无条件共享") {
					list = row
				}
			}
		}
		for _, w := range []string{"有条件共享（授权共享）", "不予共享（非共享）", "授权共享", "非共享"} {
			if !slices.Contains(list, w) {
				t.Errorf("the share type drop-down lacks %s: %v", w, list)
			}
		}
	})
}
