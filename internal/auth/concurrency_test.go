package auth_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"xiangyun/internal/auth"
	"xiangyun/internal/db/dbtest"
	"xiangyun/internal/errs"
)

// TestConcurrentLockout: 40 wrong passwords at once against a limit of 5
// lock the account, and exactly 5 of them are counted.
func TestConcurrentLockout(t *testing.T) {
	for dialect, dsn := range dbtest.TestDSNs(t) {
		t.Run(string(dialect), func(t *testing.T) {
			ctx := context.Background()
			p := auth.DefaultPolicy
			p.MaxFailures = 5
			p.IPLoginsPerMin = 1000
			f := setup(t, dsn(t), p)
			u, err := f.auth.CreateUser(ctx, auth.UserInput{Username: "zhao.liu", DisplayName: "赵六", BodyID: f.dept.ID, Password: pw})
			if err != nil {
				t.Fatal(err)
			}
			var wg sync.WaitGroup
			var mu sync.Mutex
			got := map[error]int{}
			for i := 0; i < 40; i++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					_, _, err := f.auth.Login(ctx, "zhao.liu", "Wrong-password-99", "10.0.0.1")
					mu.Lock()
					got[err]++
					mu.Unlock()
				}()
			}
			wg.Wait()
			if got[auth.ErrBadCredentials] != 4 || got[auth.ErrLocked] != 36 {
				t.Errorf("outcomes: %d wrong, %d locked, all %v; want 4 and 36", got[auth.ErrBadCredentials], got[auth.ErrLocked], got)
			}
			after, err := f.auth.User(ctx, u.ID)
			if err != nil {
				t.Fatal(err)
			}
			if after.LockedUntil == nil {
				t.Fatal("40 concurrent wrong passwords did not lock the account")
			}
			if n := failedCount(t, f, u.ID); n != 5 {
				t.Errorf("failure count %d, want exactly 5", n)
			}
			if _, _, err := f.auth.Login(ctx, "zhao.liu", pw, "10.0.0.2"); err != auth.ErrLocked {
				t.Fatalf("the right password during lock-out: %v", err)
			}
		})
	}
}

// TestConcurrentGrants: the 三员 roles granted to one user at the same time:
// exactly one grant succeeds.
func TestConcurrentGrants(t *testing.T) {
	for dialect, dsn := range dbtest.TestDSNs(t) {
		t.Run(string(dialect), func(t *testing.T) {
			ctx := context.Background()
			f := setup(t, dsn(t), auth.DefaultPolicy)
			sec, err := f.auth.CreateUser(ctx, auth.UserInput{Username: "sec", DisplayName: "安全员", BodyID: f.bureau.ID, Password: pw})
			if err != nil {
				t.Fatal(err)
			}
			if err := f.auth.GrantRole(ctx, 0, sec.ID, auth.RoleSecurityOfficer, f.bureau.ID); err != nil {
				t.Fatal(err)
			}
			for i := 0; i < 8; i++ {
				u, err := f.auth.CreateUser(ctx, auth.UserInput{Username: "target" + string(rune('a'+i)), DisplayName: "目标", BodyID: f.bureau.ID, Password: pw})
				if err != nil {
					t.Fatal(err)
				}
				var wg sync.WaitGroup
				errsOut := make([]error, 3)
				for j, r := range []auth.Role{auth.RoleAdmin, auth.RoleAuditor, auth.RoleSecurityOfficer} {
					wg.Add(1)
					go func() {
						defer wg.Done()
						errsOut[j] = f.auth.GrantRole(ctx, sec.ID, u.ID, r, f.bureau.ID)
					}()
				}
				wg.Wait()
				ok := 0
				for _, err := range errsOut {
					if err == nil {
						ok++
					} else if errs.KindOf(err) != errs.KindConflict {
						t.Fatalf("grant: %v", err)
					}
				}
				got, _ := f.auth.User(ctx, u.ID)
				if ok != 1 || len(got.Roles) != 1 {
					t.Fatalf("concurrent grants of conflicting roles: %d succeeded, user holds %+v", ok, got.Roles)
				}
			}
		})
	}
}

