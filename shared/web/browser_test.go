package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/rengas/rengas/shared/dynamo"
	"github.com/rengas/rengas/shared/procurement"
	"github.com/rengas/rengas/shared/seed"
)

// The browser tests run the pages in Debian's Chromium (installed by
// scripts/test.sh) with axe-core (pinned in package.json, installed by
// npm ci) injected into every page: any violation of the WCAG 2.0/2.1 A
// and AA rules fails. They are skipped only when no Chromium can be found.

var axeTags = []string{"wcag2a", "wcag2aa", "wcag21a", "wcag21aa"}

func chromium(t *testing.T) string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("no Chromium on this machine: install Debian's chromium package (scripts/test.sh does) to run the browser journeys and axe-core")
	return ""
}

func axeSource(t *testing.T) string {
	b, err := os.ReadFile(filepath.Join("..", "..", "node_modules", "axe-core", "axe.min.js"))
	if err != nil {
		t.Fatalf("axe-core is not installed (run npm ci; scripts/test.sh does): %v", err)
	}
	return string(b)
}

// newBrowser starts a headless Chromium; scripts off when noJS.
func newBrowser(t *testing.T, noJS bool) context.Context {
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chromium(t)), chromedp.NoSandbox, chromedp.WindowSize(1280, 900))
	alloc, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	ctx, cancel2 := chromedp.NewContext(alloc)
	t.Cleanup(cancel2)
	ctx, cancel3 := context.WithTimeout(ctx, 5*time.Minute)
	t.Cleanup(cancel3)
	scripts(t, ctx, !noJS)
	return ctx
}

// scripts switches the page's JavaScript on or off.
func scripts(t *testing.T, ctx context.Context, on bool) {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: !on})
		return err
	})); err != nil {
		t.Fatal(err)
	}
}

type violation struct {
	ID    string `json:"id"`
	Help  string `json:"help"`
	Nodes []struct {
		Target []any `json:"target"`
	} `json:"nodes"`
}

// axe runs axe-core on the page the browser shows and fails the test on
// any violation.
func axe(t *testing.T, ctx context.Context, src, where string) {
	t.Helper()
	for _, v := range axeViolations(t, ctx, src) {
		var targets []string
		for _, n := range v.Nodes {
			targets = append(targets, fmt.Sprint(n.Target))
		}
		t.Errorf("%s: axe %s (%s) at %s", where, v.ID, v.Help, strings.Join(targets, ", "))
	}
}

func axeViolations(t *testing.T, ctx context.Context, src string) []violation {
	t.Helper()
	where := "axe"
	tags, _ := json.Marshal(axeTags)
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[any](src)); err != nil {
		t.Fatalf("%s: inject axe: %v", where, err)
	}
	out, err := chromedp.Run(ctx, chromedp.Evaluate[string](`axe.run(document, {runOnly: {type: "tag", values: `+string(tags)+`}}).then(r => JSON.stringify(r.violations))`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("%s: axe: %v", where, err)
	}
	var vs []violation
	if err := json.Unmarshal([]byte(out), &vs); err != nil {
		t.Fatalf("%s: %v", where, err)
	}
	return vs
}

func signInBrowser(t *testing.T, ctx context.Context, base, lang, user string) {
	t.Helper()
	// Sign out first, so that waiting for the main navigation waits for
	// the new session.
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/"+lang+"/accessibility")); err != nil {
		t.Fatal(err)
	}
	out, err := chromedp.Run(ctx, chromedp.Nodes(chromedp.CSS(".who form button"), chromedp.AtLeast(0)))
	if err != nil {
		t.Fatal(err)
	}
	if len(out) > 0 {
		if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(".who form button")), chromedp.WaitNotPresent(chromedp.CSS("nav.main"))); err != nil {
			t.Fatalf("sign out: %v", err)
		}
	}
	if err := chromedp.Do(ctx,
		chromedp.Navigate(base+"/"+lang+"/sign-in"),
		chromedp.Click(chromedp.ID("user-"+user)),
		chromedp.WaitVisible(chromedp.CSS("nav.main")),
	); err != nil {
		t.Fatalf("sign in as %s: %v", user, err)
	}
}

