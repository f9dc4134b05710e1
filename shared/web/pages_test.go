package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/rengas/rengas/shared/auth"
	"github.com/rengas/rengas/shared/seed"
	"github.com/rengas/rengas/shared/web"
)

// checkPage asserts what every page must be: in its language, titled,
// with exactly one h1, unique ids, every label, aria-describedby target
// and error-summary link pointing at an element that exists, and no raw
// message id in its text.
func checkPage(t *testing.T, where string, p page, lang string) {
	t.Helper()
	if p.doc == nil {
		t.Errorf("%s: not HTML", where)
		return
	}
	htmls := find(p.doc, element("html"))
	if len(htmls) != 1 || attr(htmls[0], "lang") != lang {
		t.Errorf("%s: <html lang> is not %q", where, lang)
	}
	if title(p.doc) == "" {
		t.Errorf("%s: no <title>", where)
	}
	if h1 := find(p.doc, element("h1")); len(h1) != 1 {
		t.Errorf("%s: %d h1 headings, want 1", where, len(h1))
	}
	if len(find(p.doc, element("main"))) != 1 || len(find(p.doc, element("header"))) == 0 || len(find(p.doc, element("footer"))) == 0 {
		t.Errorf("%s: landmarks missing", where)
	}
	ids := map[string]bool{}
	for _, n := range find(p.doc, func(n *html.Node) bool { return n.Type == html.ElementNode && attr(n, "id") != "" }) {
		if ids[attr(n, "id")] {
			t.Errorf("%s: id %q is used twice", where, attr(n, "id"))
		}
		ids[attr(n, "id")] = true
	}
	for _, l := range find(p.doc, element("label")) {
		if f := attr(l, "for"); f != "" && !ids[f] {
			t.Errorf("%s: label for=%q has no field", where, f)
		}
	}
	for _, n := range find(p.doc, func(n *html.Node) bool { return n.Type == html.ElementNode && attr(n, "aria-describedby") != "" }) {
		for _, id := range strings.Fields(attr(n, "aria-describedby")) {
			if !ids[id] {
				t.Errorf("%s: aria-describedby %q points nowhere", where, id)
			}
		}
	}
	for _, in := range find(p.doc, func(n *html.Node) bool {
		return n.Type == html.ElementNode && (n.Data == "input" || n.Data == "textarea" || n.Data == "select") && attr(n, "type") != "hidden"
	}) {
		id := attr(in, "id")
		labelled := false
		for _, l := range find(p.doc, element("label")) {
			labelled = labelled || (id != "" && attr(l, "for") == id)
		}
		if !labelled {
			t.Errorf("%s: field %q has no label", where, attr(in, "name"))
		}
	}
	for _, s := range find(p.doc, func(n *html.Node) bool {
		return n.Type == html.ElementNode && strings.Contains(attr(n, "class"), "error-summary") && n.Data == "div" && attr(n, "role") == "alert"
	}) {
		links := find(s, element("a"))
		if len(links) == 0 {
			t.Errorf("%s: an error summary without links", where)
		}
		for _, a := range links {
			if id := strings.TrimPrefix(attr(a, "href"), "#"); !ids[id] {
				t.Errorf("%s: error summary links to #%s, which is not on the page", where, id)
			}
		}
		if !strings.HasPrefix(title(p.doc), map[string]string{"fi": "Virhe:", "sv": "Fel:", "en": "Error:"}[lang]) {
			t.Errorf("%s: title %q of a page with errors does not start with the word for error", where, title(p.doc))
		}
	}
	for _, tb := range find(p.doc, element("table")) {
		if len(find(tb, element("caption"))) != 1 || len(find(tb, element("th"))) == 0 {
			t.Errorf("%s: a table without caption or headers", where)
		}
	}
	if k := rawKey.FindString(text(p.doc) + " " + title(p.doc)); k != "" {
		t.Errorf("%s: shows the raw message id %q", where, k)
	}
	// The language switch keeps the user on the same page.
	path := strings.TrimPrefix(where, "/"+lang)
	for _, a := range find(p.doc, func(n *html.Node) bool {
		return n.Type == html.ElementNode && n.Data == "a" && attr(n, "hreflang") != ""
	}) {
		if want := "/" + attr(a, "hreflang") + path; attr(a, "href") != want {
			t.Errorf("%s: language link %q, want %q", where, attr(a, "href"), want)
		}
	}
}

