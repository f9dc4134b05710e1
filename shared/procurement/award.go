package procurement

import (
	"math/big"
	"slices"
	"time"

	"github.com/rengas/rengas/shared/scoring"
)

// AwardDecision is the reasoned award decision (hankintapäätös). It shows
// every number of the comparison for every bid.
type AwardDecision struct {
	At                 time.Time       `json:"at"`
	By                 string          `json:"by"`
	Reasons            string          `json:"reasons"`
	Comparison         scoring.Outcome `json:"comparison"`
	Method             string          `json:"method"`
	AppealInstructions string          `json:"appealInstructions"`
	StandstillEnds     time.Time       `json:"standstillEnds"`
}

// ComparisonMethod explains the computation in every decision, the
// rounding and the lot exactly as the code does them.
const ComparisonMethod = "evaluation price = places × (fixed fee + Σ outcome price × expected rate, per client segment); " +
	"price points = price weight × lowest evaluation price / the bid's evaluation price; " +
	"quality points = Σ criterion weight × score / 5; total = price points + quality points. " +
	"Bids above the budget ceiling, below the minimum quality or whose outcome fees exceed the allowed share are rejected, comparing exact values; " +
	"rejected bids get no points, no total and no rank. " +
	"Ranking: higher total points, then higher quality points, then a lot. " + scoring.LotMethod + " " +
	"The top N bids share the places equally, the remainder one each to the better ranked; " +
	"a winner's contract value = its places × its evaluation price / places. " +
	"Every figure is computed exactly as a fraction and rounded only when shown, half up (a half goes up): " +
	"euros to the cent, points and percentages to two decimals; each contract value is rounded half up to the cent once, from its exact value. " +
	"Exclusion reasons and tie notes show figures exactly, or their first digits cut off and followed by …, never rounded."

// Model returns the scoring model of the competition.
func (c *Competition) Model() scoring.Model {
	m := scoring.Model{
		Places: int64(c.Places), PriceWeight: int64(c.PriceWeight), CeilingCents: c.BudgetCeilingCents,
		MaxOutcomeShareBP: int64(c.MaxOutcomeShare), MinQualityPoints: int64(c.MinQualityPoints), Awards: c.Awards,
	}
	for _, ms := range c.Milestones {
		m.Milestones = append(m.Milestones, scoring.Milestone{ID: ms.ID, Offered: ms.Pricing == "offered", TariffCents: ms.TariffCents, RateBP: int64(ms.ExpectedRate)})
	}
	for _, s := range c.Segments {
		seg := scoring.Segment{ID: s.ID, ShareBP: int64(s.PlacesShare), RateBP: map[string]int64{}, TariffCent: s.TariffsCents}
		for k, v := range s.ExpectedRates {
			seg.RateBP[k] = int64(v)
		}
		m.Segments = append(m.Segments, seg)
	}
	for _, q := range c.QualityCriteria {
		m.Criteria = append(m.Criteria, scoring.Criterion{ID: q.ID, Weight: int64(q.Weight)})
	}
	return m
}

// Compare scores the submitted bids; withdrawn bids take no part. The
// bidder's provider id identifies each bid.
func (c *Competition) Compare(bids []Bid, seed string) scoring.Outcome {
	var in []scoring.Bid
	for _, b := range bids {
		if b.Status != BidSubmitted {
			continue
		}
		in = append(in, scoringBid(b))
	}
	return scoring.Evaluate(c.Model(), in, seed)
}

func scoringBid(b Bid) scoring.Bid {
	sb := scoring.Bid{ID: b.ProviderID, FixedFeeCents: b.FixedFeeCents, OutcomeCents: b.OutcomePricesCents, Scores: map[string]int{}}
	for k, s := range b.Scores {
		sb.Scores[k] = s.Score
	}
	if b.Rejection != nil {
		sb.Rejected = b.Rejection.Reason
	}
	return sb
}

