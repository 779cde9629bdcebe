package share

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"xiangyun/internal/auth"
	"xiangyun/internal/catalog"
	"xiangyun/internal/db"
	"xiangyun/internal/db/dbtest"
	"xiangyun/internal/errs"
	"xiangyun/internal/ident"
	"xiangyun/internal/ingest"
	"xiangyun/internal/notify"
	"xiangyun/internal/org"
	"xiangyun/internal/workday"
)

type fixture struct {
	t       testing.TB
	ctx     context.Context
	dsn     string
	control *db.DB
	data    *db.DB
	orgs    *org.Service
	cat     *catalog.Service
	ing     *ingest.Service
	nt      *notify.Service
	s       *Service
	key     []byte
	p       map[string]*auth.Principal
	bodies  map[string]org.Body
	now     atomic.Pointer[time.Time]
	// entries of the police body
	cond, uncond, none, file int64
}

func creditCode(region string, n int) string {
	oc := fmt.Sprintf("%08d", 31000000+n*71)
	c, _ := ident.OrgCodeCheckChar(oc)
	first := "11" + region + oc + string(c)
	cc, _ := ident.CreditCodeCheckChar(first)
	return first + string(cc)
}

func eachDB(t *testing.T, fn func(t *testing.T, f *fixture)) {
	t.Parallel()
	for dialect, dsn := range dbtest.TestDSNs(t) {
		t.Run(string(dialect), func(t *testing.T) {
			t.Parallel()
			fn(t, newFixture(t, dsn(t)))
		})
	}
}

func (f *fixture) clock() time.Time   { return *f.now.Load() }
func (f *fixture) setNow(t time.Time) { f.now.Store(&t) }

func newFixture(t testing.TB, dsn string) *fixture {
	t.Helper()
	ctx := context.Background()
	f := &fixture{t: t, ctx: ctx, dsn: dsn, p: map[string]*auth.Principal{}, bodies: map[string]org.Body{}}
	// 10:00 on Wednesday 2026-09-30, the day before the National Day holiday.
	f.setNow(time.Date(2026, 9, 30, 10, 0, 0, 0, workday.Location()))
	f.control = dbtest.Open(t, dsn, "control")
	f.control.Clock = f.clock
	f.data = dbtest.Open(t, dsn, "data")
	var err error
	if f.orgs, err = org.Open(ctx, f.control); err != nil {
		t.Fatal(err)
	}
	au, err := auth.Open(ctx, f.control, f.orgs, auth.DefaultPolicy)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.orgs.CreateRegion(ctx, org.Region{Code: "220000", Name: "吉林省"}); err != nil {
		t.Fatal(err)
	}
	names := map[string]string{"bureau": "吉林省政务服务和数字化建设管理局", "police": "吉林省公安厅", "market": "吉林省市场监督管理厅", "hrss": "吉林省人力资源和社会保障厅"}
	for i, b := range []string{"bureau", "police", "market", "hrss"} {
		body, err := f.orgs.CreateBody(ctx, org.BodyInput{Name: names[b], CreditCode: creditCode("220000", i+1), Kind: org.KindAgency, RegionCode: "220000"})
		if err != nil {
			t.Fatal(err)
		}
		f.bodies[b] = body
	}
	for _, u := range []struct{ name, role, body string }{
		{"reviewer", "reviewer", "bureau"}, {"reviewer2", "reviewer", "bureau"}, {"admin", "admin", "bureau"}, {"auditor", "auditor", "bureau"},
		{"police_cdo", "cdo", "police"}, {"police_cdo2", "cdo", "police"}, {"police_spec", "specialist", "police"},
		{"market_cdo", "cdo", "market"}, {"hrss_cdo", "cdo", "hrss"}, {"police_reviewer", "reviewer", "police"},
	} {
		user, err := au.CreateUser(ctx, auth.UserInput{Username: u.name, DisplayName: u.name, BodyID: f.bodies[u.body].ID, Password: "Test-password-2026"})
		if err != nil {
			t.Fatal(err)
		}
		if err := au.GrantRole(ctx, 0, user.ID, auth.Role(u.role), f.bodies[u.body].ID); err != nil {
			t.Fatal(err)
		}
		if user, err = au.User(ctx, user.ID); err != nil {
			t.Fatal(err)
		}
		f.p[u.name] = &auth.Principal{User: user}
	}
	if f.nt, err = notify.Open(ctx, f.control, notify.Options{}); err != nil {
		t.Fatal(err)
	}
	if f.cat, err = catalog.Open(ctx, f.control, f.orgs, catalog.Options{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.cat.Close() })
	if f.ing, err = ingest.Open(ctx, f.data, f.cat, ingest.Options{SpoolDir: t.TempDir(), Control: f.control}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.ing.Close)
	f.key = make([]byte, 32)
	_, _ = rand.Read(f.key)
	f.s = f.open(f.control, f.key)
	f.cond = f.publish("吉林省居民身份核验信息", catalog.ShareConditional, "仅用于政务服务身份核验", catalog.MethodAPI, "L3")
	f.uncond = f.publish("吉林省公安派出所名录", catalog.ShareUnconditional, "", catalog.MethodTable, "L1")
	f.none = f.publish("吉林省在侦案件信息", catalog.ShareNone, "依据《中华人民共和国刑事诉讼法》第一百五十二条，侦查信息不予共享", "", "L3")
	f.file = f.publish("吉林省户籍统计年报", catalog.ShareConditional, "仅用于统计分析", catalog.MethodFile, "L2")
	return f
}

