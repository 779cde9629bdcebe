package catalog

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"xiangyun/internal/errs"
	"xiangyun/internal/workday"
)

func TestWorkflow(t *testing.T) {
	eachDB(t, func(t *testing.T, f *fixture) {
		ctx, s, p := f.ctx, f.s, f.p
		in := f.input("police", "吉林省常住人口基本信息")

		// A data specialist drafts.
		e := f.create("police_spec", in)
		if e.Status != StatusDraft || e.Code != "1/01/001/000001" || e.Version != 1 || e.Scope != ScopeProvince || e.RegionCode != "220000" ||
			e.Attribute != "base" || e.Provider != "吉林省公安厅" || !e.CanEdit || e.CanSubmit {
			t.Fatalf("draft: %+v", e)
		}
		// … but may not submit; other bodies neither see nor edit it; reviewers cannot edit.
		_, err := s.Submit(ctx, p["police_spec"], e.ID, "")
		wantKind(t, err, errs.KindForbidden, "catalog.submit_forbidden")
		_, err = s.Get(ctx, p["market_cdo"], e.ID)
		wantKind(t, err, errs.KindNotFound, "catalog.entry_not_found")
		_, err = s.Update(ctx, p["market_cdo"], e.ID, in, "")
		wantKind(t, err, errs.KindNotFound, "catalog.entry_not_found")
		_, err = s.Update(ctx, p["reviewer"], e.ID, in, "")
		wantKind(t, err, errs.KindForbidden, "catalog.not_provider")
		_, err = s.Create(ctx, p["market_cdo"], in)
		wantKind(t, err, errs.KindForbidden, "catalog.not_provider")
		_, err = s.Create(ctx, p["reviewer"], in)
		wantKind(t, err, errs.KindForbidden, "catalog.not_provider")
		_, err = s.Publish(ctx, p["reviewer"], e.ID, "")
		wantKind(t, err, errs.KindConflict, "catalog.not_submitted")

		// The chief data officer submits.
		if e, err = s.Submit(ctx, p["police_cdo"], e.ID, "请审核"); err != nil {
			t.Fatal(err)
		}
		if e.Status != StatusSubmitted || e.CanEdit {
			t.Fatalf("submitted: %+v", e)
		}
		_, err = s.Update(ctx, p["police_spec"], e.ID, in, "")
		wantKind(t, err, errs.KindConflict, "catalog.under_review")
		// Nobody publishes their own body's entry.
		_, err = s.Publish(ctx, p["police_cdo"], e.ID, "")
		wantKind(t, err, errs.KindForbidden, "catalog.review_forbidden")
		_, err = s.Publish(ctx, p["dual"], e.ID, "")
		wantKind(t, err, errs.KindForbidden, "catalog.own_entry")
		if g, _ := s.Get(ctx, p["dual"], e.ID); g.CanReview {
			t.Error("dual may review own body's entry")
		}
		if g, _ := s.Get(ctx, p["reviewer"], e.ID); !g.CanReview || g.CanEdit {
			t.Errorf("reviewer: can review %v, can edit %v", g.CanReview, g.CanEdit)
		}

		// Return needs comments.
		_, err = s.Return(ctx, p["reviewer"], e.ID, " ")
		wantField(t, err, "comment", "required")
		f.advance(time.Hour)
		if e, err = s.Return(ctx, p["reviewer"], e.ID, "摘要过于简单，请补充数据范围"); err != nil {
			t.Fatal(err)
		}
		if g, _ := s.Get(ctx, p["police_spec"], e.ID); e.Status != StatusReturned || e.CanEdit || !g.CanEdit || g.CanSubmit {
			t.Fatalf("returned: %+v", e)
		}
		vs, _ := s.Versions(ctx, p["police_cdo"], e.ID)
		if len(vs) != 1 || vs[0].Status != StatusReturned || vs[0].ReviewComment != "摘要过于简单，请补充数据范围" || vs[0].Reviewer != "reviewer" {
			t.Fatalf("returned version: %+v", vs)
		}

		// Fixed in place, submitted again, published.
		in.Abstract = "全省户籍人口和常住人口的姓名、公民身份号码、出生日期等基本信息，覆盖全省各市州。"
		if e, err = s.Update(ctx, p["police_spec"], e.ID, in, "补充数据范围"); err != nil {
			t.Fatal(err)
		}
		if e.Version != 1 || e.Status != StatusReturned {
			t.Fatalf("edit in place: %+v", e)
		}
		if _, err = s.Submit(ctx, p["police_cdo"], e.ID, ""); err != nil {
			t.Fatal(err)
		}
		f.advance(time.Hour)
		if e, err = s.Publish(ctx, p["reviewer"], e.ID, "同意发布"); err != nil {
			t.Fatal(err)
		}
		if e.Status != StatusPublished || e.PublishedAt == nil || e.FirstPublAt == nil || e.Version != 1 {
			t.Fatalf("published: %+v", e)
		}
		if g, err := s.Get(ctx, p["market_cdo"], e.ID); err != nil || g.Name != in.Name || len(g.Items) != 3 {
			t.Fatalf("published entry for another body: %+v %v", g, err)
		}
		// Others now see it but still cannot edit it.
		_, err = s.Update(ctx, p["market_cdo"], e.ID, in, "改")
		wantKind(t, err, errs.KindForbidden, "catalog.not_provider")

		// Editing the published entry makes a revision; version 1 stays in force.
		rev := f.input("police", "吉林省常住人口基本信息（含流动人口）")
		rev.Abstract = in.Abstract
		rev.Items = append(slices.Clone(rev.Items), Item{Name: "性别", EnName: "xb", DataType: "C", Length: 1, CodeList: "GB/T 2261.1"})
		rev.Items[1].Length = 100
		_, err = s.Update(ctx, p["police_spec"], e.ID, rev, "")
		wantField(t, err, "reason", "catalog.reason_required")
		f.advance(time.Hour)
		if e, err = s.Update(ctx, p["police_spec"], e.ID, rev, "纳入流动人口"); err != nil {
			t.Fatal(err)
		}
		if e.Status != StatusPublished || e.Name != in.Name || e.Version != 1 || e.RevisionStatus != StatusDraft ||
			e.Revision == nil || e.Revision.Number != 2 || e.Revision.Name != rev.Name || e.Revision.Reason != "纳入流动人口" {
			t.Fatalf("revision: %+v / %+v", e, e.Revision)
		}
		if g, _ := s.Get(ctx, p["market_cdo"], e.ID); g.Revision != nil || g.RevisionStatus != "" || g.Name != in.Name {
			t.Errorf("another body sees the draft revision: %+v", g)
		}
		if vs, _ := s.Versions(ctx, p["market_cdo"], e.ID); len(vs) != 1 {
			t.Errorf("another body sees %d versions, want 1", len(vs))
		}
		vs, _ = s.Versions(ctx, p["police_cdo"], e.ID)
		if len(vs) != 2 || vs[0].Status != StatusPublished || vs[1].Status != StatusDraft || vs[1].Author != "police_spec" {
			t.Fatalf("versions: %+v", vs)
		}

		// What changed since the published version.
		d, err := s.Diff(ctx, p["police_cdo"], e.ID, 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		fields := map[string]Change{}
		for _, c := range d.Changes {
			fields[c.Field] = c
		}
		if d.From != 1 || d.To != 2 || len(d.Changes) != 3 || fields["name"].New != rev.Name || fields["items[性别]"].New == "" ||
			fields["items[姓名].length"].Old != "50" || fields["items[姓名].length"].New != "100" {
			t.Fatalf("diff: %+v", d)
		}
		if _, err := s.Diff(ctx, p["market_cdo"], e.ID, 1, 2); err == nil {
			t.Error("another body diffs against an unpublished version")
		}

		// The revision is published: version 1 is superseded.
		if _, err := s.Submit(ctx, p["police_cdo"], e.ID, ""); err != nil {
			t.Fatal(err)
		}
		if e, err = s.Publish(ctx, p["reviewer"], e.ID, ""); err != nil {
			t.Fatal(err)
		}
		vs, _ = s.Versions(ctx, p["market_cdo"], e.ID)
		if e.Version != 2 || e.Name != rev.Name || len(e.Items) != 4 || len(vs) != 2 || vs[0].Status != StatusSuperseded || vs[0].ClosedAt == nil {
			t.Fatalf("after revision: %+v %+v", e, vs)
		}
		if d, _ := s.Diff(ctx, p["market_cdo"], e.ID, 0, 0); d.From != 1 || d.To != 2 || len(d.Changes) != 3 {
			t.Errorf("diff of published versions: %+v", d)
		}

		// Withdraw with a reason, by the chief data officer only.
		_, err = s.Withdraw(ctx, p["police_cdo"], e.ID, "")
		wantField(t, err, "reason", "required")
		_, err = s.Withdraw(ctx, p["police_spec"], e.ID, "停止提供")
		wantKind(t, err, errs.KindForbidden, "catalog.submit_forbidden")
		if e, err = s.Withdraw(ctx, p["police_cdo"], e.ID, "数据源系统迁移，暂停提供"); err != nil {
			t.Fatal(err)
		}
		if e.Status != StatusWithdrawn {
			t.Fatalf("withdrawn: %+v", e)
		}
		if _, err := s.Get(ctx, p["market_cdo"], e.ID); errs.KindOf(err) != errs.KindNotFound {
			t.Errorf("withdrawn entry visible to another body: %v", err)
		}
		// … and brought back by a new version.
		if _, err = s.Update(ctx, p["police_spec"], e.ID, rev, "系统迁移完成"); err != nil {
			t.Fatal(err)
		}
		if e = f.publish(e.ID); e.Status != StatusPublished || e.Version != 3 {
			t.Fatalf("republished: %+v", e)
		}

		// Deprecate ends it.
		_, err = s.Deprecate(ctx, p["police_cdo"], e.ID, " ")
		wantField(t, err, "reason", "required")
		if e, err = s.Deprecate(ctx, p["police_cdo"], e.ID, "被全员人口库替代"); err != nil {
			t.Fatal(err)
		}
		if e.Status != StatusDeprecated || e.CanEdit || e.CanSubmit {
			t.Fatalf("deprecated: %+v", e)
		}
		_, err = s.Update(ctx, p["police_spec"], e.ID, rev, "再改")
		wantKind(t, err, errs.KindConflict, "catalog.deprecated")
		_, err = s.Deprecate(ctx, p["police_cdo"], e.ID, "再次废止")
		wantKind(t, err, errs.KindConflict, "catalog.deprecated")
		vs, _ = s.Versions(ctx, p["police_cdo"], e.ID)
		if vs[2].Status != StatusDeprecated || vs[2].ClosedReason != "被全员人口库替代" || vs[1].Status != StatusWithdrawn {
			t.Errorf("versions after deprecation: %+v", vs)
		}

		// The history: who did what, when and why.
		h, err := s.History(ctx, p["police_cdo"], e.ID)
		if err != nil {
			t.Fatal(err)
		}
		var actions []string
		for _, ev := range h {
			actions = append(actions, ev.Action)
		}
		want := []string{"create", "submit", "return", "update", "submit", "publish", "revise", "submit", "publish", "withdraw",
			"revise", "submit", "publish", "deprecate"}
		if !slices.Equal(actions, want) {
			t.Errorf("history %v, want %v", actions, want)
		}
		if h[3].Detail != "abstract" || h[3].Comment != "补充数据范围" || h[2].Actor != "reviewer" || h[9].Comment != "数据源系统迁移，暂停提供" {
			t.Errorf("history details: %+v", h)
		}
		if h, _ := s.History(ctx, p["market_cdo"], e.ID); h != nil {
			t.Errorf("history of a deprecated entry visible to another body: %+v", h)
		}
	})
}

func TestClassProviderAndScope(t *testing.T) {
	eachDB(t, func(t *testing.T, f *fixture) {
		ctx, s, p := f.ctx, f.s, f.p
		e := f.create("police_cdo", f.input("police", "吉林省常住人口基本信息"))
		// Before publication a new classification gives a new code.
		in := f.input("police", "吉林省常住人口基本信息")
		in.Class = "3/01/002"
		e, err := s.Update(ctx, p["police_cdo"], e.ID, in, "")
		if err != nil {
			t.Fatal(err)
		}
		if e.Code != "3/01/002/000001" || e.Class != "3/01/002" || e.Attribute != "department" {
			t.Fatalf("reclassified: %s %s %s", e.Code, e.Class, e.Attribute)
		}
		if got, err := s.GetByCode(ctx, p["police_cdo"], "3/01/002/000001"); err != nil || got.ID != e.ID {
			t.Fatalf("by code: %v", err)
		}
		e = f.publish(e.ID)
		in.Class = "3/01/003"
		_, err = s.Update(ctx, p["police_cdo"], e.ID, in, "改分类")
		wantField(t, err, "class", "catalog.class_fixed")
		in.Class, in.ProviderID = "3/01/002", f.bodies["market"].ID
		_, err = s.Update(ctx, p["police_cdo"], e.ID, in, "改提供方")
		wantField(t, err, "provider_id", "catalog.provider_fixed")

		// A city's body makes a supplementary entry of its region.
		c := f.create("city_cdo", f.input("city", "长春市政务服务事项办件信息"))
		if c.Scope != ScopeSupplementary || c.RegionCode != "220100" || c.RegionName != "长春市" {
			t.Errorf("supplementary: %+v", c)
		}
		// Related entries must exist and not be the entry itself.
		in = f.input("city", "长春市政务服务事项办件信息")
		in.Related = []string{e.Code, e.Code, c.Code}
		_, err = s.Update(ctx, p["city_cdo"], c.ID, in, "")
		wantField(t, err, "related[1]", "catalog.related_self")
		in.Related = []string{e.Code}
		if c, err = s.Update(ctx, p["city_cdo"], c.ID, in, ""); err != nil || !slices.Equal(c.Related, []string{e.Code}) {
			t.Fatalf("related: %v %v", c.Related, err)
		}
	})
}

func TestCodesUniqueUnderConcurrency(t *testing.T) {
	eachDB(t, func(t *testing.T, f *fixture) {
		const workers, each = 8, 5
		var mu sync.Mutex
		var codes []string
		var wg sync.WaitGroup
		errc := make(chan error, workers*each)
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range each {
					e, err := f.s.Create(f.ctx, f.p["police_cdo"], f.input("police", fmt.Sprintf("人口信息 %d-%d", w, i)))
					if err != nil {
						errc <- err
						return
					}
					mu.Lock()
					codes = append(codes, e.Code)
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		close(errc)
		for err := range errc {
			t.Fatal(err)
		}
		slices.Sort(codes)
		for i, c := range codes {
			if want := fmt.Sprintf("1/01/001/%06d", i+1); c != want {
				t.Fatalf("codes[%d] = %s, want %s (all: %v)", i, c, want, codes)
			}
		}
		in := f.input("police", "机动车登记信息")
		in.Class = "3/01/004"
		if e := f.create("police_cdo", in); e.Code != "3/01/004/000001" {
			t.Errorf("another class starts at 1: %s", e.Code)
		}
	})
}

func TestReviewQueue(t *testing.T) {
	eachDB(t, func(t *testing.T, f *fixture) {
		ctx, s, p := f.ctx, f.s, f.p
		submitted := f.clock()
		var ids []int64
		for _, b := range []string{"police", "market", "police"} {
			e := f.create(b+"_cdo", f.input(b, "测试目录 "+b))
			if _, err := s.Submit(ctx, p[b+"_cdo"], e.ID, ""); err != nil {
				t.Fatal(err)
			}
			ids = append(ids, e.ID)
			f.advance(time.Hour)
		}
		draft := f.create("police_cdo", f.input("police", "未提交的草稿"))
		f.advance(7 * 24 * time.Hour)

		q, total, err := s.ReviewQueue(ctx, p["reviewer"], QueueFilter{})
		if err != nil {
			t.Fatal(err)
		}
		want := workday.WorkdaysBetween(submitted, f.clock())
		if total != 3 || len(q) != 3 || q[0].Entry.ID != ids[0] || q[2].Entry.ID != ids[2] || q[0].WaitingDays != want || want < 4 ||
			!q[0].Entry.CanReview || q[0].Revision || q[0].Submitter != "police_cdo" {
			t.Fatalf("queue: %d %+v (want %d days)", total, q, want)
		}
		for _, it := range q {
			if it.Entry.ID == draft.ID {
				t.Error("a draft is in the review queue")
			}
		}
		// Paging and filters.
		if q, total, _ := s.ReviewQueue(ctx, p["reviewer"], QueueFilter{ProviderID: f.bodies["market"].ID}); total != 1 || q[0].Entry.ID != ids[1] {
			t.Errorf("by provider: %d %+v", total, q)
		}
		if q, total, _ := s.ReviewQueue(ctx, p["reviewer"], QueueFilter{Offset: 1, Limit: 1}); total != 3 || len(q) != 1 || q[0].Entry.ID != ids[1] {
			t.Errorf("page: %d %+v", total, q)
		}
		// A department sees its own submissions only; a dual reviewer may not review its body's.
		if q, total, _ := s.ReviewQueue(ctx, p["police_cdo"], QueueFilter{}); total != 2 || q[0].Entry.CanReview {
			t.Errorf("police queue: %d %+v", total, q)
		}
		if q, _, _ := s.ReviewQueue(ctx, p["dual"], QueueFilter{}); len(q) != 3 || q[0].Entry.CanReview || !q[1].Entry.CanReview {
			t.Errorf("dual queue: %+v", q)
		}
		if _, total, _ := s.ReviewQueue(ctx, p["admin"], QueueFilter{}); total != 0 {
			t.Errorf("admin queue: %d", total)
		}
	})
}

func TestBatches(t *testing.T) {
	eachDB(t, func(t *testing.T, f *fixture) {
		ctx, s, p := f.ctx, f.s, f.p
		rows := []EntryInput{f.input("police", "人口一"), f.input("police", "人口二"), f.input("police", "人口三"), f.input("police", "人口四")}
		rows[2].ShareType = "shared sometimes"
		rows[3].Items = nil
		_, err := s.CreateMany(ctx, p["police_cdo"], rows)
		wantField(t, err, "rows[2].share_type", "catalog.unknown_value")
		wantField(t, err, "rows[3].items", "catalog.items_required")
		if n := f.count("entries"); n != 0 {
			t.Fatalf("half imported: %d entries", n)
		}
		rows[2].ShareType = ShareConditional
		rows[3] = f.input("market", "企业法人登记信息")
		_, err = s.CreateMany(ctx, p["police_cdo"], rows)
		wantField(t, err, "rows[3].provider_id", "catalog.not_provider")
		if n := f.count("entries"); n != 0 {
			t.Fatalf("half imported: %d entries", n)
		}
		rows[3] = f.input("police", "人口四")
		es, err := s.CreateMany(ctx, p["police_cdo"], rows)
		if err != nil {
			t.Fatal(err)
		}
		if len(es) != 4 || es[0].Code != "1/01/001/000001" || es[3].Code != "1/01/001/000004" || es[3].Status != StatusDraft {
			t.Fatalf("created: %+v", es)
		}
		if n := f.count("entry_items"); n != 12 {
			t.Errorf("items: %d", n)
		}
		ids := []int64{es[0].ID, es[1].ID, es[2].ID, es[3].ID}
		// Submit and publish in batches, all or nothing.
		if err := s.SubmitMany(ctx, p["police_spec"], ids, ""); errs.KindOf(err) != errs.KindForbidden {
			t.Fatalf("specialist batch submit: %v", err)
		}
		if err := s.SubmitMany(ctx, p["police_cdo"], ids, ""); err != nil {
			t.Fatal(err)
		}
		if err := s.PublishMany(ctx, p["reviewer"], append(ids, 9999), ""); err == nil {
			t.Fatal("batch with an unknown id published")
		} else {
			wantField(t, err, "rows[4]", "catalog.entry_not_found")
		}
		if q, _, _ := s.ReviewQueue(ctx, p["reviewer"], QueueFilter{}); len(q) != 4 {
			t.Fatalf("after failed batch: %d waiting", len(q))
		}
		if err := s.PublishMany(ctx, p["reviewer"], ids, "批量审核通过"); err != nil {
			t.Fatal(err)
		}
		if res, _ := s.Search(ctx, p["market_cdo"], SearchQuery{Q: "人口"}); res.Total != 4 {
			t.Errorf("published batch in search: %d", res.Total)
		}
	})
}

// Twenty editors who opened the same revision of a draft save at once:
// exactly one edit applies, the nineteen others are refused as stale, and
// nothing is lost silently. Every workflow step raises the revision, so a
// step made on an older one is refused as well.
func TestConcurrentEditsConflict(t *testing.T) {
	eachDB(t, func(t *testing.T, f *fixture) {
		ctx, s, p := f.ctx, f.s, f.p
		e := f.create("police_spec", f.input("police", "吉林省常住人口基本信息"))
		if e.Rev == 0 {
			t.Fatal("an entry has no revision")
		}
		const n = 20
		var wg sync.WaitGroup
		results := make([]error, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, results[i] = s.Update(ctx, p["police_spec"], e.ID, f.input("police", fmt.Sprintf("吉林省常住人口信息第%d稿", i)), "", IfRev(e.Rev))
			}()
		}
		wg.Wait()
		winner := -1
		for i, err := range results {
			switch {
			case err == nil:
				if winner >= 0 {
					t.Errorf("edits %d and %d both applied", winner, i)
				}
				winner = i
			case errs.KindOf(err) == errs.KindConflict:
				wantKind(t, err, errs.KindConflict, "catalog.stale")
			default:
				t.Errorf("edit %d: %v", i, err)
			}
		}
		if winner < 0 {
			t.Fatal("no edit applied")
		}
		got, err := s.Get(ctx, p["police_spec"], e.ID)
		if err != nil || got.Name != fmt.Sprintf("吉林省常住人口信息第%d稿", winner) || got.Rev != e.Rev+1 {
			t.Errorf("after the race: %q rev %d (winner %d, rev before %d), %v", got.Name, got.Rev, winner, e.Rev, err)
		}
		var events int
		if err := f.store.R.QueryRow(`SELECT COUNT(*) FROM entry_events WHERE entry_id = $1 AND action = 'update'`, e.ID).Scan(&events); err != nil || events != 1 {
			t.Errorf("update events = %d, want 1 (%v)", events, err)
		}

		// Workflow steps carry the revision too.
		_, err = s.Submit(ctx, p["police_cdo"], e.ID, "", IfRev(e.Rev))
		wantKind(t, err, errs.KindConflict, "catalog.stale")
		if got, err = s.Submit(ctx, p["police_cdo"], e.ID, "", IfRev(got.Rev)); err != nil {
			t.Fatal(err)
		}
		_, err = s.Return(ctx, p["reviewer"], e.ID, "请补充", IfRev(got.Rev-1))
		wantKind(t, err, errs.KindConflict, "catalog.stale")
		if got, err = s.Publish(ctx, p["reviewer"], e.ID, "", IfRev(got.Rev)); err != nil {
			t.Fatal(err)
		}
		_, err = s.Withdraw(ctx, p["police_cdo"], e.ID, "暂停", IfRev(got.Rev-1))
		wantKind(t, err, errs.KindConflict, "catalog.stale")
		_, err = s.Deprecate(ctx, p["police_cdo"], e.ID, "替代", IfRev(got.Rev+1))
		wantKind(t, err, errs.KindConflict, "catalog.stale")
		if _, err = s.Withdraw(ctx, p["police_cdo"], e.ID, "暂停", IfRev(got.Rev)); err != nil {
			t.Fatal(err)
		}
		// Without a condition a step applies to the current revision (System, batches).
		if _, err = s.Deprecate(ctx, p["police_cdo"], e.ID, "替代"); err != nil {
			t.Fatal(err)
		}
	})
}
