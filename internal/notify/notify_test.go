package notify_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io"
	"math/big"
	"mime"
	"net"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"xiangyun/internal/db"
	"xiangyun/internal/db/dbtest"
	"xiangyun/internal/errs"
	"xiangyun/internal/notify"
)

func open(t *testing.T, dsn string, opts notify.Options) (*db.DB, *notify.Service) {
	t.Helper()
	store := dbtest.Open(t, dsn, "control")
	s, err := notify.Open(context.Background(), store, opts)
	if err != nil {
		t.Fatal(err)
	}
	return store, s
}

func send(t *testing.T, store *db.DB, s *notify.Service, n notify.Notice) int {
	t.Helper()
	var c int
	err := store.Tx(context.Background(), func(tx *db.Tx) error {
		var err error
		c, err = s.Send(tx, n)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func notice(title string, to ...int64) notify.Notice {
	n := notify.Notice{Kind: notify.KindReturned, TitleZH: "目录被退回：" + title, TitleEN: "Entry returned: " + title,
		BodyZH: "请修改后重新提交。", BodyEN: "Revise and submit again.", Link: "/catalog/7"}
	for _, id := range to {
		n.To = append(n.To, notify.Recipient{UserID: id, Email: fmt.Sprintf("user%d@example.gov.cn", id)})
	}
	return n
}

func unread(t *testing.T, s *notify.Service, user int64) int {
	t.Helper()
	n, err := s.Unread(context.Background(), user)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestInbox(t *testing.T) {
	for dialect, dsn := range dbtest.TestDSNs(t) {
		t.Run(string(dialect), func(t *testing.T) {
			ctx := context.Background()
			store, s := open(t, dsn(t), notify.Options{})
			// A recipient named twice gets one notification.
			if c := send(t, store, s, notice("人口库", 1, 2, 1)); c != 2 {
				t.Fatalf("sent %d, want 2", c)
			}
			send(t, store, s, notice("法人库", 1))
			if got := unread(t, s, 1); got != 2 {
				t.Fatalf("user 1 unread = %d, want 2", got)
			}
			if got := unread(t, s, 2); got != 1 {
				t.Fatalf("user 2 unread = %d, want 1", got)
			}
			ns, total, err := s.List(ctx, 1, "en", notify.Filter{})
			if err != nil || total != 2 || len(ns) != 2 {
				t.Fatalf("list: %v %d %d", err, total, len(ns))
			}
			if ns[0].Title != "Entry returned: 法人库" || ns[0].Link != "/catalog/7" || ns[0].Read {
				t.Fatalf("newest first, in English: %+v", ns[0])
			}
			zh, _, _ := s.List(ctx, 1, "zh", notify.Filter{Limit: 1})
			if len(zh) != 1 || zh[0].Title != "目录被退回：法人库" || zh[0].Body != "请修改后重新提交。" {
				t.Fatalf("Chinese page of one: %+v", zh)
			}
			// Nobody marks another's notification: it does not exist for them.
			theirs, _, _ := s.List(ctx, 2, "zh", notify.Filter{})
			if err := s.MarkRead(ctx, 1, theirs[0].ID); errs.KindOf(err) != errs.KindNotFound {
				t.Fatalf("marking another's notification: %v, want not found", err)
			}
			if got := unread(t, s, 2); got != 1 {
				t.Fatalf("user 2 unread after user 1's attempt = %d", got)
			}
			if err := s.MarkRead(ctx, 1, ns[0].ID); err != nil {
				t.Fatal(err)
			}
			if err := s.MarkRead(ctx, 1, ns[0].ID); err != nil {
				t.Fatalf("marking read twice: %v", err)
			}
			if got := unread(t, s, 1); got != 1 {
				t.Fatalf("unread after mark = %d, want 1", got)
			}
			only, total, _ := s.List(ctx, 1, "zh", notify.Filter{UnreadOnly: true})
			if total != 1 || only[0].ID != ns[1].ID {
				t.Fatalf("unread only: %d %+v", total, only)
			}
			if n, err := s.MarkAllRead(ctx, 1); err != nil || n != 1 {
				t.Fatalf("mark all: %d %v", n, err)
			}
			if unread(t, s, 1) != 0 || unread(t, s, 2) != 1 {
				t.Fatal("mark all read touched the wrong inbox")
			}
			// A notice whose transaction rolls back leaves nothing.
			boom := errors.New("boom")
			err = store.Tx(ctx, func(tx *db.Tx) error {
				if _, err := s.Send(tx, notice("回滚", 3)); err != nil {
					return err
				}
				return boom
			})
			if !errors.Is(err, boom) || unread(t, s, 3) != 0 {
				t.Fatalf("rolled-back notice: %v, unread %d", err, unread(t, s, 3))
			}
		})
	}
}

// TestKeyedOnce sends the same keyed notice from many concurrent
// transactions (as two nodes running the deadline job would): each
// recipient gets it, and its e-mail, exactly once.
func TestKeyedOnce(t *testing.T) {
	for dialect, dsn := range dbtest.TestDSNs(t) {
		t.Run(string(dialect), func(t *testing.T) {
			ctx := context.Background()
			store, s := open(t, dsn(t), notify.Options{Mail: true})
			n := notice("超期", 1, 2, 3)
			n.Key = "review.deadline_passed:9:1700000000"
			var wg sync.WaitGroup
			var mu sync.Mutex
			total := 0
			for range 6 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					err := store.Tx(ctx, func(tx *db.Tx) error {
						c, err := s.Send(tx, n)
						mu.Lock()
						total += c
						mu.Unlock()
						return err
					})
					if err != nil {
						t.Error(err)
					}
				}()
			}
			wg.Wait()
			if total != 3 {
				t.Fatalf("wrote %d notifications in all, want 3", total)
			}
			for _, u := range []int64{1, 2, 3} {
				if got := unread(t, s, u); got != 1 {
					t.Fatalf("user %d has %d, want 1", u, got)
				}
			}
			msgs, err := store.Outbox(ctx, "mail", time.Time{}, 100)
			if err != nil || len(msgs) != 3 {
				t.Fatalf("mail messages: %d %v, want 3", len(msgs), err)
			}
			err = store.Tx(ctx, func(tx *db.Tx) error {
				sent, err := s.Sent(tx, []string{n.Key, "other"})
				if err == nil && (!sent[n.Key] || sent["other"]) {
					err = fmt.Errorf("sent = %v", sent)
				}
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
		})
	}
}

// smtpServer is a real SMTP server on 127.0.0.1 that keeps what it
// receives; it offers STARTTLS, and AUTH only after it, and takes mail only
// from a client that signed in when user is set.
type smtpServer struct {
	addr       string
	user, pass string
	mu         sync.Mutex
	got        []received
	srv        *smtp.Server
	refuse     bool // answer every message with a temporary failure
}

type received struct {
	from string
	to   []string
	msg  *mail.Message
	body string
}

func startSMTP(t *testing.T, user, pass string) *smtpServer {
	t.Helper()
	s := &smtpServer{user: user, pass: pass}
	s.srv = smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &session{srv: s}, nil }))
	s.srv.Domain = "localhost"
	s.srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{testCert(t)}}
	s.srv.ReadTimeout, s.srv.WriteTimeout = 10*time.Second, 10*time.Second
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.addr = ln.Addr().String()
	go func() { _ = s.srv.Serve(ln) }()
	t.Cleanup(func() { s.srv.Close() })
	return s
}

