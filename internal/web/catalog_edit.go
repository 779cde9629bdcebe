package web

import (
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"xiangyun/internal/auth"
	"xiangyun/internal/catalog"
	"xiangyun/internal/errs"
	"xiangyun/internal/httpx"
	"xiangyun/internal/org"
)

// itemFields are the form fields of one data item row, "items[i].<field>".
var itemFields = []string{"name", "en_name", "data_type", "length", "required", "key", "sensitive", "mask", "code_list"}

// maxItemRows bounds the rows read from a form.
const maxItemRows = catalog.MaxItems + 50

// newItemRows is the number of empty rows a new entry starts with.
const newItemRows = 3

var itemKeyRE = regexp.MustCompile(`^items\[(\d{1,4})\]\.`)

// itemRow is one data item row of the editor, as typed.
type itemRow struct {
	Index                                       int
	Name, EnName, DataType, Length, Mask, Codes string
	Required, Key, Sensitive                    bool
	Errors                                      map[string]string
}

func (r itemRow) blank() bool {
	return strings.TrimSpace(r.Name+r.EnName+r.Length+r.Codes) == "" && !r.Required && !r.Key && !r.Sensitive
}

// E returns the error of one attribute of the row.
func (r itemRow) E(field string) string { return r.Errors[field] }

type editData struct {
	V          vocab
	E          *catalog.Entry // nil for a new entry
	Revising   bool           // saving makes a new version: a reason is required
	Providers  []org.Body
	Items      []itemRow
	Vocab      catalog.Vocabulary
	CanSubmit  bool
	Action     string
	ItemsError string
	Related    string // errors of related codes
	Others     []string
	Blank      itemRow // the row the script adds
}

// itemRows reads the data item rows of a form, in index order.
func itemRows(v url.Values) []itemRow {
	n := -1
	for k := range v {
		if m := itemKeyRE.FindStringSubmatch(k); m != nil {
			if i, _ := strconv.Atoi(m[1]); i < maxItemRows && i > n {
				n = i
			}
		}
	}
	rows := make([]itemRow, 0, n+1)
	for i := 0; i <= n; i++ {
		g := func(f string) string { return strings.TrimSpace(v.Get("items[" + strconv.Itoa(i) + "]." + f)) }
		rows = append(rows, itemRow{Name: g("name"), EnName: g("en_name"), DataType: g("data_type"), Length: g("length"),
			Mask: g("mask"), Codes: g("code_list"), Required: g("required") != "", Key: g("key") != "", Sensitive: g("sensitive") != ""})
	}
	return rows
}

// splitCodes splits a list of entry codes typed with any separator.
func splitCodes(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool {
		return r == ',' || r == '，' || r == ';' || r == '；' || r == '、' || r == ' ' || r == '\n' || r == '\r' || r == '\t' || r == '　'
	})
}

// entryInput builds the service input from the form and the (compacted)
// rows.
func entryInput(f *Form, rows []itemRow) catalog.EntryInput {
	in := catalog.EntryInput{Content: catalog.Content{
		Name: f.V("name"), Class: f.V("class"), Abstract: f.V("abstract"), FormatClass: f.V("format_class"),
		FormatType: f.V("format_type"), ShareType: f.V("share_type"), ShareCondition: f.V("share_condition"),
		ShareMethod: f.V("share_method"), ShareChannel: f.V("share_channel"), OpenType: f.V("open_type"),
		OpenCondition: f.V("open_condition"), Cycle: f.V("cycle"), Grade: f.V("grade"), Related: splitCodes(f.V("related")),
	}}
	in.ProviderID, _ = strconv.ParseInt(f.V("provider_id"), 10, 64)
	for _, r := range rows {
		it := catalog.Item{Name: r.Name, EnName: r.EnName, DataType: r.DataType, Required: r.Required, Key: r.Key,
			Sensitive: r.Sensitive, Mask: r.Mask, CodeList: r.Codes}
		if r.Length != "" {
			n, err := strconv.Atoi(r.Length)
			if err != nil {
				n = -1 // the service reports the range
			}
			it.Length = n
		}
		in.Items = append(in.Items, it)
	}
	return in
}

