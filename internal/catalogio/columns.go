package catalogio

import (
	"strings"
	"unicode"

	"golang.org/x/text/width"

	"xiangyun/internal/catalog"
)

// Sheet names of the workbook (template, import and export).
const (
	SheetEntries = "目录"  // one row per catalog entry
	SheetItems   = "信息项" // one row per data item
)

// yes and no are the drop-down values of the yes/no columns.
const (
	yes = "是"
	no  = "否"
)

// column is one known column of a sheet: its field key, its headers in
// Chinese and English, the other spellings accepted on import, and what
// the template says about it.
type column struct {
	key      string // field key: the catalog field name, or one of ours
	zh, en   string // header in the template and export, by language
	aliases  []string
	required bool // the template marks it; the importer requires the column
	// ignored columns are written by exports for the reader and skipped on
	// import (an import always drafts new entries).
	ignored    bool
	exportOnly bool // written by exports only, not in the template
	// compact is the data items column of CSV files; workbooks use the
	// items sheet instead (the importer accepts both).
	compact        bool
	noteZH, noteEN string
	values         func(v *vocab) []string // drop-down values (Chinese labels)
	width          float64
}

// vocab holds the value sets the template lists.
type vocab struct {
	grades []catalog.Term
}

func newVocab(svc *catalog.Service) *vocab {
	if svc != nil {
		gp := svc.GradePolicy()
		return &vocab{grades: gp.Terms()}
	}
	return &vocab{grades: catalog.Grades}
}

func zhLabels(set []catalog.Term) []string {
	out := make([]string, len(set))
	for i, t := range set {
		out[i] = t.ZH
	}
	return out
}

func yesNo(*vocab) []string { return []string{yes, no} }

// formatTypes lists every format type label once, in order.
func formatTypes(*vocab) []string {
	var out []string
	seen := map[string]bool{}
	for _, f := range catalog.Formats {
		for _, t := range f.Types {
			if !seen[t.ZH] {
				seen[t.ZH] = true
				out = append(out, t.ZH)
			}
		}
	}
	return out
}

// formatTypeNote explains which types belong to which class.
func formatTypeNote() (zh, en string) {
	var z, e strings.Builder
	for _, f := range catalog.Formats {
		z.WriteString("\n" + f.ZH + "：")
		e.WriteString("\n" + f.EN + ": ")
		for i, t := range f.Types {
			if i > 0 {
				z.WriteString("、")
				e.WriteString(", ")
			}
			z.WriteString(t.ZH)
			e.WriteString(t.EN)
		}
	}
	return z.String(), e.String()
}

// Column keys that are not catalog fields.
const (
	keyNo        = "no"         // 序号: links data items to their entry
	keyItems     = "items"      // compact data items column
	keyEntryNo   = "entry_no"   // items sheet: the entry's 序号
	keyEntryName = "entry_name" // items sheet: the entry's name
)

var entryColumns, itemColumns []column

