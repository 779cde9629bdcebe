package demo

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"xiangyun/internal/auth"
	"xiangyun/internal/catalog"
	"xiangyun/internal/org"
)

// demoEntries is the size of the demo catalog.
const demoEntries = 480

// loadCatalog creates the demo catalog and walks its entries through every
// state of the workflow: most published, some submitted and waiting, some
// returned with comments, drafts, withdrawn and deprecated entries, and
// published entries with a pending revision. Reviews are done by the demo
// reviewer so that the history reads as it would in real use.
func loadCatalog(ctx context.Context, s Services, bodies []org.Body) (int, error) {
	ru, err := s.Auth.UserByName(ctx, "reviewer")
	if err != nil {
		return 0, err
	}
	reviewer := &auth.Principal{User: ru}
	// The data bureau reviews; it provides no entries of its own in the demo.
	var providers []org.Body
	for _, b := range bodies {
		if b.Name != Bureau {
			providers = append(providers, b)
		}
	}
	ins := catalog.DemoEntries(providers, demoEntries, 2026)
	// A plausible timeline: the catalog was compiled over the past year and
	// published month by month (so the growth chart has a history); the
	// entries still waiting were submitted in the last two weeks.
	at := func(ago time.Duration) { s.Catalog.SetClock(func() time.Time { return time.Now().Add(-ago) }) }
	defer s.Catalog.SetClock(nil)
	const day = 24 * time.Hour
	at(400 * day)
	var entries []catalog.Entry
	for i := 0; i < len(ins); i += 100 {
		es, err := s.Catalog.CreateMany(ctx, catalog.System, ins[i:min(i+100, len(ins))])
		if err != nil {
			return 0, fmt.Errorf("create: %w", err)
		}
		entries = append(entries, es...)
	}
	// State by position: 12 of 20 published, 2 submitted, 1 returned,
	// 2 drafts, 1 withdrawn, 1 deprecated, 1 published with a revision.
	var submit, publish []int64
	byState := map[string][]int64{}
	for i, e := range entries {
		st := [...]string{"pub", "pub", "pub", "pub", "pub", "pub", "pub", "pub", "pub", "pub", "pub", "pub",
			"sub", "sub", "ret", "draft", "draft", "withdrawn", "deprecated", "revised"}[i%20]
		byState[st] = append(byState[st], e.ID)
		if st != "draft" {
			submit = append(submit, e.ID)
		}
		if st != "draft" && st != "sub" && st != "ret" {
			publish = append(publish, e.ID)
		}
	}
	// The entries still waiting were submitted on different days up to two
	// weeks ago, so that the review queue shows entries inside, close to and
	// past the review deadline, as it would in real use.
	waiting, returned := byState["sub"], byState["ret"]
	early := slices.DeleteFunc(submit, func(id int64) bool { return slices.Contains(waiting, id) || slices.Contains(returned, id) })
	if err := s.Catalog.SubmitMany(ctx, catalog.System, early, "按目录编制要求提交审核"); err != nil {
		return 0, fmt.Errorf("submit: %w", err)
	}
	// Published in twelve monthly rounds, a growing share each month.
	for month := 0; month < 12; month++ {
		lo, hi := len(publish)*month*month/144, len(publish)*(month+1)*(month+1)/144
		at(time.Duration(11-month)*30*day + 20*day)
		if err := s.Catalog.PublishMany(ctx, reviewer, publish[lo:hi], "审核通过"); err != nil {
			return 0, fmt.Errorf("publish: %w", err)
		}
	}
	if err := readHistory(ctx, s); err != nil {
		return 0, err
	}
	// Spread over the last 12.5 days: 0, 2.5, 5, 7.5, 10 or 12.5 days ago.
	for i, id := range slices.Backward(waiting) {
		at(time.Duration(i%6) * 60 * time.Hour)
		if err := s.Catalog.SubmitMany(ctx, catalog.System, []int64{id}, "按目录编制要求提交审核"); err != nil {
			return 0, fmt.Errorf("submit: %w", err)
		}
	}
	at(3 * day)
	if err := s.Catalog.SubmitMany(ctx, catalog.System, returned, "按目录编制要求提交审核"); err != nil {
		return 0, fmt.Errorf("submit: %w", err)
	}
	at(0)
	for _, id := range returned {
		if _, err := s.Catalog.Return(ctx, reviewer, id, "共享条件表述不明确，请补充具体的使用范围和申请材料后重新提交。"); err != nil {
			return 0, fmt.Errorf("return: %w", err)
		}
	}
	for _, id := range byState["withdrawn"] {
		if _, err := s.Catalog.Withdraw(ctx, catalog.System, id, "业务系统迁移，数据暂停提供，迁移完成后重新发布。"); err != nil {
			return 0, fmt.Errorf("withdraw: %w", err)
		}
	}
	for _, id := range byState["deprecated"] {
		if _, err := s.Catalog.Deprecate(ctx, catalog.System, id, "该信息资源已并入新的目录，不再单独维护。"); err != nil {
			return 0, fmt.Errorf("deprecate: %w", err)
		}
	}
	for _, id := range byState["revised"] {
		e, err := s.Catalog.Get(ctx, catalog.System, id)
		if err != nil {
			return 0, err
		}
		in := catalog.EntryInput{Content: e.Content, ProviderID: e.ProviderID}
		in.Abstract += "（2026年修订：补充数据更新说明。）"
		if _, err := s.Catalog.Update(ctx, catalog.System, id, in, "补充摘要中的数据更新说明"); err != nil {
			return 0, fmt.Errorf("revise: %w", err)
		}
	}
	if err := loadLists(ctx, s, bodies, entries); err != nil {
		return 0, fmt.Errorf("lists: %w", err)
	}
	if _, err := loadRecords(ctx, s); err != nil {
		return 0, fmt.Errorf("records: %w", err)
	}
	return len(entries), nil
}

