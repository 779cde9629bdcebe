package auth_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"xiangyun/internal/auth"
	"xiangyun/internal/db"
	"xiangyun/internal/db/dbtest"
	"xiangyun/internal/errs"
	"xiangyun/internal/org"
)

const pw = "Correct-horse-42"

type fixture struct {
	store  *db.DB
	auth   *auth.Service
	orgs   *org.Service
	bureau org.Body
	dept   org.Body
	clock  *clock
}

// clock is a store clock that tests move instead of sleeping.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func setup(t *testing.T, dsn string, policy auth.Policy) fixture {
	t.Helper()
	ctx := context.Background()
	store := dbtest.Open(t, dsn, "control")
	clk := &clock{now: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}
	store.Clock = clk.Now
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
	return fixture{store, a, orgs, bureau, dept, clk}
}

func TestPasswords(t *testing.T) {
	h := auth.HashPassword(pw)
	if !auth.CheckPassword(h, pw) || auth.CheckPassword(h, pw+"x") || auth.CheckPassword("garbage", pw) {
		t.Fatal("argon2id check wrong")
	}
	if h == auth.HashPassword(pw) {
		t.Fatal("hash is not salted")
	}
}

// TestPasswordPolicy: each rule refuses with its own code, in both languages.
func TestPasswordPolicy(t *testing.T) {
	for _, c := range []struct{ user, pw, code string }{
		{"someone", "short1", "password.length"},
		{"someone", "Abcdefgh123", "password.length"}, // 11
		{"someone", "", "password.length"},
		{"someone", "alllettersnodigits", "password.classes"},
		{"someone", "123456789012345", "password.classes"},
		{"zhang.san", "zhang.san-2026-ok", "password.username"},
		{"zhang.san", "My-ZHANG.SAN-pass-1", "password.username"},
		{"someone", "woaini1314520", "password.common"},
		{"someone", "Woaini1314!!", "password.common"},
		{"someone", "qwe123456789", "password.common"},
		{"someone", "Password2026!", "password.common"},
		{"someone", "P@ssw0rd12345", "password.common"},
		{"someone", "1qaz2wsx3edc", "password.common"},
		{"someone", "5201314woaini", "password.common"},
		{"someone", "abc123456789", "password.common"},
	} {
		err := auth.CheckPasswordPolicy(c.user, c.pw)
		e, ok := errs.As(err)
		if !ok || len(e.Fields) != 1 || e.Fields[0].Code != c.code || e.Fields[0].ZH == "" || e.Fields[0].EN == "" {
			t.Errorf("%q for %s: %v, want %s", c.pw, c.user, err, c.code)
		}
	}
	for _, good := range []string{pw, "Demo-password-2026", "sKy7-harbour-lantern", "黄河远上白云间一片孤城2026"} {
		if err := auth.CheckPasswordPolicy("zhang.san", good); err != nil {
			t.Errorf("%q refused: %v", good, err)
		}
	}
	for _, common := range []string{"123456", "5201314", "woaini1314", "qwe123", "password"} {
		if !auth.IsCommonPassword(common) {
			t.Errorf("%q is not on the common list", common)
		}
	}
	// Generated passwords (the demo's) pass for every username of five or
	// more characters.
	for i := 0; i < 200; i++ {
		g := auth.GeneratePassword()
		for _, u := range []string{"admin", "secofficer", "auditor", "police_cdo", "cc_spec"} {
			if err := auth.CheckPasswordPolicy(u, g); err != nil {
				t.Fatalf("generated %q for %s: %v", g, u, err)
			}
		}
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
			short, _, err := f.auth.CreateToken(ctx, u.ID, "short", time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.auth.TokenPrincipal(ctx, short); err != nil {
				t.Fatalf("fresh token: %v", err)
			}
			f.clock.Add(time.Hour)
			if _, err := f.auth.TokenPrincipal(ctx, short); err == nil {
				t.Fatal("expired token accepted")
			}
			// Disabling ends sessions.
			if _, err := f.auth.SetDisabled(ctx, 0, u.ID, true); err != nil {
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
// SessionMax after sign-in however busy it is. The store's clock moves; the
// test does not sleep.
func TestSessionExpiry(t *testing.T) {
	for dialect, dsn := range dbtest.TestDSNs(t) {
		t.Run(string(dialect), func(t *testing.T) {
			ctx := context.Background()
			p := auth.DefaultPolicy
			p.SessionIdle, p.SessionMax = 30*time.Minute, 2*time.Hour
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
			// Keep one session busy every 10 minutes for 100 minutes; leave
			// the other alone.
			for i := 1; i <= 10; i++ {
				f.clock.Add(10 * time.Minute)
				if _, err := f.auth.Session(ctx, busy); err != nil {
					t.Fatalf("busy session ended after %d minutes: %v", 10*i, err)
				}
			}
			if _, err := f.auth.Session(ctx, idle); err == nil {
				t.Fatal("idle session still valid after 100 minutes unused")
			}
			f.clock.Add(19 * time.Minute) // 119 minutes: within SessionMax
			if _, err := f.auth.Session(ctx, busy); err != nil {
				t.Fatalf("busy session ended before SessionMax: %v", err)
			}
			f.clock.Add(time.Minute) // 120 minutes
			if _, err := f.auth.Session(ctx, busy); err == nil {
				t.Fatal("session valid at SessionMax")
			}
			// Idle exactly: a session unused for SessionIdle plus a moment ends.
			s2, _, err := f.auth.Login(ctx, "wang.wu", pw, "127.0.0.1")
			if err != nil {
				t.Fatal(err)
			}
			f.clock.Add(30 * time.Minute)
			if _, err := f.auth.Session(ctx, s2); err != nil {
				t.Fatalf("session ended at exactly SessionIdle: %v", err)
			}
			f.clock.Add(30*time.Minute + time.Second)
			if _, err := f.auth.Session(ctx, s2); err == nil {
				t.Fatal("session valid after SessionIdle unused")
			}
		})
	}
}
