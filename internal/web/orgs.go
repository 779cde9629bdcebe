package web

import (
	"net/http"
	"strconv"

	"xiangyun/internal/auth"
	"xiangyun/internal/httpx"
	"xiangyun/internal/org"
)

type orgsData struct {
	Tree    []*regionNode
	Bodies  []org.Body
	Pager   Pager
	Regions []org.Region
	Kinds   []kindOpt
}

type kindOpt struct{ Code, Label string }

type regionNode struct {
	Region   org.Region
	Count    int
	Children []*regionNode
}

// kindLabel names a kind of body in lang.
func kindLabel(k org.Kind, lang string) string {
	for _, x := range org.Kinds {
		if x.Kind == k {
			return pick(lang, x.ZH, x.EN)
		}
	}
	return string(k)
}

func (c *Console) kindOpts(pg *Page) []kindOpt {
	var out []kindOpt
	for _, k := range org.Kinds {
		out = append(out, kindOpt{string(k.Kind), kindLabel(k.Kind, pg.Lang)})
	}
	return out
}

// sectorOpts lists the utility sectors with their names in the page's
// language.
func sectorOpts(pg *Page) []kindOpt {
	var out []kindOpt
	for _, x := range org.Sectors {
		out = append(out, kindOpt{x.Code, pg.T(x.ZH, x.EN)})
	}
	return out
}

func (c *Console) orgs(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	pg := c.page(r, pick(pgLang(r), "机构管理", "Public bodies"), "orgs")
	q := r.URL.Query()
	pager := pagerOf(r, 20)
	bodies, total, err := c.Orgs.Bodies(ctx, org.BodyFilter{Q: q.Get("q"), RegionCode: q.Get("region"), Kind: org.Kind(q.Get("kind")), Offset: pager.Offset(), Limit: pager.PageSize})
	if err != nil {
		c.fail(w, r, err)
		return
	}
	pager.Total = total
	regions, err := c.Orgs.Regions(ctx)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	all, _, err := c.Orgs.Bodies(ctx, org.BodyFilter{})
	if err != nil {
		c.fail(w, r, err)
		return
	}
	pg.Data = &orgsData{Tree: regionTree(regions, all), Bodies: bodies, Pager: pager, Regions: regions, Kinds: c.kindOpts(pg)}
	c.render(w, r, http.StatusOK, "orgs", pg)
}

// regionTree nests regions under their parents and counts the bodies of each
// region including its descendants.
func regionTree(regions []org.Region, bodies []org.Body) []*regionNode {
	nodes := map[string]*regionNode{}
	var roots []*regionNode
	for _, rg := range regions {
		nodes[rg.Code] = &regionNode{Region: rg}
	}
	for _, rg := range regions {
		n := nodes[rg.Code]
		if p, ok := nodes[rg.ParentCode]; ok {
			p.Children = append(p.Children, n)
		} else {
			roots = append(roots, n)
		}
	}
	for _, b := range bodies {
		for code := b.RegionCode; code != ""; {
			n, ok := nodes[code]
			if !ok {
				break
			}
			n.Count++
			code = n.Region.ParentCode
		}
	}
	return roots
}

type orgFormData struct {
	Body    *org.Body
	Regions []org.Region
	Parents []org.Body
	Kinds   []kindOpt
	Sectors []kindOpt
	Users   []auth.User
}

func (c *Console) orgFormData(r *http.Request, pg *Page, b *org.Body) (*orgFormData, error) {
	regions, err := c.Orgs.Regions(r.Context())
	if err != nil {
		return nil, err
	}
	parents, _, err := c.Orgs.Bodies(r.Context(), org.BodyFilter{})
	if err != nil {
		return nil, err
	}
	return &orgFormData{Body: b, Regions: regions, Parents: parents, Kinds: c.kindOpts(pg), Sectors: sectorOpts(pg)}, nil
}

