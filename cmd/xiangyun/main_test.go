package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"xiangyun/internal/browsertest"
)

const demoPassword = "Demo-password-2026"

// startDemo runs the real program (`xiangyun demo`) on port 0 with a
// temporary database and returns its base URL.
func startDemo(t *testing.T) (string, string) {
	t.Helper()
	t.Setenv("XIANGYUN_DEMO_PASSWORD", demoPassword)
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"demo", "--db", "sqlite:" + dir, "--addr", "127.0.0.1:0"}, strings.NewReader(""), pw, io.Discard)
		pw.Close()
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("demo exited with %v", err)
			}
		case <-time.After(20 * time.Second):
			t.Error("no graceful shutdown within 20 s")
		}
	})
	urlc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			if _, after, ok := strings.Cut(sc.Text(), "listening on "); ok {
				urlc <- strings.TrimSpace(after)
			}
		}
	}()
	select {
	case u := <-urlc:
		return u, dir
	case err := <-done:
		t.Fatalf("demo exited early: %v", err)
	case <-time.After(4 * time.Minute):
		t.Fatal("demo did not start within 4 minutes")
	}
	return "", ""
}

func TestEndToEndConsole(t *testing.T) {
	base, _ := startDemo(t)
	if res, err := http.Get(base + "/healthz"); err != nil || res.StatusCode != 200 {
		t.Fatalf("healthz: %v", err)
	}
	ctx := browsertest.New(t, 3*time.Minute)
	bt := browsertest.Visible
	login := func(user string) error {
		return chromedp.Do(ctx,
			chromedp.Navigate(base+"/login"),
			browsertest.Type("#username", user),
			browsertest.Type("#password", demoPassword),
			browsertest.Click(`form[action="/login"] button[type=submit]`),
			bt("nav .nav-item"),
		)
	}
	text := func(sel string) string {
		s, err := browsertest.Text(ctx, sel)
		if err != nil {
			t.Fatalf("text of %s: %v", sel, err)
		}
		return s
	}
	if err := login("admin"); err != nil {
		t.Fatalf("admin login: %v", err)
	}
	err := chromedp.Do(ctx,
		chromedp.Navigate(base+"/orgs/new"),
		browsertest.Type("#name", "吉林省测试数据局"),
		browsertest.Type("#credit_code", "11220000MB1726532F"),
		browsertest.Click("#save-body"),
		bt(".alert-success"),
	)
	if err != nil {
		t.Fatalf("create body: %v", err)
	}
	if h := text("h1"); h != "吉林省测试数据局" {
		t.Fatalf("body page heading %q", h)
	}
	err = chromedp.Do(ctx,
		chromedp.Navigate(base+"/users/new"),
		browsertest.Type("#username", "e2e.user"),
		browsertest.Type("#display_name", "端到端"),
		browsertest.Type("#password", "E2e-password-1"),
		browsertest.Click("#save-user"),
		bt(".alert-success"),
	)
	if err != nil {
		t.Fatalf("create user: %v", err)
	}
	if p := text("main"); !strings.Contains(p, "e2e.user") {
		t.Fatalf("user page: %q", p)
	}
	if err := chromedp.Do(ctx, browsertest.Click("details.menu summary"), browsertest.Click("#logout"), bt("#username")); err != nil {
		t.Fatalf("logout: %v", err)
	}
	if err := login("auditor"); err != nil {
		t.Fatalf("auditor login: %v", err)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/audit?actor=admin"), bt("#audit-table")); err != nil {
		t.Fatalf("audit viewer: %v", err)
	}
	auditText := text("#audit-table")
	// The viewer names actions in Chinese (the codes stay in the filter).
	for _, want := range []string{"新建机构", "新建用户", "登录", "统一社会信用代码"} {
		if !strings.Contains(auditText, want) {
			t.Errorf("audit viewer lacks %s:\n%s", want, auditText)
		}
	}
	if dir := os.Getenv("XIANGYUN_SCREENSHOT_DIR"); dir != "" {
		if err := login("admin"); err == nil {
			_ = chromedp.Do(ctx, chromedp.Navigate(base+"/"))
			time.Sleep(1500 * time.Millisecond) // let the charts draw
			if png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)); err == nil {
				_ = os.WriteFile(filepath.Join(dir, "console.png"), png, 0o644)
			}
		}
	}
}
