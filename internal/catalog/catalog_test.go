package catalog

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"xiangyun/internal/auth"
	"xiangyun/internal/db"
	"xiangyun/internal/db/dbtest"
	"xiangyun/internal/errs"
	"xiangyun/internal/ident"
	"xiangyun/internal/org"
)

// fixture is a catalog on one backend with a province, a city, a few bodies
// and users in every catalog role.
type fixture struct {
	t      testing.TB
	ctx    context.Context
	store  *db.DB
	s      *Service
	orgs   *org.Service
	bodies map[string]org.Body
	p      map[string]*auth.Principal

	mu  sync.Mutex
	now time.Time
}

// Bodies of the fixture, by short name.
var fixtureBodies = []struct{ key, name, region string }{
	{"bureau", "吉林省政务服务和数字化建设管理局", "220000"},
	{"police", "吉林省公安厅", "220000"},
	{"market", "吉林省市场监督管理厅", "220000"},
	{"hrss", "吉林省人力资源和社会保障厅", "220000"},
	{"city", "长春市政务服务和数字化建设管理局", "220100"},
}

// Users of the fixture: name → grants (role at body).
var fixtureUsers = []struct {
	name, body string
	grants     [][2]string
}{
	{"reviewer", "bureau", [][2]string{{"reviewer", "bureau"}}},
	{"admin", "bureau", [][2]string{{"admin", "bureau"}}},
	{"police_cdo", "police", [][2]string{{"cdo", "police"}}},
	{"police_spec", "police", [][2]string{{"specialist", "police"}}},
	{"market_cdo", "market", [][2]string{{"cdo", "market"}}},
	{"hrss_cdo", "hrss", [][2]string{{"cdo", "hrss"}}},
	{"city_cdo", "city", [][2]string{{"cdo", "city"}}},
	// A reviewer who is also the police department's chief data officer.
	{"dual", "bureau", [][2]string{{"reviewer", "bureau"}, {"cdo", "police"}}},
}

func creditCode(prefix, region string, n int) string {
	oc := fmt.Sprintf("%08d", 21000000+n*53)
	c, err := ident.OrgCodeCheckChar(oc)
	if err != nil {
		panic(err)
	}
	first := prefix + region + oc + string(c)
	cc, err := ident.CreditCodeCheckChar(first)
	if err != nil {
		panic(err)
	}
	return first + string(cc)
}

// eachDB runs fn on a fresh fixture on every backend, in parallel with
// the other tests.
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
	orgs, err := org.Open(ctx, store)
	if err != nil {
		t.Fatal(err)
	}
	au, err := auth.Open(ctx, store, orgs, auth.DefaultPolicy)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, ctx: ctx, store: store, orgs: orgs, bodies: map[string]org.Body{}, p: map[string]*auth.Principal{},
		now: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}
	for _, r := range []org.Region{{Code: "220000", Name: "吉林省"}, {Code: "220100", Name: "长春市"}} {
		if _, err := orgs.CreateRegion(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	for i, b := range fixtureBodies {
		body, err := orgs.CreateBody(ctx, org.BodyInput{Name: b.name, CreditCode: creditCode("11", b.region, i+1), Kind: org.KindAgency, RegionCode: b.region})
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
		for _, g := range u.grants {
			if err := au.GrantRole(ctx, 0, user.ID, auth.Role(g[0]), f.bodies[g[1]].ID); err != nil {
				t.Fatal(err)
			}
		}
		if user, err = au.User(ctx, user.ID); err != nil {
			t.Fatal(err)
		}
		f.p[u.name] = &auth.Principal{User: user}
	}
	f.s, err = Open(ctx, store, orgs, Options{Now: f.clock})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.s.Close() })
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

