package web

import (
	"bytes"
	"net/http"
	"strconv"
	"strings"

	"xiangyun/internal/auth"
	"xiangyun/internal/catalog"
)

// The catalog console (目录管理): browse and search, entry pages with the
// workflow, the editor, the body's own entries, the review queue, the three
// lists, spreadsheet import and statistics. Every rule lives in package
// catalog; these handlers only call the service and render.

// Review waiting time thresholds, in working days since submission: the
// catalog's, which also time the deadline notices.
const (
	reviewCloseDays = catalog.ReviewCloseDays
	reviewOverDays  = catalog.ReviewOverDays
)

// catalogRoutes registers the catalog pages with their permissions.
func (c *Console) catalogRoutes() {
	c.route(http.MethodGet, "/catalog", auth.PermCatalogRead, "catalog.search", c.catalogSearch)
	c.route(http.MethodGet, "/catalog/export", auth.PermCatalogRead, "catalog.export", c.catalogExport)
	c.route(http.MethodGet, "/catalog/new", auth.PermCatalogEdit, "catalog.entry.form", c.catalogNewForm)
	c.route(http.MethodPost, "/catalog/new", auth.PermCatalogEdit, "catalog.entry.create", c.catalogCreate)
	c.route(http.MethodGet, "/catalog/editor.js", auth.PermCatalogEdit, "catalog.editor.script", c.catalogEditorScript)
	c.route(http.MethodGet, "/catalog/mine", auth.PermCatalogEdit, "catalog.mine", c.catalogMine)
	c.route(http.MethodGet, "/catalog/review", auth.PermCatalogReview, "catalog.review.queue", c.catalogReview)

	c.route(http.MethodGet, "/catalog/{id}", auth.PermCatalogRead, "catalog.entry.read", c.catalogEntry)
	c.route(http.MethodGet, "/catalog/{id}/diff", auth.PermCatalogRead, "catalog.entry.diff", c.catalogDiff)
	c.route(http.MethodGet, "/catalog/{id}/edit", auth.PermCatalogEdit, "catalog.entry.form", c.catalogEditForm)
	c.route(http.MethodPost, "/catalog/{id}/edit", auth.PermCatalogEdit, "catalog.entry.update", c.catalogUpdate)
	c.route(http.MethodPost, "/catalog/{id}/submit", auth.PermCatalogSubmit, "catalog.entry.submit", c.catalogSubmit)
	c.route(http.MethodPost, "/catalog/{id}/withdraw", auth.PermCatalogSubmit, "catalog.entry.withdraw", c.catalogWithdraw)
	c.route(http.MethodPost, "/catalog/{id}/deprecate", auth.PermCatalogSubmit, "catalog.entry.deprecate", c.catalogDeprecate)
	c.route(http.MethodPost, "/catalog/{id}/publish", auth.PermCatalogReview, "catalog.entry.publish", c.catalogPublish)
	c.route(http.MethodPost, "/catalog/{id}/return", auth.PermCatalogReview, "catalog.entry.return", c.catalogReturn)

	c.route(http.MethodGet, "/catalog/lists", auth.PermCatalogRead, "catalog.lists", c.catalogLists)
	c.route(http.MethodGet, "/catalog/lists/export", auth.PermCatalogRead, "catalog.lists.export", c.catalogListsExport)
	c.route(http.MethodPost, "/catalog/lists/responsibility", auth.PermCatalogLists, "catalog.responsibility.create", c.catalogRespCreate)
	c.route(http.MethodPost, "/catalog/lists/responsibility/{id}/cancel", auth.PermCatalogLists, "catalog.responsibility.cancel", c.catalogRespCancel)
	// Linking is open to list managers and to the responsible body's chief
	// data officer, which no single permission covers: the service decides.
	c.route(http.MethodPost, "/catalog/lists/responsibility/{id}/link", auth.PermCatalogRead, "catalog.responsibility.link", c.catalogRespLink)
	c.route(http.MethodPost, "/catalog/lists/demand", auth.PermCatalogDemand, "catalog.demand.create", c.catalogDemandCreate)
	c.route(http.MethodPost, "/catalog/lists/demand/{id}/link", auth.PermCatalogDemand, "catalog.demand.link", c.catalogDemandLink)
	c.route(http.MethodPost, "/catalog/lists/demand/{id}/close", auth.PermCatalogDemand, "catalog.demand.close", c.catalogDemandClose)

	c.route(http.MethodGet, "/catalog/import", auth.PermCatalogEdit, "catalog.import.form", c.catalogImportForm)
	c.route(http.MethodGet, "/catalog/import/template", auth.PermCatalogEdit, "catalog.import.template", c.catalogImportTemplate)
	c.route(http.MethodPost, "/catalog/import", auth.PermCatalogEdit, "catalog.import", c.catalogImport)

	c.route(http.MethodGet, "/catalog/stats", auth.PermCatalogRead, "catalog.stats", c.catalogStats)
	c.route(http.MethodGet, "/catalog/index", auth.PermCatalogLists, "catalog.index.status", c.catalogIndexStatus)
	c.route(http.MethodPost, "/catalog/index/rebuild", auth.PermCatalogLists, "catalog.index.rebuild", c.catalogIndexRebuild)
}

