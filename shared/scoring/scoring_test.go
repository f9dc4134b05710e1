package scoring

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/big"
	"reflect"
	"strings"
	"testing"
)

// model is the worked example: 20 places; employment offered by bidders at
// an expected 25 %; vocational studies at the buyer's 800 EUR tariff and
// 15 %; price weight 40; quality 30 + 20 + 10.
func model() Model {
	return Model{
		Places: 20,
		Milestones: []Milestone{
			{ID: "employed", Offered: true, RateBP: 2500},
			{ID: "vocational", TariffCents: 80000, RateBP: 1500},
		},
		PriceWeight:       40,
		Criteria:          []Criterion{{"a", 30}, {"b", 20}, {"c", 10}},
		CeilingCents:      10_000_000,
		MaxOutcomeShareBP: 5000,
		Awards:            1,
	}
}

func bid(id string, fixed, employed int64, a, b, c int) Bid {
	return Bid{ID: id, FixedFeeCents: fixed, OutcomeCents: map[string]int64{"employed": employed}, Scores: map[string]int{"a": a, "b": b, "c": c}}
}

// s shows an optional figure; "-" when absent.
func s(p *string) string {
	if p == nil {
		return "-"
	}
	return *p
}

func find(o Outcome, id string) Result {
	for _, r := range o.Results {
		if r.Bid == id {
			return r
		}
	}
	panic("no result " + id)
}

func TestWorkedExample(t *testing.T) {
	bids := []Bid{
		bid("x", 300000, 120000, 4, 3, 5), // 20 × (3000 + 1200×0.25 + 800×0.15) = 68 400.00
		bid("y", 280000, 240000, 5, 5, 2), // 20 × (2800 + 600 + 120) = 70 400.00
		bid("z", 500000, 50000, 5, 5, 5),  // 20 × (5000 + 125 + 120) = 104 900.00 > ceiling
		bid("w", 50000, 500000, 5, 5, 5),  // outcome 20 × 1370 of 37 400.00 = 73.26 % > 50 %
	}
	o := Evaluate(model(), bids, "seed")
	tests := []struct {
		id                         string
		eval, share, pp, qp, total string
		rank                       int
		excluded                   bool
		places                     int64
	}{
		{"y", "70400.00", "20.45", "38.86", "54.00", "92.86", 1, false, 20},
		{"x", "68400.00", "12.28", "40.00", "46.00", "86.00", 2, false, 0},
		{"z", "104900.00", "4.67", "-", "-", "-", 0, true, 0},
		{"w", "37400.00", "73.26", "-", "-", "-", 0, true, 0},
	}
	for _, tt := range tests {
		r := find(o, tt.id)
		got := fmt.Sprint(r.EvaluationPrice, r.OutcomeShare, s(r.PricePoints), s(r.QualityPoints), s(r.Total), r.Rank, r.Excluded, r.Places)
		want := fmt.Sprint(tt.eval, tt.share, tt.pp, tt.qp, tt.total, tt.rank, tt.excluded, tt.places)
		if got != want {
			t.Errorf("bid %s: got %s, want %s", tt.id, got, want)
		}
	}
	if o.Lowest != "68400.00" || !reflect.DeepEqual(o.Winners, []string{"y"}) {
		t.Errorf("lowest %s winners %v, want 68400.00 [y]", o.Lowest, o.Winners)
	}
	if r := find(o, "x"); r.Lines[0].Expected != "300.00" || r.Lines[1].Expected != "120.00" || r.OutcomePerPlace != "420.00" {
		t.Errorf("bid x lines: %+v, per place %s", r.Lines, r.OutcomePerPlace)
	}
	if got := find(o, "z").Reasons; !reflect.DeepEqual(got, []string{"evaluation price 104900.00 EUR exceeds the budget ceiling 100000.00 EUR"}) {
		t.Errorf("exclusion reasons of z: %q", got)
	}
	// 27 400 / 37 400 = 73.2620…: the digits shown are cut, not rounded.
	if got := find(o, "w").Reasons; !reflect.DeepEqual(got, []string{"outcome fees are 73.26… % of the total pay, more than the allowed 50.00 %"}) {
		t.Errorf("exclusion reasons of w: %q", got)
	}
	if find(o, "y").ContractValue != "70400.00" || find(o, "x").ContractValue != "" {
		t.Errorf("contract values: y %q, x %q", find(o, "y").ContractValue, find(o, "x").ContractValue)
	}
}

