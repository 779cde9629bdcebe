package gateway

import (
	"strconv"
	"strings"
	"testing"
)

// FuzzPath checks what the gateway promises of every path it accepts: the
// entry is the plain decimal id in the path, and a service sub-path has no
// dot segment, backslash or control character, however it was encoded — so
// the grant checked is the grant of the resource served.
func FuzzPath(f *testing.F) {
	for _, p := range []string{"/gw/v1/entries/12/records", "/gw/v1/entries/12/verify", "/gw/v1/entries/7/service/a/b?x=1",
		"/gw/v1/entries/7/service/%2e%2e/x", "/gw/v1/entries/7/service/..%2f", "/gw/v1//entries/7/records",
		"/gw/v1/entries/007/records", "/gw/v1/Entries/7/records", "/gw/v1/entries/7/service/%252e", "/gw/v1/entries/7/service/a%00"} {
		f.Add(p)
	}
	f.Fuzz(func(t *testing.T, p string) {
		rt, prob := parsePath(p)
		if prob != nil {
			return
		}
		segs := strings.Split(strings.TrimPrefix(p, Prefix), "/")
		if len(segs) < 3 || segs[0] != "entries" || segs[1] != strconv.FormatInt(rt.entryID, 10) || rt.entryID <= 0 {
			t.Fatalf("%q accepted as entry %d", p, rt.entryID)
		}
		switch rt.kind {
		case "query", "verify":
			if len(segs) != 3 {
				t.Fatalf("%q accepted as %s", p, rt.kind)
			}
		case "service":
			if strings.ContainsAny(rt.rest, "\\") {
				t.Fatalf("%q: service path %q holds a backslash", p, rt.rest)
			}
			for _, s := range strings.Split(rt.rest, "/") {
				if s == "." || s == ".." {
					t.Fatalf("%q: service path %q holds a dot segment", p, rt.rest)
				}
			}
			for _, r := range rt.rest {
				if r < 0x20 || r == 0x7f {
					t.Fatalf("%q: service path %q holds a control character", p, rt.rest)
				}
			}
		default:
			t.Fatalf("%q accepted as %q", p, rt.kind)
		}
	})
}
