// Package outcomes is what follows an award of an outcome-based
// mini-competition (BRIEF §1, §3): the contract's life from standstill to
// conclusion, client referrals, outcome claims and their verification, the
// ledger of fixed and outcome fees under the cap, statistics of what works
// for whom, and the open-data views of it all. It is pure: no clock, no
// I/O; the store passes the time in.
package outcomes

import (
	"fmt"
	"slices"
	"time"

	"github.com/rengas/rengas/shared/procurement"
	"github.com/rengas/rengas/shared/workdays"
)

// Status is the stage of an outcome contract.
type Status string

// Contract stages.
const (
	// Awarded: the award is made; the standstill may still run. Nothing is
	// stored for the contract beyond the award record until it is concluded,
	// cancelled or lapses.
	Awarded Status = "awarded"
	// Concluded: the officer concluded it; the provider has not accepted yet.
	Concluded Status = "concluded"
	// Active: the provider accepted; referrals, claims and payments run.
	Active Status = "active"
	// Lapsed: never entered into force (e.g. the provider did not accept).
	Lapsed Status = "lapsed"
	// Cancelled by the buyer, with the reason.
	Cancelled Status = "cancelled"
)

// Statuses lists every stage.
var Statuses = []Status{Awarded, Concluded, Active, Lapsed, Cancelled}

// BaseSegment is the segment of the places not in any named segment.
const BaseSegment = "base"

// FixedPerStartedReferral is the only fixed-fee basis so far: the fixed fee
// per client is earned when the provider confirms the client's start.
const FixedPerStartedReferral = "per-started-referral"

// Price is an outcome fee of the contract for one milestone in one segment,
// with the buyer's expected rate there.
type Price struct {
	Milestone    string           `json:"milestone"`
	Segment      string           `json:"segment"`
	Cents        int64            `json:"cents"`
	ExpectedRate procurement.Rate `json:"expectedRate"`
}

// TermMilestone is a milestone of the contract.
type TermMilestone struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// SustainmentDays: the outcome must last this long before it is claimed.
	SustainmentDays int `json:"sustainmentDays"`
}

// TermSegment is a client segment of the contract.
type TermSegment struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// Places is this segment's share of the contract's places.
	PlacesShare procurement.Rate `json:"placesShare"`
}

// Terms are frozen at conclusion from the winning bid and the competition.
type Terms struct {
	Places        int64  `json:"places"`
	FixedFeeCents int64  `json:"fixedFeeCents"`
	FixedFeeBasis string `json:"fixedFeeBasis"`
	// Milestones and Segments, with Prices for each pair.
	Milestones []TermMilestone `json:"milestones"`
	Segments   []TermSegment   `json:"segments"`
	Prices     []Price         `json:"prices"`
	// MaxOutcomeShare caps outcome fees: payable outcome fees in total are
	// at most this share of the contract's ceiling (OutcomeCapCents).
	MaxOutcomeShare procurement.Rate `json:"maxOutcomeShare"`
	// CeilingCents is this contract's part of the competition's budget
	// ceiling: the ceiling × its places / the competition's places, rounded
	// down to the cent. Payable amounts in total never exceed it.
	CeilingCents    int64  `json:"ceilingCents"`
	OutcomeCapCents int64  `json:"outcomeCapCents"`
	Start           string `json:"start"`
	End             string `json:"end"`
	// ClaimGraceDays: claims are accepted until End plus this many days.
	ClaimGraceDays       int `json:"claimGraceDays"`
	VerificationWorkdays int `json:"verificationWorkdays"`
	RetentionDays        int `json:"referralRetentionDays"`
}

// Price returns the outcome fee of a milestone in a segment.
func (t *Terms) Price(milestone, segment string) (Price, bool) {
	for _, p := range t.Prices {
		if p.Milestone == milestone && p.Segment == segment {
			return p, true
		}
	}
	return Price{}, false
}

// Milestone returns a milestone of the terms.
func (t *Terms) Milestone(id string) (TermMilestone, bool) {
	for _, m := range t.Milestones {
		if m.ID == id {
			return m, true
		}
	}
	return TermMilestone{}, false
}

