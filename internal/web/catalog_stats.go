package web

import (
	"net/http"
	"slices"

	"xiangyun/internal/auth"
	"xiangyun/internal/catalog"
)

// badgeColors are the chart colours of the badge classes (app.css).
var badgeColors = map[string]string{
	"badge-green": "#17753a", "badge-blue": "#1650a5", "badge-amber": "#d08a12", "badge-red": "#b3261e", "badge-grey": "#8c96a8",
}

// topProviders is how many providers the statistics chart ranks.
const topProviders = 15

type statsData struct {
	S          catalog.Stats
	Charts     map[string]any // ECharts options by chart
	Completion int            // share of the responsibility list provided, in per cent
	Index      *catalog.IndexStatus
	IndexPct   int // rebuild progress in per cent
}

func indexData(is catalog.IndexStatus, d *statsData) {
	d.Index = &is
	if is.Total > 0 {
		d.IndexPct = is.Done * 100 / is.Total
	}
}

func (c *Console) catalogStats(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	pg := c.page(r, pick(pgLang(r), "目录统计", "Catalog statistics"), "catalog-stats")
	st, err := c.Catalog.Stats(ctx)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	// The ranking of providers comes from the search facets, which count
	// any number of them.
	top, err := c.Catalog.Search(ctx, pg.P, catalog.SearchQuery{Filters: map[string][]string{"status": {catalog.StatusPublished}},
		Limit: 1, Facets: []string{"provider"}, FacetSize: topProviders})
	if err != nil {
		c.fail(w, r, err)
		return
	}
	lang := pg.Lang
	v := c.vocab(lang)
	label := func(zh, en string) string {
		if lang == "en" && en != "" {
			return en
		}
		return zh
	}
	pie := func(cs []catalog.Count) map[string]any {
		data := []map[string]any{}
		for _, x := range cs {
			data = append(data, map[string]any{"name": label(x.Label, x.LabelEN), "value": x.Count})
		}
		return map[string]any{
			"tooltip": map[string]any{"trigger": "item", "formatter": "{b}: {c} ({d}%)"},
			"legend":  map[string]any{"bottom": 0, "type": "scroll"},
			"series": []any{map[string]any{"type": "pie", "radius": []string{"42%", "68%"}, "center": []string{"50%", "45%"},
				"data": data, "label": map[string]any{"formatter": "{b}\n{c}"}}},
		}
	}
	bar := func(cs []catalog.Count, name string, color func(key string) string) map[string]any {
		var names []string
		var vals []any
		for _, x := range cs {
			names = append(names, label(x.Label, x.LabelEN))
			vals = append(vals, map[string]any{"value": x.Count, "itemStyle": map[string]any{"color": color(x.Key)}})
		}
		return map[string]any{
			"xAxis":  map[string]any{"type": "category", "data": names, "axisLabel": map[string]any{"interval": 0}},
			"yAxis":  map[string]any{"type": "value", "minInterval": 1},
			"series": []any{map[string]any{"type": "bar", "name": name, "data": vals, "barMaxWidth": 48, "label": map[string]any{"show": true, "position": "top"}}},
		}
	}
	// Grades read in their order, L1 to L4.
	byGrade := slices.Clone(st.ByGrade)
	slices.SortStableFunc(byGrade, func(a, b catalog.Count) int { return v.gradeRank(a.Key) - v.gradeRank(b.Key) })
	var pNames []string
	var pVals []int
	for _, f := range top.Facets["provider"] {
		pNames = append(pNames, f.Label)
		pVals = append(pVals, f.Count)
	}
	var months []string
	var added, total []int
	for _, m := range st.ByMonth {
		months = append(months, m.Month)
		added = append(added, m.Count)
		total = append(total, m.Total)
	}
	published := pick(lang, "已发布目录", "published entries")
	d := &statsData{S: st, Charts: map[string]any{
		"providers": map[string]any{
			"grid":   map[string]any{"left": 12, "right": 40, "top": 8, "bottom": 8, "containLabel": true},
			"xAxis":  map[string]any{"type": "value", "minInterval": 1},
			"yAxis":  map[string]any{"type": "category", "inverse": true, "data": pNames, "axisLabel": map[string]any{"width": 180, "overflow": "truncate"}},
			"series": []any{map[string]any{"type": "bar", "name": published, "data": pVals, "label": map[string]any{"show": true, "position": "right"}}},
		},
		"share":  pie(st.ByShareType),
		"open":   pie(st.ByOpenType),
		"grade":  bar(byGrade, published, func(k string) string { return badgeColors[v.GradeBadge(k)] }),
		"status": bar(st.ByStatus, pick(lang, "目录", "entries"), func(k string) string { return badgeColors[v.StatusBadge(k)] }),
		"format": pie(st.ByFormat),
		"growth": map[string]any{
			"legend": map[string]any{"top": 0},
			"xAxis":  map[string]any{"type": "category", "data": months},
			"yAxis": []any{map[string]any{"type": "value", "name": pick(lang, "新发布", "new"), "minInterval": 1},
				map[string]any{"type": "value", "name": pick(lang, "累计", "total"), "minInterval": 1}},
			"series": []any{
				map[string]any{"type": "bar", "name": pick(lang, "当月新发布", "first published"), "data": added, "barMaxWidth": 32},
				map[string]any{"type": "line", "name": pick(lang, "累计发布", "running total"), "yAxisIndex": 1, "data": total, "smooth": true},
			},
		},
	}}
	resp := st.Responsible.ByStatus[catalog.RespPending] + st.Responsible.ByStatus[catalog.RespDone]
	if resp > 0 {
		d.Completion = st.Responsible.ByStatus[catalog.RespDone] * 100 / resp
	}
	if pg.P.Has(auth.PermCatalogLists) {
		indexData(c.Catalog.IndexStatus(), d)
	}
	pg.Data = d
	c.render(w, r, http.StatusOK, "catalog_stats", pg)
}

// catalogIndexStatus is polled while the index is rebuilt.
func (c *Console) catalogIndexStatus(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("HX-Request") != "true" {
		http.Redirect(w, r, "/catalog/stats#index", http.StatusSeeOther)
		return
	}
	pg := c.page(r, "", "catalog-stats")
	d := &statsData{}
	indexData(c.Catalog.IndexStatus(), d)
	pg.Data = d
	c.partial(w, http.StatusOK, "catalog_stats", "catalog-index", pg)
}

func (c *Console) catalogIndexRebuild(w http.ResponseWriter, r *http.Request) {
	if _, err := c.Catalog.StartRebuild(); err != nil {
		c.fail(w, r, err)
		return
	}
	c.redirect(w, r, "/catalog/stats#index", pick(pgLang(r), "已开始重建检索索引", "The search index is being rebuilt"))
}
