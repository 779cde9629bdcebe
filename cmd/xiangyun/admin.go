package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"xiangyun/internal/audit"
	"xiangyun/internal/auth"
	"xiangyun/internal/db"
	"xiangyun/internal/server"
)

func redactDSN(dsn string) string { return db.Redact(dsn) }

func cmdMigrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c common
	c.flags(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	s, err := server.Open(ctx, c.cfg, c.logger(stderr))
	if err != nil {
		return err
	}
	s.Close()
	fmt.Fprintln(stdout, "migrations applied:", redactDSN(s.Config.DB))
	return nil
}

// readPassword reads one line from stdin: passwords never come from flags,
// where they would show in the process list and shell history.
func readPassword(stdin io.Reader, stdout io.Writer) (string, error) {
	fmt.Fprint(stdout, "password (read from standard input): ")
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", err
	}
	fmt.Fprintln(stdout)
	pw := strings.TrimRight(line, "\r\n")
	if pw == "" {
		return "", errors.New("no password on standard input")
	}
	return pw, nil
}

func cmdUser(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errors.New("usage: xiangyun user create|passwd|disable --username U …")
	}
	sub := args[0]
	fs := flag.NewFlagSet("user "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c common
	c.flags(fs)
	username := fs.String("username", "", "username")
	name := fs.String("name", "", "display name (create)")
	bodyID := fs.Int64("body-id", 0, "body id (create)")
	role := fs.String("role", "", "role to grant at the body (create): admin, security, auditor, reviewer, cdo, specialist")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *username == "" {
		return errors.New("--username is required")
	}
	s, err := server.Open(ctx, c.cfg, c.logger(stderr))
	if err != nil {
		return err
	}
	defer s.Close()
	record := func(action, object string, err error) {
		e := audit.Entry{Action: action, Actor: "system", Object: object, Outcome: audit.OutcomeSuccess, Detail: map[string]string{"via": "cli", "username": *username}}
		if err != nil {
			e.Outcome = audit.OutcomeFailure
		}
		_, _ = s.Audit.Append(ctx, e)
	}
	switch sub {
	case "create":
		pw, err := readPassword(stdin, stdout)
		if err != nil {
			return err
		}
		u, err := s.Auth.CreateUser(ctx, auth.UserInput{Username: *username, DisplayName: *name, BodyID: *bodyID, Password: pw})
		record("auth.user.create", fmt.Sprintf("user:%d", u.ID), err)
		if err != nil {
			return err
		}
		if *role != "" {
			err = s.Auth.GrantRole(ctx, 0, u.ID, auth.Role(*role), *bodyID)
			record("auth.role.grant", fmt.Sprintf("user:%d", u.ID), err)
			if err != nil {
				return err
			}
		}
		fmt.Fprintf(stdout, "created user %s (id %d)\n", u.Username, u.ID)
	case "passwd":
		u, err := s.Auth.UserByName(ctx, *username)
		if err != nil {
			return err
		}
		pw, err := readPassword(stdin, stdout)
		if err != nil {
			return err
		}
		err = s.Auth.SetPassword(ctx, 0, u.ID, pw)
		record("auth.user.password_reset", fmt.Sprintf("user:%d", u.ID), err)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "password set for %s; their sessions have ended\n", u.Username)
	case "disable":
		u, err := s.Auth.UserByName(ctx, *username)
		if err != nil {
			return err
		}
		_, err = s.Auth.SetDisabled(ctx, 0, u.ID, true)
		record("auth.user.disable", fmt.Sprintf("user:%d", u.ID), err)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "disabled %s\n", u.Username)
	default:
		return fmt.Errorf("unknown user command %q", sub)
	}
	return nil
}

func cmdAudit(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "verify" {
		return errors.New("usage: xiangyun audit verify [--db …]")
	}
	fs := flag.NewFlagSet("audit verify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c common
	c.flags(fs)
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	c.cfg.Defaults()
	store, err := db.Open(ctx, c.cfg.DB, "audit")
	if err != nil {
		return err
	}
	defer store.Close()
	key, err := audit.LoadOrCreateKey(c.cfg.AuditKeyFile, "xiangyun-audit")
	if err != nil {
		return err
	}
	l, err := audit.Open(ctx, store, audit.Key{Verifier: key.Verifier})
	if err != nil {
		return err
	}
	rep, err := l.Verify(ctx)
	if err != nil {
		return err
	}
	if rep.OK {
		fmt.Fprintf(stdout, "audit log OK: %d records verified; signed tree head valid\n", rep.Checked)
		return nil
	}
	fmt.Fprintf(stdout, "audit log FAILED verification: %d records in the signed head, %d checked\n", rep.Size, rep.Checked)
	if rep.First != nil {
		fmt.Fprintf(stdout, "first problem at record %d: %s — %s\n", rep.First.Seq, rep.First.Kind, rep.First.Message)
	}
	return errors.New("audit log verification failed")
}

func cmdIndex(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "rebuild" {
		return errors.New("usage: xiangyun index rebuild [--db …]")
	}
	fs := flag.NewFlagSet("index rebuild", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c common
	c.flags(fs)
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	s, err := server.Open(ctx, c.cfg, c.logger(stderr))
	if err != nil {
		return err
	}
	defer s.Close()
	last := -1
	err = s.Catalog.RebuildIndex(ctx, func(done, total int) {
		if pct := done * 100 / max(total, 1); pct/10 != last/10 || done == total {
			last = pct
			fmt.Fprintf(stdout, "\rindexed %d / %d (%d%%)", done, total, pct)
		}
	})
	fmt.Fprintln(stdout)
	if err == nil {
		_, _ = s.Audit.Append(ctx, audit.Entry{Action: "catalog.index.rebuild", Actor: "system", Detail: map[string]string{"via": "cli"}})
	}
	return err
}