// contentValues fills a form from an entry's content.
func contentValues(e *catalog.Entry, c *catalog.Content) url.Values {
	v := url.Values{}
	for k, s := range map[string]string{
		"name": c.Name, "class": c.Class, "abstract": c.Abstract, "format_class": c.FormatClass, "format_type": c.FormatType,
		"share_type": c.ShareType, "share_condition": c.ShareCondition, "share_method": c.ShareMethod, "share_channel": c.ShareChannel,
		"open_type": c.OpenType, "open_condition": c.OpenCondition, "cycle": c.Cycle, "grade": c.Grade,
		"related": strings.Join(c.Related, ", "), "provider_id": strconv.FormatInt(e.ProviderID, 10),
	} {
		v.Set(k, s)
	}
	for i, it := range c.Items {
		p := "items[" + strconv.Itoa(i) + "]."
		v.Set(p+"name", it.Name)
		v.Set(p+"en_name", it.EnName)
		v.Set(p+"data_type", it.DataType)
		if it.Length != 0 {
			v.Set(p+"length", strconv.Itoa(it.Length))
		}
		v.Set(p+"mask", it.Mask)
		v.Set(p+"code_list", it.CodeList)
		for f, on := range map[string]bool{"required": it.Required, "key": it.Key, "sensitive": it.Sensitive} {
			if on {
				v.Set(p+f, "1")
			}
		}
	}
	return v
}

// renderEditor shows the editor for a new entry (e nil) or an entry.
func (c *Console) renderEditor(w http.ResponseWriter, r *http.Request, status int, e *catalog.Entry, f *Form, rows []itemRow, msg string) {
	ctx := r.Context()
	title := pick(pgLang(r), "新建目录", "New catalog entry")
	if e != nil {
		title = pick(pgLang(r), "编辑目录：", "Edit: ") + e.Name
	}
	pg := c.page(r, title, "catalog-mine")
	pg.Form, pg.Error = f, msg
	d := &editData{V: c.vocab(pg.Lang), E: e, Vocab: c.Catalog.Vocabulary(), Action: "/catalog/new", Blank: itemRow{Mask: "none"}}
	if e != nil {
		d.Action = entryPath(e.ID) + "/edit"
		d.Revising = e.Revision == nil && (e.Status == catalog.StatusPublished || e.Status == catalog.StatusWithdrawn)
		d.CanSubmit = pg.P.HasAt(auth.PermCatalogSubmit, e.ProviderID)
	} else {
		for _, id := range pg.P.BodiesWith(auth.PermCatalogEdit) {
			if b, err := c.Orgs.Body(ctx, id); err == nil && b.Enabled {
				d.Providers = append(d.Providers, b)
			}
		}
		if f.V("provider_id") == "" && len(d.Providers) > 0 {
			f.Values.Set("provider_id", strconv.FormatInt(d.Providers[0].ID, 10))
		}
		id, _ := strconv.ParseInt(f.V("provider_id"), 10, 64)
		d.CanSubmit = pg.P.HasAt(auth.PermCatalogSubmit, id)
	}
	// Field errors of rows and lists go next to them; others without a
	// field on the page are listed at the top.
	shown := map[string]bool{"name": true, "class": true, "abstract": true, "format_class": true, "format_type": true,
		"share_type": true, "share_condition": true, "share_method": true, "share_channel": true, "open_type": true,
		"open_condition": true, "cycle": true, "grade": true, "provider_id": true, "reason": true}
	var related []string
	for k, m := range f.Errors {
		switch {
		case k == "items":
			d.ItemsError = m
		case k == "related" || strings.HasPrefix(k, "related["):
			related = append(related, m)
		case itemKeyRE.MatchString(k):
			i, _ := strconv.Atoi(itemKeyRE.FindStringSubmatch(k)[1])
			if i < len(rows) {
				if rows[i].Errors == nil {
					rows[i].Errors = map[string]string{}
				}
				rows[i].Errors[k[strings.Index(k, "].")+2:]] = m
			}
		case k == "provider_code":
			f.Errors["provider_id"] = m
		case !shown[k]:
			d.Others = append(d.Others, m)
		}
	}
	d.Related = strings.Join(related, pick(pg.Lang, "；", "; "))
	for i := range rows {
		rows[i].Index = i
	}
	d.Items = rows
	pg.Data = d
	c.render(w, r, status, "catalog_form", pg)
}

func (c *Console) catalogNewForm(w http.ResponseWriter, r *http.Request) {
	f := &Form{Values: url.Values{}, Errors: map[string]string{}}
	c.renderEditor(w, r, http.StatusOK, nil, f, make([]itemRow, newItemRows), "")
}