func TestSingleBid(t *testing.T) {
	o := Evaluate(model(), []Bid{bid("only", 300000, 120000, 1, 1, 1)}, "s")
	r := o.Results[0]
	if s(r.PricePoints) != "40.00" || s(r.QualityPoints) != "12.00" || r.Rank != 1 || r.Places != 20 {
		t.Errorf("single bid: %+v", r)
	}
}

func TestAllBidsExcluded(t *testing.T) {
	m := model()
	m.MinQualityPoints = 50
	rejected := bid("r", 300000, 120000, 5, 5, 5)
	rejected.Rejected = "the bid omits the service plan"
	o := Evaluate(m, []Bid{bid("low", 300000, 120000, 1, 1, 1), rejected}, "s")
	if len(o.Winners) != 0 || o.Lowest != "" {
		t.Errorf("got winners %v lowest %q, want none", o.Winners, o.Lowest)
	}
	for _, r := range o.Results {
		if !r.Excluded || r.Rank != 0 || r.PricePoints != nil || r.Total != nil {
			t.Errorf("bid %s: excluded %v rank %d price points %s total %s", r.Bid, r.Excluded, r.Rank, s(r.PricePoints), s(r.Total))
		}
	}
	if got := find(o, "low").Reasons[0]; got != "quality points 12.00 are below the minimum 50.00" {
		t.Errorf("reason = %q", got)
	}
}

func TestTieGoesToHigherQuality(t *testing.T) {
	m := Model{Places: 10, PriceWeight: 40, Criteria: []Criterion{{"a", 50}, {"b", 10}}, Awards: 1}
	p := Bid{ID: "p", FixedFeeCents: 300000, Scores: map[string]int{"a": 4}} // 40 + 40 = 80
	q := Bid{ID: "q", FixedFeeCents: 400000, Scores: map[string]int{"a": 5}} // 30 + 50 = 80
	o := Evaluate(m, []Bid{p, q}, "s")
	if o.Results[0].Bid != "q" || s(o.Results[0].Total) != "80.00" || s(o.Results[1].Total) != "80.00" || len(o.Lots) != 0 {
		t.Errorf("got order %s, %s (lots %v), want q first on quality", o.Results[0].Bid, o.Results[1].Bid, o.Lots)
	}
}

func TestExactTieIsDrawnReproducibly(t *testing.T) {
	bids := []Bid{bid("a", 300000, 120000, 3, 3, 3), bid("b", 300000, 120000, 3, 3, 3), bid("c", 300000, 120000, 3, 3, 3)}
	first := Evaluate(model(), bids, "seed-1")
	again := Evaluate(model(), []Bid{bids[2], bids[0], bids[1]}, "seed-1")
	if !reflect.DeepEqual(first.Winners, again.Winners) || !reflect.DeepEqual(first.Lots, again.Lots) {
		t.Errorf("same seed gave %v/%v and %v/%v", first.Winners, first.Lots, again.Winners, again.Lots)
	}
	if len(first.Lots) != 1 || len(first.Lots[0].Bids) != 3 || first.LotSeed != "seed-1" {
		t.Errorf("lot record: seed %q lots %v, want one draw of 3", first.LotSeed, first.Lots)
	}
	differs := false
	for i := range 20 {
		o := Evaluate(model(), bids, fmt.Sprint("seed-", i))
		differs = differs || o.Winners[0] != first.Winners[0]
	}
	if !differs {
		t.Errorf("20 different seeds all drew %s first; the lot is not a lot", first.Winners[0])
	}
}

