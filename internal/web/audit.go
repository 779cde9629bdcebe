package web

import (
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"

	"xiangyun/internal/api"
	"xiangyun/internal/audit"
	"xiangyun/internal/httpx"
)

type auditData struct {
	Entries []audit.Entry
	Pager   Pager
	Report  *audit.Report
	Size    int64
	// Export links carry the current filter, so the export is what the
	// auditor sees.
	ExportCSV, ExportXLSX string
	Prefixes              []struct{ Code, ZH, EN string }
}

func exportLinks(d *auditData, r *http.Request) {
	q := r.URL.Query()
	q.Del("page")
	q.Set("format", "csv")
	d.ExportCSV = "/audit/export?" + q.Encode()
	q.Set("format", "xlsx")
	d.ExportXLSX = "/audit/export?" + q.Encode()
}

func auditFilter(r *http.Request) audit.Filter {
	q := r.URL.Query()
	f := audit.Filter{Actor: q.Get("actor"), Action: q.Get("action"), Object: q.Get("object"), Outcome: q.Get("outcome"), IP: q.Get("ip"), Q: q.Get("q")}
	// The form sends days (to is the last day shown); links and scripts
	// may send instants (RFC 3339, to exclusive), as the API takes them.
	if t, err := time.ParseInLocation("2006-01-02", q.Get("from"), time.Local); err == nil {
		f.From = t
	} else if t, err := time.Parse(time.RFC3339Nano, q.Get("from")); err == nil {
		f.From = t
	}
	if t, err := time.ParseInLocation("2006-01-02", q.Get("to"), time.Local); err == nil {
		f.To = t.AddDate(0, 0, 1)
	} else if t, err := time.Parse(time.RFC3339Nano, q.Get("to")); err == nil {
		f.To = t
	}
	return f
}

func (c *Console) auditList(w http.ResponseWriter, r *http.Request) {
	pg := c.page(r, pick(pgLang(r), "审计日志", "Audit log"), "audit")
	pager := pagerOf(r, 50)
	f := auditFilter(r)
	f.Offset, f.Limit = pager.Offset(), pager.PageSize
	es, total, err := c.Audit.List(r.Context(), f)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	pager.Total = total
	d := &auditData{Entries: es, Pager: pager, Prefixes: auditPrefixes}
	d.Size, _, _, _ = c.Audit.Head(r.Context())
	exportLinks(d, r)
	pg.Data = d
	c.render(w, r, http.StatusOK, "audit", pg)
}

func (c *Console) auditExport(w http.ResponseWriter, r *http.Request) {
	format := r.URL.Query().Get("format")
	if format != "xlsx" {
		format = "csv"
	}
	c.Authn.Append(r.Context(), audit.Entry{Action: "audit.export", Detail: map[string]string{"format": format}})
	if err := api.ExportAudit(r.Context(), c.Audit, auditFilter(r), format, w); err != nil {
		c.Log.Error("audit export", "request_id", httpx.RequestID(r.Context()), "err", err)
	}
}

// auditCheckpoint downloads the log's current signed checkpoint, for an
// auditor to keep and check later (`xiangyun audit verify --checkpoint`).
func (c *Console) auditCheckpoint(w http.ResponseWriter, r *http.Request) {
	msg, size, err := api.AuditCheckpoint(r.Context(), c.Audit)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	c.Authn.Append(r.Context(), audit.Entry{Action: "audit.checkpoint", Detail: map[string]string{"size": strconv.FormatInt(size, 10)}})
	api.WriteAuditCheckpoint(w, msg, size)
}

