package catalog

import (
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"xiangyun/internal/auth"
)

// searchSet publishes a small realistic catalog and returns its entries by
// key; "draft" is a police draft, never published.
func searchSet(t *testing.T, f *fixture) map[string]Entry {
	t.Helper()
	type spec struct {
		key, body, name, class, grade, share, open, format, abstract, items string
	}
	specs := []spec{
		{"pop", "police", "吉林省常住人口基本信息", "1/01/001", "L3", "conditional", "none", "database/oracle",
			"全省常住人口的姓名、公民身份号码、性别、出生日期、户籍地址等基本信息。", "*公民身份号码 姓名 性别 出生日期 户籍地址"},
		{"move", "police", "吉林省户籍迁移登记信息", "1/01/002", "L3", "conditional", "none", "database/oracle",
			"户口迁入迁出登记记录。", "*业务流水号 公民身份号码 姓名 迁入日期"},
		{"licence", "police", "机动车驾驶证信息", "3/01/005", "L3", "conditional", "none", "database/oracle",
			"驾驶证的准驾车型、发证日期和有效期。", "*驾驶证号 姓名 准驾车型 发证日期"},
		{"corp", "market", "企业法人登记信息", "1/02/001", "L1", "unconditional", "unconditional", "database/oracle",
			"企业法人的名称、统一社会信用代码、法定代表人、注册资本等登记信息。", "*统一社会信用代码 企业名称 法定代表人 注册资本"},
		{"penalty", "market", "行政处罚信息", "1/04/002", "L1", "unconditional", "conditional", "service/rest",
			"市场监管领域的行政处罚决定。", "*行政处罚决定书文号 行政相对人名称 处罚内容"},
		{"si", "hrss", "社会保险参保缴费信息", "2/01/001", "L3", "conditional", "none", "database/oracle",
			"参保单位和个人的参保险种、缴费基数、缴费月数。", "*个人编号 公民身份号码 姓名 参保险种 缴费基数"},
		{"unemp", "hrss", "失业保险金申领信息", "2/01/003", "L3", "none", "none", "database/dm",
			"失业人员申领失业保险金的审核和发放记录。", "*业务流水号 公民身份号码 姓名 失业保险金领取金额"},
		{"card", "hrss", "社会保障卡发放信息", "2/01/004", "L3", "conditional", "none", "database/oracle",
			"社会保障卡的申领、制卡和发放记录。", "*社会保障卡号 公民身份号码 姓名 发卡日期"},
		{"service", "city", "长春市政务服务事项办件信息", "3/90/001", "L2", "conditional", "none", "database/kingbase",
			"长春市政务服务事项的受理和办结记录。", "*业务流水号 事项名称 受理日期 办结日期"},
		{"bus", "city", "长春市公共交通线路站点信息", "2/07/003", "L1", "unconditional", "unconditional", "selfdescribing/json",
			"公交线路、站点、首末班时间和票价。", "*线路名称 站点名称 首班时间 末班时间 票价"},
		{"birth", "bureau", "出生医学证明信息", "1/05/002", "L3", "conditional", "none", "database/oracle",
			"新生儿出生医学证明签发记录，用于人口登记。", "*出生医学证明编号 新生儿姓名 出生时间"},
		{"draft", "police", "吉林省流动人口信息", "1/01/003", "L3", "conditional", "none", "database/oracle",
			"流动人口居住登记信息。", "*居住证编号 公民身份号码 姓名"},
	}
	out := map[string]Entry{}
	for _, sp := range specs {
		in := EntryInput{ProviderID: f.bodies[sp.body].ID, Content: Content{Name: sp.name, Class: sp.class, Abstract: sp.abstract,
			Grade: sp.grade, ShareType: sp.share, OpenType: sp.open, Cycle: "daily", Items: testItems(sp.items)}}
		in.FormatClass, in.FormatType, _ = strings.Cut(sp.format, "/")
		switch sp.share {
		case ShareConditional:
			in.ShareCondition = "仅用于政务服务"
		case ShareNone:
			in.ShareCondition = "依据《中华人民共和国个人信息保护法》，不予共享"
		}
		if sp.share != ShareNone {
			in.ShareMethod = MethodAPI
		}
		switch sp.open {
		case OpenConditional:
			in.OpenCondition = "经审核后开放"
		case OpenNone:
			in.OpenCondition = "涉及个人信息，不予开放"
		}
		e, err := f.s.Create(f.ctx, System, in)
		if err != nil {
			t.Fatalf("%s: %v", sp.key, err)
		}
		if sp.key != "draft" {
			e = f.publish(e.ID)
		}
		out[sp.key] = e
		f.advance(time.Minute)
	}
	return out
}

