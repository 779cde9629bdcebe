package catalog

import (
	"context"
	"slices"
	"strconv"

	"xiangyun/internal/auth"
	"xiangyun/internal/db"
	"xiangyun/internal/notify"
	"xiangyun/internal/workday"
)

// Review deadlines, in working days waited since submission (package
// workday): a review is close to its deadline from ReviewCloseDays and past
// it from ReviewOverDays. The console colours the queue by them and the
// deadline notices fire at them.
const (
	ReviewCloseDays = 3
	ReviewOverDays  = 5
)

// notice tells the people concerned about workflow step kind on entry e,
// in the step's transaction: a submission goes to the platform reviewers
// (not those of the provider's own body, who may not review it), every
// other step to the provider's chief data officers and specialists and the
// version's author. The actor is never told of their own step.
func (s *Service) notice(w *db.Tx, p *auth.Principal, e entryRow, kind, note string) error {
	if s.notify == nil {
		return nil
	}
	var (
		name   string
		number int
		author int64
	)
	// After the step, the version it concerns is the entry's pending one
	// or, once published, the current one.
	err := w.QueryRow(`SELECT v.name, v.number, v.author_id FROM entries e JOIN entry_versions v
		ON v.id = COALESCE(e.draft_version_id, e.current_version_id) WHERE e.id = $1`, e.id).Scan(&name, &number, &author)
	if err != nil {
		return err
	}
	staff, err := providerStaff(w, e.provider)
	if err != nil {
		return err
	}
	var to []auth.Contact
	if kind == notify.KindSubmitted {
		if to, err = reviewersFor(w, e.provider, staff); err != nil {
			return err
		}
	} else {
		to = append(staff, auth.Contact{UserID: author})
	}
	n := notify.Notice{Kind: kind, Link: "/catalog/" + strconv.FormatInt(e.id, 10), To: recipients(to, p), At: s.clock()}
	_, who := actor(p)
	v := "（" + e.code + "，第 " + strconv.Itoa(number) + " 版）"
	vEN := " (" + e.code + ", version " + strconv.Itoa(number) + ")"
	switch kind {
	case notify.KindSubmitted:
		n.TitleZH, n.TitleEN = "新提交待审核："+name, "Submitted for review: "+name
		n.BodyZH, n.BodyEN = who+" 提交了目录"+v+"，请审核。", who+" submitted the entry"+vEN+" for review."
	case notify.KindPublished:
		n.TitleZH, n.TitleEN = "目录已发布："+name, "Entry published: "+name
		n.BodyZH, n.BodyEN = "目录"+v+"已由 "+who+" 审核发布。", "The entry"+vEN+" was published by "+who+"."
	case notify.KindReturned:
		n.TitleZH, n.TitleEN = "目录被退回："+name, "Entry returned: "+name
		n.BodyZH, n.BodyEN = "目录"+v+"被 "+who+" 退回，请按意见修改后重新提交。", "The entry"+vEN+" was returned by "+who+"; revise it as the comments say and submit it again."
	case notify.KindWithdrawn:
		n.TitleZH, n.TitleEN = "目录已撤销："+name, "Entry withdrawn: "+name
		n.BodyZH, n.BodyEN = "目录"+v+"已由 "+who+" 撤销。", "The entry"+vEN+" was withdrawn by "+who+"."
	case notify.KindRevised:
		n.TitleZH, n.TitleEN = "目录修订中："+name, "Entry being revised: "+name
		n.BodyZH, n.BodyEN = who+" 起草了已发布目录的修订"+v+"，待首席数据官提交审核。", who+" drafted a revision"+vEN+" of the published entry; the chief data officer submits it for review."
	}
	if note != "" {
		n.BodyZH += "\n意见/原因：" + note
		n.BodyEN += "\nComment/reason: " + note
	}
	_, err = s.notify.Send(w, n)
	return err
}

// providerStaff lists the chief data officers and specialists of body.
func providerStaff(w *db.Tx, body int64) ([]auth.Contact, error) {
	var out []auth.Contact
	for _, role := range []auth.Role{auth.RoleChiefDataOfficer, auth.RoleDataSpecialist} {
		rs, err := auth.Holders(w, role, body)
		if err != nil {
			return nil, err
		}
		out = append(out, rs...)
	}
	return out, nil
}

