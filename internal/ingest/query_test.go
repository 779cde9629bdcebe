package ingest

import (
	"strings"
	"sync"
	"testing"

	"xiangyun/internal/catalog"
	"xiangyun/internal/db"
	"xiangyun/internal/errs"
)

// TestGatewayQueryAndVerify covers the gateway's read path: selected items
// only, filters and row scope ANDed, paging, typed comparison in Verify
// without values returned, concurrent use of the cached plan, and a new
// published version (an added item) picked up by the cached table.
func TestGatewayQueryAndVerify(t *testing.T) {
	eachDB(t, func(t *testing.T, f *fixture) {
		items := append(personItems(), catalog.Item{Name: "月收入", EnName: "ysr", DataType: "N", Length: 10})
		f.entryID = f.publish(items, catalog.MethodTable)
		csv := "公民身份号码,姓名,出生日期,住址,月收入\n" + id1 + ",张三,1949-12-31,长春市,3500.50\n" + id2 + ",李四,1901-02-03,吉林市,1200\n" + id3 + ",王五,2000-03-20,长春市,\n"
		b, err := f.upload("police_spec", "a.csv", []byte(csv), ModeAppend, PublishValid)
		wantStatus(t, b, err, StatusPublished, 3, 3, 0)
		e, err := f.cat.Get(f.ctx, catalog.System, f.entryID)
		if err != nil {
			t.Fatal(err)
		}
		pg, err := f.s.Query(f.ctx, &e, Query{Items: []string{"姓名", "月收入"}, Scope: map[string]string{"住址": "长春市"}, Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		if len(pg.Items) != 2 || pg.More || pg.Items[0]["姓名"] != "张三" || pg.Items[0]["月收入"] != "3500.50" && pg.Items[0]["月收入"] != "3500.5" ||
			pg.Items[0]["_disputed"] != false || pg.Items[0]["_version"] != int64(1) || len(pg.Items[0]) != 5 {
			t.Fatalf("query: %+v", pg)
		}
		pg, err = f.s.Query(f.ctx, &e, Query{Items: []string{"姓名"}, Filters: map[string]string{"公民身份号码": id2}, Scope: map[string]string{"住址": "长春市"}, Limit: 10})
		if err != nil || len(pg.Items) != 0 {
			t.Fatalf("scope ANDed: %+v %v", pg, err)
		}
		pg, err = f.s.Query(f.ctx, &e, Query{Items: []string{"姓名"}, Limit: 1, Offset: 1})
		if err != nil || len(pg.Items) != 1 || !pg.More || pg.Items[0]["姓名"] != "李四" {
			t.Fatalf("paging: %+v %v", pg, err)
		}
		_, err = f.s.Query(f.ctx, &e, Query{Items: []string{"姓名"}, Filters: map[string]string{"出生日期": "not a date"}})
		wantKind(t, err, errs.KindInvalid, "ingest.filter")
		_, err = f.s.Query(f.ctx, &e, Query{Items: []string{"无此项"}})
		wantKind(t, err, errs.KindInvalid, "ingest.filter")

		v, err := f.s.Verify(f.ctx, &e, map[string]string{"公民身份号码": id1, "姓名": "张三", "出生日期": "1949/12/31", "月收入": "3500.5"}, nil)
		if err != nil || !v.Found || !v.Matches["姓名"] || !v.Matches["出生日期"] || !v.Matches["月收入"] || !v.Matches["公民身份号码"] {
			t.Fatalf("verify: %+v %v", v, err)
		}
		v, err = f.s.Verify(f.ctx, &e, map[string]string{"公民身份号码": id1, "姓名": "李四", "月收入": "x"}, nil)
		if err != nil || !v.Found || v.Matches["姓名"] || v.Matches["月收入"] {
			t.Fatalf("verify mismatch: %+v %v", v, err)
		}
		v, err = f.s.Verify(f.ctx, &e, map[string]string{"公民身份号码": id2, "姓名": "李四"}, map[string]string{"住址": "长春市"})
		if err != nil || v.Found || v.Matches["姓名"] {
			t.Fatalf("verify out of scope: %+v %v", v, err)
		}
		_, err = f.s.Verify(f.ctx, &e, map[string]string{"姓名": "张三"}, nil)
		wantKind(t, err, errs.KindInvalid, "ingest.verify_key")

		// A disputed record (异议; set here as the objection module will)
		// carries its flag through both calls.
		if err := f.data.Tx(f.ctx, func(tx *db.Tx) error {
			return tx.Run(`UPDATE `+tableName(f.entryID)+` SET _disputed = TRUE WHERE c1 = $1`, id1)
		}); err != nil {
			t.Fatal(err)
		}
		pg, err = f.s.Query(f.ctx, &e, Query{Items: []string{"姓名"}, Filters: map[string]string{"公民身份号码": id1}})
		if err != nil || len(pg.Items) != 1 || pg.Items[0]["_disputed"] != true {
			t.Fatalf("disputed record: %+v %v", pg, err)
		}
		if v, err = f.s.Verify(f.ctx, &e, map[string]string{"公民身份号码": id1}, nil); err != nil || !v.Disputed {
			t.Fatalf("disputed verify: %+v %v", v, err)
		}

		var wg sync.WaitGroup
		errc := make(chan error, 16)
		for range 16 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range 20 {
					pg, err := f.s.Query(f.ctx, &e, Query{Items: []string{"姓名"}, Filters: map[string]string{"公民身份号码": id3}})
					if err == nil && (len(pg.Items) != 1 || pg.Items[0]["姓名"] != "王五") {
						err = errs.Invalid("x", "错", "wrong answer")
					}
					if err != nil {
						errc <- err
						return
					}
				}
			}()
		}
		wg.Wait()
		close(errc)
		for err := range errc {
			t.Fatal(err)
		}

		// A new version adds an item: the cached table is reloaded.
		in := catalog.EntryInput{ProviderID: f.police.ID, Content: e.Content}
		in.Items = append(items, catalog.Item{Name: "联系电话", EnName: "lxdh", DataType: "C", Length: 20})
		if _, err := f.cat.Update(f.ctx, f.p["police_spec"], f.entryID, in, "增加联系电话"); err != nil {
			t.Fatal(err)
		}
		if _, err := f.cat.Submit(f.ctx, f.p["police_cdo"], f.entryID, ""); err != nil {
			t.Fatal(err)
		}
		if _, err := f.cat.Publish(f.ctx, f.p["reviewer"], f.entryID, ""); err != nil {
			t.Fatal(err)
		}
		if e, err = f.cat.Get(f.ctx, catalog.System, f.entryID); err != nil {
			t.Fatal(err)
		}
		pg, err = f.s.Query(f.ctx, &e, Query{Items: []string{"姓名", "联系电话"}, Filters: map[string]string{"公民身份号码": id1}})
		if err != nil || len(pg.Items) != 1 || pg.Items[0]["联系电话"] != nil || !strings.HasPrefix(pg.Items[0]["姓名"].(string), "张") {
			t.Fatalf("after a new version: %+v %v", pg, err)
		}
	})
}
