package web

import (
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"

	"xiangyun/internal/auth"
	"xiangyun/internal/catalog"
	"xiangyun/internal/quality"
)

// Data quality pages (数据治理): scores by body and entry, an entry's rules,
// incidents, the overdue list and one datum, one source.

func (c *Console) qualityRoutes() {
	c.route(http.MethodGet, "/quality", auth.PermQualityRead, "quality.overview", c.qualityOverview)
	c.route(http.MethodGet, "/quality/bodies/{id}", auth.PermQualityRead, "quality.body.read", c.qualityBody)
	c.route(http.MethodGet, "/quality/entries/{id}", auth.PermQualityRead, "quality.entry.read", c.qualityEntry)
	c.route(http.MethodPost, "/quality/entries/{id}/rules", auth.PermQualityManage, "quality.rules.update", c.qualityRulesSave)
	c.route(http.MethodPost, "/quality/entries/{id}/rules/add", auth.PermQualityManage, "quality.rules.add", c.qualityRuleAdd)
	c.route(http.MethodGet, "/quality/incidents", auth.PermQualityRead, "quality.incident.list", c.qualityIncidents)
	c.route(http.MethodPost, "/quality/incidents/{id}/acknowledge", auth.PermQualityManage, "quality.incident.acknowledge", c.qualityIncidentAck)
	c.route(http.MethodPost, "/quality/incidents/{id}/resolve", auth.PermQualityManage, "quality.incident.resolve", c.qualityIncidentResolve)
	c.route(http.MethodGet, "/quality/overdue", auth.PermQualityRead, "quality.overdue.read", c.qualityOverdue)
	c.route(http.MethodGet, "/quality/one-source", auth.PermQualityRead, "quality.one_source.read", c.qualityOneSource)
	c.route(http.MethodPost, "/quality/one-source", auth.PermCatalogReview, "quality.one_source.settle", c.qualitySettle)
}

// qv labels quality terms in the page's language.
type qv struct{ Lang string }

func (v qv) T(zh, en string) string { return pick(v.Lang, zh, en) }

// Dim names a dimension.
func (v qv) Dim(code string) string {
	for _, d := range quality.Dimensions {
		if d.Code == code {
			return v.T(d.ZH, d.EN)
		}
	}
	return code
}

// Kind names a rule kind.
func (v qv) Kind(code string) string {
	for _, k := range quality.Kinds {
		if k.Code == code {
			return v.T(k.ZH, k.EN)
		}
	}
	return code
}

// Status names an incident status.
func (v qv) Status(s string) string {
	switch s {
	case quality.IncidentNew:
		return v.T("新发现", "new")
	case quality.IncidentAcknowledged:
		return v.T("处理中", "acknowledged")
	case quality.IncidentResolved:
		return v.T("已关闭", "resolved")
	}
	return s
}

// StatusBadge is the badge class of an incident status.
func (v qv) StatusBadge(s string) string {
	switch s {
	case quality.IncidentNew:
		return "badge-red"
	case quality.IncidentAcknowledged:
		return "badge-amber"
	}
	return "badge-green"
}

// Score renders a score, "—" when there is none.
func (v qv) Score(x any) string {
	switch s := x.(type) {
	case *float64:
		if s == nil {
			return "—"
		}
		return strconv.FormatFloat(*s, 'f', 1, 64)
	case float64:
		return strconv.FormatFloat(s, 'f', 1, 64)
	}
	return "—"
}

// ScoreBadge colours a score: green from 90, amber from 70, else red.
func (v qv) ScoreBadge(x any) string {
	var s float64
	switch t := x.(type) {
	case *float64:
		if t == nil {
			return "badge-grey"
		}
		s = *t
	case float64:
		s = t
	}
	switch {
	case s >= 90:
		return "badge-green"
	case s >= 70:
		return "badge-amber"
	}
	return "badge-red"
}

// Dims lists the dimensions of scores in display order.
func (v qv) Dims() []string {
	out := make([]string, len(quality.Dimensions))
	for i, d := range quality.Dimensions {
		out[i] = d.Code
	}
	return out
}

