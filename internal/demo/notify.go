package demo

import "context"

// readHistory marks the demo users' notices so far read: the catalog's
// year of history was dealt with long ago, and only what happens in the
// last two weeks (submissions waiting, an entry returned, withdrawn or
// revised, review deadlines) shows as new, as it would in real use.
func readHistory(ctx context.Context, s Services) error {
	if s.Notify == nil {
		return nil
	}
	for _, u := range users {
		du, err := s.Auth.UserByName(ctx, u.username)
		if err != nil {
			return err
		}
		if _, err := s.Notify.MarkAllRead(ctx, du.ID); err != nil {
			return err
		}
	}
	return nil
}