func (f *fixture) open(store *db.DB, key []byte) *Service {
	f.t.Helper()
	s, err := Open(f.ctx, store, f.orgs, f.cat, Options{Key: key, DSN: f.dsn, Notify: f.nt, Ingest: f.ing, Now: f.clock,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(s.Close)
	return s
}

func (f *fixture) publish(name, shareType, cond, method, grade string) int64 {
	f.t.Helper()
	items := []catalog.Item{
		{Name: "公民身份号码", EnName: "gmsfhm", DataType: "C", Length: 18, Key: true, Sensitive: true, Mask: "id_card"},
		{Name: "姓名", EnName: "xm", DataType: "C", Length: 50, Required: true, Sensitive: true, Mask: "name"},
		{Name: "出生日期", EnName: "csrq", DataType: "D"},
		{Name: "住址", EnName: "zz", DataType: "C", Length: 100, Sensitive: true},
	}
	format, ftype := "database", "oracle"
	if method == catalog.MethodFile {
		format, ftype = "spreadsheet", "xlsx"
	}
	channel := "platform"
	if shareType == catalog.ShareNone {
		channel = ""
	}
	in := catalog.EntryInput{ProviderID: f.bodies["police"].ID, Content: catalog.Content{
		Name: name, Class: "1/01/001", Abstract: name + "，由省公安厅提供。", FormatClass: format, FormatType: ftype, Items: items,
		ShareType: shareType, ShareCondition: cond, ShareMethod: method, ShareChannel: channel,
		OpenType: catalog.OpenNone, OpenCondition: "涉及个人信息，不予开放", Cycle: "daily", Grade: grade,
	}}
	es, err := f.cat.CreatePublished(f.ctx, catalog.System, []catalog.EntryInput{in}, "")
	if err != nil {
		f.t.Fatalf("publish %s: %v", name, err)
	}
	return es[0].ID
}

func (f *fixture) app(who string) NewKey {
	f.t.Helper()
	k, err := f.s.CreateApplication(f.ctx, f.p[who], AppInput{Name: "企业开办一网通办系统", Purpose: "核验企业登记申请人的身份"})
	if err != nil {
		f.t.Fatal(err)
	}
	return k
}

func (f *fixture) submit(who string, app, entry int64, items ...string) Request {
	f.t.Helper()
	r, err := f.s.Submit(f.ctx, f.p[who], RequestInput{EntryID: entry, AppID: app, Items: items, Purpose: "企业开办时核验法定代表人身份",
		Basis: "《优化营商环境条例》第三十五条"})
	if err != nil {
		f.t.Fatal(err)
	}
	return r
}

func wantCode(t testing.TB, err error, code string) {
	t.Helper()
	e, ok := errs.As(err)
	if !ok || e.Code != code {
		t.Fatalf("got %v, want error %s", err, code)
	}
}

func (f *fixture) inbox(who string) []notify.Notification {
	f.t.Helper()
	ns, _, err := f.nt.List(f.ctx, f.p[who].User.ID, "zh", notify.Filter{})
	if err != nil {
		f.t.Fatal(err)
	}
	return ns
}

func TestUnconditionalGrantedAtOnce(t *testing.T) {
	eachDB(t, func(t *testing.T, f *fixture) {
		k := f.app("market_cdo")
		r := f.submit("market_cdo", k.AppID, f.uncond, "姓名")
		if r.Status != StatusGranted || r.GrantID == nil {
			t.Fatalf("request %+v: want granted with a grant", r)
		}
		// Recorded and visible to the provider, who is told.
		if rs, _, err := f.s.Requests(f.ctx, f.p["police_cdo"], RequestFilter{View: ViewProvider}); err != nil || len(rs) != 1 {
			t.Fatalf("provider's view: %d requests, %v", len(rs), err)
		}
		if ns := f.inbox("police_cdo"); len(ns) != 1 || ns[0].Kind != "share.granted" {
			t.Fatalf("provider's inbox: %+v", ns)
		}
		snap, err := f.s.Snapshot(f.ctx)
		if err != nil {
			t.Fatal(err)
		}
		g := snap.Grants[GrantKey{AppID: k.AppID, EntryID: f.uncond}]
		if g == nil || g.ID != *r.GrantID || strings.Join(g.Items, ",") != "姓名" || len(g.ClearItems) != 0 || g.RatePerSecond != 50 || g.DailyQuota != 100000 {
			t.Fatalf("snapshot grant %+v", g)
		}
		c := snap.Credentials[k.KeyID]
		if c == nil || c.SecretHash != SecretHash(k.Secret) || c.BodyID != f.bodies["market"].ID || string(c.SigningKey) != string(SigningKey(k.Secret)) {
			t.Fatalf("snapshot credential %+v", c)
		}
	})
}

func TestNoneRefusedWithBasis(t *testing.T) {
	eachDB(t, func(t *testing.T, f *fixture) {
		k := f.app("market_cdo")
		r := f.submit("market_cdo", k.AppID, f.none, "姓名")
		if r.Status != StatusRefused || r.GrantID != nil || !strings.Contains(r.RefuseReason, "刑事诉讼法") || !strings.Contains(r.RefuseReason, "负面清单") {
			t.Fatalf("request %+v: want refused with the entry's basis", r)
		}
	})
}

func TestRequestValidation(t *testing.T) {
	eachDB(t, func(t *testing.T, f *fixture) {
		k := f.app("market_cdo")
		own, err := f.s.CreateApplication(f.ctx, f.p["police_cdo"], AppInput{Name: "公安内部系统", Purpose: "内部使用"})
		if err != nil {
			t.Fatal(err)
		}
		in := func(app, entry int64, items ...string) RequestInput {
			return RequestInput{EntryID: entry, AppID: app, Items: items, Purpose: "核验身份", Basis: "依法履职"}
		}
		_, err = f.s.Submit(f.ctx, f.p["police_cdo"], in(own.AppID, f.cond, "姓名"))
		wantCode(t, err, "share.own_entry")
		_, err = f.s.Submit(f.ctx, f.p["market_cdo"], in(k.AppID, f.cond))
		wantCode(t, err, "validation")
		_, err = f.s.Submit(f.ctx, f.p["market_cdo"], in(k.AppID, f.cond, "姓名", "婚姻状况"))
		wantCode(t, err, "validation")
		_, err = f.s.Submit(f.ctx, f.p["market_cdo"], in(k.AppID, f.file, "姓名"))
		wantCode(t, err, "share.method")
		_, err = f.s.Submit(f.ctx, f.p["hrss_cdo"], in(k.AppID, f.cond, "姓名"))
		wantCode(t, err, "share.app_not_yours")
		_, err = f.s.Submit(f.ctx, f.p["police_spec"], in(k.AppID, f.cond, "姓名"))
		wantCode(t, err, "share.app_not_yours")
		// Applications: a consuming body's chief data officer only.
		for _, who := range []string{"reviewer", "admin", "police_spec", "auditor"} {
			if _, err := f.s.CreateApplication(f.ctx, f.p[who], AppInput{Name: "某系统", Purpose: "某用途"}); err == nil {
				t.Errorf("%s created an application", who)
			}
		}
	})
}

func TestConditionalTwoSteps(t *testing.T) {
	eachDB(t, func(t *testing.T, f *fixture) {
		k := f.app("market_cdo")
		r := f.submit("market_cdo", k.AppID, f.cond, "姓名", "公民身份号码")
		// Filed on 2026-09-30: two working days later is 2026-10-09, after
		// the National Day holiday (10-01 to 10-07) and the weekend.
		wantDue := time.Date(2026, 10, 9, 23, 59, 59, 999999000, workday.Location())
		if r.Status != StatusPending || r.Step != StepPlatform || r.DueAt == nil || !r.DueAt.Equal(wantDue) {
			t.Fatalf("request %+v (due %v): want pending at the platform step, due %v", r, r.DueAt, wantDue)
		}
		if ns := f.inbox("reviewer"); len(ns) != 1 || ns[0].Kind != KindStep {
			t.Fatalf("reviewer's inbox: %+v", ns)
		}
		if ns := f.inbox("police_reviewer"); len(ns) != 0 {
			t.Fatalf("a reviewer of the providing body was told: %+v", ns)
		}
		// Nobody but a platform reviewer of neither party answers the first step.
		for _, who := range []string{"market_cdo", "police_cdo", "hrss_cdo", "police_reviewer"} {
			_, err := f.s.Approve(f.ctx, f.p[who], r.ID, "", Terms{}, 0)
			if e, ok := errs.As(err); !ok || (e.Code != errNotYourStep.Code && e.Code != ErrNotFound.Code) {
				t.Fatalf("%s approving the platform step: %v", who, err)
			}
		}
		if q, _, _ := f.s.Requests(f.ctx, f.p["reviewer"], RequestFilter{View: ViewReview}); len(q) != 1 || !q[0].CanDecide {
			t.Fatalf("reviewer's queue: %+v", q)
		}
		// Next working day: the reviewer passes it on to the provider.
		f.setNow(time.Date(2026, 10, 8, 9, 0, 0, 0, workday.Location()))
		r, err := f.s.Approve(f.ctx, f.p["reviewer"], r.ID, "材料齐全", Terms{}, r.Revision)
		if err != nil {
			t.Fatal(err)
		}
		// The entry holds no records yet: 10 working days from 10-08.
		if r.Status != StatusPending || r.Step != StepProvider || !r.NoData || !r.DueAt.Equal(workday.AddWorkdays(f.clock(), 10).Truncate(time.Microsecond)) {
			t.Fatalf("after the platform step: %+v due %v", r, r.DueAt)
		}
		for _, who := range []string{"market_cdo", "hrss_cdo", "reviewer"} {
			if _, err := f.s.Approve(f.ctx, f.p[who], r.ID, "", Terms{}, 0); err == nil {
				t.Fatalf("%s approved the provider's step", who)
			}
		}
		_, err = f.s.Approve(f.ctx, f.p["police_cdo"], r.ID, "", Terms{ClearItems: []string{"住址"}}, 0)
		wantCode(t, err, "validation")
		r, err = f.s.Approve(f.ctx, f.p["police_cdo"], r.ID, "同意", Terms{ClearItems: []string{"姓名"}, Rate: 10, Burst: 20, DailyQuota: 5000}, 0)
		if err != nil {
			t.Fatal(err)
		}
		if r.Status != StatusGranted || r.GrantID == nil {
			t.Fatalf("after the provider's approval: %+v", r)
		}
		g, err := f.s.Grant(f.ctx, f.p["market_cdo"], *r.GrantID)
		if err != nil || strings.Join(g.ClearItems, ",") != "姓名" || g.Rate != 10 || g.Burst != 20 || g.DailyQuota != 5000 || g.Status != GrantActive {
			t.Fatalf("grant %+v, %v", g, err)
		}
		actions := []string{}
		for _, e := range r.Events {
			actions = append(actions, e.Action+"/"+e.Actor)
		}
		if strings.Join(actions, " ") != "submitted/market_cdo approved/reviewer granted/police_cdo" {
			t.Fatalf("events: %v", actions)
		}
		// The grant is not visible to a third body.
		if _, err := f.s.Grant(f.ctx, f.p["hrss_cdo"], g.ID); err == nil {
			t.Fatal("a third body sees the grant")
		}
	})
}

func TestAskMoreOnceAndRefusal(t *testing.T) {
	eachDB(t, func(t *testing.T, f *fixture) {
		k := f.app("market_cdo")
		r := f.submit("market_cdo", k.AppID, f.cond, "姓名")
		r, err := f.s.AskMore(f.ctx, f.p["reviewer"], r.ID, "1. 法定代表人授权书；2. 系统安全等级保护备案证明", 0)
		if err != nil {
			t.Fatal(err)
		}
		if !r.Waiting || r.DueAt != nil || r.MoreNeeded == "" {
			t.Fatalf("after asking: %+v", r)
		}
		// The clock stops: nobody can answer the step while it waits.
		_, err = f.s.Approve(f.ctx, f.p["reviewer"], r.ID, "", Terms{}, 0)
		wantCode(t, err, ErrMovedOn.Code)
		_, err = f.s.Supplement(f.ctx, f.p["hrss_cdo"], r.ID, "授权书见附件", 0)
		if err == nil {
			t.Fatal("another body supplemented")
		}
		f.setNow(time.Date(2026, 10, 12, 15, 0, 0, 0, workday.Location())) // Monday
		r, err = f.s.Supplement(f.ctx, f.p["market_cdo"], r.ID, "授权书与备案证明已上传，编号 2026-118", 0)
		if err != nil {
			t.Fatal(err)
		}
		if r.Waiting || !r.DueAt.Equal(time.Date(2026, 10, 14, 23, 59, 59, 999999000, workday.Location())) {
			t.Fatalf("after supplementing: %+v due %v: the clock must restart", r, r.DueAt)
		}
		_, err = f.s.AskMore(f.ctx, f.p["reviewer"], r.ID, "再补充一份材料", 0)
		wantCode(t, err, "share.asked_once")
		_, err = f.s.Refuse(f.ctx, f.p["reviewer"], r.ID, "  ", 0)
		wantCode(t, err, "share.reason_required")
		r, err = f.s.Refuse(f.ctx, f.p["reviewer"], r.ID, "申请用途与所需信息项不符", 0)
		if err != nil {
			t.Fatal(err)
		}
		if r.Status != StatusRefused || r.RefuseReason != "申请用途与所需信息项不符" {
			t.Fatalf("refused: %+v", r)
		}
		if ns := f.inbox("market_cdo"); len(ns) != 2 || ns[0].Kind != "share.refused" {
			t.Fatalf("applicant's inbox: %+v", ns)
		}
	})
}

func TestScenarioGrantsDirectly(t *testing.T) {
	eachDB(t, func(t *testing.T, f *fixture) {
		in := ScenarioInput{Name: "企业开办", Description: "企业开办一网通办", Entries: []ScenarioEntry{{EntryID: f.cond, Items: []string{"姓名", "公民身份号码"}}},
			Bodies: []int64{f.bodies["market"].ID}}
		if _, err := f.s.CreateScenario(f.ctx, f.p["market_cdo"], in); err == nil {
			t.Fatal("a department defined a scenario")
		}
		sc, err := f.s.CreateScenario(f.ctx, f.p["reviewer"], in)
		if err != nil {
			t.Fatal(err)
		}
		k := f.app("market_cdo")
		_, err = f.s.Submit(f.ctx, f.p["market_cdo"], RequestInput{EntryID: f.cond, AppID: k.AppID, Items: []string{"姓名", "住址"}, Purpose: "企业开办",
			Basis: "企业开办", ScenarioID: sc.ID})
		wantCode(t, err, "share.scenario_items")
		h := f.app("hrss_cdo")
		_, err = f.s.Submit(f.ctx, f.p["hrss_cdo"], RequestInput{EntryID: f.cond, AppID: h.AppID, Items: []string{"姓名"}, Purpose: "企业开办",
			Basis: "企业开办", ScenarioID: sc.ID})
		wantCode(t, err, "share.scenario_body")
		r, err := f.s.Submit(f.ctx, f.p["market_cdo"], RequestInput{EntryID: f.cond, AppID: k.AppID, Items: []string{"公民身份号码"}, Purpose: "企业开办",
			Basis: "企业开办", ScenarioID: sc.ID})
		if err != nil {
			t.Fatal(err)
		}
		if r.Status != StatusGranted || r.GrantID == nil {
			t.Fatalf("scenario request: %+v", r)
		}
		g, _ := f.s.Grant(f.ctx, f.p["market_cdo"], *r.GrantID)
		if g.Scenario != "企业开办" {
			t.Fatalf("grant %+v: want the scenario named", g)
		}
	})
}

// TestConcurrentApprovals: many answers to one step at once; exactly one
// wins, at both steps.
func TestConcurrentApprovals(t *testing.T) {
	eachDB(t, func(t *testing.T, f *fixture) {
		k := f.app("market_cdo")
		r := f.submit("market_cdo", k.AppID, f.cond, "姓名")
		race := func(who []string) (ok int, errsSeen []error) {
			var wg sync.WaitGroup
			var mu sync.Mutex
			for i := range 8 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					_, err := f.s.Approve(f.ctx, f.p[who[i%len(who)]], r.ID, "", Terms{}, r.Revision)
					mu.Lock()
					defer mu.Unlock()
					if err == nil {
						ok++
					} else {
						errsSeen = append(errsSeen, err)
					}
				}()
			}
			wg.Wait()
			return
		}
		ok, es := race([]string{"reviewer", "reviewer2"})
		if ok != 1 {
			t.Fatalf("platform step: %d approvals succeeded, want 1 (%v)", ok, es)
		}
		for _, err := range es {
			wantCode(t, err, ErrMovedOn.Code)
		}
		r, _ = f.s.Request(f.ctx, f.p["market_cdo"], r.ID)
		ok, es = race([]string{"police_cdo", "police_cdo2"})
		if ok != 1 {
			t.Fatalf("provider step: %d approvals succeeded, want 1 (%v)", ok, es)
		}
		gs, _, err := f.s.Grants(f.ctx, f.p["market_cdo"], GrantFilter{})
		if err != nil || len(gs) != 1 {
			t.Fatalf("%d grants, %v: want one", len(gs), err)
		}
	})
}

