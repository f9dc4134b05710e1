// Package scoring computes the comparison of outcome-based bids exactly as
// the reference method prescribes (BRIEF section 3):
//
//	evaluation price = places × (fixed fee + Σ outcome price × expected rate)
//	price points     = price weight × lowest evaluation price / this bid's evaluation price
//	quality points   = Σ criterion weight × score / max score
//	total            = price points + quality points
//
// Money is integer cents and rates are basis points; every intermediate is
// an exact rational, so ranking never depends on rounding. Figures are
// rounded (half away from zero) only for display: euros to the cent,
// points to two decimals. The package is pure: no clock, no I/O.
package scoring

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/big"
	"sort"
)

// MaxScore is the top of the 0-5 quality scale.
const MaxScore = 5

// BasisPoints is one whole (100 %) in basis points.
const BasisPoints = 10000

// Segment is a client segment with its share of the places. Places not in
// any segment belong to the base segment.
type Segment struct {
	ID         string
	ShareBP    int64
	RateBP     map[string]int64 // milestone → expected rate in this segment (overrides the base rate)
	TariffCent map[string]int64 // tariff milestone → tariff in this segment (overrides the base tariff)
}

// Milestone is an outcome with either a buyer-set tariff or a bidder-offered
// price, and the buyer's expected rate.
type Milestone struct {
	ID          string
	Offered     bool  // the bidder offers the price
	TariffCents int64 // the buyer's tariff when not offered
	RateBP      int64
}

// Criterion is a quality criterion and its weight.
type Criterion struct {
	ID     string
	Weight int64
}

// Model is what a mini-competition states about comparing bids.
type Model struct {
	Places       int64
	Milestones   []Milestone
	Segments     []Segment
	PriceWeight  int64
	Criteria     []Criterion
	CeilingCents int64 // 0: no ceiling
	// MaxOutcomeShareBP caps outcome fees as a share of the evaluation
	// price; 0 means no cap.
	MaxOutcomeShareBP int64
	// MinQualityPoints rejects bids with fewer quality points; 0: none.
	MinQualityPoints int64
	Awards           int
}

// Bid is one bid as the evaluators see it after the deadline.
type Bid struct {
	ID            string
	FixedFeeCents int64
	OutcomeCents  map[string]int64 // offered milestone → price
	Scores        map[string]int   // criterion → 0-5
	// Rejected holds the officers' reason when they rejected the bid (e.g.
	// incomplete); it is excluded from the comparison.
	Rejected string
}

// Line explains one milestone's expected cost per client.
type Line struct {
	Milestone string `json:"milestone"`
	Segment   string `json:"segment"`
	ShareBP   int64  `json:"placesShareBP"`
	Price     string `json:"priceEuros"`
	RateBP    int64  `json:"expectedRateBP"`
	Expected  string `json:"expectedCostPerClientEuros"`
}

// CriterionPoints explains one quality criterion.
type CriterionPoints struct {
	Criterion string `json:"criterion"`
	Weight    int64  `json:"weight"`
	Score     int    `json:"score"`
	Points    string `json:"points"`
}

// Result is the explained outcome of one bid.
type Result struct {
	Bid             string            `json:"bid"`
	FixedFee        string            `json:"fixedFeeEuros"`
	Lines           []Line            `json:"outcomeLines"`
	OutcomePerPlace string            `json:"expectedOutcomeFeesPerClientEuros"`
	EvaluationPrice string            `json:"evaluationPriceEuros"`
	OutcomeShare    string            `json:"outcomeSharePercent"`
	PricePoints     string            `json:"pricePoints"`
	Quality         []CriterionPoints `json:"qualityCriteria"`
	QualityPoints   string            `json:"qualityPoints"`
	Total           string            `json:"totalPoints"`
	Excluded        bool              `json:"excluded"`
	Reasons         []string          `json:"exclusionReasons,omitempty"`
	Rank            int               `json:"rank,omitempty"`
	Places          int64             `json:"awardedPlaces,omitempty"`
	// TieBreak says how a tie with another bid was settled, if there was one.
	TieBreak string `json:"tieBreak,omitempty"`

	evalPrice, outcome, quality, total *big.Rat
	lot                                string
}

