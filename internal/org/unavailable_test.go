package org_test

import (
	"context"
	"testing"
	"time"

	"xiangyun/internal/errs"
	"xiangyun/internal/org"
)

// TestLookupStorageFailure: a region or parent that cannot be read because
// the database does not answer is "unavailable" (503), never "no such
// region" (the user's mistake).
func TestLookupStorageFailure(t *testing.T) {
	s := openOrgs(t, "sqlite:"+t.TempDir())
	parent, err := s.CreateBody(context.Background(), org.BodyInput{Name: "吉林省公安厅", CreditCode: "11220000MB1726532F", Kind: org.KindAgency, RegionCode: "220000"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel()
	if _, err := s.CreateBody(ctx, org.BodyInput{Name: "长春市公安局", CreditCode: "91512081MA62K0260E", Kind: org.KindAgency, RegionCode: "220100", ParentID: parent.ID}); errs.KindOf(err) != errs.KindUnavailable {
		t.Errorf("create body: %v (kind %v), want unavailable", err, errs.KindOf(err))
	}
	if _, err := s.CreateRegion(ctx, org.Region{Code: "220103", Name: "宽城区"}); errs.KindOf(err) != errs.KindUnavailable {
		t.Errorf("create region: %v (kind %v), want unavailable", err, errs.KindOf(err))
	}
}
