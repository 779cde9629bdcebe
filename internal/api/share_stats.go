package api

import (
	"bytes"
	"context"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"xiangyun/internal/audit"
	"xiangyun/internal/auth"
	"xiangyun/internal/httpx"
	"xiangyun/internal/share"
)

type shareStatsIn struct {
	From  string `query:"from" doc:"first day, YYYY-MM-DD (default: 29 days before to)"`
	To    string `query:"to" doc:"last day, YYYY-MM-DD (default: today, Asia/Shanghai)"`
	Group string `query:"group" enum:"day,body,entry,application,outcome,provider" default:"day" doc:"group calls by day, consuming body, entry, application, outcome or providing body"`
}

type shareStatsOut struct{ Body share.StatsReport }

type shareReportIn struct {
	From string `query:"from" doc:"first day, YYYY-MM-DD"`
	To   string `query:"to" doc:"last day, YYYY-MM-DD"`
}

type shareUsageIn struct {
	From   string `query:"from" doc:"first day, YYYY-MM-DD"`
	To     string `query:"to" doc:"last day, YYYY-MM-DD"`
	BodyID int64  `query:"body_id" doc:"the providing body (default: the caller's own body)"`
}

type shareUsageOut struct {
	Body struct {
		BodyID int64            `json:"body_id"`
		Items  []share.UsageRow `json:"items"`
	}
}

// shareStatsRoutes serve the gateway's call statistics (调用统计) and the provider's view of who used its data.
func (a *API) shareStatsRoutes() {
	if a.ShareStats == nil {
		return
	}
	op(a, http.MethodGet, "/share/stats", "share.stats", auth.PermShareStats,
		"Gateway calls over a date range, grouped by day, consuming body, entry, application, outcome or providing body (reviewers: all; a body: its own calls as consumer and provider)",
		func(ctx context.Context, in *shareStatsIn) (*shareStatsOut, error) {
			rep, err := a.ShareStats.Report(ctx, auth.FromContext(ctx), share.StatsFilter{From: in.From, To: in.To, Group: in.Group})
			return &shareStatsOut{Body: rep}, err
		})
	op(a, http.MethodGet, "/share/stats/report.xlsx", "share.stats.report", auth.PermShareStats,
		"Download the call statistics over a date range as an XLSX report (one row per day, body, application, entry, kind, outcome and purpose)",
		func(ctx context.Context, in *shareReportIn) (*huma.StreamResponse, error) {
			var buf bytes.Buffer
			if err := a.ShareStats.WriteReport(ctx, auth.FromContext(ctx), in.From, in.To, httpx.Lang(ctx), &buf); err != nil {
				return nil, err
			}
			a.Authn.Append(ctx, audit.Entry{Action: "share.stats.report", Detail: map[string]string{"from": in.From, "to": in.To}})
			return &huma.StreamResponse{Body: func(hc huma.Context) {
				_, w := humaRW(hc)
				WriteShareReport(w, buf.Bytes())
			}}, nil
		})
	op(a, http.MethodGet, "/share/usage", "share.usage", auth.PermShareStats,
		"Who used the data of a providing body's entries (数据使用情况): consuming body, application, purpose, calls",
		func(ctx context.Context, in *shareUsageIn) (*shareUsageOut, error) {
			p := auth.FromContext(ctx)
			body := in.BodyID
			if body == 0 {
				body = p.User.BodyID
			}
			rows, err := a.ShareStats.Usage(ctx, p, body, in.From, in.To)
			out := &shareUsageOut{}
			out.Body.BodyID, out.Body.Items = body, rows
			return out, err
		})
}

// WriteShareReport sends an XLSX statistics report as a download; the console uses it too.
func WriteShareReport(w http.ResponseWriter, xlsx []byte) {
	w.Header().Set("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
	w.Header().Set("Content-Disposition", `attachment; filename="share-stats-`+time.Now().Format("20060102-150405")+`.xlsx"`)
	_, _ = w.Write(xlsx)
}
