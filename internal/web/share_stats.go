package web

import (
	"bytes"
	"net/http"
	"strconv"

	"xiangyun/internal/api"
	"xiangyun/internal/audit"
	"xiangyun/internal/auth"
	"xiangyun/internal/share"
)

// shareStatsRoutes are the gateway's call statistics (调用统计) and the provider's data usage (数据使用情况).
func (c *Console) shareStatsRoutes() {
	if c.ShareStats == nil {
		return
	}
	c.route(http.MethodGet, "/share/stats", auth.PermShareStats, "share.stats", c.shareStats)
	c.route(http.MethodGet, "/share/stats/report.xlsx", auth.PermShareStats, "share.stats.report", c.shareStatsReport)
	c.route(http.MethodGet, "/share/usage", auth.PermShareStats, "share.usage", c.shareUsage)
}

// topStats is how many entries and bodies the bar charts rank.
const topStats = 10

type shareStatsData struct {
	From, To string
	ByDay    share.StatsReport
	Group    string
	Table    share.StatsReport // the grouping the table shows
	Groups   []groupOption
	Charts   map[string]any
}

type groupOption struct{ Key, Label string }

func groupLabel(lang, g string) string {
	zh, en := map[string]string{share.GroupDay: "日期", share.GroupBody: "使用部门", share.GroupEntry: "目录", share.GroupApplication: "应用",
		share.GroupOutcome: "结果", share.GroupProvider: "提供部门"}[g], map[string]string{share.GroupDay: "Day", share.GroupBody: "Consuming body",
		share.GroupEntry: "Entry", share.GroupApplication: "Application", share.GroupOutcome: "Outcome", share.GroupProvider: "Providing body"}[g]
	return pick(lang, zh, en)
}

// outcomeLabel names a call outcome: answered, or the refusal code as it is.
func outcomeLabel(lang, code string) string {
	if code == share.OutcomeOK {
		return pick(lang, "成功", "answered")
	}
	return code
}

func (c *Console) shareStats(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	pg := c.page(r, pick(pgLang(r), "调用统计", "Call statistics"), "share-stats")
	lang := pg.Lang
	q := r.URL.Query()
	from, to, group := q.Get("from"), q.Get("to"), q.Get("group")
	if group == "" {
		group = share.GroupEntry
	}
	report := func(g string) (share.StatsReport, error) {
		return c.ShareStats.Report(ctx, pg.P, share.StatsFilter{From: from, To: to, Group: g})
	}
	byDay, err := report(share.GroupDay)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	byOutcome, err := report(share.GroupOutcome)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	byEntry, err := report(share.GroupEntry)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	byBody, err := report(share.GroupBody)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	table, err := report(group)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	if group == share.GroupOutcome {
		for i := range table.Rows {
			table.Rows[i].Name = outcomeLabel(lang, table.Rows[i].Key)
		}
	}
	var days []string
	var ok, refused []int64
	for _, row := range share.DailySeries(byDay) {
		days = append(days, row.Key)
		ok = append(ok, row.OK)
		refused = append(refused, row.Refused)
	}
	var outcomes []map[string]any
	for _, row := range byOutcome.Rows {
		outcomes = append(outcomes, map[string]any{"name": outcomeLabel(lang, row.Key), "value": row.Calls})
	}
	top := func(rows []share.StatsRow, name string) map[string]any {
		var names []string
		var vals []int64
		for i, row := range rows {
			if i == topStats {
				break
			}
			names = append(names, row.Name)
			vals = append(vals, row.Calls)
		}
		return map[string]any{
			"grid":   map[string]any{"left": 12, "right": 48, "top": 8, "bottom": 8, "containLabel": true},
			"xAxis":  map[string]any{"type": "value", "minInterval": 1},
			"yAxis":  map[string]any{"type": "category", "inverse": true, "data": names, "axisLabel": map[string]any{"width": 180, "overflow": "truncate"}},
			"series": []any{map[string]any{"type": "bar", "name": name, "data": vals, "label": map[string]any{"show": true, "position": "right"}}},
		}
	}
	calls := pick(lang, "调用次数", "calls")
	d := &shareStatsData{From: byDay.From, To: byDay.To, ByDay: byDay, Group: group, Table: table, Charts: map[string]any{
		"days": map[string]any{
			"tooltip": map[string]any{"trigger": "axis"},
			"legend":  map[string]any{"top": 0},
			"grid":    map[string]any{"left": 12, "right": 24, "top": 36, "bottom": 8, "containLabel": true},
			"xAxis":   map[string]any{"type": "category", "data": days},
			"yAxis":   map[string]any{"type": "value", "minInterval": 1},
			"series": []any{
				map[string]any{"type": "line", "name": pick(lang, "成功", "answered"), "data": ok, "smooth": true, "areaStyle": map[string]any{"opacity": 0.15}},
				map[string]any{"type": "line", "name": pick(lang, "拒绝", "refused"), "data": refused, "smooth": true, "itemStyle": map[string]any{"color": badgeColors["badge-red"]}},
			},
		},
		"outcomes": map[string]any{
			"tooltip": map[string]any{"trigger": "item", "formatter": "{b}: {c} ({d}%)"},
			"legend":  map[string]any{"bottom": 0, "type": "scroll"},
			"series": []any{map[string]any{"type": "pie", "radius": []string{"42%", "68%"}, "center": []string{"50%", "45%"},
				"data": outcomes, "label": map[string]any{"formatter": "{b}\n{c}"}}},
		},
		"entries": top(byEntry.Rows, calls),
		"bodies":  top(byBody.Rows, calls),
	}}
	for _, g := range share.Groups {
		d.Groups = append(d.Groups, groupOption{g, groupLabel(lang, g)})
	}
	pg.Data = d
	c.render(w, r, http.StatusOK, "share_stats", pg)
}

func (c *Console) shareStatsReport(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	q := r.URL.Query()
	var buf bytes.Buffer
	if err := c.ShareStats.WriteReport(ctx, auth.FromContext(ctx), q.Get("from"), q.Get("to"), pgLang(r), &buf); err != nil {
		c.fail(w, r, err)
		return
	}
	c.Authn.Append(ctx, audit.Entry{Action: "share.stats.report", Detail: map[string]string{"from": q.Get("from"), "to": q.Get("to")}})
	api.WriteShareReport(w, buf.Bytes())
}

type shareUsageData struct {
	From, To string
	Body     string
	Rows     []share.UsageRow
	Calls    int64
}

func (c *Console) shareUsage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	pg := c.page(r, pick(pgLang(r), "数据使用情况", "Data usage"), "share-usage")
	q := r.URL.Query()
	body := pg.P.User.BodyID
	if v := q.Get("body"); v != "" {
		body, _ = strconv.ParseInt(v, 10, 64)
	}
	rows, err := c.ShareStats.Usage(ctx, pg.P, body, q.Get("from"), q.Get("to"))
	if err != nil {
		c.fail(w, r, err)
		return
	}
	d := &shareUsageData{From: q.Get("from"), To: q.Get("to"), Rows: rows, Body: strconv.FormatInt(body, 10)}
	if b, err := c.Orgs.Body(ctx, body); err == nil {
		d.Body = b.Name
	}
	for _, row := range rows {
		d.Calls += row.Calls
	}
	pg.Data = d
	c.render(w, r, http.StatusOK, "share_usage", pg)
}
