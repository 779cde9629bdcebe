package httpx

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"xiangyun/internal/audit"
	"xiangyun/internal/auth"
	"xiangyun/internal/db/dbtest"
	"xiangyun/internal/org"
)

// TestRefusalFloodIsCounted: a flood of requests with a bad bearer token
// leaves a bounded number of audit records whose counts add up to the
// requests refused, per source address.
func TestRefusalFloodIsCounted(t *testing.T) {
	for dialect, dsnf := range dbtest.TestDSNs(t) {
		t.Run(string(dialect), func(t *testing.T) {
			ctx := context.Background()
			dsn := dsnf(t)
			control := dbtest.Open(t, dsn, "control")
			orgs, err := org.Open(ctx, control)
			if err != nil {
				t.Fatal(err)
			}
			as, err := auth.Open(ctx, control, orgs, auth.DefaultPolicy)
			if err != nil {
				t.Fatal(err)
			}
			key, err := audit.NewKey("xiangyun-audit")
			if err != nil {
				t.Fatal(err)
			}
			log, err := audit.Open(ctx, dbtest.Open(t, dsn, "audit"), key)
			if err != nil {
				t.Fatal(err)
			}
			a := &Authenticator{Auth: as, Audit: log, RefusalInterval: time.Hour}
			mux := http.NewServeMux()
			a.Guard(&Table{}, mux, Route{Method: "POST", Pattern: "/things", Perm: auth.PermOrgWrite, Action: "org.thing.create"},
				func(w http.ResponseWriter, r *http.Request) { t.Error("handler reached without a valid credential") }, nil)
			h := a.Middleware(mux)

			send := func(addr string, n int) {
				var wg sync.WaitGroup
				for w := 0; w < 8; w++ {
					wg.Add(1)
					go func() {
						defer wg.Done()
						for i := w; i < n; i += 8 {
							req := httptest.NewRequest("POST", "/things", nil)
							req.RemoteAddr = addr + ":40000"
							req.Header.Set("Authorization", "Bearer xy_not-a-token-"+strconv.Itoa(i))
							rec := httptest.NewRecorder()
							h.ServeHTTP(rec, req)
							if rec.Code != http.StatusUnauthorized {
								t.Errorf("status %d", rec.Code)
							}
						}
					}()
				}
				wg.Wait()
			}
			send("203.0.113.5", 500)
			send("198.51.100.7", 30)
			a.FlushRefusals()

			for _, c := range []struct {
				ip   string
				sent int
			}{{"203.0.113.5", 500}, {"198.51.100.7", 30}} {
				recs, total, err := log.List(ctx, audit.Filter{IP: c.ip, Limit: 1000})
				if err != nil {
					t.Fatal(err)
				}
				if total != 2 {
					t.Fatalf("%s: %d records for %d refusals, want 2 (the first and a summary): %+v", c.ip, total, c.sent, recs)
				}
				sum := 0
				for _, e := range recs {
					if e.Outcome != audit.OutcomeDenied {
						t.Errorf("record %+v is not a denial", e)
					}
					switch e.Action {
					case "org.thing.create":
						sum++
					case "http.refused.repeated":
						n, _ := strconv.Atoi(e.Detail["count"])
						sum += n
						if e.Detail["actions"] != fmt.Sprintf("org.thing.create=%d", n) || e.Detail["reason"] != "invalid bearer token" {
							t.Errorf("summary detail: %v", e.Detail)
						}
					default:
						t.Errorf("unexpected record %+v", e)
					}
				}
				if sum != c.sent {
					t.Fatalf("%s: records count %d refusals, want %d", c.ip, sum, c.sent)
				}
			}
			// A new interval records its first refusal again.
			send("203.0.113.5", 1)
			if _, total, _ := log.List(ctx, audit.Filter{IP: "203.0.113.5"}); total != 3 {
				t.Fatalf("after the interval: %d records, want 3", total)
			}
			if rep, err := log.Verify(ctx); err != nil || !rep.OK {
				t.Fatalf("verify: %+v %v", rep, err)
			}
		})
	}
}
