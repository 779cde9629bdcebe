package catalog

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"time"

	"xiangyun/internal/auth"
	"xiangyun/internal/db"
)

// Event is one step of an entry's history: who did what, when and why.
type Event struct {
	ID      int64     `json:"id"`
	Version int       `json:"version"`
	Action  string    `json:"action" doc:"create, update, revise, submit, return, publish, withdraw, deprecate"`
	Actor   string    `json:"actor"`
	Comment string    `json:"comment,omitempty" doc:"reason or review comment"`
	Detail  string    `json:"detail,omitempty" doc:"for edits: the fields that changed"`
	At      time.Time `json:"at"`
}

// Change is one difference between two versions. Items are compared by
// name: an added or removed item is one change of field "items[名称]", a
// changed attribute one of "items[名称].attribute".
type Change struct {
	Field   string `json:"field"`
	Label   string `json:"label"`
	LabelEN string `json:"label_en"`
	Old     string `json:"old"`
	New     string `json:"new"`
	// Item is the whole data item when one was added or removed: Old or New
	// then holds only a one-line Chinese summary of it.
	Item *Item `json:"item,omitempty"`
}

// Diff is the field-by-field difference from one version to another.
type Diff struct {
	From    int      `json:"from" doc:"version number; 0 means an empty entry"`
	To      int      `json:"to"`
	Changes []Change `json:"changes"`
}

// entryFor returns the entry if p may see it.
func (s *Service) entryFor(ctx context.Context, p *auth.Principal, id int64) (Entry, error) {
	es, err := s.loadEntries(ctx, s.db.R, []int64{id}, false, nil)
	if err != nil {
		return Entry{}, db.Check(err)
	}
	if len(es) == 0 || !visible(p, &es[0]) {
		return Entry{}, ErrNotFound
	}
	return es[0], nil
}

// Versions lists every version of an entry, oldest first, with items. Those
// who may not see the provider's drafts see only versions that were
// published.
func (s *Service) Versions(ctx context.Context, p *auth.Principal, id int64) ([]Version, error) {
	e, err := s.entryFor(ctx, p, id)
	if err != nil {
		return nil, err
	}
	vs, err := s.versions(ctx, s.db.R, id)
	if err != nil {
		return nil, db.Check(err)
	}
	if !canWork(p, e.ProviderID) {
		vs = slices.DeleteFunc(vs, func(v Version) bool { return v.PublishedAt == nil })
	}
	return vs, nil
}

// Version returns one version of an entry by number.
func (s *Service) Version(ctx context.Context, p *auth.Principal, id int64, number int) (Version, error) {
	e, err := s.entryFor(ctx, p, id)
	if err != nil {
		return Version{}, err
	}
	vs, err := s.versions(ctx, s.db.R, id, number)
	if err != nil {
		return Version{}, db.Check(err)
	}
	if len(vs) == 0 || (vs[0].PublishedAt == nil && !canWork(p, e.ProviderID)) {
		return Version{}, errVersion
	}
	return vs[0], nil
}

// History lists an entry's events, oldest first. Those who may not see the
// provider's drafts see publications, withdrawals and deprecations only.
func (s *Service) History(ctx context.Context, p *auth.Principal, id int64) ([]Event, error) {
	e, err := s.entryFor(ctx, p, id)
	if err != nil {
		return nil, err
	}
	rows, err := s.db.R.QueryContext(ctx, `SELECT id, version, action, actor, comment, detail, at FROM entry_events WHERE entry_id = $1 ORDER BY id`, id)
	if err != nil {
		return nil, db.Check(err)
	}
	defer rows.Close()
	work := canWork(p, e.ProviderID)
	out := []Event{}
	for rows.Next() {
		var ev Event
		var at db.Time
		if err := rows.Scan(&ev.ID, &ev.Version, &ev.Action, &ev.Actor, &ev.Comment, &ev.Detail, &at); err != nil {
			return nil, db.Check(err)
		}
		ev.At = at.Time
		if work || ev.Action == "publish" || ev.Action == "withdraw" || ev.Action == "deprecate" {
			out = append(out, ev)
		}
	}
	return out, db.Check(rows.Err())
}

// Diff compares two versions of an entry by number. to 0 means the pending
// draft (or the current version); from 0 means the version in force, or
// when to is that version, the one before it. A from of -1 compares with
// an empty entry.
func (s *Service) Diff(ctx context.Context, p *auth.Principal, id int64, from, to int) (Diff, error) {
	e, err := s.entryFor(ctx, p, id)
	if err != nil {
		return Diff{}, err
	}
	work := canWork(p, e.ProviderID)
	vs, err := s.versions(ctx, s.db.R, id)
	if err != nil {
		return Diff{}, db.Check(err)
	}
	byNumber := map[int]*Version{}
	var published, draft int
	for i := range vs {
		v := &vs[i]
		if v.PublishedAt != nil || work {
			byNumber[v.Number] = v
		}
		switch {
		case v.ID == e.publishedID:
			published = v.Number
		case v.ID == e.draftID && work:
			draft = v.Number
		}
	}
	if to == 0 {
		to = e.Version
		if draft != 0 {
			to = draft
		}
	}
	if from == 0 {
		from = published
		if from == 0 || from == to {
			from = to - 1
		}
	}
	target, ok := byNumber[to]
	if !ok {
		return Diff{}, errVersion
	}
	var base Content
	if from > 0 {
		v, ok := byNumber[from]
		if !ok {
			return Diff{}, errVersion
		}
		base = v.Content
	} else {
		from = 0
	}
	return Diff{From: from, To: to, Changes: diffContent(&base, &target.Content)}, nil
}

