package web

import (
	"net/http"

	"xiangyun/internal/auth"
)

// routes lists every console page with its permission and audit action.
func (c *Console) routes() {
	c.route(http.MethodGet, "/login", auth.PermPublic, "console.login", c.loginForm)
	c.route(http.MethodPost, "/login", auth.PermPublic, "session.login", c.login)
	c.route(http.MethodPost, "/logout", auth.PermSignedIn, "session.logout", c.logout)
	c.route(http.MethodGet, "/lang", auth.PermPublic, "console.lang", c.lang)
	c.route(http.MethodGet, "/{$}", auth.PermSignedIn, "console.home", c.home)

	c.route(http.MethodGet, "/orgs", auth.PermOrgRead, "org.body.list", c.orgs)
	c.route(http.MethodGet, "/orgs/new", auth.PermOrgWrite, "org.body.form", c.orgNewForm)
	c.route(http.MethodPost, "/orgs/new", auth.PermOrgWrite, "org.body.create", c.orgCreate)
	c.route(http.MethodGet, "/orgs/{id}", auth.PermOrgRead, "org.body.read", c.orgDetail)
	c.route(http.MethodPost, "/orgs/{id}", auth.PermOrgWrite, "org.body.update", c.orgUpdate)
	c.route(http.MethodPost, "/orgs/{id}/enabled", auth.PermOrgWrite, "org.body.enable", c.orgEnable)

	c.route(http.MethodGet, "/users", auth.PermUserRead, "auth.user.list", c.users)
	c.route(http.MethodGet, "/users/new", auth.PermUserWrite, "auth.user.form", c.userNewForm)
	c.route(http.MethodPost, "/users/new", auth.PermUserWrite, "auth.user.create", c.userCreate)
	c.route(http.MethodGet, "/users/{id}", auth.PermUserRead, "auth.user.read", c.userDetail)
	c.route(http.MethodPost, "/users/{id}/disabled", auth.PermUserWrite, "auth.user.disable", c.userDisable)
	c.route(http.MethodPost, "/users/{id}/password", auth.PermUserWrite, "auth.user.password_reset", c.userPassword)
	c.route(http.MethodPost, "/users/{id}/roles", auth.PermRoleGrant, "auth.role.grant", c.userGrant)
	c.route(http.MethodPost, "/users/{id}/roles/revoke", auth.PermRoleGrant, "auth.role.revoke", c.userRevoke)
	c.route(http.MethodPost, "/users/{id}/unlock", auth.PermRoleGrant, "auth.user.unlock", c.userUnlock)

	c.route(http.MethodGet, "/audit", auth.PermAuditRead, "audit.list", c.auditList)
	c.route(http.MethodGet, "/audit/export", auth.PermAuditRead, "audit.export", c.auditExport)
	c.route(http.MethodGet, "/audit/checkpoint", auth.PermAuditRead, "audit.checkpoint", c.auditCheckpoint)
	c.route(http.MethodPost, "/audit/verify", auth.PermAuditRead, "audit.verify", c.auditVerify)

	c.route(http.MethodGet, "/profile", auth.PermSignedIn, "me.read", c.profile)
	c.route(http.MethodPost, "/profile/password", auth.PermSignedIn, "me.password", c.profilePassword)
	c.route(http.MethodPost, "/profile/tokens", auth.PermSignedIn, "token.create", c.tokenCreate)
	c.route(http.MethodPost, "/profile/tokens/{id}/revoke", auth.PermSignedIn, "token.revoke", c.tokenRevoke)

	c.catalogRoutes()
	c.dataRoutes()
	c.qualityRoutes()
	c.notificationRoutes()
	c.shareRoutes()
	c.shareStatsRoutes()
}