func init() {
	ftZH, ftEN := formatTypeNote()
	entryColumns = []column{
		{key: keyNo, zh: "序号", en: "No", aliases: []string{"编号", "行号", "number", "#"},
			noteZH: "本行目录的序号（如 1、2、3），「信息项」工作表用「目录序号」引用它；也可以只用信息资源名称关联。",
			noteEN: "The entry's number (1, 2, 3 …): rows of the items sheet refer to it in their entry-number column, or to the entry's name.", width: 8},
		{key: "name", zh: "信息资源名称", en: "Name", aliases: []string{"资源名称", "目录名称", "名称", "resource name"}, required: true,
			noteZH: "2 至 100 个字，同一提供方的名称不能重复；不能含 < > \" ' ; 等特殊字符。",
			noteEN: "2 to 100 characters, unique for the provider; no < > \" ' ; characters.", width: 30},
		{key: "class", zh: "信息资源分类", en: "Classification", aliases: []string{"资源分类", "分类", "分类代码", "信息资源分类代码"}, required: true,
			noteZH: "类/项/目[/细目]，如 1/01/001。类：1 基础、2 主题、3 部门；项 2 位；目 3 位。信息资源代码由系统按分类生成。",
			noteEN: "class/item/category[/subcategory], e.g. 1/01/001. Class 1 base, 2 theme, 3 department; item 2 digits; category 3 digits. The entry code is generated from it.", width: 14},
		{key: "provider_code", zh: "提供方代码", en: "Provider code",
			aliases: []string{"信息资源提供方代码", "提供方统一社会信用代码", "统一社会信用代码", "提供单位代码", "provider credit code"}, required: true,
			noteZH: "信息资源提供方的 18 位统一社会信用代码。只在一个单位编目的用户可以留空，默认为本单位。",
			noteEN: "The provider's 18-character unified social credit code. Users who catalogue for one body only may leave it empty: their body is assumed.", width: 22},
		{key: "abstract", zh: "信息资源摘要", en: "Abstract", aliases: []string{"摘要", "资源摘要", "description"}, required: true,
			noteZH: "对信息资源内容的说明，不超过 2000 字；不能含 HTML 标签或脚本。",
			noteEN: "What the resource holds, at most 2000 characters; no HTML or script.", width: 40},
		{key: "format_class", zh: "信息资源格式分类", en: "Format class", aliases: []string{"格式分类", "资源格式分类", "信息资源格式", "format"}, required: true,
			noteZH: "电子文件、电子表格、图形图像、流媒体只能以文件方式共享；数据库以库表或接口方式共享；服务接口以接口方式共享。",
			noteEN: "Documents, spreadsheets, images and media are shared as files; databases as tables or through an API; service interfaces through an API.",
			values: func(*vocab) []string { return zhLabels(catalog.FormatClasses()) }},
		{key: "format_type", zh: "信息资源格式类型", en: "Format type", aliases: []string{"格式类型", "资源格式类型"}, required: true,
			noteZH: "须属于所选的格式分类：" + ftZH, noteEN: "Must belong to the format class:" + ftEN, values: formatTypes},
		{key: "share_type", zh: "共享类型", en: "Share type", aliases: []string{"共享属性"}, required: true,
			noteZH: "无条件共享、有条件共享（授权共享）或不予共享（非共享），也可填吉政发〔2019〕4号的“授权共享”“非共享”；数据分级限制可选的共享类型。",
			noteEN: "Unconditional, conditional (授权共享) or none (非共享); the regulation's words 授权共享 and 非共享 are accepted; the data grade limits the choice.",
			// The regulation's words (吉政发〔2019〕4号 §25) are in the list too:
			// the drop-down refuses anything else typed.
			values: func(*vocab) []string { return append(zhLabels(catalog.ShareTypes), "授权共享", "非共享") }},
		{key: "share_condition", zh: "共享条件", en: "Share condition", aliases: []string{"共享条件或依据", "不予共享依据"},
			noteZH: "有条件共享须写明共享条件；不予共享须写明法律、行政法规或政策依据；无条件共享可留空。",
			noteEN: "Conditional sharing needs its conditions; a resource not shared needs its legal or policy basis; may be empty for unconditional sharing.", width: 30},
		{key: "share_method", zh: "共享方式类型", en: "Share method", aliases: []string{"共享方式"},
			noteZH: "接口、库表或文件，须与格式分类相符；不予共享时留空。",
			noteEN: "API, table or file, matching the format class; empty when not shared.",
			values: func(*vocab) []string { return zhLabels(catalog.ShareMethods) }},
		{key: "share_channel", zh: "共享方式分类", en: "Share channel", aliases: []string{"共享渠道"},
			noteZH: "共享平台方式、邮件方式或介质方式；留空为共享平台方式。",
			noteEN: "Sharing platform, e-mail or media; empty means the sharing platform.",
			values: func(*vocab) []string { return zhLabels(catalog.ShareChannels) }},
		{key: "open_type", zh: "开放属性", en: "Open type", aliases: []string{"开放类型", "是否向社会开放"}, required: true,
			noteZH: "无条件开放、有条件开放或不予开放（旧表中的「是/否」也可）；L4 数据不予开放。",
			noteEN: "Unconditional, conditional or none (the older yes/no is accepted); L4 data is never opened.",
			values: func(*vocab) []string { return zhLabels(catalog.OpenTypes) }},
		{key: "open_condition", zh: "开放条件", en: "Open condition",
			noteZH: "有条件开放须写明开放条件；不予开放须写明依据。",
			noteEN: "Conditional opening needs its conditions; a resource not opened needs its basis.", width: 30},
		{key: "cycle", zh: "更新周期", en: "Update cycle", aliases: []string{"更新频率"}, required: true,
			noteZH: "实时、每日、每周、每月、每季度、每半年、每年或其他。",
			noteEN: "Real time, daily, weekly, monthly, quarterly, half-yearly, yearly or other.",
			values: func(*vocab) []string { return zhLabels(catalog.Cycles) }},
		{key: "grade", zh: "数据分级", en: "Data grade", aliases: []string{"数据等级", "分级", "分类分级", "安全级别"}, required: true,
			noteZH: "L1 不敏感可无条件开放；L2、L3 只能有条件开放且敏感信息项须脱敏；L4 不予开放。",
			noteEN: "L1 may be opened unconditionally; L2 and L3 only on conditions with masked sensitive items; L4 is never opened.",
			values: func(v *vocab) []string { return zhLabels(v.grades) }},
		{key: "related", zh: "关联资源代码", en: "Related codes", aliases: []string{"关联资源", "关联目录", "关联资源代码列表"},
			noteZH: "已有目录的信息资源代码，多个用分号（;）或顿号分隔；代码须已存在。",
			noteEN: "Codes of existing entries, separated by semicolons; each must exist.", width: 24},
		{key: "classified", zh: "涉密", en: "Classified", aliases: []string{"涉密属性", "是否涉密"},
			noteZH: "涉密信息资源不得在本平台编目，选「是」的行将被拒绝。",
			noteEN: "Classified resources may not be catalogued on this platform: rows marked yes are refused.", values: yesNo, width: 8},
		{key: keyItems, zh: "信息项", en: "Data items", compact: true, aliases: []string{"信息项信息", "数据项", "信息项列表"},
			noteZH: itemsSyntaxZH, noteEN: itemsSyntaxEN, width: 50},
		{key: "code", zh: "信息资源代码", en: "Code", aliases: []string{"资源代码", "目录代码"}, ignored: true, exportOnly: true},
		{key: "provider", zh: "信息资源提供方", en: "Provider", aliases: []string{"提供方", "提供方名称", "提供单位"}, ignored: true, exportOnly: true},
		{key: "status", zh: "状态", en: "Status", ignored: true, exportOnly: true},
		{key: "version", zh: "版本", en: "Version", ignored: true, exportOnly: true},
		{key: "published_at", zh: "发布日期", en: "Published", aliases: []string{"发布时间"}, ignored: true, exportOnly: true},
	}
	itemColumns = []column{
		{key: keyEntryNo, zh: "目录序号", en: "Entry no", aliases: []string{"序号", "资源序号", "entry number"},
			noteZH: "所属目录在「目录」工作表中的序号；与「信息资源名称」至少填一项。",
			noteEN: "The number of the item's entry on the entries sheet; give it or the entry's name.", width: 10},
		{key: keyEntryName, zh: "信息资源名称", en: "Entry name", aliases: []string{"资源名称", "目录名称"},
			noteZH: "所属目录的信息资源名称；与「目录序号」至少填一项，都填时须指向同一目录。",
			noteEN: "The name of the item's entry; give it or the entry number (both must agree).", width: 30},
		{key: "name", zh: "信息项名称", en: "Item name", aliases: []string{"数据项名称", "字段名称", "中文名称", "名称", "item"}, required: true,
			noteZH: "1 至 50 个字，同一目录内不能重复。", noteEN: "1 to 50 characters, unique within the entry.", width: 20},
		{key: "en_name", zh: "英文名称", en: "English name", aliases: []string{"英文名", "字段名", "字段英文名", "字段代码"},
			noteZH: "字母开头，只含字母、数字和下划线，最多 64 个字符。", noteEN: "A letter, then letters, digits or _; at most 64 characters.", width: 16},
		{key: "data_type", zh: "数据类型", en: "Data type", aliases: []string{"类型", "字段类型"}, required: true,
			noteZH: "字符型(C)、数值型(N)、货币型(Y)、日期型(D)、日期时间型(T)、逻辑型(L)、备注型(M)、通用型(G)、双精度型(B)、整型(I)、浮点型(F)；也可填字母代码。",
			noteEN: "character (C), numeric (N), currency (Y), date (D), date and time (T), logical (L), memo (M), general (G), double (B), integer (I), float (F); the letter is accepted too.",
			values: func(*vocab) []string { return zhLabels(catalog.DataTypes) }},
		{key: "length", zh: "数据长度", en: "Length", aliases: []string{"长度", "字段长度"},
			noteZH: "字符型和数值型必填，填整数。", noteEN: "Required for character and numeric items; an integer.", width: 10},
		{key: "required", zh: "必填", en: "Required", aliases: []string{"是否必填", "非空", "是否为空"},
			noteZH: "是或否；主键一定必填。", noteEN: "Yes or no; key items are always required.", values: yesNo, width: 8},
		{key: "key", zh: "主键", en: "Key", aliases: []string{"是否主键", "唯一标识"},
			noteZH: "是或否；数据库、电子表格、自描述格式和服务接口类资源须至少有一个主键。",
			noteEN: "Yes or no; database, spreadsheet, self-describing and service resources need at least one key item.", values: yesNo, width: 8},
		{key: "sensitive", zh: "敏感", en: "Sensitive", aliases: []string{"是否敏感", "敏感信息", "敏感信息项"},
			noteZH: "是或否；L2 及以上的资源开放时，敏感信息项须设置脱敏规则。",
			noteEN: "Yes or no; sensitive items of L2 and higher resources need a masking rule when the resource is opened.", values: yesNo, width: 8},
		{key: "mask", zh: "脱敏规则", en: "Masking rule", aliases: []string{"脱敏方式", "脱敏"},
			noteZH: "留空为不脱敏。", noteEN: "Empty means no masking.", values: func(*vocab) []string { return zhLabels(catalog.MaskRules) }},
		{key: "code_list", zh: "代码表", en: "Code list", aliases: []string{"值域", "代码集", "取值范围"},
			noteZH: "值域所依据的代码表或标准，如 GB/T 2261.1。", noteEN: "The code list or standard of the values, e.g. GB/T 2261.1.", width: 16},
	}
}

