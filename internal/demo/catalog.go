package demo

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"xiangyun/internal/catalog"
	"xiangyun/internal/org"
)

// demoEntries is about the size of the demo catalog.
const demoEntries = 480

// Entry states in the demo, by position in a body's entries (see states).
const (
	stPublished  = "pub"
	stSubmitted  = "sub" // waiting for review
	stReturned   = "ret"
	stDraft      = "draft"
	stWithdrawn  = "withdrawn"
	stDeprecated = "deprecated"
	stRevised    = "revised" // published, with a draft revision
)

// states cycles through the workflow: 12 of 20 published, 2 waiting, 1
// returned, 2 drafts, 1 withdrawn, 1 deprecated, 1 with a revision.
var states = [...]string{stPublished, stPublished, stPublished, stSubmitted, stPublished, stDraft, stPublished, stPublished,
	stReturned, stPublished, stPublished, stRevised, stPublished, stSubmitted, stPublished, stWithdrawn, stPublished, stDraft,
	stPublished, stDeprecated}

// entryCounts gives each provider a number of entries: a few large
// departments with many, most bodies with a handful, as in a real catalog.
// The police and market bodies (the fixed demo logins) are among the large.
func entryCounts(providers []org.Body, total int) []int {
	rng := rand.New(rand.NewPCG(2026, 6))
	w := make([]float64, len(providers))
	sum := 0.0
	for i, b := range providers {
		x := rng.Float64()
		w[i] = 0.3 + 6*x*x*x
		if b.Name == "吉林省公安厅" || b.Name == "吉林省市场监督管理厅" {
			w[i] = 5
		}
		sum += w[i]
	}
	out := make([]int, len(providers))
	for i := range w {
		out[i] = max(1, int(w[i]/sum*float64(total)+0.5))
	}
	return out
}

// demoEntry is one generated entry with its planned state and its index
// among its provider's entries.
type demoEntry struct {
	in    catalog.EntryInput
	state string
	k     int
	id    int64
	name  string
}

