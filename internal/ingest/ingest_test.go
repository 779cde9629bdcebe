package ingest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/text/encoding/simplifiedchinese"

	"xiangyun/internal/auth"
	"xiangyun/internal/catalog"
	"xiangyun/internal/db"
	"xiangyun/internal/db/dbtest"
	"xiangyun/internal/errs"
	"xiangyun/internal/ident"
	"xiangyun/internal/org"
	"xiangyun/internal/quality"
)

type fixture struct {
	t       testing.TB
	ctx     context.Context
	data    *db.DB
	control *db.DB
	cat     *catalog.Service
	q       *quality.Service
	s       *Service
	p       map[string]*auth.Principal
	police  org.Body
	dir     string
	entryID int64
}

func creditCode(prefix, region string, n int) string {
	oc := fmt.Sprintf("%08d", 21000000+n*53)
	c, _ := ident.OrgCodeCheckChar(oc)
	first := prefix + region + oc + string(c)
	cc, _ := ident.CreditCodeCheckChar(first)
	return first + string(cc)
}

func eachDB(t *testing.T, fn func(t *testing.T, f *fixture)) {
	t.Parallel()
	for dialect, dsn := range dbtest.TestDSNs(t) {
		t.Run(string(dialect), func(t *testing.T) {
			t.Parallel()
			fn(t, newFixture(t, dsn(t)))
		})
	}
}

// personItems is the police entry's items: 公民身份号码 (key), 姓名, 出生日期.
func personItems() []catalog.Item {
	return []catalog.Item{
		{Name: "公民身份号码", EnName: "gmsfhm", DataType: "C", Length: 18, Key: true, Sensitive: true, Mask: "id_card"},
		{Name: "姓名", EnName: "xm", DataType: "C", Length: 50, Required: true, Sensitive: true, Mask: "name"},
		{Name: "出生日期", EnName: "csrq", DataType: "D"},
		{Name: "住址", EnName: "zz", DataType: "C", Length: 100, Sensitive: true},
	}
}

func newFixture(t testing.TB, dsn string) *fixture {
	t.Helper()
	ctx := context.Background()
	control := dbtest.Open(t, dsn, "control")
	data := dbtest.Open(t, dsn, "data")
	orgs, err := org.Open(ctx, control)
	if err != nil {
		t.Fatal(err)
	}
	au, err := auth.Open(ctx, control, orgs, auth.DefaultPolicy)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, ctx: ctx, data: data, control: control, p: map[string]*auth.Principal{}, dir: t.TempDir()}
	if _, err := orgs.CreateRegion(ctx, org.Region{Code: "220000", Name: "吉林省"}); err != nil {
		t.Fatal(err)
	}
	bodies := map[string]org.Body{}
	for i, b := range []string{"bureau", "police", "market"} {
		name := map[string]string{"bureau": "吉林省政务服务和数字化建设管理局", "police": "吉林省公安厅", "market": "吉林省市场监督管理厅"}[b]
		body, err := orgs.CreateBody(ctx, org.BodyInput{Name: name, CreditCode: creditCode("11", "220000", i+1), Kind: org.KindAgency, RegionCode: "220000"})
		if err != nil {
			t.Fatal(err)
		}
		bodies[b] = body
	}
	f.police = bodies["police"]
	for _, u := range []struct{ name, role, body string }{
		{"reviewer", "reviewer", "bureau"}, {"admin", "admin", "bureau"}, {"police_spec", "specialist", "police"},
		{"police_cdo", "cdo", "police"}, {"market_cdo", "cdo", "market"}, {"auditor", "auditor", "bureau"},
	} {
		user, err := au.CreateUser(ctx, auth.UserInput{Username: u.name, DisplayName: u.name, BodyID: bodies[u.body].ID, Password: "Test-password-2026"})
		if err != nil {
			t.Fatal(err)
		}
		if err := au.GrantRole(ctx, 0, user.ID, auth.Role(u.role), bodies[u.body].ID); err != nil {
			t.Fatal(err)
		}
		if user, err = au.User(ctx, user.ID); err != nil {
			t.Fatal(err)
		}
		f.p[u.name] = &auth.Principal{User: user}
	}
	if f.cat, err = catalog.Open(ctx, control, orgs, catalog.Options{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.cat.Close() })
	if f.q, err = quality.Open(ctx, control, f.cat, quality.Options{}); err != nil {
		t.Fatal(err)
	}
	if f.s, err = Open(ctx, data, f.cat, Options{SpoolDir: f.dir, ChunkRows: 7, Quality: f.q, Control: control}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.s.Close)
	f.entryID = f.publish(personItems(), catalog.MethodTable)
	return f
}

