package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rengas/rengas/shared/access"
	"github.com/rengas/rengas/shared/audit"
	"github.com/rengas/rengas/shared/auth"
	"github.com/rengas/rengas/shared/dynamo"
	"github.com/rengas/rengas/shared/ocds"
	"github.com/rengas/rengas/shared/ocds/ocdstest"
	"github.com/rengas/rengas/shared/outcomes"
	"github.com/rengas/rengas/shared/procurement"
	"github.com/rengas/rengas/shared/seed"
	"github.com/rengas/rengas/shared/workdays"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

// outcomeDefinition is a competition with three client segments (the base
// and two harder ones with higher tariffs), a 90-day sustainment window on
// employment, and a tight ceiling so that the caps bind within a year.
func outcomeDefinition(now time.Time) map[string]any {
	d := definition(now)
	d["places"] = 15
	d["budgetCeilingCents"] = 5_500_000
	d["maxOutcomeShare"] = 0.25
	d["milestones"] = []map[string]any{
		{"id": "employed", "name": "Employed on the open labour market", "pricing": "offered", "tariffCents": 0, "expectedRate": 0.25, "sustainmentDays": 90},
		{"id": "vocational-education", "name": "Started degree-leading vocational education", "pricing": "tariff", "tariffCents": 80000, "expectedRate": 0.15},
	}
	d["segments"] = []map[string]any{
		{"id": "youth", "name": "Young people under 25", "placesShare": 0.3, "expectedRates": map[string]any{"employed": 0.2}, "tariffsCents": map[string]any{"vocational-education": 120000}},
		{"id": "partial-ability", "name": "Partial work ability", "placesShare": 0.3, "expectedRates": map[string]any{"employed": 0.15}, "tariffsCents": map[string]any{"vocational-education": 150000}},
	}
	return d
}

// The terms as the test computes them itself from the definition above and
// the bids below, independently of the code under test.
var (
	testSegments   = []string{"base", "youth", "partial-ability"}
	testMilestones = []string{"employed", "vocational-education"}
	testFixedFee   = int64(300000)
	testEmployed   = int64(150000) // both winners offer this
	testVocational = map[string]int64{"base": 80000, "youth": 120000, "partial-ability": 150000}
	testCeiling    = int64(5_500_000) // 15 of 15 places
	testOutcomeCap = int64(5_500_000) / 4
)

func testPrice(milestone, segment string) int64 {
	if milestone == "employed" {
		return testEmployed
	}
	return testVocational[segment]
}

// awardOutcomeCompetition publishes the definition, has the provider bid
// alone, and awards it. It returns the competition id.
func (e *env) awardOutcomeCompetition(user, prov string) string {
	e.t.Helper()
	def := outcomeDefinition(e.clock.Now())
	id := e.publish(def)
	e.must(e.do(user, "PUT", "/competitions/"+id+"/bids/mine", offer(int(testFixedFee), int(testEmployed), 0)), 201)
	deadline, _ := time.Parse(time.RFC3339, def["bidDeadline"].(string))
	e.clock.Set(deadline.Add(time.Minute))
	e.award(id, map[string][3]int{prov: {4, 4, 4}})
	return id
}

type tried struct {
	base, prov, user string
	refs             []map[string]any
}

func (e *env) get(user, path string) resp { return e.must(e.do(user, "GET", path, nil), 200) }

func items(r resp) []map[string]any {
	var out []map[string]any
	for _, it := range r.body["items"].([]any) {
		out = append(out, it.(map[string]any))
	}
	return out
}

func num(v any) int64 {
	switch x := v.(type) {
	case float64:
		return int64(x)
	case json.Number:
		n, _ := x.Int64()
		return n
	}
	return 0
}

func evidence(name string) []map[string]any {
	return []map[string]any{{"name": name, "sha256": strings.Repeat("ab", 32), "mediaType": "application/pdf", "bytes": 1200}}
}