// header returns the column's header in lang.
func (c *column) header(lang string) string {
	if lang == "en" {
		return c.en
	}
	return c.zh
}

// normHeader folds a header for matching: full-width characters to
// half-width, lower case, without spaces, underscores, hyphens, dots,
// colons and the asterisks that mark required columns.
func normHeader(s string) string {
	s = width.Fold.String(s)
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		switch {
		case unicode.IsSpace(r), r == '_', r == '-', r == '.', r == ':', r == '*', r == '※', r == '\u200b', r == '\ufeff':
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

var openBrackets, closeBrackets = "([{【〔《<「『", ")]}】〕》>」』"

// headerCandidates returns the spellings under which a header is looked
// up: as written, without bracketed parts ("名称（必填）" → "名称"), and
// each bracketed part ("信息资源名称 (name)" → "name").
func headerCandidates(s string) []string {
	s = width.Fold.String(s)
	out := []string{normHeader(s)}
	var outside, inside strings.Builder
	var parts []string
	depth := 0
	for _, r := range s {
		switch {
		case strings.ContainsRune(openBrackets, r):
			depth++
		case strings.ContainsRune(closeBrackets, r) && depth > 0:
			depth--
			if depth == 0 {
				parts = append(parts, inside.String())
				inside.Reset()
			}
		case depth > 0:
			inside.WriteRune(r)
		default:
			outside.WriteRune(r)
		}
	}
	if len(parts) > 0 {
		out = append(out, normHeader(outside.String()))
		for _, p := range parts {
			out = append(out, normHeader(p))
		}
	}
	return out
}

// lookup maps normalised headers to the columns of one sheet.
type lookup map[string]*column

func newLookup(cols []column) lookup {
	l := lookup{}
	for i := range cols {
		c := &cols[i]
		for _, h := range append([]string{c.zh, c.en, c.key}, c.aliases...) {
			if k := normHeader(h); k != "" {
				if _, dup := l[k]; !dup {
					l[k] = c
				}
			}
		}
	}
	return l
}

func (l lookup) find(header string) *column {
	for _, k := range headerCandidates(header) {
		if c, ok := l[k]; ok && k != "" {
			return c
		}
	}
	return nil
}

var entryLookup, itemLookup lookup

func init() {
	entryLookup = newLookup(entryColumns)
	itemLookup = newLookup(itemColumns)
}

func columnByKey(cols []column, key string) *column {
	for i := range cols {
		if cols[i].key == key {
			return &cols[i]
		}
	}
	return nil
}

// entrySheet returns the columns of the entries sheet: the template's, and
// for exports also the informational ones; compact adds the data items
// column (CSV).
func entrySheet(export, compact bool) []column {
	var out []column
	for _, c := range entryColumns {
		if (c.exportOnly && !export) || (c.compact && !compact) {
			continue
		}
		out = append(out, c)
	}
	return out
}
