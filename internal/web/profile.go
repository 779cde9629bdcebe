package web

import (
	"net/http"
	"strconv"
	"time"

	"xiangyun/internal/auth"
	"xiangyun/internal/httpx"
)

type profileData struct {
	Tokens       []auth.Token
	NewToken     string
	PasswordHelp string // the password policy, beside the new-password field
}

// passwordHelp states the password policy in the page's language.
func passwordHelp(lang string) string {
	return pick(lang, auth.PasswordPolicyZH, auth.PasswordPolicyEN)
}

func (c *Console) renderProfile(w http.ResponseWriter, r *http.Request, status int, f *Form, msg, newToken string) {
	pg := c.page(r, pick(pgLang(r), "个人资料与令牌", "Profile & tokens"), "profile")
	toks, err := c.Auth.Tokens(r.Context(), pg.P.User.ID)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	if f == nil {
		f = &Form{Errors: map[string]string{}}
	}
	pg.Form, pg.Error = f, msg
	pg.Data = &profileData{Tokens: toks, NewToken: newToken, PasswordHelp: passwordHelp(pg.Lang)}
	c.render(w, r, status, "profile", pg)
}

func (c *Console) profile(w http.ResponseWriter, r *http.Request) {
	c.renderProfile(w, r, http.StatusOK, nil, "", "")
}

func (c *Console) profilePassword(w http.ResponseWriter, r *http.Request) {
	p := auth.FromContext(r.Context())
	httpx.Note(r.Context(), "user:"+strconv.FormatInt(p.User.ID, 10))
	f := newForm(r)
	if err := c.Auth.ChangeOwnPassword(r.Context(), p.User.ID, f.V("current_password"), f.V("new_password")); err != nil {
		if e := f.fail(err, pgLang(r)); e != "" {
			if msg, ok := f.Errors["password"]; ok {
				f.Errors["new_password"] = msg
			}
			c.renderProfile(w, r, http.StatusUnprocessableEntity, &Form{Errors: f.Errors}, e, "")
		}
		return
	}
	// Changing the password ends every session, this one included.
	ck := c.Cookie("")
	http.SetCookie(w, &ck)
	c.redirect(w, r, "/login", pick(pgLang(r), "密码已修改，所有会话已结束、API 令牌已全部撤销，请重新登录", "Password changed; every session has ended and your API tokens are revoked: please sign in again"))
}

func (c *Console) tokenCreate(w http.ResponseWriter, r *http.Request) {
	p := auth.FromContext(r.Context())
	f := newForm(r)
	days, _ := strconv.Atoi(f.V("expires_days"))
	secret, t, err := c.Auth.CreateToken(r.Context(), p.User.ID, f.V("name"), time.Duration(days)*24*time.Hour)
	if err != nil {
		msg := f.fail(err, pgLang(r))
		c.renderProfile(w, r, http.StatusUnprocessableEntity, f, msg, "")
		return
	}
	httpx.Note(r.Context(), "token:"+strconv.FormatInt(t.ID, 10), "name", t.Name)
	c.renderProfile(w, r, http.StatusOK, nil, "", secret)
}

func (c *Console) tokenRevoke(w http.ResponseWriter, r *http.Request) {
	p := auth.FromContext(r.Context())
	id := pathID(r, "id")
	httpx.Note(r.Context(), "token:"+strconv.FormatInt(id, 10))
	if err := c.Auth.RevokeToken(r.Context(), p.User.ID, id); err != nil {
		c.fail(w, r, err)
		return
	}
	c.redirect(w, r, "/profile", pick(pgLang(r), "令牌已撤销", "Token revoked"))
}
