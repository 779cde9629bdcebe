package web

import (
	"context"
	"net/http"
	"strconv"

	"xiangyun/internal/auth"
	"xiangyun/internal/httpx"
	"xiangyun/internal/notify"
)

func (c *Console) notificationRoutes() {
	if c.Notify == nil {
		return // a console without a notification centre (some tests)
	}
	c.route(http.MethodGet, "/notifications", auth.PermSignedIn, "notification.list", c.notifications)
	c.route(http.MethodPost, "/notifications/{id}/read", auth.PermSignedIn, "notification.read", c.notificationRead)
	c.route(http.MethodPost, "/notifications/read-all", auth.PermSignedIn, "notification.read_all", c.notificationsReadAll)
}

// unread is the header badge's count: one indexed COUNT per page view. A
// failure only hides the badge; the page itself still renders.
func (c *Console) unread(ctx context.Context, p *auth.Principal) int {
	if c.Notify == nil || p == nil || p.User.ID == 0 {
		return 0
	}
	n, err := c.Notify.Unread(ctx, p.User.ID)
	if err != nil {
		c.Log.Warn("unread notifications count failed", "err", err)
		return 0
	}
	return n
}

type notificationsData struct {
	Items      []notify.Notification
	Pager      Pager
	UnreadOnly bool
}

func (c *Console) notifications(w http.ResponseWriter, r *http.Request) {
	pg := c.page(r, pick(pgLang(r), "通知", "Notifications"), "notifications")
	d := &notificationsData{Pager: pagerOf(r, 20), UnreadOnly: r.URL.Query().Get("unread") == "1"}
	items, total, err := c.Notify.List(r.Context(), pg.P.User.ID, pg.Lang, notify.Filter{UnreadOnly: d.UnreadOnly, Offset: d.Pager.Offset(), Limit: d.Pager.PageSize})
	if err != nil {
		c.fail(w, r, err)
		return
	}
	d.Items, d.Pager.Total = items, total
	pg.Data = d
	c.render(w, r, http.StatusOK, "notifications", pg)
}

// notificationRead marks one notification read and goes on to next: the
// object it links to (opening it) or back to the inbox.
func (c *Console) notificationRead(w http.ResponseWriter, r *http.Request) {
	p := auth.FromContext(r.Context())
	id := pathID(r, "id")
	httpx.Note(r.Context(), "notification:"+strconv.FormatInt(id, 10))
	if err := c.Notify.MarkRead(r.Context(), p.User.ID, id); err != nil {
		c.fail(w, r, err)
		return
	}
	next := localPath(r.FormValue("next"))
	if next == "/" {
		next = "/notifications"
	}
	c.redirect(w, r, next, "")
}

func (c *Console) notificationsReadAll(w http.ResponseWriter, r *http.Request) {
	p := auth.FromContext(r.Context())
	n, err := c.Notify.MarkAllRead(r.Context(), p.User.ID)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	c.redirect(w, r, "/notifications", pick(pgLang(r), "已将 "+strconv.Itoa(n)+" 条通知标为已读", strconv.Itoa(n)+" notifications marked read"))
}
