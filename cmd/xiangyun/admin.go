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
	// Each change writes its audit record's intent in its own transaction
	// (so a crash cannot leave it unrecorded); the final record, with the
	// object and outcome, is delivered after.
	audited := func(action string, fn func(ctx context.Context) (object string, err error)) error {
		return auditedChange(ctx, s, audit.Entry{Action: action, Actor: "system", Detail: map[string]string{"via": "cli", "username": *username}}, fn)
	}
	switch sub {
	case "create":
		pw, err := readPassword(stdin, stdout)
		if err != nil {
			return err
		}
		var u auth.User
		err = audited("auth.user.create", func(ctx context.Context) (string, error) {
			var err error
			u, err = s.Auth.CreateUser(ctx, auth.UserInput{Username: *username, DisplayName: *name, BodyID: *bodyID, Password: pw})
			return fmt.Sprintf("user:%d", u.ID), err
		})
		if err != nil {
			return err
		}
		if *role != "" {
			err = audited("auth.role.grant", func(ctx context.Context) (string, error) {
				return fmt.Sprintf("user:%d", u.ID), s.Auth.GrantRole(ctx, 0, u.ID, auth.Role(*role), *bodyID)
			})
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
		err = audited("auth.user.password_reset", func(ctx context.Context) (string, error) {
			return fmt.Sprintf("user:%d", u.ID), s.Auth.SetPassword(ctx, 0, u.ID, pw)
		})
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "password set for %s; their sessions have ended\n", u.Username)
	case "disable":
		u, err := s.Auth.UserByName(ctx, *username)
		if err != nil {
			return err
		}
		err = audited("auth.user.disable", func(ctx context.Context) (string, error) {
			_, err := s.Auth.SetDisabled(ctx, 0, u.ID, true)
			return fmt.Sprintf("user:%d", u.ID), err
		})
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "disabled %s\n", u.Username)
	default:
		return fmt.Errorf("unknown user command %q", sub)
	}
	return nil
}

// auditedChange runs fn with a context whose first committed write
// transaction also writes e's intent to the outbox, then delivers e with
// the object fn names and the outcome (once; the drainer delivers it if
// this process dies first). A change that committed nothing is recorded as
// a failure.
func auditedChange(ctx context.Context, s *server.Server, e audit.Entry, fn func(ctx context.Context) (string, error)) error {
	var origin string
	hooked := db.WithCommitHook(ctx, func(tx *db.Tx) error {
		if origin != "" {
			return nil
		}
		o, err := audit.Intent(tx, e)
		if err != nil {
			return err
		}
		tx.AfterCommit(func() { origin = o })
		return nil
	})
	object, err := fn(hooked)
	e.Object = object
	if err != nil {
		e.Outcome = audit.OutcomeFailure
	}
	if origin == "" {
		if _, aerr := s.Audit.Append(ctx, e); aerr != nil {
			return errors.Join(err, aerr)
		}
		return err
	}
	return errors.Join(err, s.Audit.Deliver(ctx, origin, e))
}

func cmdAudit(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	const usage = "usage: xiangyun audit verify [--checkpoint FILE] [--db …] | xiangyun audit checkpoint [--db …]"
	if len(args) == 0 || (args[0] != "verify" && args[0] != "checkpoint") {
		return errors.New(usage)
	}
	fs := flag.NewFlagSet("audit "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c common
	c.flags(fs)
	var checkpoints []string
	if args[0] == "verify" {
		fs.Func("checkpoint", "a checkpoint saved earlier (`xiangyun audit checkpoint`) the log must be consistent with; repeatable", func(s string) error {
			checkpoints = append(checkpoints, s)
			return nil
		})
	}
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	c.cfg.Defaults()
	store, err := db.Open(ctx, c.cfg.DB, "audit")
	if err != nil {
		return err
	}
	defer store.Close()
	// Verification never creates a key: a missing key is itself a finding.
	key, err := audit.LoadKey(c.cfg.AuditKeyFile, server.AuditKeyName)
	if err != nil {
		return fmt.Errorf("%w (restore the key file; verification never creates one)", err)
	}
	l, err := audit.Open(ctx, store, audit.Key{Verifier: key.Verifier})
	if err != nil {
		return err
	}
	if args[0] == "checkpoint" {
		msg, err := l.CurrentCheckpoint(ctx)
		if err != nil {
			return err
		}
		if _, err := l.OpenCheckpoint(msg); err != nil {
			return fmt.Errorf("the current tree head does not verify: %w", err)
		}
		_, err = stdout.Write(msg)
		return err
	}
	failed := false
	rep, err := l.Verify(ctx)
	if err != nil {
		return err
	}
	if rep.OK {
		fmt.Fprintf(stdout, "audit log OK: %d records verified; signed tree head valid\n", rep.Checked)
	} else {
		failed = true
		fmt.Fprintf(stdout, "audit log FAILED verification: %d records in the signed head, %d checked\n", rep.Size, rep.Checked)
		if rep.First != nil {
			fmt.Fprintf(stdout, "first problem at record %d: %s — %s\n", rep.First.Seq, rep.First.Kind, rep.First.Message)
		}
	}
	l.SetAnchor(audit.Anchor{File: c.cfg.AuditAnchor})
	if cp, err := l.CheckAnchor(ctx); err != nil {
		failed = true
		fmt.Fprintf(stdout, "anchor FAILED: %v\n", err)
	} else if cp != nil {
		fmt.Fprintf(stdout, "anchor OK: consistent with the checkpoint at size %d in %s\n", cp.Size, c.cfg.AuditAnchor)
	} else {
		fmt.Fprintf(stdout, "anchor: no checkpoint anchored in %s yet\n", c.cfg.AuditAnchor)
	}
	for _, path := range checkpoints {
		if err := checkSavedCheckpoints(ctx, l, path, stdout); err != nil {
			failed = true
			fmt.Fprintf(stdout, "checkpoint %s FAILED: %v\n", path, err)
		}
	}
	if failed {
		return errors.New("audit log verification failed")
	}
	return nil
}

// checkSavedCheckpoints proves the log consistent with every checkpoint in
// the file at path.
func checkSavedCheckpoints(ctx context.Context, l *audit.Log, path string, stdout io.Writer) error {
	cps, err := l.ReadCheckpoints(path)
	if err != nil {
		return err
	}
	if len(cps) == 0 {
		return errors.New("the file holds no checkpoint")
	}
	for _, cp := range cps {
		if err := l.Consistent(ctx, cp); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "checkpoint %s OK: the log extends the checkpoint at size %d\n", path, cp.Size)
	}
	return nil
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
