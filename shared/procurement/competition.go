package procurement

import (
	"reflect"
	"slices"
	"strconv"
	"time"
)

// CompetitionStatus is the stage of a mini-competition.
type CompetitionStatus string

// Mini-competition stages.
const (
	CompDraft      CompetitionStatus = "draft"
	CompPublished  CompetitionStatus = "published"
	CompEvaluation CompetitionStatus = "evaluation"
	CompAwarded    CompetitionStatus = "awarded"
	CompCancelled  CompetitionStatus = "cancelled"
	// CompClosed is never stored: views show a published competition past
	// its deadline, not yet opened, as closed for bids. Reading never writes.
	CompClosed CompetitionStatus = "closed"
)

// The milestones every outcome-based competition counts.
const (
	MilestoneEmployed   = "employed"
	MilestoneVocational = "vocational-education"
)

// Milestone is an outcome that earns a one-off fee: at a tariff set by the
// buyer, or at a price each bidder offers. ExpectedRate is the buyer's own
// assumption, equal for every bidder.
type Milestone struct {
	ID           string `json:"id" validate:"required,max=40,slug"`
	Name         string `json:"name" validate:"required,max=200"`
	Pricing      string `json:"pricing" validate:"required,oneof=tariff offered"`
	TariffCents  int64  `json:"tariffCents" validate:"gte=0"`
	ExpectedRate Rate   `json:"expectedRate"`
	// SustainmentDays is how long the outcome must last (e.g. employment
	// for 90 days) before it can be claimed; 0: claimable when achieved.
	SustainmentDays int `json:"sustainmentDays,omitempty" validate:"gte=0,lte=730"`
}

// Segment is a harder client segment with its share of the places and,
// against creaming, a higher tariff or a different expected rate per
// milestone.
type Segment struct {
	ID            string           `json:"id" validate:"required,max=40,slug"`
	Name          string           `json:"name" validate:"required,max=200"`
	PlacesShare   Rate             `json:"placesShare"`
	ExpectedRates map[string]Rate  `json:"expectedRates"`
	TariffsCents  map[string]int64 `json:"tariffsCents"`
}

// QualityCriterion is an award criterion named in the DPS notice, with the
// weight this competition gives it.
type QualityCriterion struct {
	ID          string `json:"id" validate:"required,max=40,id"`
	Description string `json:"description" validate:"required,max=2000"`
	Weight      int    `json:"weight" validate:"gte=1,lte=100"`
}

// Definition is everything an officer states when drafting or amending a
// mini-competition.
type Definition struct {
	Category           string             `json:"category" validate:"required,max=40,id"`
	Title              string             `json:"title" validate:"required,max=300"`
	Description        string             `json:"description" validate:"required,max=20000"`
	TargetGroup        string             `json:"targetGroup" validate:"required,max=2000"`
	ServiceArea        []string           `json:"serviceArea" validate:"required,min=1,max=50,dive,required,max=100"`
	Places             int                `json:"places" validate:"gte=1,lte=100000"`
	ContractStart      string             `json:"contractStart" validate:"required,datetime=2006-01-02"`
	ContractEnd        string             `json:"contractEnd" validate:"required,datetime=2006-01-02"`
	Milestones         []Milestone        `json:"milestones" validate:"required,min=2,max=20,dive"`
	Segments           []Segment          `json:"segments" validate:"max=10,dive"`
	BudgetCeilingCents int64              `json:"budgetCeilingCents" validate:"gte=1"`
	MaxOutcomeShare    Rate               `json:"maxOutcomeShare"`
	PriceWeight        int                `json:"priceWeight" validate:"gte=0,lte=100"`
	QualityCriteria    []QualityCriterion `json:"qualityCriteria" validate:"max=20,dive"`
	MinQualityPoints   int                `json:"minQualityPoints" validate:"gte=0,lte=100"`
	Awards             int                `json:"awards" validate:"gte=1,lte=50"`
	QuestionDeadline   time.Time          `json:"questionDeadline" validate:"required"`
	BidDeadline        time.Time          `json:"bidDeadline" validate:"required"`
}

// Invitee is a provider invited at publication, as it stood then. The
// store keeps each in an item of its own; the competition holds only the
// invitees' ids.
type Invitee struct {
	ProviderID string  `json:"providerId"`
	Party      Party   `json:"party"`
	Members    []Party `json:"members"`
}

// Amendment records a change to a published competition.
type Amendment struct {
	Reason      string    `json:"reason"`
	Material    bool      `json:"material"`
	By          string    `json:"by"`
	At          time.Time `json:"at"`
	OldDeadline time.Time `json:"oldBidDeadline"`
	NewDeadline time.Time `json:"newBidDeadline"`
}

// Note is a recorded act with its reason.
type Note struct {
	Reason string    `json:"reason"`
	By     string    `json:"by"`
	At     time.Time `json:"at"`
}