// reviewersFor lists the reviewers who may review an entry of body: not
// those who belong to it or hold a role there (审核回避, see ownBody).
func reviewersFor(w *db.Tx, body int64, staff []auth.Contact) ([]auth.Contact, error) {
	rs, err := auth.Holders(w, auth.RoleReviewer, 0)
	if err != nil {
		return nil, err
	}
	var out []auth.Contact
	for _, r := range rs {
		if r.BodyID != body && !slices.ContainsFunc(staff, func(c auth.Contact) bool { return c.UserID == r.UserID }) {
			out = append(out, r)
		}
	}
	return out, nil
}

// recipients turns contacts into notify recipients without the actor.
func recipients(cs []auth.Contact, p *auth.Principal) []notify.Recipient {
	self := int64(-1)
	if p != nil {
		self = p.User.ID
	}
	out := make([]notify.Recipient, 0, len(cs))
	for _, c := range cs {
		if c.UserID != 0 && c.UserID != self {
			out = append(out, notify.Recipient{UserID: c.UserID, Email: c.Email})
		}
	}
	return out
}

// NotifyDeadlines tells the platform reviewers about submissions whose
// review is close to (ReviewCloseDays) or past (ReviewOverDays) its
// deadline, once per submission and threshold: the notice's key names the
// submitted version and its submission time, so a resubmission counts
// anew, and the key's unique index keeps two nodes or runs from sending it
// twice. It returns how many notifications it wrote.
func (s *Service) NotifyDeadlines(ctx context.Context) (int, error) {
	if s.notify == nil {
		return 0, nil
	}
	now := s.clock()
	total := 0
	err := s.db.Tx(ctx, func(w *db.Tx) error {
		type due struct {
			id, provider, version int64
			code, name, key, kind string
			days                  int
		}
		rows, err := w.Query(`SELECT e.id, e.provider_id, e.code, d.id, d.name, d.submitted_at FROM entries e
			JOIN entry_versions d ON d.id = e.draft_version_id WHERE d.status = 'submitted' ORDER BY d.submitted_at, e.id`)
		if err != nil {
			return err
		}
		var dues []due
		var keys []string
		for rows.Next() {
			var d due
			var at db.Time
			if err := rows.Scan(&d.id, &d.provider, &d.code, &d.version, &d.name, &at); err != nil {
				rows.Close()
				return err
			}
			d.days = workday.WorkdaysBetween(at.Time, now)
			switch {
			case d.days >= ReviewOverDays:
				d.kind = notify.KindDeadlinePassed
			case d.days >= ReviewCloseDays:
				d.kind = notify.KindDeadlineNear
			default:
				continue
			}
			d.key = d.kind + ":" + strconv.FormatInt(d.version, 10) + ":" + strconv.FormatInt(at.UnixMicro(), 10)
			dues, keys = append(dues, d), append(keys, d.key)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if len(dues) == 0 {
			return nil
		}
		sent, err := s.notify.Sent(w, keys)
		if err != nil {
			return err
		}
		reviewers := map[int64][]auth.Contact{} // by provider
		for _, d := range dues {
			if sent[d.key] {
				continue
			}
			to, ok := reviewers[d.provider]
			if !ok {
				staff, err := providerStaff(w, d.provider)
				if err == nil {
					to, err = reviewersFor(w, d.provider, staff)
				}
				if err != nil {
					return err
				}
				reviewers[d.provider] = to
			}
			days := strconv.Itoa(d.days)
			n := notify.Notice{Kind: d.kind, Key: d.key, Link: "/catalog/" + strconv.FormatInt(d.id, 10), To: recipients(to, nil), At: now}
			if d.kind == notify.KindDeadlinePassed {
				n.TitleZH, n.TitleEN = "审核已超期："+d.name, "Review overdue: "+d.name
				n.BodyZH = "目录（" + d.code + "）已等待审核 " + days + " 个工作日，超过 " + strconv.Itoa(ReviewOverDays) + " 个工作日的审核时限。"
				n.BodyEN = "The entry (" + d.code + ") has waited " + days + " working days for review, past the " + strconv.Itoa(ReviewOverDays) + "-working-day deadline."
			} else {
				n.TitleZH, n.TitleEN = "审核即将到期："+d.name, "Review deadline near: "+d.name
				n.BodyZH = "目录（" + d.code + "）已等待审核 " + days + " 个工作日，审核时限为 " + strconv.Itoa(ReviewOverDays) + " 个工作日。"
				n.BodyEN = "The entry (" + d.code + ") has waited " + days + " working days for review; the deadline is " + strconv.Itoa(ReviewOverDays) + " working days."
			}
			c, err := s.notify.Send(w, n)
			if err != nil {
				return err
			}
			total += c
		}
		return nil
	})
	return total, err
}
