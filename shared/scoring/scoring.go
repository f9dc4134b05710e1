// Package scoring computes the comparison of outcome-based bids exactly as
// the reference method prescribes (BRIEF section 3):
//
//	evaluation price = places × (fixed fee + Σ outcome price × expected rate)
//	price points     = price weight × lowest evaluation price / this bid's evaluation price
//	quality points   = Σ criterion weight × score / max score
//	total            = price points + quality points
//
// Money is integer cents and rates are basis points; every intermediate is
// an exact rational, so ranking and exclusion never depend on rounding.
// Figures are rounded half up only for display: euros to the cent, points
// and percentages to two decimals. Messages that compare two figures show
// their exact leading digits instead, as many as it takes to tell them
// apart. The package is pure: no clock, no I/O.
package scoring

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/big"
	"sort"
	"strings"
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

// CriterionPoints explains one quality criterion. Score is absent when the
// evaluators gave none (a bid they rejected unscored); Points is absent for
// an excluded bid.
type CriterionPoints struct {
	Criterion string  `json:"criterion"`
	Weight    int64   `json:"weight"`
	Score     *int    `json:"score,omitempty"`
	Points    *string `json:"points,omitempty"`
}

// Result is the explained outcome of one bid. An excluded bid has no
// points, total, rank or places: only its prices and the reasons.
type Result struct {
	Bid             string            `json:"bid"`
	FixedFee        string            `json:"fixedFeeEuros"`
	Lines           []Line            `json:"outcomeLines"`
	OutcomePerPlace string            `json:"expectedOutcomeFeesPerClientEuros"`
	EvaluationPrice string            `json:"evaluationPriceEuros"`
	OutcomeShare    string            `json:"outcomeSharePercent"`
	PricePoints     *string           `json:"pricePoints,omitempty"`
	Quality         []CriterionPoints `json:"qualityCriteria"`
	QualityPoints   *string           `json:"qualityPoints,omitempty"`
	Total           *string           `json:"totalPoints,omitempty"`
	Excluded        bool              `json:"excluded"`
	Reasons         []string          `json:"exclusionReasons,omitempty"`
	Rank            int               `json:"rank,omitempty"`
	Places          int64             `json:"awardedPlaces,omitempty"`
	// ContractValue is a winner's places at its evaluation price per
	// client, rounded half up to the cent.
	ContractValue string `json:"contractValueEuros,omitempty"`
	// TieBreak says how a tie with the bid ranked just above was settled,
	// or why two totals equal when rounded are ranked apart.
	TieBreak string `json:"tieBreak,omitempty"`

	evalPrice, outcome, quality, total *big.Rat
	lot                                string
	unscored                           bool
}

// LotMethod states exactly how the lot orders bids that tie on both total
// and quality points, so that anyone can redo the draw by hand.
const LotMethod = "The lot value of a tied bid is the SHA-256 digest of the UTF-8 bytes of `<seed>:<bid id>` " +
	"(the recorded lot seed, a colon, the bid id; nothing else, no newline), written as 64 lowercase hexadecimal digits; " +
	"the tied bids are ranked by lot value in ascending order, the lowest first."

// Draw records one lot: the bids that tied on total and quality points,
// in drawn order.
type Draw struct {
	Bids []LotValue `json:"bids"`
}

// UnmarshalJSON also reads a draw stored before lot values were recorded:
// a plain list of bid ids in drawn order.
func (d *Draw) UnmarshalJSON(b []byte) error {
	var ids []string
	if err := json.Unmarshal(b, &ids); err == nil {
		d.Bids = nil
		for _, id := range ids {
			d.Bids = append(d.Bids, LotValue{Bid: id})
		}
		return nil
	}
	type plain Draw // without this method
	return json.Unmarshal(b, (*plain)(d))
}

// LotValue is one tied bid's lot value.
type LotValue struct {
	Bid   string `json:"bid"`
	Value string `json:"lotValue,omitempty"` // absent only in draws stored before it was recorded
}

// Outcome is the whole comparison.
type Outcome struct {
	Results []Result `json:"results"` // ranked valid bids first, then excluded ones by bid id
	Lowest  string   `json:"lowestEvaluationPriceEuros,omitempty"`
	Winners []string `json:"winners"`
	// LotSeed feeds every lot; Lots lists each draw with the tied bids'
	// lot values (see LotMethod).
	LotSeed string `json:"lotSeed"`
	Lots    []Draw `json:"lots,omitempty"`
}

func rat(n int64) *big.Rat { return new(big.Rat).SetInt64(n) }

func frac(a, b int64) *big.Rat { return big.NewRat(a, b) }

func pow10(n int) *big.Int { return new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(n)), nil) }

