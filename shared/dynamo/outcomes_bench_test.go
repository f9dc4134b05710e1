package dynamo_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/rengas/rengas/shared/dynamo"
	"github.com/rengas/rengas/shared/outcomes"
	"github.com/rengas/rengas/shared/procurement"
	"github.com/rengas/rengas/shared/seed"
	"github.com/rengas/rengas/shared/workdays"
)

// outcomeDemo returns a store with the outcome-contract demo and one of
// its contracts in force.
func outcomeDemo(b *testing.B) (*dynamo.Store, *outcomes.Contract) {
	st, _ := seeded(b)
	if err := seed.LoadOutcomes(context.Background(), st); err != nil {
		b.Fatal(err)
	}
	ks, err := st.ListContracts(context.Background(), seed.BuyerLahti, "", 10)
	if err != nil || len(ks.Items) == 0 {
		b.Fatalf("no demo contract: %v", err)
	}
	k := &ks.Items[0]
	// Every place is taken in the demo: one client's service ends.
	refs, err := st.ListReferrals(context.Background(), k.ID, "", 1)
	if err != nil || len(refs.Items) == 0 {
		b.Fatalf("no demo referral: %v", err)
	}
	r := refs.Items[0]
	prov := procurement.Actor{UserID: "provider", Role: procurement.RoleProvider, Org: k.ProviderID}
	if _, err := st.EndReferral(context.Background(), prov, k.CompetitionID, k.ProviderID, r.ID, r.Version, workdays.DateString(st.Now()), "Moved away.", openContract); err != nil {
		b.Fatal(err)
	}
	return st, k
}

var openContract = func(*outcomes.Contract) error { return nil }

// started refers and starts a client of the contract (not measured).
func started(b *testing.B, st *dynamo.Store, k *outcomes.Contract, n int) *outcomes.Referral {
	ctx := context.Background()
	officer := procurement.Actor{UserID: "officer-lahti", Role: procurement.RoleOfficer, Org: seed.BuyerLahti}
	prov := procurement.Actor{UserID: "provider", Role: procurement.RoleProvider, Org: k.ProviderID}
	today := workdays.DateString(st.Now())
	r, err := st.Refer(ctx, officer, k.CompetitionID, k.ProviderID, fmt.Sprintf("BENCH-%d", n), outcomes.BaseSegment, today, openContract)
	if err != nil {
		b.Fatal(err)
	}
	if r, err = st.StartReferral(ctx, prov, k.CompetitionID, k.ProviderID, r.ID, r.Version, today, openContract); err != nil {
		b.Fatal(err)
	}
	if _, err = st.EndReferral(ctx, prov, k.CompetitionID, k.ProviderID, r.ID, r.Version, today, "Studies started.", openContract); err != nil {
		b.Fatal(err) // frees the place for the next one
	}
	r.Version += 1
	return r
}

// BenchmarkClaimAndVerify: submitting an outcome claim and verifying it
// (booking its fee under the caps) cost two round trips each.
func BenchmarkClaimAndVerify(b *testing.B) {
	st, k := outcomeDemo(b)
	ctx := context.Background()
	officer := procurement.Actor{UserID: "officer-lahti", Role: procurement.RoleOfficer, Org: seed.BuyerLahti}
	prov := procurement.Actor{UserID: "provider", Role: procurement.RoleProvider, Org: k.ProviderID}
	today := workdays.DateString(st.Now())
	claim, verify := &meter{st: st}, &meter{st: st}
	n := 0
	for b.Loop() {
		n++
		r := started(b, st, k, n)
		var c *outcomes.Claim
		var err error
		claim.measure(func() {
			c, err = st.SubmitClaim(ctx, prov, k.CompetitionID, k.ProviderID, r.ID, procurement.MilestoneVocational, today,
				[]outcomes.Evidence{{Name: "enrolment.pdf", SHA256: fmt.Sprintf("%064x", n)}}, openContract)
		})
		if err != nil {
			b.Fatal(err)
		}
		verify.measure(func() {
			_, err = st.VerifyClaim(ctx, officer, k.CompetitionID, k.ProviderID, c.ID, c.Version, outcomes.VerifyVerified, outcomes.MethodRegister, "", openContract)
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(claim.trips)/float64(b.N), "claim-roundtrips/op")
	b.ReportMetric(float64(verify.trips)/float64(b.N), "verify-roundtrips/op")
}

// BenchmarkOutcomeStatistics reads a contract's and its DPS's statistics
// for the whole contract period with the demo's claims and after 200
// more verified outcomes: one BatchGetItem either way.
func BenchmarkOutcomeStatistics(b *testing.B) {
	st, k := outcomeDemo(b)
	ctx := context.Background()
	officer := procurement.Actor{UserID: "officer-lahti", Role: procurement.RoleOfficer, Org: seed.BuyerLahti}
	prov := procurement.Actor{UserID: "provider", Role: procurement.RoleProvider, Org: k.ProviderID}
	today := workdays.DateString(st.Now())
	extra := 0
	for _, more := range []int{0, 200} {
		for ; extra < more; extra++ {
			r := started(b, st, k, 1000+extra)
			c, err := st.SubmitClaim(ctx, prov, k.CompetitionID, k.ProviderID, r.ID, procurement.MilestoneVocational, today,
				[]outcomes.Evidence{{Name: "enrolment.pdf", SHA256: fmt.Sprintf("%064x", extra)}}, openContract)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := st.VerifyClaim(ctx, officer, k.CompetitionID, k.ProviderID, c.ID, c.Version, outcomes.VerifyVerified, outcomes.MethodSample, "", openContract); err != nil {
				b.Fatal(err)
			}
		}
		b.Run(fmt.Sprintf("extraClaims=%d", more), func(b *testing.B) {
			m := &meter{st: st}
			var counts outcomes.Counts
			for b.Loop() {
				m.measure(func() {
					var err error
					if counts, _, err = st.StatsCounts(ctx, dynamo.StatsScopeContract(k.ID), k.Terms.Start[:7], today[:7]); err != nil {
						b.Fatal(err)
					}
				})
			}
			if counts["out|base|"+procurement.MilestoneVocational] < int64(more) {
				b.Fatalf("counts %v", counts)
			}
			m.report(b)
		})
	}
}
