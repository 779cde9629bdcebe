package gateway

import (
	"context"
	"math"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"xiangyun/internal/audit"
	"xiangyun/internal/share"
)

// limiter holds one token bucket per grant on this node.
type limiter struct {
	mu sync.Mutex
	m  map[int64]*grantLimit
}

type grantLimit struct {
	rps   float64
	burst int
	lim   *rate.Limiter
}

// allow takes a token of the grant's bucket or says how long to wait.
func (l *limiter) allow(g *share.Grant, now time.Time) *Problem {
	if g.RatePerSecond <= 0 {
		return nil
	}
	burst := g.Burst
	if burst <= 0 {
		burst = max(1, int(math.Ceil(g.RatePerSecond)))
	}
	l.mu.Lock()
	if l.m == nil {
		l.m = map[int64]*grantLimit{}
	}
	gl := l.m[g.ID]
	if gl == nil || gl.rps != g.RatePerSecond || gl.burst != burst {
		gl = &grantLimit{rps: g.RatePerSecond, burst: burst, lim: rate.NewLimiter(rate.Limit(g.RatePerSecond), burst)}
		l.m[g.ID] = gl
	}
	l.mu.Unlock()
	r := gl.lim.ReserveN(now, 1)
	if !r.OK() {
		return errRateLimited.after(1)
	}
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return errRateLimited.after(int(math.Ceil(d.Seconds())))
	}
	return nil
}

// takeQuota reserves a call's place in the grant's daily quota (given back
// by count if the call does not succeed). The calls of the day are the
// snapshot's QuotaUsed (all nodes' successful calls, as flushed to the
// statistics before the snapshot was built) plus this node's calls since
// then; this node's calls already flushed when the snapshot was requested
// are in QuotaUsed and not counted twice.
func (g *Gateway) takeQuota(st *snapState, gr *share.Grant, now time.Time) *Problem {
	day := dayOf(now)
	mine := g.stats.admitted(day, gr.ID)
	n := mine.Add(1)
	if gr.DailyQuota <= 0 {
		return nil
	}
	var used int64
	if st.day == day {
		used = st.snap.QuotaUsed[gr.ID] - st.flushedAt[gr.ID]
	}
	if used+n > gr.DailyQuota {
		mine.Add(-1)
		return errQuota.after(untilMidnight(now))
	}
	return nil
}

// CountsTowardQuota reports whether a call with this statistics outcome
// used its grant's daily quota: successful calls only. A call reserves its
// place in the quota when it is admitted and gives it back if it does not
// succeed, so concurrent calls cannot overrun the quota and refused or
// failed calls cost nothing. The control plane builds Snapshot.QuotaUsed
// from the statistics with the same rule (share.Stats.QuotaUsed: outcome
// "ok"), so that a node does not count its own calls twice.
func CountsTowardQuota(outcome string) bool { return outcome == "ok" }

// statsAgg aggregates call counts in memory until they are flushed.
type statsAgg struct {
	mu      sync.Mutex
	pending map[statKey]*share.CallCount
	// per day and grant: calls holding or having used quota on this node
	// (admitted and not failed), and how many of them have been flushed.
	day      string
	adm      map[int64]*atomic.Int64
	flushed  map[int64]int64
	inFlight map[int64]int64 // admitted counts being flushed right now
}

type statKey struct {
	day                     string
	app, body, entry, grant int64
	kind, outcome, purpose  string
}

func (s *statsAgg) admitted(day string, grant int64) *atomic.Int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.roll(day)
	a := s.adm[grant]
	if a == nil {
		a = &atomic.Int64{}
		s.adm[grant] = a
	}
	return a
}

// roll starts a new day's bookkeeping.
func (s *statsAgg) roll(day string) {
	if s.day != day {
		s.day, s.adm, s.flushed = day, map[int64]*atomic.Int64{}, map[int64]int64{}
	}
}

func (s *statsAgg) flushedCounts(day string) map[int64]int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.roll(day)
	out := make(map[int64]int64, len(s.flushed))
	for k, v := range s.flushed {
		out[k] = v
	}
	return out
}

// count adds the call to the statistics.
func (g *Gateway) count(c *call, p *Problem) {
	k := statKey{day: dayOf(c.start), kind: c.kind, outcome: "ok", entry: c.rt.entryID, purpose: truncate(c.purpose, 100)}
	if k.kind == "" {
		k.kind = "unknown"
	}
	if p != nil {
		k.outcome = p.Code
	} else if c.status >= 400 {
		k.outcome = providerCode(c.status)
	}
	if c.cred != nil {
		k.app, k.body = c.cred.AppID, c.cred.BodyID
	}
	if c.grant != nil {
		k.grant = c.grant.ID
	}
	lat := g.clock().Sub(c.start).Microseconds()
	g.metrics.calls.WithLabelValues(k.kind, k.outcome).Inc()
	g.metrics.latency.WithLabelValues(k.kind).Observe(float64(lat) / 1e6)
	s := &g.stats
	s.mu.Lock()
	if s.pending == nil {
		s.pending = map[statKey]*share.CallCount{}
	}
	cc := s.pending[k]
	if cc == nil {
		cc = &share.CallCount{Day: k.day, AppID: k.app, BodyID: k.body, EntryID: k.entry, GrantID: k.grant, Kind: k.kind, Outcome: k.outcome, Purpose: k.purpose}
		s.pending[k] = cc
	}
	cc.Calls++
	cc.LatencyUS += lat
	if c.quotaHeld && c.grant != nil && k.day == s.day {
		if CountsTowardQuota(k.outcome) {
			if s.inFlight == nil {
				s.inFlight = map[int64]int64{}
			}
			s.inFlight[c.grant.ID]++
		} else if a := s.adm[c.grant.ID]; a != nil {
			a.Add(-1) // the reservation made when the call was admitted
		}
	}
	s.mu.Unlock()
}