// TestOutcomeYear is the trial: a ring's full year as its users
// would live it, through the API. Two contracts are awarded and concluded
// after standstill; 30 clients are referred in three segments; the
// providers claim outcomes, some early, some twice, some past the cap; the
// buyer verifies, rejects and claws one back. Every payable amount is then
// checked against the terms and the caps computed here, and the
// statistics against the referrals.
func TestOutcomeYear(t *testing.T) {
	e := newEnv(t)
	e.admit("prov-foundation")
	ca := e.awardOutcomeCompetition("provider-college", "prov-college")
	cb := e.awardOutcomeCompetition("provider-foundation", "prov-foundation")
	contracts := []*tried{
		{base: "/competitions/" + ca + "/contracts/prov-college", prov: "prov-college", user: "provider-college"},
		{base: "/competitions/" + cb + "/contracts/prov-foundation", prov: "prov-foundation", user: "provider-foundation"},
	}

	// Standstill: 14 calendar days on the Finnish calendar; the decision
	// and the contract show its end; conclusion before it is refused.
	for _, k := range contracts {
		c := e.get("officer-lahti", k.base)
		if c.str("status") != "awarded" {
			t.Fatalf("contract after award: %s", c.raw)
		}
		ends, _ := time.Parse(time.RFC3339, c.str("standstillEnds"))
		awarded, _ := time.Parse(time.RFC3339, c.str("awardedAt"))
		if !ends.After(awarded.AddDate(0, 0, 14)) || !workdays.IsWorkday(ends.Add(-time.Hour)) {
			t.Errorf("standstill ends %s (awarded %s): want after 14 days, the last day a working day", ends, awarded)
		}
		dec := e.get("officer-lahti", strings.Split(k.base, "/contracts/")[0]+"/decision")
		if dec.str("standstillEnds") != c.str("standstillEnds") {
			t.Errorf("decision shows standstill end %s, contract %s", dec.str("standstillEnds"), c.str("standstillEnds"))
		}
		e.problem(e.do("officer-lahti", "POST", k.base+"/conclusion", map[string]any{}), 409, "")
		e.problem(e.do("provider-tyopaja", "GET", k.base, nil), 404, "")
	}
	e.clock.Set(e.clock.Now().AddDate(0, 0, 20))
	for _, k := range contracts {
		c := e.must(e.do("officer-lahti", "POST", k.base+"/conclusion", map[string]any{"note": "Signed."}), 200)
		if c.str("status") != "concluded" || num(dig(c.body, "terms.ceilingCents")) != testCeiling || num(dig(c.body, "terms.outcomeCapCents")) != testOutcomeCap {
			t.Fatalf("concluded: %s", c.raw)
		}
		e.problem(e.do("officer-lahti", "POST", k.base+"/referrals", map[string]any{"clientRef": "CASE-1", "segment": "base", "referredOn": "2027-02-01"}), 409, "")
		e.must(e.do(k.user, "POST", k.base+"/acceptance", map[string]any{"version": c.body["version"]}), 200)
	}

	// Referrals: 15 per contract, five in each segment; the 16th finds
	// every place taken. No personal identity code is accepted.
	e.clock.Set(time.Date(2027, 2, 1, 9, 0, 0, 0, workdays.Helsinki))
	for _, bad := range []string{"010190-123A", "010190A123B", "311299+9999", "0101901234", "case 010190-123a", "01 01 90-123 A", "150505Y0001"} {
		r := e.do("officer-lahti", "POST", contracts[0].base+"/referrals", map[string]any{"clientRef": bad, "segment": "base", "referredOn": "2027-02-01"})
		e.problem(r, 400, "clientRef")
		if !strings.Contains(string(r.raw), "henkilötunnus") {
			t.Errorf("refusal of %q does not say why: %s", bad, r.raw)
		}
	}
	for ci, k := range contracts {
		for i := range 15 {
			r := e.must(e.do("officer-lahti", "POST", k.base+"/referrals", map[string]any{
				"clientRef": fmt.Sprintf("LAHTI-2027-%d%03d", ci, i), "segment": testSegments[i%3], "referredOn": "2027-02-01"}), 201)
			k.refs = append(k.refs, r.body)
		}
		e.problem(e.do("officer-lahti", "POST", k.base+"/referrals", map[string]any{"clientRef": "LAHTI-2027-X", "segment": "base", "referredOn": "2027-02-01"}), 409, "")
		// Other buyers and other providers see no referrals.
		e.problem(e.do("officer-ph", "GET", k.base+"/referrals", nil), 404, "")
		e.problem(e.do("provider-tyopaja", "GET", k.base+"/referrals", nil), 404, "")
		if n := len(items(e.get(k.user, k.base+"/referrals"))); n != 15 {
			t.Errorf("the provider sees %d of its 15 referrals", n)
		}
	}

	// Starts: the fixed fee per started client is booked.
	e.clock.Set(time.Date(2027, 2, 3, 9, 0, 0, 0, workdays.Helsinki))
	for _, k := range contracts {
		for i, rf := range k.refs {
			r := e.must(e.do(k.user, "POST", k.base+"/referrals/"+rf["id"].(string)+"/start", map[string]any{"startedOn": "2027-02-02", "version": rf["version"]}), 200)
			k.refs[i] = r.body
		}
	}

	// Claims. Employment needs 90 days: claimed early, it is refused.
	e.clock.Set(time.Date(2027, 6, 1, 9, 0, 0, 0, workdays.Helsinki))
	a, b := contracts[0], contracts[1]
	claim := func(k *tried, i int, ms, on string) resp {
		return e.do(k.user, "POST", k.base+"/referrals/"+k.refs[i]["id"].(string)+"/claims", map[string]any{"milestone": ms, "achievedOn": on, "evidence": evidence("employment contract.pdf")})
	}
	e.problem(claim(a, 0, "employed", "2027-04-01"), 400, "achievedOn")
	// A claim whose evidence names a person's identity code is refused.
	r := e.do(a.user, "POST", a.base+"/referrals/"+a.refs[1]["id"].(string)+"/claims", map[string]any{"milestone": "vocational-education", "achievedOn": "2027-05-01",
		"evidence": []map[string]any{{"name": "certificate of 010190-123A.pdf", "sha256": strings.Repeat("ab", 32)}}})
	e.problem(r, 400, "evidence[0].name")
	// The other provider cannot claim on this contract.
	e.problem(e.do(b.user, "POST", a.base+"/referrals/"+a.refs[0]["id"].(string)+"/claims", map[string]any{"milestone": "employed", "achievedOn": "2027-04-01", "evidence": evidence("x.pdf")}), 404, "")

	e.clock.Set(time.Date(2027, 7, 15, 9, 0, 0, 0, workdays.Helsinki))
	type planned struct {
		k    *tried
		i    int
		ms   string
		on   string
		then string // verified, rejected, more-information
	}
	var plan []planned
	// Contract A: all 15 employed (days vary), 3 vocational; one rejected,
	// one asked for more information first. Employment outcomes past the
	// cap (ceiling and outcome share) are booked but not payable.
	for i := range 15 {
		then := "verified"
		switch i {
		case 4:
			then = "rejected"
		case 7:
			then = "more-information"
		}
		plan = append(plan, planned{a, i, "employed", fmt.Sprintf("2027-0%d-%02d", 3+i%2, 1+i), then})
	}
	for _, i := range []int{1, 2, 3} {
		plan = append(plan, planned{a, i, "vocational-education", "2027-05-10", "verified"})
	}
	// Contract B: five employed, six vocational (two of each segment).
	for i := range 5 {
		plan = append(plan, planned{b, i, "employed", "2027-04-0" + fmt.Sprint(1+i), "verified"})
	}
	for i := range 6 {
		plan = append(plan, planned{b, 5 + i, "vocational-education", "2027-06-15", "verified"})
	}
	claims := map[string]map[string]any{}
	for _, p := range plan {
		c := e.must(claim(p.k, p.i, p.ms, p.on), 201)
		claims[c.str("id")] = c.body
		if num(c.body["amountCents"]) != testPrice(p.ms, testSegments[p.i%3]) {
			t.Errorf("claim %s amount %v, want %d", c.str("id"), c.body["amountCents"], testPrice(p.ms, testSegments[p.i%3]))
		}
	}
	// Twice: refused, and the amount is never the claimant's.
	e.problem(claim(a, 0, "employed", "2027-03-01"), 409, "")
	e.problem(e.do(a.user, "POST", a.base+"/referrals/"+a.refs[0]["id"].(string)+"/claims", map[string]any{"milestone": "employed", "achievedOn": "2027-03-01", "evidence": evidence("x.pdf"), "amountCents": 1}), 400, "amountCents")

	// The verification queue: every pending claim of the buyer, earliest
	// deadline first.
	q := items(e.get("officer-lahti", "/verification-queue?limit=100"))
	if len(q) != len(plan) {
		t.Errorf("queue holds %d claims, want %d", len(q), len(plan))
	}
	if !slices.IsSortedFunc(q, func(x, y map[string]any) int { return strings.Compare(x["dueOn"].(string), y["dueOn"].(string)) }) {
		t.Errorf("queue not ordered by deadline")
	}
	e.problem(e.do("provider-college", "GET", "/verification-queue", nil), 403, "")

	verify := func(k *tried, id, outcome, reason string) resp {
		c := claims[id]
		r := e.must(e.do("officer-lahti", "POST", k.base+"/claims/"+id+"/verification", map[string]any{"outcome": outcome, "method": "register-check", "reason": reason, "version": c["version"]}), 200)
		claims[id] = r.body
		return r
	}
	for _, p := range plan {
		id := p.k.refs[p.i]["id"].(string) + "." + p.ms
		switch p.then {
		case "rejected":
			verify(p.k, id, "rejected", "The register shows no employment.")
		case "more-information":
			verify(p.k, id, "more-information", "Send the employment contract's first page.")
			c := e.must(e.do(p.k.user, "POST", p.k.base+"/claims/"+id+"/evidence", map[string]any{"evidence": evidence("first page.pdf"), "version": claims[id]["version"]}), 200)
			claims[id] = c.body
			verify(p.k, id, "verified", "")
		default:
			verify(p.k, id, "verified", "")
		}
	}
	if n := len(items(e.get("officer-lahti", "/verification-queue"))); n != 0 {
		t.Errorf("%d claims left in the queue", n)
	}

	// A clawback: the employment of A's first client did not last. The
	// clawback frees room under the caps.
	ledgerA := items(e.get("officer-lahti", a.base+"/ledger?limit=100"))
	var reversed map[string]any
	for _, en := range ledgerA {
		if en["claimId"] == a.refs[0]["id"].(string)+".employed" {
			reversed = en
		}
	}
	cb1 := e.must(e.do("officer-lahti", "POST", a.base+"/ledger/"+reversed["id"].(string)+"/clawback", map[string]any{"reason": "The employment ended within the trial period."}), 201)
	if cb1.body["reverses"] != reversed["id"] {
		t.Errorf("clawback: %s", cb1.raw)
	}
	e.problem(e.do("officer-lahti", "POST", a.base+"/ledger/"+reversed["id"].(string)+"/clawback", map[string]any{"reason": "Again."}), 409, "")
	// An adjustment after the clawback: capped like any fee.
	e.must(e.do("officer-lahti", "POST", a.base+"/ledger/adjustments", map[string]any{"amountCents": 150000, "reason": "Travel costs agreed."}), 201)
	// A payment on the first entry.
	first := ledgerA[0]
	e.must(e.do("officer-lahti", "POST", a.base+"/ledger/"+first["id"].(string)+"/payment", map[string]any{"invoiceRef": "INV-2027-001", "paidOn": "2027-03-01", "version": first["version"]}), 200)

	// Every payable amount, by hand.
	for _, k := range contracts {
		ledger := items(e.get("officer-lahti", k.base+"/ledger?limit=100"))
		var payable, outcomePaid, withheld, paid int64
		byID := map[string]map[string]any{}
		segOf := map[string]string{}
		for i, rf := range k.refs {
			segOf[rf["id"].(string)] = testSegments[i%3]
		}
		for _, en := range ledger {
			byID[en["id"].(string)] = en
			amount, pay, held := num(en["amountCents"]), num(en["payableCents"]), num(en["withheldCents"])
			var want, wantPay int64
			switch en["kind"] {
			case "fixed-fee":
				want = testFixedFee
				wantPay = min(want, max(0, testCeiling-payable))
			case "outcome-fee":
				want = testPrice(en["milestone"].(string), segOf[en["referralId"].(string)])
				wantPay = min(want, max(0, testCeiling-payable), max(0, testOutcomeCap-outcomePaid))
				outcomePaid += wantPay
			case "adjustment":
				want = 150000
				wantPay = min(want, max(0, testCeiling-payable))
			case "clawback":
				orig := byID[en["reverses"].(string)]
				want, wantPay = -num(orig["amountCents"]), -num(orig["payableCents"])
				if orig["kind"] == "outcome-fee" {
					outcomePaid += wantPay
				}
				if held != -num(orig["withheldCents"]) {
					t.Errorf("clawback %s withheld %d, want %d", en["id"], held, -num(orig["withheldCents"]))
				}
			}
			if amount != want || pay != wantPay || (en["kind"] != "clawback" && held != want-wantPay) {
				t.Errorf("%s entry %s (%s): amount %d payable %d withheld %d; by hand %d, %d, %d", k.prov, en["id"], en["kind"], amount, pay, held, want, wantPay, want-wantPay)
			}
			if held > 0 && en["withheldReason"] == "" {
				t.Errorf("entry %s withholds %d without saying why", en["id"], held)
			}
			payable += pay
			withheld += held
			if en["paidOn"] != nil && en["paidOn"] != "" {
				paid += pay
			}
		}
		bal := e.get("officer-lahti", k.base).body["balance"].(map[string]any)
		if num(bal["payableCents"]) != payable || num(bal["withheldCents"]) != withheld || num(bal["paidCents"]) != paid || num(bal["entries"]) != int64(len(ledger)) {
			t.Errorf("%s balance %v; by hand payable %d withheld %d paid %d entries %d", k.prov, bal, payable, withheld, paid, len(ledger))
		}
		if payable > testCeiling || outcomePaid > testOutcomeCap {
			t.Errorf("%s pays %d (outcomes %d): over the caps", k.prov, payable, outcomePaid)
		}
		t.Logf("%s: %d entries, payable %d cents, withheld %d cents (ceiling %d, outcome cap %d)", k.prov, len(ledger), payable, withheld, testCeiling, testOutcomeCap)
	}
	if w := num(e.get("officer-lahti", a.base).body["balance"].(map[string]any)["withheldCents"]); w == 0 {
		t.Errorf("contract A never reached a cap; the trial needs some fees past it")
	}

	// Statistics against the referrals, per segment and milestone, and
	// the claims as they stand now (one was clawed back).
	for _, k := range contracts {
		for _, c := range items(e.get("officer-lahti", k.base+"/claims?limit=100")) {
			claims[c["id"].(string)] = c
		}
	}
	if c := claims[a.refs[0]["id"].(string)+".employed"]; c["status"] != "clawed-back" {
		t.Errorf("the clawed-back claim is %v", c["status"])
	}
	for _, k := range contracts {
		want := map[string]int64{}
		weeks := map[string][]int{}
		for i, rf := range k.refs {
			seg := testSegments[i%3]
			want["ref|"+seg]++
			for _, ms := range testMilestones {
				c := claims[rf["id"].(string)+"."+ms]
				if c == nil || c["status"] != "verified" {
					continue
				}
				want["out|"+seg+"|"+ms]++
				on, _ := time.Parse(time.DateOnly, c["achievedOn"].(string))
				weeks[seg+"|"+ms] = append(weeks[seg+"|"+ms], int(on.Sub(time.Date(2027, 2, 2, 0, 0, 0, 0, time.UTC)).Hours()/24)/7)
			}
		}
		st := e.get("officer-lahti", k.base+"/statistics?from=2027-01&to=2027-12")
		if st.body["full"] != true {
			t.Errorf("the running buyer's statistics are not full")
		}
		for _, row := range st.body["rows"].([]any) {
			row := row.(map[string]any)
			seg, ms := row["segment"].(string), row["milestone"].(string)
			if num(row["referrals"]) != want["ref|"+seg] || num(row["outcomes"]) != want["out|"+seg+"|"+ms] {
				t.Errorf("%s %s/%s: %v referrals %v outcomes; by hand %d, %d", k.prov, seg, ms, row["referrals"], row["outcomes"], want["ref|"+seg], want["out|"+seg+"|"+ms])
			}
			if w := weeks[seg+"|"+ms]; len(w) > 0 {
				slices.Sort(w)
				if med := w[(len(w)-1)/2]; num(row["medianWeeksToOutcome"]) != int64(med) {
					t.Errorf("%s %s/%s: median week %v, by hand %d", k.prov, seg, ms, row["medianWeeksToOutcome"], med)
				}
			}
		}
		// Beyond the running buyer: cells under 5 clients suppressed.
		sup := e.get("officer-ph", k.base+"/statistics?from=2027-01&to=2027-12")
		for _, row := range sup.body["rows"].([]any) {
			row := row.(map[string]any)
			if o, ok := row["outcomes"].(float64); ok && o < 5 {
				t.Errorf("a ring buyer sees a cell of %v outcomes", o)
			}
			if r, ok := row["referrals"].(float64); ok && r < 5 {
				t.Errorf("a ring buyer sees a cell of %v referrals", r)
			}
		}
	}
	open := e.get("", "/open-data/dps/"+seed.DPSID+"/outcome-statistics?from=2027-01&to=2027-12")
	if open.body["full"] != false || len(open.body["rows"].([]any)) == 0 {
		t.Errorf("open statistics: %s", open.raw)
	}
	for _, row := range open.body["rows"].([]any) {
		row := row.(map[string]any)
		for _, f := range []string{"referrals", "outcomes"} {
			if v, ok := row[f].(float64); ok && v < 5 {
				t.Errorf("open data shows a cell of %v %s", v, f)
			}
		}
	}

	// The OCDS implementation block of each contract is valid against the
	// 1.1.5 schema, inside a release package; the INDIGO-style export
	// plans what the terms expect and shows what was paid.
	schema := ocdsSchema(t)
	for _, k := range contracts {
		im := e.get("", "/open-data"+k.base+"/implementation")
		comp := strings.Split(strings.TrimPrefix(k.base, "/competitions/"), "/")[0]
		pkg := map[string]any{
			"uri": "https://example.org/rengas/ocds/" + comp, "publishedDate": "2027-07-16T00:00:00Z", "version": "1.1",
			"publisher": map[string]any{"name": "Rengas"},
			"releases": []any{map[string]any{
				"ocid": "ocds-test-" + comp, "id": comp + "-implementation", "date": "2027-07-16T00:00:00Z", "tag": []string{"implementation"},
				"initiationType": "tender", "contracts": []any{map[string]any{"id": k.prov, "awardID": k.prov, "implementation": im.body["implementation"]}},
			}},
		}
		if err := validateJSON(schema, pkg); err != nil {
			t.Errorf("%s: the implementation block is not valid OCDS 1.1.5: %v", k.prov, err)
		}
		txs := dig(im.body, "implementation.transactions").([]any)
		ms := dig(im.body, "implementation.milestones").([]any)
		if len(ms) != 6 {
			t.Errorf("%s: %d milestones, want 3 segments × 2", k.prov, len(ms))
		}
		t.Logf("%s: OCDS implementation with %d transactions and %d milestones, valid", k.prov, len(txs), len(ms))
		ind := e.get("", "/open-data"+k.base+"/indigo")
		for _, p := range ind.body["outcomePayments"].([]any) {
			p := p.(map[string]any)
			if v, ok := p["actualOutcomes"].(float64); ok && v < 5 {
				t.Errorf("indigo shows %v outcomes", v)
			}
		}
		if n := len(ind.body["outcomePricings"].([]any)); n != 6 {
			t.Errorf("indigo: %d pricings", n)
		}
	}

	// The contracts' life is published in their competitions' OCDS
	// processes: a release per public change (conclusion, acceptance,
	// each payment or repayment), each valid against the extended schema;
	// the record compiles them into the awarded contract, which is active,
	// signed, has its period and every payment of the implementation block.
	o := &openData{e: e, schemas: ocdstest.Build(t), seen: map[string]string{}, count: map[string]int{}}
	for _, k := range contracts {
		comp := strings.Split(strings.TrimPrefix(k.base, "/competitions/"), "/")[0]
		o.fetch("/open-data/competitions/"+comp+"/ocds", false)
		rec := o.fetch("/open-data/competitions/"+comp+"/ocds/record", true)
		var got *ocds.Contract
		for i, c := range rec.Records[0].CompiledRelease.Contracts {
			if c.ID == comp+"-"+k.prov {
				got = &rec.Records[0].CompiledRelease.Contracts[i]
			}
		}
		if got == nil || got.Status != "active" || got.DateSigned == "" || got.Period == nil || !strings.Contains(got.Period.EndDate, "T23:59:59+0") {
			t.Fatalf("%s: the compiled contract %+v, want active, signed, with its period ending at the end of a day", k.prov, got)
		}
		want := map[string]string{}
		for _, tx := range dig(e.get("", "/open-data"+k.base+"/implementation").body, "implementation.transactions").([]any) {
			tx := tx.(map[string]any)
			want[tx["id"].(string)] = fmt.Sprint(dig(tx, "value.amount"))
		}
		var txs []ocds.Transaction
		if got.Implementation != nil {
			txs = got.Implementation.Transactions
		}
		if len(txs) != len(want) {
			t.Fatalf("%s: the compiled contract's implementation %+v, want the %d payments of the implementation block", k.prov, got.Implementation, len(want))
		}
		for _, tx := range txs {
			amount, _ := tx.Value.Amount.Float64()
			if want[tx.ID] != fmt.Sprint(amount) || tx.Payer == nil || tx.Payee == nil || !strings.HasPrefix(tx.Payee.ID, "FI-PRO-") {
				t.Errorf("%s: transaction %+v; the implementation block says %s", k.prov, tx, want[tx.ID])
			}
		}
		t.Logf("%s: the OCDS record compiles %d releases; the contract is %s with %d transactions", k.prov, len(rec.Records[0].Releases), got.Status, len(txs))
	}

	// Every step is on the contract's audit trail, which verifies; no event
	// holds a client reference.
	for _, k := range contracts {
		comp := strings.Split(strings.TrimPrefix(k.base, "/competitions/"), "/")[0]
		chain := dynamo.ContractChain(comp + "." + k.prov)
		verifyChain(t, e.store, chain)
		evs, err := dynamo.All(func(cur string) (dynamo.Page[audit.Event], error) {
			return e.store.ListEvents(t.Context(), chain, 1, cur, 100)
		})
		if err != nil {
			t.Fatal(err)
		}
		actions := map[string]int{}
		for _, ev := range evs {
			actions[ev.Action]++
			if strings.Contains(ev.Summary, "LAHTI-2027") {
				t.Errorf("event %s names a client: %s", ev.Action, ev.Summary)
			}
		}
		if actions["referral.created"] != 15 || actions["referral.started"] != 15 || actions["contract.concluded"] != 1 || actions["contract.accepted"] != 1 || actions["claim.verification"] == 0 {
			t.Errorf("%s trail: %v", k.prov, actions)
		}
		t.Logf("%s: %d events on %s, verified", k.prov, len(evs), chain)
	}

	// Reading the balance: one round trip however long the ledger.
	before := e.store.RoundTrips()
	e.get("officer-lahti", a.base)
	if n := e.store.RoundTrips() - before; n != 1 {
		t.Errorf("reading the contract and balance took %d round trips, want 1", n)
	}
}

