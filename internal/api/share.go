package api

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"xiangyun/internal/auth"
	"xiangyun/internal/httpx"
	"xiangyun/internal/share"
)

// Sharing (共享) operations: applications and their credentials, share
// requests and their review, grants, scenarios and provider services. The
// share service decides whose application, step or grant it is.

type appCreateIn struct {
	Body share.AppInput
}

type newKeyOut struct {
	Body share.NewKey
}

type appOut struct{ Body share.Application }

type appListOut struct {
	Body struct {
		Items []share.Application `json:"items"`
		Total int                 `json:"total"`
	}
}

type rotateIn struct {
	IDPath
	Body struct {
		OverlapHours int `json:"overlap_hours,omitempty" minimum:"0" maximum:"720" doc:"how long the current keys keep working; default 24"`
	}
}

type keyPath struct {
	IDPath
	KeyID string `path:"key_id" maxLength:"64"`
}

type requestCreateIn struct {
	Body share.RequestInput
}

type requestOut struct{ Body share.Request }

type requestListIn struct {
	Page
	View   string `query:"view" enum:"mine,review,provider,all," doc:"mine: my body's requests; review: waiting for me (待我审核); provider: on my body's entries; all: reviewers"`
	Status string `query:"status" enum:"pending,granted,refused,"`
}

type approveIn struct {
	IDPath
	Body struct {
		Comment  string `json:"comment,omitempty" maxLength:"1000"`
		Revision int64  `json:"revision,omitempty" doc:"the request's revision the answer was made on; refused (409) if it moved on"`
		share.Terms
	}
}

type askMoreIn struct {
	IDPath
	Body struct {
		Needed   string `json:"needed" doc:"everything needed, listed at once (一次性告知)"`
		Revision int64  `json:"revision,omitempty"`
	}
}

type supplementIn struct {
	IDPath
	Body struct {
		Material string `json:"material"`
		Revision int64  `json:"revision,omitempty"`
	}
}

type reasonIn struct {
	IDPath
	Body struct {
		Reason   string `json:"reason"`
		Revision int64  `json:"revision,omitempty"`
	}
}

type grantListIn struct {
	Page
	As string `query:"as" enum:"consumer,provider,all," doc:"consumer (default): grants my body uses; provider: grants on my body's entries; all: reviewers"`
}

type grantOut struct{ Body share.GrantInfo }

type scenarioIn struct {
	Body share.ScenarioInput
}

type scenarioUpdateIn struct {
	IDPath
	Body struct {
		share.ScenarioInput
		Revision int64 `json:"revision,omitempty" doc:"the revision read; refused (409) if changed since"`
	}
}

type scenarioOut struct{ Body share.Scenario }

type serviceIn struct {
	Body share.ServiceInput
}

type serviceUpdateIn struct {
	IDPath
	Body struct {
		BaseURL   string `json:"base_url"`
		TimeoutMS int64  `json:"timeout_ms,omitempty"`
	}
}

type serviceOut struct{ Body share.ServiceInfo }

