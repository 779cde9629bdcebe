package bench

import (
	"context"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"xiangyun/internal/catalog"
	"xiangyun/internal/demo"
)

// compare checks, for every fixed query, that the API answers the page the
// bare index answers: the same entry ids in the same order, and the same
// facet values with the same counts.
func (b *bench) compare(ctx context.Context) (checked int, diffs []string, err error) {
	for _, q := range benchQueries {
		if q.Words != nil {
			continue
		}
		if _, _, err := b.runAPI(ctx, q, q.Q); err != nil {
			return 0, nil, err
		}
		api := b.lastAPI
		res, err := b.s.Catalog.SearchIDs(ctx, b.p, q.searchQuery(q.Q))
		if err != nil {
			return 0, nil, err
		}
		checked++
		var apiIDs []string
		for _, it := range api.Items {
			apiIDs = append(apiIDs, strconv.FormatInt(it.ID, 10))
		}
		if !slices.Equal(apiIDs, res.IDs) {
			diffs = append(diffs, fmt.Sprintf("%s: page ids differ (API %v, index %v)", q.Label, apiIDs, res.IDs))
		}
		for _, f := range slices.Sorted(maps.Keys(res.Facets)) {
			var a, x []string
			for _, v := range api.Facets[f] {
				a = append(a, v.Value+"="+strconv.Itoa(v.Count))
			}
			for _, v := range res.Facets[f] {
				x = append(x, v.Value+"="+strconv.Itoa(v.Count))
			}
			if !slices.Equal(a, x) {
				diffs = append(diffs, fmt.Sprintf("%s: facet %s differs (API %v, index %v)", q.Label, f, a, x))
			}
		}
		if len(api.Facets) != len(res.Facets) {
			diffs = append(diffs, fmt.Sprintf("%s: %d facets from the API, %d from the index", q.Label, len(api.Facets), len(res.Facets)))
		}
	}
	return checked, diffs, nil
}

// loadResult is a saturation run: requests/s with many clients, and the
// latency they saw.
type loadResult struct {
	Requests int
	Elapsed  time.Duration
	CPU      time.Duration // this process's CPU time during the run
	Lat      []time.Duration
}

func (l loadResult) rate() float64 { return float64(l.Requests) / max(l.Elapsed.Seconds(), 1e-9) }

// throughputQueries are the searches of the saturation runs, in turn.
func throughputQueries() []benchQuery {
	var out []benchQuery
	for _, q := range benchQueries {
		if q.Words == nil && q.Page <= 1 {
			out = append(out, q)
		}
	}
	return out
}

func (b *bench) apiURL(base string, q benchQuery) string {
	v := url.Values{}
	if q.Q != "" {
		v.Set("q", q.Q)
	}
	if q.Sort != "" {
		v.Set("sort", q.Sort)
	}
	v.Set("page", strconv.Itoa(max(q.Page, 1)))
	v.Set("page_size", strconv.Itoa(benchPageSize))
	for _, k := range slices.Sorted(maps.Keys(q.Filters)) {
		for _, x := range q.Filters[k] {
			v.Add(k, x)
		}
	}
	return base + "/api/v1/catalog/entries?" + v.Encode()
}

// throughput saturates the API with the searches of throughputQueries in
// turn from o.Clients clients for o.Load, then does the same against a
// bare net/http handler on the same loopback that serves the very JSON
// answers the API gave (no work but writing the bytes): the ceiling of
// HTTP on this machine.
func (b *bench) throughput(ctx context.Context) (api, bare loadResult, err error) {
	qs := throughputQueries()
	bodies := map[string][]byte{}
	for _, q := range qs {
		if _, _, err := b.runAPI(ctx, q, q.Q); err != nil {
			return api, bare, err
		}
		u, _ := url.Parse(b.apiURL("", q))
		bodies[u.RawQuery] = b.lastBody
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return api, bare, err
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(bodies[r.URL.RawQuery])
	})}
	go srv.Serve(ln)
	defer srv.Close()
	b.stage(fmt.Sprintf("throughput: %d clients for %s against the API, then against a bare handler", b.o.Clients, b.o.Load))
	if api, err = b.saturate(ctx, b.base, qs, true); err != nil {
		return api, bare, err
	}
	bare, err = b.saturate(ctx, "http://"+ln.Addr().String(), qs, false)
	return api, bare, err
}

