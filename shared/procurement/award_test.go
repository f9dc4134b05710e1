package procurement

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/big"
	"math/rand/v2"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"
)

var (
	awardNow  = time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)
	evaluator = Actor{UserID: "officer-1", Role: RoleOfficer, Org: "buyer-1"}
)

// inEvaluation is a competition opened for evaluation, with the
// evaluator's conflict declaration made.
func inEvaluation(def Definition) *Competition {
	return &Competition{ID: "comp-1", DPSID: "dps-1", Buyer: "buyer-1", Definition: def, Status: CompEvaluation,
		Conflicts: []ConflictDeclaration{{By: evaluator.UserID, Statement: "No conflict.", At: awardNow}}}
}

func testDPS() *DPS {
	return &DPS{ID: "dps-1", Settings: Settings{StandstillDays: 14, AppealInstructions: "Appeal to the Market Court."}}
}

// submitted is a submitted bid scored on every criterion listed.
func submitted(provider string, fixed int64, outcome map[string]int64, scores map[string]int) Bid {
	b := Bid{CompetitionID: "comp-1", ProviderID: provider, Status: BidSubmitted,
		Bidder: Party{Name: provider, BusinessID: "0000000-0", HomeMunicipality: "Lahti"},
		Offer:  Offer{FixedFeeCents: fixed, OutcomePricesCents: outcome}, Scores: map[string]Score{}}
	for k, s := range scores {
		b.Scores[k] = Score{Score: s, Reason: "Assessed.", By: evaluator.UserID, At: awardNow}
	}
	return b
}

func award(t *testing.T, c *Competition, bids []Bid, seed string) []Contract {
	t.Helper()
	if err := c.Award(testDPS(), evaluator, bids, "The best bids.", seed, awardNow); err != nil {
		t.Fatal(err)
	}
	return c.Contracts(bids, []string{"Lahti"})
}

// Contract values are the exact value rounded half up to the cent, once:
// never truncated, never computed from an already rounded figure.
func TestContractValuesRoundHalfUp(t *testing.T) {
	def := Definition{Places: 3, Awards: 2, PriceWeight: 100, BudgetCeilingCents: 1 << 40,
		Milestones: []Milestone{{ID: MilestoneEmployed, Pricing: "tariff", TariffCents: 1, ExpectedRate: 5000}}}
	// Per client 1 000.00 EUR + 0.005 EUR: the winner of 1 place is worth
	// 1 000.005 → 1 000.01 EUR (truncation gave 1 000.00, and so did a third
	// of the rounded evaluation price 3 000.02).
	bids := []Bid{submitted("p", 100000, nil, nil), submitted("q", 100001, nil, nil)}
	got := map[string]int64{}
	for _, k := range award(t, inEvaluation(def), bids, "s") {
		got[k.ProviderID] = k.ValueCents
	}
	// p: 2 × 1 000.005 = 2 000.01 exactly; q: 1 000.015 → 1 000.02.
	if want := map[string]int64{"p": 200001, "q": 100002}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("contract values %v, want %v", got, want)
	}

	// Without any fraction in the price per client the value is exact; with
	// 21 places split 11 + 10 it is 11/21 of the evaluation price, which
	// truncation put a cent low.
	def = Definition{Places: 21, Awards: 2, PriceWeight: 100, BudgetCeilingCents: 1 << 40,
		Milestones: []Milestone{{ID: MilestoneEmployed, Pricing: "tariff", TariffCents: 333, ExpectedRate: 2500}}}
	c := inEvaluation(def)
	ks := award(t, c, []Bid{submitted("p", 99999, nil, nil), submitted("q", 100003, nil, nil)}, "s")
	// p: 11 × (999.99 + 0.8325) = 11 009.0475 → 11 009.05; q: 10 × 1 000.8625 = 10 008.625 → 10 008.63.
	if ks[0].ValueCents != 1100905 || ks[1].ValueCents != 1000863 {
		t.Errorf("contract values %d, %d; want 1100905, 1000863", ks[0].ValueCents, ks[1].ValueCents)
	}
	if c.Decision.Comparison.Results[0].ContractValue != "11009.05" {
		t.Errorf("the decision shows %q, not the contract's value", c.Decision.Comparison.Results[0].ContractValue)
	}
	if !strings.Contains(c.Decision.Method, "rounded half up to the cent") {
		t.Errorf("the method does not state the rounding: %s", c.Decision.Method)
	}
	// A decision recorded without contract values gets the same values.
	for i := range c.Decision.Comparison.Results {
		c.Decision.Comparison.Results[i].ContractValue = ""
	}
	if again := c.Contracts([]Bid{submitted("p", 99999, nil, nil), submitted("q", 100003, nil, nil)}, nil); again[0].ValueCents != 1100905 || again[1].ValueCents != 1000863 {
		t.Errorf("recomputed contract values %d, %d", again[0].ValueCents, again[1].ValueCents)
	}
}

