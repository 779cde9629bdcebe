package demo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"time"

	"xiangyun/internal/auth"
	"xiangyun/internal/catalog"
	"xiangyun/internal/share"
)

// Demo sharing (共享): the market regulator's 企业开办 application holds a
// grant on the police identity entry (姓名, 公民身份号码) after both review
// steps; the human-resources department's request waits for the platform's
// check; a request asking more than it needs was refused; the 企业开办 and
// 新生儿出生"一件事" scenarios; the police's own verification service.

// ShareDemo is what `xiangyun demo` prints: a demo application's key and a
// record to query the gateway with.
type ShareDemo struct {
	AppName  string
	KeyID    string
	Secret   string
	EntryID  int64
	EntryKey string // the key item's name (公民身份号码)
	RecordID string // a real record's 公民身份号码
	// First is set when this run loaded the sharing demo; people holds a few
	// real records (公民身份号码 → 姓名) for the demo calls.
	First  bool
	people [][2]string
}

// DemoAppName is the market regulator's demo application.
const DemoAppName = "企业开办一网通办系统"

// Curl is a ready-to-paste command querying the gateway at base.
func (d ShareDemo) Curl(base string) string {
	q := url.Values{}
	q.Set(d.EntryKey, d.RecordID)
	q.Set("page_size", "10")
	return fmt.Sprintf("curl -s -H 'X-Client-Id: %s' -H 'Authorization: Bearer %s' '%s/gw/v1/entries/%d/records?%s'",
		d.KeyID, d.Secret, base, d.EntryID, q.Encode())
}

