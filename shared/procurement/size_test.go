package procurement

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// itemLimit is DynamoDB's item size limit; what a competition stores in
// one item must stay far below it, whatever the number of invitees and
// bids. The largest case the integrity issue names: 1,000 invitees, 200
// bids, 6 milestones and 4 segments, with every text at its longest.
const itemLimit = 400 << 10

func TestLargestItemsStayBelowTheLimit(t *testing.T) {
	long := func(n int) string { return strings.Repeat("x", n) }
	def := Definition{Category: "c", Title: long(300), Description: long(20000), TargetGroup: long(2000), Places: 1000, Awards: 50,
		ContractStart: "2027-01-01", ContractEnd: "2027-12-31", BudgetCeilingCents: 1 << 50, MaxOutcomeShare: RateOne, PriceWeight: 40}
	for i := range 50 {
		def.ServiceArea = append(def.ServiceArea, long(100))
		_ = i
	}
	for i := range 6 {
		def.Milestones = append(def.Milestones, Milestone{ID: fmt.Sprintf("milestone-%d", i), Name: long(200), Pricing: "offered", ExpectedRate: 1000})
	}
	for i := range 4 {
		s := Segment{ID: fmt.Sprintf("segment-%d", i), Name: long(200), PlacesShare: 2500, ExpectedRates: map[string]Rate{}, TariffsCents: map[string]int64{}}
		for _, m := range def.Milestones {
			s.ExpectedRates[m.ID] = 1500
		}
		def.Segments = append(def.Segments, s)
	}
	for i := range 20 {
		def.QualityCriteria = append(def.QualityCriteria, QualityCriterion{ID: fmt.Sprintf("criterion-%02d", i), Description: long(2000), Weight: 3})
	}
	c := inEvaluation(def)
	for i := range 1000 {
		c.Invitees = append(c.Invitees, fmt.Sprintf("prov-%s-%04d", long(20), i))
	}
	for range MaxAmendments {
		c.Amendments = append(c.Amendments, Amendment{Reason: long(2000), By: long(40), At: awardNow})
	}
	for range MaxDeclarations - 1 {
		c.Conflicts = append(c.Conflicts, ConflictDeclaration{By: long(40), Statement: long(2000), At: awardNow})
	}
	var bids []Bid
	for i := range 200 {
		prices := map[string]int64{}
		for _, m := range def.Milestones {
			prices[m.ID] = 100000 + int64(i)
		}
		scores := map[string]int{}
		for _, q := range def.QualityCriteria {
			scores[q.ID] = i % 6
		}
		b := submitted(fmt.Sprintf("prov-%s-%04d", long(20), i), 300000+int64(i), prices, scores)
		b.Answers = map[string]string{}
		for _, q := range def.QualityCriteria {
			b.Answers[q.ID] = long(900) // 20 answers near the 256 KB body limit
		}
		bids = append(bids, b)
	}
	if err := c.Award(testDPS(), evaluator, bids, long(5000), "seed", awardNow); err != nil {
		t.Fatal(err)
	}
	// The store keeps the decision in an item of its own with its first 40
	// results, and every further 40 results in another (resultsPerItem in
	// shared/dynamo).
	const perItem = 40
	decision := *c.Decision
	results := decision.Comparison.Results
	decision.Comparison.Results = results[:perItem]
	c.Decision = nil
	sizes := map[string]int{}
	for name, v := range map[string]any{"competition": c, "decision": decision, "results": results[perItem : 2*perItem], "bid": bids[0]} {
		raw, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		sizes[name] = len(raw)
		// Keys, indexes and the other attributes add well under 2 KB.
		if len(raw) > itemLimit-(16<<10) {
			t.Errorf("the %s takes %d bytes; DynamoDB's limit is %d", name, len(raw), itemLimit)
		}
	}
	t.Logf("largest items in bytes (1,000 invitees, 200 bids, 6 milestones x 4 segments, longest texts): %v", sizes)
}
