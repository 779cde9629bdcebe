package share

import (
	"time"
)

// This file is the contract between the control plane (this package: applications, requests, reviews, grants) and
// the data plane (internal/gateway). The gateway answers every call from an in-memory Snapshot and never reads the
// control tables on the hot path; the share service builds snapshots and tells every node when they change.

// Credential is one key of an application (应用凭据) as the gateway checks it.
type Credential struct {
	KeyID  string // public, sent as X-Client-Id
	AppID  int64
	BodyID int64 // the consuming body (使用部门) that owns the application
	// SecretHash is SHA-256 of the secret. Secrets are 256-bit random strings made by the platform, not passwords,
	// so a fast hash is safe and keeps the check cheap on the hot path.
	SecretHash [32]byte
	// SigningKey is the HMAC-SHA256 key for signed requests, derived from the secret; nil when the key does not
	// sign. RequireSignature refuses bearer-only calls with this key.
	SigningKey       []byte
	RequireSignature bool
	// NotAfter ends a rotated-out key's overlap period; zero means no end.
	NotAfter time.Time
}

// Grant is a sharing agreement (共享授权) as the gateway enforces it.
type Grant struct {
	ID      int64
	AppID   int64
	BodyID  int64 // consuming body
	EntryID int64
	// Items are the granted data item names (最小够用); only these are returned or compared.
	Items []string
	// ClearItems are granted unmasked; every other item is masked by its rule (L3/L4 items always masked unless
	// listed here).
	ClearItems []string
	// RowScope restricts rows: item name → required value (e.g. 行政区划代码 → 220100). Empty: all rows.
	RowScope map[string]string
	// RatePerSecond and Burst bound calls per node; DailyQuota bounds calls per calendar day (Asia/Shanghai) across
	// nodes. Zero means unlimited.
	RatePerSecond float64
	Burst         int
	DailyQuota    int64
	ValidFrom     time.Time
	ValidTo       time.Time // zero: no end
	Purpose       string    // the purpose stated in the request, logged with each call
	Scenario      string    // 应用场景 name when granted through a scenario
}

// Allows reports whether the grant is in force at now.
func (g *Grant) Allows(now time.Time) bool {
	return !now.Before(g.ValidFrom) && (g.ValidTo.IsZero() || now.Before(g.ValidTo))
}

// ProviderService is an HTTP service a providing body registers on an entry (服务接口); the gateway forwards
// service calls to it.
type ProviderService struct {
	EntryID int64
	BodyID  int64 // the providing body
	BaseURL string
	Timeout time.Duration
}

// GrantKey finds the grant of an application on an entry.
type GrantKey struct{ AppID, EntryID int64 }

// Snapshot is everything the gateway needs to decide a call. It is immutable once built: a change builds a new one.
type Snapshot struct {
	// Version rises with every change to credentials, grants or services (a counter row in the control store).
	Version     int64
	Built       time.Time
	Credentials map[string]*Credential // by KeyID
	Grants      map[GrantKey]*Grant    // in-force or future grants only; revoked and expired ones are left out
	Services    map[int64]*ProviderService
	// QuotaUsed is each grant's calls counted today (all nodes) when the snapshot was built.
	QuotaUsed map[int64]int64
}

// CallCount is a count of gateway calls of one kind on one day, as the gateway flushes them (every second and at
// shutdown) into the statistics table (internal/share/stats.go). Outcome is "ok" or the refusal code
// (e.g. "gw.no_grant", "gw.rate_limited").
type CallCount struct {
	Day       string // YYYY-MM-DD in Asia/Shanghai
	AppID     int64
	BodyID    int64 // consuming body
	EntryID   int64
	GrantID   int64
	Kind      string // query, verify, service
	Outcome   string
	Purpose   string
	Calls     int64
	LatencyUS int64 // summed latency in microseconds
}

// The share service (internal/share, built beside this file) offers the gateway:
//
//	func (s *Service) Snapshot(ctx context.Context) (*Snapshot, error)   // build from the control store
//	func (s *Service) Subscribe(fn func(version int64)) (cancel func())  // called after every change is committed,
//	                                                                      // on this node and on every other node
//	func (s *Service) RecordCalls(ctx context.Context, counts []CallCount) error  // stats.go, owned by the gateway work