// contractAt builds a contract of prov-tyopaja up to a stage: "awarded"
// (past standstill), "concluded", "active", "referred", "started",
// "claimed", "more-information" or "verified". It returns the path values.
func (e *env) contractAt(stage string) map[string]string {
	e.t.Helper()
	now := e.clock.Now()
	def := definition(now)
	def["contractStart"] = now.AddDate(0, 0, 30).Format(time.DateOnly)
	def["contractEnd"] = now.AddDate(1, 2, 0).Format(time.DateOnly)
	id := e.publish(def)
	e.must(e.do("provider-tyopaja", "PUT", "/competitions/"+id+"/bids/mine", offer(300000, 120000, 0)), 201)
	deadline, _ := time.Parse(time.RFC3339, def["bidDeadline"].(string))
	e.clock.Set(deadline.Add(time.Minute))
	e.award(id, map[string][3]int{"prov-tyopaja": {4, 4, 4}})
	e.clock.Set(e.clock.Now().AddDate(0, 0, 32))
	vals := map[string]string{"competitionId": id, "providerId": "prov-tyopaja"}
	base := fill(contractPathT, vals)
	stages := []string{"awarded", "concluded", "active", "referred", "started", "claimed", "more-information", "verified"}
	upto := slices.Index(stages, stage)
	today := workdays.DateString(e.clock.Now())
	if upto >= 1 {
		e.must(e.do("officer-lahti", "POST", base+"/conclusion", map[string]any{}), 200)
	}
	if upto >= 2 {
		e.must(e.do("provider-tyopaja", "POST", base+"/acceptance", map[string]any{"version": 1}), 200)
	}
	if upto >= 3 {
		r := e.must(e.do("officer-lahti", "POST", base+"/referrals", map[string]any{"clientRef": "CASE-" + fmt.Sprint(e.next()), "segment": "base", "referredOn": today}), 201)
		vals["referralId"] = r.str("id")
	}
	if upto >= 4 {
		e.must(e.do("provider-tyopaja", "POST", base+"/referrals/"+vals["referralId"]+"/start", map[string]any{"startedOn": today, "version": 1}), 200)
		vals["entryId"] = "000000000001"
	}
	if upto >= 5 {
		r := e.must(e.do("provider-tyopaja", "POST", base+"/referrals/"+vals["referralId"]+"/claims", map[string]any{"milestone": "vocational-education", "achievedOn": today, "evidence": evidence("enrolment.pdf")}), 201)
		vals["claimId"] = r.str("id")
	}
	if upto == 6 {
		e.must(e.do("officer-lahti", "POST", base+"/claims/"+vals["claimId"]+"/verification", map[string]any{"outcome": "more-information", "method": "document", "reason": "Send the enrolment letter.", "version": 1}), 200)
	}
	if upto == 7 {
		e.must(e.do("officer-lahti", "POST", base+"/claims/"+vals["claimId"]+"/verification", map[string]any{"outcome": "verified", "method": "document", "version": 1}), 200)
		vals["entryId"] = "000000000002"
	}
	return vals
}