func (f *fixture) publish(items []catalog.Item, method string) int64 {
	f.t.Helper()
	in := catalog.EntryInput{ProviderID: f.police.ID, Content: catalog.Content{
		Name: "吉林省常住人口基本信息", Class: "1/01/001", Abstract: "全省户籍人口的姓名、公民身份号码、出生日期等基本信息。",
		FormatClass: "database", FormatType: "oracle", Items: items,
		ShareType: catalog.ShareConditional, ShareCondition: "仅用于政务服务身份核验", ShareMethod: method, ShareChannel: "platform",
		OpenType: catalog.OpenNone, OpenCondition: "涉及个人信息，不予开放", Cycle: "daily", Grade: "L3",
	}}
	es, err := f.cat.CreatePublished(f.ctx, catalog.System, []catalog.EntryInput{in}, "")
	if err != nil {
		f.t.Fatal(err)
	}
	return es[0].ID
}

// upload spools content as a file and runs its batch to the end.
func (f *fixture) upload(who, name string, content []byte, mode, onError string) (Batch, error) {
	f.t.Helper()
	path := filepath.Join(f.dir, fmt.Sprintf("up-%d", time.Now().UnixNano()))
	if err := os.WriteFile(path, content, 0o600); err != nil {
		f.t.Fatal(err)
	}
	b, err := f.s.Start(f.ctx, f.p[who], f.entryID, Upload{Path: path, Name: name, Size: int64(len(content)), SHA256: fmt.Sprintf("%x", sha(content)),
		Mode: mode, OnError: onError})
	if err != nil {
		return b, err
	}
	f.s.Wait(f.ctx, b.ID, time.Minute)
	return f.s.batch(f.ctx, b.ID)
}

func (f *fixture) records(who string, filters map[string]string) []map[string]any {
	f.t.Helper()
	pg, err := f.s.Records(f.ctx, f.p[who], f.entryID, filters, 1000, 0)
	if err != nil {
		f.t.Fatal(err)
	}
	return pg.Items
}

func (f *fixture) errors(id int64) []RowError {
	var out []RowError
	if _, err := f.s.Errors(f.ctx, f.p["police_spec"], id, -1, 0, func(e RowError) error { out = append(out, e); return nil }); err != nil {
		f.t.Fatal(err)
	}
	return out
}

func wantStatus(t testing.TB, b Batch, err error, status string, rows, accepted, rejected int64) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	if b.Status != status || b.Rows != rows || b.Accepted != accepted || b.Rejected != rejected {
		t.Fatalf("batch %d: got %s rows=%d accepted=%d rejected=%d (%s); want %s %d/%d/%d", b.ID, b.Status, b.Rows, b.Accepted, b.Rejected, b.MessageEN,
			status, rows, accepted, rejected)
	}
}

func wantKind(t testing.TB, err error, k errs.Kind, code string) {
	t.Helper()
	e, ok := errs.As(err)
	if !ok || e.Kind != k || (code != "" && e.Code != code) {
		t.Fatalf("got %v, want kind %v code %s", err, k, code)
	}
}

const (
	id1 = "11010519491231002X"
	id2 = "370101190102039973"
	id3 = "51343620000320711X"
)

