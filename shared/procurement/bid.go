package procurement

import (
	"slices"
	"strings"
	"time"
)

// BidStatus is a bid's state.
type BidStatus string

// Bid states.
const (
	BidSubmitted BidStatus = "submitted"
	BidWithdrawn BidStatus = "withdrawn"
)

// Subcontractor is declared in a bid.
type Subcontractor struct {
	Name       string `json:"name" validate:"required,max=200"`
	BusinessID string `json:"businessId" validate:"required,businessid"`
	Role       string `json:"role" validate:"required,max=500"`
}

// Offer is what a bidder submits.
type Offer struct {
	FixedFeeCents      int64            `json:"fixedFeeCents" validate:"gte=1"`
	OutcomePricesCents map[string]int64 `json:"outcomePricesCents"`
	// Answers answer each quality criterion, by criterion id.
	Answers        map[string]string `json:"answers" validate:"dive,max=20000"`
	Members        []Party           `json:"consortiumMembers" validate:"max=20,dive"`
	Subcontractors []Subcontractor   `json:"subcontractors" validate:"max=20,dive"`
	// Attachments are uploaded files supporting the answers, by quality
	// criterion id.
	Attachments map[string][]FileRef `json:"attachments,omitempty" validate:"max=30,dive,max=10,dive"`
}

// Score is an evaluator's 0-5 score of one quality criterion, with reason.
type Score struct {
	Score  int       `json:"score"`
	Reason string    `json:"reason"`
	By     string    `json:"by"`
	At     time.Time `json:"at"`
}

// Bid is a provider's sealed bid. Before the deadline only the bidder can
// read it.
type Bid struct {
	CompetitionID string `json:"competitionId"`
	ProviderID    string `json:"providerId"`
	Bidder        Party  `json:"bidder"`
	Offer
	Status BidStatus `json:"status"`
	// ReceivedAt is when the request that last submitted, replaced or
	// withdrew the bid reached the gateway: the legal time of receipt.
	ReceivedAt  time.Time        `json:"receivedAt"`
	SubmittedAt time.Time        `json:"submittedAt"`
	UpdatedAt   time.Time        `json:"updatedAt"`
	Scores      map[string]Score `json:"scores,omitempty"`
	Rejection   *Note            `json:"rejection,omitempty"`
	Version     int              `json:"version"`
}

// CheckBidding refuses a bid write that the rules forbid: only invitees,
// only while the competition is published, only when the request was
// received before the deadline. received is the time the request reached
// the gateway, however late it is processed.
func (c *Competition) CheckBidding(provider string, received time.Time) error {
	if !c.Invited(provider) {
		// Not invited: answer as if the competition did not exist for them.
		return Errorf(ENOTFOUND, "mini-competition %s not found", c.ID)
	}
	if c.Status != CompPublished || c.DeadlinePassed(received) {
		return Errorf(ECONFLICT, "bids are closed: the deadline was %s; your request was received at %s; no bid can be submitted, replaced or withdrawn at or after the deadline",
			c.BidDeadline.UTC().Format(time.RFC3339Nano), received.UTC().Format(time.RFC3339Nano))
	}
	return nil
}

