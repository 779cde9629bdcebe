package catalog

import (
	"strings"
	"testing"

	"xiangyun/internal/errs"
	"xiangyun/internal/org"
)

func TestNegativeList(t *testing.T) {
	eachDB(t, func(t *testing.T, f *fixture) {
		ctx, s, p := f.ctx, f.s, f.p
		in := f.input("police", "吉林省人口死亡注销信息")
		in.Grade, in.ShareType, in.ShareCondition, in.ShareMethod = "L4", ShareNone, "依据《中华人民共和国个人信息保护法》第二十八条，不予共享", "api"
		e := f.create("police_cdo", in)
		if e.ShareMethod != "" || e.ShareChannel != "" {
			t.Errorf("not shared, yet a method: %q %q", e.ShareMethod, e.ShareChannel)
		}
		if rows, n, _ := s.NegativeList(ctx, ListFilter{}); n != 0 || len(rows) != 0 {
			t.Fatalf("a draft is on the negative list: %+v", rows)
		}
		f.publish(e.ID)
		rows, n, err := s.NegativeList(ctx, ListFilter{})
		if err != nil {
			t.Fatal(err)
		}
		if n != 1 || rows[0].EntryID != e.ID || rows[0].Basis != in.ShareCondition || rows[0].AddedBy != "reviewer" || rows[0].Provider != "吉林省公安厅" {
			t.Fatalf("negative list: %+v", rows)
		}
		// A shareable revision takes it off once published, not before.
		rev := in
		rev.ShareType, rev.ShareCondition, rev.ShareMethod, rev.Grade = ShareConditional, "仅限核验", "api", "L3"
		if _, err := s.Update(ctx, p["police_cdo"], e.ID, rev, "经评估可有条件共享"); err != nil {
			t.Fatal(err)
		}
		if _, n, _ := s.NegativeList(ctx, ListFilter{}); n != 1 {
			t.Fatal("draft revision changed the negative list")
		}
		f.publish(e.ID)
		if _, n, _ := s.NegativeList(ctx, ListFilter{}); n != 0 {
			t.Fatal("shareable entry still on the negative list")
		}
		// Back on with a new basis, then off when withdrawn.
		in.ShareCondition = "依据《中华人民共和国数据安全法》第三十八条，不予共享"
		if _, err := s.Update(ctx, p["police_cdo"], e.ID, in, "重新评估"); err != nil {
			t.Fatal(err)
		}
		f.publish(e.ID)
		if rows, _, _ := s.NegativeList(ctx, ListFilter{Q: "死亡"}); len(rows) != 1 || rows[0].Basis != in.ShareCondition || rows[0].Version != 3 {
			t.Fatalf("negative list after republication: %+v", rows)
		}
		if _, err := s.Withdraw(ctx, p["police_cdo"], e.ID, "停止提供"); err != nil {
			t.Fatal(err)
		}
		if _, n, _ := s.NegativeList(ctx, ListFilter{}); n != 0 {
			t.Fatal("withdrawn entry still on the negative list")
		}
	})
}

