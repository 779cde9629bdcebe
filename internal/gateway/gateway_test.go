package gateway

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"xiangyun/internal/audit"
	"xiangyun/internal/auth"
	"xiangyun/internal/catalog"
	"xiangyun/internal/db"
	"xiangyun/internal/db/dbtest"
	"xiangyun/internal/ident"
	"xiangyun/internal/ingest"
	"xiangyun/internal/mask"
	"xiangyun/internal/org"
	"xiangyun/internal/share"
)

// holder is the control plane as the tests play it: a snapshot that can be
// swapped, with change notices.
type holder struct {
	mu   sync.Mutex
	snap *share.Snapshot
	subs []func(int64)
}

func (h *holder) Snapshot(context.Context) (*share.Snapshot, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.snap, nil
}

func (h *holder) Subscribe(fn func(int64)) func() {
	h.mu.Lock()
	h.subs = append(h.subs, fn)
	h.mu.Unlock()
	return func() {}
}

// change builds the next snapshot from the current one and notifies.
func (h *holder) change(fn func(s *share.Snapshot)) {
	h.mu.Lock()
	old := h.snap
	n := &share.Snapshot{Version: old.Version + 1, Built: old.Built, Credentials: map[string]*share.Credential{},
		Grants: map[share.GrantKey]*share.Grant{}, Services: map[int64]*share.ProviderService{}, QuotaUsed: map[int64]int64{}}
	for k, v := range old.Credentials {
		n.Credentials[k] = v
	}
	for k, v := range old.Grants {
		n.Grants[k] = v
	}
	for k, v := range old.Services {
		n.Services[k] = v
	}
	for k, v := range old.QuotaUsed {
		n.QuotaUsed[k] = v
	}
	fn(n)
	h.snap = n
	subs := h.subs
	h.mu.Unlock()
	for _, s := range subs {
		s(n.Version)
	}
}

type fixture struct {
	t        testing.TB
	ctx      context.Context
	cat      *catalog.Service
	rec      *ingest.Service
	auditDB  *db.DB
	log      *audit.Log
	h        *holder
	gw       *Gateway
	srv      *httptest.Server
	now      atomic.Pointer[time.Time]
	people   int64 // entry: people (key 公民身份号码)
	masks    int64 // entry: one item per mask rule
	svcEntry int64 // entry with a provider service
	stats    struct {
		sync.Mutex
		counts []share.CallCount
	}
	police, civil, market org.Body
}

const (
	id1 = "11010519491231002X"
	id2 = "370101190102039973"
	id3 = "51343620000320711X"
)

var benchPG = flag.Bool("pg", false, "benchmarks on PostgreSQL")

func creditCode(prefix, region string, n int) string {
	oc := fmt.Sprintf("%08d", 21000000+n*53)
	c, _ := ident.OrgCodeCheckChar(oc)
	first := prefix + region + oc + string(c)
	cc, _ := ident.CreditCodeCheckChar(first)
	return first + string(cc)
}

// secret and credential make a key of an application.
func credential(keyID, secret string, app, body int64) *share.Credential {
	return &share.Credential{KeyID: keyID, AppID: app, BodyID: body, SecretHash: sha256.Sum256([]byte(secret))}
}