// auditActions names the recorded actions for people; the log keeps the
// dotted codes, which the page shows beside the name.
var auditActions = map[string][2]string{
	"session.login": {"登录", "sign in"}, "session.login_failed": {"登录失败", "failed sign-in"}, "session.logout": {"退出登录", "sign out"},
	"me.password": {"修改本人密码", "change own password"}, "token.create": {"生成 API 令牌", "create an API token"}, "token.revoke": {"撤销 API 令牌", "revoke an API token"},
	"org.body.create": {"新建机构", "create a body"}, "org.body.update": {"修改机构", "edit a body"}, "org.body.enable": {"启用或停用机构", "enable or disable a body"},
	"org.region.create": {"新建行政区划", "create a region"},
	"auth.user.create":  {"新建用户", "create a user"}, "auth.user.update": {"修改用户", "edit a user"}, "auth.user.disable": {"启用或停用账号", "enable or disable an account"},
	"auth.user.password_reset": {"重置用户密码", "reset a password"}, "auth.user.unlock": {"解除账号锁定", "unlock an account"},
	"auth.role.grant": {"授予角色", "grant a role"}, "auth.role.revoke": {"撤销角色", "revoke a role"},
	"audit.export": {"导出审计日志", "export the audit log"}, "audit.verify": {"校验审计日志", "verify the audit log"}, "audit.list": {"查看审计日志", "view the audit log"},
	"audit.checkpoint": {"下载审计检查点", "download the audit checkpoint"}, "http.refused.repeated": {"重复的拒绝请求（计数）", "repeated refused requests (counted)"},
	"catalog.entry.create": {"新建目录", "create an entry"}, "catalog.entry.create_many": {"批量新建目录", "create entries"},
	"catalog.entry.update": {"修改目录", "edit an entry"}, "catalog.entry.submit": {"提交目录审核", "submit an entry"}, "catalog.entry.submit_many": {"批量提交审核", "submit entries"},
	"catalog.entry.publish": {"审核发布目录", "publish an entry"}, "catalog.entry.publish_many": {"批量发布目录", "publish entries"},
	"catalog.entry.return": {"退回目录", "return an entry"}, "catalog.entry.withdraw": {"撤销目录", "withdraw an entry"}, "catalog.entry.deprecate": {"废止目录", "deprecate an entry"},
	"catalog.import": {"导入目录", "import entries"}, "catalog.export": {"导出目录", "export the catalog"}, "catalog.lists.export": {"导出清单", "export a list"},
	"catalog.responsibility.create": {"新增责任事项", "add a responsibility"}, "catalog.responsibility.update": {"修改责任事项", "edit a responsibility"},
	"catalog.responsibility.cancel": {"取消或恢复责任事项", "cancel or restore a responsibility"}, "catalog.responsibility.link": {"关联责任目录", "link a responsibility"},
	"catalog.demand.create": {"提出数据需求", "post a demand"}, "catalog.demand.update": {"修改数据需求", "edit a demand"},
	"catalog.demand.link": {"对接数据需求", "link a demand"}, "catalog.demand.unlink": {"取消需求对接", "unlink a demand"}, "catalog.demand.close": {"关闭或重开需求", "close or reopen a demand"},
	"catalog.index.rebuild": {"重建检索索引", "rebuild the search index"},
	"notification.read":     {"标记通知已读", "mark a notification read"}, "notification.read_all": {"全部通知标为已读", "mark all notifications read"},
	"notification.list": {"查看通知", "notifications"}, "notification.count": {"查看未读通知数", "unread notification count"},
	// pages, which the log records when a role may not open them
	"console.home": {"打开工作台", "home page"}, "org.body.list": {"查看机构列表", "bodies list"}, "org.body.read": {"查看机构", "body page"},
	"org.body.form": {"打开机构表单", "body form"}, "auth.user.list": {"查看用户列表", "users list"}, "auth.user.read": {"查看用户", "user page"},
	"auth.user.form": {"打开用户表单", "user form"}, "catalog.search": {"检索目录", "catalog search"}, "catalog.entry.read": {"查看目录", "entry page"},
	"catalog.entry.diff": {"查看版本差异", "version differences"}, "catalog.entry.form": {"打开目录编辑器", "entry editor"},
	"catalog.mine": {"查看本单位目录", "own body's entries"}, "catalog.review.queue": {"查看审核队列", "review queue"},
	"catalog.lists": {"查看三张清单", "lists"}, "catalog.import.form": {"打开导入页面", "import page"}, "catalog.import.template": {"下载导入模板", "import template"},
	"catalog.stats": {"查看目录统计", "catalog statistics"}, "catalog.index.status": {"查看索引状态", "index status"},
	// file resources (文件)
	"data.file.upload": {"上传文件", "upload a file"}, "data.file.download": {"下载文件", "download a file"},
	// the demo installation
	"demo.load": {"载入演示数据", "load the demo data"}, "demo.passwords_reset": {"重置演示账号密码", "reset the demo passwords"},
}

// auditActor names who acted: the platform itself is "system" in the log.
func auditActor(actor, lang string) string {
	switch actor {
	case "system":
		return pick(lang, "系统", "system")
	case "":
		return pick(lang, "匿名", "anonymous")
	}
	return actor
}

// auditObjectKinds name the kinds of object the log refers to as "kind:id".
var auditObjectKinds = map[string][2]string{
	"user": {"用户", "user"}, "body": {"机构", "body"}, "region": {"行政区划", "region"}, "entry": {"目录", "entry"},
	"token": {"API 令牌", "API token"}, "demand": {"数据需求", "demand"}, "responsibility": {"责任事项", "responsibility"},
	"file": {"文件", "file"}, "import": {"导入", "import"},
}

// auditObject names an object of the log ("user:3" → "用户 3").
func auditObject(obj, lang string) string {
	kind, id, ok := strings.Cut(obj, ":")
	n, known := auditObjectKinds[kind]
	if !ok || !known {
		return obj
	}
	return pick(lang, n[0], n[1]) + " " + id
}

