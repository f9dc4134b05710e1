package outcomes

import (
	"fmt"
	"time"

	"github.com/rengas/rengas/shared/procurement"
	"github.com/rengas/rengas/shared/workdays"
)

// ReferralStatus is the stage of a referral.
type ReferralStatus string

// Referral stages. Referred and started referrals take a place.
const (
	Referred ReferralStatus = "referred"
	Started  ReferralStatus = "started"
	Ended    ReferralStatus = "ended"
)

// Referral is a client the buyer referred to a contract. The client is
// known only by an opaque reference of the buyer's own case system, erased
// after the retention period.
type Referral struct {
	ID         string         `json:"id"`
	ContractID string         `json:"contractId"`
	ClientRef  string         `json:"clientRef"`
	Segment    string         `json:"segment"`
	ReferredOn string         `json:"referredOn"`
	ReferredBy string         `json:"referredBy"`
	Status     ReferralStatus `json:"status"`
	StartedOn  string         `json:"startedOn,omitempty"`
	EndedOn    string         `json:"endedOn,omitempty"`
	EndReason  string         `json:"endReason,omitempty"`
	// EraseAfter is the day after which the client reference is erased.
	EraseAfter string     `json:"eraseAfter,omitempty"`
	ErasedAt   *time.Time `json:"erasedAt,omitempty"`
	Version    int        `json:"version"`
}

// Refer checks a new referral to an active contract.
func (k *Contract) Refer(by procurement.Actor, ref, segment, on string, now time.Time) (*Referral, error) {
	if k.Status != Active {
		return nil, procurement.Errorf(procurement.ECONFLICT, "the contract is %s; clients are referred only to an active (accepted) contract", k.Status)
	}
	var p procurement.Problems
	if LooksLikeHetu(ref) {
		p.Add("clientRef", "%s", HetuReason)
	}
	if !k.Terms.HasSegment(segment) {
		p.Add("segment", "%q is not a segment of this contract; use one of %v", segment, k.Terms.segmentIDs())
	}
	if err := invalidDay("referredOn", on); err != nil {
		return nil, err
	}
	today := workdays.DateString(now)
	switch {
	case on > today:
		p.Add("referredOn", "is in the future; record a referral on or after the day it is made (today is %s)", today)
	case on < k.Terms.Start || on > k.Terms.End:
		p.Add("referredOn", "must be within the contract period %s to %s", k.Terms.Start, k.Terms.End)
	}
	if err := p.Err(); err != nil {
		return nil, err
	}
	return &Referral{ContractID: k.ID, ClientRef: ref, Segment: segment, ReferredOn: on, ReferredBy: by.UserID, Status: Referred}, nil
}

// Start records the client's start.
func (r *Referral) Start(k *Contract, on string, now time.Time) error {
	if err := invalidDay("startedOn", on); err != nil {
		return err
	}
	switch {
	case k.Status != Active:
		return procurement.Errorf(procurement.ECONFLICT, "the contract is %s; starts are recorded only on an active contract", k.Status)
	case r.Status != Referred:
		return procurement.Errorf(procurement.ECONFLICT, "the referral is %s; only a referred client can start", r.Status)
	case on < r.ReferredOn:
		return procurement.Invalid("startedOn", "must not be before the referral (%s)", r.ReferredOn)
	case on > workdays.DateString(now):
		return procurement.Invalid("startedOn", "is in the future; record the start once it has happened")
	case on > k.Terms.End:
		return procurement.Invalid("startedOn", "must be within the contract period (ends %s)", k.Terms.End)
	}
	r.Status, r.StartedOn = Started, on
	return nil
}

// End records the end of the client's service, with the reason.
func (r *Referral) End(k *Contract, on, reason string, now time.Time) error {
	if err := invalidDay("endedOn", on); err != nil {
		return err
	}
	switch {
	case r.Status == Ended:
		return procurement.Errorf(procurement.ECONFLICT, "the referral already ended on %s", r.EndedOn)
	case reason == "":
		return procurement.Invalid("reason", "state why the service ended (e.g. employed, moved away, did not start)")
	case on < r.ReferredOn || (r.StartedOn != "" && on < r.StartedOn):
		return procurement.Invalid("endedOn", "must not be before the referral or the start")
	case on > workdays.DateString(now):
		return procurement.Invalid("endedOn", "is in the future; record the end once it has happened")
	}
	if ContainsHetu(reason) {
		return procurement.Invalid("reason", "%s", HetuReason)
	}
	r.Status, r.EndedOn, r.EndReason = Ended, on, reason
	r.EraseAfter = addDays(on, k.Terms.RetentionDays)
	return nil
}

