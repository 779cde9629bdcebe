package api

import (
	"context"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"

	"xiangyun/internal/audit"
	"xiangyun/internal/auth"
	"xiangyun/internal/tabular"
)

// AuditQuery holds the audit log's filters. It is exported because huma
// fills only exported embedded structs: an unexported one left every filter
// silently empty.
type AuditQuery struct {
	Actor   string    `query:"actor" maxLength:"64"`
	Action  string    `query:"action" maxLength:"64" doc:"prefix, e.g. session. or org.body"`
	Object  string    `query:"object" maxLength:"64"`
	Outcome string    `query:"outcome" enum:"success,failure,denied,"`
	IP      string    `query:"ip" maxLength:"64"`
	Q       string    `query:"q" maxLength:"100"`
	From    time.Time `query:"from"`
	To      time.Time `query:"to"`
}

func (f AuditQuery) filter() audit.Filter {
	return audit.Filter{Actor: f.Actor, Action: f.Action, Object: f.Object, Outcome: f.Outcome, IP: f.IP, Q: f.Q, From: f.From, To: f.To}
}

type auditListIn struct {
	Page
	AuditQuery
}

type auditExportIn struct {
	AuditQuery
	Format string `query:"format" enum:"csv,xlsx" default:"csv"`
}

type auditVerifyOut struct{ Body audit.Report }

// AuditHeader is the column header of audit exports.
var AuditHeader = []string{"序号 seq", "时间 time", "用户 actor", "操作 action", "对象 object", "结果 outcome", "来源 IP", "请求 request", "详情 detail"}

// AuditRow renders one record for an export.
func AuditRow(e audit.Entry) []any {
	detail := ""
	for k, v := range e.Detail {
		if detail != "" {
			detail += "; "
		}
		detail += k + "=" + v
	}
	return []any{e.Seq, e.Time.In(time.Local).Format("2006-01-02 15:04:05"), e.Actor, e.Action, e.Object, e.Outcome, e.IP, e.RequestID, detail}
}

// ExportAudit streams the filtered log as CSV or XLSX; the console uses it too.
func ExportAudit(ctx context.Context, l *audit.Log, f audit.Filter, format string, w http.ResponseWriter) error {
	ct, ext := "text/csv; charset=utf-8", "csv"
	if format == "xlsx" {
		ct, ext = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Content-Disposition", `attachment; filename="audit-`+time.Now().Format("20060102-150405")+`.`+ext+`"`)
	tw, err := tabular.NewWriter(w, tabular.Format(ext))
	if err != nil {
		return err
	}
	if err := tw.WriteHeader(AuditHeader); err != nil {
		return err
	}
	if err := l.Each(ctx, f, func(e audit.Entry) error { return tw.WriteRow(AuditRow(e)) }); err != nil {
		return err
	}
	return tw.Close()
}

func (a *API) auditRoutes() {
	op(a, http.MethodGet, "/audit", "audit.list", auth.PermAuditRead, "Browse and filter the audit log (newest first)",
		func(ctx context.Context, in *auditListIn) (*List[audit.Entry], error) {
			f := in.filter()
			f.Offset, f.Limit = in.offset(), in.limit()
			es, n, err := a.Audit.List(ctx, f)
			return list(es, n), err
		})
	op(a, http.MethodGet, "/audit/verify", "audit.verify", auth.PermAuditRead, "Verify the whole audit log",
		func(ctx context.Context, _ *struct{}) (*auditVerifyOut, error) {
			r, err := a.Audit.Verify(ctx)
			a.Authn.Append(ctx, audit.Entry{Action: "audit.verify", Outcome: outcome(r.OK), Detail: map[string]string{"size": itoa(r.Size)}})
			return &auditVerifyOut{Body: r}, err
		})
	op(a, http.MethodGet, "/audit/export", "audit.export", auth.PermAuditRead, "Export the filtered audit log as CSV or XLSX",
		func(ctx context.Context, in *auditExportIn) (*huma.StreamResponse, error) {
			a.Authn.Append(ctx, audit.Entry{Action: "audit.export", Detail: map[string]string{"format": in.Format, "action": in.Action, "actor": in.Actor}})
			return &huma.StreamResponse{Body: func(hc huma.Context) {
				_, w := humaRW(hc)
				_ = ExportAudit(ctx, a.Audit, in.filter(), in.Format, w)
			}}, nil
		})
}

// auditCheckpointRoutes offers the log's current checkpoint (its signed
// tree head, c2sp.org/tlog-checkpoint) for an auditor to keep: `xiangyun
// audit verify --checkpoint FILE` later proves the log still extends it.
func (a *API) auditCheckpointRoutes() {
	op(a, http.MethodGet, "/audit/checkpoint", "audit.checkpoint", auth.PermAuditRead,
		"Download the audit log's current signed checkpoint (C2SP tlog-checkpoint), to prove later that the log was not rewritten",
		func(ctx context.Context, _ *struct{}) (*huma.StreamResponse, error) {
			msg, size, err := AuditCheckpoint(ctx, a.Audit)
			if err != nil {
				return nil, err
			}
			a.Authn.Append(ctx, audit.Entry{Action: "audit.checkpoint", Detail: map[string]string{"size": itoa(size)}})
			return &huma.StreamResponse{Body: func(hc huma.Context) {
				_, w := humaRW(hc)
				WriteAuditCheckpoint(w, msg, size)
			}}, nil
		})
}

// AuditCheckpoint returns the log's current checkpoint, verified with the
// log's key, and its size.
func AuditCheckpoint(ctx context.Context, l *audit.Log) ([]byte, int64, error) {
	msg, err := l.CurrentCheckpoint(ctx)
	if err != nil {
		return nil, 0, err
	}
	cp, err := l.OpenCheckpoint(msg)
	if err != nil {
		return nil, 0, err
	}
	return msg, cp.Size, nil
}

// WriteAuditCheckpoint sends a checkpoint as a text download; the console
// uses it too.
func WriteAuditCheckpoint(w http.ResponseWriter, msg []byte, size int64) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="audit-checkpoint-`+itoa(size)+`.txt"`)
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(msg)
}

func outcome(ok bool) string {
	if ok {
		return audit.OutcomeSuccess
	}
	return audit.OutcomeFailure
}

func humaRW(hc huma.Context) (*http.Request, http.ResponseWriter) { return humago.Unwrap(hc) }