func newFixture(t testing.TB, dsn string, opts ...func(*Config)) *fixture {
	t.Helper()
	ctx := context.Background()
	control := dbtest.Open(t, dsn, "control")
	data := dbtest.Open(t, dsn, "data")
	f := &fixture{t: t, ctx: ctx, auditDB: dbtest.Open(t, dsn, "audit")}
	start := time.Date(2026, 11, 29, 10, 0, 0, 0, china)
	f.now.Store(&start)
	key, err := audit.NewKey("xiangyun-audit")
	if err != nil {
		t.Fatal(err)
	}
	if f.log, err = audit.Open(ctx, f.auditDB, key); err != nil {
		t.Fatal(err)
	}
	orgs, err := org.Open(ctx, control)
	if err != nil {
		t.Fatal(err)
	}
	au, err := auth.Open(ctx, control, orgs, auth.DefaultPolicy)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := orgs.CreateRegion(ctx, org.Region{Code: "220000", Name: "吉林省"}); err != nil {
		t.Fatal(err)
	}
	for i, b := range []*org.Body{&f.police, &f.civil, &f.market} {
		name := []string{"吉林省公安厅", "吉林省民政厅", "吉林省市场监督管理厅"}[i]
		if *b, err = orgs.CreateBody(ctx, org.BodyInput{Name: name, CreditCode: creditCode("11", "220000", i+1), Kind: org.KindAgency, RegionCode: "220000"}); err != nil {
			t.Fatal(err)
		}
	}
	user, err := au.CreateUser(ctx, auth.UserInput{Username: "police_spec", DisplayName: "police_spec", BodyID: f.police.ID, Password: "Test-password-2026"})
	if err != nil {
		t.Fatal(err)
	}
	if err := au.GrantRole(ctx, 0, user.ID, auth.RoleDataSpecialist, f.police.ID); err != nil {
		t.Fatal(err)
	}
	if user, err = au.User(ctx, user.ID); err != nil {
		t.Fatal(err)
	}
	spec := &auth.Principal{User: user}
	if f.cat, err = catalog.Open(ctx, control, orgs, catalog.Options{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.cat.Close() })
	if f.rec, err = ingest.Open(ctx, data, f.cat, ingest.Options{SpoolDir: t.TempDir()}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.rec.Close)
	f.people = f.publish("吉林省常住人口基本信息", catalog.MethodTable, []catalog.Item{
		{Name: "公民身份号码", EnName: "gmsfhm", DataType: "C", Length: 18, Key: true, Sensitive: true, Mask: "id_card"},
		{Name: "姓名", EnName: "xm", DataType: "C", Length: 50, Required: true, Sensitive: true, Mask: "name"},
		{Name: "出生日期", EnName: "csrq", DataType: "D"},
		{Name: "住址", EnName: "zz", DataType: "C", Length: 100, Sensitive: true},
		{Name: "行政区划代码", EnName: "xzqh", DataType: "C", Length: 6},
	})
	f.push(spec, f.people, `[{"公民身份号码":"`+id1+`","姓名":"段正淳","出生日期":"1949-12-31","住址":"吉林省长春市朝阳区人民大街1号","行政区划代码":"220100"},
		{"公民身份号码":"`+id2+`","姓名":"李四","出生日期":"1901-02-03","住址":"吉林省吉林市船营区北京路2号","行政区划代码":"220200"},
		{"公民身份号码":"`+id3+`","姓名":"赵六","出生日期":"2000-03-20","住址":"吉林省长春市南关区3号","行政区划代码":"220100"}]`)
	var items []catalog.Item
	row := map[string]string{"编号": "1"}
	items = append(items, catalog.Item{Name: "编号", EnName: "bh", DataType: "C", Length: 10, Key: true})
	for i, rm := range maskCases {
		items = append(items, catalog.Item{Name: rm.item, EnName: "f" + strconv.Itoa(i), DataType: "C", Length: 100, Sensitive: true, Mask: rm.rule})
		row[rm.item] = rm.value
	}
	f.masks = f.publish("吉林省脱敏规则样例", catalog.MethodTable, items)
	b, _ := json.Marshal([]any{row})
	f.push(spec, f.masks, string(b))
	f.svcEntry = f.publish("吉林省婚姻登记信息", catalog.MethodAPI, []catalog.Item{
		{Name: "公民身份号码", EnName: "gmsfhm", DataType: "C", Length: 18, Key: true, Sensitive: true, Mask: "id_card"},
		{Name: "姓名", EnName: "xm", DataType: "C", Length: 50, Sensitive: true, Mask: "name"},
		{Name: "婚姻状况", EnName: "hyzk", DataType: "C", Length: 10},
		{Name: "配偶姓名", EnName: "poxm", DataType: "C", Length: 50, Sensitive: true, Mask: "name"},
	})

	f.h = &holder{snap: &share.Snapshot{Version: 1, Built: start, Credentials: map[string]*share.Credential{}, Grants: map[share.GrantKey]*share.Grant{},
		Services: map[int64]*share.ProviderService{}, QuotaUsed: map[int64]int64{}}}
	cfg := Config{Snapshot: f.h.Snapshot, Subscribe: f.h.Subscribe, Records: f.rec, Catalog: f.cat, Audit: f.log,
		Clock: func() time.Time { return *f.now.Load() },
		Stats: func(_ context.Context, cs []share.CallCount) error {
			f.stats.Lock()
			f.stats.counts = append(f.stats.counts, cs...)
			f.stats.Unlock()
			return nil
		},
		BreakerFailures: 2, BreakerOpen: time.Hour, MaxBodyBytes: 4096}
	for _, o := range opts {
		o(&cfg)
	}
	if f.gw, err = New(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	f.srv = httptest.NewServer(f.gw)
	t.Cleanup(func() { f.srv.Close(); _ = f.gw.Close() })
	return f
}

// maskCases has one item per catalog masking rule, plus the rules the
// gateway infers (a sensitive address without a rule; a sensitive item of
// an L3 entry whose name suggests nothing).
var maskCases = []struct{ item, rule, value, want string }{
	{"联系人", "name", "欧阳娜娜", "欧***"},
	{"证件号", "id_card", id1, "1***************2X"},
	{"手机号码", "mobile", "13812345678", "138****5678"},
	{"办公电话", "landline", "043188889999", "0431******99"},
	{"通讯地址", "address", "吉林省长春市朝阳区人民大街1号", "吉林省长春市朝********"},
	{"电子邮箱", "email", "duan@example.com", "d***@example.com"},
	{"银行卡号", "bank_card", "6222021234567890123", "6222 **** **** **** 123"},
	{"车牌号码", "plate", "吉A12345", "吉A1***5"},
	{"登录地址", "ipv4", "10.1.2.3", "10.*.*.*"},
	{"备注", "redact", "任意内容", "****"},
	{"指纹", "hash", "abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
	// "none" is what the catalog stores when no rule was chosen: a sensitive
	// item of an L3 entry whose name suggests no rule is then redacted.
	{"不脱敏项", "none", "原样", "**"},
	{"居住地址", "", "吉林省长春市南关区人民大街3号", "吉林省长春市南********"},
	{"其他说明", "", "保密内容", "****"},
}

func (f *fixture) publish(name, method string, items []catalog.Item) int64 {
	f.t.Helper()
	in := catalog.EntryInput{ProviderID: f.police.ID, Content: catalog.Content{
		Name: name, Class: "1/01/001", Abstract: name + "，供政务服务共享使用的基本信息。",
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

func (f *fixture) push(p *auth.Principal, entry int64, body string) {
	f.t.Helper()
	res, err := f.rec.Push(f.ctx, p, entry, fmt.Sprintf("k-%d-%d", entry, time.Now().UnixNano()), "json", "", ingest.RejectAll, []byte(body))
	if err != nil {
		f.t.Fatal(err)
	}
	if res.Batch.Status != ingest.StatusPublished {
		f.t.Fatalf("push: %+v", res.Batch)
	}
}

func (f *fixture) advance(d time.Duration) {
	n := f.now.Load().Add(d)
	f.now.Store(&n)
}

type reply struct {
	status int
	h      http.Header
	body   []byte
	p      Problem
	v      map[string]any
}

// call sends a request; hdr holds header pairs.
func (f *fixture) call(method, path string, body []byte, hdr ...string) reply {
	f.t.Helper()
	req, err := http.NewRequest(method, f.srv.URL+path, bytes.NewReader(body))
	if err != nil {
		f.t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer res.Body.Close()
	r := reply{status: res.StatusCode, h: res.Header}
	r.body, _ = io.ReadAll(res.Body)
	if strings.HasPrefix(res.Header.Get("Content-Type"), "application/problem+json") {
		_ = json.Unmarshal(r.body, &r.p)
	} else {
		_ = json.Unmarshal(r.body, &r.v)
	}
	return r
}

func auth2(key, secret string) []string {
	return []string{"X-Client-Id", key, "Authorization", "Bearer " + secret}
}

func (f *fixture) want(r reply, status int, code string) {
	f.t.Helper()
	if r.status != status || (code != "" && r.p.Code != code) {
		f.t.Fatalf("got %d %s (%s); want %d %s", r.status, r.p.Code, r.body, status, code)
	}
	if code != "" && (r.p.MessageZH == "" || r.p.MessageEN == "" || r.p.RequestID != r.h.Get("X-Request-Id")) {
		f.t.Fatalf("problem without messages or request id: %s", r.body)
	}
}

func path(entry int64, tail string) string {
	return "/gw/v1/entries/" + strconv.FormatInt(entry, 10) + "/" + tail
}

// setup grants the civil affairs application (key civ) the people entry's
// 姓名 and 出生日期, scoped to 长春 (220100).
func (f *fixture) setup() {
	f.h.change(func(s *share.Snapshot) {
		s.Credentials["civ"] = credential("civ", "civ-secret", 10, f.civil.ID)
		s.Credentials["mkt"] = credential("mkt", "mkt-secret", 20, f.market.ID)
		s.Grants[share.GrantKey{AppID: 10, EntryID: f.people}] = &share.Grant{ID: 100, AppID: 10, BodyID: f.civil.ID, EntryID: f.people,
			Items: []string{"姓名", "出生日期"}, RowScope: map[string]string{"行政区划代码": "220100"},
			ValidFrom: f.now.Load().Add(-time.Hour), Purpose: "低保资格核查"}
	})
	if err := f.gw.Reload(f.ctx); err != nil {
		f.t.Fatal(err)
	}
}

func TestGateway(t *testing.T) {
	for dialect, dsn := range dbtest.TestDSNs(t) {
		t.Run(string(dialect), func(t *testing.T) {
			f := newFixture(t, dsn(t))
			f.setup()
			t.Run("query", f.testQuery)
			t.Run("matrix", f.testMatrix)
			t.Run("paths", f.testPaths)
			t.Run("masks", f.testMasks)
			t.Run("verify", f.testVerify)
			t.Run("signature", f.testSignature)
			t.Run("rate_quota", f.testRateQuota)
			t.Run("service", f.testService)
			t.Run("headers", f.testHeaders)
			t.Run("audit_under_load", f.testAuditUnderLoad)
			t.Run("stats", f.testStats)
		})
	}
}

func (f *fixture) testQuery(t *testing.T) {
	r := f.call("GET", path(f.people, "records?公民身份号码="+id1), nil, auth2("civ", "civ-secret")...)
	f.want(r, 200, "")
	items := r.v["items"].([]any)
	if len(items) != 1 {
		t.Fatalf("items: %s", r.body)
	}
	rec := items[0].(map[string]any)
	// Only the granted items, masked by their rules, with _disputed.
	if rec["姓名"] != "段**" || rec["出生日期"] != "1949-12-31" || rec["_disputed"] != false || len(rec) != 5 {
		t.Fatalf("record: %v", rec)
	}
	for _, k := range []string{"公民身份号码", "住址", "行政区划代码"} {
		if _, ok := rec[k]; ok {
			t.Fatalf("item %s returned without a grant: %v", k, rec)
		}
	}
	// Row scope: 李四 lives in 220200 and is never seen, even by key.
	r = f.call("GET", path(f.people, "records?公民身份号码="+id2), nil, auth2("civ", "civ-secret")...)
	if r.status != 200 || len(r.v["items"].([]any)) != 0 {
		t.Fatalf("out of scope: %s", r.body)
	}
	// All rows in scope, paged.
	r = f.call("GET", path(f.people, "records?page_size=1"), nil, auth2("civ", "civ-secret")...)
	if r.status != 200 || len(r.v["items"].([]any)) != 1 || r.v["more"] != true {
		t.Fatalf("page 1: %s", r.body)
	}
	r = f.call("GET", path(f.people, "records?page_size=1&page=2"), nil, auth2("civ", "civ-secret")...)
	if r.status != 200 || len(r.v["items"].([]any)) != 1 || r.v["more"] != false || r.v["items"].([]any)[0].(map[string]any)["姓名"] != "赵*" {
		t.Fatalf("page 2: %s", r.body)
	}
	// A filter on a granted non-key item works too.
	r = f.call("GET", path(f.people, "records?出生日期=2000-03-20"), nil, auth2("civ", "civ-secret")...)
	if r.status != 200 || len(r.v["items"].([]any)) != 1 {
		t.Fatalf("filter on granted item: %s", r.body)
	}
}

func (f *fixture) testMatrix(t *testing.T) {
	q := path(f.people, "records?公民身份号码="+id1)
	f.want(f.call("GET", q, nil), 401, "gw.unauthenticated")
	f.want(f.call("GET", q, nil, "X-Client-Id", "civ"), 401, "gw.unauthenticated")
	f.want(f.call("GET", q, nil, auth2("civ", "wrong")...), 401, "gw.unauthenticated")
	f.want(f.call("GET", q, nil, auth2("nobody", "civ-secret")...), 401, "gw.unauthenticated")
	f.want(f.call("GET", q, nil, "X-Client-Id", "civ", "Authorization", "Basic civ-secret"), 401, "gw.unauthenticated")
	// Key rotation: the old key works during its overlap, then is refused.
	f.h.change(func(s *share.Snapshot) {
		old := credential("civ-old", "old-secret", 10, f.civil.ID)
		old.NotAfter = f.now.Load().Add(time.Minute)
		s.Credentials["civ-old"] = old
	})
	waitVersion(t, f)
	f.want(f.call("GET", q, nil, auth2("civ-old", "old-secret")...), 200, "")
	f.advance(2 * time.Minute)
	f.want(f.call("GET", q, nil, auth2("civ-old", "old-secret")...), 401, "gw.key_expired")
	f.want(f.call("GET", q, nil, auth2("civ", "civ-secret")...), 200, "")
	// No grant: the market application has none on this entry.
	f.want(f.call("GET", q, nil, auth2("mkt", "mkt-secret")...), 403, "gw.no_grant")
	// Another body's application: a grant made for the civil affairs body
	// does not serve a key of the market body's application.
	f.h.change(func(s *share.Snapshot) {
		s.Grants[share.GrantKey{AppID: 20, EntryID: f.people}] = &share.Grant{ID: 101, AppID: 20, BodyID: f.civil.ID, EntryID: f.people,
			Items: []string{"姓名"}, ValidFrom: f.now.Load().Add(-time.Hour)}
	})
	waitVersion(t, f)
	f.want(f.call("GET", q, nil, auth2("mkt", "mkt-secret")...), 403, "gw.no_grant")
	// Not yet valid, then expired.
	f.h.change(func(s *share.Snapshot) {
		s.Grants[share.GrantKey{AppID: 20, EntryID: f.people}] = &share.Grant{ID: 101, AppID: 20, BodyID: f.market.ID, EntryID: f.people,
			Items: []string{"姓名"}, ValidFrom: f.now.Load().Add(time.Hour), ValidTo: f.now.Load().Add(2 * time.Hour)}
	})
	waitVersion(t, f)
	f.want(f.call("GET", q, nil, auth2("mkt", "mkt-secret")...), 403, "gw.grant_not_yet_valid")
	f.advance(90 * time.Minute)
	f.want(f.call("GET", q, nil, auth2("mkt", "mkt-secret")...), 200, "")
	f.advance(time.Hour)
	f.want(f.call("GET", q, nil, auth2("mkt", "mkt-secret")...), 403, "gw.grant_expired")
	// Items not granted: filtering on one is refused; a key item may be
	// used to look up; an unknown item is a bad filter.
	f.want(f.call("GET", path(f.people, "records?住址=x"), nil, auth2("civ", "civ-secret")...), 403, "gw.item_not_granted")
	f.want(f.call("GET", path(f.people, "records?无此项=x"), nil, auth2("civ", "civ-secret")...), 400, "gw.bad_filter")
	f.want(f.call("GET", path(f.people, "records?姓名=a&姓名=b"), nil, auth2("civ", "civ-secret")...), 400, "gw.bad_filter")
	f.want(f.call("POST", path(f.people, "records"), nil, auth2("civ", "civ-secret")...), 405, "gw.method_not_allowed")
	// Revocation: the grant leaves the snapshot; the notice swaps it in.
	f.want(f.call("GET", q, nil, auth2("civ", "civ-secret")...), 200, "")
	saved := f.h.snap.Grants[share.GrantKey{AppID: 10, EntryID: f.people}]
	f.h.change(func(s *share.Snapshot) { delete(s.Grants, share.GrantKey{AppID: 10, EntryID: f.people}) })
	waitVersion(t, f)
	f.want(f.call("GET", q, nil, auth2("civ", "civ-secret")...), 403, "gw.no_grant")
	f.h.change(func(s *share.Snapshot) { s.Grants[share.GrantKey{AppID: 10, EntryID: f.people}] = saved })
	waitVersion(t, f)
	f.want(f.call("GET", q, nil, auth2("civ", "civ-secret")...), 200, "")
}

// waitVersion waits until the gateway has swapped in the holder's snapshot
// (the notice is handled by the loader goroutine).
func waitVersion(t *testing.T, f *fixture) {
	t.Helper()
	want := f.h.snap.Version
	deadline := time.Now().Add(10 * time.Second)
	for f.gw.snap.Load().snap.Version != want {
		if time.Now().After(deadline) {
			t.Fatalf("snapshot %d never swapped in (have %d)", want, f.gw.snap.Load().snap.Version)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (f *fixture) testPaths(t *testing.T) {
	a := auth2("civ", "civ-secret")
	id := strconv.FormatInt(f.people, 10)
	for _, c := range []struct {
		path   string
		status int
		code   string
	}{
		{"/gw/v1/entries/" + id + "/%2e%2e/" + id + "/records", 400, "gw.bad_path"},
		{"/gw/v1/entries/" + id + "/%2E%2E/" + id + "/records", 400, "gw.bad_path"},
		{"/gw/v1/entries%2F" + id + "/records", 400, "gw.bad_path"},
		{"/gw/v1/entries/" + id + "%2frecords", 400, "gw.bad_path"},
		{"/gw/v1//entries/" + id + "/records", 400, "gw.bad_path"},
		{"/gw/v1/entries//" + id + "/records", 400, "gw.bad_path"},
		{"/gw/v1/entries/" + id + "/./records", 400, "gw.bad_path"},
		{"/gw/v1/entries/9999/../" + id + "/records", 400, "gw.bad_path"},
		{"/gw/v1/entries/" + id + "/%252e%252e/records", 400, "gw.bad_path"},
		{"/gw/v1/entries/" + id + "/records%5c", 400, "gw.bad_path"},
		{"/GW/v1/entries/" + id + "/records", 404, "gw.not_found"},
		{"/gw/V1/entries/" + id + "/records", 404, "gw.not_found"},
		{"/gw/v1/Entries/" + id + "/records", 404, "gw.not_found"},
		{"/gw/v1/entries/" + id + "/Records", 404, "gw.not_found"},
		{"/gw/v1/entries/0" + id + "/records", 404, "gw.not_found"},
		{"/gw/v1/entries/+" + id + "/records", 404, "gw.not_found"},
		{"/gw/v1/entries/" + id + "/records/", 404, "gw.not_found"},
	} {
		r := f.call("GET", c.path+"?公民身份号码="+id1, nil, a...)
		if r.status != c.status || r.p.Code != c.code {
			t.Errorf("%s: %d %s, want %d %s", c.path, r.status, r.p.Code, c.status, c.code)
		}
	}
	f.want(f.call("GET", "/gw/v1/entries/"+id+"/records?公民身份号码="+id1, nil, a...), 200, "")
}

func (f *fixture) testMasks(t *testing.T) {
	var items []string
	for _, c := range maskCases {
		items = append(items, c.item)
	}
	f.h.change(func(s *share.Snapshot) {
		s.Grants[share.GrantKey{AppID: 10, EntryID: f.masks}] = &share.Grant{ID: 102, AppID: 10, BodyID: f.civil.ID, EntryID: f.masks,
			Items: items, ValidFrom: f.now.Load().Add(-time.Hour)}
	})
	waitVersion(t, f)
	r := f.call("GET", path(f.masks, "records?编号=1"), nil, auth2("civ", "civ-secret")...)
	f.want(r, 200, "")
	rec := r.v["items"].([]any)[0].(map[string]any)
	for _, c := range maskCases {
		if rec[c.item] != c.want {
			t.Errorf("%s (%s): %q, want %q", c.item, c.rule, rec[c.item], c.want)
		}
		if c.rule != "" && c.rule != "none" && rec[c.item] != mask.Apply(c.rule, c.value) {
			t.Errorf("%s: gateway and mask.Apply disagree", c.item)
		}
	}
	// Clear items are returned as stored.
	f.h.change(func(s *share.Snapshot) {
		g := *s.Grants[share.GrantKey{AppID: 10, EntryID: f.masks}]
		g.ClearItems = []string{"证件号", "手机号码"}
		s.Grants[share.GrantKey{AppID: 10, EntryID: f.masks}] = &g
	})
	waitVersion(t, f)
	r = f.call("GET", path(f.masks, "records?编号=1"), nil, auth2("civ", "civ-secret")...)
	rec = r.v["items"].([]any)[0].(map[string]any)
	if rec["证件号"] != id1 || rec["手机号码"] != "13812345678" || rec["联系人"] != "欧***" {
		t.Fatalf("clear items: %v", rec)
	}
}

func (f *fixture) testVerify(t *testing.T) {
	a := auth2("civ", "civ-secret")
	v := func(body string) reply { return f.call("POST", path(f.people, "verify"), []byte(body), a...) }
	r := v(`{"公民身份号码":"` + id1 + `","姓名":"段正淳"}`)
	f.want(r, 200, "")
	if r.v["found"] != true || r.v["matches"].(map[string]any)["姓名"] != true || bytes.Contains(r.body, []byte("1949")) {
		t.Fatalf("verify: %s", r.body)
	}
	r = v(`{"公民身份号码":"` + id1 + `","姓名":"段誉","出生日期":"1949/12/31"}`)
	m := r.v["matches"].(map[string]any)
	if r.v["found"] != true || m["姓名"] != false || m["出生日期"] != true || bytes.Contains(r.body, []byte("段正淳")) {
		t.Fatalf("verify mismatch: %s", r.body)
	}
	// Out of the grant's row scope: not found.
	r = v(`{"公民身份号码":"` + id2 + `","姓名":"李四"}`)
	if r.v["found"] != false || r.v["matches"].(map[string]any)["姓名"] != false {
		t.Fatalf("verify out of scope: %s", r.body)
	}
	f.want(v(`{"公民身份号码":"`+id1+`","住址":"x"}`), 403, "gw.item_not_granted")
	f.want(v(`{"姓名":"段正淳"}`), 400, "gw.bad_filter")
	f.want(v(`not json`), 400, "gw.bad_body")
	f.want(v(`{"姓名":{"a":1}}`), 400, "gw.bad_body")
	f.want(v(`{"姓名":"`+strings.Repeat("长", 5000)+`"}`), 413, "gw.body_too_large")
	f.want(f.call("GET", path(f.people, "verify"), nil, a...), 405, "gw.method_not_allowed")
}

func (f *fixture) testSignature(t *testing.T) {
	key := []byte("signing-key-of-sig")
	f.h.change(func(s *share.Snapshot) {
		c := credential("sig", "sig-secret", 30, f.civil.ID)
		c.SigningKey, c.RequireSignature = key, true
		s.Credentials["sig"] = c
		s.Grants[share.GrantKey{AppID: 30, EntryID: f.people}] = &share.Grant{ID: 103, AppID: 30, BodyID: f.civil.ID, EntryID: f.people,
			Items: []string{"姓名"}, ValidFrom: f.now.Load().Add(-time.Hour)}
	})
	waitVersion(t, f)
	p := path(f.people, "records")
	esc := "/gw/v1/entries/" + strconv.FormatInt(f.people, 10) + "/records"
	query := "%E5%85%AC%E6%B0%91%E8%BA%AB%E4%BB%BD%E5%8F%B7%E7%A0%81=" + id1 // 公民身份号码=…
	signed := func(ts int64, nonce string, k []byte) reply {
		tss := strconv.FormatInt(ts, 10)
		h := append(auth2("sig", "sig-secret"), "X-Timestamp", tss, "X-Nonce", nonce, "X-Signature", Sign(k, "GET", esc, query, tss, nonce, nil))
		return f.call("GET", p[:len(p)-len("records")]+"records?"+query, nil, h...)
	}
	now := f.now.Load().Unix()
	f.want(f.call("GET", p+"?"+query, nil, auth2("sig", "sig-secret")...), 401, "gw.bad_signature")
	f.want(signed(now, "nonce-0000000001", key), 200, "")
	f.want(signed(now, "nonce-0000000001", key), 401, "gw.replayed")
	f.want(signed(now, "nonce-0000000002", []byte("forged")), 401, "gw.bad_signature")
	f.want(signed(now-600, "nonce-0000000003", key), 401, "gw.signature_expired")
	f.want(signed(now+600, "nonce-0000000004", key), 401, "gw.signature_expired")
	f.want(signed(now, "short", key), 401, "gw.bad_signature")
	// A forged request did not burn its nonce: the genuine one still passes.
	f.want(signed(now, "nonce-0000000002", key), 200, "")
	// A body is signed too: verify with a changed body is refused.
	vp := "/gw/v1/entries/" + strconv.FormatInt(f.people, 10) + "/verify"
	tss := strconv.FormatInt(now, 10)
	body := []byte(`{"公民身份号码":"` + id1 + `","姓名":"段正淳"}`)
	h := append(auth2("sig", "sig-secret"), "X-Timestamp", tss, "X-Nonce", "nonce-0000000005", "X-Signature", Sign(key, "POST", vp, "", tss, "nonce-0000000005", body))
	f.want(f.call("POST", vp, []byte(`{"公民身份号码":"`+id1+`","姓名":"段誉"}`), h...), 401, "gw.bad_signature")
	r := f.call("POST", vp, body, h...)
	f.want(r, 200, "")
}

func (f *fixture) testRateQuota(t *testing.T) {
	f.h.change(func(s *share.Snapshot) {
		s.Credentials["rate"] = credential("rate", "rate-secret", 40, f.civil.ID)
		s.Grants[share.GrantKey{AppID: 40, EntryID: f.people}] = &share.Grant{ID: 104, AppID: 40, BodyID: f.civil.ID, EntryID: f.people,
			Items: []string{"姓名"}, RatePerSecond: 1, Burst: 2, ValidFrom: f.now.Load().Add(-time.Hour)}
		s.Credentials["quota"] = credential("quota", "quota-secret", 50, f.civil.ID)
		s.Grants[share.GrantKey{AppID: 50, EntryID: f.people}] = &share.Grant{ID: 105, AppID: 50, BodyID: f.civil.ID, EntryID: f.people,
			Items: []string{"姓名"}, DailyQuota: 3, ValidFrom: f.now.Load().Add(-time.Hour)}
		s.QuotaUsed[105] = 1 // one call counted today by other nodes
	})
	waitVersion(t, f)
	q := path(f.people, "records?公民身份号码="+id1)
	// The clock stands still: the burst of 2 is all there is.
	f.want(f.call("GET", q, nil, auth2("rate", "rate-secret")...), 200, "")
	f.want(f.call("GET", q, nil, auth2("rate", "rate-secret")...), 200, "")
	r := f.call("GET", q, nil, auth2("rate", "rate-secret")...)
	f.want(r, 429, "gw.rate_limited")
	if ra, _ := strconv.Atoi(r.h.Get("Retry-After")); ra < 1 {
		t.Fatalf("Retry-After %q", r.h.Get("Retry-After"))
	}
	f.advance(time.Second)
	f.want(f.call("GET", q, nil, auth2("rate", "rate-secret")...), 200, "")
	// Quota 3 with 1 used elsewhere: two calls, then exhausted until midnight.
	f.want(f.call("GET", q, nil, auth2("quota", "quota-secret")...), 200, "")
	f.want(f.call("GET", q, nil, auth2("quota", "quota-secret")...), 200, "")
	r = f.call("GET", q, nil, auth2("quota", "quota-secret")...)
	f.want(r, 429, "gw.quota_exhausted")
	if ra, _ := strconv.Atoi(r.h.Get("Retry-After")); ra < 60 || ra > 86401 {
		t.Fatalf("quota Retry-After %q", r.h.Get("Retry-After"))
	}
	// A snapshot built after the statistics were flushed counts this
	// node's calls once: still exhausted, not doubled, not forgotten.
	if err := f.gw.flushStats(f.ctx); err != nil {
		t.Fatal(err)
	}
	f.h.change(func(s *share.Snapshot) { s.QuotaUsed[105] = 3 })
	waitVersion(t, f)
	f.want(f.call("GET", q, nil, auth2("quota", "quota-secret")...), 429, "gw.quota_exhausted")
	f.h.change(func(s *share.Snapshot) {
		g := *s.Grants[share.GrantKey{AppID: 50, EntryID: f.people}]
		g.DailyQuota = 4
		s.Grants[share.GrantKey{AppID: 50, EntryID: f.people}] = &g
	})
	waitVersion(t, f)
	// A call refused after admission gives its place back: only successful
	// calls use quota.
	f.want(f.call("GET", path(f.people, "records?住址=x"), nil, auth2("quota", "quota-secret")...), 403, "gw.item_not_granted")
	f.want(f.call("GET", q, nil, auth2("quota", "quota-secret")...), 200, "")
	f.want(f.call("GET", q, nil, auth2("quota", "quota-secret")...), 429, "gw.quota_exhausted")
	// The next day starts afresh.
	f.advance(24 * time.Hour)
	f.want(f.call("GET", q, nil, auth2("quota", "quota-secret")...), 200, "")
}

func (f *fixture) testService(t *testing.T) {
	var (
		mu   sync.Mutex
		seen http.Header
	)
	prov := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = r.Header.Clone()
		mu.Unlock()
		switch r.URL.Path {
		case "/api/marriage":
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
			_, _ = w.Write([]byte(`{"code":0,"message":"ok","_disputed":false,"data":{"公民身份号码":"` + id1 + `","姓名":"段正淳","婚姻状况":"已婚","配偶姓名":"刀白凤","secret_note":"x"},"list":[{"姓名":"李四","婚姻状况":"未婚"}]}`))
		case "/api/garbage":
			w.Header().Set("Content-Type", "text/html")
			_, _ = w.Write([]byte("<html>oops</html>"))
		case "/api/badjson":
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"姓名":`))
		case "/api/missing":
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(404)
			_, _ = w.Write([]byte(`{"title":"no such person","姓名":"段正淳","配偶姓名":"刀白凤"}`))
		case "/api/hang":
			<-r.Context().Done()
		}
	}))
	defer prov.Close()
	f.h.change(func(s *share.Snapshot) {
		s.Services[f.svcEntry] = &share.ProviderService{EntryID: f.svcEntry, BodyID: f.police.ID, BaseURL: prov.URL, Timeout: 200 * time.Millisecond}
		s.Grants[share.GrantKey{AppID: 10, EntryID: f.svcEntry}] = &share.Grant{ID: 106, AppID: 10, BodyID: f.civil.ID, EntryID: f.svcEntry,
			Items: []string{"姓名", "婚姻状况"}, ValidFrom: f.now.Load().Add(-time.Hour), Purpose: "婚姻状况核查"}
	})
	waitVersion(t, f)
	a := append(auth2("civ", "civ-secret"), "X-Purpose", "%E4%BD%8F%E6%88%BF%E8%A1%A5%E8%B4%B4", "X-Case-Id", "CASE-2026-001")
	r := f.call("GET", path(f.svcEntry, "service/api/marriage?x=1"), nil, a...)
	f.want(r, 200, "")
	want := `{"_disputed":false,"data":{"姓名":"段**","婚姻状况":"已婚"},"list":[{"姓名":"李*","婚姻状况":"未婚"}]}`
	if strings.TrimSpace(string(r.body)) != want {
		t.Fatalf("service answer:\n%s\nwant\n%s", r.body, want)
	}
	mu.Lock()
	if seen.Get("X-Xiangyun-App-Id") != "10" || seen.Get("X-Xiangyun-Grant-Id") != "106" || seen.Get("X-Purpose") != "%E4%BD%8F%E6%88%BF%E8%A1%A5%E8%B4%B4" ||
		seen.Get("X-Case-Id") != "CASE-2026-001" || seen.Get("Authorization") != "" || seen.Get("X-Request-Id") != r.h.Get("X-Request-Id") {
		t.Fatalf("provider saw: %v", seen)
	}
	mu.Unlock()
	// A provider's own refusal is relayed, filtered like any answer.
	r = f.call("GET", path(f.svcEntry, "service/api/missing"), nil, a...)
	if r.status != 404 || strings.TrimSpace(string(r.body)) != `{"姓名":"段**"}` {
		t.Fatalf("relayed refusal: %d %s", r.status, r.body)
	}
	f.want(f.call("GET", path(f.svcEntry, "service/api/garbage"), nil, a...), 502, "gw.provider_bad_answer")
	f.want(f.call("GET", path(f.svcEntry, "service/api/marriage"), nil, a...), 200, "") // resets the failure count
	f.want(f.call("GET", path(f.svcEntry, "service/api/badjson"), nil, a...), 502, "gw.provider_bad_answer")
	f.want(f.call("GET", path(f.svcEntry, "service/api/hang"), nil, a...), 504, "gw.provider_timeout")
	// Two consecutive failures open the circuit: the provider is spared.
	if st := f.gw.breakers.state(f.svcEntry); st != "open" {
		t.Fatalf("breaker %s", st)
	}
	f.want(f.call("GET", path(f.svcEntry, "service/api/marriage"), nil, a...), 503, "gw.breaker_open")
	f.want(f.call("GET", path(f.people, "service/api/marriage"), nil, a...), 404, "gw.no_service")
}

func (f *fixture) testHeaders(t *testing.T) {
	a := auth2("civ", "civ-secret")
	q := path(f.people, "records?公民身份号码="+id1)
	r := f.call("GET", q, nil, append(a, "X-Request-Id", "req-42.a:b")...)
	if r.h.Get("X-Request-Id") != "req-42.a:b" {
		t.Fatalf("request id not echoed: %v", r.h)
	}
	rh := RequestHash("GET", "/gw/v1/entries/"+strconv.FormatInt(f.people, 10)+"/records",
		"公民身份号码="+id1, nil) // the Go client sends the query's UTF-8 as written
	body := sha256.Sum256(r.body)
	if r.h.Get("X-Response-Hash") != ResponseHash("req-42.a:b", rh, body) || r.h.Get("X-Request-Hash") == "" {
		t.Fatalf("response hash %q does not bind the answer", r.h.Get("X-Response-Hash"))
	}
	if _, err := base64.StdEncoding.DecodeString(r.h.Get("X-Response-Hash")); err != nil {
		t.Fatal(err)
	}
	r = f.call("GET", q, nil, a...)
	if len(r.h.Get("X-Request-Id")) != 32 || r.h.Get("X-Response-Hash") == "" {
		t.Fatalf("generated request id: %v", r.h)
	}
	f.want(f.call("GET", q, nil, append(a, "X-Request-Id", "bad id with spaces")...), 400, "gw.bad_request_id")
	f.want(f.call("GET", q, nil, append(a, "X-Case-Id", "bad case id")...), 400, "gw.bad_header")
}

// testAuditUnderLoad: 20 goroutines × 50 calls, ok and refused, each
// answered call has its audit record (counted refusals included), and no
// record carries a query value.
func (f *fixture) testAuditUnderLoad(t *testing.T) {
	f.gw.flushRefusals()
	before := auditCount(t, f)
	var answered atomic.Int64
	var wg sync.WaitGroup
	errc := make(chan error, 20)
	for w := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 50 {
				var h []string
				p := path(f.people, "records?公民身份号码="+id3)
				switch i % 5 {
				case 0, 1:
					h = auth2("civ", "civ-secret")
				case 2:
					h = auth2("mkt", "mkt-secret") // grant expired
				case 3:
					h = auth2("civ", "civ-secret")
					p = path(f.people, "records?住址=吉林省长春市南关区3号") // not granted
				case 4:
					h = auth2("civ", fmt.Sprintf("wrong-%d", w)) // counted refusals
				}
				req, _ := http.NewRequest("GET", f.srv.URL+p, nil)
				for j := 0; j < len(h); j += 2 {
					req.Header.Set(h[j], h[j+1])
				}
				res, err := http.DefaultClient.Do(req)
				if err != nil {
					errc <- err
					return
				}
				_, _ = io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if res.StatusCode == 503 {
					errc <- fmt.Errorf("503 under load")
					return
				}
				answered.Add(1)
			}
		}()
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Fatal(err)
	}
	f.gw.flushRefusals()
	after := auditCount(t, f)
	if after-before != answered.Load() || answered.Load() != 1000 {
		t.Fatalf("audit records %d for %d calls answered", after-before, answered.Load())
	}
	// No personal data: neither the id number nor the address queried.
	err := f.log.Each(f.ctx, audit.Filter{Action: "gw."}, func(e audit.Entry) error {
		for k, v := range e.Detail {
			if strings.Contains(v, id3) || strings.Contains(v, "南关区") || strings.Contains(v, "段正淳") {
				return fmt.Errorf("audit record %d carries personal data in %s: %s", e.Seq, k, v)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := f.log.Verify(f.ctx)
	if err != nil || !rep.OK {
		t.Fatalf("audit log does not verify: %v %+v", err, rep)
	}
}

// auditCount counts the gateway's calls in the audit log: one per record,
// plus the count of each repeated-refusal record.
func auditCount(t *testing.T, f *fixture) int64 {
	t.Helper()
	var n int64
	err := f.log.Each(f.ctx, audit.Filter{Action: "gw."}, func(e audit.Entry) error {
		if e.Action == "gw.refused.repeated" {
			c, _ := strconv.ParseInt(e.Detail["count"], 10, 64)
			n += c
			return nil
		}
		n++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func (f *fixture) testStats(t *testing.T) {
	r := f.call("GET", path(f.people, "records?公民身份号码="+id1), nil, append(auth2("civ", "civ-secret"), "X-Purpose", "统计测试")...)
	f.want(r, 200, "")
	if err := f.gw.flushStats(f.ctx); err != nil {
		t.Fatal(err)
	}
	f.stats.Lock()
	defer f.stats.Unlock()
	var total, ok, withPurpose int64
	for _, c := range f.stats.counts {
		total += c.Calls
		if c.Outcome == "ok" {
			ok += c.Calls
		}
		if c.Purpose == "统计测试" && c.AppID == 10 && c.GrantID == 100 && c.Kind == "query" && c.BodyID == f.civil.ID && c.Day == dayOf(*f.now.Load()) {
			withPurpose += c.Calls
		}
	}
	// The quota grant's calls counted by the control plane's rule are the
	// calls the gateway admitted: 3 on the first day and 1 on the next.
	var quotaCalls int64
	for _, c := range f.stats.counts {
		if c.GrantID == 105 && CountsTowardQuota(c.Outcome) {
			quotaCalls += c.Calls
		}
	}
	if quotaCalls != 4 {
		t.Fatalf("calls counting toward the quota: %d, want 4", quotaCalls)
	}
	if withPurpose != 1 || ok == 0 || total < 1000 {
		t.Fatalf("stats: total=%d ok=%d purpose=%d", total, ok, withPurpose)
	}
}

// TestFailClosed: when the audit store cannot be written, every call is
// refused with gw.audit_unavailable and no data leaves.
func TestFailClosed(t *testing.T) {
	for dialect, dsn := range dbtest.TestDSNs(t) {
		t.Run(string(dialect), func(t *testing.T) {
			f := newFixture(t, dsn(t))
			f.setup()
			q := path(f.people, "records?公民身份号码="+id1)
			f.want(f.call("GET", q, nil, auth2("civ", "civ-secret")...), 200, "")
			_ = f.auditDB.Close()
			r := f.call("GET", q, nil, auth2("civ", "civ-secret")...)
			f.want(r, 503, "gw.audit_unavailable")
			if bytes.Contains(r.body, []byte("段")) || r.h.Get("Retry-After") == "" {
				t.Fatalf("fail-closed answer: %s", r.body)
			}
			f.want(f.call("GET", q, nil), 503, "gw.audit_unavailable")
		})
	}
}

// BenchmarkQuery measures the query path over loopback (durable audit by
// group commit), on SQLite, or on PostgreSQL with XIANGYUN_TEST_POSTGRES set
// and -args -pg: go test ./internal/gateway -run X -bench Query -benchtime 5000x
func BenchmarkQuery(b *testing.B) {
	dsn := "sqlite:" + b.TempDir()
	if *benchPG {
		dsn = dbtest.TestDSNs(b)[db.Postgres](b)
	}
	f := newFixture(b, dsn)
	f.setup()
	url := f.srv.URL + path(f.people, "records?公民身份号码="+id1)
	tr := &http.Transport{MaxIdleConnsPerHost: 256}
	client := &http.Client{Transport: tr}
	b.SetParallelism(16)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req, _ := http.NewRequest("GET", url, nil)
			req.Header.Set("X-Client-Id", "civ")
			req.Header.Set("Authorization", "Bearer civ-secret")
			res, err := client.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode != 200 {
				b.Errorf("status %d", res.StatusCode)
				return
			}
		}
	})
	b.StopTimer()
	batches, records := f.gw.commit.Stats()
	b.ReportMetric(float64(records)/float64(max(batches, 1)), "records/txn")
}

// TestPeriodicRefresh: without change notices the periodic reload still
// brings a revocation in.
func TestPeriodicRefresh(t *testing.T) {
	for dialect, dsn := range dbtest.TestDSNs(t) {
		t.Run(string(dialect), func(t *testing.T) {
			f := newFixture(t, dsn(t), func(c *Config) { c.Subscribe = nil; c.Refresh = 20 * time.Millisecond })
			f.setup()
			q := path(f.people, "records?公民身份号码="+id1)
			f.want(f.call("GET", q, nil, auth2("civ", "civ-secret")...), 200, "")
			f.h.change(func(s *share.Snapshot) { delete(s.Credentials, "civ") }) // no subscriber is told
			waitVersion(t, f)
			f.want(f.call("GET", q, nil, auth2("civ", "civ-secret")...), 401, "gw.unauthenticated")
		})
	}
}
