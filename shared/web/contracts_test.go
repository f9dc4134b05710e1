package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"golang.org/x/net/html"

	"github.com/rengas/rengas/shared/workdays"
)

// formVersion returns the version input of the form posting to action.
func formVersion(p page, action, field, value string) string {
	for _, f := range find(p.doc, element("form")) {
		if strings.HasSuffix(attr(f, "action"), action) && (field == "" || inputValue(f, field) == value) {
			return inputValue(f, "version")
		}
	}
	return ""
}

// TestContractPages: after the seeded competition is awarded through the
// pages, the officer concludes the contract and refers clients, the
// provider accepts, records starts and claims, the officer verifies from
// the verification queue, and both read the statistics; every page is
// checked in each language, and an identity code is refused by the form.
func TestContractPages(t *testing.T) {
	e := newEnv(t)
	officer, prov, aud := e.browser("officer-lahti"), e.browser("provider-college"), e.browser("auditor")
	contract := awardedContract(t, e)
	p := officer.get("/fi" + contract)
	checkPage(t, "/fi"+contract, p, "fi")
	if !strings.Contains(text(p.doc), "Hankintapäätös tehty") {
		t.Errorf("awarded contract: %s", text(p.doc))
	}
	refs := activeContract(t, e, contract)
	officer.get("/fi/verification")
	testContractPagesAfter(t, e, officer, prov, aud, contract, refs)
}

// awardedContract awards the seeded competition to the college through the
// pages and returns its contract's page address (without the language).
func awardedContract(t *testing.T, e *env) string {
	t.Helper()
	officer := e.browser("officer-lahti")
	comp := competitionLink(t, e.browser("provider-tyopaja"))
	compID := strings.TrimPrefix(comp, "/fi/competitions/")
	officer.follow("/fi/competitions/"+compID+"/conflict", url.Values{"statement": {"Ei sidoksia tarjoajiin."}})
	for _, bidder := range []string{"prov-tyopaja", "prov-college"} {
		for _, crit := range []string{"individual-service", "employer-network", "outcome-follow-up"} {
			ev := officer.get("/fi/competitions/" + compID + "/evaluation")
			version := ""
			for _, f := range find(ev.doc, element("form")) {
				if strings.HasSuffix(attr(f, "action"), "/bids/"+bidder+"/score") && inputValue(f, "criterion") == crit {
					version = inputValue(f, "version")
				}
			}
			score := "3"
			if bidder == "prov-college" {
				score = "5"
			}
			officer.follow("/fi/competitions/"+compID+"/bids/"+bidder+"/score", url.Values{"criterion": {crit}, "version": {version},
				"score-" + bidder + "-" + crit: {score}, "reason-" + bidder + "-" + crit: {"Arvioitu."}})
		}
	}
	decision := officer.follow("/fi/competitions/"+compID+"/award", url.Values{"reasons": {"Kokonaistaloudellisesti edullisin."}})
	contract := "/contracts/" + compID + "/prov-college"
	if !strings.Contains(decision.body, "/fi"+contract) {
		t.Fatalf("the decision does not link the winner's contract: %s", text(decision.doc))
	}
	return contract
}