// Cycle names an update cycle.
func (v qv) Cycle(code string) string {
	for _, t := range catalog.Cycles {
		if t.Code == code {
			return v.T(t.ZH, t.EN)
		}
	}
	return code
}

// Params summarises a rule's parameters.
func (v qv) Params(r quality.Rule) string {
	p := r.Params
	var parts []string
	switch r.Kind {
	case quality.KindPattern:
		parts = append(parts, p.Pattern)
	case quality.KindCodeList:
		cs := p.Codes
		more := ""
		if len(cs) > 8 {
			cs, more = cs[:8], "…"
		}
		parts = append(parts, strings.Join(cs, ", ")+more)
	case quality.KindRange:
		lo, hi := "", ""
		if p.Min != nil {
			lo = strconv.FormatFloat(*p.Min, 'f', -1, 64)
		}
		if p.Max != nil {
			hi = strconv.FormatFloat(*p.Max, 'f', -1, 64)
		}
		parts = append(parts, "["+lo+", "+hi+"]")
	case quality.KindLength:
		if p.MinLen > 0 {
			parts = append(parts, v.T("最短 ", "min ")+strconv.Itoa(p.MinLen))
		}
		if p.MaxLen > 0 {
			parts = append(parts, v.T("最长 ", "max ")+strconv.Itoa(p.MaxLen))
		}
	case quality.KindReference:
		parts = append(parts, fmt.Sprintf("#%d · %s", p.RefEntryID, p.RefItem))
	case quality.KindRowCount:
		parts = append(parts, fmt.Sprintf("%d – %s", p.MinRows, map[bool]string{true: "∞", false: strconv.FormatInt(p.MaxRows, 10)}[p.MaxRows == 0]))
	case quality.KindFreshness:
		if p.MaxAgeDays > 0 {
			parts = append(parts, fmt.Sprintf(v.T("%d 天", "%d days"), p.MaxAgeDays))
		} else {
			parts = append(parts, v.T("按更新周期", "by the update cycle"))
		}
	case quality.KindExpr:
		parts = append(parts, p.Expr)
	}
	return strings.Join(parts, " · ")
}

// Threshold renders a rule's threshold.
func (v qv) Threshold(t quality.Threshold) string {
	if t.Kind == "percent" {
		return strconv.FormatFloat(t.Value, 'f', -1, 64) + "%"
	}
	return strconv.FormatFloat(t.Value, 'f', -1, 64) + v.T(" 条", " rows")
}

func scoreBar(v qv, sc *quality.Scores) map[string]any {
	var names []string
	var vals []any
	for _, d := range quality.Dimensions {
		if sc == nil || sc.Dim[d.Code] == nil {
			continue
		}
		x := *sc.Dim[d.Code]
		names = append(names, v.Dim(d.Code))
		vals = append(vals, map[string]any{"value": x, "itemStyle": map[string]any{"color": badgeColors[v.ScoreBadge(x)]}})
	}
	return map[string]any{
		"grid":   map[string]any{"left": 12, "right": 24, "top": 16, "bottom": 8, "containLabel": true},
		"xAxis":  map[string]any{"type": "category", "data": names},
		"yAxis":  map[string]any{"type": "value", "min": 0, "max": 100},
		"series": []any{map[string]any{"type": "bar", "data": vals, "barMaxWidth": 40, "label": map[string]any{"show": true, "position": "top"}}},
	}
}

func scoreLine(name string, xs []string, ys []float64) map[string]any {
	return map[string]any{
		"tooltip": map[string]any{"trigger": "axis"},
		"grid":    map[string]any{"left": 12, "right": 24, "top": 16, "bottom": 8, "containLabel": true},
		"xAxis":   map[string]any{"type": "category", "data": xs},
		"yAxis":   map[string]any{"type": "value", "min": 0, "max": 100},
		"series":  []any{map[string]any{"type": "line", "name": name, "data": ys, "smooth": true, "areaStyle": map[string]any{"opacity": 0.08}}},
	}
}