func TestResponsibilityList(t *testing.T) {
	eachDB(t, func(t *testing.T, f *fixture) {
		ctx, s, p := f.ctx, f.s, f.p
		_, err := s.CreateResponsibility(ctx, p["police_cdo"], ResponsibilityInput{BodyID: f.bodies["police"].ID, Name: "吉林省常住人口基本信息"})
		wantKind(t, err, errs.KindForbidden, "catalog.lists_forbidden")
		_, err = s.CreateResponsibility(ctx, p["admin"], ResponsibilityInput{BodyID: f.bodies["police"].ID, Name: "x\x00", Due: "2026-13-01"})
		wantField(t, err, "name", "text.control_chars")
		wantField(t, err, "due", "catalog.date")

		r, err := s.CreateResponsibility(ctx, p["admin"], ResponsibilityInput{BodyID: f.bodies["police"].ID, Name: "吉林省常住人口基本信息",
			Basis: "《吉林省公共数据和一网通办管理办法（试行）》第十五条", Due: "2026-03-01"})
		if err != nil {
			t.Fatal(err)
		}
		if r.Status != RespPending || !r.Overdue || r.Body != "吉林省公安厅" {
			t.Fatalf("new item: %+v", r)
		}
		// Publishing the entry of that name completes it.
		e := f.create("police_cdo", f.input("police", "吉林省常住人口基本信息"))
		if r, _ = s.Responsibility(ctx, r.ID); r.Status != RespPending || r.EntryID != 0 {
			t.Fatalf("a draft completed the item: %+v", r)
		}
		f.publish(e.ID)
		if r, _ = s.Responsibility(ctx, r.ID); r.Status != RespDone || r.EntryID != e.ID || r.CompletedAt == nil || r.Overdue || r.EntryCode != e.Code {
			t.Fatalf("after publication: %+v", r)
		}
		// Withdrawn, it is pending again; republished, done again.
		if _, err := s.Withdraw(ctx, p["police_cdo"], e.ID, "整改"); err != nil {
			t.Fatal(err)
		}
		if r, _ = s.Responsibility(ctx, r.ID); r.Status != RespPending || r.CompletedAt != nil {
			t.Fatalf("after withdrawal: %+v", r)
		}
		if _, err := s.Update(ctx, p["police_cdo"], e.ID, f.input("police", "吉林省常住人口基本信息"), "整改完成"); err != nil {
			t.Fatal(err)
		}
		f.publish(e.ID)
		if r, _ = s.Responsibility(ctx, r.ID); r.Status != RespDone {
			t.Fatalf("after republication: %+v", r)
		}

		// Linking by hand: the body's chief data officer, to its own entries.
		r2, err := s.CreateResponsibility(ctx, p["reviewer"], ResponsibilityInput{BodyID: f.bodies["police"].ID, Name: "流动人口信息"})
		if err != nil {
			t.Fatal(err)
		}
		other := f.published(f.input("market", "企业法人登记信息"))
		_, err = s.LinkResponsibility(ctx, p["market_cdo"], r2.ID, other.ID)
		wantKind(t, err, errs.KindForbidden, "catalog.lists_forbidden")
		_, err = s.LinkResponsibility(ctx, p["admin"], r2.ID, other.ID)
		wantField(t, err, "entry_id", "catalog.responsibility_body")
		draft := f.create("police_cdo", f.input("police", "吉林省流动人口信息"))
		if r2, err = s.LinkResponsibility(ctx, p["police_cdo"], r2.ID, draft.ID); err != nil || r2.Status != RespPending || r2.EntryID != draft.ID {
			t.Fatalf("linked to a draft: %+v %v", r2, err)
		}
		f.publish(draft.ID)
		if r2, _ = s.Responsibility(ctx, r2.ID); r2.Status != RespDone {
			t.Fatalf("linked entry published: %+v", r2)
		}
		// Cancel and list.
		if r2, err = s.UpdateResponsibility(ctx, p["admin"], r2.ID, ResponsibilityInput{BodyID: r2.BodyID, Name: r2.Name, Cancelled: true}); err != nil || r2.Status != RespCancelled {
			t.Fatalf("cancel: %+v %v", r2, err)
		}
		list, total, err := s.Responsibilities(ctx, ListFilter{BodyID: f.bodies["police"].ID, Status: RespDone})
		if err != nil || total != 1 || list[0].ID != r.ID {
			t.Fatalf("list: %d %+v %v", total, list, err)
		}
		// An item created after publication is done at once.
		r3, err := s.CreateResponsibility(ctx, p["admin"], ResponsibilityInput{BodyID: f.bodies["market"].ID, Name: "企业法人登记信息"})
		if err != nil || r3.Status != RespDone || r3.EntryID != other.ID {
			t.Fatalf("item for a published entry: %+v %v", r3, err)
		}
	})
}

