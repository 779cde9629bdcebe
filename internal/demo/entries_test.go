package demo

import (
	"context"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"xiangyun/internal/audit"
	"xiangyun/internal/auth"
	"xiangyun/internal/catalog"
	"xiangyun/internal/db/dbtest"
	"xiangyun/internal/org"
)

func TestDictionary(t *testing.T) {
	en := map[string]string{}
	for _, it := range demoItems {
		if prev, dup := en[strings.ToLower(it.EnName)]; dup {
			t.Errorf("English name %s of %s and %s", it.EnName, it.Name, prev)
		}
		en[strings.ToLower(it.EnName)] = it.Name
	}
	for _, n := range demoPad {
		if _, ok := demoItems[n]; !ok {
			t.Errorf("pad item %s not in the dictionary", n)
		}
	}
	for _, d := range demoDepts {
		for _, tpl := range d.tpls {
			for _, n := range strings.Fields(tpl.items) {
				if _, ok := demoItems[strings.TrimPrefix(n, "*")]; !ok {
					t.Errorf("%s: item %s not in the dictionary", tpl.name, n)
				}
			}
		}
	}
}

// load runs the demo on a fresh database of each dialect.
func eachLoaded(t *testing.T, fn func(t *testing.T, s Services, steps []string)) {
	for name, dsn := range dbtest.TestDSNs(t) {
		t.Run(string(name), func(t *testing.T) {
			ctx := context.Background()
			store := dbtest.Open(t, dsn(t), "control")
			key, err := audit.NewKey("xiangyun-audit")
			if err != nil {
				t.Fatal(err)
			}
			log, err := audit.Open(ctx, dbtest.Open(t, dsn(t), "audit"), key)
			if err != nil {
				t.Fatal(err)
			}
			orgs, err := org.Open(ctx, store)
			if err != nil {
				t.Fatal(err)
			}
			au, err := auth.Open(ctx, store, orgs, auth.DefaultPolicy)
			if err != nil {
				t.Fatal(err)
			}
			cat, err := catalog.Open(ctx, store, orgs, catalog.Options{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { cat.Close() })
			var steps []string
			s := Services{Orgs: orgs, Auth: au, Catalog: cat, Audit: log, Progress: func(step string) { steps = append(steps, step) }}
			if _, err := Load(ctx, s, "Demo-password-2026"); err != nil {
				t.Fatal(err)
			}
			fn(t, s, steps)
		})
	}
}

func TestLoad(t *testing.T) {
	eachLoaded(t, func(t *testing.T, s Services, steps []string) {
		ctx := context.Background()
		if len(steps) < 4 || !strings.Contains(steps[0], "first run only") {
			t.Errorf("progress: %q", steps)
		}
		// The fixed logins, with people's names and their bodies.
		bodyOf := map[string]string{"admin": Bureau, "secofficer": Bureau, "auditor": Bureau, "reviewer": Bureau,
			"police_cdo": "吉林省公安厅", "police_spec": "吉林省公安厅", "market_cdo": "吉林省市场监督管理厅", "market_spec": "吉林省市场监督管理厅"}
		for login, body := range bodyOf {
			u, err := s.Auth.UserByName(ctx, login)
			if err != nil {
				t.Fatalf("%s: %v", login, err)
			}
			b, err := s.Orgs.Body(ctx, u.BodyID)
			if err != nil || b.Name != body {
				t.Errorf("%s belongs to %q (%v)", login, b.Name, err)
			}
			if n := []rune(u.DisplayName); len(n) < 2 || len(n) > 3 || strings.ContainsAny(u.DisplayName, "员官管") {
				t.Errorf("%s is called %q, not a person's name", login, u.DisplayName)
			}
		}
		police, _ := s.Auth.UserByName(ctx, "police_cdo")
		pp, _ := s.Auth.User(ctx, police.ID)
		p := &auth.Principal{User: pp}

		// The police body provides a published 有条件共享 entry with 姓名 and 公民身份号码.
		res, err := s.Catalog.Search(ctx, p, catalog.SearchQuery{Filters: map[string][]string{"provider": {itoa(police.BodyID)},
			"status": {catalog.StatusPublished}, "share_type": {catalog.ShareConditional}}, Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, e := range res.Items {
			full, err := s.Catalog.Get(ctx, p, e.ID)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, it := range full.Items {
				names = append(names, it.Name)
			}
			if full.ShareType == catalog.ShareConditional && slices.Contains(names, "姓名") && slices.Contains(names, "公民身份号码") {
				found = true
			}
		}
		if !found {
			t.Errorf("no published conditional police entry with 姓名 and 公民身份号码 among %d", res.Total)
		}

		// Providers with varying numbers of entries.
		all, err := s.Catalog.Search(ctx, catalog.System, catalog.SearchQuery{Limit: 1})
		if err != nil {
			t.Fatal(err)
		}
		var counts []int
		for _, f := range all.Facets["provider"] {
			counts = append(counts, f.Count)
		}
		if len(counts) < 10 || slices.Max(counts) < 2*slices.Min(counts) {
			t.Errorf("provider counts do not vary: %v", counts)
		}

		// The review queue: submitted by named people over several days,
		// inside, close to and past the deadline.
		rv, _ := s.Auth.UserByName(ctx, "reviewer")
		ru, _ := s.Auth.User(ctx, rv.ID)
		queue, total, err := s.Catalog.ReviewQueue(ctx, &auth.Principal{User: ru}, catalog.QueueFilter{})
		if err != nil {
			t.Fatal(err)
		}
		days := map[int]bool{}
		for _, q := range queue {
			days[q.WaitingDays] = true
			if q.Submitter == "" || strings.Contains(q.Submitter, "系统") || strings.EqualFold(q.Submitter, "system") {
				t.Errorf("%s submitted by %q", q.Entry.Name, q.Submitter)
			}
		}
		var ds []int
		for d := range days {
			ds = append(ds, d)
		}
		if total < 10 || len(ds) < 4 || slices.Min(ds) > 1 || slices.Max(ds) < 6 {
			t.Errorf("queue of %d waits %v working days", total, ds)
		}

		// Responsibilities: some overdue.
		rs, _, err := s.Catalog.Responsibilities(ctx, catalog.ListFilter{BodyID: police.BodyID})
		if err != nil {
			t.Fatal(err)
		}
		overdue := 0
		for _, r := range rs {
			if r.Overdue {
				overdue++
			}
		}
		if overdue == 0 {
			t.Errorf("no overdue police duty: %+v", rs)
		}

		// A second run only resets the passwords, silently.
		var again []string
		s.Progress = func(step string) { again = append(again, step) }
		if _, err := Load(ctx, s, "Demo-password-2027"); err != nil {
			t.Fatal(err)
		}
		if len(again) != 0 {
			t.Errorf("second run reports %q", again)
		}
	})
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// TestEntries checks the generator: the same for the same arguments, varied,
// and every entry valid under the default grade policy.
func TestEntries(t *testing.T) {
	bodies := []org.Body{{ID: 1, Name: "吉林省公安厅", RegionCode: "220000"}, {ID: 2, Name: "吉林省市场监督管理厅", RegionCode: "220000"},
		{ID: 3, Name: "吉林省人力资源和社会保障厅", RegionCode: "220000"}, {ID: 4, Name: "长春市政务服务和数字化建设管理局", RegionCode: "220100", RegionName: "长春市"}}
	for i, name := range []string{"吉林省卫生健康委员会", "吉林省教育厅", "吉林省民政厅", "吉林省自然资源厅", "吉林省住房和城乡建设厅",
		"吉林省交通运输厅", "国家税务总局吉林省税务局", "吉林省医疗保障局", "吉林省不动产登记中心", "吉林省统计局", "吉林省生态环境厅",
		"吉林省司法厅", "吉林省农业农村厅", "吉林省文化和旅游厅", "吉林省应急管理厅", "吉林省发展和改革委员会", "吉林省退役军人事务厅",
		"吉林省财政厅"} {
		bodies = append(bodies, org.Body{ID: int64(10 + i), Name: name, Kind: org.KindAgency, RegionCode: "220000"})
	}
	bodies = append(bodies, org.Body{ID: 99, Name: "国网吉林省电力有限公司", Kind: org.KindUtility, Sector: "power", RegionCode: "220000"})
	const n = 400
	ins := Entries(bodies, n, 42)
	if again := Entries(bodies, n, 42); !reflect.DeepEqual(ins, again) {
		t.Fatal("not deterministic")
	}
	if other := Entries(bodies, 10, 43); reflect.DeepEqual(ins[:10], other) {
		t.Error("the seed changes nothing")
	}
	if Entry(bodies, 42, 300).Name != ins[300].Name {
		t.Error("Entry differs from Entries")
	}
	seen := map[string]map[string]bool{"share": {}, "open": {}, "grade": {}, "format": {}, "attribute": {}}
	names := map[string]bool{}
	policy := catalog.DefaultGradePolicy()
	for _, in := range ins {
		if len(in.Items) < 5 || len(in.Items) > 40 {
			t.Errorf("%s: %d items", in.Name, len(in.Items))
		}
		rule, ok := policy.Rule(in.Grade)
		if !ok || !slices.Contains(rule.Share, in.ShareType) || !slices.Contains(rule.Open, in.OpenType) {
			t.Errorf("%s: grade %s with share %s, open %s", in.Name, in.Grade, in.ShareType, in.OpenType)
		}
		seen["share"][in.ShareType] = true
		seen["open"][in.OpenType] = true
		seen["grade"][in.Grade] = true
		seen["format"][in.FormatClass] = true
		seen["attribute"][in.Class[:1]] = true
		names[in.Name] = true
	}
	for k, want := range map[string]int{"share": 3, "open": 3, "grade": 4, "attribute": 3} {
		if len(seen[k]) != want {
			t.Errorf("%s values: %v", k, seen[k])
		}
	}
	if len(seen["format"]) < 4 || len(names) < n*9/10 {
		t.Errorf("too little variety: %d formats, %d names", len(seen["format"]), len(names))
	}
}

func TestPeopleDistinct(t *testing.T) {
	names, logins := map[string]bool{}, map[string]bool{}
	for _, u := range users {
		names[u.name], logins[u.username] = true, true
	}
	for i := 0; i < 90; i++ {
		n, l := person(i)
		if names[n] || logins[l] {
			t.Fatalf("person %d (%s, %s) repeats", i, n, l)
		}
		names[n], logins[l] = true, true
	}
}