// TestEveryPageInEveryLanguageAsEveryUser signs in as each demo user in
// each language, follows every link of the pages it reaches (a crawler's
// walk, without downloads) and checks every page.
func TestEveryPageInEveryLanguageAsEveryUser(t *testing.T) {
	e := newEnv(t)
	total := 0
	for _, u := range append(seed.Users, seedAnonymous) {
		for _, lang := range web.Langs {
			b := e.browser(u.ID)
			seen := map[string]bool{}
			queue := []string{"/" + lang + "/"}
			for len(queue) > 0 && len(seen) < 200 {
				path := queue[0]
				queue = queue[1:]
				if seen[path] {
					continue
				}
				seen[path] = true
				p := b.get(path)
				if p.status == http.StatusSeeOther && strings.Contains(p.location, "/sign-in") && u.ID == "" {
					continue
				}
				if p.status != http.StatusOK {
					t.Errorf("%s as %s: status %d", path, u.ID, p.status)
					continue
				}
				total++
				checkPage(t, path, p, lang)
				for _, a := range find(p.doc, element("a")) {
					href := attr(a, "href")
					if hasAttr(a, "download") || !strings.HasPrefix(href, "/"+lang+"/") || attr(a, "hreflang") != "" {
						continue
					}
					if i := strings.Index(href, "#"); i >= 0 {
						href = href[:i]
					}
					queue = append(queue, href)
				}
			}
		}
	}
	t.Logf("checked %d pages (users × languages × reachable pages)", total)
	if e.log.contains("missing message") || e.log.contains("page failed") {
		t.Error("the pages logged a missing message or a failure (see the log above)")
	}
}

var seedAnonymous = auth.User{}

// TestPagesShowNothingTheAPIRefuses: a page answers 404 exactly where the
// API does, for the same user.
func TestPagesShowNothingTheAPIRefuses(t *testing.T) {
	e := newEnv(t)
	college := e.browser("provider-college")
	p := college.get("/fi/applications")
	var appLink string
	for _, a := range find(p.doc, element("a")) {
		if strings.HasPrefix(attr(a, "href"), "/fi/applications/"+seed.DPSID+"/") {
			appLink = attr(a, "href")
		}
	}
	if appLink == "" {
		t.Fatal("the college sees no application of its own")
	}
	if p := college.get(appLink); p.status != 200 {
		t.Fatalf("own application: %d", p.status)
	}
	for _, other := range []string{"provider-tyopaja", "provider-staffing"} {
		b := e.browser(other)
		if p := b.get(appLink); p.status != http.StatusNotFound {
			t.Errorf("%s reads the college's application: %d", other, p.status)
		} else {
			checkPage(t, appLink, p, "fi")
		}
	}
	// The seeded competition: the staffing company was not invited.
	comp := competitionLink(t, e.browser("provider-tyopaja"))
	for user, want := range map[string]int{"provider-tyopaja": 200, "provider-staffing": 404, "officer-ph": 200, "auditor": 200} {
		if p := e.browser(user).get(comp); p.status != want {
			t.Errorf("%s on %s: %d, want %d", user, comp, p.status, want)
		}
	}
	// Pages of another role answer 404, as what one may not know of.
	if p := e.browser("provider-tyopaja").get("/sv/queue"); p.status != http.StatusNotFound {
		t.Errorf("a provider opens the officers' queue: %d", p.status)
	}
}

func competitionLink(t testing.TB, b *browser) string {
	t.Helper()
	p := b.get("/fi/competitions")
	for _, a := range find(p.doc, element("a")) {
		if h := attr(a, "href"); strings.HasPrefix(h, "/fi/competitions/") && !strings.Contains(strings.TrimPrefix(h, "/fi/competitions/"), "/") {
			return h
		}
	}
	t.Fatal("no competition on the list")
	return ""
}

func TestRootRedirectsToFinnishAndUnknownPagesAnswer404InTheirLanguage(t *testing.T) {
	e := newEnv(t)
	b := e.browser("")
	if p := b.get("/"); p.status != http.StatusFound || p.location != "/fi/" {
		t.Errorf("/ answered %d %s, want 302 /fi/", p.status, p.location)
	}
	for _, lang := range web.Langs {
		p := b.get("/" + lang + "/no-such-page")
		if p.status != http.StatusNotFound {
			t.Errorf("%s: %d", lang, p.status)
		}
		checkPage(t, "/"+lang+"/no-such-page", p, lang)
	}
	// What is neither a page nor an API route gets the API's problem.
	if p := b.get("/nothing-here"); p.status != http.StatusNotFound || !strings.Contains(p.header.Get("Content-Type"), "problem+json") {
		t.Errorf("unknown path: %d %s", p.status, p.header.Get("Content-Type"))
	}
}