type qualityOverviewData struct {
	Q       qv
	Bodies  []quality.BodyScore
	Overdue []quality.BodyOverdue
	Charts  map[string]any
}

func (c *Console) qualityOverview(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	pg := c.page(r, pick(pgLang(r), "数据质量", "Data quality"), "quality")
	if !pg.P.Global(auth.PermQualityRead) {
		if bs := pg.P.BodiesWith(auth.PermQualityRead); len(bs) > 0 {
			http.Redirect(w, r, fmt.Sprintf("/quality/bodies/%d", bs[0]), http.StatusSeeOther)
			return
		}
	}
	bodies, err := c.Quality.Scores(ctx, pg.P, 0)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	over, err := c.Quality.OverdueByBody(ctx, pg.P)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	v := qv{pg.Lang}
	var names []string
	var vals []any
	for _, b := range bodies {
		if b.Scores == nil {
			continue
		}
		names = append(names, b.Body)
		vals = append(vals, map[string]any{"value": b.Scores.Score, "itemStyle": map[string]any{"color": badgeColors[v.ScoreBadge(b.Scores.Score)]}})
	}
	pg.Data = &qualityOverviewData{Q: v, Bodies: bodies, Overdue: over, Charts: map[string]any{
		"bodies": map[string]any{
			"grid":   map[string]any{"left": 12, "right": 40, "top": 8, "bottom": 8, "containLabel": true},
			"xAxis":  map[string]any{"type": "value", "min": 0, "max": 100},
			"yAxis":  map[string]any{"type": "category", "inverse": true, "data": names, "axisLabel": map[string]any{"width": 200, "overflow": "truncate"}},
			"series": []any{map[string]any{"type": "bar", "data": vals, "label": map[string]any{"show": true, "position": "right"}}},
		},
	}}
	c.render(w, r, http.StatusOK, "quality", pg)
}

type qualityBodyData struct {
	Q         qv
	B         quality.BodyScore
	Overdue   []quality.Freshness
	Incidents []quality.Incident
	Charts    map[string]any
}

func (c *Console) qualityBody(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id := pathID(r, "id")
	pg := c.page(r, pick(pgLang(r), "部门数据质量", "Department data quality"), "quality")
	bs, err := c.Quality.Scores(ctx, pg.P, id)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	b := quality.BodyScore{BodyID: id}
	if len(bs) > 0 {
		b = bs[0]
	} else if body, err := c.Orgs.Body(ctx, id); err == nil {
		b.Body = body.Name
	}
	over, err := c.Quality.Overdue(ctx, pg.P, id)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	incs, _, err := c.Quality.Incidents(ctx, pg.P, quality.IncidentFilter{BodyID: id, Status: "open", Limit: 50})
	if err != nil {
		c.fail(w, r, err)
		return
	}
	v := qv{pg.Lang}
	var days []string
	var ys []float64
	for _, h := range b.History {
		days, ys = append(days, h.Day), append(ys, h.Score)
	}
	pg.Title = b.Body + pg.T(" · 数据质量", " · data quality")
	pg.Data = &qualityBodyData{Q: v, B: b, Overdue: over, Incidents: incs, Charts: map[string]any{
		"dims": scoreBar(v, b.Scores), "history": scoreLine(pg.T("综合得分", "score"), days, ys),
	}}
	c.render(w, r, http.StatusOK, "quality_body", pg)
}

type qualityEntryData struct {
	Q         qv
	E         catalog.Entry
	R         quality.EntryReport
	Rules     []quality.Rule
	Rev       int64 // the rule set's revision, sent back by the forms
	Incidents []quality.Incident
	CanManage bool
	Kinds     []quality.Kind
	Charts    map[string]any
}

func (c *Console) qualityEntry(w http.ResponseWriter, r *http.Request) {
	c.renderQualityEntry(w, r, http.StatusOK, pathID(r, "id"), nil, "")
}

