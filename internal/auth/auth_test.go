package auth_test

import (
	"context"
	"testing"
	"time"

	"xiangyun/internal/auth"
	"xiangyun/internal/db/dbtest"
	"xiangyun/internal/errs"
	"xiangyun/internal/org"
)

const pw = "Correct-horse-42"

type fixture struct {
	auth   *auth.Service
	bureau org.Body
	dept   org.Body
}

func setup(t *testing.T, dsn string, policy auth.Policy) fixture {
	t.Helper()
	ctx := context.Background()
	store := dbtest.Open(t, dsn, "control")
	orgs, err := org.Open(ctx, store)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := orgs.CreateRegion(ctx, org.Region{Code: "220000", Name: "吉林省"}); err != nil {
		t.Fatal(err)
	}
	bureau, err := orgs.CreateBody(ctx, org.BodyInput{Name: "吉林省政务服务和数字化建设管理局", CreditCode: "11220000MB1726532F", Kind: org.KindAgency, RegionCode: "220000"})
	if err != nil {
		t.Fatal(err)
	}
	dept, err := orgs.CreateBody(ctx, org.BodyInput{Name: "吉林省公安厅", CreditCode: "91350100M000100Y43", Kind: org.KindAgency, RegionCode: "220000"})
	if err != nil {
		t.Fatal(err)
	}
	a, err := auth.Open(ctx, store, orgs, policy)
	if err != nil {
		t.Fatal(err)
	}
	return fixture{a, bureau, dept}
}

func TestPasswords(t *testing.T) {
	h := auth.HashPassword(pw)
	if !auth.CheckPassword(h, pw) || auth.CheckPassword(h, pw+"x") || auth.CheckPassword("garbage", pw) {
		t.Fatal("argon2id check wrong")
	}
	if h == auth.HashPassword(pw) {
		t.Fatal("hash is not salted")
	}
	for _, bad := range []string{"short1", "alllettersnodigits", "1234567890123", ""} {
		if auth.CheckPasswordPolicy("someone", bad) == nil {
			t.Errorf("weak password %q accepted", bad)
		}
	}
	if auth.CheckPasswordPolicy("abcdefgh12", "abcdefgh12") == nil {
		t.Error("password equal to username accepted")
	}
}

