package gateway

import (
	"context"
	"encoding/json"
	"io"
	"net/url"
	"sync"
	"time"

	"github.com/sony/gobreaker/v2"

	"xiangyun/internal/catalog"
	"xiangyun/internal/errs"
)

// entryCache keeps the catalog description of the entries called (items,
// masks, grade), so that a call costs no catalog query. A publication
// clears the entry at once; a snapshot swap clears all; EntryTTL bounds the
// rest (a withdrawal, which runs no publication hook).
type entryCache struct {
	cat *catalog.Service
	ttl time.Duration
	mu  sync.RWMutex
	m   map[int64]*cachedEntry
	// gen rises on every clear, so a load that raced a clear is not kept.
	gen uint64
}

type cachedEntry struct {
	e      catalog.Entry
	loaded time.Time
}

func (c *entryCache) init(cat *catalog.Service, ttl time.Duration) {
	c.cat, c.ttl, c.m = cat, ttl, map[int64]*cachedEntry{}
}

func (c *entryCache) forget(id int64) {
	c.mu.Lock()
	delete(c.m, id)
	c.gen++
	c.mu.Unlock()
}

func (c *entryCache) clear() {
	c.mu.Lock()
	c.m = map[int64]*cachedEntry{}
	c.gen++
	c.mu.Unlock()
}

// get returns a published entry; records says it must hold records.
func (c *entryCache) get(ctx context.Context, id int64, records bool) (*catalog.Entry, *Problem) {
	c.mu.RLock()
	ce, gen := c.m[id], c.gen
	c.mu.RUnlock()
	if ce == nil || time.Since(ce.loaded) > c.ttl {
		e, err := c.cat.Get(ctx, catalog.System, id)
		if err != nil {
			if errs.KindOf(err) == errs.KindNotFound {
				return nil, errNoEntry
			}
			return nil, errUnavailable
		}
		ce = &cachedEntry{e: e, loaded: time.Now()}
		c.mu.Lock()
		if c.gen == gen {
			c.m[id] = ce
		}
		c.mu.Unlock()
	}
	e := &ce.e
	if e.Status != catalog.StatusPublished {
		return nil, errNoEntry
	}
	if records && e.ShareMethod != catalog.MethodTable && e.ShareMethod != catalog.MethodAPI {
		return nil, errNoEntry
	}
	return e, nil
}

// breakers keeps one circuit breaker per provider service (by entry).
type breakers struct {
	mu       sync.Mutex
	m        map[int64]*gobreaker.CircuitBreaker[*answer]
	failures uint32
	open     time.Duration
}

func (b *breakers) init(failures uint32, open time.Duration) {
	b.failures, b.open, b.m = failures, open, map[int64]*gobreaker.CircuitBreaker[*answer]{}
}

func (b *breakers) get(entryID int64, baseURL string) *gobreaker.CircuitBreaker[*answer] {
	b.mu.Lock()
	defer b.mu.Unlock()
	cb := b.m[entryID]
	if cb == nil || cb.Name() != baseURL {
		n := b.failures
		cb = gobreaker.NewCircuitBreaker[*answer](gobreaker.Settings{
			Name:        baseURL,
			MaxRequests: 1, // half-open: one probe
			Timeout:     b.open,
			ReadyToTrip: func(c gobreaker.Counts) bool { return c.ConsecutiveFailures >= n },
		})
		b.m[entryID] = cb
	}
	return cb
}

// state names the breaker's state for tests and metrics.
func (b *breakers) state(entryID int64) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	if cb := b.m[entryID]; cb != nil {
		return cb.State().String()
	}
	return "closed"
}

// answer is a provider service's answer as the breaker passes it on.
type answer struct {
	status int
	ctype  string
	body   []byte
}

func newEncoder(w io.Writer) *json.Encoder {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc
}

func urlUnescape(s string) (string, error) { return url.PathUnescape(s) }