// input returns a valid entry of body: a conditionally shared, not opened
// population table.
func (f *fixture) input(body, name string) EntryInput {
	return EntryInput{ProviderID: f.bodies[body].ID, Content: Content{
		Name: name, Class: "1/01/001", Abstract: "全省户籍人口的姓名、公民身份号码、出生日期等基本信息。",
		FormatClass: "database", FormatType: "oracle",
		Items: []Item{
			{Name: "公民身份号码", EnName: "gmsfhm", DataType: "C", Length: 18, Key: true, Sensitive: true, Mask: "id_card"},
			{Name: "姓名", EnName: "xm", DataType: "C", Length: 50, Required: true, Sensitive: true, Mask: "name"},
			{Name: "出生日期", EnName: "csrq", DataType: "D"},
		},
		ShareType: ShareConditional, ShareCondition: "仅用于政务服务身份核验", ShareMethod: MethodAPI, ShareChannel: "platform",
		OpenType: OpenNone, OpenCondition: "涉及个人信息，不予开放", Cycle: "daily", Grade: "L3",
	}}
}

func (f *fixture) create(who string, in EntryInput) Entry {
	f.t.Helper()
	e, err := f.s.Create(f.ctx, f.p[who], in)
	if err != nil {
		f.t.Fatalf("create %q as %s: %v", in.Name, who, err)
	}
	return e
}

// published creates, submits and publishes an entry.
func (f *fixture) published(in EntryInput) Entry {
	f.t.Helper()
	e, err := f.s.Create(f.ctx, System, in)
	if err != nil {
		f.t.Fatalf("create %q: %v", in.Name, err)
	}
	return f.publish(e.ID)
}

func (f *fixture) publish(id int64) Entry {
	f.t.Helper()
	if _, err := f.s.Submit(f.ctx, System, id, ""); err != nil {
		f.t.Fatalf("submit %d: %v", id, err)
	}
	reviewer := f.p["reviewer"]
	if e, _ := f.s.Get(f.ctx, System, id); e.ProviderID == f.bodies["bureau"].ID {
		reviewer = System // the bureau's reviewers may not review the bureau's entries
	}
	e, err := f.s.Publish(f.ctx, reviewer, id, "同意")
	if err != nil {
		f.t.Fatalf("publish %d: %v", id, err)
	}
	return e
}

func (f *fixture) count(table string) int {
	f.t.Helper()
	var n int
	if err := f.store.R.QueryRowContext(f.ctx, "SELECT COUNT(*) FROM "+table).Scan(&n); err != nil {
		f.t.Fatal(err)
	}
	return n
}

// wantField checks that err is a validation error naming field with code.
func wantField(t testing.TB, err error, field, code string) {
	t.Helper()
	e, ok := errs.As(err)
	if !ok {
		t.Fatalf("want %s %s, got %v", field, code, err)
	}
	for _, fe := range e.Fields {
		if fe.Field == field && fe.Code == code {
			if fe.ZH == "" || fe.EN == "" {
				t.Errorf("%s %s: message missing: %+v", field, code, fe)
			}
			return
		}
	}
	t.Fatalf("want %s %s, got %v", field, code, err)
}

func wantKind(t testing.TB, err error, k errs.Kind, code string) {
	t.Helper()
	e, ok := errs.As(err)
	if !ok || e.Kind != k || (code != "" && e.Code != code) {
		t.Fatalf("want kind %d code %q, got %v (%#v)", k, code, err, e)
	}
}

