package web

import (
	"context"
	"net/http"
	"strconv"
	"strings"

	"xiangyun/internal/auth"
	"xiangyun/internal/catalog"
	"xiangyun/internal/errs"
	"xiangyun/internal/httpx"
)

type entryData struct {
	V        vocab
	E        catalog.Entry
	Content  catalog.Content  // what the page shows: the current content or the version asked for
	Viewing  *catalog.Version // a version asked for with ?v=
	Working  *catalog.Version // the version in progress: a draft, submitted or returned version
	Versions []catalog.Version
	Events   []catalog.Event
	// What the viewer may do besides e.CanEdit, e.CanSubmit and e.CanReview.
	CanWithdraw, CanDeprecate bool
}

func (c *Console) catalogEntry(w http.ResponseWriter, r *http.Request) {
	c.renderEntry(w, r, http.StatusOK, pathID(r, "id"), &Form{Values: r.URL.Query(), Errors: map[string]string{}}, "")
}

// renderEntry shows an entry page, with msg and the form's field errors
// after a refused action.
func (c *Console) renderEntry(w http.ResponseWriter, r *http.Request, status int, id int64, f *Form, msg string) {
	ctx := r.Context()
	p := auth.FromContext(ctx)
	e, err := c.Catalog.Get(ctx, p, id)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	vs, err := c.Catalog.Versions(ctx, p, id)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	evs, err := c.Catalog.History(ctx, p, id)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	pg := c.page(r, e.Name, catalogNav(r))
	pg.Form, pg.Error = f, msg
	d := &entryData{V: c.vocab(pg.Lang), E: e, Content: e.Content, Versions: vs, Events: evs}
	// Newest first reads better in the history tables.
	for i, j := 0, len(d.Versions)-1; i < j; i, j = i+1, j-1 {
		d.Versions[i], d.Versions[j] = d.Versions[j], d.Versions[i]
	}
	for i, j := 0, len(d.Events)-1; i < j; i, j = i+1, j-1 {
		d.Events[i], d.Events[j] = d.Events[j], d.Events[i]
	}
	switch {
	case e.Revision != nil:
		d.Working = e.Revision
	case e.Status == catalog.StatusDraft || e.Status == catalog.StatusSubmitted || e.Status == catalog.StatusReturned:
		for i := range vs {
			if vs[i].Number == e.Version {
				d.Working = &vs[i]
			}
		}
	}
	if n, err := strconv.Atoi(r.URL.Query().Get("v")); err == nil && n > 0 {
		for i := range vs {
			if vs[i].Number == n {
				d.Viewing = &vs[i]
				d.Content = vs[i].Content
			}
		}
	}
	submitter := p.HasAt(auth.PermCatalogSubmit, e.ProviderID)
	d.CanWithdraw = submitter && e.Status == catalog.StatusPublished
	d.CanDeprecate = submitter && e.Status != catalog.StatusDeprecated
	pg.Data = d
	c.render(w, r, status, "catalog_entry", pg)
}

// catalogNav keeps the review queue highlighted when a reviewer came from it.
func catalogNav(r *http.Request) string {
	// A refused review comes back from the form, which carries next=review.
	if r.URL.Query().Get("via") == "review" || (r.Method == http.MethodPost && r.PostFormValue("next") == "review") {
		return "catalog-review"
	}
	return "catalog"
}