// Opening records the move to evaluation after the deadline.
type Opening struct {
	At   time.Time `json:"at"`
	Bids int       `json:"bids"`
	// Anchor is the digest of every bid's chain head, written into the DPS
	// chain so that the sealed bids' trails are bound to the procedure.
	Anchor string `json:"anchor"`
}

// ConflictDeclaration is an evaluator's declaration of no conflict of interest.
type ConflictDeclaration struct {
	By        string    `json:"by"`
	Statement string    `json:"statement"`
	At        time.Time `json:"at"`
}

// Competition is a mini-competition inside a DPS category.
type Competition struct {
	ID    string `json:"id"`
	DPSID string `json:"dpsId"`
	Buyer string `json:"buyer"`
	// DPSBuyers are the buyers of the DPS when the competition was drafted:
	// the access rules tell the ring's other buyers from outsiders by them.
	DPSBuyers []string `json:"dpsBuyers"`
	Definition
	Status      CompetitionStatus `json:"status"`
	PublishedAt *time.Time        `json:"publishedAt,omitempty"`
	// Publication identifies the publication whose invitations admit bids.
	Publication string `json:"publication,omitempty"`
	// Invitees are the ids of the providers invited at publication.
	Invitees     []string              `json:"invitees"`
	Amendments   []Amendment           `json:"amendments"`
	Cancellation *Note                 `json:"cancellation,omitempty"`
	Opening      *Opening              `json:"opening,omitempty"`
	Conflicts    []ConflictDeclaration `json:"conflictDeclarations"`
	Decision     *AwardDecision        `json:"decision,omitempty"`
	CreatedBy    string                `json:"createdBy"`
	CreatedAt    time.Time             `json:"createdAt"`
	UpdatedAt    time.Time             `json:"updatedAt"`
	Version      int                   `json:"version"`
}

// CheckDefinition refuses an inconsistent definition, naming every problem.
func CheckDefinition(d *DPS, def *Definition, now time.Time) error {
	var p Problems
	if _, ok := d.Category(def.Category); !ok {
		p.Add("category", "%q is not a category of the DPS; choose one of %v", def.Category, categoryIDs(d))
	}
	if def.ContractEnd < def.ContractStart {
		p.Add("contractEnd", "must not be before contractStart")
	}
	ids := map[string]Milestone{}
	for i, m := range def.Milestones {
		f := "milestones[" + strconv.Itoa(i) + "]"
		if _, dup := ids[m.ID]; dup {
			p.Add(f+".id", "%q is used twice", m.ID)
		}
		ids[m.ID] = m
		if !m.ExpectedRate.Valid() {
			p.Add(f+".expectedRate", "must be between 0 and 1 (e.g. 0.25 for 25 %%)")
		}
		switch {
		case m.Pricing == "tariff" && m.TariffCents <= 0:
			p.Add(f+".tariffCents", "a tariff milestone needs the buyer's tariff in cents (greater than 0)")
		case m.Pricing == "offered" && m.TariffCents != 0:
			p.Add(f+".tariffCents", "leave it 0: bidders offer the price of an offered milestone")
		}
	}
	for _, must := range []string{MilestoneEmployed, MilestoneVocational} {
		if _, ok := ids[must]; !ok {
			p.Add("milestones", "include the milestone %q: every outcome-based competition counts it", must)
		}
	}
	var share Rate
	for i, s := range def.Segments {
		f := "segments[" + strconv.Itoa(i) + "]"
		share += s.PlacesShare
		if s.PlacesShare <= 0 || s.PlacesShare > RateOne {
			p.Add(f+".placesShare", "must be above 0 and at most 1")
		}
		for m, r := range s.ExpectedRates {
			if _, ok := ids[m]; !ok {
				p.Add(f+".expectedRates", "%q is not a milestone of this competition", m)
			}
			if !r.Valid() {
				p.Add(f+".expectedRates."+m, "must be between 0 and 1")
			}
		}
		for m, c := range s.TariffsCents {
			if ms, ok := ids[m]; !ok || ms.Pricing != "tariff" {
				p.Add(f+".tariffsCents", "%q is not a tariff milestone of this competition", m)
			}
			if c <= 0 {
				p.Add(f+".tariffsCents."+m, "must be greater than 0")
			}
		}
	}
	if share > RateOne {
		p.Add("segments", "the segments' shares of the places add up to more than 1")
	}
	if def.MaxOutcomeShare <= 0 || def.MaxOutcomeShare > RateOne {
		p.Add("maxOutcomeShare", "must be above 0 and at most 1 (outcome fees are typically 0.3-0.5 of total pay)")
	}
	sum := def.PriceWeight
	seen := map[string]bool{}
	for i, q := range def.QualityCriteria {
		sum += q.Weight
		if !slices.Contains(d.QualityCriteria, q.ID) {
			p.Add("qualityCriteria["+strconv.Itoa(i)+"].id", "%q is not an award criterion of the DPS notice; a mini-competition may weigh only %v", q.ID, d.QualityCriteria)
		}
		if seen[q.ID] {
			p.Add("qualityCriteria["+strconv.Itoa(i)+"].id", "%q is used twice", q.ID)
		}
		seen[q.ID] = true
	}
	if sum != 100 {
		p.Add("priceWeight", "the price weight and the quality weights must sum to 100; they sum to %d", sum)
	}
	if def.Awards > def.Places {
		p.Add("awards", "cannot exceed the number of places (%d)", def.Places)
	}
	if !def.QuestionDeadline.Before(def.BidDeadline) {
		p.Add("questionDeadline", "must be before bidDeadline so that answers reach every invitee in time")
	}
	if err := checkTenderPeriod(d, def.BidDeadline, now); err != nil {
		p = append(p, err.(*Error).Fields...)
	}
	return p.Err()
}