// LoadShare fills the sharing demo once and, on every run, gives the demo
// application a fresh key (the previous ones keep working for an hour),
// since a secret is shown only when it is made.
func LoadShare(ctx context.Context, s Services, sh *share.Service) (ShareDemo, error) {
	if sh == nil {
		return ShareDemo{}, errors.New("demo: sharing not available")
	}
	who := map[string]*auth.Principal{}
	for _, name := range []string{"market_cdo", "hrss_cdo", "health_cdo", "reviewer", "police_cdo"} {
		u, err := s.Auth.UserByName(ctx, name)
		if err != nil {
			return ShareDemo{}, fmt.Errorf("demo user %s: %w", name, err)
		}
		who[name] = &auth.Principal{User: u}
	}
	apps, err := sh.Applications(ctx, share.System)
	if err != nil {
		return ShareDemo{}, err
	}
	for _, a := range apps {
		if a.Name == DemoAppName {
			k, err := sh.RotateKey(ctx, who["market_cdo"], a.ID, time.Hour)
			if err != nil {
				return ShareDemo{}, err
			}
			gs, _, err := sh.Grants(ctx, who["market_cdo"], share.GrantFilter{})
			if err != nil {
				return ShareDemo{}, err
			}
			for _, g := range gs {
				if g.AppID == a.ID && g.Status == share.GrantActive {
					return shareDemo(ctx, s, who["police_cdo"], k, g.EntryID)
				}
			}
			return ShareDemo{}, errors.New("demo: the demo application has no grant (revoked?)")
		}
	}
	s.progress("sharing: applications, requests and reviews, scenarios, a provider service")
	police, err := findEntry(ctx, s.Catalog, "吉林省居民身份核验信息")
	if err != nil {
		return ShareDemo{}, err
	}
	// Scenarios (§26).
	market, hrss := who["market_cdo"].User.BodyID, who["hrss_cdo"].User.BodyID
	if _, err := sh.CreateScenario(ctx, who["reviewer"], share.ScenarioInput{Name: "企业开办",
		Description: "企业开办“一网通办”：设立登记时核验法定代表人和股东的身份。",
		Entries:     []share.ScenarioEntry{{EntryID: police.ID, Items: []string{"公民身份号码", "姓名"}}}, Bodies: []int64{market}}); err != nil {
		return ShareDemo{}, fmt.Errorf("scenario: %w", err)
	}
	if _, err := sh.CreateScenario(ctx, who["reviewer"], share.ScenarioInput{Name: "新生儿出生“一件事”",
		Description: "出生医学证明、户口登记、医保参保、社保卡申领一次办：核验父母身份。",
		Entries:     []share.ScenarioEntry{{EntryID: police.ID, Items: []string{"公民身份号码", "姓名", "户籍地址"}}}}); err != nil {
		return ShareDemo{}, fmt.Errorf("scenario: %w", err)
	}
	// The market regulator's application: granted after both steps.
	k, err := sh.CreateApplication(ctx, who["market_cdo"], share.AppInput{Name: DemoAppName,
		Purpose: "企业设立登记时核验法定代表人、股东和经办人的身份", Contact: "孙丽华 0431-88908123", Systems: "吉林省企业开办一网通办平台"})
	if err != nil {
		return ShareDemo{}, fmt.Errorf("application: %w", err)
	}
	r, err := sh.Submit(ctx, who["market_cdo"], share.RequestInput{EntryID: police.ID, AppID: k.AppID, Items: []string{"公民身份号码", "姓名"},
		Purpose: "企业设立登记时核验法定代表人的姓名与公民身份号码是否一致", Basis: "《优化营商环境条例》第三十五条；《市场主体登记管理条例》第十六条"})
	if err != nil {
		return ShareDemo{}, fmt.Errorf("request: %w", err)
	}
	if r, err = sh.Approve(ctx, who["reviewer"], r.ID, "用途明确，信息项最小够用，同意转提供部门。", share.Terms{}, 0); err != nil {
		return ShareDemo{}, fmt.Errorf("platform step: %w", err)
	}
	if _, err = sh.Approve(ctx, who["police_cdo"], r.ID, "同意共享，按规则脱敏。", share.Terms{Rate: 50, Burst: 100, DailyQuota: 100000}, 0); err != nil {
		return ShareDemo{}, fmt.Errorf("provider step: %w", err)
	}
	// Asking for more than needed: refused by the platform.
	r, err = sh.Submit(ctx, who["market_cdo"], share.RequestInput{EntryID: police.ID, AppID: k.AppID, Items: []string{"公民身份号码", "姓名", "户籍地址", "出生日期"},
		Purpose: "企业开办", Basis: "《优化营商环境条例》"})
	if err != nil {
		return ShareDemo{}, err
	}
	if _, err := sh.Refuse(ctx, who["reviewer"], r.ID, "户籍地址、出生日期超出企业开办身份核验所需，不符合最小够用原则；请只申请公民身份号码和姓名。", 0); err != nil {
		return ShareDemo{}, err
	}
	// The human-resources department's request waits for the platform.
	h, err := sh.CreateApplication(ctx, who["hrss_cdo"], share.AppInput{Name: "社会保险待遇资格认证系统",
		Purpose: "养老保险待遇领取资格认证时核验领取人身份", Systems: "吉林省社会保险信息系统"})
	if err != nil {
		return ShareDemo{}, err
	}
	if _, err := sh.Submit(ctx, who["hrss_cdo"], share.RequestInput{EntryID: police.ID, AppID: h.AppID, Items: []string{"公民身份号码", "姓名", "出生日期"},
		Purpose: "养老保险待遇领取资格认证", Basis: "《社会保险法》第七十三条；人社部发〔2018〕12号", ValidTo: time.Now().AddDate(1, 0, 0).Format("2006-01-02")}); err != nil {
		return ShareDemo{}, err
	}
	// A request on an entry the catalog does not share, if the generated
	// catalog has one: refused at once with its basis.
	if none, err := s.Catalog.Search(ctx, catalog.System, catalog.SearchQuery{Filters: map[string][]string{"share_type": {catalog.ShareNone}}, Limit: 20}); err == nil {
		for _, e := range none.Items {
			if e.ProviderID != market && e.ProviderID != hrss && e.Status == catalog.StatusPublished {
				full, err := s.Catalog.Get(ctx, catalog.System, e.ID)
				if err != nil || len(full.Items) == 0 {
					continue
				}
				if _, err := sh.Submit(ctx, who["hrss_cdo"], share.RequestInput{EntryID: e.ID, AppID: h.AppID, Items: []string{full.Items[0].Name},
					Purpose: "社保经办核查", Basis: "《社会保险法》"}); err != nil {
					return ShareDemo{}, err
				}
				break
			}
		}
	}
	// The police's own verification service on the entry.
	if _, err := sh.RegisterService(ctx, who["police_cdo"], share.ServiceInput{EntryID: police.ID, BaseURL: "http://10.22.1.15:8080/sfhy/v1", TimeoutMS: 3000}); err != nil {
		return ShareDemo{}, fmt.Errorf("service: %w", err)
	}
	d, err := shareDemo(ctx, s, who["police_cdo"], k, police.ID)
	d.First = true
	return d, err
}

