package share

import (
	"context"
	"strconv"
	"time"

	"xiangyun/internal/auth"
	"xiangyun/internal/db"
	"xiangyun/internal/notify"
	"xiangyun/internal/workday"
)

// Notice kinds of the sharing workflow.
const (
	KindStep         = "share.step" // a step waits for someone
	KindDeadlineNear = "share.deadline_near"
	KindDeadlinePast = "share.deadline_passed"
)

func requestLink(id int64) string { return "/share/requests/" + strconv.FormatInt(id, 10) }

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

// tell sends one notice about request id to contacts (never the actor).
func (s *Service) tell(tx *db.Tx, p *auth.Principal, kind string, id int64, to []auth.Contact, titleZH, titleEN, bodyZH, bodyEN string) error {
	if s.opts.Notify == nil || len(to) == 0 {
		return nil
	}
	_, err := s.opts.Notify.Send(tx, notify.Notice{Kind: kind, TitleZH: titleZH, TitleEN: titleEN, BodyZH: bodyZH, BodyEN: bodyEN,
		Link: requestLink(id), To: recipients(to, p)})
	return err
}

// tellCDOs tells the chief data officers of bodies.
func (s *Service) tellCDOs(tx *db.Tx, p *auth.Principal, kind string, id int64, bodies []int64, titleZH, titleEN, bodyZH, bodyEN string) error {
	if s.opts.Notify == nil {
		return nil
	}
	var to []auth.Contact
	for _, b := range bodies {
		cs, err := auth.Holders(tx, auth.RoleChiefDataOfficer, b)
		if err != nil {
			return err
		}
		to = append(to, cs...)
	}
	return s.tell(tx, p, kind, id, to, titleZH, titleEN, bodyZH, bodyEN)
}

// reviewers lists the platform reviewers who may check a request between
// consumer and provider: not those of either body (审核回避).
func reviewers(tx *db.Tx, consumer, provider int64) ([]auth.Contact, error) {
	rs, err := auth.Holders(tx, auth.RoleReviewer, 0)
	if err != nil {
		return nil, err
	}
	var out []auth.Contact
	for _, r := range rs {
		if r.BodyID != consumer && r.BodyID != provider {
			out = append(out, r)
		}
	}
	return out, nil
}

// stepHolders lists who answers step of r.
func stepHolders(tx *db.Tx, r reqRow, step string) ([]auth.Contact, error) {
	if step == StepPlatform {
		return reviewers(tx, r.body, r.provider)
	}
	return auth.Holders(tx, auth.RoleChiefDataOfficer, r.provider)
}

// noticeStep tells whoever answers step of r that it waits for them.
func (s *Service) noticeStep(tx *db.Tx, p *auth.Principal, r reqRow, step, note string) error {
	if s.opts.Notify == nil {
		return nil
	}
	to, err := stepHolders(tx, r, step)
	if err != nil {
		return err
	}
	who := "平台审核"
	whoEN := "the platform's check"
	if step == StepProvider {
		who, whoEN = "提供部门答复", "the provider's answer"
	}
	bodyZH := "共享申请（编号 " + strconv.FormatInt(r.id, 10) + "，目录 " + r.code + "）待" + who + "。"
	bodyEN := "Share request " + strconv.FormatInt(r.id, 10) + " (entry " + r.code + ") waits for " + whoEN + "."
	if note != "" {
		bodyZH += "\n说明：" + note
		bodyEN += "\nNote: " + note
	}
	return s.tell(tx, p, KindStep, r.id, to, "共享申请待处理："+r.name, "Share request to answer: "+r.name, bodyZH, bodyEN)
}

// noticeApplicant tells the applicant's body's chief data officers.
func (s *Service) noticeApplicant(tx *db.Tx, p *auth.Principal, r reqRow, kind, titleZH, titleEN, bodyZH, bodyEN string) error {
	return s.tellCDOs(tx, p, kind, r.id, []int64{r.body}, titleZH, titleEN, bodyZH, bodyEN)
}

// NotifyDeadlines reminds whoever answers a pending step when its deadline
// is near (its last working day, or the one before) and marks it overdue
// once past, once per step and threshold: the key names the request, the
// step and when the step's clock started, and its unique index keeps two
// nodes or runs from sending it twice. It returns how many notifications
// it wrote.
func (s *Service) NotifyDeadlines(ctx context.Context) (int, error) {
	if s.opts.Notify == nil {
		return 0, nil
	}
	now := s.now()
	total := 0
	err := s.db.Tx(ctx, func(tx *db.Tx) error {
		type due struct {
			r        reqRow
			started  db.Time
			due      time.Time
			kind     string
			key      string
			daysLeft int
		}
		rows, err := tx.Query(`SELECT id, body_id, provider_id, entry_id, step, step_started, due_at FROM share_requests
			WHERE status = 'pending' AND waiting = FALSE AND due_at IS NOT NULL ORDER BY due_at, id`)
		if err != nil {
			return err
		}
		var dues []due
		var keys []string
		for rows.Next() {
			var d due
			var at db.Time
			if err := rows.Scan(&d.r.id, &d.r.body, &d.r.provider, &d.r.entry, &d.r.step, &d.started, &at); err != nil {
				rows.Close()
				return err
			}
			d.due, d.daysLeft = at.Time, workday.Remaining(now, at.Time)
			switch {
			case now.After(d.due):
				d.kind = KindDeadlinePast
			case d.daysLeft <= 1:
				d.kind = KindDeadlineNear
			default:
				continue
			}
			d.key = d.kind + ":" + strconv.FormatInt(d.r.id, 10) + ":" + d.r.step + ":" + strconv.FormatInt(d.started.UnixMicro(), 10)
			dues, keys = append(dues, d), append(keys, d.key)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if len(dues) == 0 {
			return nil
		}
		sent, err := s.opts.Notify.Sent(tx, keys)
		if err != nil {
			return err
		}
		for _, d := range dues {
			if sent[d.key] {
				continue
			}
			to, err := stepHolders(tx, d.r, d.r.step)
			if err != nil {
				return err
			}
			dueDay := d.due.In(workday.Location()).Format("2006-01-02")
			id := strconv.FormatInt(d.r.id, 10)
			n := notify.Notice{Kind: d.kind, Key: d.key, Link: requestLink(d.r.id), To: recipients(to, nil), At: now}
			if d.kind == KindDeadlinePast {
				n.TitleZH, n.TitleEN = "共享申请审核已超期（编号 "+id+"）", "Share request overdue (no. "+id+")"
				n.BodyZH = "共享申请 " + id + " 的审核时限（" + dueDay + "）已过，请尽快处理。"
				n.BodyEN = "The deadline (" + dueDay + ") of share request " + id + " has passed; please answer it."
			} else {
				n.TitleZH, n.TitleEN = "共享申请审核即将到期（编号 "+id+"）", "Share request deadline near (no. "+id+")"
				n.BodyZH = "共享申请 " + id + " 须在 " + dueDay + " 前处理。"
				n.BodyEN = "Share request " + id + " must be answered by " + dueDay + "."
			}
			c, err := s.opts.Notify.Send(tx, n)
			if err != nil {
				return err
			}
			total += c
		}
		return nil
	})
	return total, err
}
