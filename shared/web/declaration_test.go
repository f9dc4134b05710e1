package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/rengas/rengas/shared/seed"
)

// TestRenewedSelfDeclaration: the officer asks an admitted provider for a
// renewed self-declaration (a too early due date is refused with the
// API's rule, on the field), the provider sees it on its front page and
// answers every exclusion ground, and the register shows it answered.
func TestRenewedSelfDeclaration(t *testing.T) {
	e := newEnv(t)
	officer := e.browser("officer-lahti")
	officer.get("/fi/register")
	form := url.Values{"providers": {"prov-tyopaja"}, "declMessage": {"Vuosittainen tarkistus."}, "declDue": {e.clock.Now().Format(time.DateOnly)}}
	bad := officer.post("/fi/register/"+seed.DPSID+"/declarations", form)
	if bad.status != http.StatusBadRequest {
		t.Fatalf("a due date of today answered %d", bad.status)
	}
	checkPage(t, "/fi/register", bad, "fi")
	if !strings.Contains(text(bad.doc), "Vastattava viimeistään") {
		t.Errorf("the error does not name the due date: %s", text(bad.doc))
	}
	form.Set("declDue", e.clock.Now().AddDate(0, 0, 21).Format(time.DateOnly))
	officer.follow("/fi/register/"+seed.DPSID+"/declarations", form)

	prov := e.browser("provider-tyopaja")
	home := prov.get("/sv/")
	var link string
	for _, a := range find(home.doc, element("a")) {
		if strings.HasPrefix(attr(a, "href"), "/sv/declarations/") {
			link = attr(a, "href")
		}
	}
	if link == "" {
		t.Fatalf("the provider's front page does not show the request: %s", text(home.doc))
	}
	page := prov.get(link)
	checkPage(t, link, page, "sv")
	answers := url.Values{"ex-convictions": {"no"}, "ex-tax-arrears": {"no"}, "ex-bankruptcy": {"yes"}}
	missing := prov.post(link, answers)
	if missing.status != http.StatusBadRequest {
		t.Fatalf("an unanswered ground and a yes without explanation answered %d", missing.status)
	}
	checkPage(t, link, missing, "sv")
	answers.Set("ex-bankruptcy", "no")
	answers.Set("ex-professional-misconduct", "no")
	prov.follow(link, answers)
	if p := prov.get("/sv/"); strings.Contains(text(p.doc), "Begärda nya egna försäkringar") {
		t.Error("the answered request is still among the front page's tasks")
	}
	if p := officer.get("/en/register"); !strings.Contains(text(p.doc), "Answered") {
		t.Error("the register does not show the answer")
	}
	// Another provider cannot open the request.
	if p := e.browser("provider-college").get(link); p.status != http.StatusNotFound {
		t.Errorf("another provider opened the request: %d", p.status)
	}
}