func TestConcurrentRevocations(t *testing.T) {
	eachDB(t, func(t *testing.T, f *fixture) {
		k := f.app("market_cdo")
		r := f.submit("market_cdo", k.AppID, f.uncond, "姓名")
		if _, err := f.s.RevokeGrant(f.ctx, f.p["hrss_cdo"], *r.GrantID, "无关单位"); err == nil {
			t.Fatal("a third body revoked the grant")
		}
		var ok atomic.Int32
		var wg sync.WaitGroup
		for i, who := range []string{"police_cdo", "market_cdo", "reviewer", "police_cdo2", "police_cdo", "market_cdo", "reviewer2", "reviewer"} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := f.s.RevokeGrant(f.ctx, f.p[who], *r.GrantID, fmt.Sprintf("第 %d 次撤销", i))
				if err == nil {
					ok.Add(1)
				} else if e, isE := errs.As(err); !isE || e.Code != "share.grant_ended" {
					t.Errorf("%s: %v", who, err)
				}
			}()
		}
		wg.Wait()
		if ok.Load() != 1 {
			t.Fatalf("%d revocations succeeded, want 1", ok.Load())
		}
		snap, err := f.s.Snapshot(f.ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(snap.Grants) != 0 {
			t.Fatalf("revoked grant in the snapshot: %+v", snap.Grants)
		}
		g, _ := f.s.Grant(f.ctx, f.p["police_cdo"], *r.GrantID)
		if g.Status != GrantRevoked || g.RevokeReason == "" {
			t.Fatalf("grant %+v", g)
		}
	})
}

