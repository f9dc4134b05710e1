package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
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

	officer.get(path + "/amend")
	d := c.BidDeadline.In(time.FixedZone("", 0)).AddDate(0, 0, 1)
	form := url.Values{"title": {c.Title}, "description": {c.Description},
		"questionDeadlineDate": {c.QuestionDeadline.Format(time.DateOnly)}, "questionDeadlineTime": {c.QuestionDeadline.In(helsinkiZone()).Format("15:04")},
		"bidDeadlineDate": {d.In(helsinkiZone()).Format(time.DateOnly)}, "bidDeadlineTime": {d.In(helsinkiZone()).Format("15:04")}}
	form.Set("questionDeadlineDate", c.QuestionDeadline.In(helsinkiZone()).Format(time.DateOnly))
	bad := officer.post(path+"/amend", form)
	if bad.status != http.StatusBadRequest {
		t.Fatalf("an amendment without reason answered %d", bad.status)
	}
	checkPage(t, path+"/amend", bad, "fi")
	form.Set("reason", "Lisäaikaa joulun vuoksi.")
	amended := officer.follow(path+"/amend", form)
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
