// Package notify is the notification centre: every user's in-console inbox
// with its unread count, and e-mail when SMTP is configured.
//
// Notices are written by the package whose change causes them, in the
// change's own transaction (Send with its db.Tx), so a committed change
// always has its notices and a rolled-back one has none. E-mail goes the
// same way: Send writes one outbox message per recipient (topic "mail") in
// that transaction, and the mail sender (RunSender) delivers and then
// acknowledges it, so a crash delays mail but never loses or invents it.
//
// notify knows nothing of users or roles: callers resolve recipients (auth
// lists the holders of a role at a body) and pass their ids and addresses.
package notify

import (
	"context"
	"database/sql"
	"embed"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"time"

	"xiangyun/internal/db"
	"xiangyun/internal/errs"
)

//go:embed migrations
var migrations embed.FS

// Kinds of notice. Catalog workflow notices name what happened to an entry;
// review deadlines are the periodic ones.
const (
	KindSubmitted        = "catalog.submitted"
	KindPublished        = "catalog.published"
	KindReturned         = "catalog.returned"
	KindWithdrawn        = "catalog.withdrawn"
	KindRevised          = "catalog.revised"
	KindDeadlineNear     = "review.deadline_near"
	KindDeadlinePassed   = "review.deadline_passed"
	mailTopic            = "mail"
	maxTitle, maxBody    = 200, 2000
	defaultPage, maxPage = 20, 200
)

// Recipient is a user to notify and, when they have one, their e-mail
// address.
type Recipient struct {
	UserID int64
	Email  string
}

// Notice is one event to tell some users about.
type Notice struct {
	Kind             string
	TitleZH, TitleEN string
	BodyZH, BodyEN   string
	Link             string // a console path, e.g. /catalog/entries/12
	// Key, when set, makes the notice once-only: a recipient who already
	// has a notice with this key gets no second one (nor a second e-mail),
	// whichever node or run sends it.
	Key string
	To  []Recipient
	// At is when it happened; zero means the transaction's time.
	At time.Time
}

// Notification is one notice in one user's inbox, in the reader's language.
type Notification struct {
	ID        int64      `json:"id"`
	Kind      string     `json:"kind"`
	Title     string     `json:"title"`
	Body      string     `json:"body,omitempty"`
	Link      string     `json:"link,omitempty"`
	CreatedAt time.Time  `json:"created_at"`
	ReadAt    *time.Time `json:"read_at,omitempty"`
	Read      bool       `json:"read"`
}

// Options configure the service.
type Options struct {
	// Mail makes Send write an e-mail for every recipient with an address
	// (to the outbox; RunSender delivers it). Without SMTP it stays off, so
	// that the outbox does not fill with mail nobody sends.
	Mail bool
	// BaseURL, when set, makes links in e-mail absolute (https://host).
	BaseURL string
	Log     *slog.Logger
}

// Service stores and lists notifications.
type Service struct {
	db   *db.DB
	opts Options
}

// ErrNotFound answers for a notification that does not exist or is another
// user's: the two are not told apart.
var ErrNotFound = errs.NotFound("notify.not_found", "通知不存在", "no such notification")

// Open migrates the notify tables and returns the service.
func Open(ctx context.Context, store *db.DB, opts Options) (*Service, error) {
	if err := store.Migrate(ctx, "notify", migrations); err != nil {
		return nil, err
	}
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	opts.BaseURL = strings.TrimRight(opts.BaseURL, "/")
	return &Service{db: store, opts: opts}, nil
}

// Send writes n to the inbox of each recipient (once per user), and their
// e-mail to the outbox when mail is on, in tx. It returns how many
// notifications it wrote: with a Key, recipients who already had it are
// skipped. A nil Service sends nothing (notices not wired, e.g. tools).
func (s *Service) Send(tx *db.Tx, n Notice) (int, error) {
	if s == nil || len(n.To) == 0 {
		return 0, nil
	}
	n.TitleZH, n.TitleEN = clip(n.TitleZH, maxTitle), clip(n.TitleEN, maxTitle)
	n.BodyZH, n.BodyEN = clip(n.BodyZH, maxBody), clip(n.BodyEN, maxBody)
	var key any
	if n.Key != "" {
		key = n.Key
	}
	at := tx.Now
	if !n.At.IsZero() {
		at = db.Time{Time: n.At.UTC().Truncate(time.Microsecond)}
	}
	seen := map[int64]bool{}
	sent := 0
	for _, r := range n.To {
		if r.UserID == 0 || seen[r.UserID] {
			continue
		}
		seen[r.UserID] = true
		var id int64
		// With a key, a second copy is skipped by the unique (key, user)
		// index, also when another node inserts it concurrently (its
		// transaction waits for ours and then does nothing).
		err := tx.QueryRow(`INSERT INTO notifications (user_id, kind, title_zh, title_en, body_zh, body_en, link, created_at, dedup_key)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (dedup_key, user_id) DO NOTHING RETURNING id`,
			r.UserID, n.Kind, n.TitleZH, n.TitleEN, n.BodyZH, n.BodyEN, n.Link, at, key).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		if err != nil {
			return sent, db.Check(err)
		}
		sent++
		if s.opts.Mail && r.Email != "" {
			if err := s.emitMail(tx, r.Email, n); err != nil {
				return sent, err
			}
		}
	}
	return sent, nil
}