func TestAssetsHaveHashedNamesAndLongCaching(t *testing.T) {
	e := newEnv(t)
	b := e.browser("")
	p := b.get("/fi/")
	links := find(p.doc, element("link"))
	if len(links) == 0 {
		t.Fatal("no stylesheet")
	}
	href := attr(links[0], "href")
	if !strings.HasPrefix(href, "/assets/app.") || len(href) < len("/assets/app.0123456789.css") {
		t.Fatalf("stylesheet %q has no content hash", href)
	}
	css := b.get(href)
	if css.status != 200 || !strings.Contains(css.header.Get("Cache-Control"), "immutable") || !strings.Contains(css.header.Get("Cache-Control"), "max-age=31536000") {
		t.Errorf("%s: %d %q", href, css.status, css.header.Get("Cache-Control"))
	}
	if p := b.get("/assets/app.css"); p.status != http.StatusNotFound {
		t.Errorf("an unhashed name answered %d", p.status)
	}
}

// TestCrossSiteFormsAreRefused: a form posted from another site changes
// nothing.
func TestCrossSiteFormsAreRefused(t *testing.T) {
	e := newEnv(t)
	b := e.browser("provider-tyopaja")
	comp := competitionLink(t, b)
	req, _ := http.NewRequest("POST", e.url+comp+"/questions", strings.NewReader(url.Values{"question": {"From elsewhere?"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	if p := b.do(req); p.status != http.StatusForbidden {
		t.Fatalf("cross-site POST answered %d, want 403", p.status)
	}
	if strings.Contains(text(b.get(comp).doc), "From elsewhere?") {
		t.Error("the cross-site question was stored")
	}
}

func TestSessionCookieIsHttpOnlyAndLax(t *testing.T) {
	e := newEnv(t)
	b := e.browser("")
	p := b.post("/en/sign-in", url.Values{"user": {"auditor"}})
	c := p.header.Get("Set-Cookie")
	if !strings.Contains(c, "HttpOnly") || !strings.Contains(c, "SameSite=Lax") {
		t.Errorf("session cookie %q", c)
	}
	// A forged cookie signs nobody in.
	jar := b.c.Jar
	u, _ := url.Parse(e.url)
	jar.SetCookies(u, []*http.Cookie{{Name: "rengas_session", Value: "ImF1ZGl0b3Ii.AAAA"}})
	if p := b.get("/en/audit/chains"); p.status != http.StatusSeeOther {
		t.Errorf("a forged session opened an auditor page: %d", p.status)
	}
}

func hasAttr(n *html.Node, name string) bool {
	for _, a := range n.Attr {
		if a.Key == name {
			return true
		}
	}
	return false
}

// TestAccessibilityStatementGivesTheConfiguredFeedbackAddress: the
// statement's feedback address is the configuration's, in every language,
// and the pages refuse to start without one.
func TestAccessibilityStatementGivesTheConfiguredFeedbackAddress(t *testing.T) {
	e := newEnv(t)
	for _, lang := range web.Langs {
		p := e.browser("").get("/" + lang + "/accessibility")
		links := find(p.doc, func(n *html.Node) bool {
			return n.Type == html.ElementNode && attr(n, "href") == "mailto:"+seed.FeedbackEmail
		})
		if p.status != 200 || len(links) != 1 || text(links[0]) != seed.FeedbackEmail {
			t.Errorf("%s: the statement does not give %s: %s", lang, seed.FeedbackEmail, text(p.doc))
		}
		if strings.Contains(p.body, "saavutettavuus@example.fi") {
			t.Errorf("%s: the statement still gives the old example address", lang)
		}
	}
	for _, bad := range []string{"", "not-an-address"} {
		if _, err := web.New(web.Config{SignIn: web.NewLocalSignIn(seed.Users, nil), FeedbackEmail: bad}); err == nil || !strings.Contains(err.Error(), "FeedbackEmail") {
			t.Errorf("New with feedback address %q: %v, want a refusal naming FeedbackEmail", bad, err)
		}
	}
}
