package web

import (
	"net/http"
	"strconv"
	"strings"
	"unicode"

	"xiangyun/internal/errs"
	"xiangyun/internal/httpx"
	"xiangyun/internal/org"
	"xiangyun/internal/share"
)

type shareScenariosData struct {
	SV        sv
	Scenarios []share.Scenario
	Bodies    []org.Body
}

// shareScenarios is 应用场景 (§26): the platform's scenarios, each with its
// entries and items; reviewers define and remove them.
func (c *Console) shareScenarios(w http.ResponseWriter, r *http.Request) {
	c.renderScenarios(w, r, http.StatusOK, nil)
}

func (c *Console) renderScenarios(w http.ResponseWriter, r *http.Request, status int, f *Form) {
	pg := c.page(r, "", "share-scenarios")
	pg.Title = pg.T("应用场景", "Scenarios")
	scs, err := c.Share.Scenarios(r.Context())
	if err != nil {
		c.fail(w, r, err)
		return
	}
	d := &shareScenariosData{SV: sv{pg.Lang}, Scenarios: scs}
	if pg.Can("share.review") {
		if d.Bodies, _, err = c.Orgs.Bodies(r.Context(), org.BodyFilter{}); err != nil {
			c.fail(w, r, err)
			return
		}
	}
	pg.Form, pg.Data = f, d
	if f != nil {
		pg.Error = f.Errors["_"]
	}
	c.render(w, r, status, "share_scenarios", pg)
}

// parseScenarioEntries reads one entry a line: its code, then its items
// separated by 、 , ， or spaces.
func (c *Console) parseScenarioEntries(r *http.Request, text string) ([]share.ScenarioEntry, error) {
	pg := c.page(r, "", "")
	var out []share.ScenarioEntry
	for _, line := range strings.Split(text, "\n") {
		fields := strings.FieldsFunc(line, func(r rune) bool {
			return unicode.IsSpace(r) || r == '、' || r == ',' || r == '，' || r == ':' || r == '：'
		})
		if len(fields) == 0 {
			continue
		}
		e, err := c.Catalog.GetByCode(r.Context(), pg.P, fields[0])
		if err != nil {
			var fs errs.Fields
			fs.Add("entries", "share.unknown_entry", "目录代码不存在："+fields[0], "no entry has the code "+fields[0])
			return nil, fs.Err()
		}
		out = append(out, share.ScenarioEntry{EntryID: e.ID, Items: fields[1:]})
	}
	return out, nil
}

// shareScenarioCreate defines a scenario.
func (c *Console) shareScenarioCreate(w http.ResponseWriter, r *http.Request) {
	f := newForm(r)
	pg := c.page(r, "", "")
	in := share.ScenarioInput{Name: f.V("name"), Description: f.V("description")}
	for _, b := range f.Values["bodies"] {
		if id, _ := strconv.ParseInt(b, 10, 64); id > 0 {
			in.Bodies = append(in.Bodies, id)
		}
	}
	es, err := c.parseScenarioEntries(r, f.V("entries"))
	var sc share.Scenario
	if err == nil {
		in.Entries = es
		sc, err = c.Share.CreateScenario(r.Context(), pg.P, in)
	}
	if err != nil {
		f.Errors["_"] = f.fail(err, pg.Lang)
		rr := r.Clone(r.Context())
		rr.Method = http.MethodGet
		c.renderScenarios(w, rr, http.StatusUnprocessableEntity, f)
		return
	}
	httpx.Note(r.Context(), "scenario:"+itoa(sc.ID))
	c.redirect(w, r, "/share/scenarios", pg.T("应用场景已建立：", "Scenario defined: ")+sc.Name)
}

// shareScenarioDelete removes a scenario.
func (c *Console) shareScenarioDelete(w http.ResponseWriter, r *http.Request) {
	pg := c.page(r, "", "")
	id := pathID(r, "id")
	httpx.Note(r.Context(), "scenario:"+itoa(id))
	if err := c.Share.DeleteScenario(r.Context(), pg.P, id); err != nil {
		c.fail(w, r, err)
		return
	}
	c.redirect(w, r, "/share/scenarios", pg.T("应用场景已删除", "Scenario removed"))
}
