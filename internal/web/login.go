package web

import (
	"net/http"
	"net/url"
	"strings"

	"xiangyun/internal/errs"
	"xiangyun/internal/httpx"
)

func (c *Console) loginForm(w http.ResponseWriter, r *http.Request) {
	pg := c.page(r, pick(httpx.Lang(r.Context()), "登录", "Sign in"), "")
	pg.Form = &Form{Values: r.URL.Query(), Errors: map[string]string{}}
	c.render(w, r, http.StatusOK, "login", pg)
}

func (c *Console) login(w http.ResponseWriter, r *http.Request) {
	f := newForm(r)
	tok, _, err := c.Login(r.Context(), f.V("username"), f.V("password"))
	if err != nil {
		pg := c.page(r, pick(httpx.Lang(r.Context()), "登录", "Sign in"), "")
		pg.Form = f
		pg.Error = f.fail(err, pg.Lang)
		status := http.StatusUnauthorized
		if errs.KindOf(err) == errs.KindTooMany {
			status = http.StatusTooManyRequests
		}
		// A database outage is not a wrong password: fail() marks the form
		// and render answers 503.
		c.render(w, r, status, "login", pg)
		return
	}
	ck := c.Cookie(tok)
	http.SetCookie(w, &ck)
	http.Redirect(w, r, localPath(f.V("next")), http.StatusSeeOther)
}

func (c *Console) logout(w http.ResponseWriter, r *http.Request) {
	if ck, err := r.Cookie(httpx.SessionCookie); err == nil {
		_ = c.Auth.Logout(r.Context(), ck.Value)
	}
	ck := c.Cookie("")
	http.SetCookie(w, &ck)
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

func (c *Console) lang(w http.ResponseWriter, r *http.Request) {
	l := r.URL.Query().Get("l")
	if l != "en" {
		l = "zh"
	}
	http.SetCookie(w, &http.Cookie{Name: httpx.LangCookie, Value: l, Path: "/", MaxAge: 365 * 24 * 3600, SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, localPath(r.URL.Query().Get("next")), http.StatusSeeOther)
}

// localPath returns next when a browser would read it as a path on this
// site, "/" otherwise. It looks at next as the browser will: the WHATWG URL
// parser drops ASCII tab and newline anywhere and C0 controls and spaces at
// both ends, so "/\t/evil.example" is "//evil.example" (another host) by
// the time the browser follows it. A backslash counts as a slash in http(s)
// URLs, so none is accepted.
func localPath(next string) string {
	next = strings.Map(func(r rune) rune {
		if r == '\t' || r == '\n' || r == '\r' {
			return -1
		}
		return r
	}, next)
	next = strings.TrimFunc(next, func(r rune) bool { return r <= ' ' })
	if len(next) == 0 || next[0] != '/' || (len(next) > 1 && next[1] == '/') || strings.ContainsRune(next, '\\') {
		return "/"
	}
	for _, r := range next {
		if r < ' ' || r == 0x7f {
			return "/"
		}
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" || !strings.HasPrefix(u.Path, "/") {
		return "/"
	}
	return next
}