func TestRoundingIsExactUntilDisplay(t *testing.T) {
	m := Model{Places: 3, PriceWeight: 100, Milestones: []Milestone{{ID: "m", TariffCents: 1, RateBP: 5000}}, Awards: 1}
	// Per client: 0.01 + 0.005 EUR; three clients: 0.045 EUR, shown 0.05 (half away from zero).
	o := Evaluate(m, []Bid{{ID: "a", FixedFeeCents: 1}, {ID: "b", FixedFeeCents: 2}}, "s")
	if r := find(o, "a"); r.EvaluationPrice != "0.05" || s(r.PricePoints) != "100.00" {
		t.Errorf("a: %s %s", r.EvaluationPrice, s(r.PricePoints))
	}
	// b: 3 × 0.025 = 0.075; 100 × 0.045 / 0.075 = 60.
	if r := find(o, "b"); r.EvaluationPrice != "0.08" || s(r.PricePoints) != "60.00" {
		t.Errorf("b: %s %s", r.EvaluationPrice, s(r.PricePoints))
	}
}

func TestTopNSharePlaces(t *testing.T) {
	m := model()
	m.Places, m.Awards = 21, 2
	o := Evaluate(m, []Bid{bid("x", 300000, 120000, 4, 3, 5), bid("y", 280000, 240000, 5, 5, 2), bid("v", 310000, 100000, 1, 1, 1)}, "s")
	if !reflect.DeepEqual(o.Winners, []string{"y", "x"}) || find(o, "y").Places != 11 || find(o, "x").Places != 10 || find(o, "v").Places != 0 {
		t.Errorf("winners %v places y=%d x=%d v=%d, want [y x] 11 10 0", o.Winners, find(o, "y").Places, find(o, "x").Places, find(o, "v").Places)
	}
}

func TestSegmentsRewardHarderClients(t *testing.T) {
	m := model()
	// 40 % of places are long-term unemployed: lower expected employment
	// rate (10 %) and a higher vocational tariff (1 200 EUR).
	m.Segments = []Segment{{ID: "long-term", ShareBP: 4000, RateBP: map[string]int64{"employed": 1000}, TariffCent: map[string]int64{"vocational": 120000}}}
	o := Evaluate(m, []Bid{bid("x", 300000, 120000, 4, 3, 5)}, "s")
	r := o.Results[0]
	// base 60 %: 1200×0.25×0.6 = 180, 800×0.15×0.6 = 72; long-term 40 %:
	// 1200×0.10×0.4 = 48, 1200×0.15×0.4 = 72; per client 372; × 20 clients + fees.
	if r.OutcomePerPlace != "372.00" || r.EvaluationPrice != "67440.00" || len(r.Lines) != 4 {
		t.Errorf("segments: per client %s, evaluation %s, %d lines", r.OutcomePerPlace, r.EvaluationPrice, len(r.Lines))
	}
}

func TestHalfUp(t *testing.T) {
	for _, tt := range []struct {
		num, den int64
		places   int
		want     string
	}{
		{5, 1000, 2, "0.01"},       // a half goes up
		{4999, 1000000, 2, "0.00"}, // just below a half goes down
		{2675, 1000, 2, "2.68"},    // 2.675 is exact here, unlike a float64
		{-5, 1000, 2, "0.00"},      // half up, not away from zero
		{-15, 1000, 2, "-0.01"},    // -0.015 goes up to -0.01
		{-16, 1000, 2, "-0.02"},    // beyond a half goes down
		{1, 3, 0, "0"},             // no decimals
		{200000001, 2, 0, "100000001"},
	} {
		if got := decimal(big.NewRat(tt.num, tt.den), tt.places); got != tt.want {
			t.Errorf("decimal(%d/%d, %d) = %s, want %s", tt.num, tt.den, tt.places, got, tt.want)
		}
	}
	if got := Cents(big.NewRat(1234565, 10)); got != 123457 {
		t.Errorf("Cents(123456.5) = %d, want 123457", got)
	}
}