// loadCatalog creates the demo catalog as its staff would have built it
// over the past year: each body's specialist (or CDO) drafts its entries,
// its CDO submits them a few days before the reviewer publishes them in
// monthly rounds; the entries still waiting were submitted over the last
// two weeks (some within the review deadline, some close to it, some
// past it); some were returned with comments, withdrawn, deprecated or
// are being revised.
func loadCatalog(ctx context.Context, s Services, bodies []org.Body, st *staff) (int, error) {
	reviewer := st.reviewer
	// The data bureau reviews; it provides no entries of its own in the demo.
	var providers []org.Body
	for _, b := range bodies {
		if b.Name != Bureau {
			providers = append(providers, b)
		}
	}
	counts := entryCounts(providers, demoEntries)
	at := func(ago time.Duration) { s.Catalog.SetClock(func() time.Time { return time.Now().Add(-ago) }) }
	defer s.Catalog.SetClock(nil)
	const day = 24 * time.Hour
	rng := rand.New(rand.NewPCG(2026, 7))

	byBody := map[int64][]*demoEntry{}
	var all []*demoEntry
	for bi, b := range providers {
		one := []org.Body{b}
		var es []*demoEntry
		ins := make([]catalog.EntryInput, counts[bi])
		for k := range ins {
			ins[k] = Entry(one, 2026+b.ID, k)
			state := states[(k+bi*7)%len(states)]
			if k == 0 {
				state = stPublished // every provider has something in force
			}
			es = append(es, &demoEntry{in: ins[k], state: state, k: k})
		}
		if b.Name == "吉林省公安厅" {
			// The fixed point of the sharing demos: a published 有条件共享
			// entry with 姓名 and 公民身份号码 (常住人口基本信息).
			in := &es[0].in
			in.Grade, in.ShareType, in.OpenType = "L3", catalog.ShareConditional, catalog.OpenNone
			in.ShareCondition, in.OpenCondition = demoShareConditions[0], demoOpenBases[0]
			if in.ShareMethod == "" {
				in.ShareMethod, in.ShareChannel = catalog.MethodAPI, "platform"
			}
			ins[0] = *in
		}
		// Drafted over a few weeks about a year ago.
		at(time.Duration(360+rng.IntN(40))*day + time.Duration(rng.IntN(8*60))*time.Minute)
		created, err := s.Catalog.CreateMany(ctx, st.drafter(b.ID), ins)
		if err != nil {
			return 0, fmt.Errorf("create for %s: %w", b.Name, err)
		}
		for k, e := range created {
			es[k].id, es[k].name = e.ID, e.Name
		}
		byBody[b.ID] = es
		all = append(all, es...)
	}

	// Twelve monthly review rounds, a growing share each month. Each body's
	// CDO submits its part of a round one to six days before the reviewer
	// publishes it.
	var published []*demoEntry
	for _, e := range all {
		if e.state != stDraft && e.state != stSubmitted && e.state != stReturned {
			published = append(published, e)
		}
	}
	for month := 0; month < 12; month++ {
		lo, hi := len(published)*month*month/144, len(published)*(month+1)*(month+1)/144
		round := published[lo:hi]
		publishAt := time.Duration(11-month)*30*day + 20*day
		byProvider := map[int64][]int64{}
		for _, e := range round {
			byProvider[e.in.ProviderID] = append(byProvider[e.in.ProviderID], e.id)
		}
		for _, b := range providers {
			ids := byProvider[b.ID]
			if len(ids) == 0 {
				continue
			}
			at(publishAt + time.Duration(1+rng.IntN(6))*day + time.Duration(rng.IntN(9*60))*time.Minute)
			if err := s.Catalog.SubmitMany(ctx, st.cdo[b.ID], ids, "按目录编制要求提交审核"); err != nil {
				return 0, fmt.Errorf("submit: %w", err)
			}
		}
		var ids []int64
		for _, e := range round {
			ids = append(ids, e.id)
		}
		at(publishAt)
		if err := s.Catalog.PublishMany(ctx, reviewer, ids, "审核通过"); err != nil {
			return 0, fmt.Errorf("publish: %w", err)
		}
	}
	s.progress("catalog: %d entries published over twelve months; now the open work", len(published))
	if err := readHistory(ctx, s, st); err != nil {
		return 0, err
	}

	// The entries still waiting, submitted 0 to 12.5 days ago.
	n := 0
	for _, e := range all {
		if e.state != stSubmitted {
			continue
		}
		at(time.Duration(n%6)*60*time.Hour + time.Duration(rng.IntN(120))*time.Minute)
		n++
		if _, err := s.Catalog.Submit(ctx, st.cdo[e.in.ProviderID], e.id, "按目录编制要求提交审核"); err != nil {
			return 0, fmt.Errorf("submit: %w", err)
		}
	}
	returnNotes := []string{
		"共享条件表述不明确，请补充具体的使用范围和申请材料后重新提交。",
		"信息项“公民身份号码”未设置脱敏规则，请补充后重新提交。",
		"更新周期与实际数据更新情况不一致，请核实后重新提交。",
		"摘要过于简略，请说明数据的来源、范围和主要用途。",
	}
	for i, e := range all {
		if e.state != stReturned {
			continue
		}
		at(time.Duration(3+i%5)*day + 2*time.Hour)
		if _, err := s.Catalog.Submit(ctx, st.cdo[e.in.ProviderID], e.id, "按目录编制要求提交审核"); err != nil {
			return 0, fmt.Errorf("submit: %w", err)
		}
		at(time.Duration(1+i%2)*day + time.Duration(rng.IntN(6*60))*time.Minute)
		if _, err := s.Catalog.Return(ctx, reviewer, e.id, returnNotes[i%len(returnNotes)]); err != nil {
			return 0, fmt.Errorf("return: %w", err)
		}
	}
	for i, e := range all {
		cdo := st.cdo[e.in.ProviderID]
		at(time.Duration(i%15)*day + time.Duration(rng.IntN(8*60))*time.Minute)
		switch e.state {
		case stWithdrawn:
			if _, err := s.Catalog.Withdraw(ctx, cdo, e.id, "业务系统迁移，数据暂停提供，迁移完成后重新发布。"); err != nil {
				return 0, fmt.Errorf("withdraw: %w", err)
			}
		case stDeprecated:
			if _, err := s.Catalog.Deprecate(ctx, cdo, e.id, "该信息资源已并入新的目录，不再单独维护。"); err != nil {
				return 0, fmt.Errorf("deprecate: %w", err)
			}
		case stRevised:
			// A revision as staff write one: a few words changed in the
			// abstract and, where there is one, the share condition.
			in := e.in
			in.Abstract = strings.Replace(in.Abstract, "更新，用于", "更新（遇法定节假日顺延），主要用于", 1) + "数据自2026年起按季度开展质量核查。"
			if in.ShareType == catalog.ShareConditional {
				in.ShareCondition = strings.Replace(in.ShareCondition, "使用", "申请使用", 1)
			}
			if _, err := s.Catalog.Update(ctx, st.drafter(e.in.ProviderID), e.id, in, "补充摘要中的数据更新说明"); err != nil {
				return 0, fmt.Errorf("revise: %w", err)
			}
		}
	}
	at(0)
	if err := loadLists(ctx, s, bodies, all, st); err != nil {
		return 0, fmt.Errorf("lists: %w", err)
	}
	if _, err := loadRecords(ctx, s); err != nil {
		return 0, fmt.Errorf("records: %w", err)
	}
	if _, err := loadBaseLibraries(ctx, s, st); err != nil {
		return 0, fmt.Errorf("base libraries: %w", err)
	}
	return len(all), nil
}