// Award confirms the award decision. Every valid bid must be scored on
// every criterion first. The seed of the lot is recorded in the decision.
func (c *Competition) Award(d *DPS, by Actor, bids []Bid, reasons, seed string, now time.Time) error {
	if err := c.CheckEvaluator(by); err != nil {
		return err
	}
	if c.Status != CompEvaluation {
		return Errorf(ECONFLICT, "only a competition in evaluation can be awarded; it is %s", c.Status)
	}
	if reasons == "" {
		return Invalid("reasons", "state the reasons of the decision (the comparison is attached automatically)")
	}
	var p Problems
	for _, b := range bids {
		if b.Status == BidSubmitted && b.Rejection == nil {
			if missing := c.unscored(&b); len(missing) > 0 {
				p.Add("scores", "score the bid of %s on %v first", b.ProviderID, missing)
			}
		}
	}
	if err := p.Err(); err != nil {
		return &Error{Code: ECONFLICT, Message: "the evaluation is not complete", Fields: p}
	}
	out := c.Compare(bids, seed)
	c.Decision = &AwardDecision{
		At: now, By: by.UserID, Reasons: reasons, Comparison: out, Method: ComparisonMethod,
		AppealInstructions: d.Settings.AppealInstructions,
		StandstillEnds:     d.Settings.StandstillEnd(now),
	}
	c.Status, c.UpdatedAt = CompAwarded, now
	if len(out.Winners) == 0 {
		c.Decision.Reasons += " No bid met the requirements; no contract is awarded."
	}
	return nil
}

// Contract is the record created for each winner of an award.
type Contract struct {
	CompetitionID string  `json:"competitionId"`
	DPSID         string  `json:"dpsId"`
	Buyer         string  `json:"buyer"`
	Category      string  `json:"category"`
	Title         string  `json:"title"`
	ProviderID    string  `json:"providerId"`
	Supplier      Party   `json:"supplier"`
	Members       []Party `json:"consortiumMembers"`
	Places        int64   `json:"places"`
	Rank          int     `json:"rank"`
	FixedFeeCents int64   `json:"fixedFeeCents"`
	// ValueCents is the expected value: this winner's places at its
	// evaluation price per client.
	ValueCents    int64            `json:"valueCents"`
	OutcomePrices map[string]int64 `json:"outcomePricesCents"`
	Start         string           `json:"start"`
	End           string           `json:"end"`
	AwardedAt     time.Time        `json:"awardedAt"`
	// StandstillEnds is when the contract may be concluded at the earliest.
	StandstillEnds time.Time `json:"standstillEnds"`
	Local          bool      `json:"local"`
}

// Contracts returns the contract of each winner of the decision. A winner
// is local when its home municipality is in the DPS's service area.
func (c *Competition) Contracts(bids []Bid, serviceArea []string) []Contract {
	if c.Decision == nil {
		return nil
	}
	byProvider := map[string]Bid{}
	for _, b := range bids {
		byProvider[b.ProviderID] = b
	}
	var out []Contract
	for _, r := range c.Decision.Comparison.Results {
		if r.Places == 0 {
			continue
		}
		b := byProvider[r.Bid]
		cents, ok := centsOf(r.ContractValue)
		if !ok {
			// A decision made before contract values were recorded.
			cents = scoring.ContractValueCents(c.Model(), scoringBid(b), r.Places)
		}
		out = append(out, Contract{
			CompetitionID: c.ID, DPSID: c.DPSID, Buyer: c.Buyer, Category: c.Category, Title: c.Title,
			ProviderID: b.ProviderID, Supplier: b.Bidder, Members: b.Members, Places: r.Places, Rank: r.Rank,
			FixedFeeCents: b.FixedFeeCents, ValueCents: cents, OutcomePrices: b.OutcomePricesCents,
			Start: c.ContractStart, End: c.ContractEnd, AwardedAt: c.Decision.At, StandstillEnds: c.Decision.StandstillEnds,
			Local: slices.Contains(serviceArea, b.Bidder.HomeMunicipality),
		})
	}
	return out
}

// centsOf reads a euro amount with at most two decimals as cents, exactly.
func centsOf(euros string) (int64, bool) {
	x, ok := new(big.Rat).SetString(euros)
	if !ok || euros == "" {
		return 0, false
	}
	x.Mul(x, big.NewRat(100, 1))
	if !x.IsInt() || !x.Num().IsInt64() {
		return 0, false
	}
	return x.Num().Int64(), true
}