// editorOp handles the row buttons of the editor (which re-render it
// without saving) and reports whether it did.
func (c *Console) editorOp(w http.ResponseWriter, r *http.Request, e *catalog.Entry, f *Form, rows []itemRow) bool {
	op := f.V("op")
	switch {
	case op == "add-item":
		c.renderEditor(w, r, http.StatusOK, e, f, append(rows, itemRow{}), "")
		return true
	case strings.HasPrefix(op, "del-item-"):
		if i, err := strconv.Atoi(strings.TrimPrefix(op, "del-item-")); err == nil && i >= 0 && i < len(rows) {
			rows = append(rows[:i], rows[i+1:]...)
		}
		c.renderEditor(w, r, http.StatusOK, e, f, rows, "")
		return true
	}
	return false
}

// failRows puts a refused save onto the form: the service's field errors,
// and for lengths that are not numbers, a message saying so.
func failRows(f *Form, rows []itemRow, err error, lang string) string {
	msg := f.fail(err, lang)
	for i, r := range rows {
		if _, perr := strconv.Atoi(r.Length); r.Length != "" && perr != nil {
			f.Errors["items["+strconv.Itoa(i)+"].length"] = pick(lang, "须为整数", "must be a whole number")
		}
	}
	return msg
}

// editStatus is the status of a refused save, which shows the editor again
// with what was typed: 409 for a stale or conflicting save, 503 when the
// database cannot answer (not the user's mistake).
func editStatus(err error) int {
	if errs.KindOf(err) == errs.KindUnavailable {
		return http.StatusServiceUnavailable
	}
	return statusOf(err)
}

// compact drops the empty rows.
func compact(rows []itemRow) []itemRow {
	out := rows[:0]
	for _, r := range rows {
		if !r.blank() {
			out = append(out, r)
		}
	}
	return out
}

func (c *Console) catalogCreate(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	f := newForm(r)
	rows := itemRows(f.Values)
	if c.editorOp(w, r, nil, f, rows) {
		return
	}
	rows = compact(rows)
	p := auth.FromContext(ctx)
	e, err := c.Catalog.Create(ctx, p, entryInput(f, rows))
	if err != nil {
		if _, ok := errs.As(err); !ok {
			c.fail(w, r, err)
			return
		}
		msg := failRows(f, rows, err, pgLang(r))
		if len(rows) == 0 {
			rows = make([]itemRow, 1)
		}
		c.renderEditor(w, r, editStatus(err), nil, f, rows, msg)
		return
	}
	httpx.Note(ctx, entryObject(e.ID), "code", e.Code, "name", e.Name)
	c.afterSave(w, r, f, e, pick(pgLang(r), "已保存草稿：", "Draft saved: ")+e.Name)
}

// afterSave submits the entry when asked to, then shows it.
func (c *Console) afterSave(w http.ResponseWriter, r *http.Request, f *Form, e catalog.Entry, done string) {
	if f.V("op") != "submit" {
		c.redirect(w, r, entryPath(e.ID), done)
		return
	}
	if _, err := c.Catalog.Submit(r.Context(), auth.FromContext(r.Context()), e.ID, "", catalog.IfRev(e.Rev)); err != nil {
		if _, ok := errs.As(err); !ok {
			c.fail(w, r, err)
			return
		}
		lang := pgLang(r)
		af := &Form{Values: url.Values{}, Errors: map[string]string{}}
		msg := pick(lang, "草稿已保存，但未能提交审核：", "The draft is saved but could not be submitted: ") + af.fail(err, lang)
		c.renderEntry(w, r, statusOf(err), e.ID, af, msg)
		return
	}
	httpx.Note(r.Context(), "", "submitted", "true")
	c.redirect(w, r, entryPath(e.ID), pick(pgLang(r), "已保存并提交审核：", "Saved and submitted for review: ")+e.Name)
}

func (c *Console) catalogEditForm(w http.ResponseWriter, r *http.Request) {
	id := pathID(r, "id")
	e, err := c.Catalog.Get(r.Context(), auth.FromContext(r.Context()), id)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	if !e.CanEdit {
		c.renderEntry(w, r, http.StatusConflict, id, &Form{Values: url.Values{}, Errors: map[string]string{}},
			pick(pgLang(r), "该目录当前不能编辑：只有提供方可以编辑，审核期间和废止后不能修改。", "This entry cannot be edited now: only its provider may edit it, and not while under review or once deprecated."))
		return
	}
	content := &e.Content
	if e.Revision != nil {
		content = &e.Revision.Content
	}
	v := contentValues(&e, content)
	// The revision the user edits: a save made on it after someone else
	// saved is refused (409) instead of overwriting their change.
	v.Set("rev", strconv.FormatInt(e.Rev, 10))
	rows := itemRows(v)
	if len(rows) == 0 {
		rows = make([]itemRow, 1)
	}
	c.renderEditor(w, r, http.StatusOK, &e, &Form{Values: v, Errors: map[string]string{}}, rows, "")
}

