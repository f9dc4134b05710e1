package web_test

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/rengas/rengas/shared/seed"
)

// TestNewProviderRegistersAndApplies: the unregistered demo provider
// registers (an invalid business ID first), then applies through the task
// list: categories, exclusion grounds (one left unanswered first),
// criteria with a document file, a consortium member, check answers,
// submit; the officer finds the application in the queue.
func TestNewProviderRegistersAndApplies(t *testing.T) {
	e, _ := withBucket(t)
	b := e.browser("provider-new")
	if p := b.get("/fi/"); !strings.Contains(text(p.doc), "Rekisteröi organisaatio") {
		t.Fatalf("the front page does not ask to register: %s", text(p.doc))
	}
	b.get("/fi/registration")
	reg := url.Values{"name": {"Uusi Valmennus Oy"}, "businessId": {"1234567-8"}, "legalForm": {"company"}, "homeMunicipality": {"Lahti"},
		"contactName": {"Ulla"}, "contactEmail": {"ulla@example.fi"}}
	bad := b.post("/fi/registration", reg)
	if bad.status != http.StatusBadRequest {
		t.Fatalf("an invalid business ID answered %d", bad.status)
	}
	checkPage(t, "/fi/registration", bad, "fi")
	if !strings.Contains(text(bad.doc), "Y-tunnus") {
		t.Errorf("the error does not name the business ID: %s", text(bad.doc))
	}
	reg.Set("businessId", "2617415-6")
	if p := b.post("/fi/registration", reg); p.status != http.StatusSeeOther {
		t.Fatalf("registration answered %d: %s", p.status, text(p.doc))
	}

	start := b.get("/fi/dps/" + seed.DPSID + "/apply")
	if start.status != 200 {
		t.Fatalf("task list: %d", start.status)
	}
	checkPage(t, "/fi/dps/"+seed.DPSID+"/apply", start, "fi")
	state := inputValue(start.doc, "state")
	task := func(name string, form url.Values, status int) page {
		t.Helper()
		form.Set("state", state)
		form.Set("task", name)
		p := b.post("/fi/dps/"+seed.DPSID+"/apply", form)
		if p.status != status {
			t.Fatalf("task %s answered %d, want %d: %s", name, p.status, status, text(p.doc))
		}
		checkPage(t, "/fi/dps/"+seed.DPSID+"/apply", p, "fi")
		if status == 200 {
			state = inputValue(p.doc, "state")
		}
		return p
	}
	task("categories", url.Values{"categories": {"job-coaching"}}, 200)
	no := url.Values{}
	for _, g := range []string{"convictions", "tax-arrears", "bankruptcy"} {
		no.Set("ex-"+g, "no")
	}
	task("exclusions", no, 400) // professional-misconduct unanswered
	no.Set("ex-professional-misconduct", "no")
	task("exclusions", no, 200)

	// The criteria page uploads the documents' files straight to the
	// documents bucket (see TestApplicationPageUploadsToS3).
	file := []byte("%PDF-1.7\nverovelkatodistus 2026\n%%EOF\n")
	criteria := url.Values{"state": {state}, "task": {"criteria"}, "crit-job-coaching-insurance": {"yes"}, "crit-job-coaching-experience": {"3"},
		"doc-tax-certificate-issued": {"2026-11-20"}, "doc-pension-certificate-issued": {"2026-11-20"}}
	for _, doc := range []string{"tax-certificate", "pension-certificate"} {
		up := uploadDoc(t, e, b, "fi", criteria, doc, "application/pdf", file)
		if up.status != 200 {
			t.Fatalf("upload %s: %d %s", doc, up.status, text(up.doc))
		}
		// The page S3 returns to keeps its address (with the state) in its
		// language links: switching language confirms again (idempotent).
		checkPage(t, strings.TrimPrefix(b.last, e.url), up, "fi")
		criteria.Set("state", inputValue(up.doc, "state"))
	}
	b.get("/fi/dps/" + seed.DPSID + "/apply") // the task list again, as the pages below expect of their Referer
	crit := b.post("/fi/dps/"+seed.DPSID+"/apply", criteria)
	if crit.status != 200 {
		t.Fatalf("criteria: %d %s", crit.status, text(crit.doc))
	}
	state = inputValue(crit.doc, "state")
	members := url.Values{"m0-name": {"Lahden Diakonialaitos ry"}, "m0-businessId": {"0127614-8"}, "m0-legalForm": {"association"}, "m0-municipality": {"Lahti"}}
	for _, g := range []string{"convictions", "tax-arrears", "bankruptcy", "professional-misconduct"} {
		members.Set("m0-ex-"+g, "no")
	}
	task("members", members, 200)
	check := b.post("/fi/dps/"+seed.DPSID+"/apply", url.Values{"state": {state}, "goto": {"check"}})
	sum := sha256.Sum256(file)
	if check.status != 200 || !strings.Contains(check.body, hex.EncodeToString(sum[:])[:12]) || !strings.Contains(text(check.doc), "Lahden Diakonialaitos ry") {
		t.Fatalf("check answers: %d %s", check.status, text(check.doc))
	}
	checkPage(t, "/fi/dps/"+seed.DPSID+"/apply", check, "fi")
	done := b.follow("/fi/dps/"+seed.DPSID+"/apply/submit", url.Values{"state": {state}})
	if !strings.Contains(text(done.doc), "Hakemuksesi vastaanotettiin") || !strings.Contains(text(done.doc), "Odottaa päätöstä") {
		t.Fatalf("after submitting: %s", text(done.doc))
	}
	q := e.browser("officer-lahti").get("/en/queue")
	if !strings.Contains(text(q.doc), "Uusi Valmennus Oy") {
		t.Errorf("the officer's queue lacks the new application")
	}
}