const contractPathT = "/competitions/{competitionId}/contracts/{providerId}"

func init() {
	officer := func(stage string, body, other map[string]any) func(e *env) idemReq {
		return func(e *env) idemReq {
			return idemReq{user: "officer-lahti", vals: e.contractAt(stage), body: body, other: other}
		}
	}
	provider := func(stage string, body, other map[string]any) func(e *env) idemReq {
		return func(e *env) idemReq {
			return idemReq{user: "provider-tyopaja", vals: e.contractAt(stage), body: body, other: other}
		}
	}
	p := contractPathT
	idemCases["POST "+p+"/conclusion"] = officer("awarded", map[string]any{"note": "Signed."}, map[string]any{"note": "Signed twice."})
	idemCases["POST "+p+"/acceptance"] = provider("concluded", map[string]any{"version": 1}, map[string]any{"version": 2})
	idemCases["POST "+p+"/cancellation"] = officer("active", map[string]any{"reason": "Budget withdrawn.", "version": 2}, map[string]any{"reason": "Other.", "version": 2})
	idemCases["POST "+p+"/lapse"] = officer("concluded", map[string]any{"reason": "Not accepted in time.", "version": 1}, map[string]any{"reason": "Other.", "version": 1})
	idemCases["POST "+p+"/referrals"] = func(e *env) idemReq {
		vals := e.contractAt("active")
		body := map[string]any{"clientRef": "CASE-" + fmt.Sprint(e.next()), "segment": "base", "referredOn": workdays.DateString(e.clock.Now())}
		return idemReq{user: "officer-lahti", vals: vals, body: body, other: with(body, "clientRef", "CASE-OTHER")}
	}
	idemCases["POST "+p+"/referrals/{referralId}/start"] = func(e *env) idemReq {
		vals := e.contractAt("referred")
		body := map[string]any{"startedOn": workdays.DateString(e.clock.Now()), "version": 1}
		return idemReq{user: "provider-tyopaja", vals: vals, body: body, other: with(body, "version", 2)}
	}
	idemCases["POST "+p+"/referrals/{referralId}/end"] = func(e *env) idemReq {
		vals := e.contractAt("started")
		body := map[string]any{"endedOn": workdays.DateString(e.clock.Now()), "reason": "Moved away.", "version": 2}
		return idemReq{user: "provider-tyopaja", vals: vals, body: body, other: with(body, "reason", "Other.")}
	}
	idemCases["POST "+p+"/referrals/{referralId}/claims"] = func(e *env) idemReq {
		vals := e.contractAt("started")
		body := map[string]any{"milestone": "vocational-education", "achievedOn": workdays.DateString(e.clock.Now()), "evidence": evidence("enrolment.pdf")}
		return idemReq{user: "provider-tyopaja", vals: vals, body: body, other: with(body, "milestone", "employed")}
	}
	idemCases["POST "+p+"/claims/{claimId}/verification"] = officer("claimed", map[string]any{"outcome": "verified", "method": "register-check", "version": 1}, map[string]any{"outcome": "verified", "method": "sample", "version": 1})
	idemCases["POST "+p+"/claims/{claimId}/evidence"] = provider("more-information", map[string]any{"evidence": evidence("letter.pdf"), "version": 2}, map[string]any{"evidence": evidence("other.pdf"), "version": 2})
	idemCases["POST "+p+"/ledger/adjustments"] = officer("started", map[string]any{"amountCents": 5000, "reason": "Travel."}, map[string]any{"amountCents": 6000, "reason": "Travel."})
	idemCases["POST "+p+"/ledger/{entryId}/clawback"] = officer("verified", map[string]any{"reason": "The studies did not start."}, map[string]any{"reason": "Other."})
	idemCases["POST "+p+"/ledger/{entryId}/payment"] = officer("started", map[string]any{"invoiceRef": "INV-1", "paidOn": "2027-01-01", "version": 1}, map[string]any{"invoiceRef": "INV-2", "paidOn": "2027-01-01", "version": 1})
}

