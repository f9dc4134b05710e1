package httpapi_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/rengas/rengas/shared/dynamo"
	"github.com/rengas/rengas/shared/procurement"
	"github.com/rengas/rengas/shared/seed"
	"github.com/rengas/rengas/shared/workdays"
)

// setDPSSettings changes the seeded DPS's settings in place (in the
// product they are set when the DPS is created).
func (e *env) setDPSSettings(change func(*procurement.Settings)) {
	e.t.Helper()
	d, err := e.store.GetDPS(e.t.Context(), seed.DPSID)
	if err != nil {
		e.t.Fatal(err)
	}
	change(&d.Settings)
	data, err := json.Marshal(d)
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.db.UpdateItem(e.t.Context(), &dynamodb.UpdateItemInput{TableName: aws.String(e.store.Table()),
		Key:              map[string]types.AttributeValue{dynamo.AttrPK: &types.AttributeValueMemberS{Value: "DPS#" + seed.DPSID}, dynamo.AttrSK: &types.AttributeValueMemberS{Value: "META"}},
		UpdateExpression: aws.String("SET #d = :d"), ExpressionAttributeNames: map[string]string{"#d": "data"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":d": &types.AttributeValueMemberS{Value: string(data)}}}); err != nil {
		e.t.Fatal(err)
	}
}

// monthDay returns noon (Finnish time) on day of the month n months
// after t's.
func monthDay(t time.Time, n, day int) time.Time {
	y, m, _ := t.In(workdays.Helsinki).Date()
	return time.Date(y, m+time.Month(n), day, 12, 0, 0, 0, workdays.Helsinki)
}