// The lot can be redone by hand from the decision alone: the hash input is
// read from the method text, the seed and lot values from the JSON.
func TestDecisionLotCanBeRedoneByHand(t *testing.T) {
	def := Definition{Places: 10, Awards: 1, PriceWeight: 60, BudgetCeilingCents: 1 << 40,
		QualityCriteria: []QualityCriterion{{ID: "plan", Weight: 40}},
		Milestones:      []Milestone{{ID: MilestoneEmployed, Pricing: "offered", ExpectedRate: 2500}}}
	same := func(p string) Bid {
		return submitted(p, 300000, map[string]int64{MilestoneEmployed: 120000}, map[string]int{"plan": 3})
	}
	for _, seed := range []string{"3f9a0c", "seed-2", "e5c1d2b7a4f60899"} {
		c := inEvaluation(def)
		award(t, c, []Bid{same("prov-a"), same("prov-b"), same("prov-c"), submitted("prov-d", 400000, nil, map[string]int{"plan": 1})}, seed)
		raw, err := json.Marshal(c.Decision)
		if err != nil {
			t.Fatal(err)
		}
		var d struct {
			Method     string `json:"method"`
			Comparison struct {
				LotSeed string `json:"lotSeed"`
				Winners []string
				Results []struct {
					Bid   string `json:"bid"`
					Total string `json:"totalPoints"`
				} `json:"results"`
				Lots []struct {
					Bids []struct {
						Bid   string `json:"bid"`
						Value string `json:"lotValue"`
					} `json:"bids"`
				} `json:"lots"`
			} `json:"comparison"`
		}
		if err := json.Unmarshal(raw, &d); err != nil {
			t.Fatal(err)
		}
		// Read the method as a person would.
		m := regexp.MustCompile("SHA-256 digest of the UTF-8 bytes of `([^`]+)`").FindStringSubmatch(d.Method)
		if m == nil || !strings.Contains(d.Method, "64 lowercase hexadecimal digits") || !strings.Contains(d.Method, "ascending order, the lowest first") {
			t.Fatalf("the method does not state the lot exactly: %s", d.Method)
		}
		template := m[1]
		if len(d.Comparison.Lots) != 1 || d.Comparison.LotSeed != seed {
			t.Fatalf("seed %q lots %+v, want one draw with seed %q", d.Comparison.LotSeed, d.Comparison.Lots, seed)
		}
		type drawn struct{ bid, value string }
		var redone []drawn
		for _, lv := range d.Comparison.Lots[0].Bids {
			in := strings.NewReplacer("<seed>", d.Comparison.LotSeed, "<bid id>", lv.Bid).Replace(template)
			sum := sha256.Sum256([]byte(in))
			v := hex.EncodeToString(sum[:])
			if v != lv.Value {
				t.Errorf("seed %s bid %s: the method gives lot value %s, the decision records %s", seed, lv.Bid, v, lv.Value)
			}
			redone = append(redone, drawn{lv.Bid, v})
		}
		sort.Slice(redone, func(i, j int) bool { return redone[i].value < redone[j].value })
		var tied []string
		for _, r := range d.Comparison.Results {
			if r.Total == d.Comparison.Results[0].Total {
				tied = append(tied, r.Bid)
			}
		}
		var order []string
		for _, r := range redone {
			order = append(order, r.bid)
		}
		if !slices.Equal(order, tied) || len(tied) != 3 || d.Comparison.Winners[0] != redone[0].bid {
			t.Errorf("seed %s: redone draw %v, decision ranks %v and winners %v", seed, order, tied, d.Comparison.Winners)
		}
	}
}

