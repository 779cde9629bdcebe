package web

import (
	"net/http"
	"slices"
	"strconv"
	"strings"

	"xiangyun/internal/auth"
	"xiangyun/internal/catalog"
	"xiangyun/internal/ingest"
)

// The column mapping editor (列映射) of an entry's uploads: the columns of
// the last upload's file (or of a file previewed by its header alone), each
// with the data item it maps onto; the user corrects and saves the mapping
// that later uploads use.

type mappingPageData struct {
	E       catalog.Entry
	Items   []catalog.Item
	Cols    []ingest.ColumnMap
	Missing []string
	Source  string // where the headers come from
}

func (c *Console) mappingPage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	p := auth.FromContext(ctx)
	id := pathID(r, "id")
	var header []string
	source := ""
	if bid, _ := strconv.ParseInt(r.URL.Query().Get("batch"), 10, 64); bid > 0 {
		b, err := c.Ingest.Batch(ctx, p, bid)
		if err != nil {
			c.fail(w, r, err)
			return
		}
		if b.EntryID == id {
			header, source = b.Header, b.FileName
		}
	}
	if header == nil {
		bs, _, err := c.Ingest.Batches(ctx, p, id, 20, 0)
		if err != nil {
			c.fail(w, r, err)
			return
		}
		for _, b := range bs {
			if len(b.Header) > 0 {
				header, source = b.Header, b.FileName
				break
			}
		}
	}
	c.renderMapping(w, r, http.StatusOK, id, header, source, "")
}

// renderMapping shows the editor for header plus the saved mapping's columns.
func (c *Console) renderMapping(w http.ResponseWriter, r *http.Request, status int, id int64, header []string, source, msg string) {
	ctx := r.Context()
	p := auth.FromContext(ctx)
	e, err := c.Catalog.Get(ctx, p, id)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	saved, err := c.Ingest.Mapping(ctx, id)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	var extra []string
	for h := range saved {
		if !slices.Contains(header, h) {
			extra = append(extra, h)
		}
	}
	slices.Sort(extra)
	cols, missing, err := c.Ingest.MapColumns(ctx, p, id, append(slices.Clone(header), extra...))
	if err != nil {
		c.fail(w, r, err)
		return
	}
	pg := c.page(r, e.Name+" · "+pick(httpxLang(r), "列映射", "Column mapping"), "catalog")
	pg.Error = msg
	if len(header) == 0 {
		missing = nil // nothing to judge without a file
	}
	pg.Data = &mappingPageData{E: e, Items: e.Items, Cols: cols, Missing: missing, Source: source}
	c.render(w, r, status, "data_mapping", pg)
}

// mappingPreview reads the header row of a chosen file, nothing more.
func (c *Console) mappingPreview(w http.ResponseWriter, r *http.Request) {
	id := pathID(r, "id")
	r.Body = http.MaxBytesReader(w, r.Body, ingest.MaxXLSXBytes+1<<20)
	mr, err := r.MultipartReader()
	if err != nil {
		c.renderMapping(w, r, http.StatusUnprocessableEntity, id, nil, "", pick(httpxLang(r), "请选择要预览的文件", "choose a file to preview"))
		return
	}
	for {
		part, err := mr.NextPart()
		if err != nil {
			break
		}
		if part.FormName() == "file" && part.FileName() != "" {
			up, err := ingest.Spool(c.SpoolDir, part.FileName(), part, ingest.MaxXLSXBytes)
			_ = part.Close()
			if err != nil {
				c.renderMapping(w, r, statusOf(err), id, nil, "", errMessage(err, httpxLang(r)))
				return
			}
			header, err := ingest.PreviewHeader(up.Path, up.Name)
			if err != nil {
				c.renderMapping(w, r, statusOf(err), id, nil, "", errMessage(err, httpxLang(r)))
				return
			}
			c.renderMapping(w, r, http.StatusOK, id, header, up.Name, "")
			return
		}
		_ = part.Close()
	}
	c.renderMapping(w, r, http.StatusUnprocessableEntity, id, nil, "", pick(httpxLang(r), "请选择要预览的文件", "choose a file to preview"))
}

// mappingSave saves the chosen item of every column (h[i] → item[i]);
// columns left without an item are not saved.
func (c *Console) mappingSave(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id := pathID(r, "id")
	if err := r.ParseForm(); err != nil {
		c.renderMapping(w, r, http.StatusBadRequest, id, nil, "", pick(httpxLang(r), "表单无法读取", "the form cannot be read"))
		return
	}
	hs, items := r.PostForm["h"], r.PostForm["item"]
	if len(hs) != len(items) {
		c.renderMapping(w, r, http.StatusBadRequest, id, nil, "", pick(httpxLang(r), "表单不完整", "the form is incomplete"))
		return
	}
	m := map[string]string{}
	by := map[string]string{}
	for i, h := range hs {
		h, it := strings.TrimSpace(h), strings.TrimSpace(items[i])
		if h == "" || it == "" {
			continue
		}
		if prev, ok := by[it]; ok {
			c.renderMapping(w, r, http.StatusUnprocessableEntity, id, hs, "",
				pick(httpxLang(r), "列“"+prev+"”和“"+h+"”都对应信息项“"+it+"”，一个信息项只能对应一列", `columns "`+prev+`" and "`+h+`" both map to item "`+it+`"; an item takes one column`))
			return
		}
		by[it] = h
		m[h] = it
	}
	if err := c.Ingest.SaveMapping(ctx, auth.FromContext(ctx), id, m); err != nil {
		c.renderMapping(w, r, statusOf(err), id, hs, "", errMessage(err, httpxLang(r)))
		return
	}
	c.redirect(w, r, "/catalog/"+strconv.FormatInt(id, 10)+"/data/mapping", pick(httpxLang(r), "列映射已保存，之后的上传按此对应", "The column mapping is saved; later uploads use it"))
}
