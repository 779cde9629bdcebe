package web

import (
	"net/http"
	"strconv"

	"xiangyun/internal/auth"
	"xiangyun/internal/errs"
	"xiangyun/internal/httpx"
	"xiangyun/internal/org"
)

type roleOpt struct {
	Code, Label string
	Platform    bool
}

func roleOpts(pg *Page) []roleOpt {
	var out []roleOpt
	for _, r := range auth.Roles {
		out = append(out, roleOpt{string(r.Role), pg.T(r.ZH, r.EN), r.Platform})
	}
	return out
}

type usersData struct {
	Users        []auth.User
	Pager        Pager
	Roles        []roleOpt
	Bodies       []org.Body
	User         *auth.User
	PasswordHelp string // the password policy, beside password fields
	MayChange    bool   // the viewer may change User's account (三员分立)
	MayGrant     bool   // and grant or revoke its roles
}

func (c *Console) users(w http.ResponseWriter, r *http.Request) {
	pg := c.page(r, pick(pgLang(r), "用户与角色", "Users & roles"), "users")
	q := r.URL.Query()
	pager := pagerOf(r, 20)
	body, _ := strconv.ParseInt(q.Get("body_id"), 10, 64)
	users, total, err := c.Auth.Users(r.Context(), auth.UserFilter{Q: q.Get("q"), Role: auth.Role(q.Get("role")), BodyID: body, Offset: pager.Offset(), Limit: pager.PageSize})
	if err != nil {
		c.fail(w, r, err)
		return
	}
	pager.Total = total
	bodies, _, err := c.Orgs.Bodies(r.Context(), org.BodyFilter{})
	if err != nil {
		c.fail(w, r, err)
		return
	}
	pg.Data = &usersData{Users: users, Pager: pager, Roles: roleOpts(pg), Bodies: bodies}
	c.render(w, r, http.StatusOK, "users", pg)
}

func (c *Console) userFormData(r *http.Request, pg *Page, u *auth.User) (*usersData, error) {
	bodies, _, err := c.Orgs.Bodies(r.Context(), org.BodyFilter{})
	d := &usersData{Bodies: bodies, Roles: roleOpts(pg), User: u, PasswordHelp: passwordHelp(pg.Lang)}
	if u != nil {
		d.MayChange = pg.P.MayChange(*u)
		d.MayGrant = d.MayChange && pg.P.Has(auth.PermRoleGrant) && pg.P.User.ID != u.ID
	}
	return d, err
}

func (c *Console) userNewForm(w http.ResponseWriter, r *http.Request) {
	pg := c.page(r, pick(pgLang(r), "新建用户", "New user"), "users")
	pg.Form = &Form{Values: r.URL.Query(), Errors: map[string]string{}}
	d, err := c.userFormData(r, pg, nil)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	pg.Data = d
	c.render(w, r, http.StatusOK, "user_form", pg)
}

func (c *Console) userCreate(w http.ResponseWriter, r *http.Request) {
	f := newForm(r)
	in := auth.UserInput{Username: f.V("username"), DisplayName: f.V("display_name"), BodyID: formInt(r, "body_id"), Email: f.V("email"), Phone: f.V("phone"), Password: f.V("password")}
	u, err := c.Auth.CreateUser(r.Context(), in)
	if err != nil {
		pg := c.page(r, pick(pgLang(r), "新建用户", "New user"), "users")
		f.Values.Del("password")
		pg.Form = f
		pg.Error = f.fail(err, pg.Lang)
		pg.Data, _ = c.userFormData(r, pg, nil)
		c.render(w, r, http.StatusUnprocessableEntity, "user_form", pg)
		return
	}
	httpx.Note(r.Context(), "user:"+strconv.FormatInt(u.ID, 10), "username", u.Username)
	c.redirect(w, r, "/users/"+strconv.FormatInt(u.ID, 10), pick(pgLang(r), "已创建用户："+u.Username, "User created: "+u.Username))
}

