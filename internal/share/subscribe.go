package share

import (
	"context"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"xiangyun/internal/db"
)

// notifyChannel is the PostgreSQL channel share_version changes are sent on.
const notifyChannel = "xiangyun_share"

// Snapshot builds the gateway's view from the control store in one read
// transaction: live credentials (not revoked, within their overlap period,
// of active applications), in-force or future grants, and the services.
func (s *Service) Snapshot(ctx context.Context) (*Snapshot, error) {
	ctx, cancel := s.db.Ctx(ctx)
	defer cancel()
	var opts *sql.TxOptions
	if s.db.Dialect == db.Postgres {
		opts = &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true}
	}
	tx, err := s.db.R.BeginTx(ctx, opts)
	if err != nil {
		return nil, db.Check(err)
	}
	defer tx.Rollback()
	now := s.now()
	snap := &Snapshot{Built: now, Credentials: map[string]*Credential{}, Grants: map[GrantKey]*Grant{}, Services: map[int64]*ProviderService{},
		QuotaUsed: map[int64]int64{}}
	if err := tx.QueryRowContext(ctx, `SELECT version FROM share_version WHERE id = 1`).Scan(&snap.Version); err != nil {
		return nil, db.Check(err)
	}
	nowT := db.Time{Time: now}
	rows, err := tx.QueryContext(ctx, `SELECT c.key_id, c.app_id, a.body_id, c.secret_hash, c.signing_sealed, a.require_signature, c.not_after
		FROM share_credentials c JOIN share_applications a ON a.id = c.app_id
		WHERE c.revoked_at IS NULL AND (c.not_after IS NULL OR c.not_after > $1) AND a.status = 'active'`, nowT)
	if err != nil {
		return nil, db.Check(err)
	}
	for rows.Next() {
		var c Credential
		var hash, sealed string
		var notAfter db.Time
		if err := rows.Scan(&c.KeyID, &c.AppID, &c.BodyID, &hash, &sealed, &c.RequireSignature, &notAfter); err != nil {
			rows.Close()
			return nil, db.Check(err)
		}
		h, err := hex.DecodeString(hash)
		if err != nil || len(h) != 32 {
			s.opts.Log.Error("share: bad secret hash in the store; key left out", "key_id", c.KeyID)
			continue
		}
		copy(c.SecretHash[:], h)
		if c.SigningKey, err = s.unseal(c.KeyID, sealed); err != nil {
			// A key sealed under another platform key (a copied database):
			// it cannot sign, and a key that must sign cannot be used.
			s.opts.Log.Error("share: signing key cannot be unsealed (wrong platform key?)", "key_id", c.KeyID)
			if c.RequireSignature {
				continue
			}
			c.SigningKey = nil
		}
		c.NotAfter = notAfter.Time
		snap.Credentials[c.KeyID] = &c
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, db.Check(err)
	}
	rows, err = tx.QueryContext(ctx, `SELECT g.id, g.app_id, g.body_id, g.entry_id, g.items, g.clear_items, g.row_scope, g.rate, g.burst, g.daily_quota,
		g.valid_from, g.valid_to, g.purpose, g.scenario FROM share_grants g
		WHERE g.status = 'active' AND (g.valid_to IS NULL OR g.valid_to > $1)`, nowT)
	if err != nil {
		return nil, db.Check(err)
	}
	for rows.Next() {
		var g Grant
		var items, clear, scope string
		var rate int64
		var from, to db.Time
		if err := rows.Scan(&g.ID, &g.AppID, &g.BodyID, &g.EntryID, &items, &clear, &scope, &rate, &g.Burst, &g.DailyQuota,
			&from, &to, &g.Purpose, &g.Scenario); err != nil {
			rows.Close()
			return nil, db.Check(err)
		}
		_ = json.Unmarshal([]byte(items), &g.Items)
		_ = json.Unmarshal([]byte(clear), &g.ClearItems)
		_ = json.Unmarshal([]byte(scope), &g.RowScope)
		if len(g.RowScope) == 0 {
			g.RowScope = nil
		}
		g.RatePerSecond, g.ValidFrom, g.ValidTo = float64(rate), from.Time, to.Time
		snap.Grants[GrantKey{AppID: g.AppID, EntryID: g.EntryID}] = &g
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, db.Check(err)
	}
	rows, err = tx.QueryContext(ctx, `SELECT entry_id, body_id, base_url, timeout_ms FROM share_services`)
	if err != nil {
		return nil, db.Check(err)
	}
	for rows.Next() {
		var v ProviderService
		var ms int64
		if err := rows.Scan(&v.EntryID, &v.BodyID, &v.BaseURL, &ms); err != nil {
			rows.Close()
			return nil, db.Check(err)
		}
		v.Timeout = time.Duration(ms) * time.Millisecond
		snap.Services[v.EntryID] = &v
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, db.Check(err)
	}
	if s.QuotaUsed != nil {
		used, err := s.QuotaUsed(ctx)
		if err != nil {
			return nil, err
		}
		for id, n := range used {
			snap.QuotaUsed[id] = n
		}
	}
	return snap, nil
}

