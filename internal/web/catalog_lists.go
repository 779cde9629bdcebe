package web

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"xiangyun/internal/audit"
	"xiangyun/internal/auth"
	"xiangyun/internal/catalog"
	"xiangyun/internal/errs"
	"xiangyun/internal/httpx"
	"xiangyun/internal/org"
	"xiangyun/internal/tabular"
)

// The three lists' tabs.
const (
	tabResponsibility = "responsibility"
	tabDemand         = "demand"
	tabNegative       = "negative"
)

// listStatuses names the statuses of the responsibility and demand lists,
// with their badge.
var listStatuses = map[string]struct{ zh, en, badge string }{
	catalog.RespPending:   {"待提供", "pending", "badge-amber"},
	catalog.RespDone:      {"已提供", "provided", "badge-green"},
	catalog.RespCancelled: {"已取消", "cancelled", "badge-grey"},
	catalog.DemandOpen:    {"待满足", "open", "badge-amber"},
	catalog.DemandMatched: {"已匹配", "matched", "badge-green"},
	catalog.DemandClosed:  {"已关闭", "closed", "badge-grey"},
}

// ListStatus names a list status.
func (v vocab) ListStatus(s string) string {
	if n, ok := listStatuses[s]; ok {
		return pick(v.lang, n.zh, n.en)
	}
	return s
}

// ListBadge is the badge class of a list status.
func (v vocab) ListBadge(s string) string {
	if n, ok := listStatuses[s]; ok {
		return n.badge
	}
	return "badge-grey"
}

type listsData struct {
	V        vocab
	p        *auth.Principal
	Tab      string
	Tabs     []facetLink
	Resp     []catalog.Responsibility
	Demands  []catalog.Demand
	Negative []catalog.Negative
	Pager    Pager
	// Responsibility counts by status, and the share provided.
	Pending, Done, Cancelled, Completion int
	Bodies                               []org.Body // for the add forms
	DemandBodies                         []org.Body
	FilterBodies                         []org.Body // for the filter
	Statuses                             []string
	ExportXLSX, ExportCSV, Mine          string
	Forms                                map[string]*Form // the add forms by list, with errors after a refusal
}

// CanLink reports whether the viewer may link a responsibility item of body
// to an entry: list managers and the body's chief data officer.
func (d *listsData) CanLink(body int64) bool {
	return d.p.Global(auth.PermCatalogLists) || d.p.HasAt(auth.PermCatalogSubmit, body)
}

// CanCloseDemand reports whether the viewer may close or reopen a demand of
// body (and unlink its entries): the body's own staff and list managers.
func (d *listsData) CanCloseDemand(body int64) bool {
	return d.p.Global(auth.PermCatalogLists) || d.p.HasAt(auth.PermCatalogDemand, body)
}

// F returns the add form of a list.
func (d *listsData) F(list string) *Form {
	if f, ok := d.Forms[list]; ok {
		return f
	}
	return &Form{Values: url.Values{}, Errors: map[string]string{}}
}

func listTab(r *http.Request) string {
	switch t := r.FormValue("tab"); t {
	case tabDemand, tabNegative:
		return t
	}
	return tabResponsibility
}

func listFilter(r *http.Request) catalog.ListFilter {
	q := r.URL.Query()
	body, _ := strconv.ParseInt(q.Get("body_id"), 10, 64)
	return catalog.ListFilter{BodyID: body, Status: q.Get("status"), Q: strings.TrimSpace(q.Get("q"))}
}

func (c *Console) catalogLists(w http.ResponseWriter, r *http.Request) {
	c.renderLists(w, r, http.StatusOK, listTab(r), nil, "")
}