func TestLoginLockoutSessionsTokens(t *testing.T) {
	for dialect, dsn := range dbtest.TestDSNs(t) {
		t.Run(string(dialect), func(t *testing.T) {
			ctx := context.Background()
			p := auth.DefaultPolicy
			p.MaxFailures = 3
			p.IPLoginsPerMin = 1000
			f := setup(t, dsn(t), p)
			u, err := f.auth.CreateUser(ctx, auth.UserInput{Username: "zhang.san", DisplayName: "张三", BodyID: f.dept.ID, Password: pw})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.auth.CreateUser(ctx, auth.UserInput{Username: "zhang.san", DisplayName: "张三", BodyID: f.dept.ID, Password: pw}); errs.KindOf(err) != errs.KindConflict {
				t.Fatalf("duplicate username: %v", err)
			}
			for _, bad := range []auth.UserInput{
				{Username: "Robert'); DROP TABLE users;--", DisplayName: "x", BodyID: f.dept.ID, Password: pw},
				{Username: "lisi", DisplayName: "李\u202E四", BodyID: f.dept.ID, Password: pw},
				{Username: "lisi", DisplayName: "李四", BodyID: 9999, Password: pw},
				{Username: "lisi", DisplayName: "李四", BodyID: f.dept.ID, Password: "weak"},
			} {
				if _, err := f.auth.CreateUser(ctx, bad); errs.KindOf(err) != errs.KindInvalid {
					t.Errorf("bad user %+v: %v", bad, err)
				}
			}
			// Unknown users and wrong passwords look the same.
			if _, _, err := f.auth.Login(ctx, "nobody", pw, "127.0.0.1"); err != auth.ErrBadCredentials {
				t.Fatalf("unknown user: %v", err)
			}
			tok, got, err := f.auth.Login(ctx, "ZHANG.SAN", pw, "127.0.0.1")
			if err != nil || got.ID != u.ID {
				t.Fatalf("login: %v", err)
			}
			pr, err := f.auth.Session(ctx, tok)
			if err != nil || pr.User.Username != "zhang.san" {
				t.Fatalf("session: %v", err)
			}
			if _, err := f.auth.Session(ctx, tok+"x"); err == nil {
				t.Fatal("forged session accepted")
			}
			// Lock-out after MaxFailures wrong passwords, even with the right one after.
			for i := 0; i < 3; i++ {
				_, _, err = f.auth.Login(ctx, "zhang.san", "wrong-password-1", "127.0.0.1")
			}
			if err != auth.ErrLocked {
				t.Fatalf("third failure: %v", err)
			}
			if _, _, err := f.auth.Login(ctx, "zhang.san", pw, "127.0.0.1"); err != auth.ErrLocked {
				t.Fatalf("locked account signed in: %v", err)
			}
			if err := f.auth.Unlock(ctx, u.ID); err != nil {
				t.Fatal(err)
			}
			if _, _, err := f.auth.Login(ctx, "zhang.san", pw, "127.0.0.1"); err != nil {
				t.Fatalf("after unlock: %v", err)
			}
			// Tokens: shown once, stored hashed, revocable, expiring.
			secret, info, err := f.auth.CreateToken(ctx, u.ID, "nightly export", 0)
			if err != nil || len(secret) < 40 || info.Prefix == "" {
				t.Fatalf("token: %q %+v %v", secret, info, err)
			}
			if pr, err := f.auth.TokenPrincipal(ctx, secret); err != nil || pr.User.ID != u.ID {
				t.Fatalf("token auth: %v", err)
			}
			if err := f.auth.RevokeToken(ctx, u.ID, info.ID); err != nil {
				t.Fatal(err)
			}
			if _, err := f.auth.TokenPrincipal(ctx, secret); err == nil {
				t.Fatal("revoked token accepted")
			}
			short, _, err := f.auth.CreateToken(ctx, u.ID, "short", time.Nanosecond)
			if err != nil {
				t.Fatal(err)
			}
			time.Sleep(2 * time.Millisecond)
			if _, err := f.auth.TokenPrincipal(ctx, short); err == nil {
				t.Fatal("expired token accepted")
			}
			// Disabling ends sessions.
			if _, err := f.auth.SetDisabled(ctx, u.ID, true); err != nil {
				t.Fatal(err)
			}
			if _, err := f.auth.Session(ctx, tok); err == nil {
				t.Fatal("session of a disabled user still valid")
			}
			if _, _, err := f.auth.Login(ctx, "zhang.san", pw, "127.0.0.1"); err != auth.ErrDisabled {
				t.Fatalf("disabled login: %v", err)
			}
		})
	}
}

func TestIPThrottle(t *testing.T) {
	p := auth.DefaultPolicy
	p.IPLoginsPerMin = 3
	f := setup(t, "sqlite:"+t.TempDir(), p)
	var err error
	for i := 0; i < 4; i++ {
		_, _, err = f.auth.Login(context.Background(), "nobody", "x", "10.9.9.9")
	}
	if err != auth.ErrThrottled {
		t.Fatalf("fourth attempt from one address: %v", err)
	}
	if _, _, err := f.auth.Login(context.Background(), "nobody", "x", "10.9.9.8"); err != auth.ErrBadCredentials {
		t.Fatalf("other address throttled: %v", err)
	}
}