// TestIndependentRecomputation scores random but reproducible competitions
// with a separate, plain implementation of BRIEF section 3 in exact
// rationals and checks every figure the decision shows and every contract.
func TestIndependentRecomputation(t *testing.T) {
	rng := rand.New(rand.NewPCG(2026, 11))
	lots := 0
	for n := range 300 {
		def, bids := randomCompetition(rng)
		seed := fmt.Sprint("seed-", n)
		c := inEvaluation(def)
		contracts := award(t, c, bids, seed)
		want := recompute(def, bids, seed)
		lots += want.lots
		checkDecision(t, n, c.Decision, contracts, want)
	}
	if lots == 0 {
		t.Error("no competition had an exact tie; the lot went untested")
	}
}

func randomCompetition(rng *rand.Rand) (Definition, []Bid) {
	def := Definition{Places: 1 + rng.IntN(200), Awards: 1 + rng.IntN(3)}
	def.Milestones = []Milestone{{ID: MilestoneEmployed}, {ID: MilestoneVocational}}
	if rng.IntN(2) == 0 {
		def.Milestones = append(def.Milestones, Milestone{ID: "retained-6m"})
	}
	for i := range def.Milestones {
		m := &def.Milestones[i]
		m.ExpectedRate = Rate(rng.IntN(4001))
		if m.Pricing = "tariff"; rng.IntN(2) == 0 {
			m.Pricing = "offered"
		} else {
			m.TariffCents = 1 + rng.Int64N(200000)
		}
	}
	left := int(RateOne)
	for i := range rng.IntN(3) {
		share := 1 + rng.IntN(left/2)
		left -= share
		s := Segment{ID: fmt.Sprint("seg-", i), PlacesShare: Rate(share), ExpectedRates: map[string]Rate{}, TariffsCents: map[string]int64{}}
		for _, m := range def.Milestones {
			if rng.IntN(2) == 0 {
				s.ExpectedRates[m.ID] = Rate(rng.IntN(4001))
			}
			if rng.IntN(2) == 0 {
				// Also for offered milestones, where it must not apply.
				s.TariffsCents[m.ID] = 1 + rng.Int64N(300000)
			}
		}
		def.Segments = append(def.Segments, s)
	}
	def.PriceWeight = 20 + rng.IntN(61)
	rest := 100 - def.PriceWeight
	for i := range 1 + rng.IntN(3) {
		w := rest
		if i < 2 && rest > 1 {
			w = 1 + rng.IntN(rest-1)
		}
		def.QualityCriteria = append(def.QualityCriteria, QualityCriterion{ID: fmt.Sprint("q", i), Weight: w})
		if rest -= w; rest == 0 {
			break
		}
	}
	if rest > 0 {
		def.PriceWeight += rest
	}
	if rng.IntN(3) > 0 {
		def.MaxOutcomeShare = Rate(1000 + rng.IntN(6000))
	}
	if rng.IntN(3) == 0 {
		def.MinQualityPoints = rng.IntN(30)
	}
	offer := func() (int64, map[string]int64, map[string]int) {
		out := map[string]int64{}
		for _, m := range def.Milestones {
			if m.Pricing == "offered" {
				out[m.ID] = rng.Int64N(400000)
			}
		}
		scores := map[string]int{}
		for _, q := range def.QualityCriteria {
			scores[q.ID] = rng.IntN(6)
		}
		return 1 + rng.Int64N(500000), out, scores
	}
	var bids []Bid
	for i := range 2 + rng.IntN(7) {
		p := fmt.Sprint("prov-", i)
		if i > 0 && rng.IntN(4) == 0 {
			// An exact copy of an earlier offer: a tie for the lot.
			prev := bids[rng.IntN(len(bids))]
			b := prev
			b.ProviderID, b.Bidder.Name, b.Rejection = p, p, nil
			bids = append(bids, b)
			continue
		}
		fixed, out, scores := offer()
		b := submitted(p, fixed, out, scores)
		if rng.IntN(10) == 0 {
			b.Rejection = &Note{Reason: "the service plan is missing", By: evaluator.UserID, At: awardNow}
		}
		bids = append(bids, b)
	}
	if rng.IntN(5) == 0 {
		bids[0].Status = BidWithdrawn
	}
	// A ceiling near a typical price, so that some bids exceed it.
	def.BudgetCeilingCents = int64(def.Places) * (150000 + rng.Int64N(500000))
	return def, bids
}

// recomputed is what the plain implementation expects of one competition.
type recomputed struct {
	bids    map[string]*expected
	ranked  []string // valid bids, best first
	winners []string
	lowest  *big.Rat
	lots    int
}