// Outcome is the whole comparison.
type Outcome struct {
	Results []Result `json:"results"` // ranked valid bids first, then excluded ones
	Lowest  string   `json:"lowestEvaluationPriceEuros,omitempty"`
	Winners []string `json:"winners"`
	// LotSeed and Lot record the draw used when bids tied on total and
	// quality points: Lot lists the tied bids in drawn order.
	LotSeed string     `json:"lotSeed"`
	Lots    [][]string `json:"lots,omitempty"`
}

func rat(n int64) *big.Rat { return new(big.Rat).SetInt64(n) }

func frac(a, b int64) *big.Rat { return big.NewRat(a, b) }

// euros renders cents as euros with two decimals.
func euros(cents *big.Rat) string { return decimal(new(big.Rat).Quo(cents, rat(100)), 2) }

// decimal rounds half away from zero to places decimals.
func decimal(r *big.Rat, places int) string {
	return r.FloatString(places) // FloatString rounds half away from zero
}

// Evaluate scores the bids of a competition. seed feeds the lot that
// settles exact ties; the same seed and bids always give the same result.
func Evaluate(m Model, bids []Bid, seed string) Outcome {
	out := Outcome{LotSeed: seed, Winners: []string{}}
	results := make([]Result, len(bids))
	for i, b := range bids {
		results[i] = price(m, b)
		quality(m, b, &results[i])
		r := &results[i]
		if b.Rejected != "" {
			r.Reasons = append(r.Reasons, "rejected by the evaluators: "+b.Rejected)
		}
		if m.CeilingCents > 0 && r.evalPrice.Cmp(rat(m.CeilingCents)) > 0 {
			r.Reasons = append(r.Reasons, fmt.Sprintf("evaluation price %s EUR exceeds the budget ceiling %s EUR", r.EvaluationPrice, euros(rat(m.CeilingCents))))
		}
		if m.MinQualityPoints > 0 && r.quality.Cmp(rat(m.MinQualityPoints)) < 0 {
			r.Reasons = append(r.Reasons, fmt.Sprintf("quality points %s are below the minimum %d", r.QualityPoints, m.MinQualityPoints))
		}
		if m.MaxOutcomeShareBP > 0 && r.evalPrice.Sign() > 0 {
			share := new(big.Rat).Quo(r.outcome, r.evalPrice)
			if share.Cmp(frac(m.MaxOutcomeShareBP, BasisPoints)) > 0 {
				r.Reasons = append(r.Reasons, fmt.Sprintf("outcome fees are %s %% of the total pay, more than the allowed %s %%", r.OutcomeShare, decimal(frac(m.MaxOutcomeShareBP, 100), 2)))
			}
		}
		r.Excluded = len(r.Reasons) > 0
	}

	var lowest *big.Rat
	for _, r := range results {
		if !r.Excluded && r.evalPrice.Sign() > 0 && (lowest == nil || r.evalPrice.Cmp(lowest) < 0) {
			lowest = r.evalPrice
		}
	}
	if lowest != nil {
		out.Lowest = euros(lowest)
	}
	for i := range results {
		r := &results[i]
		pp := rat(0)
		if !r.Excluded && lowest != nil {
			pp = new(big.Rat).Mul(rat(m.PriceWeight), new(big.Rat).Quo(lowest, r.evalPrice))
		}
		r.PricePoints = decimal(pp, 2)
		r.total = new(big.Rat).Add(pp, r.quality)
		r.Total = decimal(r.total, 2)
		sum := sha256.Sum256([]byte(seed + "\x00" + r.Bid))
		r.lot = hex.EncodeToString(sum[:])
	}

	// Rank: valid before excluded; higher total; then higher quality
	// points; then the lot.
	sort.SliceStable(results, func(i, j int) bool {
		a, b := results[i], results[j]
		if a.Excluded != b.Excluded {
			return !a.Excluded
		}
		if c := a.total.Cmp(b.total); c != 0 {
			return c > 0
		}
		if c := a.quality.Cmp(b.quality); c != 0 {
			return c > 0
		}
		return a.lot < b.lot
	})
	rank := 0
	for i := range results {
		r := &results[i]
		if r.Excluded {
			continue
		}
		rank++
		r.Rank = rank
		if i > 0 && !results[i-1].Excluded && results[i-1].total.Cmp(r.total) == 0 {
			prev := &results[i-1]
			if prev.quality.Cmp(r.quality) != 0 {
				r.TieBreak = "equal total points; ranked below " + prev.Bid + " on lower quality points"
			} else {
				r.TieBreak = "equal total and quality points; ranked below " + prev.Bid + " by lot"
				if n := len(out.Lots); n > 0 && out.Lots[n-1][len(out.Lots[n-1])-1] == prev.Bid {
					out.Lots[n-1] = append(out.Lots[n-1], r.Bid)
				} else {
					out.Lots = append(out.Lots, []string{prev.Bid, r.Bid})
				}
			}
		}
	}

	// The top N share the places: equal parts, the remainder to the
	// better ranked.
	var winners []*Result
	for i := range results {
		if !results[i].Excluded && len(winners) < max(m.Awards, 1) {
			winners = append(winners, &results[i])
		}
	}
	for i, w := range winners {
		n := int64(len(winners))
		w.Places = m.Places / n
		if int64(i) < m.Places%n {
			w.Places++
		}
		out.Winners = append(out.Winners, w.Bid)
	}
	out.Results = results
	return out
}