// contractProbes covers every route about one outcome contract: the entity
// the rules decide on, the ability, and a body that passes validation
// (stale versions and missing ids, so that an allowed write stops after
// the rules). TestAccessMatrix requires every route to be probed.
var contractProbes = map[string]probe{
	"GET " + contractPathT:                                                 {entity: access.Contract, need: access.See},
	"POST " + contractPathT + "/acceptance":                                {entity: access.Contract, need: access.Act, body: map[string]any{"version": stale}},
	"POST " + contractPathT + "/cancellation":                              {entity: access.Contract, need: access.Act, body: map[string]any{"reason": "No budget.", "version": stale}},
	"POST " + contractPathT + "/lapse":                                     {entity: access.Contract, need: access.Act, body: map[string]any{"reason": "Not accepted.", "version": stale}},
	"POST " + contractPathT + "/referrals":                                 {entity: access.Referral, need: access.Act, body: map[string]any{"clientRef": "CASE-P", "segment": "no-such-segment", "referredOn": "2027-01-01"}},
	"GET " + contractPathT + "/referrals":                                  {entity: access.Referral, need: access.See},
	"POST " + contractPathT + "/referrals/{referralId}/start":              {entity: access.Referral, need: access.Act, body: map[string]any{"startedOn": "2027-01-01", "version": stale}, maybeMissing: true},
	"POST " + contractPathT + "/referrals/{referralId}/end":                {entity: access.Referral, need: access.Act, body: map[string]any{"endedOn": "2027-01-01", "reason": "Moved.", "version": stale}, maybeMissing: true},
	"POST " + contractPathT + "/referrals/{referralId}/claims":             {entity: access.Claim, need: access.Act, body: map[string]any{"milestone": "employed", "achievedOn": "2027-01-01", "evidence": evidence("x.pdf")}, maybeMissing: true},
	"GET " + contractPathT + "/claims":                                     {entity: access.Claim, need: access.See},
	"POST " + contractPathT + "/claims/{claimId}/verification":             {entity: access.Claim, need: access.Act, body: map[string]any{"outcome": "verified", "method": "sample", "version": stale}, maybeMissing: true},
	"POST " + contractPathT + "/claims/{claimId}/evidence":                 {entity: access.Claim, need: access.Act, body: map[string]any{"evidence": evidence("x.pdf"), "version": stale}, maybeMissing: true},
	"GET " + contractPathT + "/claims/{claimId}/evidence/{fileId}/content": {entity: access.Claim, need: access.See, maybeMissing: true},
	"GET " + contractPathT + "/ledger":                                     {entity: access.Ledger, need: access.See},
	"POST " + contractPathT + "/ledger/adjustments":                        {entity: access.Ledger, need: access.Act, body: map[string]any{"amountCents": 100, "reason": "Probe."}},
	"POST " + contractPathT + "/ledger/{entryId}/clawback":                 {entity: access.Ledger, need: access.Act, body: map[string]any{"reason": "Probe."}, maybeMissing: true},
	"POST " + contractPathT + "/ledger/{entryId}/payment":                  {entity: access.Ledger, need: access.Act, body: map[string]any{"invoiceRef": "I", "paidOn": "2027-01-01", "version": stale}, maybeMissing: true},
	"GET " + contractPathT + "/statistics?from=2027-01&to=2027-12":         {entity: access.Contract, need: access.See},
	"POST " + contractPathT + "/conclusion":                                {entity: access.Contract, need: access.Act, body: map[string]any{}},
}

