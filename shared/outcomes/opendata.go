package outcomes

import (
	"maps"
	"math/big"
	"slices"
	"strings"

	"github.com/rengas/rengas/shared/procurement"
)

// The open data of an outcome contract: the OCDS 1.1.5
// contracts[].implementation block, and an export in the spirit of the
// INDIGO data standard (outcome metrics, pricings, payments planned vs
// actual, results per metric and period). Both carry aggregates only:
// nothing about a single client, and cells under MinCell clients are
// suppressed.

// OCDSValue is an OCDS amount.
type OCDSValue struct {
	Amount   float64 `json:"amount"`
	Currency string  `json:"currency"`
}

// OCDSOrg is an OCDS organization reference.
type OCDSOrg struct {
	ID   string `json:"id"`
	Name string `json:"name,omitempty"`
}

// OCDSTransaction is a spending transaction against the contract: a paid
// ledger entry, or a clawback (negative).
type OCDSTransaction struct {
	ID    string    `json:"id"`
	Date  string    `json:"date"`
	Value OCDSValue `json:"value"`
	Payer OCDSOrg   `json:"payer"`
	Payee OCDSOrg   `json:"payee"`
}

// OCDSMilestone is an outcome milestone of a segment, with its status.
type OCDSMilestone struct {
	ID          string `json:"id"`
	Title       string `json:"title"`
	Type        string `json:"type"`
	Code        string `json:"code"`
	Description string `json:"description"`
	DueDate     string `json:"dueDate,omitempty"`
	Status      string `json:"status"`
}

// OCDSImplementation is the contracts[].implementation block.
type OCDSImplementation struct {
	Transactions []OCDSTransaction `json:"transactions"`
	Milestones   []OCDSMilestone   `json:"milestones"`
}

func eurosValue(cents int64) OCDSValue {
	return OCDSValue{Amount: float64(cents) / 100, Currency: "EUR"}
}

// Implementation builds the block from the contract, a page of its ledger
// entries in order (those paid, and the clawbacks of paid entries on the
// same page) and its statistics over the whole
// contract period. today (YYYY-MM-DD) tells a milestone whose period is
// over from one still scheduled.
func Implementation(k *Contract, buyerName string, entries []Entry, c Counts, today string) OCDSImplementation {
	im := OCDSImplementation{Transactions: []OCDSTransaction{}, Milestones: []OCDSMilestone{}}
	payer := OCDSOrg{ID: k.Buyer, Name: buyerName}
	payee := OCDSOrg{ID: k.Supplier.BusinessID, Name: k.Supplier.Name}
	paid := map[string]bool{}
	for _, e := range entries {
		day := e.PaidOn
		if e.Kind == Clawback {
			// A clawback of a paid entry is money back: a negative
			// transaction on the day it was booked.
			day = ""
			if paid[e.Reverses] {
				day = e.Day
			}
		}
		if day == "" || e.PayableCents == 0 {
			continue
		}
		paid[e.ID] = true
		im.Transactions = append(im.Transactions, OCDSTransaction{ID: k.ID + "-" + e.ID, Date: day + "T00:00:00Z", Value: eurosValue(e.PayableCents), Payer: payer, Payee: payee})
	}
	if k.Terms == nil {
		return im
	}
	for _, s := range k.Terms.Segments {
		for _, m := range k.Terms.Milestones {
			p, _ := k.Terms.Price(m.ID, s.ID)
			ref, out := c["ref|"+s.ID], c["out|"+s.ID+"|"+m.ID]
			expected := new(big.Rat).Mul(big.NewRat(ref, 1), big.NewRat(int64(p.ExpectedRate), int64(procurement.RateOne)))
			got := big.NewRat(out, 1)
			status := "scheduled"
			switch {
			case ref > 0 && got.Cmp(expected) >= 0 && out > 0:
				status = "met"
			case today > k.Terms.End && out > 0:
				status = "partiallyMet"
			case today > k.Terms.End:
				status = "notMet"
			}
			desc := "Outcomes of clients referred in the segment, against the buyer's expected rate " + p.ExpectedRate.String() + ": "
			switch {
			case ref < MinCell:
				desc += "fewer than 5 clients referred (figures suppressed)"
				status = "scheduled"
				if today > k.Terms.End {
					status = "notMet"
					if out > 0 {
						status = "partiallyMet"
					}
				}
			case out < MinCell:
				desc += itoa(ref) + " referred, fewer than 5 outcomes (figure suppressed)"
			default:
				desc += itoa(out) + " outcomes of " + itoa(ref) + " referred"
			}
			im.Milestones = append(im.Milestones, OCDSMilestone{ID: s.ID + "." + m.ID, Title: m.Name + " (" + s.Name + ")", Type: "delivery",
				Code: m.ID, Description: desc, DueDate: k.Terms.End + "T23:59:59Z", Status: status})
		}
	}
	return im
}

func itoa(n int64) string { return new(big.Int).SetInt64(n).String() }

// Indigo is an export in the spirit of the INDIGO data standard.
type Indigo struct {
	Contract        IndigoContract  `json:"contract"`
	OutcomeMetrics  []IndigoMetric  `json:"outcomeMetrics"`
	OutcomePricings []IndigoPricing `json:"outcomePricings"`
	OutcomePayments []IndigoPayment `json:"outcomePayments"`
	Results         []IndigoResult  `json:"results"`
	Note            string          `json:"note"`
}

