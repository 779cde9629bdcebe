package api

import (
	"context"
	"net/http"
	"strconv"

	"xiangyun/internal/auth"
	"xiangyun/internal/httpx"
)

type usersIn struct {
	Page
	Q      string `query:"q" maxLength:"100"`
	BodyID int64  `query:"body_id"`
	Role   string `query:"role" maxLength:"20"`
}

type userIn struct{ Body auth.UserInput }
type userOut struct{ Body auth.User }
type userUpdateIn struct {
	IDPath
	Body auth.UserInput
}
type userPasswordIn struct {
	IDPath
	Body struct {
		Password string `json:"password" maxLength:"128"`
	}
}
type userDisabledIn struct {
	IDPath
	Body struct {
		Disabled bool `json:"disabled"`
	}
}
type roleIn struct {
	IDPath
	Body struct {
		Role   string `json:"role" enum:"admin,security,auditor,reviewer,cdo,specialist"`
		BodyID int64  `json:"body_id" minimum:"1"`
	}
}
type roleRevokeIn struct {
	IDPath
	Role   string `query:"role" enum:"admin,security,auditor,reviewer,cdo,specialist"`
	BodyID int64  `query:"body_id" minimum:"1"`
}

func (a *API) userRoutes() {
	op(a, http.MethodGet, "/users", "auth.user.list", auth.PermUserRead, "List users",
		func(ctx context.Context, in *usersIn) (*List[auth.User], error) {
			us, n, err := a.Auth.Users(ctx, auth.UserFilter{Q: in.Q, BodyID: in.BodyID, Role: auth.Role(in.Role), Offset: in.offset(), Limit: in.limit()})
			return list(us, n), err
		})
	op(a, http.MethodPost, "/users", "auth.user.create", auth.PermUserWrite, "Create a user (without roles)",
		func(ctx context.Context, in *userIn) (*userOut, error) {
			u, err := a.Auth.CreateUser(ctx, in.Body)
			httpx.Note(ctx, "user:"+itoa(u.ID), "username", in.Body.Username)
			return &userOut{Body: u}, err
		})
	op(a, http.MethodGet, "/users/{id}", "auth.user.read", auth.PermUserRead, "One user",
		func(ctx context.Context, in *IDPath) (*userOut, error) {
			u, err := a.Auth.User(ctx, in.ID)
			return &userOut{Body: u}, err
		})
	op(a, http.MethodPut, "/users/{id}", "auth.user.update", auth.PermUserWrite, "Update a user's details",
		func(ctx context.Context, in *userUpdateIn) (*userOut, error) {
			httpx.Note(ctx, "user:"+itoa(in.ID))
			u, err := a.Auth.UpdateUser(ctx, principal(ctx).User.ID, in.ID, in.Body)
			return &userOut{Body: u}, err
		})
	op(a, http.MethodPut, "/users/{id}/password", "auth.user.password_reset", auth.PermUserWrite, "Set a user's password (ends their sessions and revokes their API tokens)",
		func(ctx context.Context, in *userPasswordIn) (*Empty, error) {
			httpx.Note(ctx, "user:"+itoa(in.ID))
			return &Empty{}, a.Auth.SetPassword(ctx, principal(ctx).User.ID, in.ID, in.Body.Password)
		})
	op(a, http.MethodPut, "/users/{id}/disabled", "auth.user.disable", auth.PermUserWrite, "Disable or enable a user",
		func(ctx context.Context, in *userDisabledIn) (*userOut, error) {
			httpx.Note(ctx, "user:"+itoa(in.ID), "disabled", strconv.FormatBool(in.Body.Disabled))
			u, err := a.Auth.SetDisabled(ctx, principal(ctx).User.ID, in.ID, in.Body.Disabled)
			return &userOut{Body: u}, err
		})
	op(a, http.MethodPost, "/users/{id}/unlock", "auth.user.unlock", auth.PermRoleGrant, "Clear a lock-out after failed sign-ins",
		func(ctx context.Context, in *IDPath) (*Empty, error) {
			httpx.Note(ctx, "user:"+itoa(in.ID))
			if _, err := a.Auth.User(ctx, in.ID); err != nil {
				return nil, err
			}
			return &Empty{}, a.Auth.Unlock(ctx, in.ID)
		})
	op(a, http.MethodPost, "/users/{id}/roles", "auth.role.grant", auth.PermRoleGrant, "Grant a role at a body",
		func(ctx context.Context, in *roleIn) (*userOut, error) {
			httpx.Note(ctx, "user:"+itoa(in.ID), "role", in.Body.Role, "body_id", itoa(in.Body.BodyID))
			if err := a.Auth.GrantRole(ctx, principal(ctx).User.ID, in.ID, auth.Role(in.Body.Role), in.Body.BodyID); err != nil {
				return nil, err
			}
			u, err := a.Auth.User(ctx, in.ID)
			return &userOut{Body: u}, err
		})
	op(a, http.MethodDelete, "/users/{id}/roles", "auth.role.revoke", auth.PermRoleGrant, "Revoke a role",
		func(ctx context.Context, in *roleRevokeIn) (*userOut, error) {
			httpx.Note(ctx, "user:"+itoa(in.ID), "role", in.Role, "body_id", itoa(in.BodyID))
			if err := a.Auth.RevokeRole(ctx, principal(ctx).User.ID, in.ID, auth.Role(in.Role), in.BodyID); err != nil {
				return nil, err
			}
			u, err := a.Auth.User(ctx, in.ID)
			return &userOut{Body: u}, err
		})
}
