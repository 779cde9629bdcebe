package api

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"xiangyun/internal/auth"
	"xiangyun/internal/httpx"
	"xiangyun/internal/quality"
)

// Data quality (数据治理) operations. The quality service decides per body:
// platform roles read everything, a department's staff their own body; the
// providing body's CDO and data specialist edit rules and handle incidents.

type qualityRulesOut struct {
	ETag string `header:"ETag" doc:"the rule set's revision; send it as If-Match to replace the rules"`
	Body struct {
		EntryID    int64          `json:"entry_id"`
		Revision   int64          `json:"revision" doc:"the rule set's revision (0 before the first save)"`
		Rules      []quality.Rule `json:"rules" doc:"effective rules: defaults (switchable) and added rules"`
		Kinds      []quality.Kind `json:"kinds" doc:"the rule catalog"`
		Dimensions []dimension    `json:"dimensions"`
	}
}

type dimension struct {
	Code string `json:"code"`
	ZH   string `json:"zh"`
	EN   string `json:"en"`
}

func dimensions() []dimension {
	out := make([]dimension, len(quality.Dimensions))
	for i, d := range quality.Dimensions {
		out[i] = dimension{d.Code, d.ZH, d.EN}
	}
	return out
}

type qualityRulesIn struct {
	IDPath
	Precondition
	Body struct {
		Rules []quality.Rule `json:"rules" maxItems:"500" doc:"the whole rule set: defaults by key (enabled, threshold, dimension) and added rules (key optional)"`
	}
}

type entryQualityOut struct{ Body quality.EntryReport }

type batchResultsIn struct {
	IDPath
	BatchID int64 `path:"batch_id" minimum:"1"`
}

type scoresIn struct {
	BodyID int64 `query:"body_id" minimum:"0" doc:"one body with its fix-first ranking and daily history; all visible bodies when 0"`
}

type incidentsIn struct {
	Page
	BodyID  int64  `query:"body_id" minimum:"0"`
	EntryID int64  `query:"entry_id" minimum:"0"`
	Status  string `query:"status" enum:"open,new,acknowledged,resolved," doc:"open = new or acknowledged"`
}

type incidentOut struct{ Body quality.Incident }

type incidentActionIn struct {
	IDPath
	Body struct {
		Note string `json:"note,omitempty" maxLength:"1000" doc:"acknowledge: optional note; resolve: the reason (required)"`
	}
}

type settleIn struct {
	Body struct {
		Item   string `json:"item" minLength:"1" maxLength:"200" doc:"data item name"`
		BodyID int64  `json:"body_id" minimum:"0" doc:"the authoritative body; 0 removes the settlement"`
		Note   string `json:"note,omitempty" maxLength:"1000"`
	}
}

func rulesOut(id int64, rs []quality.Rule, rev int64) *qualityRulesOut {
	out := &qualityRulesOut{ETag: etag(rev)}
	out.Body.EntryID, out.Body.Revision, out.Body.Rules, out.Body.Kinds, out.Body.Dimensions = id, rev, rs, quality.Kinds, dimensions()
	return out
}

// revision reads the rule set's revision from If-Match: required (428),
// one strong tag ("3" or 3).
func (in *qualityRulesIn) revision() (int64, error) {
	h := strings.TrimSpace(in.IfMatch)
	if h == "" {
		p := preconditionRequired()
		p.MessageZH = "修改质量规则须带 If-Match 请求头（读取规则时得到的 ETag），以免覆盖他人的修改"
		p.MessageEN = "replacing the rules needs an If-Match header with the ETag you read, so that nobody's change is overwritten"
		return 0, p
	}
	n, err := strconv.ParseInt(strings.Trim(h, `"`), 10, 64)
	if err != nil || n < 0 {
		return 0, staleRules()
	}
	return n, nil
}

func staleRules() *Problem {
	return &Problem{Status: http.StatusPreconditionFailed, Title: http.StatusText(http.StatusPreconditionFailed),
		Code: quality.ErrStale.Code, Detail: "If-Match does not match the rule set's current ETag",
		MessageZH: quality.ErrStale.ZH, MessageEN: quality.ErrStale.EN}
}

