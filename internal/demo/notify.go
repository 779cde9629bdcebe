package demo

import (
	"context"

	"xiangyun/internal/auth"
)

// readHistory marks the demo users' notices so far read: the catalog's
// year of history was dealt with long ago, and only what happens in the
// last two weeks (submissions waiting, an entry returned, withdrawn or
// revised, review deadlines) shows as new, as it would in real use.
func readHistory(ctx context.Context, s Services, st *staff) error {
	if s.Notify == nil {
		return nil
	}
	ids := map[int64]bool{}
	for _, u := range users {
		du, err := s.Auth.UserByName(ctx, u.username)
		if err != nil {
			return err
		}
		ids[du.ID] = true
	}
	// and every body's staff
	for _, m := range []map[int64]*auth.Principal{st.cdo, st.spec} {
		for _, p := range m {
			ids[p.User.ID] = true
		}
	}
	for id := range ids {
		if _, err := s.Notify.MarkAllRead(ctx, id); err != nil {
			return err
		}
	}
	return nil
}