func (s *smtpServer) messages() []received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]received(nil), s.got...)
}

type session struct {
	srv    *smtpServer
	authed bool
	from   string
	to     []string
}

func (x *session) AuthMechanisms() []string { return []string{sasl.Plain} }
func (x *session) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != x.srv.user || pass != x.srv.pass {
			return errors.New("bad credentials")
		}
		x.authed = true
		return nil
	}), nil
}
func (x *session) Mail(from string, _ *smtp.MailOptions) error {
	if x.srv.user != "" && !x.authed {
		return smtp.ErrAuthRequired
	}
	x.from = from
	return nil
}
func (x *session) Rcpt(to string, _ *smtp.RcptOptions) error { x.to = append(x.to, to); return nil }
func (x *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	x.srv.mu.Lock()
	defer x.srv.mu.Unlock()
	if x.srv.refuse {
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try again later"}
	}
	m, err := mail.ReadMessage(bytes.NewReader(b))
	if err != nil {
		return err
	}
	body, _ := io.ReadAll(m.Body)
	x.srv.got = append(x.srv.got, received{from: x.from, to: x.to, msg: m, body: string(body)})
	return nil
}
func (x *session) Reset()        { x.from, x.to = "", nil }
func (x *session) Logout() error { return nil }

var (
	certOnce sync.Once
	cert     tls.Certificate
)