// TestSecretNeverStored: neither the secret nor the signing key appears in
// any column of the credential table; a database copy under another
// platform key cannot sign.
func TestSecretNeverStored(t *testing.T) {
	eachDB(t, func(t *testing.T, f *fixture) {
		k := f.app("market_cdo")
		rot, err := f.s.RotateKey(f.ctx, f.p["market_cdo"], k.AppID, 0)
		if err != nil {
			t.Fatal(err)
		}
		rows, err := f.control.R.Query(`SELECT key_id, app_id, secret_hash, signing_sealed, created_by, created_at, COALESCE(not_after, ''), COALESCE(revoked_at, ''), revoked_by FROM share_credentials`)
		if err != nil {
			t.Fatal(err)
		}
		var all strings.Builder
		n := 0
		for rows.Next() {
			vals := make([]string, 9)
			ptrs := make([]any, 9)
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			all.WriteString(strings.Join(vals, "|"))
			n++
		}
		rows.Close()
		if n != 2 {
			t.Fatalf("%d credentials, want 2", n)
		}
		for _, sec := range []string{k.Secret, rot.Secret} {
			for _, needle := range []string{sec, strings.TrimPrefix(sec, "xys_"), hex.EncodeToString(SigningKey(sec))} {
				if strings.Contains(all.String(), needle) {
					t.Fatalf("the credential table holds a secret or signing key in clear")
				}
			}
			h := SecretHash(sec)
			if !strings.Contains(all.String(), hex.EncodeToString(h[:])) {
				t.Fatal("the secret's hash is not stored")
			}
		}
		other := make([]byte, 32)
		_, _ = rand.Read(other)
		snap, err := f.open(f.control, other).Snapshot(f.ctx)
		if err != nil {
			t.Fatal(err)
		}
		if c := snap.Credentials[rot.KeyID]; c == nil || c.SigningKey != nil {
			t.Fatalf("under another platform key: %+v, want the key without a signing key", c)
		}
	})
}