func TestSearch(t *testing.T) {
	eachDB(t, func(t *testing.T, f *fixture) {
		ctx, s, p := f.ctx, f.s, f.p
		es := searchSet(t, f)
		keyOf := map[int64]string{}
		for k, e := range es {
			keyOf[e.ID] = k
		}
		search := func(p *auth.Principal, q SearchQuery) (SearchResult, []string) {
			t.Helper()
			res, err := s.Search(ctx, p, q)
			if err != nil {
				t.Fatalf("%+v: %v", q, err)
			}
			var keys []string
			for _, e := range res.Items {
				keys = append(keys, keyOf[e.ID])
			}
			return res, keys
		}

		// Relevance of Chinese queries, pinyin initials and provider names.
		tests := []struct {
			q       string
			first   []string // the first results, in any order
			include []string
			exclude []string
		}{
			{q: "人口", first: []string{"pop"}, include: []string{"birth"}, exclude: []string{"corp", "draft"}},
			{q: "常住人口", first: []string{"pop"}, exclude: []string{"birth"}},
			{q: "社保", first: []string{"si", "card"}, include: []string{"unemp"}, exclude: []string{"pop"}},
			{q: "社会保险", first: []string{"si"}, exclude: []string{"corp", "pop"}},
			{q: "保险", first: []string{"si", "unemp"}, exclude: []string{"card"}},
			{q: "rk", first: []string{"pop"}},
			{q: "shbx", first: []string{"si"}},
			{q: "qyfr", first: []string{"corp"}},
			{q: "公安厅", first: []string{"pop", "move", "licence"}, exclude: []string{"si", "draft"}},
			{q: "市场监督管理厅", first: []string{"corp", "penalty"}},
			{q: "公民身份号码", include: []string{"pop", "move", "si", "unemp", "card"}, exclude: []string{"corp", "bus"}},
			{q: "企业法人", first: []string{"corp"}},
			{q: "ccs", first: []string{"service", "bus"}},
			{q: "公交", first: []string{"bus"}},
			{q: es["corp"].Code, first: []string{"corp"}},
			{q: "火星"},
		}
		for _, tt := range tests {
			_, got := search(p["market_cdo"], SearchQuery{Q: tt.q, Limit: 100})
			if len(got) < len(tt.first) {
				t.Errorf("%q: got %v, want first %v", tt.q, got, tt.first)
				continue
			}
			if tt.first == nil && tt.include == nil && len(got) > 0 {
				t.Errorf("%q: got %v, want nothing", tt.q, got)
			}
			if head := slices.Sorted(slices.Values(got[:len(tt.first)])); !slices.Equal(head, slices.Sorted(slices.Values(tt.first))) {
				t.Errorf("%q: got %v, want first %v", tt.q, got, tt.first)
			}
			for _, k := range tt.include {
				if !slices.Contains(got, k) {
					t.Errorf("%q: got %v, want %s", tt.q, got, k)
				}
			}
			for _, k := range tt.exclude {
				if slices.Contains(got, k) {
					t.Errorf("%q: got %v, want no %s", tt.q, got, k)
				}
			}
		}

		// Facets count the published catalog, labelled.
		res, _ := search(p["market_cdo"], SearchQuery{})
		if res.Total != 11 {
			t.Fatalf("total %d, want 11", res.Total)
		}
		facet := func(res SearchResult, name, value string) FacetValue {
			for _, v := range res.Facets[name] {
				if v.Value == value {
					return v
				}
			}
			return FacetValue{}
		}
		checks := []struct {
			facet, value, label string
			count               int
		}{
			{"share_type", "none", "不予共享（非共享）", 1},
			{"share_type", "conditional", "有条件共享（授权共享）", 7},
			{"open_type", "unconditional", "无条件开放", 2},
			{"provider", strconv.FormatInt(f.bodies["hrss"].ID, 10), "吉林省人力资源和社会保障厅", 3},
			{"region", "220100", "长春市", 2},
			{"scope", "supplementary", "补充目录", 2},
			{"class", "1", "基础", 5},
			{"class", "1/01", "人口", 2},
			{"class", "2/01", "社会保障", 3},
			{"grade", "L3", "L3 较敏感", 7},
			{"format", "selfdescribing", "自描述格式", 1},
			{"status", "published", "已发布", 11},
			{"cycle", "daily", "每日", 11},
		}
		for _, c := range checks {
			if v := facet(res, c.facet, c.value); v.Count != c.count || v.Label != c.label {
				t.Errorf("facet %s=%s: %+v, want %d %s", c.facet, c.value, v, c.count, c.label)
			}
		}
		// Filters: OR within a facet, AND across; a facet is counted without
		// its own filter; a region includes its sub-regions.
		res, got := search(p["market_cdo"], SearchQuery{Filters: map[string][]string{"share_type": {"none", "unconditional"}, "region": {"220000"}}})
		if res.Total != 4 || facet(res, "share_type", "conditional").Count != 7 {
			t.Errorf("filtered: %d %v %+v", res.Total, got, res.Facets["share_type"])
		}
		if res, got = search(p["market_cdo"], SearchQuery{Filters: map[string][]string{"region": {"220100"}}}); res.Total != 2 {
			t.Errorf("city: %v", got)
		}
		if res, got = search(p["market_cdo"], SearchQuery{Q: "信息", Filters: map[string][]string{"class": {"1/01"}}}); res.Total != 2 {
			t.Errorf("class 1/01: %v", got)
		}
		if _, err := s.Search(ctx, p["market_cdo"], SearchQuery{Filters: map[string][]string{"access": {"body:1"}}}); err == nil {
			t.Error("filter on access accepted")
		}
		if _, err := s.Search(ctx, p["market_cdo"], SearchQuery{Sort: "views"}); err == nil {
			t.Error("unknown sort accepted")
		}
		// Sorting and paging.
		res, got = search(p["market_cdo"], SearchQuery{Sort: "code", Limit: 3, Offset: 1})
		if res.Total != 11 || len(got) != 3 || !slices.IsSortedFunc(res.Items, func(a, b Entry) int { return strings.Compare(a.Code, b.Code) }) {
			t.Errorf("sorted page: %v", got)
		}
		if _, got = search(p["market_cdo"], SearchQuery{Sort: "-published", Limit: 1}); got[0] != "birth" {
			t.Errorf("newest first: %v", got)
		}

		// Visibility: drafts to their body and to reviewers only.
		for who, want := range map[string]int{"police_cdo": 1, "police_spec": 1, "reviewer": 1, "market_cdo": 0, "admin": 0} {
			if res, _ := search(p[who], SearchQuery{Q: "流动人口"}); res.Total != want {
				t.Errorf("%s sees %d drafts, want %d", who, res.Total, want)
			}
		}
		res, _ = search(p["police_cdo"], SearchQuery{Filters: map[string][]string{"status": {"draft"}}})
		if res.Total != 1 || facet(res, "status", "published").Count != 11 || !res.Items[0].CanSubmit {
			t.Errorf("own drafts: %+v", res)
		}
		if _, err := s.Search(ctx, &auth.Principal{}, SearchQuery{}); err == nil {
			t.Error("search without catalog.read")
		}

		// The index follows every change.
		rev := f.input("police", "机动车驾驶人信息")
		rev.Class, rev.Abstract = "3/01/005", "驾驶人的准驾车型、记分和有效期。"
		if _, err := s.Update(ctx, p["police_cdo"], es["licence"].ID, rev, "更名"); err != nil {
			t.Fatal(err)
		}
		if _, got = search(p["market_cdo"], SearchQuery{Q: "驾驶人"}); len(got) != 0 {
			t.Errorf("a draft revision is searchable by others: %v", got)
		}
		f.publish(es["licence"].ID)
		if _, got = search(p["market_cdo"], SearchQuery{Q: "驾驶人"}); !slices.Equal(got, []string{"licence"}) {
			t.Errorf("renamed: %v", got)
		}
		if _, err := s.Withdraw(ctx, p["market_cdo"], es["penalty"].ID, "整改"); err != nil {
			t.Fatal(err)
		}
		if res, _ = search(p["police_cdo"], SearchQuery{Q: "行政处罚"}); res.Total != 0 {
			t.Error("withdrawn entry still public")
		}
		if res, _ = search(p["market_cdo"], SearchQuery{Q: "行政处罚"}); res.Total != 1 || res.Items[0].Status != StatusWithdrawn {
			t.Error("withdrawn entry hidden from its provider")
		}

		// Rebuilt from the database, the index answers the same.
		before, _ := search(p["reviewer"], SearchQuery{Q: "信息", Sort: "code", Limit: 100})
		var calls, last int
		if err := s.RebuildIndex(ctx, func(done, total int) { calls++; last = done }); err != nil {
			t.Fatal(err)
		}
		after, _ := search(p["reviewer"], SearchQuery{Q: "信息", Sort: "code", Limit: 100})
		if calls < 2 || last != 12 || after.Total != before.Total || s.IndexStatus().Documents != 12 || s.IndexStatus().Running {
			t.Errorf("rebuild: %d calls, last %d, %d vs %d, %+v", calls, last, after.Total, before.Total, s.IndexStatus())
		}

		// Filtered streams all matches with their items, with or without text.
		for _, q := range []SearchQuery{{Filters: map[string][]string{"share_type": {"conditional"}}}, {Q: "信息", Filters: map[string][]string{"share_type": {"conditional"}}}} {
			var n int
			err := s.Filtered(ctx, p["market_cdo"], q, func(e Entry) error {
				if len(e.Items) == 0 || e.ShareType != ShareConditional || (e.Status != StatusPublished && e.ProviderID != f.bodies["market"].ID) {
					t.Errorf("filtered %q: %+v", q.Q, e)
				}
				n++
				return nil
			})
			if err != nil || n != 7 {
				t.Errorf("filtered %q: %d entries, %v", q.Q, n, err)
			}
		}
	})
}

