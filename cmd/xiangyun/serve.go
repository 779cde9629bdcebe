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
		if logins, err = demo.Load(ctx, demo.Services{Orgs: s.Orgs, Auth: s.Auth, Catalog: s.Catalog, Audit: s.Audit, Notify: s.Notify, Quality: s.Quality, Control: s.Control, Ingest: s.Ingest, Progress: progress}, pw); err != nil {
			return fmt.Errorf("demo data: %w", err)
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
	return s.Serve(ctx, ln)
}

// generatePassword makes a demo password that meets the password policy.
func generatePassword() string { return auth.GeneratePassword() }