// PlaceBid creates or replaces the provider's bid, as the invitee inv.
func (c *Competition) PlaceBid(prev *Bid, inv *Invitee, o Offer, received, now time.Time) (*Bid, error) {
	if err := c.CheckBidding(inv.ProviderID, received); err != nil {
		return nil, err
	}
	var p Problems
	for _, m := range c.Milestones {
		price, ok := o.OutcomePricesCents[m.ID]
		switch {
		case m.Pricing == "offered" && (!ok || price <= 0):
			p.Add("outcomePricesCents."+m.ID, "offer your price in cents for the milestone %q (greater than 0)", m.Name)
		case m.Pricing == "tariff" && ok:
			p.Add("outcomePricesCents."+m.ID, "remove it: the buyer set the tariff of %q", m.Name)
		}
	}
	for id := range o.OutcomePricesCents {
		if !slices.ContainsFunc(c.Milestones, func(m Milestone) bool { return m.ID == id }) {
			p.Add("outcomePricesCents."+id, "is not a milestone of this competition")
		}
	}
	for _, q := range c.QualityCriteria {
		if o.Answers[q.ID] == "" {
			p.Add("answers."+q.ID, "answer the quality criterion: %s", q.Description)
		}
	}
	for id := range o.Attachments {
		if !slices.ContainsFunc(c.QualityCriteria, func(q QualityCriterion) bool { return q.ID == id }) {
			p.Add("attachments."+id, "is not a quality criterion of this competition")
		}
	}
	for id := range o.Answers {
		if !slices.ContainsFunc(c.QualityCriteria, func(q QualityCriterion) bool { return q.ID == id }) {
			p.Add("answers."+id, "is not a quality criterion of this competition")
		}
	}
	if o.Members != nil && len(o.Members) > 0 && !sameMembers(o.Members, inv.Members) {
		// Only the consortium that was admitted may bid, or the admitted
		// provider alone; unvetted members would flow into contracts.
		admitted := make([]string, len(inv.Members))
		for i, m := range inv.Members {
			admitted[i] = m.Name + " (" + m.BusinessID + ")"
		}
		if len(admitted) == 0 {
			p.Add("consortiumMembers", "you were admitted alone; leave consortiumMembers empty (a consortium must apply and be admitted as one)")
		} else {
			p.Add("consortiumMembers", "must be exactly the consortium admitted to the DPS: %s; or leave it empty to bid as admitted", strings.Join(admitted, ", "))
		}
	}
	if err := p.Err(); err != nil {
		return nil, err
	}
	o.Members = slices.Clone(inv.Members) // the consortium as admitted, with its vetted details
	if o.Members == nil {
		o.Members = []Party{}
	}
	if o.Subcontractors == nil {
		o.Subcontractors = []Subcontractor{}
	}
	b := &Bid{CompetitionID: c.ID, ProviderID: inv.ProviderID, Bidder: inv.Party, Offer: o, Status: BidSubmitted, ReceivedAt: received, SubmittedAt: now, UpdatedAt: now}
	if prev != nil {
		b.SubmittedAt, b.Version = prev.SubmittedAt, prev.Version
	}
	return b, nil
}

// sameMembers reports whether the bid names exactly the admitted members,
// by business ID.
func sameMembers(bid, admitted []Party) bool {
	if len(bid) != len(admitted) {
		return false
	}
	ids := map[string]bool{}
	for _, m := range admitted {
		ids[m.BusinessID] = true
	}
	for _, m := range bid {
		if !ids[m.BusinessID] {
			return false
		}
		delete(ids, m.BusinessID)
	}
	return true
}

// Withdraw withdraws the bid when the request was received before the
// deadline.
func (c *Competition) Withdraw(b *Bid, received, now time.Time) error {
	if err := c.CheckBidding(b.ProviderID, received); err != nil {
		return err
	}
	if b.Status == BidWithdrawn {
		return Errorf(ECONFLICT, "the bid is already withdrawn")
	}
	b.Status, b.ReceivedAt, b.UpdatedAt = BidWithdrawn, received, now
	return nil
}

// ScoreBid records an evaluator's score of one criterion.
func (c *Competition) ScoreBid(by Actor, b *Bid, criterion string, score int, reason string, now time.Time) error {
	if err := c.CheckEvaluator(by); err != nil {
		return err
	}
	if c.Status != CompEvaluation {
		return Errorf(ECONFLICT, "scores can change only during evaluation; the competition is %s", c.Status)
	}
	if b.Status != BidSubmitted {
		return Errorf(ECONFLICT, "a withdrawn bid is not evaluated")
	}
	if !slices.ContainsFunc(c.QualityCriteria, func(q QualityCriterion) bool { return q.ID == criterion }) {
		return Invalid("criterion", "%q is not a quality criterion of this competition", criterion)
	}
	if score < 0 || score > 5 {
		return Invalid("score", "must be 0-5")
	}
	if reason == "" {
		return Invalid("reason", "give the written reason for the score")
	}
	if b.Scores == nil {
		b.Scores = map[string]Score{}
	}
	b.Scores[criterion] = Score{Score: score, Reason: reason, By: by.UserID, At: now}
	return nil
}

// RejectBid excludes a bid from the comparison with a reason.
func (c *Competition) RejectBid(by Actor, b *Bid, reason string, now time.Time) error {
	if err := c.CheckEvaluator(by); err != nil {
		return err
	}
	if c.Status != CompEvaluation {
		return Errorf(ECONFLICT, "bids can be rejected only during evaluation")
	}
	if b.Rejection != nil {
		return Errorf(ECONFLICT, "the bid was already rejected")
	}
	if reason == "" {
		return Invalid("reason", "state why the bid is rejected (e.g. which required part is missing)")
	}
	b.Rejection = &Note{Reason: reason, By: by.UserID, At: now}
	return nil
}

// unscored lists criteria a valid bid still lacks scores for.
func (c *Competition) unscored(b *Bid) []string {
	var missing []string
	for _, q := range c.QualityCriteria {
		if _, ok := b.Scores[q.ID]; !ok {
			missing = append(missing, q.ID)
		}
	}
	return missing
}