// loadLists fills the responsibility and demand lists; the negative list
// follows from the published 不予共享 entries by itself.
func loadLists(ctx context.Context, s Services, bodies []org.Body, entries []catalog.Entry) error {
	byName := map[string]org.Body{}
	for _, b := range bodies {
		byName[b.Name] = b
	}
	duties := []struct{ body, name, basis, due string }{
		{"吉林省公安厅", "吉林省常住人口基本信息", "《吉林省公共数据和一网通办管理办法（试行）》第二十一条", "2026-12-31"},
		{"吉林省市场监督管理厅", "企业法人登记信息", "《吉林省公共数据和一网通办管理办法（试行）》第二十一条", "2026-12-31"},
		{"吉林省人力资源和社会保障厅", "社会保险参保缴费信息", "《吉林省公共数据和一网通办管理办法（试行）》第十四条", "2026-10-31"},
		{"吉林省卫生健康委员会", "出生医学证明信息", "新生儿出生“一件事”联办", "2027-03-31"},
		{"吉林省自然资源厅", "不动产登记信息", "《吉林省公共数据和一网通办管理办法（试行）》第二十一条", "2026-11-30"},
		{"吉林省民政厅", "婚姻登记信息", "《吉林省公共数据和一网通办管理办法（试行）》第十四条", "2027-06-30"},
	}
	for i, d := range duties {
		r, err := s.Catalog.CreateResponsibility(ctx, catalog.System, catalog.ResponsibilityInput{BodyID: byName[d.body].ID, Name: d.name, Basis: d.basis, Due: d.due})
		if err != nil {
			return err
		}
		// Link the first half to the body's published entry of that name,
		// which completes them; the others stay open.
		if i%2 == 0 {
			if e, ok := publishedNamed(entries, r.BodyID, strings.TrimPrefix(d.name, "吉林省")); ok {
				if _, err := s.Catalog.LinkResponsibility(ctx, catalog.System, r.ID, e.ID); err != nil {
					return err
				}
			}
		}
	}
	// match names the published entry that satisfies a demand, if the demo
	// catalog has one; the others stay open.
	demands := []struct{ body, title, purpose, items, match string }{
		{"长春市政务服务和数字化建设管理局", "企业开办所需的市场主体登记信息", "企业开办“一网通办”，减少申请材料", "统一社会信用代码、企业名称、法定代表人、注册资本、成立日期、住所", "企业法人登记信息"},
		{"吉林省医疗保障局", "新生儿出生医学证明信息", "新生儿参保登记“一件事”", "出生医学证明编号、新生儿姓名、性别、出生日期、母亲公民身份号码", ""},
		{"吉林省住房和城乡建设厅", "不动产权属信息", "住房公积金提取审核", "不动产权证号、权利人、坐落、面积、登记日期", ""},
		{"延边朝鲜族自治州公安局", "流动人口居住登记信息", "居住证办理", "公民身份号码、姓名、居住地址、登记日期", "流动人口居住登记信息"},
	}
	for _, d := range demands {
		in := catalog.DemandInput{BodyID: byName[d.body].ID, Title: d.title, Description: d.purpose, Items: d.items}
		dm, err := s.Catalog.CreateDemand(ctx, catalog.System, in)
		if err != nil {
			return err
		}
		if d.match == "" {
			continue
		}
		if e, ok := publishedNamed(entries, 0, d.match); ok {
			if _, err := s.Catalog.LinkDemand(ctx, catalog.System, dm.ID, e.ID, false); err != nil {
				return err
			}
		}
	}
	return nil
}

// publishedNamed finds a published demo entry (12 of every 20, see
// loadCatalog) whose name contains name, of the given provider (0: any).
func publishedNamed(entries []catalog.Entry, provider int64, name string) (catalog.Entry, bool) {
	for j, e := range entries {
		if j%20 < 12 && (provider == 0 || e.ProviderID == provider) && strings.Contains(e.Name, name) {
			return e, true
		}
	}
	return catalog.Entry{}, false
}