// activeContract concludes and accepts the contract through the pages,
// refers six clients, records their starts and claims an outcome for
// each; it returns the referral ids.
func activeContract(t *testing.T, e *env, contract string) []string {
	t.Helper()
	officer, prov := e.browser("officer-lahti"), e.browser("provider-college")
	// Past the standstill and into the contract period.
	e.clock.Set(e.clock.Now().AddDate(0, 2, 0))
	today := workdays.DateString(e.clock.Now())
	officer.follow("/fi"+contract+"/conclude", url.Values{})
	p := prov.get("/sv" + contract)
	checkPage(t, "/sv"+contract, p, "sv")
	prov.follow("/sv"+contract+"/accept", url.Values{"version": {formVersion(p, "/accept", "", "")}})

	// An identity code as the client reference: refused, with the field named.
	bad := officer.post("/fi"+contract+"/refer", url.Values{"clientRef": {"010190-123A"}, "segment": {"base"}, "referredOn": {today}})
	if bad.status != http.StatusBadRequest {
		t.Fatalf("an identity code answered %d", bad.status)
	}
	checkPage(t, "/fi"+contract, bad, "fi")
	for i := range 6 {
		officer.follow("/fi"+contract+"/refer", url.Values{"clientRef": {"LAHTI-" + string(rune('A'+i))}, "segment": {"base"}, "referredOn": {today}})
	}
	p = prov.get("/en" + contract)
	var refs []string
	for _, f := range find(p.doc, element("form")) {
		if strings.HasSuffix(attr(f, "action"), "/start") {
			refs = append(refs, inputValue(f, "referral"))
		}
	}
	if len(refs) != 6 {
		t.Fatalf("the provider sees %d start forms: %s", len(refs), text(p.doc))
	}
	for _, r := range refs {
		prov.follow("/en"+contract+"/start", url.Values{"referral": {r}, "version": {"1"}, "startedOn-" + r: {today}})
		prov.follow("/en"+contract+"/claim", url.Values{"referral": {r}, "milestone-" + r: {"vocational-education"}, "achievedOn-" + r: {today},
			"evidenceName-" + r: {"enrolment.pdf"}, "evidenceSha-" + r: {strings.Repeat("ab", 32)}})
	}
	return refs
}

func testContractPagesAfter(t *testing.T, e *env, officer, prov, aud *browser, contract string, refs []string) {
	q := officer.get("/fi/verification")
	checkPage(t, "/fi/verification", q, "fi")
	if n := len(find(q.doc, element("tr"))); n != 7 {
		t.Errorf("the queue shows %d rows, want 6 claims and a header", n)
	}
	for _, r := range refs {
		id := r + ".vocational-education"
		officer.follow("/fi"+contract+"/verify", url.Values{"claim": {id}, "version": {"1"}, "outcome-" + id: {"verified"}, "method-" + id: {"register-check"}})
	}
	for _, lang := range []string{"fi", "sv", "en"} {
		for _, b := range []*browser{officer, prov, aud} {
			for _, path := range []string{contract, contract + "/statistics", "/contracts"} {
				if b == aud && path == "/contracts" {
					continue
				}
				p := b.get("/" + lang + path)
				if p.status != 200 {
					t.Errorf("%s: %d", path, p.status)
					continue
				}
				checkPage(t, "/"+lang+path, p, lang)
			}
		}
	}
	st := officer.get("/en" + contract + "/statistics")
	if !strings.Contains(text(st.doc), "Cost per outcome") || len(find(st.doc, func(n *html.Node) bool { return n.Data == "rect" })) == 0 {
		t.Errorf("statistics: %s", text(st.doc))
	}
	// The provider reads the statistics with small cells hidden.
	if ps := prov.get("/en" + contract + "/statistics"); !strings.Contains(text(ps.doc), "fewer than five") {
		t.Errorf("the provider's statistics are not suppressed: %s", text(ps.doc))
	}
	// Another provider finds nothing.
	if p := e.browser("provider-tyopaja").get("/fi" + contract); p.status != http.StatusNotFound {
		t.Errorf("another provider opens the contract: %d", p.status)
	}
}

// TestContractPagesAxe runs axe-core on the contract pages with data, as
// the officer, the provider and the auditor.
func TestContractPagesAxe(t *testing.T) {
	src := axeSource(t)
	e := newEnv(t)
	contract := awardedContract(t, e)
	activeContract(t, e, contract)
	ctx := newBrowser(t, false)
	pages := 0
	for _, user := range []string{"officer-lahti", "provider-college", "auditor"} {
		signInBrowser(t, ctx, e.url, "fi", user)
		paths := []string{contract, contract + "/statistics"}
		switch user {
		case "officer-lahti":
			paths = append(paths, "/contracts", "/verification")
		case "provider-college":
			paths = append(paths, "/contracts")
		}
		for _, lang := range []string{"fi", "sv"} {
			for _, p := range paths {
				if err := chromedp.Do(ctx, chromedp.Navigate(e.url+"/"+lang+p)); err != nil {
					t.Fatal(err)
				}
				axe(t, ctx, src, user+" /"+lang+p)
				pages++
			}
		}
	}
	t.Logf("axe-core found no violation on %d contract pages", pages)
}