// renderLists shows one tab of the lists page; forms carries an add form
// that was refused.
func (c *Console) renderLists(w http.ResponseWriter, r *http.Request, status int, tab string, forms map[string]*Form, msg string) {
	ctx := r.Context()
	pg := c.page(r, pick(pgLang(r), "三张清单", "Lists"), "catalog-lists")
	pg.Error = msg
	d := &listsData{V: c.vocab(pg.Lang), p: pg.P, Tab: tab, Forms: forms}
	qv := r.URL.Query()
	for _, t := range []struct{ key, zh, en string }{
		{tabResponsibility, "责任清单", "Responsibility list"}, {tabDemand, "需求清单", "Demand list"}, {tabNegative, "负面清单", "Negative list"},
	} {
		d.Tabs = append(d.Tabs, facetLink{Label: pg.T(t.zh, t.en), On: t.key == tab, Href: "/catalog/lists?tab=" + t.key})
	}
	f := listFilter(r)
	pager := pagerOf(r, 30)
	f.Offset, f.Limit = pager.Offset(), pager.PageSize
	var err error
	switch tab {
	case tabResponsibility:
		d.Statuses = []string{catalog.RespPending, catalog.RespDone, catalog.RespCancelled}
		if d.Resp, pager.Total, err = c.Catalog.Responsibilities(ctx, f); err != nil {
			break
		}
		for _, s := range d.Statuses {
			_, n, err := c.Catalog.Responsibilities(ctx, catalog.ListFilter{BodyID: f.BodyID, Status: s, Limit: 1})
			if err != nil {
				c.fail(w, r, err)
				return
			}
			switch s {
			case catalog.RespPending:
				d.Pending = n
			case catalog.RespDone:
				d.Done = n
			default:
				d.Cancelled = n
			}
		}
		if n := d.Pending + d.Done; n > 0 {
			d.Completion = d.Done * 100 / n
		}
	case tabDemand:
		d.Statuses = []string{catalog.DemandOpen, catalog.DemandMatched, catalog.DemandClosed}
		d.Demands, pager.Total, err = c.Catalog.Demands(ctx, f)
	case tabNegative:
		d.Negative, pager.Total, err = c.Catalog.NegativeList(ctx, f)
	}
	if err != nil {
		c.fail(w, r, err)
		return
	}
	d.Pager = pager
	all, _, err := c.Orgs.Bodies(ctx, org.BodyFilter{})
	if err != nil {
		c.fail(w, r, err)
		return
	}
	d.FilterBodies = all
	if pg.P.Global(auth.PermCatalogLists) || pg.P.Global(auth.PermCatalogDemand) {
		d.Bodies = all
	}
	if pg.P.Global(auth.PermCatalogDemand) {
		d.DemandBodies = d.Bodies
	} else {
		for _, id := range pg.P.BodiesWith(auth.PermCatalogDemand) {
			if b, err := c.Orgs.Body(ctx, id); err == nil {
				d.DemandBodies = append(d.DemandBodies, b)
			}
		}
	}
	ev := url.Values{}
	for k, v := range qv {
		if k != "page" {
			ev[k] = v
		}
	}
	ev.Set("tab", tab)
	ev.Set("format", "xlsx")
	d.ExportXLSX = "/catalog/lists/export?" + ev.Encode()
	ev.Set("format", "csv")
	d.ExportCSV = "/catalog/lists/export?" + ev.Encode()
	if pg.P.User.BodyID != 0 {
		d.Mine = hrefOf("/catalog/lists", withParam(qv, "body_id", strconv.FormatInt(pg.P.User.BodyID, 10)))
	}
	pg.Data = d
	c.render(w, r, status, "catalog_lists", pg)
}

// listAction runs one change of a list and shows the tab again.
func (c *Console) listAction(w http.ResponseWriter, r *http.Request, tab, form, done string, fn func(f *Form) error) {
	f := newForm(r)
	if err := fn(f); err != nil {
		if _, ok := errs.As(err); !ok {
			c.fail(w, r, err)
			return
		}
		msg := f.fail(err, pgLang(r))
		if form == "" {
			// A row's form (link, close) has no place for field errors:
			// say them in the message.
			var details []string
			for k, m := range f.Errors {
				if k == "reason" {
					m = pick(pgLang(r), "原因：", "reason: ") + m
				}
				details = append(details, m)
			}
			slices.Sort(details)
			if len(details) > 0 {
				msg = pick(pgLang(r), "操作未完成：", "Not done: ") + strings.Join(details, pick(pgLang(r), "；", "; "))
			}
		}
		c.renderLists(w, r, statusOf(err), tab, map[string]*Form{form: f}, msg)
		return
	}
	to := "/catalog/lists?tab=" + tab
	if ref := r.Header.Get("Referer"); ref != "" {
		if u, err := url.Parse(ref); err == nil && u.Path == "/catalog/lists" && u.Query().Get("tab") == tab {
			to = u.RequestURI()
		}
	}
	c.redirect(w, r, to, done)
}

func (c *Console) catalogRespCreate(w http.ResponseWriter, r *http.Request) {
	c.listAction(w, r, tabResponsibility, tabResponsibility, pick(pgLang(r), "已加入责任清单", "Added to the responsibility list"), func(f *Form) error {
		in := catalog.ResponsibilityInput{BodyID: formInt(r, "body_id"), Name: f.V("name"), Basis: f.V("basis"), Due: f.V("due"), Note: f.V("note")}
		res, err := c.Catalog.CreateResponsibility(r.Context(), auth.FromContext(r.Context()), in)
		if err == nil {
			httpx.Note(r.Context(), "responsibility:"+strconv.FormatInt(res.ID, 10), "name", res.Name, "body_id", strconv.FormatInt(res.BodyID, 10))
		}
		return err
	})
}

