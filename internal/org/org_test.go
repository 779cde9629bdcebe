package org_test

import (
	"context"
	"strings"
	"testing"

	"xiangyun/internal/db/dbtest"
	"xiangyun/internal/errs"
	"xiangyun/internal/org"
)

func openOrgs(t *testing.T, dsn string) *org.Service {
	t.Helper()
	ctx := context.Background()
	store := dbtest.Open(t, dsn, "control")
	s, err := org.Open(ctx, store)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []org.Region{{Code: "220000", Name: "吉林省"}, {Code: "220100", Name: "长春市"}, {Code: "220102", Name: "南关区"}} {
		if _, err := s.CreateRegion(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

func TestBodies(t *testing.T) {
	for dialect, dsn := range dbtest.TestDSNs(t) {
		t.Run(string(dialect), func(t *testing.T) {
			ctx := context.Background()
			s := openOrgs(t, dsn(t))
			good := org.BodyInput{Name: "吉林省公安厅", CreditCode: "91350100M000100Y43", Kind: org.KindAgency, RegionCode: "220000"}
			b, err := s.CreateBody(ctx, good)
			if err != nil {
				t.Fatal(err)
			}
			if b.ID == 0 || !b.Enabled || b.RegionName != "吉林省" {
				t.Fatalf("body = %+v", b)
			}
			child, err := s.CreateBody(ctx, org.BodyInput{Name: "长春市公安局", CreditCode: "91512081MA62K0260E", Kind: org.KindAgency, RegionCode: "220100", ParentID: b.ID})
			if err != nil {
				t.Fatal(err)
			}
			// A body cannot be moved under its own descendant.
			in := good
			in.ParentID = child.ID
			if _, err := s.UpdateBody(ctx, b.ID, in); err == nil || !hasField(err, "parent_id") {
				t.Fatalf("cycle accepted: %v", err)
			}
			bad := []struct {
				name  string
				in    org.BodyInput
				field string
				kind  errs.Kind
			}{
				{"credit checksum", org.BodyInput{Name: "某局", CreditCode: "91350100M000100Y44", Kind: org.KindAgency, RegionCode: "220000"}, "credit_code", errs.KindInvalid},
				{"credit charset", org.BodyInput{Name: "某局", CreditCode: "91350100M000100Y4Z", Kind: org.KindAgency, RegionCode: "220000"}, "credit_code", errs.KindInvalid},
				{"credit length", org.BodyInput{Name: "某局", CreditCode: "9135", Kind: org.KindAgency, RegionCode: "220000"}, "credit_code", errs.KindInvalid},
				{"unknown region", org.BodyInput{Name: "某局", CreditCode: "91350100M000100Y43", Kind: org.KindAgency, RegionCode: "229999"}, "region_code", errs.KindInvalid},
				{"bad kind", org.BodyInput{Name: "某局", CreditCode: "91350100M000100Y43", Kind: "bank", RegionCode: "220000"}, "kind", errs.KindInvalid},
				{"utility without sector", org.BodyInput{Name: "某水务", CreditCode: "91350100M000100Y43", Kind: org.KindUtility, RegionCode: "220000"}, "sector", errs.KindInvalid},
				{"control character", org.BodyInput{Name: "某\x00局", CreditCode: "91350100M000100Y43", Kind: org.KindAgency, RegionCode: "220000"}, "name", errs.KindInvalid},
				{"bidi override", org.BodyInput{Name: "某\u202E局", CreditCode: "91350100M000100Y43", Kind: org.KindAgency, RegionCode: "220000"}, "name", errs.KindInvalid},
				{"too long", org.BodyInput{Name: strings.Repeat("局", 101), CreditCode: "91350100M000100Y43", Kind: org.KindAgency, RegionCode: "220000"}, "name", errs.KindInvalid},
				{"empty", org.BodyInput{Name: "", CreditCode: "91350100M000100Y43", Kind: org.KindAgency, RegionCode: "220000"}, "name", errs.KindInvalid},
				{"duplicate credit code", org.BodyInput{Name: "另一个局", CreditCode: "91350100M000100Y43", Kind: org.KindAgency, RegionCode: "220000"}, "", errs.KindConflict},
				{"duplicate name", org.BodyInput{Name: "吉林省公安厅", CreditCode: "91110000MA00000001", Kind: org.KindAgency, RegionCode: "220000"}, "", errs.KindInvalid},
			}
			for _, c := range bad {
				_, err := s.CreateBody(ctx, c.in)
				if err == nil {
					t.Errorf("%s: accepted", c.name)
					continue
				}
				e, ok := errs.As(err)
				if !ok || e.ZH == "" || e.EN == "" {
					t.Errorf("%s: error without messages: %v", c.name, err)
					continue
				}
				if c.field != "" && !hasField(err, c.field) {
					t.Errorf("%s: error %v does not name %s", c.name, err, c.field)
				}
			}
			_, total, err := s.Bodies(ctx, org.BodyFilter{})
			if err != nil || total != 2 {
				t.Fatalf("after bad input: %d bodies, err %v", total, err)
			}
			// A fresh valid code for the duplicate-name case conflicts on the name.
			if _, err := s.CreateBody(ctx, org.BodyInput{Name: "吉林省公安厅", CreditCode: "11220000MB1726532F", Kind: org.KindAgency, RegionCode: "220000"}); errs.KindOf(err) != errs.KindConflict {
				t.Fatalf("duplicate name: %v", err)
			}
			list, n, err := s.Bodies(ctx, org.BodyFilter{RegionCode: "220100"})
			if err != nil || n != 1 || list[0].Name != "长春市公安局" {
				t.Fatalf("region filter: %v %d %v", list, n, err)
			}
			if _, n, _ := s.Bodies(ctx, org.BodyFilter{Q: "公安"}); n != 2 {
				t.Fatalf("search: %d", n)
			}
			if _, n, _ := s.Bodies(ctx, org.BodyFilter{Q: "%"}); n != 0 {
				t.Fatalf("LIKE wildcard not escaped: %d", n)
			}
			off := false
			if _, err := s.SetBodyEnabled(ctx, child.ID, false); err != nil {
				t.Fatal(err)
			}
			if _, n, _ := s.Bodies(ctx, org.BodyFilter{Enabled: &off}); n != 1 {
				t.Fatalf("disabled filter: %d", n)
			}
		})
	}
}

func TestRegions(t *testing.T) {
	for dialect, dsn := range dbtest.TestDSNs(t) {
		t.Run(string(dialect), func(t *testing.T) {
			ctx := context.Background()
			s := openOrgs(t, dsn(t))
			for _, c := range []org.Region{{Code: "220099", Name: "坏"}, {Code: "2201", Name: "短"}, {Code: "990000", Name: "无"}, {Code: "220200", Name: "吉林\x07市"}, {Code: "220302", Name: "缺上级"}} {
				if _, err := s.CreateRegion(ctx, c); err == nil {
					t.Errorf("region %s %s accepted", c.Code, c.Name)
				}
			}
			if _, err := s.CreateRegion(ctx, org.Region{Code: "220100", Name: "长春市"}); errs.KindOf(err) != errs.KindConflict {
				t.Errorf("duplicate region: %v", err)
			}
			rs, err := s.Regions(ctx)
			if err != nil || len(rs) != 3 || rs[2].ParentCode != "220100" || rs[2].Level != 3 {
				t.Fatalf("regions: %+v %v", rs, err)
			}
		})
	}
}

func hasField(err error, field string) bool {
	e, ok := errs.As(err)
	if !ok {
		return false
	}
	for _, f := range e.Fields {
		if f.Field == field {
			return true
		}
	}
	return false
}