func TestUploadModesAndHistory(t *testing.T) {
	eachDB(t, func(t *testing.T, f *fixture) {
		// GBK CSV with a quoted line break; 𠀀 only exists in GB18030's four-byte range.
		csv := "公民身份号码,姓名,出生日期,住址\r\n" + id1 + ",张三,1949-12-31,\"长春市\r\n朝阳区\"\r\n" + id2 + ",李𠀀,1901/02/03,吉林市\r\n" +
			"110105194912310021,王五,1949-12-31,\r\n" + id3 + ",,2000-03-20,\r\n"
		gbk, err := simplifiedchinese.GB18030.NewEncoder().String(csv)
		if err != nil {
			t.Fatal(err)
		}
		b, err := f.upload("police_spec", "人口.csv", []byte(gbk), ModeAppend, PublishValid)
		// The quality defaults reject the bad ID number's check digit and the empty 姓名.
		wantStatus(t, b, err, StatusPublished, 4, 2, 2)
		if b.Encoding != "GB18030" {
			t.Errorf("encoding %q", b.Encoding)
		}
		// The batch's results reached quality (control store) through the outbox.
		var results, pending int
		if err := f.control.R.QueryRow(`SELECT COUNT(*) FROM quality_results WHERE batch_id = $1 AND failed > 0`, b.ID).Scan(&results); err != nil || results < 2 {
			t.Fatalf("quality results: %d %v", results, err)
		}
		if err := f.data.R.QueryRow(`SELECT COUNT(*) FROM xy_outbox WHERE topic = $1`, topicQuality).Scan(&pending); err != nil || pending != 0 {
			t.Fatalf("undelivered quality messages: %d %v", pending, err)
		}
		es := f.errors(b.ID)
		// The header is row 1; the quoted line break keeps 张三 on row 2.
		if len(es) != 2 || es[0].Row != 4 || es[0].Column != "公民身份号码" || es[0].Rule != quality.KindIDCard ||
			es[1].Row != 5 || es[1].Column != "姓名" || es[1].Rule != quality.KindNotNull || es[1].MessageZH == "" || es[1].MessageEN == "" {
			t.Fatalf("errors: %+v", es)
		}
		recs := f.records("police_spec", map[string]string{"公民身份号码": id2})
		if len(recs) != 1 || recs[0]["姓名"] != "李𠀀" || recs[0]["出生日期"] != "1901-02-03" || recs[0]["_batch"] != b.ID || recs[0]["_version"] != int64(1) {
			t.Fatalf("record: %+v", recs)
		}
		if r := f.records("police_spec", map[string]string{"公民身份号码": id1}); r[0]["住址"] != "长春市\r\n朝阳区" && r[0]["住址"] != "长春市\n朝阳区" {
			t.Fatalf("multi-line cell: %q", r[0]["住址"])
		}
		// The same file again is recognised.
		_, err = f.upload("police_spec", "人口-copy.csv", []byte(gbk), ModeAppend, PublishValid)
		wantKind(t, err, errs.KindConflict, "ingest.duplicate_file")

		// Append of a published key is that row's error.
		b, err = f.upload("police_spec", "more.csv", []byte("公民身份号码,姓名\n"+id1+",张三丰\n"+id3+",赵六\n"), ModeAppend, PublishValid)
		wantStatus(t, b, err, StatusPublished, 2, 1, 1)
		if es := f.errors(b.ID); len(es) != 1 || es[0].Rule != "unique" || es[0].Row != 2 {
			t.Fatalf("append conflict: %+v", es)
		}
		// Upsert overwrites and keeps the old values.
		b, err = f.upload("police_spec", "fix.json", []byte(`[{"gmsfhm": "`+id1+`", "xm": "张三丰", "csrq": "1949-12-31"}]`), ModeUpsert, PublishValid)
		wantStatus(t, b, err, StatusPublished, 1, 1, 0)
		r := f.records("police_spec", map[string]string{"公民身份号码": id1})
		if r[0]["姓名"] != "张三丰" || r[0]["_version"] != int64(2) || r[0]["住址"] != nil {
			t.Fatalf("upserted: %+v", r)
		}
		var old string
		if err := f.data.R.QueryRow(`SELECT old_values FROM ingest_history WHERE batch_id = $1`, b.ID).Scan(&old); err != nil || !strings.Contains(old, "张三") {
			t.Fatalf("history: %q %v", old, err)
		}
		// Replace: only the file's rows stay live.
		b, err = f.upload("police_spec", "all.ndjson", []byte(`{"公民身份号码": "`+id2+`", "姓名": "李四"}`+"\n\n"+`{"公民身份号码": "`+id3+`", "姓名": "赵六"}`+"\n"), ModeReplace, PublishValid)
		wantStatus(t, b, err, StatusPublished, 2, 2, 0)
		if r := f.records("police_spec", nil); len(r) != 2 {
			t.Fatalf("after replace: %+v", r)
		}
		var hist int
		_ = f.data.R.QueryRow(`SELECT COUNT(*) FROM ingest_history WHERE batch_id = $1`, b.ID).Scan(&hist)
		if hist != 2 { // 张三丰 deleted, 李𠀀 → 李四 changed; 赵六 unchanged keeps no history
			t.Fatalf("replace history rows: %d", hist)
		}
		// reject_all publishes nothing when one row fails.
		before := f.records("police_spec", nil)
		b, err = f.upload("police_spec", "bad.csv", []byte("公民身份号码,姓名,出生日期\n"+id1+",甲,2024-02-30\n"+id2+",乙,\n"), ModeUpsert, RejectAll)
		wantStatus(t, b, err, StatusRejected, 2, 0, 1)
		if es := f.errors(b.ID); len(es) != 1 || es[0].Rule != "date" || es[0].Value != "2024-02-30" {
			t.Fatalf("date error: %+v", es)
		}
		if after := f.records("police_spec", nil); fmt.Sprint(after) != fmt.Sprint(before) {
			t.Fatalf("rejected batch changed records")
		}
	})
}