type expected struct {
	eval, outcome, pp, qp, total *big.Rat
	share                        *big.Rat // percent
	reasons                      int
	rank                         int
	places                       int64
	valueCents                   int64
}

// recompute follows BRIEF section 3 literally, sharing no code with the
// scoring package.
func recompute(def Definition, bids []Bid, seed string) recomputed {
	one := func(n, d int64) *big.Rat { return big.NewRat(n, d) }
	bp := func(n int64) *big.Rat { return big.NewRat(n, 10000) }
	out := recomputed{bids: map[string]*expected{}}
	var valid []string
	for _, b := range bids {
		if b.Status != BidSubmitted {
			continue
		}
		e := &expected{}
		out.bids[b.ProviderID] = e
		// Expected outcome fees per client, segment by segment.
		perClient := new(big.Rat)
		base := int64(RateOne)
		for _, s := range def.Segments {
			base -= int64(s.PlacesShare)
		}
		for _, m := range def.Milestones {
			price := m.TariffCents
			if m.Pricing == "offered" {
				price = b.OutcomePricesCents[m.ID]
			}
			perClient.Add(perClient, new(big.Rat).Mul(one(price, 1), new(big.Rat).Mul(bp(int64(m.ExpectedRate)), bp(base))))
			for _, s := range def.Segments {
				p, r := price, int64(m.ExpectedRate)
				if v, ok := s.TariffsCents[m.ID]; ok && m.Pricing == "tariff" {
					p = v
				}
				if v, ok := s.ExpectedRates[m.ID]; ok {
					r = int64(v)
				}
				perClient.Add(perClient, new(big.Rat).Mul(one(p, 1), new(big.Rat).Mul(bp(r), bp(int64(s.PlacesShare)))))
			}
		}
		places := one(int64(def.Places), 1)
		e.outcome = new(big.Rat).Mul(places, perClient)
		e.eval = new(big.Rat).Mul(places, new(big.Rat).Add(one(b.FixedFeeCents, 1), perClient))
		e.share = new(big.Rat).Mul(new(big.Rat).Quo(e.outcome, e.eval), one(100, 1))
		e.qp = new(big.Rat)
		for _, q := range def.QualityCriteria {
			e.qp.Add(e.qp, one(int64(q.Weight*b.Scores[q.ID].Score), 5))
		}
		if b.Rejection != nil {
			e.reasons++
		}
		if e.eval.Cmp(one(def.BudgetCeilingCents, 1)) > 0 {
			e.reasons++
		}
		if def.MinQualityPoints > 0 && e.qp.Cmp(one(int64(def.MinQualityPoints), 1)) < 0 {
			e.reasons++
		}
		if def.MaxOutcomeShare > 0 && new(big.Rat).Quo(e.outcome, e.eval).Cmp(bp(int64(def.MaxOutcomeShare))) > 0 {
			e.reasons++
		}
		if e.reasons == 0 {
			valid = append(valid, b.ProviderID)
		}
	}
	for _, id := range valid {
		if out.lowest == nil || out.bids[id].eval.Cmp(out.lowest) < 0 {
			out.lowest = out.bids[id].eval
		}
	}
	lot := func(id string) string {
		sum := sha256.Sum256([]byte(seed + ":" + id))
		return hex.EncodeToString(sum[:])
	}
	for _, id := range valid {
		e := out.bids[id]
		e.pp = new(big.Rat).Mul(one(int64(def.PriceWeight), 1), new(big.Rat).Quo(out.lowest, e.eval))
		e.total = new(big.Rat).Add(e.pp, e.qp)
	}
	sort.Slice(valid, func(i, j int) bool {
		a, b := out.bids[valid[i]], out.bids[valid[j]]
		if c := a.total.Cmp(b.total); c != 0 {
			return c > 0
		}
		if c := a.qp.Cmp(b.qp); c != 0 {
			return c > 0
		}
		return lot(valid[i]) < lot(valid[j])
	})
	for i, id := range valid {
		out.bids[id].rank = i + 1
		if i > 0 && out.bids[id].total.Cmp(out.bids[valid[i-1]].total) == 0 && out.bids[id].qp.Cmp(out.bids[valid[i-1]].qp) == 0 {
			out.lots++
		}
	}
	out.ranked = valid
	n := min(def.Awards, len(valid))
	for i := range n {
		e := out.bids[valid[i]]
		e.places = int64(def.Places / n)
		if i < def.Places%n {
			e.places++
		}
		// Places × price per client, rounded half up: floor(x + 1/2).
		v := new(big.Rat).Add(new(big.Rat).Mul(one(e.places, 1), new(big.Rat).Quo(e.eval, one(int64(def.Places), 1))), one(1, 2))
		e.valueCents = new(big.Int).Div(v.Num(), v.Denom()).Int64()
		out.winners = append(out.winners, valid[i])
	}
	return out
}