func (c *Console) renderQualityEntry(w http.ResponseWriter, r *http.Request, status int, id int64, f *Form, msg string) {
	ctx := r.Context()
	pg := c.page(r, "", "quality")
	e, err := c.Catalog.Get(ctx, pg.P, id)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	rep, err := c.Quality.EntryQuality(ctx, pg.P, id)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	rules, rev, err := c.Quality.RuleSet(ctx, pg.P, id)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	incs, _, err := c.Quality.Incidents(ctx, pg.P, quality.IncidentFilter{EntryID: id, Limit: 50})
	if err != nil {
		c.fail(w, r, err)
		return
	}
	v := qv{pg.Lang}
	var xs []string
	var ys []float64
	for _, h := range rep.History {
		xs, ys = append(xs, h.At[:10]+" #"+strconv.FormatInt(h.BatchID, 10)), append(ys, h.Scores.Score)
	}
	pg.Title = e.Name + pg.T(" · 数据质量", " · data quality")
	if f == nil {
		f = &Form{Values: r.URL.Query(), Errors: map[string]string{}}
	}
	pg.Form, pg.Error = f, msg
	pg.Data = &qualityEntryData{Q: v, E: e, R: rep, Rules: rules, Rev: rev, Incidents: incs, Kinds: quality.Kinds,
		CanManage: pg.P.HasAt(auth.PermQualityManage, e.ProviderID),
		Charts:    map[string]any{"dims": scoreBar(v, rep.Scores), "history": scoreLine(pg.T("综合得分", "score"), xs, ys)}}
	c.render(w, r, status, "quality_entry", pg)
}

// qualityRulesSave applies the rule table form: enabled and threshold per
// rule, and removal of added rules.
func (c *Console) qualityRulesSave(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id := pathID(r, "id")
	f := newForm(r)
	p := auth.FromContext(ctx)
	rules, err := c.Quality.Rules(ctx, p, id)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	var out []quality.Rule
	for _, ru := range rules {
		k := ru.Key
		if !ru.Default && f.V("delete:"+k) != "" {
			continue
		}
		ru.Enabled = f.V("enabled:"+k) != ""
		if tk := f.V("th_kind:" + k); tk != "" {
			ru.Threshold.Kind = tk
		}
		if tv := strings.TrimSpace(f.V("th_value:" + k)); tv != "" {
			x, err := strconv.ParseFloat(tv, 64)
			if err != nil {
				f.Errors["th_value:"+k] = pick(pgLang(r), "阈值应为数字", "the threshold must be a number")
				c.renderQualityEntry(w, r, http.StatusUnprocessableEntity, id, f, f.Errors["th_value:"+k])
				return
			}
			ru.Threshold.Value = x
		}
		out = append(out, ru)
	}
	if _, err := c.Quality.SaveRules(ctx, p, id, out, formRev(f)); err != nil {
		c.renderQualityEntry(w, r, statusOf(err), id, f, f.fail(err, pgLang(r)))
		return
	}
	c.redirect(w, r, fmt.Sprintf("/quality/entries/%d#rules", id), pick(pgLang(r), "质量规则已保存", "Quality rules saved"))
}

// formRev is the rule set revision a form was rendered with; a form without
// one cannot prove it is current and never matches.
func formRev(f *Form) int64 {
	n, err := strconv.ParseInt(f.V("revision"), 10, 64)
	if err != nil || n < 0 {
		return math.MaxInt64
	}
	return n
}