func (c *Console) catalogRespCancel(w http.ResponseWriter, r *http.Request) {
	id := pathID(r, "id")
	httpx.Note(r.Context(), "responsibility:"+strconv.FormatInt(id, 10))
	restore := r.FormValue("restore") == "true"
	done := pick(pgLang(r), "已取消该责任事项", "The item is cancelled")
	if restore {
		done = pick(pgLang(r), "已恢复该责任事项", "The item is restored")
	}
	c.listAction(w, r, tabResponsibility, "", done, func(f *Form) error {
		cur, err := c.Catalog.Responsibility(r.Context(), id)
		if err != nil {
			return err
		}
		httpx.Note(r.Context(), "", "cancelled", strconv.FormatBool(!restore))
		in := catalog.ResponsibilityInput{BodyID: cur.BodyID, Name: cur.Name, Basis: cur.Basis, Due: cur.Due, Note: cur.Note, Cancelled: !restore}
		_, err = c.Catalog.UpdateResponsibility(r.Context(), auth.FromContext(r.Context()), id, in)
		return err
	})
}

// entryByCode finds the entry a link form names by its code.
func (c *Console) entryByCode(r *http.Request, code string) (catalog.Entry, error) {
	code = strings.TrimSpace(code)
	if code == "" {
		var fs errs.Fields
		fs.Add("entry_code", "required", "请填写目录代码", "enter the entry's code")
		return catalog.Entry{}, fs.Err()
	}
	return c.Catalog.GetByCode(r.Context(), auth.FromContext(r.Context()), code)
}

func (c *Console) catalogRespLink(w http.ResponseWriter, r *http.Request) {
	id := pathID(r, "id")
	httpx.Note(r.Context(), "responsibility:"+strconv.FormatInt(id, 10))
	c.listAction(w, r, tabResponsibility, "", pick(pgLang(r), "已关联目录", "Entry linked"), func(f *Form) error {
		var entry int64
		if f.V("unlink") != "true" {
			e, err := c.entryByCode(r, f.V("entry_code"))
			if err != nil {
				return err
			}
			entry = e.ID
			httpx.Note(r.Context(), "", "entry", e.Code)
		}
		_, err := c.Catalog.LinkResponsibility(r.Context(), auth.FromContext(r.Context()), id, entry)
		return err
	})
}

func (c *Console) catalogDemandCreate(w http.ResponseWriter, r *http.Request) {
	c.listAction(w, r, tabDemand, tabDemand, pick(pgLang(r), "已提出数据需求", "Demand posted"), func(f *Form) error {
		in := catalog.DemandInput{BodyID: formInt(r, "body_id"), Title: f.V("title"), Description: f.V("description"), Items: f.V("items")}
		d, err := c.Catalog.CreateDemand(r.Context(), auth.FromContext(r.Context()), in)
		if err == nil {
			httpx.Note(r.Context(), "demand:"+strconv.FormatInt(d.ID, 10), "title", d.Title, "body_id", strconv.FormatInt(d.BodyID, 10))
		}
		return err
	})
}

func (c *Console) catalogDemandLink(w http.ResponseWriter, r *http.Request) {
	id := pathID(r, "id")
	httpx.Note(r.Context(), "demand:"+strconv.FormatInt(id, 10))
	unlink := r.FormValue("unlink") == "true"
	done := pick(pgLang(r), "已对接目录", "Entry linked")
	if unlink {
		done = pick(pgLang(r), "已取消对接", "Entry unlinked")
	}
	c.listAction(w, r, tabDemand, "", done, func(f *Form) error {
		var entry int64
		if unlink {
			entry = formInt(r, "entry_id")
		} else {
			e, err := c.entryByCode(r, f.V("entry_code"))
			if err != nil {
				return err
			}
			entry = e.ID
		}
		httpx.Note(r.Context(), "", "entry_id", strconv.FormatInt(entry, 10), "unlink", strconv.FormatBool(unlink))
		_, err := c.Catalog.LinkDemand(r.Context(), auth.FromContext(r.Context()), id, entry, unlink)
		return err
	})
}

