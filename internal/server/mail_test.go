package server_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"xiangyun/internal/auth"
	"xiangyun/internal/catalog"
	"xiangyun/internal/org"
	"xiangyun/internal/server"
)

// inbox is a plain SMTP server on 127.0.0.1 that keeps the recipients and
// headers of what it receives.
type inbox struct {
	mu  sync.Mutex
	got []string // "to|raw message"
}

type inboxSession struct {
	in *inbox
	to []string
}

func (s *inboxSession) Reset()                               { s.to = nil }
func (s *inboxSession) Logout() error                        { return nil }
func (s *inboxSession) Mail(string, *smtp.MailOptions) error { return nil }
func (s *inboxSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.to = append(s.to, to)
	return nil
}
func (s *inboxSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	s.in.mu.Lock()
	s.in.got = append(s.in.got, strings.Join(s.to, ",")+"|"+string(b))
	s.in.mu.Unlock()
	return err
}

// TestMailWiring: with --smtp-url, a catalog submission mails the reviewer
// (who has an address) through the outbox and the server's mail sender.
func TestMailWiring(t *testing.T) {
	in := &inbox{}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &inboxSession{in: in}, nil }))
	srv.Domain = "localhost"
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()

	ctx := context.Background()
	dir := t.TempDir()
	s, err := server.Open(ctx, server.Config{DB: "sqlite:" + dir, DataDir: dir, AuditKeyFile: filepath.Join(dir, "audit.key"),
		SMTPURL: "smtp://" + ln.Addr().String(), SMTPFrom: "noreply@example.gov.cn", PublicURL: "https://data.example.gov.cn"},
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.Mail == nil {
		t.Fatal("no mail sender with --smtp-url")
	}
	if _, err := s.Orgs.CreateRegion(ctx, org.Region{Code: "220000", Name: "吉林省"}); err != nil {
		t.Fatal(err)
	}
	bureau, err := s.Orgs.CreateBody(ctx, org.BodyInput{Name: "吉林省政务服务和数字化建设管理局", CreditCode: "11220000MB1726532F", Kind: org.KindAgency, RegionCode: "220000"})
	if err != nil {
		t.Fatal(err)
	}
	dept, err := s.Orgs.CreateBody(ctx, org.BodyInput{Name: "吉林省公安厅", CreditCode: "91350100M000100Y43", Kind: org.KindAgency, RegionCode: "220000"})
	if err != nil {
		t.Fatal(err)
	}
	mk := func(name string, body org.Body, r auth.Role, email string) *auth.Principal {
		u, err := s.Auth.CreateUser(ctx, auth.UserInput{Username: name, DisplayName: name, BodyID: body.ID, Email: email, Password: pw})
		if err == nil {
			err = s.Auth.GrantRole(ctx, 0, u.ID, r, body.ID)
		}
		if err == nil {
			u, err = s.Auth.User(ctx, u.ID)
		}
		if err != nil {
			t.Fatal(err)
		}
		return &auth.Principal{User: u}
	}
	mk("reviewer", bureau, auth.RoleReviewer, "reviewer@example.gov.cn")
	cdo := mk("police_cdo", dept, auth.RoleChiefDataOfficer, "")
	e, err := s.Catalog.Create(ctx, cdo, catalog.EntryInput{ProviderID: dept.ID, Content: catalog.Content{
		Name: "吉林省常住人口基本信息", Class: "1/01/001", Abstract: "全省户籍人口的姓名、公民身份号码等基本信息。",
		FormatClass: "database", FormatType: "oracle",
		Items:     []catalog.Item{{Name: "公民身份号码", EnName: "gmsfhm", DataType: "C", Length: 18, Key: true, Sensitive: true, Mask: "id_card"}},
		ShareType: catalog.ShareConditional, ShareCondition: "仅用于政务服务身份核验", ShareMethod: catalog.MethodAPI, ShareChannel: "platform",
		OpenType: catalog.OpenNone, OpenCondition: "涉及个人信息，不予开放", Cycle: "daily", Grade: "L3"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Catalog.Submit(ctx, cdo, e.ID, ""); err != nil {
		t.Fatal(err)
	}
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if n, err := s.Mail.Deliver(sctx); err != nil || n != 1 {
		t.Fatalf("deliver: %d %v", n, err)
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	if len(in.got) != 1 || !strings.HasPrefix(in.got[0], "reviewer@example.gov.cn|") || !strings.Contains(in.got[0], "https://data.example.gov.cn/catalog/") {
		t.Fatalf("received: %q", in.got)
	}
}