// TestAxeOnEveryPageACrawlerReaches signs in as a user of each role (and a
// provider not yet registered) and runs axe-core on every page reachable
// by links, in Finnish, and on the front pages in Swedish and English.
func TestAxeOnEveryPageACrawlerReaches(t *testing.T) {
	src := axeSource(t)
	e := newEnv(t)
	ctx := newBrowser(t, false)
	// A control: axe must find a field without a label, or it checks nothing.
	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, `<!DOCTYPE html><html lang="fi"><head><title>x</title></head><body><main><h1>x</h1><input type="text"></main></body></html>`)
	}))
	defer bad.Close()
	if err := chromedp.Do(ctx, chromedp.Navigate(bad.URL)); err != nil {
		t.Fatal(err)
	}
	if found := axeViolations(t, ctx, src); len(found) == 0 {
		t.Fatal("axe-core found nothing on a page with an unlabelled field; the check is not running")
	}
	pages := 0
	for _, user := range []string{"officer-lahti", "provider-tyopaja", "auditor", "provider-new"} {
		signInBrowser(t, ctx, e.url, "fi", user)
		seen := map[string]bool{}
		queue := []string{"/fi/", "/sv/", "/en/"}
		for len(queue) > 0 && len(seen) < 60 {
			path := queue[0]
			queue = queue[1:]
			if seen[path] {
				continue
			}
			seen[path] = true
			if err := chromedp.Do(ctx, chromedp.Navigate(e.url+path)); err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			links, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll('a[href^="/fi/"]')).filter(a => !a.hasAttribute('download') && !a.hasAttribute('hreflang')).map(a => a.getAttribute('href').split('#')[0])`))
			if err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			axe(t, ctx, src, user+" "+path)
			pages++
			queue = append(queue, links...)
		}
	}
	t.Logf("axe-core found no violation of %v on %d pages", axeTags, pages)
}

// TestProviderBidsWithoutJavaScript: a provider signs in, opens an
// invitation, makes an error, fixes it, checks its answers and submits,
// all with scripts disabled; axe-core checks every page on the way
// (scripts are switched on for the check alone, once the page is shown).
func TestProviderBidsWithoutJavaScript(t *testing.T) {
	src := axeSource(t)
	e := newEnv(t)
	comp := openCompetition(t, e)
	ctx := newBrowser(t, true)
	signInBrowser(t, ctx, e.url, "fi", "provider-tyopaja")
	shot := screenshots(t)
	step := func(where string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			t.Fatalf("%s: %v", where, err)
		}
		scripts(t, ctx, true)
		axe(t, ctx, src, where)
		scripts(t, ctx, false)
	}
	step("home", chromedp.Navigate(e.url+"/fi/"))
	shot(ctx, "provider-home")
	step("competition", chromedp.Navigate(e.url+"/fi/competitions/"+comp.ID))
	step("bid form", chromedp.Navigate(e.url+"/fi/competitions/"+comp.ID+"/bid"))
	step("bid with an error",
		chromedp.SendKeys(chromedp.ID("fixedFee"), "kolmetuhatta"),
		chromedp.Click(chromedp.ID("continue")),
		chromedp.WaitVisible(chromedp.CSS(".error-summary")))
	if title, err := chromedp.Run(ctx, chromedp.Title()); err != nil || !strings.HasPrefix(title, "Virhe:") {
		t.Errorf("error page title %q", title)
	}
	shot(ctx, "provider-bid-errors")
	step("check answers",
		chromedp.SetValue(chromedp.ID("fixedFee"), "3 000"),
		chromedp.SetValue(chromedp.ID("price-employed"), "1 200"),
		chromedp.SetValue(chromedp.ID("answer-individual-service"), "Viikoittaiset tapaamiset."),
		chromedp.SetValue(chromedp.ID("answer-employer-network"), "120 työnantajaa."),
		chromedp.SetValue(chromedp.ID("answer-outcome-follow-up"), "Kuukausiraportit."),
		chromedp.Click(chromedp.ID("continue")),
		chromedp.WaitVisible(chromedp.ID("submit-bid")))
	shot(ctx, "provider-bid-check")
	step("receipt", chromedp.Click(chromedp.ID("submit-bid")), chromedp.WaitVisible(chromedp.CSS("dl.summary code")))
	receipt, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("main")))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(receipt, "3 000,00 €") && !strings.Contains(receipt, "3\u00a0000,00\u00a0€") {
		t.Errorf("receipt: %s", receipt)
	}
	shot(ctx, "provider-receipt")
	// The officer's and the auditor's main pages, for the README.
	signInBrowser(t, ctx, e.url, "fi", "officer-lahti")
	step("queue", chromedp.Navigate(e.url+"/fi/queue"))
	shot(ctx, "officer-queue")
	signInBrowser(t, ctx, e.url, "fi", "auditor")
	step("verification", chromedp.Navigate(e.url+"/fi/audit/chains?chain=dps."+seed.DPSID))
	shot(ctx, "auditor-verification")
}

// openCompetition publishes a job-coaching competition open for bids, as
// the seed does, so that a journey can bid.
func openCompetition(t *testing.T, e *env) *procurement.Competition {
	t.Helper()
	ctx := context.Background()
	officer := procurement.Actor{UserID: "officer-lahti", Role: procurement.RoleOfficer, Org: seed.BuyerLahti}
	c, err := e.store.CreateCompetition(ctx, officer, seed.DPSID, seed.DemoDefinition(e.clock.Now()), seed.System[procurement.DPS])
	if err != nil {
		t.Fatal(err)
	}
	if c, err = e.store.PublishCompetition(ctx, officer, c.ID, c.Version, seed.System[procurement.Competition]); err != nil {
		t.Fatal(err)
	}
	return c
}

// screenshots saves full-page screenshots into RENGAS_SCREENSHOTS, when set
// (the README's pictures are made so).
func screenshots(t *testing.T) func(context.Context, string) {
	dir := os.Getenv("RENGAS_SCREENSHOTS")
	return func(ctx context.Context, name string) {
		if dir == "" {
			return
		}
		img, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)) // PNG
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name+".png"), img, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestOfficerAndAuditorInTheBrowser: the officer admits an applicant from
// the queue by keyboard-operable controls, and the auditor verifies a
// chain through the form; axe-core checks every page on the way.
func TestOfficerAndAuditorInTheBrowser(t *testing.T) {
	src := axeSource(t)
	e := newEnv(t)
	ctx := newBrowser(t, false)
	step := func(where string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			t.Fatalf("%s: %v", where, err)
		}
		axe(t, ctx, src, where)
	}
	signInBrowser(t, ctx, e.url, "sv", "officer-lahti")
	step("queue", chromedp.Navigate(e.url+"/sv/queue"))
	step("application", chromedp.Click(chromedp.JSPath(`Array.from(document.querySelectorAll("main a")).find(a => a.textContent === "Lahden Henkilöstöpalvelu Oy")`)),
		chromedp.WaitVisible(chromedp.ID("outcome-job-coaching")))
	step("admitted",
		chromedp.Click(chromedp.ID("outcome-job-coaching")),
		chromedp.Click(chromedp.CSS(`form[action$="/decisions"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(".success")))
	msg, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(".success")))
	if err != nil || !strings.Contains(msg, "Beslutet sparades") {
		t.Errorf("after the decision: %q %v", msg, err)
	}
	signInBrowser(t, ctx, e.url, "en", "auditor")
	step("verify", chromedp.Navigate(e.url+"/en/audit/chains"),
		chromedp.SendKeys(chromedp.ID("chain"), "dps."+seed.DPSID),
		chromedp.Submit(chromedp.ID("chain")),
		chromedp.WaitVisible(chromedp.CSS(".success")))
	res, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(".success")))
	if err != nil || !strings.Contains(res, "The chain is intact") {
		t.Errorf("verification: %q %v", res, err)
	}
}

