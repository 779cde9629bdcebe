package api

import (
	"context"
	"net/http"
	"time"

	"xiangyun/internal/audit"
	"xiangyun/internal/auth"
	"xiangyun/internal/errs"
	"xiangyun/internal/httpx"
)

type loginIn struct {
	Body struct {
		Username string `json:"username" maxLength:"64"`
		Password string `json:"password" maxLength:"128"`
	}
}

type loginOut struct {
	SetCookie http.Cookie `header:"Set-Cookie"`
	Body      auth.User
}

type logoutIn struct {
	Cookie string `cookie:"xy_session"`
}

type logoutOut struct {
	SetCookie http.Cookie `header:"Set-Cookie"`
}

type meOut struct{ Body auth.User }

type passwordIn struct {
	Body struct {
		Current string `json:"current_password" maxLength:"128"`
		New     string `json:"new_password" maxLength:"128"`
	}
}

// SessionCookie builds the session cookie; used by the console too. maxAge
// is the configured session policy's SessionMax (auth.Service.Policy), so
// the cookie lives no longer than the session it carries.
func SessionCookie(token string, secure bool, maxAge time.Duration) http.Cookie {
	c := http.Cookie{Name: httpx.SessionCookie, Value: token, Path: "/", HttpOnly: true, Secure: secure, SameSite: http.SameSiteLaxMode}
	if token == "" {
		c.MaxAge = -1
	} else {
		c.MaxAge = int(maxAge.Seconds())
	}
	return c
}

func (a *API) sessionRoutes() {
	op(a, http.MethodPost, "/session", "session.login", auth.PermPublic, "Sign in; sets the session cookie",
		func(ctx context.Context, in *loginIn) (*loginOut, error) {
			tok, u, err := a.Login(ctx, in.Body.Username, in.Body.Password)
			if err != nil {
				return nil, err
			}
			return &loginOut{SetCookie: SessionCookie(tok, a.SecureCookie, a.Auth.Policy().SessionMax), Body: u}, nil
		})
	op(a, http.MethodDelete, "/session", "session.logout", auth.PermSignedIn, "Sign out",
		func(ctx context.Context, in *logoutIn) (*logoutOut, error) {
			if in.Cookie != "" {
				if err := a.Auth.Logout(ctx, in.Cookie); err != nil {
					return nil, err
				}
			}
			return &logoutOut{SetCookie: SessionCookie("", a.SecureCookie, 0)}, nil
		})
	op(a, http.MethodGet, "/me", "me.read", auth.PermSignedIn, "The signed-in user with roles",
		func(ctx context.Context, _ *struct{}) (*meOut, error) {
			return &meOut{Body: principal(ctx).User}, nil
		})
	op(a, http.MethodPut, "/me/password", "me.password", auth.PermSignedIn,
		"Change one's own password (ends every session and revokes every API token of the user, the ones in use included)",
		func(ctx context.Context, in *passwordIn) (*logoutOut, error) {
			p := principal(ctx)
			httpx.Note(ctx, "user:"+itoa(p.User.ID))
			if err := a.Auth.ChangeOwnPassword(ctx, p.User.ID, in.Body.Current, in.Body.New); err != nil {
				return nil, err
			}
			return &logoutOut{SetCookie: SessionCookie("", a.SecureCookie, 0)}, nil
		})
}

// Login signs a user in and records the attempt in the audit log, whatever
// its outcome; the console's login form calls it too.
func (a *API) Login(ctx context.Context, username, password string) (string, auth.User, error) {
	// The attempt is recorded here with its outcome, not as the intent of
	// the failure counter's or the session's write.
	ctx = httpx.Unaudited(ctx)
	tok, u, err := a.Auth.Login(ctx, username, password, httpx.ClientIP(ctx))
	e := audit.Entry{Action: "session.login", Actor: truncate(username, 64), ActorID: u.ID, Outcome: audit.OutcomeSuccess}
	if u.ID != 0 {
		e.Actor = u.Username
		e.Object = "user:" + itoa(u.ID)
	}
	if err != nil {
		e.Action, e.Outcome = "session.login_failed", audit.OutcomeFailure
		if x, ok := errs.As(err); ok {
			e.Detail = map[string]string{"reason": x.Code}
		}
	}
	a.Authn.Append(ctx, e)
	httpx.Note(ctx, "") // the wrapper must not record the attempt twice
	skipRecord(ctx)
	return tok, u, err
}

func skipRecord(ctx context.Context) { httpx.Skip(ctx) }

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) > n {
		return string(r[:n])
	}
	return s
}
