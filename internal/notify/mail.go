package notify

import (
	"context"
	"crypto/tls"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	netmail "net/mail"
	"net/url"
	"strconv"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"

	"xiangyun/internal/db"
)

// SMTP is a configured mail server: smtp://user:pass@host:port (STARTTLS
// when the server offers it; ?starttls=required insists on it) or
// smtps://user:pass@host:port (TLS from the start).
type SMTP struct {
	Host     string
	Port     int
	Username string
	password string
	TLS      gomail.TLSPolicy
	SSL      bool
	From     string
	Timeout  time.Duration
	// TLSConfig, when set, replaces the default TLS settings (e.g. to
	// trust a private certificate authority).
	TLSConfig *tls.Config
}

// ParseSMTP reads an SMTP URL and the sender address.
func ParseSMTP(raw, from string) (*SMTP, error) {
	u, err := url.Parse(raw)
	if err != nil {
		// url.Error repeats the URL, password included: keep only the cause.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("smtp url: %w", err)
	}
	c := &SMTP{Host: u.Hostname(), From: strings.TrimSpace(from), Timeout: 30 * time.Second, TLS: gomail.TLSOpportunistic}
	switch u.Scheme {
	case "smtp":
		c.Port = 587
		if u.Query().Get("starttls") == "required" {
			c.TLS = gomail.TLSMandatory
		}
	case "smtps":
		c.Port, c.SSL = 465, true
	default:
		return nil, fmt.Errorf("smtp url: scheme must be smtp:// or smtps://, not %q", u.Scheme)
	}
	if c.Host == "" {
		return nil, errors.New("smtp url: no host")
	}
	if p := u.Port(); p != "" {
		if c.Port, err = strconv.Atoi(p); err != nil || c.Port <= 0 || c.Port > 65535 {
			return nil, fmt.Errorf("smtp url: bad port %q", p)
		}
	}
	if u.User != nil {
		c.Username = u.User.Username()
		c.password, _ = u.User.Password()
	}
	if c.From == "" {
		return nil, errors.New("smtp: a sender address is needed (--smtp-from)")
	}
	if _, err := netmail.ParseAddress(c.From); err != nil {
		return nil, fmt.Errorf("smtp: sender address %q: %w", c.From, err)
	}
	return c, nil
}

// String describes the server without its password, for logs.
func (c *SMTP) String() string {
	u := url.URL{Scheme: "smtp", Host: net.JoinHostPort(c.Host, strconv.Itoa(c.Port))}
	if c.SSL {
		u.Scheme = "smtps"
	}
	if c.Username != "" {
		u.User = url.User(c.Username)
	}
	return u.String()
}

// send delivers one message with id as its Message-ID (the same outbox
// message always has the same one, so a copy re-sent after a crash can be
// recognised by the receiving side).
func (c *SMTP) send(ctx context.Context, id string, m mail) error {
	msg := gomail.NewMsg()
	if err := msg.From(c.From); err != nil {
		return permanent{fmt.Errorf("smtp from: %w", err)}
	}
	if err := msg.To(m.To); err != nil {
		return permanent{fmt.Errorf("smtp to: %w", err)}
	}
	msg.Subject(m.Subject)
	msg.SetMessageIDWithValue(id)
	msg.SetDate()
	msg.SetBodyString(gomail.TypeTextPlain, m.Body)
	opts := []gomail.Option{gomail.WithTLSPolicy(c.TLS), gomail.WithPort(c.Port), gomail.WithTimeout(c.Timeout)}
	if c.SSL {
		opts = append(opts, gomail.WithSSL())
	}
	if c.TLSConfig != nil {
		opts = append(opts, gomail.WithTLSConfig(c.TLSConfig))
	}
	if c.Username != "" {
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover), gomail.WithUsername(c.Username), gomail.WithPassword(c.password))
	}
	cl, err := gomail.NewClient(c.Host, opts...)
	if err != nil {
		return permanent{err}
	}
	if err := cl.DialAndSendWithContext(ctx, msg); err != nil {
		var se *gomail.SendError
		if errors.As(err, &se) && !se.IsTemp() && se.Reason == gomail.ErrSMTPRcptTo {
			return permanent{err} // the server refuses the address for good
		}
		return err
	}
	return nil
}

// permanent marks a failure that retrying will not cure.
type permanent struct{ error }

func (p permanent) Unwrap() error { return p.error }

// Sender delivers the mail in a store's outbox. Several senders (one per
// node) may run on one store: each claims a message before sending it.
type Sender struct {
	Store *db.DB
	SMTP  *SMTP
	// Host names the Message-IDs (<xiangyun.control.42@Host>).
	Host string
	// Backoff is the first retry delay, doubled on each failure up to
	// MaxBackoff.
	Backoff, MaxBackoff time.Duration
	// Lease is how long a claim keeps other senders off a message being
	// sent (default 5 minutes, well above the SMTP timeout).
	Lease time.Duration
	// MaxAttempts is how often a message is tried before it is dropped
	// (default 60: with the default backoff, over two days).
	MaxAttempts int
	Logf        func(msg string, args ...any)
}

func (s *Sender) maxAttempts() int {
	if s.MaxAttempts > 0 {
		return s.MaxAttempts
	}
	return 60
}