// Evidence is the metadata of a document that supports a claim; the file
// itself is kept by the provider until uploads exist.
type Evidence struct {
	Name        string `json:"name" validate:"required,max=200"`
	SHA256      string `json:"sha256" validate:"required,len=64,hexadecimal"`
	MediaType   string `json:"mediaType,omitempty" validate:"max=100"`
	Bytes       int64  `json:"bytes,omitempty" validate:"gte=0"`
	Description string `json:"description,omitempty" validate:"max=2000"`
	// FileID names the uploaded file (POST /files) that holds the
	// evidence; its digest must be the one verified on arrival, and its
	// media type and size are taken from it.
	FileID string `json:"fileId,omitempty" validate:"omitempty,max=40"`
}

// ClaimStatus is the stage of an outcome claim.
type ClaimStatus string

// Claim stages.
const (
	ClaimPending       ClaimStatus = "pending"
	ClaimMoreInfo      ClaimStatus = "more-information"
	ClaimVerified      ClaimStatus = "verified"
	ClaimRejected      ClaimStatus = "rejected"
	ClaimClawedBack    ClaimStatus = "clawed-back"
	VerifyVerified                 = "verified"
	VerifyRejected                 = "rejected"
	VerifyMoreInfo                 = "more-information"
	MethodRegister                 = "register-check"
	MethodDocument                 = "document"
	MethodSample                   = "sample"
	defaultMaxEvidence             = 20
)

// Verification is one step of a claim's verification.
type Verification struct {
	Outcome string    `json:"outcome"`
	Method  string    `json:"method"`
	Reason  string    `json:"reason,omitempty"`
	By      string    `json:"by"`
	At      time.Time `json:"at"`
}

// Claim is a provider's claim of one milestone for one referral.
type Claim struct {
	// ID is "<referral>.<milestone>": one claim per referral and milestone.
	ID           string      `json:"id"`
	ContractID   string      `json:"contractId"`
	ReferralID   string      `json:"referralId"`
	Milestone    string      `json:"milestone"`
	Segment      string      `json:"segment"`
	AchievedOn   string      `json:"achievedOn"`
	ClaimedAt    time.Time   `json:"claimedAt"`
	ClaimedBy    string      `json:"claimedBy"`
	Evidence     []Evidence  `json:"evidence"`
	AmountCents  int64       `json:"amountCents"`
	DaysToResult int         `json:"daysToOutcome"`
	Status       ClaimStatus `json:"status"`
	// DueOn is the last day of verification.
	DueOn         string         `json:"dueOn"`
	Verifications []Verification `json:"verifications"`
	// Entry is the ledger entry of a verified claim.
	Entry   string `json:"ledgerEntry,omitempty"`
	Version int    `json:"version"`
}

// ClaimID is the id of the claim of a milestone for a referral.
func ClaimID(referral, milestone string) string { return referral + "." + milestone }

