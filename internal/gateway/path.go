package gateway

import (
	"net/url"
	"strconv"
	"strings"
)

// Prefix is where the gateway is mounted.
const Prefix = "/gw/v1/"

// route is a normalised gateway path.
type route struct {
	kind    string // query, verify, service
	entryID int64
	rest    string // service calls: the sub-path after service/, without a leading slash (decoded)
	rawRest string // the same, as sent (escaped)
}

// parsePath normalises the request path BEFORE any check and routes it.
// Nothing is canonicalised silently: a path that could mean something other
// than it says is refused, so that the grant checked is always the grant of
// the resource served. Refused: percent-encoded dots, slashes, backslashes
// or percent signs (double encoding); "//"; "." and ".." segments;
// backslashes and control characters; any case change of the fixed parts
// (paths are case-sensitive: /GW/v1 or /gw/v1/Entries are not found); an
// entry id that is not plain decimal.
func parsePath(escaped string) (route, *Problem) {
	if !strings.HasPrefix(escaped, Prefix) {
		return route{}, errNotFound
	}
	low := strings.ToLower(escaped)
	for _, bad := range []string{"%2e", "%2f", "%5c", "%25", "%00"} {
		if strings.Contains(low, bad) {
			return route{}, errBadPath
		}
	}
	if strings.Contains(escaped, "//") || strings.ContainsAny(escaped, "\\") {
		return route{}, errBadPath
	}
	segs := strings.Split(strings.TrimPrefix(escaped, Prefix), "/")
	for i, s := range segs {
		if s == "." || s == ".." {
			return route{}, errBadPath
		}
		d, err := url.PathUnescape(s)
		if err != nil {
			return route{}, errBadPath
		}
		for _, r := range d {
			if r < 0x20 || r == 0x7f {
				return route{}, errBadPath
			}
		}
		// An empty segment is only allowed as the trailing slash of a
		// service path.
		if s == "" && !(i == len(segs)-1 && len(segs) > 4) {
			return route{}, errNotFound
		}
	}
	if len(segs) < 3 || segs[0] != "entries" {
		return route{}, errNotFound
	}
	id, err := strconv.ParseInt(segs[1], 10, 64)
	if err != nil || id <= 0 || strconv.FormatInt(id, 10) != segs[1] {
		return route{}, errNotFound
	}
	rt := route{entryID: id}
	switch {
	case len(segs) == 3 && segs[2] == "records":
		rt.kind = "query"
	case len(segs) == 3 && segs[2] == "verify":
		rt.kind = "verify"
	case segs[2] == "service":
		rt.kind = "service"
		rt.rawRest = strings.Join(segs[3:], "/")
		rt.rest, _ = url.PathUnescape(rt.rawRest)
	default:
		return route{}, errNotFound
	}
	return rt, nil
}
