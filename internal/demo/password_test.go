package demo

import (
	"context"
	"strings"
	"testing"

	"xiangyun/internal/auth"
)

// TestDemoPasswords: generated demo passwords pass the password policy for
// every demo user, and a weak XIANGYUN_DEMO_PASSWORD is refused before
// anything is loaded, with the rule named.
func TestDemoPasswords(t *testing.T) {
	for i := 0; i < 100; i++ {
		pw := auth.GeneratePassword()
		for _, u := range users {
			if err := auth.CheckPasswordPolicy(u.username, pw); err != nil {
				t.Fatalf("generated %q refused for %s: %v", pw, u.username, err)
			}
		}
	}
	for pw, rule := range map[string]string{"woaini1314520": "common password", "admin-2026-demo": "username", "Short-1": "characters long"} {
		_, err := Load(context.Background(), Services{}, pw)
		if err == nil || !strings.Contains(err.Error(), rule) || !strings.Contains(err.Error(), "XIANGYUN_DEMO_PASSWORD") {
			t.Errorf("demo password %q: %v", pw, err)
		}
	}
}