func sha(b []byte) [32]byte { return sha256Sum(b) }

func TestFailedBatchLeavesRecords(t *testing.T) {
	eachDB(t, func(t *testing.T, f *fixture) {
		b, err := f.upload("police_spec", "a.csv", []byte("公民身份号码,姓名\n"+id1+",张三\n"+id2+",李四\n"), ModeAppend, PublishValid)
		wantStatus(t, b, err, StatusPublished, 2, 2, 0)
		before := f.records("police_spec", nil)
		// Rows past the first chunk stage, then a bad quote ends the file: nothing is published.
		var sb strings.Builder
		sb.WriteString("公民身份号码,姓名\n")
		for i := range 20 {
			sb.WriteString(fmt.Sprintf("%s,新%d\n", id3, i))
		}
		sb.WriteString(id1 + ",\"未闭合\n")
		b, err = f.upload("police_spec", "broken.csv", []byte(sb.String()), ModeReplace, PublishValid)
		if err != nil || b.Status != StatusFailed || !strings.Contains(b.MessageEN, "quote") {
			t.Fatalf("broken: %+v %v", b, err)
		}
		if after := f.records("police_spec", nil); fmt.Sprint(after) != fmt.Sprint(before) {
			t.Fatalf("failed batch changed records: %v", after)
		}
		var n int
		if err := f.data.R.QueryRow(`SELECT COUNT(*) FROM ingest_batches WHERE status = 'running'`).Scan(&n); err != nil || n != 0 {
			t.Fatal(n, err)
		}
		// A replacing file without a valid record changes nothing.
		b, err = f.upload("police_spec", "empty.csv", []byte("公民身份号码,姓名\n"), ModeReplace, PublishValid)
		if err != nil || b.Status != StatusRejected || b.MessageZH == "" {
			t.Fatalf("empty replace: %+v %v", b, err)
		}
		if after := f.records("police_spec", nil); fmt.Sprint(after) != fmt.Sprint(before) {
			t.Fatalf("empty replace changed records: %v", after)
		}
		// Ragged rows and mixed encodings are reported clearly.
		b, err = f.upload("police_spec", "ragged.csv", []byte("公民身份号码,姓名\n"+id1+",张三,多余\n"), ModeUpsert, PublishValid)
		wantStatus(t, b, err, StatusPublished, 1, 0, 1)
		mixed := append([]byte("公民身份号码,姓名\n"+id1+",张三丰张三丰\n"), []byte(must(simplifiedchinese.GBK.NewEncoder().String(id2+",李四\n")))...)
		b, err = f.upload("police_spec", "mixed.csv", mixed, ModeUpsert, PublishValid)
		if err != nil || b.Status != StatusFailed || b.MessageZH == "" || !strings.Contains(b.MessageEN, "encoding") {
			t.Fatalf("mixed: %+v %v", b, err)
		}
		// A UTF-8 BOM is not part of the first header.
		b, err = f.upload("police_spec", "bom.csv", []byte("\ufeff公民身份号码,姓名\n"+id3+",赵六\n"), ModeUpsert, PublishValid)
		wantStatus(t, b, err, StatusPublished, 1, 1, 0)
	})
}

