package server_test

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"xiangyun/internal/auth"
	"xiangyun/internal/db"
	"xiangyun/internal/db/dbtest"
)

// cutProxy relays TCP to a PostgreSQL server until it is cut; from then on
// it swallows what either side sends and accepts new connections without
// ever answering: the database has become unreachable without a word, the
// worst case for a client (no reset, no refusal).
type cutProxy struct {
	ln     net.Listener
	target string
	cut    atomic.Bool
	mu     sync.Mutex
	conns  []net.Conn
}

func startCutProxy(t *testing.T, target string) *cutProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &cutProxy{ln: ln, target: target}
	t.Cleanup(p.close)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p.track(c)
			if p.cut.Load() {
				go func() { _, _ = io.Copy(io.Discard, c) }()
				continue
			}
			u, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			p.track(u)
			go p.pipe(u, c)
			go p.pipe(c, u)
		}
	}()
	return p
}

func (p *cutProxy) track(c net.Conn) {
	p.mu.Lock()
	p.conns = append(p.conns, c)
	p.mu.Unlock()
}

func (p *cutProxy) pipe(dst, src net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if err != nil {
			if !p.cut.Load() {
				dst.Close()
			}
			return
		}
		if p.cut.Load() {
			continue // swallowed
		}
		if _, err := dst.Write(buf[:n]); err != nil {
			return
		}
	}
}

func (p *cutProxy) close() {
	p.ln.Close()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
}

// TestDatabaseUnreachable opens the platform on PostgreSQL, then makes the
// database unreachable, and checks that anonymous and signed-in requests,
// in the API and the console, are answered within seconds: 503 with a
// bilingual message where the database is needed, never "sign in first".
func TestDatabaseUnreachable(t *testing.T) {
	dsns := dbtest.TestDSNs(t)
	fresh, ok := dsns[db.Postgres]
	if !ok {
		t.Skip("needs PostgreSQL (XIANGYUN_TEST_POSTGRES): SQLite cannot be made unreachable")
	}
	dsn := fresh(t)
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	proxy := startCutProxy(t, u.Host)
	u.Host = proxy.ln.Addr().String()
	e := newEnv(t, u.String())

	admin := e.client(auth.RoleAdmin)
	res := e.do(admin, "POST", "/api/v1/tokens", map[string]string{"name": "script"})
	var tok struct{ Token string }
	decode(t, res, &tok)
	if tok.Token == "" {
		t.Fatal("no token")
	}
	// Sanity: everything works through the proxy.
	if res := e.do(admin, "GET", "/api/v1/bodies", nil); res.StatusCode != 200 {
		t.Fatalf("before the cut: %d", res.StatusCode)
	}
	proxy.cut.Store(true)

	type check struct {
		name        string
		client      *http.Client
		method, url string
		form        url.Values
		json        string
		bearer      string
		status      int
		within      time.Duration
		api         bool
		form503     bool // a form page answers 503 with its message inline
	}
	checks := []check{
		{name: "signed-in API read", client: admin, method: "GET", url: "/api/v1/bodies", status: 503, within: 6 * time.Second, api: true},
		{name: "signed-in API write", client: admin, method: "POST", url: "/api/v1/bodies", json: `{"name":"某局","credit_code":"11220000MB1726532F","kind":"agency","region_code":"220000"}`, status: 503, within: 6 * time.Second, api: true},
		{name: "bearer token", client: http.DefaultClient, method: "GET", url: "/api/v1/me", bearer: tok.Token, status: 503, within: 6 * time.Second, api: true},
		{name: "signed-in console page", client: admin, method: "GET", url: "/orgs", status: 503, within: 6 * time.Second},
		{name: "anonymous API sign-in", client: e.client(""), method: "POST", url: "/api/v1/session", json: `{"username":"u_admin","password":"` + pw + `"}`, status: 503, within: 12 * time.Second, api: true},
		{name: "anonymous console sign-in", client: e.client(""), method: "POST", url: "/login", form: url.Values{"username": {"u_admin"}, "password": {pw}}, status: 503, within: 12 * time.Second, form503: true},
		// Refusing an anonymous caller needs no database: it stays a
		// refusal, answered within seconds although its audit record
		// cannot be written.
		{name: "anonymous API refusal", client: e.client(""), method: "GET", url: "/api/v1/bodies", status: 401, within: 8 * time.Second, api: true},
	}
	var wg sync.WaitGroup
	for _, c := range checks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var body io.Reader
			ctype := ""
			switch {
			case c.json != "":
				body, ctype = strings.NewReader(c.json), "application/json"
			case c.form != nil:
				body, ctype = strings.NewReader(c.form.Encode()), "application/x-www-form-urlencoded"
			}
			req, _ := http.NewRequest(c.method, e.ts.URL+c.url, body)
			if ctype != "" {
				req.Header.Set("Content-Type", ctype)
			}
			if c.bearer != "" {
				req.Header.Set("Authorization", "Bearer "+c.bearer)
			}
			// The client gives up after 20 s, so that the test ends even
			// when the server hangs (as it did before deadlines).
			cl := *c.client
			cl.Timeout = 20 * time.Second
			start := time.Now()
			res, err := cl.Do(req)
			took := time.Since(start)
			if err != nil {
				t.Errorf("%s: %v", c.name, err)
				return
			}
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			t.Logf("%s: %d in %v", c.name, res.StatusCode, took.Round(time.Millisecond))
			if took > c.within {
				t.Errorf("%s: answered after %v, want within %v", c.name, took, c.within)
			}
			if res.StatusCode != c.status {
				t.Errorf("%s: status %d, want %d: %.300s", c.name, res.StatusCode, c.status, b)
				return
			}
			if c.status != 503 {
				return
			}
			if res.Header.Get("Retry-After") == "" {
				t.Errorf("%s: 503 without Retry-After", c.name)
			}
			if c.api {
				var p problem
				if err := json.Unmarshal(b, &p); err != nil || p.Code != "unavailable" || !strings.Contains(p.MessageZH, "服务暂时不可用") || !strings.Contains(p.MessageEN, "unavailable") {
					t.Errorf("%s: problem %s", c.name, b)
				}
				return
			}
			page := string(b)
			if !strings.Contains(page, "服务暂时不可用") || !(c.form503 || strings.Contains(page, "service unavailable")) || !strings.Contains(page, "<html") {
				t.Errorf("%s: not the styled 503 page: %.500s", c.name, page)
			}
			if strings.Contains(page, "请先登录") || strings.Contains(page, "用户名或密码") {
				t.Errorf("%s: the outage reads as the user's mistake: %.500s", c.name, page)
			}
		}()
	}
	wg.Wait()
}
