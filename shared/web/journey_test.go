package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/rengas/rengas/shared/dynamo"
	"github.com/rengas/rengas/shared/seed"
	"golang.org/x/net/html"
)

// TestOfficerProviderAuditorJourney runs a mini-competition from draft to
// award through the pages' forms alone, as a browser without JavaScript
// would: question pages, check answers, publish and invite all; a bid with
// an error, check answers, receipt, a change; the opening; the conflict
// declaration, scores, the award; the decision as the bidder reads it; and
// the auditor's chain verification and OCDS download.
func TestOfficerProviderAuditorJourney(t *testing.T) {
	e := newEnv(t)
	officer := e.browser("officer-lahti")

	// Draft: five question pages, each answered by posting the draft so far.
	start := officer.get("/fi/dps/" + seed.DPSID + "/competitions/new")
	if start.status != 200 {
		t.Fatalf("draft start: %d", start.status)
	}
	state := inputValue(start.doc, "state")
	step := func(name string, fields url.Values) page {
		t.Helper()
		fields.Set("state", state)
		fields.Set("step", name)
		p := officer.post("/fi/dps/"+seed.DPSID+"/competitions/new", fields)
		if p.status != 200 {
			t.Fatalf("step %s: %d %s", name, p.status, text(p.doc))
		}
		checkPage(t, "/fi/dps/"+seed.DPSID+"/competitions/new", p, "fi")
		state = inputValue(p.doc, "state")
		return p
	}
	// A missing title is refused with an error summary linking to the field.
	bad := officer.post("/fi/dps/"+seed.DPSID+"/competitions/new", url.Values{"state": {state}, "step": {"basics"}, "category": {"job-coaching"}})
	if bad.status != 400 || !strings.HasPrefix(title(bad.doc), "Virhe:") {
		t.Fatalf("an empty basics page answered %d %q", bad.status, title(bad.doc))
	}
	checkPage(t, "/fi/dps/"+seed.DPSID+"/competitions/new", bad, "fi")
	step("basics", url.Values{"category": {"job-coaching"}, "title": {"Työhönvalmennus 2027"}, "description": {"Valmennus työhön tai opintoihin."},
		"targetGroup": {"Pitkäaikaistyöttömät"}, "serviceArea": {"Lahti, Hollola"}, "places": {"20"}, "contractStart": {"2027-02-01"}, "contractEnd": {"2027-12-31"}})
	// Milestones: "add another" re-renders the page with a third row,
	// keeping what was typed in the first two.
	milestones := url.Values{"m-employed-name": {"Työllistyminen"}, "m-employed-pricing": {"offered"}, "m-employed-rate": {"25"},
		"m-vocational-education-name": {"Koulutus"}, "m-vocational-education-pricing": {"tariff"}, "m-vocational-education-tariff": {"800"}, "m-vocational-education-rate": {"15"}}
	addRow := func(name string, fields url.Values, add string) page {
		t.Helper()
		f := url.Values{"add": {add}}
		for k, v := range fields {
			f[k] = v
		}
		return step(name, f)
	}
	more := addRow("milestones", milestones, "milestone")
	if inputValue(more.doc, "m-outcome-1-name") != "" || len(find(more.doc, func(n *html.Node) bool { return attr(n, "id") == "m-outcome-1-name" })) != 1 ||
		inputValue(more.doc, "m-vocational-education-tariff") != "800" {
		t.Fatalf("add another milestone: %s", text(more.doc))
	}
	// Continue with the new row empty: its name is missing.
	noName := officer.post("/fi/dps/"+seed.DPSID+"/competitions/new", func() url.Values {
		f := url.Values{"state": {state}, "step": {"milestones"}}
		for k, v := range milestones {
			f[k] = v
		}
		return f
	}())
	if noName.status != 400 || !strings.Contains(text(noName.doc), "Kirjoita tulostavoitteen nimi") {
		t.Fatalf("a milestone without a name answered %d %s", noName.status, text(noName.doc))
	}
	checkPage(t, "/fi/dps/"+seed.DPSID+"/competitions/new", noName, "fi")
	state = inputValue(noName.doc, "state")
	milestones.Set("m-outcome-1-name", "Yrittäjäksi")
	milestones.Set("m-outcome-1-pricing", "tariff")
	milestones.Set("m-outcome-1-tariff", "500")
	milestones.Set("m-outcome-1-rate", "5")
	segs := step("milestones", milestones)
	if len(find(segs.doc, func(n *html.Node) bool { return attr(n, "id") == "add-segment" })) != 1 {
		t.Fatalf("the segments page offers no segment to add: %s", text(segs.doc))
	}
	// Segments: add three, remove the third; each tariff milestone has a
	// segment tariff field, the offered one has none.
	segments := url.Values{}
	addRow("segments", segments, "segment")
	addRow("segments", segments, "segment")
	three := addRow("segments", segments, "segment")
	has := func(p page, id string) bool {
		return len(find(p.doc, func(n *html.Node) bool { return attr(n, "id") == id })) == 1
	}
	if !has(three, "s-segment-3-name") || !has(three, "s-segment-1-tariff-outcome-1") || has(three, "s-segment-1-tariff-employed") {
		t.Fatalf("three segments: %s", text(three.doc))
	}
	if two := step("segments", url.Values{"remove": {"s-segment-3"}}); has(two, "s-segment-3-name") || !has(two, "s-segment-2-name") {
		t.Fatalf("removing the third segment: %s", text(two.doc))
	}
	segments = url.Values{"s-segment-1-name": {"Osatyökykyiset"}, "s-segment-1-share": {"20"}, "s-segment-1-rate-employed": {"15"},
		"s-segment-1-tariff-vocational-education": {"1 000"}, "s-segment-2-name": {"Maahanmuuttajat"}, "s-segment-2-share": {"10"},
		"s-segment-2-tariff-outcome-1": {"700"}}
	step("segments", segments)
	step("weights", url.Values{"ceiling": {"100 000"}, "outcomeShare": {"50"}, "priceWeight": {"40"},
		"weight-individual-service": {"30"}, "weight-employer-network": {"20"}, "weight-outcome-follow-up": {"10"}, "minQuality": {"0"}, "awards": {"1"}})
	now := e.clock.Now().In(time.FixedZone("", 0))
	q, d := now.AddDate(0, 0, 7), now.AddDate(0, 0, 12)
	check := step("deadlines", url.Values{"questionDeadlineDate": {q.Format(time.DateOnly)}, "questionDeadlineTime": {"12:00"},
		"bidDeadlineDate": {d.Format(time.DateOnly)}, "bidDeadlineTime": {"12:00"}})
	body := check.body
	for _, want := range []string{"Tarkista tarjouspyyntö", "100\u00a0000,00\u00a0€", "800,00\u00a0€", "25\u00a0%", "Suomen aikaa"} {
		if !strings.Contains(body, want) {
			t.Errorf("the check-answers page lacks %q", want)
		}
	}
	for _, want := range []string{"Yrittäjäksi", "Osatyökykyiset", "Maahanmuuttajat", "1\u00a0000,00\u00a0€", "700,00\u00a0€"} {
		if !strings.Contains(body, want) {
			t.Errorf("the check-answers page lacks %q", want)
		}
	}
	pub := officer.follow("/fi/dps/"+seed.DPSID+"/competitions/new/publish", url.Values{"state": {state}, "action": {"publish"}})
	if !strings.Contains(text(pub.doc), "julkaistiin") || !strings.Contains(text(pub.doc), "kutsuttiin 2") {
		t.Fatalf("after publishing: %s", text(pub.doc))
	}
	compPath := strings.SplitN(strings.TrimPrefix(pubURL(t, officer), e.url), "?", 2)[0]
	compID := strings.TrimPrefix(compPath, "/fi/competitions/")
	// What the API stored: three milestones (one offered, two tariffs) and
	// two segments with their own rates and tariffs.
	stored, err := e.store.ReadCompetition(context.Background(), compID)
	if err != nil {
		t.Fatal(err)
	}
	ms := stored.Definition.Milestones
	if len(ms) != 3 || ms[0].Pricing != "offered" || ms[1].TariffCents != 80000 || ms[2].ID != "outcome-1" || ms[2].Name != "Yrittäjäksi" ||
		ms[2].Pricing != "tariff" || ms[2].TariffCents != 50000 || ms[2].ExpectedRate != 500 {
		t.Errorf("stored milestones: %+v", ms)
	}
	sg := stored.Definition.Segments
	if len(sg) != 2 || sg[0].Name != "Osatyökykyiset" || sg[0].PlacesShare != 2000 || sg[0].ExpectedRates["employed"] != 1500 ||
		sg[0].TariffsCents["vocational-education"] != 100000 || len(sg[0].TariffsCents) != 1 ||
		sg[1].ID != "segment-2" || sg[1].PlacesShare != 1000 || sg[1].TariffsCents["outcome-1"] != 70000 || len(sg[1].ExpectedRates) != 0 {
		t.Errorf("stored segments: %+v", sg)
	}

	// Amend the published competition with a reason, on the same question
	// pages: the first segment is renamed and gets a tariff for the new
	// milestone; the store holds the change and the reason.
	am := officer.get(compPath + "/amend")
	amState, amVersion := inputValue(am.doc, "state"), inputValue(am.doc, "version")
	amPost := func(path string, f url.Values) page {
		t.Helper()
		f.Set("state", amState)
		f.Set("version", amVersion)
		p := officer.post(path, f)
		if p.status != 200 {
			t.Fatalf("amend %s %v: %d %s", path, f, p.status, text(p.doc))
		}
		checkPage(t, compPath+"/amend", p, "fi")
		amState = inputValue(p.doc, "state")
		return p
	}
	amSegs := amPost(compPath+"/amend", url.Values{"goto": {"segments"}})
	if inputValue(amSegs.doc, "s-segment-1-name") != "Osatyökykyiset" || inputValue(amSegs.doc, "s-segment-2-tariff-outcome-1") != "700" {
		t.Fatalf("the amendment does not start from the stored segments: %s", text(amSegs.doc))
	}
	segments.Set("s-segment-1-name", "Osatyökykyiset ja nuoret")
	segments.Set("s-segment-1-tariff-outcome-1", "650")
	segments.Set("step", "segments")
	amPost(compPath+"/amend", segments)
	amPost(compPath+"/amend", url.Values{"goto": {"check"}})
	saved := officer.follow(compPath+"/amend/save", url.Values{"state": {amState}, "version": {amVersion}, "reason": {"Ryhmän kuvaus tarkentui."}})
	if !strings.Contains(text(saved.doc), "Ryhmän kuvaus tarkentui.") {
		t.Fatalf("after amending: %s", text(saved.doc))
	}
	if c, err := e.store.ReadCompetition(context.Background(), compID); err != nil {
		t.Fatal(err)
	} else if s := c.Definition.Segments; len(s) != 2 || s[0].Name != "Osatyökykyiset ja nuoret" || s[0].TariffsCents["outcome-1"] != 65000 ||
		s[0].TariffsCents["vocational-education"] != 100000 || len(c.Amendments) != 1 || c.Amendments[0].Reason != "Ryhmän kuvaus tarkentui." {
		t.Errorf("stored after the amendment: segments %+v, amendments %+v", s, c.Amendments)
	}

	// The provider bids in Swedish: an error first, then check answers.
	prov := e.browser("provider-tyopaja")
	form := prov.get("/sv/competitions/" + compID + "/bid")
	if form.status != 200 || !strings.Contains(text(form.doc), "finsk tid") {
		t.Fatalf("bid form: %d, the deadline must be shown in Finnish time: %s", form.status, text(form.doc))
	}
	key := inputValue(form.doc, "key")
	offer := url.Values{"version": {"0"}, "key": {key}, "fixedFee": {"tre tusen"}, "price-employed": {"1 200"},
		"answer-individual-service": {"Veckovisa möten."}, "answer-employer-network": {"120 arbetsgivare."}, "answer-outcome-follow-up": {"Månadsrapporter."}}
	// The admitted consortium is shown read-only; subcontractors are added
	// row by row ("add another"), and a begun row needs every field.
	if !strings.Contains(text(form.doc), "Du lämnar anbud ensam") {
		t.Errorf("the bid form does not say the provider bids alone, as admitted: %s", text(form.doc))
	}
	withSub := url.Values{"subs": {"0"}, "add": {"subcontractor"}}
	for k, v := range offer {
		withSub[k] = v
	}
	rows := prov.post("/sv/competitions/"+compID+"/bid", withSub)
	if rows.status != 200 || inputValue(rows.doc, "subs") != "1" || len(find(rows.doc, func(n *html.Node) bool { return attr(n, "id") == "sub-0-businessId" })) != 1 {
		t.Fatalf("add a subcontractor: %d %s", rows.status, text(rows.doc))
	}
	checkPage(t, "/sv/competitions/"+compID+"/bid", rows, "sv")
	offer.Set("subs", "1")
	offer.Set("sub-0-name", "Lahden Siivous Oy")
	halfRow := url.Values{}
	for k, v := range offer {
		halfRow[k] = v
	}
	halfRow.Set("fixedFee", "3 000")
	if p := prov.post("/sv/competitions/"+compID+"/bid", halfRow); p.status != 400 || !strings.Contains(text(p.doc), "Skriv FO-numret för underleverantör 1") {
		t.Fatalf("a subcontractor without business ID answered %d %s", p.status, text(p.doc))
	} else {
		checkPage(t, "/sv/competitions/"+compID+"/bid", p, "sv")
	}
	offer.Set("sub-0-businessId", "0201256-6")
	offer.Set("sub-0-role", "Lokalvård")
	errPage := prov.post("/sv/competitions/"+compID+"/bid", offer)
	if errPage.status != 400 || !strings.HasPrefix(title(errPage.doc), "Fel:") {
		t.Fatalf("a fee in words answered %d %q", errPage.status, title(errPage.doc))
	}
	checkPage(t, "/sv/competitions/"+compID+"/bid", errPage, "sv")
	offer.Set("fixedFee", "3 000")
	checkAnswers := prov.post("/sv/competitions/"+compID+"/bid", offer)
	if checkAnswers.status != 200 || !strings.Contains(checkAnswers.body, "3\u00a0000,00\u00a0€") || !strings.Contains(text(checkAnswers.doc), "Lahden Siivous Oy (0201256-6): Lokalvård") {
		t.Fatalf("check answers: %d %s", checkAnswers.status, text(checkAnswers.doc))
	}
	checkPage(t, "/sv/competitions/"+compID+"/bid", checkAnswers, "sv")
	receipt := prov.follow("/sv/competitions/"+compID+"/bid/submit", offer)
	digest := ""
	for _, c := range find(receipt.doc, element("code")) {
		if s := text(c); len(s) == 64 {
			digest = s
		}
	}
	if digest == "" || !strings.Contains(text(receipt.doc), "Mottaget") {
		t.Fatalf("receipt without digest: %s", text(receipt.doc))
	}
	// What the API stored: the subcontractor as typed, and no consortium
	// (the provider was admitted alone).
	if b, err := e.store.GetBid(context.Background(), compID, "prov-tyopaja"); err != nil {
		t.Fatal(err)
	} else if len(b.Subcontractors) != 1 || b.Subcontractors[0].Name != "Lahden Siivous Oy" || b.Subcontractors[0].BusinessID != "0201256-6" ||
		b.Subcontractors[0].Role != "Lokalvård" || len(b.Members) != 0 {
		t.Errorf("stored bid: subcontractors %+v, members %+v", b.Subcontractors, b.Members)
	}
	// A retry of the same submission (same key) is answered once.
	if p := prov.post("/sv/competitions/"+compID+"/bid/submit", offer); p.status != http.StatusSeeOther {
		t.Errorf("a retried submission answered %d", p.status)
	}
	// Change the bid: version 1 replaces it, with a new key.
	offer.Set("version", "1")
	offer.Set("key", strings.Repeat("ab", 16))
	offer.Set("fixedFee", "2 900,50")
	changed := prov.follow("/sv/competitions/"+compID+"/bid/submit", offer)
	if !strings.Contains(changed.body, "2\u00a0900,50\u00a0€") {
		t.Fatalf("the changed bid: %s", text(changed.doc))
	}
	for _, c := range find(changed.doc, element("code")) {
		if s := text(c); len(s) == 64 {
			digest = s
		}
	}
	// A second bidder, the college, bids dearer (straight to submission).
	college := e.browser("provider-college")
	if p := college.follow("/fi/competitions/"+compID+"/bid/submit", url.Values{"version": {"0"}, "key": {strings.Repeat("cd", 16)}, "fixedFee": {"3 500"},
		"price-employed": {"2 500"}, "answer-individual-service": {"Oma suunnitelma."}, "answer-employer-network": {"40 työnantajaa."},
		"answer-outcome-follow-up": {"Seuranta 3 kk."}}); !strings.Contains(text(p.doc), "Vastaanotettu") {
		t.Fatalf("the college's bid: %s", text(p.doc))
	}
	// Before the deadline the officer sees no bid.
	if p := officer.get("/fi/competitions/" + compID + "/evaluation"); p.status != 200 || !strings.Contains(text(p.doc), "suljettuja") {
		t.Errorf("before the deadline the evaluation page answered %d: %s", p.status, text(p.doc))
	}

	// The deadline passes; the scheduled job opens the competition.
	e.clock.Set(d.Add(12*time.Hour + dynamo.OpeningGrace + time.Second))
	if _, err := e.store.RunSchedule(context.Background()); err != nil {
		t.Fatal(err)
	}
	if p := prov.get("/sv/competitions/" + compID + "/bid"); p.status != http.StatusConflict {
		t.Errorf("the bid form after the deadline answered %d", p.status)
	}
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
			if version == "" {
				t.Fatalf("no score form for %s %s: %s", bidder, crit, text(ev.doc))
			}
			officer.follow("/fi/competitions/"+compID+"/bids/"+bidder+"/score", url.Values{"criterion": {crit}, "version": {version},
				"score-" + bidder + "-" + crit: {"4"}, "reason-" + bidder + "-" + crit: {"Hyvä suunnitelma."}})
		}
	}
	// A score without a reason is refused and names the field.
	bad = officer.post("/fi/competitions/"+compID+"/bids/prov-tyopaja/score", url.Values{"criterion": {"individual-service"}, "version": {"4"}, "score-prov-tyopaja-individual-service": {"5"}})
	if bad.status != 400 {
		t.Errorf("a score without reason answered %d", bad.status)
	}
	checkPage(t, "/fi/competitions/"+compID+"/evaluation", bad, "fi")
	decision := officer.follow("/fi/competitions/"+compID+"/award", url.Values{"reasons": {"Kokonaistaloudellisesti edullisin."}})
	if !strings.Contains(text(decision.doc), "markkinaoikeuteen") {
		t.Errorf("the decision lacks the appeal instructions: %s", text(decision.doc))
	}

	// The bidder reads the decision in English, with its own numbers.
	read := prov.get("/en/competitions/" + compID + "/decision")
	if read.status != 200 || !strings.Contains(text(read.doc), "Winner") || !strings.Contains(text(read.doc), "Market Court") {
		t.Errorf("the provider's decision: %d %s", read.status, text(read.doc))
	}
	checkPage(t, "/en/competitions/"+compID+"/decision", read, "en")
	// The other bidder reads the winner's name (from the open data), not
	// its provider id.
	lost := college.get("/sv/competitions/" + compID + "/decision")
	if body := text(lost.doc); lost.status != 200 || !strings.Contains(body, "Päijät-Hämeen Työpajayhdistys ry") || strings.Contains(body, "prov-tyopaja") {
		t.Errorf("the losing bidder's decision: %d %s", lost.status, body)
	}
	checkPage(t, "/sv/competitions/"+compID+"/decision", lost, "sv")

	// The auditor verifies the DPS chain and downloads the OCDS release.
	aud := e.browser("auditor")
	v := aud.get("/fi/audit/chains?chain=dps." + seed.DPSID)
	if v.status != 200 || !strings.Contains(text(v.doc), "Ketju on eheä") {
		t.Errorf("verification: %d %s", v.status, text(v.doc))
	}
	// The bid's chain records the digest the receipt showed.
	bc := aud.get("/fi/audit/chains?chain=bid." + compID + ".prov-tyopaja")
	if bc.status != 200 || !strings.Contains(text(bc.doc), "Ketju on eheä") {
		t.Errorf("the bid's chain: %d %s", bc.status, text(bc.doc))
	}
	if !strings.Contains(bc.body, digest) {
		t.Errorf("the bid's chain does not hold the digest %s of the provider's receipt", digest)
	}
	o := aud.get("/fi/audit/open-data/competitions/" + compID + "/ocds")
	if o.status != 200 || !strings.Contains(o.header.Get("Content-Disposition"), "attachment") || !strings.Contains(o.body, `"releases"`) {
		t.Errorf("OCDS download: %d %q", o.status, o.header.Get("Content-Disposition"))
	}
	csv := aud.get("/fi/audit/awards.csv?dpsId=" + seed.DPSID)
	if csv.status != 200 || !strings.Contains(csv.body, "prov-tyopaja") {
		t.Errorf("CSV download: %d %s", csv.status, csv.body)
	}
	if e.log.contains("missing message") || e.log.contains("page failed") {
		t.Error("the pages logged a missing message or a failure")
	}
}

// pubURL is the competition page the officer was sent to after publishing.
func pubURL(t *testing.T, officer *browser) string {
	t.Helper()
	p := officer.get("/fi/competitions")
	for _, a := range find(p.doc, element("a")) {
		if strings.Contains(text(a), "Työhönvalmennus 2027") {
			return attr(a, "href")
		}
	}
	t.Fatal("the new competition is not on the list")
	return ""
}
