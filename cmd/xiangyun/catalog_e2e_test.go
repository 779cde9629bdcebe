package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"xiangyun/internal/browsertest"
)

// TestEndToEndCatalog drafts an entry in the console editor as a
// department's chief data officer and submits it, publishes it as the
// platform reviewer from the review queue, and finds it in the catalog by
// Chinese text and by pinyin initials.
func TestEndToEndCatalog(t *testing.T) {
	base, _ := startDemo(t)
	ctx := browsertest.New(t, 4*time.Minute)
	const name = "吉林省流动人口居住登记信息"
	visible := browsertest.Visible
	text := func(sel string) string {
		t.Helper()
		s, err := browsertest.Text(ctx, sel)
		if err != nil {
			t.Fatalf("text of %s: %v", sel, err)
		}
		return s
	}
	shots := os.Getenv("XIANGYUN_SCREENSHOT_DIR")
	shot := func(file string) {
		if shots == "" {
			return
		}
		time.Sleep(800 * time.Millisecond) // let charts and fonts settle
		if png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)); err == nil {
			_ = os.WriteFile(filepath.Join(shots, file), png, 0o644)
		}
	}
	login := func(user string) {
		t.Helper()
		err := chromedp.Do(ctx,
			chromedp.Navigate(base+"/login"),
			browsertest.Type("#username", user),
			browsertest.Type("#password", demoPassword),
			browsertest.Click(`form[action="/login"] button[type=submit]`),
			visible("nav .nav-item"),
			chromedp.Navigate(base+"/lang?l=zh&next=/"), // the browser may ask for English
			visible("nav .nav-item"),
		)
		if err != nil {
			t.Fatalf("%s login: %v", user, err)
		}
	}
	logout := func() {
		t.Helper()
		if err := chromedp.Do(ctx, browsertest.Click("details.menu summary"), browsertest.Click("#logout"), visible("#username")); err != nil {
			t.Fatalf("logout: %v", err)
		}
	}
	set := func(sel, value string) chromedp.Action[chromedp.Void] {
		return chromedp.SetValue(chromedp.CSS(sel), value)
	}

	// The chief data officer of 吉林省公安厅 drafts the entry with two data
	// items (the editor starts with three rows; the empty one is ignored).
	// Rows are added and removed in place.
	login("police_cdo")
	err := chromedp.Do(ctx,
		chromedp.Navigate(base+"/catalog/new"),
		visible("#entry-form"),
		browsertest.Click("#add-item"),
		visible(`input[name="items[3].name"]`),
		browsertest.Click(`#item-rows tr:nth-child(2) [data-item-del]`),
		chromedp.WaitNotPresent(chromedp.CSS(`input[name="items[3].name"]`)),
		visible(`input[name="items[2].name"]`),
		browsertest.Type("#name", name),
		browsertest.Type("#class", "9/99"), // refused below, then corrected
		set("#grade", "L3"),
		browsertest.Type("#abstract", "全省流动人口居住登记的登记人、居住地址和登记时间。"),
		set("#format_class", "database"),
		set("#format_type", "dm"),
		set("#cycle", "daily"),
		set("#share_type", "conditional"),
		set("#share_method", "api"),
		browsertest.Type("#share_condition", "用于人口管理和公共服务，须经提供方同意"),
		set("#open_type", "none"),
		browsertest.Type("#open_condition", "涉及个人信息，依据《个人信息保护法》不予开放"),
		browsertest.Type(`input[name="items[0].name"]`, "公民身份号码"),
		browsertest.Type(`input[name="items[0].en_name"]`, "GMSFHM"),
		set(`select[name="items[0].data_type"]`, "C"),
		browsertest.Type(`input[name="items[0].length"]`, "18"),
		browsertest.Click(`input[name="items[0].key"]`),
		browsertest.Click(`input[name="items[0].sensitive"]`),
		set(`select[name="items[0].mask"]`, "id_card"),
		browsertest.Type(`input[name="items[1].name"]`, "居住地址"),
		set(`select[name="items[1].data_type"]`, "C"),
		browsertest.Type(`input[name="items[1].length"]`, "200"),
		browsertest.Click(`input[name="items[1].sensitive"]`),
		set(`select[name="items[1].mask"]`, "address"),
	)
	if err != nil {
		t.Fatalf("fill the editor: %v", err)
	}
	// A refused save shows the error at the field and keeps what was typed.
	if err := chromedp.Do(ctx, browsertest.Click("#save-entry"), visible("#class-err")); err != nil {
		t.Fatalf("invalid classification: %v", err)
	}
	if v, err := chromedp.Run(ctx, chromedp.Value(chromedp.CSS(`input[name="items[1].name"]`))); err != nil || v != "居住地址" {
		t.Fatalf("data item lost after a refused save: %q, %v", v, err)
	}
	if v, err := chromedp.Run(ctx, chromedp.Value(chromedp.CSS(`#grade`))); err != nil || v != "L3" {
		t.Fatalf("grade lost after a refused save: %q, %v", v, err)
	}
	shot("catalog-editor.png")
	if err := chromedp.Do(ctx, set("#class", "1/01/090"), browsertest.Click("#save-submit-entry"), visible(".alert-success"), visible("#entry-items")); err != nil {
		t.Fatalf("save and submit: %v (page: %s)", err, text("main"))
	}
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	entryPath := strings.TrimPrefix(loc, base) // /catalog/{id}
	if h := text("#entry-name"); h != name {
		t.Fatalf("entry page heading %q", h)
	}
	if s := text(".page-head"); !strings.Contains(s, "待审核") {
		t.Fatalf("entry not submitted: %q", s)
	}
	if items := text("#entry-items"); !strings.Contains(items, "公民身份号码") || !strings.Contains(items, "居住地址") || strings.Count(items, "\n") < 2 {
		t.Fatalf("data items: %q", items)
	}
	shot("catalog-entry-submitted.png")
	logout()

	// The reviewer finds it in the queue and publishes it.
	login("reviewer")
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/catalog/review"), visible("#review-table")); err != nil {
		t.Fatalf("review queue: %v", err)
	}
	if q := text("#review-table"); !strings.Contains(q, name) || !strings.Contains(q, "个工作日") {
		t.Fatalf("review queue lacks the entry: %q", q)
	}
	shot("catalog-review.png")
	err = chromedp.Do(ctx,
		browsertest.Click(`#review-table a[href="`+entryPath+`?via=review#review"]`),
		visible("#review"),
		browsertest.Type("#review-comment", "内容完整，同意发布。"),
		browsertest.Click("#publish-entry"),
		visible(".alert-success"),
	)
	if err != nil {
		t.Fatalf("publish: %v", err)
	}
	if q := text("main"); strings.Contains(q, name) {
		t.Fatalf("the published entry is still in the queue: %q", q)
	}
	logout()

	// Anybody who reads the catalog finds it, by Chinese text and by pinyin
	// initials (流动人口 → ldrk), also through the search box.
	login("police_spec")
	for _, q := range []string{"流动人口", "ldrk"} {
		if err := chromedp.Do(ctx, chromedp.Navigate(base+"/catalog?q="+q), visible("#catalog-table")); err != nil {
			t.Fatalf("search %s: %v (page: %s)", q, err, text("main"))
		}
		if res := text("#catalog-table"); !strings.Contains(res, name) || !strings.Contains(res, "已发布") {
			t.Fatalf("search %s does not find the entry: %q", q, res)
		}
	}
	err = chromedp.Do(ctx,
		chromedp.Navigate(base+"/catalog"),
		visible("#catalog-q"),
		browsertest.Type("#catalog-q", "流动人口居住"),
		browsertest.Click("#catalog-search-go"),
	)
	if err == nil {
		_, err = chromedp.Run(ctx, chromedp.Poll[bool](`(document.querySelector('#catalog-count') || {textContent: ''}).textContent.includes('流动人口居住')`))
	}
	if err != nil {
		t.Fatalf("search box: %v", err)
	}
	if res := text("#catalog-results"); !strings.Contains(res, name) {
		t.Fatalf("search box results lack the entry: %q", res)
	}
	shot("catalog-search.png")
}