// TestMonthlyFixedFees: on the per-client-month basis a start books no
// fee; the scheduled job books one fixed fee per client and month in
// service once the month is over, under the ceiling, with an audit event
// each. Runs repeated or run at once book nothing twice. A clawback frees
// room for later fees but does not release what was withheld before.
func TestMonthlyFixedFees(t *testing.T) {
	e := newEnv(t)
	e.setDPSSettings(func(s *procurement.Settings) { s.FixedFeeBasis = procurement.FixedPerClientMonth })
	vals := e.contractAt("active")
	base := fill(contractPathT, vals)
	k := e.get("officer-lahti", base)
	terms := k.body["terms"].(map[string]any)
	fee, ceiling := num(terms["fixedFeeCents"]), num(terms["ceilingCents"])
	if terms["fixedFeeBasis"] != "per-client-month" || fee != 300000 {
		t.Fatalf("terms: basis %v fee %d, want per-client-month and the bid's 300000", terms["fixedFeeBasis"], fee)
	}
	// The buyer has already paid most of the ceiling: room for two fees
	// and 500 € of a third.
	adjust := ceiling - 2*fee - 50000
	e.must(e.do("officer-lahti", "POST", base+"/ledger/adjustments", map[string]any{"amountCents": adjust, "reason": "Set-up costs as agreed."}), 201)

	run := func() int {
		r, err := e.store.RunSchedule(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		return r.Contracts.MonthlyFees
	}
	today := func() string { return workdays.DateString(e.clock.Now()) }
	m0 := e.clock.Now()
	ids := map[string]string{}
	for _, who := range []string{"A", "B", "C"} {
		r := e.must(e.do("officer-lahti", "POST", base+"/referrals", map[string]any{"clientRef": "CASE-M-" + who, "segment": "base", "referredOn": today()}), 201)
		ids[who] = r.str("id")
	}
	for _, who := range []string{"A", "B"} {
		e.must(e.do("provider-tyopaja", "POST", base+"/referrals/"+ids[who]+"/start", map[string]any{"startedOn": today(), "version": 1}), 200)
	}
	if n := len(items(e.get("officer-lahti", base+"/ledger"))); n != 1 {
		t.Fatalf("a start on the per-month basis booked a fee: %d entries, want the adjustment only", n)
	}
	if n := run(); n != 0 {
		t.Errorf("%d fees booked before the month was over", n)
	}
	e.clock.Set(monthDay(m0, 1, 10))
	e.must(e.do("provider-tyopaja", "POST", base+"/referrals/"+ids["C"]+"/start", map[string]any{"startedOn": today(), "version": 1}), 200)
	e.must(e.do("provider-tyopaja", "POST", base+"/referrals/"+ids["A"]+"/end", map[string]any{"endedOn": today(), "reason": "Employed.", "version": 2}), 200)

	// Two months later two runs at once, then one more: month 0 (A, B)
	// and month 1 (A, B, C) are booked exactly once.
	e.clock.Set(monthDay(m0, 2, 3))
	var wg sync.WaitGroup
	got := make([]int, 2)
	for i := range got {
		wg.Go(func() { got[i] = run() })
	}
	wg.Wait()
	if n := got[0] + got[1] + run(); n != 5 {
		t.Errorf("concurrent and repeated runs booked %d fees (%v), want 5", n, got)
	}
	if n := run(); n != 0 {
		t.Errorf("a rerun booked %d more", n)
	}
	month := func(n int) string { return monthDay(m0, n, 1).Format("2006-01") }
	type fixed struct{ ref, month string }
	check := func(want []fixed, wantPayable int64) []map[string]any {
		t.Helper()
		var seen []fixed
		var payable, withheld int64
		var entries []map[string]any
		for _, en := range items(e.get("officer-lahti", base+"/ledger?limit=100")) {
			if en["kind"] != "fixed-fee" {
				continue
			}
			entries = append(entries, en)
			seen = append(seen, fixed{en["referralId"].(string), en["period"].(string)})
			if num(en["amountCents"]) != fee || num(en["payableCents"])+num(en["withheldCents"]) != fee {
				t.Errorf("entry %v: amount or split wrong", en)
			}
			if !strings.Contains(en["reason"].(string), en["period"].(string)) {
				t.Errorf("entry %v: the reason does not name the month", en)
			}
			if num(en["withheldCents"]) > 0 && !strings.Contains(en["withheldReason"].(string), "ceiling") {
				t.Errorf("entry %v: withheld without the ceiling's reason", en)
			}
			payable, withheld = payable+num(en["payableCents"]), withheld+num(en["withheldCents"])
		}
		key := func(f fixed) string { return f.month + f.ref }
		slices.SortFunc(seen, func(a, b fixed) int { return strings.Compare(key(a), key(b)) })
		slices.SortFunc(want, func(a, b fixed) int { return strings.Compare(key(a), key(b)) })
		if !slices.Equal(seen, want) {
			t.Errorf("fixed fees booked for %v, want %v", seen, want)
		}
		if payable != wantPayable || payable+withheld != int64(len(want))*fee {
			t.Errorf("fixed fees payable %d withheld %d, want payable %d of %d", payable, withheld, wantPayable, int64(len(want))*fee)
		}
		return entries
	}
	want := []fixed{{ids["A"], month(0)}, {ids["B"], month(0)}, {ids["A"], month(1)}, {ids["B"], month(1)}, {ids["C"], month(1)}}
	// The ceiling left room for two fees and 500 €: the rest is withheld.
	entries := check(want, 2*fee+50000)
	bal := e.get("officer-lahti", base).body["balance"].(map[string]any)
	if num(bal["payableCents"]) != ceiling || num(bal["withheldCents"]) != 5*fee-(2*fee+50000) || num(bal["fixedPayableCents"]) != 2*fee+50000 {
		t.Errorf("balance %v: want payable = the ceiling %d", bal, ceiling)
	}

	// A clawback of a fully paid fee frees its room; the 1,000 € withheld
	// earlier stays withheld, and the decision says so.
	var full string
	for _, en := range entries {
		if num(en["payableCents"]) == fee {
			full = en["id"].(string)
			break
		}
	}
	cb := e.must(e.do("officer-lahti", "POST", base+"/ledger/"+full+"/clawback", map[string]any{"reason": "The client did not attend that month."}), 201)
	if d, _ := cb.body["capDecision"].(string); !strings.Contains(d, "stays withheld") || !strings.Contains(d, "3000.00 €") {
		t.Errorf("clawback's decision %q does not say the withheld amounts stay withheld", d)
	}
	bal2 := e.get("officer-lahti", base).body["balance"].(map[string]any)
	if num(bal2["withheldCents"]) != num(bal["withheldCents"]) || num(bal2["payableCents"]) != ceiling-fee {
		t.Errorf("after the clawback: %v", bal2)
	}
	// The next month's fees (B and C in month 2) use the freed room only.
	e.clock.Set(monthDay(m0, 3, 2))
	before := e.store.RoundTrips()
	r, err := e.store.RunContractJobs(t.Context())
	trips := e.store.RoundTrips() - before
	if err != nil || r.MonthlyFees != 2 {
		t.Errorf("month 2: %d fees booked (%v), want 2", r.MonthlyFees, err)
	}
	// Two index queries, the contract and its referrals, two round trips
	// per fee (read, transaction) and the plan's move.
	t.Logf("the job booked 2 monthly fees in %d round trips", trips)
	if trips > 5+2*2 {
		t.Errorf("the job took %d round trips for 2 fees, want at most 9", trips)
	}
	check(append(want, fixed{ids["B"], month(2)}, fixed{ids["C"], month(2)}), 2*fee+50000+fee)
	bal3 := e.get("officer-lahti", base).body["balance"].(map[string]any)
	if num(bal3["payableCents"]) != ceiling || num(bal3["withheldCents"]) != num(bal["withheldCents"])+fee {
		t.Errorf("after month 2: %v", bal3)
	}
	// Each fee has its audit event on the contract's chain, which verifies.
	ev := e.get("auditor", "/audit/chains/"+dynamo.ContractChain(vals["competitionId"]+"."+vals["providerId"])+"/events?limit=100")
	fees := 0
	for _, x := range items(ev) {
		if x["action"] == "ledger.fixed_fee" {
			fees++
		}
	}
	if fees != 7 {
		t.Errorf("%d fixed-fee events on the chain, want 7", fees)
	}
	verifyChain(t, e.store, dynamo.ContractChain(vals["competitionId"]+"."+vals["providerId"]))
}

// TestUnacceptedContractsLapse: a concluded contract not accepted within
// the DPS's acceptance days lapses by the scheduled job, once, with its
// audit event and OCDS release; acceptance is then refused.
func TestUnacceptedContractsLapse(t *testing.T) {
	e := newEnv(t)
	vals := e.contractAt("concluded")
	base := fill(contractPathT, vals)
	k := e.get("officer-lahti", base)
	acceptBy := k.str("acceptBy")
	if want := workdays.Date(e.clock.Now()).AddDate(0, 0, procurement.DefaultAcceptanceDays).Format(time.DateOnly); acceptBy != want {
		t.Fatalf("acceptBy %q, want the default 14 days later, %s", acceptBy, want)
	}
	run := func() int {
		r, err := e.store.RunSchedule(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		return r.Contracts.Lapsed
	}
	last, _ := time.ParseInLocation(time.DateOnly, acceptBy, workdays.Helsinki)
	e.clock.Set(last.Add(23 * time.Hour))
	if n := run(); n != 0 {
		t.Errorf("%d contracts lapsed on the last day of acceptance", n)
	}
	e.clock.Set(last.Add(25 * time.Hour))
	late := e.do("provider-tyopaja", "POST", base+"/acceptance", map[string]any{"version": 1})
	e.problem(late, 409, "")
	if !strings.Contains(string(late.raw), "accepted by "+acceptBy) {
		t.Errorf("late acceptance: %s", late.raw)
	}
	if n := run(); n != 1 {
		t.Errorf("%d contracts lapsed after the acceptance days, want 1", n)
	}
	if n := run(); n != 0 {
		t.Errorf("a second run lapsed %d more", n)
	}
	k = e.get("officer-lahti", base)
	if k.str("status") != "lapsed" || !strings.Contains(fmt.Sprint(k.body["ending"]), "did not accept the contract by "+acceptBy) {
		t.Errorf("after the job: %v %v", k.body["status"], k.body["ending"])
	}
	rel := e.get("", "/open-data/competitions/"+vals["competitionId"]+"/ocds")
	if !strings.Contains(string(rel.raw), `"status":"cancelled"`) {
		t.Errorf("no cancelled contract release in the competition's OCDS: %s", rel.raw)
	}
	verifyChain(t, e.store, dynamo.ContractChain(vals["competitionId"]+"."+vals["providerId"]))
}

// TestContractSettingsAreValidated: the new DPS settings are validated,
// naming the field.
func TestContractSettingsAreValidated(t *testing.T) {
	e := newEnv(t)
	d := e.get("officer-lahti", "/dps/"+seed.DPSID).body
	for field, v := range map[string]any{"fixedFeeBasis": "per-week", "acceptanceDays": 91} {
		s := map[string]any{}
		for k, x := range d["settings"].(map[string]any) {
			s[k] = x
		}
		s[field] = v
		body := map[string]any{"id": "bad-" + strings.ToLower(field), "title": "DPS", "ring": d["ring"], "buyers": []string{seed.BuyerLahti},
			"serviceArea": []string{"Lahti"}, "validFrom": d["validFrom"], "validUntil": d["validUntil"],
			"categories": d["categories"], "exclusionGrounds": d["exclusionGrounds"], "qualityCriteria": []string{}, "settings": s}
		e.problem(e.do("officer-lahti", "POST", "/dps", body), 400, "settings."+field)
	}
}
