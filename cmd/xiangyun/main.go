// Command xiangyun is the Xiangyun (祥云) integrated public-data platform:
// one binary with the console, the JSON API and the data plane.
//
//	xiangyun serve    run the platform
//	xiangyun demo     run the platform with demo data (prints address and logins)
//	xiangyun migrate  apply database migrations and exit
//	xiangyun user     create a user, set a password, disable a user
//	xiangyun audit    verify the audit log
//	xiangyun index    rebuild the catalog search index
//	xiangyun version  print the version
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "xiangyun:", err)
		os.Exit(1)
	}
}

const usage = `xiangyun — 祥云 · 一体化公共数据平台 (Xiangyun integrated public-data platform)

Usage:
  xiangyun serve   [flags]          run the platform
  xiangyun demo    [flags]          run it with demo data on the embedded default; prints the address and logins
  xiangyun migrate [flags]          apply database migrations and exit
  xiangyun user create  --username U --name N --body-id ID [--role R]   (password from stdin)
  xiangyun user passwd  --username U                                    (password from stdin)
  xiangyun user disable --username U
  xiangyun audit verify [flags]     check the whole audit log; exit 1 at the first bad record
  xiangyun index rebuild [flags]    rebuild the catalog search index
  xiangyun bench catalog [flags]    catalog search benchmark (see docs/BENCHMARKS.md)
  xiangyun bench gateway [flags]    exchange gateway benchmark (see docs/BENCHMARKS.md)
  xiangyun bench ingest [flags]     aggregation benchmark: CSV ingest and export against raw SQL
  xiangyun version

Common flags (each also as an environment variable):
  --db      XIANGYUN_DB       sqlite:DIR (default: SQLite in --data, else ./xiangyun-data) or postgres://user@host/db
  --addr    XIANGYUN_ADDR     listen address (default 127.0.0.1:8080)
  --data    XIANGYUN_DATA     directory for files: search index, audit key (default: the SQLite directory or ./xiangyun-data)
  --audit-key XIANGYUN_AUDIT_KEY  audit signing key file (default DATA/audit.key)
  --brand   XIANGYUN_BRAND    platform name shown in the console
  --secure-cookies XIANGYUN_SECURE_COOKIES  mark cookies Secure (serve behind TLS)
  --trust-proxy    XIANGYUN_TRUST_PROXY     take client addresses from X-Forwarded-For
  --smtp-url   XIANGYUN_SMTP_URL    SMTP server for notification e-mail: smtp://user:pass@host:port or smtps://… (default: no e-mail)
  --smtp-from  XIANGYUN_SMTP_FROM   sender address of notification e-mail
  --public-url XIANGYUN_PUBLIC_URL  the console's address as users reach it, for links in e-mail
  --log-format XIANGYUN_LOG_FORMAT  text (default) or json
`

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stdout, usage)
		return nil
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "serve":
		return cmdServe(ctx, rest, stdout, stderr, false)
	case "demo":
		return cmdServe(ctx, rest, stdout, stderr, true)
	case "migrate":
		return cmdMigrate(ctx, rest, stdout, stderr)
	case "user":
		return cmdUser(ctx, rest, stdin, stdout, stderr)
	case "audit":
		return cmdAudit(ctx, rest, stdout, stderr)
	case "index":
		return cmdIndex(ctx, rest, stdout, stderr)
	case "bench":
		return cmdBench(ctx, rest, stdout, stderr)
	case "version", "--version", "-v":
		fmt.Fprintln(stdout, "xiangyun", versionString())
		return nil
	case "help", "--help", "-h":
		fmt.Fprint(stdout, usage)
		return nil
	}
	return fmt.Errorf("unknown command %q; run 'xiangyun help'", cmd)
}