func TestRolesAndSeparation(t *testing.T) {
	ctx := context.Background()
	f := setup(t, "sqlite:"+t.TempDir(), auth.DefaultPolicy)
	mk := func(name string) auth.User {
		u, err := f.auth.CreateUser(ctx, auth.UserInput{Username: name, DisplayName: name, BodyID: f.dept.ID, Password: pw})
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	sec, admin, cdo := mk("sec"), mk("adm"), mk("cdo")
	if err := f.auth.GrantRole(ctx, 0, admin.ID, auth.RoleAdmin, f.bureau.ID); err != nil {
		t.Fatal(err)
	}
	if err := f.auth.GrantRole(ctx, sec.ID, admin.ID, auth.RoleAuditor, f.bureau.ID); errs.KindOf(err) != errs.KindConflict {
		t.Fatalf("admin made auditor too: %v", err)
	}
	// An auditor holds no other role, in either order.
	aud, spec := mk("aud"), mk("spec")
	if err := f.auth.GrantRole(ctx, sec.ID, aud.ID, auth.RoleAuditor, f.bureau.ID); err != nil {
		t.Fatal(err)
	}
	if err := f.auth.GrantRole(ctx, sec.ID, aud.ID, auth.RoleDataSpecialist, f.dept.ID); errs.KindOf(err) != errs.KindConflict {
		t.Fatalf("auditor made data specialist too: %v", err)
	}
	if err := f.auth.GrantRole(ctx, sec.ID, spec.ID, auth.RoleDataSpecialist, f.dept.ID); err != nil {
		t.Fatal(err)
	}
	if err := f.auth.GrantRole(ctx, sec.ID, spec.ID, auth.RoleAuditor, f.bureau.ID); errs.KindOf(err) != errs.KindConflict {
		t.Fatalf("data specialist made auditor too: %v", err)
	}
	if err := f.auth.GrantRole(ctx, sec.ID, sec.ID, auth.RoleAdmin, f.bureau.ID); errs.KindOf(err) != errs.KindForbidden {
		t.Fatalf("self-grant: %v", err)
	}
	if err := f.auth.GrantRole(ctx, sec.ID, cdo.ID, auth.RoleChiefDataOfficer, f.dept.ID); err != nil {
		t.Fatal(err)
	}
	u, _ := f.auth.User(ctx, cdo.ID)
	p := &auth.Principal{User: u}
	if !p.HasAt(auth.PermCatalogSubmit, f.dept.ID) || p.HasAt(auth.PermCatalogSubmit, f.bureau.ID) {
		t.Fatal("body role scope wrong")
	}
	if p.Has(auth.PermAuditRead) || p.Has(auth.PermOrgWrite) {
		t.Fatal("cdo has platform permissions")
	}
	au, _ := f.auth.User(ctx, admin.ID)
	ap := &auth.Principal{User: au}
	if ap.Has(auth.PermAuditRead) || !ap.Global(auth.PermOrgWrite) {
		t.Fatal("administrator must not read the audit log")
	}
	if err := f.auth.RevokeRole(ctx, sec.ID, cdo.ID, auth.RoleChiefDataOfficer, f.dept.ID); err != nil {
		t.Fatal(err)
	}
	if err := f.auth.RevokeRole(ctx, sec.ID, cdo.ID, auth.RoleChiefDataOfficer, f.dept.ID); errs.KindOf(err) != errs.KindNotFound {
		t.Fatalf("double revoke: %v", err)
	}
}

// TestSessionExpiry: a session ends when left idle, and at the latest
// SessionMax after sign-in however busy it is.
func TestSessionExpiry(t *testing.T) {
	for dialect, dsn := range dbtest.TestDSNs(t) {
		t.Run(string(dialect), func(t *testing.T) {
			ctx := context.Background()
			p := auth.DefaultPolicy
			p.SessionIdle, p.SessionMax = time.Second, 3*time.Second
			f := setup(t, dsn(t), p)
			if _, err := f.auth.CreateUser(ctx, auth.UserInput{Username: "wang.wu", DisplayName: "王五", BodyID: f.dept.ID, Password: pw}); err != nil {
				t.Fatal(err)
			}
			idle, _, err := f.auth.Login(ctx, "wang.wu", pw, "127.0.0.1")
			if err != nil {
				t.Fatal(err)
			}
			busy, _, err := f.auth.Login(ctx, "wang.wu", pw, "127.0.0.1")
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			// Keep one session busy; leave the other alone.
			for time.Since(start) < 2*time.Second {
				if _, err := f.auth.Session(ctx, busy); err != nil {
					t.Fatalf("busy session ended after %v: %v", time.Since(start), err)
				}
				time.Sleep(100 * time.Millisecond)
			}
			if _, err := f.auth.Session(ctx, idle); err == nil {
				t.Fatal("idle session still valid")
			}
			for time.Since(start) < 3200*time.Millisecond {
				_, err = f.auth.Session(ctx, busy)
				time.Sleep(100 * time.Millisecond)
			}
			if _, err := f.auth.Session(ctx, busy); err == nil {
				t.Fatal("session valid past SessionMax")
			}
		})
	}
}