// testCert is a self-signed certificate for 127.0.0.1: the server offers
// STARTTLS, as real ones do before taking a password.
func testCert(t *testing.T) tls.Certificate {
	certOnce.Do(func() {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
			IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
			KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
			BasicConstraintsValid: true, IsCA: true}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
		if err != nil {
			t.Fatal(err)
		}
		cert = tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
	})
	return cert
}

func certPool(t *testing.T) *x509.CertPool {
	c, err := x509.ParseCertificate(testCert(t).Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(c)
	return pool
}

// TestMailThroughOutbox: the notice's e-mail is written to the outbox in
// the change's transaction; the process "crashes" before sending it; a new
// sender (after restart) delivers it once, to the right address with the
// right subject, authenticating without ever logging the password.
func TestMailThroughOutbox(t *testing.T) {
	for dialect, dsn := range dbtest.TestDSNs(t) {
		t.Run(string(dialect), func(t *testing.T) {
			ctx := context.Background()
			srv := startSMTP(t, "mailer", "s3cret-Pa55")
			d := dsn(t)
			store, s := open(t, d, notify.Options{Mail: true, BaseURL: "https://data.example.gov.cn/"})
			send(t, store, s, notice("人口库", 42))
			// The crash: nothing was sent, and the store is closed.
			store.Close()
			if len(srv.messages()) != 0 {
				t.Fatal("mail went out before any sender ran")
			}

			store2, _ := open(t, d, notify.Options{Mail: true})
			cfg, err := notify.ParseSMTP("smtp://mailer:s3cret-Pa55@"+srv.addr, "祥云平台 <noreply@example.gov.cn>")
			if err != nil {
				t.Fatal(err)
			}
			cfg.TLSConfig = &tls.Config{RootCAs: certPool(t), ServerName: "127.0.0.1"}
			var logs bytes.Buffer
			sender := &notify.Sender{Store: store2, SMTP: cfg, Host: "example.gov.cn", Backoff: time.Millisecond,
				Logf: func(msg string, args ...any) { fmt.Fprintln(&logs, msg, args) }}

			// First the server refuses for a while: the message stays, and
			// is retried after the backoff.
			srv.mu.Lock()
			srv.refuse = true
			srv.mu.Unlock()
			if n, err := sender.Deliver(ctx); err != nil || n != 0 {
				t.Fatalf("deliver while refused: %d %v", n, err)
			}
			if msgs, _ := store2.Outbox(ctx, "mail", time.Time{}, 10); len(msgs) != 1 {
				t.Fatalf("a failed message must stay in the outbox, have %d", len(msgs))
			}
			srv.mu.Lock()
			srv.refuse = false
			srv.mu.Unlock()
			time.Sleep(5 * time.Millisecond)
			if n, err := sender.Deliver(ctx); err != nil || n != 1 {
				t.Fatalf("deliver: %d %v\n%s", n, err, logs.String())
			}
			if n, err := sender.Deliver(ctx); err != nil || n != 0 {
				t.Fatalf("second pass delivered %d (%v), want 0", n, err)
			}
			got := srv.messages()
			if len(got) != 1 {
				t.Fatalf("server received %d messages, want 1", len(got))
			}
			m := got[0]
			if len(m.to) != 1 || m.to[0] != "user42@example.gov.cn" || m.from != "noreply@example.gov.cn" {
				t.Fatalf("envelope from %q to %v", m.from, m.to)
			}
			subj, err := new(mime.WordDecoder).DecodeHeader(m.msg.Header.Get("Subject"))
			if err != nil || subj != "目录被退回：人口库 / Entry returned: 人口库" {
				t.Fatalf("subject %q (%v)", subj, err)
			}
			if id := m.msg.Header.Get("Message-Id"); !strings.HasPrefix(id, "<xiangyun.control.") || !strings.HasSuffix(id, "@example.gov.cn>") {
				t.Fatalf("message id %q", id)
			}
			if !strings.Contains(logs.String(), "will retry") || strings.Contains(logs.String(), "s3cret-Pa55") {
				t.Fatalf("logs must report the retry and never the password:\n%s", logs.String())
			}
			if msgs, _ := store2.Outbox(ctx, "mail", time.Time{}, 10); len(msgs) != 0 {
				t.Fatalf("delivered mail left in the outbox: %d", len(msgs))
			}

			// Two nodes' senders at once: each message goes out once.
			_, s2 := open(t, d, notify.Options{Mail: true})
			send(t, store2, s2, notice("法人库", 1, 2, 3, 4, 5))
			other := &notify.Sender{Store: store2, SMTP: cfg, Host: "example.gov.cn"}
			var wg sync.WaitGroup
			var delivered [2]int
			for i, sd := range []*notify.Sender{sender, other} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					n, err := sd.Deliver(ctx)
					if err != nil {
						t.Error(err)
					}
					delivered[i] = n
				}()
			}
			wg.Wait()
			if got := len(srv.messages()); got != 6 || delivered[0]+delivered[1] != 5 {
				t.Fatalf("two senders: server has %d messages (want 6), senders report %v", got, delivered)
			}
		})
	}
}