// entryAction runs one workflow step from the entry page: on success it
// goes back to the entry with done, otherwise it shows the entry with the
// error next to the comment or reason field.
//
// The page's form carries the revision it showed (rev): a step taken on a
// page someone else's change has since made stale is refused, so a reviewer
// never publishes content they did not see.
func (c *Console) entryAction(w http.ResponseWriter, r *http.Request, field, doneZH, doneEN string, step func(ctx context.Context, p *auth.Principal, id int64, text string, cond ...catalog.Cond) (catalog.Entry, error)) {
	id := pathID(r, "id")
	f := newForm(r)
	var cond []catalog.Cond
	if rev, err := strconv.ParseInt(f.V("rev"), 10, 64); err == nil {
		cond = append(cond, catalog.IfRev(rev))
	}
	text := strings.TrimSpace(f.V(field))
	kv := []string{}
	if text != "" {
		kv = append(kv, field, text)
	}
	httpx.Note(r.Context(), entryObject(id), kv...)
	e, err := step(r.Context(), auth.FromContext(r.Context()), id, text, cond...)
	if err != nil {
		if _, ok := errs.As(err); !ok || errs.KindOf(err) == errs.KindNotFound {
			c.fail(w, r, err)
			return
		}
		msg := f.fail(err, pgLang(r))
		f.Values.Set("open", strings.TrimPrefix(r.URL.Path, entryPath(id)+"/"))
		c.renderEntry(w, r, statusOf(err), id, f, msg)
		return
	}
	httpx.Note(r.Context(), "", "code", e.Code, "status", e.Status)
	to := entryPath(id)
	if r.FormValue("next") == "review" {
		to = "/catalog/review"
	}
	c.redirect(w, r, to, pick(pgLang(r), doneZH, doneEN))
}

func (c *Console) catalogSubmit(w http.ResponseWriter, r *http.Request) {
	c.entryAction(w, r, "comment", "已提交审核", "Submitted for review", c.Catalog.Submit)
}

func (c *Console) catalogPublish(w http.ResponseWriter, r *http.Request) {
	c.entryAction(w, r, "comment", "已审核通过并发布", "Approved and published", c.Catalog.Publish)
}

func (c *Console) catalogReturn(w http.ResponseWriter, r *http.Request) {
	c.entryAction(w, r, "comment", "已退回提供方修改", "Returned to the provider", c.Catalog.Return)
}

func (c *Console) catalogWithdraw(w http.ResponseWriter, r *http.Request) {
	c.entryAction(w, r, "reason", "已撤销该目录", "The entry is withdrawn", c.Catalog.Withdraw)
}

func (c *Console) catalogDeprecate(w http.ResponseWriter, r *http.Request) {
	c.entryAction(w, r, "reason", "已废止该目录", "The entry is deprecated", c.Catalog.Deprecate)
}

// statusOf is the HTTP status of a refused request.
func statusOf(err error) int {
	switch errs.KindOf(err) {
	case errs.KindNotFound:
		return http.StatusNotFound
	case errs.KindForbidden:
		return http.StatusForbidden
	case errs.KindConflict:
		return http.StatusConflict
	}
	return http.StatusUnprocessableEntity
}

// diffRow is one line of the diff table.
type diffRow struct {
	Label, Old, New string
	// OldSegs and NewSegs mark the words that changed when a field was
	// edited (both sides present); empty for an added or removed value.
	OldSegs, NewSegs []seg
}

type diffData struct {
	V        vocab
	E        catalog.Entry
	Diff     catalog.Diff
	Rows     []diffRow
	Versions []catalog.Version
}

func (c *Console) catalogDiff(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	p := auth.FromContext(ctx)
	id := pathID(r, "id")
	e, err := c.Catalog.Get(ctx, p, id)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	from, _ := strconv.Atoi(r.URL.Query().Get("from"))
	to, _ := strconv.Atoi(r.URL.Query().Get("to"))
	df, err := c.Catalog.Diff(ctx, p, id, from, to)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	vs, err := c.Catalog.Versions(ctx, p, id)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	pg := c.page(r, e.Name, catalogNav(r))
	v := c.vocab(pg.Lang)
	d := &diffData{V: v, E: e, Diff: df, Versions: vs}
	for _, ch := range df.Changes {
		label := ch.Label
		if pg.Lang == "en" && ch.LabelEN != "" {
			label = ch.LabelEN
		}
		row := diffRow{Label: label, Old: v.diffValue(ch.Field, ch.Old), New: v.diffValue(ch.Field, ch.New)}
		// An added or removed data item comes whole beside a one-line
		// Chinese summary; describe it in the page's language.
		if ch.Item != nil && ch.Old != "" {
			row.Old = v.describeItem(ch.Item)
		}
		if ch.Item != nil && ch.New != "" {
			row.New = v.describeItem(ch.Item)
		}
		if row.Old != "" && row.New != "" {
			row.OldSegs, row.NewSegs = wordDiff(row.Old, row.New)
		}
		d.Rows = append(d.Rows, row)
	}
	pg.Data = d
	c.render(w, r, http.StatusOK, "catalog_diff", pg)
}