// Deliver sends every mail message due in the outbox once and acknowledges
// each one delivered (or refused for good). A message that fails is tried
// again by a later call, after a delay that doubles with each failure; the
// delay is kept in the database, so it holds across restarts and nodes. It
// returns how many messages it delivered.
func (s *Sender) Deliver(ctx context.Context) (int, error) {
	msgs, err := s.Store.Outbox(ctx, mailTopic, time.Time{}, 500)
	if err != nil {
		return 0, err
	}
	if len(msgs) == 0 {
		return 0, s.sweep(ctx)
	}
	sent := 0
	for _, m := range msgs {
		if ctx.Err() != nil {
			return sent, ctx.Err()
		}
		attempts, ok, err := s.claim(ctx, m.ID)
		if err != nil {
			return sent, err
		}
		if !ok {
			continue // another sender has it, or its next try is later
		}
		var ml mail
		err = json.Unmarshal(m.Payload, &ml)
		if err != nil {
			err = permanent{fmt.Errorf("unreadable mail message: %w", err)}
		} else {
			err = s.SMTP.send(ctx, s.messageID(m.ID), ml)
		}
		var p permanent
		switch {
		case err == nil:
			sent++
		case errors.As(err, &p):
			s.logf("mail dropped: refused for good", "id", m.ID, "to", ml.To, "err", err)
		case attempts+1 >= s.maxAttempts():
			s.logf("mail dropped: still failing after every retry", "id", m.ID, "to", ml.To, "attempts", attempts+1, "server", s.SMTP.String(), "err", err)
		default:
			wait := s.delay(attempts + 1)
			s.logf("mail delivery failed; will retry", "id", m.ID, "to", ml.To, "attempt", attempts+1, "retry_in", wait.String(), "server", s.SMTP.String(), "err", err)
			if err := s.release(ctx, m.ID, wait, err); err != nil {
				return sent, err
			}
			continue
		}
		if err := s.Store.Ack(ctx, m.ID); err != nil {
			return sent, err
		}
		if err := s.Store.Tx(ctx, func(tx *db.Tx) error {
			return tx.Run(`DELETE FROM notify_mail WHERE msg_id = $1`, m.ID)
		}); err != nil {
			return sent, err
		}
	}
	return sent, nil
}

// claim takes message id for this sender until the lease ends, unless
// another sender holds it or its next try is not due. It returns how many
// attempts failed before.
func (s *Sender) claim(ctx context.Context, id int64) (attempts int, ok bool, err error) {
	lease := s.Lease
	if lease <= 0 {
		lease = 5 * time.Minute
	}
	err = s.Store.Tx(ctx, func(tx *db.Tx) error {
		until := db.Time{Time: tx.Now.Add(lease)}
		err := tx.QueryRow(`INSERT INTO notify_mail (msg_id, attempts, next_at) VALUES ($1, 0, $2)
			ON CONFLICT (msg_id) DO UPDATE SET next_at = excluded.next_at WHERE notify_mail.next_at <= $3
			RETURNING attempts`, id, until, tx.Now).Scan(&attempts)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		// A sender that delivered the message drops its claim only after
		// acknowledging it, so a claim won after that finds it gone (this
		// statement sees what committed before it, also on PostgreSQL).
		var left int
		if err := tx.QueryRow(`SELECT COUNT(*) FROM xy_outbox WHERE id = $1`, id).Scan(&left); err != nil {
			return err
		}
		if left == 0 {
			return errGone
		}
		ok = true
		return nil
	})
	if errors.Is(err, errGone) {
		return 0, false, nil
	}
	return attempts, ok, db.Check(err)
}

var errGone = errors.New("notify: mail message already delivered")

// sweep removes the state of messages no longer in the outbox (a sender
// stopped between acknowledging a message and dropping its claim).
func (s *Sender) sweep(ctx context.Context) error {
	rctx, cancel := s.Store.Ctx(ctx)
	defer cancel()
	var n int
	if err := s.Store.R.QueryRowContext(rctx, `SELECT COUNT(*) FROM notify_mail`).Scan(&n); err != nil || n == 0 {
		return db.Check(err)
	}
	return s.Store.Tx(ctx, func(tx *db.Tx) error {
		return tx.Run(`DELETE FROM notify_mail WHERE NOT EXISTS (SELECT 1 FROM xy_outbox o WHERE o.id = notify_mail.msg_id)`)
	})
}

// release gives message id back after a failed try, due again after wait.
func (s *Sender) release(ctx context.Context, id int64, wait time.Duration, cause error) error {
	return s.Store.Tx(ctx, func(tx *db.Tx) error {
		return tx.Run(`UPDATE notify_mail SET attempts = attempts + 1, next_at = $1, error = $2 WHERE msg_id = $3`,
			db.Time{Time: tx.Now.Add(wait)}, clip(cause.Error(), 500), id)
	})
}

func (s *Sender) messageID(id int64) string {
	host := s.Host
	if host == "" {
		host = "xiangyun.invalid"
	}
	return "xiangyun." + s.Store.Name + "." + strconv.FormatInt(id, 10) + "@" + host
}

func (s *Sender) delay(n int) time.Duration {
	d, limit := s.Backoff, s.MaxBackoff
	if d <= 0 {
		d = 30 * time.Second
	}
	if limit <= 0 {
		limit = time.Hour
	}
	for i := 1; i < n && d < limit; i++ {
		d *= 2
	}
	return min(d, limit)
}

func (s *Sender) logf(msg string, args ...any) {
	if s.Logf != nil {
		s.Logf(msg, args...)
	}
}

// Run delivers mail every interval until ctx ends.
func (s *Sender) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if _, err := s.Deliver(ctx); err != nil && ctx.Err() == nil {
			s.logf("mail outbox read failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