var contentFields = []struct {
	key, zh, en string
	get         func(*Content) string
}{
	{"name", "信息资源名称", "name", func(c *Content) string { return c.Name }},
	{"class", "信息资源分类", "classification", func(c *Content) string { return c.Class }},
	{"abstract", "信息资源摘要", "abstract", func(c *Content) string { return c.Abstract }},
	{"format_class", "格式分类", "format class", func(c *Content) string { return c.FormatClass }},
	{"format_type", "格式类型", "format type", func(c *Content) string { return c.FormatType }},
	{"share_type", "共享类型", "share type", func(c *Content) string { return c.ShareType }},
	{"share_condition", "共享条件", "share condition", func(c *Content) string { return c.ShareCondition }},
	{"share_method", "共享方式", "share method", func(c *Content) string { return c.ShareMethod }},
	{"share_channel", "共享渠道", "share channel", func(c *Content) string { return c.ShareChannel }},
	{"open_type", "开放属性", "open type", func(c *Content) string { return c.OpenType }},
	{"open_condition", "开放条件", "open condition", func(c *Content) string { return c.OpenCondition }},
	{"cycle", "更新周期", "update cycle", func(c *Content) string { return c.Cycle }},
	{"grade", "数据分级", "grade", func(c *Content) string { return c.Grade }},
	{"related", "关联资源", "related entries", func(c *Content) string { return strings.Join(c.Related, ", ") }},
}

var itemFields = []struct {
	key, zh, en string
	get         func(*Item) string
}{
	{"en_name", "英文名称", "English name", func(i *Item) string { return i.EnName }},
	{"data_type", "数据类型", "data type", func(i *Item) string { return i.DataType }},
	{"length", "数据长度", "length", func(i *Item) string { return strconv.Itoa(i.Length) }},
	{"required", "必填", "required", func(i *Item) string { return strconv.FormatBool(i.Required) }},
	{"key", "主键", "key", func(i *Item) string { return strconv.FormatBool(i.Key) }},
	{"sensitive", "敏感", "sensitive", func(i *Item) string { return strconv.FormatBool(i.Sensitive) }},
	{"mask", "脱敏规则", "masking rule", func(i *Item) string { return i.Mask }},
	{"code_list", "代码表", "code list", func(i *Item) string { return i.CodeList }},
}

// describe renders an item on one line for an added or removed item.
func describe(it *Item) string {
	var b strings.Builder
	b.WriteString(it.DataType)
	if it.Length > 0 {
		b.WriteString("(" + strconv.Itoa(it.Length) + ")")
	}
	for _, f := range []struct {
		on   bool
		text string
	}{{it.Key, "主键"}, {it.Required && !it.Key, "必填"}, {it.Sensitive, "敏感"}, {it.Mask != "" && it.Mask != "none", "脱敏:" + it.Mask},
		{it.CodeList != "", "代码表:" + it.CodeList}, {it.EnName != "", it.EnName}} {
		if f.on {
			b.WriteString(" " + f.text)
		}
	}
	return b.String()
}

// diffContent lists the differences from a to b.
func diffContent(a, b *Content) []Change {
	out := []Change{}
	for _, f := range contentFields {
		if o, n := f.get(a), f.get(b); o != n {
			out = append(out, Change{Field: f.key, Label: f.zh, LabelEN: f.en, Old: o, New: n})
		}
	}
	old := map[string]*Item{}
	for i := range a.Items {
		old[a.Items[i].Name] = &a.Items[i]
	}
	seen := map[string]bool{}
	for i := range b.Items {
		n := &b.Items[i]
		seen[n.Name] = true
		field := "items[" + n.Name + "]"
		o, ok := old[n.Name]
		if !ok {
			out = append(out, Change{Field: field, Label: "信息项 " + n.Name, LabelEN: "data item " + n.Name, New: describe(n), Item: n})
			continue
		}
		for _, f := range itemFields {
			if ov, nv := f.get(o), f.get(n); ov != nv {
				out = append(out, Change{Field: field + "." + f.key, Label: "信息项 " + n.Name + " " + f.zh, LabelEN: "data item " + n.Name + " " + f.en, Old: ov, New: nv})
			}
		}
	}
	for i := range a.Items {
		o := &a.Items[i]
		if !seen[o.Name] {
			out = append(out, Change{Field: "items[" + o.Name + "]", Label: "信息项 " + o.Name, LabelEN: "data item " + o.Name, Old: describe(o), Item: o})
		}
	}
	return out
}

// changedFields summarises changes for an event: the top-level fields that
// changed, items counted as one.
func changedFields(cs []Change) string {
	var out []string
	for _, c := range cs {
		f := c.Field
		if strings.HasPrefix(f, "items[") {
			f = "items"
		}
		if !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	return strings.Join(out, ",")
}
