package api

import (
	"context"
	"net/http"
	"strconv"

	"xiangyun/internal/auth"
	"xiangyun/internal/httpx"
	"xiangyun/internal/org"
)

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

type regionsOut struct{ Body []org.Region }

type regionIn struct{ Body org.Region }
type regionOut struct{ Body org.Region }

type bodiesIn struct {
	Page
	Q        string `query:"q" maxLength:"100"`
	Region   string `query:"region" maxLength:"6" doc:"region code; includes its sub-regions"`
	Kind     string `query:"kind" enum:"agency,institution,utility,"`
	ParentID int64  `query:"parent_id"`
}

type bodyIn struct{ Body org.BodyInput }
type bodyOut struct{ Body org.Body }
type bodyUpdateIn struct {
	IDPath
	Body org.BodyInput
}
type bodyEnableIn struct {
	IDPath
	Body struct {
		Enabled bool `json:"enabled"`
	}
}

func (a *API) orgRoutes() {
	op(a, http.MethodGet, "/regions", "org.region.list", auth.PermOrgRead, "List regions (GB/T 2260)",
		func(ctx context.Context, _ *struct{}) (*regionsOut, error) {
			rs, err := a.Orgs.Regions(ctx)
			return &regionsOut{Body: rs}, err
		})
	op(a, http.MethodPost, "/regions", "org.region.create", auth.PermOrgWrite, "Add a region",
		func(ctx context.Context, in *regionIn) (*regionOut, error) {
			httpx.Note(ctx, "region:"+in.Body.Code)
			r, err := a.Orgs.CreateRegion(ctx, in.Body)
			return &regionOut{Body: r}, err
		})
	op(a, http.MethodGet, "/bodies", "org.body.list", auth.PermOrgRead, "List public bodies",
		func(ctx context.Context, in *bodiesIn) (*List[org.Body], error) {
			bs, n, err := a.Orgs.Bodies(ctx, org.BodyFilter{Q: in.Q, RegionCode: in.Region, Kind: org.Kind(in.Kind), ParentID: in.ParentID, Offset: in.offset(), Limit: in.limit()})
			return list(bs, n), err
		})
	op(a, http.MethodPost, "/bodies", "org.body.create", auth.PermOrgWrite, "Create a public body",
		func(ctx context.Context, in *bodyIn) (*bodyOut, error) {
			b, err := a.Orgs.CreateBody(ctx, in.Body)
			httpx.Note(ctx, "body:"+itoa(b.ID), "name", in.Body.Name, "credit_code", in.Body.CreditCode)
			return &bodyOut{Body: b}, err
		})
	op(a, http.MethodGet, "/bodies/{id}", "org.body.read", auth.PermOrgRead, "One public body",
		func(ctx context.Context, in *IDPath) (*bodyOut, error) {
			b, err := a.Orgs.Body(ctx, in.ID)
			return &bodyOut{Body: b}, err
		})
	op(a, http.MethodPut, "/bodies/{id}", "org.body.update", auth.PermOrgWrite, "Update a public body",
		func(ctx context.Context, in *bodyUpdateIn) (*bodyOut, error) {
			httpx.Note(ctx, "body:"+itoa(in.ID), "name", in.Body.Name)
			b, err := a.Orgs.UpdateBody(ctx, in.ID, in.Body)
			return &bodyOut{Body: b}, err
		})
	op(a, http.MethodPut, "/bodies/{id}/enabled", "org.body.enable", auth.PermOrgWrite, "Enable or disable a public body",
		func(ctx context.Context, in *bodyEnableIn) (*bodyOut, error) {
			httpx.Note(ctx, "body:"+itoa(in.ID), "enabled", strconv.FormatBool(in.Body.Enabled))
			b, err := a.Orgs.SetBodyEnabled(ctx, in.ID, in.Body.Enabled)
			return &bodyOut{Body: b}, err
		})
}
