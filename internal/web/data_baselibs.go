package web

import (
	"net/http"
	"slices"

	"xiangyun/internal/auth"
	"xiangyun/internal/catalog"
)

// The base libraries (基础库, 吉政发〔2019〕4号 §21): population, legal
// entities, spatial geography, social credit, e-licences and the macro
// economy are the six 项 of the catalog's base class (类 1). This page
// groups the published entries by library, the ones that hold records
// first with their record counts.

type baseLibView struct {
	Code, Name string
	Class      string // the catalog filter, 1/0x
	Total      int    // entries of the library the viewer sees
	Entries    []baseLibEntry
}

type baseLibEntry struct {
	E       catalog.Entry
	Records int64
	Holds   bool // the entry has a records table
}

// baseLibShown is how many entries without records a library lists.
const baseLibShown = 5

func (c *Console) baseLibraries(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	p := auth.FromContext(ctx)
	pg := c.page(r, pick(httpxLang(r), "基础库", "Base libraries"), "catalog-base")
	var libs []baseLibView
	for _, t := range catalog.BaseCatalogs {
		class := "1/" + t.Code
		res, err := c.Catalog.Search(ctx, p, catalog.SearchQuery{Filters: map[string][]string{"class": {class}, "status": {catalog.StatusPublished}},
			Limit: 1000, Facets: []string{}})
		if err != nil {
			c.fail(w, r, err)
			return
		}
		v := baseLibView{Code: t.Code, Name: pick(pg.Lang, t.ZH, t.EN), Class: class, Total: res.Total}
		var ids []int64
		for _, e := range res.Items {
			ids = append(ids, e.ID)
		}
		counts := map[int64]int64{}
		if c.Ingest != nil {
			if counts, err = c.Ingest.RecordCounts(ctx, ids); err != nil {
				c.fail(w, r, err)
				return
			}
		}
		others := 0
		for _, e := range res.Items {
			n, holds := counts[e.ID]
			if !holds || n == 0 {
				if others >= baseLibShown {
					continue
				}
				others++
			}
			v.Entries = append(v.Entries, baseLibEntry{E: e, Records: n, Holds: holds})
		}
		slices.SortStableFunc(v.Entries, func(a, b baseLibEntry) int {
			switch {
			case a.Records > b.Records:
				return -1
			case a.Records < b.Records:
				return 1
			}
			return 0
		})
		libs = append(libs, v)
	}
	pg.Data = libs
	c.render(w, r, http.StatusOK, "data_baselibs", pg)
}