// diffValue labels a coded value of a changed field.
func (v vocab) diffValue(field, s string) string {
	if s == "" {
		return ""
	}
	key := field
	if i := strings.LastIndex(field, "]."); i >= 0 {
		key = field[i+2:]
	}
	switch key {
	case "share_type":
		return v.Share(s)
	case "open_type":
		return v.Open(s)
	case "share_method":
		return v.Method(s)
	case "share_channel":
		return v.Channel(s)
	case "cycle":
		return v.Cycle(s)
	case "grade":
		return v.Grade(s)
	case "format_class":
		return v.Format(s)
	case "format_type":
		for _, f := range catalog.Formats {
			if t, ok := catalog.Lookup(f.Types, s); ok {
				return t.Label(v.lang)
			}
		}
	case "data_type":
		return v.DataType(s)
	case "mask":
		return v.Mask(s)
	case "class":
		return s + "（" + v.Class(s) + "）"
	case "required", "key", "sensitive":
		b, err := strconv.ParseBool(s)
		if err == nil {
			return v.Bool(b)
		}
	}
	return s
}

// describeItem renders a data item on one line: "C 字符型(18) · 主键 · 敏感 · 脱敏：身份证号".
func (v vocab) describeItem(it *catalog.Item) string {
	t := v.DataType(it.DataType)
	if it.Length > 0 {
		t += "(" + strconv.Itoa(it.Length) + ")"
	}
	parts := []string{t}
	if it.Key {
		parts = append(parts, v.T("主键", "key"))
	} else if it.Required {
		parts = append(parts, v.T("必填", "required"))
	}
	if it.Sensitive {
		parts = append(parts, v.T("敏感", "sensitive"))
	}
	if it.Mask != "" && it.Mask != "none" {
		parts = append(parts, v.T("脱敏：", "masking: ")+v.Mask(it.Mask))
	}
	if it.CodeList != "" {
		parts = append(parts, v.T("代码表：", "code list: ")+it.CodeList)
	}
	if it.EnName != "" {
		parts = append(parts, v.T("英文名称 ", "English name ")+it.EnName)
	}
	return strings.Join(parts, " · ")
}

// fieldNames names the fields of an entry in both languages.
var fieldNames = map[string][2]string{
	"name": {"名称", "name"}, "class": {"分类", "classification"}, "abstract": {"摘要", "abstract"},
	"format_class": {"格式分类", "format class"}, "format_type": {"格式类型", "format type"}, "items": {"信息项", "data items"},
	"share_type": {"共享类型", "share type"}, "share_condition": {"共享条件", "share conditions"},
	"share_method": {"共享方式", "share method"}, "share_channel": {"共享渠道", "share channel"},
	"open_type": {"开放属性", "open type"}, "open_condition": {"开放条件", "open conditions"},
	"cycle": {"更新周期", "update cycle"}, "grade": {"数据分级", "grade"}, "related": {"关联资源", "related entries"},
}

// Fields names the comma-separated field keys of an edit event.
func (v vocab) Fields(keys string) string {
	var out []string
	for _, k := range strings.Split(keys, ",") {
		if n, ok := fieldNames[k]; ok {
			k = pick(v.lang, n[0], n[1])
		}
		out = append(out, k)
	}
	return strings.Join(out, pick(v.lang, "、", ", "))
}