// HasSegment reports whether the segment is one of the contract's.
func (t *Terms) HasSegment(id string) bool {
	return slices.ContainsFunc(t.Segments, func(s TermSegment) bool { return s.ID == id })
}

func (t *Terms) segmentIDs() []string {
	ids := make([]string, len(t.Segments))
	for i, s := range t.Segments {
		ids[i] = s.ID
	}
	return ids
}

func (t *Terms) milestoneIDs() []string {
	ids := make([]string, len(t.Milestones))
	for i, m := range t.Milestones {
		ids[i] = m.ID
	}
	return ids
}

// Ending records a lapse or a cancellation.
type Ending struct {
	Reason string    `json:"reason"`
	By     string    `json:"by"`
	At     time.Time `json:"at"`
}

// Contract is an outcome contract with one winner of an award.
type Contract struct {
	// ID is "<competition>.<provider>".
	ID            string            `json:"id"`
	CompetitionID string            `json:"competitionId"`
	DPSID         string            `json:"dpsId"`
	Buyer         string            `json:"buyer"`
	DPSBuyers     []string          `json:"dpsBuyers"`
	Category      string            `json:"category"`
	Title         string            `json:"title"`
	ProviderID    string            `json:"providerId"`
	Supplier      procurement.Party `json:"supplier"`
	// AwardPlaces and AwardValueCents are as awarded.
	AwardPlaces     int64     `json:"awardPlaces"`
	AwardValueCents int64     `json:"awardValueCents"`
	AwardedAt       time.Time `json:"awardedAt"`
	StandstillEnds  time.Time `json:"standstillEnds"`
	Status          Status    `json:"status"`
	// Terms are set at conclusion and never change afterwards.
	Terms       *Terms            `json:"terms,omitempty"`
	ConcludedAt *time.Time        `json:"concludedAt,omitempty"`
	ConcludedBy string            `json:"concludedBy,omitempty"`
	Acceptance  *procurement.Note `json:"acceptance,omitempty"`
	Ending      *Ending           `json:"ending,omitempty"`
	Version     int               `json:"version"`
}

// ContractID is the id of the contract of a provider in a competition.
func ContractID(comp, provider string) string { return comp + "." + provider }

// FromAward returns the contract as the award made it: awarded, with the
// standstill's end.
func FromAward(c *procurement.Competition, k *procurement.Contract) *Contract {
	return &Contract{
		ID: ContractID(c.ID, k.ProviderID), CompetitionID: c.ID, DPSID: c.DPSID, Buyer: c.Buyer, DPSBuyers: c.DPSBuyers,
		Category: c.Category, Title: c.Title, ProviderID: k.ProviderID, Supplier: k.Supplier,
		AwardPlaces: k.Places, AwardValueCents: k.ValueCents, AwardedAt: k.AwardedAt, StandstillEnds: k.StandstillEnds, Status: Awarded,
	}
}

// FreezeTerms computes the terms of the contract from the competition, the
// award record (the winner's bid prices and places) and the DPS settings.
func FreezeTerms(c *procurement.Competition, k *procurement.Contract, s procurement.Settings) *Terms {
	t := &Terms{
		Places: k.Places, FixedFeeCents: k.FixedFeeCents, FixedFeeBasis: FixedPerStartedReferral,
		MaxOutcomeShare: c.MaxOutcomeShare, Start: c.ContractStart, End: c.ContractEnd,
		ClaimGraceDays: s.Grace(), VerificationWorkdays: s.Verification(), RetentionDays: s.Retention(),
	}
	if c.Places > 0 {
		t.CeilingCents = c.BudgetCeilingCents * k.Places / int64(c.Places)
	}
	t.OutcomeCapCents = t.CeilingCents * int64(t.MaxOutcomeShare) / int64(procurement.RateOne)
	if t.MaxOutcomeShare == 0 {
		t.OutcomeCapCents = t.CeilingCents // no share cap: only the ceiling
	}
	base := procurement.RateOne
	for _, s := range c.Segments {
		base -= s.PlacesShare
	}
	t.Segments = append(t.Segments, TermSegment{ID: BaseSegment, Name: "Other clients", PlacesShare: base})
	for _, s := range c.Segments {
		t.Segments = append(t.Segments, TermSegment{ID: s.ID, Name: s.Name, PlacesShare: s.PlacesShare})
	}
	for _, m := range c.Milestones {
		t.Milestones = append(t.Milestones, TermMilestone{ID: m.ID, Name: m.Name, SustainmentDays: m.SustainmentDays})
		for _, sg := range t.Segments {
			price, rate := m.TariffCents, m.ExpectedRate
			if m.Pricing == "offered" {
				price = k.OutcomePrices[m.ID]
			}
			for _, s := range c.Segments {
				if s.ID != sg.ID {
					continue
				}
				if r, ok := s.ExpectedRates[m.ID]; ok {
					rate = r
				}
				if v, ok := s.TariffsCents[m.ID]; ok && m.Pricing != "offered" {
					price = v
				}
			}
			t.Prices = append(t.Prices, Price{Milestone: m.ID, Segment: sg.ID, Cents: price, ExpectedRate: rate})
		}
	}
	return t
}

