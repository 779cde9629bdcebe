package api

import "net/http"

// docsCSP is the docs page's policy: the vendored Stoplight Elements viewer
// (internal/web/static/vendor/elements) needs inline styles and nothing from
// another origin.
const docsCSP = "default-src 'none'; base-uri 'none'; connect-src 'self'; img-src 'self' data:; font-src 'self' data:; " +
	"form-action 'none'; frame-ancestors 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'"

// docsPage is the API reference, rendered by the viewer huma uses by default
// (Stoplight Elements) but served from the binary, so that it works on an
// intranet without access to a CDN.
const docsPage = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="referrer" content="no-referrer">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Xiangyun 祥云 API</title>
<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/static/vendor/elements/styles.min.css">
<script src="/static/vendor/elements/web-components.min.js"></script>
</head>
<body style="height: 100vh; margin: 0">
<elements-api apiDescriptionUrl="/api/v1/openapi.yaml" router="hash" layout="sidebar" tryItCredentialsPolicy="same-origin"></elements-api>
</body>
</html>`

func serveDocs(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", docsCSP)
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	_, _ = w.Write([]byte(docsPage))
}