// HalfUp rounds x half up (towards +∞ on a half) to a whole number.
func HalfUp(x *big.Rat) *big.Int {
	// floor(x + 1/2) = floor((2·num + den) / (2·den)); Int.Div floors for
	// a positive divisor.
	n := new(big.Int).Lsh(x.Num(), 1)
	n.Add(n, x.Denom())
	return n.Div(n, new(big.Int).Lsh(x.Denom(), 1))
}

// Cents rounds an amount in cents half up to a whole cent.
func Cents(x *big.Rat) int64 { return HalfUp(x).Int64() }

// scaled renders n / 10^places with exactly places decimals.
func scaled(n *big.Int, places int) string {
	digits := new(big.Int).Abs(n).String()
	if len(digits) <= places {
		digits = strings.Repeat("0", places-len(digits)+1) + digits
	}
	sign := ""
	if n.Sign() < 0 {
		sign = "-"
	}
	if places == 0 {
		return sign + digits
	}
	return sign + digits[:len(digits)-places] + "." + digits[len(digits)-places:]
}

// decimal rounds half up to places decimals.
func decimal(r *big.Rat, places int) string {
	return scaled(HalfUp(new(big.Rat).Mul(r, new(big.Rat).SetInt(pow10(places)))), places)
}

// euros renders cents as euros rounded half up to the cent.
func euros(cents *big.Rat) string { return decimal(new(big.Rat).Quo(cents, rat(100)), 2) }

func ptr[T any](v T) *T { return &v }

// cut renders x with its first places decimals, cut off rather than
// rounded: exact values lose their trailing zeros down to least decimals,
// others end in "…".
func cut(x *big.Rat, places, least int) string {
	n := new(big.Int).Mul(x.Num(), pow10(places))
	q, rem := new(big.Int).QuoRem(n, x.Denom(), new(big.Int))
	s := scaled(q, places)
	if rem.Sign() != 0 {
		return s + "…"
	}
	for ; places > least && strings.HasSuffix(s, "0"); places-- {
		s = strings.TrimSuffix(s, "0")
	}
	return strings.TrimSuffix(s, ".")
}

// apart renders two different values so that a comparison stated with
// the shown figures is true of the exact values: exactly when they have
// at most ten decimals (money always has), otherwise cut after the fewest
// decimals (at least least) whose digits already differ.
func apart(x, y *big.Rat, least int) (string, string) {
	for d := least; d < least+40; d++ {
		a, b := cut(x, d, least), cut(y, d, least)
		if strings.TrimSuffix(a, "…") != strings.TrimSuffix(b, "…") {
			if e := cut(x, 10, least); !strings.HasSuffix(e, "…") {
				a = e
			}
			if e := cut(y, 10, least); !strings.HasSuffix(e, "…") {
				b = e
			}
			return a, b
		}
	}
	// Closer than 40 decimals: the exact fractions.
	return x.RatString(), y.RatString()
}

// lotValue is the lot value LotMethod describes.
func lotValue(seed, bid string) string {
	sum := sha256.Sum256([]byte(seed + ":" + bid))
	return hex.EncodeToString(sum[:])
}