// Routes of the outcome contracts that are about the caller's own
// organisation or a DPS; probed in TestContractAccess below.
var contractOtherRoutes = []string{"GET /contracts", "GET /verification-queue", "GET /dps/{dpsId}/outcome-statistics", "GET /open-data/dps/{dpsId}/outcome-statistics",
	"GET /open-data" + contractPathT + "/implementation", "GET /open-data" + contractPathT + "/indigo"}

func TestContractAccess(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	other := auth.User{ID: "officer-other", Name: "Olli Other", Role: procurement.RoleOfficer, Org: "buyer-other"}
	e.sign(other)
	fixtures := map[string]map[string]string{}
	for _, st := range []string{"awarded", "concluded", "active"} {
		fixtures[st] = e.contractAt(st)
	}
	fixtures["cancelled"] = e.contractAt("active")
	e.must(e.do("officer-lahti", "POST", fill(contractPathT, fixtures["cancelled"])+"/cancellation", map[string]any{"reason": "Budget.", "version": 2}), 200)
	fixtures["lapsed"] = e.contractAt("concluded")
	e.must(e.do("officer-lahti", "POST", fill(contractPathT, fixtures["lapsed"])+"/lapse", map[string]any{"reason": "Not accepted.", "version": 1}), 200)

	keys := slices.Sorted(maps.Keys(contractProbes))
	// Conclusion concludes the awarded fixture: probe it last.
	keys = append(slices.DeleteFunc(keys, func(k string) bool { return strings.HasSuffix(k, "/conclusion") }), "POST "+contractPathT+"/conclusion")
	checked := 0
	for _, key := range keys {
		p := contractProbes[key]
		rt, ok := routeByKey(key)
		if !ok {
			t.Fatalf("no route %s", key)
		}
		method, path, _ := strings.Cut(key, " ")
		for _, user := range matrixCallers {
			who := actorOf(e, user)
			missing := e.do(user, method, fill(path, map[string]string{"competitionId": "nonexistent00000000", "providerId": "prov-tyopaja", "referralId": "r0", "claimId": "c0", "entryId": "000000000999"}), p.body)
			for _, st := range []string{"awarded", "concluded", "active", "cancelled", "lapsed"} {
				vals := maps.Clone(fixtures[st])
				vals["referralId"], vals["claimId"], vals["entryId"] = "r0", "c0", "000000000999"
				k, _, err := e.store.ReadContract(ctx, vals["competitionId"], vals["providerId"], func(*outcomes.Contract) error { return nil })
				if err != nil {
					t.Fatal(err)
				}
				what := key + " as " + user + " on a " + string(k.Status) + " contract"
				got := e.do(user, method, fill(path, vals), p.body)
				if roleRefused(t, what, rt, who, got) {
					continue
				}
				know := access.AskContract(who, access.Contract, k).Can(access.Know)
				expect(t, what, got, missing, know, access.AskContract(who, p.entity, k), p)
				checked++
			}
		}
	}
	// Lists of contracts are the caller's own organisation's.
	for user, want := range map[string]int{"officer-lahti": 5, "officer-ph": 0, "provider-tyopaja": 5, "provider-college": 0} {
		if n := len(items(e.get(user, "/contracts"))); n != want {
			t.Errorf("%s lists %d contracts, want %d", user, n, want)
		}
	}
	// The verification queue is the caller's own organisation's.
	e.problem(e.do("auditor", "GET", "/verification-queue", nil), 403, "")
	if n := len(items(e.get("officer-ph", "/verification-queue"))); n != 0 {
		t.Errorf("another buyer's queue holds %d claims", n)
	}
	e.problem(e.do("officer-other", "GET", "/dps/"+seed.DPSID+"/outcome-statistics?from=2027-01&to=2027-12", nil), 404, "")
	e.get("auditor", "/dps/"+seed.DPSID+"/outcome-statistics?from=2027-01&to=2027-12")
	e.get("", "/open-data/dps/"+seed.DPSID+"/outcome-statistics?from=2027-01&to=2027-12")
	// Open data of a contract: published once concluded, for everyone.
	fixtures["awarded"] = e.contractAt("awarded")
	for _, path := range []string{"/implementation", "/indigo"} {
		for _, user := range matrixCallers {
			e.problem(e.do(user, "GET", "/open-data"+fill(contractPathT, fixtures["awarded"])+path, nil), 404, "")
			e.must(e.do(user, "GET", "/open-data"+fill(contractPathT, fixtures["active"])+path, nil), 200)
		}
	}
	t.Logf("%d answers checked against the rule table", checked)
}