// flushStats hands the pending counts to cfg.Stats; on failure they are
// kept for the next flush.
func (g *Gateway) flushStats(ctx context.Context) error {
	s := &g.stats
	s.mu.Lock()
	if len(s.pending) == 0 {
		s.mu.Unlock()
		return nil
	}
	batch := make([]share.CallCount, 0, len(s.pending))
	for _, cc := range s.pending {
		batch = append(batch, *cc)
	}
	adm, day := s.inFlight, s.day
	s.pending, s.inFlight = nil, nil
	s.mu.Unlock()
	if g.cfg.Stats == nil {
		return nil
	}
	sort.Slice(batch, func(i, j int) bool { return batch[i].Day < batch[j].Day })
	err := g.cfg.Stats(ctx, batch)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		// Put them back, merged with what arrived meanwhile.
		if s.pending == nil {
			s.pending = map[statKey]*share.CallCount{}
		}
		for _, cc := range batch {
			k := statKey{cc.Day, cc.AppID, cc.BodyID, cc.EntryID, cc.GrantID, cc.Kind, cc.Outcome, cc.Purpose}
			if p := s.pending[k]; p != nil {
				p.Calls += cc.Calls
				p.LatencyUS += cc.LatencyUS
			} else {
				c := cc
				s.pending[k] = &c
			}
		}
		if s.inFlight == nil {
			s.inFlight = map[int64]int64{}
		}
		for k, v := range adm {
			s.inFlight[k] += v
		}
		return err
	}
	if s.day == day {
		for k, v := range adm {
			s.flushed[k] += v
		}
	}
	return nil
}

// flusher flushes the statistics every second.
func (g *Gateway) flusher() {
	defer g.wg.Done()
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-g.ctx.Done():
			return
		case <-t.C:
			ctx, cancel := context.WithTimeout(g.ctx, 10*time.Second)
			if err := g.flushStats(ctx); err != nil && g.ctx.Err() == nil {
				g.log.Error("gateway: statistics flush failed; kept for the next try", "err", err)
			}
			cancel()
		}
	}
}

// refusalCounter keeps floods of unauthenticated or rate-limited refusals
// from growing the audit log without bound: the first refusal of a source
// in an interval is recorded as it is, the rest are counted and recorded
// as one "gw.refused.repeated" record with the count and the codes.
type refusalCounter struct {
	mu       sync.Mutex
	interval time.Duration
	src      map[string]*refusalCount
}

type refusalCount struct {
	n      int
	codes  map[string]int
	since  time.Time
	ip     string
	actor  string
	timers *time.Timer
}

const maxRefusalSources = 10000

func (rc *refusalCounter) first(g *Gateway, src string, e audit.Entry) bool {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if rc.src == nil {
		rc.src = map[string]*refusalCount{}
	}
	if _, ok := rc.src[src]; !ok && len(rc.src) >= maxRefusalSources {
		src = "*"
	}
	c, ok := rc.src[src]
	if !ok {
		c = &refusalCount{codes: map[string]int{}, since: e.Time, ip: e.IP, actor: e.Actor}
		rc.src[src] = c
		c.timers = time.AfterFunc(rc.interval, func() { g.flushRefusal(src) })
		if src != "*" {
			return true
		}
	}
	c.n++
	c.codes[e.Detail["code"]]++
	return false
}

func (g *Gateway) flushRefusal(src string) {
	g.refused.mu.Lock()
	c := g.refused.src[src]
	delete(g.refused.src, src)
	g.refused.mu.Unlock()
	if c == nil || c.n == 0 {
		return
	}
	var codes []string
	for k, n := range c.codes {
		codes = append(codes, k+"="+strconv.Itoa(n))
	}
	sort.Strings(codes)
	e := audit.Entry{Action: "gw.refused.repeated", Actor: c.actor, Outcome: audit.OutcomeDenied, IP: c.ip,
		Detail: map[string]string{"count": strconv.Itoa(c.n), "codes": strings.Join(codes, ", "), "source": src,
			"since": c.since.UTC().Format(time.RFC3339), "until": g.clock().UTC().Format(time.RFC3339)}}
	if src == "*" {
		e.IP, e.Actor = "", "anonymous"
	}
	if _, err := g.commit.Append(context.Background(), e); err != nil {
		g.log.Error("gateway: audit of repeated refusals failed", "source", src, "count", c.n, "err", err)
	}
}

// flushRefusals records every counted refusal now (Close, tests).
func (g *Gateway) flushRefusals() {
	g.refused.mu.Lock()
	srcs := make([]string, 0, len(g.refused.src))
	for s, c := range g.refused.src {
		srcs = append(srcs, s)
		c.timers.Stop()
	}
	g.refused.mu.Unlock()
	for _, s := range srcs {
		g.flushRefusal(s)
	}
}