func TestKeyRotationOverlap(t *testing.T) {
	eachDB(t, func(t *testing.T, f *fixture) {
		k := f.app("market_cdo")
		if _, err := f.s.RotateKey(f.ctx, f.p["hrss_cdo"], k.AppID, 0); err == nil {
			t.Fatal("another body rotated the key")
		}
		start := f.clock()
		rot, err := f.s.RotateKey(f.ctx, f.p["market_cdo"], k.AppID, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		snap, _ := f.s.Snapshot(f.ctx)
		old, cur := snap.Credentials[k.KeyID], snap.Credentials[rot.KeyID]
		if old == nil || cur == nil || !old.NotAfter.Equal(start.Add(time.Hour)) || !cur.NotAfter.IsZero() {
			t.Fatalf("during the overlap: old %+v new %+v", old, cur)
		}
		f.setNow(start.Add(time.Hour + time.Second))
		snap, _ = f.s.Snapshot(f.ctx)
		if snap.Credentials[k.KeyID] != nil || snap.Credentials[rot.KeyID] == nil {
			t.Fatalf("after the overlap: %v", snap.Credentials)
		}
		if err := f.s.RevokeKey(f.ctx, f.p["market_cdo"], k.AppID, rot.KeyID); err != nil {
			t.Fatal(err)
		}
		snap, _ = f.s.Snapshot(f.ctx)
		if len(snap.Credentials) != 0 {
			t.Fatalf("revoked key in the snapshot: %v", snap.Credentials)
		}
		a, _ := f.s.Application(f.ctx, f.p["market_cdo"], k.AppID)
		if len(a.Keys) != 2 || a.Keys[0].Live || a.Keys[1].Live {
			t.Fatalf("keys %+v", a.Keys)
		}
	})
}

func TestGrantValidityAndSupersede(t *testing.T) {
	eachDB(t, func(t *testing.T, f *fixture) {
		k := f.app("market_cdo")
		r, err := f.s.Submit(f.ctx, f.p["market_cdo"], RequestInput{EntryID: f.uncond, AppID: k.AppID, Items: []string{"姓名"}, Purpose: "名录查询",
			Basis: "依法履职", ValidTo: "2026-10-31", RowScope: map[string]string{"住址": "长春市"}})
		if err != nil {
			t.Fatal(err)
		}
		snap, _ := f.s.Snapshot(f.ctx)
		g := snap.Grants[GrantKey{k.AppID, f.uncond}]
		if g == nil || g.RowScope["住址"] != "长春市" || !g.ValidTo.Equal(time.Date(2026, 11, 1, 0, 0, 0, 0, workday.Location())) {
			t.Fatalf("grant %+v", g)
		}
		r2 := f.submit("market_cdo", k.AppID, f.uncond, "姓名", "出生日期")
		old, _ := f.s.Grant(f.ctx, f.p["market_cdo"], *r.GrantID)
		if old.Status != GrantSuperseded {
			t.Fatalf("older grant %+v: want superseded", old)
		}
		f.setNow(time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC))
		snap, _ = f.s.Snapshot(f.ctx)
		if g := snap.Grants[GrantKey{k.AppID, f.uncond}]; g == nil || g.ID != *r2.GrantID {
			t.Fatalf("grant without end missing: %+v", snap.Grants)
		}
	})
}

