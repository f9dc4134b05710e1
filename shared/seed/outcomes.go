package seed

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/rengas/rengas/shared/dynamo"
	"github.com/rengas/rengas/shared/outcomes"
	"github.com/rengas/rengas/shared/procurement"
	"github.com/rengas/rengas/shared/workdays"
)

// OutcomesDPSID is the DPS of the outcome-contract demo: an earlier DPS of
// the ring, set up 200 days ago, whose mini-competition with client
// segments was awarded to two providers half a year ago; both contracts are
// in force, with referrals, starts, claims, verifications, a clawback and
// payments behind them.
const OutcomesDPSID = "lahti-ph-outcomes-2026"

// LoadOutcomes seeds the outcome-contract demo through the store, after
// Load (the local server calls both; tests of the demo ring use Load alone).
// The store's clock is moved back while the past is written.
func LoadOutcomes(ctx context.Context, st *dynamo.Store) error {
	realNow := st.Now
	defer func() { st.Now = realNow }()
	at := func(daysAgo int) { st.Now = func() time.Time { return realNow().AddDate(0, 0, -daysAgo) } }
	day := func(daysAgo int) string { return workdays.DateString(realNow().AddDate(0, 0, -daysAgo)) }
	officer := actor("officer-lahti")
	open := func(*outcomes.Contract) error { return nil }

	at(200)
	d := DemoDPS(st.Now())
	d.ID, d.Title = OutcomesDPSID, "Outcome-based employment services, Lahti and Päijät-Häme 2026 (contracts in force)"
	if err := st.CreateDPS(ctx, officer, d); err != nil {
		return fmt.Errorf("outcomes DPS: %w", err)
	}
	for _, user := range []string{"provider-tyopaja", "provider-college"} {
		u, _ := User(user)
		decl, docs := Declaration(d, u.Name, []string{"job-coaching"}, 10, st.Now())
		a := &procurement.Application{Categories: []string{"job-coaching"}, Declaration: decl, Documents: docs}
		if err := st.SubmitApplication(ctx, actor(user), OutcomesDPSID, a); err != nil {
			return fmt.Errorf("outcomes application: %w", err)
		}
		if _, err := st.Decide(ctx, officer, OutcomesDPSID, a.ID, a.Version, "job-coaching", procurement.OutcomeAdmitted, "", SystemApplication); err != nil {
			return fmt.Errorf("outcomes admission: %w", err)
		}
	}

	at(190)
	def := DemoDefinition(st.Now())
	def.Title = "Job coaching with client segments, Päijät-Häme 2026"
	def.Places, def.Awards = 24, 2
	def.ContractStart, def.ContractEnd = day(165), day(-200)
	def.Milestones[0].SustainmentDays = 90
	def.Segments = []procurement.Segment{
		{ID: "youth", Name: "Young people under 25", PlacesShare: 3000, ExpectedRates: map[string]procurement.Rate{procurement.MilestoneEmployed: 2000},
			TariffsCents: map[string]int64{procurement.MilestoneVocational: 120000}},
		{ID: "partial-ability", Name: "Partial work ability", PlacesShare: 3000, ExpectedRates: map[string]procurement.Rate{procurement.MilestoneEmployed: 1500},
			TariffsCents: map[string]int64{procurement.MilestoneVocational: 150000}},
	}
	c, err := st.CreateCompetition(ctx, officer, OutcomesDPSID, def, System[procurement.DPS])
	if err != nil {
		return fmt.Errorf("outcomes competition: %w", err)
	}
	if c, err = st.PublishCompetition(ctx, officer, c.ID, c.Version, System[procurement.Competition]); err != nil {
		return err
	}
	offers := map[string]procurement.Offer{
		"provider-tyopaja": {FixedFeeCents: 300000, OutcomePricesCents: map[string]int64{procurement.MilestoneEmployed: 150000},
			Answers: map[string]string{"individual-service": "Weekly one-to-one meetings and home visits where needed.",
				"employer-network": "120 local employers.", "outcome-follow-up": "Monthly outcome reports."}},
		"provider-college": {FixedFeeCents: 280000, OutcomePricesCents: map[string]int64{procurement.MilestoneEmployed: 200000},
			Answers: map[string]string{"individual-service": "A personal study and work plan for every client.",
				"employer-network": "Apprenticeship partners across Päijät-Häme.", "outcome-follow-up": "Follow-up at 3 and 6 months."}},
	}
	for user, o := range offers {
		if _, err := st.WriteBid(ctx, actor(user), c.ID, 0, "", "", System[procurement.Competition], func(c *procurement.Competition, inv *procurement.Invitee, prev *procurement.Bid, now time.Time) (*procurement.Bid, string, error) {
			b, err := c.PlaceBid(prev, inv, o, now, now)
			return b, "bid.submitted", err
		}); err != nil {
			return fmt.Errorf("outcomes bid: %w", err)
		}
	}

	at(177)
	if _, err := st.OpenDue(ctx); err != nil {
		return err
	}
	if _, err := st.DeclareNoConflict(ctx, officer, c.ID, "No ties to any bidder.", System[procurement.Competition]); err != nil {
		return err
	}
	for prov, scores := range map[string][3]int{"prov-tyopaja": {5, 4, 4}, "prov-college": {4, 4, 3}} {
		version := 1
		for i, crit := range []string{"individual-service", "employer-network", "outcome-follow-up"} {
			b, err := st.UpdateBidEvaluation(ctx, officer, c.ID, prov, version, "bid.scored", System[procurement.Competition], func(c *procurement.Competition, b *procurement.Bid) error {
				return c.ScoreBid(officer, b, crit, scores[i], "Assessed against the service plan.", st.Now())
			})
			if err != nil {
				return fmt.Errorf("outcomes score: %w", err)
			}
			version = b.Version
		}
	}
	if c, err = st.ReadCompetition(ctx, c.ID); err != nil {
		return err
	}
	if _, err := st.Award(ctx, officer, c.ID, c.Version, "The two most economically advantageous bids share the places.", System[procurement.Competition]); err != nil {
		return fmt.Errorf("outcomes award: %w", err)
	}

	at(160)
	provs := []string{"prov-tyopaja", "prov-college"}
	for _, prov := range provs {
		k, err := st.ConcludeContract(ctx, officer, c.ID, prov, open)
		if err != nil {
			return fmt.Errorf("outcomes conclusion: %w", err)
		}
		user := "provider-" + strings.TrimPrefix(prov, "prov-")
		if _, err := st.ContractStep(ctx, actor(user), c.ID, prov, k.Version, func(k *outcomes.Contract) (string, error) {
			return "contract.accepted", k.Accept(actor(user), st.Now())
		}, open); err != nil {
			return fmt.Errorf("outcomes acceptance: %w", err)
		}
	}

	// Twelve clients each, four per segment, referred and started.
	segments := []string{outcomes.BaseSegment, "youth", "partial-ability"}
	refs := map[string][]*outcomes.Referral{}
	for i, prov := range provs {
		at(155)
		for n := range 12 {
			r, err := st.Refer(ctx, officer, c.ID, prov, fmt.Sprintf("LAHTI-2026-%d%03d", i+1, n+1), segments[n%3], day(155), open)
			if err != nil {
				return fmt.Errorf("outcomes referral: %w", err)
			}
			refs[prov] = append(refs[prov], r)
		}
		at(150)
		for n, r := range refs[prov] {
			if refs[prov][n], err = st.StartReferral(ctx, actor("provider-"+strings.TrimPrefix(prov, "prov-")), c.ID, prov, r.ID, r.Version, day(150), open); err != nil {
				return fmt.Errorf("outcomes start: %w", err)
			}
		}
	}

	// Claims: vocational studies started 90 days ago, claimed 60 days ago;
	// employment reached 127-145 days ago and lasting the 90 days the
	// milestone asks, claimed 20 days ago.
	type claimed struct {
		prov string
		n    int
		c    *outcomes.Claim
	}
	var claims []claimed
	claim := func(prov string, n int, ms, on string) error {
		ev := []outcomes.Evidence{{Name: fmt.Sprintf("outcome-evidence-%d.pdf", n+1), SHA256: fmt.Sprintf("%064x", n+1), MediaType: "application/pdf", Bytes: 48213}}
		cl, err := st.SubmitClaim(ctx, actor("provider-"+strings.TrimPrefix(prov, "prov-")), c.ID, prov, refs[prov][n].ID, ms, on, ev, open)
		if err != nil {
			return fmt.Errorf("outcomes claim: %w", err)
		}
		claims = append(claims, claimed{prov, n, cl})
		return nil
	}
	at(60)
	for _, prov := range provs {
		for _, n := range []int{3, 7, 11} {
			if err := claim(prov, n, procurement.MilestoneVocational, day(90)); err != nil {
				return err
			}
		}
	}
	at(20)
	for _, prov := range provs {
		for _, n := range []int{0, 1, 2, 4, 5, 6} {
			if err := claim(prov, n, procurement.MilestoneEmployed, day(145-3*n)); err != nil {
				return err
			}
		}
	}
	// Verified 10 days ago, one rejected. Four still wait: two of them
	// past their deadline (the queue shows them first).
	at(10)
	for _, x := range claims {
		if x.n == 6 && x.prov == provs[0] || (x.prov == provs[0] && (x.n == 7 || x.n == 11)) || (x.n == 6 && x.prov == provs[1]) {
			continue
		}
		outcome, reason := outcomes.VerifyVerified, ""
		if x.prov == provs[0] && x.n == 2 {
			outcome, reason = outcomes.VerifyRejected, "The employment register shows a subsidised job, not the open labour market."
		}
		if _, err := st.VerifyClaim(ctx, officer, c.ID, x.prov, x.c.ID, x.c.Version, outcome, outcomes.MethodRegister, reason, open); err != nil {
			return fmt.Errorf("outcomes verification: %w", err)
		}
	}
	// A clawback and the first payments.
	at(5)
	ledger, err := st.ListLedger(ctx, outcomes.ContractID(c.ID, provs[0]), "", 100)
	if err != nil {
		return err
	}
	for _, e := range ledger.Items {
		if e.Kind == outcomes.OutcomeFee {
			if _, err := st.Clawback(ctx, officer, c.ID, provs[0], e.ID, "The employment ended during the trial period.", open); err != nil {
				return fmt.Errorf("outcomes clawback: %w", err)
			}
			break
		}
	}
	for _, e := range ledger.Items[:4] {
		if _, err := st.RecordPayment(ctx, officer, c.ID, provs[0], e.ID, e.Version, "INV-2026-"+e.ID[8:], day(5), open); err != nil {
			return fmt.Errorf("outcomes payment: %w", err)
		}
	}
	return nil
}