func TestIndexOnDisk(t *testing.T) {
	eachDB(t, func(t *testing.T, f *fixture) {
		dir := t.TempDir()
		s, err := Open(f.ctx, f.store, f.orgs, Options{IndexDir: dir})
		if err != nil {
			t.Fatal(err)
		}
		f.s.Close()
		f.s = s
		es := searchSet(t, f)
		s.Close()
		// Reopened, the index is kept; without its directory, it is rebuilt.
		for _, d := range []string{dir, t.TempDir()} {
			s, err := Open(f.ctx, f.store, f.orgs, Options{IndexDir: d})
			if err != nil {
				t.Fatal(err)
			}
			if d != dir {
				// Not ready while its first build runs; an explicit rebuild
				// (xiangyun index rebuild) waits for that one, then runs.
				if err := s.RebuildIndex(f.ctx, nil); err != nil {
					t.Fatalf("rebuild during the start-up rebuild: %v", err)
				}
				if err := s.IndexReady(); err != nil {
					t.Errorf("after the rebuild: %v", err)
				}
			}
			for deadline := time.Now().Add(20 * time.Second); s.IndexStatus().Running && time.Now().Before(deadline); {
				time.Sleep(20 * time.Millisecond)
			}
			res, err := s.Search(f.ctx, f.p["market_cdo"], SearchQuery{Q: "企业法人"})
			if err != nil || res.Total != 1 || res.Items[0].ID != es["corp"].ID {
				t.Errorf("reopened on %s: %+v %v", d, res, err)
			}
			s.Close()
		}
		f.s, _ = Open(f.ctx, f.store, f.orgs, Options{})
	})
}

