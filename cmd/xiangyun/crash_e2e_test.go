package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"xiangyun/internal/audit"
	"xiangyun/internal/auth"
	"xiangyun/internal/catalog"
	"xiangyun/internal/catalogio"
	"xiangyun/internal/db/dbtest"
	"xiangyun/internal/org"
	"xiangyun/internal/server"
)

// TestMain lets the crash test run this test binary as the real program
// (XIANGYUN_E2E_MAIN=1), so that it can be killed with SIGKILL.
func TestMain(m *testing.M) {
	if os.Getenv("XIANGYUN_E2E_MAIN") == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

const crashCSVHeader = "\ufeff信息资源名称,信息资源分类,信息资源摘要,信息资源格式分类,信息资源格式类型,共享类型,共享条件,共享方式类型,开放属性,开放条件,更新周期,数据分级,信息项\n"

func crashCSV(prefix string, n int) []byte {
	var b bytes.Buffer
	b.WriteString(crashCSVHeader)
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "%s%04d,1/01/001,全省户籍人口基本信息。,数据库,Oracle,有条件共享,仅用于身份核验,接口,不予开放,涉及个人信息,每日,L3,公民身份号码:C:18:key:sensitive:mask=id_card; 姓名:C:50\n", prefix, i)
	}
	return b.Bytes()
}

// startProgram runs the real program (serve) on db and dir, waits until it
// listens and returns its address and kill9, which kills it with SIGKILL
// and waits for it to end. A program not killed is stopped when the test
// ends.
func startProgram(t *testing.T, dsn, dir string) (base string, kill9 func()) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "serve", "--db", dsn, "--data", dir, "--addr", "127.0.0.1:0")
	cmd.Env = append(os.Environ(), "XIANGYUN_E2E_MAIN=1")
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	killed := false
	t.Cleanup(func() {
		if !killed {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
	urlc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if _, after, ok := strings.Cut(sc.Text(), "listening on "); ok {
				urlc <- strings.TrimSpace(after)
			}
		}
	}()
	select {
	case base = <-urlc:
	case <-time.After(time.Minute):
		t.Fatal("the program did not start")
	}
	return base, func() {
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		killed = true
		_ = cmd.Wait()
	}
}

// crashFixture gives the crash tests a province, its police department and
// a user of it holding role, with an API token and its principal.
func crashFixture(t *testing.T, s *server.Server, username string, role auth.Role) (org.Body, string, *auth.Principal) {
	t.Helper()
	ctx := context.Background()
	if _, err := s.Orgs.CreateRegion(ctx, org.Region{Code: "220000", Name: "吉林省"}); err != nil {
		t.Fatal(err)
	}
	body, err := s.Orgs.CreateBody(ctx, org.BodyInput{Name: "吉林省公安厅", CreditCode: "11220000MB1726532F", Kind: org.KindAgency, RegionCode: "220000"})
	if err != nil {
		t.Fatal(err)
	}
	u, err := s.Auth.CreateUser(ctx, auth.UserInput{Username: username, DisplayName: "张三", BodyID: body.ID, Password: "Crash-test-password-2026"})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Auth.GrantRole(ctx, 0, u.ID, role, body.ID); err != nil {
		t.Fatal(err)
	}
	token, _, err := s.Auth.CreateToken(ctx, u.ID, "crash", 0)
	if err != nil {
		t.Fatal(err)
	}
	p, err := s.Auth.TokenPrincipal(ctx, token)
	if err != nil {
		t.Fatal(err)
	}
	return body, token, p
}