func (c *Console) catalogUpdate(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id := pathID(r, "id")
	httpx.Note(ctx, entryObject(id))
	p := auth.FromContext(ctx)
	e, err := c.Catalog.Get(ctx, p, id)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	f := newForm(r)
	f.Values.Set("provider_id", strconv.FormatInt(e.ProviderID, 10))
	rows := itemRows(f.Values)
	if c.editorOp(w, r, &e, f, rows) {
		return
	}
	rows = compact(rows)
	reason := strings.TrimSpace(f.V("reason"))
	rev, err := strconv.ParseInt(f.V("rev"), 10, 64)
	if err != nil {
		rev = -1 // a form without its revision cannot prove it is current
	}
	saved, err := c.Catalog.Update(ctx, p, id, entryInput(f, rows), reason, catalog.IfRev(rev))
	if err != nil {
		if _, ok := errs.As(err); !ok {
			c.fail(w, r, err)
			return
		}
		msg := failRows(f, rows, err, pgLang(r))
		if len(rows) == 0 {
			rows = make([]itemRow, 1)
		}
		c.renderEditor(w, r, editStatus(err), &e, f, rows, msg)
		return
	}
	if reason != "" {
		httpx.Note(ctx, "", "reason", reason)
	}
	httpx.Note(ctx, "", "code", saved.Code)
	c.afterSave(w, r, f, saved, pick(pgLang(r), "已保存：", "Saved: ")+saved.Name)
}

// catalogEditorScript serves the editor's progressive enhancement (the
// pages allow scripts from this origin only, not inline ones).
func (c *Console) catalogEditorScript(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	_, _ = w.Write([]byte(editorJS))
}

// editorJS adds and removes data item rows without a round trip and shows
// only the format types of the chosen format class. Without it the row
// buttons submit the form, which comes back with the row added or removed.
const editorJS = `(function () {
  'use strict';
  var form = document.getElementById('entry-form');
  if (!form) return;
  var body = document.getElementById('item-rows');
  var tpl = document.getElementById('item-row-template');
  function renumber() {
    Array.prototype.forEach.call(body.rows, function (tr, k) {
      Array.prototype.forEach.call(tr.querySelectorAll('[name],[id],[for],[aria-describedby]'), function (el) {
        ['name', 'id', 'for', 'aria-describedby'].forEach(function (a) {
          var v = el.getAttribute(a);
          if (v) el.setAttribute(a, v.replace(/^items\[\d+\]/, 'items[' + k + ']').replace(/^item-\d+-/, 'item-' + k + '-'));
        });
      });
      var del = tr.querySelector('[data-item-del]');
      if (del) del.value = 'del-item-' + k;
      var num = tr.querySelector('.row-num');
      if (num) num.textContent = String(k + 1);
    });
  }
  form.addEventListener('click', function (e) {
    var b = e.target.closest && e.target.closest('button');
    if (!b) return;
    if (b.hasAttribute('data-item-add') && tpl) {
      e.preventDefault();
      var html = tpl.innerHTML.replace(/__i__/g, String(body.rows.length));
      body.insertAdjacentHTML('beforeend', html);
      renumber();
      var first = body.rows[body.rows.length - 1].querySelector('input');
      if (first) first.focus();
    } else if (b.hasAttribute('data-item-del')) {
      e.preventDefault();
      var tr = b.closest('tr');
      var next = tr.nextElementSibling || tr.previousElementSibling;
      tr.parentNode.removeChild(tr);
      renumber();
      var add = form.querySelector('[data-item-add]');
      var f = next ? next.querySelector('input') : add;
      if (f) f.focus();
    }
  });
  var fc = document.getElementById('format_class');
  var ft = document.getElementById('format_type');
  function formats() {
    if (!fc || !ft) return;
    Array.prototype.forEach.call(ft.querySelectorAll('optgroup'), function (g) {
      var on = !fc.value || g.getAttribute('data-class') === fc.value;
      g.hidden = !on;
      g.disabled = !on;
    });
    var sel = ft.options[ft.selectedIndex];
    if (sel && sel.parentNode.disabled) ft.value = '';
  }
  if (fc) { fc.addEventListener('change', formats); formats(); }
})();
`