// IndigoContract names the contract.
type IndigoContract struct {
	ID       string   `json:"id"`
	Title    string   `json:"title"`
	Buyer    string   `json:"buyer"`
	Provider string   `json:"provider"`
	Start    string   `json:"start"`
	End      string   `json:"end"`
	Places   int64    `json:"places"`
	FixedFee int64    `json:"fixedFeeCents"`
	CapCents int64    `json:"outcomeCapCents"`
	Ceiling  int64    `json:"ceilingCents"`
	Segments []string `json:"segments"`
}

// IndigoMetric is an outcome metric.
type IndigoMetric struct {
	ID              string `json:"id"`
	Name            string `json:"name"`
	SustainmentDays int    `json:"sustainmentDays"`
}

// IndigoPricing is the price of a metric in a segment.
type IndigoPricing struct {
	Metric       string `json:"metric"`
	Segment      string `json:"segment"`
	PriceCents   int64  `json:"priceCents"`
	ExpectedRate string `json:"expectedRate"`
}

// IndigoPayment is the outcome payments of a metric in a segment, planned
// (places × the segment's share × the expected rate) and actual.
type IndigoPayment struct {
	Metric          string `json:"metric"`
	Segment         string `json:"segment"`
	PlannedOutcomes string `json:"plannedOutcomes"`
	PlannedCents    int64  `json:"plannedCents"`
	ActualOutcomes  *int64 `json:"actualOutcomes"`
	ActualCents     *int64 `json:"actualCents"`
	Suppressed      bool   `json:"suppressed"`
}

// IndigoResult is the outcomes of a metric in a month.
type IndigoResult struct {
	Metric     string `json:"metric"`
	Period     string `json:"period"`
	Outcomes   *int64 `json:"outcomes"`
	Suppressed bool   `json:"suppressed"`
}

// IndigoExport builds the export from the contract's terms, its counts
// over the whole period, and its counts per month.
func IndigoExport(k *Contract, total Counts, months map[string]Counts) Indigo {
	x := Indigo{OutcomeMetrics: []IndigoMetric{}, OutcomePricings: []IndigoPricing{}, OutcomePayments: []IndigoPayment{}, Results: []IndigoResult{},
		Note: "Planned outcomes = places × the segment's share of the places × the buyer's expected rate; planned cents = planned outcomes × price, rounded down. " +
			"Actual outcomes are verified outcomes less those clawed back; actual cents are the payable outcome fees. Cells under 5 clients are suppressed."}
	if k.Terms == nil {
		return x
	}
	t := k.Terms
	x.Contract = IndigoContract{ID: k.ID, Title: k.Title, Buyer: k.Buyer, Provider: k.Supplier.Name, Start: t.Start, End: t.End, Places: t.Places,
		FixedFee: t.FixedFeeCents, CapCents: t.OutcomeCapCents, Ceiling: t.CeilingCents}
	for _, s := range t.Segments {
		x.Contract.Segments = append(x.Contract.Segments, s.ID)
	}
	for _, m := range t.Milestones {
		x.OutcomeMetrics = append(x.OutcomeMetrics, IndigoMetric{ID: m.ID, Name: m.Name, SustainmentDays: m.SustainmentDays})
		for _, s := range t.Segments {
			p, _ := t.Price(m.ID, s.ID)
			x.OutcomePricings = append(x.OutcomePricings, IndigoPricing{Metric: m.ID, Segment: s.ID, PriceCents: p.Cents, ExpectedRate: p.ExpectedRate.String()})
			planned := new(big.Rat).Mul(big.NewRat(t.Places*int64(s.PlacesShare), int64(procurement.RateOne)), big.NewRat(int64(p.ExpectedRate), int64(procurement.RateOne)))
			cents := new(big.Rat).Mul(planned, big.NewRat(p.Cents, 1))
			pay := IndigoPayment{Metric: m.ID, Segment: s.ID, PlannedOutcomes: planned.FloatString(2), PlannedCents: new(big.Int).Quo(cents.Num(), cents.Denom()).Int64()}
			out, paid := total["out|"+s.ID+"|"+m.ID], total["pay|"+s.ID+"|"+m.ID]
			if total["ref|"+s.ID] < MinCell || out < MinCell {
				pay.Suppressed = true
			} else {
				pay.ActualOutcomes, pay.ActualCents = &out, &paid
			}
			x.OutcomePayments = append(x.OutcomePayments, pay)
		}
		for _, month := range slices.Sorted(maps.Keys(months)) {
			var n int64
			for key, v := range months[month] {
				if strings.HasPrefix(key, "out|") && strings.HasSuffix(key, "|"+m.ID) {
					n += v
				}
			}
			r := IndigoResult{Metric: m.ID, Period: month}
			if n < MinCell {
				r.Suppressed = n > 0
				if n == 0 {
					zero := int64(0)
					r.Outcomes = &zero
				}
			} else {
				r.Outcomes = &n
			}
			x.Results = append(x.Results, r)
		}
	}
	return x
}