// shown checks that a figure is the exact value rounded half up to the
// given decimals: exact − ½ unit < shown ≤ exact + ½ unit, with exactly
// that many decimals.
func shown(t *testing.T, what, s string, exact *big.Rat, decimals int) {
	t.Helper()
	if i := strings.IndexByte(s, '.'); i < 0 || len(s)-i-1 != decimals {
		t.Errorf("%s: %q does not have %d decimals", what, s, decimals)
		return
	}
	got, ok := new(big.Rat).SetString(s)
	if !ok {
		t.Errorf("%s: %q is not a number", what, s)
		return
	}
	half := new(big.Rat).SetFrac(big.NewInt(1), new(big.Int).Mul(big.NewInt(2), new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(decimals)), nil)))
	diff := new(big.Rat).Sub(got, exact)
	if diff.Cmp(half) > 0 || diff.Cmp(new(big.Rat).Neg(half)) <= 0 {
		t.Errorf("%s: shown %s, exact %s", what, s, exact.FloatString(decimals+6))
	}
}

func checkDecision(t *testing.T, n int, d *AwardDecision, contracts []Contract, want recomputed) {
	t.Helper()
	cents := big.NewRat(1, 100)
	euros := func(x *big.Rat) *big.Rat { return new(big.Rat).Mul(x, cents) }
	o := d.Comparison
	if len(o.Results) != len(want.bids) || !slices.Equal(o.Winners, want.winners) {
		t.Errorf("competition %d: %d results, winners %v; want %d, %v", n, len(o.Results), o.Winners, len(want.bids), want.winners)
		return
	}
	if want.lowest != nil {
		shown(t, fmt.Sprint(n, " lowest"), o.Lowest, euros(want.lowest), 2)
	}
	for i, r := range o.Results {
		e, what := want.bids[r.Bid], fmt.Sprintf("competition %d bid %s", n, r.Bid)
		shown(t, what+" evaluation price", r.EvaluationPrice, euros(e.eval), 2)
		shown(t, what+" outcome share", r.OutcomeShare, e.share, 2)
		if r.Excluded != (e.reasons > 0) || len(r.Reasons) != e.reasons {
			t.Errorf("%s: excluded %v reasons %q, want %d reasons", what, r.Excluded, r.Reasons, e.reasons)
			continue
		}
		if r.Excluded {
			if r.PricePoints != nil || r.QualityPoints != nil || r.Total != nil || r.Rank != 0 || r.Places != 0 || r.ContractValue != "" {
				t.Errorf("%s: excluded but shows points, rank or places: %+v", what, r)
			}
			continue
		}
		if i >= len(want.ranked) || want.ranked[i] != r.Bid || r.Rank != e.rank {
			t.Errorf("%s: at %d with rank %d, want rank %d of %v", what, i, r.Rank, e.rank, want.ranked)
		}
		if r.PricePoints == nil || r.QualityPoints == nil || r.Total == nil {
			t.Errorf("%s: a valid bid without points", what)
			continue
		}
		shown(t, what+" price points", *r.PricePoints, e.pp, 2)
		shown(t, what+" quality points", *r.QualityPoints, e.qp, 2)
		shown(t, what+" total", *r.Total, e.total, 2)
		if r.Places != e.places {
			t.Errorf("%s: %d places, want %d", what, r.Places, e.places)
		}
		if e.places > 0 {
			shown(t, what+" contract value", r.ContractValue, new(big.Rat).SetFrac64(e.valueCents, 100), 2)
		}
	}
	if len(contracts) != len(want.winners) {
		t.Errorf("competition %d: %d contracts, want %d", n, len(contracts), len(want.winners))
		return
	}
	for i, k := range contracts {
		if e := want.bids[k.ProviderID]; k.ProviderID != want.winners[i] || k.ValueCents != e.valueCents || k.Places != e.places {
			t.Errorf("competition %d contract %s: %d places, %d cents; want %s, %d places, %d cents", n, k.ProviderID, k.Places, k.ValueCents, want.winners[i], e.places, e.valueCents)
		}
	}
}