// TestCrashKeepsEveryAuditRecord runs the real program, fires concurrent
// catalog edits and a catalog import at it, kills it with SIGKILL while
// they run, restarts it, and checks that every change that committed has
// its audit record and that the log verifies.
func TestCrashKeepsEveryAuditRecord(t *testing.T) {
	const edits, importRows = 40, 100
	ctx := context.Background()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	for dialect, dsnf := range dbtest.TestDSNs(t) {
		t.Run(string(dialect), func(t *testing.T) {
			dir := t.TempDir()
			cfg := server.Config{DB: dsnf(t), DataDir: dir}

			// Set up: a body, its chief data officer with an API token, and
			// the drafts to edit.
			s, err := server.Open(ctx, cfg, quiet)
			if err != nil {
				t.Fatal(err)
			}
			_, token, p := crashFixture(t, s, "police_cdo", auth.RoleChiefDataOfficer)
			rep, err := catalogio.Import(ctx, s.Catalog, p, bytes.NewReader(crashCSV("待编辑资源", edits)), "drafts.csv", catalogio.Options{})
			if err != nil || rep.Created != edits {
				t.Fatalf("drafts: %+v %v", rep, err)
			}
			bodies := map[int64][]byte{}
			for i, ref := range rep.Entries {
				e, err := s.Catalog.Get(ctx, p, ref.ID)
				if err != nil {
					t.Fatal(err)
				}
				in := catalog.EntryInput{Content: e.Content, ProviderID: e.ProviderID}
				in.Name = fmt.Sprintf("已改名资源%04d", i)
				b, _ := json.Marshal(map[string]any{"entry": in})
				bodies[e.ID] = b
			}
			s.Close()

			// Start the real program.
			base, kill9 := startProgram(t, cfg.DB, dir)

			// Fire the edits and the import together.
			client := &http.Client{Timeout: 30 * time.Second}
			send := func(method, path, ctype string, body []byte) (int, error) {
				req, _ := http.NewRequest(method, base+path, bytes.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+token)
				req.Header.Set("Content-Type", ctype)
				res, err := client.Do(req)
				if err != nil {
					return 0, err
				}
				_, _ = io.Copy(io.Discard, res.Body)
				res.Body.Close()
				return res.StatusCode, nil
			}
			var (
				wg         sync.WaitGroup
				answered   atomic.Int32
				ok         atomic.Int32
				half       = make(chan struct{})
				once       sync.Once
				importDone = make(chan struct{})
			)
			wg.Add(1)
			go func() {
				defer wg.Done()
				var b bytes.Buffer
				mw := multipart.NewWriter(&b)
				fw, _ := mw.CreateFormFile("file", "import.csv")
				_, _ = fw.Write(crashCSV("导入资源", importRows))
				mw.Close()
				start := time.Now()
				code, err := send("POST", "/api/v1/catalog/import", mw.FormDataContentType(), b.Bytes())
				t.Logf("import: %d %v after %v", code, err, time.Since(start))
				close(importDone)
			}()
			i := 0
			for id, b := range bodies {
				wg.Add(1)
				delay := time.Duration(i) * 60 * time.Millisecond // a trickle, so that edits straddle the kill
				i++
				go func() {
					defer wg.Done()
					time.Sleep(delay)
					code, err := send("PUT", fmt.Sprintf("/api/v1/catalog/entries/%d", id), "application/json", b)
					if err == nil && code == 200 {
						ok.Add(1)
					}
					if answered.Add(1) == edits/2 {
						once.Do(func() { close(half) })
					}
				}()
			}
			// Kill right after the import answered (its record is being
			// delivered then) and half of the edits did.
			for _, c := range []chan struct{}{half, importDone} {
				select {
				case <-c:
				case <-time.After(time.Minute):
					t.Fatal("no answers")
				}
			}
			kill9()
			wg.Wait()

			// Restart: pending intents are drained at start-up.
			s, err = server.Open(ctx, cfg, quiet)
			if err != nil {
				t.Fatal(err)
			}
			updated := map[string]bool{}
			err = s.Audit.Each(ctx, audit.Filter{Action: "catalog.entry.update"}, func(e audit.Entry) error {
				updated[e.Object] = true
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			committed := 0
			for id := range bodies {
				e, err := s.Catalog.Get(ctx, p, id)
				if err != nil {
					t.Fatal(err)
				}
				if !strings.HasPrefix(e.Name, "已改名资源") {
					continue
				}
				committed++
				if !updated[fmt.Sprintf("entry:%d", id)] {
					t.Errorf("entry %d was renamed to %s but the audit log has no record of it", id, e.Name)
				}
			}
			var imported int
			if err := s.Control.R.QueryRowContext(ctx, "SELECT COUNT(*) FROM entry_versions WHERE name LIKE '导入资源%'").Scan(&imported); err != nil {
				t.Fatal(err)
			}
			_, importRecords, err := s.Audit.List(ctx, audit.Filter{Action: "catalog.import"})
			if err != nil {
				t.Fatal(err)
			}
			if imported > 0 && importRecords == 0 {
				t.Errorf("the import committed %d entries but the audit log has no record of it", imported)
			}
			t.Logf("%d of %d edits committed (%d answered 200 before the kill), import committed: %v", committed, edits, ok.Load(), imported > 0)
			if committed < int(ok.Load()) {
				t.Errorf("%d edits answered 200 but only %d are in the database", ok.Load(), committed)
			}
			s.Close()
			var out bytes.Buffer
			if err := run(ctx, []string{"audit", "verify", "--db", cfg.DB, "--data", dir}, nil, &out, io.Discard); err != nil {
				t.Fatalf("audit verify after the crash: %v\n%s", err, out.String())
			}
		})
	}
}
