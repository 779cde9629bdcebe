package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/sony/gobreaker/v2"

	"xiangyun/internal/catalog"
	"xiangyun/internal/db"
	"xiangyun/internal/errs"
	"xiangyun/internal/ingest"
	"xiangyun/internal/mask"
	"xiangyun/internal/share"
)

// view is what a grant lets a call see of an entry: the granted items in
// catalog order, each with the mask rule that applies to this grant.
type view struct {
	items []string
	rules map[string]string // item → rule; "none" when shown clear
	keys  map[string]bool
}

func viewOf(e *catalog.Entry, g *share.Grant) view {
	granted := make(map[string]bool, len(g.Items))
	for _, n := range g.Items {
		granted[n] = true
	}
	clear := make(map[string]bool, len(g.ClearItems))
	for _, n := range g.ClearItems {
		clear[n] = true
	}
	v := view{rules: map[string]string{}, keys: map[string]bool{}}
	for _, it := range e.Items {
		if it.Key {
			v.keys[it.Name] = true
		}
		if !granted[it.Name] {
			continue
		}
		v.items = append(v.items, it.Name)
		rule := mask.None
		if !clear[it.Name] {
			rule = mask.For(it.Mask, it.Name, it.Sensitive, e.Grade)
		}
		v.rules[it.Name] = rule
	}
	return v
}

// maskValue applies rule to a value as returned by the records or a service.
func maskValue(rule string, v any) any {
	if rule == "" || rule == mask.None || v == nil {
		return v
	}
	switch x := v.(type) {
	case string:
		return mask.Apply(rule, x)
	case json.Number:
		return mask.Apply(rule, x.String())
	case float64:
		return mask.Apply(rule, strconv.FormatFloat(x, 'f', -1, 64))
	case int64:
		return mask.Apply(rule, strconv.FormatInt(x, 10))
	case bool:
		return mask.Apply(rule, strconv.FormatBool(x))
	}
	// Objects or arrays under an item that must be masked: nothing of them.
	return mask.Apply(mask.Redact, "*")
}

// noteView records the items returned and the masks applied, for the audit
// record.
func (c *call) noteView(v view) {
	c.items = v.items
	for _, n := range v.items {
		if r := v.rules[n]; r != mask.None {
			c.masks = append(c.masks, n+"="+r)
		}
	}
}

// ingestProblem turns a records error into a refusal.
func ingestProblem(err error) *Problem {
	if e, ok := errs.As(err); ok {
		switch e.Kind {
		case errs.KindInvalid:
			return errBadFilter.with(e.EN)
		case errs.KindNotFound:
			return errNoEntry
		}
	}
	if db.IsUnavailable(err) || errors.Is(err, context.DeadlineExceeded) {
		return errUnavailable
	}
	return errInternal
}

// query answers GET /entries/{id}/records. Filters are allowed on the
// granted items and on the entry's key items (a caller that knows a key
// value may look its record up without the key being returned); any other
// item is refused with gw.item_not_granted. The grant's row scope is always
// ANDed in.
func (g *Gateway) query(r *http.Request, c *call) (int, []byte, string, *Problem) {
	v := viewOf(c.entry, c.grant)
	c.noteView(v)
	q := ingest.Query{Items: v.items, Filters: map[string]string{}, Scope: c.grant.RowScope, Limit: 20}
	vals, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return 0, nil, "", errBadFilter.with("malformed query string")
	}
	page := 1
	for name, vs := range vals {
		if len(vs) != 1 {
			return 0, nil, "", errBadFilter.with("one value per parameter: " + name)
		}
		switch name {
		case "page_size":
			n, err := strconv.Atoi(vs[0])
			if err != nil || n < 1 || n > 100 {
				return 0, nil, "", errBadFilter.with("page_size is 1–100")
			}
			q.Limit = n
			continue
		case "page":
			n, err := strconv.Atoi(vs[0])
			if err != nil || n < 1 || n > 10000 {
				return 0, nil, "", errBadFilter.with("page is 1–10000")
			}
			page = n
			continue
		}
		if _, ok := v.rules[name]; !ok && !v.keys[name] {
			if !hasItem(c.entry, name) {
				return 0, nil, "", errBadFilter.with("not an item of this entry")
			}
			return 0, nil, "", errNotGranted.with("filter on an item that is not granted")
		}
		q.Filters[name] = vs[0]
	}
	q.Offset = (page - 1) * q.Limit
	if len(v.items) == 0 {
		return 0, nil, "", errNotGranted.with("the grant names no item of this entry")
	}
	res, err := g.cfg.Records.Query(r.Context(), c.entry, q)
	if err != nil {
		return 0, nil, "", ingestProblem(err)
	}
	for _, rec := range res.Items {
		for _, n := range v.items {
			rec[n] = maskValue(v.rules[n], rec[n])
		}
	}
	c.records = len(res.Items)
	body, p := jsonAnswer(map[string]any{"items": res.Items, "page": page, "page_size": q.Limit, "more": res.More})
	return http.StatusOK, body, "application/json", p
}