// Evaluate scores the bids of a competition. seed feeds the lot that
// settles exact ties; the same seed and bids always give the same result.
func Evaluate(m Model, bids []Bid, seed string) Outcome {
	out := Outcome{LotSeed: seed, Winners: []string{}}
	results := make([]Result, len(bids))
	hundred := rat(100)
	for i, b := range bids {
		results[i] = price(m, b)
		quality(m, b, &results[i])
		r := &results[i]
		if b.Rejected != "" {
			r.Reasons = append(r.Reasons, "rejected by the evaluators: "+b.Rejected)
		}
		if r.evalPrice.Sign() <= 0 {
			r.Reasons = append(r.Reasons, "the evaluation price is not above zero")
		}
		if ceiling := rat(m.CeilingCents); m.CeilingCents > 0 && r.evalPrice.Cmp(ceiling) > 0 {
			p, c := apart(new(big.Rat).Quo(r.evalPrice, hundred), new(big.Rat).Quo(ceiling, hundred), 2)
			r.Reasons = append(r.Reasons, fmt.Sprintf("evaluation price %s EUR exceeds the budget ceiling %s EUR", p, c))
		}
		// An unscored bid the evaluators rejected has no quality to compare.
		if least := rat(m.MinQualityPoints); m.MinQualityPoints > 0 && !(b.Rejected != "" && r.unscored) && r.quality.Cmp(least) < 0 {
			q, mq := apart(r.quality, least, 2)
			r.Reasons = append(r.Reasons, fmt.Sprintf("quality points %s are below the minimum %s", q, mq))
		}
		if m.MaxOutcomeShareBP > 0 && r.evalPrice.Sign() > 0 {
			share, allowed := new(big.Rat).Quo(r.outcome, r.evalPrice), frac(m.MaxOutcomeShareBP, BasisPoints)
			if share.Cmp(allowed) > 0 {
				s, a := apart(share.Mul(share, hundred), allowed.Mul(allowed, hundred), 2)
				r.Reasons = append(r.Reasons, fmt.Sprintf("outcome fees are %s %% of the total pay, more than the allowed %s %%", s, a))
			}
		}
		r.Excluded = len(r.Reasons) > 0
	}

	var lowest *big.Rat
	for _, r := range results {
		if !r.Excluded && (lowest == nil || r.evalPrice.Cmp(lowest) < 0) {
			lowest = r.evalPrice
		}
	}
	if lowest != nil {
		out.Lowest = euros(lowest)
	}
	for i := range results {
		r := &results[i]
		if r.Excluded {
			// No points at all: a figure here would read like a score.
			r.Quality = withoutPoints(r.Quality)
			continue
		}
		pp := new(big.Rat).Mul(rat(m.PriceWeight), new(big.Rat).Quo(lowest, r.evalPrice))
		r.total = new(big.Rat).Add(pp, r.quality)
		r.PricePoints, r.QualityPoints, r.Total = ptr(decimal(pp, 2)), ptr(decimal(r.quality, 2)), ptr(decimal(r.total, 2))
		r.lot = lotValue(seed, r.Bid)
	}

	// Rank: valid before excluded; higher total; then higher quality
	// points; then the lot. Excluded bids follow by bid id: their order
	// means nothing.
	sort.SliceStable(results, func(i, j int) bool {
		a, b := results[i], results[j]
		if a.Excluded != b.Excluded {
			return !a.Excluded
		}
		if a.Excluded {
			return a.Bid < b.Bid
		}
		if c := a.total.Cmp(b.total); c != 0 {
			return c > 0
		}
		if c := a.quality.Cmp(b.quality); c != 0 {
			return c > 0
		}
		return a.lot < b.lot
	})
	for i := range results {
		r := &results[i]
		if r.Excluded {
			break
		}
		r.Rank = i + 1
		if i == 0 {
			continue
		}
		prev := &results[i-1]
		switch {
		case prev.total.Cmp(r.total) != 0:
			if *prev.Total == *r.Total {
				a, b := apart(r.total, prev.total, 2)
				r.TieBreak = fmt.Sprintf("equal total points when rounded; ranked below %s on exact total points %s, less than %s", prev.Bid, a, b)
			}
		case prev.quality.Cmp(r.quality) != 0:
			a, b := apart(r.quality, prev.quality, 2)
			r.TieBreak = fmt.Sprintf("equal total points; ranked below %s on quality points %s, less than %s", prev.Bid, a, b)
		default:
			r.TieBreak = fmt.Sprintf("equal total and quality points; ranked below %s by lot: lot value %s is above %s", prev.Bid, r.lot, prev.lot)
			if n := len(out.Lots); n > 0 && out.Lots[n-1].Bids[len(out.Lots[n-1].Bids)-1].Bid == prev.Bid {
				out.Lots[n-1].Bids = append(out.Lots[n-1].Bids, LotValue{r.Bid, r.lot})
			} else {
				out.Lots = append(out.Lots, Draw{Bids: []LotValue{{prev.Bid, prev.lot}, {r.Bid, r.lot}}})
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
		w.ContractValue = euros(contractValue(w.evalPrice, w.Places, m.Places))
		out.Winners = append(out.Winners, w.Bid)
	}
	out.Results = results
	return out
}

// contractValue is exactly a winner's places at the price per client, in
// cents; it is rounded once, when shown.
func contractValue(evalPrice *big.Rat, places, of int64) *big.Rat {
	return new(big.Rat).Mul(evalPrice, frac(places, of))
}

// ContractValueCents is the contract value of a bid awarded places of the
// model's places, rounded half up to the cent: the figure Evaluate shows
// as a winner's contractValueEuros.
func ContractValueCents(m Model, b Bid, places int64) int64 {
	return Cents(contractValue(price(m, b).evalPrice, places, m.Places))
}

func withoutPoints(q []CriterionPoints) []CriterionPoints {
	for i := range q {
		q[i].Points = nil
	}
	return q
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
		cp := CriterionPoints{Criterion: c.ID, Weight: c.Weight, Points: ptr(decimal(p, 2))}
		if given, ok := b.Scores[c.ID]; ok {
			cp.Score = &given
		} else {
			r.unscored = true
		}
		r.Quality = append(r.Quality, cp)
	}
	r.quality = q
}
