package web

import (
	"bytes"
	"compress/gzip"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestStatic: static files are served gzip-compressed when the client
// accepts it, revalidated by ETag, and cached for a year under a versioned
// address.
func TestStatic(t *testing.T) {
	want, err := fs.ReadFile(assets, "static/app.css")
	if err != nil {
		t.Fatal(err)
	}
	get := func(target string, hdr ...string) *httptest.ResponseRecorder {
		r := httptest.NewRequest("GET", target, nil)
		for i := 0; i+1 < len(hdr); i += 2 {
			r.Header.Set(hdr[i], hdr[i+1])
		}
		w := httptest.NewRecorder()
		serveStatic(w, r)
		return w
	}
	w := get("/static/app.css", "Accept-Encoding", "gzip, deflate, br")
	if w.Code != 200 || w.Header().Get("Content-Encoding") != "gzip" || w.Header().Get("Vary") != "Accept-Encoding" ||
		!strings.HasPrefix(w.Header().Get("Content-Type"), "text/css") {
		t.Fatalf("gzip: %d %v", w.Code, w.Header())
	}
	zr, err := gzip.NewReader(w.Body)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(zr)
	if !bytes.Equal(got, want) {
		t.Fatal("gzip body differs from the file")
	}
	etag := w.Header().Get("ETag")
	if etag == "" || !strings.Contains(w.Header().Get("Cache-Control"), "must-revalidate") {
		t.Fatalf("caching headers: %v", w.Header())
	}
	if w := get("/static/app.css", "Accept-Encoding", "gzip", "If-None-Match", etag); w.Code != http.StatusNotModified || w.Body.Len() != 0 {
		t.Errorf("revalidation: %d, %d bytes", w.Code, w.Body.Len())
	}
	for _, ae := range []string{"", "identity", "gzip;q=0", "br"} {
		w := get("/static/app.css", "Accept-Encoding", ae)
		if w.Code != 200 || w.Header().Get("Content-Encoding") != "" || !bytes.Equal(w.Body.Bytes(), want) || w.Header().Get("ETag") == etag {
			t.Errorf("Accept-Encoding %q: %d %v", ae, w.Code, w.Header())
		}
	}
	// The compressed copy is much smaller for the large vendored script.
	ec := staticFiles()["vendor/echarts.min.js"]
	if ec == nil || ec.gz == nil || len(ec.gz)*2 > len(ec.plain) {
		t.Errorf("echarts not compressed well")
	}
	url := staticURL("app.css")
	if !strings.HasPrefix(url, "/static/app.css?v=") {
		t.Fatalf("versioned address %q", url)
	}
	if w := get(url); !strings.Contains(w.Header().Get("Cache-Control"), "immutable") || !strings.Contains(w.Header().Get("Cache-Control"), "max-age=31536000") {
		t.Errorf("versioned: %v", w.Header())
	}
	if w := get("/static/app.css?v=0123456789ab"); strings.Contains(w.Header().Get("Cache-Control"), "immutable") {
		t.Errorf("a stale version is cached for good: %v", w.Header())
	}
	if w := get("/static/no-such.css"); w.Code != 404 {
		t.Errorf("missing file: %d", w.Code)
	}
	if w := get("/static/../web.go"); w.Code != 404 {
		t.Errorf("path escape: %d", w.Code)
	}
	if w := get("/static/logo.svg", "Accept-Encoding", "gzip"); w.Code != 200 || !strings.HasPrefix(w.Header().Get("Content-Type"), "image/svg+xml") {
		t.Errorf("svg: %d %v", w.Code, w.Header())
	}
}

func TestAcceptsGzip(t *testing.T) {
	for ae, want := range map[string]bool{"gzip": true, "GZIP": true, "br, gzip;q=0.8": true, "*": true, "gzip;q=0": false, "gzip; q=0.000": false,
		"identity": false, "": false, "deflate, br": false, "x-gzip": true, "gzip;q=0.5": true} {
		if got := acceptsGzip(ae); got != want {
			t.Errorf("acceptsGzip(%q) = %v", ae, got)
		}
	}
}
