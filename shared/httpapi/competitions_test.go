package httpapi_test

import (
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rengas/rengas/shared/dynamo"
	"github.com/rengas/rengas/shared/seed"
)

// definition is a competition with two outcome milestones and three
// quality criteria, as an officer would draft it.
func definition(now time.Time) map[string]any {
	return map[string]any{
		"category":    "job-coaching",
		"title":       "Job coaching for long-term unemployed, Lahti 2027",
		"description": "Individual job coaching towards open labour market employment.",
		"targetGroup": "Long-term unemployed adults in Lahti",
		"serviceArea": []string{"Lahti"}, "places": 20,
		"contractStart": "2027-02-01", "contractEnd": "2027-12-31",
		"milestones": []map[string]any{
			{"id": "employed", "name": "Employed on the open labour market", "pricing": "offered", "tariffCents": 0, "expectedRate": 0.25},
			{"id": "vocational-education", "name": "Started degree-leading vocational education", "pricing": "tariff", "tariffCents": 80000, "expectedRate": 0.15},
		},
		"segments":           []any{},
		"budgetCeilingCents": 10_000_000, "maxOutcomeShare": 0.5, "priceWeight": 40,
		"qualityCriteria": []map[string]any{
			{"id": "individual-service", "description": "How the service is tailored to each client", "weight": 30},
			{"id": "employer-network", "description": "Employer network and how it is used", "weight": 20},
			{"id": "outcome-follow-up", "description": "How outcomes are followed up", "weight": 10},
		},
		"minQualityPoints": 0, "awards": 1,
		"questionDeadline": now.Add(7 * 24 * time.Hour).Format(time.RFC3339),
		"bidDeadline":      now.Add(12 * 24 * time.Hour).Format(time.RFC3339),
	}
}

func offer(fixed, employed int, version any) map[string]any {
	return map[string]any{
		"fixedFeeCents": fixed, "outcomePricesCents": map[string]int{"employed": employed},
		"answers": map[string]string{"individual-service": "Weekly meetings.", "employer-network": "120 employers.", "outcome-follow-up": "Monthly reports."},
		"version": version,
	}
}

func with(m map[string]any, k string, v any) map[string]any {
	c := maps.Clone(m)
	c[k] = v
	return c
}

// admit makes a pending applicant admitted in job-coaching.
func (e *env) admit(provider string) {
	e.t.Helper()
	a := e.pending()[provider]
	e.must(e.do("officer-lahti", "POST", dpsPath+"/applications/"+a["id"].(string)+"/decisions",
		map[string]any{"category": "job-coaching", "outcome": "admitted", "version": a["version"]}), 200)
}

func (e *env) publish(def map[string]any) string {
	e.t.Helper()
	r := e.must(e.do("officer-lahti", "POST", dpsPath+"/competitions", def), 201)
	id := r.str("id")
	e.must(e.do("officer-lahti", "POST", "/competitions/"+id+"/publication", map[string]any{"version": r.body["version"]}), 200)
	return id
}

func TestDefinitionValidation(t *testing.T) {
	e := newEnv(t)
	count := func() int {
		return len(e.must(e.do("officer-lahti", "GET", dpsPath+"/competitions", nil), 200).body["items"].([]any))
	}
	before := count()
	def := definition(e.clock.Now())
	bad := []struct {
		name  string
		def   map[string]any
		field string
	}{
		{"weights not 100", with(def, "priceWeight", 50), "priceWeight"},
		{"rate above 1", with(def, "milestones", []map[string]any{
			{"id": "employed", "name": "E", "pricing": "offered", "tariffCents": 0, "expectedRate": 1.5},
			{"id": "vocational-education", "name": "V", "pricing": "tariff", "tariffCents": 80000, "expectedRate": 0.15}}), "milestones[0].expectedRate"},
		{"missing vocational milestone", with(def, "milestones", []map[string]any{
			{"id": "employed", "name": "E", "pricing": "offered", "tariffCents": 0, "expectedRate": 0.2},
			{"id": "work-trial", "name": "W", "pricing": "tariff", "tariffCents": 30000, "expectedRate": 0.2}}), "milestones"},
		{"deadline too early", with(def, "bidDeadline", e.clock.Now().Add(9*24*time.Hour).Format(time.RFC3339)), "bidDeadline"},
		{"criterion not in DPS", with(def, "qualityCriteria", []map[string]any{{"id": "lowest-overhead", "description": "x", "weight": 60}}), "qualityCriteria[0].id"},
		{"tariff missing", with(def, "milestones", []map[string]any{
			{"id": "employed", "name": "E", "pricing": "offered", "tariffCents": 0, "expectedRate": 0.2},
			{"id": "vocational-education", "name": "V", "pricing": "tariff", "tariffCents": 0, "expectedRate": 0.15}}), "milestones[1].tariffCents"},
		{"unknown category", with(def, "category", "gardening"), "category"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			e.t = t
			e.problem(e.do("officer-lahti", "POST", dpsPath+"/competitions", tt.def), 400, tt.field)
		})
	}
	e.t = t
	e.problem(e.do("provider-tyopaja", "POST", dpsPath+"/competitions", def), 403, "")
	if n := count(); n != before {
		t.Errorf("refused drafts changed the number of competitions from %d to %d", before, n)
	}
}