// loadLists fills the responsibility and demand lists; the negative list
// follows from the published 不予共享 entries by itself. Due dates are
// relative to today, so that some duties are overdue and some close.
func loadLists(ctx context.Context, s Services, bodies []org.Body, entries []*demoEntry, st *staff) error {
	byName := map[string]org.Body{}
	for _, b := range bodies {
		byName[b.Name] = b
	}
	due := func(days int) string { return time.Now().AddDate(0, 0, days).Format("2006-01-02") }
	const rule21, rule14 = "《吉林省公共数据和一网通办管理办法（试行）》第二十一条", "《吉林省公共数据和一网通办管理办法（试行）》第十四条"
	duties := []struct {
		body, name, basis string
		due               int // days from today
		link              bool
	}{
		{"吉林省公安厅", "吉林省常住人口基本信息", rule21, 90, true},
		{"吉林省公安厅", "吉林省流动人口居住登记信息", rule21, -12, false},
		{"吉林省公安厅", "出入境证件签发信息", "“一网通办”高频事项清单", 6, false},
		{"吉林省市场监督管理厅", "企业法人登记信息", rule21, 120, true},
		{"吉林省市场监督管理厅", "食品生产许可信息", rule14, -20, false},
		{"吉林省人力资源和社会保障厅", "社会保险参保缴费信息", rule14, 30, true},
		{"吉林省人力资源和社会保障厅", "工伤认定信息", rule14, -5, false},
		{"吉林省卫生健康委员会", "出生医学证明信息", "新生儿出生“一件事”联办", 120, false},
		{"吉林省自然资源厅", "不动产登记信息", rule21, 45, false},
		{"吉林省民政厅", "婚姻登记信息", rule14, 200, true},
		{"长春市政务服务和数字化建设管理局", "长春市政务服务事项办件信息", rule14, -3, false},
	}
	for _, d := range duties {
		r, err := s.Catalog.CreateResponsibility(ctx, st.reviewer, catalog.ResponsibilityInput{BodyID: byName[d.body].ID, Name: d.name, Basis: d.basis, Due: due(d.due)})
		if err != nil {
			return err
		}
		if d.link && r.EntryID == 0 {
			if e, ok := publishedNamed(entries, r.BodyID, strings.TrimPrefix(d.name, "吉林省")); ok {
				if _, err := s.Catalog.LinkResponsibility(ctx, st.reviewer, r.ID, e.id); err != nil {
					return err
				}
			}
		}
	}
	// match names the published entry that satisfies a demand, if the demo
	// catalog has one; the others stay open. Each demand is posted by its
	// body's chief data officer.
	demands := []struct{ body, title, purpose, items, match string }{
		{"长春市政务服务和数字化建设管理局", "企业开办所需的市场主体登记信息", "企业开办“一网通办”，减少申请材料", "统一社会信用代码、企业名称、法定代表人、注册资本、成立日期、住所", "企业法人登记信息"},
		{"吉林省医疗保障局", "新生儿出生医学证明信息", "新生儿参保登记“一件事”", "出生医学证明编号、新生儿姓名、性别、出生日期、母亲公民身份号码", ""},
		{"吉林省住房和城乡建设厅", "不动产权属信息", "住房公积金提取审核", "不动产权证号、权利人、坐落、面积、登记日期", ""},
		{"延边朝鲜族自治州公安局", "流动人口居住登记信息", "居住证办理", "公民身份号码、姓名、居住地址、登记日期", "居住证办理信息"},
	}
	for _, d := range demands {
		b := byName[d.body]
		by := st.cdo[b.ID]
		if by == nil {
			by = catalog.System
		}
		in := catalog.DemandInput{BodyID: b.ID, Title: d.title, Description: d.purpose, Items: d.items}
		dm, err := s.Catalog.CreateDemand(ctx, by, in)
		if err != nil {
			return err
		}
		if d.match == "" {
			continue
		}
		if e, ok := publishedNamed(entries, 0, d.match); ok {
			if _, err := s.Catalog.LinkDemand(ctx, st.reviewer, dm.ID, e.id, false); err != nil {
				return err
			}
		}
	}
	return nil
}

// publishedNamed finds a published demo entry whose name contains name, of
// the given provider (0: any).
func publishedNamed(entries []*demoEntry, provider int64, name string) (*demoEntry, bool) {
	for _, e := range entries {
		if e.state == stPublished && (provider == 0 || e.in.ProviderID == provider) && strings.Contains(e.name, name) {
			return e, true
		}
	}
	return nil, false
}
