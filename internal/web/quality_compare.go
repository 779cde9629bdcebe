package web

import (
	"net/http"
	"strconv"

	"xiangyun/internal/auth"
	"xiangyun/internal/quality"
)

// The multi-source check (多源校核): pairs of published entries of
// different bodies that share a key of the same meaning and items of the
// same name, and for a chosen pair the records whose values disagree.

type comparePageData struct {
	Pairs  []quality.Pair
	Pair   *quality.Pair
	Result *quality.Comparison
	Err    string
}

func (c *Console) qualityCompare(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	p := auth.FromContext(ctx)
	pg := c.page(r, pick(httpxLang(r), "多源校核", "Multi-source check"), "quality-compare")
	pairs, err := c.Quality.Pairs(ctx, p)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	d := &comparePageData{Pairs: pairs}
	a, _ := strconv.ParseInt(r.URL.Query().Get("a"), 10, 64)
	b, _ := strconv.ParseInt(r.URL.Query().Get("b"), 10, 64)
	for i := range pairs {
		if pairs[i].AID == a && pairs[i].BID == b {
			d.Pair = &pairs[i]
		}
	}
	if d.Pair != nil {
		res, err := c.Ingest.Compare(ctx, p, *d.Pair, 200)
		if err != nil {
			if e, ok := asErr(err); ok {
				d.Err = e.Message(pg.Lang)
			} else {
				c.fail(w, r, err)
				return
			}
		} else {
			d.Result = &res
		}
	}
	pg.Data = d
	c.render(w, r, http.StatusOK, "quality_compare", pg)
}
