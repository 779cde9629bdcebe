package api

import (
	"context"
	"net/http"
	"strconv"

	"xiangyun/internal/auth"
	"xiangyun/internal/httpx"
	"xiangyun/internal/notify"
)

type notificationListIn struct {
	Page
	Unread bool   `query:"unread" doc:"only unread notifications"`
	Lang   string `query:"lang" enum:"zh,en," doc:"language of titles and bodies; default the console's (the xy_lang cookie), else Chinese"`
}

type unreadOut struct {
	Body struct {
		Unread int `json:"unread"`
	}
}

type readAllOut struct {
	Body struct {
		Marked int `json:"marked" doc:"how many were unread"`
	}
}

// notificationRoutes serve each signed-in user their own inbox: every
// operation takes the user from the session, never from the request, so
// nobody can list or mark another's notifications (another user's id
// answers 404, as if it did not exist).
func (a *API) notificationRoutes() {
	if a.Notify == nil {
		return // an API without a notification centre (some tests)
	}
	op(a, http.MethodGet, "/notifications", "notification.list", auth.PermSignedIn, "List one's own notifications, newest first, in the request's language",
		func(ctx context.Context, in *notificationListIn) (*List[notify.Notification], error) {
			lang := in.Lang
			if lang == "" {
				lang = httpx.Lang(ctx)
			}
			ns, total, err := a.Notify.List(ctx, principal(ctx).User.ID, lang, notify.Filter{UnreadOnly: in.Unread, Offset: in.offset(), Limit: in.limit()})
			if err != nil {
				return nil, err
			}
			return list(ns, total), nil
		})
	op(a, http.MethodGet, "/notifications/unread-count", "notification.count", auth.PermSignedIn, "Count one's own unread notifications",
		func(ctx context.Context, _ *struct{}) (*unreadOut, error) {
			n, err := a.Notify.Unread(ctx, principal(ctx).User.ID)
			out := &unreadOut{}
			out.Body.Unread = n
			return out, err
		})
	op(a, http.MethodPost, "/notifications/{id}/read", "notification.read", auth.PermSignedIn, "Mark one of one's own notifications read",
		func(ctx context.Context, in *IDPath) (*Empty, error) {
			httpx.Note(ctx, "notification:"+strconv.FormatInt(in.ID, 10))
			return &Empty{}, a.Notify.MarkRead(ctx, principal(ctx).User.ID, in.ID)
		})
	op(a, http.MethodPost, "/notifications/read-all", "notification.read_all", auth.PermSignedIn, "Mark all of one's own notifications read",
		func(ctx context.Context, _ *struct{}) (*readAllOut, error) {
			n, err := a.Notify.MarkAllRead(ctx, principal(ctx).User.ID)
			out := &readAllOut{}
			out.Body.Marked = n
			return out, err
		})
}