func hasItem(e *catalog.Entry, name string) bool {
	for _, it := range e.Items {
		if it.Name == name {
			return true
		}
	}
	return false
}

// verify answers POST /entries/{id}/verify: {"item": "value", ...} →
// {"found": bool, "matches": {"item": bool}, "_disputed": bool}. Every
// item sent must be granted or a key item; all key items must be sent.
func (g *Gateway) verify(r *http.Request, c *call) (int, []byte, string, *Problem) {
	v := viewOf(c.entry, c.grant)
	var in map[string]any
	dec := json.NewDecoder(bytes.NewReader(c.body))
	dec.UseNumber()
	if err := dec.Decode(&in); err != nil || len(in) == 0 {
		return 0, nil, "", errBadBody
	}
	values := make(map[string]string, len(in))
	for k, x := range in {
		switch y := x.(type) {
		case string:
			values[k] = y
		case json.Number:
			values[k] = y.String()
		default:
			return 0, nil, "", errBadBody.with("value of " + strconv.Quote(k) + " is not text")
		}
		if _, ok := v.rules[k]; !ok && !v.keys[k] {
			if !hasItem(c.entry, k) {
				return 0, nil, "", errBadFilter.with("not an item of this entry")
			}
			return 0, nil, "", errNotGranted.with("verification of an item that is not granted")
		}
	}
	names := make([]string, 0, len(values))
	for k := range values {
		names = append(names, k)
	}
	sort.Strings(names)
	c.items = names
	res, err := g.cfg.Records.Verify(r.Context(), c.entry, values, c.grant.RowScope)
	if err != nil {
		return 0, nil, "", ingestProblem(err)
	}
	if res.Found {
		c.records = 1
	}
	body, p := jsonAnswer(map[string]any{"found": res.Found, "matches": res.Matches, "_disputed": res.Disputed})
	return http.StatusOK, body, "application/json", p
}

// errTimeout and errBadAnswer mark failures of a provider call.
var (
	errCallTimeout = errors.New("provider timeout")
	errCallFailed  = errors.New("provider failed")
	errCallGarbage = errors.New("provider answered garbage")
)

// hop-by-hop and credential headers never forwarded to a provider.
var dropHeaders = map[string]bool{"Authorization": true, "X-Signature": true, "X-Nonce": true, "X-Timestamp": true,
	"Cookie": true, "Connection": true, "Keep-Alive": true, "Proxy-Authorization": true, "Te": true, "Trailer": true,
	"Transfer-Encoding": true, "Upgrade": true, "X-Forwarded-For": true, "Forwarded": true}

