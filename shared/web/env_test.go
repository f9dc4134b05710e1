package web_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"golang.org/x/net/html"

	"github.com/rengas/rengas/shared/dynamo"
	"github.com/rengas/rengas/shared/httpapi"
	"github.com/rengas/rengas/shared/localdb"
	"github.com/rengas/rengas/shared/seed"
	"github.com/rengas/rengas/shared/web"
)

var (
	engine     *localdb.Engine
	tableCount atomic.Int64
)

func TestMain(m *testing.M) {
	var err error
	if engine, err = localdb.Start(":0"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	engine.Close()
	os.Exit(code)
}

// env is the seeded demo ring with the pages in front of the API, wired as
// the local server and the web function wire them, over real HTTP.
type env struct {
	t     testing.TB
	url   string
	store *dynamo.Store
	ro    *dynamo.Store // the audit routes' read-only store
	clock *dynamo.Clock
	log   *logBuffer
	api   *apiRecorder
}

// apiRecorder records the requests the pages make to the API in-process,
// so that a test can replay them on their own.
type apiRecorder struct {
	h    http.Handler
	mu   sync.Mutex
	reqs []*http.Request
}

func (a *apiRecorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	a.reqs = append(a.reqs, r.WithContext(context.WithoutCancel(r.Context())))
	a.mu.Unlock()
	a.h.ServeHTTP(w, r)
}

func (a *apiRecorder) take() []*http.Request {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := a.reqs
	a.reqs = nil
	return out
}

// trips is the DynamoDB round trips of both stores so far.
func (e *env) trips() int64 { return e.store.RoundTrips() + e.ro.RoundTrips() }

// logBuffer collects the pages' log so that tests can look for missing
// messages and failures.
type logBuffer struct {
	t     testing.TB
	lines atomic.Pointer[[]string]
}

func (l *logBuffer) Write(p []byte) (int, error) {
	for {
		old := l.lines.Load()
		next := append(append([]string{}, (*old)...), string(p))
		if l.lines.CompareAndSwap(old, &next) {
			break
		}
	}
	l.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

func (l *logBuffer) contains(s string) bool {
	for _, line := range *l.lines.Load() {
		if strings.Contains(line, s) {
			return true
		}
	}
	return false
}

func newEnv(t testing.TB) *env {
	t.Helper()
	return newEnvWith(t, nil)
}

// newEnvWith is newEnv with the API server set up further (e.g. given a
// documents bucket) before the pages are wired to it.
func newEnvWith(t testing.TB, setup func(*httpapi.Server)) *env {
	t.Helper()
	ctx := context.Background()
	table := fmt.Sprintf("w%d", tableCount.Add(1))
	db, err := engine.Open(ctx, table)
	if err != nil {
		t.Fatal(err)
	}
	store := dynamo.New(db, table)
	clock := &dynamo.Clock{}
	store.Now = clock.Now
	if err := seed.Load(ctx, store); err != nil {
		t.Fatal(err)
	}
	if _, err := store.RunSchedule(ctx); err != nil {
		t.Fatal(err)
	}
	lb := &logBuffer{t: t}
	lb.lines.Store(&[]string{})
	logger := slog.New(slog.NewTextHandler(lb, nil))
	ro := dynamo.New(db, table)
	ro.Now, ro.ReadOnly = clock.Now, true
	srv := httpapi.NewServer(store, logger)
	if setup != nil {
		setup(srv)
	}
	rec := &apiRecorder{h: web.API(map[string]http.Handler{
		httpapi.FnQualification: srv.Handler(httpapi.FnQualification),
		httpapi.FnCompetitions:  srv.Handler(httpapi.FnCompetitions),
		httpapi.FnAudit:         httpapi.NewServer(ro, logger).Handler(httpapi.FnAudit),
	})}
	pages, err := web.New(web.Config{
		API:           rec,
		SignIn:        web.NewLocalSignIn(seed.Users, nil),
		Log:           logger,
		Now:           clock.Now,
		FeedbackEmail: seed.FeedbackEmail,
	})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(pages)
	t.Cleanup(ts.Close)
	return &env{t: t, url: ts.URL, store: store, ro: ro, clock: clock, log: lb, api: rec}
}

// browser is one user's cookie jar; it does not follow redirects itself.
type browser struct {
	e    *env
	c    *http.Client
	user string
	last string // the last page got, sent as the Referer of a form
}

func (e *env) browser(user string) *browser {
	jar, _ := cookiejar.New(nil)
	b := &browser{e: e, user: user, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	if user != "" {
		res := b.post("/fi/sign-in", url.Values{"user": {user}})
		if res.status != http.StatusSeeOther {
			e.t.Fatalf("sign in as %s: %d", user, res.status)
		}
	}
	return b
}

// page is an answer with its parsed document.
type page struct {
	status   int
	location string
	header   http.Header
	body     string
	doc      *html.Node
}

func (b *browser) do(req *http.Request) page {
	b.e.t.Helper()
	res, err := b.c.Do(req)
	if err != nil {
		b.e.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	p := page{status: res.StatusCode, location: res.Header.Get("Location"), header: res.Header, body: string(raw)}
	if strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
		if p.doc, err = html.Parse(strings.NewReader(p.body)); err != nil {
			b.e.t.Fatal(err)
		}
	}
	return p
}

func (b *browser) get(path string) page {
	b.e.t.Helper()
	req, _ := http.NewRequest("GET", b.e.url+path, nil)
	b.last = b.e.url + path
	return b.do(req)
}

func (b *browser) post(path string, form url.Values) page {
	b.e.t.Helper()
	req, _ := http.NewRequest("POST", b.e.url+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	// As a browser does for a form of the same site.
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	if b.last != "" {
		req.Header.Set("Referer", b.last)
	}
	return b.do(req)
}

// follow posts a form and follows its redirect (POST, redirect, GET).
func (b *browser) follow(path string, form url.Values) page {
	b.e.t.Helper()
	p := b.post(path, form)
	if p.status != http.StatusSeeOther {
		b.e.t.Fatalf("POST %s answered %d, want 303: %s", path, p.status, text(p.doc))
	}
	return b.get(p.location)
}

// find returns the nodes for which match is true.
func find(n *html.Node, match func(*html.Node) bool) []*html.Node {
	var out []*html.Node
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n == nil {
			return
		}
		if match(n) {
			out = append(out, n)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return out
}

func attr(n *html.Node, name string) string {
	for _, a := range n.Attr {
		if a.Key == name {
			return a.Val
		}
	}
	return ""
}

func element(tag string) func(*html.Node) bool {
	return func(n *html.Node) bool { return n.Type == html.ElementNode && n.Data == tag }
}

// text is the visible text of a node.
func text(n *html.Node) string {
	var b strings.Builder
	for _, t := range find(n, func(n *html.Node) bool { return n.Type == html.TextNode }) {
		if p := t.Parent; p != nil && (p.Data == "script" || p.Data == "style" || p.Data == "title") {
			continue
		}
		b.WriteString(t.Data)
		b.WriteString(" ")
	}
	return strings.Join(strings.Fields(b.String()), " ")
}

func title(doc *html.Node) string {
	if ts := find(doc, element("title")); len(ts) > 0 && ts[0].FirstChild != nil {
		return ts[0].FirstChild.Data
	}
	return ""
}

// hidden returns the value of a hidden input, or of any input by name.
func inputValue(doc *html.Node, name string) string {
	for _, in := range find(doc, element("input")) {
		if attr(in, "name") == name {
			return attr(in, "value")
		}
	}
	return ""
}

// rawKey matches a message id shown instead of its text.
var rawKey = regexp.MustCompile(`\b(a11y|amend|application|applications|awards|bid|bidcheck|cancel|chains|check|clock|competition|competitions|decision|dossier|draft|draftcheck|error|evaluation|field|flash|format|home|landing|layout|list|nav|notifications|opendata|outcome|pricing|queue|receipt|register|registration|signin|statistics|title|withdraw|contract|contracts|claim|claimQueue|referral|ledger|outcomeStats|contractStatus|referralStatus|claimStatus|entryKind|action|admission|appStatus|bidStatus|category|compStatus|criterion|legalForm|milestone|notice|role)\.[a-zA-Z_]+\b`)