func shareDemo(ctx context.Context, s Services, police *auth.Principal, k share.NewKey, entry int64) (ShareDemo, error) {
	d := ShareDemo{AppName: DemoAppName, KeyID: k.KeyID, Secret: k.Secret, EntryID: entry, EntryKey: "公民身份号码"}
	if s.Ingest != nil {
		pg, err := s.Ingest.Records(ctx, police, entry, nil, 12, 0)
		if err != nil {
			return d, err
		}
		for _, r := range pg.Items {
			id, _ := r["公民身份号码"].(string)
			name, _ := r["姓名"].(string)
			d.people = append(d.people, [2]string{id, name})
		}
		if len(d.people) > 0 {
			d.RecordID = d.people[0][0]
		}
	}
	return d, nil
}

// findEntry finds a published entry by its exact name.
func findEntry(ctx context.Context, c *catalog.Service, name string) (catalog.Entry, error) {
	res, err := c.Search(ctx, catalog.System, catalog.SearchQuery{Q: name, Limit: 50})
	if err != nil {
		return catalog.Entry{}, err
	}
	i := slices.IndexFunc(res.Items, func(e catalog.Entry) bool { return e.Name == name && e.Status == catalog.StatusPublished })
	if i < 0 {
		return catalog.Entry{}, fmt.Errorf("demo: entry %s not found", name)
	}
	return c.Get(ctx, catalog.System, res.Items[i].ID)
}

// Calls makes a working morning of the demo application's calls through the
// gateway handler (the real path: authentication, grant, masking, audit,
// statistics), so that the statistics and the providing body's usage page
// have something to show: queries and 核验 of real records, a few that find
// nothing, and refusals (a wrong secret, an item not granted).
func (d ShareDemo) Calls(ctx context.Context, gw http.Handler) error {
	if len(d.people) == 0 {
		return nil
	}
	base := fmt.Sprintf("/gw/v1/entries/%d/", d.EntryID)
	call := func(method, path, body, secret string, n int) error {
		req, err := http.NewRequestWithContext(ctx, method, path, strings.NewReader(body))
		if err != nil {
			return err
		}
		req.RemoteAddr = "10.22.1.15:50123"
		req.Header.Set("X-Client-Id", d.KeyID)
		req.Header.Set("Authorization", "Bearer "+secret)
		req.Header.Set("X-Purpose", "企业设立登记核验法定代表人身份")
		req.Header.Set("X-Case-Id", fmt.Sprintf("QYKB-2026-%06d", 1200+n))
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		rec := httptest.NewRecorder()
		gw.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			return fmt.Errorf("demo gateway call %s %s: %d %s", method, path, rec.Code, rec.Body.String())
		}
		return nil
	}
	for i := range 48 {
		p := d.people[i%len(d.people)]
		var err error
		switch {
		case i%12 == 5: // a number the police do not hold
			err = call("GET", base+"records?"+url.Values{"公民身份号码": {"220102198001010011"}}.Encode(), "", d.Secret, i)
		case i%3 == 0: // 核验: does the name match the number?
			name := p[1]
			if i%9 == 0 {
				name = "王" + name // a mistyped name: no match
			}
			body, _ := json.Marshal(map[string]string{"公民身份号码": p[0], "姓名": name})
			err = call("POST", base+"verify", string(body), d.Secret, i)
		default:
			err = call("GET", base+"records?"+url.Values{"公民身份号码": {p[0]}}.Encode(), "", d.Secret, i)
		}
		if err != nil {
			return err
		}
	}
	// Refusals are on the record too.
	if err := call("GET", base+"records?"+url.Values{"公民身份号码": {d.people[0][0]}}.Encode(), "", "xys_wrong", 90); err != nil {
		return err
	}
	return call("GET", base+"records?"+url.Values{"户籍地址": {"长春市"}}.Encode(), "", d.Secret, 91)
}