func (c *Console) userDetail(w http.ResponseWriter, r *http.Request) {
	u, err := c.Auth.User(r.Context(), pathID(r, "id"))
	if err != nil {
		c.fail(w, r, err)
		return
	}
	c.renderUser(w, r, http.StatusOK, &u, &Form{Values: map[string][]string{"body_id": {strconv.FormatInt(u.BodyID, 10)}}, Errors: map[string]string{}}, "")
}

func (c *Console) renderUser(w http.ResponseWriter, r *http.Request, status int, u *auth.User, f *Form, msg string) {
	pg := c.page(r, u.DisplayName+" ("+u.Username+")", "users")
	pg.Form, pg.Error = f, msg
	d, err := c.userFormData(r, pg, u)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	pg.Data = d
	c.render(w, r, status, "user_detail", pg)
}

// userAction runs one change on a user and shows the result on the user page.
func (c *Console) userAction(w http.ResponseWriter, r *http.Request, done string, fn func(id int64, f *Form) error) {
	id := pathID(r, "id")
	httpx.Note(r.Context(), "user:"+strconv.FormatInt(id, 10))
	f := newForm(r)
	if err := fn(id, f); err != nil {
		if errs.KindOf(err) == errs.KindUnavailable {
			c.fail(w, r, err)
			return
		}
		u, gerr := c.Auth.User(r.Context(), id)
		if gerr != nil {
			c.fail(w, r, gerr)
			return
		}
		f.Values.Del("password")
		status := http.StatusUnprocessableEntity
		switch errs.KindOf(err) {
		case errs.KindForbidden: // e.g. 三员分立: another's account
			status = http.StatusForbidden
		case errs.KindConflict:
			status = http.StatusConflict
		}
		c.renderUser(w, r, status, &u, f, f.fail(err, pgLang(r)))
		return
	}
	c.redirect(w, r, "/users/"+strconv.FormatInt(id, 10), done)
}

func (c *Console) userDisable(w http.ResponseWriter, r *http.Request) {
	c.userAction(w, r, pick(pgLang(r), "已更新账号状态", "Account status updated"), func(id int64, f *Form) error {
		httpx.Note(r.Context(), "", "disabled", f.V("disabled"))
		_, err := c.Auth.SetDisabled(r.Context(), auth.FromContext(r.Context()).User.ID, id, f.V("disabled") == "true")
		return err
	})
}

func (c *Console) userPassword(w http.ResponseWriter, r *http.Request) {
	c.userAction(w, r, pick(pgLang(r), "已重置密码，该用户的会话已全部结束、API 令牌已全部撤销", "Password reset; the user's sessions have ended and their API tokens are revoked"), func(id int64, f *Form) error {
		return c.Auth.SetPassword(r.Context(), auth.FromContext(r.Context()).User.ID, id, f.V("password"))
	})
}

func (c *Console) userGrant(w http.ResponseWriter, r *http.Request) {
	c.userAction(w, r, pick(pgLang(r), "已授予角色", "Role granted"), func(id int64, f *Form) error {
		httpx.Note(r.Context(), "", "role", f.V("role"), "body_id", f.V("body_id"))
		return c.Auth.GrantRole(r.Context(), auth.FromContext(r.Context()).User.ID, id, auth.Role(f.V("role")), formInt(r, "body_id"))
	})
}

func (c *Console) userRevoke(w http.ResponseWriter, r *http.Request) {
	c.userAction(w, r, pick(pgLang(r), "已撤销角色", "Role revoked"), func(id int64, f *Form) error {
		httpx.Note(r.Context(), "", "role", f.V("role"), "body_id", f.V("body_id"))
		return c.Auth.RevokeRole(r.Context(), auth.FromContext(r.Context()).User.ID, id, auth.Role(f.V("role")), formInt(r, "body_id"))
	})
}

func (c *Console) userUnlock(w http.ResponseWriter, r *http.Request) {
	c.userAction(w, r, pick(pgLang(r), "已解除锁定", "Unlocked"), func(id int64, f *Form) error {
		return c.Auth.Unlock(r.Context(), id)
	})
}
