package outcomes

import (
	"strings"
	"testing"
	"time"

	"github.com/rengas/rengas/shared/procurement"
	"github.com/rengas/rengas/shared/workdays"
)

func TestIdentityCodesAreRefused(t *testing.T) {
	for _, s := range []string{
		"010190-123A", "010190A123B", "311299+9999", "150505Y0001", "010101U123T", // valid-looking, any checksum
		"0101901234", "01 01 90-123 A", "case 010190-123a", "REF010190-123AXYZ", "01.01.90-123A",
	} {
		if !LooksLikeHetu(s) {
			t.Errorf("LooksLikeHetu(%q) = false", s)
		}
	}
	for _, s := range []string{"LAHTI-2027-0001", "CASE-42", "1572860-0", "2027-02-01", "K-1234567890", "ASIAKAS-991231"} {
		if LooksLikeHetu(s) {
			t.Errorf("LooksLikeHetu(%q) = true", s)
		}
	}
	for _, s := range []string{"Certificate of 010190-123A.pdf", "311299+9999", "(010190A123B)"} {
		if !ContainsHetu(s) {
			t.Errorf("ContainsHetu(%q) = false", s)
		}
	}
	// Digests and long numbers are not codes.
	for _, s := range []string{"a311299a123b0f", "1010190-123A", "invoice 2027-02-01", "4f3c010190a1234e"} {
		if ContainsHetu(s) {
			t.Errorf("ContainsHetu(%q) = true", s)
		}
	}
}

func TestCapsAreCumulative(t *testing.T) {
	b := Balance{CeilingCents: 10000, OutcomeCapCents: 3000}
	steps := []struct {
		kind          EntryKind
		amount        int64
		pay, withheld int64
	}{
		{FixedFee, 5000, 5000, 0},
		{OutcomeFee, 2000, 2000, 0},
		{OutcomeFee, 2000, 1000, 1000}, // outcome-share cap
		{FixedFee, 3000, 2000, 1000},   // ceiling
		{Adjustment, 500, 0, 500},
		{Adjustment, -700, -700, 0},
	}
	k := &Contract{ID: "c"}
	for i, s := range steps {
		e, d := NewEntry(b, k, s.kind, s.amount, procurement.Actor{UserID: "u"}, time.Now())
		if e.PayableCents != s.pay || e.WithheldCents != s.withheld || (s.withheld > 0) != (e.WithheldReason != "") {
			t.Errorf("step %d: payable %d withheld %d (%q), want %d, %d", i, e.PayableCents, e.WithheldCents, e.WithheldReason, s.pay, s.withheld)
		}
		b.Entries++
		b.PayableCents += d.Payable
		b.WithheldCents += d.Withheld
		b.OutcomeShareUsedCents += d.ShareUsed
	}
	if b.PayableCents != 9300 || b.OutcomeShareUsedCents != 3000 {
		t.Errorf("balance %+v", b)
	}
	// A clawback of the first outcome fee frees the outcome cap.
	of := &Entry{ID: "000000000002", Kind: OutcomeFee, AmountCents: 2000, PayableCents: 2000}
	e, d, err := Reverse(b, k, of, "did not last", procurement.Actor{}, time.Now())
	if err != nil || e.PayableCents != -2000 || d.ShareUsed != -2000 || e.Reverses != of.ID {
		t.Errorf("clawback %+v %+v %v", e, d, err)
	}
	if _, _, err := Reverse(b, k, e, "again", procurement.Actor{}, time.Now()); err == nil {
		t.Errorf("a clawback was clawed back")
	}
}

func TestSuppression(t *testing.T) {
	c := Counts{"ref|a": 4, "ref|b": 9, "out|b|employed": 3, "ref|c": 12, "out|c|employed": 6, "pay|c|employed": 600, "fix|c": 1200,
		"h|c|employed|2": 2, "h|c|employed|5": 3, "h|c|employed|9": 1, "exp|c|employed": 12 * 2500}
	rows := Table(c, []string{"a", "b", "c"}, []string{"employed"}, true)
	if !rows[0].Suppressed || rows[0].Referrals != nil {
		t.Errorf("4 referrals shown: %+v", rows[0])
	}
	if !rows[1].Suppressed || rows[1].Referrals == nil || rows[1].Outcomes != nil {
		t.Errorf("3 outcomes shown: %+v", rows[1])
	}
	r := rows[2]
	if r.Suppressed || *r.Outcomes != 6 || *r.AchievedRate != "0.5000" || *r.ExpectedRate != "0.2500" || *r.CostPerOutcomeCents != 300 || *r.MedianWeeksToOutcome != 5 {
		t.Errorf("row c: %+v", r)
	}
	full := Table(c, []string{"a"}, []string{"employed"}, false)
	if full[0].Suppressed || *full[0].Referrals != 4 {
		t.Errorf("full view suppressed: %+v", full[0])
	}
}