func TestDeadlineNotices(t *testing.T) {
	eachDB(t, func(t *testing.T, f *fixture) {
		k := f.app("market_cdo")
		r := f.submit("market_cdo", k.AppID, f.cond, "姓名")
		if n, err := f.s.NotifyDeadlines(f.ctx); err != nil || n != 0 {
			t.Fatalf("at filing: %d notices, %v", n, err)
		}
		// 10-09 is the last working day: near.
		f.setNow(time.Date(2026, 10, 9, 9, 0, 0, 0, workday.Location()))
		if n, err := f.s.NotifyDeadlines(f.ctx); err != nil || n != 2 {
			t.Fatalf("on the last day: %d notices, %v (want one to each of two reviewers)", n, err)
		}
		// Past: concurrent runs notify once.
		f.setNow(time.Date(2026, 10, 10, 9, 0, 0, 0, workday.Location()))
		var total atomic.Int64
		var wg sync.WaitGroup
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				n, err := f.s.NotifyDeadlines(f.ctx)
				if err != nil {
					t.Error(err)
				}
				total.Add(int64(n))
			}()
		}
		wg.Wait()
		if total.Load() != 2 {
			t.Fatalf("overdue: %d notices from concurrent runs, want 2", total.Load())
		}
		q, _, _ := f.s.Requests(f.ctx, f.p["reviewer"], RequestFilter{View: ViewReview})
		if len(q) != 1 || !q[0].Overdue || q[0].ID != r.ID || q[0].DaysLeft == nil || *q[0].DaysLeft >= 0 {
			t.Fatalf("queue %+v: want the request marked overdue", q)
		}
	})
}