func TestValidationRules(t *testing.T) {
	eachDB(t, func(t *testing.T, f *fixture) {
		ok := f.input("police", "吉林省常住人口基本信息")
		if err := f.s.ValidateInput(f.ctx, ok); err != nil {
			t.Fatalf("valid input refused: %v", err)
		}
		item := func(i int, fn func(*Item)) func(*EntryInput) {
			return func(in *EntryInput) { fn(&in.Items[i]) }
		}
		tests := []struct {
			name, field, code string
			mod               func(*EntryInput)
		}{
			{"no name", "name", "required", func(in *EntryInput) { in.Name = " " }},
			{"no class", "class", "required", func(in *EntryInput) { in.Class = "" }},
			{"bad class", "class", "catalog.class_format", func(in *EntryInput) { in.Class = "4/01/001" }},
			{"unknown base catalog", "class", "catalog.class_item", func(in *EntryInput) { in.Class = "1/09/001" }},
			{"unknown theme", "class", "catalog.class_item", func(in *EntryInput) { in.Class = "2/99/001" }},
			{"no provider", "provider_id", "required", func(in *EntryInput) { in.ProviderID = 0 }},
			{"unknown provider", "provider_id", "catalog.provider_not_found", func(in *EntryInput) { in.ProviderID = 9999 }},
			{"provider code mismatch", "provider_code", "catalog.provider_code_mismatch", func(in *EntryInput) { in.ProviderCode = f.bodies["market"].CreditCode }},
			{"no abstract", "abstract", "required", func(in *EntryInput) { in.Abstract = "" }},
			{"unknown format", "format_class", "catalog.unknown_value", func(in *EntryInput) { in.FormatClass = "papyrus" }},
			{"format type of another class", "format_type", "catalog.format_type", func(in *EntryInput) { in.FormatType = "pdf" }},
			{"no items", "items", "catalog.items_required", func(in *EntryInput) { in.Items = nil }},
			{"no key item", "items", "catalog.key_required", item(0, func(it *Item) { it.Key = false })},
			{"duplicate item", "items[2].name", "catalog.item_duplicate", item(2, func(it *Item) { it.Name = "姓名" })},
			{"unknown data type", "items[2].data_type", "catalog.unknown_value", item(2, func(it *Item) { it.DataType = "X" })},
			{"character without length", "items[1].length", "catalog.item_length_required", item(1, func(it *Item) { it.Length = 0 })},
			{"bad english name", "items[1].en_name", "catalog.item_en_name", item(1, func(it *Item) { it.EnName = "1xm" })},
			{"unknown mask", "items[1].mask", "catalog.unknown_value", item(1, func(it *Item) { it.Mask = "blur" })},
			{"no share type", "share_type", "required", func(in *EntryInput) { in.ShareType = "" }},
			{"conditional without conditions", "share_condition", "catalog.share_condition_required", func(in *EntryInput) { in.ShareCondition = "" }},
			{"not shared without basis", "share_condition", "catalog.share_basis_required", func(in *EntryInput) {
				in.ShareType, in.ShareCondition = ShareNone, ""
			}},
			{"shared without method", "share_method", "catalog.share_method_required", func(in *EntryInput) { in.ShareMethod = "" }},
			{"file resource by api", "share_method", "catalog.share_method_format", func(in *EntryInput) {
				in.FormatClass, in.FormatType, in.ShareMethod = "spreadsheet", "xlsx", MethodAPI
			}},
			{"database resource as file", "share_method", "catalog.share_method_format", func(in *EntryInput) { in.ShareMethod = MethodFile }},
			{"unknown channel", "share_channel", "catalog.unknown_value", func(in *EntryInput) { in.ShareChannel = "pigeon" }},
			{"conditional open without conditions", "open_condition", "catalog.open_condition_required", func(in *EntryInput) {
				in.OpenType, in.OpenCondition = OpenConditional, ""
			}},
			{"not opened without basis", "open_condition", "catalog.open_basis_required", func(in *EntryInput) { in.OpenCondition = "" }},
			{"unknown cycle", "cycle", "catalog.unknown_value", func(in *EntryInput) { in.Cycle = "hourly" }},
			{"unknown grade", "grade", "catalog.unknown_value", func(in *EntryInput) { in.Grade = "L9" }},
			{"L4 never opened", "open_type", "catalog.grade_open", func(in *EntryInput) {
				in.Grade, in.OpenType, in.OpenCondition = "L4", OpenConditional, "经审核开放"
			}},
			{"L3 open only on conditions", "open_type", "catalog.grade_open", func(in *EntryInput) { in.OpenType = OpenUnconditional }},
			{"L4 not shared unconditionally", "share_type", "catalog.grade_share", func(in *EntryInput) {
				in.Grade, in.ShareType = "L4", ShareUnconditional
			}},
			{"opened sensitive item unmasked", "items[1].mask", "catalog.mask_required", func(in *EntryInput) {
				in.OpenType, in.OpenCondition = OpenConditional, "经审核后开放"
				in.Items[1].Mask = "none"
			}},
			{"classified", "classified", "catalog.classified", func(in *EntryInput) { in.Classified = true }},
			{"unknown related", "related[0]", "catalog.related_not_found", func(in *EntryInput) { in.Related = []string{"1/01/001/999999"} }},
		}
		for _, tt := range tests {
			in := f.input("police", "吉林省常住人口基本信息")
			in.Items = slices.Clone(in.Items)
			tt.mod(&in)
			err := f.s.ValidateInput(f.ctx, in)
			if err == nil {
				t.Errorf("%s: accepted", tt.name)
				continue
			}
			wantField(t, err, tt.field, tt.code)
		}

		// Labels and alternative spellings are accepted and stored as codes.
		in := f.input("police", "吉林省常住人口基本信息")
		in.ShareType, in.OpenType, in.Cycle, in.FormatClass, in.FormatType = "有条件共享", "不予开放", "每日", "数据库", "Oracle"
		in.ShareMethod, in.Grade, in.Items[0].DataType = "接口", "三级", "字符型"
		e := f.create("police_cdo", in)
		if e.ShareType != ShareConditional || e.OpenType != OpenNone || e.Cycle != "daily" || e.FormatClass != "database" ||
			e.Grade != "L3" || e.ShareMethod != MethodAPI || e.Items[0].DataType != "C" {
			t.Errorf("labels not normalised: %+v", e.Content)
		}
		if !e.Items[0].Required {
			t.Error("a key item is required")
		}
		// Lookup of the provider by its credit code.
		in = f.input("police", "吉林省居住证信息")
		in.ProviderID, in.ProviderCode = 0, f.bodies["police"].CreditCode
		if e := f.create("police_cdo", in); e.ProviderID != f.bodies["police"].ID || e.ProviderCode != f.bodies["police"].CreditCode {
			t.Errorf("provider by code: %+v", e)
		}
	})
}