// TestMiniCompetitionFromDraftToAwardInTheBrowser: the officer drafts a
// mini-competition through its question pages, checks the answers and
// publishes; a provider bids; after the deadline the officer declares,
// scores and awards; the provider reads the decision and the auditor finds
// the OCDS download. The first key press reaches the skip link. axe-core
// checks every page.
func TestMiniCompetitionFromDraftToAwardInTheBrowser(t *testing.T) {
	src := axeSource(t)
	e := newEnv(t)
	ctx := newBrowser(t, false)
	step := func(where string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			t.Fatalf("%s: %v", where, err)
		}
		axe(t, ctx, src, where)
	}
	next := navigating(chromedp.Click(chromedp.CSS(`main form button[type=submit]`)))
	signInBrowser(t, ctx, e.url, "fi", "officer-lahti")
	step("front page", chromedp.Navigate(e.url+"/fi/"))
	// Keyboard: the first Tab reaches the skip link, Enter moves to main.
	if err := chromedp.Do(ctx, chromedp.KeyEvent("\t")); err != nil {
		t.Fatal(err)
	}
	if f, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.activeElement.className`)); f != "skip" {
		t.Errorf("the first Tab focuses %q, want the skip link", f)
	}
	if err := chromedp.Do(ctx, chromedp.KeyEvent("\r")); err != nil {
		t.Fatal(err)
	}
	if f, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.activeElement.id`)); f != "main" {
		t.Errorf("the skip link moved focus to %q, want main", f)
	}

	step("basics", chromedp.Navigate(e.url+"/fi/dps/"+seed.DPSID+"/competitions/new"),
		chromedp.SendKeys(chromedp.ID("title"), "Selaintesti 2027"),
		chromedp.SendKeys(chromedp.ID("description"), "Valmennus työhön."),
		chromedp.SendKeys(chromedp.ID("targetGroup"), "Nuoret aikuiset"),
		chromedp.SendKeys(chromedp.ID("serviceArea"), "Lahti"),
		chromedp.SetValue(chromedp.ID("contractStart"), "2027-03-01"),
		chromedp.SetValue(chromedp.ID("contractEnd"), "2027-12-31"),
		next, chromedp.WaitVisible(chromedp.ID("m-employed-rate")))
	cont := navigating(chromedp.Click(chromedp.ID("continue")))
	step("add milestone", navigating(chromedp.Click(chromedp.ID("add-milestone"))), chromedp.WaitVisible(chromedp.ID("m-outcome-1-name")))
	step("milestones", chromedp.SendKeys(chromedp.ID("m-outcome-1-name"), "Yrittäjäksi"), chromedp.SetValue(chromedp.ID("m-outcome-1-rate"), "5"),
		cont, chromedp.WaitVisible(chromedp.ID("add-segment")))
	step("add segment", navigating(chromedp.Click(chromedp.ID("add-segment"))), chromedp.WaitVisible(chromedp.ID("s-segment-1-name")))
	step("segments", chromedp.SendKeys(chromedp.ID("s-segment-1-name"), "Osatyökykyiset"), chromedp.SendKeys(chromedp.ID("s-segment-1-share"), "20"),
		chromedp.SendKeys(chromedp.ID("s-segment-1-tariff-vocational-education"), "1000"),
		cont, chromedp.WaitVisible(chromedp.ID("ceiling")))
	step("weights", chromedp.SendKeys(chromedp.ID("ceiling"), "100 000"),
		chromedp.SendKeys(chromedp.ID("weight-individual-service"), "40"),
		chromedp.SendKeys(chromedp.ID("weight-employer-network"), "20"),
		cont, chromedp.WaitVisible(chromedp.ID("bidDeadlineDate")))
	step("deadlines", cont, chromedp.WaitVisible(chromedp.ID("publish")))
	step("published", navigating(chromedp.Click(chromedp.ID("publish"))), chromedp.WaitVisible(chromedp.CSS(".success")))
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	compPath := strings.SplitN(strings.TrimPrefix(loc, e.url), "?", 2)[0]
	comp := e.browser("officer-lahti").get(compPath)
	if !strings.Contains(text(comp.doc), "Tarjousaika käynnissä") {
		t.Fatalf("the competition is not open for bids: %s", text(comp.doc))
	}

	signInBrowser(t, ctx, e.url, "fi", "provider-college")
	step("bid", chromedp.Navigate(e.url+compPath+"/bid"),
		chromedp.SendKeys(chromedp.ID("fixedFee"), "2 800"),
		chromedp.SendKeys(chromedp.ID("price-employed"), "2 400"),
		chromedp.SendKeys(chromedp.ID("price-outcome-1"), "1 000"),
		chromedp.SendKeys(chromedp.ID("answer-individual-service"), "Oma suunnitelma jokaiselle."),
		chromedp.SendKeys(chromedp.ID("answer-employer-network"), "Oppisopimuskumppanit."),
		cont, chromedp.WaitVisible(chromedp.ID("submit-bid")))
	step("receipt", navigating(chromedp.Click(chromedp.ID("submit-bid"))), chromedp.WaitVisible(chromedp.CSS("dl.summary code")))

	// The deadline passes; the scheduled job opens the competition.
	c, err := e.store.ReadCompetition(context.Background(), strings.TrimPrefix(compPath, "/fi/competitions/"))
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Set(c.BidDeadline.Add(dynamo.OpeningGrace + time.Second))
	if _, err := e.store.RunSchedule(context.Background()); err != nil {
		t.Fatal(err)
	}

	signInBrowser(t, ctx, e.url, "fi", "officer-lahti")
	step("declaration", chromedp.Navigate(e.url+compPath+"/evaluation"),
		chromedp.SendKeys(chromedp.ID("statement"), "Ei sidoksia tarjoajiin."),
		navigating(chromedp.Click(chromedp.CSS(`form[action$="/conflict"] button`))),
		chromedp.WaitVisible(chromedp.ID("score-prov-college-individual-service")))
	for _, crit := range []string{"individual-service", "employer-network"} {
		step("score "+crit,
			chromedp.SetValue(chromedp.ID("score-prov-college-"+crit), "4"),
			chromedp.SendKeys(chromedp.ID("reason-prov-college-"+crit), "Selkeä suunnitelma."),
			navigating(chromedp.Click(chromedp.CSS(`form[action$="/score"]:has(#score-prov-college-`+crit+`) button`))),
			chromedp.WaitVisible(chromedp.CSS(".success")))
	}
	step("award", chromedp.SendKeys(chromedp.ID("reasons"), "Kokonaistaloudellisesti edullisin."),
		navigating(chromedp.Click(chromedp.ID("award"))), chromedp.WaitVisible(chromedp.CSS(".success")))

	signInBrowser(t, ctx, e.url, "sv", "provider-college")
	step("decision", chromedp.Navigate(e.url+strings.Replace(compPath, "/fi/", "/sv/", 1)+"/decision"))
	d, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("main")))
	if err != nil || !strings.Contains(strings.ToLower(d), "vinnare") || !strings.Contains(d, "Ditt anbud") || !strings.Contains(d, "marknadsdomstolen") {
		t.Errorf("the decision as the bidder reads it: %v %s", err, d)
	}
	signInBrowser(t, ctx, e.url, "fi", "auditor")
	step("open data", chromedp.Navigate(e.url+"/fi/audit/open-data"))
	links, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll("a[download]")).map(a => a.getAttribute("href"))`))
	if err != nil || !slicesContainSuffix(links, strings.TrimPrefix(compPath, "/fi/competitions/")+"/ocds") {
		t.Errorf("no OCDS download for the competition: %v %v", links, err)
	}
}

// navigating runs the action (a click that submits a form) and waits until
// the browser shows the next page.
func navigating(a chromedp.Action[chromedp.Void]) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		if _, err := chromedp.Evaluate[any](`window.__rengasOld = 1`)(ctx, tg); err != nil {
			return err
		}
		if _, err := a(ctx, tg); err != nil {
			return err
		}
		for range 200 {
			done, err := chromedp.Evaluate[bool](`typeof window.__rengasOld === "undefined" && document.readyState === "complete"`)(ctx, tg)
			if err == nil && done {
				return nil
			}
			time.Sleep(50 * time.Millisecond)
		}
		return fmt.Errorf("no new page after the click")
	})
}

func slicesContainSuffix(list []string, suffix string) bool {
	for _, s := range list {
		if strings.HasSuffix(s, suffix) {
			return true
		}
	}
	return false
}