func TestDemandLinked(t *testing.T) {
	eachDB(t, func(t *testing.T, f *fixture) {
		d, err := f.cat.CreateDemand(f.ctx, f.p["market_cdo"], catalog.DemandInput{BodyID: f.bodies["market"].ID, Title: "企业法定代表人身份核验", Items: "姓名、公民身份号码"})
		if err != nil {
			t.Fatal(err)
		}
		k := f.app("market_cdo")
		r, err := f.s.Submit(f.ctx, f.p["market_cdo"], RequestInput{EntryID: f.cond, AppID: k.AppID, Items: []string{"姓名"}, Purpose: "核验", Basis: "依法履职", DemandID: d.ID})
		if err != nil {
			t.Fatal(err)
		}
		if r.DemandID != d.ID {
			t.Fatalf("request %+v: demand not kept", r)
		}
		d, _ = f.cat.Demand(f.ctx, d.ID)
		if d.Status != catalog.DemandMatched || len(d.Links) != 1 || d.Links[0].EntryID != f.cond {
			t.Fatalf("demand %+v: want matched and linked to the entry", d)
		}
		other, _ := f.cat.CreateDemand(f.ctx, f.p["hrss_cdo"], catalog.DemandInput{BodyID: f.bodies["hrss"].ID, Title: "社保身份核验"})
		_, err = f.s.Submit(f.ctx, f.p["market_cdo"], RequestInput{EntryID: f.cond, AppID: k.AppID, Items: []string{"姓名"}, Purpose: "核验", Basis: "依法履职", DemandID: other.ID})
		wantCode(t, err, "share.demand")
	})
}

func TestServices(t *testing.T) {
	eachDB(t, func(t *testing.T, f *fixture) {
		for _, u := range []string{"ftp://10.1.1.1/x", "http://user:pw@10.1.1.1/", "javascript:alert(1)", "http:///x", "/relative"} {
			_, err := f.s.RegisterService(f.ctx, f.p["police_cdo"], ServiceInput{EntryID: f.cond, BaseURL: u})
			wantCode(t, err, "validation")
		}
		if _, err := f.s.RegisterService(f.ctx, f.p["market_cdo"], ServiceInput{EntryID: f.cond, BaseURL: "http://10.1.1.1/"}); err == nil {
			t.Fatal("another body registered a service on the police entry")
		}
		v0, _ := f.s.Version(f.ctx)
		sv, err := f.s.RegisterService(f.ctx, f.p["police_cdo"], ServiceInput{EntryID: f.cond, BaseURL: "https://gat.jl.gov.cn/api/verify/", TimeoutMS: 3000})
		if err != nil {
			t.Fatal(err)
		}
		snap, _ := f.s.Snapshot(f.ctx)
		ps := snap.Services[f.cond]
		if ps == nil || ps.BaseURL != "https://gat.jl.gov.cn/api/verify" || ps.Timeout != 3*time.Second || snap.Version != v0+1 {
			t.Fatalf("service %+v at version %d (was %d)", ps, snap.Version, v0)
		}
		if err := f.s.DeleteService(f.ctx, f.p["police_cdo"], sv.ID); err != nil {
			t.Fatal(err)
		}
		snap, _ = f.s.Snapshot(f.ctx)
		if len(snap.Services) != 0 {
			t.Fatal("deleted service in the snapshot")
		}
	})
}

// TestSubscribeInProcess: a change through the service calls subscribers
// after the commit with the new version.
func TestSubscribeInProcess(t *testing.T) {
	eachDB(t, func(t *testing.T, f *fixture) {
		got := make(chan int64, 16)
		cancel := f.s.Subscribe(func(v int64) { got <- v })
		defer cancel()
		k := f.app("market_cdo")
		want, _ := f.s.Version(f.ctx)
		for {
			select {
			case v := <-got:
				if v == want {
					_ = k
					return
				}
			case <-time.After(10 * time.Second):
				t.Fatalf("no call for version %d", want)
			}
		}
	})
}