// Exclusions compare exact values, and their messages show as many exact
// digits as it takes for the stated comparison to be true.
func TestExclusionMessagesAreExact(t *testing.T) {
	share := func(maxBP, fixed, offered int64) []string {
		m := Model{Places: 1, PriceWeight: 100, Milestones: []Milestone{{ID: "m", Offered: true, RateBP: BasisPoints}}, MaxOutcomeShareBP: maxBP, Awards: 1}
		return Evaluate(m, []Bid{{ID: "a", FixedFeeCents: fixed, OutcomeCents: map[string]int64{"m": offered}}}, "s").Results[0].Reasons
	}
	for _, tt := range []struct {
		got  []string
		want string
	}{
		// 20 001 / 40 000 = 50.0025 %: two decimals would read "50.00 % is more than 50.00 %".
		{share(5000, 19999, 20001), "outcome fees are 50.0025 % of the total pay, more than the allowed 50.00 %"},
		// 1/3 = 33.333… %: cut, never rounded, and marked so.
		{share(3333, 2, 1), "outcome fees are 33.333… % of the total pay, more than the allowed 33.33 %"},
		// Exactly at the limit is allowed.
		{share(5000, 20000, 20000), ""},
	} {
		if got := strings.Join(tt.got, "; "); got != tt.want {
			t.Errorf("got %q, want %q", got, tt.want)
		}
	}
	// 100 000 EUR + 0.1 cent: above the ceiling by a tenth of a cent.
	m := Model{Places: 1, PriceWeight: 100, Milestones: []Milestone{{ID: "m", TariffCents: 1, RateBP: 1000}}, CeilingCents: 10_000_000, Awards: 1}
	o := Evaluate(m, []Bid{{ID: "a", FixedFeeCents: 10_000_000}, {ID: "b", FixedFeeCents: 9_999_999}}, "s")
	if got := find(o, "a").Reasons; !reflect.DeepEqual(got, []string{"evaluation price 100000.001 EUR exceeds the budget ceiling 100000.00 EUR"}) {
		t.Errorf("ceiling: %q", got)
	}
	if find(o, "b").Excluded {
		t.Errorf("99 999.991 EUR is within the ceiling: %q", find(o, "b").Reasons)
	}
	m = Model{Places: 1, PriceWeight: 40, Criteria: []Criterion{{"a", 32}, {"b", 28}}, MinQualityPoints: 13, Awards: 1}
	o = Evaluate(m, []Bid{{ID: "a", FixedFeeCents: 1, Scores: map[string]int{"a": 2}}}, "s") // 12.8 points
	if got := o.Results[0].Reasons; !reflect.DeepEqual(got, []string{"quality points 12.80 are below the minimum 13.00"}) {
		t.Errorf("quality: %q", got)
	}
}