// Sent reports which of keys some notification already carries, so that
// a periodic job can skip the notices it has sent without trying each.
func (s *Service) Sent(tx *db.Tx, keys []string) (map[string]bool, error) {
	out := map[string]bool{}
	if s == nil || len(keys) == 0 {
		return out, nil
	}
	for len(keys) > 0 {
		chunk := keys[:min(len(keys), 500)]
		keys = keys[len(chunk):]
		q, args := db.InList(`SELECT DISTINCT dedup_key FROM notifications WHERE dedup_key IN `, chunk)
		rows, err := tx.QueryContext(tx.Ctx, q, args...)
		if err != nil {
			return nil, db.Check(err)
		}
		for rows.Next() {
			var k string
			if err := rows.Scan(&k); err != nil {
				rows.Close()
				return nil, err
			}
			out[k] = true
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, db.Check(err)
		}
	}
	return out, nil
}

// Filter selects a page of an inbox.
type Filter struct {
	UnreadOnly bool
	Offset     int
	Limit      int // 0 = 20, at most 200
}

// List returns a page of user's notifications, newest first, in lang, and
// how many the filter selects in all.
func (s *Service) List(ctx context.Context, userID int64, lang string, f Filter) ([]Notification, int, error) {
	ctx, cancel := s.db.Ctx(ctx)
	defer cancel()
	where := ` FROM notifications WHERE user_id = $1`
	if f.UnreadOnly {
		where += ` AND read_at IS NULL`
	}
	var total int
	if err := s.db.R.QueryRowContext(ctx, `SELECT COUNT(*)`+where, userID).Scan(&total); err != nil {
		return nil, 0, db.Check(err)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = defaultPage
	}
	limit = min(limit, maxPage)
	rows, err := s.db.R.QueryContext(ctx, `SELECT id, kind, title_zh, title_en, body_zh, body_en, link, created_at, read_at`+where+
		` ORDER BY id DESC LIMIT $2 OFFSET $3`, userID, limit, max(f.Offset, 0))
	if err != nil {
		return nil, 0, db.Check(err)
	}
	defer rows.Close()
	out := []Notification{}
	for rows.Next() {
		var (
			n                  Notification
			tzh, ten, bzh, ben string
			created, read      db.Time
		)
		if err := rows.Scan(&n.ID, &n.Kind, &tzh, &ten, &bzh, &ben, &n.Link, &created, &read); err != nil {
			return nil, 0, err
		}
		n.Title, n.Body = pick(lang, tzh, ten), pick(lang, bzh, ben)
		n.CreatedAt = created.Time
		if !read.IsZero() {
			t := read.Time
			n.ReadAt, n.Read = &t, true
		}
		out = append(out, n)
	}
	return out, total, db.Check(rows.Err())
}

// Unread counts user's unread notifications: one indexed COUNT, cheap
// enough for the header of every console page.
func (s *Service) Unread(ctx context.Context, userID int64) (int, error) {
	ctx, cancel := s.db.Ctx(ctx)
	defer cancel()
	var n int
	err := s.db.R.QueryRowContext(ctx, `SELECT COUNT(*) FROM notifications WHERE user_id = $1 AND read_at IS NULL`, userID).Scan(&n)
	return n, db.Check(err)
}

// MarkRead marks user's notification id read. Another user's notification
// is ErrNotFound, as if it did not exist.
func (s *Service) MarkRead(ctx context.Context, userID, id int64) error {
	return s.db.Tx(ctx, func(tx *db.Tx) error {
		res, err := tx.Exec(`UPDATE notifications SET read_at = COALESCE(read_at, $1) WHERE id = $2 AND user_id = $3`, tx.Now, id, userID)
		if err != nil {
			return db.Check(err)
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return ErrNotFound
		}
		return nil
	})
}

// MarkAllRead marks all of user's notifications read and returns how many
// were unread.
func (s *Service) MarkAllRead(ctx context.Context, userID int64) (int, error) {
	var n int64
	err := s.db.Tx(ctx, func(tx *db.Tx) error {
		res, err := tx.Exec(`UPDATE notifications SET read_at = $1 WHERE user_id = $2 AND read_at IS NULL`, tx.Now, userID)
		if err != nil {
			return db.Check(err)
		}
		n, err = res.RowsAffected()
		return err
	})
	return int(n), err
}

// mail is the outbox payload of one e-mail.
type mail struct {
	To      string `json:"to"`
	Subject string `json:"subject"`
	Body    string `json:"body"`
}

func (s *Service) emitMail(tx *db.Tx, to string, n Notice) error {
	var b strings.Builder
	// A console path means nothing in a mail client: the link goes in only
	// when the console's public address is known.
	link := ""
	if n.Link != "" && s.opts.BaseURL != "" && strings.HasPrefix(n.Link, "/") {
		link = s.opts.BaseURL + n.Link
	}
	b.WriteString(n.TitleZH + "\n")
	if n.BodyZH != "" {
		b.WriteString("\n" + n.BodyZH + "\n")
	}
	if link != "" {
		b.WriteString("\n在平台中查看：" + link + "\n")
	}
	b.WriteString("\n——\n" + n.TitleEN + "\n")
	if n.BodyEN != "" {
		b.WriteString("\n" + n.BodyEN + "\n")
	}
	if link != "" {
		b.WriteString("\nOpen in the platform: " + link + "\n")
	}
	b.WriteString("\n此邮件由祥云平台自动发送，请勿回复。 / Sent automatically by Xiangyun; please do not reply.\n")
	payload, err := json.Marshal(mail{To: to, Subject: n.TitleZH + " / " + n.TitleEN, Body: b.String()})
	if err != nil {
		return err
	}
	_, err = tx.Emit(mailTopic, payload)
	return err
}

func pick(lang, zh, en string) string {
	if lang == "en" && en != "" {
		return en
	}
	return zh
}

// clip cuts s to at most n characters.
func clip(s string, n int) string {
	s = strings.TrimSpace(s)
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}
