package share

import (
	"context"
	"net/url"
	"strings"
	"time"

	"xiangyun/internal/auth"
	"xiangyun/internal/catalog"
	"xiangyun/internal/db"
	"xiangyun/internal/errs"
)

// Service registrations (服务接口): a providing body's own HTTP service on
// one of its entries, to which the gateway forwards service calls.
type ServiceInfo struct {
	ID        int64     `json:"id"`
	EntryID   int64     `json:"entry_id"`
	EntryCode string    `json:"entry_code"`
	EntryName string    `json:"entry_name"`
	BodyID    int64     `json:"body_id"`
	Body      string    `json:"body"`
	BaseURL   string    `json:"base_url"`
	TimeoutMS int64     `json:"timeout_ms"`
	CreatedBy string    `json:"created_by"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// ServiceInput registers or changes a service.
type ServiceInput struct {
	EntryID   int64  `json:"entry_id"`
	BaseURL   string `json:"base_url"`
	TimeoutMS int64  `json:"timeout_ms,omitempty" doc:"default 10000; 100 to 60000"`
}

var errServiceNotFound = errs.NotFound("share.service_not_found", "服务接口不存在", "no such service")

// checkURL accepts absolute http and https URLs with a host, no user
// information and no fragment.
func checkURL(fs *errs.Fields, raw string) string {
	raw = strings.TrimSpace(raw)
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Hostname() == "" || u.User != nil || u.Fragment != "" ||
		u.RawQuery != "" || len(raw) > 500 {
		fs.Add("base_url", "share.bad_url", "服务地址须是 http 或 https 的完整地址（不含用户名、查询串和片段）",
			"the base URL must be an absolute http or https URL without user information, query or fragment")
		return raw
	}
	return strings.TrimRight(u.String(), "/")
}

func (s *Service) checkService(ctx context.Context, p *auth.Principal, in *ServiceInput) (catalog.Entry, error) {
	e, err := s.catalog.Get(ctx, catalog.System, in.EntryID)
	if err != nil {
		return e, err
	}
	if p != System && !bodyRole(p, auth.PermShareService, e.ProviderID) {
		return e, errs.Forbidden("share.service_forbidden", "只能为本单位的目录登记服务接口", "you may only register services on your own body's entries")
	}
	var fs errs.Fields
	in.BaseURL = checkURL(&fs, in.BaseURL)
	if in.TimeoutMS == 0 {
		in.TimeoutMS = 10000
	}
	if in.TimeoutMS < 100 || in.TimeoutMS > 60000 {
		fs.Add("timeout_ms", "share.bad_timeout", "超时须在 100 到 60000 毫秒之间", "the timeout must be 100 to 60000 ms")
	}
	if e.Status != catalog.StatusPublished || e.ShareType == catalog.ShareNone || e.ShareMethod != catalog.MethodAPI {
		fs.Add("entry_id", "share.service_entry", "只能为已发布、以接口方式共享的目录登记服务", "services are registered on published entries shared as an API")
	}
	return e, fs.Err()
}

// RegisterService registers the providing body's service on an entry (its
// chief data officer); one service per entry.
func (s *Service) RegisterService(ctx context.Context, p *auth.Principal, in ServiceInput) (ServiceInfo, error) {
	e, err := s.checkService(ctx, p, &in)
	if err != nil {
		return ServiceInfo{}, err
	}
	_, who := actor(p)
	var id int64
	err = s.db.Tx(ctx, func(tx *db.Tx) error {
		if err := tx.QueryRow(`INSERT INTO share_services (entry_id, body_id, base_url, timeout_ms, created_by, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING id`,
			e.ID, e.ProviderID, in.BaseURL, in.TimeoutMS, who, tx.Now).Scan(&id); err != nil {
			return err
		}
		return s.bump(tx)
	})
	if db.IsUniqueViolation(err) {
		return ServiceInfo{}, errs.Conflict("share.service_exists", "该目录已登记服务接口", "the entry has a service already")
	}
	if err != nil {
		return ServiceInfo{}, db.Check(err)
	}
	return s.ServiceByID(ctx, id)
}

// UpdateService changes a service's address or timeout.
func (s *Service) UpdateService(ctx context.Context, p *auth.Principal, id int64, in ServiceInput) (ServiceInfo, error) {
	cur, err := s.ServiceByID(ctx, id)
	if err != nil {
		return cur, err
	}
	in.EntryID = cur.EntryID
	if _, err := s.checkService(ctx, p, &in); err != nil {
		return ServiceInfo{}, err
	}
	err = s.db.Tx(ctx, func(tx *db.Tx) error {
		if err := tx.Run(`UPDATE share_services SET base_url = $1, timeout_ms = $2, updated_at = $3 WHERE id = $4`, in.BaseURL, in.TimeoutMS, tx.Now, id); err != nil {
			return err
		}
		return s.bump(tx)
	})
	if err != nil {
		return ServiceInfo{}, db.Check(err)
	}
	return s.ServiceByID(ctx, id)
}

// DeleteService removes a service registration.
func (s *Service) DeleteService(ctx context.Context, p *auth.Principal, id int64) error {
	cur, err := s.ServiceByID(ctx, id)
	if err != nil {
		return err
	}
	if p != System && !bodyRole(p, auth.PermShareService, cur.BodyID) {
		return errs.Forbidden("share.service_forbidden", "只能管理本单位的服务接口", "you may only manage your own body's services")
	}
	return db.Check(s.db.Tx(ctx, func(tx *db.Tx) error {
		res, err := tx.Exec(`DELETE FROM share_services WHERE id = $1`, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return errServiceNotFound
		}
		return s.bump(tx)
	}))
}

const serviceSelect = `SELECT id, entry_id, body_id, base_url, timeout_ms, created_by, created_at, updated_at FROM share_services`

func (s *Service) services(ctx context.Context, tail string, args ...any) ([]ServiceInfo, error) {
	rctx, cancel := s.db.Ctx(ctx)
	defer cancel()
	rows, err := s.db.R.QueryContext(rctx, serviceSelect+tail, args...)
	if err != nil {
		return nil, db.Check(err)
	}
	out := []ServiceInfo{}
	for rows.Next() {
		var v ServiceInfo
		var created, upd db.Time
		if err := rows.Scan(&v.ID, &v.EntryID, &v.BodyID, &v.BaseURL, &v.TimeoutMS, &v.CreatedBy, &created, &upd); err != nil {
			rows.Close()
			return nil, db.Check(err)
		}
		v.CreatedAt, v.UpdatedAt = created.Time, upd.Time
		out = append(out, v)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, db.Check(err)
	}
	for i := range out {
		if e, err := s.catalog.Get(ctx, catalog.System, out[i].EntryID); err == nil {
			out[i].EntryCode, out[i].EntryName = e.Code, e.Name
		}
		out[i].Body = s.bodyName(ctx, out[i].BodyID)
	}
	return out, nil
}

// ServiceByID returns one service registration.
func (s *Service) ServiceByID(ctx context.Context, id int64) (ServiceInfo, error) {
	vs, err := s.services(ctx, ` WHERE id = $1`, id)
	if err != nil {
		return ServiceInfo{}, err
	}
	if len(vs) == 0 {
		return ServiceInfo{}, errServiceNotFound
	}
	return vs[0], nil
}

// Services lists the services of the bodies p acts for; reviewers see all.
func (s *Service) Services(ctx context.Context, p *auth.Principal) ([]ServiceInfo, error) {
	if p == System || p.Global(auth.PermShareRead) {
		return s.services(ctx, ` ORDER BY id`)
	}
	bs := p.BodiesWith(auth.PermShareRead)
	if len(bs) == 0 {
		return []ServiceInfo{}, nil
	}
	q, args := db.InList(` WHERE body_id IN `, bs)
	return s.services(ctx, q+` ORDER BY id`, args...)
}