func (a *API) shareRoutes() {
	if a.Share == nil {
		return
	}
	s := a.Share

	op(a, http.MethodPost, "/applications", "share.application.create", auth.PermShareApply,
		"Register an application of the caller's body; answers its key id and secret, shown once",
		func(ctx context.Context, in *appCreateIn) (*newKeyOut, error) {
			k, err := s.CreateApplication(ctx, principal(ctx), in.Body)
			if err != nil {
				return nil, err
			}
			httpx.Note(ctx, "application:"+strconv.FormatInt(k.AppID, 10), "key_id", k.KeyID)
			return &newKeyOut{Body: k}, nil
		})
	op(a, http.MethodGet, "/applications", "share.application.list", auth.PermShareRead,
		"The applications of the caller's bodies (reviewers: all), with their keys (never secrets)",
		func(ctx context.Context, _ *struct{}) (*appListOut, error) {
			as, err := s.Applications(ctx, principal(ctx))
			if err != nil {
				return nil, err
			}
			out := &appListOut{}
			out.Body.Items, out.Body.Total = as, len(as)
			return out, nil
		})
	op(a, http.MethodGet, "/applications/{id}", "share.application.read", auth.PermShareRead, "One application",
		func(ctx context.Context, in *IDPath) (*appOut, error) {
			ap, err := s.Application(ctx, principal(ctx), in.ID)
			if err != nil {
				return nil, err
			}
			return &appOut{Body: ap}, nil
		})
	op(a, http.MethodPut, "/applications/{id}", "share.application.update", auth.PermShareApply, "Change an application's description",
		func(ctx context.Context, in *struct {
			IDPath
			Body share.AppInput
		}) (*appOut, error) {
			ap, err := s.UpdateApplication(ctx, principal(ctx), in.ID, in.Body)
			if err != nil {
				return nil, err
			}
			httpx.Note(ctx, "application:"+strconv.FormatInt(in.ID, 10))
			return &appOut{Body: ap}, nil
		})
	op(a, http.MethodPost, "/applications/{id}/rotate", "share.application.rotate", auth.PermShareApply,
		"Make a new key; the current keys keep working for the overlap period. Answers the new secret, shown once",
		func(ctx context.Context, in *rotateIn) (*newKeyOut, error) {
			k, err := s.RotateKey(ctx, principal(ctx), in.ID, time.Duration(in.Body.OverlapHours)*time.Hour)
			if err != nil {
				return nil, err
			}
			httpx.Note(ctx, "application:"+strconv.FormatInt(in.ID, 10), "key_id", k.KeyID)
			return &newKeyOut{Body: k}, nil
		})
	op(a, http.MethodPost, "/applications/{id}/keys/{key_id}/revoke", "share.application.key_revoke", auth.PermShareApply,
		"End one key at once",
		func(ctx context.Context, in *keyPath) (*Empty, error) {
			httpx.Note(ctx, "application:"+strconv.FormatInt(in.ID, 10), "key_id", in.KeyID)
			return &Empty{}, s.RevokeKey(ctx, principal(ctx), in.ID, in.KeyID)
		})
	op(a, http.MethodPost, "/applications/{id}/revoke", "share.application.revoke", auth.PermShareApply,
		"Stop an application: its keys end at once",
		func(ctx context.Context, in *IDPath) (*Empty, error) {
			httpx.Note(ctx, "application:"+strconv.FormatInt(in.ID, 10))
			return &Empty{}, s.RevokeApplication(ctx, principal(ctx), in.ID)
		})

	op(a, http.MethodPost, "/share-requests", "share.request.create", auth.PermShareApply,
		"File a share request: granted at once (无条件共享, or within a scenario), pending review (有条件共享) or refused (不予共享)",
		func(ctx context.Context, in *requestCreateIn) (*requestOut, error) {
			r, err := s.Submit(ctx, principal(ctx), in.Body)
			if err != nil {
				return nil, err
			}
			httpx.Note(ctx, "share_request:"+strconv.FormatInt(r.ID, 10), "status", r.Status, "entry", strconv.FormatInt(r.EntryID, 10))
			return &requestOut{Body: r}, nil
		})
	op(a, http.MethodGet, "/share-requests", "share.request.list", auth.PermShareRead,
		"Share requests: my body's, those waiting for me (with deadlines), those on my body's entries",
		func(ctx context.Context, in *requestListIn) (*List[share.Request], error) {
			rs, total, err := s.Requests(ctx, principal(ctx), share.RequestFilter{View: in.View, Status: in.Status, Offset: in.offset(), Limit: in.limit()})
			if err != nil {
				return nil, err
			}
			return list(rs, total), nil
		})
	op(a, http.MethodGet, "/share-requests/{id}", "share.request.read", auth.PermShareRead, "One share request with its recorded steps",
		func(ctx context.Context, in *IDPath) (*requestOut, error) {
			r, err := s.Request(ctx, principal(ctx), in.ID)
			if err != nil {
				return nil, err
			}
			return &requestOut{Body: r}, nil
		})
	op(a, http.MethodPost, "/share-requests/{id}/approve", "share.request.approve", auth.PermShareApprove,
		"Pass the current step: the platform reviewer hands it to the provider; the provider's chief data officer grants it (on terms)",
		func(ctx context.Context, in *approveIn) (*requestOut, error) {
			httpx.Note(ctx, "share_request:"+strconv.FormatInt(in.ID, 10))
			r, err := s.Approve(ctx, principal(ctx), in.ID, in.Body.Comment, in.Body.Terms, in.Body.Revision)
			if err != nil {
				return nil, err
			}
			return &requestOut{Body: r}, nil
		})
	op(a, http.MethodPost, "/share-requests/{id}/ask-more", "share.request.ask_more", auth.PermShareApprove,
		"Ask the applicant once, listing everything needed, for more material; the step's clock stops",
		func(ctx context.Context, in *askMoreIn) (*requestOut, error) {
			httpx.Note(ctx, "share_request:"+strconv.FormatInt(in.ID, 10))
			r, err := s.AskMore(ctx, principal(ctx), in.ID, in.Body.Needed, in.Body.Revision)
			if err != nil {
				return nil, err
			}
			return &requestOut{Body: r}, nil
		})
	op(a, http.MethodPost, "/share-requests/{id}/supplement", "share.request.supplement", auth.PermShareApply,
		"Supply the material asked for; the step's clock starts again",
		func(ctx context.Context, in *supplementIn) (*requestOut, error) {
			httpx.Note(ctx, "share_request:"+strconv.FormatInt(in.ID, 10))
			r, err := s.Supplement(ctx, principal(ctx), in.ID, in.Body.Material, in.Body.Revision)
			if err != nil {
				return nil, err
			}
			return &requestOut{Body: r}, nil
		})
	op(a, http.MethodPost, "/share-requests/{id}/refuse", "share.request.refuse", auth.PermShareApprove,
		"Refuse the request at the current step; a reason is required",
		func(ctx context.Context, in *reasonIn) (*requestOut, error) {
			httpx.Note(ctx, "share_request:"+strconv.FormatInt(in.ID, 10))
			r, err := s.Refuse(ctx, principal(ctx), in.ID, in.Body.Reason, in.Body.Revision)
			if err != nil {
				return nil, err
			}
			return &requestOut{Body: r}, nil
		})

	op(a, http.MethodGet, "/grants", "share.grant.list", auth.PermShareRead, "Grants my body uses, or grants on my body's entries",
		func(ctx context.Context, in *grantListIn) (*List[share.GrantInfo], error) {
			gs, total, err := s.Grants(ctx, principal(ctx), share.GrantFilter{As: in.As, Offset: in.offset(), Limit: in.limit()})
			if err != nil {
				return nil, err
			}
			return list(gs, total), nil
		})
	op(a, http.MethodGet, "/grants/{id}", "share.grant.read", auth.PermShareRead, "One grant",
		func(ctx context.Context, in *IDPath) (*grantOut, error) {
			g, err := s.Grant(ctx, principal(ctx), in.ID)
			if err != nil {
				return nil, err
			}
			return &grantOut{Body: g}, nil
		})
	op(a, http.MethodPost, "/grants/{id}/revoke", "share.grant.revoke", auth.PermShareApprove,
		"Revoke a grant with a reason (the providing or consuming body's chief data officer, or a platform reviewer); every gateway node stops it within a second",
		func(ctx context.Context, in *reasonIn) (*grantOut, error) {
			httpx.Note(ctx, "grant:"+strconv.FormatInt(in.ID, 10))
			g, err := s.RevokeGrant(ctx, principal(ctx), in.ID, in.Body.Reason)
			if err != nil {
				return nil, err
			}
			return &grantOut{Body: g}, nil
		})

	op(a, http.MethodGet, "/share-scenarios", "share.scenario.list", auth.PermShareRead, "Application scenarios (应用场景)",
		func(ctx context.Context, _ *struct{}) (*List[share.Scenario], error) {
			scs, err := s.Scenarios(ctx)
			if err != nil {
				return nil, err
			}
			return list(scs, len(scs)), nil
		})
	op(a, http.MethodGet, "/share-scenarios/{id}", "share.scenario.read", auth.PermShareRead, "One application scenario",
		func(ctx context.Context, in *IDPath) (*scenarioOut, error) {
			sc, err := s.Scenario(ctx, in.ID)
			if err != nil {
				return nil, err
			}
			return &scenarioOut{Body: sc}, nil
		})
	op(a, http.MethodPost, "/share-scenarios", "share.scenario.create", auth.PermShareReview, "Define an application scenario (platform reviewers)",
		func(ctx context.Context, in *scenarioIn) (*scenarioOut, error) {
			sc, err := s.CreateScenario(ctx, principal(ctx), in.Body)
			if err != nil {
				return nil, err
			}
			httpx.Note(ctx, "scenario:"+strconv.FormatInt(sc.ID, 10))
			return &scenarioOut{Body: sc}, nil
		})
	op(a, http.MethodPut, "/share-scenarios/{id}", "share.scenario.update", auth.PermShareReview, "Replace an application scenario",
		func(ctx context.Context, in *scenarioUpdateIn) (*scenarioOut, error) {
			httpx.Note(ctx, "scenario:"+strconv.FormatInt(in.ID, 10))
			sc, err := s.UpdateScenario(ctx, principal(ctx), in.ID, in.Body.ScenarioInput, in.Body.Revision)
			if err != nil {
				return nil, err
			}
			return &scenarioOut{Body: sc}, nil
		})
	op(a, http.MethodDelete, "/share-scenarios/{id}", "share.scenario.delete", auth.PermShareReview, "Remove an application scenario",
		func(ctx context.Context, in *IDPath) (*Empty, error) {
			httpx.Note(ctx, "scenario:"+strconv.FormatInt(in.ID, 10))
			return &Empty{}, s.DeleteScenario(ctx, principal(ctx), in.ID)
		})

	op(a, http.MethodGet, "/share-services", "share.service.list", auth.PermShareRead, "Provider services (服务接口) of my bodies (reviewers: all)",
		func(ctx context.Context, _ *struct{}) (*List[share.ServiceInfo], error) {
			vs, err := s.Services(ctx, principal(ctx))
			if err != nil {
				return nil, err
			}
			return list(vs, len(vs)), nil
		})
	op(a, http.MethodPost, "/share-services", "share.service.create", auth.PermShareService,
		"Register the providing body's HTTP service on one of its entries (http or https base URL)",
		func(ctx context.Context, in *serviceIn) (*serviceOut, error) {
			v, err := s.RegisterService(ctx, principal(ctx), in.Body)
			if err != nil {
				return nil, err
			}
			httpx.Note(ctx, "service:"+strconv.FormatInt(v.ID, 10), "entry", strconv.FormatInt(v.EntryID, 10))
			return &serviceOut{Body: v}, nil
		})
	op(a, http.MethodPut, "/share-services/{id}", "share.service.update", auth.PermShareService, "Change a service's base URL or timeout",
		func(ctx context.Context, in *serviceUpdateIn) (*serviceOut, error) {
			httpx.Note(ctx, "service:"+strconv.FormatInt(in.ID, 10))
			v, err := s.UpdateService(ctx, principal(ctx), in.ID, share.ServiceInput{BaseURL: in.Body.BaseURL, TimeoutMS: in.Body.TimeoutMS})
			if err != nil {
				return nil, err
			}
			return &serviceOut{Body: v}, nil
		})
	op(a, http.MethodDelete, "/share-services/{id}", "share.service.delete", auth.PermShareService, "Remove a service registration",
		func(ctx context.Context, in *IDPath) (*Empty, error) {
			httpx.Note(ctx, "service:"+strconv.FormatInt(in.ID, 10))
			return &Empty{}, s.DeleteService(ctx, principal(ctx), in.ID)
		})
}