func (c *Console) catalogDemandClose(w http.ResponseWriter, r *http.Request) {
	id := pathID(r, "id")
	httpx.Note(r.Context(), "demand:"+strconv.FormatInt(id, 10))
	reopen := r.FormValue("reopen") == "true"
	done := pick(pgLang(r), "已关闭该需求", "Demand closed")
	if reopen {
		done = pick(pgLang(r), "已重新打开该需求", "Demand reopened")
	}
	c.listAction(w, r, tabDemand, "", done, func(f *Form) error {
		_, err := c.Catalog.CloseDemand(r.Context(), auth.FromContext(r.Context()), id, f.V("reason"), reopen)
		return err
	})
}

// catalogListsExport downloads one list, filtered as on the page.
func (c *Console) catalogListsExport(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	lang := pgLang(r)
	v := c.vocab(lang)
	tab := listTab(r)
	format := tabular.CSV
	if r.URL.Query().Get("format") == "xlsx" {
		format = tabular.XLSX
	}
	f := listFilter(r)
	var header []string
	var rows [][]any
	switch tab {
	case tabResponsibility:
		list, _, err := c.Catalog.Responsibilities(ctx, f)
		if err != nil {
			c.fail(w, r, err)
			return
		}
		header = []string{pick(lang, "责任单位", "Body"), pick(lang, "资源名称", "Resource"), pick(lang, "职责依据", "Basis"),
			pick(lang, "完成期限", "Due"), pick(lang, "状态", "Status"), pick(lang, "是否逾期", "Overdue"), pick(lang, "关联目录代码", "Entry code"),
			pick(lang, "关联目录名称", "Entry name"), pick(lang, "完成时间", "Completed"), pick(lang, "备注", "Note")}
		for _, x := range list {
			var done any
			if x.CompletedAt != nil {
				done = x.CompletedAt.In(time.Local)
			}
			rows = append(rows, []any{x.Body, x.Name, x.Basis, x.Due, v.ListStatus(x.Status), v.Bool(x.Overdue), x.EntryCode, x.EntryName, done, x.Note})
		}
	case tabDemand:
		list, _, err := c.Catalog.Demands(ctx, f)
		if err != nil {
			c.fail(w, r, err)
			return
		}
		header = []string{pick(lang, "需求单位", "Body"), pick(lang, "需求名称", "Title"), pick(lang, "需求说明", "Description"),
			pick(lang, "所需信息项", "Data items"), pick(lang, "状态", "Status"), pick(lang, "已对接目录", "Linked entries"),
			pick(lang, "提出人", "Posted by"), pick(lang, "提出时间", "Posted"), pick(lang, "关闭原因", "Close reason")}
		for _, x := range list {
			var links []string
			for _, l := range x.Links {
				links = append(links, l.Code+" "+l.Name)
			}
			rows = append(rows, []any{x.Body, x.Title, x.Description, x.Items, v.ListStatus(x.Status), strings.Join(links, "; "),
				x.CreatedBy, x.CreatedAt.In(time.Local), x.CloseReason})
		}
	default:
		list, _, err := c.Catalog.NegativeList(ctx, f)
		if err != nil {
			c.fail(w, r, err)
			return
		}
		header = []string{pick(lang, "信息资源代码", "Code"), pick(lang, "信息资源名称", "Name"), pick(lang, "提供方", "Provider"),
			pick(lang, "版本", "Version"), pick(lang, "不予共享依据", "Basis"), pick(lang, "列入人", "Added by"), pick(lang, "列入时间", "Added")}
		for _, x := range list {
			rows = append(rows, []any{x.Code, x.Name, x.Provider, x.Version, x.Basis, x.AddedBy, x.AddedAt.In(time.Local)})
		}
	}
	c.Authn.Append(ctx, audit.Entry{Action: "catalog.lists.export", Detail: map[string]string{"list": tab, "format": string(format), "rows": strconv.Itoa(len(rows))}})
	w.Header().Set("Content-Type", contentType(format))
	w.Header().Set("Content-Disposition", attachment("catalog-"+tab+"-"+time.Now().Format("20060102-150405")+"."+string(format)))
	tw, err := tabular.NewWriter(w, format)
	if err == nil {
		err = tw.WriteHeader(header)
	}
	for _, row := range rows {
		if err == nil {
			err = tw.WriteRow(row)
		}
	}
	if err == nil {
		err = tw.Close()
	}
	if err != nil {
		c.Log.Error("catalog lists export", "request_id", httpx.RequestID(ctx), "err", err)
	}
}

func contentType(f tabular.Format) string {
	if f == tabular.XLSX {
		return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	}
	return "text/csv; charset=utf-8"
}

// attachment is a Content-Disposition for a download named name (ASCII).
func attachment(name string) string { return `attachment; filename="` + name + `"` }
