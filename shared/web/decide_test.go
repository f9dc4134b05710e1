package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestOfficerDecidesAnApplication: from the queue, the officer opens the
// staffing company's application, is refused a rejection without reason,
// admits it in one category and rejects it in the other with a reason,
// and the provider reads both decisions in Swedish.
func TestOfficerDecidesAnApplication(t *testing.T) {
	e := newEnv(t)
	officer := e.browser("officer-lahti")
	queue := officer.get("/fi/queue")
	var app string
	for _, a := range find(queue.doc, element("a")) {
		if text(a) == "Lahden Henkilöstöpalvelu Oy" {
			app = attr(a, "href")
		}
	}
	if app == "" {
		t.Fatalf("the staffing company is not in the queue: %s", text(queue.doc))
	}
	if !strings.Contains(text(queue.doc), "MYÖHÄSSÄ") && !strings.Contains(text(queue.doc), "Myöhässä") {
		t.Errorf("the overdue application has no overdue tag: %s", text(queue.doc))
	}
	officer.get(app)
	decisions := app + "/decisions"
	bad := officer.post(decisions, url.Values{"category": {"ips-coaching"}, "outcome": {"rejected"}})
	if bad.status != http.StatusBadRequest {
		t.Fatalf("a rejection without reason answered %d", bad.status)
	}
	checkPage(t, app, bad, "fi")
	if !strings.Contains(text(bad.doc), "Kirjoita hylkäyksen perustelu") {
		t.Errorf("the error does not say what to do: %s", text(bad.doc))
	}
	officer.follow(decisions, url.Values{"category": {"job-coaching"}, "outcome": {"admitted"}})
	officer.get(app)
	done := officer.follow(decisions, url.Values{"category": {"ips-coaching"}, "outcome": {"rejected"}, "reason-ips-coaching": {"Ei IPS-koulutusta."}})
	if !strings.Contains(text(done.doc), "Päätetty") {
		t.Errorf("after both decisions the application is not decided: %s", text(done.doc))
	}
	prov := e.browser("provider-staffing")
	mine := prov.get(strings.Replace(app, "/fi/", "/sv/", 1))
	body := text(mine.doc)
	for _, want := range []string{"Godkänd", "Avslagen", "Ei IPS-koulutusta.", "Jobbcoachning"} {
		if !strings.Contains(body, want) {
			t.Errorf("the provider's page lacks %q", want)
		}
	}
	checkPage(t, strings.Replace(app, "/fi/", "/sv/", 1), mine, "sv")
	// The admitted provider is now in the register, and another buyer's
	// officer of the ring sees it too.
	reg := e.browser("officer-ph").get("/en/register")
	if !strings.Contains(text(reg.doc), "Lahden Henkilöstöpalvelu Oy") {
		t.Errorf("the register lacks the admitted provider")
	}
}
