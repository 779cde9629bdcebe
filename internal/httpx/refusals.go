package httpx

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"xiangyun/internal/audit"
)

// Refusals of anonymous requests (no or a bad credential) are kept as a
// signal without letting a flood grow the audit log without bound: the first
// from an address in an interval is recorded as it is, the rest are counted
// and recorded as one "http.refused.repeated" record per address and
// interval, with the count and the actions refused.

const maxRefusalSources = 10000 // beyond this, addresses share one counter

type refusalCounter struct {
	mu  sync.Mutex
	src map[string]*refusalCount
}

type refusalCount struct {
	n          int
	actions    map[string]int
	credential string
	since      time.Time
}

// first tells whether e is the first refusal from its address in the
// current interval (to be recorded); otherwise it is counted.
func (c *refusalCounter) first(a *Authenticator, e audit.Entry) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.src == nil {
		c.src = map[string]*refusalCount{}
	}
	ip := e.IP
	if _, ok := c.src[ip]; !ok && len(c.src) >= maxRefusalSources {
		ip = "*"
	}
	rc, ok := c.src[ip]
	if !ok {
		c.src[ip] = &refusalCount{actions: map[string]int{}, since: time.Now()}
		interval := a.RefusalInterval
		if interval <= 0 {
			interval = time.Minute
		}
		time.AfterFunc(interval, func() { a.flushRefusal(ip) })
		if ip == e.IP {
			return true
		}
		rc = c.src[ip]
	}
	rc.n++
	rc.actions[e.Action]++
	if cr := e.Detail["credential"]; cr != "" {
		rc.credential = cr
	}
	return false
}

// flushRefusal records the repeats counted for ip and starts a new interval.
func (a *Authenticator) flushRefusal(ip string) {
	a.refused.mu.Lock()
	rc := a.refused.src[ip]
	delete(a.refused.src, ip)
	a.refused.mu.Unlock()
	if rc == nil || rc.n == 0 {
		return
	}
	type kv struct {
		action string
		n      int
	}
	var top []kv
	for k, n := range rc.actions {
		top = append(top, kv{k, n})
	}
	sort.Slice(top, func(i, j int) bool {
		return top[i].n > top[j].n || top[i].n == top[j].n && top[i].action < top[j].action
	})
	var list []string
	for i, t := range top {
		if i == 10 {
			list = append(list, fmt.Sprintf("… %d more", len(top)-10))
			break
		}
		list = append(list, fmt.Sprintf("%s=%d", t.action, t.n))
	}
	e := audit.Entry{Action: "http.refused.repeated", Actor: "anonymous", Outcome: audit.OutcomeDenied, IP: ip,
		Detail: map[string]string{"count": strconv.Itoa(rc.n), "actions": strings.Join(list, ", "),
			"since": rc.since.UTC().Format(time.RFC3339), "until": time.Now().UTC().Format(time.RFC3339)}}
	if ip == "*" {
		e.IP = ""
		e.Detail["sources"] = "many"
	}
	if rc.credential != "" {
		e.Detail["reason"] = rc.credential // "credential" keys are dropped as secret-looking
	}
	if _, err := a.Audit.Append(context.Background(), e); err != nil && a.Log != nil {
		a.Log.Error("audit append failed", "action", e.Action, "err", err)
	}
}

// FlushRefusals records the refusals counted so far (at shutdown).
func (a *Authenticator) FlushRefusals() {
	a.refused.mu.Lock()
	ips := make([]string, 0, len(a.refused.src))
	for ip := range a.refused.src {
		ips = append(ips, ip)
	}
	a.refused.mu.Unlock()
	for _, ip := range ips {
		a.flushRefusal(ip)
	}
}