func TestMiniCompetitionFromPublicationToAward(t *testing.T) {
	e := newEnv(t)
	e.admit("prov-foundation") // the consortium joins the two admitted earlier
	start := e.clock.Now()
	id := e.publish(definition(start))
	base := "/competitions/" + id

	r := e.must(e.do("officer-lahti", "GET", base, nil), 200)
	var ids []string
	for _, inv := range r.body["invitees"].([]any) {
		ids = append(ids, inv.(string))
	}
	r = e.must(e.do("officer-lahti", "GET", base+"/invitees", nil), 200)
	var invited []string
	for _, inv := range r.body["items"].([]any) {
		invited = append(invited, inv.(map[string]any)["providerId"].(string))
	}
	slices.Sort(invited)
	if want := []string{"prov-college", "prov-foundation", "prov-tyopaja"}; !slices.Equal(invited, want) || !slices.Equal(ids, want) {
		t.Fatalf("invitees = %v (ids %v), want every provider admitted in job-coaching", invited, ids)
	}
	r = e.must(e.do("provider-tyopaja", "GET", "/notifications", nil), 200)
	if r.str("items.0.kind") != "competition.invited" {
		t.Errorf("invitee not notified: %s", r.raw)
	}

	// Before any bid and after some, officers learn nothing about bids.
	sealedEmpty := e.do("officer-lahti", "GET", base+"/bids", nil)
	e.problem(sealedEmpty, 409, "")

	// Questions: the asker is hidden from other providers.
	q := e.must(e.do("provider-college", "POST", base+"/questions", map[string]any{"question": "May coaching happen remotely?"}), 201)
	e.must(e.do("officer-lahti", "POST", base+"/questions/"+q.str("id")+"/answer", map[string]any{"answer": "Yes, up to half of the meetings.", "version": 1}), 200)
	r = e.must(e.do("provider-tyopaja", "GET", base+"/questions", nil), 200)
	if r.str("items.0.answer") == "" || dig(r.body, "items.0.askedBy") != nil {
		t.Errorf("provider sees question %s, want the answer without the asker", r.raw)
	}
	if r = e.must(e.do("officer-lahti", "GET", base+"/questions", nil), 200); r.str("items.0.askedBy") != "prov-college" {
		t.Errorf("the running buyer's officer does not see the asker: %s", r.raw)
	}
	// Another buyer of the ring sees no clarifications of a procedure it does not run.
	e.problem(e.do("officer-ph", "GET", base+"/questions", nil), 404, "")

	// Bids: submit, replace, withdraw; the consortium bids through its lead.
	x := e.must(e.do("provider-tyopaja", "PUT", base+"/bids/mine", offer(300000, 120000, 0)), 201)
	e.must(e.do("provider-tyopaja", "PUT", base+"/bids/mine", offer(300000, 120000, x.body["version"])), 200)
	e.must(e.do("provider-foundation", "PUT", base+"/bids/mine", offer(280000, 240000, 0)), 201)
	w := e.must(e.do("provider-college", "PUT", base+"/bids/mine", offer(310000, 100000, 0)), 201)
	e.must(e.do("provider-college", "POST", base+"/bids/mine/withdrawal", map[string]any{"version": w.body["version"]}), 200)
	r = e.must(e.do("provider-foundation", "GET", base+"/bids/mine", nil), 200)
	if n := len(r.body["consortiumMembers"].([]any)); n != 2 {
		t.Errorf("consortium bid has %d members, want the 2 admitted", n)
	}

	// An uninvited provider cannot bid or even see the competition.
	e.problem(e.do("provider-staffing", "PUT", base+"/bids/mine", offer(1, 1, 0)), 404, "")
	e.problem(e.do("provider-staffing", "GET", base, nil), 404, "")
	// Officers and auditors get the very same answer with bids as without.
	sealed := e.do("officer-lahti", "GET", base+"/bids", nil)
	if sealed.status != sealedEmpty.status || sealed.str("detail") != sealedEmpty.str("detail") {
		t.Errorf("sealed answer differs with bids: %s vs %s", sealed.raw, sealedEmpty.raw)
	}
	e.problem(e.do("auditor", "GET", base+"/bids", nil), 409, "")
	if r = e.must(e.do("officer-lahti", "GET", base, nil), 200); strings.Contains(string(r.raw), "300000") || r.body["opening"] != nil {
		t.Errorf("competition view leaks bids before the deadline: %s", r.raw)
	}

	// One second after the deadline, by the server clock, bids are refused.
	deadline, _ := time.Parse(time.RFC3339, definition(start)["bidDeadline"].(string))
	e.clock.Set(deadline.Add(time.Second))
	e.problem(e.do("provider-tyopaja", "PUT", base+"/bids/mine", offer(1, 1, 2)), 409, "")
	e.problem(e.do("provider-foundation", "POST", base+"/bids/mine/withdrawal", map[string]any{"version": 1}), 409, "")

	// Reading never opens: the competition shows as closed until the
	// scheduled job opens it, after the deadline and the opening grace.
	if r = e.must(e.do("officer-lahti", "GET", base, nil), 200); r.str("status") != "closed" {
		t.Errorf("past the deadline, unopened: status %s, want closed", r.str("status"))
	}
	e.problem(e.do("officer-lahti", "POST", base+"/conflict-declarations", map[string]any{"statement": "Too early."}), 409, "")
	e.openBids(deadline)
	// Opening: recorded once, then evaluation after the declaration.
	r = e.must(e.do("officer-lahti", "GET", base, nil), 200)
	if r.str("status") != "evaluation" || r.body["opening"].(map[string]any)["bids"].(float64) != 2 {
		t.Fatalf("after the deadline: status %s, opening %v; want evaluation with 2 bids", r.str("status"), r.body["opening"])
	}
	e.problem(e.do("officer-lahti", "GET", base+"/bids", nil), 409, "")
	e.must(e.do("officer-lahti", "POST", base+"/conflict-declarations", map[string]any{"statement": "I have no ties to any bidder."}), 201)
	r = e.must(e.do("officer-lahti", "GET", base+"/bids", nil), 200)
	if n := len(r.body["items"].([]any)); n != 3 {
		t.Errorf("officer sees %d bids, want 3 (one withdrawn)", n)
	}
	e.must(e.do("auditor", "GET", base+"/bids", nil), 200)

	scores := map[string][3]int{"prov-tyopaja": {4, 3, 5}, "prov-foundation": {5, 5, 2}}
	crits := []string{"individual-service", "employer-network", "outcome-follow-up"}
	for prov, sc := range scores {
		ver := 1
		if prov == "prov-tyopaja" {
			ver = 2
		}
		for i, c := range crits {
			r := e.must(e.do("officer-lahti", "POST", base+"/bids/"+prov+"/scores", map[string]any{"criterion": c, "score": sc[i], "reason": "Assessed against the plan.", "version": ver}), 200)
			ver = int(r.body["version"].(float64))
		}
	}
	e.problem(e.do("officer-lahti", "POST", base+"/bids/prov-tyopaja/scores", map[string]any{"criterion": "individual-service", "score": 6, "reason": "x", "version": 5}), 400, "score")
	// Another buyer of the ring may not even learn whether the bid exists.
	e.problem(e.do("officer-ph", "POST", base+"/bids/prov-tyopaja/scores", map[string]any{"criterion": "individual-service", "score": 3, "reason": "x", "version": 5}), 404, "")

	comp := e.must(e.do("officer-lahti", "GET", base, nil), 200)
	r = e.must(e.do("officer-lahti", "POST", base+"/award", map[string]any{"reasons": "The most economically advantageous bid.", "version": comp.body["version"]}), 200)
	// The numbers, checked by hand against BRIEF section 3:
	//  tyopaja:    20 × (3000 + 1200×0.25 + 800×0.15) = 68 400.00; 40 × 1 = 40.00; 24+12+10 = 46.00; 86.00
	//  foundation: 20 × (2800 + 2400×0.25 + 800×0.15) = 70 400.00; 40 × 68400/70400 = 38.86; 30+20+4 = 54.00; 92.86
	want := map[string]string{
		"prov-foundation": "70400.00 38.86 54.00 92.86 1 20",
		"prov-tyopaja":    "68400.00 40.00 46.00 86.00 2 <nil>",
	}
	for _, res := range r.body["decision"].(map[string]any)["comparison"].(map[string]any)["results"].([]any) {
		m := res.(map[string]any)
		got := fmt.Sprint(m["evaluationPriceEuros"], " ", m["pricePoints"], " ", m["qualityPoints"], " ", m["totalPoints"], " ", m["rank"], " ", m["awardedPlaces"])
		if got != want[m["bid"].(string)] {
			t.Errorf("bid %s: got %s, want %s", m["bid"], got, want[m["bid"].(string)])
		}
	}
	if !strings.Contains(r.str("decision.appealInstructions"), "Market Court") || r.str("decision.comparison.lotSeed") == "" {
		t.Errorf("decision lacks appeal instructions or the lot seed: %s", r.raw)
	}

	// Every bidder reads the decision: its own scores and the winner's.
	r = e.must(e.do("provider-tyopaja", "GET", base+"/decision", nil), 200)
	if n := len(r.body["comparison"].(map[string]any)["results"].([]any)); n != 2 {
		t.Errorf("losing bidder sees %d results, want its own and the winner's", n)
	}
	r = e.must(e.do("provider-tyopaja", "GET", "/notifications", nil), 200)
	if r.str("items.0.kind") != "competition.awarded" {
		t.Errorf("bidder not notified of the award: %s", r.str("items.0.kind"))
	}
	e.problem(e.do("provider-college", "GET", base+"/bids/mine/withdrawal", nil), 404, "")
	verifyChain(t, e.store, dynamo.DPSChain(seed.DPSID))
	verifyChain(t, e.store, dynamo.BidChain(id, "prov-tyopaja"))
}