// checkTenderPeriod enforces the minimum tender period (at least 10 days,
// or the DPS's longer minimum) counted from now.
func checkTenderPeriod(d *DPS, deadline, now time.Time) error {
	earliest := now.Add(time.Duration(d.Settings.MinTenderDays) * 24 * time.Hour)
	if deadline.Before(earliest) {
		return Invalid("bidDeadline", "must be at least %d days after publication: %s or later", d.Settings.MinTenderDays, earliest.UTC().Format(time.RFC3339))
	}
	return nil
}

// NewCompetition drafts a competition for the officer's buyer. Who may
// draft is decided by package access before this is called.
func NewCompetition(d *DPS, by Actor, def Definition, now time.Time) (*Competition, error) {
	if err := CheckDefinition(d, &def, now); err != nil {
		return nil, err
	}
	return &Competition{DPSID: d.ID, Buyer: by.Org, DPSBuyers: slices.Clone(d.Buyers), Definition: def, Status: CompDraft, Invitees: []string{},
		Amendments: []Amendment{}, Conflicts: []ConflictDeclaration{}, CreatedBy: by.UserID, CreatedAt: now, UpdatedAt: now}, nil
}

// Publish freezes the invitee list: every provider admitted and not
// suspended in the category at this moment. Picking a subset is illegal.
// It returns the invitees as they stand, for the store to keep.
func (c *Competition) Publish(d *DPS, by Actor, admitted []Admission, now time.Time) ([]Invitee, error) {
	if c.Status != CompDraft {
		return nil, Errorf(ECONFLICT, "only a draft can be published; this competition is %s", c.Status)
	}
	if err := CheckDefinition(d, &c.Definition, now); err != nil {
		return nil, err
	}
	var invited []Invitee
	c.Invitees = []string{}
	for _, a := range admitted {
		if a.Status == AdmissionAdmitted && a.Category == c.Category {
			invited = append(invited, Invitee{ProviderID: a.ProviderID, Party: a.Provider, Members: a.Members})
			c.Invitees = append(c.Invitees, a.ProviderID)
		}
	}
	if len(invited) == 0 {
		return nil, Errorf(ECONFLICT, "no provider is admitted in category %s; a competition needs at least one invitee", c.Category)
	}
	slices.Sort(c.Invitees)
	c.Status, c.PublishedAt, c.UpdatedAt = CompPublished, &now, now
	return invited, nil
}

// Invited reports whether the provider was invited at publication.
func (c *Competition) Invited(provider string) bool {
	_, ok := slices.BinarySearch(c.Invitees, provider)
	return ok
}

// DeadlinePassed reports whether bids are closed by the server clock.
func (c *Competition) DeadlinePassed(now time.Time) bool { return !now.Before(c.BidDeadline) }

// material reports whether an amendment changes what bidders price or how
// bids are compared.
func material(a, b Definition) bool {
	a.Title, a.Description, a.TargetGroup, a.QuestionDeadline, a.BidDeadline = "", "", "", time.Time{}, time.Time{}
	b.Title, b.Description, b.TargetGroup, b.QuestionDeadline, b.BidDeadline = "", "", "", time.Time{}, time.Time{}
	return !reflect.DeepEqual(a, b)
}