// qualityRuleAdd adds one rule from the add form.
func (c *Console) qualityRuleAdd(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id := pathID(r, "id")
	f := newForm(r)
	p := auth.FromContext(ctx)
	lang := pgLang(r)
	rules, err := c.Quality.Rules(ctx, p, id)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	nr := quality.Rule{Kind: f.V("kind"), Enabled: true, Dimension: f.V("dimension"), Threshold: quality.Threshold{Kind: f.V("th_kind")}}
	if it := strings.TrimSpace(f.V("item")); it != "" {
		for _, x := range strings.Split(it, "+") {
			nr.Items = append(nr.Items, strings.TrimSpace(x))
		}
	}
	num := func(name string) *float64 {
		s := strings.TrimSpace(f.V(name))
		if s == "" {
			return nil
		}
		x, err := strconv.ParseFloat(s, 64)
		if err != nil {
			f.Errors[name] = pick(lang, "应为数字", "must be a number")
			return nil
		}
		return &x
	}
	integer := func(name string) int64 {
		if x := num(name); x != nil {
			return int64(*x)
		}
		return 0
	}
	if x := num("th_value"); x != nil {
		nr.Threshold.Value = *x
	}
	pr := &nr.Params
	pr.Pattern, pr.Expr, pr.MessageZH, pr.MessageEN, pr.RefItem = f.V("pattern"), f.V("expr"), f.V("message_zh"), f.V("message_en"), strings.TrimSpace(f.V("ref_item"))
	for _, code := range strings.FieldsFunc(f.V("codes"), func(r rune) bool { return r == ',' || r == '，' || r == '\n' || r == '、' }) {
		if code = strings.TrimSpace(code); code != "" {
			pr.Codes = append(pr.Codes, code)
		}
	}
	pr.Min, pr.Max = num("min"), num("max")
	pr.MinLen, pr.MaxLen = int(integer("min_len")), int(integer("max_len"))
	pr.MinRows, pr.MaxRows, pr.RefEntryID, pr.MaxAgeDays = integer("min_rows"), integer("max_rows"), integer("ref_entry_id"), int(integer("max_age_days"))
	if len(f.Errors) > 0 {
		c.renderQualityEntry(w, r, http.StatusUnprocessableEntity, id, f, pick(lang, "请检查标出的字段", "check the marked fields"))
		return
	}
	if _, err := c.Quality.SaveRules(ctx, p, id, append(rules, nr), formRev(f)); err != nil {
		c.renderQualityEntry(w, r, statusOf(err), id, f, f.fail(err, lang))
		return
	}
	c.redirect(w, r, fmt.Sprintf("/quality/entries/%d#rules", id), pick(lang, "已添加规则", "Rule added"))
}

type qualityIncidentsData struct {
	Q     qv
	Items []quality.Incident
	Pager Pager
	Tabs  []qualityTab
}

type qualityTab struct {
	Label, Href string
	On          bool
}

func (c *Console) qualityIncidents(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	pg := c.page(r, pick(pgLang(r), "质量事件", "Quality incidents"), "quality-incidents")
	status := r.URL.Query().Get("status")
	if status == "" && !r.URL.Query().Has("status") {
		status = "open"
	}
	pager := pagerOf(r, 50)
	entryID, _ := strconv.ParseInt(r.URL.Query().Get("entry_id"), 10, 64)
	bodyID, _ := strconv.ParseInt(r.URL.Query().Get("body_id"), 10, 64)
	items, n, err := c.Quality.Incidents(ctx, pg.P, quality.IncidentFilter{Status: status, EntryID: entryID, BodyID: bodyID,
		Limit: pager.PageSize, Offset: pager.Offset()})
	if err != nil {
		c.fail(w, r, err)
		return
	}
	pager.Total = n
	v := qv{pg.Lang}
	d := &qualityIncidentsData{Q: v, Items: items, Pager: pager}
	for _, s := range []struct{ code, zh, en string }{{"open", "未关闭", "open"}, {"new", "新发现", "new"},
		{"acknowledged", "处理中", "acknowledged"}, {"resolved", "已关闭", "resolved"}, {"", "全部", "all"}} {
		d.Tabs = append(d.Tabs, qualityTab{Label: v.T(s.zh, s.en), Href: "/quality/incidents?status=" + s.code, On: s.code == status})
	}
	pg.Data = d
	c.render(w, r, http.StatusOK, "quality_incidents", pg)
}

