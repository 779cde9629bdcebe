package server_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"xiangyun/internal/audit"
	"xiangyun/internal/db/dbtest"
)

// TestGatewayMounted: /gw/v1/ is served by the gateway outside the
// console's CSRF and session middleware (a cross-site POST reaches it and
// is refused for its missing credential, not as CSRF), path tricks are
// refused by the gateway rather than redirected by the mux, and refusals
// are audited.
func TestGatewayMounted(t *testing.T) {
	for dialect, dsn := range dbtest.TestDSNs(t) {
		t.Run(string(dialect), func(t *testing.T) {
			e := newEnv(t, dsn(t))
			for _, c := range []struct {
				method, path, code string
				status             int
			}{
				{"POST", "/gw/v1/entries/1/verify", "gw.unauthenticated", 401},
				{"GET", "/gw/v1/entries/1/records", "gw.unauthenticated", 401},
				{"GET", "/gw/v1//entries/1/records", "gw.bad_path", 400},
				{"GET", "/gw/v1/entries/1/../1/records", "gw.bad_path", 400},
				{"GET", "/GW/v1/entries/1/records", "gw.not_found", 404},
			} {
				req, _ := http.NewRequest(c.method, e.ts.URL+c.path, strings.NewReader(`{}`))
				req.Header.Set("Origin", "https://evil.example")
				req.Header.Set("Sec-Fetch-Site", "cross-site")
				res, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				var p struct{ Code string }
				_ = json.NewDecoder(res.Body).Decode(&p)
				res.Body.Close()
				if res.StatusCode != c.status || p.Code != c.code || res.Header.Get("X-Request-Id") == "" {
					t.Fatalf("%s %s: %d %q", c.method, c.path, res.StatusCode, p.Code)
				}
			}
			res, err := http.Get(e.ts.URL + "/metrics")
			if err != nil {
				t.Fatal(err)
			}
			m, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if !strings.Contains(string(m), `xiangyun_gateway_calls_total{kind="verify",outcome="gw.unauthenticated"} 1`) ||
				!strings.Contains(string(m), "xiangyun_gateway_audit_records_total") {
				t.Fatalf("gateway metrics missing:\n%s", m)
			}
			es, _, err := e.s.Audit.List(t.Context(), audit.Filter{Action: "gw."})
			if err != nil || len(es) == 0 {
				t.Fatalf("gateway refusals not audited: %v %d", err, len(es))
			}
		})
	}
}
