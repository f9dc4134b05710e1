package outcomes

import (
	"slices"
	"strconv"
	"strings"
)

// Counts are the statistics of a contract or a DPS in one month, kept
// incrementally: each referral, start, verified outcome and clawback adds
// to them in its own transaction, so reading them costs the same whatever
// the number of claims. Names:
//
//	ref|<segment>                 referrals
//	exp|<segment>|<milestone>     Σ expected rate (basis points) over referrals
//	fix|<segment>                 fixed fees payable, cents
//	out|<segment>|<milestone>     outcomes verified (less clawed back)
//	pay|<segment>|<milestone>     outcome fees payable, cents
//	h|<segment>|<milestone>|<w>   outcomes reached in week w after the start (w ≤ MaxWeek)
type Counts map[string]int64

// MaxWeek is the last bucket of the days-to-outcome histogram: outcomes
// later than MaxWeek weeks after the start share it.
const MaxWeek = 104

// Add adds other to c.
func (c Counts) Add(other Counts) {
	for k, v := range other {
		c[k] += v
	}
}

// ReferralCounts is what a referral adds.
func ReferralCounts(t *Terms, segment string) Counts {
	c := Counts{"ref|" + segment: 1}
	for _, m := range t.Milestones {
		p, _ := t.Price(m.ID, segment)
		c["exp|"+segment+"|"+m.ID] = int64(p.ExpectedRate)
	}
	return c
}

// FeeCounts is what a payable fee adds (sign -1 for its clawback).
func FeeCounts(e *Entry, daysToOutcome int, sign int64) Counts {
	switch e.Kind {
	case FixedFee:
		return Counts{"fix|" + e.Segment: sign * e.PayableCents}
	case OutcomeFee:
		w := min(max(daysToOutcome, 0)/7, MaxWeek)
		return Counts{
			"out|" + e.Segment + "|" + e.Milestone:                       sign,
			"pay|" + e.Segment + "|" + e.Milestone:                       e.PayableCents,
			"h|" + e.Segment + "|" + e.Milestone + "|" + strconv.Itoa(w): sign,
		}
	}
	return nil
}

// Row is the statistics of one segment and milestone. A value is absent
// when it is suppressed (fewer than MinCell clients) or undefined.
type Row struct {
	Segment      string  `json:"segment"`
	Milestone    string  `json:"milestone"`
	Referrals    *int64  `json:"referrals"`
	Outcomes     *int64  `json:"outcomes"`
	AchievedRate *string `json:"achievedRate"`
	ExpectedRate *string `json:"expectedRate"`
	// FixedPayCents is the segment's fixed fees (the same on each of its rows).
	FixedPayCents   *int64 `json:"fixedPayCents"`
	OutcomePayCents *int64 `json:"outcomePayCents"`
	// CostPerOutcomeCents is the segment's fixed fees and this milestone's
	// outcome fees divided by this milestone's outcomes, rounded down.
	CostPerOutcomeCents *int64 `json:"costPerOutcomeCents"`
	// MedianWeeksToOutcome is the week after the start (0 = the first seven
	// days) in which the median outcome was reached.
	MedianWeeksToOutcome *int `json:"medianWeeksToOutcome"`
	Suppressed           bool `json:"suppressed"`
}

// Statistics are the rows of a scope for a period.
type Statistics struct {
	Scope  string `json:"scope"`
	From   string `json:"from"`
	To     string `json:"to"`
	Months int    `json:"months"`
	// Full is false when cells under MinCell clients are suppressed.
	Full bool   `json:"full"`
	Rows []Row  `json:"rows"`
	Note string `json:"note"`
}

// StatsNote explains the figures in every statistics answer.
const StatsNote = "Per segment and milestone: referrals in the period; outcomes verified (less those clawed back), counted in the month achieved; " +
	"achieved rate = outcomes / referrals; expected rate = the buyer's expected rate averaged over the referrals; " +
	"fixed pay = the segment's payable fixed fees; outcome pay = the milestone's payable outcome fees; " +
	"cost per outcome = (fixed pay + outcome pay) / outcomes, in cents rounded down; median weeks to outcome = the week after the start in which half of the outcomes were reached. " +
	"When not full, rows of fewer than 5 referrals show no figures and figures that rest on fewer than 5 outcomes are left out."

// MinCell is the least number of clients a cell shown beyond the buyer's
// officers and the auditors may count.
const MinCell = 5

// Table turns counts into rows, per segment and milestone in the order
// given. With suppress, a row of fewer than MinCell referrals shows no
// figures, and figures that rest on outcomes are hidden below MinCell
// outcomes.
func Table(c Counts, segments, milestones []string, suppress bool) []Row {
	var rows []Row
	for _, s := range segments {
		ref := c["ref|"+s]
		for _, m := range milestones {
			out, pay, fix := c["out|"+s+"|"+m], c["pay|"+s+"|"+m], c["fix|"+s]
			r := Row{Segment: s, Milestone: m, Referrals: &ref, Outcomes: &out, FixedPayCents: &fix, OutcomePayCents: &pay}
			if ref > 0 {
				r.AchievedRate = ratio(out, ref*1)
				r.ExpectedRate = ratio(c["exp|"+s+"|"+m], ref*10000)
			}
			if out > 0 {
				cost := (fix + pay) / out
				r.CostPerOutcomeCents = &cost
				r.MedianWeeksToOutcome = median(c, s, m, out)
			}
			if suppress {
				switch {
				case ref < MinCell:
					r = Row{Segment: s, Milestone: m, Suppressed: true}
				case out < MinCell:
					r.Outcomes, r.AchievedRate, r.OutcomePayCents, r.CostPerOutcomeCents, r.MedianWeeksToOutcome, r.Suppressed = nil, nil, nil, nil, nil, true
				}
			}
			rows = append(rows, r)
		}
	}
	return rows
}

// median is the lower median week of the histogram.
func median(c Counts, s, m string, n int64) *int {
	var seen int64
	for w := 0; w <= MaxWeek; w++ {
		seen += c["h|"+s+"|"+m+"|"+strconv.Itoa(w)]
		if seen*2 >= n {
			return &w
		}
	}
	return nil
}

// ratio formats a/b with four decimals, rounded half up.
func ratio(a, b int64) *string {
	if b == 0 {
		return nil
	}
	q := (a*20000 + b) / (2 * b) // a/b in basis points, half up
	s := strconv.FormatInt(q/10000, 10) + "." + strings.TrimPrefix(strconv.FormatInt(10000+q%10000, 10), "1")
	return &s
}

// Names lists the segments and milestones that occur in the counts, sorted.
func Names(c Counts) (segments, milestones []string) {
	for k := range c {
		parts := strings.Split(k, "|")
		if len(parts) >= 2 && !slices.Contains(segments, parts[1]) {
			segments = append(segments, parts[1])
		}
		if len(parts) >= 3 && parts[0] != "h" || len(parts) == 4 {
			if !slices.Contains(milestones, parts[2]) {
				milestones = append(milestones, parts[2])
			}
		}
	}
	slices.Sort(segments)
	slices.Sort(milestones)
	return segments, milestones
}