// Text that looks like markup, SQL or a path is ordinary text: stored and
// read back exactly as typed (queries are parameterised, pages escape);
// ordinary government text is accepted. Control characters, bidi overrides
// and invalid UTF-8 are refused, and refused input writes nothing.
func TestHostileTextVerbatim(t *testing.T) {
	hostile := []string{"<script>alert(1)</script>", "x'; DROP TABLE entries; --", "人口 UNION SELECT password FROM users",
		"../../../etc/passwd", `"><img src=x onerror=alert(1)>`, "经省政数局审批", "2019--2024年", "1/*注释*/；“授权共享”"}
	fields := []struct {
		field string
		set   func(*EntryInput, string)
		get   func(*Entry) string
	}{
		{"name", func(in *EntryInput, s string) { in.Name = s }, func(e *Entry) string { return e.Name }},
		{"abstract", func(in *EntryInput, s string) { in.Abstract = s }, func(e *Entry) string { return e.Abstract }},
		{"share_condition", func(in *EntryInput, s string) { in.ShareCondition = s }, func(e *Entry) string { return e.ShareCondition }},
		{"open_condition", func(in *EntryInput, s string) { in.OpenCondition = s }, func(e *Entry) string { return e.OpenCondition }},
		{"items[0].name", func(in *EntryInput, s string) { in.Items[0].Name = s }, func(e *Entry) string { return e.Items[0].Name }},
		{"items[0].code_list", func(in *EntryInput, s string) { in.Items[0].CodeList = s }, func(e *Entry) string { return e.Items[0].CodeList }},
	}
	eachDB(t, func(t *testing.T, f *fixture) {
		for _, fl := range fields {
			for _, h := range hostile {
				in := f.input("police", "吉林省常住人口基本信息")
				in.Items = slices.Clone(in.Items)
				fl.set(&in, h)
				e, err := f.s.Create(f.ctx, f.p["police_cdo"], in)
				if err != nil {
					t.Errorf("%s = %q refused: %v", fl.field, h, err)
					continue
				}
				if got, err := f.s.Get(f.ctx, f.p["police_cdo"], e.ID); err != nil || fl.get(&got) != h {
					t.Errorf("%s = %q read back as %q (%v)", fl.field, h, fl.get(&got), err)
				}
			}
		}
		before := f.count("entries")
		for _, bad := range []string{"a\x00b", "a\x1b[31mb", "ab\u202Ecd", "ab\xffcd"} {
			for _, fl := range fields {
				in := f.input("police", "吉林省常住人口基本信息")
				in.Items = slices.Clone(in.Items)
				fl.set(&in, bad)
				_, err := f.s.Create(f.ctx, f.p["police_cdo"], in)
				if e, ok := errs.As(err); !ok || !slices.ContainsFunc(e.Fields, func(fe errs.FieldError) bool { return fe.Field == fl.field }) {
					t.Errorf("%s = %q: got %v", fl.field, bad, err)
				}
			}
		}
		// A reason or comment with SQL or markup is kept as written.
		e := f.published(f.input("police", "吉林省人口基本信息"))
		if _, err := f.s.Update(f.ctx, f.p["police_cdo"], e.ID, f.input("police", "吉林省常住人口信息"), "<img src=x onerror=alert(1)>"); err != nil {
			t.Errorf("reason with markup: %v", err)
		}
		if _, err := f.s.Withdraw(f.ctx, f.p["police_cdo"], e.ID, "a\x00"); err == nil {
			t.Error("withdraw reason with a control character accepted")
		}
		if _, err := f.s.Withdraw(f.ctx, f.p["police_cdo"], e.ID, "'; DELETE FROM entries; --"); err != nil {
			t.Errorf("withdraw reason: %v", err)
		}
		h, err := f.s.History(f.ctx, f.p["police_cdo"], e.ID)
		if err != nil || !slices.ContainsFunc(h, func(ev Event) bool { return ev.Comment == "'; DELETE FROM entries; --" }) ||
			!slices.ContainsFunc(h, func(ev Event) bool { return ev.Comment == "<img src=x onerror=alert(1)>" }) {
			t.Errorf("history does not keep the reasons verbatim: %+v %v", h, err)
		}
		if n := f.count("entries"); n != before+1 {
			t.Errorf("entries = %d, want %d: nothing written by refused input", n, before+1)
		}
	})
}

