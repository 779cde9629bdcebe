package auth

import "slices"

// Role is a user's role. Platform roles act across the whole installation;
// body roles act only within the body they are granted at.
type Role string

const (
	RoleAdmin            Role = "admin"      // 平台管理员 (system administrator)
	RoleSecurityOfficer  Role = "security"   // 安全保密管理员
	RoleAuditor          Role = "auditor"    // 安全审计员
	RoleReviewer         Role = "reviewer"   // 审核员 (platform reviewer)
	RoleChiefDataOfficer Role = "cdo"        // 首席数据官
	RoleDataSpecialist   Role = "specialist" // 数据专员
)

// Roles lists every role with its names, in display order.
var Roles = []struct {
	Role     Role
	ZH, EN   string
	Platform bool
}{
	{RoleAdmin, "平台管理员", "Platform administrator", true},
	{RoleSecurityOfficer, "安全保密管理员", "Security officer", true},
	{RoleAuditor, "安全审计员", "Auditor", true},
	{RoleReviewer, "审核员", "Reviewer", true},
	{RoleChiefDataOfficer, "首席数据官", "Chief data officer", false},
	{RoleDataSpecialist, "数据专员", "Data specialist", false},
}

// Valid reports whether r is a known role.
func (r Role) Valid() bool {
	for _, x := range Roles {
		if x.Role == r {
			return true
		}
	}
	return false
}

// Platform reports whether r acts across the whole installation.
func (r Role) Platform() bool {
	for _, x := range Roles {
		if x.Role == r {
			return x.Platform
		}
	}
	return false
}

// Name returns the role's name in lang.
func (r Role) Name(lang string) string {
	for _, x := range Roles {
		if x.Role == r {
			if lang == "en" {
				return x.EN
			}
			return x.ZH
		}
	}
	return string(r)
}

// threeRoles are the 三员 that one person may not combine (三员分立).
var threeRoles = []Role{RoleAdmin, RoleSecurityOfficer, RoleAuditor}

// Permission names one thing a route or action needs. Every HTTP route
// declares exactly one; the route table test proves the role matrix.
type Permission string

const (
	PermPublic   Permission = "public"    // anyone, signed in or not
	PermSignedIn Permission = "signed_in" // any signed-in user: own profile and tokens

	PermOrgRead   Permission = "org.read"
	PermOrgWrite  Permission = "org.write"
	PermUserRead  Permission = "user.read"
	PermUserWrite Permission = "user.write" // create, disable, reset password
	PermRoleGrant Permission = "role.grant" // grant and revoke roles
	PermAuditRead Permission = "audit.read" // browse, filter, export, verify the audit log
	PermDashboard Permission = "dashboard"  // the console home
	PermSettings  Permission = "settings"   // platform settings and calendar

	PermCatalogRead   Permission = "catalog.read"
	PermCatalogEdit   Permission = "catalog.edit"   // draft and edit entries of one's own body
	PermCatalogSubmit Permission = "catalog.submit" // submit for review, withdraw, deprecate (own body)
	PermCatalogReview Permission = "catalog.review" // publish or return submitted entries
	PermCatalogLists  Permission = "catalog.lists"  // manage responsibility and negative lists, rebuild the index
	PermCatalogDemand Permission = "catalog.demand" // post demands (需求清单)

	// Quality: read scores, rules, incidents and overdue lists (platform
	// roles everywhere, body roles for their own body); manage an entry's
	// rules and its incidents (the providing body: 谁采集、谁负责).
	PermQualityRead   Permission = "quality.read"
	PermQualityManage Permission = "quality.manage"

	PermDataUpload Permission = "data.upload" // upload and push records of one's own body's entries
	PermDataRead   Permission = "data.read"   // read records and batches (own body's; masked for the platform)

	// Sharing (共享): the domain decides whose step or object it is.
	PermShareRead    Permission = "share.read"    // applications, requests and grants one is party to; reviewers all
	PermShareApply   Permission = "share.apply"   // a consuming body's applications, credentials and requests
	PermShareApprove Permission = "share.approve" // answer a review step (approve, ask for more, refuse), revoke grants
	PermShareReview  Permission = "share.review"  // the platform step and application scenarios (应用场景)
	PermShareService Permission = "share.service" // register the providing body's HTTP services (服务接口)
	// PermShareStats reads gateway call statistics (调用统计): platform reviewers all of them; a chief data officer
	// those of the own body as consumer and as provider (数据使用情况).
	PermShareStats Permission = "share.stats"
)

// grants is the role → permission table: least privilege, 三员分立.
var grants = map[Role][]Permission{
	RoleAdmin: {PermDashboard, PermOrgRead, PermOrgWrite, PermUserRead, PermUserWrite, PermSettings,
		PermCatalogRead, PermCatalogLists, PermQualityRead, PermDataRead},
	RoleSecurityOfficer: {PermDashboard, PermOrgRead, PermUserRead, PermRoleGrant},
	RoleAuditor:         {PermDashboard, PermAuditRead},
	RoleReviewer: {PermDashboard, PermOrgRead, PermCatalogRead, PermCatalogReview, PermCatalogLists,
		PermCatalogDemand, PermQualityRead, PermDataRead, PermShareRead, PermShareApprove, PermShareReview, PermShareStats},
	RoleChiefDataOfficer: {PermDashboard, PermOrgRead, PermCatalogRead, PermCatalogEdit, PermCatalogSubmit,
		PermCatalogDemand, PermQualityRead, PermQualityManage, PermDataUpload, PermDataRead,
		PermShareRead, PermShareApply, PermShareApprove, PermShareService, PermShareStats},
	RoleDataSpecialist: {PermDashboard, PermOrgRead, PermCatalogRead, PermCatalogEdit, PermQualityRead, PermQualityManage,
		PermDataUpload, PermDataRead, PermShareRead},
}

// RoleHas reports whether role r carries permission p.
func RoleHas(r Role, p Permission) bool {
	if p == PermPublic || p == PermSignedIn {
		return true
	}
	return slices.Contains(grants[r], p)
}

// Permissions lists every permission a role carries.
func (r Role) Permissions() []Permission { return slices.Clone(grants[r]) }