func (a *API) qualityRoutes() {
	q := func() *quality.Service { return a.Quality }

	op(a, http.MethodGet, "/catalog/entries/{id}/quality-rules", "quality.rules.read", auth.PermQualityRead,
		"An entry's quality rules: defaults from its items, overrides and added rules",
		func(ctx context.Context, in *IDPath) (*qualityRulesOut, error) {
			rs, rev, err := q().RuleSet(ctx, principal(ctx), in.ID)
			return rulesOut(in.ID, rs, rev), err
		})
	op(a, http.MethodPut, "/catalog/entries/{id}/quality-rules", "quality.rules.update", auth.PermQualityManage,
		"Replace an entry's quality rules (switch defaults off, set thresholds, add rules)",
		func(ctx context.Context, in *qualityRulesIn) (*qualityRulesOut, error) {
			rev, err := in.revision()
			if err != nil {
				return nil, err
			}
			httpx.Note(ctx, entryObject(in.ID), "rules", itoa(int64(len(in.Body.Rules))))
			if _, err := q().SaveRules(ctx, principal(ctx), in.ID, in.Body.Rules, rev); err != nil {
				if errors.Is(err, quality.ErrStale) {
					return nil, staleRules()
				}
				return nil, err
			}
			rs, rev, err := q().RuleSet(ctx, principal(ctx), in.ID)
			return rulesOut(in.ID, rs, rev), err
		})
	op(a, http.MethodGet, "/catalog/entries/{id}/quality", "quality.entry.read", auth.PermQualityRead,
		"An entry's data quality: scores by dimension, freshness, last batch results, history",
		func(ctx context.Context, in *IDPath) (*entryQualityOut, error) {
			r, err := q().EntryQuality(ctx, principal(ctx), in.ID)
			return &entryQualityOut{Body: r}, err
		})
	op(a, http.MethodGet, "/catalog/entries/{id}/quality/batches/{batch_id}", "quality.batch.read", auth.PermQualityRead,
		"Per-rule results of one batch of an entry",
		func(ctx context.Context, in *batchResultsIn) (*List[quality.RuleResult], error) {
			rs, err := q().BatchResults(ctx, principal(ctx), in.ID, in.BatchID)
			return list(rs, len(rs)), err
		})
	op(a, http.MethodGet, "/quality/rule-kinds", "quality.kinds.read", auth.PermQualityRead, "The rule catalog and the dimensions",
		func(ctx context.Context, in *struct{}) (*qualityRulesOut, error) {
			out := &qualityRulesOut{}
			out.Body.Rules, out.Body.Kinds, out.Body.Dimensions = []quality.Rule{}, quality.Kinds, dimensions()
			return out, nil
		})
	op(a, http.MethodGet, "/quality/scores", "quality.scores.read", auth.PermQualityRead,
		"Scores 0–100 per body by dimension; with body_id, its fix-first ranking and history",
		func(ctx context.Context, in *scoresIn) (*List[quality.BodyScore], error) {
			bs, err := q().Scores(ctx, principal(ctx), in.BodyID)
			return list(bs, len(bs)), err
		})
	op(a, http.MethodGet, "/quality/overdue", "quality.overdue.read", auth.PermQualityRead,
		"Overdue entries (逾期) grouped by providing body",
		func(ctx context.Context, in *struct{}) (*List[quality.BodyOverdue], error) {
			bs, err := q().OverdueByBody(ctx, principal(ctx))
			return list(bs, len(bs)), err
		})
	op(a, http.MethodGet, "/quality/incidents", "quality.incident.list", auth.PermQualityRead,
		"Quality incidents, open ones first",
		func(ctx context.Context, in *incidentsIn) (*List[quality.Incident], error) {
			is, n, err := q().Incidents(ctx, principal(ctx), quality.IncidentFilter{BodyID: in.BodyID, EntryID: in.EntryID,
				Status: in.Status, Limit: in.limit(), Offset: in.offset()})
			return list(is, n), err
		})
	op(a, http.MethodGet, "/quality/incidents/{id}", "quality.incident.read", auth.PermQualityRead, "One quality incident",
		func(ctx context.Context, in *IDPath) (*incidentOut, error) {
			i, err := q().Incident(ctx, principal(ctx), in.ID)
			return &incidentOut{Body: i}, err
		})
	op(a, http.MethodPost, "/quality/incidents/{id}/acknowledge", "quality.incident.acknowledge", auth.PermQualityManage,
		"Acknowledge a new incident (the providing body)",
		func(ctx context.Context, in *incidentActionIn) (*incidentOut, error) {
			i, err := q().Acknowledge(ctx, principal(ctx), in.ID, in.Body.Note)
			httpx.Note(ctx, "quality_incident:"+itoa(in.ID))
			return &incidentOut{Body: i}, err
		})
	op(a, http.MethodPost, "/quality/incidents/{id}/resolve", "quality.incident.resolve", auth.PermQualityManage,
		"Resolve an open incident with a reason (the providing body)",
		func(ctx context.Context, in *incidentActionIn) (*incidentOut, error) {
			i, err := q().Resolve(ctx, principal(ctx), in.ID, in.Body.Note)
			httpx.Note(ctx, "quality_incident:"+itoa(in.ID))
			return &incidentOut{Body: i}, err
		})
	op(a, http.MethodGet, "/quality/one-source", "quality.one_source.read", auth.PermQualityRead,
		"Data items that more than one body provides (一数一源), for the platform to settle",
		func(ctx context.Context, in *struct{}) (*List[quality.OneSource], error) {
			os, err := q().OneSource(ctx, principal(ctx))
			return list(os, len(os)), err
		})
	op(a, http.MethodPut, "/quality/one-source", "quality.one_source.settle", auth.PermCatalogReview,
		"Settle the authoritative body of a data item (platform reviewers)",
		func(ctx context.Context, in *settleIn) (*Empty, error) {
			err := q().Settle(ctx, principal(ctx), in.Body.Item, in.Body.BodyID, in.Body.Note)
			httpx.Note(ctx, "quality_source", "item", in.Body.Item, "body_id", itoa(in.Body.BodyID))
			return &Empty{}, err
		})
	op(a, http.MethodGet, "/quality/multi-source/pairs", "quality.pairs.read", auth.PermQualityRead,
		"Entry pairs a multi-source check (多源校核) can compare: a shared key of the same meaning and items of the same name",
		func(ctx context.Context, in *struct{}) (*List[quality.Pair], error) {
			ps, err := q().Pairs(ctx, principal(ctx))
			return list(ps, len(ps)), err
		})
}