// vocab labels the catalog's coded values in the page's language; templates
// reach it as .V of the page data.
type vocab struct {
	lang   string
	grades []catalog.Term
}

func (c *Console) vocab(lang string) vocab {
	g := c.Catalog.GradePolicy()
	return vocab{lang: lang, grades: g.Terms()}
}

func (v vocab) label(set []catalog.Term, code string) string {
	if code == "" {
		return ""
	}
	if t, ok := catalog.Lookup(set, code); ok {
		return t.Label(v.lang)
	}
	return code
}

// T picks the Chinese or the English text.
func (v vocab) T(zh, en string) string { return pick(v.lang, zh, en) }

func (v vocab) Share(code string) string   { return v.label(catalog.ShareTypes, code) }
func (v vocab) Open(code string) string    { return v.label(catalog.OpenTypes, code) }
func (v vocab) Method(code string) string  { return v.label(catalog.ShareMethods, code) }
func (v vocab) Channel(code string) string { return v.label(catalog.ShareChannels, code) }
func (v vocab) Cycle(code string) string   { return v.label(catalog.Cycles, code) }
func (v vocab) Status(code string) string  { return v.label(catalog.Statuses, code) }
func (v vocab) Grade(code string) string   { return v.label(v.grades, code) }
func (v vocab) Scope(code string) string   { return v.label(catalog.Scopes, code) }
func (v vocab) Mask(code string) string    { return v.label(catalog.MaskRules, code) }

// maskHowZH says in Chinese what each masking rule does; the English labels
// of catalog.MaskRules already say it.
var maskHowZH = map[string]string{
	"none": "不脱敏，按原值提供", "name": "保留姓氏（第一个字），其余用 * 遮盖，如 张**",
	"id_card": "保留第 1 位和最后 2 位，中间用 * 遮盖", "mobile": "保留前 3 位和后 4 位，如 138****5678",
	"landline": "保留前 4 位和后 2 位", "address": "遮盖最后 8 个字", "email": "保留第一个字符和 @ 之后的域名",
	"bank_card": "保留前 4 位和后 4 位", "plate": "保留省份简称和最后 1 位，遮盖中间", "ipv4": "保留第一段，如 10.*.*.*",
	"redact": "全部用 * 遮盖", "hash": "以不可逆的摘要值代替原值，可比对、不可还原",
}

// MaskHow explains a masking rule in the page's language.
func (v vocab) MaskHow(code string) string {
	if v.lang != "en" {
		return maskHowZH[code]
	}
	if t, ok := catalog.Lookup(catalog.MaskRules, code); ok {
		return t.EN
	}
	return ""
}

// MaskRule is a masking rule with its explanation, for the rules table.
type MaskRule struct{ Code, Label, How string }

// MaskRules lists the masking rules with what each one does.
func (v vocab) MaskRules() []MaskRule {
	var out []MaskRule
	for _, t := range catalog.MaskRules {
		out = append(out, MaskRule{Code: t.Code, Label: t.Label(v.lang), How: v.MaskHow(t.Code)})
	}
	return out
}

func (v vocab) Format(code string) string { return v.label(catalog.FormatClasses(), code) }

// DataType is "C 字符型".
func (v vocab) DataType(code string) string {
	if t, ok := catalog.Lookup(catalog.DataTypes, code); ok {
		return t.Code + " " + t.Label(v.lang)
	}
	return code
}

// FormatType labels a format type of a format class.
func (v vocab) FormatType(class, code string) string {
	for _, f := range catalog.Formats {
		if f.Code == class {
			return v.label(f.Types, code)
		}
	}
	return code
}

// Class labels a classification code: "1/01/001" → "基础 · 人口".
func (v vocab) Class(code string) string {
	if code == "" {
		return ""
	}
	for _, a := range catalog.Attributes {
		if a.Digit != code[:1] {
			continue
		}
		out := a.Label(v.lang)
		if len(code) >= 4 {
			if t, ok := catalog.Lookup(a.Items, code[2:4]); ok {
				out += " · " + t.Label(v.lang)
			}
		}
		return out
	}
	return code
}