func TestDemandList(t *testing.T) {
	eachDB(t, func(t *testing.T, f *fixture) {
		ctx, s, p := f.ctx, f.s, f.p
		_, err := s.CreateDemand(ctx, p["police_cdo"], DemandInput{BodyID: f.bodies["hrss"].ID, Title: "企业登记信息"})
		wantKind(t, err, errs.KindForbidden, "catalog.demand_forbidden")
		_, err = s.CreateDemand(ctx, p["police_spec"], DemandInput{BodyID: f.bodies["police"].ID, Title: "企业登记信息"})
		wantKind(t, err, errs.KindForbidden, "catalog.demand_forbidden")
		d, err := s.CreateDemand(ctx, p["hrss_cdo"], DemandInput{BodyID: f.bodies["hrss"].ID, Title: "企业法人登记信息",
			Description: "社保登记时核验参保单位的登记状态", Items: "统一社会信用代码、企业名称、登记状态"})
		if err != nil {
			t.Fatal(err)
		}
		if d.Status != DemandOpen || d.Body != "吉林省人力资源和社会保障厅" || len(d.Links) != 0 {
			t.Fatalf("new demand: %+v", d)
		}
		// The provider offers a draft: linked but not yet matched.
		e := f.create("market_cdo", f.input("market", "企业法人登记信息"))
		if d, err = s.LinkDemand(ctx, p["market_cdo"], d.ID, e.ID, false); err != nil || d.Status != DemandOpen || len(d.Links) != 1 {
			t.Fatalf("linked a draft: %+v %v", d, err)
		}
		_, err = s.LinkDemand(ctx, p["police_cdo"], d.ID, e.ID, false)
		wantKind(t, err, errs.KindNotFound, "catalog.entry_not_found")
		f.publish(e.ID)
		if d, _ = s.Demand(ctx, d.ID); d.Status != DemandMatched || d.Links[0].Code != e.Code || d.Links[0].Status != StatusPublished || d.Links[0].LinkedBy != "market_cdo" {
			t.Fatalf("after publication: %+v", d)
		}
		if _, err := s.Deprecate(ctx, p["market_cdo"], e.ID, "停用"); err != nil {
			t.Fatal(err)
		}
		if d, _ = s.Demand(ctx, d.ID); d.Status != DemandOpen {
			t.Fatalf("after deprecation: %+v", d)
		}
		// A reviewer links another published entry; closing and reopening.
		other := f.published(f.input("police", "吉林省常住人口基本信息"))
		if d, err = s.LinkDemand(ctx, p["reviewer"], d.ID, other.ID, false); err != nil || d.Status != DemandMatched || len(d.Links) != 2 {
			t.Fatalf("reviewer link: %+v %v", d, err)
		}
		if d, err = s.LinkDemand(ctx, p["hrss_cdo"], d.ID, other.ID, true); err != nil || d.Status != DemandOpen || len(d.Links) != 1 {
			t.Fatalf("unlink: %+v %v", d, err)
		}
		_, err = s.CloseDemand(ctx, p["hrss_cdo"], d.ID, "", false)
		wantField(t, err, "reason", "required")
		if d, err = s.CloseDemand(ctx, p["hrss_cdo"], d.ID, "已通过其他渠道解决", false); err != nil || d.Status != DemandClosed {
			t.Fatalf("close: %+v %v", d, err)
		}
		if d, err = s.UpdateDemand(ctx, p["hrss_cdo"], d.ID, DemandInput{Title: "企业法人登记状态信息"}); err != nil || d.Title != "企业法人登记状态信息" || d.Status != DemandClosed {
			t.Fatalf("update: %+v %v", d, err)
		}
		if d, err = s.CloseDemand(ctx, p["hrss_cdo"], d.ID, "", true); err != nil || d.Status != DemandOpen {
			t.Fatalf("reopen: %+v %v", d, err)
		}
		list, total, err := s.Demands(ctx, ListFilter{Q: "登记"})
		if err != nil || total != 1 || len(list[0].Links) != 1 {
			t.Fatalf("list: %d %+v %v", total, list, err)
		}
	})
}

// List searches match ASCII letters regardless of case and Chinese exactly,
// the same on SQLite and PostgreSQL.
func TestListSearchCase(t *testing.T) {
	eachDB(t, func(t *testing.T, f *fixture) {
		ctx, s, p := f.ctx, f.s, f.p
		if _, err := s.CreateResponsibility(ctx, p["admin"], ResponsibilityInput{BodyID: f.bodies["police"].ID, Name: "JSZH 驾驶证信息"}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.CreateDemand(ctx, p["police_cdo"], DemandInput{BodyID: f.bodies["police"].ID, Title: "企业 jszh 数据"}); err != nil {
			t.Fatal(err)
		}
		for q, want := range map[string]int{"jszh": 1, "JSZH": 1, "Jszh": 1, "驾驶证": 1, "ＪＳＺＨ": 0, "jszh%": 0} {
			if _, n, err := s.Responsibilities(ctx, ListFilter{Q: q}); err != nil || n != want {
				t.Errorf("responsibilities %q: %d, %v; want %d", q, n, err, want)
			}
		}
		for q, want := range map[string]int{"JSZH": 1, "jSzH 数据": 1, "企业": 1, "驾驶证": 0} {
			if _, n, err := s.Demands(ctx, ListFilter{Q: q}); err != nil || n != want {
				t.Errorf("demands %q: %d, %v; want %d", q, n, err, want)
			}
		}
		for q, want := range map[string]int{"公安": 1, "吉林省公安厅": 1} {
			if _, n, err := f.orgs.Bodies(ctx, org.BodyFilter{Q: q}); err != nil || n != want {
				t.Errorf("bodies %q: %d, %v; want %d", q, n, err, want)
			}
		}
		code := f.bodies["police"].CreditCode
		if bs, _, err := f.orgs.Bodies(ctx, org.BodyFilter{Q: strings.ToLower(code)}); err != nil || len(bs) != 1 || bs[0].CreditCode != code {
			t.Errorf("body by lower-case credit code: %+v %v", bs, err)
		}
	})
}
