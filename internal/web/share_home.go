package web

import (
	"net/http"

	"xiangyun/internal/auth"

	"xiangyun/internal/share"
)

// homeShare is the home page's sharing figure: requests whose current step
// waits for the viewer, and how many are past their deadline.
type homeShare struct {
	Waiting, Overdue int
}

func (c *Console) shareHome(r *http.Request) *homeShare {
	if c.Share == nil {
		return nil
	}
	p := auth.FromContext(r.Context())
	items, total, err := c.Share.Requests(r.Context(), p, share.RequestFilter{View: share.ViewReview, Limit: 200})
	if err != nil {
		c.Log.Error("home: share queue", "err", err)
		return nil
	}
	h := &homeShare{Waiting: total}
	for _, it := range items {
		if it.Overdue {
			h.Overdue++
		}
	}
	return h
}
