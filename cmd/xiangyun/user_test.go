package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"testing"

	"xiangyun/internal/audit"
	"xiangyun/internal/auth"
	"xiangyun/internal/org"
	"xiangyun/internal/server"
)

// TestUserCommand runs `xiangyun user create|passwd|disable` as an operator
// would: the password comes from standard input, each change is audited and
// the audit record holds no password.
func TestUserCommand(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	dsn := "sqlite:" + dir
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	s, err := server.Open(ctx, server.Config{DB: dsn}, quiet)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Orgs.CreateRegion(ctx, org.Region{Code: "220000", Name: "吉林省"}); err != nil {
		t.Fatal(err)
	}
	b, err := s.Orgs.CreateBody(ctx, org.BodyInput{Name: "吉林省公安厅", CreditCode: "11220000MB1726532F", Kind: org.KindAgency, RegionCode: "220000"})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()

	const first, second = "First-password-2026", "Second-password-2026"
	cli := func(stdin string, args ...string) (string, error) {
		var out bytes.Buffer
		err := run(ctx, append(args, "--db", dsn), strings.NewReader(stdin), &out, io.Discard)
		return out.String(), err
	}
	if _, err := cli(first+"\n", "user", "create", "--username", "ops.li", "--name", "李运维", "--body-id", strconv.FormatInt(b.ID, 10), "--role", "specialist"); err != nil {
		t.Fatalf("create: %v", err)
	}
	if _, err := cli("", "user", "create", "--username", "ops.wang", "--name", "王", "--body-id", strconv.FormatInt(b.ID, 10)); err == nil {
		t.Fatal("create without a password on stdin succeeded")
	}
	if _, err := cli(first+"\n", "user", "create", "--username", "ops.li", "--name", "重名", "--body-id", strconv.FormatInt(b.ID, 10)); err == nil {
		t.Fatal("a second user with the same name was created")
	}
	login := func(pw string) error {
		s, err := server.Open(ctx, server.Config{DB: dsn}, quiet)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		_, u, err := s.Auth.Login(ctx, "ops.li", pw, "127.0.0.1")
		if err == nil && !slices.ContainsFunc(u.Roles, func(g auth.Grant) bool { return g.Role == auth.RoleDataSpecialist && g.BodyID == b.ID }) {
			t.Error("the role given on the command line was not granted")
		}
		return err
	}
	if err := login(first); err != nil {
		t.Fatalf("login after create: %v", err)
	}
	if _, err := cli(second+"\n", "user", "passwd", "--username", "ops.li"); err != nil {
		t.Fatalf("passwd: %v", err)
	}
	if login(first) == nil || login(second) != nil {
		t.Fatal("passwd did not replace the password")
	}
	if _, err := cli("", "user", "disable", "--username", "ops.li"); err != nil {
		t.Fatalf("disable: %v", err)
	}
	if login(second) == nil {
		t.Fatal("a disabled user signed in")
	}

	s, err = server.Open(ctx, server.Config{DB: dsn}, quiet)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	seen := map[string]int{}
	err = s.Audit.Each(ctx, audit.Filter{}, func(e audit.Entry) error {
		seen[e.Action+"/"+e.Outcome]++
		for _, v := range e.Detail {
			if strings.Contains(v, first) || strings.Contains(v, second) {
				t.Errorf("password in audit record %+v", e)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"auth.user.create/success", "auth.user.create/failure", "auth.role.grant/success", "auth.user.password_reset/success", "auth.user.disable/success"} {
		if seen[want] == 0 {
			t.Errorf("audit lacks %s; has %v", want, seen)
		}
	}
}