// NewClaim checks a claim. The amount comes from the contract's terms.
func (k *Contract) NewClaim(by procurement.Actor, r *Referral, milestone, achievedOn string, evidence []Evidence, now time.Time) (*Claim, error) {
	if k.Terms == nil || (k.Status != Active && k.Status != Cancelled) {
		return nil, procurement.Errorf(procurement.ECONFLICT, "the contract is %s; outcomes are claimed on an accepted contract", k.Status)
	}
	if err := invalidDay("achievedOn", achievedOn); err != nil {
		return nil, err
	}
	m, ok := k.Terms.Milestone(milestone)
	if !ok {
		return nil, procurement.Invalid("milestone", "%q is not a milestone of this contract; use one of %v", milestone, k.Terms.milestoneIDs())
	}
	price, _ := k.Terms.Price(milestone, r.Segment)
	today := workdays.DateString(now)
	var p procurement.Problems
	switch {
	case r.StartedOn == "":
		p.Add("referralId", "the client has not started; record the start before claiming an outcome")
	case achievedOn < r.StartedOn:
		p.Add("achievedOn", "is before the client started (%s)", r.StartedOn)
	case achievedOn > today:
		p.Add("achievedOn", "is in the future")
	case achievedOn > k.Terms.End:
		p.Add("achievedOn", "is after the contract period (ended %s); only outcomes achieved within it are paid", k.Terms.End)
	case k.Status == Cancelled && k.Ending != nil && achievedOn > workdays.DateString(k.Ending.At):
		p.Add("achievedOn", "is after the contract was cancelled (%s); only outcomes achieved while it was in force are paid", workdays.DateString(k.Ending.At))
	}
	if today > k.Terms.ClaimDeadline() {
		p.Add("achievedOn", "claims closed on %s: the contract period ended %s and the grace period is %d days", k.Terms.ClaimDeadline(), k.Terms.End, k.Terms.ClaimGraceDays)
	}
	if m.SustainmentDays > 0 && achievedOn <= today {
		if from := addDays(achievedOn, m.SustainmentDays); today < from {
			p.Add("achievedOn", "the milestone %q must last %d days before it is claimed: claim it on or after %s", m.ID, m.SustainmentDays, from)
		}
	}
	if len(evidence) == 0 {
		p.Add("evidence", "describe at least one document that shows the outcome (name and SHA-256 of the file)")
	}
	for i, e := range evidence {
		if ContainsHetu(e.Name) || ContainsHetu(e.Description) {
			p.Add(fmt.Sprintf("evidence[%d]", i), "%s", HetuReason)
		}
	}
	if err := p.Err(); err != nil {
		return nil, err
	}
	due := workdays.Add(now, k.Terms.VerificationWorkdays).Format(time.DateOnly)
	return &Claim{
		ID: ClaimID(r.ID, milestone), ContractID: k.ID, ReferralID: r.ID, Milestone: milestone, Segment: r.Segment,
		AchievedOn: achievedOn, ClaimedAt: now, ClaimedBy: by.UserID, Evidence: evidence, AmountCents: price.Cents,
		DaysToResult: DaysBetween(r.StartedOn, achievedOn), Status: ClaimPending, DueOn: due, Verifications: []Verification{},
	}, nil
}

// Verify records a verification step. It returns true when the claim
// becomes payable (verified).
func (c *Claim) Verify(by procurement.Actor, outcome, method, reason string, now time.Time) (bool, error) {
	var p procurement.Problems
	switch outcome {
	case VerifyVerified, VerifyRejected, VerifyMoreInfo:
	default:
		p.Add("outcome", "must be verified, rejected or more-information")
	}
	switch method {
	case MethodRegister, MethodDocument, MethodSample:
	default:
		p.Add("method", "name how it was verified: register-check, document or sample")
	}
	if outcome != VerifyVerified && reason == "" {
		p.Add("reason", "state the reason (what is wrong, or what information is needed)")
	}
	if err := p.Err(); err != nil {
		return false, err
	}
	if c.Status != ClaimPending {
		return false, procurement.Errorf(procurement.ECONFLICT, "the claim is %s; only a pending claim is verified", c.Status)
	}
	c.Verifications = append(c.Verifications, Verification{Outcome: outcome, Method: method, Reason: reason, By: by.UserID, At: now})
	switch outcome {
	case VerifyVerified:
		c.Status = ClaimVerified
	case VerifyRejected:
		c.Status = ClaimRejected
	default:
		c.Status = ClaimMoreInfo
	}
	return c.Status == ClaimVerified, nil
}

// AddEvidence answers a request for more information; the claim is
// pending again, with a new verification deadline.
func (c *Claim) AddEvidence(k *Contract, evidence []Evidence, now time.Time) error {
	if c.Status != ClaimMoreInfo {
		return procurement.Errorf(procurement.ECONFLICT, "the claim is %s; evidence is added when more information is asked", c.Status)
	}
	if len(evidence) == 0 {
		return procurement.Invalid("evidence", "describe at least one document")
	}
	for i, e := range evidence {
		if ContainsHetu(e.Name) || ContainsHetu(e.Description) {
			return procurement.Invalid(fmt.Sprintf("evidence[%d]", i), "%s", HetuReason)
		}
	}
	if len(c.Evidence)+len(evidence) > defaultMaxEvidence {
		return procurement.Invalid("evidence", "a claim holds at most %d documents", defaultMaxEvidence)
	}
	c.Evidence = append(c.Evidence, evidence...)
	c.Status, c.DueOn = ClaimPending, workdays.Add(now, k.Terms.VerificationWorkdays).Format(time.DateOnly)
	return nil
}