func failedCount(t *testing.T, f fixture, id int64) int {
	t.Helper()
	var n int
	if err := f.store.R.QueryRow(`SELECT failed_count FROM users WHERE id=$1`, id).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestThrottleAcrossNodes: the per-address limit holds for the
// installation, not per node: two services on one database share it.
func TestThrottleAcrossNodes(t *testing.T) {
	for dialect, dsn := range dbtest.TestDSNs(t) {
		t.Run(string(dialect), func(t *testing.T) {
			ctx := context.Background()
			p := auth.DefaultPolicy
			p.IPLoginsPerMin = 4
			f := setup(t, dsn(t), p)
			node2, err := auth.Open(ctx, f.store, f.orgs, p)
			if err != nil {
				t.Fatal(err)
			}
			nodes := []*auth.Service{f.auth, node2}
			for i := 0; i < 4; i++ {
				if _, _, err := nodes[i%2].Login(ctx, "nobody", "x", "10.9.9.9"); err != auth.ErrBadCredentials {
					t.Fatalf("attempt %d: %v", i+1, err)
				}
			}
			for _, n := range nodes {
				if _, _, err := n.Login(ctx, "nobody", "x", "10.9.9.9"); err != auth.ErrThrottled {
					t.Fatalf("fifth attempt from one address across two nodes: %v", err)
				}
			}
			if _, _, err := node2.Login(ctx, "nobody", "x", "10.9.9.8"); err != auth.ErrBadCredentials {
				t.Fatalf("other address throttled: %v", err)
			}
			// One IPv6 /64 is one address for the throttle.
			for i := 0; i < 4; i++ {
				_, _, _ = f.auth.Login(ctx, "nobody", "x", "2001:db8:1:2::"+string(rune('a'+i)))
			}
			if _, _, err := node2.Login(ctx, "nobody", "x", "2001:db8:1:2::ffff"); err != auth.ErrThrottled {
				t.Fatalf("IPv6 /64 not throttled as one: %v", err)
			}
			// The next minute starts afresh.
			f.clock.Add(time.Minute)
			if _, _, err := node2.Login(ctx, "nobody", "x", "10.9.9.9"); err != auth.ErrBadCredentials {
				t.Fatalf("a minute later: %v", err)
			}
		})
	}
}

// TestLockoutExpires: a lock ends after LockFor, and the count starts again.
func TestLockoutExpires(t *testing.T) {
	for dialect, dsn := range dbtest.TestDSNs(t) {
		t.Run(string(dialect), func(t *testing.T) {
			ctx := context.Background()
			p := auth.DefaultPolicy
			p.MaxFailures, p.IPLoginsPerMin = 2, 1000
			f := setup(t, dsn(t), p)
			if _, err := f.auth.CreateUser(ctx, auth.UserInput{Username: "sun.qi", DisplayName: "孙七", BodyID: f.dept.ID, Password: pw}); err != nil {
				t.Fatal(err)
			}
			want := []error{auth.ErrBadCredentials, auth.ErrLocked, auth.ErrLocked}
			for i, w := range want {
				if _, _, err := f.auth.Login(ctx, "sun.qi", "Wrong-password-99", "10.0.0.1"); err != w {
					t.Fatalf("failure %d: %v, want %v", i+1, err, w)
				}
			}
			f.clock.Add(p.LockFor - time.Second)
			if _, _, err := f.auth.Login(ctx, "sun.qi", pw, "10.0.0.1"); err != auth.ErrLocked {
				t.Fatalf("right password a second before the lock ends: %v", err)
			}
			f.clock.Add(time.Second)
			if _, _, err := f.auth.Login(ctx, "sun.qi", "Wrong-password-99", "10.0.0.1"); err != auth.ErrBadCredentials {
				t.Fatalf("first failure after the lock: %v", err)
			}
			if _, _, err := f.auth.Login(ctx, "sun.qi", pw, "10.0.0.1"); err != nil {
				t.Fatalf("right password after the lock: %v", err)
			}
		})
	}
}