func must(s string, err error) string {
	if err != nil {
		panic(err)
	}
	return s
}

func TestConcurrentUploads(t *testing.T) {
	eachDB(t, func(t *testing.T, f *fixture) {
		var wg sync.WaitGroup
		results := make([]Batch, 6)
		for i := range results {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var sb strings.Builder
				sb.WriteString("公民身份号码,姓名\n")
				for k := range 10 {
					sb.WriteString(fmt.Sprintf("%s,人%d-%d\n", idNumber(i*10+k), i, k))
				}
				b, err := f.upload("police_spec", fmt.Sprintf("c%d.csv", i), []byte(sb.String()), ModeUpsert, PublishValid)
				if err != nil {
					t.Error(err)
				}
				results[i] = b
			}()
		}
		wg.Wait()
		for _, b := range results {
			if b.Status != StatusPublished || b.Accepted != 10 {
				t.Fatalf("batch: %+v", b)
			}
		}
		if r := f.records("police_spec", nil); len(r) != 60 {
			t.Fatalf("records: %d", len(r))
		}
	})
}

// idNumber makes a valid 居民身份证号 from n.
func idNumber(n int) string {
	first := fmt.Sprintf("220102%04d0101%03d", 1950+n/1000, n%1000)
	c, err := ident.IDCardCheckChar(first)
	if err != nil {
		panic(err)
	}
	return first + string(c)
}

func TestRecordsMaskingAndAccess(t *testing.T) {
	eachDB(t, func(t *testing.T, f *fixture) {
		b, err := f.upload("police_cdo", "a.csv", []byte("公民身份号码,姓名,住址\n"+id3+",段正淳,北京市海淀区马连洼街道289号\n"), ModeAppend, PublishValid)
		wantStatus(t, b, err, StatusPublished, 1, 1, 0)
		if r := f.records("police_spec", nil); r[0]["姓名"] != "段正淳" || r[0]["公民身份号码"] != id3 {
			t.Fatalf("provider sees: %+v", r)
		}
		r := f.records("reviewer", nil)
		// 住址 is sensitive without a rule of its own: masked by its name.
		if r[0]["姓名"] != "段**" || r[0]["公民身份号码"] != "5***************1X" || r[0]["住址"] != "北京市海淀区马********" {
			t.Fatalf("platform sees: %+v", r)
		}
		for _, who := range []string{"market_cdo", "auditor"} {
			_, err := f.s.Records(f.ctx, f.p[who], f.entryID, nil, 10, 0)
			wantKind(t, err, errs.KindForbidden, "ingest.not_reader")
		}
		_, err = f.upload("market_cdo", "x.csv", []byte("公民身份号码,姓名\n"+id1+",甲\n"), ModeAppend, PublishValid)
		wantKind(t, err, errs.KindForbidden, "ingest.not_provider")
		_, err = f.upload("reviewer", "x.csv", []byte("公民身份号码,姓名\n"+id1+",甲\n"), ModeAppend, PublishValid)
		wantKind(t, err, errs.KindForbidden, "ingest.not_provider")
		_, err = f.s.Records(f.ctx, f.p["police_spec"], f.entryID, map[string]string{"姓名": "段正淳"}, 10, 0)
		wantKind(t, err, errs.KindInvalid, "ingest.filter")
	})
}