// TestIndexCatchesUpAfterCrash commits changes that the on-disk index never
// hears of, as after kill -9 between a commit and its index update: they
// are made through another service (with its own index) on the same
// database, concurrently. Reopened, the index catches up from the change
// sequence: every change is findable.
func TestIndexCatchesUpAfterCrash(t *testing.T) {
	eachDB(t, func(t *testing.T, f *fixture) {
		dir := t.TempDir()
		s, err := Open(f.ctx, f.store, f.orgs, Options{IndexDir: dir, Now: f.clock})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.IndexReady(); err != nil {
			t.Fatalf("empty index not ready: %v", err)
		}
		const n = 24
		var drafts, pubs []Entry
		for i := range n {
			in := f.input("police", "原始名称"+strconv.Itoa(i)+"号目录")
			e, err := s.Create(f.ctx, System, in)
			if err != nil {
				t.Fatal(err)
			}
			if i%2 == 0 {
				drafts = append(drafts, e)
			} else {
				pubs = append(pubs, e)
			}
		}
		s.Close()
		for _, e := range pubs { // published by the "other process"
			f.publish(e.ID)
		}

		// The edits the index missed, made concurrently.
		var wg sync.WaitGroup
		errc := make(chan error, len(drafts)+len(pubs))
		for i, e := range drafts {
			wg.Add(1)
			go func() {
				defer wg.Done()
				in := f.input("police", "改名后"+strconv.Itoa(i)+"号草稿")
				_, err := f.s.Update(f.ctx, System, e.ID, in, "")
				errc <- err
			}()
		}
		for i, e := range pubs {
			if i%2 == 0 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					_, err := f.s.Withdraw(f.ctx, System, e.ID, "数据已停止更新")
					errc <- err
				}()
			}
		}
		wg.Wait()
		close(errc)
		for err := range errc {
			if err != nil {
				t.Fatal(err)
			}
		}

		s, err = Open(f.ctx, f.store, f.orgs, Options{IndexDir: dir, Now: f.clock})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if s.IndexStatus().Running {
			t.Fatal("the reopened index is rebuilt instead of catching up")
		}
		for i, e := range drafts {
			res, err := s.SearchIDs(f.ctx, System, SearchQuery{Q: "改名后" + strconv.Itoa(i) + "号草稿"})
			if err != nil || !slices.Contains(res.IDs, strconv.FormatInt(e.ID, 10)) {
				t.Errorf("draft %d not found by its new name: %v %v", e.ID, res.IDs, err)
			}
			res, _ = s.SearchIDs(f.ctx, System, SearchQuery{Q: "原始名称" + strconv.Itoa(2*i) + "号目录"})
			if slices.Contains(res.IDs, strconv.FormatInt(e.ID, 10)) {
				t.Errorf("draft %d still found by its old name", e.ID)
			}
		}
		reader := f.p["market_cdo"]
		for i, e := range pubs {
			res, err := s.SearchIDs(f.ctx, reader, SearchQuery{Q: "原始名称" + strconv.Itoa(2*i+1) + "号目录"})
			found := slices.Contains(res.IDs, strconv.FormatInt(e.ID, 10))
			if err != nil || found != (i%2 == 1) {
				t.Errorf("entry %d (withdrawn %v): visible to another body %v, %v", e.ID, i%2 == 0, found, err)
			}
		}
		// A later change through the reopened service is applied at once,
		// and a rebuild keeps the mark.
		if _, err := s.Update(f.ctx, System, drafts[0].ID, f.input("police", "第三个名字"), ""); err != nil {
			t.Fatal(err)
		}
		if res, _ := s.SearchIDs(f.ctx, System, SearchQuery{Q: "第三个名字"}); res.Total != 1 {
			t.Errorf("after-commit update: %d hits", res.Total)
		}
		if err := s.RebuildIndex(f.ctx, nil); err != nil {
			t.Fatal(err)
		}
		if err := s.IndexReady(); err != nil {
			t.Errorf("after rebuild: %v", err)
		}
		if err := s.CatchUp(f.ctx); err != nil {
			t.Fatal(err)
		}
		if res, _ := s.SearchIDs(f.ctx, System, SearchQuery{Q: "第三个名字"}); res.Total != 1 {
			t.Errorf("after rebuild: %d hits", res.Total)
		}
	})
}

// TestSearchByItemEnglishName finds an entry by the English name of one of
// its data items, in any case.
func TestSearchByItemEnglishName(t *testing.T) {
	eachDB(t, func(t *testing.T, f *fixture) {
		in := f.input("police", "机动车驾驶人信息")
		in.Items = append(in.Items, Item{Name: "驾驶证号", EnName: "JSZH", DataType: "C", Length: 18})
		e := f.published(in)
		f.published(f.input("police", "常住人口信息"))
		for _, q := range []string{"JSZH", "jszh", "Jszh"} {
			res, err := f.s.SearchIDs(f.ctx, f.p["market_cdo"], SearchQuery{Q: q})
			if err != nil || res.Total != 1 || res.IDs[0] != strconv.FormatInt(e.ID, 10) {
				t.Errorf("%s: %+v %v", q, res, err)
			}
		}
	})
}
