package web

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"sync"
	"time"
)

// staticFile is one embedded static file, prepared once: its content, a
// gzip copy when that is smaller, and an ETag from its content hash.
type staticFile struct {
	ctype      string
	plain, gz  []byte
	etag, hash string
}

// compressible lists the types worth compressing (images other than SVG
// and fonts are compressed already).
var compressible = map[string]bool{".css": true, ".js": true, ".svg": true, ".json": true, ".html": true, ".txt": true, ".md": true, ".map": true}

// staticFiles indexes the embedded static folder by path ("app.css",
// "vendor/htmx.min.js").
var staticFiles = sync.OnceValue(func() map[string]*staticFile {
	out := map[string]*staticFile{}
	root, _ := fs.Sub(assets, "static")
	_ = fs.WalkDir(root, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(root, p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		f := &staticFile{plain: b, hash: hex.EncodeToString(sum[:6])}
		f.etag = `"` + f.hash + `"`
		ext := strings.ToLower(path.Ext(p))
		if f.ctype = mime.TypeByExtension(ext); f.ctype == "" {
			f.ctype = http.DetectContentType(b)
		}
		if compressible[ext] && len(b) > 512 {
			var z bytes.Buffer
			zw, _ := gzip.NewWriterLevel(&z, gzip.BestCompression)
			_, _ = zw.Write(b)
			_ = zw.Close()
			if z.Len() < len(b) {
				f.gz = z.Bytes()
			}
		}
		out[p] = f
		return nil
	})
	return out
})

// staticURL is the versioned address of a static file for templates
// ({{static "app.css"}} → /static/app.css?v=…): a versioned address may be
// cached for a year, since a new build gives a new one.
func staticURL(name string) string {
	if f, ok := staticFiles()[name]; ok {
		return "/static/" + name + "?v=" + f.hash
	}
	return "/static/" + name
}

func init() { funcs["static"] = staticURL }

// serveStatic answers /static/… from the prepared files: gzip when the
// client accepts it, an ETag for revalidation (304), and a year's
// immutable caching when the address carries the file's current version.
func serveStatic(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimPrefix(r.URL.Path, "/static/")
	f, ok := staticFiles()[name]
	if !ok {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	h.Set("Content-Type", f.ctype)
	h.Set("Vary", "Accept-Encoding")
	if v := r.URL.Query().Get("v"); v == f.hash {
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		// Unversioned (or stale) address: cache briefly, then revalidate
		// with the ETag.
		h.Set("Cache-Control", "public, max-age=300, must-revalidate")
	}
	body, etag := f.plain, f.etag
	if f.gz != nil && acceptsGzip(r.Header.Get("Accept-Encoding")) {
		body, etag = f.gz, `"`+f.hash+`-gz"`
		h.Set("Content-Encoding", "gzip")
	}
	h.Set("ETag", etag)
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
}

// acceptsGzip reads an Accept-Encoding header: gzip (or *) listed without
// q=0.
func acceptsGzip(ae string) bool {
	for _, part := range strings.Split(ae, ",") {
		coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		coding = strings.ToLower(strings.TrimSpace(coding))
		if coding != "gzip" && coding != "x-gzip" && coding != "*" {
			continue
		}
		q := strings.ReplaceAll(strings.ToLower(params), " ", "")
		if strings.HasPrefix(q, "q=0") && strings.Trim(strings.TrimPrefix(q, "q="), "0.") == "" {
			return false
		}
		return true
	}
	return false
}