func TestPushIdempotency(t *testing.T) {
	eachDB(t, func(t *testing.T, f *fixture) {
		body := []byte(`[{"公民身份号码": "` + id1 + `", "姓名": "张三"}, {"公民身份号码": "` + id2 + `", "姓名": ""}, {"公民身份号码": "` + id3 + `", "姓名": "赵六", "出生日期": {"x": 1}}]`)
		res, err := f.s.Push(f.ctx, f.p["police_spec"], f.entryID, "k1", "", "", "", body)
		if err != nil {
			t.Fatal(err)
		}
		if res.Batch.Status != StatusPublished || res.Batch.Accepted != 1 || res.Batch.Rejected != 2 || len(res.Results) != 3 ||
			!res.Results[0].Accepted || res.Results[1].Accepted || res.Results[1].Errors[0].Rule != quality.KindNotNull || res.Results[2].Errors[0].Rule != "type" {
			t.Fatalf("push: %+v", res)
		}
		again, err := f.s.Push(f.ctx, f.p["police_spec"], f.entryID, "k1", "", "", "", body)
		if err != nil || !again.Replayed || again.Batch.ID != res.Batch.ID {
			t.Fatalf("replay: %+v %v", again, err)
		}
		var n int
		_ = f.data.R.QueryRow(`SELECT COUNT(*) FROM ingest_batches WHERE source = 'push'`).Scan(&n)
		if n != 1 {
			t.Fatalf("%d push batches", n)
		}
		_, err = f.s.Push(f.ctx, f.p["police_spec"], f.entryID, "k1", "", "", "", []byte(`[]`))
		wantKind(t, err, errs.KindInvalid, "ingest.idempotency_mismatch")
		_, err = f.s.Push(f.ctx, f.p["police_spec"], f.entryID, "", "", "", "", body)
		wantKind(t, err, errs.KindInvalid, "ingest.idempotency_key")
		_, err = f.s.Push(f.ctx, f.p["market_cdo"], f.entryID, "k2", "", "", "", body)
		wantKind(t, err, errs.KindForbidden, "ingest.not_provider")
	})
}

func TestMigrationOnPublish(t *testing.T) {
	eachDB(t, func(t *testing.T, f *fixture) {
		b, err := f.upload("police_spec", "a.csv", []byte("公民身份号码,姓名\n"+id1+",张三\n"), ModeAppend, PublishValid)
		wantStatus(t, b, err, StatusPublished, 1, 1, 0)
		revise := func(items []catalog.Item) error {
			e, err := f.cat.Get(f.ctx, catalog.System, f.entryID)
			if err != nil {
				t.Fatal(err)
			}
			in := catalog.EntryInput{ProviderID: f.police.ID, Content: e.Content}
			in.Items = items
			if _, err := f.cat.Update(f.ctx, f.p["police_spec"], f.entryID, in, "调整信息项"); err != nil {
				t.Fatal(err)
			}
			if _, err := f.cat.Submit(f.ctx, f.p["police_cdo"], f.entryID, ""); err != nil {
				t.Fatal(err)
			}
			_, err = f.cat.Publish(f.ctx, f.p["reviewer"], f.entryID, "")
			return err
		}
		// Narrowing 姓名 is refused at review, with the reason.
		items := personItems()
		items[1].Length = 2
		err = revise(items)
		wantKind(t, err, errs.KindInvalid, "ingest.migrate")
		if !strings.Contains(err.(*errs.Error).ZH, "姓名") {
			t.Fatalf("reason: %v", err)
		}
		if _, err := f.cat.Return(f.ctx, f.p["reviewer"], f.entryID, "请勿缩短长度"); err != nil {
			t.Fatal(err)
		}
		// Widening and an added item migrate without losing the row.
		items = append(personItems(), catalog.Item{Name: "联系电话", EnName: "lxdh", DataType: "C", Length: 20})
		items[1].Length = 100
		if err := revise(items); err != nil {
			t.Fatal(err)
		}
		b, err = f.upload("police_spec", "b.csv", []byte("公民身份号码,姓名,联系电话\n"+id2+","+strings.Repeat("长", 80)+",043188888888\n"), ModeAppend, PublishValid)
		wantStatus(t, b, err, StatusPublished, 1, 1, 0)
		r := f.records("police_spec", nil)
		if len(r) != 2 || r[0]["姓名"] != "张三" || r[0]["联系电话"] != nil || r[1]["联系电话"] != "043188888888" {
			t.Fatalf("after migration: %+v", r)
		}
	})
}

