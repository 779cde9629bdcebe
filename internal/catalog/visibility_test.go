package catalog

import (
	"errors"
	"slices"
	"strconv"
	"testing"

	"xiangyun/internal/auth"
	"xiangyun/internal/errs"
)

// TestVisibilityAgrees: the Go check (Get, visible), the search index
// (SearchIDs) and the SQL filter (Filtered without text) let every role
// see the same entries, over entries of several bodies in every workflow
// state.
func TestVisibilityAgrees(t *testing.T) {
	eachDB(t, func(t *testing.T, f *fixture) {
		must := func(_ Entry, err error) {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
		}
		var ids []int64
		for _, body := range []string{"police", "market", "city", "bureau"} {
			reviewer := f.p["reviewer"]
			if body == "bureau" {
				reviewer = System
			}
			newEntry := func(state string) int64 {
				e, err := f.s.Create(f.ctx, System, f.input(body, body+state))
				if err != nil {
					t.Fatal(err)
				}
				ids = append(ids, e.ID)
				return e.ID
			}
			_ = newEntry("草稿")
			id := newEntry("已提交")
			must(f.s.Submit(f.ctx, System, id, ""))
			id = newEntry("已退回")
			must(f.s.Submit(f.ctx, System, id, ""))
			must(f.s.Return(f.ctx, reviewer, id, "请补充"))
			id = newEntry("已发布")
			f.publish(id)
			id = newEntry("修订中")
			f.publish(id)
			must(f.s.Update(f.ctx, System, id, f.input(body, body+"修订稿"), "更新字段"))
			id = newEntry("修订已提交")
			f.publish(id)
			must(f.s.Update(f.ctx, System, id, f.input(body, body+"修订稿二"), "更新字段"))
			must(f.s.Submit(f.ctx, System, id, ""))
			id = newEntry("已撤销")
			f.publish(id)
			must(f.s.Withdraw(f.ctx, System, id, "停止更新"))
			id = newEntry("已废止")
			f.publish(id)
			must(f.s.Deprecate(f.ctx, System, id, "不再提供"))
		}
		principals := map[string]*auth.Principal{"system": System, "nobody": {User: auth.User{Username: "nobody"}}}
		for name, p := range f.p {
			principals[name] = p
		}
		for name, p := range principals {
			var byGo []string
			for _, id := range ids {
				e, err := f.s.Get(f.ctx, System, id)
				if err != nil {
					t.Fatal(err)
				}
				_, gerr := f.s.Get(f.ctx, p, id)
				if visible(p, &e) != (gerr == nil) {
					t.Errorf("%s, entry %d (%s): visible %v, Get %v", name, id, e.Status, visible(p, &e), gerr)
				}
				if visible(p, &e) {
					byGo = append(byGo, strconv.FormatInt(id, 10))
				}
			}
			res, err := f.s.SearchIDs(f.ctx, p, SearchQuery{Limit: 1000, Facets: []string{}})
			if err != nil && !errors.Is(err, errs.ErrForbidden) {
				t.Fatal(err)
			}
			byIndex := res.IDs
			var bySQL []string
			err = f.s.Filtered(f.ctx, p, SearchQuery{}, func(e Entry) error {
				bySQL = append(bySQL, strconv.FormatInt(e.ID, 10))
				return nil
			})
			if err != nil && !errors.Is(err, errs.ErrForbidden) {
				t.Fatal(err)
			}
			for _, l := range [][]string{byGo, byIndex, bySQL} {
				slices.Sort(l)
			}
			if !slices.Equal(byGo, byIndex) || !slices.Equal(byGo, bySQL) {
				t.Errorf("%s sees\n Go    %v\n index %v\n SQL   %v", name, byGo, byIndex, bySQL)
			}
			if name != "nobody" && len(byGo) == 0 {
				t.Errorf("%s sees nothing", name)
			}
		}
	})
}