// A database that cannot answer is a 503 (errs.KindUnavailable) for every
// operation, never the user's mistake ("the provider does not exist", "no
// such entry", a validation error).
func TestStorageOutageIsUnavailable(t *testing.T) {
	eachDB(t, func(t *testing.T, f *fixture) {
		ctx, s, p := f.ctx, f.s, f.p
		in := f.input("police", "吉林省常住人口基本信息")
		e := f.create("police_spec", in)
		rel := f.input("police", "吉林省流动人口信息")
		rel.Related = []string{e.Code}
		in.ProviderID, in.ProviderCode = 0, f.bodies["police"].CreditCode
		if err := f.store.Close(); err != nil {
			t.Fatal(err)
		}
		ops := map[string]func() error{
			"create": func() error {
				_, err := s.Create(ctx, p["police_spec"], f.input("police", "吉林省户籍人口信息"))
				return err
			},
			"create by code":   func() error { _, err := s.Create(ctx, p["police_spec"], in); return err },
			"create many":      func() error { _, err := s.CreateMany(ctx, p["police_spec"], []EntryInput{rel}); return err },
			"validate related": func() error { return s.ValidateInput(ctx, rel) },
			"get":              func() error { _, err := s.Get(ctx, p["police_spec"], e.ID); return err },
			"get by code":      func() error { _, err := s.GetByCode(ctx, p["police_spec"], e.Code); return err },
			"update":           func() error { _, err := s.Update(ctx, p["police_spec"], e.ID, rel, "", IfRev(e.Rev)); return err },
			"submit":           func() error { _, err := s.Submit(ctx, p["police_cdo"], e.ID, ""); return err },
			"submit many":      func() error { return s.SubmitMany(ctx, p["police_cdo"], []int64{e.ID}, "") },
			"history":          func() error { _, err := s.History(ctx, p["police_spec"], e.ID); return err },
			"create responsibility": func() error {
				_, err := s.CreateResponsibility(ctx, p["admin"], ResponsibilityInput{BodyID: f.bodies["police"].ID, Name: "吉林省常住人口基本信息"})
				return err
			},
			"create demand": func() error {
				_, err := s.CreateDemand(ctx, p["police_cdo"], DemandInput{BodyID: f.bodies["police"].ID, Title: "企业登记信息"})
				return err
			},
			"responsibility":   func() error { _, err := s.Responsibility(ctx, 1); return err },
			"responsibilities": func() error { _, _, err := s.Responsibilities(ctx, ListFilter{Q: "人口"}); return err },
			"demands":          func() error { _, _, err := s.Demands(ctx, ListFilter{}); return err },
			"negative list":    func() error { _, _, err := s.NegativeList(ctx, ListFilter{}); return err },
			"versions":         func() error { _, err := s.Versions(ctx, p["police_spec"], e.ID); return err },
			"diff":             func() error { _, err := s.Diff(ctx, p["police_spec"], e.ID, -1, 0); return err },
			"demand":           func() error { _, err := s.Demand(ctx, 1); return err },
		}
		for name, op := range ops {
			if err := op(); errs.KindOf(err) != errs.KindUnavailable {
				t.Errorf("%s with the database closed: %v (kind %d), want unavailable", name, err, errs.KindOf(err))
			}
		}
	})
}