// Conclude concludes the contract after the standstill, freezing terms.
func (k *Contract) Conclude(by procurement.Actor, terms *Terms, now time.Time) error {
	if k.Status != Awarded {
		return procurement.Errorf(procurement.ECONFLICT, "the contract is %s; only an awarded contract can be concluded", k.Status)
	}
	if now.Before(k.StandstillEnds) {
		return procurement.Errorf(procurement.ECONFLICT, "the standstill period runs until %s (Finnish time); the contract can be concluded from then on",
			k.StandstillEnds.In(workdays.Helsinki).Format("2006-01-02 15:04"))
	}
	k.Status, k.Terms, k.ConcludedAt, k.ConcludedBy = Concluded, terms, &now, by.UserID
	return nil
}

// Accept records the provider's acceptance.
func (k *Contract) Accept(by procurement.Actor, now time.Time) error {
	if k.Status != Concluded {
		return procurement.Errorf(procurement.ECONFLICT, "the contract is %s; only a concluded contract can be accepted", k.Status)
	}
	k.Status, k.Acceptance = Active, &procurement.Note{Reason: "accepted", By: by.UserID, At: now}
	return nil
}

// End cancels the contract or records that it lapsed, with the reason.
func (k *Contract) End(to Status, by procurement.Actor, reason string, now time.Time) error {
	if reason == "" {
		return procurement.Invalid("reason", "state why the contract is %s", to)
	}
	switch {
	case to == Lapsed && k.Status != Awarded && k.Status != Concluded:
		return procurement.Errorf(procurement.ECONFLICT, "the contract is %s; only a contract not yet in force (awarded or concluded, not accepted) can lapse", k.Status)
	case to == Cancelled && (k.Status == Lapsed || k.Status == Cancelled):
		return procurement.Errorf(procurement.ECONFLICT, "the contract is already %s", k.Status)
	}
	k.Status, k.Ending = to, &Ending{Reason: reason, By: by.UserID, At: now}
	return nil
}

// ClaimDeadline is the last day on which claims are accepted.
func (t *Terms) ClaimDeadline() string {
	end, err := time.Parse(time.DateOnly, t.End)
	if err != nil {
		return t.End
	}
	return end.AddDate(0, 0, t.ClaimGraceDays).Format(time.DateOnly)
}

func invalidDay(field, v string) error {
	if _, err := time.Parse(time.DateOnly, v); err != nil {
		return procurement.Invalid(field, "give a date as YYYY-MM-DD")
	}
	return nil
}

func addDays(day string, n int) string {
	d, err := time.Parse(time.DateOnly, day)
	if err != nil {
		return day
	}
	return d.AddDate(0, 0, n).Format(time.DateOnly)
}

// DaysBetween returns the days from a to b (YYYY-MM-DD).
func DaysBetween(a, b string) int {
	x, err1 := time.Parse(time.DateOnly, a)
	y, err2 := time.Parse(time.DateOnly, b)
	if err1 != nil || err2 != nil {
		return 0
	}
	return int(y.Sub(x).Hours() / 24)
}

func euros(cents int64) string {
	sign := ""
	if cents < 0 {
		sign, cents = "-", -cents
	}
	return fmt.Sprintf("%s%d.%02d €", sign, cents/100, cents%100)
}