func (b *bench) saturate(ctx context.Context, base string, qs []benchQuery, auth bool) (loadResult, error) {
	client := &http.Client{Timeout: time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: b.o.Clients}}
	defer client.CloseIdleConnections()
	urls := make([]string, len(qs))
	for i, q := range qs {
		urls[i] = b.apiURL(base, q)
	}
	var n atomic.Int64
	var mu sync.Mutex
	var lat []time.Duration
	var firstErr error
	deadline := time.Now().Add(b.o.Load)
	cpu0 := cpuTime()
	start := time.Now()
	var wg sync.WaitGroup
	for c := range b.o.Clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []time.Duration
			for i := c; time.Now().Before(deadline) && ctx.Err() == nil; i++ {
				req, _ := http.NewRequestWithContext(ctx, http.MethodGet, urls[i%len(urls)], nil)
				if auth {
					req.Header.Set("Authorization", "Bearer "+b.token)
				}
				t := time.Now()
				resp, err := client.Do(req)
				if err == nil {
					_, err = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if err == nil && resp.StatusCode != http.StatusOK {
						err = fmt.Errorf("GET %s: %s", req.URL.RequestURI(), resp.Status)
					}
				}
				if err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					return
				}
				mine = append(mine, time.Since(t))
				n.Add(1)
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	return loadResult{Requests: int(n.Load()), Elapsed: time.Since(start), CPU: cpuTime() - cpu0, Lat: lat}, firstErr
}

// cpuTime returns the CPU time (user and system) this process used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// trickleMin is the least time searches run under writes.
var trickleMin = 10 * time.Second

// trickleRow is one query's latency under a steady trickle of writes.
type trickleRow struct {
	Query    benchQuery
	API, Idx []time.Duration
}

// trickle measures the fixed queries (API and index, one client) while
// another goroutine publishes o.Trickle new entries a second, each in its
// own transaction (so that every search may follow a write).
func (b *bench) trickle(ctx context.Context) (rows []*trickleRow, writes []time.Duration, elapsed time.Duration, err error) {
	if b.o.Trickle <= 0 || b.o.TrickleReps <= 0 {
		return nil, nil, 0, nil
	}
	b.stage(fmt.Sprintf("searching under a trickle of %d writes/s, %d runs per query", b.o.Trickle, b.o.TrickleReps))
	wctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	var werr error
	var wlat []time.Duration
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(time.Second / time.Duration(b.o.Trickle))
		defer t.Stop()
		for i := 0; ; i++ {
			select {
			case <-wctx.Done():
				return
			case <-t.C:
			}
			in := demo.Entry(b.genBodies, b.o.Seed+1, b.o.Entries+i)
			t0 := time.Now()
			if _, err := b.s.Catalog.CreatePublished(wctx, catalog.System, []catalog.EntryInput{in}, "基准测试持续写入"); err != nil {
				if wctx.Err() == nil {
					werr = err
				}
				return
			}
			wlat = append(wlat, time.Since(t0))
		}
	}()
	start := time.Now()
	for _, q := range benchQueries {
		if q.Words == nil {
			rows = append(rows, &trickleRow{Query: q})
		}
	}
	// At least trickleMin, so that the writes are many and the first one
	// is not the whole story.
	for rep := 0; (rep < b.o.TrickleReps || time.Since(start) < trickleMin) && err == nil; rep++ {
		for _, row := range rows {
			var d time.Duration
			if _, d, err = b.runAPI(ctx, row.Query, row.Query.Q); err != nil {
				break
			}
			row.API = append(row.API, d)
			t := time.Now()
			if _, err = b.s.Catalog.SearchIDs(ctx, b.p, row.Query.searchQuery(row.Query.Q)); err != nil {
				break
			}
			row.Idx = append(row.Idx, time.Since(t))
		}
	}
	elapsed = time.Since(start)
	stop()
	wg.Wait()
	if err == nil {
		err = werr
	}
	return rows, wlat, elapsed, err
}
