package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"
)

// TestQuestionsAmendmentAndCancellation: a provider asks a question, the
// officer answers it to every invitee without the asker, amends the
// deadline with a reason (refused without one) and finally cancels the
// competition with a reason; the invitees see each step.
func TestQuestionsAmendmentAndCancellation(t *testing.T) {
	e := newEnv(t)
	c := openCompetition(t, e)
	path := "/fi/competitions/" + c.ID
	college := e.browser("provider-college")
	college.get(path)
	college.follow(path+"/questions", url.Values{"question": {"Saako tapaamisia pitää etänä?"}})
	officer := e.browser("officer-lahti")
	page := officer.get(path)
	var qid, version string
	for _, f := range find(page.doc, element("form")) {
		if a := attr(f, "action"); strings.HasSuffix(a, "/answer") {
			qid = strings.TrimSuffix(strings.TrimPrefix(a, path+"/questions/"), "/answer")
			version = inputValue(f, "version")
		}
	}
	if qid == "" || !strings.Contains(text(page.doc), "prov-college") {
		t.Fatalf("the officer sees no question with its asker: %s", text(page.doc))
	}
	officer.follow(path+"/questions/"+qid+"/answer", url.Values{"version": {version}, "answer-" + qid: {"Kyllä, puolet tapaamisista."}})
	other := e.browser("provider-tyopaja").get(strings.Replace(path, "/fi/", "/en/", 1))
	if body := text(other.doc); !strings.Contains(body, "Kyllä, puolet tapaamisista.") || strings.Contains(body, "prov-college") {
		t.Errorf("another invitee must see the answer without the asker: %s", body)
	}

	// Amending: the question pages of drafting, from the competition's own
	// definition; the deadlines page, then check answers and a reason.
	start := officer.get(path + "/amend")
	checkPage(t, path+"/amend", start, "fi")
	d := c.BidDeadline.In(time.FixedZone("", 0)).AddDate(0, 0, 1)
	deadlines := officer.post(path+"/amend", url.Values{"state": {inputValue(start.doc, "state")}, "version": {inputValue(start.doc, "version")}, "goto": {"deadlines"}})
	checkPage(t, path+"/amend", deadlines, "fi")
	check := officer.post(path+"/amend", url.Values{"state": {inputValue(deadlines.doc, "state")}, "version": {inputValue(deadlines.doc, "version")}, "step": {"deadlines"},
		"questionDeadlineDate": {c.QuestionDeadline.In(helsinkiZone()).Format(time.DateOnly)}, "questionDeadlineTime": {c.QuestionDeadline.In(helsinkiZone()).Format("15:04")},
		"bidDeadlineDate": {d.In(helsinkiZone()).Format(time.DateOnly)}, "bidDeadlineTime": {d.In(helsinkiZone()).Format("15:04")}})
	if check.status != 200 || len(find(check.doc, func(n *html.Node) bool { return attr(n, "id") == "save-amendment" })) != 1 {
		t.Fatalf("the amendment's check page: %d %s", check.status, text(check.doc))
	}
	checkPage(t, path+"/amend", check, "fi")
	form := url.Values{"state": {inputValue(check.doc, "state")}, "version": {inputValue(check.doc, "version")}}
	bad := officer.post(path+"/amend/save", form)
	if bad.status != http.StatusBadRequest {
		t.Fatalf("an amendment without reason answered %d", bad.status)
	}
	checkPage(t, path+"/amend", bad, "fi")
	form.Set("reason", "Lisäaikaa joulun vuoksi.")
	amended := officer.follow(path+"/amend/save", form)
	if !strings.Contains(text(amended.doc), "Lisäaikaa joulun vuoksi.") {
		t.Errorf("the amendment is not shown: %s", text(amended.doc))
	}

	officer.get(path + "/cancel")
	if p := officer.post(path+"/cancel", url.Values{}); p.status != http.StatusBadRequest {
		t.Errorf("a cancellation without reason answered %d", p.status)
	}
	officer.follow(path+"/cancel", url.Values{"reason": {"Määrärahat peruttiin."}})
	seen := e.browser("provider-tyopaja").get(strings.Replace(path, "/fi/", "/sv/", 1))
	if body := text(seen.doc); !strings.Contains(body, "Avbruten") || !strings.Contains(body, "Määrärahat peruttiin.") {
		t.Errorf("the invitee does not see the cancellation: %s", body)
	}
}

func helsinkiZone() *time.Location {
	l, err := time.LoadLocation("Europe/Helsinki")
	if err != nil {
		panic(err)
	}
	return l
}