// The province's regulation (吉政发〔2019〕4号 §25) names the share types
// 授权共享 and 非共享; they read as the guide's 有条件共享 and 不予共享, and
// the labels show both.
func TestRegulationShareWords(t *testing.T) {
	for in, want := range map[string]string{"授权共享": ShareConditional, "非共享": ShareNone, "有条件共享": ShareConditional,
		"不予共享": ShareNone, "有条件共享(授权共享)": ShareConditional, " 有条件共享（授权共享） ": ShareConditional,
		"不予共享（非共享）": ShareNone, "conditional": ShareConditional, "Shared on conditions": ShareConditional, "无条件共享": ShareUnconditional} {
		if got, ok := Parse(ShareTypes, in); !ok || got.Code != want {
			t.Errorf("Parse(%q) = %q, %v; want %q", in, got.Code, ok, want)
		}
	}
	if l := label(ShareTypes, ShareConditional); l != "有条件共享（授权共享）" {
		t.Errorf("conditional label %q", l)
	}
	if l := label(ShareTypes, ShareNone); l != "不予共享（非共享）" {
		t.Errorf("none label %q", l)
	}
	if got := ParseFilters(map[string][]string{"share_type": {"授权共享", "conditional", "非共享"}, "provider": {"7"}}); !slices.Equal(got["share_type"], []string{"conditional", "none"}) ||
		!slices.Equal(got["provider"], []string{"7"}) {
		t.Errorf("filters: %v", got)
	}
	eachDB(t, func(t *testing.T, f *fixture) {
		in := f.input("police", "吉林省常住人口基本信息")
		in.ShareType, in.ShareCondition = "授权共享", "经省政数局审批"
		if e := f.create("police_cdo", in); e.ShareType != ShareConditional {
			t.Errorf("授权共享 stored as %q", e.ShareType)
		}
		in = f.input("police", "吉林省人口死亡信息")
		in.ShareType, in.ShareCondition = "非共享", "依据《中华人民共和国个人信息保护法》第十三条"
		if e := f.create("police_cdo", in); e.ShareType != ShareNone || e.ShareMethod != "" {
			t.Errorf("非共享 stored as %q (method %q)", e.ShareType, e.ShareMethod)
		}
	})
}
