package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"time"

	"xiangyun/internal/auth"
	"xiangyun/internal/demo"
	"xiangyun/internal/server"
)

func cmdServe(ctx context.Context, args []string, stdout, stderr io.Writer, withDemo bool) error {
	name := "serve"
	if withDemo {
		name = "demo"
	}
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c common
	c.flags(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := c.resolve(); err != nil {
		return err
	}
	log := c.logger(stderr)
	s, err := server.Open(ctx, c.cfg, log)
	if err != nil {
		return err
	}
	defer s.Close()
	var logins []demo.Login
	var shareDemo demo.ShareDemo
	if withDemo {
		pw := os.Getenv("XIANGYUN_DEMO_PASSWORD")
		if pw == "" {
			pw = generatePassword()
		}
		// The demo reports its steps only when it loads (the first run);
		// later runs just reset the demo passwords.
		start := time.Now()
		progress := func(step string) {
			fmt.Fprintf(stdout, "demo [%4.1fs] %s\n", time.Since(start).Seconds(), step)
		}
		ds := demo.Services{Orgs: s.Orgs, Auth: s.Auth, Catalog: s.Catalog, Audit: s.Audit, Notify: s.Notify, Quality: s.Quality, Control: s.Control, Ingest: s.Ingest, Progress: progress}
		if logins, err = demo.Load(ctx, ds, pw); err != nil {
			return fmt.Errorf("demo data: %w", err)
		}
		if shareDemo, err = demo.LoadShare(ctx, ds, s.Share); err != nil {
			return fmt.Errorf("demo sharing data: %w", err)
		}
		if shareDemo.First {
			if err := shareDemo.Calls(ctx, s.Gateway); err != nil {
				return fmt.Errorf("demo gateway calls: %w", err)
			}
		}
	}
	ln, err := net.Listen("tcp", s.Config.Addr)
	if err != nil {
		return err
	}
	url := "http://" + ln.Addr().String()
	fmt.Fprintf(stdout, "Xiangyun %s listening on %s\n", server.Version, url)
	fmt.Fprintf(stdout, "  database: %s   data: %s\n", redactDSN(s.Config.DB), s.Config.DataDir)
	fmt.Fprintf(stdout, "  console: %s/   API: %s/api/v1/openapi.json   health: %s/healthz\n", url, url, url)
	if len(logins) > 0 {
		fmt.Fprintln(stdout, "Demo logins (username / password / role):")
		for _, l := range logins {
			fmt.Fprintf(stdout, "  %-14s %s   %s\n", l.Username, l.Password, l.Role)
		}
	}
	if shareDemo.KeyID != "" {
		fmt.Fprintf(stdout, "Demo application %s (吉林省市场监督管理厅), granted 姓名 and 公民身份号码 of entry %d:\n", shareDemo.AppName, shareDemo.EntryID)
		fmt.Fprintf(stdout, "  key id: %s\n  secret: %s   (new on every demo run; shown only here)\n", shareDemo.KeyID, shareDemo.Secret)
		fmt.Fprintf(stdout, "  query the gateway:\n  %s\n", shareDemo.Curl(url))
	}
	return s.Serve(ctx, ln)
}

// generatePassword makes a demo password that meets the password policy.
func generatePassword() string { return auth.GeneratePassword() }
