package catalog

import (
	"encoding/json"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"xiangyun/internal/notify"
	"xiangyun/internal/workday"
)

// withNotices wires a notification centre (with mail) into the fixture's
// catalog and gives the reviewer an e-mail address.
func withNotices(t *testing.T, f *fixture) *notify.Service {
	t.Helper()
	n, err := notify.Open(f.ctx, f.store, notify.Options{Mail: true})
	if err != nil {
		t.Fatal(err)
	}
	f.s.notify = n
	if _, err := f.store.Writer().ExecContext(f.ctx, `UPDATE users SET email = 'reviewer@example.gov.cn' WHERE username = 'reviewer'`); err != nil {
		t.Fatal(err)
	}
	return n
}

// inbox is who has notifications of kind, by username, sorted.
func inbox(t *testing.T, f *fixture, kind string) []string {
	t.Helper()
	rows, err := f.store.R.QueryContext(f.ctx, `SELECT user_id FROM notifications WHERE kind = $1`, kind)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		name := "?"
		for n, p := range f.p {
			if p.User.ID == id {
				name = n
			}
		}
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}

func wantInbox(t *testing.T, f *fixture, kind string, want ...string) {
	t.Helper()
	if got := inbox(t, f, kind); !slices.Equal(got, want) {
		t.Errorf("%s went to %v, want %v", kind, got, want)
	}
}

// TestWorkflowNotices follows an entry through the workflow and checks
// who is told at each step: reviewers (not those of the provider's body)
// of a submission, the provider's staff of everything else, never the
// actor.
func TestWorkflowNotices(t *testing.T) {
	eachDB(t, func(t *testing.T, f *fixture) {
		n := withNotices(t, f)
		ctx, s, p := f.ctx, f.s, f.p
		in := f.input("police", "吉林省常住人口基本信息")
		e := f.create("police_spec", in)
		if _, err := s.Submit(ctx, p["police_cdo"], e.ID, "请审核"); err != nil {
			t.Fatal(err)
		}
		// dual reviews for the platform but is the police's chief data
		// officer, so may not review this entry: not told.
		wantInbox(t, f, notify.KindSubmitted, "reviewer")
		msgs, err := f.store.Outbox(ctx, "mail", time.Time{}, 10)
		if err != nil || len(msgs) != 1 || !strings.Contains(string(msgs[0].Payload), `"to":"reviewer@example.gov.cn"`) {
			t.Fatalf("mail to the reviewer: %v %d", err, len(msgs))
		}
		list, _, err := n.List(ctx, p["reviewer"].User.ID, "zh", notify.Filter{})
		if err != nil || len(list) != 1 || list[0].Title != "新提交待审核：吉林省常住人口基本信息" || list[0].Link != "/catalog/"+strconv.FormatInt(e.ID, 10) ||
			!strings.Contains(list[0].Body, "请审核") {
			t.Fatalf("reviewer's notice: %v %+v", err, list)
		}

		if _, err := s.Return(ctx, p["reviewer"], e.ID, "数据项缺少说明"); err != nil {
			t.Fatal(err)
		}
		wantInbox(t, f, notify.KindReturned, "dual", "police_cdo", "police_spec")
		en, _, _ := n.List(ctx, p["police_spec"].User.ID, "en", notify.Filter{Limit: 1})
		if len(en) != 1 || en[0].Title != "Entry returned: 吉林省常住人口基本信息" || !strings.Contains(en[0].Body, "数据项缺少说明") {
			t.Fatalf("returned notice in English: %+v", en)
		}

		if _, err := s.Submit(ctx, p["police_cdo"], e.ID, ""); err != nil {
			t.Fatal(err)
		}
		wantInbox(t, f, notify.KindSubmitted, "reviewer", "reviewer")
		if _, err := s.Publish(ctx, p["reviewer"], e.ID, "同意"); err != nil {
			t.Fatal(err)
		}
		wantInbox(t, f, notify.KindPublished, "dual", "police_cdo", "police_spec")

		// A specialist revises the published entry: the chief data officers
		// are told (the author is the actor).
		in.Abstract = "修订后的摘要：全省常住人口基本信息。"
		if _, err := s.Update(ctx, p["police_spec"], e.ID, in, "补充摘要"); err != nil {
			t.Fatal(err)
		}
		wantInbox(t, f, notify.KindRevised, "dual", "police_cdo")

		if _, err := s.Withdraw(ctx, p["police_cdo"], e.ID, "数据源停用"); err != nil {
			t.Fatal(err)
		}
		wantInbox(t, f, notify.KindWithdrawn, "dual", "police_spec")

		// A step that fails leaves no notice behind.
		if _, err := s.Publish(ctx, p["reviewer"], e.ID, ""); err == nil {
			t.Fatal("published an entry with nothing submitted")
		}
		wantInbox(t, f, notify.KindPublished, "dual", "police_cdo", "police_spec")
		if got, _ := n.Unread(ctx, p["police_spec"].User.ID); got != 3 {
			t.Errorf("police_spec unread = %d, want 3 (returned, published, withdrawn)", got)
		}
	})
}

