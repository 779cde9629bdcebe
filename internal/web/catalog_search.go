package web

import (
	"net/http"
	"net/url"
	"slices"
	"strings"

	"xiangyun/internal/audit"
	"xiangyun/internal/auth"
	"xiangyun/internal/catalog"
	"xiangyun/internal/catalogio"
	"xiangyun/internal/httpx"
)

// searchFacets are the facets of the browse page, in display order, with
// their headings.
var searchFacets = []struct{ key, zh, en string }{
	{"status", "状态", "Status"},
	{"provider", "提供方", "Provider"},
	{"region", "行政区划", "Region"},
	{"class", "资源分类", "Classification"},
	{"share_type", "共享类型", "Share type"},
	{"open_type", "开放属性", "Open type"},
	{"format", "资源格式", "Format"},
	{"cycle", "更新周期", "Update cycle"},
	{"grade", "数据分级", "Grade"},
	{"scope", "目录范围", "Catalog"},
}

// facetView is one facet column block.
type facetView struct {
	Key, Title string
	Values     []facetLink
}

type facetLink struct {
	Label string
	Count int
	On    bool
	Sub   bool // a second-level value (a classification's 项)
	Href  string
}

// facetShown is how many values of a facet show before "more".
const facetShown = 8

// facetSize is how many values of each facet are asked for.
const facetSize = 50

// Shown and More split a facet's values at facetShown, keeping the values
// that are on in view.
func (f facetView) Shown() []facetLink {
	if len(f.Values) <= facetShown+2 || f.Key == "class" {
		return f.Values
	}
	return f.Values[:facetShown]
}

func (f facetView) More() []facetLink {
	if len(f.Values) <= facetShown+2 || f.Key == "class" {
		return nil
	}
	return f.Values[facetShown:]
}

// MoreOn reports whether a value under "more" is on.
func (f facetView) MoreOn() bool {
	for _, v := range f.More() {
		if v.On {
			return true
		}
	}
	return false
}

type sortCol struct {
	Label, Href, Class, Aria string
}

type searchData struct {
	V                     vocab
	Result                catalog.SearchResult
	Facets                []facetView
	Pager                 Pager
	Q                     string
	Sort                  string
	Cols                  map[string]sortCol
	Hidden                [][2]string // active filters, kept by the search form
	ExportXLSX, ExportCSV string      // the current view as a download
	Filters               bool        // any filter is on
	Clear                 string
}

// searchQuery reads the catalog query of a request: q, sort and one
// parameter per facet (repeatable).
func searchQuery(v url.Values) catalog.SearchQuery {
	q := catalog.SearchQuery{Q: strings.TrimSpace(v.Get("q")), Filters: map[string][]string{}}
	for _, f := range catalog.Facets {
		for _, val := range v[f] {
			if val = strings.TrimSpace(val); val != "" {
				q.Filters[f] = append(q.Filters[f], val)
			}
		}
	}
	if s := v.Get("sort"); slices.Contains(catalog.Sorts, s) {
		q.Sort = s
	}
	catalog.ParseFilters(q.Filters) // 授权共享 reads as conditional, 非共享 as none
	return q
}

// withParam returns the query string of v with key set to vals (none
// removes it) and the page reset.
func withParam(v url.Values, key string, vals ...string) string {
	q := url.Values{}
	for k, x := range v {
		if k != "page" && k != key {
			q[k] = x
		}
	}
	if len(vals) > 0 {
		q[key] = vals
	}
	return q.Encode()
}

func hrefOf(path, query string) string {
	if query == "" {
		return path
	}
	return path + "?" + query
}