// service forwards a call to the provider's registered service with who is
// calling and why, then keeps only the granted items of its JSON answer,
// masked. Headers sent to the provider:
//
//	X-Request-Id, X-Client-Id (the key id), X-Xiangyun-App-Id,
//	X-Xiangyun-Body-Id (consuming body), X-Xiangyun-Grant-Id,
//	X-Purpose (percent-encoded UTF-8), X-Case-Id
func (g *Gateway) service(r *http.Request, c *call) (int, []byte, string, *Problem) {
	svc := g.snap.Load().snap.Services[c.rt.entryID]
	if svc == nil || svc.BaseURL == "" {
		return 0, nil, "", errNoService
	}
	v := viewOf(c.entry, c.grant)
	c.noteView(v)
	target := strings.TrimRight(svc.BaseURL, "/") + "/" + c.rt.rawRest
	if r.URL.RawQuery != "" {
		target += "?" + r.URL.RawQuery
	}
	timeout := svc.Timeout
	if timeout <= 0 {
		timeout = g.cfg.ServiceTimeout
	}
	cb := g.breakers.get(c.rt.entryID, svc.BaseURL)
	ans, err := cb.Execute(func() (*answer, error) {
		ctx, cancel := context.WithTimeout(r.Context(), timeout)
		defer cancel()
		req, err := http.NewRequestWithContext(ctx, r.Method, target, bytes.NewReader(c.body))
		if err != nil {
			return nil, errCallFailed
		}
		for k, vs := range r.Header {
			if !dropHeaders[k] && !strings.HasPrefix(k, "X-Xiangyun-") {
				req.Header[k] = vs
			}
		}
		req.Header.Set("X-Request-Id", c.id)
		req.Header.Set("X-Client-Id", c.cred.KeyID)
		req.Header.Set("X-Xiangyun-App-Id", strconv.FormatInt(c.cred.AppID, 10))
		req.Header.Set("X-Xiangyun-Body-Id", strconv.FormatInt(c.cred.BodyID, 10))
		req.Header.Set("X-Xiangyun-Grant-Id", strconv.FormatInt(c.grant.ID, 10))
		req.Header.Set("X-Purpose", url.PathEscape(c.purpose))
		if c.caseID != "" {
			req.Header.Set("X-Case-Id", c.caseID)
		}
		res, err := g.client.Do(req)
		if err != nil {
			if ctx.Err() != nil && r.Context().Err() == nil {
				return nil, errCallTimeout
			}
			return nil, errCallFailed
		}
		defer res.Body.Close()
		b, err := io.ReadAll(io.LimitReader(res.Body, g.cfg.MaxAnswerBytes+1))
		if err != nil {
			if ctx.Err() != nil {
				return nil, errCallTimeout
			}
			return nil, errCallFailed
		}
		if int64(len(b)) > g.cfg.MaxAnswerBytes {
			return nil, errCallGarbage
		}
		if res.StatusCode >= 500 {
			return nil, errCallFailed
		}
		mt, _, _ := mime.ParseMediaType(res.Header.Get("Content-Type"))
		if (mt != "application/json" && !strings.HasSuffix(mt, "+json")) || !json.Valid(b) {
			return nil, errCallGarbage
		}
		return &answer{status: res.StatusCode, ctype: mt, body: b}, nil
	})
	switch {
	case errors.Is(err, gobreaker.ErrOpenState), errors.Is(err, gobreaker.ErrTooManyRequests):
		return 0, nil, "", errBreakerOpen
	case errors.Is(err, errCallTimeout):
		return 0, nil, "", errProvTimeout
	case errors.Is(err, errCallGarbage):
		return 0, nil, "", errProvBadAnswer
	case err != nil:
		return 0, nil, "", errProvError
	}
	dec := json.NewDecoder(bytes.NewReader(ans.body))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return 0, nil, "", errProvBadAnswer
	}
	out := filterJSON(doc, v, itemSet(c.entry))
	body, p := jsonAnswer(out)
	if p != nil {
		return 0, nil, "", p
	}
	status := ans.status
	if status < 200 || status >= 300 && status < 400 {
		status = http.StatusBadGateway
	}
	return status, body, "application/json", nil
}

func itemSet(e *catalog.Entry) map[string]bool {
	m := make(map[string]bool, len(e.Items))
	for _, it := range e.Items {
		m[it.Name] = true
	}
	return m
}

// filterJSON keeps of a provider's answer only what the grant allows:
// in every object, a member named after a granted item is kept (masked by
// its rule); a member named after any other item of the entry is dropped;
// a member with another name is kept when it is an object or array
// (structure such as "data" or "items", filtered in turn) or a system field
// whose name starts with "_" holding a scalar; other scalars are dropped,
// since they could carry data the grant does not cover.
func filterJSON(x any, v view, items map[string]bool) any {
	switch t := x.(type) {
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, val := range t {
			if rule, ok := v.rules[k]; ok {
				out[k] = maskValue(rule, val)
				continue
			}
			if items[k] {
				continue
			}
			switch val.(type) {
			case map[string]any, []any:
				out[k] = filterJSON(val, v, items)
			default:
				if strings.HasPrefix(k, "_") {
					out[k] = val
				}
			}
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = filterJSON(e, v, items)
		}
		return out
	}
	// A bare scalar at the top or in an array carries no item name: dropped.
	return nil
}
