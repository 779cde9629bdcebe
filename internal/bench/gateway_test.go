package bench

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
	"time"
)

// TestGatewayBenchTiny runs `xiangyun bench gateway` tiny (a few records, short runs) so that it cannot rot; it
// checks the report's shape and that every path answered, never its figures.
func TestGatewayBenchTiny(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a whole installation")
	}
	dbs := []string{""}
	if pg := os.Getenv("XIANGYUN_TEST_POSTGRES"); pg != "" {
		dbs = append(dbs, pg)
	}
	for _, d := range dbs {
		name := "sqlite"
		if d != "" {
			name = "postgres"
		}
		t.Run(name, func(t *testing.T) {
			o := DefaultGatewayOptions()
			o.DB, o.Rows, o.Duration, o.Concurrency = d, 300, time.Second, 4
			var log bytes.Buffer
			rep, err := Gateway(context.Background(), o, &log)
			if err != nil {
				t.Fatalf("%v\n%s", err, log.String())
			}
			if len(rep.Paths) != 5 || rep.Rows != 300 {
				t.Fatalf("report: %+v", rep)
			}
			for _, p := range rep.Paths {
				if p.NotRun != "" {
					t.Fatalf("%s not run: %s", p.Name, p.NotRun)
				}
				for _, run := range []*LoadRun{p.Sat, p.Half} {
					if run == nil || run.Requests == 0 || run.Status[200] != run.Requests || run.Errors != 0 {
						t.Fatalf("%s: %+v", p.Name, run)
					}
				}
			}
			if !rep.Checked || rep.Answered == 0 || rep.Audit != rep.Answered+rep.Refused || rep.Stats != rep.Answered {
				t.Errorf("gateway: %d audit records and %d counted for %d answered and %d refused calls", rep.Audit, rep.Stats, rep.Answered, rep.Refused)
			}
			var md bytes.Buffer
			rep.Markdown(&md)
			for _, want := range []string{"| direct |", "| proxy |", "| service |", "| query |", "| lookup |", "hey"} {
				if !strings.Contains(md.String(), want) {
					t.Errorf("the report lacks %q:\n%s", want, md.String())
				}
			}
		})
	}
}

func TestParseHey(t *testing.T) {
	r, err := parseHey("\nSummary:\n  Requests/sec:\t1234.5678\n\nLatency distribution:\n  50%% in 0.0012 secs\n  99%% in 0.0250 secs\n\n" +
		"Status code distribution:\n  [200]\t90 responses\n  [429]\t10 responses\n\nError distribution:\n  [3]\tGet \"http://x\": EOF\n")
	if err != nil {
		t.Fatal(err)
	}
	if r.RPS != 1234.5678 || r.P50 != 1200*time.Microsecond || r.P99 != 25*time.Millisecond || r.Requests != 100 || r.Status[429] != 10 || r.Errors != 3 {
		t.Fatalf("%+v", r)
	}
}