func (c *Console) catalogSearch(w http.ResponseWriter, r *http.Request) {
	pg := c.page(r, pick(pgLang(r), "资源目录", "Catalog"), "catalog")
	qv := r.URL.Query()
	sq := searchQuery(qv)
	pager := pagerOf(r, 20)
	sq.Offset, sq.Limit, sq.FacetSize = pager.Offset(), pager.PageSize, facetSize
	res, err := c.Catalog.Search(r.Context(), pg.P, sq)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	pager.Total = res.Total
	d := &searchData{V: c.vocab(pg.Lang), Result: res, Pager: pager, Q: sq.Q, Sort: sq.Sort, Cols: map[string]sortCol{}}
	for _, f := range searchFacets {
		fv := facetView{Key: f.key, Title: pg.T(f.zh, f.en)}
		vals := res.Facets[f.key]
		switch f.key {
		case "class":
			// As a tree: each 类 followed by its 项.
			vals = slices.Clone(vals)
			slices.SortStableFunc(vals, func(a, b catalog.FacetValue) int { return strings.Compare(a.Value, b.Value) })
		case "grade":
			// Grades read in their order, L1 to L4, not by count.
			vals = slices.Clone(vals)
			slices.SortStableFunc(vals, func(a, b catalog.FacetValue) int { return d.V.gradeRank(a.Value) - d.V.gradeRank(b.Value) })
		}
		for _, val := range vals {
			on := slices.Contains(sq.Filters[f.key], val.Value)
			if f.key == "class" && len(val.Value) > 1 && !on && !slices.ContainsFunc(sq.Filters["class"], func(s string) bool { return s[:1] == val.Value[:1] }) {
				continue // a 项 shows once its 类 is chosen
			}
			label := val.Label
			if pg.Lang == "en" && val.LabelEN != "" {
				label = val.LabelEN
			}
			link := facetLink{Label: label, Count: val.Count, On: on, Sub: f.key == "class" && len(val.Value) > 1}
			// The counts of a facet leave out its own filter, so values
			// add up: a link adds its value to the facet's, or takes it off.
			if on {
				link.Href = hrefOf("/catalog", withParam(qv, f.key, slices.DeleteFunc(slices.Clone(sq.Filters[f.key]), func(s string) bool { return s == val.Value })...))
			} else if f.key == "class" {
				link.Href = hrefOf("/catalog", withParam(qv, f.key, val.Value)) // the classification drills down
			} else {
				link.Href = hrefOf("/catalog", withParam(qv, f.key, append(slices.Clone(sq.Filters[f.key]), val.Value)...))
			}
			fv.Values = append(fv.Values, link)
		}
		if len(fv.Values) > 0 {
			d.Facets = append(d.Facets, fv)
		}
		for _, val := range sq.Filters[f.key] {
			d.Hidden = append(d.Hidden, [2]string{f.key, val})
			d.Filters = true
		}
	}
	clear := url.Values{}
	if sq.Q != "" {
		clear.Set("q", sq.Q)
	}
	d.Clear = hrefOf("/catalog", clear.Encode())
	for _, col := range []struct{ key, zh, en string }{{"code", "信息资源代码", "Code"}, {"name", "信息资源名称", "Name"}, {"published", "发布日期", "Published"}} {
		sc := sortCol{Label: pg.T(col.zh, col.en)}
		next := col.key
		switch sq.Sort {
		case col.key:
			sc.Class, sc.Aria, next = "sort asc", "ascending", "-"+col.key
		case "-" + col.key:
			sc.Class, sc.Aria = "sort desc", "descending"
		default:
			sc.Class = "sort"
		}
		sc.Href = hrefOf("/catalog", withParam(qv, "sort", next))
		d.Cols[col.key] = sc
	}
	// "format" is a facet (the resource format), so the file type is "as".
	d.ExportXLSX = hrefOf("/catalog/export", withParam(qv, "as", "xlsx"))
	d.ExportCSV = hrefOf("/catalog/export", withParam(qv, "as", "csv"))
	pg.Data = d
	if htmxTarget(r, "catalog-results") {
		c.partial(w, http.StatusOK, "catalog_search", "catalog-results-htmx", pg)
		return
	}
	c.render(w, r, http.StatusOK, "catalog_search", pg)
}

// catalogExport downloads the filtered view as XLSX or CSV (as=xlsx|csv).
func (c *Console) catalogExport(w http.ResponseWriter, r *http.Request) {
	qv := r.URL.Query()
	format := qv.Get("as")
	if format != "xlsx" {
		format = "csv"
	}
	sq := searchQuery(qv)
	p := auth.FromContext(r.Context())
	detail := map[string]string{"as": format, "q": sq.Q}
	for k, v := range sq.Filters {
		detail[k] = strings.Join(v, ",")
	}
	c.Authn.Append(r.Context(), audit.Entry{Action: "catalog.export", Detail: detail})
	out := &lazyDownload{w: w, ctype: catalogio.ContentType(format), name: exportName(format)}
	if err := catalogio.Export(r.Context(), c.Catalog, p, sq, format, out); err != nil {
		if !out.wrote {
			c.fail(w, r, err)
			return
		}
		c.Log.Error("catalog export", "request_id", httpx.RequestID(r.Context()), "err", err)
	}
}