func TestStandstillOnTheFinnishCalendar(t *testing.T) {
	at := func(s string) time.Time {
		d, _ := time.ParseInLocation("2006-01-02 15:04", s, workdays.Helsinki)
		return d
	}
	cases := []struct {
		settings procurement.Settings
		decided  string
		ends     string
	}{
		// 14 calendar days from Fri 11 Dec 2026: Fri 25 Dec is Christmas,
		// Sat and Sun follow: the period runs to Mon 28 Dec.
		{procurement.Settings{StandstillDays: 14}, "2026-12-11 10:00", "2026-12-29 00:00"},
		{procurement.Settings{StandstillDays: 14}, "2027-03-01 10:00", "2027-03-16 00:00"},
		// 10 working days from Fri 11 Dec 2026: 14-18, 21-23, 28-29 Dec.
		{procurement.Settings{StandstillDays: 10, StandstillUnit: "workdays"}, "2026-12-11 10:00", "2026-12-30 00:00"},
		{procurement.Settings{}, "2026-12-11 10:00", "2026-12-11 10:00"},
	}
	for _, c := range cases {
		if got := c.settings.StandstillEnd(at(c.decided)); !got.Equal(at(c.ends)) {
			t.Errorf("%+v from %s: ends %s, want %s", c.settings, c.decided, got, c.ends)
		}
	}
}

func TestImplementationTransactions(t *testing.T) {
	k := &Contract{ID: "c.p", Buyer: "buyer-lahti", Supplier: procurement.Party{Name: "P", BusinessID: "0201256-6"},
		Terms: &Terms{End: "2027-12-31", Segments: []TermSegment{{ID: BaseSegment, Name: "Other"}}, Milestones: []TermMilestone{{ID: "employed", Name: "Employed"}},
			Prices: []Price{{Milestone: "employed", Segment: BaseSegment, Cents: 1000, ExpectedRate: 2500}}}}
	entries := []Entry{
		{ID: "1", Kind: FixedFee, PayableCents: 300000, PaidOn: "2027-03-01"},
		{ID: "2", Kind: OutcomeFee, PayableCents: 150000, PaidOn: "2027-04-01"},
		{ID: "3", Kind: OutcomeFee, PayableCents: 150000}, // not paid
		{ID: "4", Kind: Clawback, PayableCents: -150000, Reverses: "2", Day: "2027-05-01"},
		{ID: "5", Kind: Clawback, PayableCents: -150000, Reverses: "3", Day: "2027-05-02"},
	}
	im := Implementation(k, "Lahti", entries, Counts{"ref|base": 8, "out|base|employed": 2}, "2027-06-01")
	var ids []string
	var sum float64
	for _, tx := range im.Transactions {
		ids = append(ids, tx.ID)
		sum += tx.Value.Amount
	}
	if len(ids) != 3 || sum != 3000 {
		t.Errorf("transactions %v sum %v; want the two paid entries and the clawback of a paid one, 3000 €", ids, sum)
	}
	if len(im.Milestones) != 1 || im.Milestones[0].Status != "met" || !strings.Contains(im.Milestones[0].Description, "fewer than 5 outcomes") {
		t.Errorf("milestones %+v", im.Milestones)
	}
}

// A cancelled contract pays only for outcomes achieved while it was in
// force: a claim achieved after the day of cancellation is refused.
func TestClaimsOnACancelledContract(t *testing.T) {
	cancelled := time.Date(2027, 5, 10, 12, 0, 0, 0, workdays.Helsinki)
	k := &Contract{ID: "c", Status: Cancelled, Ending: &Ending{Reason: "Provider ceased trading.", At: cancelled},
		Terms: &Terms{Start: "2027-01-01", End: "2027-12-31", ClaimGraceDays: 60, VerificationWorkdays: 20,
			Milestones: []TermMilestone{{ID: "employed"}}}}
	r := &Referral{ID: "r", Segment: "base", StartedOn: "2027-02-01"}
	now := time.Date(2027, 6, 1, 9, 0, 0, 0, workdays.Helsinki)
	ev := []Evidence{{Name: "contract.pdf", SHA256: strings.Repeat("ab", 32)}}
	if _, err := k.NewClaim(procurement.Actor{UserID: "u"}, r, "employed", "2027-05-10", ev, now); err != nil {
		t.Errorf("an outcome on the day of cancellation: %v", err)
	}
	_, err := k.NewClaim(procurement.Actor{UserID: "u"}, r, "employed", "2027-05-11", ev, now)
	if err == nil || !strings.Contains(err.Error(), "cancelled (2027-05-10)") {
		t.Errorf("an outcome after the cancellation: %v, want refused naming the day", err)
	}
}
