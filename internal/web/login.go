package web

import (
	"net/http"
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
		c.render(w, r, status, "login", pg)
		return
	}
	ck := c.Cookie(tok)
	http.SetCookie(w, &ck)
	next := f.V("next")
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") {
		next = "/"
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
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
	next := r.URL.Query().Get("next")
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") {
		next = "/"
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}
