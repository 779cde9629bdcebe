package web

import (
	"net/http"
	"strconv"

	"xiangyun/internal/auth"
	"xiangyun/internal/share"
)

// Sharing (共享) pages: 应用管理, 申请共享 from an entry's page, 我的申请,
// 待我审核 with working-day deadlines, 共享授权, 应用场景 and 服务接口. The
// share service decides whose application, step or grant it is.
func (c *Console) shareRoutes() {
	if c.Share == nil {
		return
	}
	c.route(http.MethodGet, "/share/apps", auth.PermShareRead, "share.application.list", c.shareApps)
	c.route(http.MethodPost, "/share/apps", auth.PermShareApply, "share.application.create", c.shareAppCreate)
	c.route(http.MethodPost, "/share/apps/{id}/rotate", auth.PermShareApply, "share.application.rotate", c.shareAppRotate)
	c.route(http.MethodPost, "/share/apps/{id}/keys/{key_id}/revoke", auth.PermShareApply, "share.application.key_revoke", c.shareKeyRevoke)
	c.route(http.MethodPost, "/share/apps/{id}/revoke", auth.PermShareApply, "share.application.revoke", c.shareAppRevoke)
	c.route(http.MethodGet, "/share/apply/{entry}", auth.PermShareApply, "share.request.form", c.shareApplyForm)
	c.route(http.MethodPost, "/share/apply/{entry}", auth.PermShareApply, "share.request.create", c.shareApply)
	c.route(http.MethodGet, "/share/requests", auth.PermShareRead, "share.request.list", c.shareRequests)
	c.route(http.MethodGet, "/share/requests/{id}", auth.PermShareRead, "share.request.read", c.shareRequest)
	c.route(http.MethodPost, "/share/requests/{id}/approve", auth.PermShareApprove, "share.request.approve", c.shareDecide("approve"))
	c.route(http.MethodPost, "/share/requests/{id}/ask-more", auth.PermShareApprove, "share.request.ask_more", c.shareDecide("ask-more"))
	c.route(http.MethodPost, "/share/requests/{id}/refuse", auth.PermShareApprove, "share.request.refuse", c.shareDecide("refuse"))
	c.route(http.MethodPost, "/share/requests/{id}/supplement", auth.PermShareApply, "share.request.supplement", c.shareDecide("supplement"))
	c.route(http.MethodGet, "/share/review", auth.PermShareApprove, "share.request.queue", c.shareReview)
	c.route(http.MethodGet, "/share/grants", auth.PermShareRead, "share.grant.list", c.shareGrants)
	c.route(http.MethodPost, "/share/grants/{id}/revoke", auth.PermShareApprove, "share.grant.revoke", c.shareGrantRevoke)
	c.route(http.MethodGet, "/share/scenarios", auth.PermShareRead, "share.scenario.list", c.shareScenarios)
	c.route(http.MethodPost, "/share/scenarios", auth.PermShareReview, "share.scenario.create", c.shareScenarioCreate)
	c.route(http.MethodPost, "/share/scenarios/{id}/delete", auth.PermShareReview, "share.scenario.delete", c.shareScenarioDelete)
	c.route(http.MethodGet, "/share/services", auth.PermShareRead, "share.service.list", c.shareServices)
	c.route(http.MethodPost, "/share/services", auth.PermShareService, "share.service.create", c.shareServiceCreate)
	c.route(http.MethodPost, "/share/services/{id}/delete", auth.PermShareService, "share.service.delete", c.shareServiceDelete)
}

// sv labels sharing terms in the page's language.
type sv struct{ Lang string }

func (v sv) T(zh, en string) string { return pick(v.Lang, zh, en) }

// Status names a request's or grant's status.
func (v sv) Status(s string) string {
	switch s {
	case share.StatusGranted:
		return v.T("已授权", "granted")
	case share.StatusPending:
		return v.T("审核中", "pending")
	case share.StatusRefused:
		return v.T("未通过", "refused")
	case share.GrantActive:
		return v.T("有效", "active")
	case share.GrantExpired:
		return v.T("已到期", "expired")
	case share.GrantRevoked:
		return v.T("已撤销", "revoked")
	case share.GrantSuperseded:
		return v.T("已被取代", "superseded")
	}
	return s
}

// Badge is a status's badge class.
func (v sv) Badge(s string) string {
	switch s {
	case share.StatusGranted, share.GrantActive:
		return "badge-green"
	case share.StatusPending:
		return "badge-amber"
	case share.StatusRefused, share.GrantRevoked:
		return "badge-red"
	}
	return "badge-grey"
}

// Step names a review step.
func (v sv) Step(s string) string {
	switch s {
	case share.StepPlatform:
		return v.T("平台审核", "platform check")
	case share.StepProvider:
		return v.T("提供部门答复", "provider's answer")
	}
	return s
}

// ShareType names a share type with the regulation's word.
func (v sv) ShareType(s string) string {
	switch s {
	case "unconditional":
		return v.T("无条件共享", "unconditional")
	case "conditional":
		return v.T("有条件共享（授权共享）", "conditional (authorised)")
	case "none":
		return v.T("不予共享（非共享）", "not shared")
	}
	return s
}

// Action names a recorded step.
func (v sv) Action(s string) string {
	m := map[string][2]string{
		"submitted": {"提交申请", "submitted"}, "approved": {"审核通过", "passed"}, "asked_more": {"要求补充材料", "asked for more material"},
		"supplemented": {"补充材料", "supplemented"}, "granted": {"授权", "granted"}, "refused": {"不予共享", "refused"},
		"revoked": {"撤销授权", "grant revoked"},
	}
	if x, ok := m[s]; ok {
		return v.T(x[0], x[1])
	}
	return s
}

// Left is the working days left until a request's deadline (0 without one).
func (v sv) Left(r share.Request) int {
	if r.DaysLeft == nil {
		return 0
	}
	return *r.DaysLeft
}

func itoa(v int64) string { return strconv.FormatInt(v, 10) }
