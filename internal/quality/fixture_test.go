package quality

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"xiangyun/internal/auth"
	"xiangyun/internal/catalog"
	"xiangyun/internal/db"
	"xiangyun/internal/db/dbtest"
	"xiangyun/internal/ident"
	"xiangyun/internal/notify"
	"xiangyun/internal/org"
)

// fixture is a catalog with two provider bodies, users in the quality
// roles, and the quality service, on one backend.
type fixture struct {
	t      testing.TB
	ctx    context.Context
	store  *db.DB
	cat    *catalog.Service
	q      *Service
	notify *notify.Service
	bodies map[string]org.Body
	p      map[string]*auth.Principal

	mu  sync.Mutex
	now time.Time
}

var fixtureBodies = []struct{ key, name, region string }{
	{"bureau", "吉林省政务服务和数字化建设管理局", "220000"},
	{"police", "吉林省公安厅", "220000"},
	{"market", "吉林省市场监督管理厅", "220000"},
}

var fixtureUsers = []struct{ name, role, body string }{
	{"reviewer", "reviewer", "bureau"},
	{"admin", "admin", "bureau"},
	{"police_cdo", "cdo", "police"},
	{"police_spec", "specialist", "police"},
	{"market_cdo", "cdo", "market"},
	{"auditor", "auditor", "bureau"},
}

func creditCode(region string, n int) string {
	oc := fmt.Sprintf("%08d", 21000000+n*53)
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

func newFixture(t testing.TB, dsn string) *fixture {
	t.Helper()
	ctx := context.Background()
	store := dbtest.Open(t, dsn, "control")
	f := &fixture{t: t, ctx: ctx, store: store, bodies: map[string]org.Body{}, p: map[string]*auth.Principal{},
		now: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}
	store.Clock = f.clock
	orgs, err := org.Open(ctx, store)
	if err != nil {
		t.Fatal(err)
	}
	au, err := auth.Open(ctx, store, orgs, auth.DefaultPolicy)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := orgs.CreateRegion(ctx, org.Region{Code: "220000", Name: "吉林省"}); err != nil {
		t.Fatal(err)
	}
	for i, b := range fixtureBodies {
		body, err := orgs.CreateBody(ctx, org.BodyInput{Name: b.name, CreditCode: creditCode(b.region, i+1), Kind: org.KindAgency, RegionCode: b.region})
		if err != nil {
			t.Fatal(err)
		}
		f.bodies[b.key] = body
	}
	for _, u := range fixtureUsers {
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
	if f.cat, err = catalog.Open(ctx, store, orgs, catalog.Options{Now: f.clock}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.cat.Close() })
	if f.notify, err = notify.Open(ctx, store, notify.Options{}); err != nil {
		t.Fatal(err)
	}
	if f.q, err = Open(ctx, store, f.cat, Options{Now: f.clock, Notify: f.notify}); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) clock() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

func (f *fixture) advance(d time.Duration) {
	f.mu.Lock()
	f.now = f.now.Add(d)
	f.mu.Unlock()
}

// entry publishes an entry of body with the population items.
func (f *fixture) entry(body, name, cycle string, items ...catalog.Item) catalog.Entry {
	f.t.Helper()
	if items == nil {
		items = []catalog.Item{
			{Name: "公民身份号码", EnName: "gmsfhm", DataType: "C", Length: 18, Key: true},
			{Name: "姓名", EnName: "xm", DataType: "C", Length: 50, Required: true},
			{Name: "出生日期", EnName: "csrq", DataType: "D"},
		}
	}
	in := catalog.EntryInput{ProviderID: f.bodies[body].ID, Content: catalog.Content{
		Name: name, Class: "1/01/001", Abstract: "全省户籍人口的姓名、公民身份号码、出生日期等基本信息。",
		FormatClass: "database", FormatType: "oracle", Items: items,
		ShareType: catalog.ShareConditional, ShareCondition: "仅用于政务服务身份核验", ShareMethod: catalog.MethodTable, ShareChannel: "platform",
		OpenType: catalog.OpenNone, OpenCondition: "涉及个人信息，不予开放", Cycle: cycle, Grade: "L3",
	}}
	es, err := f.cat.CreatePublished(f.ctx, catalog.System, []catalog.EntryInput{in}, "test")
	if err != nil {
		f.t.Fatal(err)
	}
	return es[0]
}

// batch checks rows through a checker as ingest does and records the batch.
func (f *fixture) batch(entryID, batchID int64, rows []map[string]string) (map[string]int, []Violation) {
	f.t.Helper()
	e, err := f.cat.Get(f.ctx, catalog.System, entryID)
	if err != nil {
		f.t.Fatal(err)
	}
	c, err := f.q.Checker(f.ctx, entryID, e.Items)
	if err != nil {
		f.t.Fatal(err)
	}
	per := map[string]int{}
	var all []Violation
	rejected := 0
	for _, r := range rows {
		vs := c.Row(r)
		if len(vs) > 0 {
			rejected++
		}
		all = append(all, vs...)
		Tally(per, vs, nil)
	}
	Tally(per, nil, c.Finish())
	if err := f.store.Tx(f.ctx, func(tx *db.Tx) error {
		return f.q.RecordBatch(tx, entryID, batchID, len(rows), rejected, per)
	}); err != nil {
		f.t.Fatal(err)
	}
	return per, all
}
