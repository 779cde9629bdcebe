package auth_test

import (
	"context"
	"testing"

	"xiangyun/internal/auth"
	"xiangyun/internal/db/dbtest"
	"xiangyun/internal/errs"
)

// TestNoTakeover: none of the 三员 may change another's account or
// credentials, in the domain itself (whatever route calls it); owners,
// holders of the same role and the command line (actor 0) still may.
func TestNoTakeover(t *testing.T) {
	for dialect, dsn := range dbtest.TestDSNs(t) {
		t.Run(string(dialect), func(t *testing.T) {
			ctx := context.Background()
			f := setup(t, dsn(t), auth.DefaultPolicy)
			mk := func(name string, r auth.Role) auth.User {
				u, err := f.auth.CreateUser(ctx, auth.UserInput{Username: name, DisplayName: name, BodyID: f.bureau.ID, Password: pw})
				if err != nil {
					t.Fatal(err)
				}
				if r != "" {
					if err := f.auth.GrantRole(ctx, 0, u.ID, r, f.bureau.ID); err != nil {
						t.Fatal(err)
					}
				}
				return u
			}
			three := map[auth.Role]auth.User{
				auth.RoleAdmin:           mk("admin1", auth.RoleAdmin),
				auth.RoleSecurityOfficer: mk("secofficer1", auth.RoleSecurityOfficer),
				auth.RoleAuditor:         mk("auditor1", auth.RoleAuditor),
			}
			plain := mk("clerk1", auth.RoleDataSpecialist)
			const newPW = "Brand-new-secret-77"
			actions := map[string]func(actor, target auth.User) error{
				"password": func(a, u auth.User) error { return f.auth.SetPassword(ctx, a.ID, u.ID, newPW) },
				"disable": func(a, u auth.User) error {
					_, err := f.auth.SetDisabled(ctx, a.ID, u.ID, true)
					return err
				},
				"enable": func(a, u auth.User) error {
					_, err := f.auth.SetDisabled(ctx, a.ID, u.ID, false)
					return err
				},
				"edit": func(a, u auth.User) error {
					_, err := f.auth.UpdateUser(ctx, a.ID, u.ID, auth.UserInput{DisplayName: "冒名", BodyID: f.bureau.ID, Email: "x@example.com"})
					return err
				},
				"grant": func(a, u auth.User) error {
					return f.auth.GrantRole(ctx, a.ID, u.ID, auth.RoleReviewer, f.dept.ID)
				},
				"revoke": func(a, u auth.User) error {
					return f.auth.RevokeRole(ctx, a.ID, u.ID, u.Roles[0].Role, u.Roles[0].BodyID)
				},
			}
			for ar, actor := range three {
				for tr, target := range three {
					if ar == tr {
						continue
					}
					target, _ = f.auth.User(ctx, target.ID)
					for name, act := range actions {
						err := act(actor, target)
						if name == "grant" && tr == auth.RoleAuditor {
							// Refused earlier: an auditor holds no other role.
							if errs.KindOf(err) != errs.KindConflict {
								t.Errorf("%s %s → %s: %v", name, ar, tr, err)
							}
							continue
						}
						e, ok := errs.As(err)
						if !ok || e.Kind != errs.KindForbidden || e.Code != "role.separation_account" || e.ZH == "" || e.EN == "" {
							t.Errorf("%s granted %s on the %s's account: %v", ar, name, tr, err)
						}
					}
					// Nothing changed: the target still signs in with the old
					// password, holds the role and keeps the name.
					if _, got, err := f.auth.Login(ctx, target.Username, pw, "10.1.1.1"); err != nil || got.DisplayName != target.DisplayName || len(got.Roles) != 1 {
						t.Fatalf("%s's account changed by %s: %v %+v", tr, ar, err, got)
					}
				}
			}
			// A security officer grants roles, but not to itself.
			sec := three[auth.RoleSecurityOfficer]
			if err := f.auth.GrantRole(ctx, sec.ID, sec.ID, auth.RoleReviewer, f.dept.ID); errs.KindOf(err) != errs.KindForbidden {
				t.Errorf("security officer granted itself a role: %v", err)
			}
			// What the roles are for still works on ordinary accounts.
			admin := three[auth.RoleAdmin]
			if err := f.auth.SetPassword(ctx, admin.ID, plain.ID, newPW); err != nil {
				t.Errorf("admin resets a clerk's password: %v", err)
			}
			if _, err := f.auth.SetDisabled(ctx, admin.ID, plain.ID, true); err != nil {
				t.Errorf("admin disables a clerk: %v", err)
			}
			if err := f.auth.GrantRole(ctx, sec.ID, plain.ID, auth.RoleChiefDataOfficer, f.dept.ID); err != nil {
				t.Errorf("security officer grants a clerk a role: %v", err)
			}
			newAdmin := mk("admin2", "")
			if err := f.auth.GrantRole(ctx, sec.ID, newAdmin.ID, auth.RoleAdmin, f.bureau.ID); err != nil {
				t.Errorf("security officer appoints an administrator: %v", err)
			}
			// Another administrator may help an administrator; so may the
			// command line, for any account.
			if err := f.auth.SetPassword(ctx, newAdmin.ID, admin.ID, newPW); err != nil {
				t.Errorf("admin resets another admin's password: %v", err)
			}
			if err := f.auth.SetPassword(ctx, 0, three[auth.RoleAuditor].ID, newPW); err != nil {
				t.Errorf("command line resets the auditor's password: %v", err)
			}
			// Everyone may change their own details.
			if _, err := f.auth.UpdateUser(ctx, sec.ID, sec.ID, auth.UserInput{DisplayName: "安全员", BodyID: f.bureau.ID}); err != nil {
				t.Errorf("own details: %v", err)
			}
		})
	}
}

// TestPasswordResetEndsAccess: a reset or change of password ends every
// session and revokes every API token of the user.
func TestPasswordResetEndsAccess(t *testing.T) {
	for dialect, dsn := range dbtest.TestDSNs(t) {
		t.Run(string(dialect), func(t *testing.T) {
			ctx := context.Background()
			p := auth.DefaultPolicy
			p.IPLoginsPerMin = 1000
			f := setup(t, dsn(t), p)
			u, err := f.auth.CreateUser(ctx, auth.UserInput{Username: "qian.ba", DisplayName: "钱八", BodyID: f.dept.ID, Password: pw})
			if err != nil {
				t.Fatal(err)
			}
			for _, change := range []func(next string) error{
				func(next string) error { return f.auth.SetPassword(ctx, 0, u.ID, next) },
				func(next string) error { return f.auth.ChangeOwnPassword(ctx, u.ID, pw, next) },
			} {
				sess, _, err := f.auth.Login(ctx, "qian.ba", pw, "10.0.0.1")
				if err != nil {
					t.Fatal(err)
				}
				secret, _, err := f.auth.CreateToken(ctx, u.ID, "sync", 0)
				if err != nil {
					t.Fatal(err)
				}
				if err := change("Second-secret-2026"); err != nil {
					t.Fatal(err)
				}
				if _, err := f.auth.Session(ctx, sess); err == nil {
					t.Error("session survived a password change")
				}
				if _, err := f.auth.TokenPrincipal(ctx, secret); err == nil {
					t.Error("API token survived a password change")
				}
				if err := f.auth.SetPassword(ctx, 0, u.ID, pw); err != nil {
					t.Fatal(err)
				}
			}
			if err := f.auth.SetPassword(ctx, 0, u.ID, "qian.ba-2026-pass"); errs.KindOf(err) != errs.KindInvalid {
				t.Errorf("password containing the username: %v", err)
			}
		})
	}
}