// TestContractRoundTrips: submitting a claim and verifying one take at
// most two DynamoDB round trips each; reading the contract and its balance
// one, and the statistics one, however many claims there are.
func TestContractRoundTrips(t *testing.T) {
	e := newEnv(t)
	vals := e.contractAt("started")
	base := fill(contractPathT, vals)
	today := workdays.DateString(e.clock.Now())
	cost := func(f func()) int64 {
		n := e.store.RoundTrips()
		f()
		return e.store.RoundTrips() - n
	}
	var id string
	if n := cost(func() {
		id = e.must(e.do("provider-tyopaja", "POST", base+"/referrals/"+vals["referralId"]+"/claims", map[string]any{"milestone": "vocational-education", "achievedOn": today, "evidence": evidence("e.pdf")}), 201).str("id")
	}); n > 2 {
		t.Errorf("a claim took %d round trips, want at most 2", n)
	}
	if n := cost(func() {
		e.must(e.do("officer-lahti", "POST", base+"/claims/"+id+"/verification", map[string]any{"outcome": "verified", "method": "register-check", "version": 1}), 200)
	}); n > 2 {
		t.Errorf("a verification took %d round trips, want at most 2", n)
	}
	stats := func() int64 {
		return cost(func() { e.get("officer-lahti", base+"/statistics?from=2026-01&to=2028-12") })
	}
	balance := func() int64 { return cost(func() { e.get("officer-lahti", base) }) }
	s1, b1 := stats(), balance()
	// More referrals, starts, claims and verifications.
	for range 12 {
		r := e.must(e.do("officer-lahti", "POST", base+"/referrals", map[string]any{"clientRef": "CASE-" + fmt.Sprint(e.next()), "segment": "base", "referredOn": today}), 201)
		e.must(e.do("provider-tyopaja", "POST", base+"/referrals/"+r.str("id")+"/start", map[string]any{"startedOn": today, "version": 1}), 200)
		c := e.must(e.do("provider-tyopaja", "POST", base+"/referrals/"+r.str("id")+"/claims", map[string]any{"milestone": "vocational-education", "achievedOn": today, "evidence": evidence("e.pdf")}), 201)
		e.must(e.do("officer-lahti", "POST", base+"/claims/"+c.str("id")+"/verification", map[string]any{"outcome": "verified", "method": "sample", "version": 1}), 200)
		e.must(e.do("provider-tyopaja", "POST", base+"/referrals/"+r.str("id")+"/end", map[string]any{"endedOn": today, "reason": "Studies started.", "version": 2}), 200)
	}
	s2, b2 := stats(), balance()
	// Statistics: the contract (for the rules) and one BatchGetItem of the months.
	if s1 != 2 || s2 != 2 || b1 != 1 || b2 != 1 {
		t.Errorf("statistics %d then %d round trips, balance %d then %d; want 2 and 1, flat", s1, s2, b1, b2)
	}
	t.Logf("claim ≤2, verification ≤2; statistics %d→%d and balance %d→%d round trips from 1 to 13 claims", s1, s2, b1, b2)
}

func ocdsSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	for _, name := range []string{"release-package-schema.json", "release-schema.json"} {
		raw, err := os.ReadFile(filepath.Join("..", "ocds", "testdata", "ocds-1.1.5", name))
		if err != nil {
			t.Fatal(err)
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		if err := c.AddResource("https://standard.open-contracting.org/schema/1__1__5/"+name, doc); err != nil {
			t.Fatal(err)
		}
	}
	s, err := c.Compile("https://standard.open-contracting.org/schema/1__1__5/release-package-schema.json")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func validateJSON(s *jsonschema.Schema, v any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return err
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return err
	}
	return s.Validate(inst)
}

// TestNoIdentityCodeAnywhere: a personal identity code in any text field
// of any area of the API is refused with the field named and the reason,
// and nothing is stored.
func TestNoIdentityCodeAnywhere(t *testing.T) {
	e := newEnv(t)
	const code = "131052-308T"
	vals := e.contractAt("started")
	base := fill(contractPathT, vals)
	user, _ := e.newUser()
	comp := strings.Split(e.must(e.do("auditor", "GET", dpsPath+"/competitions", nil), 200).str("items.0.id"), " ")[0]
	cases := []struct {
		user, method, path string
		body               map[string]any
		field              string
	}{
		{user, "POST", "/providers", with(providerBody("Valmennus "+code+" Oy", e.businessID()), "homeMunicipality", "Lahti"), "name"},
		{"officer-lahti", "POST", dpsPath + "/competitions", with(definition(e.clock.Now()), "description", "Clients such as "+code+" are welcome."), "description"},
		{"provider-tyopaja", "POST", "/competitions/" + comp + "/questions", map[string]any{"question": "May we coach " + code + "?"}, "question"},
		{"officer-lahti", "POST", base + "/referrals", map[string]any{"clientRef": "CASE " + code, "segment": "base", "referredOn": workdays.DateString(e.clock.Now())}, "clientRef"},
		{"provider-tyopaja", "POST", base + "/referrals/" + vals["referralId"] + "/end", map[string]any{"endedOn": workdays.DateString(e.clock.Now()), "reason": "Employed (" + code + ")", "version": 2}, "reason"},
		{"provider-tyopaja", "POST", base + "/referrals/" + vals["referralId"] + "/claims", map[string]any{"milestone": "vocational-education", "achievedOn": workdays.DateString(e.clock.Now()),
			"evidence": []map[string]any{{"name": "letter.pdf", "sha256": strings.Repeat("ab", 32), "description": "Enrolment of " + code}}}, "evidence[0].description"},
		{"officer-lahti", "POST", base + "/ledger/adjustments", map[string]any{"amountCents": 100, "reason": "Travel of " + code}, "reason"},
	}
	before := e.snapshot()
	for _, c := range cases {
		r := e.do(c.user, c.method, c.path, c.body)
		e.problem(r, 400, c.field)
		if !strings.Contains(string(r.raw), "henkilötunnus") {
			t.Errorf("%s %s: the refusal does not say why: %s", c.method, c.path, r.raw)
		}
	}
	if d := written(before, e.snapshot()); len(d) != 0 {
		t.Errorf("refused requests changed the table: %v", d)
	}
}

