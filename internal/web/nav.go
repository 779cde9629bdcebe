package web

import "xiangyun/internal/auth"

// NavItem is one link in the left navigation.
type NavItem struct {
	Key, Href, Label string
}

// NavGroup is a work area of the navigation.
type NavGroup struct {
	Title string
	Items []NavItem
}

type navDef struct {
	key, href, zh, en string
	perm              auth.Permission
}

// navGroups follows UI.md; an item shows only when the viewer may use it.
var navGroups = []struct {
	zh, en string
	items  []navDef
}{
	{"工作台", "Workbench", []navDef{{"home", "/", "工作台", "Home", auth.PermDashboard}}},
	{"目录管理", "Catalog", []navDef{
		{"catalog", "/catalog", "资源目录", "Catalog", auth.PermCatalogRead},
		{"catalog-mine", "/catalog/mine", "本单位目录", "My body's entries", auth.PermCatalogEdit},
		{"catalog-review", "/catalog/review", "目录审核", "Review queue", auth.PermCatalogReview},
		{"catalog-lists", "/catalog/lists", "三张清单", "Lists", auth.PermCatalogRead},
		{"catalog-import", "/catalog/import", "批量导入", "Import", auth.PermCatalogEdit},
		{"catalog-stats", "/catalog/stats", "目录统计", "Statistics", auth.PermCatalogRead},
		{"catalog-base", "/catalog/base", "基础库", "Base libraries", auth.PermCatalogRead},
	}},
	{"数据治理", "Data quality", []navDef{
		{"quality", "/quality", "数据质量", "Quality scores", auth.PermQualityRead},
		{"quality-incidents", "/quality/incidents", "质量事件", "Incidents", auth.PermQualityRead},
		{"quality-overdue", "/quality/overdue", "逾期未更新", "Overdue data", auth.PermQualityRead},
		{"quality-one-source", "/quality/one-source", "一数一源", "One datum, one source", auth.PermCatalogReview},
		{"quality-compare", "/quality/compare", "多源校核", "Multi-source check", auth.PermCatalogReview},
	}},
	{"数据共享", "Sharing", []navDef{
		{"share-apps", "/share/apps", "应用管理", "Applications", auth.PermShareRead},
		{"share-requests", "/share/requests", "我的申请", "My requests", auth.PermShareRead},
		{"share-review", "/share/review", "待我审核", "To answer", auth.PermShareApprove},
		{"share-grants", "/share/grants", "共享授权", "Grants", auth.PermShareRead},
		{"share-scenarios", "/share/scenarios", "应用场景", "Scenarios", auth.PermShareRead},
		{"share-services", "/share/services", "服务接口", "Services", auth.PermShareRead},
		{"share-stats", "/share/stats", "调用统计", "Call statistics", auth.PermShareStats},
		{"share-usage", "/share/usage", "数据使用情况", "Data usage", auth.PermShareStats},
	}},
	{"系统管理", "Administration", []navDef{
		{"orgs", "/orgs", "机构管理", "Bodies", auth.PermOrgRead},
		{"users", "/users", "用户与角色", "Users & roles", auth.PermUserRead},
	}},
	{"安全审计", "Audit", []navDef{{"audit", "/audit", "审计日志", "Audit log", auth.PermAuditRead}}},
	{"个人中心", "Account", []navDef{{"profile", "/profile", "个人资料与令牌", "Profile & tokens", auth.PermSignedIn}}},
}

func navFor(pg *Page) []NavGroup {
	if pg.P == nil {
		return nil
	}
	var out []NavGroup
	for _, g := range navGroups {
		ng := NavGroup{Title: pg.T(g.zh, g.en)}
		for _, it := range g.items {
			if pg.P.Has(it.perm) {
				ng.Items = append(ng.Items, NavItem{Key: it.key, Href: it.href, Label: pg.T(it.zh, it.en)})
			}
		}
		if len(ng.Items) > 0 {
			out = append(out, ng)
		}
	}
	return out
}