// ClassItem labels the 项 of a classification when the attribute has a
// fixed list of them: "1/01/001" → "基础 · 人口"; "" otherwise.
func (v vocab) ClassItem(code string) string {
	if l := v.Class(code); strings.Contains(l, " · ") {
		return l
	}
	return ""
}

// StatusBadge is the badge class of a status.
func (v vocab) StatusBadge(code string) string {
	switch code {
	case catalog.StatusPublished:
		return "badge-green"
	case catalog.StatusSubmitted:
		return "badge-blue"
	case catalog.StatusReturned:
		return "badge-amber"
	case catalog.StatusWithdrawn:
		return "badge-red"
	}
	return "badge-grey"
}

// gradeRank is the position of a grade in the grade policy, unknown grades
// last.
func (v vocab) gradeRank(code string) int {
	for i, t := range v.grades {
		if t.Code == code {
			return i
		}
	}
	return len(v.grades)
}

// GradeBadge is the badge class of a grade: the more sensitive, the warmer.
func (v vocab) GradeBadge(code string) string {
	for i, t := range v.grades {
		if t.Code != code {
			continue
		}
		switch n := len(v.grades); {
		case i == 0:
			return "badge-green"
		case i == n-1:
			return "badge-red"
		case i >= n/2:
			return "badge-amber"
		}
		return "badge-blue"
	}
	return "badge-grey"
}

// Action names a workflow event.
func (v vocab) Action(a string) string {
	names := map[string][2]string{
		"create": {"新建", "created"}, "update": {"修改", "edited"}, "revise": {"修订", "revised"},
		"submit": {"提交审核", "submitted"}, "return": {"退回", "returned"}, "publish": {"发布", "published"},
		"withdraw": {"撤销", "withdrawn"}, "deprecate": {"废止", "deprecated"},
	}
	if n, ok := names[a]; ok {
		return pick(v.lang, n[0], n[1])
	}
	return a
}

// Deadline is the class of a waiting time in working days.
func (v vocab) Deadline(days int) string {
	switch {
	case days >= reviewOverDays:
		return "deadline-over"
	case days >= reviewCloseDays:
		return "deadline-close"
	}
	return "deadline-ok"
}

// Bool is 是 or 否.
func (v vocab) Bool(b bool) string {
	if b {
		return pick(v.lang, "是", "yes")
	}
	return pick(v.lang, "否", "no")
}

// partial renders one named template of a page without the layout, for
// htmx requests that replace part of a page.
func (c *Console) partial(w http.ResponseWriter, status int, page, name string, data any) {
	t, ok := c.pages[page]
	if !ok {
		http.Error(w, "no template "+page, http.StatusInternalServerError)
		return
	}
	var b bytes.Buffer
	if err := t.ExecuteTemplate(&b, name, data); err != nil {
		c.Log.Error("render", "template", page+"/"+name, "err", err)
		http.Error(w, "render error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Vary", "HX-Request")
	w.WriteHeader(status)
	_, _ = b.WriteTo(w)
}

// htmxTarget reports whether the request is an htmx request for the
// element with id.
func htmxTarget(r *http.Request, id string) bool {
	return r.Header.Get("HX-Request") == "true" && r.Header.Get("HX-Target") == id
}

func entryPath(id int64) string { return "/catalog/" + strconv.FormatInt(id, 10) }

func entryObject(id int64) string { return "entry:" + strconv.FormatInt(id, 10) }

// classGroup is a 类 of the classification with its 项, for the picker.
type classGroup struct {
	Label string
	Items []classNode
}

// classNode is one choice of the picker: the code it writes ("1/01/"),
// what it reads as, and the words a search matches.
type classNode struct {
	Code, Label, Words string
}

// ClassTree is the classification tree (信息资源分类) as the entry editor's
// picker shows it: 基础 and 主题 with their fixed 项; 部门 with the
// department's own two-digit 项, which the user completes.
func (v vocab) ClassTree() []classGroup {
	var out []classGroup
	for _, a := range catalog.Attributes {
		g := classGroup{Label: a.Digit + " " + a.Label(v.lang)}
		for _, it := range a.Items {
			words := strings.Join(append([]string{it.ZH, it.EN, a.ZH, a.EN}, it.Alt...), " ")
			g.Items = append(g.Items, classNode{Code: a.Digit + "/" + it.Code + "/", Label: it.Label(v.lang), Words: words})
		}
		if len(a.Items) == 0 {
			g.Items = append(g.Items, classNode{Code: a.Digit + "/", Label: pick(v.lang, "本部门自定的项（两位数字）", "the department's own item (two digits)"),
				Words: strings.Join(append([]string{a.ZH, a.EN}, a.Alt...), " ")})
		}
		out = append(out, g)
	}
	return out
}