// price computes the evaluation price of a bid with every line explained.
func price(m Model, b Bid) Result {
	r := Result{Bid: b.ID, FixedFee: euros(rat(b.FixedFeeCents))}
	perPlace := rat(0)
	baseShare := int64(BasisPoints)
	for _, s := range m.Segments {
		baseShare -= s.ShareBP
	}
	type seg struct {
		id    string
		share int64
		s     *Segment
	}
	segs := []seg{{"base", baseShare, nil}}
	for i := range m.Segments {
		segs = append(segs, seg{m.Segments[i].ID, m.Segments[i].ShareBP, &m.Segments[i]})
	}
	for _, ms := range m.Milestones {
		for _, sg := range segs {
			if sg.share == 0 {
				continue
			}
			p, rate := ms.TariffCents, ms.RateBP
			if ms.Offered {
				p = b.OutcomeCents[ms.ID]
			}
			if sg.s != nil {
				if v, ok := sg.s.RateBP[ms.ID]; ok {
					rate = v
				}
				if v, ok := sg.s.TariffCent[ms.ID]; ok && !ms.Offered {
					p = v
				}
			}
			exp := new(big.Rat).Mul(rat(p), frac(rate*sg.share, BasisPoints*BasisPoints))
			perPlace.Add(perPlace, exp)
			r.Lines = append(r.Lines, Line{Milestone: ms.ID, Segment: sg.id, ShareBP: sg.share, Price: euros(rat(p)), RateBP: rate, Expected: euros(exp)})
		}
	}
	r.OutcomePerPlace = euros(perPlace)
	r.outcome = new(big.Rat).Mul(rat(m.Places), perPlace)
	r.evalPrice = new(big.Rat).Add(new(big.Rat).Mul(rat(m.Places), rat(b.FixedFeeCents)), r.outcome)
	r.EvaluationPrice = euros(r.evalPrice)
	share := rat(0)
	if r.evalPrice.Sign() > 0 {
		share = new(big.Rat).Quo(r.outcome, r.evalPrice)
	}
	r.OutcomeShare = decimal(new(big.Rat).Mul(share, rat(100)), 2)
	return r
}

func quality(m Model, b Bid, r *Result) {
	q := rat(0)
	for _, c := range m.Criteria {
		s := b.Scores[c.ID]
		p := frac(c.Weight*int64(s), MaxScore)
		q.Add(q, p)
		r.Quality = append(r.Quality, CriterionPoints{Criterion: c.ID, Weight: c.Weight, Score: s, Points: decimal(p, 2)})
	}
	r.quality = q
	r.QualityPoints = decimal(q, 2)
}