// Excluded bids carry no points, no total, no rank and no places, in Go
// and in JSON; an unscored criterion has no score.
func TestExcludedBidsHaveNoPoints(t *testing.T) {
	m := model()
	m.MinQualityPoints = 20
	rejected := Bid{ID: "r", FixedFeeCents: 300000, OutcomeCents: map[string]int64{"employed": 120000}, Rejected: "incomplete"}
	bids := []Bid{bid("low", 300000, 120000, 1, 1, 1), bid("ok", 300000, 120000, 4, 4, 4), rejected, bid("dear", 900000, 0, 5, 5, 5)}
	o := Evaluate(m, bids, "s")
	again := Evaluate(m, []Bid{bids[3], bids[2], bids[1], bids[0]}, "s")
	var order, againOrder []string
	for i := range o.Results {
		order, againOrder = append(order, o.Results[i].Bid), append(againOrder, again.Results[i].Bid)
	}
	if want := []string{"ok", "dear", "low", "r"}; !reflect.DeepEqual(order, want) || !reflect.DeepEqual(againOrder, want) {
		t.Errorf("order %v and %v, want %v (excluded by bid id)", order, againOrder, want)
	}
	raw, err := json.Marshal(o)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Results []map[string]any `json:"results"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	for _, r := range doc.Results {
		if r["bid"] == "ok" {
			if r["totalPoints"] != "88.00" || r["rank"] != 1.0 || r["pricePoints"] != "40.00" {
				t.Errorf("valid bid: %v", r)
			}
			continue
		}
		for _, k := range []string{"pricePoints", "qualityPoints", "totalPoints", "rank", "awardedPlaces", "contractValueEuros", "tieBreak"} {
			if v, ok := r[k]; ok {
				t.Errorf("excluded bid %s has %s = %v", r["bid"], k, v)
			}
		}
		if reasons, _ := r["exclusionReasons"].([]any); r["excluded"] != true || len(reasons) != 1 {
			t.Errorf("excluded bid %s: excluded %v reasons %v", r["bid"], r["excluded"], r["exclusionReasons"])
		}
		for _, c := range r["qualityCriteria"].([]any) {
			c := c.(map[string]any)
			if _, ok := c["points"]; ok {
				t.Errorf("excluded bid %s has criterion points %v", r["bid"], c)
			}
			if _, ok := c["score"]; ok == (r["bid"] == "r") {
				t.Errorf("bid %s criterion %v: a score must show exactly when given", r["bid"], c)
			}
		}
	}
}

// Totals equal when rounded but not exactly are ranked on the exact
// values, and the decision says so.
func TestRoundedEqualTotalsAreExplained(t *testing.T) {
	m := Model{Places: 1, PriceWeight: 100, Awards: 1}
	o := Evaluate(m, []Bid{{ID: "b", FixedFeeCents: 100001}, {ID: "a", FixedFeeCents: 100000}}, "s")
	a, b := o.Results[0], o.Results[1]
	if a.Bid != "a" || s(a.Total) != s(b.Total) || a.TieBreak != "" {
		t.Fatalf("got %s %s then %s %s", a.Bid, s(a.Total), b.Bid, s(b.Total))
	}
	if want := "equal total points when rounded; ranked below a on exact total points 99.99…, less than 100.00"; b.TieBreak != want {
		t.Errorf("tie break %q, want %q", b.TieBreak, want)
	}
}

// The draw is recorded: each tied bid's lot value is the hash LotMethod
// states, and the drawn order is by lot value.
func TestLotIsRecorded(t *testing.T) {
	bids := []Bid{bid("a", 300000, 120000, 3, 3, 3), bid("b", 300000, 120000, 3, 3, 3), bid("c", 300000, 120000, 3, 3, 3)}
	o := Evaluate(model(), bids, "seed-1")
	if len(o.Lots) != 1 || len(o.Lots[0].Bids) != 3 {
		t.Fatalf("lots %v, want one draw of three", o.Lots)
	}
	prev := ""
	for i, lv := range o.Lots[0].Bids {
		sum := sha256.Sum256([]byte("seed-1:" + lv.Bid))
		if lv.Value != hex.EncodeToString(sum[:]) || lv.Value <= prev || o.Results[i].Bid != lv.Bid {
			t.Errorf("draw %d: %+v (result %s)", i, lv, o.Results[i].Bid)
		}
		prev = lv.Value
	}
}

// Decisions stored before lot values were recorded still read.
func TestDrawReadsBothForms(t *testing.T) {
	var o Outcome
	if err := json.Unmarshal([]byte(`{"lots":[["a","b"]]}`), &o); err != nil || len(o.Lots) != 1 || o.Lots[0].Bids[1].Bid != "b" {
		t.Errorf("legacy draw: %v %+v", err, o.Lots)
	}
	raw, _ := json.Marshal(Outcome{Lots: []Draw{{Bids: []LotValue{{"a", "00ff"}}}}})
	var again Outcome
	if err := json.Unmarshal(raw, &again); err != nil || again.Lots[0].Bids[0] != (LotValue{"a", "00ff"}) {
		t.Errorf("round trip of %s: %v %+v", raw, err, again.Lots)
	}
}

func BenchmarkEvaluate1000Bids(b *testing.B) {
	bids := make([]Bid, 1000)
	for i := range bids {
		bids[i] = bid(fmt.Sprint("bid-", i), int64(250000+i*37), int64(100000+i*11), i%6, (i/6)%6, (i/36)%6)
	}
	m := model()
	m.CeilingCents = 0
	b.ReportAllocs()
	for b.Loop() {
		Evaluate(m, bids, "bench")
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1000, "ns/bid")
}