// TestDeadlineNotices: a submission waiting ReviewCloseDays working days
// gives the reviewers one "near" notice, at ReviewOverDays one "passed",
// however often and however concurrently the job runs; a resubmission
// counts anew.
func TestDeadlineNotices(t *testing.T) {
	eachDB(t, func(t *testing.T, f *fixture) {
		withNotices(t, f)
		ctx, s, p := f.ctx, f.s, f.p
		e := f.create("police_cdo", f.input("police", "吉林省居民身份证信息"))
		submitted := f.clock()
		if _, err := s.Submit(ctx, p["police_cdo"], e.ID, ""); err != nil {
			t.Fatal(err)
		}
		run := func(times int) int {
			var wg sync.WaitGroup
			var mu sync.Mutex
			total := 0
			for range times {
				wg.Add(1)
				go func() {
					defer wg.Done()
					n, err := s.NotifyDeadlines(ctx)
					if err != nil {
						t.Error(err)
					}
					mu.Lock()
					total += n
					mu.Unlock()
				}()
			}
			wg.Wait()
			return total
		}
		advanceTo := func(days int) {
			for workday.WorkdaysBetween(submitted, f.clock()) < days {
				f.advance(24 * time.Hour)
			}
		}
		if n := run(2); n != 0 {
			t.Fatalf("fresh submission: %d notices", n)
		}
		advanceTo(ReviewCloseDays)
		if n := run(2); n != 1 {
			t.Fatalf("two concurrent runs near the deadline wrote %d notices, want 1", n)
		}
		run(1)
		wantInbox(t, f, notify.KindDeadlineNear, "reviewer")
		advanceTo(ReviewOverDays)
		if n := run(2); n != 1 {
			t.Fatalf("two concurrent runs past the deadline wrote %d notices, want 1", n)
		}
		run(1)
		wantInbox(t, f, notify.KindDeadlinePassed, "reviewer")
		// One mail per notice: submitted, near, passed.
		msgs, _ := f.store.Outbox(ctx, "mail", time.Time{}, 10)
		var subjects []string
		for _, m := range msgs {
			var v struct{ Subject string }
			_ = json.Unmarshal(m.Payload, &v)
			subjects = append(subjects, v.Subject)
		}
		if len(msgs) != 3 || !strings.HasPrefix(subjects[2], "审核已超期：") {
			t.Fatalf("mail: %q", subjects)
		}

		// Returned and submitted again: a new submission, new deadlines.
		if _, err := s.Return(ctx, p["reviewer"], e.ID, "请补充"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Submit(ctx, p["police_cdo"], e.ID, ""); err != nil {
			t.Fatal(err)
		}
		submitted = f.clock()
		advanceTo(ReviewCloseDays)
		if n := run(2); n != 1 {
			t.Fatalf("resubmission near its deadline: %d notices, want 1", n)
		}
		wantInbox(t, f, notify.KindDeadlineNear, "reviewer", "reviewer")
		var keys int
		if err := f.store.R.QueryRowContext(ctx, `SELECT COUNT(DISTINCT dedup_key) FROM notifications WHERE dedup_key IS NOT NULL`).Scan(&keys); err != nil || keys != 3 {
			t.Fatalf("distinct deadline keys: %d %v", keys, err)
		}
	})
}