func TestParseSMTP(t *testing.T) {
	for _, c := range []struct {
		url, from, want, err string
	}{
		{"smtp://u:p@mail.example.gov.cn:2525", "a@example.gov.cn", "smtp://u@mail.example.gov.cn:2525", ""},
		{"smtp://mail.example.gov.cn", "a@example.gov.cn", "smtp://mail.example.gov.cn:587", ""},
		{"smtps://u:p@mail.example.gov.cn", "a@example.gov.cn", "smtps://u@mail.example.gov.cn:465", ""},
		{"http://mail.example.gov.cn", "a@example.gov.cn", "", "scheme"},
		{"smtp://u:p@mail.example.gov.cn:2525", "", "", "sender"},
		{"smtp://u:p@mail.example.gov.cn:2525", "not an address", "", "sender address"},
		{"smtp://u:secret@host:99999", "a@example.gov.cn", "", "port"},
		{"smtp://u:secret@[bad", "a@example.gov.cn", "", "smtp url"},
	} {
		got, err := notify.ParseSMTP(c.url, c.from)
		switch {
		case c.err != "":
			if err == nil || !strings.Contains(err.Error(), c.err) || strings.Contains(err.Error(), "secret") {
				t.Errorf("%s: error %v, want one about %q without the password", c.url, err, c.err)
			}
		case err != nil:
			t.Errorf("%s: %v", c.url, err)
		case got.String() != c.want:
			t.Errorf("%s: %s, want %s", c.url, got, c.want)
		}
	}
}

// TestMailGivesUp: a message the server keeps refusing is retried with
// backoff and dropped after MaxAttempts, so the outbox does not grow.
func TestMailGivesUp(t *testing.T) {
	ctx := context.Background()
	srv := startSMTP(t, "", "")
	srv.mu.Lock()
	srv.refuse = true
	srv.mu.Unlock()
	store, s := open(t, "sqlite:"+t.TempDir(), notify.Options{Mail: true})
	send(t, store, s, notice("人口库", 7))
	cfg, err := notify.ParseSMTP("smtp://"+srv.addr, "noreply@example.gov.cn")
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	sender := &notify.Sender{Store: store, SMTP: cfg, Backoff: time.Hour, MaxAttempts: 2, Logf: func(msg string, args ...any) { fmt.Fprintln(&logs, msg, args) }}
	for range 2 {
		if _, err := sender.Deliver(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if msgs, _ := store.Outbox(ctx, "mail", time.Time{}, 10); len(msgs) != 1 {
		t.Fatalf("the second pass came before the backoff ended, yet the message is gone or doubled: %d", len(msgs))
	}
	sender.Backoff = time.Millisecond
	store.Clock = func() time.Time { return time.Now().Add(2 * time.Hour) } // the hour of backoff has passed
	if _, err := sender.Deliver(ctx); err != nil {
		t.Fatal(err)
	}
	if msgs, _ := store.Outbox(ctx, "mail", time.Time{}, 10); len(msgs) != 0 || !strings.Contains(logs.String(), "still failing after every retry") {
		t.Fatalf("after %d attempts: %d messages left; log:\n%s", sender.MaxAttempts, len(msgs), logs.String())
	}
}
