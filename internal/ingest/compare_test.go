package ingest

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"xiangyun/internal/catalog"
	"xiangyun/internal/errs"
	"xiangyun/internal/quality"
)

func TestCompareRecords(t *testing.T) {
	eachDB(t, func(t *testing.T, f *fixture) {
		// A: the police entry; B: a market entry keyed by the same ID numbers.
		b, err := f.upload("police_spec", "a.csv", []byte("公民身份号码,姓名,住址\n"+id1+",张三,长春市\n"+id2+",李四,吉林市\n"+id3+",王五,\n"), ModeAppend, PublishValid)
		wantStatus(t, b, err, StatusPublished, 3, 3, 0)
		in := catalog.EntryInput{ProviderID: f.p["market_cdo"].User.BodyID, Content: catalog.Content{
			Name: "个体工商户经营者信息", Class: "1/02/001", Abstract: "个体工商户经营者的公民身份号码、姓名和住址。",
			FormatClass: "database", FormatType: "oracle", Items: []catalog.Item{
				{Name: "公民身份号码", EnName: "gmsfhm", DataType: "C", Length: 18, Key: true, Sensitive: true, Mask: "id_card"},
				{Name: "姓名", EnName: "xm", DataType: "C", Length: 50, Sensitive: true, Mask: "name"},
				{Name: "住址", EnName: "zz", DataType: "C", Length: 100},
			},
			ShareType: catalog.ShareConditional, ShareCondition: "仅用于政务服务", ShareMethod: catalog.MethodTable, ShareChannel: "platform",
			OpenType: catalog.OpenNone, OpenCondition: "涉及个人信息，不予开放", Cycle: "daily", Grade: "L3",
		}}
		es, err := f.cat.CreatePublished(f.ctx, catalog.System, []catalog.EntryInput{in}, "")
		if err != nil {
			t.Fatal(err)
		}
		other := es[0].ID
		content := []byte("公民身份号码,姓名,住址\n" + id1 + ",张三,长春市朝阳区\n" + id2 + ",李肆,吉林市\n" + idNumber(7) + ",赵六,四平市\n")
		path := filepath.Join(f.dir, "b.csv")
		if err := os.WriteFile(path, content, 0o600); err != nil {
			t.Fatal(err)
		}
		bb, err := f.s.Start(f.ctx, f.p["market_cdo"], other, Upload{Path: path, Name: "b.csv", Size: int64(len(content)), SHA256: fmt.Sprintf("%x", sha(content))})
		if err != nil {
			t.Fatal(err)
		}
		f.s.Wait(f.ctx, bb.ID, time.Minute)

		pairs, err := f.q.Pairs(f.ctx, f.p["reviewer"])
		if err != nil {
			t.Fatal(err)
		}
		var pair *quality.Pair
		for i := range pairs {
			if (pairs[i].AID == f.entryID && pairs[i].BID == other) || (pairs[i].AID == other && pairs[i].BID == f.entryID) {
				pair = &pairs[i]
			}
		}
		if pair == nil {
			t.Fatalf("no pair: %+v", pairs)
		}
		c, err := f.s.Compare(f.ctx, f.p["reviewer"], *pair, 100)
		if err != nil {
			t.Fatal(err)
		}
		// id1: 住址 differs; id2: 姓名 differs; id3 only in police, idNumber(7) only in market.
		if c.Matched != 2 || c.Disagreeing != 2 || c.OnlyA != 1 || c.OnlyB != 1 || len(c.Disagreements) != 2 {
			t.Fatalf("comparison: %+v", c)
		}
		got := map[string]quality.Disagreement{}
		for _, d := range c.Disagreements {
			got[d.Item] = d
		}
		// Values masked by their items' rules: 姓名 keeps its first character.
		// The police 住址 is sensitive (masked), the market one is not.
		if d := got["住址"]; d.Key == id1 || d.Key == "" || d.A+d.B != "***长春市朝阳区" && d.A+d.B != "长春市朝阳区***" {
			t.Fatalf("住址: %+v", d)
		}
		if d := got["姓名"]; d.A != "李*" || d.B != "李*" {
			t.Fatalf("姓名: %+v", d)
		}
		_, err = f.s.Compare(f.ctx, f.p["police_cdo"], *pair, 100)
		wantKind(t, err, errs.KindForbidden, "ingest.compare")
	})
}
