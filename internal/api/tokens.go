package api

import (
	"context"
	"net/http"
	"time"

	"xiangyun/internal/auth"
	"xiangyun/internal/httpx"
)

type tokenCreateIn struct {
	Body struct {
		Name        string `json:"name" maxLength:"50" doc:"what the token is for"`
		ExpiresDays int    `json:"expires_days,omitempty" minimum:"0" maximum:"3650" doc:"0 = never expires"`
	}
}

type tokenCreateOut struct {
	Body struct {
		Token string     `json:"token" doc:"the secret, shown only this once"`
		Info  auth.Token `json:"info"`
	}
}

type tokenListOut struct{ Body []auth.Token }

func (a *API) tokenRoutes() {
	op(a, http.MethodPost, "/tokens", "token.create", auth.PermSignedIn, "Create a personal API token (shown once)",
		func(ctx context.Context, in *tokenCreateIn) (*tokenCreateOut, error) {
			p := principal(ctx)
			secret, t, err := a.Auth.CreateToken(ctx, p.User.ID, in.Body.Name, time.Duration(in.Body.ExpiresDays)*24*time.Hour)
			if err != nil {
				return nil, err
			}
			httpx.Note(ctx, "token:"+itoa(t.ID), "name", t.Name)
			out := &tokenCreateOut{}
			out.Body.Token, out.Body.Info = secret, t
			return out, nil
		})
	op(a, http.MethodGet, "/tokens", "token.list", auth.PermSignedIn, "List one's own API tokens",
		func(ctx context.Context, _ *struct{}) (*tokenListOut, error) {
			ts, err := a.Auth.Tokens(ctx, principal(ctx).User.ID)
			return &tokenListOut{Body: ts}, err
		})
	op(a, http.MethodDelete, "/tokens/{id}", "token.revoke", auth.PermSignedIn, "Revoke one of one's own API tokens",
		func(ctx context.Context, in *IDPath) (*Empty, error) {
			httpx.Note(ctx, "token:"+itoa(in.ID))
			return &Empty{}, a.Auth.RevokeToken(ctx, principal(ctx).User.ID, in.ID)
		})
}
