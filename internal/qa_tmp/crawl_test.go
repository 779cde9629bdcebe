package qa_tmp

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"
)

var base = "http://127.0.0.1:18181"

const pw = "Demo-password-2026"

var users = []string{"admin", "secofficer", "auditor", "reviewer", "police_cdo", "police_spec", "market_cdo", "market_spec", "hrss_cdo", "health_cdo", "cc_cdo", "cc_spec"}

func client(t *testing.T, user, lang string) *http.Client {
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	u, _ := url.Parse(base)
	jar.SetCookies(u, []*http.Cookie{{Name: "xy_lang", Value: lang, Path: "/"}})
	resp, err := c.PostForm(base+"/login", url.Values{"username": {user}, "password": {pw}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Request.URL.Path == "/login" {
		t.Fatalf("login %s failed: %d", user, resp.StatusCode)
	}
	return c
}

var hrefRE = regexp.MustCompile(`(?:href|hx-get)="(/[^"#]*)`)
var digits = regexp.MustCompile(`\d+`)

func TestCrawl(t *testing.T) {
	only := os.Getenv("QA_USERS")
	for _, user := range users {
		if only != "" && !strings.Contains(","+only+",", ","+user+",") {
			continue
		}
		for _, lang := range []string{"zh", "en"} {
			c := client(t, user, lang)
			seen := map[string]bool{}
			patterns := map[string]int{}
			queue := []string{"/"}
			bad := []string{}
			n := 0
			for len(queue) > 0 && n < 400 {
				p := queue[0]
				queue = queue[1:]
				if seen[p] {
					continue
				}
				seen[p] = true
				pat := digits.ReplaceAllString(strings.SplitN(p, "?", 2)[0], "N")
				if q := strings.SplitN(p, "?", 2); len(q) == 2 {
					keys := []string{}
					v, _ := url.ParseQuery(q[1])
					for k := range v {
						keys = append(keys, k)
					}
					sort.Strings(keys)
					pat += "?" + strings.Join(keys, "&")
				}
				patterns[pat]++
				if patterns[pat] > 3 {
					continue
				}
				n++
				req, _ := http.NewRequest("GET", base+p, nil)
				resp, err := c.Do(req)
				if err != nil {
					bad = append(bad, p+" ERR "+err.Error())
					continue
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode >= 400 {
					bad = append(bad, p+" -> "+resp.Status)
				}
				if resp.Request.URL.Path == "/login" && p != "/login" {
					bad = append(bad, p+" -> redirected to login")
				}
				ct := resp.Header.Get("Content-Type")
				if !strings.HasPrefix(ct, "text/html") {
					continue
				}
				for _, m := range hrefRE.FindAllStringSubmatch(string(body), -1) {
					h := strings.ReplaceAll(m[1], "&amp;", "&")
					if strings.HasPrefix(h, "/static/") || strings.HasPrefix(h, "/lang") || strings.HasPrefix(h, "/api/") {
						continue
					}
					if !seen[h] {
						queue = append(queue, h)
					}
				}
			}
			t.Logf("%s/%s: visited %d, bad %d", user, lang, n, len(bad))
			for _, b := range bad {
				t.Logf("   BAD %s", b)
			}
		}
	}
}