func TestRestartFailsRunningBatch(t *testing.T) {
	eachDB(t, func(t *testing.T, f *fixture) {
		b, err := f.upload("police_spec", "a.csv", []byte("公民身份号码,姓名\n"+id1+",张三\n"), ModeAppend, PublishValid)
		wantStatus(t, b, err, StatusPublished, 1, 1, 0)
		// A batch left running with a staging table, as a crash leaves it.
		j := &job{batch: Batch{EntryID: f.entryID, Status: StatusRunning, Source: "file", Mode: ModeReplace, OnError: PublishValid}}
		if err := f.data.Tx(f.ctx, func(tx *db.Tx) error {
			if err := insertBatch(tx, &j.batch); err != nil {
				return err
			}
			return tx.Run(`CREATE TABLE ` + stagingName(j.batch.ID) + ` (_row BIGINT, _seq BIGINT)`)
		}); err != nil {
			t.Fatal(err)
		}
		s2, err := Open(f.ctx, f.data, nil, Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer s2.Close()
		got, err := s2.batch(f.ctx, j.batch.ID)
		if err != nil || got.Status != StatusFailed || got.FinishedAt == nil {
			t.Fatalf("after restart: %+v %v", got, err)
		}
		if r := f.records("police_spec", nil); len(r) != 1 {
			t.Fatalf("records: %v", r)
		}
	})
}

func TestCancel(t *testing.T) {
	eachDB(t, func(t *testing.T, f *fixture) {
		var sb bytes.Buffer
		sb.WriteString("公民身份号码,姓名\n")
		for i := range 3000 {
			fmt.Fprintf(&sb, "%s,人%d\n", idNumber(i), i)
		}
		path := filepath.Join(f.dir, "big")
		_ = os.WriteFile(path, sb.Bytes(), 0o600)
		b, err := f.s.Start(f.ctx, f.p["police_spec"], f.entryID, Upload{Path: path, Name: "big.csv", SHA256: "x", Mode: ModeAppend})
		if err != nil {
			t.Fatal(err)
		}
		got, err := f.s.Cancel(f.ctx, f.p["police_spec"], b.ID)
		if err != nil {
			// It may have finished first on a fast machine.
			wantKind(t, err, errs.KindConflict, "ingest.not_running")
			return
		}
		if got.Status != StatusCancelled {
			t.Fatalf("cancelled: %+v", got)
		}
		if r := f.records("police_spec", nil); len(r) != 0 {
			t.Fatalf("records after cancel: %d", len(r))
		}
	})
}

func sha256Sum(b []byte) [32]byte { return sha256.Sum256(b) }

func TestSavedMapping(t *testing.T) {
	eachDB(t, func(t *testing.T, f *fixture) {
		csv := []byte("身份证号,名字\n" + id1 + ",张三\n")
		// Without a mapping the required columns are missing: refused before a batch starts, saying which.
		_, err := f.upload("police_spec", "a.csv", csv, ModeAppend, PublishValid)
		wantKind(t, err, errs.KindInvalid, "ingest.mapping")
		if e, _ := errs.As(err); e == nil || !strings.Contains(e.ZH, "公民身份号码") {
			t.Fatalf("unmapped: %v", err)
		}
		err = f.s.SaveMapping(f.ctx, f.p["police_spec"], f.entryID, map[string]string{"身份证号": "公民身份号码", "名字": "不存在"})
		wantKind(t, err, errs.KindInvalid, "")
		err = f.s.SaveMapping(f.ctx, f.p["market_cdo"], f.entryID, map[string]string{"身份证号": "公民身份号码"})
		wantKind(t, err, errs.KindForbidden, "ingest.not_provider")
		if err := f.s.SaveMapping(f.ctx, f.p["police_spec"], f.entryID, map[string]string{"身份证号": "公民身份号码", "名字": "姓名"}); err != nil {
			t.Fatal(err)
		}
		b, err := f.upload("police_spec", "b.csv", append(csv, '\n'), ModeAppend, PublishValid)
		wantStatus(t, b, err, StatusPublished, 1, 1, 0)
	})
}