func (c *Console) qualityIncidentAck(w http.ResponseWriter, r *http.Request) {
	id := pathID(r, "id")
	if _, err := c.Quality.Acknowledge(r.Context(), auth.FromContext(r.Context()), id, strings.TrimSpace(r.FormValue("note"))); err != nil {
		c.fail(w, r, err)
		return
	}
	c.redirect(w, r, backTo(r, "/quality/incidents"), pick(pgLang(r), "已确认事件，请尽快处理", "Incident acknowledged"))
}

func (c *Console) qualityIncidentResolve(w http.ResponseWriter, r *http.Request) {
	id := pathID(r, "id")
	if _, err := c.Quality.Resolve(r.Context(), auth.FromContext(r.Context()), id, r.FormValue("reason")); err != nil {
		c.fail(w, r, err)
		return
	}
	c.redirect(w, r, backTo(r, "/quality/incidents"), pick(pgLang(r), "事件已关闭", "Incident resolved"))
}

// backTo is the same-origin page a form came from, else def.
func backTo(r *http.Request, def string) string {
	if h := here(r); h != "/" {
		return h
	}
	return def
}

type qualityOverdueData struct {
	Q      qv
	Groups []quality.BodyOverdue
	Total  int
}

func (c *Console) qualityOverdue(w http.ResponseWriter, r *http.Request) {
	pg := c.page(r, pick(pgLang(r), "逾期未更新", "Overdue data"), "quality-overdue")
	gs, err := c.Quality.OverdueByBody(r.Context(), pg.P)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	d := &qualityOverdueData{Q: qv{pg.Lang}, Groups: gs}
	for _, g := range gs {
		d.Total += g.Count
	}
	pg.Data = d
	c.render(w, r, http.StatusOK, "quality_overdue", pg)
}

type qualityOneSourceData struct {
	Q         qv
	Items     []quality.OneSource
	CanSettle bool
}

func (c *Console) qualityOneSource(w http.ResponseWriter, r *http.Request) {
	pg := c.page(r, pick(pgLang(r), "一数一源", "One datum, one source"), "quality-one-source")
	items, err := c.Quality.OneSource(r.Context(), pg.P)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	pg.Data = &qualityOneSourceData{Q: qv{pg.Lang}, Items: items, CanSettle: pg.P.Global(auth.PermCatalogReview)}
	c.render(w, r, http.StatusOK, "quality_one_source", pg)
}

func (c *Console) qualitySettle(w http.ResponseWriter, r *http.Request) {
	if err := c.Quality.Settle(r.Context(), auth.FromContext(r.Context()), r.FormValue("item"), formInt(r, "body_id"), strings.TrimSpace(r.FormValue("note"))); err != nil {
		c.fail(w, r, err)
		return
	}
	c.redirect(w, r, "/quality/one-source", pick(pgLang(r), "已认定权威来源", "Source settled"))
}

// qualityHome is the provider's block at the top of the home page: its
// overdue entries and open incidents.
type qualityHomeData struct {
	Q         qv
	Overdue   []quality.Freshness
	Incidents int
	BodyID    int64
}

func (c *Console) qualityHome(r *http.Request) *qualityHomeData {
	ctx := r.Context()
	p := auth.FromContext(ctx)
	bodies := p.BodiesWith(auth.PermQualityManage)
	if len(bodies) == 0 || c.Quality == nil {
		return nil
	}
	d := &qualityHomeData{Q: qv{pgLang(r)}, BodyID: bodies[0]}
	for _, b := range bodies {
		fs, err := c.Quality.Overdue(ctx, p, b)
		if err != nil {
			c.Log.Error("quality home", "err", err)
			return nil
		}
		d.Overdue = append(d.Overdue, fs...)
		_, n, err := c.Quality.Incidents(ctx, p, quality.IncidentFilter{BodyID: b, Status: "open", Limit: 1})
		if err != nil {
			c.Log.Error("quality home", "err", err)
			return nil
		}
		d.Incidents += n
	}
	if len(d.Overdue) == 0 && d.Incidents == 0 {
		return nil
	}
	return d
}