// TestReferralReferencesAreErased: after the retention period the
// scheduled job erases an ended referral's client reference; the counts
// remain.
func TestReferralReferencesAreErased(t *testing.T) {
	e := newEnv(t)
	vals := e.contractAt("started")
	base := fill(contractPathT, vals)
	today := workdays.DateString(e.clock.Now())
	e.must(e.do("provider-tyopaja", "POST", base+"/referrals/"+vals["referralId"]+"/end", map[string]any{"endedOn": today, "reason": "Moved away.", "version": 2}), 200)
	run := func() int {
		r, err := e.store.RunSchedule(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		return r.Erased
	}
	e.clock.Set(e.clock.Now().AddDate(0, 0, 729))
	if n := run(); n != 0 {
		t.Errorf("%d references erased before the retention ended", n)
	}
	e.clock.Set(e.clock.Now().AddDate(0, 0, 2))
	if n := run(); n != 1 {
		t.Errorf("%d references erased after the retention, want 1", n)
	}
	if n := run(); n != 0 {
		t.Errorf("a second run erased %d more", n)
	}
	rf := items(e.get("officer-lahti", base+"/referrals"))[0]
	if rf["clientRef"] != "" || rf["erasedAt"] == nil || rf["segment"] != "base" {
		t.Errorf("after erasure: %v", rf)
	}
	month := today[:7]
	st := e.get("officer-lahti", base+"/statistics?from="+month+"&to="+month)
	if row := st.body["rows"].([]any)[0].(map[string]any); num(row["referrals"]) != 1 {
		t.Errorf("statistics after erasure: %v", row)
	}
	comp := vals["competitionId"]
	verifyChain(t, e.store, dynamo.ContractChain(comp+"."+vals["providerId"]))
}

// TestOutcomesDemo: the outcome-contract demo seeds two contracts in force
// with referrals, claims, verifications, a clawback and payments, which the
// officer, the providers and the open data read.
func TestOutcomesDemo(t *testing.T) {
	e := newEnv(t)
	if err := seed.LoadOutcomes(t.Context(), e.store); err != nil {
		t.Fatal(err)
	}
	ks := items(e.get("officer-lahti", "/contracts"))
	if len(ks) != 2 {
		t.Fatalf("%d contracts", len(ks))
	}
	q := items(e.get("officer-lahti", "/verification-queue"))
	today := workdays.DateString(e.clock.Now())
	overdue := 0
	for _, c := range q {
		if c["dueOn"].(string) < today {
			overdue++
		}
	}
	if len(q) != 4 || overdue != 2 {
		t.Errorf("queue: %d claims, %d overdue; want 4 and 2", len(q), overdue)
	}
	for _, k := range ks {
		base := "/competitions/" + k["competitionId"].(string) + "/contracts/" + k["providerId"].(string)
		c := e.get("officer-lahti", base)
		if c.str("status") != "active" || num(dig(c.body, "balance.referrals")) != 12 || num(dig(c.body, "balance.payableCents")) == 0 {
			t.Errorf("demo contract: %s", c.raw)
		}
		st := e.get("officer-lahti", base+"/statistics?from="+workdays.DateString(e.clock.Now().AddDate(0, 0, -200))[:7]+"&to="+today[:7])
		if len(st.body["rows"].([]any)) != 6 {
			t.Errorf("demo statistics: %s", st.raw)
		}
		e.get("", "/open-data"+base+"/implementation")
		e.get("", "/open-data"+base+"/indigo")
		comp, prov := k["competitionId"].(string), k["providerId"].(string)
		verifyChain(t, e.store, dynamo.ContractChain(comp+"."+prov))
	}
	if n := len(items(e.get("provider-college", "/contracts"))); n != 1 {
		t.Errorf("the college sees %d contracts", n)
	}
}

// A claim's evidence may be an uploaded file: it must be the claimant's
// own, arrived, with the digest verified on arrival; the running buyer's
// officer and the auditor download it with a matching digest, others get
// 404. A wrong digest or another organisation's file is refused, storing
// nothing.
func TestClaimEvidenceFiles(t *testing.T) {
	e := newEnv(t)
	vals := e.contractAt("started")
	base := fill(contractPathT, vals)
	claims := base + "/referrals/" + vals["referralId"] + "/claims"
	body := pdf("Enrolment certificate")
	file := e.upload("provider-tyopaja", "enrolment.pdf", "application/pdf", body, body)
	e.must(e.do("provider-tyopaja", "POST", "/files/"+file+"/arrival", map[string]any{}), 200)
	other := e.upload("provider-staffing", "other.pdf", "application/pdf", pdf("x"), pdf("x"))
	e.must(e.do("provider-staffing", "POST", "/files/"+other+"/arrival", map[string]any{}), 200)
	claim := func(ev map[string]any) resp {
		return e.do("provider-tyopaja", "POST", claims, map[string]any{"milestone": "vocational-education", "achievedOn": workdays.DateString(e.clock.Now()), "evidence": []any{ev}})
	}
	e.problem(claim(map[string]any{"name": "enrolment.pdf", "sha256": strings.Repeat("ab", 32), "fileId": file}), 400, "evidence[0].sha256")
	e.problem(claim(map[string]any{"name": "other.pdf", "sha256": digest(pdf("x")), "fileId": other}), 400, "evidence[0].fileId")
	e.problem(claim(map[string]any{"name": "missing.pdf", "sha256": digest(body), "fileId": "no-such-file"}), 400, "evidence[0].fileId")
	if n := len(items(e.get("officer-lahti", base+"/claims"))); n != 0 {
		t.Fatalf("refused claims stored %d claims", n)
	}
	c := e.must(claim(map[string]any{"name": "enrolment.pdf", "sha256": digest(body), "fileId": file}), 201)
	if ev := c.body["evidence"].([]any)[0].(map[string]any); ev["mediaType"] != "application/pdf" || num(ev["bytes"]) != int64(len(body)) {
		t.Errorf("the evidence does not carry its file's type and size: %v", ev)
	}
	content := base + "/claims/" + c.str("id") + "/evidence/" + file + "/content"
	for _, u := range []string{"officer-lahti", "auditor", "provider-tyopaja"} {
		l := e.must(e.do(u, "GET", content, nil), 200)
		if got := e.fetch(l.str("url")); digest(got) != digest(body) {
			t.Errorf("%s downloaded other bytes", u)
		}
	}
	for _, u := range []string{"officer-ph", "provider-staffing", ""} {
		if r := e.do(u, "GET", content, nil); r.status != 404 && r.status != 401 {
			t.Errorf("%s reads the claim's evidence: %d", u, r.status)
		}
	}
	e.problem(e.do("officer-lahti", "GET", base+"/claims/"+c.str("id")+"/evidence/"+other+"/content", nil), 404, "")
}