// auditDetailKeys name the detail fields the log records.
var auditDetailKeys = map[string][2]string{
	"bodies": {"机构数", "bodies"}, "users": {"用户数", "users"}, "entries": {"目录数", "entries"}, "format": {"格式", "format"},
	"reason": {"原因", "reason"}, "role": {"角色", "role"}, "username": {"用户名", "username"}, "name": {"名称", "name"},
	"ok": {"校验通过", "verified"}, "size": {"记录数", "records"}, "count": {"数量", "count"}, "rows": {"行数", "rows"},
	"error": {"错误", "error"}, "code": {"代码", "code"}, "status": {"状态", "status"}, "version": {"版本", "version"},
	"note": {"说明", "note"}, "enabled": {"启用", "enabled"}, "body": {"机构", "body"}, "id": {"编号", "id"},
	"method": {"请求方法", "method"}, "path": {"地址", "path"}, "ip": {"IP", "IP"}, "repeats": {"重复次数", "repeats"},
	"credit_code": {"统一社会信用代码", "credit code"}, "kind": {"类型", "kind"}, "sector": {"行业", "sector"},
	"region_code": {"行政区划", "region"}, "display_name": {"姓名", "name"}, "file": {"文件", "file"}, "dry_run": {"仅校验", "dry run"},
	"catalog": {"目录", "catalog"}, "submitted": {"已提交", "submitted"}, "first_id": {"首个编号", "first id"},
	"entry_id": {"目录编号", "entry id"}, "entry": {"目录", "entry"}, "disabled": {"停用", "disabled"}, "cancelled": {"取消", "cancelled"},
}

// httpStatusZH names the HTTP answers the log records as a status.
var httpStatusZH = map[string]string{
	"OK": "成功", "Created": "已创建", "No Content": "成功", "Found": "已跳转", "See Other": "已跳转", "Bad Request": "请求有误",
	"Unauthorized": "未登录", "Forbidden": "无权访问", "Not Found": "不存在", "Conflict": "冲突", "Precondition Failed": "版本已变化",
	"Request Entity Too Large": "内容过大", "Unprocessable Entity": "数据有误", "Too Many Requests": "请求过多",
	"Internal Server Error": "服务器错误", "Service Unavailable": "服务暂不可用",
}

// auditDetail writes a record's details as "名称=值" in lang, the keys
// sorted; values stay as recorded, except true/false.
func auditDetail(d map[string]string, lang string) string {
	keys := make([]string, 0, len(d))
	for k := range d {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteString(pick(lang, "；", "; "))
		}
		label := k
		if n, ok := auditDetailKeys[k]; ok {
			label = pick(lang, n[0], n[1])
		}
		v := d[k]
		switch v {
		case "true":
			v = pick(lang, "是", "yes")
		case "false":
			v = pick(lang, "否", "no")
		default:
			if zh, ok := httpStatusZH[v]; ok && lang != "en" {
				v = zh
			}
		}
		b.WriteString(label + pick(lang, "：", ": ") + v)
	}
	return b.String()
}

// bilingual picks the half of a stored "中文 / English" text in the page's
// language (the catalog writes some notes so, e.g. "由第 2 版替代 / superseded
// by version 2"); other text is returned as it is.
func bilingual(s, lang string) string {
	zh, en, ok := strings.Cut(s, " / ")
	if !ok || strings.Contains(en, " / ") || !hasHan(zh) || hasHan(en) {
		return s
	}
	return pick(lang, zh, en)
}

func hasHan(s string) bool {
	for _, r := range s {
		if unicode.Is(unicode.Han, r) {
			return true
		}
	}
	return false
}

// auditAction names a recorded action in lang: "" when it has no name, so
// that the page shows only its code. A refused route ends in ".denied".
func auditAction(action, lang string) string {
	base, denied := strings.CutSuffix(action, ".denied")
	n, ok := auditActions[base]
	if !ok {
		return ""
	}
	if denied {
		return pick(lang, n[0]+"（被拒绝）", n[1]+" (refused)")
	}
	return pick(lang, n[0], n[1])
}

// auditPrefixes are offered in the action filter.
var auditPrefixes = []struct{ Code, ZH, EN string }{
	{"session.", "登录与退出", "sign-in and sign-out"}, {"auth.", "用户与角色", "users and roles"}, {"org.", "机构", "bodies"},
	{"catalog.entry.", "目录条目", "catalog entries"}, {"catalog.", "目录（全部）", "catalog (all)"}, {"token.", "API 令牌", "API tokens"},
	{"audit.", "审计日志", "audit log"}, {"me.", "个人资料", "own profile"},
}

func (c *Console) auditVerify(w http.ResponseWriter, r *http.Request) {
	rep, err := c.Audit.Verify(r.Context())
	if err != nil {
		c.fail(w, r, err)
		return
	}
	httpx.Note(r.Context(), "", "ok", strconv.FormatBool(rep.OK), "size", strconv.FormatInt(rep.Size, 10))
	pg := c.page(r, pick(pgLang(r), "审计日志", "Audit log"), "audit")
	// The result shows the first page of the log; its paging and filter
	// links go to the log's own address, not to this form's.
	pg.Path, pg.Query = "/audit", url.Values{}
	pager := pagerOf(r, 50)
	es, total, err := c.Audit.List(r.Context(), audit.Filter{Limit: pager.PageSize})
	if err != nil {
		c.fail(w, r, err)
		return
	}
	pager.Total = total
	d := &auditData{Entries: es, Pager: pager, Report: &rep, Size: rep.Size, Prefixes: auditPrefixes}
	exportLinks(d, r)
	pg.Data = d
	c.render(w, r, http.StatusOK, "audit", pg)
}