// Subscribe calls fn(version) after every committed change to credentials,
// grants or services: at once for changes made through this Service, and
// on PostgreSQL for changes made by any node (LISTEN/NOTIFY on a dedicated
// connection, reconnected when lost, plus a poll of share_version every
// Options.Poll as a safety net). fn runs on a background goroutine, in
// version order, never twice for one version; it must not block for long.
// cancel ends the subscription.
func (s *Service) Subscribe(fn func(version int64)) (cancel func()) {
	s.mu.Lock()
	id := s.nextSub
	s.nextSub++
	s.subs[id] = fn
	start := s.listen == nil && s.db.Dialect == db.Postgres
	var ctx context.Context
	if start {
		ctx, s.listen = context.WithCancel(context.Background())
		s.bg.Add(2)
	}
	s.mu.Unlock()
	if start {
		go s.listenLoop(ctx)
		go s.pollLoop(ctx)
	}
	return func() {
		s.mu.Lock()
		delete(s.subs, id)
		s.mu.Unlock()
	}
}

// fire tells the subscribers of version v unless they heard of it (or a
// later one) already.
func (s *Service) fire(v int64) {
	s.fireMu.Lock() // one firing at a time, so versions arrive in order
	defer s.fireMu.Unlock()
	s.mu.Lock()
	if v <= s.notified {
		s.mu.Unlock()
		return
	}
	s.notified = v
	fns := make([]func(int64), 0, len(s.subs))
	for _, fn := range s.subs {
		fns = append(fns, fn)
	}
	s.mu.Unlock()
	for _, fn := range fns {
		fn(v)
	}
}

// listenLoop holds a LISTEN connection and fires on every notification,
// reconnecting (after a short pause) when the connection is lost.
func (s *Service) listenLoop(ctx context.Context) {
	defer s.bg.Done()
	if s.opts.DSN == "" {
		return // polling only
	}
	for ctx.Err() == nil {
		err := s.listenOnce(ctx)
		if ctx.Err() != nil {
			return
		}
		s.opts.Log.Warn("share: change listener lost its connection; reconnecting", "err", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second):
		}
	}
}

func (s *Service) listenOnce(ctx context.Context) error {
	cctx, cancel := context.WithTimeout(ctx, db.ConnectTimeout)
	conn, err := pgx.Connect(cctx, s.opts.DSN)
	cancel()
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "LISTEN "+notifyChannel); err != nil {
		return err
	}
	// Whatever changed while no connection listened is caught up now.
	s.pollOnce(ctx)
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		if v, err := strconv.ParseInt(n.Payload, 10, 64); err == nil {
			s.fire(v)
		}
	}
}

func (s *Service) pollLoop(ctx context.Context) {
	defer s.bg.Done()
	t := time.NewTicker(s.opts.Poll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s.pollOnce(ctx)
		}
	}
}

func (s *Service) pollOnce(ctx context.Context) {
	v, err := s.Version(ctx)
	if err != nil {
		if ctx.Err() == nil {
			s.opts.Log.Warn("share: reading share_version", "err", err)
		}
		return
	}
	s.fire(v)
}