func TestBidIdempotencyKey(t *testing.T) {
	e := newEnv(t)
	id := e.publish(definition(e.clock.Now()))
	path := e.url + "/competitions/" + id + "/bids/mine"
	send := func(body map[string]any) resp {
		req, _ := http.NewRequest("PUT", path, strings.NewReader(mustJSON(body)))
		req.Header.Set("Authorization", "Bearer "+e.tokens["provider-tyopaja"])
		req.Header.Set("Idempotency-Key", "4f1d6c1e-retry")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		return resp{status: res.StatusCode, ctype: res.Header.Get("Content-Type")}
	}
	first, again := send(offer(300000, 120000, 0)), send(offer(300000, 120000, 0))
	if first.status != 201 || again.status != 201 {
		t.Errorf("retry with the same key: %d then %d, want 201 twice", first.status, again.status)
	}
	if r := e.must(e.do("provider-tyopaja", "GET", "/competitions/"+id+"/bids/mine", nil), 200); r.body["version"].(float64) != 1 {
		t.Errorf("the retry wrote again: version %v", r.body["version"])
	}
	if other := send(offer(1, 1, 0)); other.status != 400 {
		t.Errorf("same key, other body: %d, want 400", other.status)
	}
}

func TestAmendAndCancel(t *testing.T) {
	e := newEnv(t)
	now := e.clock.Now()
	def := definition(now)
	id := e.publish(def)
	base := "/competitions/" + id
	amend := func(d map[string]any, reason string, version any) resp {
		return e.do("officer-lahti", "PUT", base, with(with(d, "reason", reason), "version", version))
	}
	e.clock.Advance(5 * 24 * time.Hour)
	// A non-material change (the description) needs a reason, and is recorded.
	e.problem(amend(with(def, "description", "Clarified."), "", 2), 400, "reason")
	r := e.must(amend(with(def, "description", "Clarified."), "Typo in the description.", 2), 200)
	if r.str("amendments.0.material") != "false" {
		t.Errorf("description change recorded as %s", r.str("amendments.0.material"))
	}
	// A material change (more places) must leave a full tender period from now.
	more := with(def, "places", 30)
	e.problem(amend(more, "More clients.", 3), 400, "bidDeadline")
	later := e.clock.Now().Add(11 * 24 * time.Hour).UTC().Format(time.RFC3339)
	r = e.must(amend(with(more, "bidDeadline", later), "More clients.", 3), 200)
	if r.str("amendments.1.material") != "true" || r.str("places") != "30" {
		t.Errorf("material amendment: %s", r.raw)
	}
	if n := e.must(e.do("provider-college", "GET", "/notifications", nil), 200); n.str("items.0.kind") != "competition.amended" {
		t.Errorf("invitees not told of the amendment: %s", n.str("items.0.kind"))
	}
	// Deadlines never shrink; an officer of another buyer cannot amend.
	e.problem(amend(with(more, "bidDeadline", def["bidDeadline"]), "Shorter.", 4), 400, "bidDeadline")
	e.problem(e.do("officer-ph", "PUT", base, with(with(more, "bidDeadline", later), "version", 4)), 403, "")

	e.must(e.do("provider-tyopaja", "PUT", base+"/bids/mine", offer(300000, 120000, 0)), 201)
	e.problem(e.do("officer-lahti", "POST", base+"/cancellation", map[string]any{"reason": "", "version": 4}), 400, "reason")
	r = e.must(e.do("officer-lahti", "POST", base+"/cancellation", map[string]any{"reason": "The budget was withdrawn.", "version": 4}), 200)
	if r.str("status") != "cancelled" {
		t.Errorf("status %s, want cancelled", r.str("status"))
	}
	e.problem(e.do("provider-tyopaja", "PUT", base+"/bids/mine", offer(290000, 120000, 1)), 409, "")
	// Bids of a competition cancelled before its deadline are never opened.
	e.problem(e.do("auditor", "GET", base+"/bids", nil), 409, "")
}