func (c *Console) orgNewForm(w http.ResponseWriter, r *http.Request) {
	pg := c.page(r, pick(pgLang(r), "新建机构", "New body"), "orgs")
	pg.Form = &Form{Values: r.URL.Query(), Errors: map[string]string{}}
	d, err := c.orgFormData(r, pg, nil)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	pg.Data = d
	c.render(w, r, http.StatusOK, "org_form", pg)
}

func bodyInput(f *Form) org.BodyInput {
	parent, _ := strconv.ParseInt(f.V("parent_id"), 10, 64)
	return org.BodyInput{Name: f.V("name"), CreditCode: f.V("credit_code"), Kind: org.Kind(f.V("kind")), Sector: f.V("sector"), RegionCode: f.V("region_code"), ParentID: parent}
}

func (c *Console) orgCreate(w http.ResponseWriter, r *http.Request) {
	f := newForm(r)
	b, err := c.Orgs.CreateBody(r.Context(), bodyInput(f))
	if err != nil {
		pg := c.page(r, pick(pgLang(r), "新建机构", "New body"), "orgs")
		pg.Form = f
		pg.Error = f.fail(err, pg.Lang)
		d, _ := c.orgFormData(r, pg, nil)
		pg.Data = d
		c.render(w, r, http.StatusUnprocessableEntity, "org_form", pg)
		return
	}
	httpx.Note(r.Context(), "body:"+strconv.FormatInt(b.ID, 10), "name", b.Name, "credit_code", b.CreditCode)
	c.redirect(w, r, "/orgs/"+strconv.FormatInt(b.ID, 10), pick(pgLang(r), "已创建机构："+b.Name, "Body created: "+b.Name))
}

func (c *Console) orgDetail(w http.ResponseWriter, r *http.Request) {
	b, err := c.Orgs.Body(r.Context(), pathID(r, "id"))
	if err != nil {
		c.fail(w, r, err)
		return
	}
	pg := c.page(r, b.Name, "orgs")
	pg.Form = &Form{Values: map[string][]string{
		"name": {b.Name}, "credit_code": {b.CreditCode}, "kind": {string(b.Kind)}, "sector": {b.Sector},
		"region_code": {b.RegionCode}, "parent_id": {strconv.FormatInt(b.ParentID, 10)},
	}, Errors: map[string]string{}}
	d, err := c.orgFormData(r, pg, &b)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	if pg.P.Has(auth.PermUserRead) {
		d.Users, _, _ = c.Auth.Users(r.Context(), auth.UserFilter{BodyID: b.ID, Limit: 100})
	}
	pg.Data = d
	c.render(w, r, http.StatusOK, "org_form", pg)
}

func (c *Console) orgUpdate(w http.ResponseWriter, r *http.Request) {
	id := pathID(r, "id")
	httpx.Note(r.Context(), "body:"+strconv.FormatInt(id, 10))
	f := newForm(r)
	b, err := c.Orgs.UpdateBody(r.Context(), id, bodyInput(f))
	if err != nil {
		old, gerr := c.Orgs.Body(r.Context(), id)
		if gerr != nil {
			c.fail(w, r, gerr)
			return
		}
		pg := c.page(r, old.Name, "orgs")
		pg.Form = f
		pg.Error = f.fail(err, pg.Lang)
		d, _ := c.orgFormData(r, pg, &old)
		pg.Data = d
		c.render(w, r, http.StatusUnprocessableEntity, "org_form", pg)
		return
	}
	c.redirect(w, r, "/orgs/"+strconv.FormatInt(b.ID, 10), pick(pgLang(r), "已保存", "Saved"))
}

func (c *Console) orgEnable(w http.ResponseWriter, r *http.Request) {
	id := pathID(r, "id")
	on := r.FormValue("enabled") == "true"
	httpx.Note(r.Context(), "body:"+strconv.FormatInt(id, 10), "enabled", strconv.FormatBool(on))
	if _, err := c.Orgs.SetBodyEnabled(r.Context(), id, on); err != nil {
		c.fail(w, r, err)
		return
	}
	c.redirect(w, r, "/orgs/"+strconv.FormatInt(id, 10), pick(pgLang(r), "已更新状态", "Status updated"))
}