// Update edits a draft freely, or amends a published competition before
// its deadline with a recorded reason. A material amendment (anything that
// changes what is priced or how bids compare) must leave the full minimum
// tender period from now. Deadlines are never shortened once published. It
// returns whether the amendment was material.
func (c *Competition) Update(d *DPS, by Actor, def Definition, reason string, now time.Time) (bool, error) {
	if def.Category != c.Category {
		return false, Invalid("category", "the category cannot change; cancel and draft a new competition")
	}
	switch c.Status {
	case CompDraft:
		if err := CheckDefinition(d, &def, now); err != nil {
			return false, err
		}
		c.Definition, c.UpdatedAt = def, now
		return false, nil
	case CompPublished:
	default:
		return false, Errorf(ECONFLICT, "a %s competition cannot be amended", c.Status)
	}
	if c.DeadlinePassed(now) {
		return false, Errorf(ECONFLICT, "the bid deadline has passed; the competition can no longer be amended")
	}
	if reason == "" {
		return false, Invalid("reason", "an amendment of a published competition must state its reason")
	}
	if len(c.Amendments) >= MaxAmendments {
		return false, Errorf(ECONFLICT, "the competition has been amended %d times, the most allowed; cancel it and publish a new one", MaxAmendments)
	}
	if def.BidDeadline.Before(c.BidDeadline) || def.QuestionDeadline.Before(c.QuestionDeadline) {
		return false, Invalid("bidDeadline", "deadlines of a published competition can only be extended")
	}
	mat := material(c.Definition, def)
	var p Problems
	if err := CheckDefinition(d, &def, c.PublishedAt.Add(-time.Nanosecond)); err != nil {
		p = append(p, err.(*Error).Fields...)
	}
	if mat {
		if err := checkTenderPeriod(d, def.BidDeadline, now); err != nil {
			p.Add("bidDeadline", "a material amendment restarts the minimum tender period: %s", err.(*Error).Fields[0].Message)
		}
	}
	if err := p.Err(); err != nil {
		return false, err
	}
	c.Amendments = append(c.Amendments, Amendment{Reason: reason, Material: mat, By: by.UserID, At: now, OldDeadline: c.BidDeadline, NewDeadline: def.BidDeadline})
	c.Definition, c.UpdatedAt = def, now
	return mat, nil
}

// MaxAmendments and MaxDeclarations bound what the competition itself
// records, so that its item stays far below DynamoDB's 400 KB: invitees,
// bids, questions and the decision's results are items of their own.
const (
	MaxAmendments   = 20
	MaxDeclarations = 50
)

// Cancel ends the competition with a reason at any point before award.
func (c *Competition) Cancel(by Actor, reason string, now time.Time) error {
	if c.Status == CompAwarded || c.Status == CompCancelled {
		return Errorf(ECONFLICT, "a %s competition cannot be cancelled", c.Status)
	}
	if reason == "" {
		return Invalid("reason", "state why the competition is cancelled")
	}
	c.Status, c.Cancellation, c.UpdatedAt = CompCancelled, &Note{Reason: reason, By: by.UserID, At: now}, now
	return nil
}

// Open moves a published competition past its deadline into evaluation.
func (c *Competition) Open(bids int, anchor string, now time.Time) error {
	if c.Status != CompPublished || !c.DeadlinePassed(now) {
		return Errorf(ECONFLICT, "the competition opens only after its bid deadline")
	}
	c.Status, c.Opening, c.UpdatedAt = CompEvaluation, &Opening{At: now, Bids: bids, Anchor: anchor}, now
	return nil
}

// DeclareNoConflict records an evaluator's conflict-of-interest declaration.
func (c *Competition) DeclareNoConflict(by Actor, statement string, now time.Time) error {
	if c.Status != CompEvaluation {
		return Errorf(ECONFLICT, "declarations are made when the bids are opened for evaluation; the competition is %s", c.Status)
	}
	if c.HasDeclared(by.UserID) {
		return Errorf(ECONFLICT, "you have already declared")
	}
	if statement == "" {
		return Invalid("statement", "state that you have no conflict of interest with any bidder (Act on Public Procurement, section 24)")
	}
	if len(c.Conflicts) >= MaxDeclarations {
		return Errorf(ECONFLICT, "%d evaluators have declared, the most one competition records", MaxDeclarations)
	}
	c.Conflicts = append(c.Conflicts, ConflictDeclaration{By: by.UserID, Statement: statement, At: now})
	c.UpdatedAt = now
	return nil
}

// HasDeclared reports whether the officer declared no conflict of interest.
func (c *Competition) HasDeclared(user string) bool {
	return slices.ContainsFunc(c.Conflicts, func(d ConflictDeclaration) bool { return d.By == user })
}

// CheckEvaluator refuses an officer who may not yet see or score bids:
// before opening, or before the conflict declaration. Whose officers may
// evaluate at all is decided by package access.
func (c *Competition) CheckEvaluator(by Actor) error {
	if c.Status != CompEvaluation && c.Status != CompAwarded {
		return Errorf(ECONFLICT, "bids are sealed until the competition is opened after its deadline")
	}
	if !c.HasDeclared(by.UserID) {
		return Errorf(ECONFLICT, "declare that you have no conflict of interest (POST /competitions/%s/conflict-declarations) before you see the bids", c.ID)
	}
	return nil
}
