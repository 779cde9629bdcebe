package httpx

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestClientAddr(t *testing.T) {
	trusted, err := ParseProxies("10.0.0.0/8, 127.0.0.1/32,::1")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name    string
		peer    string
		xff     []string
		trusted bool // use the trusted list (otherwise none)
		want    string
	}{
		{"no proxies configured: header ignored", "203.0.113.9:4000", []string{"1.2.3.4"}, false, "203.0.113.9"},
		{"untrusted peer spoofs the header", "203.0.113.9:4000", []string{"10.1.1.1"}, true, "203.0.113.9"},
		{"untrusted peer spoofs loopback", "198.51.100.7:1", []string{"127.0.0.1"}, true, "198.51.100.7"},
		{"through one trusted proxy", "10.0.0.2:5555", []string{"198.51.100.20"}, true, "198.51.100.20"},
		{"client prepends a fake address", "10.0.0.2:5555", []string{"6.6.6.6, 198.51.100.20"}, true, "198.51.100.20"},
		{"client prepends a trusted-looking address", "10.0.0.2:5555", []string{"10.9.9.9, 198.51.100.20"}, true, "198.51.100.20"},
		{"chain of trusted proxies", "127.0.0.1:80", []string{"6.6.6.6, 198.51.100.20, 10.0.0.5, 10.0.0.3"}, true, "198.51.100.20"},
		{"several header lines", "10.0.0.2:5555", []string{"6.6.6.6", "198.51.100.20", "10.0.0.4"}, true, "198.51.100.20"},
		{"garbage right of the client", "10.0.0.2:5555", []string{"198.51.100.20, not-an-ip"}, true, "10.0.0.2"},
		{"garbage injected left", "10.0.0.2:5555", []string{"<script>, 198.51.100.20"}, true, "198.51.100.20"},
		{"only trusted hops: the farthest", "10.0.0.2:5555", []string{"10.0.0.9"}, true, "10.0.0.9"},
		{"trusted peer without header", "10.0.0.2:5555", nil, true, "10.0.0.2"},
		{"entry with a port", "10.0.0.2:5555", []string{"198.51.100.20:1234"}, true, "198.51.100.20"},
		{"IPv6 client", "[::1]:80", []string{"2001:db8::7"}, true, "2001:db8::7"},
		{"IPv6 client with port", "[::1]:80", []string{"[2001:db8::7]:443"}, true, "2001:db8::7"},
		{"IPv4-mapped peer", "[::ffff:10.0.0.2]:80", []string{"198.51.100.20"}, true, "198.51.100.20"},
		{"empty entries", "10.0.0.2:5555", []string{" , "}, true, "10.0.0.2"},
	}
	for _, c := range cases {
		tr := trusted
		if !c.trusted {
			tr = nil
		}
		if got := ClientAddr(c.peer, c.xff, tr); got != c.want {
			t.Errorf("%s: ClientAddr(%q, %q) = %q, want %q", c.name, c.peer, c.xff, got, c.want)
		}
	}
	// The middleware reads every X-Forwarded-For line.
	a := &Authenticator{TrustedProxies: trusted}
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.RemoteAddr = "10.0.0.2:5555"
	r.Header.Add("X-Forwarded-For", "6.6.6.6")
	r.Header.Add("X-Forwarded-For", "198.51.100.20")
	if got := a.clientIP(r); got != "198.51.100.20" {
		t.Errorf("clientIP = %q", got)
	}
}

func TestParseProxies(t *testing.T) {
	ps, err := ParseProxies("10.0.0.0/8,127.0.0.1/32, 192.0.2.7 ,::1,10.1.2.3/8")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"10.0.0.0/8", "127.0.0.1/32", "192.0.2.7/32", "::1/128", "10.0.0.0/8"}
	if len(ps) != len(want) {
		t.Fatalf("got %v", ps)
	}
	for i, p := range ps {
		if p.String() != want[i] {
			t.Errorf("%d: %s, want %s", i, p, want[i])
		}
	}
	for _, bad := range []string{"10.0.0.0/33", "example.org", "10.0.0.1-10.0.0.9"} {
		if _, err := ParseProxies(bad); err == nil {
			t.Errorf("ParseProxies(%q) accepted", bad)
		}
	}
	if ps, err := ParseProxies(""); err != nil || len(ps) != 0 {
		t.Errorf("empty: %v %v", ps, err)
	}
}