// TestCrossNodeRevocation: two services (two nodes) on one PostgreSQL
// database; a revocation through one reaches the other's subscriber
// through LISTEN/NOTIFY. The delay is logged; the bound is generous.
func TestCrossNodeRevocation(t *testing.T) {
	t.Parallel()
	dsn := dbtest.TestDSNs(t)[db.Postgres](t)
	f := newFixture(t, dsn)
	k := f.app("market_cdo")
	r := f.submit("market_cdo", k.AppID, f.uncond, "姓名")
	second := dbtest.Open(t, dsn, "control")
	b := f.open(second, f.key)
	type seen struct {
		v  int64
		at time.Time
	}
	got := make(chan seen, 64)
	cancel := b.Subscribe(func(v int64) { got <- seen{v, time.Now()} })
	defer cancel()
	time.Sleep(200 * time.Millisecond) // the listener connects
	start := time.Now()
	if _, err := f.s.RevokeGrant(f.ctx, f.p["police_cdo"], *r.GrantID, "停止合作"); err != nil {
		t.Fatal(err)
	}
	want, _ := f.s.Version(f.ctx)
	deadline := time.After(3 * time.Second)
	for {
		select {
		case s := <-got:
			if s.v < want {
				continue
			}
			t.Logf("revocation seen by the second node after %v", s.at.Sub(start))
			snap, err := b.Snapshot(f.ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(snap.Grants) != 0 || snap.Version < want {
				t.Fatalf("second node's snapshot still has the grant: %+v", snap)
			}
			return
		case <-deadline:
			t.Fatal("the second node did not hear of the revocation within 3 s")
		}
	}
}

func TestPlatformKeyFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "share.key")
	k1, err := LoadOrCreateKey(path)
	if err != nil {
		t.Fatal(err)
	}
	k2, err := LoadOrCreateKey(path)
	if err != nil || string(k1) != string(k2) || len(k1) != 32 {
		t.Fatalf("key reloaded differently: %v", err)
	}
	st, _ := os.Stat(path)
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v", st.Mode().Perm())
	}
}

// TestConcurrentGrantsOnePair: many requests of one application on one
// entry granted at once; every one succeeds and exactly one grant stays
// active (the others superseded), so the gateway's key is unambiguous.
func TestConcurrentGrantsOnePair(t *testing.T) {
	eachDB(t, func(t *testing.T, f *fixture) {
		k := f.app("market_cdo")
		var wg sync.WaitGroup
		for range 6 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := f.s.Submit(f.ctx, f.p["market_cdo"], RequestInput{EntryID: f.uncond, AppID: k.AppID, Items: []string{"姓名"}, Purpose: "名录查询", Basis: "依法履职"})
				if err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		gs, _, err := f.s.Grants(f.ctx, f.p["market_cdo"], GrantFilter{})
		if err != nil {
			t.Fatal(err)
		}
		active := 0
		for _, g := range gs {
			if g.Status == GrantActive {
				active++
			} else if g.Status != GrantSuperseded {
				t.Errorf("grant %d: %s", g.ID, g.Status)
			}
		}
		if len(gs) != 6 || active != 1 {
			t.Fatalf("%d grants, %d active; want 6 and 1", len(gs), active)
		}
	})
}

// TestListenerLoss: the second node's LISTEN connection is killed; a change
// made meanwhile still reaches its subscriber (the poll, then the
// reconnected listener), and later changes arrive through NOTIFY again.
func TestListenerLoss(t *testing.T) {
	t.Parallel()
	dsn := dbtest.TestDSNs(t)[db.Postgres](t)
	f := newFixture(t, dsn)
	k := f.app("market_cdo")
	second := dbtest.Open(t, dsn, "control")
	b := f.open(second, f.key)
	got := make(chan int64, 64)
	cancel := b.Subscribe(func(v int64) { got <- v })
	defer cancel()
	waitFor := func(want int64, what string) {
		t.Helper()
		deadline := time.After(5 * time.Second)
		for {
			select {
			case v := <-got:
				if v >= want {
					return
				}
			case <-deadline:
				t.Fatalf("%s: version %d not seen within 5 s", what, want)
			}
		}
	}
	time.Sleep(200 * time.Millisecond)
	var killed int
	if err := f.control.R.QueryRow(`SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE datname = current_database() AND query LIKE 'LISTEN %'`).Scan(&killed); err != nil || killed == 0 {
		t.Fatalf("killed %d listeners: %v", killed, err)
	}
	if _, err := f.s.RotateKey(f.ctx, f.p["market_cdo"], k.AppID, 0); err != nil {
		t.Fatal(err)
	}
	v, _ := f.s.Version(f.ctx)
	waitFor(v, "after the listener was killed")
	time.Sleep(1500 * time.Millisecond) // the listener reconnects
	start := time.Now()
	if err := f.s.RevokeApplication(f.ctx, f.p["market_cdo"], k.AppID); err != nil {
		t.Fatal(err)
	}
	v, _ = f.s.Version(f.ctx)
	waitFor(v, "after reconnecting")
	t.Logf("after reconnecting, a change reached the second node in %v", time.Since(start))
}
